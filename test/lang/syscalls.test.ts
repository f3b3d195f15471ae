// syscall.* / nd_syscall.* aliases derived from a kernel model's syscall tracepoints (src/lang/syscalls.ts).
// Unit tests over a small hand-made model (the field layouts are those of Debian's 6.1 kernel); the
// lab-VM test in test/tapsets/syscalls-lab.test.ts runs them on the real kernel.
import './helpers/ensure-parser.js';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { elaborateScript, listProbePoints, type ElaborateScriptInput } from '../../src/lang/pass2.js';
import { printResolved } from '../../src/lang/print2.js';
import { renderDiagnostics } from '../../src/lang/pass1.js';
import { fieldKind, syscallShapes, syscallTapsets } from '../../src/lang/syscalls.js';
import type { KernelModel, Tracepoint, TracepointField } from '../../src/remote/model.js';

const TAPSETS = fileURLToPath(new URL('../../tapsets', import.meta.url));

function field(decl: string, offset: number): TracepointField {
  const name = /(\w+)(\[\d+\])?$/.exec(decl)![1]!;
  return { decl, name, offset, size: 8, signed: false, common: false };
}

function tp(event: string, decls: string[]): Tracepoint {
  const common = { decl: 'unsigned short common_type', name: 'common_type', offset: 0, size: 2, signed: false, common: true };
  const nr = { decl: 'int __syscall_nr', name: '__syscall_nr', offset: 8, size: 4, signed: true, common: false };
  return { system: 'syscalls', event, id: 1, fields: [common, nr, ...decls.map((d, i) => field(d, 16 + 8 * i))], printFmt: '' };
}

function model(): KernelModel {
  const tps: Tracepoint[] = [];
  const call = (name: string, decls: string[]): void => {
    tps.push(tp(`sys_enter_${name}`, decls), tp(`sys_exit_${name}`, ['long ret']));
  };
  call('openat', ['int dfd', 'const char * filename', 'int flags', 'umode_t mode']);
  call('open', ['const char * filename', 'int flags', 'umode_t mode']);
  call('close', ['unsigned int fd']);
  call('read', ['unsigned int fd', 'char * buf', 'size_t count']);
  call('pread64', ['unsigned int fd', 'char * buf', 'size_t count', 'loff_t pos']);
  call('kill', ['pid_t pid', 'int sig']);
  call('execve', ['const char * filename', 'const char *const * argv', 'const char *const * envp']);
  call('getpid', []);
  call('close_range', ['unsigned int fd', 'unsigned int max_fd', 'unsigned int flags']);
  for (const ev of ['sys_enter', 'sys_exit']) tps.push({ system: 'raw_syscalls', event: ev, id: 3, fields: [field('long id', 8), field(ev === 'sys_enter' ? 'unsigned long args[6]' : 'long ret', 16)], printFmt: '' });
  return {
    identity: { release: '6.1.0-test-amd64', arch: 'x86_64', buildId: '', version: '', vermagic: '' },
    capturedAt: '', capturedFrom: 'test', btfPath: '', btfSize: 0,
    functions: new Map([['__ia32_compat_sys_fstatfs64', { name: '__ia32_compat_sys_fstatfs64', module: '', traceable: true }]]),
    tracepoints: new Map(tps.map((t) => [`${t.system}:${t.event}`, t])),
  };
}

const kernel = model();
const base: Omit<ElaborateScriptInput, 'text' | 'fileName'> = {
  scriptArgs: [], includeDirs: [], guru: false, tapsetDirs: [TAPSETS], kernelModel: kernel,
  unoptimized: false, suppressWarnings: false, warningsAreErrors: false,
};

function elaborate(text: string): { out: string; errors: string; warnings: string } {
  const r = elaborateScript({ ...base, text, fileName: 't.stp' });
  const pick = (sev: string): string => renderDiagnostics(r.diagnostics.filter((d) => d.severity === sev), r.sources);
  return { out: r.resolved ? printResolved(r.resolved) : '', errors: pick('error'), warnings: pick('warning') };
}

/** The probe section of -p2 output: each derived point with the handler code that runs for it. */
function probes(out: string): string {
  return out.slice(out.indexOf('# probes'));
}

describe('syscall alias generation', () => {
  it('reads field types as stap would: sign-extended ints, strings, pointers', () => {
    const kinds = kernel.tracepoints.get('syscalls:sys_enter_openat')!.fields.filter((f) => !f.common).map(fieldKind);
    expect(kinds).toEqual(['s32', 's32', 'string', 's32', 'u16']);
    expect(fieldKind(field('const char *const * argv', 0))).toBe('pointer');
    expect(fieldKind(field('size_t count', 0))).toBe('u64');
  });

  it("uses stap's names where the tracepoint's differ (pread64 is syscall.pread)", () => {
    const names = syscallShapes(kernel).map((s) => s.name);
    expect(names).toContain('pread');
    expect(names).not.toContain('pread64');
    expect(names).toContain('close_range');
  });

  it('makes one entry and one return file per call, indexed under syscall and nd_syscall', () => {
    const files = syscallTapsets(kernel, TAPSETS);
    expect(files.map((f) => f.path)).toContain('<syscalls>/pread@pread64.return.stp');
    expect(files.length).toBe(2 * 9 + 2 + 2); // and fstatfs64 at its 32-bit wrapper, sysctl by number
    for (const f of files) expect(f.aliasHeads).toEqual(['syscall', 'nd_syscall']);
  });
});

describe('syscall aliases in pass 2', () => {
  it('syscall.openat sets the variables stap 4.8 lists, argstr in its layout', () => {
    const r = elaborate('probe syscall.openat { printf("%s %d %s %s %d %d %s %s\\n", name, dfd, dfd_str, filename, flags, mode, flags_str, argstr) }');
    expect(r.errors).toBe('');
    const p = probes(r.out);
    expect(p).toContain('kernel.trace("syscalls:sys_enter_openat") /* <- syscall.openat');
    expect(p).toContain('dfd = __int32($dfd);');
    expect(p).toContain('filename = user_string_quoted($filename);');
    expect(p).toContain('mode = __ushort($mode);');
    expect(p).toContain('dfd_str = _dfd_str(dfd);');
    expect(p).toContain('flags_str = _sys_open_flag_str(flags);');
    expect(p).toMatch(/argstr = flags & 64 \? sprintf\("%s, %s, %s, %#o", dfd_str, filename, flags_str, mode\) : sprintf\("%s, %s, %s", dfd_str, filename, flags_str\);/);
  });

  it('renamed variables come from the field in the same position (close_range has no stap list: fields by name)', () => {
    const r = elaborate('probe syscall.kill { println(pid, sig, sig_name, argstr) } probe syscall.close_range { println(fd, max_fd, flags, argstr) }');
    expect(r.errors).toBe('');
    const p = probes(r.out);
    expect(p).toContain('sig_name = _signal_name(sig);');
    expect(p).toContain('argstr = sprintf("%d, %s", pid, sig_name);');
    expect(p).toContain('argstr = sprintf("%d, %d, %d", fd, max_fd, flags);');
  });

  it('a return probe has retval, retstr and the entry values from the saved user registers', () => {
    const r = elaborate('probe syscall.read.return { printf("%s %d %s %d %d\\n", name, retval, retstr, fd, count) }');
    expect(r.errors).toBe('');
    const p = probes(r.out);
    expect(p).toContain('kernel.trace("syscalls:sys_exit_read") /* <- syscall.read.return');
    expect(p).toContain('retstr = return_str(1, retval);');
    expect(p).toContain('fd = __uint32(__syscall_user_arg(1));');
    expect(p).toContain('count = __syscall_user_arg(3);');
    // no extra probe on the entry: the return probe is all there is
    expect(p).not.toContain('sys_enter_read');
  });

  it('nd_syscall is the same family under a second name', () => {
    const a = probes(elaborate('probe syscall.close { println(fd) }').out);
    const b = probes(elaborate('probe nd_syscall.close { println(fd) }').out);
    expect(b.replaceAll('nd_syscall.close', 'syscall.close')).toBe(a);
  });

  it('wildcards and braces expand over the kernel\'s calls', () => {
    const count = (pt: string): number => (probes(elaborate(`probe ${pt} { println(name) }`).out).match(/^kernel\.trace/gm) ?? []).length;
    expect(count('syscall.*')).toBe(9 + 1); // the tracepoint calls, and sysctl on raw_syscalls
    expect(count('syscall.*.return')).toBe(9 + 1);
    expect(count('syscall.{open,close}')).toBe(2);
    expect(count('syscall.*execve')).toBe(1);
    expect(count('nd_syscall.open*')).toBe(2);
  });

  it('accepts .maxactive(N) after .return and .call after an entry, as stap does', () => {
    expect(elaborate('probe syscall.open.return.maxactive(10) { println(retval) }').errors).toBe('');
    expect(elaborate('probe syscall.open.call { println(flags) }').errors).toBe('');
    expect(elaborate('probe syscall.open.return.maxact*(10) { println(retval) }').errors).toBe('');
  });

  it('a call the kernel does not have is an error, optional with ?', () => {
    expect(elaborate('probe syscall.nosuchcall { println(1) }').errors).toMatch(/syscall\.nosuchcall/);
    const r = elaborate('probe syscall.nosuchcall ?, syscall.close { println(1) }');
    expect(r.errors).toBe('');
  });

  it('a call with no tracepoint (32-bit only) is a kprobe on its wrapper, arguments from the saved registers', () => {
    const r = elaborate('probe syscall.fstatfs64 { println(fd, sz, buf_uaddr, argstr) } probe syscall.fstatfs64.return { println(retstr) }');
    expect(r.errors).toBe('');
    const p = probes(r.out);
    expect(p).toContain('kprobe.function("__ia32_compat_sys_fstatfs64") /* <- syscall.fstatfs64');
    expect(p).toContain('fd = __int32(__syscall_wrapper_arg(1, 1));');
    expect(p).toContain('buf_uaddr = __syscall_wrapper_arg(3, 1);');
    expect(p).toContain('kprobe.function("__ia32_compat_sys_fstatfs64").return /* <- syscall.fstatfs64.return');
  });

  it('a call the kernel no longer implements (sysctl) is raw_syscalls filtered by its number', () => {
    const r = elaborate('probe syscall.sysctl { println(args, argstr) } probe syscall.sysctl.return { println(retstr) }');
    expect(r.errors).toBe('');
    const p = probes(r.out);
    expect(p).toContain('kernel.trace("raw_syscalls:sys_enter") /* <- syscall.sysctl');
    expect(p).toMatch(/if \(\$id != 156\)\s+next;/);
    expect(p).toContain('args = __syscall_user_arg(1);');
    expect(p).toContain('argstr = sprintf("%p", args);');
  });

  it('-l lists the aliases, as stap does', () => {
    const l = listProbePoints('syscall.open*', { ...base, unoptimized: true, suppressWarnings: true, warningsAreErrors: false }, false);
    expect(l.lines).toEqual(['syscall.open', 'syscall.openat']);
  });

  it('without a kernel model there are no syscall aliases (and a clear error)', () => {
    const r = elaborateScript({ ...base, kernelModel: undefined, text: 'probe syscall.read { println(fd) }', fileName: 't.stp' });
    expect(r.diagnostics.some((d) => d.severity === 'error' && /syscall/.test(d.message))).toBe(true);
  });
});
