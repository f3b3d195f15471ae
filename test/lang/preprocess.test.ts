// Preprocessor behaviour: condition facts, macros (script and .stpm), arguments, language-level gating, spans.
import './helpers/ensure-parser.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, printProgram, renderDiagnostics, type ParseScriptInput } from '../../src/lang/pass1.js';
import { fnmatch, strverscmp } from '../../src/lang/preprocess.js';
import type { KernelIdentity } from '../../src/remote/model.js';

const KERNEL: KernelIdentity = { release: '5.10.0-28-arm64', arch: 'aarch64', buildId: '', version: '', vermagic: '' };

function p1(text: string, more: Partial<ParseScriptInput> = {}) {
  const r = parseScript({ text, fileName: 't.stp', scriptArgs: [], includeDirs: [], guru: false, kernel: KERNEL, tapsetDirs: [], ...more });
  return { ...r, printed: r.program ? printProgram(r.program) : '', errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message) };
}

/** Which branch a condition takes: "T" or "F". */
function cond(c: string, more: Partial<ParseScriptInput> = {}): string {
  const r = p1(`%( ${c} %? global T %: global F %)`, more);
  if (r.errors.length) return `error: ${r.errors[0]}`;
  return r.printed.trim().replace('global ', '');
}

describe('strverscmp and fnmatch', () => {
  it('orders versions numerically', () => {
    expect(strverscmp('5.10.0', '5.9')).toBe(1);
    expect(strverscmp('2.6.32', '2.6.32')).toBe(0);
    expect(strverscmp('3.0', '3.0.1')).toBe(-1);
    expect(strverscmp('1.10', '1.9')).toBe(1);
  });
  it('matches shell wildcards', () => {
    expect(fnmatch('5.10*', '5.10.0-28-arm64')).toBe(true);
    expect(fnmatch('x86_?4', 'x86_64')).toBe(true);
    expect(fnmatch('[ax]*86', 'i386')).toBe(false);
    expect(fnmatch('[!x]*', 'arm64')).toBe(true);
  });
});

describe('conditions', () => {
  it('kernel_v and kernel_vr come from the kernel identity', () => {
    expect(cond('kernel_v == "5.10.0"')).toBe('T');
    expect(cond('kernel_v >= "5.9"')).toBe('T');
    expect(cond('kernel_v < "4.19"')).toBe('F');
    expect(cond('kernel_vr == "5.10.0-28*"')).toBe('T');
    expect(cond('kernel_vr != "*-amd64"')).toBe('T');
    expect(cond('kernel_v > "5.*"')).toMatch(/wildcard not allowed/);
  });
  it('arch uses stap names', () => {
    expect(cond('arch == "arm64"')).toBe('T');
    expect(cond('arch == "x86_64" || arch == "arm*"')).toBe('T');
    expect(cond('arch < "x"')).toMatch(/expected '==' or '!='/);
  });
  it('guru_mode, runtime, privilege, systemtap_v', () => {
    expect(cond('guru_mode == 1', { guru: true })).toBe('T');
    expect(cond('guru_mode == 1')).toBe('F');
    expect(cond('runtime == "kernel"')).toBe('T');
    expect(cond('systemtap_privilege != "stapusr"')).toBe('T');
    expect(cond('systemtap_v >= "4.0"')).toBe('T');
    expect(cond('systemtap_v >= "4.0"', { compatible: '3.3' })).toBe('F');
  });
  it('CONFIG_ options from the config map', () => {
    const config = new Map([['CONFIG_SMP', 'y'], ['CONFIG_NR_CPUS', '64'], ['CONFIG_HZ', '0x100']]);
    expect(cond('CONFIG_SMP == "y"', { config })).toBe('T');
    expect(cond('CONFIG_SMP == "[ym]" && CONFIG_NR_CPUS > 32', { config })).toBe('T');
    expect(cond('CONFIG_HZ == 256', { config })).toBe('T');
    expect(cond('CONFIG_NR_CPUS < CONFIG_HZ', { config })).toBe('T');
    expect(cond('CONFIG_MISSING == "y"', { config })).toBe('F');
    expect(cond('CONFIG_MISSING > 3', { config })).toBe('F');
    expect(cond('CONFIG_MISSING == 0', { config })).toBe('T');
    expect(cond('CONFIG_SMP > 3', { config })).toMatch(/not a number/);
  });
  it('argument counts, literals, grouping', () => {
    expect(cond('$# == 2 && @# == "2"', { scriptArgs: ['a', 'b'] })).toBe('T');
    expect(cond('(1 == 2 || 2 == 2) && "a" < "b"')).toBe('T');
    expect(cond('1 == "1"')).toMatch(/expected number literal/);
    expect(cond('1 ==')).toMatch(/expected a string or number/);
  });
  it('skipped branches are not expanded or evaluated', () => {
    expect(p1('%( 1 == 0 %? probe begin { print($9) } %( nonsense %? %) %: probe begin {} %)').errors).toEqual([]);
  });
});

describe('macros', () => {
  it('expands nested, parameterised macros with arguments containing commas in parentheses', () => {
    const r = p1('@define add(a, b) %( (@a + @b) %)\n@define twice(x) %( @add(@x, @x) %)\nprobe begin { y = @twice(f(1, 2)) }');
    expect(r.errors).toEqual([]);
    expect(r.printed).toContain('y = f(1, 2) + f(1, 2);');
  });
  it('rejects runaway recursion without overflowing the stack', () => {
    const r = p1('@define loop %( @loop %)\nprobe begin { x = @loop }');
    expect(r.errors[0]).toMatch(/expands into itself/);
  });
  it('warns when a macro shadows a built-in @ operator', () => {
    const r = p1('@define sum(x) %( @x %)\nprobe begin { print(@sum(1)) }');
    expect(r.errors).toEqual([]);
    expect(r.diagnostics[0]!.message).toMatch(/shadows the built-in @sum/);
  });
  it('loads macros from .stpm files in the tapset path; the script wins over the library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-stpm-'));
    mkdirSync(join(dir, 'linux'));
    writeFileSync(join(dir, 'a.stpm'), '@define lib_one %( 1 %)\n%( arch == "arm64" %? @define lib_arch %( "arm" %) %)\n');
    writeFileSync(join(dir, 'linux', 'b.stpm'), '@define lib_two(x) %( (@x * 2) %)\n@define mine %( "library" %)\n');
    const r = p1('@define mine %( "script" %)\nprobe begin { println(@lib_one, @lib_arch, @lib_two(3), @mine) }', { tapsetDirs: [dir] });
    expect(r.errors).toEqual([]);
    expect(r.printed).toContain('println(1, "arm", 3 * 2, "script");');
  });
  it('-I directories add macro files after the package ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-stpm-'));
    writeFileSync(join(dir, 'x.stpm'), '@define from_include %( 7 %)\n');
    expect(p1('probe begin { x = @from_include }', { includeDirs: [dir] }).errors).toEqual([]);
  });
});

describe('script arguments', () => {
  it('$N expands to tokens, @N to a string', () => {
    const r = p1('probe $1 { x = $2 + 1; s = @2 . @3 }', { scriptArgs: ['begin', '41', 'a"b'] });
    expect(r.errors).toEqual([]);
    expect(r.printed).toContain('x = 41 + 1;');
    expect(r.printed).toContain('s = "41" . "a\\"b";');
  });
  it('an argument may not refer to another argument', () => {
    expect(p1('probe begin { x = $1 }', { scriptArgs: ['$1'] }).errors[0]).toMatch(/expands to another argument/);
  });
  it('out-of-range and malformed references are errors', () => {
    expect(p1('probe begin { x = $2 }', { scriptArgs: ['1'] }).errors[0]).toMatch(/index 2 out of range \[1-1\]/);
    expect(p1('probe begin { x = @0 }').errors[0]).toMatch(/index 0 out of range/);
  });
});

describe('language level (--compatible)', () => {
  it("'private' is a keyword from 3.0", () => {
    expect(p1('global private\nprobe begin {}').errors[0]).toMatch(/expected identifier, saw identifier 'private'/);
    expect(p1('global private\nprobe begin {}', { compatible: '2.9' }).errors).toEqual([]);
  });
  it('before 2.0 adjacent strings glue only across blanks, not comments', () => {
    const src = 'probe begin { f("a" /* c */ "b") }';
    expect(p1(src).printed).toContain('f("ab");');
    expect(p1(src, { compatible: '1.8' }).errors.length).toBeGreaterThan(0);
    expect(p1('probe begin { x = "a"  "b" }', { compatible: '1.8' }).errors).toEqual([]);
  });
});

describe('spans and rendering', () => {
  it('map errors inside macro bodies back to the definition', () => {
    const r = p1('@define bad %( (1 + ) %)\n\nprobe begin { x = @bad }');
    expect(r.diagnostics[0]!.span).toMatchObject({ file: 't.stp', line: 1, col: 21 });
  });
  it('point at the original line after dropped conditional text', () => {
    const r = p1('%( 1 == 0 %?\nprobe x {}\n%:\nprobe begin {\n  x = = 1\n}\n%)');
    expect(r.diagnostics[0]!.span).toMatchObject({ line: 5, col: 7 });
  });
  it('renders file:line:col, the source line and a caret that respects tabs', () => {
    const r = p1('probe begin {\n\tx = )\n}');
    expect(renderDiagnostics(r.diagnostics, r.sources)).toBe(
      "parse error: expected expression, saw ')' [TS2001]\n" +
        '        at: t.stp:2:6\n' +
        '     source: \tx = )\n' +
        '             \t    ^\n',
    );
  });
  it('every node span lies inside the file', () => {
    const text = '@define m(a) %( @a + 1 %)\nprobe begin { if (x) y = @m(2) else z = "s" "t" }\n';
    const r = p1(text);
    const seen: number[] = [];
    JSON.stringify(r.program, (k, v) => {
      if (k === 'span') {
        expect(v.offset).toBeGreaterThanOrEqual(0);
        expect(v.end).toBeLessThanOrEqual(text.length);
        expect(v.end).toBeGreaterThanOrEqual(v.offset);
        seen.push(v.offset);
      }
      return typeof v === 'bigint' ? String(v) : v;
    });
    expect(seen.length).toBeGreaterThan(10);
  });
});
