// The -p1 printer's contract: printing any corpus file that parses gives text that parses back to the same tree.
import './helpers/ensure-parser.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, printProgram } from '../../src/lang/pass1.js';
import { corpusPresent, parsableCorpusFiles } from './helpers/corpus.js';
import { REPO } from './helpers/ensure-parser.js';
import { stripSpans } from './helpers/tree.js';

/** Our own stand-ins for library macros a few corpus files use (written here, not copied). */
const FIXTURE_TAPSETS = join(REPO, 'test/lang/fixtures/tapsets');

if (!corpusPresent) console.warn('\n*** pass-1 round-trip corpus tests SKIPPED: ../shared/corpus is absent ***\n');

describe.skipIf(!corpusPresent)('print → parse round trip on the corpus', () => {
  const files = corpusPresent ? parsableCorpusFiles(['parseok', 'semok', 'buildok', 'semko']) : [];
  let tried = 0;
  for (const f of files) {
    it(`${f.dir}/${f.file}`, (ctx) => {
      const input = {
        fileName: f.file,
        scriptArgs: f.run.args,
        includeDirs: f.run.includeDirs,
        guru: f.run.guru,
        compatible: f.run.compatible,
        tapsetDirs: [FIXTURE_TAPSETS],
      };
      const first = parseScript({ ...input, text: f.text });
      if (!first.program) {
        // parseok/semok/buildok/semko files all parse with stap; anything else is a pass-1 bug.
        expect(first.diagnostics.map((d) => d.message)).toEqual([]);
        ctx.skip();
        return;
      }
      tried++;
      const printed = printProgram(first.program);
      const second = parseScript({ ...input, text: printed, fileName: 'printed.stp' });
      expect(second.diagnostics.map((d) => d.message), printed).toEqual([]);
      expect(stripSpans(second.program!.decls)).toEqual(stripSpans(first.program.decls));
      expect(printProgram(second.program!)).toBe(printed);
    });
  }
  it('covered a meaningful number of files', () => {
    expect(tried).toBeGreaterThan(200);
  });
});
