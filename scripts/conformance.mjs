// npm run conformance: tapsh (the built CLI) over SystemTap's corpus as its README says; per-folder results and test/conformance/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { CORPUS, REPO, readManifest, runWithShim, shebangArgs, shellUnsupported } from './corpus-lib.mjs';

const CLI = join(REPO, 'bin/tapsh.js');
const FOLDERS = ['parseok', 'parseko', 'semko', 'semok', 'buildok', 'examples'];
const TARGETS = { parseok: 100, parseko: 100, semko: 95, semok: 90 };

const argv = process.argv.slice(2);
const opt = (name) => argv.includes(name);
const only = argv.filter((a) => !a.startsWith('-'));
const folders = only.length ? FOLDERS.filter((f) => only.includes(f)) : opt('--fast') ? FOLDERS.slice(0, 4) : FOLDERS;
const jobs = Number(argv.find((a) => a.startsWith('-j'))?.slice(2) || 2);
const writeResults = !opt('--no-write') && only.length === 0 && !opt('--fast');
const cacheRoot = join(process.env.TAPSH_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache'), 'tapsh'), 'conformance');

/** Everything a -p4 result depends on besides the input: the built CLI, tapsets and runtime. */
function toolHash() {
  const h = createHash('sha256');
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!n.endsWith('.map')) h.update(relative(REPO, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const d of ['dist', 'tapsets', 'runtime-c']) walk(join(REPO, d));
  return h.digest('hex');
}

/** A node stack trace or an uncaught exception in tapsh's output: a crash, not a diagnostic. */
const CRASH = /^\s+at .+[:(].*\d+:\d+\)?$|^(TypeError|RangeError|ReferenceError|SyntaxError|Error): |internal error/m;
const UNSUPPORTED = /^(semantic error: [^\n]*\[(TS4014|TS4015)\])/m;
/** stap's own probe families that tapsh does not promise (user space, perf, hardware breakpoints...); any other unknown head is a missing tapset alias. */
const FOREIGN_FAMILIES = new Set(['process', 'perf', 'netfilter', 'python', 'python2', 'python3', 'java', 'input', 'hrtimer', 'marker', 'debuginfod']);

function unsupportedReason(stderr) {
  const u = UNSUPPORTED.exec(stderr);
  if (!u) return undefined;
  const family = /the '([^']+)' probe family/.exec(u[1])?.[1];
  if (family !== undefined && !FOREIGN_FAMILIES.has(family)) return undefined;
  return u[1].replace(/^semantic error: /, '');
}

function firstError(stderr) {
  const lines = stderr.split('\n').filter((l) => l.trim());
  return (lines.find((l) => /error|Error/.test(l)) ?? lines[0] ?? '').trim().slice(0, 240);
}

function verdict(run, want) {
  if (run.timedOut) return { status: 'fail', detail: 'timed out' };
  if (run.signal) return { status: 'fail', detail: `crashed: killed by ${run.signal}` };
  if (CRASH.test(run.stderr)) return { status: 'fail', detail: `crashed: ${firstError(run.stderr)}` };
  if (want === 'exit0') {
    if (run.code === 0) return { status: 'pass' };
    const why = unsupportedReason(run.stderr);
    if (why) return { status: 'unsupported', detail: why };
    const first = firstError(run.stderr);
    const gap = /the '([^']+)' probe family is not supported/.exec(first);
    if (gap) return { status: 'fail', detail: `tapset gap: no '${gap[1]}' probe alias in tapsets/ (${first})` };
    return { status: 'fail', detail: firstError(run.stderr) || `exit ${run.code} without a message` };
  }
  if (run.code === 0) return { status: 'fail', detail: 'accepted' };
  if (!run.stderr.trim()) return { status: 'fail', detail: `exit ${run.code} without a diagnostic` };
  return { status: 'pass' };
}

/** Runs one test: a `#! stap` file through tapsh with its shebang flags, or a shell file with tapsh as `stap`. */
async function runFile(dir, row, timeoutMs) {
  const path = join(CORPUS, dir, row.file);
  const text = readFileSync(path, 'utf8');
  if (row.kind === 'stap') {
    const flags = shebangArgs(text.split('\n')[0] ?? '') ?? [];
    const run = await runWithShim({ argv: [process.execPath, CLI, ...flags, path], cli: CLI, timeoutMs });
    const v = verdict(run, row.expected);
    if (dir === 'semko' && v.status === 'pass') {
      const p1 = await runWithShim({ argv: [process.execPath, CLI, ...flags, '-p1', path], cli: CLI, timeoutMs });
      if (p1.code !== 0) return { status: 'fail', detail: `rejected already at -p1: ${firstError(p1.stderr)}` };
    }
    if (dir === 'semko' && v.status === 'fail' && v.detail === 'accepted') v.detail = 'accepted at -p2';
    return { ...v, flags: flags.join(' '), text };
  }
  const why = shellUnsupported(text);
  if (why) return { status: 'unsupported', detail: why, text };
  const run = await runWithShim({ argv: ['bash', path], cli: CLI, timeoutMs, env: { SRCDIR: srcdir(), TAPSET: join(CORPUS, 'semlib') } });
  if (run.calls.some((c) => c.wouldRun)) return { status: 'unsupported', detail: 'runs a module (pass 5); the conformance run only translates and builds', text };
  if (run.calls.length === 0) return { status: 'unsupported', detail: 'no stap invocation ran (needs the SystemTap source tree or other setup)', text };
  const v = verdict({ ...run, stderr: run.stderr }, row.expected);
  if (v.status === 'fail' && row.expected === 'nonzero' && v.detail.startsWith('exit')) v.status = 'pass';
  return { ...v, flags: 'shell', text };
}

/** A stand-in for the SystemTap source tree some shell tests name as $SRCDIR: its testsuite/ is the corpus. */
let srcdirPath;
function srcdir() {
  if (!srcdirPath) {
    srcdirPath = mkdtempSync(join(tmpdir(), 'tapsh-srcdir-'));
    symlinkSync(CORPUS, join(srcdirPath, 'testsuite'));
    process.on('exit', () => rmSync(srcdirPath, { recursive: true, force: true }));
  }
  return srcdirPath;
}

/** An examples/ NAME.meta's `test_check` line, run from the example's folder with tapsh as `stap`. */
async function runExample(metaPath, timeoutMs) {
  const meta = readFileSync(metaPath, 'utf8');
  const check = /^test_check:\s*(.*)$/m.exec(meta)?.[1];
  const name = /^name:\s*(\S+)/m.exec(meta)?.[1] ?? basename(metaPath, '.meta');
  const file = relative(join(CORPUS, 'examples'), join(dirname(metaPath), name));
  if (!check) return { file, status: 'unsupported', detail: 'no test_check in its .meta' };
  if (!/^stap\s/.test(check)) return { file, status: 'unsupported', detail: `test_check runs ${check.split(/\s/)[0]}, not stap` };
  if (/--(dyninst|bpf|runtime=bpf)\b/.test(check)) return { file, status: 'unsupported', detail: 'needs another stap runtime (dyninst or bpf)' };
  const run = await runWithShim({ argv: ['bash', '-c', check], cwd: dirname(metaPath), cli: CLI, timeoutMs });
  const v = verdict(run, 'exit0');
  return { file, ...v, flags: check, text: readFileSync(join(dirname(metaPath), name), 'utf8') + check };
}

/** Runs `work` over `items` with at most `n` in flight. */
async function pool(items, n, work) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i], i);
    }
  }));
  return out;
}

/** Finds the lab kernel's captured model; captures it (one lab VM start and stop) when there is none. */
async function ensureModel() {
  const { hostKernels } = await import(join(REPO, 'dist/build/buildtree.js'));
  const { cachedModelForRelease } = await import(join(REPO, 'dist/remote/capture.js'));
  const release = hostKernels()[0]?.release;
  if (!release) return 'no kernel build tree under /lib/modules: kernel probe points are not checked';
  if (cachedModelForRelease(release)) return `kernel model: ${release} (cached)`;
  console.log(`No captured kernel model for ${release}: starting and stopping the lab VM once to capture it.`);
  const start = spawnSync(process.execPath, [CLI, 'lab', 'start'], { stdio: 'inherit' });
  spawnSync(process.execPath, [CLI, 'lab', 'stop'], { stdio: 'inherit' });
  if (start.status !== 0 || !cachedModelForRelease(release)) return `kernel model: capture failed; kernel probe points are not checked`;
  return `kernel model: ${release} (captured by starting the lab VM once for this run)`;
}

/** Files that use `$name` target variables (not `$1` arguments): they need BTF in kernel.function probes. */
const usesTargetVars = (text) => /\$(?!\d|#)[A-Za-z_$]/.test(text.replace(/#.*$|\/\/.*$/gm, ''));

async function main() {
  const started = Date.now();
  const modelNote = await ensureModel();
  console.log(modelNote);
  const hash = folders.some((f) => f === 'buildok' || f === 'examples') ? toolHash() : '';
  const results = {};
  for (const dir of folders) {
    const t0 = Date.now();
    const slow = dir === 'buildok' || dir === 'examples';
    const cacheDir = join(cacheRoot, dir);
    if (slow) mkdirSync(cacheDir, { recursive: true });
    let items;
    if (dir === 'examples') {
      const metas = [];
      const walk = (d) => { for (const n of readdirSync(d).sort()) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (n.endsWith('.meta')) metas.push(p); } };
      walk(join(CORPUS, 'examples'));
      items = metas;
    } else items = readManifest(dir);
    let cached = 0;
    const outcomes = await pool(items, slow ? jobs : Math.max(jobs, 2), async (item) => {
      const key = slow ? createHash('sha256').update(hash).update(dir).update(typeof item === 'string' ? readFileSync(item) : readFileSync(join(CORPUS, dir, item.file))).update(JSON.stringify(item)).digest('hex') : '';
      const cacheFile = slow ? join(cacheDir, `${key}.json`) : '';
      if (slow && existsSync(cacheFile)) {
        cached++;
        return JSON.parse(readFileSync(cacheFile, 'utf8'));
      }
      const timeout = slow || item.kind === 'shell' ? 600_000 : 60_000;
      const once = async () => (dir === 'examples' ? await runExample(item, timeout) : { file: item.file, ...(await runFile(dir, item, timeout)) });
      let r = await once();
      // A crash can be a race with someone rebuilding dist/ underneath; a real one happens twice.
      if (r.status === 'fail' && r.detail?.startsWith('crashed')) r = await once();
      const o = { file: r.file, status: r.status, detail: r.detail, flags: r.flags, target: r.text ? usesTargetVars(r.text) : false };
      if (slow) writeFileSync(cacheFile, JSON.stringify(o));
      process.stdout.write(o.status === 'pass' ? '.' : o.status === 'fail' ? 'F' : 'u');
      return o;
    });
    process.stdout.write('\n');
    const pass = outcomes.filter((o) => o.status === 'pass');
    const fail = outcomes.filter((o) => o.status === 'fail');
    const unsupported = outcomes.filter((o) => o.status === 'unsupported');
    const counted = pass.length + fail.length;
    const rate = counted ? (100 * pass.length) / counted : 0;
    results[dir] = { outcomes, pass, fail, unsupported, rate, seconds: (Date.now() - t0) / 1000, cached };
    const target = TARGETS[dir];
    console.log(`${dir}: ${pass.length} passed, ${fail.length} failed, ${unsupported.length} unsupported — ${rate.toFixed(1)}% of supported${target !== undefined ? ` (target ${target}%)` : ''}${slow ? `, ${cached} from cache` : ''}, ${results[dir].seconds.toFixed(1)} s`);
    for (const o of fail) console.log(`  failed ${o.file}: ${o.detail}`);
    for (const o of unsupported) console.log(`  unsupported ${o.file}: ${o.detail}`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`conformance: ${seconds.toFixed(1)} s`);
  if (writeResults) writeReport(results, modelNote, seconds);
  const missed = Object.entries(TARGETS).filter(([d, t]) => results[d] && results[d].rate < t);
  process.exitCode = missed.length ? 1 : 0;
}

const sum = (row) => Object.values(row).reduce((a, b) => a + b, 0);

/** Who a failure belongs to, from its first message. */
function causeOf(detail) {
  if (/unrecognized option|invalid option/.test(detail)) return 'CLI: a stap option tapsh does not take (src/cli)';
  if (/^accepted|^exit \d+ without/.test(detail)) return 'accepted what stap rejects (pass 1-2 or CLI checks)';
  if (/tapset gap|unresolved function call|no match for probe point (syscall|nd_syscall|nfsd?|sunrpc|scsi|tcpmib|netfilter)|tapsets\/.*error:|unknown macro or @-operator/.test(detail)) return 'tapsets: missing alias, function, macro or a tapset C error (tapsets/)';
  if (/not built yet|embedded C in an expression|indexing something that is not a global array|sprint of statistics|internal error|\[generated C line/.test(detail)) return 'translator or runtime: pass 3-4 (src/translate, runtime-c)';
  if (/no match for probe point kernel\.function|no match for probe point module|does not match any expansion|has no parameter|has no member|no field/.test(detail)) return 'the test names kernel functions, parameters or fields this kernel (6.1) does not have, or tracepoint arguments';
  if (/crashed|timed out/.test(detail)) return 'crash or timeout';
  return 'passes 1-2 (src/lang)';
}

function writeReport(results, modelNote, seconds) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [
    '# Conformance: tapsh over SystemTap\'s test corpus',
    '',
    `Produced by \`npm run conformance\` (scripts/conformance.mjs) on ${date}, in ${seconds.toFixed(0)} s; ${modelNote}.`,
    'The corpus is ../shared/corpus (see its README): `#! stap` files run with their shebang flags, shell files run with tapsh as `stap` on PATH',
    '(calls that would load a module are refused: such files are unsupported). The rate counts passed / (passed + failed).',
    '',
    '| folder | what passes | passed | failed | unsupported | rate | target |',
    '|---|---|---|---|---|---|---|',
  ];
  const what = { parseok: '`-p1` exits 0', parseko: '`-p1` fails with a diagnostic', semko: '`-p2` fails, `-p1` accepts', semok: '`-p2` exits 0', buildok: '`-p4` builds a module', examples: "the .meta's `test_check` (mostly `-p4`)" };
  for (const [dir, r] of Object.entries(results)) {
    const t = TARGETS[dir];
    lines.push(`| ${dir} | ${what[dir]} | ${r.pass.length} | ${r.fail.length} | ${r.unsupported.length} | ${r.rate.toFixed(1)}% | ${t !== undefined ? `${t}%` : '—'} |`);
  }
  lines.push('', '## Why files fail, by who can fix it', '', '| cause | ' + Object.keys(results).join(' | ') + ' |', '|---|' + Object.keys(results).map(() => '---|').join(''));
  const causes = new Map();
  for (const [dir, r] of Object.entries(results)) {
    for (const o of r.fail) {
      const c = causeOf(o.detail ?? '');
      const row = causes.get(c) ?? {};
      row[dir] = (row[dir] ?? 0) + 1;
      causes.set(c, row);
    }
  }
  for (const [c, row] of [...causes].sort((a, b) => sum(b[1]) - sum(a[1]))) lines.push(`| ${c} | ${Object.keys(results).map((d) => row[d] ?? 0).join(' | ')} |`);
  for (const [dir, r] of Object.entries(results)) {
    lines.push('', `## ${dir}`, '');
    if (!r.fail.length && !r.unsupported.length) lines.push('Every file passes.');
    if (r.fail.length) {
      lines.push('Failed:', '');
      for (const o of r.fail) lines.push(`- \`${o.file}\`${o.flags ? ` (${o.flags})` : ''}: ${o.detail.replace(/\|/g, '\\|')}`);
      lines.push('');
    }
    if (r.unsupported.length) {
      lines.push('Unsupported:', '');
      for (const o of r.unsupported) lines.push(`- \`${o.file}\`: ${o.detail}`);
      lines.push('');
    }
    if (dir === 'semok' || dir === 'buildok') {
      const tv = r.outcomes.filter((o) => o.target);
      lines.push(`Files using \`$target\` variables (BTF, kernel.function probes): ${tv.length}, of which ${tv.filter((o) => o.status === 'pass').length} pass: ${tv.map((o) => `\`${o.file}\` (${o.status})`).join(', ')}.`);
    }
  }
  mkdirSync(join(REPO, 'test/conformance'), { recursive: true });
  writeFileSync(join(REPO, 'test/conformance/RESULTS.md'), lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n');
  console.log('wrote test/conformance/RESULTS.md');
}

await main();
