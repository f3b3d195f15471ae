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
try {
  process.exitCode = await run(process.argv.slice(2));
} catch (e) {
  // A bug in tapsh, not in the script: say so plainly; the stack only when asked for.
  process.stderr.write(`tapsh: internal error: ${e && e.message ? e.message : String(e)}\n` +
    (process.env.TAPSH_DEBUG ? `${e && e.stack ? e.stack : ''}\n` : 'Run again with TAPSH_DEBUG=1 for the stack, and please report it.\n'));
  process.exitCode = 70;
}
