// The front end as the CLI drives it: read the script, work out the target kernel's facts, run pass 1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { hostKernels, readBuildTree } from '../build/buildtree.js';
import { parseScript, printProgram, renderDiagnostics } from '../lang/pass1.js';
import { checkTapsetLibrary, elaborateScript, printElaborated } from '../lang/pass2.js';
import { cachedModelForRelease } from '../remote/capture.js';
import type { KernelModel } from '../remote/model.js';
import type { Resolved } from '../lang/elaborate.js';
import { cacheDir } from '../util/cache.js';
import type { KernelIdentity } from '../remote/model.js';
import type { Io } from './lab-command.js';
import type { CliOptions } from './options.js';
import { ScriptError } from './script-error.js';

export { checkTmpdir, ScriptError } from './script-error.js';

export interface ScriptSource {
  text: string;
  /** Name used in diagnostics: the file path, "<input>" for -e, "<stdin>" for "-". */
  name: string;
}

export function readScript(o: CliOptions): ScriptSource {
  if (o.script !== undefined) return { text: o.script, name: '<input>' };
  if (o.scriptFile === '-') return { text: readFileSync(0, 'utf8'), name: '<stdin>' };
  const file = o.example ? findExample(o.scriptFile!) : o.scriptFile!;
  if (!existsSync(file)) throw new ScriptError(`Input file '${file}' is missing.`);
  try {
    return { text: readFileSync(file, 'utf8'), name: file };
  } catch (e) {
    throw new ScriptError(`Input file '${file}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}


/** Where `--example NAME` looks: $TAPSH_EXAMPLES_DIR, else SystemTap's installed examples. */
export function examplesDir(): string {
  return process.env['TAPSH_EXAMPLES_DIR'] || '/usr/share/systemtap/examples';
}

/** `--example NAME`: the one script called NAME (a file name or a relative path) under the examples directory. */
export function findExample(name: string): string {
  const root = examplesDir();
  if (!existsSync(root)) throw new ScriptError(`Example '${name}' was not found: there is no examples directory ${root} (set TAPSH_EXAMPLES_DIR to SystemTap's examples folder).`);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p === join(root, name) || (p.endsWith(`/${name}`) && !name.startsWith('/'))) found.push(p);
    }
  };
  walk(root);
  if (found.length === 0) throw new ScriptError(`Example '${name}' was not found under '${root}'.`);
  if (found.length > 1) throw new ScriptError(`Multiple examples found: ${found.map((f) => relative(root, f)).join(', ')}; name one with its folder.`);
  return found[0]!;
}

/**
 * What the preprocessor needs to know about the kernel the script is for: -r RELEASE or -r BUILD_DIR,
 * else the lab VM's kernel (the default target here), else the running kernel's release.
 */
export function kernelFacts(o: CliOptions): { identity?: KernelIdentity; config?: Map<string, string> } {
  let buildDir: string | undefined;
  let release: string | undefined;
  if (o.kernelRelease?.startsWith('/')) buildDir = o.kernelRelease;
  else if (o.kernelRelease) release = o.kernelRelease;
  else release = hostKernels()[0]?.release;
  if (!buildDir && release) buildDir = join('/lib/modules', release, 'build');
  const tree = buildDir ? readBuildTree(buildDir) : undefined;
  if (tree) release = tree.release;
  if (!release) return {};
  const identity: KernelIdentity = { release, arch: 'x86_64', buildId: '', version: tree?.utsVersion ?? '', vermagic: tree?.vermagic ?? '' };
  const config = new Map<string, string>();
  if (tree) {
    for (const line of readFileSync(join(tree.dir, 'include/config/auto.conf'), 'utf8').split('\n')) {
      const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
      if (m) config.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
    }
  }
  return { identity, config };
}

/**
 * What every front-end call shares: script arguments, tapset directories ($SYSTEMTAP_TAPSET
 * replaces the package's, as with stap; -I adds), guru mode, language level, kernel config, and
 * the on-disk cache of parsed tapsets that keeps cold starts fast.
 */
export function frontEndInput(o: CliOptions, facts: ReturnType<typeof kernelFacts>) {
  const env = process.env['SYSTEMTAP_TAPSET'];
  return {
    scriptArgs: o.scriptArgs,
    includeDirs: o.includeDirs,
    guru: o.guru,
    compatible: o.compatible,
    config: facts.config,
    tapsetDirs: env ? env.split(':').filter(Boolean) : undefined,
    cacheDir: cacheDir('lang'),
  };
}

/** `-p1`: parse and print the canonical program, or the diagnostics. Returns the exit status. */
export function runPass1(o: CliOptions, io: Io, print = o.lastPass === 1): number {
  const src = readScript(o);
  const facts = kernelFacts(o);
  const result = parseScript({ ...frontEndInput(o, facts), text: src.text, fileName: src.name, kernel: facts.identity });
  // stap parses the whole tapset library in pass 1 too: with -W its problems fail the run.
  const library = o.warningsAreErrors ? checkTapsetLibrary({ ...frontEndInput(o, facts), kernel: facts.identity, unoptimized: o.unoptimized, suppressWarnings: false, warningsAreErrors: true }) : [];
  const warnings = [...result.diagnostics, ...library].filter((d) => d.severity === 'warning');
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (warnings.length && !o.suppressWarnings) io.err(renderDiagnostics(warnings, result.sources));
  if (errors.length) {
    io.err(renderDiagnostics(errors, result.sources));
    io.err(`Pass 1: parse failed.  [man error::pass1]\n`);
    return 1;
  }
  if (warnings.length && o.warningsAreErrors) {
    io.err('Pass 1: warnings treated as errors (-W).\n');
    return 1;
  }
  if (result.program && print) io.out(printProgram(result.program));
  return 0;
}

/**
 * Passes 1-2: parse and elaborate against the target kernel's cached model (captured by
 * `tapsh lab start` or any earlier run); without one, kernel probe points are accepted unverified.
 */
export function runPass2(o: CliOptions, io: Io, print = o.lastPass === 2): { status: number; resolved?: Resolved; model?: KernelModel; sources?: Map<string, string> } {
  const src = readScript(o);
  const facts = kernelFacts(o);
  const model = facts.identity ? cachedModelForRelease(facts.identity.release) : undefined;
  if (!model && o.verbose > 0) io.err(`tapsh: no captured kernel model for ${facts.identity?.release ?? 'the target'}; kernel probe points are not checked (run \`tapsh lab start\` once to capture it)\n`);
  const result = elaborateScript({
    ...frontEndInput(o, facts),
    text: src.text,
    fileName: src.name,
    kernel: model?.identity ?? facts.identity,
    unoptimized: o.unoptimized,
    suppressWarnings: o.suppressWarnings,
    warningsAreErrors: o.warningsAreErrors,
    kernelModel: model,
    skipBadvars: o.skipBadvars,
  });
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (warnings.length) io.err(renderDiagnostics(warnings, result.sources));
  if (errors.length || !result.resolved) {
    if (errors.length) io.err(renderDiagnostics(errors, result.sources));
    const pass1Failed = errors.some((d) => d.message.startsWith('parse error'));
    io.err(pass1Failed ? 'Pass 1: parse failed.  [man error::pass1]\n' : 'Pass 2: analysis failed.  [man error::pass2]\n');
    return { status: 1 };
  }
  if (print) io.out(printElaborated(result.resolved));
  return { status: 0, resolved: result.resolved, model, sources: result.sources };
}
