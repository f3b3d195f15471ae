// SystemTap's semok/semko corpus through pass 2 with the package tapsets: never a crash; prints the pass rates.
import './helpers/ensure-parser.js';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elaborateScript } from '../../src/lang/pass2.js';
import { CORPUS, corpusPresent, readManifest } from './helpers/corpus.js';
import { parseStapArgs, shebangArgs } from './helpers/stap-args.js';

/** Probe families tapsh does not offer (user space, perf, netfilter...): reported apart, as the issue asks. */
const UNSUPPORTED_FAMILY = 'TS4014';

const tally = new Map<string, { pass: number; fail: string[]; unsupported: string[] }>();

if (!corpusPresent) console.warn(`\n*** pass-2 corpus tests SKIPPED: ${CORPUS} is absent ***\n`);

describe.skipIf(!corpusPresent)('corpus pass 2', () => {
  for (const dir of ['semok', 'semko']) {
    describe(dir, () => {
      const rows = corpusPresent ? readManifest(dir).filter((r) => r.kind === 'stap') : [];
      for (const row of rows) {
        it(row.file, () => {
          const t = tally.get(dir) ?? { pass: 0, fail: [], unsupported: [] };
          tally.set(dir, t);
          const path = join(CORPUS, dir, row.file);
          const text = readFileSync(path, 'utf8');
          const flags = shebangArgs(text.split('\n')[0] ?? '') ?? [];
          const run = parseStapArgs([...flags, path]);
          if (typeof run === 'string') {
            t.unsupported.push(`${row.file}: ${run}`);
            return;
          }
          const r = elaborateScript({
            text, fileName: row.file, scriptArgs: run.args, includeDirs: run.includeDirs.map((d) => resolve(dirname(path), d)),
            guru: run.guru, compatible: run.compatible,
            unoptimized: flags.some((f) => /^-\w*u/.test(f)), suppressWarnings: flags.some((f) => /^-\w*w/.test(f)), warningsAreErrors: run.warningsAreErrors,
          });
          const firstError = r.diagnostics.find((d) => d.severity === 'error');
          if (!r.resolved) expect(firstError ?? r.diagnostics[0], 'rejected without a diagnostic').toBeDefined();
          const ok = dir === 'semok' ? !!r.resolved : !r.resolved;
          if (dir === 'semok' && !ok && firstError?.code === UNSUPPORTED_FAMILY) t.unsupported.push(`${row.file}: ${firstError.message}`);
          else if (ok) t.pass++;
          else t.fail.push(`${row.file}: ${firstError?.message ?? '(accepted)'}`);
        });
      }
    });
  }
});

afterAll(() => {
  for (const [dir, t] of tally) {
    console.log(`${dir} (pass 2, package tapsets, no kernel model): ${t.pass} passed, ${t.fail.length} failed, ${t.unsupported.length} unsupported`);
    for (const f of t.fail) console.log(`  failed ${f}`);
    for (const u of t.unsupported) console.log(`  unsupported ${u}`);
  }
});
