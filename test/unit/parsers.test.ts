// Parsers for what targets report: ELF notes, tracefs formats, head(1) output, modules.dep, known_hosts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuildId, parseTracepointFormat, splitHeadOutput } from '../../src/remote/capture.js';
import { fingerprint, knownHostKeys, parsePublicKeyLine } from '../../src/remote/hostkeys.js';
import { moduleLoadOrder } from '../../src/remote/lab-initramfs.js';
import { parseRemote } from '../../src/remote/connect.js';
import { hostKernels } from '../../src/build/buildtree.js';
import { tempDir } from '../helpers/env.js';

function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(name + '\0');
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

describe('parseBuildId', () => {
  it('finds the GNU build-id note after other notes', () => {
    const id = Buffer.from('6a2b4ac77585b8cf102cba771300e573c8489b69', 'hex');
    const notes = Buffer.concat([note('Xen', 1, Buffer.from([1, 2, 3])), note('GNU', 4, Buffer.alloc(16)), note('GNU', 3, id)]);
    expect(parseBuildId(notes)).toBe(id.toString('hex'));
  });
  it('returns "" for truncated or empty input', () => {
    expect(parseBuildId(Buffer.alloc(0))).toBe('');
    expect(parseBuildId(note('GNU', 3, Buffer.alloc(20)).subarray(0, 20))).toBe('');
  });
});

const SCHED_SWITCH = `name: sched_switch
ID: 316
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:__data_loc char[] name;	offset:28;	size:4;	signed:0;

print fmt: "prev_comm=%s prev_pid=%d", REC->prev_comm, REC->prev_pid
`;

describe('tracepoint formats', () => {
  it('parses fields, offsets, sign and the common header', () => {
    const tp = parseTracepointFormat('sched', 'sched_switch', SCHED_SWITCH);
    expect(tp.id).toBe(316);
    expect(tp.fields.map((f) => f.name)).toEqual(['common_type', 'common_flags', 'common_preempt_count', 'common_pid', 'prev_comm', 'prev_pid', 'name']);
    expect(tp.fields.filter((f) => f.common).length).toBe(4);
    expect(tp.fields[4]).toMatchObject({ decl: 'char prev_comm[16]', offset: 8, size: 16, signed: false });
    expect(tp.fields[5]).toMatchObject({ offset: 24, size: 4, signed: true });
    expect(tp.printFmt).toMatch(/^"prev_comm=%s/);
  });
  it('splits multi-file head output by its headers', () => {
    const m = splitHeadOutput(`==> a/b/format <==\nname: b\nID: 1\n\n==> c/d/format <==\nname: d\n`);
    expect([...m.keys()]).toEqual(['a/b/format', 'c/d/format']);
    expect(m.get('c/d/format')).toBe('name: d\n');
  });
});

describe('moduleLoadOrder', () => {
  it('loads dependencies before the modules that need them, each once', () => {
    const dep = [
      'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko',
      'kernel/net/core/failover.ko:',
      'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_ring.ko:',
      'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    ].join('\n');
    const order = moduleLoadOrder(dep, ['virtio_pci', 'virtio_net']).map((p) => p.split('/').pop());
    expect(order).toEqual(['virtio_ring.ko', 'virtio.ko', 'virtio_pci.ko', 'failover.ko', 'net_failover.ko', 'virtio_net.ko']);
  });
  it('agrees with the installed kernel: every dependency precedes its user', () => {
    const k = hostKernels()[0];
    if (!k) return console.warn('*** no Debian kernel installed; real modules.dep check skipped ***');
    const text = readFileSync(join(k.modulesDir, 'modules.dep'), 'utf8');
    const order = moduleLoadOrder(text, ['virtio_pci', 'virtio_net']);
    for (const line of text.split('\n')) {
      const [mod, deps] = line.split(':');
      if (!mod || !order.includes(mod)) continue;
      for (const d of (deps ?? '').trim().split(/\s+/).filter(Boolean)) expect(order.indexOf(d)).toBeLessThan(order.indexOf(mod));
    }
  });
});

describe('known_hosts', () => {
  it('matches plain, [host]:port and hashed entries, and honours @revoked', () => {
    const dir = tempDir();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k1')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k2')]);
    const k1 = readFileSync(join(dir, 'k1.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const k2 = readFileSync(join(dir, 'k2.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `# comment\nalpha,beta ${k1}\n[gamma]:2222 ${k2}\n@revoked alpha ${k2}\n`);
    const b1 = parsePublicKeyLine(k1).blob;
    const b2 = parsePublicKeyLine(k2).blob;
    expect(knownHostKeys(readFileSync(kh, 'utf8'), 'beta', 22).keys).toEqual([b1]);
    expect(knownHostKeys(readFileSync(kh, 'utf8'), 'gamma', 2222).keys).toEqual([b2]);
    expect(knownHostKeys(readFileSync(kh, 'utf8'), 'gamma', 22).keys).toEqual([]);
    expect(knownHostKeys(readFileSync(kh, 'utf8'), 'alpha', 22).revoked).toEqual([b2]);
    // ssh-keygen -H hashes host names; matching must still work.
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    const hashed = readFileSync(kh, 'utf8');
    expect(hashed).not.toContain('gamma');
    expect(knownHostKeys(hashed, 'gamma', 2222).keys).toEqual([b2]);
    expect(knownHostKeys(hashed, 'beta', 22).keys).toEqual([b1]);
    expect(fingerprint(b1)).toBe(execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'k1.pub')], { encoding: 'utf8' }).split(' ')[1]);
  });
});

describe('parseRemote', () => {
  it('accepts ssh:// URLs and user@host[:port]', () => {
    expect(parseRemote('ssh://bob@db1:2200')).toEqual({ user: 'bob', host: 'db1', port: 2200 });
    expect(parseRemote('db1')).toEqual({ user: 'root', host: 'db1', port: 22 });
    expect(parseRemote('alice@[::1]:2222')).toEqual({ user: 'alice', host: '::1', port: 2222 });
    expect(() => parseRemote('http://x')).toThrow(/only ssh:\/\//);
  });
});

it('the installed kernel has a build tree (setup ran)', () => {
  expect(existsSync('/boot')).toBe(true);
  expect(hostKernels().length).toBeGreaterThan(0);
});

describe('buildTreeFor', () => {
  const k = hostKernels()[0];
  it.skipIf(!k)('accepts the matching tree and refuses a different release, build or vermagic with the package to install', async () => {
    const { buildTreeFor } = await import('../../src/build/buildtree.js');
    const good = { release: k!.release, arch: 'x86_64', buildId: '', version: `Linux version ${k!.release} (x) ${k!.buildTree.utsVersion}`, vermagic: k!.buildTree.vermagic + ' ' };
    expect(buildTreeFor(good).dir).toBe(k!.buildTree.dir);
    expect(() => buildTreeFor({ ...good, release: '9.9.9-1-amd64' })).toThrow(/no kernel build tree at \/lib\/modules\/9\.9\.9-1-amd64\/build[\s\S]*apt-get install linux-headers-9\.9\.9-1-amd64/);
    expect(() => buildTreeFor({ ...good, version: 'Linux version x #1 SMP Debian 6.1.1-1' })).toThrow(/different build/);
    expect(() => buildTreeFor({ ...good, vermagic: `${k!.release} SMP mod_unload` })).toThrow(/would carry vermagic/);
  });
});
