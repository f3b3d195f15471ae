// The token scanner the preprocessor works on: just enough lexing to see directives, macros and arguments.

import { diag, type Diagnostic } from './diagnostics.js';
import { SourceFile } from './source.js';

export type TokType =
  | 'ident' // also keywords; may contain `$` (`$var`, `a$b`)
  | 'number' // digit followed by any alphanumerics; validated by the parser
  | 'string'
  | 'embedded' // %{ ... %}
  | 'at' // @name (built-in or macro)
  | 'argref' // $N / @N / $# / @#
  | 'pp' // %( %? %: %)
  | 'op';

export interface Token {
  readonly type: TokType;
  /** The token's text exactly as written (synthetic tokens: as it will be emitted). */
  readonly text: string;
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
  /** Position in its file's token list; consecutive indices mean nothing but blanks/comments between. */
  readonly index: number;
  /** Set on tokens that do not appear in any file (expanded `@1`, `$#`): they take the location of the reference. */
  readonly synthetic?: boolean;
}

const OPERATORS = [
  '<<<', '<<=', '>>=',
  '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=', '.=', '==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '=~', '!~',
  '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=', '?', ':', ';', ',', '.', '(', ')', '[', ']', '{', '}',
];

// Character classes by code: the scanner runs over whole tapset libraries, so no per-character regexes.
const OPERATORS_BY_CHAR = new Map<string, string[]>();
for (const o of OPERATORS) OPERATORS_BY_CHAR.set(o[0]!, [...(OPERATORS_BY_CHAR.get(o[0]!) ?? []), o]);

const isAlpha = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => isAlpha(c) || isDigit(c);
const isIdentStart = (c: number): boolean => isAlpha(c) || c === 36;
const isIdentChar = (c: number): boolean => isAlnum(c) || c === 36;

export interface LexResult {
  tokens: Token[];
  diagnostics: Diagnostic[];
}

/** Splits one file into tokens; comments and blanks are dropped (the preprocessor copies them back from the text). */
export function lex(file: SourceFile): LexResult {
  const s = file.text;
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let i = 0;
  const push = (type: TokType, start: number, end: number): void => {
    tokens.push({ type, text: s.slice(start, end), file, start, end, index: tokens.length });
  };
  while (i < s.length) {
    const c = s[i]!;
    const c2 = s[i + 1] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && c2 === '/')) {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && c2 === '*') {
      const close = s.indexOf('*/', i + 2);
      if (close < 0) {
        diagnostics.push(diag('TS1001', file.span(i, i + 2)));
        break;
      }
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      if (i >= s.length) {
        diagnostics.push(diag('TS1002', file.span(start, start + 1)));
        break;
      }
      i++;
      push('string', start, i);
      continue;
    }
    if (c === '%' && c2 === '{') {
      const close = s.indexOf('%}', i + 2);
      if (close < 0) {
        diagnostics.push(diag('TS1003', file.span(i, i + 2)));
        break;
      }
      i = close + 2;
      push('embedded', start, i);
      continue;
    }
    if (c === '%' && (c2 === '(' || c2 === '?' || c2 === ':' || c2 === ')')) {
      i += 2;
      push('pp', start, i);
      continue;
    }
    const cc = s.charCodeAt(i);
    const cc2 = s.charCodeAt(i + 1);
    if ((c === '$' || c === '@') && (c2 === '#' || isDigit(cc2))) {
      i += 2;
      if (c2 !== '#') while (i < s.length && isIdentChar(s.charCodeAt(i))) i++;
      push('argref', start, i);
      continue;
    }
    if (c === '@' && isAlpha(cc2)) {
      i += 2;
      while (i < s.length && isAlnum(s.charCodeAt(i))) i++;
      push('at', start, i);
      continue;
    }
    if (isIdentStart(cc)) {
      i++;
      while (i < s.length && isIdentChar(s.charCodeAt(i))) i++;
      push('ident', start, i);
      continue;
    }
    if (isDigit(cc)) {
      i++;
      while (i < s.length && isAlnum(s.charCodeAt(i))) i++;
      push('number', start, i);
      continue;
    }
    const op = OPERATORS_BY_CHAR.get(c)?.find((o) => s.startsWith(o, i));
    if (op) {
      i += op.length;
      push('op', start, i);
      continue;
    }
    diagnostics.push(diag('TS1004', file.span(i, i + 1), [JSON.stringify(c)]));
    i++;
  }
  return { tokens, diagnostics };
}

/** Human description of a token for `saw ...` in messages. */
export function describeToken(t: Token | undefined): string {
  if (!t) return 'end of input';
  switch (t.type) {
    case 'ident':
      return `identifier '${t.text}'`;
    case 'number':
      return `number '${t.text}'`;
    case 'string':
      return `string ${t.text}`;
    case 'embedded':
      return 'embedded code';
    default:
      return `'${t.text}'`;
  }
}
