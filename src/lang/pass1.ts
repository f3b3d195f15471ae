// Pass 1 entry points: preprocess, parse and check one script; render diagnostics; print the tree.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { arch as hostArch, release as hostRelease } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Program } from './ast.js';
import { checkProgram } from './check1.js';
import { diag, renderDiagnostics as render, type Diagnostic } from './diagnostics.js';
import { parseProgram } from './parser.js';
import { preprocess, strverscmp, type Macro, type PpFacts } from './preprocess.js';
import { printProgram as print } from './print.js';
import { SourceFile } from './source.js';
import type { KernelIdentity } from '../remote/model.js';

/** The language level tapsh implements; `systemtap_v` when no `--compatible` is given. */
export const LANGUAGE_VERSION = '5.5';

/** The package's own tapset directory (`tapsets/` at the repository/package root). */
export const PACKAGE_TAPSET_DIR = fileURLToPath(new URL('../../tapsets', import.meta.url));

export interface ParseScriptInput {
  text: string;
  fileName: string;
  scriptArgs: string[];
  /** `-I DIR` directories, searched after the package tapsets for `.stpm` macro files. */
  includeDirs: string[];
  guru: boolean;
  compatible?: string;
  kernel?: KernelIdentity;
  /** Kernel config (`CONFIG_FOO` → "y"/"m"/value) for `%( CONFIG_FOO == "y" %? ... %)`. */
  config?: Map<string, string>;
  /** Replaces the package tapset directory (e.g. from $SYSTEMTAP_TAPSET); [] disables it. */
  tapsetDirs?: string[];
  /** Directory for parsed-tapset caches (the CLI passes one under $TAPSH_CACHE_DIR); none when absent. */
  cacheDir?: string;
}

export interface ParseScriptResult {
  /** Undefined when any error was reported. */
  program: Program | undefined;
  diagnostics: Diagnostic[];
  /** Every text a diagnostic may point into (script, macro files, expanded arguments), for rendering. */
  sources: Map<string, string>;
}

export function parseScript(input: ParseScriptInput): ParseScriptResult {
  const ctx = pass1Context(input);
  const file = new SourceFile(input.fileName, input.text, input.guru);
  const r = parseFile(file, ctx);
  const diagnostics = [...ctx.diagnostics, ...r.diagnostics];
  return { program: hasErrors(diagnostics) ? undefined : r.program, diagnostics, sources: ctx.sources };
}

/** What parsing any file of one run shares: preprocessor facts, the macro library, the language level. */
export interface Pass1Context {
  readonly facts: PpFacts;
  readonly macros: ReadonlyMap<string, Macro>;
  readonly compatible: string;
  /** Problems found while loading the macro library (reported once per run). */
  readonly diagnostics: readonly Diagnostic[];
  /** Texts diagnostics may point into; parseFile adds to it. */
  readonly sources: Map<string, string>;
  /** Tapset directories in search order (package first, then -I). */
  readonly tapsetDirs: readonly string[];
  readonly cacheDir: string | undefined;
}

export type Pass1Options = Omit<ParseScriptInput, 'text' | 'fileName'>;

export function pass1Context(input: Pass1Options): Pass1Context {
  const facts = factsFor(input);
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const tapsetDirs = [...(input.tapsetDirs ?? [PACKAGE_TAPSET_DIR]), ...input.includeDirs];
  const macros = loadMacroLibrary(tapsetDirs, facts, diagnostics, sources);
  return { facts, macros, compatible: input.compatible ?? LANGUAGE_VERSION, diagnostics, sources, tapsetDirs, cacheDir: input.cacheDir };
}

/**
 * Preprocesses, parses and checks one file. `file.privileged` allows embedded C (tapsets, or -g);
 * a library file may be empty, a script may not.
 */
export function parseFile(file: SourceFile, ctx: Pass1Context, role: 'script' | 'library' = 'script'): { program: Program | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  ctx.sources.set(file.name, file.text);
  const pp = preprocess(file, ctx.facts, ctx.macros);
  diagnostics.push(...pp.diagnostics);
  for (const { token } of pp.tokens) if (!ctx.sources.has(token.file.name)) ctx.sources.set(token.file.name, token.file.text);
  if (hasErrors(diagnostics)) return { program: undefined, diagnostics };
  if (pp.tokens.length === 0) {
    if (role === 'library') {
      return { program: { kind: 'program', file: file.name, decls: [], span: file.span(0, 0) }, diagnostics };
    }
    diagnostics.push(diag('TS2002', file.span(file.text.length, file.text.length)));
    return { program: undefined, diagnostics };
  }
  const parsed = parseProgram(pp, {
    fileName: file.name,
    noCommentGlue: strverscmp(ctx.compatible, '2.0') < 0,
    privateIsKeyword: strverscmp(ctx.compatible, '3.0') >= 0,
  });
  diagnostics.push(...parsed.diagnostics);
  if (parsed.program) diagnostics.push(...checkProgram(parsed.program, file.privileged));
  return { program: hasErrors(diagnostics) ? undefined : parsed.program, diagnostics };
}

export function renderDiagnostics(diags: Diagnostic[], sources: Map<string, string>): string {
  return render(diags, sources);
}

export function printProgram(p: Program): string {
  return print(p);
}

function hasErrors(d: readonly Diagnostic[]): boolean {
  return d.some((x) => x.severity === 'error');
}

/** stap's architecture names for `uname -m` values (and node's `os.arch()` names). */
export function normalizeArch(m: string): string {
  if (/^i.86$/.test(m) || m === 'ia32') return 'i386';
  if (m === 'x64' || m === 'amd64') return 'x86_64';
  if (m === 'aarch64') return 'arm64';
  if (/^arm/.test(m) && m !== 'arm64') return 'arm';
  if (/^ppc/.test(m)) return 'powerpc';
  if (/^s390/.test(m)) return 's390';
  if (/^sh/.test(m)) return 'sh';
  if (/^mips/.test(m)) return 'mips';
  if (/^riscv/.test(m)) return 'riscv';
  return m;
}

function factsFor(input: Pass1Options): PpFacts {
  return {
    kernelRelease: input.kernel?.release ?? hostRelease(),
    arch: normalizeArch(input.kernel?.arch ?? hostArch()),
    runtime: 'kernel',
    systemtapVersion: input.compatible ?? LANGUAGE_VERSION,
    privilege: 'stapdev',
    guru: input.guru,
    config: input.config ?? new Map(),
    args: input.scriptArgs,
  };
}

/** Collects `@define`s from every `.stpm` file under the tapset directories; later directories win. */
function loadMacroLibrary(dirs: readonly string[], facts: PpFacts, diagnostics: Diagnostic[], sources: Map<string, string>): Map<string, Macro> {
  const library = new Map<string, Macro>();
  for (const dir of dirs) {
    for (const path of findFiles(dir, '.stpm')) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        diagnostics.push(diag('TS1050', undefined, [path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`]));
        continue;
      }
      const file = new SourceFile(path, text, true);
      const pp = preprocess(file, facts, library);
      const errors = pp.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length || pp.tokens.length) {
        sources.set(path, text);
        const why = errors[0]?.message ?? 'only @define is allowed in a macro file';
        diagnostics.push(diag('TS1050', errors[0]?.span ?? pp.tokens[0]?.token.file.span(pp.tokens[0].token.start, pp.tokens[0].token.end), [path, why]));
      }
      for (const [name, m] of pp.macros) library.set(name, m);
    }
  }
  return library;
}

function findFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...findFiles(p, ext));
    else if (e.endsWith(ext)) out.push(p);
  }
  return out;
}
