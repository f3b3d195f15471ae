// Pass 4 without make: replays the exact commands kbuild ran for a module (learned once per kernel tree and flags).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../util/cache.js';
import type { BuildTree } from './buildtree.js';

/**
 * The five commands kbuild runs for a split tapsh module, with the build directory and module
 * name replaced by placeholders: compile the script unit, link it with the runtime object,
 * modpost, compile the generated .mod.c, link the .ko. Run from the build tree's directory.
 */
export interface Recipe {
  compile: string;
  link: string;
  modpost: string;
  compileMod: string;
  linkKo: string;
}

const DIR = '@TAPSH_DIR@';
const NAME = '@TAPSH_NAME@';

/** Names used while learning: distinctive, so that substituting them back is unambiguous. */
export const LEARN_NAME = 'tapshlearnmodzq';

function recipePath(key: string): string {
  return join(cacheDir('recipes'), `${key}.json`);
}

export function recipeKey(tree: BuildTree, flagsKey: string): string {
  return createHash('sha256').update(['tapsh-recipe v1', tree.dir, tree.release, tree.utsVersion, flagsKey].join('\0')).digest('hex').slice(0, 24);
}

export function loadRecipe(key: string): Recipe | undefined {
  try {
    return JSON.parse(readFileSync(recipePath(key), 'utf8')) as Recipe;
  } catch {
    return undefined;
  }
}

/**
 * Extracts the recipe from a `make V=1` log of a split build done in `dir` for module `name`
 * (whose unit is tapsh_script.c); undefined when any step is missing (then keep using make).
 */
export function learnRecipe(log: string, dir: string, name: string, key: string): Recipe | undefined {
  const lines = log.split('\n').map((l) => l.trim());
  const find = (pred: (l: string) => boolean) => lines.find(pred);
  const compile = find((l) => /^\S*gcc\S* /.test(l) && l.includes(` -c -o ${dir}/tapsh_script.o ${dir}/tapsh_script.c`));
  const link = find((l) => /^\S*ld /.test(l) && l.includes(`-r -o ${dir}/${name}.o @${dir}/${name}.mod`));
  const modpost = find((l) => l.includes('scripts/mod/modpost') && l.includes(`${dir}/modules.order`));
  const compileMod = find((l) => /^\S*gcc\S* /.test(l) && l.includes(`-c -o ${dir}/${name}.mod.o ${dir}/${name}.mod.c`));
  const linkKo = find((l) => /^\S*ld /.test(l) && l.includes(`-o ${dir}/${name}.ko ${dir}/${name}.o ${dir}/${name}.mod.o`));
  if (!compile || !link || !modpost || !compileMod || !linkKo) return undefined;
  const generalise = (cmd: string) => cmd.split(dir).join(DIR).split(name).join(NAME);
  const recipe: Recipe = {
    compile: generalise(compile),
    link: generalise(link),
    modpost: generalise(modpost),
    compileMod: generalise(compileMod),
    linkKo: generalise(linkKo.replace(/;\s*true$/, '')),
  };
  writeFileSync(recipePath(key), JSON.stringify(recipe, null, 2));
  return recipe;
}

function sh(cmd: string, cwd: string, signal?: AbortSignal): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve({ code: 130, out: 'cancelled\n' });
    // Its own process group, so a cancel stops the compiler the shell started, not just the shell.
    const child = spawn('/bin/sh', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, detached: true });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', kill, { once: true });
    child.once('close', () => signal?.removeEventListener('abort', kill));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.once('error', () => resolve({ code: 127, out: 'could not run /bin/sh' }));
    child.once('close', (code) => resolve({ code: code ?? 1, out: Buffer.concat(chunks).toString('utf8') }));
  });
}

/*
 * Precompiled headers. The generated unit and the .mod.c spend most of their compile time parsing
 * kernel headers (about 50,000 lines for a one-probe unit); a GCC precompiled header of those,
 * built once per recipe, cuts a handler's compile about sixfold. GCC uses a PCH only as the very
 * first include and only when the macros defined before it match, so: the PCH is built by the
 * recipe's own command (kbuild's three forced includes come first inside it), and the command
 * that uses it names the PCH first, drops those forced includes (they are in the PCH), and takes
 * the per-module name macros from a small header included after the PCH instead of -D flags.
 */

/** What the PCHs hold: the headers every generated unit starts with, and what every .mod.c includes first. */
const PCH_HEADERS = {
  unit: ['<linux/module.h>', '"tap.h"', '<linux/kernel.h>', '<linux/sched.h>', '<linux/string.h>', '<linux/ptrace.h>', '<linux/kprobes.h>', '<linux/jiffies.h>', '<linux/uaccess.h>'],
  mod: ['<linux/module.h>'],
};

/** Debug info is stripped from every module before upload (module-cache.ts): not generating it saves compile time. */
const DEBUG_INFO = / -g(?= )/g;

const FORCED_INCLUDES = /-include \S*\/(compiler-version|kconfig|compiler_types)\.h /g;
const NAME_DEFINES = / -DKBUILD_BASENAME=\S+| -DKBUILD_MODNAME=\S+| -D__KBUILD_MODNAME=\S+/g;

function pchKey(command: string, kind: keyof typeof PCH_HEADERS, tree: BuildTree): string {
  // tap.h's content is in the runtime digest, which is in the recipe's flags key via the runtime object path.
  return createHash('sha256').update(['tapsh-pch v2', tree.dir, command, PCH_HEADERS[kind].join('\n'), kind === 'unit' ? readRuntimeHeader() : ''].join('\0')).digest('hex').slice(0, 24);
}

let runtimeHeaderMemo: string | undefined;
function readRuntimeHeader(): string {
  runtimeHeaderMemo ??= readFileSync(new URL('../../runtime-c/tap.h', import.meta.url), 'utf8');
  return runtimeHeaderMemo;
}

const pchBuilds = new Map<string, Promise<string | undefined>>();

/**
 * The PCH for one of the recipe's compile steps (built on first use, cached); undefined when GCC
 * cannot build one here (the plain command is used then). Returns the header path to -include.
 */
export function ensurePch(recipe: Recipe, tree: BuildTree, kind: keyof typeof PCH_HEADERS): Promise<string | undefined> {
  const command = kind === 'unit' ? recipe.compile.split(' ; ')[0]! : recipe.compileMod;
  const key = pchKey(command, kind, tree);
  const dir = join(cacheDir('pch'), key);
  const header = join(dir, 'tapsh_pch.h');
  if (existsSync(`${header}.gch`)) return Promise.resolve(header);
  let pending = pchBuilds.get(key);
  if (!pending) {
    pending = (async () => {
      const work = `${dir}.build-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      try {
        writeFileSync(join(work, 'tapsh_pch.h'), PCH_HEADERS[kind].map((h) => `#include ${h}`).join('\n') + '\n');
        // The recipe's compile of a placeholder unit, turned into a header compile (no dependency file, no name macros).
        const src = kind === 'unit' ? `${DIR}/tapsh_script.c` : `${DIR}/${NAME}.mod.c`;
        const cmd = command
          .replace(/-Wp,-MMD,\S+ /, '')
          .replace(NAME_DEFINES, '')
          .replace(DEBUG_INFO, '')
          .replace(/ -c -o \S+ (\S+)\s*$/, (m, file: string) => (file === src ? ` -x c-header -c -o ${work}/tapsh_pch.h.gch ${work}/tapsh_pch.h` : m));
        if (!cmd.includes('-x c-header')) return undefined;
        const r = await sh(cmd, tree.dir);
        if (r.code !== 0) return undefined;
        mkdirSync(dir, { recursive: true });
        renameSync(join(work, 'tapsh_pch.h.gch'), `${header}.gch.tmp`);
        writeFileSync(header, readFileSync(join(work, 'tapsh_pch.h')));
        renameSync(`${header}.gch.tmp`, `${header}.gch`);
        return header;
      } finally {
        rmSync(work, { recursive: true, force: true });
        pchBuilds.delete(key);
      }
    })();
    pchBuilds.set(key, pending);
  }
  return pending;
}

/** A recipe compile step rewritten to start from a PCH; the module's name macros come from `names`. */
function withPch(command: string, pch: string, names: string): string {
  return command.replace(FORCED_INCLUDES, '').replace(NAME_DEFINES, '').replace(DEBUG_INFO, '').replace('-nostdinc ', `-nostdinc -include ${pch} -include ${names} `);
}

function nameMacros(basename: string, name: string): string {
  return `#define KBUILD_BASENAME "${basename}"\n#define KBUILD_MODNAME "${name}"\n#define __KBUILD_MODNAME kmod_${name}\n`;
}

/**
 * Builds `dir/name.ko` from `dir/tapsh_script.c` by running the recipe: with the runtime object
 * linked in (a standalone module), or without it and against a session core's exported symbols
 * (a handler module: `coreSymvers` is the core's Module.symvers).
 * Returns the compiler output on failure (gcc's messages name tapsh_script.c as kbuild's do).
 */
export async function runRecipe(
  recipe: Recipe,
  tree: BuildTree,
  dir: string,
  name: string,
  link: { runtimeObject: string } | { coreSymvers: string },
  pch?: { unit?: string; mod?: string },
  signal?: AbortSignal,
): Promise<{ ok: boolean; log: string }> {
  const objects = [`${dir}/tapsh_script.o`];
  let modpost = recipe.modpost;
  if ('runtimeObject' in link) {
    copyFileSync(link.runtimeObject, join(dir, 'tapsh_runtime.o'));
    objects.push(`${dir}/tapsh_runtime.o`);
    writeFileSync(join(dir, '.tapsh_runtime.o.cmd'), `cmd_${dir}/tapsh_runtime.o := cp tapsh_runtime.o\n`);
  } else {
    // The core's symbols resolve the handler's calls, as KBUILD_EXTRA_SYMBOLS does for make.
    modpost = modpost.replace(/ -i Module\.symvers /, ` -i Module.symvers -i ${link.coreSymvers} `);
    if (modpost === recipe.modpost) return { ok: false, log: 'the learned modpost command has no -i Module.symvers to extend' };
  }
  writeFileSync(join(dir, `${name}.mod`), objects.join('\n') + '\n');
  writeFileSync(join(dir, 'modules.order'), `${dir}/${name}.ko\n`);
  // modpost reads each object's .cmd file (kbuild's fixdep would write them); one line is enough.
  writeFileSync(join(dir, '.tapsh_script.o.cmd'), `cmd_${dir}/tapsh_script.o := tapsh recipe compile\n`);
  const fill = (cmd: string) => cmd.split(DIR).join(dir).split(NAME).join(name);
  let compile = recipe.compile;
  let compileMod = recipe.compileMod;
  if (pch?.unit) {
    writeFileSync(join(dir, 'tapsh_names_unit.h'), nameMacros('tapsh_script', name));
    compile = withPch(compile, pch.unit, `${DIR}/tapsh_names_unit.h`);
  }
  if (pch?.mod) {
    writeFileSync(join(dir, 'tapsh_names_mod.h'), nameMacros(`${name}.mod`, name));
    compileMod = withPch(compileMod, pch.mod, `${DIR}/tapsh_names_mod.h`);
  }
  let log = '';
  for (const [step, plain] of [[compile, recipe.compile], [recipe.link], [modpost], [compileMod, recipe.compileMod], [recipe.linkKo]] as [string, string?][]) {
    let r = await sh(fill(step), tree.dir, signal);
    // A failed compile through a PCH is redone plainly: its messages are then exactly kbuild's.
    if (r.code !== 0 && plain && plain !== step && !signal?.aborted) r = await sh(fill(plain), tree.dir, signal);
    log += r.out;
    if (r.code !== 0) return { ok: false, log };
  }
  return { ok: existsSync(join(dir, `${name}.ko`)), log };
}
