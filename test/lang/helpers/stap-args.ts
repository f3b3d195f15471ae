// The subset of stap's command line that pass-1 tests replay: enough to run corpus invocations in-process.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface StapRun {
  script?: { text: string; fileName: string };
  scriptFile?: string;
  args: string[];
  guru: boolean;
  lastPass: number;
  includeDirs: string[];
  compatible?: string;
  warningsAreErrors: boolean;
}

/** Options that take a value, and options with no effect on pass 1 that we accept. */
const VALUE_OPTS = new Set(['p', 'e', 'I']);
const FLAG_OPTS = new Set(['g', 'W', 'w', 'v', 'u', 't']);

/** Parses stap arguments; returns a reason string for anything pass-1 replay does not model. */
export function parseStapArgs(argv: readonly string[], stdin?: string): StapRun | string {
  const run: StapRun = { args: [], guru: false, lastPass: 5, includeDirs: [], warningsAreErrors: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-') {
      positional.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const m = /^--compatible(?:=(.*))?$/.exec(a);
      if (!m) return `option ${a} is a CLI concern, not pass 1`;
      run.compatible = m[1] ?? argv[++i];
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (FLAG_OPTS.has(c)) {
          if (c === 'g') run.guru = true;
          if (c === 'W') run.warningsAreErrors = true;
          continue;
        }
        if (!VALUE_OPTS.has(c)) return `option -${c} is a CLI concern, not pass 1`;
        const value = k + 1 < a.length ? a.slice(k + 1) : argv[++i];
        if (value === undefined) return `option -${c} without a value`;
        if (c === 'p') run.lastPass = Number(value);
        if (c === 'e') run.script = { text: value, fileName: '<input>' };
        if (c === 'I') run.includeDirs.push(value);
        break;
      }
      continue;
    }
    positional.push(a);
  }
  if (!run.script) {
    const f = positional.shift();
    if (f === undefined) return 'no script given';
    if (f === '-') {
      if (stdin === undefined) return 'script on stdin was not captured';
      run.script = { text: stdin, fileName: '<input>' };
    } else run.scriptFile = f;
  }
  run.args = positional;
  return run;
}

/** Reads the script of a run whose script is a file, relative to `cwd`. */
export function scriptOf(run: StapRun, cwd: string): { text: string; fileName: string } | undefined {
  if (run.script) return run.script;
  try {
    const p = resolve(cwd, run.scriptFile!);
    return { text: readFileSync(p, 'utf8'), fileName: run.scriptFile! };
  } catch {
    return undefined;
  }
}

export { shebangArgs } from '../../../scripts/corpus-lib.mjs';
