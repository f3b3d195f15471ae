// Pass 2 entry point for the CLI and the REPL: parse (pass 1) then elaborate, with stap's -u/-w/-W behaviour.

import type { Diagnostic } from './diagnostics.js';
import { elaborate, type Resolved } from './elaborate.js';
import { parseFile, pass1Context, type ParseScriptInput } from './pass1.js';
import { printResolved } from './print2.js';
import { SourceFile } from './source.js';
import type { KernelModel } from '../remote/model.js';

export interface ElaborateScriptInput extends ParseScriptInput {
  /** -u: keep (and check) unused functions and globals. */
  unoptimized: boolean;
  /** -w: drop warnings. */
  suppressWarnings: boolean;
  /** -W: warnings are errors. */
  warningsAreErrors: boolean;
  /** The target kernel; without it, kernel probe points are accepted unverified. */
  kernelModel?: KernelModel;
}

export interface ElaborateScriptResult {
  resolved: Resolved | undefined;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

export function elaborateScript(input: ElaborateScriptInput): ElaborateScriptResult {
  const ctx = pass1Context({ ...input, kernel: input.kernel ?? input.kernelModel?.identity });
  const file = new SourceFile(input.fileName, input.text, input.guru);
  const p1 = parseFile(file, ctx);
  let diagnostics = [...ctx.diagnostics, ...p1.diagnostics];
  let resolved: Resolved | undefined;
  if (p1.program && !diagnostics.some((d) => d.severity === 'error')) {
    const r = elaborate(p1.program, ctx, { guru: input.guru, unoptimized: input.unoptimized, kernel: input.kernelModel });
    diagnostics.push(...r.diagnostics);
    resolved = r.resolved;
  }
  if (input.suppressWarnings) diagnostics = diagnostics.filter((d) => d.severity !== 'warning');
  if (input.warningsAreErrors && diagnostics.some((d) => d.severity === 'warning')) resolved = undefined;
  return { resolved, diagnostics, sources: ctx.sources };
}

export function printElaborated(r: Resolved): string {
  return printResolved(r);
}
