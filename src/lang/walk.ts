// Generic read-only traversal of the syntax tree: one exhaustive switch listing each node kind's children.

import {
  assertNever,
  type Decl, type Expr, type PointPart, type ProbePoint, type Program, type Stmt, type TargetComponent,
  type Param, type ForeachKey, type Block,
} from './ast.js';

export type Node = Program | Decl | Stmt | Expr | ProbePoint | PointPart | TargetComponent | Param | ForeachKey;

/** The direct children of `n`, in source order. */
export function childrenOf(n: Node): Node[] {
  const out: Node[] = [];
  const add = (...xs: (Node | null | undefined | readonly (Node | null)[])[]): void => {
    for (const x of xs) {
      if (x === null || x === undefined) continue;
      if (Array.isArray(x)) for (const y of x) { if (y) out.push(y as Node); }
      else out.push(x as Node);
    }
  };
  switch (n.kind) {
    case 'program': add(n.decls); break;
    case 'probe': add(n.points, n.body); break;
    case 'alias': add(n.names, n.points, n.body); break;
    case 'probePoint': add(n.components, n.condition); break;
    case 'component': add(n.arg); break;
    case 'componentGroup': for (const a of n.alternatives) add(a); break;
    case 'global': add(n.size, n.init); break;
    case 'function': add(n.params, n.body); break;
    case 'param': break;
    case 'embeddedDecl': add(n.code); break;
    case 'embedded': break;
    case 'block': add(n.stmts); break;
    case 'empty': break;
    case 'exprStmt': add(n.expr); break;
    case 'if': add(n.cond, n.then, n.else); break;
    case 'while': add(n.cond, n.body); break;
    case 'for': add(n.init, n.cond, n.step, n.body); break;
    case 'foreach': add(n.value, n.keys, n.array, n.slice, n.limit, n.body); break;
    case 'foreachKey': break;
    case 'return': add(n.value); break;
    case 'delete': add(n.target); break;
    case 'try': add(n.body, n.handler); break;
    case 'next': case 'break': case 'continue': break;
    case 'number': case 'string': case 'symbol': case 'contextVars': break;
    case 'index': add(n.base, n.keys); break;
    case 'call': case 'print': add(n.args); break;
    case 'binary': add(n.left, n.right); break;
    case 'unary': case 'crement': add(n.operand); break;
    case 'assign': add(n.target, n.value); break;
    case 'ternary': add(n.cond, n.then, n.else); break;
    case 'in': add(n.keys, n.array); break;
    case 'regex': add(n.left, n.pattern); break;
    case 'stat': add(n.operand, n.shift); break;
    case 'hist': add(n.operand, n.params); break;
    case 'target': case 'atVar': add(n.components); break;
    case 'cast': case 'autocast': add(n.operand, n.components); break;
    case 'member': break;
    case 'subscript': add(n.index); break;
    case 'defined': case 'entry': case 'probewrite': add(n.operand); break;
    case 'perf': add(n.counter); break;
    case 'const': add(n.name); break;
    case 'register': add(n.register); break;
    case 'deref': add(n.size, n.address); break;
    default: return assertNever(n);
  }
  return out;
}

/** Calls `fn` on `root` and every descendant, parents first. */
export function forEachNode(root: Node, fn: (n: Node) => void): void {
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    fn(n);
    const kids = childrenOf(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
}

export type { Block };
