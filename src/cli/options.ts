// Command-line options, as SystemTap's stap(1) spells them, after parsing.

export interface CliOptions {
  /** -e SCRIPT: program text given on the command line. */
  script?: string;
  /** The script file (first non-option when -e is absent); "-" reads standard input. */
  scriptFile?: string;
  /** Script arguments: $1, $2, ... / @1, @2, ... */
  scriptArgs: string[];
  /** -p N: stop after pass N (1-5); 5 when not given. */
  lastPass: number;
  /** -v given N times. */
  verbose: number;
  /** -g: guru mode. */
  guru: boolean;
  /** -u: unoptimized (keep unused code). */
  unoptimized: boolean;
  /** -w: suppress warnings. */
  suppressWarnings: boolean;
  /** -W: warnings are errors. */
  warningsAreErrors: boolean;
  /** -I DIR: extra tapset directories, in order. */
  includeDirs: string[];
  /** -D NAME[=VALUE]: C macro definitions for the module. */
  defines: string[];
  /** -G VAR=VALUE: global variable initial values. */
  globals: string[];
  /** -m NAME: module name. */
  moduleName?: string;
  /** -r RELEASE or -r /path/to/build/tree. */
  kernelRelease?: string;
  /** -o FILE: output file. */
  outputFile?: string;
  /** -c CMD: run CMD, target() is its pid. */
  command?: string;
  /** -x PID: target() is PID. */
  targetPid?: number;
  /** -T SECONDS: stop after this long. */
  timeoutSeconds?: number;
  /** -l PROBE: list matching probe points. */
  listProbes?: string;
  /** -L PROBE: list matching probe points with their variables. */
  listProbesWithVars?: string;
  /** -i: interactive session. */
  interactive: boolean;
  /** --remote URL (repeatable). */
  remotes: string[];
  /** --remote-prefix: prefix each remote's output lines with its index. */
  remotePrefix: boolean;
  /** --compatible=VERSION: language level. */
  compatible?: string;
  /** -t: per-probe timing. */
  timing?: boolean;
  /** --suppress-time-limits: no MAXACTION or overload limits (added to `defines` as runtime macros). */
  suppressTimeLimits?: boolean;
  /** --skip-badvars: a target variable the probe does not have reads as 0 (a warning, not an error). */
  skipBadvars?: boolean;
  /** --example: the script file is looked up by name among SystemTap's example scripts. */
  example?: boolean;
  /** stap options accepted for compatibility that change nothing in tapsh. */
  ignored?: string[];
  help: boolean;
  version: boolean;
}
