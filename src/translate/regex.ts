// `s =~ "ERE"`: POSIX extended regular expressions compiled at translate time into a DFA over byte
// classes, emitted as C tables that a small loop walks (no regex library, no allocation in the kernel).

/** A syntax error in a pattern, with the position in it. */
export class RegexError extends Error {}

type Node =
  | { t: 'set'; set: Uint8Array } // one byte from a set (256 flags)
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; item: Node; min: number; max: number } // max -1: unbounded
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'empty' };

const CLASSES: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: (c) => c >= 48 && c <= 57,
  alnum: (c) => CLASSES.alpha!(c) || CLASSES.digit!(c),
  upper: (c) => c >= 65 && c <= 90,
  lower: (c) => c >= 97 && c <= 122,
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  blank: (c) => c === 32 || c === 9,
  punct: (c) => c > 32 && c < 127 && !CLASSES.alnum!(c),
  print: (c) => c >= 32 && c < 127,
  graph: (c) => c > 32 && c < 127,
  cntrl: (c) => c < 32 || c === 127,
  xdigit: (c) => CLASSES.digit!(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

/** Most states a pattern's DFA may have (the table is states x byte classes). */
const MAX_STATES = 512;
/** Most copies a bounded repetition may expand to. */
const MAX_REPEAT = 255;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.s.length) throw new RegexError(`unmatched ')' at position ${this.i + 1}`);
    return n;
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.s[this.i] === '|') {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.repeat());
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private repeat(): Node {
    let n = this.atom();
    for (;;) {
      const c = this.s[this.i];
      if (c === '*' || c === '+' || c === '?') {
        this.i++;
        n = { t: 'rep', item: n, min: c === '+' ? 1 : 0, max: c === '?' ? 1 : -1 };
      } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.s.slice(this.i))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i))!;
        this.i += m[0].length;
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        if (max !== -1 && max < min) throw new RegexError(`bad repetition ${m[0]}: the maximum is below the minimum`);
        if (min > MAX_REPEAT || max > MAX_REPEAT) throw new RegexError(`repetition ${m[0]} is too large (at most ${MAX_REPEAT})`);
        n = { t: 'rep', item: n, min, max };
      } else {
        return n;
      }
    }
  }

  private atom(): Node {
    const c = this.s[this.i++]!;
    switch (c) {
      case '(': {
        const n = this.s[this.i] === ')' ? ({ t: 'empty' } as Node) : this.alt();
        if (this.s[this.i] !== ')') throw new RegexError(`unmatched '(' (the pattern ends before its ')')`);
        this.i++;
        return n;
      }
      case '.': {
        const set = new Uint8Array(256).fill(1);
        set[0] = 0;
        return { t: 'set', set };
      }
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '[':
        return this.bracket();
      case '*':
      case '+':
      case '?':
        throw new RegexError(`'${c}' at position ${this.i} has nothing to repeat`);
      case '\\': {
        if (this.i >= this.s.length) throw new RegexError('the pattern ends with a lone backslash');
        return single(this.s.charCodeAt(this.i++) & 0xff);
      }
      default:
        return single(c.charCodeAt(0) & 0xff);
    }
  }

  private bracket(): Node {
    const set = new Uint8Array(256);
    let negate = false;
    if (this.s[this.i] === '^') {
      negate = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      if (this.i >= this.s.length) throw new RegexError("unmatched '[' (the pattern ends before its ']')");
      const c = this.s[this.i]!;
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[' && this.s[this.i + 1] === ':') {
        const end = this.s.indexOf(':]', this.i + 2);
        const name = end < 0 ? '' : this.s.slice(this.i + 2, end);
        const test = CLASSES[name];
        if (!test) throw new RegexError(`unknown character class [:${name}:]`);
        for (let b = 0; b < 256; b++) if (test(b)) set[b] = 1;
        this.i = end + 2;
        continue;
      }
      const lo = this.s.charCodeAt(this.i++) & 0xff;
      if (this.s[this.i] === '-' && this.s[this.i + 1] !== undefined && this.s[this.i + 1] !== ']') {
        const hi = this.s.charCodeAt(this.i + 1) & 0xff;
        if (hi < lo) throw new RegexError(`bad range ${String.fromCharCode(lo)}-${String.fromCharCode(hi)} in a bracket expression`);
        for (let b = lo; b <= hi; b++) set[b] = 1;
        this.i += 2;
      } else {
        set[lo] = 1;
      }
    }
    if (negate) for (let b = 0; b < 256; b++) set[b] = set[b] ? 0 : 1;
    set[0] = 0;
    return { t: 'set', set };
  }
}

function single(b: number): Node {
  const set = new Uint8Array(256);
  set[b] = 1;
  return { t: 'set', set };
}

// ---- Thompson NFA ----

type NState = { k: 'set'; set: Uint8Array; out: number } | { k: 'split'; a: number; b: number } | { k: 'eps'; out: number } | { k: 'bol'; out: number } | { k: 'eol'; out: number } | { k: 'match' };

class Nfa {
  readonly states: NState[] = [];

  add(s: NState): number {
    this.states.push(s);
    if (this.states.length > MAX_STATES * 8) throw new RegexError('the pattern is too large');
    return this.states.length - 1;
  }

  /** Builds `n` so that it continues to state `next`; returns its entry state. */
  build(n: Node, next: number): number {
    switch (n.t) {
      case 'set':
        return this.add({ k: 'set', set: n.set, out: next });
      case 'empty':
        return next;
      case 'bol':
        return this.add({ k: 'bol', out: next });
      case 'eol':
        return this.add({ k: 'eol', out: next });
      case 'cat': {
        let s = next;
        for (let i = n.items.length - 1; i >= 0; i--) s = this.build(n.items[i]!, s);
        return s;
      }
      case 'alt': {
        let s = this.build(n.items[n.items.length - 1]!, next);
        for (let i = n.items.length - 2; i >= 0; i--) s = this.add({ k: 'split', a: this.build(n.items[i]!, next), b: s });
        return s;
      }
      case 'rep': {
        // Optional copies after the required ones, or a loop when unbounded.
        let s = next;
        if (n.max === -1) {
          const loop = this.add({ k: 'split', a: -1, b: next });
          const body = this.build(n.item, loop);
          (this.states[loop] as { a: number }).a = body;
          s = loop;
        } else {
          // x{2,4} = x x (x (x)?)?: skipping one optional copy skips the rest.
          for (let i = n.min; i < n.max; i++) s = this.add({ k: 'split', a: this.build(n.item, s), b: next });
        }
        for (let i = 0; i < n.min; i++) s = this.build(n.item, s);
        return s;
      }
    }
  }
}

export interface CompiledRegex {
  /** Byte -> class (256 entries). */
  classOf: number[];
  nclasses: number;
  /** states x nclasses next states; -1: dead. */
  next: number[];
  nstates: number;
  /** Per state: 1 when a match has been found (anywhere), 2 when one is found if the input ends here. */
  accept: number[];
}

/**
 * Compiles an ERE for unanchored search ("does the string contain a match"), as `=~` asks:
 * a DFA whose states are sets of NFA states, the start set re-entered at every position.
 */
export function compileRegex(pattern: string): CompiledRegex {
  const ast = new Parser(pattern).parse();
  const nfa = new Nfa();
  const match = nfa.add({ k: 'match' });
  const start = nfa.build(ast, match);
  const S = nfa.states;

  // Byte classes: bytes that every set treats alike.
  const sigs = new Map<string, number>();
  const classOf: number[] = [];
  const sets = S.filter((s): s is Extract<NState, { k: 'set' }> => s.k === 'set').map((s) => s.set);
  for (let b = 0; b < 256; b++) {
    const sig = sets.map((set) => set[b]).join('');
    let c = sigs.get(sig);
    if (c === undefined) sigs.set(sig, (c = sigs.size));
    classOf.push(c);
  }
  const nclasses = sigs.size;
  const rep: number[] = [];
  classOf.forEach((c, b) => {
    if (rep[c] === undefined) rep[c] = b;
  });

  const closure = (from: number[], atStart: boolean, atEnd: boolean): number[] => {
    const seen = new Set<number>();
    const stack = [...from];
    while (stack.length) {
      const i = stack.pop()!;
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      const s = S[i]!;
      if (s.k === 'split') stack.push(s.a, s.b);
      else if (s.k === 'eps') stack.push(s.out);
      else if (s.k === 'bol' && atStart) stack.push(s.out);
      else if (s.k === 'eol' && atEnd) stack.push(s.out);
    }
    return [...seen].sort((a, b) => a - b);
  };
  const startAt0 = closure([start], true, false);
  const startLater = closure([start], false, false);

  const ids = new Map<string, number>();
  const sets2: number[][] = [];
  const intern = (set: number[]): number => {
    const key = set.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      if (sets2.length >= MAX_STATES) throw new RegexError(`the pattern needs more than ${MAX_STATES} automaton states; simplify it`);
      ids.set(key, (id = sets2.length));
      sets2.push(set);
    }
    return id;
  };
  intern(startAt0);
  const next: number[] = [];
  const accept: number[] = [];
  for (let d = 0; d < sets2.length; d++) {
    const set = sets2[d]!;
    const found = set.includes(match);
    accept[d] = found ? 1 : closure(set, false, true).includes(match) ? 2 : 0;
    for (let c = 0; c < nclasses; c++) {
      if (found) {
        next[d * nclasses + c] = d; // a match was found: stay (the caller stops anyway)
        continue;
      }
      const b = rep[c]!;
      const moved: number[] = [];
      for (const i of set) {
        const s = S[i]!;
        if (s.k === 'set' && s.set[b]) moved.push(s.out);
      }
      // Unanchored: a match may also start at the next position.
      const target = [...new Set([...closure(moved, false, false), ...startLater])].sort((x, y) => x - y);
      next[d * nclasses + c] = intern(target);
    }
  }
  return { classOf, nclasses, next, nstates: sets2.length, accept };
}

/**
 * C for one compiled pattern: static tables and a function `NAME(const char *s)` returning 1
 * when `s` contains a match. The loop is bounded by the string (at most MAXSTRINGLEN bytes).
 */
export function regexC(name: string, pattern: string, re: CompiledRegex): string {
  const type = re.nstates <= 255 ? 'u8' : 'u16';
  const rows: string[] = [];
  for (let d = 0; d < re.nstates; d++) rows.push('\t' + re.next.slice(d * re.nclasses, (d + 1) * re.nclasses).join(', ') + ',');
  const comment = pattern.replace(/\*\//g, '* /').replace(/[^\x20-\x7e]/g, '?');
  return [
    `/* regex ${JSON.stringify(comment)}: DFA of ${re.nstates} states over ${re.nclasses} byte classes */`,
    `static const u8 ${name}_class[256] = { ${re.classOf.join(', ')} };`,
    `static const u8 ${name}_accept[${re.nstates}] = { ${re.accept.join(', ')} };`,
    `static const ${type} ${name}_next[${re.nstates * re.nclasses}] = {`,
    ...rows,
    '};',
    `static __maybe_unused long ${name}(const char *s)`,
    '{',
    `\tunsigned int d = 0;`,
    `\tsize_t i;`,
    '',
    `\tfor (i = 0; i < TAP_MAXSTRINGLEN && s[i]; i++) {`,
    `\t\tif (${name}_accept[d] == 1)`,
    `\t\t\treturn 1;`,
    `\t\td = ${name}_next[d * ${re.nclasses} + ${name}_class[(u8)s[i]]];`,
    `\t}`,
    `\treturn ${name}_accept[d] != 0;`,
    '}',
    '',
  ].join('\n');
}
