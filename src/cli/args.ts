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
  // Accepted for compatibility; they change nothing in tapsh (see IGNORED).
  k: false, b: false, q: false, F: false, P: false, d: true, s: true, S: true, R: true, B: true, a: true,
};

/** stap options tapsh accepts so that scripts and tools written for stap keep working, with why they do nothing here. */
export const IGNORED: Record<string, string> = {
  k: 'keep the build directory: tapsh keeps built modules in its cache anyway',
  b: 'bulk per-CPU output files: tapsh always merges per-CPU output into one stream',
  q: 'no compatibility output changes',
  F: 'flight-recorder mode is not built',
  P: 'prologue searching needs DWARF; BTF gives arguments at function entry',
  d: 'symbol data for an object: tapsh reads symbols from the target kernel',
  s: 'buffer size in MB: tapsh sizes per-CPU buffers itself (tapsh_bufsize module parameter)',
  S: 'output file switching is not built',
  R: 'runtime directory: tapsh uses its own runtime-c',
  B: 'kbuild options',
  a: 'architecture: tapsh builds for the target kernel\'s',
  'prologue-searching': 'needs DWARF',
  'disable-cache': 'tapsh caches by content, so a stale cache cannot be used',
  'all-modules': 'tapsh reads every loaded module\'s symbols anyway',
  ldd: 'user-space libraries are not probed yet',
  'check-version': 'tapsh checks the build tree against the target kernel always',
  'suppress-handler-errors': 'not built',
};

/** What --suppress-time-limits defines: no overload guard, statement limits out of reach, lock patience unchanged. */
const SUPPRESSED_LIMITS = ['STP_NO_OVERLOAD', 'MAXACTION=100000000', 'MAXACTION_INTERRUPTIBLE=1000000000', 'MAXTRYLOCK=1000'];

/** Long options: name → takes an argument (true), none (false), or an optional `=VALUE` ('optional'). */
const LONG: Record<string, boolean | 'optional'> = {
  help: false, version: false, interactive: false, 'remote-prefix': false, guru: false, 'guru-mode': false,
  remote: true, compatible: true, example: false,
  'prologue-searching': 'optional', 'disable-cache': false, 'skip-badvars': false, 'suppress-time-limits': false,
  'all-modules': false, ldd: false, 'check-version': false, 'suppress-handler-errors': false,
};

/** Values stap checks for options that change nothing here: a bad one is still an error, as in stap. */
const IGNORED_VALUES: Record<string, (v: string) => string | undefined> = {
  s: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 4095 ? undefined : 'Invalid buffer size (should be 1-4095).'),
  'prologue-searching': (v) => (['always', 'never', 'auto'].includes(v) ? undefined : `Invalid argument '${v}' for --prologue-searching (should be always, never or auto).`),
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
    case 'example': o.example = true; return;
    case 'suppress-time-limits': o.suppressTimeLimits = true; return;
    case 'skip-badvars': o.skipBadvars = true; return;
  }
  if (flag in IGNORED) {
    const bad = value !== undefined ? IGNORED_VALUES[flag]?.(value) : undefined;
    if (bad) throw new UsageError(bad);
    o.ignored = [...(o.ignored ?? []), flag];
    return;
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
      if (LONG[exact] === 'optional') {
        apply(o, exact, eq >= 0 ? arg.slice(eq + 1) : undefined);
      } else if (LONG[exact]) {
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
  if (o.command !== undefined && o.targetPid !== undefined) throw new UsageError('You can\'t specify -c and -x options together.');
  if (o.interactive && (o.listProbes !== undefined || o.listProbesWithVars !== undefined)) throw new UsageError('You can\'t specify -i and -l/-L options together.');
  // stap drops its MAXACTION and overload limits; the runtime's equivalents, unless -D sets them.
  if (o.suppressTimeLimits) for (const d of SUPPRESSED_LIMITS) if (!o.defines.some((x) => x.split('=')[0] === d.split('=')[0])) o.defines.push(d);
  if (o.script !== undefined) {
    o.scriptArgs = positional;
  } else if (positional.length > 0) {
    o.scriptFile = positional[0];
    o.scriptArgs = positional.slice(1);
  }
  return o;
}
