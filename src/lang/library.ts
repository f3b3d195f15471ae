// Pass 2a: the tapset library: every .stp file under the tapset directories, indexed from its tokens and parsed only when used.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { AliasDecl, FunctionDecl, GlobalDecl, ProbePoint, Program } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import type { Token } from './lexer.js';
import { parseFile, type Pass1Context } from './pass1.js';
import { preprocess } from './preprocess.js';
import { SourceFile } from './source.js';
import { syscallTapsets } from './syscalls.js';
import type { KernelModel } from '../remote/model.js';

export interface LibraryFile {
  readonly path: string;
  readonly program: Program;
}

export interface Provided<T> {
  readonly decl: T;
  readonly file: LibraryFile;
}

export type ProvidedAlias = Provided<AliasDecl> & { readonly name: ProbePoint };

/**
 * The tapset library of one run. Files are preprocessed and scanned for the names they declare up
 * front; a file is parsed the first time something asks for a name it provides.
 */
export interface Library {
  /** Functions called `name`, from every file declaring one. */
  functions(name: string): readonly Provided<FunctionDecl>[];
  global(name: string): Provided<GlobalDecl> | undefined;
  /** Aliases whose first name component could match `head` (a name or a wildcard pattern). */
  aliases(head: string): readonly ProvidedAlias[];
  file(path: string): LibraryFile | undefined;
  /** Parses every file; for `-p1 -W` and tests. */
  parseAll(): void;
  /** Files that failed to preprocess or parse so far: warnings, as stap reports bad tapsets. */
  readonly diagnostics: readonly Diagnostic[];
}

/** What a file declares, read from its preprocessed tokens. */
interface FileIndex {
  readonly functions: readonly string[];
  readonly globals: readonly string[];
  /** First component of each alias name (`syscall` for `syscall.read`). */
  readonly aliasHeads: readonly string[];
}

interface Entry {
  readonly key: string;
  readonly text: string;
  readonly index: FileIndex | undefined;
  readonly indexDiagnostics: readonly Diagnostic[];
  readonly disk: DiskCache | undefined;
  parsed?: { program: Program | undefined; diagnostics: readonly Diagnostic[] };
}

/**
 * Parsed tapsets on disk, so a fresh process need not re-parse the library: entries are keyed by the
 * file's path and text, the preprocessor facts and the parser itself, and written atomically.
 */
interface DiskCache {
  read<T>(kind: 'idx' | 'ast'): T | undefined;
  write(kind: 'idx' | 'ast', value: unknown): void;
}

let parserIdentity: string | undefined;

/** The preprocessor facts as a short digest: they are the same for every file, and can be large (the kernel config). */
const factsDigests = new Map<string, string>();
function factsDigest(factsKey: string): string {
  let d = factsDigests.get(factsKey);
  if (!d) factsDigests.set(factsKey, (d = createHash('sha256').update(factsKey).digest('hex')));
  return d;
}

function diskCache(dir: string, path: string, text: string, factsKey: string): DiskCache {
  parserIdentity ??= createHash('sha256').update(readFileSync(new URL('./generated/parser.js', import.meta.url))).digest('hex');
  const key = createHash('sha256').update([parserIdentity, path, factsDigest(factsKey), text].join('\0')).digest('hex').slice(0, 40);
  const file = (kind: string): string => join(dir, `${key}.${kind}`);
  return {
    read: <T>(kind: 'idx' | 'ast'): T | undefined => {
      try {
        return deserialize(readFileSync(file(kind))) as T;
      } catch {
        return undefined;
      }
    },
    write: (kind, value) => {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = `${file(kind)}.${process.pid}.tmp`;
        writeFileSync(tmp, serialize(value), { mode: 0o600 });
        renameSync(tmp, file(kind));
      } catch {
        // A cache that cannot be written only costs time.
      }
    },
  };
}

/** Per-path cache, valid while the file and the preprocessor facts are unchanged (the REPL reloads often). */
const cache = new Map<string, Entry>();

export function loadLibrary(ctx: Pass1Context, kernel?: KernelModel): Library {
  const factsKey = JSON.stringify({ ...ctx.facts, config: [...ctx.facts.config], macros: [...ctx.macros.keys()], c: ctx.compatible });
  const entries: { path: string; entry: Entry }[] = [];
  for (const dir of ctx.tapsetDirs) {
    for (const path of findStp(dir)) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      const key = `${st.mtimeMs}:${st.size}:${factsKey}`;
      let entry = cache.get(path);
      if (!entry || entry.key !== key) {
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (e) {
          entries.push({ path, entry: { key: '', text: '', index: undefined, disk: undefined, indexDiagnostics: [diag('TS1011', undefined, [`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`])] } });
          continue;
        }
        const disk = ctx.cacheDir ? diskCache(ctx.cacheDir, path, text, factsKey) : undefined;
        const cachedIndex = disk?.read<FileIndex>('idx');
        if (cachedIndex) entry = { key, text, index: cachedIndex, indexDiagnostics: [], disk };
        else {
          const pp = preprocess(new SourceFile(path, text, true), ctx.facts, ctx.macros);
          const errors = pp.diagnostics.filter((d) => d.severity === 'error');
          const index = errors.length ? undefined : indexTokens(pp.tokens.map((t) => t.token));
          if (index && pp.diagnostics.length === 0) disk?.write('idx', index);
          entry = { key, text, index, indexDiagnostics: errors, disk };
        }
        cache.set(path, entry);
      }
      entries.push({ path, entry });
    }
  }

  // syscall.* aliases derived from the kernel's syscall tracepoints (syscalls.ts): generated files, indexed as they are made.
  for (const v of kernel ? syscallTapsets(kernel, ctx.tapsetDirs[0] ?? '') : []) {
    let entry = cache.get(v.path);
    if (entry?.text !== v.text) cache.set(v.path, (entry = { key: '', text: v.text, index: v, indexDiagnostics: [], disk: ctx.cacheDir ? diskCache(ctx.cacheDir, v.path, v.text, factsKey) : undefined }));
    entries.push({ path: v.path, entry });
  }

  const diagnostics: Diagnostic[] = [];
  const reported = new Set<string>();
  const report = (path: string, ds: readonly Diagnostic[]): void => {
    if (reported.has(path)) return;
    reported.add(path);
    const first = ds.find((d) => d.severity === 'error');
    diagnostics.push(diag('TS4001', first?.span, [path, first?.message ?? 'parse failed']));
  };
  for (const { path, entry } of entries) {
    if (!entry.index) {
      ctx.sources.set(path, entry.text);
      report(path, entry.indexDiagnostics);
    }
  }

  const files = new Map<string, LibraryFile | null>();
  const parse = (path: string): LibraryFile | undefined => {
    const known = files.get(path);
    if (known !== undefined) return known ?? undefined;
    const e = entries.find((x) => x.path === path)?.entry;
    if (!e || !e.index) {
      files.set(path, null);
      return undefined;
    }
    if (!e.parsed) {
      const cached = e.disk?.read<Program>('ast');
      if (cached) e.parsed = { program: cached, diagnostics: [] };
      else {
        e.parsed = parseFile(new SourceFile(path, e.text, true), ctx, 'library');
        if (e.parsed.program && e.parsed.diagnostics.length === 0) e.disk?.write('ast', e.parsed.program);
      }
    }
    ctx.sources.set(path, e.text);
    const lf = e.parsed.program ? { path, program: e.parsed.program } : null;
    if (!lf) report(path, e.parsed.diagnostics);
    files.set(path, lf);
    return lf ?? undefined;
  };
  const providing = (pick: (i: FileIndex) => readonly string[], name: string): LibraryFile[] =>
    entries.filter(({ entry }) => entry.index && pick(entry.index).includes(name)).map(({ path }) => parse(path)).filter((f): f is LibraryFile => !!f);

  return {
    functions: (name) =>
      providing((i) => i.functions, name).flatMap((file) =>
        file.program.decls.filter((d): d is FunctionDecl => d.kind === 'function' && d.name === name).map((decl) => ({ decl, file })),
      ),
    global: (name) => {
      for (const file of providing((i) => i.globals, name)) {
        const decl = file.program.decls.find((d): d is GlobalDecl => d.kind === 'global' && d.name === name);
        if (decl) return { decl, file };
      }
      return undefined;
    },
    aliases: (head) => {
      const wild = head.includes('*');
      const re = wild ? new RegExp('^' + head.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*') + '$') : undefined;
      const out: ProvidedAlias[] = [];
      for (const { path, entry } of entries) {
        if (!entry.index?.aliasHeads.some((h) => (re ? re.test(h) : h === head || h.includes('*')))) continue;
        const file = parse(path);
        if (!file) continue;
        for (const d of file.program.decls) if (d.kind === 'alias') for (const name of d.names) out.push({ decl: d, file, name });
      }
      return out;
    },
    file: (path) => parse(path),
    parseAll: () => {
      for (const { path } of entries) parse(path);
    },
    diagnostics,
  };
}

/** Reads top-level declarations from tokens: `function NAME`, `global A, B`, `probe NAME... =|+=`. */
function indexTokens(toks: readonly Token[]): FileIndex {
  const functions: string[] = [];
  const globals: string[] = [];
  const aliasHeads: string[] = [];
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.type === 'op' && t.text === '{') {
      depth++;
      continue;
    }
    if (t.type === 'op' && t.text === '}') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth > 0 || t.type !== 'ident') continue;
    const next = toks[i + 1];
    if (t.text === 'function' && next?.type === 'ident') functions.push(next.text);
    else if (t.text === 'global') {
      // NAME [%] [[N]] [= [-]LITERAL] (, NAME ...)*
      let k = i + 1;
      while (toks[k]?.type === 'ident') {
        globals.push(toks[k]!.text);
        k++;
        while (toks[k] && !(toks[k]!.type === 'op' && toks[k]!.text === ',') && !(toks[k]!.type === 'ident' && /^(probe|global|function|private)$/.test(toks[k]!.text)) && toks[k]!.type !== 'embedded') {
          if (toks[k]!.type === 'ident' && toks[k - 1]?.text !== '=' && toks[k - 1]?.text !== '-') break;
          k++;
        }
        if (toks[k]?.text !== ',') break;
        k++;
      }
    } else if (t.text === 'probe') {
      // Scan the point list up to '=', '+=' or the body; record each point's first component.
      const heads: string[] = [];
      let k = i + 1;
      let paren = 0;
      let expectHead = true;
      for (; k < toks.length; k++) {
        const x = toks[k]!;
        if (x.type === 'op' && x.text === '(') paren++;
        else if (x.type === 'op' && x.text === ')') paren--;
        if (paren > 0) continue;
        if (x.type === 'op' && (x.text === '=' || x.text === '+=' || x.text === '{')) break;
        if (expectHead && (x.type === 'ident' || (x.type === 'op' && x.text === '*'))) {
          let head = x.text;
          while (toks[k + 1] && toks[k + 1]!.start === toks[k]!.end && toks[k + 1]!.file === x.file && (toks[k + 1]!.type === 'ident' || toks[k + 1]!.text === '*')) head += toks[++k]!.text;
          heads.push(head);
          expectHead = false;
        }
        if (x.type === 'op' && x.text === ',') expectHead = true;
      }
      if (toks[k]?.text === '=' || toks[k]?.text === '+=') aliasHeads.push(...heads);
      i = k - 1;
    }
  }
  return { functions, globals, aliasHeads };
}

function findStp(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
    }
    if (isDir) out.push(...findStp(p));
    else if (e.name.endsWith('.stp')) out.push(p);
  }
  return out;
}

/** Parses every tapset file and returns the warnings for the ones that fail (what `-p1 -W` turns into errors). */
export function libraryDiagnostics(ctx: Pass1Context): readonly Diagnostic[] {
  const lib = loadLibrary(ctx);
  lib.parseAll();
  return lib.diagnostics;
}
