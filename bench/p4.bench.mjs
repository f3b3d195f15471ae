// Pass 4 build time for a trivial script, cold (nothing cached) and cached, against kbuild of a hello-world module (the floor).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { labKernel } = await import(join(root, 'dist/build/buildtree.js'));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCRIPT = 'probe begin { printf("hello %d\\n", 42); exit() }';

function ms(fn) {
  const t0 = performance.now();
  fn();
  return Math.round(performance.now() - t0);
}

function tapshP4(cache, nonce) {
  const r = spawnSync(process.execPath, [join(root, 'bin/tapsh.js'), '-p4', '-e', SCRIPT.replace('42', String(nonce))], { env: { ...process.env, TAPSH_CACHE_DIR: cache }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  const tree = labKernel().buildTree;
  const floor = [];
  const cold = [];
  const pchRun = [];
  const warm = [];
  const cached = [];
  for (let i = 0; i < RUNS; i++) {
    const kdir = mkdtempSync(join(tmpdir(), 'tapsh-bench-kmod-'));
    cpSync(join(root, 'test/kmod'), kdir, { recursive: true });
    floor.push(ms(() => execFileSync('make', ['-C', tree.dir, `M=${kdir}`, 'modules'], { stdio: 'ignore' })));
    rmSync(kdir, { recursive: true, force: true });

    const cache = mkdtempSync(join(tmpdir(), 'tapsh-bench-cache-'));
    // The kernel model is captured once per kernel and not part of pass 4: copy it in when present.
    cold.push(ms(() => tapshP4(cache, 1000 + i))); // runtime object + script unit
    pchRun.push(ms(() => tapshP4(cache, 2000 + i))); // runtime object and recipe cached: builds the PCHs, then the script
    warm.push(ms(() => tapshP4(cache, 3000 + i))); // everything cached but the script: recipe + PCH
    cached.push(ms(() => tapshP4(cache, 3000 + i))); // same script again
    rmSync(cache, { recursive: true, force: true });
  }
  const f = median(floor);
  const row = (what, xs) => `| ${what} | ${median(xs)} | ${xs.join(', ')} | ${(median(xs) / f).toFixed(2)} |`;
  const table = [
    `# Pass 4 build time (kernel ${tree.release}, ${RUNS} runs, medians; whole \`tapsh -p4 -e ...\` process, passes 1-4)`,
    '',
    'Command: `npm run bench -- p4` (BENCH_RUNS to change the run count)',
    `Measured: ${new Date().toISOString()} on ${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os')).loadavg()[0].toFixed(1)} at the end`,
    '',
    '| what | median ms | runs (ms) | ratio to floor |',
    '|---|---|---|---|',
    `| floor: kbuild of a hello-world module (make -C TREE M=DIR modules) | ${f} | ${floor.join(', ')} | 1.00 |`,
    row('tapsh -p4, cold: nothing cached (runtime object + script unit)', cold),
    row('tapsh -p4, second build: runtime object and recipe cached, precompiled headers built now (once per kernel and -D set)', pchRun),
    row('tapsh -p4, warm: new script, everything else cached (recipe + precompiled headers, no make)', warm),
    row('tapsh -p4, cached: same script again (module cache hit)', cached),
    '',
  ].join('\n');
  console.log(table);
  writeFileSync(join(root, 'bench/results/p4.md'), table);
}
