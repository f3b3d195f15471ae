// The lab VM end to end: Debian's real kernel under qemu, our initramfs, ssh2 with a pinned key, kbuild.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTreeFor, labKernel } from '../../src/build/buildtree.js';
import { kbuild } from '../../src/build/kbuild.js';
import { Btf, BtfKind } from '../../src/btf/btf.js';
import { captureKernelModel, loadKernelModel, readIdentity } from '../../src/remote/capture.js';
import { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { TargetError } from '../../src/remote/target.js';
import { missing, qemuProcesses, REPO, tempDir } from '../helpers/env.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen', 'make'], 'lab VM tests');

describe.skipIf(skip)('lab VM', () => {
  let vm: LabVm;
  let ssh: SshTarget;

  beforeAll(async () => {
    vm = await LabVm.boot({ timeoutMs: 150_000 });
    ssh = await vm.connect();
  });

  afterAll(async () => {
    await ssh?.close();
    await vm?.stop();
  });

  it('boots the installed Debian kernel: uname -r over SSH equals the headers release', async () => {
    const release = (await ssh.run('uname -r')).stdout.toString().trim();
    expect(release).toBe(labKernel().release);
    expect(release).toBe(labKernel().buildTree.release);
    console.log(`lab VM: SSH ready ${vm.state.bootMs} ms after qemu started`);
  });

  it('has the filesystems probes need mounted by /init', async () => {
    const mounts = (await ssh.run('cat /proc/mounts')).stdout.toString();
    for (const fs of ['proc', 'sysfs', 'devtmpfs', 'devpts', 'debugfs', 'tracefs']) expect(mounts).toMatch(new RegExp(`^\\S+ \\S+ ${fs} `, 'm'));
  });

  it('builds a test module with kbuild and loads and unloads it in the guest', async () => {
    const identity = await readIdentity(ssh);
    const tree = buildTreeFor(identity); // release, version string and vermagic all match
    const dir = tempDir('tapsh-kmod-');
    cpSync(join(REPO, 'test/kmod'), dir, { recursive: true });
    const built = await kbuild(tree, dir, 'tapsh_labtest');
    const vermagic = execFileSync('modinfo', ['-F', 'vermagic', built.ko], { encoding: 'utf8' }).trim();
    expect(vermagic).toBe(identity.vermagic.trim());

    await ssh.put(readFileSync(built.ko), '/tmp/tapsh_labtest.ko');
    const tag = `t${Date.now()}`;
    await ssh.run(`insmod /tmp/tapsh_labtest.ko tag=${tag}`);
    expect((await ssh.run('cat /sys/module/tapsh_labtest/parameters/tag')).stdout.toString().trim()).toBe(tag);
    expect((await ssh.run('lsmod')).stdout.toString()).toMatch(/^tapsh_labtest /m);
    await ssh.run('rmmod tapsh_labtest');
    const dmesg = (await ssh.run('dmesg')).stdout.toString();
    expect(dmesg).toContain(`tapsh_labtest: loaded, tag=${tag}`);
    expect(dmesg).toContain(`tapsh_labtest: unloaded, tag=${tag}`);
    expect(dmesg).not.toMatch(/Oops|BUG:|WARNING:/);
    expect((await ssh.run('lsmod')).stdout.toString()).not.toMatch(/^tapsh_labtest /m);
  });

  it('captures the kernel model: identity, functions, tracepoints with fields, BTF', async () => {
    const model = await captureKernelModel(ssh, { refresh: true });
    expect(model.identity.release).toBe(labKernel().release);
    expect(model.identity.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect(model.functions.get('do_sys_openat2')).toMatchObject({ module: '', traceable: true });
    expect(model.functions.get('virtnet_poll')?.module).toBe('virtio_net');
    const sw = model.tracepoints.get('sched:sched_switch');
    expect(sw?.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['prev_comm', 'prev_pid', 'prev_prio', 'prev_state', 'next_comm', 'next_pid', 'next_prio']));
    expect(sw?.fields.find((f) => f.name === 'prev_comm')).toMatchObject({ size: 16 });
    expect(model.btfSize).toBeGreaterThan(1_000_000);
    expect(readFileSync(model.btfPath).subarray(0, 2).readUInt16LE(0)).toBe(0xeb9f); // BTF magic

    // Our BTF reader understands the real blob: prototypes, struct layouts (UAPI open_how is fixed).
    const btf = Btf.parse(readFileSync(model.btfPath));
    expect(btf.count).toBeGreaterThan(50_000);
    const open = btf.funcProto('do_sys_openat2')!;
    expect(open.params.map((p) => `${btf.typeName(p.type)} ${p.name}`)).toEqual(['int dfd', 'const char * filename', 'struct open_how * how']);
    const how = btf.find('open_how', BtfKind.Struct)[0]!;
    expect(btf.sizeof(how)).toBe(24);
    expect(['flags', 'mode', 'resolve'].map((n) => btf.member(how, n)!.bitOffset / 8)).toEqual([0, 8, 16]);
    const task = btf.find('task_struct', BtfKind.Struct)[0]!;
    expect(btf.typeName(btf.member(task, 'comm')!.type)).toBe('char [16]');
    expect(btf.typeName(btf.member(task, 'real_parent')!.type)).toBe('struct task_struct *');

    // A second capture of the same release + build id comes from the cache.
    const dir = model.btfPath.slice(0, model.btfPath.lastIndexOf('/'));
    const again = loadKernelModel(dir);
    expect(again?.functions.size).toBe(model.functions.size);
    expect(again?.tracepoints.get('sched:sched_switch')).toEqual(sw);
  });

  it('refuses a wrong pinned host key with a clear error', async () => {
    const other = tempDir('tapsh-key-');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other, 'k')]);
    const wrong = Buffer.from(readFileSync(join(other, 'k.pub'), 'utf8').split(' ')[1]!, 'base64');
    const err = await vm.connect(10_000, [wrong]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).code).toBe('HOST_KEY_MISMATCH');
    expect((err as TargetError).message).toContain(`lab VM (127.0.0.1:${vm.state.port}): verify host key: the host presented SHA256:`);
    expect((err as TargetError).message).toContain('connection refused');
    // The right key still works.
    const ok = await vm.connect();
    await ok.close();
  });

  it('stops without leaving a qemu process behind', async () => {
    const dir = vm.state.dir;
    expect(qemuProcesses(dir).length).toBe(1);
    await ssh.close();
    await vm.stop();
    expect(qemuProcesses(dir)).toEqual([]);
  });
});
