// Property test: random edits of valid scripts never make pass 1 throw; they parse (and round-trip) or get diagnostics.
import './helpers/ensure-parser.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, printProgram, renderDiagnostics } from '../../src/lang/pass1.js';
import { elaborateScript, printElaborated } from '../../src/lang/pass2.js';
import { TEST_KERNEL } from './helpers/kernel-model.js';
import { REPO } from './helpers/ensure-parser.js';
import { corpusPresent, parsableCorpusFiles } from './helpers/corpus.js';
import { stripSpans } from './helpers/tree.js';

/** mulberry32: small, seedable, good enough to pick mutations reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SNIPPETS = [
  '%(', '%?', '%:', '%)', '%{', '%}', '@define', '@', '$', '$$', '$1', '@1', '$#', '"', '\\', '/*', '*/', '#', '//',
  '{', '}', '(', ')', '[', ']', ',', ';', '.', '?', '!', '=', '+=', '<<<', '->', '*', '**', '&', '-', '0x', '099',
  'probe', 'global', 'function', 'private', 'foreach', 'in', 'limit', 'if', 'else', 'try', 'catch', 'return', 'delete',
  '@cast(', '@var(', '@hist_log(', '@count(', 'printf(', 'kernel_v', 'arch ==', ' ', '\n', '\t', 'x', '1', '"s"',
];
const TOKEN = /"(?:[^"\\]|\\.)*"|%\{[\s\S]*?%\}|\/\*[\s\S]*?\*\/|[A-Za-z_$@][A-Za-z0-9_$]*|\d\w*|<<<|<<=|>>=|->|\+\+|--|[-+*/%&|^.=!<>]=|&&|\|\||<<|>>|%[(?:)]|\S/g;

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const pos = Math.floor(r() * (text.length + 1));
  switch (Math.floor(r() * 5)) {
    case 0: // delete a few characters
      return text.slice(0, pos) + text.slice(pos + 1 + Math.floor(r() * 4));
    case 1: // insert a snippet
      return text.slice(0, pos) + pick(SNIPPETS) + text.slice(pos);
    default: {
      const toks = [...text.matchAll(TOKEN)];
      if (toks.length < 2) return text + pick(SNIPPETS);
      const i = Math.floor(r() * toks.length);
      const j = Math.floor(r() * toks.length);
      const a = toks[Math.min(i, j)]!;
      const b = toks[Math.max(i, j)]!;
      const mode = Math.floor(r() * 3);
      if (mode === 0) return text.slice(0, a.index) + text.slice(a.index + a[0].length); // delete a token
      if (mode === 1) return text.slice(0, b.index) + a[0] + ' ' + text.slice(b.index); // duplicate a token
      if (a === b) return text;
      return text.slice(0, a.index) + b[0] + text.slice(a.index + a[0].length, b.index) + a[0] + text.slice(b.index + b[0].length); // swap
    }
  }
}

function seeds(folder = 'parseok'): { name: string; text: string; guru: boolean }[] {
  const dir = join(REPO, 'test/lang/golden', folder);
  const own = readdirSync(dir).filter((f) => f.endsWith('.stp')).map((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    return { name: f, text, guru: /^#!.*-\w*g/.test(text) };
  });
  const corpus = corpusPresent && folder === 'parseok'
    ? parsableCorpusFiles(['parseok', 'semok']).filter((_f, i) => i % 4 === 0).map((f) => ({ name: f.file, text: f.text, guru: f.run.guru }))
    : [];
  return [...own, ...corpus];
}

const ROUNDS = Number(process.env.TAPSH_MUTATION_ROUNDS ?? 1200);
const SEED = Number(process.env.TAPSH_MUTATION_SEED ?? 20261130);

describe('mutated scripts', () => {
  it(`${ROUNDS} random mutations never throw`, () => {
    const r = rng(SEED);
    const base = seeds();
    let rejected = 0;
    for (let n = 0; n < ROUNDS; n++) {
      const seed = base[n % base.length]!;
      let text = seed.text;
      const edits = 1 + Math.floor(r() * 3);
      for (let k = 0; k < edits; k++) text = mutate(text, r);
      const input = { text, fileName: 'm.stp', scriptArgs: ['a1'], includeDirs: [], guru: seed.guru, tapsetDirs: [] };
      let result;
      try {
        result = parseScript(input);
        renderDiagnostics(result.diagnostics, result.sources);
      } catch (e) {
        throw new Error(`pass 1 threw on a mutation of ${seed.name}: ${(e as Error).stack}\n--- input ---\n${text}`);
      }
      if (!result.program) {
        rejected++;
        expect(result.diagnostics.some((d) => d.severity === 'error'), text).toBe(true);
        continue;
      }
      const printed = printProgram(result.program);
      const again = parseScript({ ...input, text: printed, scriptArgs: [] });
      expect(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), `${text}\n--- printed ---\n${printed}`).toEqual([]);
      expect(stripSpans(again.program!.decls)).toEqual(stripSpans(result.program.decls));
    }
    // The mutations must actually exercise the error paths, not just whitespace.
    expect(rejected).toBeGreaterThan(ROUNDS / 4);
  });
});

describe('mutated scripts through pass 2', () => {
  const rounds = Math.ceil(ROUNDS / 3);
  it(`${rounds} random mutations never make elaboration throw`, () => {
    const r = rng(SEED + 1);
    const base = [...seeds('semok'), ...seeds('parseok')];
    const tapsetDirs = [join(REPO, 'test/lang/fixtures/tapsets')];
    for (let n = 0; n < rounds; n++) {
      const seed = base[n % base.length]!;
      let text = seed.text;
      const edits = 1 + Math.floor(r() * 2);
      for (let k = 0; k < edits; k++) text = mutate(text, r);
      for (const unoptimized of [false, true]) {
        try {
          const result = elaborateScript({
            text, fileName: 'm.stp', scriptArgs: ['a1'], includeDirs: [], guru: seed.guru, tapsetDirs, kernelModel: TEST_KERNEL,
            unoptimized, suppressWarnings: false, warningsAreErrors: false,
          });
          renderDiagnostics(result.diagnostics, result.sources);
          if (result.resolved) printElaborated(result.resolved);
          else expect(result.diagnostics.some((d) => d.severity === 'error'), text).toBe(true);
        } catch (e) {
          throw new Error(`pass 2 threw on a mutation of ${seed.name}: ${(e as Error).stack}\n--- input ---\n${text}`);
        }
      }
    }
  });
});
