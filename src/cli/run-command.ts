// Passes 3-5 from the command line: translate (-p3), build (-p4), run (default) on the chosen target.
import { createHash } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import { buildTreeFor, labKernel, readBuildTree, type BuildTree } from '../build/buildtree.js';
import { buildModule } from '../build/module-cache.js';
import type { Resolved } from '../lang/elaborate.js';
import { readIdentity } from '../remote/capture.js';
import { openDefaultTarget } from '../remote/connect.js';
import type { KernelModel } from '../remote/model.js';
import { runModule } from '../run/runner.js';
import { translate } from '../translate/translate.js';
import { renderDiagnostics } from '../lang/pass1.js';
import type { Io } from './lab-command.js';
import type { CliOptions } from './options.js';
import { elapsed, passLine, startClock } from './timing.js';

export { keepModule } from './front-cache.js';

/** The module name: -m NAME, else stap_ and a hash of the generated C (stable across runs). */
function moduleName(o: CliOptions, c: string): string {
  return o.moduleName ?? `stap_${createHash('sha256').update(c).digest('hex').slice(0, 12)}`;
}

function scriptLabel(o: CliOptions): string {
  return o.script !== undefined ? '<input>' : o.scriptFile === '-' ? '<stdin>' : basename(o.scriptFile ?? 'script');
}

/** Pass 3. Returns the C, or undefined after reporting why it could not be translated. */
export function runPass3(o: CliOptions, io: Io, resolved: Resolved, model: KernelModel | undefined, sources?: Map<string, string>): { c: string; name: string } | undefined {
  const clock = startClock();
  const provisional = translate(resolved, { moduleName: o.moduleName ?? 'stap_module', scriptName: scriptLabel(o), kernel: model, sources });
  if (provisional.problems.length) {
    // Rendered like every other diagnostic: message, location, the source line and a caret.
    const diags = provisional.problems.map((p) => ({ code: 'TS5001', severity: 'error' as const, message: `semantic error: ${p.message}`, span: p.span, notes: [] }));
    io.err(renderDiagnostics(diags, sources ?? new Map()));
    io.err('Pass 3: translation failed.  [man error::pass3]\n');
    return undefined;
  }
  const name = moduleName(o, provisional.c);
  if (o.verbose > 0) io.err(passLine(3, `translated to C into "${name}.c"`, clock));
  return { c: provisional.c, name };
}

/** The build tree for -r, or the lab kernel's (the default target's) when none is named. */
export function chosenBuildTree(o: CliOptions): BuildTree {
  if (o.kernelRelease?.startsWith('/')) {
    const t = readBuildTree(o.kernelRelease);
    if (!t) throw new Error(`-r ${o.kernelRelease}: not a configured kernel build tree`);
    return t;
  }
  if (o.kernelRelease) {
    const t = readBuildTree(`/lib/modules/${o.kernelRelease}/build`);
    if (!t) throw new Error(`-r ${o.kernelRelease}: no build tree at /lib/modules/${o.kernelRelease}/build; install linux-headers-${o.kernelRelease}`);
    return t;
  }
  return labKernel().buildTree;
}

export async function runPass4(o: CliOptions, io: Io, unit: { c: string; name: string }, tree: BuildTree): Promise<string> {
  const clock = startClock();
  const built = await buildModule({ name: unit.name, c: unit.c, defines: o.defines }, tree);
  if (o.verbose > 0) io.err(`Pass 4: ${built.cached ? 'using cached' : 'compiled C into'} "${built.ko}" in ${elapsed(clock)}\n`);
  return built.ko;
}

/** The kernel splits module options at spaces unless the value is double-quoted. */
function globalParams(o: CliOptions): string[] {
  return o.globals.map((g) => {
    const eq = g.indexOf('=');
    const value = g.slice(eq + 1);
    return `tapsh_global_${g.slice(0, eq)}=${/\s/.test(value) ? `"${value}"` : value}`;
  });
}

/** Splits a byte stream into whole lines, each prefixed (for --remote-prefix's "N: "). */
function prefixer(prefix: string, sink: (s: string) => void): { write: (b: Buffer) => void; flush: () => void } {
  let partial = '';
  return {
    write: (b) => {
      const parts = (partial + b.toString('utf8')).split('\n');
      partial = parts.pop()!;
      if (parts.length) sink(parts.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush: () => {
      if (partial) sink(`${prefix}${partial}`);
      partial = '';
    },
  };
}

/**
 * Pass 5 on the default target, or on every --remote host at once (each gets a module built for
 * its own kernel; --remote-prefix tags each output line with the host's index). Checks each
 * build tree against the kernel it will run on first. The status is the worst of the runs.
 */
export async function runPass5(o: CliOptions, io: Io, unit: { c: string; name: string }): Promise<number> {
  let out: number | undefined;
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const onSignal = () => interrupt();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const write = (s: string) => (out !== undefined ? writeSync(out, s) : io.out(s));
  try {
    if (o.outputFile) out = openSync(o.outputFile, 'w');
    const hosts: (string | undefined)[] = o.remotes.length ? o.remotes : [undefined];
    const statuses = await Promise.all(
      hosts.map(async (remote, index) => {
        const prefix = o.remotePrefix && remote !== undefined ? `${index}: ` : '';
        const lines = prefix ? prefixer(prefix, write) : undefined;
        const open = await openDefaultTarget({ remote, onProgress: o.verbose > 0 ? (s) => io.err(`[lab] ${s}\n`) : undefined });
        try {
          if (!remote && open.description.startsWith('a lab VM booted')) io.err(`tapsh: running on ${open.description}\n`);
          const identity = await readIdentity(open.target);
          const ko = await runPass4(o, io, unit, buildTreeFor(identity));
          if (o.verbose > 0) io.err(`Pass 5: starting run${remote ? ` on ${open.target.name}` : ''}.\n`);
          const clock = startClock();
          const result = await runModule({
            target: open.target,
            ko: readFileSync(ko),
            name: unit.name,
            output: (b) => (lines ? lines.write(b) : write(b.toString('utf8'))),
            diag: (s) => io.err(prefix + s),
            timeoutSeconds: o.timeoutSeconds,
            command: o.command,
            targetPid: o.targetPid,
            params: [...globalParams(o), ...(remote !== undefined ? [`tapsh_remote_id=${index}`, `tapsh_remote_uri=${JSON.stringify(remote)}`] : [])],
            interrupt: interrupted,
          });
          lines?.flush();
          if (o.verbose > 0) io.err(`Pass 5: run completed in ${elapsed(clock)}\n`);
          return result.status;
        } finally {
          await open.release();
        }
      }),
    );
    const status = Math.max(...statuses);
    if (status !== 0) io.err('Pass 5: run failed.  [man error::pass5]\n');
    return status;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGHUP', onSignal);
    if (out !== undefined) closeSync(out);
  }
}

