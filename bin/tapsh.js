#!/usr/bin/env node
// Entry point installed as `tapsh`: loads the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('tapsh: the compiled program is missing (dist/cli/main.js).\n' +
    'Run `npm run build` in the tapsh checkout, then try again.\n');
  process.exit(1);
}
const { main: run } = await import(main);
process.exitCode = await run(process.argv.slice(2));
