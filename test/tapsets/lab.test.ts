// Tapset functions run for real in the lab VM (opt-in: TAPSH_TAPSET_LAB=1; boots a VM unless one is running).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/tapsets.js';

// On by default (it is part of npm test); TAPSH_TAPSET_LAB=0 skips it while iterating on something else.
const enabled = process.env.TAPSH_TAPSET_LAB !== '0';

const execFileAsync = promisify(execFile);

/* Asynchronous, so the test worker stays responsive while the VM boots and the module runs. */
async function tapsh(args: string[]): Promise<string[]> {
  const { stdout } = await execFileAsync(process.execPath, [join(REPO, 'bin/tapsh.js'), ...args], { encoding: 'utf8', timeout: 240_000 });
  return stdout.split('\n').filter((l) => l !== '');
}

const run = (script: string): Promise<string[]> => tapsh(['-e', script]);

describe.skipIf(!enabled)('tapsets in the lab VM', () => {
  it('deterministic results of begin-probe functions', async () => {
    const lines = await run(`probe begin {
      println(string_quoted("a\\nb\\"c"), " ", text_str("x\\ty"), " ", text_strn("abcdef", 3, 1))
      println(str_replace("aXbX", "X", "yy"), " ", strlen("hello"), " ", substr("hello", 1, 3), " ", isinstr("hello", "ll"), " ", strpos("hello", "l"), " ", strtol("0x1f", 16))
      t = tokenize("a b  c", " "); while (t != "") { print(t, ";"); t = tokenize("", " ") } println("")
      println(errno_str(-2), " ", return_str(1, -13), " ", signal_str(9), " ", sigset_mask_str(3))
      try { println(kernel_long(0)) } catch (m) { println("caught: ", m) }
      println(kernel_string(0, "dflt"), " ", ctime(0), " ", msecs_to_string(123456), " ", bytes_to_string(123456789))
      println(fp_to_string(fp_div(long_to_fp(22), long_to_fp(7)), 6), " ", fp_to_long(string_to_fp("2.5"), 0, 0))
      println(_sys_open_flag_str(0x241), " ", _mmap_flags(0x22), " ", __fork_flags(0x1200011), " ", _wait_status_str(0x100))
      println(sock_fam_num2str(10), " ", ip_ntop(htonl(0x7f000001)), " ", syscall_name(0), " ", pid2execname(1))
      exit()
    }`);
    expect(lines).toEqual([
      '"a\\nb\\"c" x\\ty "abc"',
      'ayybyy 5 ell 1 2 31',
      'a;b;c;',
      'ENOENT -13 (EACCES) SIGKILL [SIGHUP|SIGINT]',
      'caught: kernel long copy fault at 0x0 [man error::fault]',
      'dflt Thu Jan  1 00:00:00 1970 2m3.456s 117.73M',
      '3.142857 2',
      'O_WRONLY|O_CREAT|O_TRUNC MAP_PRIVATE|MAP_ANONYMOUS CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|17 WEXITSTATUS=1',
      'INET6 127.0.0.1 read init',
    ]);
  }, 300_000);

  it('tracepoint-based aliases fire with their variables', async () => {
    const lines = await run(`global calls, names, forks
      probe syscall_any { calls++; names[name] = 1 }
      probe kprocess.create { forks++ }
      probe timer.ms(300) { println(calls > 0, " ", ["read"] in names || ["write"] in names || ["ppoll"] in names || ["pselect6"] in names, " ", forks >= 0); exit() }`);
    expect(lines).toEqual(['1 1 1']);
  }, 300_000);

  it('target_set follows the -c command and its children', async () => {
    const lines = await tapsh(['-c', 'sh -c "sleep 0.2; true"', '-e', 'probe end { target_set_report() }']);
    expect(lines[0]).toBe('target set:');
    expect(lines[1]).toMatch(/^\d+$/);
    expect(lines.slice(2).every((l) => /^\d+ begat \d+$/.test(l))).toBe(true);
    expect(lines.length).toBeGreaterThan(2);
  }, 300_000);

  it('a backtrace from a begin probe starts in the kernel, not in the module', async () => {
    const lines = await run('probe begin { print_backtrace(); exit() }');
    expect(lines[0]).toMatch(/^ 0x[0-9a-f]{16} : \w+\+0x[0-9a-f]+\/0x[0-9a-f]+ \[kernel\]$/);
  }, 300_000);
});
