// runtime-c session core in the lab VM: handler modules attach to a loaded core, share a global by name, detach cleanly.
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { ModuleState, RecordKind } from '../../src/run/records.js';
import { missing } from '../helpers/env.js';
import { bootLab, buildModule, labTree, runModule, guardLab } from './harness.js';
import { readFileSync } from 'node:fs';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen', 'make'], 'runtime-c VM tests');

describe.skipIf(skip)('runtime-c session core in the lab VM', () => {
  let vm: LabVm;
  let ssh: SshTarget;
  const ko: Record<string, string> = {};

  beforeAll(async () => {
    const tree = labTree();
    const lab = bootLab();
    lab.catch(() => undefined); // awaited below; do not let a boot failure go unhandled meanwhile
    ko['core'] = await buildModule(tree, 'tapsh_rt_core');
    const symvers = join(dirname(ko['core']), 'Module.symvers');
    await Promise.all(['tapsh_rt_h1', 'tapsh_rt_h2'].map(async (n) => (ko[n] = await buildModule(tree, n, [], symvers))));
    ({ vm, ssh } = await lab);
  }, 240_000);

  guardLab(() => ({ vm, ssh }));

  it('adds and deletes entries as handler modules; the global outlives them; end probes of loaded entries run', async () => {
    for (const n of ['tapsh_rt_h1', 'tapsh_rt_h2']) await ssh.put(readFileSync(ko[n]!), `/tmp/${n}.ko`);
    let listedWith = '';
    let listedAfter = '';
    const r = await runModule(ssh, ko['core']!, 'tapsh_rt_core', {
      during: async (t) => {
        await t.run('insmod /tmp/tapsh_rt_h1.ko');
        listedWith = (await t.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
        await t.run('dd if=/dev/zero of=/dev/null bs=512 count=2000 2>/dev/null');
        await t.run('rmmod tapsh_rt_h1');
        listedAfter = (await t.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
        await t.run('insmod /tmp/tapsh_rt_h2.ko');
      },
    });
    await ssh.run('rmmod tapsh_rt_h2 && rmmod tapsh_rt_core'); // the core's unload in runModule failed: h2 still used it
    expect(listedWith).toMatch(/vfs_read/);
    expect(listedAfter).not.toMatch(/vfs_read/);
    expect(r.errors).toEqual([]);
    // A handler's output comes tagged with its entry number (PROTOCOL.md kind 8), nothing untagged.
    expect(r.output).toBe('');
    const tagged = r.records.filter((x) => x.kind === RecordKind.OutputEntry);
    expect(tagged.map((x) => x.payload.subarray(4).toString('latin1')).join('')).toBe('h2 sees reads>=1000=1\nh2 end\n');
    expect([...new Set(tagged.map((x) => x.payload.readUInt32LE(0)))]).toEqual([2]);
    expect(r.states).toEqual([ModuleState.Loaded, ModuleState.Starting, ModuleState.Running, ModuleState.Stopping, ModuleState.Done]);
  });
});
