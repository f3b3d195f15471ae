// Imported first by every pass-1 test: (re)generates the peggy parser when it is missing or older than the grammar.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const grammar = join(REPO, 'src/lang/grammar/stap.peggy');
const generated = join(REPO, 'src/lang/generated/parser.js');

if (!existsSync(generated) || statSync(generated).mtimeMs < statSync(grammar).mtimeMs) {
  execFileSync(process.execPath, [join(REPO, 'scripts/gen-parser.mjs')], { stdio: 'inherit' });
}
