// Unit tests of pure embedded-C tapset functions, compiled for user space with gcc over a small kernel shim.
import '../lang/helpers/ensure-parser.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FunctionDecl } from '../../src/lang/ast.js';
import { parseTapset, REPO, TAPSETS } from './helpers/tapsets.js';

let haveGcc = true;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  haveGcc = false;
}

type Arg = string | number | bigint;
interface Case { fn: string; args: Arg[]; want: string }

/** The top-level C of FILE without #include lines (the shim stands in for the headers), and its embedded functions. */
function load(file: string): { top: string; fns: FunctionDecl[] } {
  const { program } = parseTapset(join(TAPSETS, file));
  let top = '';
  const fns: FunctionDecl[] = [];
  for (const d of program?.decls ?? []) {
    if (d.kind === 'embeddedDecl') top += d.code.code.replace(/^#include .*$/gm, '') + '\n';
    if (d.kind === 'function' && d.body.kind === 'embedded') fns.push(d);
  }
  return { top, fns };
}

/** A C literal: strings byte by byte (char codes below 256), escaped in octal where not plain ASCII. */
function cLit(a: Arg): string {
  if (typeof a !== 'string') return `(int64_t)${a}LL`;
  let out = '"';
  for (const ch of a) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f && ch !== '"' && ch !== '\\' && ch !== '?') out += ch;
    else out += `\\${(c & 0xff).toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Builds one program that runs every case and prints "result" or "ERROR: message" per line. */
function run(files: string[], cases: Case[], extraTop = ''): string[] {
  let src = `#include "${join(REPO, 'test/tapsets/helpers/cshim.h')}"\n${extraTop}\n`;
  const fns = new Map<string, FunctionDecl>();
  for (const f of files) {
    const { top, fns: list } = load(f);
    src += top;
    for (const fn of list) fns.set(`${fn.name}/${fn.params.length}`, fn);
  }
  const wanted = new Set(cases.map((c) => `${c.fn}/${c.args.length}`));
  for (const [key, fn] of fns) {
    // only the functions under test: the others may need kernel structures the shim lacks
    if (!wanted.has(key)) continue;
    const params = fn.params.map((p) => (p.type === 'string' ? `const char *STAP_ARG_${p.name}` : `int64_t STAP_ARG_${p.name}`));
    const ret = fn.returnType === 'string' ? 'char *STAP_RETVALUE' : 'int64_t *tapsh_retp';
    const body = fn.body.kind === 'embedded' ? fn.body.code : '';
    src += `static void f_${fn.name}_${fn.params.length}(${[...params, ret].join(', ')})\n{\n`;
    if (fn.returnType !== 'string') src += '#define STAP_RETVALUE (*tapsh_retp)\n';
    src += `{\n${body}\n}\n\tgoto out;\nout:\n\t;\n}\n#undef STAP_RETVALUE\n`;
  }
  src += 'int main(void)\n{\n\tchar buf[MAXSTRINGLEN];\n\tint64_t v;\n';
  for (const c of cases) {
    const fn = fns.get(`${c.fn}/${c.args.length}`);
    if (!fn) throw new Error(`no embedded function ${c.fn}/${c.args.length}`);
    const args = c.args.map(cLit);
    src += '\ttapsh_error_raised = 0;\n';
    if (fn.returnType === 'string') src += `\tbuf[0] = 0;\n\tf_${c.fn}_${c.args.length}(${[...args, 'buf'].join(', ')});\n\tif (tapsh_error_raised) printf("ERROR: %s\\n", tapsh_error_msg); else printf("%s\\n", buf);\n`;
    else src += `\tv = 0;\n\tf_${c.fn}_${c.args.length}(${[...args, '&v'].join(', ')});\n\tif (tapsh_error_raised) printf("ERROR: %s\\n", tapsh_error_msg); else printf("%lld\\n", (long long)v);\n`;
  }
  src += '\treturn 0;\n}\n';
  const dir = mkdtempSync(join(tmpdir(), 'tapsh-cunit-'));
  writeFileSync(join(dir, 't.c'), src);
  execFileSync('gcc', ['-O1', '-Wall', '-Wno-unused-label', '-Wno-unused-function', '-o', join(dir, 't'), join(dir, 't.c')], { stdio: 'pipe' });
  return execFileSync(join(dir, 't'), { encoding: 'utf8' }).split('\n').slice(0, cases.length);
}

function check(files: string[], cases: Case[], extraTop = ''): void {
  const got = run(files, cases, extraTop);
  const table = (vals: string[]) => cases.map((c, i) => `${c.fn}(${c.args.map((a) => JSON.stringify(String(a))).join(', ')}) = ${vals[i]}`);
  expect(table(got)).toEqual(table(cases.map((c) => c.want)));
}

describe.skipIf(!haveGcc)('embedded C, compiled for user space', () => {
  it('strings', () => {
    check(['string.stp'], [
      { fn: 'strlen', args: ['hello'], want: '5' },
      { fn: 'substr', args: ['hello', 1, 3], want: 'ell' },
      { fn: 'substr', args: ['hello', 3, 10], want: 'lo' },
      { fn: 'substr', args: ['hello', 9, 2], want: '' },
      { fn: 'strpos', args: ['hello', 'l'], want: '2' },
      { fn: 'strpos', args: ['hello', 'z'], want: '-1' },
      { fn: 'isinstr', args: ['hello', 'ell'], want: '1' },
      { fn: 'str_replace', args: ['aXbXc', 'X', 'yy'], want: 'ayybyyc' },
      { fn: 'str_replace', args: ['abc', '', 'z'], want: 'abc' },
      { fn: 'str_replace', args: ['XX', 'X', ''], want: '' },
      { fn: 'stringat', args: ['AB', 1], want: '66' },
      { fn: 'stringat', args: ['AB', 2], want: 'ERROR: position 2 out of bounds in stringat' },
      { fn: 'strtol', args: ['0x1f', 16], want: '31' },
      { fn: 'strtol', args: [' 42abc', 10], want: '42' },
      { fn: 'strtol', args: ['777', 8], want: '511' },
      { fn: 'isdigit', args: ['7up'], want: '1' },
      { fn: 'isdigit', args: ['up'], want: '0' },
    ]);
  });

  it('tokenize keeps its place between calls and skips empty tokens', () => {
    check(['string.stp'], [
      { fn: '__tokenize_start', args: ['a,,b c'], want: '0' },
      { fn: 'tokenize', args: [', '], want: 'a' },
      { fn: 'tokenize', args: [', '], want: 'b' },
      { fn: 'tokenize', args: [', '], want: 'c' },
      { fn: 'tokenize', args: [', '], want: '' },
    ]);
  });

  it('quoting and escaping', () => {
    check(['conversions.stp'], [
      { fn: 'string_quoted', args: ['a\nb"c\\'], want: '"a\\nb\\"c\\\\"' },
      { fn: 'string_quoted', args: ['\x01\x7f\xc3'], want: '"\\001\\177\\303"' },
      { fn: 'text_str', args: ['tab\there'], want: 'tab\\there' },
      { fn: 'text_strn', args: ['abcdef', 3, 1], want: '"abc"' },
      { fn: 'text_strn', args: ['abcdef', 0, 0], want: 'abcdef' },
      { fn: 'string_quoted', args: ['x'.repeat(600)], want: `"${'x'.repeat(MAXSTRINGLEN - 6)}"...` },
    ]);
  });

  it('error numbers and signals', () => {
    check(['errno.stp', 'signal.stp'], [
      { fn: 'errno_str', args: [-2], want: 'ENOENT' },
      { fn: 'errno_str', args: [13], want: 'EACCES' },
      { fn: 'errno_str', args: [-4000], want: '-4000' },
      { fn: 'signal_str', args: [9], want: 'SIGKILL' },
      { fn: 'signal_str', args: [34], want: 'SIGRTMIN+2' },
      { fn: 'sa_flags_str', args: [0x10000000 | 0x4], want: 'SA_SIGINFO|SA_RESTART' },
    ], `#include <signal.h>\n#define SA_RESTORER 0x04000000\n${KERNEL_ERRNOS}`);
  });

  it('ctime', () => {
    check(['time.stp'], [
      { fn: 'ctime', args: [0], want: 'Thu Jan  1 00:00:00 1970' },
      { fn: 'ctime', args: [741476948], want: 'Wed Jun 30 21:49:08 1993' },
    ]);
  });

  it('floating point (SSE2 on x86_64)', () => {
    const pi = 4614253070214989087n; // 3.14
    const b = 4622500287032611308n; // 11.21
    const fp = (op: number, x: bigint, y = 0n): Case => ({ fn: '__fp', args: [op, x, y], want: '' });
    const cases: Case[] = [
      { fn: 'fp_to_string', args: [pi, 5], want: '3.14000' },
      { fn: 'string_to_fp', args: ['3.14'], want: String(pi) },
      { fn: 'string_to_fp', args: ['1e300'], want: '' },
      { fn: 'fp_to_long', args: [pi, 0, 0], want: '3' },
      { fn: 'fp_to_long', args: [pi, 0, 1], want: 'ERROR: fp_to_long: value is not an integer' },
      { ...fp(0, b, pi), want: '4624418566376800666' }, // 14.35
      { ...fp(7, pi, pi), want: '1' },
      { ...fp(8, pi, b), want: '1' },
      { ...fp(9, b, pi), want: '0' },
    ];
    const got = run(['x86_64/floatingpoint.stp'], cases, '');
    expect(got[0]).toBe('3.14000');
    expect(got[1]).toBe(String(pi));
    expect(got[3]).toBe('3');
    expect(got[4]).toBe('ERROR: fp_to_long: value is not an integer');
    expect(got.slice(6)).toEqual(['1', '1', '0']);
    const sum = run(['x86_64/floatingpoint.stp'], [{ fn: 'fp_to_string', args: [BigInt(got[5]!), 2], want: '' }]);
    expect(sum).toEqual(['14.35']);
  });
});

const MAXSTRINGLEN = 512;

/* The kernel-internal error numbers (include/linux/errno.h), which user-space headers lack. */
const KERNEL_ERRNOS = [
  'ERESTARTSYS 512', 'ERESTARTNOINTR 513', 'ERESTARTNOHAND 514', 'ENOIOCTLCMD 515', 'ERESTART_RESTARTBLOCK 516',
  'EPROBE_DEFER 517', 'EOPENSTALE 518', 'ENOPARAM 519', 'EBADHANDLE 521', 'ENOTSYNC 522', 'EBADCOOKIE 523',
  'ENOTSUPP 524', 'ETOOSMALL 525', 'ESERVERFAULT 526', 'EBADTYPE 527', 'EJUKEBOX 528', 'EIOCBQUEUED 529',
  'ERECALLCONFLICT 530', 'ENOGRACE 531',
].map((d) => `#define ${d}\n`).join('');
