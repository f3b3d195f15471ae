// Test-only helpers for runtime-c: build hand-written modules with kbuild, run them in the lab VM, decode records.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { labKernel, type BuildTree } from '../../src/build/buildtree.js';
import { kbuild } from '../../src/build/kbuild.js';
import { LabVm } from '../../src/remote/lab.js';
import type { SshTarget } from '../../src/remote/ssh.js';
import { RecordDecoder, RecordKind, droppedCounts, stateOf, type ModuleRecord, ModuleState } from '../../src/run/records.js';
import { afterAll, afterEach, expect } from 'vitest';
import { REPO, tempDir } from '../helpers/env.js';

export const RUNTIME_DIR = join(REPO, 'runtime-c');
export const MODULES_DIR = join(REPO, 'test/runtime/modules');
export const ORACLE_OUT = join(REPO, 'test/runtime/oracle/out');

/** A saved stap 4.8 result: NAME.out (stdout) or NAME.err (its ERROR/WARNING lines). */
export function oracle(name: string, ext: 'out' | 'err' = 'out'): string {
  return readFileSync(join(ORACLE_OUT, `${name}.${ext}`), 'latin1');
}

/** The build tree matching the lab kernel (the lab boots the newest installed Debian kernel). */
export function labTree(): BuildTree {
  const k = labKernel();
  return k.buildTree;
}

/** Builds test/runtime/modules/NAME.c (plus -D flags) into NAME.ko against the runtime. */
export async function buildModule(tree: BuildTree, name: string, defines: string[] = [], extraSymbols?: string): Promise<string> {
  const dir = tempDir(`tapsh-rt-${name}-`);
  copyFileSync(join(MODULES_DIR, `${name}.c`), join(dir, `${name}.c`));
  const flags = [`-I${RUNTIME_DIR}`, ...defines.map((d) => `-D${d}`)].join(' ');
  writeFileSync(join(dir, 'Kbuild'), `obj-m += ${name}.o\nccflags-y += ${flags}\n`);
  return (await kbuild(tree, dir, name, extraSymbols ? [`KBUILD_EXTRA_SYMBOLS=${extraSymbols}`] : [])).ko;
}

function make(tree: BuildTree, dir: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['-C', tree.dir, `M=${dir}`, target], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`make ${target} in ${dir} failed:\n${log}`))));
  });
}

/**
 * The split build (README.md "Build modes"): the runtime compiled once into an object, kept with its
 * kbuild .cmd file; each script unit then includes only tap.h and links that object as a _shipped file.
 */
export async function buildRuntimeObject(tree: BuildTree, defines: string[] = []): Promise<{ dir: string; ms: number }> {
  const t0 = Date.now();
  const dir = tempDir('tapsh-rt-core-');
  writeFileSync(join(dir, 'tapsh_runtime.c'), '#include "tap_runtime.c"\n');
  writeFileSync(join(dir, 'Kbuild'), `obj-m += tapsh_runtime.o\nccflags-y += ${[`-I${RUNTIME_DIR}`, ...defines.map((d) => `-D${d}`)].join(' ')}\n`);
  await make(tree, dir, 'tapsh_runtime.o');
  return { dir, ms: Date.now() - t0 };
}

/** Builds test/runtime/modules/NAME.c (which includes only tap.h) against a prebuilt runtime object. */
export async function buildSplitModule(tree: BuildTree, name: string, core: { dir: string }, defines: string[] = []): Promise<{ ko: string; ms: number }> {
  const t0 = Date.now();
  const dir = tempDir(`tapsh-rt-${name}-`);
  copyFileSync(join(MODULES_DIR, `${name}.c`), join(dir, 'script.c'));
  copyFileSync(join(core.dir, 'tapsh_runtime.o'), join(dir, 'tapsh_runtime.o_shipped'));
  // modpost reads each object's .cmd file (for srcversion); the shipped object gets a one-line one.
  writeFileSync(join(dir, '.tapsh_runtime.o.cmd'), `cmd_${dir}/tapsh_runtime.o := cp tapsh_runtime.o_shipped tapsh_runtime.o\n`);
  const flags = [`-I${RUNTIME_DIR}`, ...defines.map((d) => `-D${d}`)].join(' ');
  writeFileSync(join(dir, 'Kbuild'), `obj-m += ${name}.o\n${name}-y := script.o tapsh_runtime.o\nccflags-y += ${flags}\n`);
  const ko = (await kbuild(tree, dir, name)).ko;
  return { ko, ms: Date.now() - t0 };
}

export interface RunResult {
  records: ModuleRecord[];
  output: string;
  errors: string[];
  warnings: string[];
  states: ModuleState[];
  stats: Record<string, number>;
  dropped: { records: bigint; bytes: bigint };
  missingSeq: bigint;
  eofStatus: number | undefined;
  startStatus: number;
}

export interface RunOptions {
  /** Module parameters for insmod. */
  params?: string;
  /** Runs after `start` was written (e.g. a workload); its result is kept. */
  during?: (ssh: SshTarget) => Promise<void>;
  /** Write `exit` to ctl after `during` (default true; false waits for the script's own exit()). */
  exit?: boolean;
  /** Give up waiting for EOF after this long. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Loads NAME.ko, streams its data file, starts it, waits for EOF, unloads it. */
export async function runModule(ssh: SshTarget, ko: string, name: string, opts: RunOptions = {}): Promise<RunResult> {
  const remote = `/tmp/${name}.ko`;
  const proc = `/proc/${name.startsWith('tapsh_') ? name : `tapsh_${name}`}`;
  await ssh.put(readFileSync(ko), remote);
  await ssh.run(`insmod ${remote} ${opts.params ?? ''}`);
  const decoder = new RecordDecoder();
  const records: ModuleRecord[] = [];
  let sawEof!: () => void;
  const eof = new Promise<void>((r) => (sawEof = r));
  const stream = ssh.stream(`cat ${proc}/data`);
  stream.stdout.on('data', (b: Buffer) => {
    for (const r of decoder.push(b)) {
      records.push(r);
      if (r.kind === RecordKind.Eof) sawEof();
    }
  });
  let startStatus = 0;
  try {
    const st = await ssh.run(`echo start > ${proc}/ctl`, { allowFailure: true });
    startStatus = st.code;
    if (opts.during) await opts.during(ssh);
    if (opts.exit !== false) await ssh.run(`echo exit > ${proc}/ctl`, { allowFailure: true });
    const timeout = opts.timeoutMs ?? 30_000;
    await Promise.race([eof, sleep(timeout).then(() => { throw new Error(`${name}: no EOF record within ${timeout} ms; got ${records.length} records`); })]);
    await stream.exited;
  } finally {
    await stream.close();
    await ssh.run(`rmmod ${name}`, { allowFailure: true });
  }
  return summarize(records, decoder.missing, startStatus);
}

function summarize(records: ModuleRecord[], missingSeq: bigint, startStatus: number): RunResult {
  const out: Buffer[] = [];
  const res: RunResult = {
    records, output: '', errors: [], warnings: [], states: [], stats: {}, dropped: { records: 0n, bytes: 0n }, missingSeq, eofStatus: undefined, startStatus,
  };
  for (const r of records) {
    switch (r.kind) {
      case RecordKind.Output: out.push(r.payload); break;
      case RecordKind.Error: res.errors.push(r.payload.toString('utf8')); break;
      case RecordKind.Warning: res.warnings.push(r.payload.toString('utf8')); break;
      case RecordKind.State: res.states.push(stateOf(r).state); break;
      case RecordKind.Dropped: {
        const d = droppedCounts(r);
        res.dropped.records += d.records;
        res.dropped.bytes += d.bytes;
        break;
      }
      case RecordKind.Stats:
        for (const line of r.payload.toString('utf8').split('\n')) {
          const m = /^(\w+)=(\d+)$/.exec(line);
          if (m) res.stats[m[1]!] = Number(m[2]);
        }
        break;
      case RecordKind.Eof: res.eofStatus = r.payload.readUInt32LE(0); break;
    }
  }
  res.output = Buffer.concat(out).toString('latin1');
  return res;
}

/** Sends one command to the lab VM's qemu monitor (HMP on a unix socket) and returns what it printed. */
export function monitorCommand(vm: LabVm, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(vm.monitorSocket);
    let out = '';
    let sent = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(out);
    }, 1500);
    sock.on('data', (b: Buffer) => {
      out += b.toString();
      if (!sent && out.includes('(qemu)')) {
        sent = true;
        sock.write(`${command}\n`);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Boots the lab VM once for a test file. One retry: on a loaded host a TCG guest
 * sometimes panics in early boot ("IO-APIC + timer doesn't work", the 8254 check).
 */
export async function bootLab(): Promise<{ vm: LabVm; ssh: SshTarget }> {
  const vm = await LabVm.boot({ timeoutMs: 150_000 }).catch((e: unknown) => {
    console.warn(`lab VM boot failed, retrying once: ${String(e).split('\n')[0]}`);
    return LabVm.boot({ timeoutMs: 150_000 });
  });
  const ssh = await vm.connect();
  await ssh.run('dmesg -c > /dev/null', { allowFailure: true });
  return { vm, ssh };
}

/** After every test: no Oops/BUG/WARNING in the kernel log, no tapsh module loaded. Returns the new dmesg text. */
export async function kernelClean(ssh: SshTarget): Promise<{ dmesg: string; modules: string }> {
  const dmesg = (await ssh.run('dmesg -c', { allowFailure: true })).stdout.toString();
  const modules = (await ssh.run('cat /proc/modules')).stdout.toString().split('\n').filter((l) => /^tapsh/.test(l)).join('\n');
  return { dmesg, modules };
}

export const BAD_KERNEL_LOG = /Oops|BUG:|WARNING:|general protection|kernel panic|Call Trace/;

/**
 * The hooks every runtime test file shares: after each test the guest kernel log is clean and no
 * module of ours is left loaded; after the file the VM is stopped. Getters, because the VM is
 * booted in the file's own beforeAll.
 */
export function guardLab(lab: () => { vm: LabVm | undefined; ssh: SshTarget | undefined }): void {
  afterEach(async () => {
    const { dmesg, modules } = await kernelClean(lab().ssh!);
    expect(dmesg).not.toMatch(BAD_KERNEL_LOG);
    expect(modules).toBe('');
  });
  afterAll(async () => {
    await lab().ssh?.close();
    await lab().vm?.stop();
  });
}
