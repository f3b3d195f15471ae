// Entry-to-live latency of the `stap>` session (issue 5): from submitting an entry to its probes being armed on the
// lab VM, split into passes 1-3, host-side compile and upload+load; against rebuilding the whole session script as one
// standalone module each time (what `stap -i`'s `run` does), with tapsh's own fast path and with make.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openDefaultTarget } = await import(join(root, 'dist/remote/connect.js'));
const { readIdentity, captureKernelModel } = await import(join(root, 'dist/remote/capture.js'));
const { buildTreeFor } = await import(join(root, 'dist/build/buildtree.js'));
const { LiveSession } = await import(join(root, 'dist/repl/session.js'));
const { elaborateScript } = await import(join(root, 'dist/lang/pass2.js'));
const { translate } = await import(join(root, 'dist/translate/translate.js'));
const { buildModule, ccflags } = await import(join(root, 'dist/build/module-cache.js'));
const { kbuild } = await import(join(root, 'dist/build/kbuild.js'));

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 20);
/** Kernel functions the entries probe, one each (all in the lab kernel, all hit by its normal activity or not at all). */
const FUNCTIONS = ['vfs_read', 'vfs_write', 'vfs_open', 'do_sys_openat2', 'ksys_read', 'ksys_write', 'filp_close', 'do_filp_open', 'path_openat',
  'vfs_statx', 'do_faccessat', 'kernel_clone', 'do_exit', 'schedule_timeout', 'do_nanosleep', 'hrtimer_nanosleep', '__x64_sys_getpid',
  'vfs_fstat', 'do_mmap', 'vm_mmap_pgoff', '__x64_sys_close', 'do_unlinkat', 'do_mkdirat', 'vfs_fsync_range'];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r0 = (x) => Math.round(x);

function entryText(i) {
  return `probe kernel.function("${FUNCTIONS[i % FUNCTIONS.length]}") { hits[${i}]++ }`;
}

/** The whole session so far as one script: what `stap -i` rebuilds on `run`. */
function sessionScript(k) {
  return ['global hits', ...Array.from({ length: k }, (_, i) => entryText(i))].join('\n') + '\n';
}

function frontEnd(text, name, model) {
  const t0 = performance.now();
  const r = elaborateScript({ text, fileName: 'session.stp', includeDirs: [], scriptArgs: [], unoptimized: false, suppressWarnings: true, warningsAreErrors: false, kernelModel: model });
  if (!r.resolved) throw new Error(JSON.stringify(r.diagnostics));
  const t = translate(r.resolved, { moduleName: name, scriptName: 'session.stp', kernel: model, sources: r.sources });
  return { c: t.c, ms: performance.now() - t0 };
}

/** Upload, insmod, `start` (probes armed), then exit and unload: the standalone module's way to live. */
async function loadStandalone(target, ko, name) {
  const { readFileSync } = await import('node:fs');
  const t0 = performance.now();
  const r = await target.run(`d=/tmp/${name}; mkdir -p $d && cat > $d/m.ko && insmod $d/m.ko && echo start > /proc/${name}/ctl; rc=$?; rm -rf $d; exit $rc`, { input: readFileSync(ko), allowFailure: true, timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`standalone load failed: ${r.stderr}`);
  await target.run(`echo exit > /proc/${name}/ctl; sleep 0.2; rmmod ${name}`, { allowFailure: true, timeoutMs: 60_000 });
  return ms;
}

/** The unity build through make, as stap does: runtime and script compiled together by kbuild. */
async function makeBuild(tree, c, name) {
  const dir = mkdtempSync(join(tmpdir(), 'tapsh-bench-make-'));
  writeFileSync(join(dir, 'tapsh_script.c'), c);
  writeFileSync(join(dir, 'tapsh_runtime.c'), '#include "tap_runtime.c"\n');
  writeFileSync(join(dir, 'Kbuild'), `obj-m += ${name}.o\n${name}-y := tapsh_script.o tapsh_runtime.o\nccflags-y += ${ccflags([])}\n`);
  const t0 = performance.now();
  await kbuild(tree, dir, name);
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

export async function run() {
  const cache = mkdtempSync(join(tmpdir(), 'tapsh-bench-session-'));
  process.env.TAPSH_CACHE_DIR = cache;
  const open = await openDefaultTarget({ forceLab: true, onProgress: () => undefined });
  const rows = [];
  const base = [];
  const makeRows = [];
  let session;
  try {
    const target = open.target;
    const identity = await readIdentity(target);
    const tree = buildTreeFor(identity);
    const model = await captureKernelModel(target, { identity });
    const tStart = performance.now();
    const sink = { output() {}, warning() {}, error() {}, status() {} };
    session = await LiveSession.start({ target, tree, model, sink, defines: [], frontEnd: { includeDirs: [], scriptArgs: [] } });
    const startMs = performance.now() - tStart;
    // Session entries: the first compile after start may wait for the recipe and PCHs (built beside the core): a warm-up.
    await session.submit('global hits');
    const warm = await session.submit('probe kernel.function("vfs_read") { hits[100]++ }');
    if (warm.diagnostics) throw new Error(warm.diagnostics);
    for (let i = 0; i < ENTRIES; i++) {
      const t0 = performance.now();
      const r = await session.submit(entryText(i));
      const total = performance.now() - t0;
      if (r.diagnostics) throw new Error(r.diagnostics);
      rows.push({ total, ...session.lastTimings });
    }
    await session.quit();
    session = undefined;
    // Baseline: rebuild the whole session as one standalone module after each entry, with tapsh's fast path.
    for (let k = 1; k <= ENTRIES; k++) {
      const name = `tapsh_bench${k}_${process.pid}`;
      const t0 = performance.now();
      const f = frontEnd(sessionScript(k), name, model);
      const t1 = performance.now();
      const built = await buildModule({ name, c: f.c, defines: [] }, tree);
      const t2 = performance.now();
      const load = await loadStandalone(target, built.ko, name);
      base.push({ total: performance.now() - t0, front: t1 - t0, compile: t2 - t1, load });
    }
    // And through make, as stap builds (a few points: each takes seconds).
    for (const k of [1, Math.ceil(ENTRIES / 2), ENTRIES]) {
      const name = `tapsh_benchmake${k}`;
      const f = frontEnd(sessionScript(k), name, model);
      makeRows.push({ k, ms: await makeBuild(tree, f.c, name) });
    }
    const col = (xs, key) => xs.map((x) => x[key]);
    const line = (what, xs) => `| ${what} | ${r0(pct(xs, 50))} | ${r0(pct(xs, 95))} |`;
    const table = [
      `# Session entry-to-live latency (lab VM under TCG, kernel ${tree.release}, ${ENTRIES} entries)`,
      '',
      'Command: `npm run bench -- session` (BENCH_ENTRIES to change the count).',
      `Measured: ${new Date().toISOString()} on ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end. Session start (core build cached or not, core load): ${r0(startMs)} ms.`,
      '',
      'Each entry is `probe kernel.function("F") { hits[i]++ }` with its own F, typed into a running session with',
      `${ENTRIES} entries at most; "live" means its handler module is loaded and its probes registered.`,
      '',
      '| step (session entry) | p50 ms | p95 ms |',
      '|---|---|---|',
      line('passes 1-3 (parse, elaborate against the session, translate)', col(rows, 'frontMs')),
      line('host-side compile of the handler module (recipe + precompiled headers)', col(rows, 'compileMs')),
      line('upload and load on the target (one SSH exec: cat > file, insmod, probes armed)', col(rows, 'transferLoadMs')),
      line('**entry to live, total**', col(rows, 'total')),
      '',
      '| baseline: rebuild the whole session as one standalone module (what `stap -i` does on `run`) | p50 ms | p95 ms |',
      '|---|---|---|',
      line('passes 1-3 of the whole session script', col(base, 'front')),
      line('pass 4 with tapsh\'s fast path (cached runtime object, recipe, PCH)', col(base, 'compile')),
      line('upload, insmod, start', col(base, 'load')),
      line('**total**', col(base, 'total')),
      '',
      `Ratio, entry-to-live p50 vs standalone rebuild p50: ${(pct(col(rows, 'total'), 50) / pct(col(base, 'total'), 50)).toFixed(2)}.`,
      '',
      `Pass 4 through make of the whole session (runtime and script compiled by kbuild, as stap does): ${makeRows.map((m) => `${m.k} entries ${r0(m.ms)} ms`).join(', ')}; ` +
        `ratio of the session's compile p50 to the first: ${(pct(col(rows, 'compileMs'), 50) / makeRows[0].ms).toFixed(3)}.`,
      '',
    ].join('\n');
    console.log(table);
    writeFileSync(join(root, 'bench/results/session.md'), table);
  } catch (e) {
    // Say what the guest said, for a failure on the target.
    const { execSync } = await import('node:child_process');
    console.error(execSync(`tail -n 40 ${cache}/lab/*/console.log 2>/dev/null || true`).toString());
    throw e;
  } finally {
    await session?.quit().catch(() => undefined);
    await open.release();
    rmSync(cache, { recursive: true, force: true });
  }
}
