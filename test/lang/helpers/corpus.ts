// Runs SystemTap's conformance corpus through pass 1: `#! stap` files directly, shell files through a recording `stap` shim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScript, type ParseScriptResult } from '../../../src/lang/pass1.js';
import { checkTapsetLibrary } from '../../../src/lang/pass2.js';
import { CORPUS, readManifest, recordShellCalls, shellUnsupported, type ManifestRow } from '../../../scripts/corpus-lib.mjs';
import { parseStapArgs, scriptOf, shebangArgs, type StapRun } from './stap-args.js';

export { CORPUS, corpusPresent, readManifest, type ManifestRow } from '../../../scripts/corpus-lib.mjs';

export type Outcome =
  | { status: 'pass' | 'fail'; detail: string }
  | { status: 'unsupported'; reason: string };

/** Pass 1 over one invocation; `ok` is what stap's exit status would say. */
export function runPass1(run: StapRun, script: { text: string; fileName: string }, tapsetDirs?: string[]): { ok: boolean; result: ParseScriptResult } {
  const result = parseScript({
    text: script.text,
    fileName: script.fileName,
    scriptArgs: run.args,
    includeDirs: run.includeDirs,
    guru: run.guru,
    compatible: run.compatible,
    ...(tapsetDirs ? { tapsetDirs } : {}),
  });
  // stap parses the whole tapset library in pass 1; under -W a broken tapset file fails the run.
  const library = run.warningsAreErrors
    ? checkTapsetLibrary({ scriptArgs: run.args, includeDirs: run.includeDirs, guru: run.guru, compatible: run.compatible, ...(tapsetDirs ? { tapsetDirs } : {}), unoptimized: false, suppressWarnings: false, warningsAreErrors: true })
    : [];
  result.diagnostics.push(...library);
  const failed = !result.program || (run.warningsAreErrors && result.diagnostics.length > 0);
  return { ok: !failed, result };
}

export function runCorpusFile(dir: string, row: ManifestRow): Outcome {
  const path = join(CORPUS, dir, row.file);
  const text = readFileSync(path, 'utf8');
  const want = row.expected === 'exit0';
  if (row.kind === 'stap') {
    const args = shebangArgs(text.split('\n')[0] ?? '') ?? [];
    const run = parseStapArgs([...args, path]);
    if (typeof run === 'string') return { status: 'unsupported', reason: run };
    const { ok, result } = runPass1(run, { text, fileName: row.file });
    const detail = result.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`).join('\n');
    if (!want && result.diagnostics.length === 0) return { status: 'fail', detail: 'rejected without a diagnostic' };
    return { status: ok === want ? 'pass' : 'fail', detail };
  }
  return runShellFile(path, text, want);
}

function runShellFile(path: string, text: string, want: boolean): Outcome {
  const why = shellUnsupported(text);
  if (why) return { status: 'unsupported', reason: why };
  const envPrefix = /^\s*!?\s*((?:[A-Z_]+=\S*\s+)+)stap\s/m.exec(text);
  if (envPrefix && !/^(SYSTEMTAP_TAPSET=\S*\s+)+$/.test(envPrefix[1]!)) {
    return { status: 'unsupported', reason: `runs stap with ${envPrefix[1]!.trim()}: environment handling is a CLI concern` };
  }
  return recordShellCalls(path, (calls, cwd): Outcome => {
    if (calls.length === 0) return { status: 'unsupported', reason: 'no stap invocation ran (needs the SystemTap source tree or other setup)' };
    // `! stap ...` lines expect failure; match them to recorded calls in order when the counts agree.
    const textual = [...text.matchAll(/^\s*(!\s*)?(?:[A-Z_]+=\S*\s+)*stap\s/gm)].map((m) => m[1] !== undefined);
    const negated = textual.length === calls.length ? textual : calls.map(() => false);
    const details: string[] = [];
    let allAsExpected = true;
    for (const [i, c] of calls.entries()) {
      const run = parseStapArgs(c.argv, c.stdin);
      if (typeof run === 'string') return { status: 'unsupported', reason: run };
      if (run.lastPass !== 1) return { status: 'unsupported', reason: `stap -p${run.lastPass}: not a pass-1 run` };
      const script = scriptOf(run, cwd);
      if (!script) return { status: 'unsupported', reason: `script file ${run.scriptFile} is not available` };
      const { ok, result } = runPass1(run, script, c.tapsetDir ? [c.tapsetDir] : undefined);
      details.push(`call ${i + 1}${negated[i] ? ' (expected to fail)' : ''}: ${ok ? 'ok' : 'failed'} ${result.diagnostics.map((d) => d.message).join('; ')}`);
      if (ok === negated[i]) allAsExpected = false;
    }
    return { status: allAsExpected === want ? 'pass' : 'fail', detail: details.join('\n') };
  });
}

/** Corpus files (any folder) that should parse, with the flags their shebang gives. */
export function parsableCorpusFiles(dirs: readonly string[]): { dir: string; file: string; run: StapRun; text: string }[] {
  const out: { dir: string; file: string; run: StapRun; text: string }[] = [];
  for (const dir of dirs) {
    for (const row of readManifest(dir)) {
      if (row.kind !== 'stap') continue;
      const path = join(CORPUS, dir, row.file);
      const text = readFileSync(path, 'utf8');
      const run = parseStapArgs([...(shebangArgs(text.split('\n')[0] ?? '') ?? []), path]);
      if (typeof run !== 'string') out.push({ dir, file: row.file, run, text });
    }
  }
  return out;
}
