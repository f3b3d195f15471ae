// tapsh end to end on the lab VM, as a user runs it: scripts compared byte for byte with stap 4.8's output.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, qemuProcesses, REPO, runTapsh, tempDir } from '../helpers/env.js';
import { Btf, BtfKind } from '../../src/btf/btf.js';

const SCRIPTS = join(REPO, 'test/e2e/scripts');
const EXPECTED = join(REPO, 'test/e2e/expected');
const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'make'], 'end-to-end tests on the lab VM');
const built = existsSync(join(REPO, 'dist/cli/main.js'));
if (!built) console.warn('\n*** end-to-end tests need the compiled CLI: run `npm run build` (npm test does) ***\n');

/**
 * Scripts where tapsh still differs from stap, with the reason. `it.fails` keeps them honest: the
 * test fails as soon as the difference is gone, so this list can only shrink.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {};

const cache = tempDir('tapsh-e2e-cache-');
const env = { ...process.env, TAPSH_CACHE_DIR: cache };

const tapsh = (args: string[]) => runTapsh(args, { env, cwd: SCRIPTS });

const cases = existsSync(EXPECTED)
  ? readdirSync(SCRIPTS).filter((f) => f.endsWith('.stp') && existsSync(join(EXPECTED, f.replace(/\.stp$/, '.out')))).map((f) => f.replace(/\.stp$/, ''))
  : [];

describe.skipIf(skip || !built)('tapsh scripts on the lab VM', () => {
  beforeAll(async () => {
    const r = await tapsh(['lab', 'start']);
    if (r.code !== 0) throw new Error(`tapsh lab start failed:\n${r.err}`);
  });

  afterAll(async () => {
    // Nothing of ours may stay loaded, and the guest kernel must be clean.
    const lsmod = await tapsh(['lab', 'ssh', 'lsmod']);
    const dmesg = await tapsh(['lab', 'ssh', 'dmesg']);
    await tapsh(['lab', 'stop']);
    expect(lsmod.out.toString()).not.toMatch(/^stap_/m);
    expect(dmesg.out.toString()).not.toMatch(/Oops|BUG:|WARNING:|Call Trace/);
    expect(qemuProcesses(cache)).toEqual([]);
  });

  for (const name of cases) {
    const known = KNOWN_DIFFERENCES[name];
    const test = known ? it.fails : it;
    test(`${name}.stp prints exactly what stap prints${known ? ` (known difference: ${known})` : ''}`, async () => {
      const r = await tapsh([`${name}.stp`]);
      expect(r.out.toString('latin1')).toBe(readFileSync(join(EXPECTED, `${name}.out`)).toString('latin1'));
      const rc = Number(readFileSync(join(EXPECTED, `${name}.rc`), 'utf8').trim());
      expect(r.code).toBe(rc);
      // staprun's own lines (ERROR/WARNING) match; the driver's "Pass 5: run failed" line is stap's, not staprun's.
      const err = r.err.split('\n').filter((l) => /^(ERROR|WARNING): /.test(l)).join('\n');
      expect(err).toBe(readFileSync(join(EXPECTED, `${name}.err`), 'utf8').trim());
    });
  }

  it('runs a timer probe until the script exits', async () => {
    const r = await tapsh(['-e', 'global n; probe timer.ms(50) { n++; if (n == 5) exit() } probe end { printf("n=%d\\n", n) }']);
    expect(r.code).toBe(0);
    expect(r.out.toString()).toBe('n=5\n');
  });

  it('counts kprobe hits while the guest runs a workload (-c)', async () => {
    const r = await tapsh(['-c', 'for i in 1 2 3 4 5 6; do cat /etc/passwd >/dev/null; done', '-e',
      'global hits; probe kernel.function("do_sys_openat2") { if (execname() == "cat") hits++ } probe end { printf("%d\\n", hits) }']);
    expect(r.code, r.err).toBe(0);
    expect(Number(r.out.toString())).toBeGreaterThanOrEqual(6);
  });

  it('counts with a lock-free n++ exactly what a locked per-CPU map counts, on both guest CPUs at once', async () => {
    // n is only ever incremented: no lock (atomic_long); m is a map under its lock. Lost updates would make them differ.
    const r = await tapsh(['-c', 'dd if=/dev/zero of=/dev/null bs=1 count=5000 2>/dev/null & dd if=/dev/zero of=/dev/null bs=1 count=5000 2>/dev/null; wait', '-e',
      'global n, m; probe kernel.function("vfs_read") { n++; m[cpu()]++ } probe end { foreach (c in m) s += m[c]; printf("%d %d\\n", n == s, n) }']);
    expect(r.code, r.err).toBe(0);
    const [same, n] = r.out.toString().trim().split(' ').map(Number);
    expect(same).toBe(1);
    // Hits skipped while the other CPU held m's lock run neither statement; every read is counted or skipped.
    const skipped = Number(/skipped probes: (\d+)/.exec(r.err)?.[1] ?? 0);
    expect(n! + skipped).toBeGreaterThanOrEqual(10000);
  }, 180_000);

  it('reads tracepoint fields by name (sched:sched_process_exec)', async () => {
    const r = await tapsh(['-c', 'sh -c "/bin/true; /bin/echo hi >/dev/null"', '-e',
      'probe kernel.trace("sched:sched_process_exec") { if ($filename == "/bin/true" || $filename == "/bin/echo") printf("%s %d\\n", $filename, $pid == pid()) }']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe('/bin/true 1\n/bin/echo 1\n');
  });

  it('reads function arguments and struct members through BTF ($filename, $how->flags, $p->parent->pid, $return)', async () => {
    const r = await tapsh(['-c', 'cat /etc/passwd /etc/group >/dev/null; sh -c "true & wait"', '-e', [
      'probe kernel.function("do_sys_openat2") { if (execname() == "cat" && user_string($filename) != "" && substr(user_string($filename), 0, 5) == "/etc/") printf("open %s %d\\n", user_string($filename), $how->flags & 3) }',
      'probe kernel.function("do_sys_openat2").return { if (execname() == "cat" && $return >= 0) ok++ }',
      'probe kernel.function("wake_up_new_task") { if ($p->parent->pid == pid()) printf("fork by %s: child comm %s %s\\n", execname(), kernel_string($p->comm), $p->comm$) }',
      'global ok; probe end { printf("returns>=2: %d\\n", ok >= 2) }',
    ].join('\n')]);
    expect(r.code, r.err).toBe(0);
    const out = r.out.toString();
    expect(out).toContain('open /etc/passwd 0\n');
    expect(out).toContain('open /etc/group 0\n');
    expect(out).toMatch(/^fork by sh: child comm sh "sh"$/m);
    expect(out).toContain('returns>=2: 1\n');
  });

  it('reads @entry() values and parameters in .return probes as they were at entry, next to $return', async () => {
    // Truth from elsewhere: fd_install() is handed the fd the open returns; /proc/self/fdinfo shows the flags the shell opened with.
    const r = await tapsh(['-c', "cat /etc/passwd >/dev/null; sh -c 'exec 4</etc/group; cat /proc/self/fdinfo/4'", '-e', [
      'probe kernel.function("do_sys_openat2").return {',
      '  if (execname() == "cat" && user_string($filename) == "/etc/passwd") printf("ret %d flags %o name %s\\n", $return, @entry($how->flags), user_string(@entry($filename)))',
      '  if (execname() == "sh" && user_string($filename) == "/etc/group") printf("sh flags %o dfd %d\\n", @entry($how->flags), $dfd)',
      '}',
      'probe kernel.function("fd_install") { if (execname() == "cat" && kernel_string($file->f_path->dentry->d_name->name) == "passwd") printf("install %d\\n", $fd) }',
    ].join('\n')]);
    expect(r.code, r.err).toBe(0);
    const out = r.out.toString();
    const installed = /^install (\d+)$/m.exec(out)?.[1];
    const ret = /^ret (\d+) flags (\d+) name \/etc\/passwd$/m.exec(out);
    expect(installed, out).toBeDefined();
    expect(ret?.[1], out).toBe(installed);
    const truth = /^flags:\s+0*(\d+)$/m.exec(out)?.[1];
    const sh = /^sh flags (\d+) dfd (-?\d+)$/m.exec(out);
    expect(truth, out).toBeDefined();
    expect(sh?.[1], out).toBe(truth);
    expect(sh?.[2]).toBe('-100'); // AT_FDCWD
    expect(ret?.[2]).toBe(truth); // both are O_RDONLY (plus O_LARGEFILE)
  });

  it('gives tracepoint probes their TP_PROTO arguments from BTF ($prev, $next, $preempt, $p), readable through ->', async () => {
    // Truth: a switch runs in prev's context (tid(), execname()); the -c command (target()) is woken and switched to.
    const r = await tapsh(['-c', 'sleep 0.3', '-e', [
      'global hits, bad, woke, ran',
      'probe kernel.trace("sched:sched_switch") { hits++; if ($prev->pid != tid() || kernel_string($prev->comm) != execname() || $preempt < 0 || $preempt > 1) bad++',
      '  if ($next->pid == target() && kernel_string($next->comm) == "sleep") ran++ }',
      'probe kernel.trace("sched:sched_wakeup") { if ($p->pid == target()) woke++ }',
      'probe end { printf("hits>0: %d bad: %d woke: %d ran: %d\\n", hits > 0, bad, woke > 0, ran > 0) }',
    ].join('\n')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe('hits>0: 1 bad: 0 woke: 1 ran: 1\n');
    // Arguments and record fields in one handler: the record's handler gets the arguments kept for it.
    const mixed = await tapsh(['-e', 'global n, bad; probe kernel.trace("sched:sched_switch") { n++; if ($prev->pid != $prev_pid || kernel_string($next->comm) != $next_comm || $next->pid != $next_pid) bad++; if (n == 200) exit() } probe end { printf("n=%d bad=%d\n", n, bad) }']);
    expect(mixed.code, mixed.err).toBe(0);
    expect(mixed.out.toString()).toBe('n=200 bad=0\n');
  });

  it('lists tracepoint arguments with -L as stap 4.8 does, and builds a probe on block_bio_queue\'s $bio', async () => {
    // test/e2e/oracle/trace-L.out: real stap 4.8's -L on the same kernel.
    for (const line of readFileSync(join(REPO, 'test/e2e/oracle/trace-L.out'), 'utf8').trim().split('\n')) {
      const point = line.split(' ')[0]!;
      const r = await tapsh(['-L', point]);
      expect(r.code, r.err).toBe(0);
      expect(r.out.toString()).toBe(line + '\n');
    }
    // The lab guest has no block device: the probe is built against the real headers, not run.
    const r = await tapsh(['-p4', '-e', 'probe kernel.trace("block:block_bio_queue") { printf("%d %d\\n", $bio->bi_iter->bi_size, $bio->bi_iter->bi_sector) }']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toMatch(/\.ko\n$/);
    const wrong = await tapsh(['-p2', '-e', 'probe kernel.trace("sched:sched_switch") { println($prev->nope) }']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('struct task_struct has no member nope');
  });

  it('writes target variables with -g (an argument register, a struct member, $return; a bad address is a script error) and refuses without -g as stap does', async () => {
    const script = [
      'probe kernel.function("do_sys_openat2") {',
      '  if (execname() != "cat") next',
      '  name = user_string($filename)',
      '  if (name == "x/etc/passwd") $filename = $filename + 1',
      '  if (name == "/tmp/tapsh_created") { $how->flags |= 0x40; $how->mode = 420 }',
      '}',
      'probe kernel.function("do_sys_openat2").return { if (execname() == "cat" && user_string(@entry($filename)) == "/etc/group") $return = -2 }',
    ].join('\n');
    // Truth from the workload: the skipped "x" opens /etc/passwd, O_CREAT creates the file with mode 0644, -ENOENT reaches cat.
    const r = await tapsh(['-g', '-c', 'cat x/etc/passwd | md5sum; cat /etc/passwd | md5sum; rm -f /tmp/tapsh_created; cat /tmp/tapsh_created; ls -l /tmp/tapsh_created; cat /etc/group', '-e', script]);
    expect(r.code, r.err).toBe(0);
    const [a, b, ls] = r.out.toString().split('\n');
    expect(a).toMatch(/^[0-9a-f]{32}  -$/);
    expect(a).toBe(b);
    expect(ls).toMatch(/^-rw-r--r-- .* \/tmp\/tapsh_created$/);
    expect(r.err).toContain("cat: can't open '/etc/group': No such file or directory");
    const fault = await tapsh(['-g', '-e', 'probe begin { @cast(0, "struct task_struct")->pid = 1 }']);
    expect(fault.code).toBe(1);
    expect(fault.err).toMatch(/^ERROR: write fault \[man error::fault\] at 0x[0-9a-f]+ near /m);
    const refused = await tapsh(['-p2', '-e', script]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('semantic error: write to target variable not permitted; need stap -g');
    const tp = await tapsh(['-p2', '-e', 'probe kernel.trace("sched:sched_wakeup") { $p->pid = 1 }']);
    expect(tp.err).toContain("semantic error: write to tracepoint variable '$p' not permitted; need stap -g");
  });

  it('runs @defined per probe point, embedded C expressions and old-style THIS-> embedded functions (-g)', async () => {
    const r = await tapsh(['-g', '-c', 'cat /etc/passwd >/dev/null', '-e', [
      'function old:long(a:long, s:string) %{ /* unmangled */ THIS->__retvalue = THIS->a * 2 + strlen(THIS->s); %}',
      'probe kernel.function("do_sys_openat2") { if (execname() == "cat") { d = @defined($how) + @defined($nope) * 10 + @defined($how->flags) * 100',
      '  if (@defined($nope)) println($nope) else printf("defined %d\\n", d); exit() } }',
      'probe begin { printf("%d %s %d %d\\n", %{ 6 * 7 %}, %{ /* string */ "from C" %}, old(20, "abc"), 0 * %{ /* pure */ NOT-C %}) }',
    ].join('\n')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe('42 from C 43 0\ndefined 101\n');
    const procfs = await tapsh(['-p4', '-e', 'probe procfs("x").read { $value = "v" }']);
    expect(procfs.code).toBe(1);
    expect(procfs.err).toContain('procfs probes are not supported by tapsh yet');
    expect(procfs.err).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it('pretty-prints @cast like the target it came from, takes addresses with & (offsets and sizeof as BTF has them), reads -> through locals holding $target pointers', async () => {
    const r = await tapsh(['-c', 'sh -c "true & wait"', '-e', [
      'global n',
      'probe kernel.function("wake_up_new_task") { if (n++) next',
      '  printf("same=%d %s %s\\n", $p$ == @cast($p, "task_struct")$, @cast($p, "struct task_struct")->comm$, $p->comm$)',
      '  printf("size=%d off=%d\\n", &@cast(0, "struct task_struct")[1], &@cast(0, "struct task_struct")->comm)',
      '  printf("addr=%d %d\\n", &@cast($p, "struct task_struct")->comm == &$p->comm, &$p->comm - $p)',
      '  p = $p; q = p->parent; printf("autocast=%d %d %s\\n", p->pid == $p->pid, q->pid == pid(), p->comm$) }',
    ].join('\n')]);
    expect(r.code, r.err).toBe(0);
    const dir = join(cache, 'kernels');
    const blob = readdirSync(dir).map((k) => join(dir, k, 'vmlinux.btf')).find((p) => existsSync(p))!;
    const btf = Btf.parse(readFileSync(blob));
    const task = btf.find('task_struct', BtfKind.Struct).map((id) => btf.type(id)).find((t) => t.size > 0)!;
    const comm = btf.member(task.id, 'comm')!.bitOffset / 8;
    expect(r.out.toString()).toBe(`same=1 "sh" "sh"\nsize=${task.size} off=${comm}\naddr=1 ${comm}\nautocast=1 1 "sh"\n`);
    // A bad pointer is a script error with stap's words for target variables, not a crash.
    const fault = await tapsh(['-e', 'probe begin { println(@cast(0, "struct task_struct")->pid) }']);
    expect(fault.code).toBe(1);
    expect(fault.err).toMatch(new RegExp(`^ERROR: read fault \\[man error::fault\\] at 0x${(btf.member(task.id, 'pid')!.bitOffset / 8).toString(16)} near operator '@cast' at <input>:1:23$`, 'm'));
  });

  it('reads through @cast on a pointer held as a number', async () => {
    const r = await tapsh(['-c', 'sh -c "true & wait"', '-e',
      'global seen; probe kernel.function("wake_up_new_task") { if (seen++ == 0) { p = $p; printf("%d %s %d\\n", @cast(p, "struct task_struct")->pid == $p->pid, kernel_string(@cast(p, "task_struct", "kernel")->comm), @cast(p, "task_struct")->parent->pid == pid()) } }']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toMatch(/^1 \S+ 1\n/);
  });

  it('pretty-prints structs like stap: $$parms, $p$, $p->se$$ (shapes from stap 4.8 on the same kernel types)', async () => {
    const r = await tapsh(['-c', 'sh -c "true & wait"', '-e',
      'global n; probe kernel.function("wake_up_new_task") { if (n++ == 0) { println($$parms); println($p$); println($p->se$$) } }']);
    expect(r.code, r.err).toBe(0);
    const [parms, task, se] = r.out.toString().split('\n');
    expect(parms).toMatch(/^p=0x[0-9a-f]+$/);
    // stap printed these for a struct task_struct and a struct sched_entity (test/e2e/oracle/); values differ, shapes must not.
    const shape = (s: string) => s.replace(/0x[0-9a-f]+/g, '0xH').replace(/=-?\d+/g, '=N');
    const same = (ours: string, theirs: string) => {
      const a = shape(ours);
      const b = shape(theirs);
      const n = Math.min(a.length, b.length) - 40; // both are cut at 511 characters, at different places
      expect(a.slice(0, n)).toBe(b.slice(0, n));
    };
    expect(task!.length).toBe(511);
    same(task!, readFileSync(join(REPO, 'test/e2e/oracle/pretty2.out'), 'utf8').split('\n')[0]!);
    same(se!, readFileSync(join(REPO, 'test/e2e/oracle/pretty3.out'), 'utf8').split('\n')[0]!);
  });

  it('names what exists when a target variable is wrong', async () => {
    const r = await tapsh(['-p2', '-e', 'probe kernel.function("vfs_read") { println($file->f_nope) }']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('struct file has no member f_nope; its members include: ');
    expect(r.err).toMatch(/its members include: .*\bf_path\b.*\bf_inode\b/);
  });

  it('runs on a --remote host reached with ssh2 and the user\'s known_hosts, prefixing lines with --remote-prefix', async () => {
    // The lab VM is a real SSH host: give a private HOME its client key and pinned host key.
    const state = JSON.parse(readFileSync(join(cache, 'lab/shared/state.json'), 'utf8')) as { port: number };
    const home = tempDir('tapsh-home-');
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    copyFileSync(join(cache, 'lab/shared/client_key'), join(home, '.ssh/id_ed25519'));
    copyFileSync(join(cache, 'lab/shared/known_hosts'), join(home, '.ssh/known_hosts'));
    const r = await runTapsh(['--remote', `ssh://root@127.0.0.1:${state.port}`, '--remote-prefix', '-e', 'probe begin { printf("a\\nb\\n"); exit() }'], { env: { ...env, HOME: home }, cwd: SCRIPTS });
    expect(r.code, r.err).toBe(0);
    expect(r.out.toString()).toBe('0: a\n0: b\n');
    // Without the pinned key the same host is refused, and says how to fix it.
    writeFileSync(join(home, '.ssh/known_hosts'), '');
    const refused = await runTapsh(['--remote', `ssh://root@127.0.0.1:${state.port}`, '-e', 'probe begin { exit() }'], { env: { ...env, HOME: home }, cwd: SCRIPTS });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/verify host key: no key for \[127\.0\.0\.1\]:\d+ in .*known_hosts[\s\S]*never accepts an unknown host key/);
  });

  it('stops at -T and runs end probes', async () => {
    const t0 = Date.now();
    const r = await tapsh(['-T', '2', '-e', 'global n; probe timer.ms(100) { n++ } probe end { printf("ticks>=10: %d\\n", n >= 10) }']);
    expect(r.code).toBe(0);
    expect(r.out.toString()).toBe('ticks>=10: 1\n');
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
