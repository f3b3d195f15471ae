// Per-hit probe overhead in the lab VM on a read(2) loop: tapsh handlers against a hand-written kprobe module (the floor).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { labKernel } = await import(join(root, 'dist/build/buildtree.js'));
const { kbuild } = await import(join(root, 'dist/build/kbuild.js'));
const ROUNDS = Number(process.env.BENCH_RUNS ?? 3);
const READS = Number(process.env.BENCH_READS ?? 200000);
const cache = mkdtempSync(join(tmpdir(), 'tapsh-bench-ovh-'));
const env = { ...process.env, TAPSH_CACHE_DIR: cache };
process.env.TAPSH_CACHE_DIR = cache; // this process reaches the same lab VM through LabVm.running()
const { LabVm } = await import(join(root, 'dist/remote/lab.js'));

// dd with bs=1 does READS read(2) calls (and as many writes); /proc/uptime has 10 ms resolution.
const WORKLOAD = `a=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero of=/dev/null bs=1 count=${READS} 2>/dev/null; b=$(cut -d' ' -f1 /proc/uptime); echo "$a $b" | awk '{printf "BENCH_MS=%d\\n", ($2-$1)*1000}'`;

const SCRIPTS = {
  empty: 'probe kernel.function("vfs_read") { }',
  counter: 'global n; probe kernel.function("vfs_read") { n++ }',
  aggregate: 'global c; probe kernel.function("vfs_read") { c[execname()]++ }',
  printf: 'probe kernel.function("vfs_read") { printf("%d %s\\n", pid(), execname()) }',
};

function tapsh(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/tapsh.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('close', (code) => {
      const o = Buffer.concat(out).toString('latin1');
      if (code !== 0) reject(new Error(`tapsh ${args.slice(0, 3).join(' ')} failed (${code}): ${Buffer.concat(err).toString()}`));
      else resolve(o);
    });
  });
}

function benchMs(out) {
  const m = /BENCH_MS=(\d+)/.exec(out);
  if (!m) throw new Error(`no timing in output: ${out.slice(0, 300)}`);
  return Number(m[1]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const kernel = labKernel();
  await tapsh(['lab', 'start']);
  try {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-floor-'));
    cpSync(join(root, 'bench/kmod'), dir, { recursive: true });
    const floorKo = (await kbuild(kernel.buildTree, dir, 'tapsh_floor')).ko;
    const target = await LabVm.running().connect();
    await target.put(readFileSync(floorKo), '/tmp/tapsh_floor.ko', 0o600);
    await target.close();
    // -u keeps the empty handler (stap, and tapsh, elide a probe that does nothing).
    for (const s of Object.values(SCRIPTS)) await tapsh(['-u', '-p4', '-e', s]); // build outside the timed part

    const times = { none: [], floor: [], ...Object.fromEntries(Object.keys(SCRIPTS).map((k) => [k, []])) };
    for (let r = 0; r < ROUNDS; r++) {
      times.none.push(benchMs(await tapsh(['lab', 'ssh', WORKLOAD])));
      times.floor.push(benchMs(await tapsh(['lab', 'ssh', `insmod /tmp/tapsh_floor.ko && { ${WORKLOAD}; }; rmmod tapsh_floor`])));
      for (const [name, script] of Object.entries(SCRIPTS)) times[name].push(benchMs(await tapsh(['-u', '-c', WORKLOAD, '-e', script])));
    }
    const base = median(times.none);
    const floorOver = Math.max(1, median(times.floor) - base);
    const row = (name, what) => {
      const m = median(times[name]);
      const over = m - base;
      const ns = Math.round((over * 1e6) / READS);
      return `| ${what} | ${m} | ${times[name].join(', ')} | ${over} | ${ns} | ${name === 'none' ? '-' : (over / floorOver).toFixed(2)} |`;
    };
    const table = [
      `# Probe overhead per hit (lab VM, kernel ${kernel.release}, qemu TCG; ${READS} read(2) calls per run, ${ROUNDS} rounds interleaved, medians)`,
      '',
      'Command: `npm run bench -- overhead` (BENCH_RUNS rounds, BENCH_READS reads per run)',
      `Measured: ${new Date().toISOString()}, host load average ${(await import('node:os')).loadavg()[0].toFixed(1)} at the end. Under TCG every number is emulated time: compare ratios, not nanoseconds.`,
      '',
      '| probe on vfs_read | run ms | runs (ms) | overhead ms | overhead ns/hit | ratio to floor overhead |',
      '|---|---|---|---|---|---|',
      row('none', 'no probe (baseline)'),
      row('floor', 'floor: hand-written C kprobe, per-CPU counter'),
      row('empty', 'tapsh: empty handler'),
      row('counter', 'tapsh: `n++` on a global'),
      row('aggregate', 'tapsh: `c[execname()]++`'),
      row('printf', 'tapsh: `printf("%d %s\\n", pid(), execname())`'),
      '',
    ].join('\n');
    console.log(table);
    writeFileSync(join(root, 'bench/results/overhead.md'), table);
  } finally {
    await tapsh(['lab', 'stop']).catch(() => undefined);
  }
}
