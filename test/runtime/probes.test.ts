// runtime-c in the lab VM: kprobes (several sharing a handler), a kretprobe, timers, timer.profile, a tracepoint with fields, registration failures.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { ModuleState } from '../../src/run/records.js';
import { missing } from '../helpers/env.js';
import { bootLab, buildModule, buildRuntimeObject, buildSplitModule, labTree, runModule, guardLab } from './harness.js';

const skip = missing(['qemu-system-x86_64', 'dropbearconvert', 'ssh-keygen', 'make'], 'runtime-c VM tests');

/** Offset of a field in a tracefs format file. */
function fieldOffset(format: string, name: string): number {
  const m = new RegExp(`field:[^;]*\\b${name};\\s*offset:(\\d+);`).exec(format);
  if (!m) throw new Error(`no field ${name} in format:\n${format}`);
  return Number(m[1]);
}

describe.skipIf(skip)('runtime-c probe kinds in the lab VM', () => {
  let vm: LabVm;
  let ssh: SshTarget;
  const ko: Record<string, string> = {};
  let times = '';

  beforeAll(async () => {
    const tree = labTree();
    const builds: Promise<unknown>[] = ['tapsh_rt_probes', 'tapsh_rt_badprobe', 'tapsh_rt_example'].map(async (n) => (ko[n] = await buildModule(tree, n)));
    builds.push((async () => {
      const core = await buildRuntimeObject(tree, ['MAXSTRINGLEN=256']);
      const split = await buildSplitModule(tree, 'tapsh_rt_split', core, ['MAXSTRINGLEN=256']);
      ko['tapsh_rt_split'] = split.ko;
      times = `runtime object ${core.ms} ms, script unit + link against it ${split.ms} ms`;
    })());
    const lab = bootLab();
    lab.catch(() => undefined); // awaited below; do not let a boot failure go unhandled meanwhile
    await Promise.all(builds);
    ({ vm, ssh } = await lab);
  }, 240_000);

  guardLab(() => ({ vm, ssh }));

  it('counts kprobe and kretprobe hits under a workload, ticks timers, reads tracepoint fields', async () => {
    const format = (await ssh.run('cat /sys/kernel/tracing/events/sched/sched_process_exec/format')).stdout.toString();
    const params = `tp_filename_off=${fieldOffset(format, 'filename')} tp_pid_off=${fieldOffset(format, 'pid')}`;
    await ssh.run("printf '#!/bin/sh\\ntrue\\n' > /tmp/tapsh-probe-me && chmod +x /tmp/tapsh-probe-me");
    let listed = '';
    const r = await runModule(ssh, ko['tapsh_rt_probes']!, 'tapsh_rt_probes', {
      params,
      during: async (t) => {
        listed = (await t.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
        await t.run('dd if=/dev/zero of=/dev/null bs=512 count=2000 2>/dev/null; /tmp/tapsh-probe-me; sleep 0.3');
      },
    });
    expect(listed).toMatch(/vfs_read/);
    expect(listed).toMatch(/vfs_write/);
    expect(r.warnings).toEqual([
      'probe kprobe.function("tapsh_no_such_function")? registration failed (error -2): skipped',
    ]);
    expect(r.errors).toEqual([]);
    const [head, ...rest] = r.output.split('\n');
    expect(head).toBe('exec /tmp/tapsh-probe-me pid>0=1');
    expect(rest.slice(0, 5).join('\n')).toBe(
      ['reads>=1000=1 rets>=1000=1 retbytes>=512000=1 ticks>=10=1 prof>0=1 execs=1', 'vfs_open>0=1', 'vfs_read>0=1', 'vfs_write>0=1', 'entry>=rets=1 over=0'].join('\n'),
    );
    console.log(`probes: ${rest[5]}, hits=${r.stats['hits']}`);
    expect(r.states).toEqual([ModuleState.Loaded, ModuleState.Starting, ModuleState.Running, ModuleState.Stopping, ModuleState.Done]);
    expect(r.stats['hits']).toBeGreaterThan(4000);
    const after = (await ssh.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
    expect(after).not.toMatch(/vfs_read|vfs_write|vfs_open/);
  });

  it('runs a script unit built against a prebuilt runtime object (the split build), timer.jiffies', async () => {
    console.log(`split build (machine shared, wall clock): ${times}`);
    const r = await runModule(ssh, ko['tapsh_rt_split']!, 'tapsh_rt_split', { exit: false });
    expect(r.errors).toEqual([]);
    expect(r.output).toBe('hello 42 from a 256-byte-string runtime\n');
  });

  it("runs README.md's complete example module", async () => {
    const r = await runModule(ssh, ko['tapsh_rt_example']!, 'tapsh_rt_example', {
      during: async (t) => {
        await t.run('dd if=/dev/zero of=/dev/null bs=100 count=3000 2>/dev/null; sleep 1.3');
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.output).toMatch(/^dd \d+$/m);
    expect(r.output).toMatch(/^ *value \|-{50} count\n/m);
    expect(r.output).toMatch(/^ +64 \|@+ +\d+$/m); // the 100-byte reads
  });

  it('fails the start cleanly when a required probe cannot register', async () => {
    const r = await runModule(ssh, ko['tapsh_rt_badprobe']!, 'tapsh_rt_badprobe', { exit: false });
    expect(r.startStatus).not.toBe(0);
    expect(r.output).toBe('begin\n');
    expect(r.errors).toEqual(['probe kprobe.function("tapsh_no_such_function") registration failed (error -2)']);
    expect(r.states.at(-1)).toBe(ModuleState.Done);
    expect(r.eofStatus).toBe(1);
    const after = (await ssh.run('cat /sys/kernel/debug/kprobes/list')).stdout.toString();
    expect(after).not.toMatch(/vfs_read/);
  });
});
