// The =~ compiler (src/translate/regex.ts): its DFA, walked here as the generated C walks it,
// against JavaScript's RegExp on patterns where ERE and JS agree. The kernel side runs in test/e2e.
import { describe, expect, it } from 'vitest';
import { compileRegex, RegexError, type CompiledRegex } from '../../src/translate/regex.js';

function search(re: CompiledRegex, s: string): boolean {
  let d = 0;
  for (const ch of Buffer.from(s, 'latin1')) {
    if (re.accept[d] === 1) return true;
    d = re.next[d * re.nclasses + re.classOf[ch]!]!;
  }
  return re.accept[d] !== 0;
}

const PATTERNS = ['abc', '^abc', 'abc$', '^$', 'a|b|cd', '(ab)+c', 'a*b?c+', 'x.y', '[a-c]+z', '[^a-c]', 'a{2}', 'a{2,3}$', '^a{2,}', '^(foo|foobar)baz$', '(a|ab)(c|bcd)(d*)', 'colou?r', '^[0-9]+(\\.[0-9]*)?$', '(^a|b$)', 'a\\+b', '()x'];
const INPUTS = ['', 'a', 'b', 'ab', 'abc', 'xabc', 'abcx', 'cd', 'ababc', 'aac', 'x-y', 'xzy', 'az', 'dz', 'aa', 'aaa', 'aaaa', 'foobaz', 'foobarbaz', 'foobarbaz!', 'abcd', 'color', 'colour', '12', '12.', '1.5', '.5', 'ba', 'a+b', 'aab', 'x'];

describe('ERE to DFA (=~)', () => {
  for (const p of PATTERNS) {
    it(`agrees with RegExp on ${p}`, () => {
      const re = compileRegex(p);
      const js = new RegExp(p);
      for (const s of INPUTS) expect(search(re, s), `${JSON.stringify(s)} =~ ${p}`).toBe(js.test(s));
    });
  }

  it('knows POSIX bracket classes and ] first in a bracket', () => {
    const re = compileRegex('^[[:alpha:]_][[:alnum:]_]*$');
    expect(['ab_1', '_x', 'x'].map((s) => search(re, s))).toEqual([true, true, true]);
    expect(['1ab', 'a-b', ''].map((s) => search(re, s))).toEqual([false, false, false]);
    const br = compileRegex('[]x]');
    expect([search(br, ']'), search(br, 'x'), search(br, 'y')]).toEqual([true, true, false]);
  });

  it('says what is wrong with a bad pattern', () => {
    expect(() => compileRegex('(ab')).toThrow(RegexError);
    expect(() => compileRegex('ab)')).toThrow(/unmatched '\)'/);
    expect(() => compileRegex('*a')).toThrow(/nothing to repeat/);
    expect(() => compileRegex('[z-a]')).toThrow(/bad range/);
    expect(() => compileRegex('[[:nope:]]')).toThrow(/unknown character class/);
    expect(() => compileRegex('a{3,1}')).toThrow(/below the minimum/);
  });

  it('keeps tables small: states are bounded', () => {
    const re = compileRegex('(a|b)*a(a|b){6}');
    expect(re.nstates).toBeLessThanOrEqual(512);
    expect(search(re, 'abbbbbbb')).toBe(true);
    expect(search(re, 'bbbbbbbb')).toBe(false);
  });
});
