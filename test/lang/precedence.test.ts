// Operator precedence and associativity, shown as fully parenthesised S-expressions of the parsed tree.
import './helpers/ensure-parser.js';
import { describe, expect, it } from 'vitest';
import type { Expr } from '../../src/lang/ast.js';
import { parseScript } from '../../src/lang/pass1.js';

function sexpr(e: Expr): string {
  switch (e.kind) {
    case 'binary': return `(${e.op} ${sexpr(e.left)} ${sexpr(e.right)})`;
    case 'unary': return `(${e.op} ${sexpr(e.operand)})`;
    case 'crement': return e.prefix ? `(${e.op}pre ${sexpr(e.operand)})` : `(${e.op}post ${sexpr(e.operand)})`;
    case 'assign': return `(${e.op} ${sexpr(e.target)} ${sexpr(e.value)})`;
    case 'ternary': return `(? ${sexpr(e.cond)} ${sexpr(e.then)} ${sexpr(e.else)})`;
    case 'in': return `(in [${e.keys.map((k) => (k ? sexpr(k) : '*')).join(' ')}] ${sexpr(e.array)})`;
    case 'regex': return `(${e.op} ${sexpr(e.left)} "${e.pattern.value}")`;
    case 'symbol': return e.name;
    case 'number': return e.text;
    case 'string': return JSON.stringify(e.value);
    case 'index': return `${sexpr(e.base)}[${e.keys.map((k) => (k ? sexpr(k) : '*')).join(' ')}]`;
    case 'call': return `${e.name}(${e.args.map(sexpr).join(' ')})`;
    case 'autocast': return `(autocast${e.addressOf ? '&' : ''} ${sexpr(e.operand)} ${e.components.map((c) => (c.kind === 'member' ? '->' + c.name : `[${sexpr(c.index)}]`)).join('')})`;
    case 'target': return `${e.addressOf ? '&' : ''}$${e.name}${e.components.map((c) => (c.kind === 'member' ? '->' + c.name : `[${sexpr(c.index)}]`)).join('')}`;
    default: return `<${e.kind}>`;
  }
}

function parseExpr(src: string): string {
  const r = parseScript({ text: `probe begin { ${src} }`, fileName: 't.stp', scriptArgs: [], includeDirs: [], guru: false, tapsetDirs: [] });
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  const probe = r.program!.decls[0]!;
  if (probe.kind !== 'probe') throw new Error('not a probe');
  const stmt = probe.body.stmts[0]!;
  if (stmt.kind !== 'exprStmt') throw new Error(`not an expression statement: ${stmt.kind}`);
  return sexpr(stmt.expr);
}

const CASES: [string, string][] = [
  ['a = b = c', '(= a (= b c))'],
  ['a += b ? c : d', '(+= a (? b c d))'],
  ['a ? b : c ? d : e', '(? a b (? c d e))'],
  ['a || b && c', '(|| a (&& b c))'],
  ['a && b | c', '(&& a (| b c))'],
  ['a | b ^ c', '(| a (^ b c))'],
  ['a ^ b & c', '(^ a (& b c))'],
  ['a & b in c', '(& a (in [b] c))'],
  ['a == b in c', '(in [(== a b)] c)'],
  ['[a, *] in c', '(in [a *] c)'],
  ['a < b << c', '(< a (<< b c))'],
  ['a == b != c', '(!= (== a b) c)'],
  ['a << b . c', '(<< a (. b c))'],
  ['a . b + c', '(. a (+ b c))'],
  ['a + b * c', '(+ a (* b c))'],
  ['a - b - c', '(- (- a b) c)'],
  ['a / b % c', '(% (/ a b) c)'],
  ['-a * b', '(* (- a) b)'],
  ['!a == b', '(== (! a) b)'],
  ['~-!+a', '(~ (- (! (+ a))))'],
  ['- -a', '(- (- a))'],
  ['--a', '(--pre a)'],
  ['a++ + b', '(+ (++post a) b)'],
  ['a =~ "x" == 1', '(== (=~ a "x") 1)'],
  ['a . b =~ "x"', '(=~ (. a b) "x")'],
  ['x <<< a + b', '(<<< x (+ a b))'],
  ['a .= b . c', '(.= a (. b c))'],
  ['(a + b) * c', '(* (+ a b) c)'],
  ['foo[1] in bar', '(in [foo[1]] bar)'],
  ['(foo)[1] in bar', '(in [(autocast foo [1])] bar)'],
  ['&a->b + 1', '(+ (autocast& a ->b) 1)'],
  ['$a->b[1]->c', '$a->b[1]->c'],
  ['a & &$b', '(& a &$b)'],
  ['f(a, b)[0]', '(autocast f(a b) [0])'],
  ['a ? b = 1 : c', '(? a (= b 1) c)'],
  ['a - -1', '(- a (- 1))'],
];

describe('operator precedence', () => {
  for (const [src, want] of CASES) it(src, () => expect(parseExpr(src)).toBe(want));
});
