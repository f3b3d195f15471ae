// The pass-4 recipe learned from `make V=1`: the five commands, with the build dir and module name as placeholders.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { learnRecipe, loadRecipe } from '../../src/build/fastbuild.js';

it('extracts compile, link, modpost, .mod.c compile and .ko link from a kbuild log', () => {
  process.env['TAPSH_CACHE_DIR'] = mkdtempSync(join(tmpdir(), 'tapsh-recipe-'));
  const d = '/tmp/work-abc';
  const n = 'stap_0123456789ab';
  const log = [
    `make -C /tree M=${d} V=1 modules`,
    `  gcc-12 -Wp,-MMD,${d}/.tapsh_script.o.d -nostdinc -DKBUILD_MODNAME='"${n}"' -c -o ${d}/tapsh_script.o ${d}/tapsh_script.c`,
    `  ld -m elf_x86_64 -z noexecstack   -r -o ${d}/${n}.o @${d}/${n}.mod`,
    `   sed 's/ko$/o/'  ${d}/modules.order | scripts/mod/modpost -m -o ${d}/Module.symvers -e -i Module.symvers -T -`,
    `   gcc-12 -Wp,-MMD,${d}/.${n}.mod.o.d -DKBUILD_MODNAME='"${n}"' -c -o ${d}/${n}.mod.o ${d}/${n}.mod.c`,
    `  ld -r -m elf_x86_64 --build-id=sha1  -T arch/x86/module.lds -o ${d}/${n}.ko ${d}/${n}.o ${d}/${n}.mod.o;  true`,
  ].join('\n');
  const r = learnRecipe(log, d, n, 'k1')!;
  expect(r.compile).toBe(`gcc-12 -Wp,-MMD,@TAPSH_DIR@/.tapsh_script.o.d -nostdinc -DKBUILD_MODNAME='"@TAPSH_NAME@"' -c -o @TAPSH_DIR@/tapsh_script.o @TAPSH_DIR@/tapsh_script.c`);
  expect(r.linkKo).toBe('ld -r -m elf_x86_64 --build-id=sha1  -T arch/x86/module.lds -o @TAPSH_DIR@/@TAPSH_NAME@.ko @TAPSH_DIR@/@TAPSH_NAME@.o @TAPSH_DIR@/@TAPSH_NAME@.mod.o');
  expect(r.modpost).toContain('scripts/mod/modpost');
  expect(loadRecipe('k1')).toEqual(r);
  // A log missing a step teaches nothing: the build keeps using make.
  expect(learnRecipe(log.split('\n').slice(0, 3).join('\n'), d, n, 'k2')).toBeUndefined();
  delete process.env['TAPSH_CACHE_DIR'];
});
