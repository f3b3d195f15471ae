// Pass 2a: the tapset library: every .stp file under the tapset directories, parsed once and indexed by what it provides.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AliasDecl, FunctionDecl, GlobalDecl, ProbePoint, Program } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { parseFile, type Pass1Context } from './pass1.js';
import { SourceFile } from './source.js';

export interface LibraryFile {
  readonly path: string;
  readonly program: Program;
}

export interface Provided<T> {
  readonly decl: T;
  readonly file: LibraryFile;
}

export interface Library {
  readonly files: readonly LibraryFile[];
  readonly functions: ReadonlyMap<string, readonly Provided<FunctionDecl>[]>;
  readonly globals: ReadonlyMap<string, Provided<GlobalDecl>>;
  readonly aliases: readonly (Provided<AliasDecl> & { readonly name: ProbePoint })[];
  /** Files that failed to parse: warnings (errors under -W), as stap reports bad tapsets. */
  readonly diagnostics: readonly Diagnostic[];
}

interface CacheEntry {
  readonly key: string;
  readonly program: Program | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** Parsed tapset files by path; reused while the file and the preprocessor facts are unchanged (the REPL reloads often). */
const parsedCache = new Map<string, CacheEntry>();

export function loadLibrary(ctx: Pass1Context): Library {
  const files: LibraryFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const factsKey = JSON.stringify({ ...ctx.facts, config: [...ctx.facts.config], macros: [...ctx.macros.keys()], c: ctx.compatible });
  for (const dir of ctx.tapsetDirs) {
    for (const path of findStp(dir)) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      const key = `${st.mtimeMs}:${st.size}:${factsKey}`;
      let entry = parsedCache.get(path);
      if (!entry || entry.key !== key) {
        const text = readFileSync(path, 'utf8');
        const r = parseFile(new SourceFile(path, text, true), ctx, 'library');
        entry = { key, program: r.program, diagnostics: r.diagnostics };
        parsedCache.set(path, entry);
      } else if (!ctx.sources.has(path)) {
        ctx.sources.set(path, readFileSync(path, 'utf8'));
      }
      if (entry.program) files.push({ path, program: entry.program });
      else {
        const first = entry.diagnostics.find((d) => d.severity === 'error');
        diagnostics.push(diag('TS4001', first?.span, [path, first?.message ?? 'parse failed']));
      }
    }
  }
  const functions = new Map<string, Provided<FunctionDecl>[]>();
  const globals = new Map<string, Provided<GlobalDecl>>();
  const aliases: (Provided<AliasDecl> & { name: ProbePoint })[] = [];
  for (const file of files) {
    for (const d of file.program.decls) {
      if (d.kind === 'function') functions.set(d.name, [...(functions.get(d.name) ?? []), { decl: d, file }]);
      else if (d.kind === 'global') {
        if (!globals.has(d.name)) globals.set(d.name, { decl: d, file });
      } else if (d.kind === 'alias') for (const name of d.names) aliases.push({ decl: d, file, name });
    }
  }
  return { files, functions, globals, aliases, diagnostics };
}

function findStp(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      continue;
    }
    if (isDir) out.push(...findStp(p));
    else if (e.endsWith('.stp')) out.push(p);
  }
  return out;
}

/** Parses every tapset file and returns the warnings for the ones that fail (what `-p1 -W` turns into errors). */
export function libraryDiagnostics(ctx: Pass1Context): readonly Diagnostic[] {
  return loadLibrary(ctx).diagnostics;
}
