// Pass 2 entry point for the CLI and the REPL: parse (pass 1) then elaborate, with stap's -u/-w/-W behaviour.

import type { Diagnostic } from './diagnostics.js';
import { elaborate, type ExternalGlobal, type Resolved } from './elaborate.js';
import { parseFile, pass1Context, type ParseScriptInput } from './pass1.js';
import { libraryDiagnostics } from './library.js';
import { printResolved } from './print2.js';
import type { DerivedProbe } from './probes.js';
import { btfForFunction, modelBtf, modelTracepointTargets } from '../btf/targets.js';
import { stapTypeName } from '../btf/tracepoints.js';
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
  /** Globals that already exist in an interactive session, with their fixed types. */
  externalGlobals?: ReadonlyMap<string, ExternalGlobal>;
  /** --skip-badvars: target variables a probe does not have read as 0, with a warning. */
  skipBadvars?: boolean;
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
    const r = elaborate(p1.program, ctx, {
      guru: input.guru, unoptimized: input.unoptimized, kernel: input.kernelModel, externalGlobals: input.externalGlobals, skipBadvars: input.skipBadvars,
    });
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

/**
 * Diagnostics about the tapset library itself (files that do not parse). stap reports these in
 * pass 1; `tapsh -p1 -W` should add them to the script's own diagnostics.
 */
export function checkTapsetLibrary(input: Omit<ElaborateScriptInput, 'text' | 'fileName'>): readonly Diagnostic[] {
  return libraryDiagnostics(pass1Context({ ...input, kernel: input.kernel ?? input.kernelModel?.identity }));
}

/**
 * `-l PATTERN` / `-L PATTERN`: the probe points PATTERN resolves to, one per line, sorted; a point
 * reached through a probe alias is listed as the alias. With `withVars`, as stap's -L: an alias's
 * variables (`name:type`), then the point's target variables (`$name:type`).
 */
export function listProbePoints(pattern: string, input: Omit<ElaborateScriptInput, 'text' | 'fileName'>, withVars: boolean): { lines: string[]; diagnostics: Diagnostic[]; sources: Map<string, string> } {
  const r = elaborateScript({ ...input, text: `probe ${pattern} {}`, fileName: '<pattern>', unoptimized: true, suppressWarnings: true, warningsAreErrors: false });
  if (!r.resolved) return { lines: [], diagnostics: r.diagnostics, sources: r.sources };
  const lines = new Set<string>();
  for (const { derived, unit } of r.resolved.probes) {
    // Only what the pattern itself resolves to: not the tapsets' own probes that came along (stap PR16730).
    if (unit.file !== undefined) continue;
    // Through an alias, stap lists the alias (with the suffix written) and, for -L, the variables its body sets.
    const aliasVars = withVars && derived.listed ? [...unit.locals.values()].filter((v) => v.scope === 'local' && v.writes > 0).map((v) => `${v.name}:${r.resolved!.types.vars.get(v)?.value ?? 'unknown'}`) : [];
    const vars = withVars ? pointVariables(derived, input.kernelModel) : [];
    lines.add([derived.listed ?? derived.point, ...aliasVars, ...vars].join(' '));
  }
  return { lines: [...lines].sort(), diagnostics: r.diagnostics, sources: r.sources };
}

/** stap's spelling of a C type in -L output: no space before '*' or '['. */
function stapType(t: string): string {
  return t.replace(/ \*/g, '*').replace(/\s+\[/g, '[');
}

/** -L's `$name:type` list: tracepoint fields with their C types, function parameters (and $return) from BTF. */
function pointVariables(p: DerivedProbe, model: KernelModel | undefined): string[] {
  if (!model) return [];
  if (p.family === 'kernel.trace') {
    // stap offers the event's TP_PROTO arguments; they come from BTF where the kernel has it.
    const args = modelTracepointTargets(model, String(p.detail.system), String(p.detail.event));
    if (args) return args.args.map((a) => `$${a.name}:${stapTypeName(args.btf, a.type)}`);
    const tp = model.tracepoints.get(`${p.detail.system}:${p.detail.event}`);
    return (tp?.fields ?? []).filter((f) => !f.common).map((f) => {
      const type = f.decl.startsWith('__data_loc') ? 'string' : f.decl.replace(new RegExp(`\\b${f.name}\\b`), '').trim();
      return `$${f.name}:${stapType(type)}`;
    });
  }
  if (p.family === 'kernel.function' || p.family === 'kprobe.function') {
    const vmlinux = modelBtf(model);
    const btf = vmlinux ? btfForFunction(vmlinux, String(p.detail.function), String(p.detail.module ?? '')) : undefined;
    const proto = btf?.funcProto(String(p.detail.function));
    if (!btf || !proto) return [];
    const vars = proto.params.map((x) => `$${x.name}:${stapTypeName(btf, x.type)}`);
    if (p.isReturn && proto.ret !== 0) vars.unshift(`$return:${stapTypeName(btf, proto.ret)}`);
    return vars;
  }
  return [];
}
