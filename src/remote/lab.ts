// The lab VM: Debian's kernel under qemu (TCG), reached over SSH on 127.0.0.1 with pinned keys.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { labKernel, type HostKernel } from '../build/buildtree.js';
import { cacheDir } from '../util/cache.js';
import { parsePublicKeyLine } from './hostkeys.js';
import { baseInitramfs, concatInitramfs, instanceInitramfs, LAB_MARKERS } from './lab-initramfs.js';
import { connectSsh, type SshTarget } from './ssh.js';
import { TargetError } from './target.js';

/** What a running lab VM leaves in its directory (state.json), enough for another tapsh to use or stop it. */
export interface LabState {
  pid: number;
  port: number;
  dir: string;
  release: string;
  detached: boolean;
  startedAt: string;
  /** Milliseconds from spawning qemu to a working SSH session. */
  bootMs: number;
}

export interface LabBootOptions {
  /** Keep running after this process exits (`tapsh lab start`); otherwise die with it. */
  detached?: boolean;
  /** Called with a short description of each boot stage. */
  onProgress?: (stage: string) => void;
  /** Give up booting after this long (default 120 s: TCG on a loaded 2-core machine is slow). */
  timeoutMs?: number;
  kernel?: HostKernel;
  memoryMb?: number;
}

function fail(operation: string, detail: string, remedy: string): never {
  throw new TargetError('LAB_FAILED', 'lab VM', operation, detail, remedy);
}

/** Guest memory: $TAPSH_LAB_MEMORY MB, default 512 (more costs boot time under TCG). */
function labMemoryMb(): number {
  const v = Number(process.env['TAPSH_LAB_MEMORY']);
  return Number.isInteger(v) && v >= 128 ? v : 512;
}

/** Directory of the background lab VM (`tapsh lab start`). */
export function sharedLabDir(): string {
  return join(cacheDir('lab'), 'shared');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` is a qemu started for the lab directory `dir` (guards against pid reuse). */
function isOurQemu(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('qemu-system') && cmdline.includes(dir);
  } catch {
    return false;
  }
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console output)';
  }
}

/** Ephemeral instance directories are named run-PID-RANDOM; drop those whose owner is gone. */
function removeStaleRunDirs(): void {
  const root = cacheDir('lab');
  for (const name of readdirSync(root)) {
    const m = /^run-(\d+)-/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(root, name), { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LabVm {
  private child: ChildProcess | undefined;
  private exitHook: (() => void) | undefined;
  private stopped = false;

  private constructor(readonly state: LabState) {}

  get name(): string {
    return `lab VM (127.0.0.1:${this.state.port})`;
  }
  get consoleLog(): string {
    return join(this.state.dir, 'console.log');
  }
  get monitorSocket(): string {
    return join(this.state.dir, 'monitor.sock');
  }
  get clientKeyPath(): string {
    return join(this.state.dir, 'client_key');
  }

  /** The background lab VM, if one is running. Stale state (dead or foreign pid) is cleaned up. */
  static running(): LabVm | undefined {
    const dir = sharedLabDir();
    const file = join(dir, 'state.json');
    if (!existsSync(file)) return undefined;
    let state: LabState;
    try {
      state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    } catch {
      return undefined;
    }
    if (!pidAlive(state.pid) || !isOurQemu(state.pid, state.dir)) {
      rmSync(file, { force: true });
      return undefined;
    }
    return new LabVm(state);
  }

  /** Boots a lab VM and returns once SSH works. Throws with the console log's tail on failure. */
  static async boot(opts: LabBootOptions = {}): Promise<LabVm> {
    const progress = opts.onProgress ?? (() => undefined);
    const kernel = opts.kernel ?? labKernel();
    progress(`preparing initramfs for ${kernel.release}`);
    const base = baseInitramfs(kernel);

    removeStaleRunDirs();
    const dir = opts.detached ? sharedLabDir() : join(cacheDir('lab'), `run-${process.pid}-${randomBytes(4).toString('hex')}`);
    if (opts.detached) {
      const existing = LabVm.running();
      if (existing) return existing;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });

    // Fresh keys for every instance: the client key the guest authorises, and the guest's host
    // key, generated here so the host key is known before the first connection and pinned.
    keygen(join(dir, 'client_key'), 'tapsh-lab-client');
    keygen(join(dir, 'host_key'), 'tapsh-lab-host');
    execFileSync('dropbearconvert', ['openssh', 'dropbear', join(dir, 'host_key'), join(dir, 'host_key.dropbear')], { stdio: 'ignore' });
    const initrd = join(dir, 'initrd.img');
    writeFileSync(
      initrd,
      concatInitramfs([
        readFileSync(base),
        instanceInitramfs(readFileSync(join(dir, 'host_key.dropbear')), readFileSync(join(dir, 'client_key.pub'), 'utf8')),
      ]),
    );
    rmSync(join(dir, 'host_key'), { force: true });
    rmSync(join(dir, 'host_key.dropbear'), { force: true });

    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const vm = new LabVm({ pid: 0, port, dir, release: kernel.release, detached: !!opts.detached, startedAt: new Date().toISOString(), bootMs: 0 });
      const t0 = Date.now();
      await vm.spawnQemu(kernel, initrd, opts.memoryMb ?? labMemoryMb());
      try {
        await vm.waitReady(deadline, progress);
        vm.state.bootMs = Date.now() - t0;
        writeFileSync(join(dir, 'state.json'), JSON.stringify(vm.state, null, 2));
        // For OpenSSH users: the same pinned key, so `ssh -o StrictHostKeyChecking=yes` works.
        writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
        return vm;
      } catch (e) {
        lastError = (e as Error).message;
        const portClash = /hostfwd|Could not set up host forwarding/i.test(tail(vm.consoleLog) + lastError);
        await vm.stop({ keepDir: true });
        if (!portClash) throw e;
      }
    }
    fail('boot', `qemu could not forward a port after 3 tries: ${lastError}`, 'Check what is using local ports.');
  }

  private qemuArgs(kernel: HostKernel, initrd: string, memoryMb: number): string[] {
    // TCG mis-emulates TPAUSE (which udelay uses when the CPU offers WAITPKG): hide that feature.
    const accel = process.env['TAPSH_LAB_ACCEL'] === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max,-waitpkg'];
    return [
      '-name', `tapsh-lab,process=tapsh-lab`,
      ...accel,
      '-m', String(memoryMb),
      '-smp', '2',
      '-display', 'none',
      '-nodefaults', // no floppy, IDE, VGA or default NIC for the kernel to probe at boot
      '-no-reboot',
      '-kernel', kernel.vmlinuz,
      '-initrd', initrd,
      // no_timer_check: under a loaded host the emulated IO-APIC timer check can fail and panic the boot.
      '-append', 'console=ttyS0 quiet panic=-1 no_timer_check',
      '-serial', `file:${this.consoleLog}`,
      '-monitor', `unix:${this.monitorSocket},server=on,wait=off`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${this.state.port}-:22`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-pidfile', join(this.state.dir, 'qemu.pid'),
    ];
  }

  private async spawnQemu(kernel: HostKernel, initrd: string, memoryMb: number): Promise<void> {
    const args = this.qemuArgs(kernel, initrd, memoryMb);
    const stderrLog = join(this.state.dir, 'qemu.stderr');
    rmSync(join(this.state.dir, 'qemu.pid'), { force: true });
    rmSync(this.consoleLog, { force: true });
    if (this.state.detached) {
      const { openSync } = await import('node:fs');
      const errFd = openSync(stderrLog, 'w');
      const child = spawn('qemu-system-x86_64', args, { detached: true, stdio: ['ignore', 'ignore', errFd] });
      child.unref();
      this.state.pid = child.pid ?? 0;
    } else {
      // A watchdog shell holds a pipe from us: if this process dies in any way (even SIGKILL),
      // the pipe closes, `read` returns, and the shell kills qemu. No orphan VM survives us.
      // (A background job's stdin is /dev/null unless redirected explicitly, hence fd 3.)
      const script = 'exec 3<&0; qemu-system-x86_64 "$@" </dev/null 2>"$QERR" & q=$!; echo $q >"$QPID"; ' +
        '( read -r _ <&3; kill $q 2>/dev/null ) & w=$!; wait $q; rc=$?; kill $w 2>/dev/null; exit $rc';
      const child = spawn('/bin/sh', ['-c', script, 'tapsh-lab', ...args], {
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { ...process.env, QERR: stderrLog, QPID: join(this.state.dir, 'wrapper.pid') },
      });
      child.stdin?.on('error', () => undefined);
      this.child = child;
      // Wait for the wrapper to report qemu's pid.
      const pidFile = join(this.state.dir, 'wrapper.pid');
      for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
      this.state.pid = Number(readFileSync(pidFile, 'utf8').trim()) || 0;
      const pid = this.state.pid;
      this.exitHook = () => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      process.once('exit', this.exitHook);
    }
  }

  private async waitReady(deadline: number, progress: (s: string) => void): Promise<void> {
    progress('booting the kernel (qemu TCG)');
    const stages: [string, string][] = [
      [LAB_MARKERS.init, 'init running, loading network modules'],
      [LAB_MARKERS.network, 'network up, starting sshd'],
      [LAB_MARKERS.sshd, 'sshd started, connecting'],
    ];
    let next = 0;
    while (Date.now() < deadline) {
      if (!pidAlive(this.state.pid) || !isOurQemu(this.state.pid, this.state.dir)) {
        const err = tail(join(this.state.dir, 'qemu.stderr'), 5);
        fail('boot', `qemu exited during boot.\nqemu said: ${err.trim() || '(nothing)'}\nconsole:\n${tail(this.consoleLog)}`, `Full console log: ${this.consoleLog}`);
      }
      const log = existsSync(this.consoleLog) ? readFileSync(this.consoleLog, 'utf8') : '';
      while (next < stages.length && log.includes(stages[next]![0])) progress(stages[next++]![1]);
      if (/Kernel panic/.test(log)) fail('boot', `the guest kernel panicked:\n${tail(this.consoleLog)}`, `Full console log: ${this.consoleLog}`);
      if (next === stages.length) {
        try {
          const t = await this.connect(Math.min(10_000, Math.max(1000, deadline - Date.now())));
          await t.run('true', { timeoutMs: 10_000 });
          await t.close();
          progress('ready');
          return;
        } catch (e) {
          if (e instanceof TargetError && e.code === 'HOST_KEY_MISMATCH') throw e;
          await sleep(250);
          continue;
        }
      }
      await sleep(100);
    }
    fail('boot', `SSH was not ready within the time limit.\nconsole:\n${tail(this.consoleLog)}`, `Full console log: ${this.consoleLog}. Set TAPSH_LAB_TIMEOUT (seconds) on a slow machine.`);
  }

  /** The pinned host key of this instance (wire-format blob). */
  hostKeyBlob(): Buffer {
    return parsePublicKeyLine(readFileSync(join(this.state.dir, 'host_key.pub'), 'utf8')).blob;
  }

  /** Opens an SSH session as root; the host key must be the one generated for this instance. */
  async connect(readyTimeoutMs = 20_000, hostKeys: Buffer[] = [this.hostKeyBlob()]): Promise<SshTarget> {
    return connectSsh({
      host: '127.0.0.1',
      port: this.state.port,
      username: 'root',
      privateKey: readFileSync(this.clientKeyPath),
      hostKeys,
      displayName: this.name,
      readyTimeoutMs,
      hostKeyRemedy: 'The lab VM generates its host key per instance; if its directory was changed, restart it: tapsh lab stop && tapsh lab start.',
    });
  }

  /** Stops qemu (SIGTERM, then SIGKILL) and removes the instance's files. */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const pid = this.state.pid;
    if (pid > 0 && pidAlive(pid) && isOurQemu(pid, this.state.dir)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
    }
    if (this.child && this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child!.once('exit', () => resolve());
        this.child!.stdin?.end();
        setTimeout(resolve, 3000).unref();
      });
    }
    if (this.exitHook) process.removeListener('exit', this.exitHook);
    rmSync(join(this.state.dir, 'state.json'), { force: true });
    if (!opts.keepDir) rmSync(this.state.dir, { recursive: true, force: true });
  }
}
