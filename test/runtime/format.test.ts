// runtime-c in the lab VM: printf directives, print helpers, stats, both histogram formats, maps and sorted foreach — byte for byte against stap 4.8's saved output.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { missing } from '../helpers/env.js';
import { bootLab, buildModule, labTree, oracle, runModule, guardLab } from './harness.js';
import { ModuleState } from '../../src/run/records.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen', 'make'], 'runtime-c VM tests');

describe.skipIf(skip)('runtime-c formatting and data in the lab VM', () => {
  let vm: LabVm;
  let ssh: SshTarget;
  const ko: Record<string, string> = {};

  beforeAll(async () => {
    const tree = labTree();
    // Build while the VM boots.
    const builds = ['tapsh_rt_printf', 'tapsh_rt_data'].map(async (n) => (ko[n] = await buildModule(tree, n)));
    const lab = bootLab();
    lab.catch(() => undefined); // awaited below; do not let a boot failure go unhandled meanwhile
    await Promise.all(builds);
    ({ vm, ssh } = await lab);
  }, 240_000);

  guardLab(() => ({ vm, ssh }));

  it('printf: every directive, flag, width and precision as stap prints them', async () => {
    const r = await runModule(ssh, ko['tapsh_rt_printf']!, 'tapsh_rt_printf', { exit: false });
    expect(r.errors).toEqual([]);
    expect(r.output).toBe(oracle('printf_b') + oracle('printf_str') + oracle('printf_int'));
    expect(r.states).toEqual([ModuleState.Loaded, ModuleState.Starting, ModuleState.Stopping, ModuleState.Done]);
    expect(r.eofStatus).toBe(0);
    expect(r.missingSeq).toBe(0n);
  });

  it('statistics, @hist_log/@hist_linear, maps and sorted foreach', async () => {
    const r = await runModule(ssh, ko['tapsh_rt_data']!, 'tapsh_rt_data', { exit: false });
    expect(r.errors).toEqual([]);
    const want = ['stats', 'hist_small', 'hist_neg', 'maps', 'maps_stat', 'stats_empty2'].map((n) => oracle(n)).join('');
    expect(r.output).toBe(want);
    expect(r.eofStatus).toBe(0);
  });
});
