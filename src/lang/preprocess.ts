// Pass 1a, the preprocessor: conditionals, @define macros and script arguments, over tokens, to one text with a source map.

import type { Span } from './ast.js';
import { diag, type Diagnostic, type DiagCode } from './diagnostics.js';
import { describeToken, lex, type Token } from './lexer.js';
import { SourceFile } from './source.js';

/** What preprocessor conditions can ask about. */
export interface PpFacts {
  /** Full kernel release (`kernel_vr`), e.g. "6.1.0-57-amd64". */
  readonly kernelRelease: string;
  /** stap's architecture name (`arch`), e.g. "x86_64", "i386", "arm64". */
  readonly arch: string;
  readonly runtime: string;
  /** Language level (`systemtap_v`, `--compatible`). */
  readonly systemtapVersion: string;
  readonly privilege: string;
  readonly guru: boolean;
  readonly config: ReadonlyMap<string, string>;
  readonly args: readonly string[];
}

export interface Macro {
  readonly name: string;
  readonly params: readonly string[];
  readonly body: readonly Token[];
  readonly span: Span;
}

/** One run of output text and where it came from. Synthetic runs map every offset to the reference token. */
interface Segment {
  readonly out: number;
  readonly len: number;
  readonly file: SourceFile;
  readonly src: number;
  readonly synthetic: boolean;
  readonly srcEnd: number;
}

export interface PpOutput {
  /** Program text with directives, macros and arguments resolved; blanks/comments kept where tokens were contiguous. */
  readonly text: string;
  /** The emitted tokens with their offsets in `text`. */
  readonly tokens: readonly { readonly token: Token; readonly out: number }[];
  readonly diagnostics: Diagnostic[];
  /** Macros the file defined (used for `.stpm` libraries). */
  readonly macros: Map<string, Macro>;
  /** Maps an offset range of `text` back to the source span. */
  spanOf(start: number, end: number): Span;
  /** Whether a comment (blanked in `text`) stood between these output offsets. */
  commentBetween(start: number, end: number): boolean;
}

/** Built-in `@` words; a macro may shadow them (with a warning) except `@define`. */
export const AT_WORDS = new Set([
  'cast', 'defined', 'entry', 'perf', 'var', 'avg', 'count', 'sum', 'min', 'max', 'variance',
  'hist_linear', 'hist_log', 'const', 'kregister', 'uregister', 'kderef', 'uderef', 'probewrite',
]);

class PpError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

const MAX_EXPANSION_DEPTH = 64;

/**
 * Runs the preprocessor over `file`. `library` holds macros from tapset `.stpm` files; the file's own
 * definitions shadow them. Stops at the first preprocessor error (the token stream after it is unreliable).
 */
export function preprocess(file: SourceFile, facts: PpFacts, library: ReadonlyMap<string, Macro>): PpOutput {
  const lexed = lex(file);
  const diagnostics: Diagnostic[] = [...lexed.diagnostics];
  const macros = new Map<string, Macro>();
  const emitted: Token[] = [];
  const fail = (code: DiagCode, span: Span | undefined, args: (string | number)[] = []): never => {
    throw new PpError(diag(code, span, args));
  };
  const spanOfTok = (t: Token): Span => t.file.span(t.start, t.end);
  const eofSpan = (toks: readonly Token[]): Span => {
    const last = toks[toks.length - 1];
    return last ? last.file.span(last.end, last.end) : file.span(file.text.length, file.text.length);
  };

  const synth = (ref: Token, type: 'string' | 'number', text: string): Token => ({
    type, text, file: ref.file, start: ref.start, end: ref.end, index: -1, synthetic: true,
  });

  /** `$N`, `@N`, `$#`, `@#` → tokens. */
  const expandArgRef = (t: Token, out: Token[]): void => {
    const sigil = t.text[0]!;
    const rest = t.text.slice(1);
    if (rest === '#') {
      const n = String(facts.args.length);
      out.push(synth(t, sigil === '$' ? 'number' : 'string', sigil === '$' ? n : `"${n}"`));
      return;
    }
    if (!/^[0-9]+$/.test(rest)) fail('TS1021', spanOfTok(t), [t.text]);
    const n = Number(rest);
    if (n < 1 || n > facts.args.length) fail('TS1020', spanOfTok(t), [rest, facts.args.length]);
    const value = facts.args[n - 1]!;
    if (sigil === '@') {
      out.push(synth(t, 'string', `"${value.replace(/[\\"]/g, (m) => '\\' + m).replace(/\n/g, '\\n')}"`));
      return;
    }
    const argFile = new SourceFile(`argument ${t.text}`, value, false);
    const sub = lex(argFile);
    if (sub.diagnostics.length) throw new PpError(sub.diagnostics[0]!);
    for (const a of sub.tokens) {
      if (a.type === 'argref') fail('TS1022', spanOfTok(t), [t.text]);
      out.push(a);
    }
  };

  /** Collects tokens of a `%( ... %)`-delimited region starting after an opener; returns index after the closer. */
  const scanConditional = (toks: readonly Token[], i: number): { cond: Token[]; then: Token[]; else: Token[] | undefined; next: number } => {
    const cond: Token[] = [];
    while (i < toks.length && !(toks[i]!.type === 'pp' && toks[i]!.text === '%?')) {
      const t = toks[i]!;
      if (t.type === 'pp' || t.type === 'embedded') fail('TS1010', spanOfTok(t), ["'%?'", describeToken(t)]);
      cond.push(t);
      i++;
    }
    if (i >= toks.length) fail('TS1010', eofSpan(toks), ["'%?'", 'end of input']);
    i++;
    const branches: Token[][] = [[]];
    let depth = 0;
    for (;;) {
      const t = toks[i];
      if (!t) fail('TS1010', eofSpan(toks), [branches.length === 1 ? "'%:' or '%)'" : "'%)'", 'end of input']);
      i++;
      if (t!.type === 'pp') {
        if (t!.text === '%(') depth++;
        else if (t!.text === '%)') {
          if (depth === 0) break;
          depth--;
        } else if (t!.text === '%:' && depth === 0) {
          if (branches.length === 2) fail('TS1010', spanOfTok(t!), ["'%)'", "'%:'"]);
          branches.push([]);
          continue;
        }
      }
      branches[branches.length - 1]!.push(t!);
    }
    return { cond, then: branches[0]!, else: branches[1], next: i };
  };

  /** Reads `( arg, arg )` for a macro call; arguments are split at top-level commas. */
  const readMacroArgs = (toks: readonly Token[], i: number, m: Macro, at: Token): { args: Token[][]; next: number } => {
    const open = toks[i];
    if (!open || open.text !== '(' || open.type !== 'op') {
      fail('TS1034', spanOfTok(at), [m.name, m.params.length, 0]);
    }
    i++;
    const args: Token[][] = [[]];
    let depth = 0;
    for (;;) {
      const t = toks[i];
      if (!t) fail('TS1035', spanOfTok(at), [m.name]);
      i++;
      if (t!.type === 'op') {
        if (t!.text === '(' || t!.text === '[' || t!.text === '{') depth++;
        else if (t!.text === ')' || t!.text === ']' || t!.text === '}') {
          if (depth === 0 && t!.text === ')') break;
          depth--;
        } else if (t!.text === ',' && depth === 0) {
          args.push([]);
          continue;
        }
      }
      args[args.length - 1]!.push(t!);
    }
    if (args.length === 1 && args[0]!.length === 0) args.pop();
    if (args.length !== m.params.length) fail('TS1034', spanOfTok(at), [m.name, m.params.length, args.length]);
    return { args, next: i };
  };

  const readDefine = (toks: readonly Token[], i: number, at: Token): number => {
    const nameTok = toks[i];
    if (!nameTok || (nameTok.type !== 'ident' && nameTok.type !== 'op') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameTok.text)) {
      fail('TS1030', nameTok ? spanOfTok(nameTok) : eofSpan(toks), [describeToken(nameTok)]);
    }
    const name = nameTok!.text;
    if (name === 'define') fail('TS1031', spanOfTok(nameTok!), [name]);
    i++;
    const params: string[] = [];
    if (toks[i]?.type === 'op' && toks[i]!.text === '(') {
      i++;
      for (;;) {
        const p = toks[i];
        if (p?.type === 'ident' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.text)) {
          if (params.includes(p.text)) fail('TS1037', spanOfTok(p), [name, p.text]);
          params.push(p.text);
          i++;
          if (toks[i]?.text === ',') {
            i++;
            continue;
          }
        }
        if (toks[i]?.text === ')') {
          i++;
          break;
        }
        fail('TS2001', toks[i] ? spanOfTok(toks[i]!) : eofSpan(toks), ["macro parameter name or ')'", describeToken(toks[i])]);
      }
    }
    const open = toks[i];
    if (!open || open.type !== 'pp' || open.text !== '%(') fail('TS1032', open ? spanOfTok(open) : eofSpan(toks), [name, describeToken(open)]);
    i++;
    const body: Token[] = [];
    let depth = 0;
    for (;;) {
      const t = toks[i];
      if (!t) fail('TS1033', spanOfTok(open!), [name]);
      i++;
      if (t!.type === 'pp' && t!.text === '%(') depth++;
      if (t!.type === 'pp' && t!.text === '%)') {
        if (depth === 0) break;
        depth--;
      }
      body.push(t!);
    }
    if (AT_WORDS.has(name)) diagnostics.push(diag('TS1038', spanOfTok(nameTok!), [name]));
    macros.set(name, { name, params, body, span: at.file.span(at.start, nameTok!.end) });
    return i;
  };

  const expand = (toks: readonly Token[], env: ReadonlyMap<string, Token[]> | undefined, depth: number, out: Token[]): void => {
    if (depth > MAX_EXPANSION_DEPTH) fail('TS1036', toks[0] ? spanOfTok(toks[0]) : undefined, ['?']);
    let i = 0;
    while (i < toks.length) {
      const t = toks[i]!;
      i++;
      switch (t.type) {
        case 'pp':
          if (t.text !== '%(') fail('TS1040', spanOfTok(t), [`'${t.text}'`]);
          {
            const c = scanConditional(toks, i);
            const condToks: Token[] = [];
            for (const ct of c.cond) {
              if (ct.type === 'argref') expandArgRef(ct, condToks);
              else if (ct.type === 'at' && env?.has(ct.text.slice(1))) condToks.push(...env.get(ct.text.slice(1))!);
              else condToks.push(ct);
            }
            const taken = evalCondition(condToks, toks[i - 1]!) ? c.then : c.else;
            if (taken) expand(taken, env, depth, out);
            i = c.next;
          }
          break;
        case 'argref':
          expandArgRef(t, out);
          break;
        case 'at': {
          const name = t.text.slice(1);
          if (name === 'define') {
            i = readDefine(toks, i, t);
            break;
          }
          if (env?.has(name)) {
            out.push(...env.get(name)!);
            break;
          }
          const m = macros.get(name) ?? library.get(name);
          if (!m) {
            out.push(t);
            break;
          }
          let bound = new Map<string, Token[]>();
          if (m.params.length > 0) {
            const r = readMacroArgs(toks, i, m, t);
            i = r.next;
            bound = new Map(m.params.map((p, k) => {
              const expanded: Token[] = [];
              expand(r.args[k]!, env, depth + 1, expanded);
              return [p, expanded];
            }));
          }
          if (depth + 1 > MAX_EXPANSION_DEPTH) fail('TS1036', spanOfTok(t), [name]);
          expand(m.body, bound, depth + 1, out);
          break;
        }
        default:
          out.push(t);
      }
    }
  };

  /** Evaluates `A op B [&& ...] [|| ...]` with parentheses, as stap's preprocessor does. */
  const evalCondition = (toks: Token[], open: Token): boolean => {
    let k = 0;
    const peek = (): Token | undefined => toks[k];
    const where = (t: Token | undefined): Span => (t ? spanOfTok(t) : spanOfTok(open));
    const orExpr = (): boolean => {
      let v = andExpr();
      while (peek()?.text === '||' && peek()?.type === 'op') {
        k++;
        const r = andExpr();
        v = v || r;
      }
      return v;
    };
    const andExpr = (): boolean => {
      let v = atom();
      while (peek()?.text === '&&' && peek()?.type === 'op') {
        k++;
        const r = atom();
        v = v && r;
      }
      return v;
    };
    const atom = (): boolean => {
      const t = peek();
      if (t?.type === 'op' && t.text === '(') {
        k++;
        const v = orExpr();
        if (peek()?.text !== ')') fail('TS1012', where(peek()), ["')'", describeToken(peek())]);
        k++;
        return v;
      }
      const l = toks[k++];
      const op = toks[k++];
      const r = toks[k++];
      if (!l || (l.type !== 'ident' && l.type !== 'number' && l.type !== 'string')) fail('TS1012', where(l), ['a condition', describeToken(l)]);
      if (!op || op.type !== 'op' || !['==', '!=', '<', '>', '<=', '>='].includes(op.text)) fail('TS1012', where(op), ['comparison operator', describeToken(op)]);
      if (!r || (r.type !== 'ident' && r.type !== 'number' && r.type !== 'string')) fail('TS1012', where(r), ['a string or number', describeToken(r)]);
      return compare(l!, op!, r!);
    };
    const v = orExpr();
    if (k < toks.length) fail('TS1012', where(toks[k]), ["'%?', '&&' or '||'", describeToken(toks[k])]);
    return v;
  };

  const compare = (l: Token, op: Token, r: Token): boolean => {
    const bad = (what: string, t: Token): never => fail('TS1011', spanOfTok(t), [`${what}, saw ${describeToken(t)}`]);
    const eqOnly = (): void => {
      if (op.text !== '==' && op.text !== '!=') bad("expected '==' or '!='", op);
    };
    if (l.type === 'ident') {
      const name = l.text;
      if (name === 'kernel_v' || name === 'kernel_vr' || name === 'systemtap_v') {
        if (r.type !== 'string') bad('expected string literal', r);
        const target =
          name === 'kernel_vr' ? facts.kernelRelease : name === 'kernel_v' ? facts.kernelRelease.replace(/-.*$/, '') : facts.systemtapVersion;
        const query = unquote(r.text);
        if (/[*?[]/.test(query)) {
          if (op.text !== '==' && op.text !== '!=') bad('wildcard not allowed with order comparison operators', op);
          return fnmatch(query, target) === (op.text === '==');
        }
        return cmp(strverscmp(target, query), op.text);
      }
      if (name === 'arch' || name === 'runtime' || name === 'systemtap_privilege') {
        if (r.type !== 'string') bad('expected string literal', r);
        eqOnly();
        const target = name === 'arch' ? facts.arch : name === 'runtime' ? facts.runtime : facts.privilege;
        const match = name === 'systemtap_privilege' ? target === unquote(r.text) : fnmatch(unquote(r.text), target);
        return match === (op.text === '==');
      }
      if (name === 'guru_mode') {
        if (r.type !== 'number') bad('expected number', r);
        if (r.text !== '0' && r.text !== '1') bad('expected 0 or 1', r);
        eqOnly();
        return cmp((facts.guru ? 1 : 0) - Number(r.text), op.text);
      }
      if (name.startsWith('CONFIG_')) {
        const lhs = facts.config.get(name) ?? '';
        if (r.type === 'string') {
          eqOnly();
          return fnmatch(unquote(r.text), lhs) === (op.text === '==');
        }
        if (r.type === 'number') {
          // An unset option reads as the empty string, which strtoll takes as 0.
          const n = lhs === '' ? 0n : parseCNumber(lhs);
          if (n === undefined) bad('config option value not a number', l);
          return cmp(Math.sign(Number(n! - parseCNumber(r.text)!)), op.text);
        }
        if (r.type === 'ident' && r.text.startsWith('CONFIG_')) {
          const rhs = facts.config.get(r.text) ?? '';
          const a = lhs === '' ? 0n : parseCNumber(lhs);
          const b = rhs === '' ? 0n : parseCNumber(rhs);
          if (a !== undefined && b !== undefined) return cmp(Math.sign(Number(a - b)), op.text);
          return cmp(lhs < rhs ? -1 : lhs > rhs ? 1 : 0, op.text);
        }
        bad('expected string, number literal or other CONFIG_... as right side operand', r);
      }
      bad("expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v', 'runtime', 'systemtap_privilege', 'guru_mode', 'CONFIG_...', or a comparison between strings or integers", l);
    }
    if (l.type === 'string' && r.type === 'string') {
      const a = unquote(l.text);
      const b = unquote(r.text);
      return cmp(a < b ? -1 : a > b ? 1 : 0, op.text);
    }
    if (l.type === 'number' && r.type === 'number') {
      const a = parseCNumber(l.text);
      const b = parseCNumber(r.text);
      if (a === undefined) bad('invalid number', l);
      if (b === undefined) bad('invalid number', r);
      return cmp(Math.sign(Number(a! - b!)), op.text);
    }
    if (l.type === 'string') bad('expected string literal as right value', r);
    if (l.type === 'number') bad('expected number literal as right value', r);
    return bad('expected a condition', l);
  };

  try {
    if (diagnostics.some((d) => d.severity === 'error')) throw new PpError(diagnostics.shift()!);
    expand(lexed.tokens, undefined, 0, emitted);
  } catch (e) {
    if (!(e instanceof PpError)) throw e;
    diagnostics.unshift(e.diagnostic);
    return { text: '', tokens: [], diagnostics, macros, spanOf: () => file.span(0, 0), commentBetween: () => false };
  }
  return assemble(file, emitted, diagnostics, macros);
}

/** Joins emitted tokens into text: contiguous runs copy the original spacing (comments blanked), others get one blank. */
function assemble(file: SourceFile, emitted: readonly Token[], diagnostics: Diagnostic[], macros: Map<string, Macro>): PpOutput {
  const pieces: string[] = [];
  let length = 0;
  const segments: { out: number; len: number; file: SourceFile; src: number; synthetic: boolean; srcEnd: number }[] = [];
  const tokens: { token: Token; out: number }[] = [];
  /** Output offsets of gaps that held comments (blanked here; `--compatible` < 2.0 string gluing needs to know). */
  const commentGaps: number[] = [];
  let prev: Token | undefined;
  for (const t of emitted) {
    const contiguous = prev && !prev.synthetic && !t.synthetic && prev.file === t.file && t.index === prev.index + 1;
    if (contiguous) {
      const last = segments[segments.length - 1]!;
      let gap = t.file.text.slice(prev!.end, t.start);
      // Comments become blanks of the same length: offsets stay valid and the grammar never sees them.
      if (/[#/]/.test(gap)) {
        commentGaps.push(length);
        gap = gap.replace(/[^\s]/g, ' ');
      }
      pieces.push(gap, t.file.text.slice(t.start, t.end));
      tokens.push({ token: t, out: length + gap.length });
      const added = gap.length + (t.end - t.start);
      last.len += added;
      last.srcEnd = t.end;
      length += added;
    } else {
      if (length > 0) {
        pieces.push(' ');
        length += 1;
      }
      const text = t.synthetic ? t.text : t.file.text.slice(t.start, t.end);
      tokens.push({ token: t, out: length });
      segments.push({ out: length, len: text.length, file: t.file, src: t.start, synthetic: !!t.synthetic, srcEnd: t.end });
      pieces.push(text);
      length += text.length;
    }
    prev = t;
  }
  const text = pieces.join('');
  const locate = (off: number, isEnd: boolean): { file: SourceFile; offset: number } => {
    if (segments.length === 0) return { file, offset: 0 };
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]!.out <= off - (isEnd ? 1 : 0)) lo = mid;
      else hi = mid - 1;
    }
    const s = segments[lo]!;
    if (s.synthetic) return { file: s.file, offset: isEnd ? s.srcEnd : s.src };
    const rel = Math.min(Math.max(off - s.out, 0), s.len);
    return { file: s.file, offset: s.src + rel };
  };
  const spanOf = (start: number, end: number): Span => {
    const a = locate(start, false);
    const b = end > start ? locate(end, true) : a;
    const { line, col } = a.file.lineCol(a.offset);
    return { file: a.file.name, line, col, offset: a.offset, end: b.file === a.file ? Math.max(b.offset, a.offset) : a.offset };
  };
  const commentBetween = (start: number, end: number): boolean => commentGaps.some((g) => g >= start && g < end);
  return { text, tokens, diagnostics, macros, spanOf, commentBetween };
}

function cmp(sign: number, op: string): boolean {
  switch (op) {
    case '==': return sign === 0;
    case '!=': return sign !== 0;
    case '<': return sign < 0;
    case '>': return sign > 0;
    case '<=': return sign <= 0;
    case '>=': return sign >= 0;
    default: return false;
  }
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** strtoll(…, 0)-style integer parsing; undefined when not a whole number. */
export function parseCNumber(s: string): bigint | undefined {
  const t = s.trim();
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(t);
  if (!m) return undefined;
  const body = m[2]!;
  const v = body.length > 1 && body[0] === '0' && !/^0[xX]/.test(body) ? BigInt('0o' + body.slice(1)) : BigInt(body);
  return m[1] === '-' ? -v : v;
}

/** glibc fnmatch without flags: `*`, `?`, `[...]`. */
export function fnmatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, close);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$', 's').test(s);
  } catch {
    return pattern === s;
  }
}

/** glibc strverscmp: digit runs compare numerically (runs with leading zeros as fractions). */
export function strverscmp(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const fx = x.startsWith('0');
      const fy = y.startsWith('0');
      if (fx !== fy) return fx ? -1 : 1;
      if (fx) return x < y ? -1 : 1;
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return Math.sign(pa.length - pb.length);
}
