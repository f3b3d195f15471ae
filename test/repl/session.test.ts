// The live session in the lab VM, driven through piped stdin like a script: the scenario end to end.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, missing, REPO, runTapsh, tempDir } from '../helpers/env.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'make'], 'live session tests on the lab VM');
const built = existsSync(join(REPO, 'dist/cli/main.js'));
const cache = tempDir('tapsh-session-cache-');
const env = { ...process.env, TAPSH_CACHE_DIR: cache };

/** tapsh -i with a pipe for stdin; waits for output patterns between lines, as a person at the prompt would. */
function session() {
  const child = spawn(process.execPath, [BIN, '-i'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  return {
    send: (line: string) => child.stdin.write(line + '\n'),
    end: () => child.stdin.end(),
    exited,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    async waitFor(re: RegExp, ms = 120_000, from = 0): Promise<string> {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const m = re.exec(out.slice(from));
        if (m) return m[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${re} in session output:\n${out}\n--- stderr:\n${err}`);
    },
  };
}

describe.skipIf(skip || !built)('tapsh -i (piped)', () => {
  beforeAll(async () => {
    const r = await runTapsh(['lab', 'start'], { env });
    if (r.code !== 0) throw new Error(r.err);
  });
  afterAll(async () => {
    await runTapsh(['lab', 'stop'], { env });
  });

  it('adds probes that share a global, deletes one, prints a histogram, saves, and unloads everything on quit', { timeout: 600_000 }, async () => {
    const s = session();
    s.send('global cnt, lat');
    await s.waitFor(/\[1\] global cnt, lat/);
    s.send('probe kernel.function("vfs_read") { cnt++; lat <<< $count }');
    await s.waitFor(/\[2\] probe kernel\.function/);
    s.send('probe timer.ms(500) { printf("cnt=%d\\n", cnt) }');
    await s.waitFor(/\[3\] probe timer\.ms/);
    await s.waitFor(/cnt=[1-9]\d*\n/); // the timer sees the kprobe's counts: one global, two modules
    s.send('probe kernel.function("vfs_write") { cnt++ }');
    await s.waitFor(/\[4\] probe kernel\.function\("vfs_write"\)/);
    s.send('delete 2');
    await s.waitFor(/Deleted entry 2; globals keep their values\./);
    const mark = s.out.length;
    const before = Number(/cnt=(\d+)\n(?![\s\S]*cnt=)/.exec(s.out)?.[1] ?? 0);
    await s.waitFor(/cnt=\d+\n[\s\S]*cnt=\d+\n/, 60_000, mark);
    const after = Number(/cnt=(\d+)\n(?![\s\S]*cnt=)/.exec(s.out)?.[1] ?? 0);
    expect(after).toBeGreaterThanOrEqual(before); // kept its value (and entry 4 still counts)
    s.send('print(@hist_log(lat))');
    await s.waitFor(/value \|-{50} count\n/);
    // Output is tagged with its entry, line by line.
    expect(s.out).toMatch(/^\[3\] cnt=\d+$/m);

    // disable / enable: the entry stays registered but its hits are skipped.
    s.send('disable 4');
    await s.waitFor(/Entry 4 disabled\./);
    s.send('list');
    await s.waitFor(/\[4\] disabled +hits=\d+ errors=0/);
    s.send('enable 4');
    await s.waitFor(/Entry 4 enabled\./);

    // globals: names, types, current values, read from the live session.
    s.send('globals');
    await s.waitFor(/cnt: long = \d+\n/);
    await s.waitFor(/lat: stats, @count=[1-9]\d* @sum=\d+ @min=\d+ @max=\d+ @avg=\d+\n/);

    // A function used by a live probe, then redefined: the probe is rebuilt with the new body.
    s.send('function tag() { return "A" }');
    await s.waitFor(/\[6\] function tag/);
    s.send('probe timer.ms(400) { printf("tag=%s\\n", tag()) }');
    await s.waitFor(/\[7\] tag=A\n/);
    s.send('function tag() { return "B" }');
    await s.waitFor(/\[7\] rebuilt with the new tag/);
    await s.waitFor(/\[7\] tag=B\n/);
    s.send('delete 7');
    await s.waitFor(/Deleted entry 7/);

    // reset clears every global: the counter starts again from zero.
    const beforeReset = Number(/cnt=(\d+)\n(?![\s\S]*cnt=)/.exec(s.out)?.[1] ?? 0);
    s.send('reset');
    await s.waitFor(/Cleared 2 globals: cnt, lat\./);
    const afterMark = s.out.length;
    await s.waitFor(/cnt=\d+\n/, 60_000, afterMark);
    const afterReset = Number(/cnt=(\d+)\n/.exec(s.out.slice(afterMark))?.[1] ?? -1);
    expect(afterReset).toBeLessThan(beforeReset);
    const saved = join(tempDir('tapsh-saved-'), 'session.stp');
    s.send(`save ${saved}`);
    await s.waitFor(/Saved the session to /);
    s.send('cnt = "text"');
    await s.waitFor(/^$/m, 1000).catch(() => undefined);
    s.send('list');
    await s.waitFor(/\[4\] armed/);
    // The emergency disarm key (SysRq y, here through /proc/sysrq-trigger in the guest) works during a session.
    const sysrq = await runTapsh(['lab', 'ssh', 'echo y > /proc/sysrq-trigger'], { env });
    expect(sysrq.code, sysrq.err).toBe(0);
    const deadline = Date.now() + 60_000;
    while (!/emergency disarm/.test(s.err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(s.err).toMatch(/WARNING: emergency disarm: every probe of the session is unregistered/);
    s.send('probe timer.s(1) { print("never\\n") }');
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.err).toMatch(/The session is disarmed/);
    s.send('quit');
    s.end();
    expect(await s.exited).toBe(0);
    expect(s.err).toContain("semantic error: global 'cnt' is a long in this session");
    expect(s.err).toMatch(/ {5}source: cnt = "text"\n {13}\^\n/); // the source line, a caret under the global

    const script = readFileSync(saved, 'utf8');
    expect(script).toContain('global cnt, lat');
    expect(script).toContain('probe kernel.function("vfs_write") { cnt++ }');
    expect(script).not.toContain('vfs_read'); // deleted entries are not saved
    expect(script).toContain('function tag() { return "B" }');
    expect(script).not.toContain('return "A"'); // a redefined function is saved once, as it is now
    // The saved session runs as a script to the same effect.
    const rerun = await runTapsh(['-T', '3', saved], { env });
    expect(rerun.code, rerun.err).toBe(0);
    expect(rerun.out.toString()).toMatch(/cnt=[1-9]\d*\n/);

    const lsmod = await runTapsh(['lab', 'ssh', 'lsmod'], { env });
    expect(lsmod.out.toString()).not.toMatch(/^(tapsh_|stap_)/m);
  });
});
