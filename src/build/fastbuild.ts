// Pass 4 without make: replays the exact commands kbuild ran for a module (learned once per kernel tree and flags).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
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

function sh(cmd: string, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.once('error', () => resolve({ code: 127, out: 'could not run /bin/sh' }));
    child.once('close', (code) => resolve({ code: code ?? 1, out: Buffer.concat(chunks).toString('utf8') }));
  });
}

/**
 * Builds `dir/name.ko` from `dir/tapsh_script.c` and the runtime object by running the recipe.
 * Returns the compiler output on failure (gcc's messages name tapsh_script.c as kbuild's do).
 */
export async function runRecipe(recipe: Recipe, tree: BuildTree, dir: string, name: string, runtimeObject: string): Promise<{ ok: boolean; log: string }> {
  copyFileSync(runtimeObject, join(dir, 'tapsh_runtime.o'));
  writeFileSync(join(dir, `${name}.mod`), `${dir}/tapsh_script.o\n${dir}/tapsh_runtime.o\n`);
  writeFileSync(join(dir, 'modules.order'), `${dir}/${name}.ko\n`);
  // modpost reads each object's .cmd file (kbuild's fixdep would write them); one line is enough.
  writeFileSync(join(dir, '.tapsh_script.o.cmd'), `cmd_${dir}/tapsh_script.o := tapsh recipe compile\n`);
  writeFileSync(join(dir, '.tapsh_runtime.o.cmd'), `cmd_${dir}/tapsh_runtime.o := cp tapsh_runtime.o\n`);
  const fill = (cmd: string) => cmd.split(DIR).join(dir).split(NAME).join(name);
  let log = '';
  for (const step of [recipe.compile, recipe.link, recipe.modpost, recipe.compileMod, recipe.linkKo]) {
    const r = await sh(fill(step), tree.dir);
    log += r.out;
    if (r.code !== 0) return { ok: false, log };
  }
  return { ok: existsSync(join(dir, `${name}.ko`)), log };
}
