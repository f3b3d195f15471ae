// Pass 2c (unless -u): stap's early optimizer: dead stores to locals and side-effect-free statements, before types are checked.

import { assertNever, type Expr, type Stmt } from './ast.js';
import type { FuncSym, Unit, VarSym } from './elaborate.js';

/** What the optimizer removed; type checking and later passes skip these nodes. */
export interface Elision {
  /** Statements dropped entirely. */
  readonly stmts: Set<Stmt>;
  /** Assignments/increments whose store is dropped; the stored value is still evaluated for its effects. */
  readonly stores: Set<Expr>;
  /** `for` initialisers and steps dropped for having no effect. */
  readonly exprs: Set<Expr>;
}

export interface Uses {
  reads: number;
  writes: number;
}

export function emptyElision(): Elision {
  return { stmts: new Set(), stores: new Set(), exprs: new Set() };
}

const MAX_ROUNDS = 8;

/** Removes dead local stores and effect-free expression statements until nothing changes. */
export function optimize(units: readonly Unit[], pure: (f: FuncSym) => boolean, decided: (u: Unit, cond: Expr) => boolean | 'unknown' | undefined = () => undefined): Elision {
  const el = emptyElision();
  // Units do not affect each other here (locals only; purity is fixed up front), so each runs to its
  // own fixed point: a unit that settles in one round is not walked again for the others.
  for (const u of units) {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let changed = false;
      const uses = liveUses(u, el);
      const isDeadTarget = (t: Expr): boolean => {
        if (t.kind !== 'symbol') return false;
        const sym = u.bindings.get(t) as VarSym | undefined;
        return !!sym && sym.scope !== 'global' && (uses.get(sym)?.reads ?? 0) === 0;
      };
      forEachLiveExpr(u, el, (e) => {
        // stap 4.8 elides only pure stores (`=`, `<<<`): `x += 1` and `x++` read their target, so they stay (checked with the oracle).
        if (e.kind === 'assign' && (e.op === '=' || e.op === '<<<') && isDeadTarget(e.target)) {
          if (!el.stores.has(e)) {
            el.stores.add(e);
            changed = true;
          }
        }
      });
      forEachLiveStmt(u, el, (s) => {
        const idle =
          (s.kind === 'exprStmt' && !hasEffects(s.expr, u, el, pure)) ||
          (s.kind === 'if' && !hasEffects(s.cond, u, el, pure) && isEmpty(s.then, el) && (!s.else || isEmpty(s.else, el))) ||
          // `if (@defined($x))` is decided here: the branch not taken does not count.
          (s.kind === 'if' && ((decided(u, s.cond) === false && (!s.else || isEmpty(s.else, el))) || (decided(u, s.cond) === true && isEmpty(s.then, el)))) ||
          (s.kind === 'foreach' && isEmpty(s.body, el) && !(s.limit && hasEffects(s.limit, u, el, pure)));
        if (idle) {
          el.stmts.add(s);
          changed = true;
        }
        if (s.kind === 'for') {
          for (const x of [s.init, s.step]) {
            if (x && !el.exprs.has(x) && !hasEffects(x, u, el, pure)) {
              el.exprs.add(x);
              changed = true;
            }
          }
        }
      });
      if (!changed) break;
    }
  }
  return el;
}

/**
 * Which functions have no side effects, as stap judges them when it elides dead stores: an embedded-C
 * function marked `/* pure *\/`, or a script function whose body (through the functions it calls)
 * writes no global, deletes none, prints nothing, and has no embedded C without `/* pure *\/`.
 * Errors such as division by zero are not effects: `x = divide(1, 0)` with `x` unused goes away.
 * A function met again while it is being judged (recursion) counts as pure, as stap's traversal does.
 */
export function purity(functionUnits: ReadonlyMap<FuncSym, Unit>): (f: FuncSym) => boolean {
  const memo = new Map<FuncSym, boolean>();
  const judge = (f: FuncSym): boolean => {
    const known = memo.get(f);
    if (known !== undefined) return known;
    const body = f.decl.body;
    if (body.kind === 'embedded') {
      const pure = body.pragmas.includes('pure');
      memo.set(f, pure);
      return pure;
    }
    const u = functionUnits.get(f);
    if (!u) return false;
    memo.set(f, true);
    const isGlobal = (t: Expr): boolean => {
      const base = t.kind === 'index' ? t.base : t;
      if (base.kind !== 'symbol') return base.kind === 'target' || base.kind === 'atVar';
      const sym = u.bindings.get(base);
      return !sym || (sym.kind === 'var' && sym.scope === 'global');
    };
    let pure = true;
    const none = emptyElision();
    forEachLiveExpr(u, none, (e) => {
      if (!pure) return;
      if (e.kind === 'assign' && isGlobal(e.target)) pure = false;
      else if (e.kind === 'crement' && isGlobal(e.operand)) pure = false;
      else if (e.kind === 'print' && !e.name.startsWith('s')) pure = false;
      else if (e.kind === 'embedded' && !e.pragmas.includes('pure')) pure = false;
      else if (e.kind === 'call') {
        const g = u.bindings.get(e);
        if (!g || g.kind !== 'function' || !judge(g)) pure = false;
      }
    });
    forEachLiveStmt(u, none, (s) => {
      if (s.kind === 'delete' && isGlobal(s.target)) pure = false;
    });
    memo.set(f, pure);
    return pure;
  };
  return judge;
}

/** Whether a statement does nothing once the optimizer's removals are applied. */
export function isEmpty(s: Stmt, el: Elision): boolean {
  return el.stmts.has(s) || s.kind === 'empty' || (s.kind === 'block' && s.stmts.every((x) => isEmpty(x, el)));
}

/** Whether evaluating `e` can change state or produce output. */
export function hasEffects(e: Expr, u: Unit, el: Elision, pure: (f: FuncSym) => boolean): boolean {
  const any = (...xs: (Expr | null | undefined)[]): boolean => xs.some((x) => !!x && hasEffects(x, u, el, pure));
  switch (e.kind) {
    case 'assign':
      return el.stores.has(e) ? any(e.value) : true;
    case 'crement':
      return !el.stores.has(e);
    case 'call': {
      const f = u.bindings.get(e) as FuncSym | undefined;
      return !f || !pure(f) || any(...e.args);
    }
    case 'print':
      return !e.name.startsWith('s') || any(...e.args);
    case 'embedded':
      return !e.pragmas.includes('pure');
    case 'number': case 'string': case 'symbol': case 'contextVars': case 'perf': case 'const': case 'defined':
      return false;
    case 'index': return any(...e.keys);
    case 'binary': return any(e.left, e.right);
    case 'unary': return any(e.operand);
    case 'ternary': return any(e.cond, e.then, e.else);
    case 'in': return any(...e.keys);
    case 'regex': return any(e.left);
    case 'stat': return any(e.operand);
    case 'hist': return any(e.operand, ...e.params);
    case 'target': case 'atVar':
      return e.components.some((c) => c.kind === 'subscript' && any(c.index));
    case 'cast': case 'autocast':
      return any(e.operand) || e.components.some((c) => c.kind === 'subscript' && any(c.index));
    case 'entry': case 'probewrite': return any(e.operand);
    case 'register': return any(e.register);
    case 'deref': return any(e.size, e.address);
    default: return assertNever(e);
  }
}

export function forEachLiveStmt(u: Unit, el: Elision, fn: (s: Stmt) => void): void {
  const visit = (s: Stmt): void => {
    if (el.stmts.has(s)) return;
    fn(s);
    switch (s.kind) {
      case 'block': s.stmts.forEach(visit); break;
      case 'if': visit(s.then); if (s.else) visit(s.else); break;
      case 'while': case 'for': case 'foreach': visit(s.body); break;
      case 'try': visit(s.body); visit(s.handler); break;
      default: break;
    }
  };
  u.bodies.forEach(visit);
}

/** Every expression of the unit's live code, outermost first (conditions of its probes included). */
export function forEachLiveExpr(u: Unit, el: Elision, fn: (e: Expr) => void): void {
  const ex = (e: Expr | null | undefined): void => {
    if (!e || el.exprs.has(e)) return;
    fn(e);
    switch (e.kind) {
      case 'assign': if (!el.stores.has(e)) ex(e.target); ex(e.value); break;
      case 'crement': if (!el.stores.has(e)) ex(e.operand); break;
      case 'binary': ex(e.left); ex(e.right); break;
      case 'unary': ex(e.operand); break;
      case 'ternary': ex(e.cond); ex(e.then); ex(e.else); break;
      case 'index': ex(e.base); e.keys.forEach(ex); break;
      case 'call': case 'print': e.args.forEach(ex); break;
      case 'in': ex(e.array); e.keys.forEach(ex); break;
      case 'regex': ex(e.left); break;
      case 'stat': ex(e.operand); break;
      case 'hist': ex(e.operand); e.params.forEach(ex); break;
      case 'cast': case 'autocast': ex(e.operand); for (const c of e.components) if (c.kind === 'subscript') ex(c.index); break;
      case 'target': case 'atVar': for (const c of e.components) if (c.kind === 'subscript') ex(c.index); break;
      case 'entry': case 'probewrite': case 'defined': ex(e.operand); break;
      case 'register': ex(e.register); break;
      case 'deref': ex(e.size); ex(e.address); break;
      default: break;
    }
  };
  for (const c of u.probes[0]?.conditions ?? []) ex(c);
  forEachLiveStmt(u, el, (s) => {
    switch (s.kind) {
      case 'exprStmt': ex(s.expr); break;
      case 'if': case 'while': ex(s.cond); break;
      case 'for': ex(s.init); ex(s.cond); ex(s.step); break;
      case 'foreach': ex(s.array); s.slice?.forEach(ex); ex(s.limit); break;
      case 'return': ex(s.value); break;
      case 'delete': ex(s.target); break;
      default: break;
    }
  });
}

/** Reads and writes of each variable in the unit's live code; a store's own target is not a read. */
export function liveUses(u: Unit, el: Elision): Map<VarSym, Uses> {
  const uses = new Map<VarSym, Uses>();
  const bump = (sym: VarSym | FuncSym | undefined, r: number, w: number): void => {
    if (!sym || sym.kind !== 'var') return;
    const x = uses.get(sym) ?? { reads: 0, writes: 0 };
    x.reads += r;
    x.writes += w;
    uses.set(sym, x);
  };
  const targets = new Set<Expr>();
  forEachLiveExpr(u, el, (e) => {
    if (e.kind === 'assign' && !el.stores.has(e)) {
      targets.add(e.target);
      if (e.target.kind === 'index') targets.add(e.target.base);
    }
    if (e.kind === 'crement' && !el.stores.has(e)) {
      targets.add(e.operand);
      if (e.operand.kind === 'index') targets.add(e.operand.base);
    }
  });
  forEachLiveStmt(u, el, (s) => {
    if (s.kind === 'foreach') {
      for (const k of s.keys) bump(u.bindings.get(k), 0, 1);
      if (s.value) bump(u.bindings.get(s.value), 0, 1);
    }
    if (s.kind === 'delete' && s.target.kind === 'symbol') targets.add(s.target);
    if (s.kind === 'try' && s.catchVar) bump(u.locals.get(s.catchVar), 0, 1);
  });
  forEachLiveExpr(u, el, (e) => {
    if (e.kind === 'symbol') {
      const sym = u.bindings.get(e);
      if (targets.has(e)) bump(sym, 0, 1);
      else bump(sym, 1, 0);
    }
  });
  for (const p of u.locals.values()) if (p.scope === 'param') bump(p, 0, 1);
  return uses;
}
