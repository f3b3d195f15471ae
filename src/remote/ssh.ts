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

  private exec(command: string, operation: string): Promise<ClientChannel> {
    if (this.closed) {
      const why = this.lastError ? ` (${this.lastError.message})` : '';
      return Promise.reject(new TargetError('CLOSED', this.name, operation, `the SSH connection is closed${why}`, 'Reconnect to the target.'));
    }
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel) => {
        if (err) reject(new TargetError('COMMAND_FAILED', this.name, operation, `could not open an exec channel: ${err.message}`, 'Check that the SSH server allows command execution and is not overloaded.'));
        else resolve(channel);
      });
    });
  }

  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    const operation = `run \`${command.length > 80 ? command.slice(0, 77) + '...' : command}\``;
    const channel = await this.exec(command, operation);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const onOut = (b: Buffer) => out.push(b);
    const onErr = (b: Buffer) => err.push(b);
    channel.on('data', onOut);
    channel.stderr.on('data', onErr);
    try {
      const code = await new Promise<number>((resolve, reject) => {
        let status = -1;
        channel.once('exit', (c: number | null, signal?: string) => {
          status = c ?? 128 + signalNumber(signal ? `SIG${signal}` : 'SIGTERM');
        });
        channel.once('close', () => resolve(status));
        channel.once('error', reject);
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            timedOut = true;
            channel.signal('KILL');
            channel.close();
          }, options.timeoutMs);
        }
        channel.end(options.input ?? undefined);
      });
      if (timedOut) {
        throw new TargetError('TIMEOUT', this.name, operation, `no result after ${options.timeoutMs} ms`, 'Raise the time limit or check what the command is waiting for.');
      }
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code };
      if (code !== 0 && !options.allowFailure) {
        const msg = result.stderr.toString().trim() || result.stdout.toString().trim().split('\n').slice(-3).join('\n');
        throw new TargetError('COMMAND_FAILED', this.name, operation, `exit status ${code}${msg ? `: ${msg}` : ''}`, '');
      }
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      channel.removeListener('data', onOut);
      channel.stderr.removeListener('data', onErr);
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
    const exited = this.exec(command, `stream \`${command}\``).then(
      (ch) =>
        new Promise<number>((resolve) => {
          channel = ch;
          let status = -1;
          ch.pipe(stdout);
          ch.stderr.pipe(stderr);
          ch.once('exit', (c: number | null, signal?: string) => {
            status = c ?? 128 + signalNumber(signal ? `SIG${signal}` : 'SIGTERM');
          });
          ch.once('close', () => resolve(status));
          ch.end();
          if (closing) ch.close();
        }),
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
