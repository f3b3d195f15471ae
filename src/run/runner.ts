// Pass 5: load a built module on a target, stream its records, stop it on exit/Ctrl-C/-T/-c, unload it.
import { randomBytes } from 'node:crypto';
import type { Target } from '../remote/target.js';
import { shellQuote, TargetError } from '../remote/target.js';
import { droppedCounts, ModuleState, RecordDecoder, RecordKind, stateOf, type ModuleRecord } from './records.js';

export interface RunOptions {
  target: Target;
  /** The .ko's bytes and its module name. */
  ko: Uint8Array;
  name: string;
  /** insmod parameters (e.g. -G globals as tapsh_global_NAME=VALUE). */
  params?: string[];
  /** Where script output goes (stdout or the -o file). */
  output: (bytes: Buffer) => void;
  /** Where tapsh's own messages go (stderr). */
  diag: (text: string) => void;
  /** -T: stop after this many seconds. */
  timeoutSeconds?: number;
  /** -c: run this command on the target; target() is its pid and the script stops when it exits. */
  command?: string;
  /** -x: target() is this pid. */
  targetPid?: number;
  /** Resolves when the user asks to stop (Ctrl-C); the runner then asks the module to exit. */
  interrupt?: Promise<void>;
  /** Called for every record (for tools and tests). */
  onRecord?: (r: ModuleRecord) => void;
}

export interface RunResult {
  /** stap-style exit status: 0 normally, 1 after script errors or a failed start. */
  status: number;
  errors: number;
  warnings: number;
  droppedRecords: bigint;
  /** Sequence numbers never seen (records lost without a DROPPED report would show here). */
  missing: bigint;
  finalState: ModuleState | undefined;
  stats: Map<string, string>;
}

function procDir(name: string): string {
  return `/proc/tapsh_${name}`;
}

/** Runs the module to completion. Always unloads it and removes what it uploaded, whatever happens. */
export async function runModule(o: RunOptions): Promise<RunResult> {
  const t = o.target;
  const dir = `/tmp/tapsh-${randomBytes(6).toString('hex')}`;
  const ko = `${dir}/${o.name}.ko`;
  const ctl = `${procDir(o.name)}/ctl`;
  const result: RunResult = { status: 0, errors: 0, warnings: 0, droppedRecords: 0n, missing: 0n, finalState: undefined, stats: new Map() };
  let loaded = false;
  let cmdStream: ReturnType<Target['stream']> | undefined;
  let dataStream: ReturnType<Target['stream']> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let exitRequested = false;

  const requestExit = async () => {
    if (exitRequested) return;
    exitRequested = true;
    await t.run(`echo exit > ${ctl}`, { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
  };

  try {
    // -c: start the command stopped, so the module knows its pid before anything runs.
    let targetPid = o.targetPid;
    if (o.command) {
      cmdStream = t.stream(`sh -c 'echo $$; kill -STOP $$; exec sh -c "$0"' ${shellQuote(o.command)}`);
      targetPid = await firstLinePid(cmdStream);
    }
    const params = [...(o.params ?? []), ...(targetPid ? [`tapsh_target=${targetPid}`] : [])];
    // Upload and load in one round trip; the file is not needed once the module is in the kernel.
    const ins = await t.run(
      `umask 077 && mkdir ${dir} && cat > ${ko} && insmod ${ko} ${params.map(shellQuote).join(' ')}; rc=$?; rm -rf ${dir}; exit $rc`,
      { input: o.ko, allowFailure: true, timeoutMs: 120_000 },
    );
    if (ins.code !== 0) {
      throw new TargetError('COMMAND_FAILED', t.name, `insert module ${o.name}`, ins.stderr.toString().trim() || `insmod exit ${ins.code}`,
        'Check the target\'s kernel log (dmesg) for why the module was refused.');
    }
    loaded = true;

    const decoder = new RecordDecoder();
    let eof = false;
    const done = new Promise<void>((resolve, reject) => {
      // Arm the module, release the -c command, then read: one channel. A failed start is
      // reported by the module itself as ERROR records followed by EOF.
      const cont = o.command && targetPid ? `kill -CONT ${targetPid} 2>/dev/null; ` : '';
      dataStream = t.stream(`echo start > ${ctl} 2>/dev/null; ${cont}exec cat ${procDir(o.name)}/data`);
      dataStream.stdout.on('data', (chunk: Buffer) => {
        let records: ModuleRecord[];
        try {
          records = decoder.push(chunk);
        } catch (e) {
          reject(e);
          return;
        }
        for (const r of records) {
          o.onRecord?.(r);
          switch (r.kind) {
            case RecordKind.Output:
              o.output(r.payload);
              break;
            case RecordKind.Warning:
              result.warnings++;
              o.diag(`WARNING: ${r.payload.toString('utf8')}\n`);
              break;
            case RecordKind.Error:
              result.errors++;
              o.diag(`ERROR: ${r.payload.toString('utf8')}\n`);
              break;
            case RecordKind.Dropped:
              result.droppedRecords += droppedCounts(r).records;
              break;
            case RecordKind.State:
              result.finalState = stateOf(r).state;
              break;
            case RecordKind.Stats:
              for (const line of r.payload.toString('utf8').split('\n')) {
                const eq = line.indexOf('=');
                if (eq > 0) result.stats.set(line.slice(0, eq), line.slice(eq + 1));
              }
              break;
            case RecordKind.Eof:
              eof = true;
              if (r.payload.length >= 4 && r.payload.readUInt32LE(0) !== 0) result.status = 1;
              break;
          }
        }
      });
      dataStream.exited.then(() => {
        result.missing = decoder.missing;
        if (eof) resolve();
        else reject(new TargetError('COMMAND_FAILED', t.name, `read ${procDir(o.name)}/data`, 'the output stream ended before the module finished', 'Check the target\'s kernel log (dmesg).'));
      }, reject);
    });

    done.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled

    if (o.command && cmdStream) {
      cmdStream.stdout.on('data', (b: Buffer) => o.output(b));
      cmdStream.stderr.on('data', (b: Buffer) => o.diag(b.toString()));
      void cmdStream.exited.then(requestExit);
    }
    if (o.timeoutSeconds !== undefined) timers.push(setTimeout(() => void requestExit(), o.timeoutSeconds * 1000));
    if (o.interrupt) void o.interrupt.then(requestExit);

    await done;
    // staprun's closing summary, in its words.
    const errors = Number(result.stats.get('errors') ?? result.errors);
    const skipped = Number(result.stats.get('skipped') ?? 0);
    if (errors > 0 || skipped > 0) o.diag(`WARNING: Number of errors: ${errors}, skipped probes: ${skipped}\n`);
    if (result.droppedRecords > 0n) o.diag(`WARNING: There were ${result.droppedRecords} transport failures.\n`);
    if (result.errors > 0 || errors > 0) result.status = 1;
    return result;
  } finally {
    for (const tm of timers) clearTimeout(tm);
    await dataStream?.close().catch(() => undefined);
    await cmdStream?.close().catch(() => undefined);
    if (loaded) {
      // rmmod is safe in every module state: module_exit disarms first.
      const rm = await t.run(`rmmod ${o.name}`, { allowFailure: true, timeoutMs: 60_000 }).catch((e: Error) => ({ code: 1, stderr: Buffer.from(e.message) }));
      if (rm.code !== 0) o.diag(`WARNING: could not unload module ${o.name}: ${rm.stderr.toString().trim()}\n`);
    }
  }
}

async function firstLinePid(s: ReturnType<Target['stream']>): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        s.stdout.removeListener('data', onData);
        const pid = Number(buf.slice(0, nl).trim());
        if (Number.isInteger(pid) && pid > 0) resolve(pid);
        else reject(new Error(`could not start the -c command: ${buf.slice(0, 200)}`));
      }
    };
    s.stdout.on('data', onData);
    s.exited.then(() => reject(new Error('the -c command exited before it started')), reject);
  });
}
