// The `-p1` printer: one canonical text per tree, which parses back to the same tree.

import {
  assertNever,
  type Decl, type Expr, type ForeachKey, type PointPart, type ProbePoint, type Program, type Stmt,
  type TargetComponent, type TargetTail,
} from './ast.js';

const INDENT = '  ';

/** Lets `-p2` leave out what the optimizer removed: whole statements, and stores whose value alone remains. */
export interface PrintOptions {
  readonly omitStmt?: (s: Stmt) => boolean;
  readonly storeElided?: (e: Expr) => boolean;
  readonly omitExpr?: (e: Expr) => boolean;
}
const NONE: PrintOptions = {};

export function printProgram(p: Program): string {
  return p.decls.map((d) => printDecl(d)).join('\n') + (p.decls.length ? '\n' : '');
}

export function printDecl(d: Decl): string {
  const priv = 'private' in d && d.private ? 'private ' : '';
  switch (d.kind) {
    case 'probe':
      return `${priv}probe ${d.points.map(printPoint).join(', ')} ${printStmt(d.body, 0)}`;
    case 'alias':
      return `${priv}probe ${d.names.map(printPoint).join(', ')} ${d.epilogue ? '+=' : '='} ${d.points.map(printPoint).join(', ')} ${printStmt(d.body, 0)}`;
    case 'global': {
      let s = `${priv}global ${d.name}${d.wrap ? '%' : ''}`;
      if (d.size) s += `[${d.size.text}]`;
      if (d.init) s += ` = ${d.init.kind === 'number' ? d.init.text : quote(d.init.value)}`;
      return s;
    }
    case 'function': {
      const params = d.params.map((p) => (p.type ? `${p.name}:${p.type}` : p.name)).join(', ');
      const body = d.body.kind === 'block' ? printStmt(d.body, 0) : `%{${d.body.code}%}`;
      return `${priv}function ${d.name}${d.returnType ? ':' + d.returnType : ''}(${params}) ${body}`;
    }
    case 'embeddedDecl':
      return `%{${d.code.code}%}`;
    default:
      return assertNever(d);
  }
}

export function printPoint(p: ProbePoint): string {
  let s = printPath(p.components);
  if (p.sufficient) s += '!';
  else if (p.optional) s += '?';
  if (p.condition) s += ` if (${printExpr(p.condition)})`;
  return s;
}

function printPath(parts: readonly PointPart[]): string {
  return parts.map(printPart).join('.');
}

function printPart(c: PointPart): string {
  switch (c.kind) {
    case 'component':
      if (!c.arg) return c.name;
      return `${c.name}(${c.arg.kind === 'number' ? c.arg.text : quote(c.arg.value)})`;
    case 'componentGroup':
      return `{${c.alternatives.map(printPath).join(',')}}`;
    default:
      return assertNever(c);
  }
}

export function printStmt(s: Stmt, depth: number, o: PrintOptions = NONE): string {
  const pad = INDENT.repeat(depth);
  /** A nested statement on its own line (blocks stay on the header line). */
  const sub = (b: Stmt): string => (b.kind === 'block' ? ' ' + printStmt(b, depth, o) : '\n' + INDENT.repeat(depth + 1) + printStmt(b, depth + 1, o));
  switch (s.kind) {
    case 'block':
      if (s.stmts.every((x) => o.omitStmt?.(x))) return '{}';
      return '{\n' + s.stmts.filter((x) => !o.omitStmt?.(x)).map((x) => INDENT.repeat(depth + 1) + printStmt(x, depth + 1, o)).join('\n') + '\n' + pad + '}';
    case 'empty':
      return ';';
    case 'exprStmt':
      return printExpr(s.expr, o) + ';';
    case 'if': {
      let out = `if (${printExpr(s.cond, o)})${sub(s.then)}`;
      if (s.else) {
        out += (s.then.kind === 'block' ? ' ' : '\n' + pad) + 'else';
        out += s.else.kind === 'if' ? ' ' + printStmt(s.else, depth, o) : sub(s.else);
      }
      return out;
    }
    case 'while':
      return `while (${printExpr(s.cond, o)})${sub(s.body)}`;
    case 'for':
      return `for (${s.init && !o.omitExpr?.(s.init) ? printExpr(s.init, o) : ''};${s.cond ? ' ' + printExpr(s.cond, o) : ''};${s.step && !o.omitExpr?.(s.step) ? ' ' + printExpr(s.step, o) : ''})${sub(s.body)}`;
    case 'foreach': {
      let h = 'foreach (';
      if (s.value) h += `${printKey(s.value)} = `;
      h += `[${s.keys.map(printKey).join(', ')}] in ${printExpr(s.array, o)}`;
      if (s.slice) h += `[${s.slice.map((k) => printKeyExpr(k, o)).join(', ')}]`;
      if (s.arraySort !== 0) h += `${s.sortAggregate ? ' @' + s.sortAggregate + ' ' : ''}${s.arraySort > 0 ? '+' : '-'}`;
      if (s.limit) h += ` limit ${printExpr(s.limit, o)}`;
      return h + ')' + sub(s.body);
    }
    case 'return':
      return s.value ? `return ${printExpr(s.value, o)};` : 'return;';
    case 'delete':
      return `delete ${printExpr(s.target, o)};`;
    case 'try':
      return `try ${printStmt(s.body, depth, o)} catch${s.catchVar ? ` (${s.catchVar})` : ''} ${printStmt(s.handler, depth, o)}`;
    case 'next':
    case 'break':
    case 'continue':
      return s.kind + ';';
    default:
      return assertNever(s);
  }
}

function printKey(k: ForeachKey): string {
  return k.name + (k.sort > 0 ? '+' : k.sort < 0 ? '-' : '');
}

function printKeyExpr(e: Expr | null, o: PrintOptions = NONE): string {
  return e === null ? '*' : printExpr(e, o);
}

/** Binding strength of each expression form, loosest first, as the grammar's precedence ladder has it. */
const BINARY_LEVEL: Record<string, number> = {
  '||': 3, '&&': 4, '|': 5, '^': 6, '&': 7,
  '==': 9, '!=': 9, '<': 9, '>': 9, '<=': 9, '>=': 9,
  '<<': 10, '>>': 10, '.': 11, '+': 12, '-': 12, '*': 13, '/': 13, '%': 13,
};
const PRIMARY = 16;

function level(e: Expr): number {
  switch (e.kind) {
    case 'assign': return 1;
    case 'ternary': return 2;
    case 'binary': return BINARY_LEVEL[e.op]!;
    case 'in': return 8;
    case 'regex': return 9;
    case 'unary': return 14;
    case 'crement': return 15;
    case 'autocast': case 'target': case 'cast': case 'atVar':
      // `&x` binds like a prefix operator when it follows another prefix operator.
      return e.addressOf ? 15 : PRIMARY;
    default: return PRIMARY;
  }
}

/** Prints `e` in parentheses unless it binds at least as tightly as `min`. */
function at(e: Expr, min: number, o: PrintOptions): string {
  return level(e) >= min ? printExpr(e, o) : `(${printExpr(e, o)})`;
}

function tail(t: TargetTail, o: PrintOptions): string {
  return t.components.map((c) => printComponent(c, o)).join('') + (t.pretty === 2 ? '$$' : t.pretty === 1 ? '$' : '');
}

function printComponent(c: TargetComponent, o: PrintOptions): string {
  return c.kind === 'member' ? `->${c.name}` : `[${printExpr(c.index, o)}]`;
}

export function printExpr(e: Expr, o: PrintOptions = NONE): string {
  if (o.storeElided?.(e) && (e.kind === 'assign' || e.kind === 'crement')) return e.kind === 'assign' ? printExpr(e.value, o) : '0';
  switch (e.kind) {
    case 'number':
      return e.text;
    case 'string':
      return quote(e.value);
    case 'symbol':
      return e.name;
    case 'index':
      return `${printExpr(e.base, o)}[${e.keys.map((k) => printKeyExpr(k, o)).join(', ')}]`;
    case 'call':
    case 'print':
      return `${e.name}(${e.args.map((x) => printExpr(x, o)).join(', ')})`;
    case 'binary': {
      const l = BINARY_LEVEL[e.op]!;
      // Comparisons chain through the regex level on the left only; everything else is left-associative.
      return `${at(e.left, l, o)} ${e.op} ${at(e.right, l === 9 ? 10 : l + 1, o)}`;
    }
    case 'unary':
      return `${e.op}${at(e.operand, PRIMARY, o)}`;
    case 'crement':
      return e.prefix ? `${e.op}${at(e.operand, PRIMARY, o)}` : `${at(e.operand, PRIMARY, o)}${e.op}`;
    case 'assign':
      return `${at(e.target, 3, o)} ${e.op} ${printExpr(e.value, o)}`;
    case 'ternary':
      return `${at(e.cond, 3, o)} ? ${printExpr(e.then, o)} : ${printExpr(e.else, o)}`;
    case 'in':
      return `[${e.keys.map((k) => printKeyExpr(k, o)).join(', ')}] in ${printExpr(e.array, o)}`;
    case 'regex':
      return `${at(e.left, 10, o)} ${e.op} ${quote(e.pattern.value)}`;
    case 'stat':
      return `@${e.op}(${printExpr(e.operand, o)}${e.shift ? ', ' + e.shift.text : ''})`;
    case 'hist':
      return `@${e.op}(${[e.operand, ...e.params].map((x) => printExpr(x, o)).join(', ')})`;
    case 'target':
      return `${e.addressOf ? '&' : ''}$${e.name}${tail(e, o)}`;
    case 'contextVars':
      return `$$${e.which}${e.pretty === 2 ? '$$' : e.pretty === 1 ? '$' : ''}`;
    case 'cast':
      return `${e.addressOf ? '&' : ''}@cast(${printExpr(e.operand, o)}, ${quote(e.type)}${e.module !== undefined ? ', ' + quote(e.module) : ''})${tail(e, o)}`;
    case 'atVar':
      return `${e.addressOf ? '&' : ''}@var(${quote(e.name)}${e.module !== undefined ? ', ' + quote(e.module) : ''})${tail(e, o)}`;
    case 'autocast':
      return `${e.addressOf ? '&' : ''}(${printExpr(e.operand, o)})${tail(e, o)}`;
    case 'defined':
    case 'entry':
    case 'probewrite':
      return `@${e.kind}(${printExpr(e.operand, o)})`;
    case 'perf':
      return `@perf(${quote(e.counter.value)})`;
    case 'const':
      return `@const(${quote(e.name.value)})`;
    case 'register':
      return `@${e.space === 'kernel' ? 'k' : 'u'}register(${printExpr(e.register, o)})`;
    case 'deref':
      return `@${e.space === 'kernel' ? 'k' : 'u'}deref(${printExpr(e.size, o)}, ${printExpr(e.address, o)})`;
    case 'embedded':
      return `%{${e.code}%}`;
    default:
      return assertNever(e);
  }
}

/** A string literal that decodes back to `s`. */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\' + c.toString(8).padStart(3, '0');
    else out += ch;
  }
  return out + '"';
}
