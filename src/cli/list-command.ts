// -l / -L: the probe points a pattern matches (after aliases and wildcards), with their variables for -L.
import { renderDiagnostics } from '../lang/pass1.js';
import { listProbePoints } from '../lang/pass2.js';
import { cachedModelForRelease } from '../remote/capture.js';
import { frontEndInput, kernelFacts } from './frontend.js';
import type { Io } from './lab-command.js';
import type { CliOptions } from './options.js';

export function listProbes(o: CliOptions, io: Io): number {
  const pattern = (o.listProbes ?? o.listProbesWithVars)!;
  const facts = kernelFacts(o);
  const model = facts.identity ? cachedModelForRelease(facts.identity.release) : undefined;
  const r = listProbePoints(pattern, { ...frontEndInput(o, facts), kernel: model?.identity ?? facts.identity, kernelModel: model, unoptimized: true, suppressWarnings: true, warningsAreErrors: false }, o.listProbesWithVars !== undefined);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    io.err(renderDiagnostics(errors, r.sources));
    return 1;
  }
  io.out(r.lines.map((l) => l + '\n').join(''));
  return 0;
}
