// The one wrapper around the generated peggy parser: runs it over preprocessed text and turns failures into diagnostics.

import type { Decl, Program } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { parse as peggyParse, SyntaxError as PeggySyntaxError, type PeggyExpectation } from './generated/parser.js';
import { AT_WORDS, type PpOutput } from './preprocess.js';
import { describeToken } from './lexer.js';

export interface GrammarOptions {
  readonly fileName: string;
  /** `--compatible` < 2.0: adjacent string literals glue only across blanks, not comments. */
  readonly noCommentGlue: boolean;
  /** `--compatible` ≥ 3.0: `private` is a keyword. */
  readonly privateIsKeyword: boolean;
}

const MAX_ERRORS = 10;
const STATEMENT_WORDS = new Set(["'if'", "'while'", "'for'", "'foreach'", "'delete'", "'return'", "'try'", "'next'", "'break'", "'continue'", "'{'", "';'"]);
const VALUE_STARTS = new Set([
  'embedded code', 'number', 'string literal', 'identifier',
  "'['", "'('", "'+'", "'-'", "'!'", "'~'", "'++'", "'--'", "'&'", "'$'", "'$$'",
]);
const RESYNC_WORDS = new Set(['probe', 'global', 'function', 'private']);

/**
 * Parses preprocessed text. On a syntax error, skips to the next top-level declaration keyword and
 * parses on, so one run reports several independent errors (the program is then undefined).
 */
export function parseProgram(pp: PpOutput, opts: GrammarOptions): { program: Program | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const options = { ...opts, spanOf: pp.spanOf, commentBetween: pp.commentBetween };
  let text = pp.text;
  let decls: Decl[] | undefined;
  let resumedAt = 0;
  for (;;) {
    try {
      const program = peggyParse(text, options) as Program;
      if (diagnostics.length === 0) decls = [...program.decls];
      break;
    } catch (e) {
      if (!(e instanceof PeggySyntaxError)) throw e;
      const at = e.location.start.offset;
      diagnostics.push(syntaxDiagnostic(pp, e, at));
      if (diagnostics.length >= MAX_ERRORS) {
        diagnostics.push(diag('TS2003', undefined));
        break;
      }
      // Resume at the declaration keyword the error stopped at (a missing '}' before `probe`), else the next one.
      const next = resyncPoint(pp, Math.max(at, resumedAt + 1));
      if (next === undefined) break;
      resumedAt = next;
      // Blank out what was already reported so offsets (and so spans) stay valid.
      text = pp.text.slice(0, next).replace(/[^\n]/g, ' ') + pp.text.slice(next);
    }
  }
  if (!decls) return { program: undefined, diagnostics };
  const program: Program = { kind: 'program', file: opts.fileName, decls, span: pp.spanOf(0, pp.text.length) };
  return { program, diagnostics };
}

function resyncPoint(pp: PpOutput, from: number): number | undefined {
  const toks = pp.tokens;
  for (let i = 0; i < toks.length; i++) {
    const { token, out } = toks[i]!;
    if (out < from) continue;
    const prev = toks[i - 1]?.token;
    if (token.type === 'ident' && RESYNC_WORDS.has(token.text) && prev?.text !== '.') return out;
    if (token.type === 'embedded' && (prev === undefined || prev.text === '}' || prev.text === ';')) return out;
  }
  return undefined;
}

function syntaxDiagnostic(pp: PpOutput, e: PeggySyntaxError, at: number): Diagnostic {
  const tok = pp.tokens.find((t) => t.out === at) ?? pp.tokens.find((t) => t.out <= at && at < t.out + t.token.text.length);
  if (tok && tok.token.type === 'at' && !AT_WORDS.has(tok.token.text.slice(1))) {
    return diag('TS2004', pp.spanOf(tok.out, tok.out + tok.token.text.length), [tok.token.text]);
  }
  const saw = tok ? describeToken(tok.token) : at >= pp.text.length ? 'end of input' : `'${pp.text[at]}'`;
  return diag('TS2001', pp.spanOf(at, tok ? at + tok.token.text.length : at), [describeExpected(e.expected ?? []), saw]);
}

function describeExpected(expected: readonly PeggyExpectation[]): string {
  const names: string[] = [];
  for (const x of expected) {
    let s: string[] = [];
    if (x.type === 'literal') s = [`'${x.text}'`];
    else if (x.type === 'other') s = [x.description ?? ''];
    else if (x.type === 'end') s = ['end of input'];
    // Peggy merges single-character alternatives into a class; list its characters (ranges are never expected tokens).
    else if (x.type === 'class' && !x.inverted) s = (x.parts ?? []).filter((p): p is string => typeof p === 'string').map((p) => `'${p}'`);
    for (const n of s) if (n && n !== 'blank' && !names.includes(n)) names.push(n);
  }
  if (names.length === 0) return 'something else';
  // Everything that can start a value collapses into one word, as stap says "expected expression".
  if (names.includes('identifier') && names.includes('number') && names.includes('string literal')) {
    const rest = names.filter((n) => !VALUE_STARTS.has(n) && !/^'@/.test(n));
    names.splice(0, names.length, 'expression', ...rest);
  }
  // A statement may start here: name that, not every keyword.
  if (names.includes('expression') && names.includes("'if'") && names.includes("'while'")) {
    const rest = names.filter((n) => n !== 'expression' && !STATEMENT_WORDS.has(n));
    names.splice(0, names.length, 'statement', ...rest);
  }
  // After a complete operand every operator could follow; list what usually is missing instead.
  const operators = names.filter((n) => rank(n) === 3 || n === "'in'");
  if (operators.length > 3 && names.includes("'->'")) {
    const rest = names.filter((n) => !operators.includes(n));
    names.splice(0, names.length, ...rest, 'an operator');
  }
  names.sort((a, b) => rank(a) - rank(b));
  // Keep the list short the way stap does: the first few alternatives say enough.
  const shown = names.length > 9 ? [...names.slice(0, 8), "..."] : names;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
}

/** Closing punctuation first (it is usually what is missing), then token classes, keywords, operators. */
function rank(s: string): number {
  if (/^'[)\]};,:]'$/.test(s)) return 0;
  if (s === 'an operator') return 4;
  if (!s.startsWith("'")) return 1;
  if (/^'[A-Za-z_]/.test(s)) return 2;
  return 3;
}
