// `tapsh lab ...` as a user runs it: the compiled CLI in child processes, a private cache dir, real qemu.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labKernel } from '../../src/build/buildtree.js';
import { BIN, missing, qemuProcesses, REPO, runTapsh, tempDir } from '../helpers/env.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen'], 'tapsh lab CLI tests');
const built = existsSync(join(REPO, 'dist/cli/main.js'));
if (!built) console.warn('\n*** tapsh lab CLI tests need the compiled CLI: run `npm run build` (npm test does) ***\n');

const cache = tempDir('tapsh-cli-cache-');
const env = { ...process.env, TAPSH_CACHE_DIR: cache };

async function tapsh(...args: string[]) {
  const r = await runTapsh(args, { env });
  return { code: r.code, out: r.out.toString('utf8'), err: r.err };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe.skipIf(skip || !built)('tapsh lab', () => {
  afterAll(async () => {
    await tapsh('lab', 'stop');
  });

  it('start, status, ssh and stop a background lab VM', async () => {
    expect((await tapsh('lab', 'status')).code).toBe(3);

    const start = await tapsh('lab', 'start');
    expect(start.code, start.err).toBe(0);
    expect(start.err).toMatch(/\[lab [\d.]+s\] booting the kernel/);
    expect(start.out).toMatch(/is up: SSH ready [\d.]+ s after qemu started/);
    expect(start.out).toContain(`kernel:  Linux ${labKernel().release} x86_64, build id `);
    expect(start.out).toMatch(/model: +\d+ function symbols, \d+ tracepoints, BTF [\d.]+ MB/);
    expect(start.out).toMatch(/build: +\S+ matches \(vermagic "/);

    const again = await tapsh('lab', 'start');
    expect(again.out).toMatch(/already running/);

    const status = await tapsh('lab', 'status');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/running, pid \d+, kernel /);

    const ssh = await tapsh('lab', 'ssh', 'uname', '-r');
    expect(ssh.code).toBe(0);
    expect(ssh.out.trim()).toBe(labKernel().release);
    expect((await tapsh('lab', 'ssh', 'exit 7')).code).toBe(7);

    expect(qemuProcesses(cache).length).toBe(1);
    const stop = await tapsh('lab', 'stop');
    expect(stop.out).toMatch(/^Stopped lab VM/);
    expect(qemuProcesses(cache)).toEqual([]);
    expect((await tapsh('lab', 'status')).code).toBe(3);
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`leaves no qemu behind when tapsh dies by ${signal} while using a lab VM`, async () => {
      // `lab ssh CMD` with no lab running boots one for the command's duration.
      const child = spawn(process.execPath, [BIN, 'lab', 'ssh', 'sleep 300'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      expect(await waitFor(() => err.includes('] ready'), 150_000), err).toBe(true);
      expect(qemuProcesses(cache).length).toBe(1);
      child.kill(signal);
      expect(await waitFor(() => qemuProcesses(cache).length === 0, 10_000)).toBe(true);
    });
  }

  it('explains usage errors instead of failing obscurely', async () => {
    const r = await tapsh('lab', 'reboot');
    expect(r.code).toBe(1);
    expect(r.err).toContain("tapsh lab: unknown command 'reboot'");
    const missingFile = await tapsh('no-such-script.stp');
    expect(missingFile.code).toBe(1);
    expect(missingFile.err).toContain("Input file 'no-such-script.stp' is missing.");
    const bad = await tapsh('-p2', '-e', 'probe begin { x = ; }');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/parse error: .*\n\s+at: <input>:1:19\n\s+source: probe begin \{ x = ; \}\n\s+\^/);
    const flag = await tapsh('-Z');
    expect(flag.err).toContain("tapsh: invalid option -- 'Z'");
    const h = await tapsh('--help');
    expect(h.code).toBe(0);
    for (const flag of ['-e', '-p', '-v', '-g', '-u', '-w', '-W', '-I', '-D', '-G', '-m', '-r', '-o', '-c', '-x', '-T', '-l', '-L', '-i', '--remote', '--remote-prefix']) {
      expect(h.out).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
    }
  });
});
