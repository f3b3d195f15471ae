// Precompiled headers in the pass-4 recipe: the same machine code as the plain compile, the module's own name, much less compile work.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ensurePch, loadRecipe, recipeKey, runRecipe } from '../../src/build/fastbuild.js';
import { buildModule, runtimeObject } from '../../src/build/module-cache.js';
import { elaborateScript } from '../../src/lang/pass2.js';
import { translate } from '../../src/translate/translate.js';
import { labTree } from '../runtime/harness.js';
import { missing, tempDir } from '../helpers/env.js';

const skip = missing(['make', 'gcc'], 'precompiled-header builds against the Debian kernel headers') || !existsSync('/lib/modules');

function unit(name: string, text: string): string {
  const r = elaborateScript({ text, fileName: 'pch.stp', includeDirs: [], scriptArgs: [], unoptimized: false, suppressWarnings: true, warningsAreErrors: false });
  if (!r.resolved) throw new Error(JSON.stringify(r.diagnostics));
  return translate(r.resolved, { moduleName: name, scriptName: 'pch.stp', sources: r.sources }).c;
}

/** The disassembly of a module's sections, without the file name line. */
function code(ko: string): string {
  return execFileSync('objdump', ['-d', ko]).toString().split('\n').slice(2).join('\n');
}

it.skipIf(skip)('builds a module through PCHs to the same code as the plain recipe, with its own name', { timeout: 300_000 }, async () => {
  process.env['TAPSH_CACHE_DIR'] = tempDir('tapsh-pch-');
  try {
    const tree = labTree();
    // A first build through make teaches the recipe.
    await buildModule({ name: 'tapsh_0123456789ab', c: unit('tapsh_0123456789ab', 'probe begin { exit() }'), defines: [] }, tree);
    const recipe = loadRecipe(recipeKey(tree, await runtimeObject(tree, [])));
    expect(recipe, 'the make build should have taught the recipe').toBeDefined();
    const [unitPch, modPch] = await Promise.all([ensurePch(recipe!, tree, 'unit'), ensurePch(recipe!, tree, 'mod')]);
    expect(unitPch && existsSync(`${unitPch}.gch`)).toBe(true);
    expect(modPch && existsSync(`${modPch}.gch`)).toBe(true);

    const name = 'tapsh_pchcheck42';
    const c = unit(name, 'global n\nprobe kernel.function("vfs_read") { n++; if (n % 100 == 0) printf("%s %d\\n", execname(), n) }');
    const build = async (pch: boolean) => {
      const dir = tempDir('tapsh-pch-build-');
      writeFileSync(join(dir, 'tapsh_script.c'), c);
      const r = await runRecipe(recipe!, tree, dir, name, { runtimeObject: await runtimeObject(tree, []) }, pch ? { unit: unitPch, mod: modPch } : undefined);
      expect(r.ok, r.log).toBe(true);
      return join(dir, `${name}.ko`);
    };
    const withPch = await build(true);
    const plain = await build(false);
    // objdump -d shows the code of every section: the PCH changes how headers are read, not what is compiled.
    expect(code(withPch)).toBe(code(plain));
    // The name macros came from the small header after the PCH: modinfo and .this_module carry the module's name.
    expect(execFileSync('modinfo', ['-F', 'name', withPch]).toString().trim()).toBe(name);
    expect(readFileSync(withPch).includes(Buffer.from(`${name}\0`))).toBe(true);

    // Ctrl-C in the session aborts the build: the compiler is stopped, no module comes out.
    const dir = tempDir('tapsh-pch-cancel-');
    writeFileSync(join(dir, 'tapsh_script.c'), c);
    const abort = new AbortController();
    const t0 = Date.now();
    const pending = runRecipe(recipe!, tree, dir, name, { runtimeObject: await runtimeObject(tree, []) }, undefined, abort.signal);
    setTimeout(() => abort.abort(), 50);
    const cancelled = await pending;
    expect(cancelled.ok).toBe(false);
    expect(existsSync(join(dir, `${name}.ko`))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(execFileSync('sh', ['-c', `pgrep -f '${dir}/[t]apsh_script[.]c' || true`]).toString().trim()).toBe('');
  } finally {
    delete process.env['TAPSH_CACHE_DIR'];
  }
});
