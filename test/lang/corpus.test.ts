// SystemTap's parseok/parseko corpus through pass 1, per MANIFEST.tsv; prints pass/fail/unsupported per folder.
import './helpers/ensure-parser.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS, corpusPresent, readManifest, runCorpusFile } from './helpers/corpus.js';

const tally = new Map<string, { pass: number; fail: number; unsupported: string[] }>();

if (!corpusPresent) {
  console.warn(`\n*** pass-1 corpus tests SKIPPED: ${CORPUS} is absent ***\n`);
}

describe.skipIf(!corpusPresent)('corpus pass 1', () => {
  for (const dir of ['parseok', 'parseko']) {
    describe(dir, () => {
      const rows = corpusPresent ? readManifest(dir) : [];
      for (const row of rows) {
        it(`${row.file} (${row.kind}, expects ${row.expected})`, (ctx) => {
          const t = tally.get(dir) ?? { pass: 0, fail: 0, unsupported: [] };
          tally.set(dir, t);
          const outcome = runCorpusFile(dir, row);
          if (outcome.status === 'unsupported') {
            t.unsupported.push(`${row.file}: ${outcome.reason}`);
            ctx.skip();
            return;
          }
          if (outcome.status === 'pass') t.pass++;
          else t.fail++;
          expect(outcome.status, outcome.detail).toBe('pass');
        });
      }
    });
  }
});

afterAll(() => {
  for (const [dir, t] of tally) {
    console.log(`${dir}: ${t.pass} passed, ${t.fail} failed, ${t.unsupported.length} unsupported`);
    for (const u of t.unsupported) console.log(`  unsupported ${u}`);
  }
});
