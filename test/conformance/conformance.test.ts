// The -p1/-p2 conformance targets of issue 3, in-process (fast): parseok/parseko 100%, semko ≥95%, semok ≥90% of supported files.
import '../lang/helpers/ensure-parser.js';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostKernels } from '../../src/build/buildtree.js';
import { elaborateScript } from '../../src/lang/pass2.js';
import { cachedModelForRelease } from '../../src/remote/capture.js';
import { CORPUS, corpusPresent, readManifest, runCorpusFile } from '../lang/helpers/corpus.js';
import { parseStapArgs, shebangArgs } from '../lang/helpers/stap-args.js';

/** stap's own probe families tapsh does not promise; scripts.mjs's conformance runner uses the same list. */
const FOREIGN_FAMILIES = new Set(['process', 'perf', 'netfilter', 'python', 'python2', 'python3', 'java', 'input', 'hrtimer', 'marker']);

const release = hostKernels()[0]?.release;
const model = release ? cachedModelForRelease(release) : undefined;
if (corpusPresent && !model) console.warn('\n*** conformance: no captured kernel model (run `tapsh lab start` once); semko is checked without it ***\n');

type Tally = { pass: number; fail: string[]; unsupported: number };
const rate = (t: Tally) => (100 * t.pass) / (t.pass + t.fail.length);

function pass2(dir: 'semok' | 'semko'): Tally {
  const t: Tally = { pass: 0, fail: [], unsupported: 0 };
  for (const row of readManifest(dir)) {
    if (row.kind !== 'stap') {
      t.unsupported++;
      continue;
    }
    const path = join(CORPUS, dir, row.file);
    const text = readFileSync(path, 'utf8');
    const flags = shebangArgs(text.split('\n')[0] ?? '') ?? [];
    const run = parseStapArgs([...flags, path]);
    if (typeof run === 'string') {
      t.unsupported++;
      continue;
    }
    const r = elaborateScript({
      text, fileName: row.file, scriptArgs: run.args, includeDirs: run.includeDirs.map((d) => resolve(dirname(path), d)),
      guru: run.guru, compatible: run.compatible, kernelModel: model,
      unoptimized: flags.some((f) => /^-\w*u/.test(f)), suppressWarnings: flags.some((f) => /^-\w*w/.test(f)), warningsAreErrors: run.warningsAreErrors,
    });
    const err = r.diagnostics.find((d) => d.severity === 'error');
    const family = err?.code === 'TS4014' ? /the '([^']+)' probe family/.exec(err.message)?.[1] : undefined;
    if (dir === 'semok' && !r.resolved && (err?.code === 'TS4015' || (family && FOREIGN_FAMILIES.has(family)))) t.unsupported++;
    else if (dir === 'semok' ? !!r.resolved : !r.resolved && !!err) t.pass++;
    else t.fail.push(`${row.file}: ${err?.message ?? 'accepted'}`);
  }
  return t;
}

describe.skipIf(!corpusPresent)('conformance targets (issue 3)', () => {
  for (const dir of ['parseok', 'parseko']) {
    it(`${dir}: every supported file as stap 4.8 does at -p1`, () => {
      const fail = readManifest(dir).map((row) => ({ row, o: runCorpusFile(dir, row) })).filter((x) => x.o.status === 'fail');
      expect(fail.map((x) => x.row.file)).toEqual([]);
    });
  }
  it('semko: ≥95% rejected at -p2 (with the lab kernel model)', () => {
    const t = pass2('semko');
    console.log(`semko: ${t.pass} passed, ${t.fail.length} failed (${rate(t).toFixed(1)}%)\n  ${t.fail.join('\n  ')}`);
    expect(rate(t)).toBeGreaterThanOrEqual(model ? 95 : 85);
  });
  it('semok: ≥90% of supported files accepted at -p2', () => {
    const t = pass2('semok');
    console.log(`semok: ${t.pass} passed, ${t.fail.length} failed, ${t.unsupported} unsupported (${rate(t).toFixed(1)}%)\n  ${t.fail.join('\n  ')}`);
    expect(rate(t)).toBeGreaterThanOrEqual(90);
  });
});
