// The tapsh command: stap-compatible flags, pass dispatch, and the `lab` subcommand.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TargetError } from '../remote/target.js';
import { IGNORED, parseArgs, UsageError } from './args.js';
import type { Io } from './lab-command.js';
import type { CliOptions } from './options.js';
import { checkTmpdir, ScriptError } from './script-error.js';
import { passLine, startClock } from './timing.js';
import { KbuildError } from '../build/kbuild.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export const USAGE = `tapsh ${'$VERSION'}: a SystemTap-language probe shell

Usage:
  tapsh [OPTIONS] FILE [ARGUMENTS]       run the script in FILE ("-" reads standard input)
  tapsh [OPTIONS] -e SCRIPT [ARGUMENTS]  run the script given on the command line
  tapsh [OPTIONS] -l PROBE | -L PROBE    list probe points matching PROBE
  tapsh -i                               interactive stap> session
  tapsh lab start|stop|status|ssh [CMD]  the lab VM: Debian's kernel under qemu

Options (as stap's):
  -h, --help         show this help
  -V, --version      show the version
  -v                 more verbose (repeat for more)
  -p NUM             stop after pass NUM: 1 parse, 2 elaborate, 3 translate to C,
                     4 build the module, 5 run (the default)
  -e SCRIPT          the script text
  -I DIR             look for tapsets in DIR too
  -D NAME[=VALUE]    define a C macro for the module (e.g. -D MAXACTION=10000)
  -G VAR=VALUE       set a global variable's initial value
  -g                 guru mode: allow embedded C and writes to kernel memory
  -u                 unoptimized: keep unused functions, variables and probes
  -w                 no warnings
  -W                 warnings are errors
  -m MODULE          name the module MODULE
  -r RELEASE|DIR     build for kernel RELEASE, or with the build tree DIR
  -o FILE            send the script's output to FILE
  -c CMD             run CMD; target() is its pid, and the script ends when it exits
  -x PID             target() is PID
  -T SECONDS         stop the script after SECONDS
  -t                 report probe timing
  -l PROBE           list probe points matching PROBE
  -L PROBE           list probe points matching PROBE, with their variables
  -i, --interactive  interactive session
  --remote URL       run on ssh://[USER@]HOST[:PORT] (repeat for several hosts)
  --remote-prefix    prefix each output line with the remote's index
  --compatible=VER   accept the language as SystemTap VER did

Targets: --remote hosts; otherwise the local kernel when tapsh can load modules into it;
otherwise the lab VM (the running one, or one booted for the command).
Caches live in $TAPSH_CACHE_DIR, else $XDG_CACHE_HOME/tapsh, else ~/.cache/tapsh.
`;


function notBuilt(io: Io, what: string): number {
  io.err(`tapsh: ${what} is not built yet in this version of tapsh.\n` +
    `  Available now: -p1 (parse), -p2 (elaborate), tapsh lab start|stop|status|ssh, --help, --version.\n`);
  return 2;
}

async function interactive(o: CliOptions, io: Io): Promise<number> {
  const { runInteractive } = await import('../repl/run.js');
  return runInteractive(o, io);
}

function verboseFlag(argv: string[]): boolean {
  return argv.some((a) => /^-[a-zA-Z]*v/.test(a) && !a.startsWith('--'));
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  try {
    // Passes 3-5 and `lab` load the build, SSH and VM code: only when asked for (-p1/-p2 stay light).
    if (argv[0] === 'lab') return await (await import('./lab-command.js')).labCommand(argv.slice(1), io);
    const o = parseArgs(argv);
    if (o.help) {
      io.out(USAGE.replace('$VERSION', version()));
      return 0;
    }
    if (o.version) {
      io.out(`tapsh ${version()} (SystemTap language ${(await import('../lang/pass1.js')).LANGUAGE_VERSION}; output formats as stap 4.8)\n`);
      return 0;
    }
    checkTmpdir();
    if (o.verbose > 0) for (const f of o.ignored ?? []) io.err(`tapsh: ${f.length > 1 ? '--' : '-'}${f} ignored: ${IGNORED[f]}\n`);
    if (o.listProbes !== undefined || o.listProbesWithVars !== undefined) return (await import('./list-command.js')).listProbes(o, io);
    if (o.interactive) return await interactive(o, io);
    if (o.script === undefined && o.scriptFile === undefined) {
      io.err('A script must be specified.\nTry \'tapsh --help\' for more information, or `tapsh -i` for an interactive session.\n');
      return 1;
    }
    const pass = o.lastPass;
    // A script built before with the same everything skips passes 1-3 (front-cache.ts), before the
    // language code is even loaded; -v shows every pass, so it takes the long way.
    const front = pass >= 4 && o.verbose === 0 && !o.example && o.scriptFile !== '-' ? await import('./front-cache.js') : undefined;
    const frontKey = front?.frontKey(o, argv, o.script ?? front.readScriptFile(o.scriptFile));
    const hit = front?.lookupFront(frontKey);
    if (hit?.ko && pass === 4) {
      io.out(`${front!.keepModule(o, hit.ko, hit.name)}\n`);
      return 0;
    }
    if (hit) {
      const { chosenBuildTree, keepModule, runPass4, runPass5 } = await import('./run-command.js');
      if (pass === 5) return await runPass5(o, io, hit);
      const ko = await runPass4(o, io, hit, chosenBuildTree(o));
      io.out(`${keepModule(o, ko, hit.name)}\n`);
      return 0;
    }
    const { runPass1, runPass2 } = await import('./frontend.js');
    if (pass === 1) return runPass1(o, io);
    const clock = startClock();
    // What passes 1-3 print (warnings): a run that printed something is not front-cached.
    let printed = false;
    const watched: Io = { out: io.out, err: (t) => ((printed = true), io.err(t)) };
    const checked = runPass2(o, watched);
    if (checked.status !== 0 || pass === 2) return checked.status;
    if (o.verbose > 0) io.err(passLine(2, 'analyzed script', clock));
    const { chosenBuildTree, keepModule, runPass3, runPass4, runPass5 } = await import('./run-command.js');
    const unit = runPass3(o, watched, checked.resolved!, checked.model, checked.sources);
    if (!unit) return 1;
    if (pass === 3) {
      io.out(unit.c);
      return 0;
    }
    if (pass === 4) {
      const ko = await runPass4(o, io, unit, chosenBuildTree(o));
      if (!printed) front?.storeFront(frontKey, { name: unit.name, c: unit.c, ko });
      io.out(`${keepModule(o, ko, unit.name)}\n`);
      return 0;
    }
    if (!printed) front?.storeFront(frontKey, { name: unit.name, c: unit.c });
    return await runPass5(o, io, unit);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tapsh: ${e.message}\nTry 'tapsh --help' for more information.\n`);
      return 1;
    }
    if (e instanceof KbuildError) {
      if (verboseFlag(argv)) io.err(`${e.log}\n`);
      io.err(`${e.message}\nPass 4: compilation failed.  [man error::pass4]\n`);
      return 1;
    }
    if (e instanceof ScriptError) {
      io.err(`tapsh: ${e.message}\n`);
      return 1;
    }
    if (e instanceof TargetError) {
      io.err(`tapsh: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
