// Lab VM boot: tapsh's initramfs to SSH-ready, against the same kernel booting a do-nothing init (the floor).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { LabVm } = await import(join(root, 'dist/remote/lab.js'));
const { labKernel } = await import(join(root, 'dist/build/buildtree.js'));
const { CpioWriter } = await import(join(root, 'dist/boottime/cpio.js'));

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Boots the kernel with an init that prints a line and powers off; ms until the line appears. */
async function bareBoot(kernel) {
  const dir = mkdtempSync(join(tmpdir(), 'tapsh-bench-'));
  const w = new CpioWriter();
  w.file('bin/busybox', readFileSync('/bin/busybox'), 0o755);
  w.symlink('bin/sh', 'busybox');
  w.device('dev/console', 'char', 5, 1);
  w.file('init', '#!/bin/sh\necho bench-init-reached\n/bin/busybox poweroff -f\n', 0o755);
  writeFileSync(join(dir, 'initrd'), gzipSync(w.finish()));
  const log = join(dir, 'console.log');
  const t0 = Date.now();
  const q = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-cpu', 'max', '-m', '512', '-smp', '2', '-display', 'none', '-nodefaults', '-no-reboot',
    '-kernel', kernel.vmlinuz, '-initrd', join(dir, 'initrd'), '-append', 'console=ttyS0 quiet panic=-1', '-serial', `file:${log}`], { stdio: 'ignore' });
  let ms = -1;
  while (Date.now() - t0 < 120_000) {
    if (existsSync(log) && readFileSync(log, 'utf8').includes('bench-init-reached')) {
      ms = Date.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  q.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function labBoot() {
  const t0 = Date.now();
  const vm = await LabVm.boot({});
  const ms = Date.now() - t0; // includes initramfs assembly, key generation and the SSH handshake
  await vm.stop();
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const kernel = labKernel();
  const bare = [];
  const lab = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await bareBoot(kernel));
    lab.push(await labBoot());
  }
  const b = median(bare);
  const l = median(lab);
  const table = [
    `# Lab VM boot (kernel ${kernel.release}, qemu TCG, ${RUNS} runs each, interleaved; medians)`,
    '',
    'Command: `npm run bench -- lab-boot` (BENCH_RUNS to change the run count)',
    `Measured: ${new Date().toISOString()} on ${(await import('node:os')).cpus().length} cores`,
    '',
    '| what | median ms | runs (ms) | ratio to floor |',
    '|---|---|---|---|',
    `| floor: same kernel and qemu settings, an init that only echoes (firmware + kernel boot to /init) | ${b} | ${bare.join(', ')} | 1.00 |`,
    `| tapsh lab VM: LabVm.boot() to a working SSH session | ${l} | ${lab.join(', ')} | ${(l / b).toFixed(2)} |`,
    '',
  ].join('\n');
  console.log(table);
  writeFileSync(join(root, 'bench/results/lab-boot.md'), table);
}
