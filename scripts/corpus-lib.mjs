// Reading SystemTap's conformance corpus and running its shell-script tests behind a `stap` shim; shared by the conformance runner and test/lang.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = resolve(REPO, '../shared/corpus');
export const corpusPresent = existsSync(CORPUS);

/** One MANIFEST.tsv row: file, kind (stap or shell), the shebang flags, the expected outcome. */
export function readManifest(dir) {
  const text = readFileSync(join(CORPUS, dir, 'MANIFEST.tsv'), 'utf8');
  return text.trim().split('\n').slice(1).map((l) => {
    const [file, kind, flags, expected] = l.split('\t');
    return { file, kind, flags: flags ?? '', expected };
  });
}

/** Splits a `#! stap ARGS` shebang the way the corpus harness does (whitespace, no quoting). */
export function shebangArgs(firstLine) {
  const m = /^#!\s*stap\b(.*)$/.exec(firstLine);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : undefined;
}

/** Why a shell test cannot say anything about tapsh at all, or undefined. */
export function shellUnsupported(text) {
  if (/\bstaprun\b/.test(text)) return 'tests staprun, not the translator';
  return undefined;
}

/**
 * The `stap` on PATH for shell tests. Every call is recorded (arguments NUL-separated, the script
 * read from stdin for "-", a copy of $SYSTEMTAP_TAPSET) in a numbered directory under $REC. With
 * $SHIM_NODE and $SHIM_CLI set it then runs tapsh with the same arguments; a call that would run
 * a module (no -p below 5, -l, -L, -V, -h) is refused and marked, since the conformance run builds
 * nothing it would have to load.
 */
const SHIM = `#!/bin/sh
n=$(cat "$REC/.n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$REC/.n"
d=$(printf '%s/%04d' "$REC" $n); mkdir -p "$d"
for a in "$@"; do printf '%s\\0' "$a"; done > "$d/args"
for a in "$@"; do if [ "$a" = "-" ]; then cat > "$d/stdin"; fi; done
if [ -n "$SYSTEMTAP_TAPSET" ] && [ -d "$SYSTEMTAP_TAPSET" ]; then cp -r "$SYSTEMTAP_TAPSET" "$d/tapset"; fi
[ -n "$SHIM_CLI" ] || exit 0
stops=0; prev=
for a in "$@"; do
  case "$prev" in -p) case "$a" in [1-4]) stops=1;; esac;; esac
  case "$a" in
    --help|--version|--dump-*) stops=1;;
    --*) ;;
    -*p[1-4]*|-*l|-*L|-*V|-*h|-l*|-L*) stops=1;;
  esac
  prev=$a
done
if [ $stops = 0 ]; then echo "stap shim: not running a module in the conformance run" >&2; touch "$d/would-run"; exit 1; fi
if [ -f "$d/stdin" ]; then "$SHIM_NODE" "$SHIM_CLI" "$@" < "$d/stdin"; else "$SHIM_NODE" "$SHIM_CLI" "$@"; fi
rc=$?; echo $rc > "$d/rc"; exit $rc
`;

function shellSetup() {
  const tmp = mkdtempSync(join(tmpdir(), 'tapsh-corpus-'));
  const bin = join(tmp, 'bin');
  const rec = join(tmp, 'rec');
  const work = join(tmp, 'work');
  for (const d of [bin, rec, work]) mkdirSync(d);
  writeFileSync(join(bin, 'stap'), SHIM);
  chmodSync(join(bin, 'stap'), 0o755);
  return { tmp, bin, rec, work };
}

function shellEnv(s, cli, extra) {
  // --example looks up SystemTap's examples: the corpus has them.
  const env = { ...process.env, PATH: `${s.bin}:${process.env.PATH ?? ''}`, REC: s.rec, TAPSH_EXAMPLES_DIR: join(CORPUS, 'examples'), ...extra };
  delete env.SYSTEMTAP_TAPSET;
  if (cli) Object.assign(env, { SHIM_NODE: process.execPath, SHIM_CLI: cli });
  else delete env.SHIM_CLI;
  return env;
}

/** The calls a shell run made, in order. */
function recordedCalls(rec) {
  return readdirSync(rec).filter((n) => /^\d+$/.test(n)).sort().map((c) => {
    const d = join(rec, c);
    return {
      argv: readFileSync(join(d, 'args'), 'utf8').split('\0').slice(0, -1),
      stdin: existsSync(join(d, 'stdin')) ? readFileSync(join(d, 'stdin'), 'utf8') : undefined,
      tapsetDir: existsSync(join(d, 'tapset')) ? join(d, 'tapset') : undefined,
      wouldRun: existsSync(join(d, 'would-run')),
      code: existsSync(join(d, 'rc')) ? Number(readFileSync(join(d, 'rc'), 'utf8')) : undefined,
    };
  });
}

/**
 * Runs a shell test synchronously with the recording shim only (no tapsh); `inspect` sees the
 * calls and the working directory before everything is removed.
 */
export function recordShellCalls(path, inspect) {
  const s = shellSetup();
  try {
    spawnSync('bash', [path], { cwd: s.work, env: shellEnv(s), timeout: 30_000, stdio: ['ignore', 'ignore', 'ignore'] });
    return inspect(recordedCalls(s.rec), s.work);
  } finally {
    rmSync(s.tmp, { recursive: true, force: true });
  }
}

/**
 * Runs a shell command line (a test file, or an examples `test_check` line) with tapsh as `stap`;
 * resolves to its exit status or signal, its output, and the calls it made.
 */
export function runWithShim({ argv, cwd, cli, timeoutMs = 120_000, env = {} }) {
  const s = shellSetup();
  return new Promise((done) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: cwd ?? s.work, env: shellEnv(s, cli, env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const calls = recordedCalls(s.rec);
      rmSync(s.tmp, { recursive: true, force: true });
      done({ code, signal, timedOut, stdout, stderr, calls });
    });
  });
}
