// The tapset library: every file parses, every name is defined once per signature and matches the reference index.
import '../lang/helpers/ensure-parser.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src/lang/pass1.js';
import { indexArity, parseTapset, provided, readIndex, rel, tapsetFiles, TAPSETS } from './helpers/tapsets.js';

const index = readIndex();
const mine = provided();

describe('tapset files parse with pass 1 (trusted code)', () => {
  for (const arch of ['x86_64', 'arm64']) {
    for (const path of tapsetFiles('.stp')) {
      it(`${rel(path)} (${arch})`, () => {
        const r = parseTapset(path, arch);
        expect(r.errors).toBe('');
      });
    }
  }
  it('the .stpm macro files load without complaint', () => {
    const r = parseScript({ text: 'probe begin {}', fileName: 't.stp', scriptArgs: [], includeDirs: [], guru: false, tapsetDirs: [TAPSETS] });
    expect(r.diagnostics.filter((d) => d.severity !== 'warning').map((d) => d.message)).toEqual([]);
  });
  it('every file starts with a one-line comment saying what it is for', () => {
    for (const path of [...tapsetFiles('.stp'), ...tapsetFiles('.stpm')]) {
      expect(readFileSync(path, 'utf8').split('\n')[0], rel(path)).toMatch(/^(\/\/|#) \S/);
    }
  });
});

describe('names are defined once per signature', () => {
  it('functions: one definition per name and arity', () => {
    const dups: string[] = [];
    for (const [name, defs] of mine.functions) {
      const seen = new Map<number, string>();
      for (const d of defs) {
        const a = d.decl.params.length;
        if (seen.has(a)) dups.push(`${name}/${a}: ${seen.get(a)} and ${d.file}`);
        seen.set(a, d.file);
      }
    }
    expect(dups).toEqual([]);
  });
  it('probe aliases: one definition per name', () => {
    expect([...mine.aliases].filter(([, files]) => files.length > 1).map(([n, f]) => `${n}: ${f.join(', ')}`)).toEqual([]);
  });
  it('macros: one definition per name', () => {
    expect([...mine.macros].filter(([, files]) => files.length > 1).map(([n, f]) => `${n}: ${f.join(', ')}`)).toEqual([]);
  });
});

describe('signatures agree with the reference index', () => {
  const indexed = new Map<string, typeof index>();
  for (const e of index) if (e.kind === 'function') indexed.set(e.name, [...(indexed.get(e.name) ?? []), e]);

  it('each provided overload of an indexed function has an indexed arity', () => {
    const bad: string[] = [];
    for (const [name, defs] of mine.functions) {
      const ref = indexed.get(name);
      if (!ref) continue;
      for (const d of defs) {
        if (!ref.some((e) => indexArity(e) === d.decl.params.length)) bad.push(`${name}/${d.decl.params.length} (${d.file})`);
      }
    }
    expect(bad).toEqual([]);
  });
  it('declared return and parameter types match the index where it states them', () => {
    const bad: string[] = [];
    for (const [name, defs] of mine.functions) {
      for (const d of defs) {
        const ref = indexed.get(name)?.find((e) => indexArity(e) === d.decl.params.length);
        if (!ref) continue;
        if ((ref.type === 'long' || ref.type === 'string') && d.decl.returnType !== undefined && d.decl.returnType !== ref.type) {
          bad.push(`${name}: returns ${d.decl.returnType}, index says ${ref.type}`);
        }
        const refTypes = ref.args.split(',').map((a) => a.split(':')[1]?.trim());
        d.decl.params.forEach((p, i) => {
          const t = refTypes[i];
          if ((t === 'long' || t === 'string') && p.type !== undefined && p.type !== t) bad.push(`${name}: parameter ${p.name} is ${p.type}, index says ${t}`);
        });
      }
    }
    expect(bad).toEqual([]);
  });
  it('every public function outside the index is a documented tapsh extra or an internal (__) helper', () => {
    // names the index omits but upstream scripts and corpus tests call (wait-status predicates, syscall decoders)
    const extras = new Set([
      '__tapsh_maxstringlen', 'WIFSIGNALED', 'WCOREDUMP', 'WIFSTOPPED', 'WSTOPSIG', 'WIFCONTINUED', '_ptrace_event_name',
      '_sys_open_mode_str', '_stp_struct_iovec_u', '_stp_struct_compat_iovec_u',
    ]);
    const unknown: string[] = [];
    for (const [name, defs] of mine.functions) {
      if (indexed.has(name) || name.startsWith('__') || extras.has(name)) continue;
      if (defs.every((d) => d.decl.private)) continue;
      unknown.push(`${name} (${defs[0]!.file})`);
    }
    expect(unknown).toEqual([]);
  });
});
