// The Target interface every place tapsh probes implements (lab VM, SSH host, local machine).
import type { Readable } from 'node:stream';

export interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit status; 128+N when killed by signal N (as a shell reports it). */
  code: number;
}

export interface RunOptions {
  /** Bytes written to the command's standard input, which is then closed. */
  input?: Uint8Array | string;
  /** Give up after this long; the command is killed and the call fails with code TIMEOUT. */
  timeoutMs?: number;
  /** Resolve with a non-zero exit status instead of failing with COMMAND_FAILED. */
  allowFailure?: boolean;
}

/** A command running on the target whose output arrives as it is produced. */
export interface LiveStream {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves with the exit status once the command has ended and its output has been delivered. */
  readonly exited: Promise<number>;
  /** Ends the command (closes its channel or kills its process). Idempotent. */
  close(): Promise<void>;
}

export interface Target {
  /** Human-readable name used in messages ("lab VM (127.0.0.1:40123)", "root@db1", "local"). */
  readonly name: string;
  /** Runs a shell command (sh -c) and collects its output. */
  run(command: string, options?: RunOptions): Promise<RunResult>;
  /** Writes bytes to a file on the target, creating it with `mode`. */
  put(data: Uint8Array, remotePath: string, mode?: number): Promise<void>;
  /** Starts a command whose output is read as a stream. */
  stream(command: string): LiveStream;
  /** Releases the connection. Idempotent. */
  close(): Promise<void>;
}

export type TargetErrorCode =
  | 'CONNECT_FAILED'
  | 'HOST_KEY_MISMATCH'
  | 'HOST_KEY_UNKNOWN'
  | 'AUTH_FAILED'
  | 'COMMAND_FAILED'
  | 'TIMEOUT'
  | 'UPLOAD_FAILED'
  | 'CLOSED'
  | 'LAB_FAILED'
  | 'BUILD_TREE_MISMATCH'
  | 'SESSION_BUSY';

/** A failure talking to a target: says which host, which operation, and what to do. */
export class TargetError extends Error {
  constructor(
    readonly code: TargetErrorCode,
    readonly host: string,
    readonly operation: string,
    detail: string,
    readonly remedy: string,
  ) {
    super(`${host}: ${operation}: ${detail}${remedy ? `\n  ${remedy}` : ''}`);
    this.name = 'TargetError';
  }
}

/** Quotes one word for a POSIX shell so that it is passed through literally. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command and returns its standard output as text, failing on a non-zero status. */
export async function runText(target: Target, command: string, options?: RunOptions): Promise<string> {
  const r = await target.run(command, options);
  return r.stdout.toString('utf8');
}

/** The command that writes standard input to `remotePath` privately, then sets its mode. */
export function uploadCommand(remotePath: string, mode: number): string {
  const q = shellQuote(remotePath);
  return `umask 077 && cat > ${q} && chmod ${mode.toString(8)} ${q}`;
}
