// Pass 4: builds a module from generated C with kbuild, cached by content (C, runtime, kernel, compiler, flags).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../util/cache.js';
import type { BuildTree } from './buildtree.js';
import { kbuild, KbuildError } from './kbuild.js';
import { mapCErrors, renderCErrors } from './cerrors.js';
import { ensurePch, learnRecipe, loadRecipe, recipeKey, runRecipe } from './fastbuild.js';

export const RUNTIME_DIR = fileURLToPath(new URL('../../runtime-c', import.meta.url));

export interface ModuleSource {
  /** Kernel module name (also the .ko file name): [A-Za-z0-9_], at most 55 characters. */
  name: string;
  /** The generated translation unit. */
  c: string;
  /** -D NAME[=VALUE] definitions. */
  defines: string[];
  /** Extra Kbuild lines (e.g. KBUILD_EXTRA_SYMBOLS for session handler modules). */
  kbuildExtra?: string;
}

export interface BuiltModule {
  ko: string;
  cached: boolean;
  key: string;
  ms: number;
}

let runtimeDigestMemo: string | undefined;

/** Hash of every file under runtime-c/: a runtime change invalidates every cached module. */
export function runtimeDigest(): string {
  if (runtimeDigestMemo) return runtimeDigestMemo;
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(c|h)$/.test(name)) h.update(p.slice(RUNTIME_DIR.length)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  if (existsSync(RUNTIME_DIR)) walk(RUNTIME_DIR);
  runtimeDigestMemo = h.digest('hex');
  return runtimeDigestMemo;
}

const compilerMemo = new Map<string, string>();

/** The compiler kbuild will use for this tree (its CONFIG_CC_VERSION_TEXT, else `gcc --version`). */
export function compilerIdentity(tree: BuildTree): string {
  const memo = compilerMemo.get(tree.dir);
  if (memo) return memo;
  let id = '';
  try {
    const conf = readFileSync(join(tree.dir, 'include/config/auto.conf'), 'utf8');
    id = /^CONFIG_CC_VERSION_TEXT="(.*)"$/m.exec(conf)?.[1] ?? '';
  } catch {
    /* fall through */
  }
  if (!id) {
    try {
      id = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
    } catch {
      id = 'unknown';
    }
  }
  compilerMemo.set(tree.dir, id);
  return id;
}

export function moduleKey(src: ModuleSource, tree: BuildTree): string {
  return createHash('sha256')
    .update(['tapsh-module v2', src.name, src.c, src.defines.join('\n'), src.kbuildExtra ?? '', runtimeDigest(), tree.release, tree.utsVersion, tree.vermagic, compilerIdentity(tree)].join('\0'))
    .digest('hex');
}

/** `strip --strip-debug` in place; a module that cannot be stripped is still a good module. */
export function stripDebug(path: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('strip', ['--strip-debug', path], { stdio: 'ignore' });
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
}

/** kbuild's ccflags for both halves of a module: the runtime's include path and the -D limits. */
export function ccflags(defines: string[]): string {
  return [`-I${RUNTIME_DIR}`, ...defines.map((d) => `-D${d}`)].map((f) => `'${f.replace(/'/g, `'\\''`)}'`).join(' ');
}

const runtimeBuilds = new Map<string, Promise<string>>();

/**
 * The runtime compiled once into an object per build tree, compiler and set of -D flags, cached:
 * script units then compile only their own code and link it (README "Build modes", split).
 */
function runtimeObjectPath(tree: BuildTree, defines: string[]): { key: string; dir: string; obj: string } {
  const key = createHash('sha256')
    .update(['tapsh-runtime v1', runtimeDigest(), tree.release, tree.utsVersion, tree.vermagic, compilerIdentity(tree), [...defines].sort().join('\n')].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const dir = join(cacheDir('runtime'), key);
  return { key, dir, obj: join(dir, 'tapsh_runtime.o') };
}

/** Puts a runtime object compiled elsewhere (by a module's own make) where runtimeObject() finds it. */
function adoptRuntimeObject(tree: BuildTree, defines: string[], built: string): string {
  const { dir, obj } = runtimeObjectPath(tree, defines);
  mkdirSync(dir, { recursive: true });
  copyFileSync(built, `${obj}.tmp-${process.pid}`);
  renameSync(`${obj}.tmp-${process.pid}`, obj);
  return obj;
}

export async function runtimeObject(tree: BuildTree, defines: string[]): Promise<string> {
  const { key, dir, obj } = runtimeObjectPath(tree, defines);
  if (existsSync(obj)) return obj;
  let pending = runtimeBuilds.get(key);
  if (!pending) {
    pending = (async () => {
      const work = `${dir}.build-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      writeFileSync(join(work, 'tapsh_runtime.c'), '#include "tap_runtime.c"\n');
      writeFileSync(join(work, 'Kbuild'), `obj-m += tapsh_runtime.o\nccflags-y += ${ccflags(defines)}\n`);
      try {
        await kbuild(tree, work, 'tapsh_runtime', [], 'tapsh_runtime.o');
        mkdirSync(dir, { recursive: true });
        copyFileSync(join(work, 'tapsh_runtime.o'), `${obj}.tmp`);
        renameSync(`${obj}.tmp`, obj);
      } finally {
        rmSync(work, { recursive: true, force: true });
        runtimeBuilds.delete(key);
      }
      return obj;
    })();
    runtimeBuilds.set(key, pending);
  }
  return pending;
}

/**
 * Builds (or takes from the cache) the module: the generated unit (which includes only tap.h)
 * linked with the cached runtime object. The returned .ko lives in the cache; copy it to keep it.
 */
export async function buildModule(src: ModuleSource, tree: BuildTree): Promise<BuiltModule> {
  const t0 = Date.now();
  const key = moduleKey(src, tree);
  const dir = join(cacheDir('modules'), key.slice(0, 2), key.slice(2, 24));
  const ko = join(dir, `${src.name}.ko`);
  if (existsSync(ko)) return { ko, cached: true, key, ms: Date.now() - t0 };

  // Cold (no runtime object yet for this kernel and -D set): one make compiles the runtime and the
  // script unit side by side, and the runtime object it made is kept for every later build.
  const cold = !existsSync(runtimeObjectPath(tree, src.defines).obj) && !runtimeBuilds.has(runtimeObjectPath(tree, src.defines).key) && !src.kbuildExtra;
  const runtime = cold ? runtimeObjectPath(tree, src.defines).obj : await runtimeObject(tree, src.defines);
  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const unit = src.name === 'tapsh_script' ? 'tapsh_script_unit' : 'tapsh_script';
  writeFileSync(join(work, `${unit}.c`), src.c);
  const compileError = (log: string): KbuildError => {
    // Point at the script: embedded C and translator bugs both surface here.
    const mapped = renderCErrors(mapCErrors(log, join(work, `${unit}.c`), src.c));
    return new KbuildError(log, mapped ? `${mapped}\n(run with -v for the full compiler output)` : `kbuild failed for ${src.name}:\n${log.slice(-2000)}`);
  };
  try {
    // Fast path: replay the commands kbuild ran last time for this tree and flag set, without make.
    const rkey = recipeKey(tree, runtime);
    const recipe = unit === 'tapsh_script' && !src.kbuildExtra && !cold ? loadRecipe(rkey) : undefined;
    let built = false;
    if (recipe) {
      const [unitPch, modPch] = await Promise.all([ensurePch(recipe, tree, 'unit'), ensurePch(recipe, tree, 'mod')]);
      const r = await runRecipe(recipe, tree, work, src.name, { runtimeObject: runtime }, { unit: unitPch, mod: modPch });
      if (r.ok) built = true;
      else if (mapCErrors(r.log, join(work, `${unit}.c`), src.c).some((e) => e.severity === 'error')) throw compileError(r.log);
      // Anything else (a stale recipe): fall back to make below.
    }
    if (!built) {
      if (cold) {
        writeFileSync(join(work, 'tapsh_runtime.c'), '#include "tap_runtime.c"\n');
      } else {
        copyFileSync(runtime, join(work, 'tapsh_runtime.o_shipped'));
        // modpost reads every object's .cmd file; the shipped runtime object gets a one-line one.
        writeFileSync(join(work, '.tapsh_runtime.o.cmd'), `cmd_${work}/tapsh_runtime.o := cp tapsh_runtime.o_shipped tapsh_runtime.o\n`);
      }
      writeFileSync(
        join(work, 'Kbuild'),
        [`obj-m += ${src.name}.o`, `${src.name}-y := ${unit}.o tapsh_runtime.o`, `ccflags-y += ${ccflags(src.defines)}`, src.kbuildExtra ?? '', ''].join('\n'),
      );
      let result;
      try {
        result = await kbuild(tree, work, src.name, ['V=1']);
      } catch (e) {
        if (e instanceof KbuildError) throw compileError(e.log);
        throw e;
      }
      const runtimeNow = cold ? adoptRuntimeObject(tree, src.defines, join(work, 'tapsh_runtime.o')) : runtime;
      // Learn the recipe from this build when the names are distinctive enough to substitute.
      if (unit === 'tapsh_script' && !src.kbuildExtra && /^[a-z]+_[0-9a-f]{8,}$/.test(src.name)) learnRecipe(result.log, work, src.name, recipeKey(tree, runtimeNow));
    }
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(work, `${src.name}.ko`), `${ko}.tmp`);
    // Debug info is 85% of the module and is never loaded: dropping it makes uploads to a
    // target (over SSH, into an emulated guest) about seven times smaller.
    await stripDebug(`${ko}.tmp`);
    renameSync(`${ko}.tmp`, ko);
    // Keep the generated C beside the module, for diagnosis.
    writeFileSync(join(dir, `${src.name}.c`), src.c);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ko, cached: false, key, ms: Date.now() - t0 };
}
