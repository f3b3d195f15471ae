// Parses stap(1)'s command line (GNU getopt rules: clustering, permutation, `--`) into CliOptions.
import type { CliOptions } from './options.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Short options: letter → takes an argument. Letters stap has that tapsh accepts. */
const SHORT: Record<string, boolean> = {
  h: false, V: false, v: false, g: false, u: false, w: false, W: false, i: false, t: false,
  e: true, p: true, I: true, D: true, G: true, m: true, r: true, o: true, c: true, x: true, T: true, l: true, L: true,
};

/** Long options: name → takes an argument. */
const LONG: Record<string, boolean> = {
  help: false, version: false, interactive: false, 'remote-prefix': false, guru: false, 'guru-mode': false,
  remote: true, compatible: true,
};

export function defaultOptions(): CliOptions {
  return {
    scriptArgs: [], lastPass: 5, verbose: 0, guru: false, unoptimized: false, suppressWarnings: false,
    warningsAreErrors: false, includeDirs: [], defines: [], globals: [], interactive: false, remotes: [],
    remotePrefix: false, help: false, version: false,
  };
}

function parseIntStrict(flag: string, value: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`Invalid ${what} '${value}' for ${flag} (should be ${min === max ? min : `${min}-${max}`}).`);
  }
  return Number(value);
}

function apply(o: CliOptions, flag: string, value: string | undefined): void {
  switch (flag) {
    case 'h': case 'help': o.help = true; return;
    case 'V': case 'version': o.version = true; return;
    case 'v': o.verbose++; return;
    case 'g': case 'guru': case 'guru-mode': o.guru = true; return;
    case 'u': o.unoptimized = true; return;
    case 'w': o.suppressWarnings = true; return;
    case 'W': o.warningsAreErrors = true; return;
    case 'i': case 'interactive': o.interactive = true; return;
    case 't': o.timing = true; return;
    case 'remote-prefix': o.remotePrefix = true; return;
  }
  const v = value!;
  switch (flag) {
    case 'e':
      if (o.script !== undefined) throw new UsageError('Only one script can be given with -e.');
      o.script = v;
      return;
    case 'p': o.lastPass = parseIntStrict('-p', v, 1, 5, 'pass number'); return;
    case 'I': o.includeDirs.push(v); return;
    case 'D':
      if (!/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/.test(v)) throw new UsageError(`Invalid -D '${v}': expected NAME or NAME=VALUE.`);
      o.defines.push(v);
      return;
    case 'G':
      if (!/^[A-Za-z_][A-Za-z0-9_]*=.*$/.test(v)) throw new UsageError(`Invalid -G '${v}': expected VARIABLE=VALUE.`);
      o.globals.push(v);
      return;
    case 'm':
      if (!/^[A-Za-z0-9_]+$/.test(v) || v.length > 55) throw new UsageError(`Invalid module name '${v}': use letters, digits and '_' (at most 55).`);
      o.moduleName = v;
      return;
    case 'r': o.kernelRelease = v; return;
    case 'o': o.outputFile = v; return;
    case 'c': o.command = v; return;
    case 'x': o.targetPid = parseIntStrict('-x', v, 1, 2 ** 31 - 1, 'process id'); return;
    case 'T': {
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw new UsageError(`Invalid timeout '${v}' for -T: give a positive number of seconds.`);
      o.timeoutSeconds = Number(v);
      return;
    }
    case 'l': o.listProbes = v; return;
    case 'L': o.listProbesWithVars = v; return;
    case 'remote': o.remotes.push(v); return;
    case 'compatible':
      if (!/^\d+(\.\d+)*$/.test(v)) throw new UsageError(`Invalid --compatible '${v}': expected a version like 4.8 or 1.0.`);
      o.compatible = v;
      return;
  }
  throw new Error(`unhandled option ${flag}`);
}

/** Parses argv (without node and script path). Throws UsageError with stap-like wording. */
export function parseArgs(argv: string[]): CliOptions {
  const o = defaultOptions();
  const positional: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const candidates = Object.keys(LONG).filter((k) => k === name || k.startsWith(name));
      const exact = candidates.includes(name) ? name : candidates.length === 1 ? candidates[0] : undefined;
      if (!exact) {
        throw new UsageError(candidates.length > 1 ? `option '--${name}' is ambiguous` : `unrecognized option '--${name}'`);
      }
      if (LONG[exact]) {
        let value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`option '--${exact}' requires an argument`);
        apply(o, exact, value);
      } else {
        if (eq >= 0) throw new UsageError(`option '--${exact}' doesn't allow an argument`);
        apply(o, exact, undefined);
      }
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        if (!(c in SHORT)) throw new UsageError(`invalid option -- '${c}'`);
        if (SHORT[c]) {
          let value = arg.slice(j + 1);
          if (value === '') {
            value = argv[++i]!;
            if (value === undefined) throw new UsageError(`option requires an argument -- '${c}'`);
          }
          apply(o, c, value);
          break;
        }
        apply(o, c, undefined);
      }
      continue;
    }
    positional.push(arg);
  }
  if (o.script !== undefined) {
    o.scriptArgs = positional;
  } else if (positional.length > 0) {
    o.scriptFile = positional[0];
    o.scriptArgs = positional.slice(1);
  }
  return o;
}
