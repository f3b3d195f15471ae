// Shared by the tapset tests: the tapset files, parsing them as trusted code, and the reference index.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Decl, FunctionDecl, PointPart, Program } from '../../../src/lang/ast.js';
import { parseFile, pass1Context, renderDiagnostics } from '../../../src/lang/pass1.js';
import { SourceFile } from '../../../src/lang/source.js';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const TAPSETS = join(REPO, 'tapsets');
export const SHARED = join(REPO, '../shared');
export const INDEX = join(SHARED, 'reference/tapset-index.tsv');

/** Every file under tapsets/ with the given extension, sorted, as absolute paths. */
export function tapsetFiles(ext: '.stp' | '.stpm'): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith(ext)) out.push(p);
    }
  };
  walk(TAPSETS);
  return out;
}

export const rel = (p: string): string => relative(TAPSETS, p);

export interface Parsed {
  readonly path: string;
  readonly program: Program | undefined;
  readonly errors: string;
}

/** Pass 1 of one tapset file, as trusted (guru) code, with the package's macro library. */
export function parseTapset(path: string, arch = 'x86_64'): Parsed {
  const text = readFileSync(path, 'utf8');
  const ctx = pass1Context({
    scriptArgs: [], includeDirs: [], guru: true,
    kernel: { release: '6.1.0-57-amd64', arch, version: '', buildId: '', vermagic: '' },
  });
  // as pass 2 loads it: a library file (may be empty after preprocessing), trusted
  const r = parseFile(new SourceFile(path, text, true), ctx, 'library');
  const errs = [...ctx.diagnostics, ...r.diagnostics].filter((d) => d.severity === 'error');
  return { path, program: r.program, errors: errs.length ? renderDiagnostics(errs, ctx.sources) : '' };
}

export interface IndexEntry {
  readonly kind: 'function' | 'probe' | 'macro';
  readonly name: string;
  readonly type: string;
  readonly args: string;
  readonly file: string;
}

export function readIndex(): IndexEntry[] {
  return readFileSync(INDEX, 'utf8').split('\n').slice(1).filter(Boolean).map((line) => {
    const [kind, name, type, args, file] = line.split('\t');
    return { kind: kind as IndexEntry['kind'], name: name!, type: type ?? '', args: args ?? '', file: file ?? '' };
  });
}

/** The number of parameters an index function entry takes. */
export function indexArity(e: IndexEntry): number {
  return e.args.trim() === '' ? 0 : e.args.split(',').length;
}

/** Flattens a probe point's components (brace groups expand) to dotted names without arguments. */
export function pointNames(parts: readonly PointPart[]): string[] {
  let acc: string[] = [''];
  for (const p of parts) {
    const alts = p.kind === 'component' ? [[p.name]] : p.alternatives.map((a) => pointNames(a));
    const next: string[] = [];
    for (const prefix of acc) for (const alt of alts) for (const a of alt) next.push(prefix ? `${prefix}.${a}` : a);
    acc = next;
  }
  return acc;
}

export interface Provided {
  readonly functions: Map<string, { decl: FunctionDecl; file: string }[]>;
  readonly aliases: Map<string, string[]>;
  readonly macros: Map<string, string[]>;
}

/** What the tapset directory defines: functions (with overloads), probe alias names and @define macros. */
export function provided(arch = 'x86_64'): Provided {
  const functions = new Map<string, { decl: FunctionDecl; file: string }[]>();
  const aliases = new Map<string, string[]>();
  const macros = new Map<string, string[]>();
  for (const path of tapsetFiles('.stp')) {
    const { program } = parseTapset(path, arch);
    for (const d of (program?.decls ?? []) as Decl[]) {
      if (d.kind === 'function') functions.set(d.name, [...(functions.get(d.name) ?? []), { decl: d, file: rel(path) }]);
      if (d.kind === 'alias') {
        for (const n of d.names) for (const flat of pointNames(n.components)) aliases.set(flat, [...(aliases.get(flat) ?? []), rel(path)]);
      }
    }
  }
  for (const path of [...tapsetFiles('.stpm'), ...tapsetFiles('.stp')]) {
    const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)(#|\/\/).*$/gm, '$1');
    for (const m of text.matchAll(/@define\s+([A-Za-z_]\w*)/g)) {
      if (path.endsWith('.stpm')) macros.set(m[1]!, [...(macros.get(m[1]!) ?? []), rel(path)]);
    }
  }
  return { functions, aliases, macros };
}
