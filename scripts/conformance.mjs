// npm run conformance: tapsh (the built CLI) over SystemTap's corpus as its README says; per-folder results and test/conformance/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { CORPUS, REPO, readManifest, runWithShim, shebangArgs, shellUnsupported } from './corpus-lib.mjs';

/**
 * The run uses a private copy of the built tapsh (bin, dist, tapsets, runtime-c): others rebuilding dist/ in the
 * shared tree during the ~15 minutes of a run would otherwise make tapsh crash on a half-written module.
 */
const SNAPSHOT = mkdtempSync(join(tmpdir(), 'tapsh-conformance-'));
for (const d of ['bin', 'dist', 'tapsets', 'runtime-c', 'package.json']) cpSync(join(REPO, d), join(SNAPSHOT, d), { recursive: true });
symlinkSync(join(REPO, 'node_modules'), join(SNAPSHOT, 'node_modules'));
process.on('exit', () => rmSync(SNAPSHOT, { recursive: true, force: true }));
const CLI = join(SNAPSHOT, 'bin/tapsh.js');
/** Messages name the snapshot's tapset files: show them as the repository's. */
const repoPaths = (text) => text?.replaceAll(SNAPSHOT, REPO);
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
      else if (!n.endsWith('.map')) h.update(relative(SNAPSHOT, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const d of ['dist', 'tapsets', 'runtime-c']) walk(join(SNAPSHOT, d));
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
  if (v.status === 'fail' && /^exit \d+ without/.test(v.detail)) {
    // tapsh said nothing wrong: the test's own shell check failed. Say after which calls.
    const calls = run.calls.map((c) => `\`stap ${c.argv.map((a) => (/[\s'"$]/.test(a) ? `'${a}'` : a)).join(' ')}\` exited ${c.code ?? '?'}`);
    v.detail = `the script's own check failed (exit ${run.code}) after ${calls.join(', ')}`;
  }
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
  const { hostKernels } = await import(join(SNAPSHOT, 'dist/build/buildtree.js'));
  const { cachedModelForRelease } = await import(join(SNAPSHOT, 'dist/remote/capture.js'));
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
      const o = { file: r.file, status: r.status, detail: repoPaths(r.detail), flags: r.flags, target: r.text ? usesTargetVars(r.text) : false };
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

const CAUSE = {
  cli: 'CLI: a stap option tapsh does not take (src/cli)',
  accepted: 'accepted what stap rejects (pass 1-2 or CLI checks)',
  tapsets: 'tapsets: missing alias, function, global, macro, guru mark or a tapset C error (tapsets/)',
  translator: 'translator or runtime: pass 3-4 (src/translate, runtime-c)',
  kernel: 'the test names kernel functions, parameters or fields this kernel (6.1) does not have, or tracepoint arguments',
  crash: 'crash or timeout',
  lang: 'passes 1-2 (src/lang)',
  syscalls: 'syscall.* / nd_syscall.* aliases derived from the kernel (src/lang/syscalls.ts)',
};

/**
 * Failures whose first message does not tell who can fix them, worked out by hand (stap 4.8's
 * verdicts with `stap -r 6.1.0-57-amd64 -p2` on the host; names in stap's tapset library from
 * ../shared/reference). A note shows in RESULTS.md only while the file still fails.
 */
const KNOWN = {
  'semko/fortysix.stp': { cause: CAUSE.tapsets, note: "stap's tapset library declares `global NULL = 0`, so `\"foo\" == NULL` is a type mismatch; tapsets/ has no NULL, so here NULL is an unassigned local string" },
  'semko/logging-embedded.stp': { cause: CAUSE.tapsets, note: 'printk() is guru-only in stap (its C body carries /* guru */, which pass 2 enforces: TS4047); tapsets/logging.stp does not mark it' },
  'semko/task_ns.stp': { cause: CAUSE.tapsets, note: 'task_ns_pid() is guru-only in stap (/* guru */); tapsets/task.stp does not mark it' },
  'semok/pr16730.stp': { cause: CAUSE.tapsets, note: "the test first checks that `-p2` of socket.send includes a begin probe of the socket tapset (stap's has a begin(-1001) initialisation probe) and exits 2 when not; tapsets/sockets.stp has no such probe. The property it then tests holds: `tapsh -l socket.send` lists no begin probe" },
  'semok/thirtyfour.stp': { cause: CAUSE.kernel, note: "alias foo.bar expands to do_sys_exit or __do_sys_exit, both `!`; on 6.1 __do_sys_exit is inlined into __x64_sys_exit and has no symbol. stap finds inline copies through debuginfo; without it stap also fails (checked: an alias whose `!` targets all fail is an error for `foo.*` in stap 4.8 too)" },
  'semok/badvar_undefined.stp': { cause: CAUSE.kernel, note: '__do_sys_getxattr is inlined on 6.1 (no symbol): stap reaches it through debuginfo only' },
  'semko/alias_suffixes05.stp': { cause: CAUSE.syscalls, note: 'syscallSuffix() drops every suffix component that fnmatches `maxactive` after a .return alias, and the `*` of `.maxactive(1).*` fnmatches it: the wildcard that stap finds nothing for is silently dropped' },
  'semko/deprecated01.stp': { cause: CAUSE.syscalls, note: "with --compatible=1.4 stap's nd_syscall.accept sets flag_str (a string, so `flag_str++` is a type error); the derived aliases never set it" },
  ...Object.fromEntries(['io/iotime.stp', 'lwtools/opensnoop-nd.stp', 'lwtools/rwtime-nd.stp', 'process/wait4time.stp'].map((f) => [`examples/${f}`, {
    cause: CAUSE.syscalls, note: '`@entry(...)` in a (nd_)syscall.*.return probe: the derived .return aliases are sys_exit tracepoints, not function returns',
  }])),
  'examples/profiling/periodic.stp': { cause: CAUSE.tapsets, note: "tapsets/offsetof.stpm's @module_container_of is plain arithmetic (`ptr - offset`), so `->task` on it has no type (stap's own container_of macros wrap it in `& @cast(..., @type)`); the script also calls symfileline(), which tapsets/ lacks" },
  'buildok/irq-detailed.stp': { cause: CAUSE.tapsets, note: "stap's irq_handler.entry sets dev_name to the name's address (a long, printed with %d); tapsets/irq.stp sets the name string" },
};

/** Globals of stap's tapset library that scripts use without declaring (argv.stp, null.stp, tcpmib.stp...). */
const STAP_TAPSET_GLOBALS = /'(argv|argc|NULL|ActiveOpens|AttemptFails|CurrEstab|EstabResets|InSegs|OutRsts|OutSegs|PassiveOpens|RetransSegs|InReceives|InDiscards)' is used as an array|never-assigned local variable '(NULL|argc)'/;

/** Who a failure belongs to: a hand-checked KNOWN entry, else from its first message. */
function causeOf(detail, key) {
  if (KNOWN[key]) return KNOWN[key].cause;
  if (/unrecognized option|invalid option/.test(detail)) return CAUSE.cli;
  if (/^accepted|^exit \d+ without|own check failed/.test(detail)) return CAUSE.accepted;
  if (/tapset gap|unresolved function call|no match for probe point (syscall|nd_syscall|nfsd?|sunrpc|scsi|tcpmib|netfilter)|tapsets\/.*error:|unknown macro or @-operator/.test(detail) || STAP_TAPSET_GLOBALS.test(detail)) return CAUSE.tapsets;
  // `no match` for a point that starts with no built-in family: an alias tapsets/ does not have.
  if (/no match for probe point (?!kernel\.|module\(|kprobe\.|timer\.|begin|end|error|never|procfs)[A-Za-z_]/.test(detail)) return CAUSE.tapsets;
  if (/not built yet|not supported by tapsh yet|embedded C in an expression|indexing something that is not a global array|sprint of statistics|internal error|\[generated C line|trace record, which a probe/.test(detail)) return CAUSE.translator;
  if (/no match for probe point (kernel\.function|kernel\.trace|module)|does not match any expansion|has no parameter|has no member|no field|unable to find member/.test(detail)) return CAUSE.kernel;
  if (/crashed|timed out/.test(detail)) return CAUSE.crash;
  return CAUSE.lang;
}

/** Notes for the other engineers, each shown while a failure it explains is still in the run. */
function notes(results) {
  const all = Object.values(results).flatMap((r) => r.fail.map((o) => o.detail ?? ''));
  const count = (re) => all.filter((d) => re.test(d)).length;
  const out = ['## Notes for the owners of the remaining failures', ''];
  const add = (re, text) => { const n = count(re); if (n) out.push(`- (${n}) ${text}`); };
  add(/unknown macro or @-operator @(prometheus_|json_|this\d)/, "`@prometheus_*`, `@json_*` and `@this1`..`@this8` are `.stpm` macros of stap's tapset library (prometheus.stpm, linux/json.stpm, macros.stpm; names in ../shared/reference/tapset-index.tsv): tapset gaps. tapsh reads `.stpm` files from the tapset path, so adding them to tapsets/ is enough.");
  add(/'argv' is used as an array/, "`argv` (with `argc`, `argv_1`..`argv_32`) is a global array of stap's tapset library (argv.stp), filled from the script arguments: a tapset gap, not a pass-2 bug (a script may use a library global without declaring it; tapsh resolves library globals).");
  add(/NULL/, '`NULL` is a library global (`global NULL = 0`, null.stp) in stap: a tapset gap.');
  add(/no match for probe point (nd_)?syscall\./, 'syscall aliases stap has for calls this kernel (x86_64, 6.1) has no tracepoint for (fstatfs64, ni_syscall...) are missing: stap defines them with optional `?` points, so a script naming them still builds there (src/lang/syscalls.ts).');
  add(/@entry is only valid in a function-return probe/, 'For the syscall aliases (src/lang/syscalls.ts): `@entry(...)` in a `syscall.*.return` probe is refused because the derived .return aliases are tracepoints (sys_exit_*), not function returns; stap\'s are kretprobes, where @entry works.');
  add(/sprint of statistics/, 'For the translator (src/translate): `sprint(@hist_*(...))` / `sprint` of a statistics value (print_histograms.stp) is accepted by passes 1-2 and refused in pass 3.');
  add(/indexing something that is not a global array/, "For the translator (src/translate): a histogram bucket test `[N] in @hist_log(s)` (histogram_operator_in.stp) and `foreach` over a statistics array with an aggregate sort or value (pmap_foreach.stp) pass pass 2 and hit pass 3's 'indexing something that is not a global array'.");
  add(/trace record, which a probe/, 'For the BTF/translator engineer: tracepoint probes that read both TP_PROTO arguments and record fields (sched_switch, signal_generate, kmem_cache_alloc) are refused in pass 3.');
  return out.length > 2 ? out : [];
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
      const c = causeOf(o.detail ?? '', `${dir}/${o.file}`);
      const row = causes.get(c) ?? {};
      row[dir] = (row[dir] ?? 0) + 1;
      causes.set(c, row);
    }
  }
  for (const [c, row] of [...causes].sort((a, b) => sum(b[1]) - sum(a[1]))) lines.push(`| ${c} | ${Object.keys(results).map((d) => row[d] ?? 0).join(' | ')} |`);
  lines.push('', ...notes(results));
  for (const [dir, r] of Object.entries(results)) {
    lines.push('', `## ${dir}`, '');
    if (!r.fail.length && !r.unsupported.length) lines.push('Every file passes.');
    if (r.fail.length) {
      lines.push('Failed:', '');
      for (const o of r.fail) {
        const known = KNOWN[`${dir}/${o.file}`];
        lines.push(`- \`${o.file}\`${o.flags ? ` (${o.flags})` : ''}: ${o.detail.replace(/\|/g, '\\|')}${known ? ` — **why:** ${known.note}` : ''}`);
      }
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
