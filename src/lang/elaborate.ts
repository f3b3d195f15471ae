// Pass 2: elaborate: pull in tapsets, expand probe points, resolve symbols, infer types, elide what is unused.

import type {
  Block, Call, Decl, EmbeddedDecl, Expr, TargetComponent, ForeachKey, FunctionDecl, GlobalDecl, Param, ProbeDecl, Program, Stmt, SymbolRef,
} from './ast.js';
import { assertNever } from './ast.js';
import { diag, type DiagCode, type Diagnostic } from './diagnostics.js';
import { loadLibrary, type Library } from './library.js';
import type { Pass1Context } from './pass1.js';
import { emptyElision, forEachLiveExpr, forEachLiveStmt, isEmpty, liveUses, optimize, purity, type Elision } from './optimize.js';
import { derivePoint, flatten, tracepointFieldType, type AliasEntry, type DerivedProbe } from './probes.js';
import type { KernelModel } from '../remote/model.js';
import { modelBtf, modelTracepointTargets, resolveCast, resolveTarget, resolveTracepointTarget } from '../btf/targets.js';
import { formatTypes } from './format.js';

export { formatTypes };

export type Ty = 'long' | 'string' | 'stats';

export interface VarSym {
  readonly kind: 'var';
  readonly name: string;
  readonly scope: 'global' | 'local' | 'param';
  /** Declaring node: the global declaration or parameter; undefined for implicit locals. */
  readonly decl: GlobalDecl | Param | undefined;
  /** Library file that declares a global, undefined for the user script and for locals. */
  readonly file: string | undefined;
  reads: number;
  writes: number;
  /** Set once the symbol is used with an index (arrays are always global). */
  arity: number | undefined;
  /** A global that already exists outside this program (an interactive session's core); its type is fixed. */
  readonly external?: boolean;
}

export interface FuncSym {
  readonly kind: 'function';
  readonly name: string;
  readonly decl: FunctionDecl;
  readonly file: string | undefined;
}

/** One body of code with its own locals: a probe handler (after alias expansion) or a function. */
export interface Unit {
  readonly kind: 'probe' | 'function';
  readonly bodies: readonly Block[];
  readonly func: FuncSym | undefined;
  /** For probes: the derived probes sharing this code, and whether they are return probes. */
  readonly probes: DerivedProbe[];
  readonly file: string | undefined;
  readonly locals: Map<string, VarSym>;
  /** Symbol bindings of this unit's nodes (the same AST can appear in several units, e.g. alias bodies). */
  readonly bindings: Map<SymbolRef | ForeachKey | Call, VarSym | FuncSym>;
  /** Inferred type of each expression, written by type inference. */
  readonly exprTypes: Map<Expr, Ty>;
}

/** The side table types live in: values of variables (arrays: also keys), function signatures. */
export interface TypeTable {
  readonly vars: Map<VarSym, { value: Ty | undefined; keys: (Ty | undefined)[] }>;
  readonly funcs: Map<FuncSym, { ret: Ty | undefined; params: (Ty | undefined)[] }>;
}

export interface Resolved {
  readonly program: Program;
  readonly probes: readonly { readonly derived: DerivedProbe; readonly unit: Unit }[];
  readonly functions: readonly Unit[];
  readonly globals: readonly VarSym[];
  /** Library files the program uses, in inclusion order. */
  readonly files: readonly string[];
  readonly types: TypeTable;
  /** Code the optimizer removed (empty with -u); later passes skip it. */
  readonly elision: Elision;
  /** Top-level `%{ %}` blocks of the script and of the library files it uses, in inclusion order (pass 3 emits them). */
  readonly embedded: readonly EmbeddedDecl[];
  /** --skip-badvars: `$var` nodes the probe point does not have; they read as 0 (pass 3 must emit 0 for them). */
  readonly badTargets: ReadonlySet<Expr>;
  /** `x->member` on a script value: the struct or union `x` points to, where pass 2 knows it (pass 3 reads through it). */
  readonly autocastTypes?: ReadonlyMap<Expr, string>;
}

export interface ElaborateOptions {
  readonly guru: boolean;
  /** -u: keep unused functions and globals (and check them). */
  readonly unoptimized: boolean;
  readonly kernel?: KernelModel;
  /**
   * Globals that already exist (the REPL session core keeps them across entries), by name, with
   * their types; `arity` is the number of keys (0 for scalars and statistics). Scripts use them
   * without declaring them and cannot change their types.
   */
  readonly externalGlobals?: ReadonlyMap<string, ExternalGlobal>;
  /** --skip-badvars: a target variable the probe does not have is a warning and reads as 0. */
  readonly skipBadvars?: boolean;
}

export interface ExternalGlobal {
  readonly value: Ty;
  readonly keys: readonly Ty[];
}

/**
 * Elaborates a parsed user script against the tapset library of `ctx`. Returns undefined on error;
 * warnings come back either way (the caller applies -w / -W).
 */
export function elaborate(program: Program, ctx: Pass1Context, opts: ElaborateOptions): { resolved: Resolved | undefined; diagnostics: Diagnostic[] } {
  const library = loadLibrary(ctx, opts.kernel);
  const e = new Elaborator(program, library, opts);
  e.run();
  const diagnostics = [...library.diagnostics, ...e.diagnostics];
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { resolved: failed ? undefined : e.result(), diagnostics };
}

const MAX_TYPE_ROUNDS = 20;

class Elaborator {
  readonly diagnostics: Diagnostic[] = [];
  private readonly userGlobals = new Map<string, VarSym>();
  private readonly userFuncs = new Map<string, FuncSym[]>();
  private readonly libGlobals = new Map<string, VarSym>();
  private readonly libFuncs = new Map<string, FuncSym[]>();
  private readonly included: string[] = [];
  private readonly includedSet = new Set<string>();
  private readonly aliases: AliasEntry[] = [];
  private readonly aliasHeadsLoaded = new Set<string>();
  private readonly aliasDecls = new Set<object>();
  private readonly units: Unit[] = [];
  /** The units left after optimization: every probe, and the functions live code still calls. */
  private live: Unit[] = [];
  private readonly funcUnits = new Map<FuncSym, Unit>();
  private readonly probeList: { derived: DerivedProbe; unit: Unit }[] = [];
  private readonly pendingProbes: { decl: ProbeDecl; file: string | undefined }[] = [];
  private readonly types: TypeTable = { vars: new Map(), funcs: new Map() };
  private reporting = false;
  private defaultTargets = false;
  /** Inside branches of an @defined test that cannot be decided yet: target-variable checks are off. */
  private unsure = 0;
  /** With --skip-badvars: target variables the probe does not have, which read as 0. */
  private readonly badTargets = new Set<Expr>();
  private readonly autocastTypes = new Map<Expr, string>();
  /** Target-variable nodes that are assigned to (procfs `$value` direction, guru checks). */
  private readonly writtenTargets = new Set<Expr>();
  /** Variables already reported as misused; no further "unresolved type" noise about them. */
  private readonly broken = new Set<VarSym>();
  private elision: Elision = emptyElision();
  private changed = false;
  private readonly reported = new Set<string>();

  constructor(
    private readonly program: Program,
    private readonly library: Library,
    private readonly opts: ElaborateOptions,
  ) {}

  error(code: DiagCode, span: Decl['span'] | undefined, args: (string | number)[] = []): void {
    const key = `${code}:${span?.file}:${span?.offset}:${args.join(',')}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push(diag(code, span, args));
  }

  run(): void {
    for (const [name, g] of this.opts.externalGlobals ?? []) {
      const sym: VarSym = { kind: 'var', name, scope: 'global', decl: undefined, file: undefined, reads: 0, writes: 0, arity: g.keys.length || undefined, external: true };
      this.userGlobals.set(name, sym);
      this.types.vars.set(sym, { value: g.value, keys: [...g.keys] });
    }
    this.declare(this.program.decls, undefined);
    for (const d of this.program.decls) if (d.kind === 'probe') this.pendingProbes.push({ decl: d, file: undefined });
    if (this.opts.unoptimized) for (const fs of this.userFuncs.values()) for (const f of fs) this.functionUnit(f);
    this.drain();
    for (const g of [...this.userGlobals.values(), ...this.libGlobals.values()]) {
      const d = g.decl as GlobalDecl | undefined;
      if (d && (d.wrap || d.size) && !g.arity && g.reads + g.writes > 0) this.error('TS4066', d.span, [g.name, d.wrap ? '%' : `[${d.size!.text}]`]);
    }
    if (!this.opts.unoptimized) {
      this.elision = optimize(this.units, purity(this.funcUnits), (u, cond) => this.definedValue(u, cond));
      // Like stap, a probe whose code all went away (or that had none) is elided, with a warning.
      // Probes through aliases with a prologue are kept: stap's prologues read the context through
      // target variables, which it never elides, while ours often use pure accessors (pointer_arg).
      const idle = new Set(this.units.filter((u) => u.kind === 'probe' && u.bodies.every((b) => isEmpty(b, this.elision)) && u.bodies.slice(0, -1).every((b) => b.stmts.length === 0)));
      for (const u of idle) this.error('TS4075', u.bodies[u.bodies.length - 1]?.span, [u.probes[0]!.point]);
      const kept = this.probeList.filter((p) => !idle.has(p.unit));
      this.probeList.splice(0, this.probeList.length, ...kept);
      this.units.splice(0, this.units.length, ...this.units.filter((u) => !idle.has(u)));
    }
    if (this.probeList.length === 0 && !this.diagnostics.some((d) => d.severity === 'error')) this.error('TS4060', this.program.span);
    // Like stap, functions no live code calls any more are dropped before types are checked.
    const liveFuncs = new Set(this.liveFunctions());
    this.live = this.units.filter((u) => u.kind === 'probe' || liveFuncs.has(u));
    this.inferTypes();
    this.warnings();
  }

  /** Registers the globals, functions and aliases of a file (the user script or an included tapset). */
  private declare(decls: readonly Decl[], file: string | undefined): void {
    for (const d of decls) {
      switch (d.kind) {
        case 'global': {
          const table = file === undefined ? this.userGlobals : this.libGlobals;
          const prior = table.get(d.name);
          if (prior?.external) {
            // Re-declaring a session global is fine as long as the declaration agrees with its type.
            const init = d.init ? (d.init.kind === 'number' ? 'long' : 'string') : undefined;
            const t = this.types.vars.get(prior)!;
            if (init && t.value !== init) this.error('TS4050', d.init!.span, [t.value ?? 'unknown', init, `the session global '${d.name}'`]);
            break;
          }
          if (prior && file === undefined) {
            this.error('TS4061', d.span, [d.name]);
            break;
          }
          const sym: VarSym = { kind: 'var', name: d.name, scope: 'global', decl: d, file, reads: 0, writes: 0, arity: undefined };
          table.set(d.name, sym);
          this.types.vars.set(sym, { value: d.init ? (d.init.kind === 'number' ? 'long' : 'string') : undefined, keys: [] });
          break;
        }
        case 'function': {
          const table = file === undefined ? this.userFuncs : this.libFuncs;
          const sym: FuncSym = { kind: 'function', name: d.name, decl: d, file };
          const prior = table.get(d.name) ?? [];
          if (file === undefined && prior.some((p) => p.decl.params.length === d.params.length)) this.error('TS4062', d.span, [d.name]);
          table.set(d.name, [...prior, sym]);
          this.types.funcs.set(sym, { ret: d.returnType, params: d.params.map((p) => p.type) });
          break;
        }
        case 'alias':
          if (file === undefined) for (const name of d.names) for (const flat of flatten(name.components)) this.aliases.push({ decl: d, name: flat, file });
          break;
        case 'probe':
        case 'embeddedDecl':
          break;
        default:
          assertNever(d);
      }
    }
  }

  private include(path: string): void {
    if (this.includedSet.has(path)) return;
    const f = this.library.file(path);
    if (!f) return;
    this.includedSet.add(path);
    this.included.push(path);
    // Library globals and functions were indexed up front; the file's own probes now run too.
    for (const d of f.program.decls) if (d.kind === 'probe') this.pendingProbes.push({ decl: d, file: path });
    if (this.opts.unoptimized) for (const d of f.program.decls) if (d.kind === 'function') this.functionUnit(this.libFuncSym(d, path));
  }

  private libFuncSym(d: FunctionDecl, path: string): FuncSym {
    let syms = this.libFuncs.get(d.name);
    if (!syms) {
      syms = [];
      this.libFuncs.set(d.name, syms);
    }
    let s = syms.find((x) => x.decl === d);
    if (!s) {
      s = { kind: 'function', name: d.name, decl: d, file: path };
      syms.push(s);
      this.types.funcs.set(s, { ret: d.returnType, params: d.params.map((p) => p.type) });
    }
    return s;
  }

  private drain(): void {
    for (;;) {
      const p = this.pendingProbes.shift();
      if (!p) break;
      this.deriveProbe(p.decl, p.file);
    }
  }

  private deriveProbe(decl: ProbeDecl, file: string | undefined): void {
    const derived: DerivedProbe[] = [];
    for (const point of decl.points) {
      const ds = derivePoint(point, decl.body, {
        aliases: (head) => this.aliasesFor(head),
        kernel: this.opts.kernel,
        diagnostics: this.diagnostics,
        useAlias: (a) => {
          if (a.file !== undefined) this.include(a.file);
        },
      });
      derived.push(...ds);
      for (const d of ds) {
        if (d.family === 'kernel.statement' && d.detail.absolute && !this.opts.guru && file === undefined) this.error('TS4077', point.span, [d.point]);
      }
      if (ds.length > 0 && point.sufficient) break;
    }
    // One unit per distinct body sequence: wildcard expansions share their code and locals.
    const groups = new Map<string, DerivedProbe[]>();
    for (const d of derived) {
      const key = d.bodies.map(nodeId).join(',') + '|' + d.conditions.map(nodeId).join(',');
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const ds of groups.values()) {
      const unit = this.newUnit('probe', ds[0]!.bodies, undefined, file);
      unit.probes.push(...ds);
      for (const d of ds) this.probeList.push({ derived: d, unit });
      for (const c of ds[0]!.conditions) this.resolveCondition(unit, c);
      for (const b of unit.bodies) this.resolveStmt(unit, b);
    }
  }

  /** User aliases plus library aliases that could start with `head` (loading those tapset files). */
  private aliasesFor(head: string): readonly AliasEntry[] {
    if (!this.aliasHeadsLoaded.has(head)) {
      this.aliasHeadsLoaded.add(head);
      for (const a of this.library.aliases(head)) {
        if (this.aliasDecls.has(a.name)) continue;
        this.aliasDecls.add(a.name);
        for (const name of flatten(a.name.components)) this.aliases.push({ decl: a.decl, name, file: a.file.path });
      }
    }
    return this.aliases;
  }

  private newUnit(kind: Unit['kind'], bodies: readonly Block[], func: FuncSym | undefined, file: string | undefined): Unit {
    const unit: Unit = { kind, bodies, func, probes: [], file, locals: new Map(), bindings: new Map(), exprTypes: new Map() };
    this.units.push(unit);
    return unit;
  }

  private functionUnit(f: FuncSym): Unit {
    const existing = this.funcUnits.get(f);
    if (existing) return existing;
    const bodies = f.decl.body.kind === 'block' ? [f.decl.body] : [];
    const unit = this.newUnit('function', bodies, f, f.file);
    this.funcUnits.set(f, unit);
    for (const p of f.decl.params) {
      if (unit.locals.has(p.name)) continue;
      const sym: VarSym = { kind: 'var', name: p.name, scope: 'param', decl: p, file: undefined, reads: 0, writes: 1, arity: undefined };
      unit.locals.set(p.name, sym);
      this.types.vars.set(sym, { value: p.type, keys: [] });
    }
    for (const b of bodies) this.resolveStmt(unit, b);
    return unit;
  }

  // ---------------------------------------------------------------- symbol resolution

  private lookupVar(unit: Unit, name: string, asArray: boolean, at: SymbolRef | ForeachKey): VarSym | undefined {
    const local = unit.locals.get(name);
    if (local) {
      if (asArray) {
        this.error('TS4040', at.span, [name]);
        this.broken.add(local);
      }
      return local;
    }
    const g = this.userGlobals.get(name) ?? this.libGlobal(name, unit.file);
    if (g) return g;
    if (asArray) {
      this.error('TS4040', at.span, [name]);
      return undefined;
    }
    const sym: VarSym = { kind: 'var', name, scope: 'local', decl: undefined, file: undefined, reads: 0, writes: 0, arity: undefined };
    unit.locals.set(name, sym);
    this.types.vars.set(sym, { value: undefined, keys: [] });
    return sym;
  }

  private libGlobal(name: string, fromFile: string | undefined): VarSym | undefined {
    const g = this.libGlobals.get(name);
    if (g) {
      if (g.decl && 'private' in g.decl && g.decl.private && g.file !== fromFile) return undefined;
      return g;
    }
    const p = this.library.global(name);
    if (!p || (p.decl.private && p.file.path !== fromFile)) return undefined;
    this.include(p.file.path);
    this.declare([p.decl], p.file.path);
    return this.libGlobals.get(name);
  }

  private lookupFunc(name: string, arity: number, fromFile: string | undefined, at: Call): FuncSym | undefined {
    const user = this.userFuncs.get(name) ?? [];
    let candidates: FuncSym[] = user;
    if (candidates.length === 0) {
      const provided = this.library.functions(name).filter((p) => !p.decl.private || p.file.path === fromFile);
      candidates = provided.map((p) => this.libFuncSym(p.decl, p.file.path));
    }
    if (candidates.length === 0) {
      this.error('TS4041', at.span, [name]);
      return undefined;
    }
    const f = candidates.find((c) => c.decl.params.length === arity);
    if (!f) {
      this.error('TS4042', at.span, [name, candidates[0]!.decl.params.length, arity]);
      return undefined;
    }
    if (f.file !== undefined) this.include(f.file);
    if (f.decl.body.kind === 'embedded' && f.decl.body.pragmas.includes('guru') && !this.opts.guru) this.error('TS4047', at.span, [name]);
    this.functionUnit(f);
    return f;
  }

  private bindVar(unit: Unit, node: SymbolRef | ForeachKey, asArray: boolean, write: boolean, read: boolean): VarSym | undefined {
    const sym = this.lookupVar(unit, node.name, asArray, node);
    if (!sym) return undefined;
    unit.bindings.set(node, sym);
    if (write) sym.writes++;
    if (read) sym.reads++;
    return sym;
  }

  private resolveCondition(unit: Unit, e: Expr): void {
    walkExpr(e, (x) => {
      if (x.kind === 'call' || x.kind === 'print') this.error('TS4044', x.span);
      if (x.kind === 'symbol') {
        const g = this.userGlobals.get(x.name) ?? this.libGlobal(x.name, unit.file);
        if (!g) this.error('TS4043', x.span, [x.name]);
      }
    });
    this.resolveExpr(unit, e);
  }

  private resolveStmt(unit: Unit, s: Stmt): void {
    switch (s.kind) {
      case 'block':
        for (const x of s.stmts) this.resolveStmt(unit, x);
        return;
      case 'empty':
      case 'next':
      case 'break':
      case 'continue':
        return;
      case 'exprStmt':
        this.resolveExpr(unit, s.expr);
        return;
      case 'if':
        this.resolveExpr(unit, s.cond);
        this.resolveStmt(unit, s.then);
        if (s.else) this.resolveStmt(unit, s.else);
        return;
      case 'while':
        this.resolveExpr(unit, s.cond);
        this.resolveStmt(unit, s.body);
        return;
      case 'for':
        if (s.init) this.resolveExpr(unit, s.init);
        if (s.cond) this.resolveExpr(unit, s.cond);
        if (s.step) this.resolveExpr(unit, s.step);
        this.resolveStmt(unit, s.body);
        return;
      case 'foreach': {
        if (s.array.kind === 'symbol') {
          const arr = this.bindVar(unit, s.array, true, false, true);
          if (arr) this.noteArity(arr, s.keys.length, s.span);
        } else this.resolveExpr(unit, s.array);
        for (const k of s.keys) this.bindVar(unit, k, false, true, false);
        if (s.value) this.bindVar(unit, s.value, false, true, false);
        for (const k of s.slice ?? []) if (k) this.resolveExpr(unit, k);
        if (s.limit) this.resolveExpr(unit, s.limit);
        this.resolveStmt(unit, s.body);
        this.checkForeachBody(s);
        return;
      }
      case 'return':
        if (unit.kind !== 'function') this.error('TS4063', s.span);
        if (s.value) this.resolveExpr(unit, s.value);
        return;
      case 'delete':
        // `delete x` clears a whole array or statistic, or resets a scalar (local or global).
        if (s.target.kind === 'symbol') this.bindVar(unit, s.target, false, true, false);
        else this.resolveExpr(unit, s.target, true);
        if (isTarget(s.target)) this.error('TS4084', s.span, ['delete']);
        return;
      case 'try':
        this.resolveStmt(unit, s.body);
        if (s.catchVar) {
          const node: SymbolRef = { kind: 'symbol', name: s.catchVar, span: s.span };
          const sym = this.lookupVar(unit, s.catchVar, false, node);
          if (sym) sym.writes++;
        }
        this.resolveStmt(unit, s.handler);
        return;
      default:
        assertNever(s);
    }
  }

  /**
   * The value of `@defined(X)` / `!@defined(X)` when it can be known here: whether this probe has
   * target variable X. Undefined when `e` is no such test. Without BTF, kernel function probes are
   * assumed to have any variable asked for.
   */
  private definedValue(unit: Unit, e: Expr): boolean | 'unknown' | undefined {
    if (e.kind === 'unary' && e.op === '!') {
      const v = this.definedValue(unit, e.operand);
      return typeof v === 'boolean' ? !v : v;
    }
    if (e.kind !== 'defined') return undefined;
    const x = e.operand;
    // Members of @cast/@var types need BTF to decide; until then neither branch is held against the script.
    if (x.kind !== 'target') return 'unknown';
    if (unit.kind !== 'probe') return false;
    return unit.probes.every((p) => {
      if (p.family === 'procfs') return x.name === 'value';
      if (x.name === 'return' && !p.isReturn) return false;
      if (p.family === 'kernel.trace') {
        // The event's TP_PROTO arguments (from BTF), else its trace record's fields.
        const args = modelTracepointTargets(this.opts.kernel, String(p.detail.system), String(p.detail.event));
        if (args?.args.some((a) => a.name === x.name)) return resolveTracepointTarget(args, x.name, x.components, x.addressOf).ok;
        const tp = this.opts.kernel?.tracepoints.get(`${p.detail.system}:${p.detail.event}`);
        return !tp || tp.fields.some((f) => f.name === x.name);
      }
      // Address-based statement probes have no debuginfo, hence no target variables.
      if (p.family !== 'kernel.function' && p.family !== 'kprobe.function') return false;
      // With BTF the function's parameters are known; members are decided as the checks would.
      const btf = p.family === 'kernel.function' && !p.unverified ? modelBtf(this.opts.kernel) : undefined;
      if (!btf) return true;
      if (p.isReturn) {
        // Parameters at return are not readable yet, but whether the function has one is known.
        const proto = btf.funcProto(String(p.detail.function));
        return !proto || x.name === 'return' || proto.params.some((q) => q.name === x.name);
      }
      return targetReadable(resolveTarget(btf, String(p.detail.function), false, x.name, x.components), x.addressOf);
    });
  }

  /**
   * The type of `$name` in tracepoint probes: from the field declarations when the kernel model has
   * them, undefined (decided by use) when it does not; null for other probes.
   */
  private tracepointVarType(unit: Unit, name: string, want: Ty | undefined): Ty | undefined | null {
    if (unit.kind !== 'probe' || unit.probes.length === 0 || !unit.probes.every((p) => p.family === 'kernel.trace')) return null;
    let t: Ty | undefined;
    for (const p of unit.probes) {
      // A TP_PROTO argument is a number (pointers included), as in stap.
      if (modelTracepointTargets(this.opts.kernel, String(p.detail.system), String(p.detail.event))?.args.some((a) => a.name === name)) {
        if (t !== undefined && t !== 'long') return undefined;
        t = 'long';
        continue;
      }
      const field = this.opts.kernel?.tracepoints.get(`${p.detail.system}:${p.detail.event}`)?.fields.find((f) => f.name === name);
      // Unknown field (no model): whatever the use asks for; once defaulting, a number.
      if (!field) return want !== undefined && want !== 'stats' ? want : this.defaultTargets ? 'long' : undefined;
      const ft = tracepointFieldType(field.decl);
      if (t !== undefined && t !== ft) return undefined;
      t = ft;
    }
    return t;
  }

  /** `$name` needs a probe that has target variables; `$return` a return probe; tracepoint fields must exist. */
  private checkTargetVar(unit: Unit, name: string, span: Decl['span'], written: boolean, components?: readonly TargetComponent[], addressOf = false, pretty = 0, node?: Expr): void {
    if (unit.kind !== 'probe') return;
    // A variable the probe point does not have: an error, or with --skip-badvars a warning and the value 0 (as stap).
    const bad = (code: DiagCode, args: (string | number)[]): void => {
      if (!this.opts.skipBadvars || !node) return this.error(code, span, args);
      this.badTargets.add(node);
      this.error('TS4085', span, [diag(code, span, args).message.replace(/^semantic error: /, '')]);
    };
    for (const p of unit.probes) {
      if (p.family === 'procfs') {
        // A read probe fills $value for the reader; a write probe receives what was written.
        if (name !== 'value') bad('TS4068', [name, p.point]);
        else if (p.detail.access === 'read' && !written) this.error('TS4072', span, [p.point]);
        else if (p.detail.access === 'write' && written) this.error('TS4073', span, [p.point]);
        return;
      }
      if (p.family !== 'kernel.function' && p.family !== 'kprobe.function' && p.family !== 'kernel.trace') {
        bad('TS4068', [name, p.point]);
        return;
      }
      if (name === 'return' && !p.isReturn) {
        bad('TS4067', [p.point]);
        return;
      }
      if ((p.family === 'kernel.function' || p.family === 'kprobe.function') && !p.unverified && components !== undefined) {
        const btf = modelBtf(this.opts.kernel);
        if (btf) {
          // In a return probe a parameter means its value at entry (stap saves it): valid here, whether
          // the translator can read it yet is pass 3's to say.
          // `$p->se$$` pretty-prints a struct: its address is what is needed then.
          const r = resolveTarget(btf, String(p.detail.function), p.isReturn && name === 'return', name, components, pretty > 0);
          if (!r.ok && targetReadable(r, addressOf)) return;
          if (!r.ok) {
            bad('TS4080', [p.point, r.message]);
            return;
          }
          // Only what lives in memory has an address: not a register (an argument, $return), not a bitfield.
          const last = r.plan.steps[r.plan.steps.length - 1];
          if (addressOf && !r.plan.steps.some((st) => st.kind === 'deref')) {
            this.error('TS4081', span, [name === 'return' ? '$return' : `$${name}`, 'it is held in a register']);
            return;
          }
          if (addressOf && last?.kind === 'load' && last.bitSize !== undefined) {
            this.error('TS4081', span, [`$${name}`, 'a bitfield has no address']);
            return;
          }
        }
      }
      if (p.family === 'kernel.trace' && !p.unverified && this.opts.kernel) {
        const args = modelTracepointTargets(this.opts.kernel, String(p.detail.system), String(p.detail.event));
        if (args?.args.some((a) => a.name === name)) {
          const r = resolveTracepointTarget(args, name, components ?? [], pretty > 0 || addressOf);
          if (!r.ok) bad('TS4080', [p.point, r.message]);
          continue;
        }
        const tp = this.opts.kernel.tracepoints.get(`${p.detail.system}:${p.detail.event}`);
        if (tp && !tp.fields.some((f) => f.name === name)) {
          const fields = [...(args?.args ?? []), ...tp.fields.filter((f) => !f.common)].map((f) => '$' + f.name).join(' ');
          bad('TS4069', [name, p.point, fields || '(none)']);
          return;
        }
      }
    }
  }

  /**
   * `p->member` on a script value: when the value's kernel type is known (it came from a $target
   * variable, a @cast, or a local or function return holding one), a member the type lacks is an
   * error, as stap reports it. A value that provably carries no kernel type (a global, an array key
   * or element, a literal, arithmetic, a local whose stores disagree) is an error too, as in stap;
   * values whose type tapsh cannot decide here are left to the translator.
   */
  private checkAutocast(unit: Unit, e: Extract<Expr, { kind: 'autocast' }>): void {
    if (e.components.length === 0) return;
    const vt = this.valueType(unit, e.operand, new Set());
    if (vt.kind === 'none') {
      this.error('TS4083', e.span, [vt.why]);
      return;
    }
    if (vt.kind === 'typed') this.autocastTypes.set(e, vt.struct);
    const btf = modelBtf(this.opts.kernel);
    if (!btf || vt.kind !== 'typed') return;
    const r = resolveCast(btf, vt.struct, e.components);
    const missing = !r.ok ? r.missing : undefined;
    if (missing) {
      const names = missing.names;
      this.error('TS4082', e.span, [missing.member, missing.type, names.slice(0, 24).join(', ') + (names.length > 24 ? ', ...' : '')]);
    }
  }

  /**
   * The kernel type a script value carries, as stap propagates it: a pointer to "struct NAME" (with
   * where the type came from: values from different @cast modules do not mix), provably none, or
   * unknown to pass 2 (families without BTF types here, tapset C functions, cycles).
   */
  private valueType(unit: Unit, e: Expr, seen: Set<unknown>): ValueType {
    // `seen` holds the expressions being worked out: meeting one again is a cycle (a = b; b = a).
    if (seen.has(e)) return UNKNOWN_TYPE;
    seen.add(e);
    try {
      return this.valueTypeOf(unit, e, seen);
    } finally {
      seen.delete(e);
    }
  }

  private valueTypeOf(unit: Unit, e: Expr, seen: Set<unknown>): ValueType {
    const btf = modelBtf(this.opts.kernel);
    const pointer = (typeName: string): string | undefined => /^((?:struct|union) \w+) \*$/.exec(typeName)?.[1];
    const typed = (struct: string | undefined, origin: string): ValueType => (struct ? { kind: 'typed', struct, origin } : UNKNOWN_TYPE);
    switch (e.kind) {
      case 'number':
      case 'string':
        return { kind: 'none', why: 'a literal' };
      case 'binary':
      case 'unary':
      case 'crement':
        return { kind: 'none', why: 'the result of an operator' };
      case 'index':
        return { kind: 'none', why: 'an array element (array keys and values carry no kernel type)' };
      case 'target': {
        if (!btf || unit.kind !== 'probe' || e.pretty) return UNKNOWN_TYPE;
        const p = unit.probes[0];
        if (!p || p.family !== 'kernel.function' || p.unverified) return UNKNOWN_TYPE;
        const r = resolveTarget(btf, String(p.detail.function), p.isReturn && e.name === 'return', e.name, e.components);
        return r.ok && !e.addressOf ? typed(pointer(r.plan.typeName), 'kernel') : UNKNOWN_TYPE;
      }
      case 'cast': {
        if (!btf || e.pretty || !(e.module === undefined || e.module === 'kernel' || e.module.startsWith('<'))) return UNKNOWN_TYPE;
        const origin = e.module ?? 'kernel';
        const base = /^\s*(struct|union)?\s*([A-Za-z_]\w*)\s*$/.exec(e.type);
        if (!base) return UNKNOWN_TYPE;
        if (e.components.length === 0) return e.addressOf ? typed(`${base[1] ?? 'struct'} ${base[2]}`, origin) : UNKNOWN_TYPE;
        const r = resolveCast(btf, e.type, e.components);
        if (!r.ok) return UNKNOWN_TYPE;
        return typed(e.addressOf ? /^((?:struct|union) \w+)$/.exec(r.plan.typeName)?.[1] : pointer(r.plan.typeName), origin);
      }
      case 'autocast': {
        const inner = this.valueType(unit, e.operand, seen);
        if (inner.kind !== 'typed' || !btf || e.pretty) return inner.kind === 'none' ? inner : UNKNOWN_TYPE;
        const r = resolveCast(btf, inner.struct, e.components);
        if (!r.ok) return UNKNOWN_TYPE;
        return typed(e.addressOf ? /^((?:struct|union) \w+)$/.exec(r.plan.typeName)?.[1] : pointer(r.plan.typeName), inner.origin);
      }
      case 'assign':
        return e.op === '=' ? this.valueType(unit, e.value, seen) : { kind: 'none', why: 'the result of an operator' };
      case 'symbol': {
        const sym = unit.bindings.get(e);
        if (!sym || sym.kind !== 'var') return UNKNOWN_TYPE;
        if (sym.scope === 'global') return { kind: 'none', why: `global '${sym.name}' (globals carry no kernel type)` };
        if (sym.scope !== 'local') return UNKNOWN_TYPE;
        // Every store to the local must agree; a foreach key or value comes from an array and has none.
        let loopVar = false;
        forEachLiveStmt(unit, this.elision, (st) => {
          if (st.kind === 'foreach' && [...st.keys, ...(st.value ? [st.value] : [])].some((k) => unit.bindings.get(k) === sym)) loopVar = true;
        });
        if (loopVar) return { kind: 'none', why: `'${sym.name}', a foreach key or value (array keys and values carry no kernel type)` };
        const stores: ValueType[] = [];
        forEachLiveExpr(unit, this.elision, (x) => {
          if (x.kind === 'assign' && x.target.kind === 'symbol' && unit.bindings.get(x.target) === sym) stores.push(this.valueType(unit, x, seen));
          if (x.kind === 'crement' && x.operand.kind === 'symbol' && unit.bindings.get(x.operand) === sym) stores.push({ kind: 'none', why: 'the result of an operator' });
        });
        return mergeValueTypes(stores, `'${sym.name}'`);
      }
      case 'call': {
        const f = unit.bindings.get(e);
        const fu = f?.kind === 'function' ? this.funcUnits.get(f) : undefined;
        if (!fu || f?.kind !== 'function' || f.decl.body.kind === 'embedded') return UNKNOWN_TYPE;
        const returns: ValueType[] = [];
        forEachLiveStmt(fu, this.elision, (st) => {
          if (st.kind === 'return' && st.value) returns.push(this.valueType(fu, st.value, seen));
        });
        return mergeValueTypes(returns, `the result of ${f.name}()`);
      }
      default:
        return UNKNOWN_TYPE;
    }
  }

  /** The loop variables and the array being iterated may not be changed inside the loop body. */
  private checkForeachBody(s: Extract<Stmt, { kind: 'foreach' }>): void {
    const protectedNames = new Set([...s.keys.map((k) => k.name), ...(s.value ? [s.value.name] : [])]);
    const arrayName = s.array.kind === 'symbol' ? s.array.name : undefined;
    const stored = (t: Expr): string | undefined => (t.kind === 'symbol' ? t.name : t.kind === 'index' && t.base.kind === 'symbol' ? t.base.name : undefined);
    const check = (name: string | undefined, span: Decl['span']): void => {
      if (name !== undefined && (protectedNames.has(name) || name === arrayName)) this.error('TS4074', span, [name]);
    };
    const visitStmt = (x: Stmt): void => {
      switch (x.kind) {
        case 'block': x.stmts.forEach(visitStmt); break;
        case 'if': visitExpr(x.cond); visitStmt(x.then); if (x.else) visitStmt(x.else); break;
        case 'while': visitExpr(x.cond); visitStmt(x.body); break;
        case 'for': for (const e of [x.init, x.cond, x.step]) if (e) visitExpr(e); visitStmt(x.body); break;
        case 'foreach': if (x.limit) visitExpr(x.limit); visitStmt(x.body); break;
        case 'exprStmt': visitExpr(x.expr); break;
        case 'return': if (x.value) visitExpr(x.value); break;
        case 'delete': check(stored(x.target), x.span); break;
        case 'try': visitStmt(x.body); visitStmt(x.handler); break;
        default: break;
      }
    };
    const visitExpr = (e: Expr): void => {
      walkExpr(e, (x) => {
        if (x.kind === 'assign') check(stored(x.target), x.span);
        if (x.kind === 'crement') check(stored(x.operand), x.span);
      });
    };
    visitStmt(s.body);
  }

  private noteArity(sym: VarSym, n: number, span: Decl['span']): void {
    if (sym.arity === undefined) sym.arity = n;
    else if (sym.arity !== n) this.error('TS4052', span, [sym.name, n, sym.arity]);
  }

  /** Resolves names in `e`; `write` marks `e` as the target of an assignment. */
  private resolveExpr(unit: Unit, e: Expr, write = false): void {
    switch (e.kind) {
      case 'number':
      case 'string':
      case 'embedded':
      case 'contextVars':
      case 'perf':
      case 'const':
        return;
      case 'symbol':
        this.bindVar(unit, e, false, write, !write);
        return;
      case 'index':
        if (e.base.kind === 'symbol') {
          const sym = this.bindVar(unit, e.base, true, write, !write);
          if (sym) this.noteArity(sym, e.keys.length, e.span);
        } else this.resolveExpr(unit, e.base);
        for (const k of e.keys) if (k) this.resolveExpr(unit, k);
        return;
      case 'call': {
        for (const a of e.args) this.resolveExpr(unit, a);
        const f = this.lookupFunc(e.name, e.args.length, unit.file, e);
        if (f) unit.bindings.set(e, f);
        return;
      }
      case 'print':
        for (const a of e.args) this.resolveExpr(unit, a);
        return;
      case 'binary':
        this.resolveExpr(unit, e.left);
        this.resolveExpr(unit, e.right);
        return;
      case 'unary':
        this.resolveExpr(unit, e.operand);
        return;
      case 'crement':
        if (!isLvalue(e.operand)) this.error('TS4065', e.operand.span, [e.op]);
        else if (isTarget(e.operand)) this.error('TS4084', e.span, [e.op]);
        this.resolveExpr(unit, e.operand, true);
        this.resolveExpr(unit, e.operand);
        return;
      case 'assign':
        if (!isLvalue(e.target)) this.error('TS4065', e.target.span, [e.op]);
        if (e.op === '<<<' && e.target.kind === 'symbol') {
          // A local statistic is an error only if the store survives optimization (see typeExpr).
          const isGlobal = unit.locals.has(e.target.name) ? false : !!(this.userGlobals.get(e.target.name) ?? this.libGlobal(e.target.name, unit.file));
          const sym = this.bindVar(unit, e.target, false, true, false);
          if (sym && isGlobal) this.noteArity(sym, 0, e.span);
        } else {
          this.resolveExpr(unit, e.target, true);
          if (e.op !== '=') this.resolveExpr(unit, e.target);
        }
        this.resolveExpr(unit, e.value);
        if (isTarget(e.target)) {
          this.writtenTargets.add(e.target);
          const procfs = unit.probes.length > 0 && unit.probes.every((p) => p.family === 'procfs');
          if (!procfs && !this.opts.guru && unit.file === undefined) this.error('TS4046', e.target.span, [writeNeedsGuru(e.target, unit)]);
        }
        return;
      case 'ternary':
        this.resolveExpr(unit, e.cond);
        this.resolveExpr(unit, e.then);
        this.resolveExpr(unit, e.else);
        return;
      case 'in':
        if (e.array.kind === 'symbol') {
          const sym = this.bindVar(unit, e.array, true, false, true);
          if (sym) this.noteArity(sym, e.keys.length, e.span);
        } else this.resolveExpr(unit, e.array);
        for (const k of e.keys) if (k) this.resolveExpr(unit, k);
        return;
      case 'regex':
        this.resolveExpr(unit, e.left);
        return;
      case 'stat':
      case 'hist':
        if (e.operand.kind === 'symbol') {
          const sym = this.bindVar(unit, e.operand, true, false, true);
          if (sym) this.noteArity(sym, 0, e.span);
        } else this.resolveExpr(unit, e.operand);
        if (e.kind === 'hist') for (const p of e.params) this.resolveExpr(unit, p);
        return;
      case 'target':
      case 'atVar':
        for (const c of e.components) if (c.kind === 'subscript') this.resolveExpr(unit, c.index);
        return;
      case 'cast':
      case 'autocast':
        this.resolveExpr(unit, e.operand);
        for (const c of e.components) if (c.kind === 'subscript') this.resolveExpr(unit, c.index);
        if (write && e.kind === 'autocast' && !this.opts.guru && unit.file === undefined) this.error('TS4046', e.span, [writeNeedsGuru(e, unit)]);
        return;
      case 'defined':
        return;
      case 'entry':
        if (unit.kind !== 'probe' || unit.probes.some((p) => !p.isReturn)) this.error('TS4045', e.span);
        this.resolveExpr(unit, e.operand);
        return;
      case 'probewrite':
        this.resolveExpr(unit, e.operand);
        return;
      case 'register':
        this.resolveExpr(unit, e.register);
        return;
      case 'deref':
        this.resolveExpr(unit, e.size);
        this.resolveExpr(unit, e.address);
        return;
      default:
        assertNever(e);
    }
  }

  // ---------------------------------------------------------------- type inference

  private inferTypes(): void {
    for (let round = 0; round < MAX_TYPE_ROUNDS; round++) {
      this.changed = false;
      for (const u of this.live) for (const b of u.bodies) this.typeStmt(u, b);
      for (const u of this.units) for (const p of u.probes.slice(0, 1)) for (const c of p.conditions) this.typeExpr(u, c, 'long');
      this.syncParams();
      if (!this.changed) {
        // Tracepoint fields the kernel model could not type (no model) read as numbers, unless their
        // use already decided otherwise; then settle anything that depended on them.
        if (this.defaultTargets) break;
        this.defaultTargets = true;
      }
    }
    this.reporting = true;
    for (const u of this.live) for (const b of u.bodies) this.typeStmt(u, b);
    for (const u of this.units) for (const p of u.probes.slice(0, 1)) for (const c of p.conditions) this.typeExpr(u, c, 'long');
    this.checkResolvedTypes();
  }

  /** A parameter's type can be learnt from the body or from callers; keep signature and local in step. */
  private syncParams(): void {
    for (const [f, unit] of this.funcUnits) {
      const sig = this.types.funcs.get(f)!;
      f.decl.params.forEach((p, i) => {
        const local = unit.locals.get(p.name);
        if (!local) return;
        const lt = this.types.vars.get(local)!;
        if (sig.params[i] === undefined && lt.value !== undefined) {
          sig.params[i] = lt.value;
          this.changed = true;
        } else if (sig.params[i] !== undefined && lt.value === undefined) {
          lt.value = sig.params[i];
          this.changed = true;
        }
      });
    }
  }

  private mismatch(span: Decl['span'], want: Ty, have: Ty, what: string): void {
    if (this.reporting) this.error('TS4050', span, [want, have, what]);
  }

  /** Unifies a variable's value type with `t`. */
  private varValue(sym: VarSym, t: Ty | undefined, span: Decl['span']): Ty | undefined {
    const info = this.types.vars.get(sym)!;
    if (t === undefined) return info.value;
    if (info.value === undefined) {
      info.value = t;
      this.changed = true;
    } else if (info.value !== t) this.mismatch(span, info.value, t, `'${sym.name}'`);
    return info.value;
  }

  private varKey(sym: VarSym, i: number, t: Ty | undefined, span: Decl['span']): Ty | undefined {
    const info = this.types.vars.get(sym)!;
    if (t === 'stats') {
      this.mismatch(span, 'long', t, `index ${i + 1} of '${sym.name}'`);
      return undefined;
    }
    if (t === undefined) return info.keys[i];
    if (info.keys[i] === undefined) {
      info.keys[i] = t;
      this.changed = true;
    } else if (info.keys[i] !== t) this.mismatch(span, info.keys[i]!, t, `index ${i + 1} of '${sym.name}'`);
    return info.keys[i];
  }

  private setExprType(unit: Unit, e: Expr, t: Ty | undefined): Ty | undefined {
    if (t !== undefined) unit.exprTypes.set(e, t);
    return t;
  }

  private expect(unit: Unit, e: Expr, want: Ty, what: string): void {
    const t = this.typeExpr(unit, e, want);
    if (t !== undefined && t !== want) this.mismatch(e.span, want, t, what);
  }

  private typeStmt(unit: Unit, s: Stmt): void {
    if (this.elision.stmts.has(s)) return;
    switch (s.kind) {
      case 'block':
        for (const x of s.stmts) this.typeStmt(unit, x);
        return;
      case 'empty':
      case 'next':
      case 'break':
      case 'continue':
        return;
      case 'exprStmt':
        this.typeExpr(unit, s.expr, undefined, true);
        return;
      case 'if': {
        const decided = this.definedValue(unit, s.cond);
        if (decided === true || decided === false) {
          const taken = decided ? s.then : s.else;
          if (taken) this.typeStmt(unit, taken);
          return;
        }
        if (decided === 'unknown') this.unsure++;
        this.expect(unit, s.cond, 'long', 'an if condition');
        this.typeStmt(unit, s.then);
        if (s.else) this.typeStmt(unit, s.else);
        if (decided === 'unknown') this.unsure--;
        return;
      }
      case 'while':
        this.expect(unit, s.cond, 'long', 'a while condition');
        this.typeStmt(unit, s.body);
        return;
      case 'for':
        if (s.init && !this.elision.exprs.has(s.init)) this.typeExpr(unit, s.init, undefined, true);
        if (s.cond) this.expect(unit, s.cond, 'long', 'a for condition');
        if (s.step && !this.elision.exprs.has(s.step)) this.typeExpr(unit, s.step, undefined, true);
        this.typeStmt(unit, s.body);
        return;
      case 'foreach': {
        const arr = s.array.kind === 'symbol' ? (unit.bindings.get(s.array) as VarSym | undefined) : undefined;
        if (s.array.kind === 'hist') this.typeExpr(unit, s.array, undefined);
        s.keys.forEach((k, i) => {
          const ks = unit.bindings.get(k) as VarSym | undefined;
          if (!ks) return;
          const kt = s.array.kind === 'hist' ? 'long' : arr ? this.varKey(arr, i, this.types.vars.get(ks)!.value, k.span) : undefined;
          this.varValue(ks, kt, k.span);
        });
        if (s.value) {
          const vs = unit.bindings.get(s.value) as VarSym | undefined;
          const vt = arr ? this.types.vars.get(arr)!.value : 'long';
          if (vt === 'stats') this.mismatch(s.value.span, 'long', 'stats', 'a foreach value variable (statistics cannot be copied)');
          else if (vs) {
            const have = this.varValue(vs, vt, s.value.span);
            if (arr && have !== undefined) this.varValue(arr, have, s.array.span);
          }
        }
        if (s.sortAggregate && arr) {
          const vt = this.types.vars.get(arr)!.value;
          if (vt !== undefined && vt !== 'stats') this.mismatch(s.array.span, 'stats', vt, `sorting by @${s.sortAggregate}`);
        }
        if (s.slice && arr) s.slice.forEach((k, i) => { if (k) this.varKey(arr, i, this.typeExpr(unit, k, this.types.vars.get(arr)!.keys[i]), k.span); });
        if (s.limit) this.expect(unit, s.limit, 'long', 'a foreach limit');
        this.typeStmt(unit, s.body);
        return;
      }
      case 'return':
        if (s.value && unit.func) {
          const sig = this.types.funcs.get(unit.func)!;
          const t = this.typeExpr(unit, s.value, sig.ret);
          if (t !== undefined) {
            if (sig.ret === undefined) {
              sig.ret = t;
              this.changed = true;
            } else if (sig.ret !== t) this.mismatch(s.value.span, sig.ret, t, `the return value of '${unit.func.name}'`);
          }
        }
        return;
      case 'delete':
        if (s.target.kind !== 'symbol') this.typeExpr(unit, s.target, undefined, false, true);
        return;
      case 'try':
        this.typeStmt(unit, s.body);
        if (s.catchVar) {
          const sym = unit.locals.get(s.catchVar) ?? this.userGlobals.get(s.catchVar);
          if (sym) this.varValue(sym, 'string', s.span);
        }
        this.typeStmt(unit, s.handler);
        return;
      default:
        assertNever(s);
    }
  }

  /**
   * The type of `e`, pushing `want` into symbols whose type is still open. `discard`: the value is
   * unused (a void function call is fine). `slice`: `*` keys are allowed (delete).
   */
  private typeExpr(unit: Unit, e: Expr, want: Ty | undefined, discard = false, slice = false): Ty | undefined {
    const t = this.typeExprInner(unit, e, want, discard, slice);
    return this.setExprType(unit, e, t);
  }

  private typeExprInner(unit: Unit, e: Expr, want: Ty | undefined, discard: boolean, slice: boolean): Ty | undefined {
    switch (e.kind) {
      case 'number':
        return 'long';
      case 'string':
        return 'string';
      case 'symbol': {
        const sym = unit.bindings.get(e) as VarSym | undefined;
        if (!sym) return undefined;
        if (sym.arity !== undefined && sym.arity > 0) {
          if (this.reporting) this.error('TS4053', e.span, [sym.name]);
          return undefined;
        }
        return this.varValue(sym, want, e.span);
      }
      case 'index': {
        if (e.base.kind === 'hist') {
          this.typeExpr(unit, e.base, undefined);
          for (const k of e.keys) if (k) this.expect(unit, k, 'long', 'a histogram bucket index');
          return 'long';
        }
        const sym = unit.bindings.get(e.base) as VarSym | undefined;
        if (!sym) return undefined;
        e.keys.forEach((k, i) => {
          if (k === null) {
            if (!slice && this.reporting) this.error('TS4054', e.span);
            return;
          }
          const kt = this.typeExpr(unit, k, this.types.vars.get(sym)!.keys[i]);
          this.varKey(sym, i, kt, k.span);
        });
        return this.varValue(sym, want, e.span);
      }
      case 'call': {
        const f = unit.bindings.get(e) as FuncSym | undefined;
        if (!f) {
          for (const a of e.args) this.typeExpr(unit, a, undefined);
          return undefined;
        }
        const sig = this.types.funcs.get(f)!;
        e.args.forEach((a, i) => {
          const t = this.typeExpr(unit, a, sig.params[i]);
          if (t === 'stats') this.mismatch(a.span, 'long', t, `argument ${i + 1} of '${f.name}'`);
          else if (t !== undefined) {
            if (sig.params[i] === undefined) {
              sig.params[i] = t;
              this.changed = true;
              const p = this.funcUnits.get(f)?.locals.get(f.decl.params[i]!.name);
              if (p) this.varValue(p, t, a.span);
            } else if (sig.params[i] !== t) this.mismatch(a.span, sig.params[i]!, t, `argument ${i + 1} of '${f.name}'`);
          }
        });
        if (sig.ret === undefined && want !== undefined && want !== 'stats') {
          sig.ret = want;
          this.changed = true;
        }
        if (sig.ret === undefined && !discard && this.reporting) this.error('TS4056', e.span, [f.name]);
        return sig.ret;
      }
      case 'print': {
        const formatted = /f$/.test(e.name);
        const args = formatted ? e.args.slice(1) : /d(ln)?$/.test(e.name) ? e.args.slice(1) : e.args;
        const parsed = formatted && e.args[0]?.kind === 'string' ? formatTypes(e.args[0].value) : undefined;
        if (typeof parsed === 'string' && this.reporting) this.error('TS4059', e.args[0]!.span, [parsed]);
        const wants = typeof parsed === 'string' ? undefined : parsed;
        if (wants && wants.length !== args.length && this.reporting) this.error('TS4057', e.span, [wants.length, args.length]);
        args.forEach((a, i) => {
          const w = wants?.[i];
          if (a.kind === 'hist') {
            this.typeExpr(unit, a, undefined);
            return;
          }
          const t = this.typeExpr(unit, a, w);
          if (t === 'stats') this.mismatch(a.span, 'long', t, `an argument of ${e.name}`);
          else if (w && t && w !== t) this.mismatch(a.span, w, t, `argument ${i + 1} of ${e.name}`);
        });
        if (e.args[0] && args !== e.args) this.typeExpr(unit, e.args[0], 'string');
        return e.name.startsWith('s') ? 'string' : 'long';
      }
      case 'binary': {
        if (e.op === '.') {
          this.expect(unit, e.left, 'string', "an operand of '.'");
          this.expect(unit, e.right, 'string', "an operand of '.'");
          return 'string';
        }
        if (['==', '!=', '<', '>', '<=', '>='].includes(e.op)) {
          let l = this.typeExpr(unit, e.left, undefined);
          const r = this.typeExpr(unit, e.right, l === 'stats' ? undefined : l);
          if (l === undefined && r !== undefined) l = this.typeExpr(unit, e.left, r);
          if (l === 'stats' || r === 'stats') this.mismatch(e.span, 'long', 'stats', `an operand of '${e.op}'`);
          else if (l !== undefined && r !== undefined && l !== r) this.mismatch(e.right.span, l, r, `the right operand of '${e.op}'`);
          return 'long';
        }
        this.expect(unit, e.left, 'long', `an operand of '${e.op}'`);
        this.expect(unit, e.right, 'long', `an operand of '${e.op}'`);
        return 'long';
      }
      case 'unary':
        this.expect(unit, e.operand, 'long', `the operand of '${e.op}'`);
        return 'long';
      case 'crement':
        if (!this.elision.stores.has(e)) this.expect(unit, e.operand, 'long', `the operand of '${e.op}'`);
        return 'long';
      case 'assign': {
        if (this.elision.stores.has(e)) return this.typeExpr(unit, e.value, undefined, true);
        if (e.op === '<<<') {
          const local = e.target.kind === 'symbol' ? (unit.bindings.get(e.target) as VarSym | undefined) : undefined;
          if (local && local.scope !== 'global') {
            if (this.reporting && !this.broken.has(local)) {
              this.error('TS4040', e.target.span, [local.name]);
              this.broken.add(local);
            }
            this.expect(unit, e.value, 'long', "the value of '<<<'");
            return 'long';
          }
          if (e.target.kind === 'symbol' || e.target.kind === 'index') {
            this.typeExpr(unit, e.target, 'stats', false, false);
            const sym = unit.bindings.get(e.target.kind === 'symbol' ? e.target : (e.target.base as SymbolRef)) as VarSym | undefined;
            const vt = sym ? this.types.vars.get(sym)!.value : undefined;
            if (vt !== undefined && vt !== 'stats') this.mismatch(e.target.span, 'stats', vt, "the target of '<<<'");
          } else if (this.reporting) this.error('TS4058', e.target.span);
          this.expect(unit, e.value, 'long', "the value of '<<<'");
          return 'long';
        }
        if (e.op === '.=') {
          this.expect(unit, e.target, 'string', "the target of '.='");
          this.expect(unit, e.value, 'string', "the value of '.='");
          return 'string';
        }
        if (e.op !== '=') {
          this.expect(unit, e.target, 'long', `the target of '${e.op}'`);
          this.expect(unit, e.value, 'long', `the value of '${e.op}'`);
          return 'long';
        }
        let t = this.typeExpr(unit, e.target, want === 'stats' ? undefined : want);
        if (t === 'stats') {
          this.mismatch(e.target.span, 'long', 'stats', "the target of '=' (use '<<<' to add to statistics)");
          return undefined;
        }
        const v = this.typeExpr(unit, e.value, t);
        if (v === 'stats') this.mismatch(e.value.span, 'long', 'stats', "the value of '='");
        else if (t === undefined && v !== undefined) t = this.typeExpr(unit, e.target, v);
        else if (t !== undefined && v !== undefined && t !== v) this.mismatch(e.value.span, t, v, `the value assigned to ${describe(e.target)}`);
        return t ?? v;
      }
      case 'ternary': {
        // `@defined(X) ? A : B` is decided here; the branch not taken is never checked (stap folds it).
        const decided = this.definedValue(unit, e.cond);
        if (decided === true || decided === false) return this.typeExpr(unit, decided ? e.then : e.else, want, discard);
        if (decided === 'unknown') this.unsure++;
        try {
          return this.typeTernary(unit, e, want, discard);
        } finally {
          if (decided === 'unknown') this.unsure--;
        }
      }
      case 'in': {
        if (e.array.kind === 'hist') {
          this.typeExpr(unit, e.array, undefined);
          for (const k of e.keys) if (k) this.expect(unit, k, 'long', 'a histogram bucket index');
          return 'long';
        }
        const sym = unit.bindings.get(e.array) as VarSym | undefined;
        if (sym) e.keys.forEach((k, i) => { if (k) this.varKey(sym, i, this.typeExpr(unit, k, this.types.vars.get(sym)!.keys[i]), k.span); });
        return 'long';
      }
      case 'regex':
        this.expect(unit, e.left, 'string', "the left operand of '" + e.op + "'");
        return 'long';
      case 'stat':
      case 'hist': {
        const t = this.typeExpr(unit, e.operand, 'stats');
        if (t !== undefined && t !== 'stats') this.mismatch(e.operand.span, 'stats', t, `the operand of @${e.op}`);
        if (e.kind === 'hist') for (const p of e.params) this.expect(unit, p, 'long', `a parameter of @${e.op}`);
        return 'long';
      }
      case 'target':
      case 'atVar':
      case 'cast':
      case 'autocast':
        // Checked on live code only: the optimizer may have removed a statement naming a missing variable.
        if (e.kind === 'target' && this.reporting && this.unsure === 0) this.checkTargetVar(unit, e.name, e.span, this.writtenTargets.has(e), e.components, e.addressOf, e.pretty, e);
        for (const c of e.components) if (c.kind === 'subscript') this.expect(unit, c.index, 'long', 'a target-variable subscript');
        if (e.kind === 'cast' || e.kind === 'autocast') this.typeExpr(unit, e.operand, undefined);
        if (e.kind === 'autocast' && this.reporting && this.unsure === 0) this.checkAutocast(unit, e);
        // Pass 3 reads through the type wherever it is known, @defined branches included.
        else if (e.kind === 'autocast' && e.components.length) {
          const vt = this.valueType(unit, e.operand, new Set());
          if (vt.kind === 'typed') this.autocastTypes.set(e, vt.struct);
        }
        if (e.kind === 'cast' && this.reporting && this.unsure === 0) {
          const btf = modelBtf(this.opts.kernel);
          // Only a member the type lacks is held against the script here (in stap's words); what the
          // translator cannot do yet it says itself.
          const kernelType = e.module === undefined || e.module === 'kernel' || e.module.startsWith('<');
          const r = btf && kernelType ? resolveCast(btf, e.type, e.components) : undefined;
          const missing = r && !r.ok ? r.missing : undefined;
          if (missing) {
            const names = missing.names;
            this.error('TS4082', e.span, [missing.member, missing.type, names.slice(0, 24).join(', ') + (names.length > 24 ? ', ...' : '')]);
          }
        }
        if (e.kind === 'target' && e.components.length === 0 && !e.addressOf && !e.pretty) {
          const t = this.tracepointVarType(unit, e.name, want);
          if (t !== null) return t;
        }
        // Without type information from BTF every target value is a long (pointers included).
        if (e.kind === 'target' && e.name === 'value' && unit.probes.some((p) => p.family === 'procfs')) {
          if ((e.components.length || e.addressOf) && this.reporting) this.error('TS4076', e.span);
          return 'string';
        }
        if (e.kind === 'target' && !e.addressOf && !e.pretty && this.isBtfText(unit, e.name, e.components)) return 'string';
        return e.pretty ? 'string' : 'long';
      case 'contextVars':
        return 'string';
      case 'defined':
        return 'long';
      case 'entry':
        return this.typeExpr(unit, e.operand, want);
      case 'probewrite':
        return 'long';
      case 'perf':
      case 'const':
        return 'long';
      case 'register':
        this.expect(unit, e.register, 'long', 'a register number');
        return 'long';
      case 'deref':
        this.expect(unit, e.size, 'long', 'a dereference size');
        this.expect(unit, e.address, 'long', 'an address');
        return 'long';
      case 'embedded':
        return e.pragmas.includes('string') || /\/\*\s*string\s*\*\//.test(e.code) ? 'string' : 'long';
      default:
        return assertNever(e);
    }
  }

  /** `c ? a : b`; as a statement (`discard`) its branches may be calls to functions returning nothing. */
  private typeTernary(unit: Unit, e: Extract<Expr, { kind: 'ternary' }>, want: Ty | undefined, discard: boolean): Ty | undefined {
    this.expect(unit, e.cond, 'long', 'a ?: condition');
    let a = this.typeExpr(unit, e.then, want, discard);
    const b = this.typeExpr(unit, e.else, a ?? want, discard);
    if (a === undefined && b !== undefined) a = this.typeExpr(unit, e.then, b, discard);
    if (a !== undefined && b !== undefined && a !== b) this.mismatch(e.else.span, a, b, 'the branches of ?:');
    return a ?? b;
  }

  private checkResolvedTypes(): void {
    const seen = new Set<VarSym>();
    for (const u of this.live) {
      for (const sym of liveUses(u, this.elision).keys()) {
        if (seen.has(sym)) continue;
        seen.add(sym);
        if (this.types.vars.get(sym)!.value === undefined && !this.broken.has(sym)) this.error('TS4051', this.declSpan(u, sym), [sym.name]);
      }
    }
  }

  /** Where to point for a variable: its declaration, else its first use in the unit. */
  private declSpan(u: Unit, sym: VarSym): Decl['span'] | undefined {
    return sym.decl?.span ?? [...u.bindings.entries()].find(([, v]) => v === sym)?.[0].span;
  }

  private warnings(): void {
    const globalUses = new Map<VarSym, { reads: number; writes: number }>();
    for (const u of this.live) {
      const uses = liveUses(u, this.elision);
      for (const [sym, n] of uses) {
        if (sym.scope === 'global') {
          const g = globalUses.get(sym) ?? { reads: 0, writes: 0 };
          g.reads += n.reads;
          g.writes += n.writes;
          globalUses.set(sym, g);
        } else if (u.file === undefined && sym.scope === 'local' && n.writes === 0 && n.reads > 0) {
          this.error('TS4070', this.declSpan(u, sym), [sym.name]);
        }
      }
    }
    for (const [g, n] of globalUses) {
      if (g.file === undefined && n.writes === 0 && n.reads > 0 && g.decl && !('init' in g.decl && g.decl.init)) this.error('TS4071', g.decl.span, [g.name]);
    }
  }

  /** Whether `$name...` reads a char array (a string) in every kernel function probe of the unit. */
  private isBtfText(unit: Unit, name: string, components: readonly TargetComponent[]): boolean {
    const btf = modelBtf(this.opts.kernel);
    if (!btf || unit.probes.length === 0) return false;
    return unit.probes.every((p) => {
      if (p.family !== 'kernel.function' && p.family !== 'kprobe.function') return false;
      const r = resolveTarget(btf, String(p.detail.function), p.isReturn, name, components);
      return r.ok && r.plan.result.kind === 'string';
    });
  }

  /** Functions still called from live code once the optimizer is done (all of them with -u), in inclusion order. */
  private liveFunctions(): Unit[] {
    if (this.opts.unoptimized) return [...this.funcUnits.values()];
    const live = new Set<Unit>();
    const visit = (u: Unit): void => {
      forEachLiveExpr(u, this.elision, (e) => {
        if (e.kind !== 'call') return;
        const f = u.bindings.get(e);
        const fu = f?.kind === 'function' ? this.funcUnits.get(f) : undefined;
        if (fu && !live.has(fu)) {
          live.add(fu);
          visit(fu);
        }
      });
    };
    for (const { unit } of this.probeList) visit(unit);
    return [...this.funcUnits.values()].filter((u) => live.has(u));
  }

  result(): Resolved {
    const functions = this.live.filter((u) => u.kind === 'function');
    const liveUnits = new Set<Unit>(this.live);
    const used = new Set<VarSym>();
    for (const u of this.units) if (this.opts.unoptimized || liveUnits.has(u)) for (const sym of liveUses(u, this.elision).keys()) if (sym.scope === 'global') used.add(sym);
    const globals = [...this.userGlobals.values(), ...this.libGlobals.values()].filter((g) => this.opts.unoptimized ? g.file === undefined || used.has(g) : used.has(g));
    return {
      program: this.program,
      probes: this.probeList,
      functions,
      globals,
      files: this.included,
      types: this.types,
      elision: this.elision,
      badTargets: this.badTargets,
      autocastTypes: this.autocastTypes,
      embedded: [
        ...this.included.flatMap((path) => this.library.file(path)?.program.decls.filter((d): d is EmbeddedDecl => d.kind === 'embeddedDecl') ?? []),
        ...this.program.decls.filter((d): d is EmbeddedDecl => d.kind === 'embeddedDecl'),
      ],
    };
  }
}

/** A resolved target, or one that only fails because its value is a struct, when its address is what is asked for. */
function targetReadable(r: ReturnType<typeof resolveTarget>, addressOf: boolean): boolean {
  return r.ok || (addressOf && /only numbers, pointers and char arrays can be read/.test(r.message));
}

/** stap's words for a write to a target expression without -g. */
function writeNeedsGuru(e: Expr, unit: Unit): string {
  if (e.kind === 'cast') return 'write to @cast context variable not permitted; need stap -g';
  if (e.kind === 'atVar') return 'write to @var variable not permitted; need stap -g';
  if (e.kind === 'target' && unit.probes.length > 0 && unit.probes.every((p) => p.family === 'kernel.trace')) return `write to tracepoint variable '$${e.name}' not permitted; need stap -g`;
  if (e.kind === 'target') return 'write to target variable not permitted; need stap -g';
  return 'write not permitted; need stap -g';
}

function isLvalue(e: Expr): boolean {
  return ['symbol', 'index', 'target', 'atVar', 'cast', 'autocast'].includes(e.kind);
}

function isTarget(e: Expr): boolean {
  return e.kind === 'target' || e.kind === 'atVar' || e.kind === 'cast';
}

function describe(e: Expr): string {
  if (e.kind === 'symbol') return `'${e.name}'`;
  if (e.kind === 'index' && e.base.kind === 'symbol') return `'${e.base.name}[...]'`;
  return 'the target';
}

function walkExpr(e: Expr, fn: (x: Expr) => void): void {
  fn(e);
  switch (e.kind) {
    case 'binary': walkExpr(e.left, fn); walkExpr(e.right, fn); break;
    case 'unary': case 'crement': walkExpr(e.operand, fn); break;
    case 'ternary': walkExpr(e.cond, fn); walkExpr(e.then, fn); walkExpr(e.else, fn); break;
    case 'assign': walkExpr(e.target, fn); walkExpr(e.value, fn); break;
    case 'index': walkExpr(e.base, fn); for (const k of e.keys) if (k) walkExpr(k, fn); break;
    case 'call': case 'print': for (const a of e.args) walkExpr(a, fn); break;
    case 'in': for (const k of e.keys) if (k) walkExpr(k, fn); break;
    case 'regex': walkExpr(e.left, fn); break;
    default: break;
  }
}

/** Small stable numbers for nodes, to group derived probes that share exactly the same code. */
const ids = new WeakMap<object, number>();
let nextId = 1;
function nodeId(n: Block | Expr): number {
  let id = ids.get(n);
  if (id === undefined) ids.set(n, (id = nextId++));
  return id;
}

/** What pass 2 knows of the kernel type a script value carries (see Elaborator.valueType). */
type ValueType =
  | { readonly kind: 'typed'; readonly struct: string; readonly origin: string }
  | { readonly kind: 'none'; readonly why: string }
  | { readonly kind: 'unknown' };

const UNKNOWN_TYPE: ValueType = { kind: 'unknown' };

/** The type of a value that can come from any of `sources` (a local's stores, a function's returns). */
function mergeValueTypes(sources: readonly ValueType[], what: string): ValueType {
  if (sources.length === 0) return { kind: 'none', why: `${what}, which is never assigned` };
  if (sources.some((t) => t.kind === 'unknown')) return UNKNOWN_TYPE;
  const none = sources.find((t) => t.kind === 'none');
  if (none?.kind === 'none') return { kind: 'none', why: `${what}, which holds ${none.why}` };
  const kinds = new Set(sources.map((t) => (t.kind === 'typed' ? `${t.struct} from ${t.origin}` : '')));
  if (kinds.size === 1) return sources[0]!;
  return { kind: 'none', why: `${what}, which holds values of different types (${[...kinds].join(', ')})` };
}
