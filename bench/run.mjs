// Runs every bench/*.bench.mjs in turn; each prints its own table and writes bench/results/NAME.md.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.mjs') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
for (const f of files) {
  console.log(`\n== ${f}`);
  const mod = await import(pathToFileURL(join(here, f)).href);
  await mod.run();
}
