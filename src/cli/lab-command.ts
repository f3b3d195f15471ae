// `tapsh lab start|stop|status|ssh [CMD...]`: the background lab VM.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildTreeFor } from '../build/buildtree.js';
import { captureKernelModel } from '../remote/capture.js';
import { LabVm } from '../remote/lab.js';
import type { Target } from '../remote/target.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const LAB_USAGE = `Usage: tapsh lab start | stop | status | ssh [COMMAND...]
  start    boot the lab VM in the background (Debian's kernel under qemu) and keep it running
  stop     stop it
  status   say whether it runs, where, and since when
  ssh      run COMMAND in it over SSH, or open a shell when no COMMAND is given
`;

function progressPrinter(io: Io): (stage: string) => void {
  const t0 = Date.now();
  return (stage) => io.err(`[lab ${((Date.now() - t0) / 1000).toFixed(1)}s] ${stage}\n`);
}

function sshCommandLine(vm: LabVm): string[] {
  return ['ssh', '-i', vm.clientKeyPath, '-p', String(vm.state.port), '-o', `UserKnownHostsFile=${join(vm.state.dir, 'known_hosts')}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR', 'root@127.0.0.1'];
}

/** Prints the kernel the target runs and captures its model into the cache. */
export async function describeKernel(target: Target, io: Io): Promise<void> {
  const t0 = Date.now();
  const model = await captureKernelModel(target);
  const id = model.identity;
  io.out(`kernel:  Linux ${id.release} ${id.arch}, build id ${id.buildId || '(none)'}\n`);
  io.out(`         ${id.version}\n`);
  io.out(`model:   ${model.functions.size} function symbols, ${model.tracepoints.size} tracepoints, BTF ${(model.btfSize / 1048576).toFixed(1)} MB (read in ${((Date.now() - t0) / 1000).toFixed(1)} s, cached)\n`);
  try {
    const tree = buildTreeFor(id);
    io.out(`build:   ${tree.dir} matches (vermagic "${tree.vermagic}")\n`);
  } catch (e) {
    io.err(`warning: ${(e as Error).message}\n`);
  }
}

export async function labCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'start': {
      let vm = LabVm.running();
      if (vm) {
        io.out(`${vm.name} is already running (pid ${vm.state.pid}, kernel ${vm.state.release}).\n`);
      } else {
        vm = await LabVm.boot({ detached: true, onProgress: progressPrinter(io), timeoutMs: labTimeoutMs() });
        io.out(`${vm.name} is up: SSH ready ${(vm.state.bootMs / 1000).toFixed(1)} s after qemu started.\n`);
      }
      const t = await vm.connect();
      try {
        await describeKernel(t, io);
      } finally {
        await t.close();
      }
      io.out(`reach:   tapsh lab ssh [COMMAND]    or    ${sshCommandLine(vm).join(' ')}\n`);
      io.out(`console: ${vm.consoleLog}\n`);
      io.out(`stop:    tapsh lab stop\n`);
      return 0;
    }
    case 'stop': {
      const vm = LabVm.running();
      if (!vm) {
        io.out('No lab VM is running.\n');
        return 0;
      }
      await vm.stop();
      io.out(`Stopped ${vm.name} (pid ${vm.state.pid}).\n`);
      return 0;
    }
    case 'status': {
      const vm = LabVm.running();
      if (!vm) {
        io.out('No lab VM is running. Start one with: tapsh lab start\n');
        return 3;
      }
      const up = Math.round((Date.now() - Date.parse(vm.state.startedAt)) / 1000);
      io.out(`${vm.name}: running, pid ${vm.state.pid}, kernel ${vm.state.release}, up ${up} s, booted in ${(vm.state.bootMs / 1000).toFixed(1)} s\n`);
      io.out(`state:   ${vm.state.dir}\n`);
      return 0;
    }
    case 'ssh': {
      const running = LabVm.running();
      if (rest.length === 0) {
        if (!running) {
          io.err('No lab VM is running; start one with `tapsh lab start` for an interactive shell.\n');
          return 1;
        }
        const [cmd, ...argv] = sshCommandLine(running);
        return spawnSync(cmd!, argv, { stdio: 'inherit' }).status ?? 1;
      }
      // A command: over our own SSH client, booting a lab VM for its duration if none runs.
      const vm = running ?? (await LabVm.boot({ onProgress: progressPrinter(io), timeoutMs: labTimeoutMs() }));
      try {
        const t = await vm.connect();
        try {
          const s = t.stream(rest.join(' '));
          s.stdout.on('data', (b: Buffer) => io.out(b.toString()));
          s.stderr.on('data', (b: Buffer) => io.err(b.toString()));
          return await s.exited;
        } finally {
          await t.close();
        }
      } finally {
        if (!running) await vm.stop();
      }
    }
    case undefined:
    case 'help':
    case '--help':
      io.out(LAB_USAGE);
      return sub === undefined ? 1 : 0;
    default:
      io.err(`tapsh lab: unknown command '${sub}'.\n${LAB_USAGE}`);
      return 1;
  }
}

export function labTimeoutMs(): number {
  const s = Number(process.env['TAPSH_LAB_TIMEOUT']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 120_000;
}
