// Chooses and opens the target a command runs on: --remote hosts, the local kernel, or the lab VM.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { knownHostKeys, knownHostsName, readKnownHosts } from './hostkeys.js';
import { LabVm } from './lab.js';
import { LocalTarget } from './local.js';
import { connectSsh } from './ssh.js';
import type { Target } from './target.js';
import { TargetError } from './target.js';

export interface RemoteSpec {
  user: string;
  host: string;
  port: number;
}

/** Parses `ssh://[user@]host[:port]` or `[user@]host[:port]` as stap's --remote takes them. */
export function parseRemote(url: string): RemoteSpec {
  let rest = url;
  if (rest.startsWith('ssh://')) rest = rest.slice('ssh://'.length).replace(/\/$/, '');
  else if (/^[a-z]+:\/\//i.test(rest)) {
    throw new TargetError('CONNECT_FAILED', url, 'parse --remote', 'only ssh:// remotes are supported', 'Use --remote=ssh://user@host[:port] or --remote=user@host.');
  }
  let user = 'root';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port = 22;
  const m = /^\[(.+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  if (!m || !m[1] || !user) {
    throw new TargetError('CONNECT_FAILED', url, 'parse --remote', 'not a host name', 'Use --remote=ssh://user@host[:port] or --remote=user@host.');
  }
  if (m[2]) port = Number(m[2]);
  return { user, host: m[1], port };
}

function defaultIdentity(): Buffer | undefined {
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = join(homedir(), '.ssh', name);
    if (existsSync(p)) return readFileSync(p);
  }
  return undefined;
}

/** Opens an SSH target, pinning the host keys recorded in known_hosts. */
export async function openRemote(url: string, opts: { identityFile?: string; knownHostsFiles?: string[] } = {}): Promise<Target> {
  const spec = parseRemote(url);
  const files = opts.knownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const keys: Buffer[] = [];
  for (const f of files) keys.push(...knownHostKeys(readKnownHosts(f), spec.host, spec.port).keys);
  const name = `${spec.user}@${knownHostsName(spec.host, spec.port)}`;
  if (keys.length === 0) {
    throw new TargetError('HOST_KEY_UNKNOWN', name, 'verify host key', `no key for ${knownHostsName(spec.host, spec.port)} in ${files.join(' or ')}`,
      `tapsh never accepts an unknown host key. Connect once with ssh(1) and check the fingerprint, or add it: ssh-keyscan -p ${spec.port} ${spec.host} >> ~/.ssh/known_hosts (after checking it out of band).`);
  }
  const key = opts.identityFile ? readFileSync(opts.identityFile) : defaultIdentity();
  if (!key) {
    throw new TargetError('AUTH_FAILED', name, 'authenticate', 'no private key found (~/.ssh/id_ed25519, id_ecdsa or id_rsa)', 'Create one with ssh-keygen -t ed25519 and authorise it on the host.');
  }
  return connectSsh({ host: spec.host, port: spec.port, username: spec.user, privateKey: key, hostKeys: keys, displayName: name });
}

/** Whether modules can be loaded into the kernel tapsh itself runs on. */
export function localKernelProbeable(): { ok: boolean; why: string } {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  if (process.getuid?.() !== 0) return { ok: false, why: 'not running as root' };
  if (!existsSync(join('/lib/modules', release, 'build'))) return { ok: false, why: `no build tree for the running kernel ${release} (/lib/modules/${release}/build)` };
  if (existsSync('/proc/sys/kernel/modules_disabled') && readFileSync('/proc/sys/kernel/modules_disabled', 'utf8').trim() === '1') {
    return { ok: false, why: 'module loading is disabled (kernel.modules_disabled=1)' };
  }
  return { ok: true, why: '' };
}

/** An open target and how to let it go (an ephemeral lab VM is stopped). */
export interface OpenTarget {
  target: Target;
  /** Why this target was chosen, for a notice. */
  description: string;
  release(): Promise<void>;
}

/**
 * The target for a command: the named remote, else the local kernel when it can be probed, else
 * the running lab VM, else a lab VM booted for the duration of the command.
 */
export async function openDefaultTarget(opts: { remote?: string; onProgress?: (s: string) => void; forceLab?: boolean } = {}): Promise<OpenTarget> {
  if (opts.remote) {
    const target = await openRemote(opts.remote);
    return { target, description: target.name, release: () => target.close() };
  }
  const local = localKernelProbeable();
  if (local.ok && !opts.forceLab) {
    const target = new LocalTarget();
    return { target, description: 'the local kernel', release: () => target.close() };
  }
  const running = LabVm.running();
  if (running) {
    const target = await running.connect();
    return { target, description: `the running ${running.name}`, release: () => target.close() };
  }
  const vm = await LabVm.boot({ onProgress: opts.onProgress });
  try {
    const target = await vm.connect();
    return {
      target,
      description: `a lab VM booted for this command (${local.why || 'requested'}; \`tapsh lab start\` keeps one running)`,
      release: async () => {
        await target.close();
        await vm.stop();
      },
    };
  } catch (e) {
    await vm.stop();
    throw e;
  }
}
