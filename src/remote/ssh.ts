// A Target over SSH (ssh2): exec channels for commands and streams, exec-based upload, pinned host keys.
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { PassThrough } from 'node:stream';
import { fingerprint } from './hostkeys.js';
import { signalNumber } from './local.js';
import type { LiveStream, RunOptions, RunResult, Target } from './target.js';
import { TargetError, uploadCommand } from './target.js';

const { Client } = ssh2;

export interface SshTargetOptions {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** Key blobs this host may present; anything else is refused. Must not be empty. */
  hostKeys: Buffer[];
  /** How to fix a refused host key, shown in the error (e.g. which known_hosts line to check). */
  hostKeyRemedy?: string;
  /** Name used in messages; defaults to user@host:port. */
  displayName?: string;
  readyTimeoutMs?: number;
}

/** Connects, verifying the host key against the pinned set before any authentication happens. */
export async function connectSsh(opts: SshTargetOptions): Promise<SshTarget> {
  const name = opts.displayName ?? `${opts.username}@${opts.host}:${opts.port}`;
  if (opts.hostKeys.length === 0) {
    throw new TargetError('HOST_KEY_UNKNOWN', name, 'connect', 'no host key is pinned for this host',
      `Add its key to ~/.ssh/known_hosts after checking its fingerprint out of band (ssh-keyscan -p ${opts.port} ${opts.host}).`);
  }
  const client = new Client();
  let offered: Buffer | undefined;
  const config: ConnectConfig = {
    host: opts.host,
    port: opts.port,
    username: opts.username,
    privateKey: opts.privateKey,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => {
      offered = key;
      return opts.hostKeys.some((k) => k.equals(key));
    },
  };
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      client.removeListener('ready', onReady);
      client.removeListener('error', onError);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error & { level?: string }) => {
      cleanup();
      // ssh2 may report more errors while the failed connection winds down; they must not crash us.
      client.on('error', () => undefined);
      client.end();
      const pinnedMismatch = offered !== undefined && !opts.hostKeys.some((k) => k.equals(offered!));
      if (pinnedMismatch) {
        reject(new TargetError('HOST_KEY_MISMATCH', name, 'verify host key',
          `the host presented ${fingerprint(offered!)}, which is not the pinned key (${opts.hostKeys.map(fingerprint).join(', ')}); connection refused`,
          opts.hostKeyRemedy ?? 'If the host was legitimately re-keyed, update its known_hosts entry after checking the new fingerprint out of band; otherwise someone may be intercepting the connection.'));
      } else if (err.level === 'client-authentication') {
        reject(new TargetError('AUTH_FAILED', name, 'authenticate', err.message, 'Check that the private key is authorised for this user on the host (~/.ssh/authorized_keys).'));
      } else if (/timed out/i.test(err.message)) {
        reject(new TargetError('TIMEOUT', name, 'connect', err.message, 'Check that sshd is running and reachable on that port.'));
      } else {
        reject(new TargetError('CONNECT_FAILED', name, 'connect', err.message, 'Check the address and port and that sshd is running there.'));
      }
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.connect(config);
  });
  return new SshTarget(client, name);
}

/** How often an exec request the server refused is tried (100, 200, 400, 800 ms apart). */
const EXEC_TRIES = 5;

export class SshTarget implements Target {
  private closed = false;
  private lastError: Error | undefined;

  constructor(private readonly client: InstanceType<typeof Client>, readonly name: string) {
    // Errors after the handshake (connection reset, keepalive timeout) surface on the next call.
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('close', () => {
      this.closed = true;
    });
  }

  /**
   * Opens an exec channel and calls `setup` synchronously in ssh2's callback: ssh2 can emit a
   * short command's data and exit status in the same tick as the channel opens, so listeners
   * attached after an `await` would miss them.
   */
  private exec(command: string, operation: string, setup: (ch: ClientChannel) => void): Promise<ClientChannel> {
    if (this.closed) {
      const why = this.lastError ? ` (${this.lastError.message})` : '';
      return Promise.reject(new TargetError('CLOSED', this.name, operation, `the SSH connection is closed${why}`, 'Reconnect to the target.'));
    }
    // A server that refuses one exec request now (dropbear when it cannot fork at that moment, or
    // under load) usually takes the next: a few tries, spaced out, before it is an error.
    const attempt = (n: number): Promise<ClientChannel> =>
      new Promise((resolve, reject) => {
        this.client.exec(command, (err, channel) => {
          if (err) {
            if (n < EXEC_TRIES && !this.closed && /unable to exec/i.test(err.message)) {
              setTimeout(() => attempt(n + 1).then(resolve, reject), 100 * 2 ** n);
              return;
            }
            reject(new TargetError('COMMAND_FAILED', this.name, operation, `could not open an exec channel: ${err.message}`, 'Check that the SSH server allows command execution and is not overloaded.'));
            return;
          }
          setup(channel);
          resolve(channel);
        });
      });
    return attempt(1);
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const operation = `run \`${command.length > 80 ? command.slice(0, 77) + '...' : command}\``;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let status = -1;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let closed!: Promise<void>;
    const channel = await this.exec(command, operation, (ch) => {
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => err.push(b));
      ch.once('exit', (c: number | null, signal?: string) => {
        status = c ?? 128 + signalNumber(signal ? `SIG${signal}` : 'SIGTERM');
      });
      closed = new Promise<void>((resolve, reject) => {
        ch.once('close', () => resolve());
        ch.once('error', reject);
      });
    });
    try {
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          channel.signal('KILL');
          channel.close();
        }, options.timeoutMs);
      }
      channel.end(options.input ?? undefined);
      await closed;
      if (timedOut) {
        throw new TargetError('TIMEOUT', this.name, operation, `no result after ${options.timeoutMs} ms`, 'Raise the time limit or check what the command is waiting for.');
      }
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code: status };
      if (status !== 0 && !options.allowFailure) {
        const msg = result.stderr.toString().trim() || result.stdout.toString().trim().split('\n').slice(-3).join('\n');
        throw new TargetError('COMMAND_FAILED', this.name, operation, status === -1 ? 'the command ended without an exit status (connection lost?)' : `exit status ${status}${msg ? `: ${msg}` : ''}`, '');
      }
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      channel.removeAllListeners('data');
      channel.stderr.removeAllListeners('data');
    }
  }

  async put(data: Uint8Array, remotePath: string, mode = 0o600): Promise<void> {
    try {
      await this.run(uploadCommand(remotePath, mode), { input: data, timeoutMs: 120_000 });
    } catch (e) {
      const detail = e instanceof TargetError ? e.message.split('\n')[0]! : String(e);
      throw new TargetError('UPLOAD_FAILED', this.name, `upload ${remotePath} (${data.length} bytes)`, detail, 'Check that the directory exists on the target and has free space.');
    }
  }

  stream(command: string): LiveStream {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let channel: ClientChannel | undefined;
    let closing = false;
    let status = -1;
    let closed!: Promise<void>;
    const exited = this.exec(command, `stream \`${command}\``, (ch) => {
      channel = ch;
      ch.pipe(stdout);
      ch.stderr.pipe(stderr);
      ch.once('exit', (c: number | null, signal?: string) => {
        status = c ?? 128 + signalNumber(signal ? `SIG${signal}` : 'SIGTERM');
      });
      closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
    }).then(
      async (ch) => {
        ch.end();
        if (closing) ch.close();
        await closed;
        return status;
      },
      (e: Error) => {
        stderr.end(`${e.message}\n`);
        stdout.end();
        return 255;
      },
    );
    return {
      stdout,
      stderr,
      exited,
      close: async () => {
        closing = true;
        if (channel) {
          channel.signal('TERM');
          channel.close();
        }
        await exited;
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.client.once('close', done);
      this.client.end();
      setTimeout(done, 2000).unref();
    });
  }
}
