// Golden pass-1 tests: golden/parseok/NAME.stp prints as NAME.p1; golden/parseko/NAME.stp reports NAME.err (update with `vitest -u`).
import './helpers/ensure-parser.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, printProgram, renderDiagnostics } from '../../src/lang/pass1.js';
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
