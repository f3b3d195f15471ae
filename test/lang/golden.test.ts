// Golden tests: parseok/NAME.stp → NAME.p1, parseko → NAME.err (pass 1); semok → NAME.p2, semko → NAME.err (pass 2). Update with `vitest -u`.
import './helpers/ensure-parser.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, printProgram, renderDiagnostics } from '../../src/lang/pass1.js';
import { elaborateScript, printElaborated } from '../../src/lang/pass2.js';
import { TEST_KERNEL } from './helpers/kernel-model.js';
import type { KernelIdentity } from '../../src/remote/model.js';
import { REPO } from './helpers/ensure-parser.js';
import { parseStapArgs, shebangArgs } from './helpers/stap-args.js';
import { stripSpans } from './helpers/tree.js';

const GOLDEN = join(REPO, 'test/lang/golden');
const KERNEL: KernelIdentity = { release: '6.1.0-57-amd64', arch: 'x86_64', buildId: '', version: '', vermagic: '' };
const CONFIG = new Map([['CONFIG_TAPSH_TEST', 'y']]);

function run(dir: string, name: string) {
  const fileName = `${dir}/${name}`;
  const text = readFileSync(join(GOLDEN, fileName), 'utf8');
  const opts = parseStapArgs([...(shebangArgs(text.split('\n')[0] ?? '') ?? []), fileName], text);
  if (typeof opts === 'string') throw new Error(`${fileName}: ${opts}`);
  const input = {
    fileName, scriptArgs: opts.args, includeDirs: [], guru: opts.guru, compatible: opts.compatible,
    kernel: KERNEL, config: CONFIG, tapsetDirs: [],
  };
  return { input, result: parseScript({ ...input, text }) };
}

const stpFiles = (dir: string): string[] => readdirSync(join(GOLDEN, dir)).filter((f) => f.endsWith('.stp')).sort();

describe('golden parseok', () => {
  for (const name of stpFiles('parseok')) {
    it(name, async () => {
      const { input, result } = run('parseok', name);
      expect(renderDiagnostics(result.diagnostics, result.sources)).toBe('');
      const printed = printProgram(result.program!);
      await expect(printed).toMatchFileSnapshot(join(GOLDEN, 'parseok', name.replace(/\.stp$/, '.p1')));
      const again = parseScript({ ...input, text: printed, fileName: 'printed.stp', scriptArgs: [] });
      expect(stripSpans(again.program?.decls)).toEqual(stripSpans(result.program!.decls));
    });
  }
});

describe('golden parseko', () => {
  for (const name of stpFiles('parseko')) {
    it(name, async () => {
      const { result } = run('parseko', name);
      expect(result.program).toBeUndefined();
      expect(result.diagnostics.length).toBeGreaterThan(0);
      await expect(renderDiagnostics(result.diagnostics, result.sources)).toMatchFileSnapshot(
        join(GOLDEN, 'parseko', name.replace(/\.stp$/, '.err')),
      );
    });
  }
});

/** Pass 2 with the test tapsets and kernel model; paths are shown relative to the repository. */
function run2(dir: string, name: string) {
  const fileName = `${dir}/${name}`;
  const text = readFileSync(join(GOLDEN, fileName), 'utf8');
  const flags = shebangArgs(text.split('\n')[0] ?? '') ?? [];
  const opts = parseStapArgs([...flags, fileName], text);
  if (typeof opts === 'string') throw new Error(`${fileName}: ${opts}`);
  const result = elaborateScript({
    text, fileName, scriptArgs: opts.args, includeDirs: [], guru: opts.guru, compatible: opts.compatible,
    tapsetDirs: [join(REPO, 'test/lang/fixtures/tapsets')], kernelModel: TEST_KERNEL,
    unoptimized: flags.some((f) => /^-\w*u/.test(f)), suppressWarnings: flags.some((f) => /^-\w*w/.test(f)), warningsAreErrors: opts.warningsAreErrors,
  });
  const rel = (s: string): string => s.split(REPO).join('');
  return { result, rel };
}

describe('golden semok', () => {
  for (const name of stpFiles('semok')) {
    it(name, async () => {
      const { result, rel } = run2('semok', name);
      expect(rel(renderDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), result.sources))).toBe('');
      await expect(rel(printElaborated(result.resolved!))).toMatchFileSnapshot(join(GOLDEN, 'semok', name.replace(/\.stp$/, '.p2')));
    });
  }
});

describe('golden semko', () => {
  for (const name of stpFiles('semko')) {
    it(name, async () => {
      const { result, rel } = run2('semko', name);
      expect(result.resolved).toBeUndefined();
      await expect(rel(renderDiagnostics(result.diagnostics, result.sources))).toMatchFileSnapshot(
        join(GOLDEN, 'semko', name.replace(/\.stp$/, '.err')),
      );
    });
  }
});
