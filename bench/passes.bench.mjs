// Passes 1+2 on a script that calls (nearly) every function of the tapset library: in-process ms, and whole `tapsh -p2` processes against node's own startup.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CLI = join(root, 'bin/tapsh.js');
/** Another built checkout (bin/ and dist/) measured in the same run, interleaved, for ratios: `BENCH_BASELINE=DIR`. */
const BASE = process.env.BENCH_BASELINE;
const userCache = join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'tapsh');

/** Every public tapset function whose parameters are all typed, called with arguments of those types. */
function libraryScript() {
  const calls = [];
  const seen = new Set();
  const walk = (d) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (n.isDirectory()) walk(join(d, n.name));
      else if (n.name.endsWith('.stp')) {
        const text = readFileSync(join(d, n.name), 'utf8');
        for (const m of text.matchAll(/^function\s+([A-Za-z]\w*)\s*(?::\s*(long|string))?\s*\(([^)]*)\)/gm)) {
          const [, name, ret, params] = m;
          const ps = params.trim() ? params.split(',').map((p) => /:\s*(long|string)\s*$/.exec(p.trim())?.[1]) : [];
          if (ps.some((p) => !p) || seen.has(`${name}/${ps.length}`) || name === 'exit' || name === 'error') continue;
          seen.add(`${name}/${ps.length}`);
          const call = `${name}(${ps.map((p) => (p === 'long' ? '0' : '""')).join(', ')})`;
          calls.push(ret ? `\tprintln(${call})` : `\t${call}`);
        }
      }
    }
  };
  walk(join(root, 'tapsets'));
  return { text: `probe begin {\n${calls.join('\n')}\n}\n`, count: calls.length };
}

/** GNU time, when installed: the child's CPU time (user + system), steadier than wall time on a loaded host. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuTimes = new Map();

/** Wall ms of one node process; its CPU ms (with GNU time) go to cpuTimes under `key`. */
function timeProcess(args, env, key) {
  const argv = GNU_TIME ? [GNU_TIME, '-f', 'tapsh-bench-cpu %U %S', process.execPath, ...args] : [process.execPath, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.slice(0, 2000)}`);
  const cpu = /tapsh-bench-cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (cpu && key) cpuTimes.set(key, [...(cpuTimes.get(key) ?? []), (Number(cpu[1]) + Number(cpu[2])) * 1000]);
  return ms;
}

/** In a fresh node: pass 1+2 timed around elaborateScript only, first call and repeated calls. */
const INPROCESS = `
const { elaborateScript } = await import(process.argv[1]);
const { cachedModelForRelease } = await import(process.argv[2]);
const { hostKernels } = await import(process.argv[3]);
const text = require('node:fs').readFileSync(process.argv[4], 'utf8');
const cacheDir = process.argv[5] || undefined;
const release = hostKernels()[0]?.release;
const kernelModel = release ? cachedModelForRelease(release) : undefined;
// The model parses its tables on first use: do it before the clock, so only passes 1+2 are timed (the process rows include it).
if (kernelModel) void (kernelModel.functions.size + kernelModel.tracepoints.size);
const once = () => {
  const t0 = performance.now();
  const r = elaborateScript({ text, fileName: 'lib.stp', scriptArgs: [], includeDirs: [], guru: true, unoptimized: false, suppressWarnings: true, warningsAreErrors: false, kernelModel, cacheDir });
  if (!r.resolved) throw new Error(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message).join('\\n'));
  return performance.now() - t0;
};
const first = once();
const again = [];
for (let i = 0; i < 5; i++) again.push(once());
console.log(JSON.stringify({ first, again: again.sort((a, b) => a - b)[2] }));
`;

function inProcess(scriptFile, cacheDir, tree = root) {
  const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${INPROCESS} })().catch((e) => { console.error(e.message); process.exit(1); })`,
    join(tree, 'dist/lang/pass2.js'), join(tree, 'dist/remote/capture.js'), join(tree, 'dist/build/buildtree.js'), scriptFile, cacheDir ?? ''], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr.slice(0, 2000));
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => Math.round(x);

export async function run() {
  const work = mkdtempSync(join(tmpdir(), 'tapsh-bench-passes-'));
  try {
    const { text, count } = libraryScript();
    const file = join(work, 'lib.stp');
    writeFileSync(file, text);
    // A cache directory holding only the captured kernel model: parsed tapsets start cold.
    const fresh = () => {
      const d = mkdtempSync(join(work, 'cache-'));
      try { symlinkSync(join(userCache, 'kernels'), join(d, 'kernels')); } catch { /* no model captured: probe points go unverified */ }
      return d;
    };
    const trees = BASE ? [root, BASE] : [root];
    const m = trees.map(() => ({ cold: [], warm: [], inCold: [], inWarm: [], inAgain: [] }));
    const warmCaches = trees.map((tree) => {
      const d = fresh();
      timeProcess([join(tree, 'bin/tapsh.js'), '-p2', '-g', '-w', file], { TAPSH_CACHE_DIR: d }); // fills the parsed-tapset cache
      return d;
    });
    const floor = [];
    for (let i = 0; i < RUNS; i++) {
      floor.push(timeProcess(['-e', '0']));
      trees.forEach((tree, t) => {
        const cli = join(tree, 'bin/tapsh.js');
        m[t].cold.push(timeProcess([cli, '-p2', '-g', '-w', file], { TAPSH_CACHE_DIR: fresh() }, `${t}:cold`));
        m[t].warm.push(timeProcess([cli, '-p2', '-g', '-w', file], { TAPSH_CACHE_DIR: warmCaches[t] }, `${t}:warm`));
        const c = inProcess(file, undefined, tree);
        const w = inProcess(file, join(warmCaches[t], 'lang'), tree);
        m[t].inCold.push(c.first);
        m[t].inWarm.push(w.first);
        m[t].inAgain.push(w.again);
      });
    }
    const f = median(floor);
    const row = (what, key, ratio = true) => {
      const xs = m[0][key];
      const base = BASE ? ` ${fmt(median(m[1][key]))} | ${(median(xs) / median(m[1][key])).toFixed(2)} |` : '';
      return `| ${what} | ${fmt(median(xs))} | ${xs.map(fmt).join(', ')} | ${ratio ? (median(xs) / f).toFixed(2) : '—'} |${base}`;
    };
    const cpuRow = (what, key) => {
      const xs = cpuTimes.get(`0:${key}`) ?? [];
      const b = cpuTimes.get(`1:${key}`);
      return `| ${what} | ${fmt(median(xs))} | ${xs.map(fmt).join(', ')} | — |${BASE && b ? ` ${fmt(median(b))} | ${(median(xs) / median(b)).toFixed(2)} |` : BASE ? ' — | — |' : ''}`;
    };
    const table = [
      `# Passes 1+2 on a script calling ${count} tapset functions (every public one with typed parameters; ${RUNS} runs, medians)`,
      '',
      'Command: `npm run bench -- passes` (BENCH_RUNS to change the run count). Aim (issue 3): pass 1+2 under 150 ms.',
      `Measured: ${new Date().toISOString()} on ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end; with the lab kernel's captured model when one is cached.`,
      '"Parsed-tapset cache" is the on-disk cache of indexed and parsed tapsets (`$TAPSH_CACHE_DIR/lang`); in-process rows time elaborateScript only (the kernel model is loaded and its tables parsed before the clock starts).',
      '',
      ...(BASE ? [`Baseline (measured in the same run, interleaved run by run): \`BENCH_BASELINE=${BASE}\`${process.env.BENCH_BASELINE_NOTE ? ` — ${process.env.BENCH_BASELINE_NOTE}` : ''}.`, ''] : []),
      `| what | median ms | runs (ms) | ratio to node startup |${BASE ? ' baseline median ms | ratio to baseline |' : ''}`,
      `|---|---|---|---|${BASE ? '---|---|' : ''}`,
      `| floor: node startup (\`node -e 0\`) | ${fmt(f)} | ${floor.map(fmt).join(', ')} | 1.00 |${BASE ? ' — | — |' : ''}`,
      row('`tapsh -p2` process, parsed-tapset cache cold', 'cold'),
      row('`tapsh -p2` process, parsed-tapset cache warm', 'warm'),
      ...(cpuTimes.size ? [cpuRow('`tapsh -p2` process, cache cold: CPU ms (user+sys, GNU time)', 'cold'), cpuRow('`tapsh -p2` process, cache warm: CPU ms (user+sys, GNU time)', 'warm')] : []),
      row('pass 1+2 in-process (elaborateScript), first call, no disk cache', 'inCold', false),
      row('pass 1+2 in-process, first call, warm disk cache', 'inWarm', false),
      row('pass 1+2 in-process, repeated (library already in memory)', 'inAgain', false),
      '',
    ].join('\n');
    console.log(table);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/passes.md'), table);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
