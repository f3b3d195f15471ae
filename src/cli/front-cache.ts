// The front cache: `tapsh -p4`/`-p5` of a script built before skips passes 1-3 (and loading the kernel model).
//
// Its key is everything passes 1-3 read: the command line and working directory, the script's
// text, $SYSTEMTAP_TAPSET, the tapset files (names, sizes, mtimes), tapsh's own code, the runtime,
// the kernel build tree's configuration and the cached kernel models. The value is the translated
// unit (module name and C) and, after a -p4, the built module. Only runs whose passes 1-3 printed
// nothing are recorded, so a hit has nothing to replay.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../util/cache.js';
import type { CliOptions } from './options.js';

export interface FrontEntry {
  name: string;
  c: string;
  /** The module built from it, after a -p4 (in the module cache). */
  ko?: string;
}

const DIST = fileURLToPath(new URL('..', import.meta.url));
const PACKAGE_TAPSETS = fileURLToPath(new URL('../../tapsets', import.meta.url));
const RUNTIME = fileURLToPath(new URL('../../runtime-c', import.meta.url));

/** name, size and mtime of every file under `dir` (recursively), sorted: what says a tree changed. */
function treeStamp(dir: string, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    out.push(`${dir}:absent`);
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) treeStamp(p, out);
    else out.push(`${p}:${st.size}:${st.mtimeMs}`);
  }
  return out;
}

function fileStamp(p: string): string {
  const st = statSync(p, { throwIfNoEntry: false });
  return st ? `${p}:${st.size}:${st.mtimeMs}` : `${p}:absent`;
}

/** The script file's text for the key; undefined when it cannot be read (pass 1 then says why). */
export function readScriptFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The key, or undefined when the run cannot be cached (the script comes from stdin). */
export function frontKey(o: CliOptions, argv: readonly string[], scriptText: string | undefined): string | undefined {
  if (scriptText === undefined) return undefined;
  const tapsetEnv = process.env['SYSTEMTAP_TAPSET'] ?? '';
  const tapsetDirs = [...(tapsetEnv ? tapsetEnv.split(':').filter(Boolean) : [PACKAGE_TAPSETS]), ...o.includeDirs];
  const release = o.kernelRelease;
  const kernels = cacheDir('kernels');
  const parts = [
    'tapsh-front v1',
    process.cwd(),
    argv.join('\0'),
    scriptText,
    tapsetEnv,
    ...tapsetDirs.flatMap((d) => treeStamp(d)),
    ...treeStamp(DIST),
    ...treeStamp(RUNTIME),
    // The build tree and kernel models passes 1-3 would read.
    release ?? '',
    ...(existsSync('/lib/modules') ? readdirSync('/lib/modules').sort().map((r) => fileStamp(join('/lib/modules', r, 'build/include/config/auto.conf'))) : []),
    ...(existsSync(kernels) ? readdirSync(kernels).sort().map((d) => fileStamp(join(kernels, d, 'identity.json'))) : []),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

function entryPath(key: string): string {
  return join(cacheDir('front'), key.slice(0, 2), `${key.slice(2)}.json`);
}

export function lookupFront(key: string | undefined): FrontEntry | undefined {
  if (!key) return undefined;
  try {
    const e = JSON.parse(readFileSync(entryPath(key), 'utf8')) as FrontEntry;
    if (e.ko && !existsSync(e.ko)) delete e.ko; // the module cache was cleared: pass 4 builds again
    return e;
  } catch {
    return undefined;
  }
}

export function storeFront(key: string | undefined, entry: FrontEntry): void {
  if (!key) return;
  const p = entryPath(key);
  try {
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(`${p}.tmp-${process.pid}`, JSON.stringify(entry));
    renameSync(`${p}.tmp-${process.pid}`, p);
  } catch {
    // a cache that cannot be written only costs time next run
  }
}

/** -p4 with -m NAME keeps NAME.ko in the current directory, as stap does. */
export function keepModule(o: CliOptions, ko: string, name: string): string {
  if (!o.moduleName) return ko;
  const dst = `${name}.ko`;
  copyFileSync(ko, dst);
  return dst;
}
