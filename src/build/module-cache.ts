// Pass 4: builds a module from generated C with kbuild, cached by content (C, runtime, kernel, compiler, flags).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../util/cache.js';
import type { BuildTree } from './buildtree.js';
import { kbuild } from './kbuild.js';

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
    .update(['tapsh-module v1', src.name, src.c, src.defines.join('\n'), src.kbuildExtra ?? '', runtimeDigest(), tree.release, tree.utsVersion, tree.vermagic, compilerIdentity(tree)].join('\0'))
    .digest('hex');
}

/** Builds (or takes from the cache) the module. The returned .ko lives in the cache; copy it to keep it. */
export async function buildModule(src: ModuleSource, tree: BuildTree): Promise<BuiltModule> {
  const t0 = Date.now();
  const key = moduleKey(src, tree);
  const dir = join(cacheDir('modules'), key.slice(0, 2), key.slice(2, 24));
  const ko = join(dir, `${src.name}.ko`);
  if (existsSync(ko)) return { ko, cached: true, key, ms: Date.now() - t0 };

  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, `${src.name}.c`), src.c);
  const cflags = [`-I${RUNTIME_DIR}`, ...src.defines.map((d) => `-D${d}`)].map((f) => `'${f.replace(/'/g, `'\\''`)}'`);
  writeFileSync(
    join(work, 'Kbuild'),
    [`obj-m := ${src.name}.o`, `ccflags-y := ${cflags.join(' ')}`, src.kbuildExtra ?? '', ''].join('\n'),
  );
  try {
    await kbuild(tree, work, src.name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(work, `${src.name}.ko`), `${ko}.tmp`);
    renameSync(`${ko}.tmp`, ko);
    // Keep the generated C beside the module, for -p3-after-the-fact and diagnosis.
    writeFileSync(join(dir, `${src.name}.c`), src.c);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ko, cached: false, key, ms: Date.now() - t0 };
}
