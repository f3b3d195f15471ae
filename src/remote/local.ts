// The local machine as a Target: commands through child_process, files through node:fs.
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import type { LiveStream, RunOptions, RunResult, Target } from './target.js';
import { TargetError } from './target.js';

export class LocalTarget implements Target {
  readonly name = 'local';
  private closed = false;

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    this.assertOpen('run');
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // a command that ignores its input closes the pipe early
    child.stdin.end(options.input ?? '');
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs);
    }
    try {
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (c, signal) => resolve(c ?? 128 + signalNumber(signal)));
      });
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code };
      if (timedOut) {
        throw new TargetError('TIMEOUT', this.name, `run \`${command}\``, `no result after ${options.timeoutMs} ms`, 'Raise the time limit or check what the command is waiting for.');
      }
      if (code !== 0 && !options.allowFailure) {
        throw new TargetError('COMMAND_FAILED', this.name, `run \`${command}\``, `exit status ${code}: ${result.stderr.toString().trim()}`, '');
      }
      return result;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async put(data: Uint8Array, remotePath: string, mode = 0o600): Promise<void> {
    this.assertOpen('put');
    try {
      await writeFile(remotePath, data, { mode });
      await chmod(remotePath, mode);
    } catch (e) {
      throw new TargetError('UPLOAD_FAILED', this.name, `write ${remotePath}`, (e as Error).message, 'Check that the directory exists and is writable.');
    }
  }

  stream(command: string): LiveStream {
    this.assertOpen('stream');
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (c, signal) => resolve(c ?? 128 + signalNumber(signal)));
    });
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      close: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new TargetError('CLOSED', this.name, op, 'the target was already closed', 'Open a new target.');
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

export function signalNumber(signal: NodeJS.Signals | string | null | undefined): number {
  if (!signal) return 0;
  return SIGNALS[signal] ?? 1;
}
