// The SSH target against a real OpenSSH sshd on 127.0.0.1: exec, upload, streams, and host-key pinning.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemote } from '../../src/remote/connect.js';
import type { Target } from '../../src/remote/target.js';
import { TargetError } from '../../src/remote/target.js';
import { missing, tempDir } from '../helpers/env.js';

const skip = missing(['/usr/sbin/sshd', 'ssh-keygen'], 'real-sshd tests') || process.getuid?.() !== 0;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe.skipIf(skip)('SSH target against OpenSSH sshd', () => {
  let sshd: ChildProcess;
  let dir: string;
  let port: number;
  let target: Target;
  let kh: string;

  beforeAll(async () => {
    dir = tempDir('tapsh-sshd-');
    port = await freePort();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
    writeFileSync(join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'StrictModes no',
      'UsePAM no', `PidFile ${join(dir, 'sshd.pid')}`, '',
    ].join('\n'));
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      sshd.stderr!.on('data', (b: Buffer) => {
        log += b.toString();
        if (log.includes('Server listening')) resolve();
      });
      sshd.once('exit', (c) => reject(new Error(`sshd exited (${c}): ${log}`)));
    });
    kh = join(dir, 'known_hosts');
    writeFileSync(kh, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8')}`);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' }); // hashed, like a default known_hosts
    target = await openRemote(`ssh://root@127.0.0.1:${port}`, { identityFile: join(dir, 'client_key'), knownHostsFiles: [kh] });
  });

  afterAll(async () => {
    await target?.close();
    sshd?.kill('SIGTERM');
  });

  it('runs commands and reports their exit status', async () => {
    const r = await target.run('echo out; echo err >&2; exit 3', { allowFailure: true });
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr.toString()).toBe('err\n');
    expect(r.code).toBe(3);
    await expect(target.run('exit 4')).rejects.toThrow(/exit status 4/);
  });

  it('passes standard input and binary output through unchanged', async () => {
    const data = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 31) & 0xff));
    const r = await target.run('cat', { input: data });
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('uploads files privately with the requested mode', async () => {
    const data = Buffer.from('payload \u00e9\n');
    await target.put(data, join(dir, "up'load"), 0o640);
    expect(readFileSync(join(dir, "up'load")).equals(data)).toBe(true);
    const mode = (await target.run(`stat -c %a ${JSON.stringify(join(dir, "up'load"))}`)).stdout.toString().trim();
    expect(mode).toBe('640');
    await expect(target.put(data, '/nonexistent-dir/x')).rejects.toMatchObject({ code: 'UPLOAD_FAILED' });
  });

  it('streams output as it is produced and can be closed early', async () => {
    const s = target.stream('for i in 1 2 3; do echo $i; sleep 0.1; done');
    let text = '';
    s.stdout.on('data', (b: Buffer) => (text += b.toString()));
    expect(await s.exited).toBe(0);
    expect(text).toBe('1\n2\n3\n');
    const forever = target.stream('while :; do echo tick; sleep 0.05; done');
    await new Promise<void>((r) => forever.stdout.once('data', () => r()));
    await forever.close();
    // The connection stays usable after a stream is closed.
    expect((await target.run('echo still')).stdout.toString()).toBe('still\n');
  });

  it('refuses a host whose key is not in known_hosts, and a wrong key', async () => {
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    await expect(openRemote(`root@127.0.0.1:${port}`, { identityFile: join(dir, 'client_key'), knownHostsFiles: [empty] })).rejects.toMatchObject({ code: 'HOST_KEY_UNKNOWN' });
    const wrong = join(dir, 'wrong_known_hosts');
    writeFileSync(wrong, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'other.pub'), 'utf8')}`);
    const err = await openRemote(`root@127.0.0.1:${port}`, { identityFile: join(dir, 'client_key'), knownHostsFiles: [wrong] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe('HOST_KEY_MISMATCH');
    expect((err as TargetError).message).toMatch(/root@\[127\.0\.0\.1\]:\d+: verify host key: the host presented SHA256:\S+, which is not the pinned key/);
  });

  it('reports a refused client key as an authentication failure', async () => {
    const err = await openRemote(`root@127.0.0.1:${port}`, { identityFile: join(dir, 'other'), knownHostsFiles: [kh] }).catch((e: unknown) => e);
    expect((err as TargetError).code).toBe('AUTH_FAILED');
  });
});
