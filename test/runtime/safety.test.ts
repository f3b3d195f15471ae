// runtime-c in the lab VM: script errors and limits as stap 4.8 reports them, a printf flood with drops, SysRq disarm.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { ModuleState } from '../../src/run/records.js';
import { missing } from '../helpers/env.js';
import { bootLab, buildModule, labTree, monitorCommand, oracle, runModule, guardLab } from './harness.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen', 'make'], 'runtime-c VM tests');

/** ERROR lines of a saved oracle run, without the "ERROR: " prefix. */
function oracleErrors(name: string): string[] {
  return oracle(name, 'err').split('\n').filter((l) => l.startsWith('ERROR: ')).map((l) => l.slice(7));
}

describe.skipIf(skip)('runtime-c errors, limits and safety in the lab VM', () => {
  let vm: LabVm;
  let ssh: SshTarget;
  const ko: Record<string, string> = {};

  beforeAll(async () => {
    const tree = labTree();
    const builds = [
      buildModule(tree, 'tapsh_rt_errors').then((k) => (ko['errors'] = k)),
      buildModule(tree, 'tapsh_rt_limits', ['MAXSTRINGLEN=16', 'MAXERRORS=2']).then((k) => (ko['limits'] = k)),
      buildModule(tree, 'tapsh_rt_flood', ['TAP_NO_OVERLOAD', 'MAXSKIPPED=100000000']).then((k) => (ko['flood'] = k)),
      buildModule(tree, 'tapsh_rt_guard', ['TAP_OVERLOAD_THRESHOLD_NS=5000000LL']).then((k) => (ko['guard'] = k)),
    ];
    const lab = bootLab();
    lab.catch(() => undefined); // awaited below; do not let a boot failure go unhandled meanwhile
    await Promise.all(builds);
    ({ vm, ssh } = await lab);
  }, 240_000);

  guardLab(() => ({ vm, ssh }));

  // tcase → the oracle script it reproduces
  const cases: [string, string][] = [
    ['div0', 'err_div0'],
    ['mod0', 'err_mod0'],
    ['maxaction', 'err_maxaction'],
    ['nesting', 'err_nesting'],
    ['mapfull', 'err_mapfull_decl'],
    ['addr0', 'err_addr0'],
    ['addrlong', 'err_addrlong'],
    ['catch', 'err_catch'],
    ['error', 'err_error'],
    ['exit_end', 'exit_end'],
    ['inend', 'err_inend'],
    ['emptymin', 'stats_emptymin'],
    ['errprobe', 'err_probe'],
  ];
  it.each(cases)('tcase=%s behaves as stap 4.8 ran %s.stp', async (tcase, name) => {
    const r = await runModule(ssh, ko['errors']!, 'tapsh_rt_errors', { params: `tcase=${tcase}`, exit: false });
    expect(r.output).toBe(oracle(name));
    expect(r.errors).toEqual(oracleErrors(name));
    expect(r.eofStatus).toBe(r.errors.length ? 1 : 0);
    expect(r.states.at(-1)).toBe(ModuleState.Done);
  });

  it('truncates strings at MAXSTRINGLEN (-DMAXSTRINGLEN=16)', async () => {
    const r = await runModule(ssh, ko['limits']!, 'tapsh_rt_limits', { params: 'tcase=strlen', exit: false });
    expect(r.output).toBe(oracle('strlen'));
    expect(r.errors).toEqual([]);
  });

  it('stops after MAXERRORS+1 errors, without end probes (-DMAXERRORS=2)', async () => {
    const r = await runModule(ssh, ko['limits']!, 'tapsh_rt_limits', { params: 'tcase=multi', exit: false });
    expect(r.output).toBe(oracle('err_multi'));
    expect(r.errors).toEqual(oracleErrors('err_multi'));
    expect(r.stats['errors']).toBe(3);
  });

  it('stops a script whose handlers use most of a CPU (overload guard), without end probes', async () => {
    const r = await runModule(ssh, ko['guard']!, 'tapsh_rt_guard', {
      params: 'tcase=overload spins=20000',
      exit: false,
      during: async (t) => {
        await t.run('dd if=/dev/zero of=/dev/null bs=1 count=3000 2>/dev/null', { timeoutMs: 60_000 });
      },
    });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^probe overhead \(\d+ ns\) exceeded threshold \(5000000 ns\) in last \d+ ns$/);
    expect(r.output).toBe('');
  });

  it('reports dropped records under a printf flood and the guest stays responsive', async () => {
    let rtt = 0;
    const r = await runModule(ssh, ko['flood']!, 'tapsh_rt_flood', {
      params: 'tapsh_bufsize=16384',
      during: async (t) => {
        const flood = t.run('dd if=/dev/zero of=/dev/null bs=1 count=30000 2>/dev/null');
        await new Promise((res) => setTimeout(res, 500));
        const t0 = Date.now();
        await t.run('true');
        rtt = Date.now() - t0;
        await flood;
      },
      timeoutMs: 60_000,
    });
    const lines = r.output.split('\n').filter((l) => l.startsWith('vfs_'));
    console.log(`flood: ${lines.length} lines delivered, dropped ${r.dropped.records} records/${r.dropped.bytes} bytes, seq gaps ${r.missingSeq}, ssh round trip during flood ${rtt} ms`);
    expect(r.dropped.records).toBeGreaterThan(0n);
    expect(r.missingSeq).toBe(r.dropped.records); // every gap in the sequence is accounted for
    expect(r.stats['dropped']).toBe(Number(r.dropped.records));
    expect(r.errors).toEqual([]);
    expect(r.output.endsWith('end hits>0=1\n')).toBe(true);
    expect(rtt).toBeLessThan(10_000);
  });

  it('disarms through /proc/sysrq-trigger while flooding: handlers stop, kprobes gone, no end probes', async () => {
    let before = '';
    let after = '';
    const r = await runModule(ssh, ko['flood']!, 'tapsh_rt_flood', {
      exit: false,
      during: async (t) => {
        // nice: the flood keeps the CPUs busy, but the control path (sshd, the test's commands) still gets scheduled under TCG.
        await t.run('(nice -n 19 dd if=/dev/zero of=/dev/null bs=1 count=100000 2>/dev/null &) ; sleep 0.5');
        before = (await t.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
        await t.run('echo y > /proc/sysrq-trigger');
        await new Promise((res) => setTimeout(res, 500));
        after = (await t.run('cat /sys/kernel/debug/kprobes/list; killall dd; true')).stdout.toString();
      },
      timeoutMs: 60_000,
    });
    expect(before).toMatch(/vfs_read/);
    expect(after).not.toMatch(/vfs_read|vfs_write/);
    expect(r.states.at(-1)).toBe(ModuleState.Disarmed);
    expect(r.eofStatus).toBe(1);
    expect(r.output).not.toContain('end hits');
    const dmesg = (await ssh.run('dmesg')).stdout.toString();
    expect(dmesg).toContain('tapsh: disarming probes');
  });

  it("disarms from the keyboard (qemu monitor sendkey alt-sysrq-y) while flooding", async () => {
    let after = '';
    const r = await runModule(ssh, ko['flood']!, 'tapsh_rt_flood', {
      exit: false,
      during: async (t) => {
        // nice: the flood keeps the CPUs busy, but the control path (sshd, the test's commands) still gets scheduled under TCG.
        await t.run('(nice -n 19 dd if=/dev/zero of=/dev/null bs=1 count=100000 2>/dev/null &) ; sleep 0.5');
        await monitorCommand(vm, 'sendkey alt-sysrq-y');
        await new Promise((res) => setTimeout(res, 500));
        after = (await t.run('cat /sys/kernel/debug/kprobes/list; killall dd; true')).stdout.toString();
      },
      timeoutMs: 60_000,
    });
    expect(r.states.at(-1)).toBe(ModuleState.Disarmed);
    expect(after).not.toMatch(/vfs_read|vfs_write/);
    expect(r.output).not.toContain('end hits');
  });
});
