// Pass 2b: probe points → derived probes: brace expansion, alias expansion (with suffixes), built-in families, the kernel model.

import type { AliasDecl, Block, Component, Expr, NumberLit, PointPart, ProbePoint, StringLit } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { fnmatch } from './preprocess.js';
import { printExpr } from './print.js';
import type { KernelModel } from '../remote/model.js';
import { syscallSuffix } from './syscalls.js';

/** A probe point with no brace groups left. */
export type FlatPoint = readonly Component[];

export type ProbeFamily =
  | 'begin' | 'end' | 'error' | 'never' | 'timer' | 'timer.profile'
  | 'kernel.function' | 'kprobe.function' | 'kernel.statement' | 'kernel.trace' | 'procfs';

/** One concrete place a handler attaches, after aliases and wildcards are resolved. */
export interface DerivedProbe {
  /** The resolved point in canonical text, e.g. `kernel.function("vfs_read").return`. */
  readonly point: string;
  readonly family: ProbeFamily;
  /** Family-specific facts the translator needs (function, module, tracepoint, period in ns, priority...). */
  readonly detail: Readonly<Record<string, string | number | boolean>>;
  /** Handler bodies in execution order: alias prologues, the probe's own body, alias epilogues. */
  readonly bodies: readonly Block[];
  /** `if (...)` conditions that must all hold, from the point and any aliases. */
  readonly conditions: readonly Expr[];
  /** The point as written in the probe declaration and the aliases it went through. */
  readonly written: string;
  readonly via: readonly string[];
  /** What `-l` shows, as stap does: the probe alias the written point matched (with its suffix), else the resolved point. */
  readonly listed?: string;
  /** Whether the derived point is a function-return probe (for `@entry`, `$return`). */
  readonly isReturn: boolean;
  /** True when no kernel model was available to check the point against. */
  readonly unverified: boolean;
}

export interface AliasEntry {
  readonly decl: AliasDecl;
  readonly name: FlatPoint;
  /** Library file providing it, or undefined for the user script. */
  readonly file: string | undefined;
}

export interface DeriveContext {
  /** Aliases that may match a point whose first component is `head` (user aliases always included). */
  readonly aliases: (head: string) => readonly AliasEntry[];
  readonly kernel: KernelModel | undefined;
  readonly diagnostics: Diagnostic[];
  /** Called when an alias from a library file is used, so that file joins the program. */
  readonly useAlias: (a: AliasEntry) => void;
}

const MAX_ALIAS_DEPTH = 32;
const MAX_EXPANSION = 20_000;

export function flatten(parts: readonly PointPart[]): FlatPoint[] {
  let acc: Component[][] = [[]];
  for (const p of parts) {
    if (p.kind === 'component') acc = acc.map((a) => [...a, p]);
    else {
      const alts = p.alternatives.flatMap(flatten);
      acc = acc.flatMap((a) => alts.map((alt) => [...a, ...alt]));
    }
  }
  return acc;
}

export function pointText(p: FlatPoint): string {
  return p.map(componentText).join('.');
}

function componentText(c: Component): string {
  if (!c.arg) return c.name;
  return `${c.name}(${c.arg.kind === 'number' ? c.arg.text : JSON.stringify(c.arg.value)})`;
}

function sameArg(a: NumberLit | StringLit | undefined, b: NumberLit | StringLit | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.kind !== b.kind) return false;
  return a.kind === 'number' ? a.value === (b as NumberLit).value : a.value === (b as StringLit).value;
}

/** Does the alias name match the first components of `p`? Wildcards in `p` match alias names. */
function aliasPrefixMatch(name: FlatPoint, p: FlatPoint): boolean {
  if (name.length > p.length) return false;
  return name.every((n, i) => {
    const c = p[i]!;
    const nameOk = c.name.includes('*') ? fnmatch(c.name.replace(/\*\*/g, '*'), n.name) : c.name === n.name;
    return nameOk && sameArg(n.arg, c.arg);
  });
}

/**
 * Derives the probes for one point of a probe declaration. Reports (unless the point is optional)
 * when nothing matches; returns [] then.
 */
export function derivePoint(point: ProbePoint, body: Block, ctx: DeriveContext): DerivedProbe[] {
  const out: DerivedProbe[] = [];
  const local: Diagnostic[] = [];
  const hard: Diagnostic[] = [];
  for (const flat of flatten(point.components)) {
    const base = {
      bodies: [body],
      conditions: point.condition ? [point.condition] : [],
      written: pointText(flat),
      via: [] as string[],
    };
    out.push(...deriveFlat(flat, base, ctx, local, 0, point, hard));
  }
  if (!point.optional) {
    if (out.length === 0) ctx.diagnostics.push(...(local.length ? local : [diag('TS4010', point.span, [printPointText(point)])]));
    else ctx.diagnostics.push(...new Set(hard));
  }
  return out.slice(0, MAX_EXPANSION);
}

function printPointText(p: ProbePoint): string {
  return flatten(p.components).map(pointText).join(', ');
}

interface Partial_ {
  readonly bodies: readonly Block[];
  readonly conditions: readonly Expr[];
  readonly written: string;
  readonly via: readonly string[];
  readonly listed?: string;
}

/**
 * `errs` collects why nothing matched (reported only if the whole point fails); `hard` collects alias
 * targets that failed although not optional: every expansion of an alias must hold, as in stap.
 */
function deriveFlat(flat: FlatPoint, base: Partial_, ctx: DeriveContext, errs: Diagnostic[], depth: number, at: ProbePoint, hard: Diagnostic[]): DerivedProbe[] {
  if (depth > MAX_ALIAS_DEPTH) {
    // Show one turn of the cycle, not the whole unrolled chain.
    const via = base.via;
    const first = via.findIndex((v, i) => via.indexOf(v, i + 1) > i);
    const cycle = first < 0 ? via : via.slice(first, via.indexOf(via[first]!, first + 1) + 1);
    errs.push(diag('TS4011', at.span, [cycle.join(' -> ')]));
    return [];
  }
  // A trailing `**` stands for any further components: every alias under the prefix, whole.
  if (flat.length > 1 && flat[flat.length - 1]!.name === '**' && !flat[flat.length - 1]!.arg) {
    const prefix = flat.slice(0, -1);
    const under = ctx.aliases(prefix[0]!.name).filter((a) => a.name.length > prefix.length && aliasPrefixMatch(prefix, a.name));
    if (under.length > 0) {
      const out: DerivedProbe[] = [];
      // Each name once: deriving a name uses every alias of that name (a name can have several definitions).
      const names = new Map(under.map((a) => [pointText(a.name), a.name]));
      for (const name of names.values()) out.push(...deriveFlat(name, base, ctx, [], depth, at, hard));
      return out;
    }
  }
  // The longest alias name wins: `syscall.open.return` uses its own alias, not `syscall.open` + suffix.
  const prefixMatches = ctx.aliases(flat[0]!.name).filter((a) => aliasPrefixMatch(a.name, flat));
  const longest = Math.max(0, ...prefixMatches.map((a) => a.name.length));
  const matches = prefixMatches.filter((a) => a.name.length === longest);
  if (matches.length > 0) {
    const out: DerivedProbe[] = [];
    /** Optional targets that matched nothing: why an alias can expand to nothing without an error of its own. */
    const quiet: string[] = [];
    for (const a of matches) {
      ctx.useAlias(a);
      const suffix = syscallSuffix(a.file, pointText(a.name), flat.slice(a.name.length));
      const aliasName = pointText(a.name);
      const bodies = a.decl.epilogue ? [...base.bodies, a.decl.body] : [a.decl.body, ...base.bodies];
      targets: for (const target of a.decl.points) {
        for (const tflat of flatten(target.components)) {
          const next: Partial_ = {
            bodies,
            conditions: target.condition ? [...base.conditions, target.condition] : base.conditions,
            written: base.written,
            via: [...base.via, aliasName],
            listed: base.listed ?? pointText([...a.name, ...flat.slice(a.name.length)]),
          };
          const targetErrs: Diagnostic[] = [];
          const derived = deriveFlat([...tflat, ...suffix], next, ctx, targetErrs, depth + 1, at, target.optional ? [] : hard);
          if (derived.length === 0 && !target.optional) {
            errs.push(...targetErrs);
            hard.push(...targetErrs);
          }
          if (derived.length === 0 && target.optional) quiet.push(pointText(tflat));
          out.push(...derived);
          // A sufficient target that matched ends the alias's list: later targets are not tried.
          if (derived.length > 0 && target.sufficient) break targets;
        }
      }
    }
    if (out.length === 0 && errs.length === 0) {
      const why = quiet.length ? `: its optional targets matched nothing (${[...new Set(quiet)].join(', ')})` : '';
      errs.push(diag('TS4012', at.span, [pointText(flat), matches.map((m) => pointText(m.name)).join(', '), why]));
    }
    return out;
  }
  return deriveBuiltin(flat, base, ctx, errs, at);
}

const TIMER_UNITS: Record<string, number> = {
  s: 1e9, sec: 1e9, ms: 1e6, msec: 1e6, us: 1e3, usec: 1e3, ns: 1, nsec: 1, jiffies: -1, hz: -2,
};

/** First components of the built-in families deriveBuiltin knows. */
const BUILTIN_HEADS = new Set(['begin', 'end', 'error', 'never', 'timer', 'kernel', 'module', 'kprobe', 'procfs']);

/** The built-in probe point families, checked component by component. */
function deriveBuiltin(flat: FlatPoint, base: Partial_, ctx: DeriveContext, errs: Diagnostic[], at: ProbePoint): DerivedProbe[] {
  const names = flat.map((c) => c.name);
  const make = (family: ProbeFamily, detail: Record<string, string | number | boolean>, point = pointText(flat), isReturn = false, unverified = false): DerivedProbe => ({
    point, family, detail, bodies: base.bodies, conditions: base.conditions, written: base.written, via: base.via, listed: base.listed, isReturn, unverified,
  });
  const fail = (code: 'TS4010' | 'TS4013' | 'TS4014' | 'TS4015', args: (string | number)[]): DerivedProbe[] => {
    errs.push(diag(code, at.span, args));
    return [];
  };
  if (names.some((n) => n.includes('*'))) {
    // No alias matched: a head that is no built-in family is one tapsh does not have (`netfilter.**`).
    if (!names[0]!.includes('*') && !BUILTIN_HEADS.has(names[0]!) && ctx.aliases(names[0]!).length === 0) return fail('TS4014', [pointText(flat), names[0]!]);
    if (names.some((n) => /\*\*/.test(n))) return fail('TS4013', [pointText(flat), '"**" matches only probe alias names']);
    // Expand wildcards over the built-in vocabulary; expansions that fail are dropped, as for optional points.
    const out: DerivedProbe[] = [];
    for (const concrete of expandWildcards(flat)) out.push(...deriveBuiltin(concrete, base, ctx, [], at));
    if (out.length === 0) return fail('TS4010', [pointText(flat)]);
    return out;
  }
  const head = flat[0]!;
  const numArg = (c: Component | undefined): bigint | undefined => (c?.arg?.kind === 'number' && c.arg.value !== null ? c.arg.value : undefined);
  const strArg = (c: Component | undefined): string | undefined => (c?.arg?.kind === 'string' ? c.arg.value : undefined);

  // begin / end / error [(priority)], never
  if (['begin', 'end', 'error', 'never'].includes(head.name)) {
    if (flat.length > 1) return fail('TS4013', [pointText(flat), `'${head.name}' takes no further components`]);
    if (head.arg && (head.name === 'never' || head.arg.kind !== 'number')) return fail('TS4013', [pointText(flat), `'${head.name}' takes ${head.name === 'never' ? 'no' : 'a numeric priority'} argument`]);
    return [make(head.name as ProbeFamily, { priority: Number(numArg(head) ?? 0n) })];
  }

  if (head.name === 'timer') {
    const unit = flat[1];
    if (!unit) return fail('TS4013', [pointText(flat), 'expected timer.s(N), timer.ms(N), ..., timer.hz(N) or timer.profile']);
    if (unit.name === 'profile' && !unit.arg) {
      // timer.profile[.tick] fires on every scheduler tick; timer.profile.freq.hz(N) samples at N Hz.
      const rest = flat.slice(2);
      if (rest.length === 0 || (rest.length === 1 && rest[0]!.name === 'tick' && !rest[0]!.arg)) return [make('timer.profile', {})];
      const hz = numArg(rest[1]);
      if (rest.length === 2 && rest[0]!.name === 'freq' && !rest[0]!.arg && rest[1]!.name === 'hz' && hz !== undefined && hz > 0n) {
        return [make('timer.profile', { hz: Number(hz) })];
      }
      return fail('TS4013', [pointText(flat), 'expected timer.profile, timer.profile.tick or timer.profile.freq.hz(N)']);
    }
    const scale = TIMER_UNITS[unit.name];
    const n = numArg(unit);
    if (scale === undefined || n === undefined || n <= 0n) return fail('TS4013', [pointText(flat), 'expected a positive interval, e.g. timer.ms(100)']);
    const detail: Record<string, string | number | boolean> = { unit: unit.name, interval: Number(n) };
    const rest = flat.slice(2);
    if (rest.length === 1 && rest[0]!.name === 'randomize' && unit.name !== 'hz' && numArg(rest[0]) !== undefined) detail.randomize = Number(numArg(rest[0]));
    else if (rest.length > 0) return fail('TS4013', [pointText(flat), `'${rest[0]!.name}' is not a timer suffix`]);
    return [make('timer', detail)];
  }

  if (head.name === 'kernel' || head.name === 'module' || head.name === 'kprobe') {
    return deriveFunctionFamily(flat, make, fail, ctx, numArg, strArg);
  }

  if (head.name === 'procfs') return deriveProcfs(flat, make, fail);

  // A family some aliases start with, but none of them matched: no match, not an unknown family.
  if (ctx.aliases(head.name).length > 0) return fail('TS4010', [pointText(flat)]);
  return fail('TS4014', [pointText(flat), head.name]);
}

/** procfs[("PATH")][.umask(N)].read[.maxsize(N)] | .write: files under the module's procfs directory. */
function deriveProcfs(flat: FlatPoint, make: Maker, fail: Failer): DerivedProbe[] {
  const head = flat[0]!;
  if (head.arg && head.arg.kind !== 'string') return fail('TS4013', [pointText(flat), 'procfs takes a path string']);
  const path = head.arg?.kind === 'string' ? head.arg.value : 'command';
  if (path === '' || path.startsWith('/') || path.endsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    return fail('TS4013', [pointText(flat), `bad procfs path "${path}": use relative components without '.', '..' or empty parts`]);
  }
  let i = 1;
  let umask: number | undefined;
  if (flat[i]?.name === 'umask') {
    const u = flat[i]!.arg;
    if (!u || u.kind !== 'number' || u.value === null || u.value < 0n || u.value > 0o777n) return fail('TS4013', [pointText(flat), 'umask takes a number between 0 and 0777']);
    umask = Number(u.value);
    i++;
  }
  const op = flat[i];
  if (!op || op.arg || (op.name !== 'read' && op.name !== 'write')) return fail('TS4013', [pointText(flat), 'expected .read or .write']);
  const detail: Record<string, string | number | boolean> = { path, access: op.name, ...(umask !== undefined ? { umask } : {}) };
  const rest = flat.slice(i + 1);
  if (rest.length === 1 && op.name === 'read' && rest[0]!.name === 'maxsize') {
    const n = rest[0]!.arg;
    if (!n || n.kind !== 'number' || n.value === null || n.value <= 0n) return fail('TS4013', [pointText(flat), 'maxsize takes a positive number']);
    detail.maxsize = Number(n.value);
  } else if (rest.length > 0) return fail('TS4013', [pointText(flat), `'${rest[0]!.name}' is not a procfs suffix`]);
  return [make('procfs', detail)];
}

/** The names built-in probe points are made of, as a tree, for expanding wildcards like `kernel.func*.*`. */
interface Vocab {
  readonly [name: string]: Vocab;
}
const FUNCTION_SUFFIXES: Vocab = { call: {}, exported: {}, inline: {}, return: { maxactive: {} } };
const KPROBE_SUFFIXES: Vocab = { call: {}, return: { maxactive: {} } };
const TIMER_SUFFIX: Vocab = { randomize: {} };
const VOCABULARY: Vocab = {
  begin: {}, end: {}, error: {}, never: {},
  timer: {
    s: TIMER_SUFFIX, sec: TIMER_SUFFIX, ms: TIMER_SUFFIX, msec: TIMER_SUFFIX, us: TIMER_SUFFIX, usec: TIMER_SUFFIX,
    ns: TIMER_SUFFIX, nsec: TIMER_SUFFIX, jiffies: TIMER_SUFFIX, hz: {}, profile: { tick: {}, freq: { hz: {} } },
  },
  kernel: { function: FUNCTION_SUFFIXES, statement: { absolute: {}, nearest: {} }, trace: {} },
  module: { function: FUNCTION_SUFFIXES, statement: { absolute: {}, nearest: {} } },
  kprobe: { function: KPROBE_SUFFIXES, module: { function: KPROBE_SUFFIXES }, statement: { absolute: {} } },
  procfs: { read: { maxsize: {} }, write: {}, umask: { read: { maxsize: {} }, write: {} } },
};

/** All concrete points a wildcarded point names in the built-in vocabulary (arguments are kept). */
function expandWildcards(flat: FlatPoint): FlatPoint[] {
  const out: FlatPoint[] = [];
  const walk = (i: number, node: Vocab, acc: Component[]): void => {
    if (i === flat.length) {
      out.push(acc);
      return;
    }
    const c = flat[i]!;
    for (const name of Object.keys(node)) {
      if (c.name.includes('*') ? fnmatch(c.name, name) : c.name === name) walk(i + 1, node[name]!, [...acc, { ...c, name }]);
    }
  };
  walk(0, VOCABULARY, []);
  return out;
}

type Maker = (family: ProbeFamily, detail: Record<string, string | number | boolean>, point?: string, isReturn?: boolean, unverified?: boolean) => DerivedProbe;
type Failer = (code: 'TS4010' | 'TS4013' | 'TS4014' | 'TS4015', args: (string | number)[]) => DerivedProbe[];

/** kernel.function / module().function / kprobe.* / kernel.statement / kernel.trace. */
function deriveFunctionFamily(
  flat: FlatPoint, make: Maker, fail: Failer, ctx: DeriveContext,
  numArg: (c: Component | undefined) => bigint | undefined, strArg: (c: Component | undefined) => string | undefined,
): DerivedProbe[] {
  let i = 0;
  const kprobe = flat[0]!.name === 'kprobe';
  if (kprobe) i++;
  let module = '';
  if (flat[i]?.name === 'kernel' && !flat[i]!.arg && !kprobe) i++;
  else if (flat[i]?.name === 'module') {
    const m = strArg(flat[i]);
    if (m === undefined) return fail('TS4013', [pointText(flat), 'module() takes a string']);
    module = m;
    i++;
  } else if (!kprobe) return fail('TS4014', [pointText(flat), flat[0]!.name]);

  const what = flat[i];
  if (!what) return fail('TS4013', [pointText(flat), 'expected .function("NAME")']);
  if (what.name === 'trace' || what.name === 'tracepoint') {
    if (kprobe || module) return fail('TS4013', [pointText(flat), 'tracepoints are kernel.trace("SYSTEM:EVENT")']);
    const pattern = strArg(what);
    if (pattern === undefined || flat.length > i + 1) return fail('TS4013', [pointText(flat), 'expected kernel.trace("SYSTEM:EVENT")']);
    return deriveTracepoints(pattern, make, fail, ctx, pointText(flat));
  }
  if (what.name === 'statement') {
    const addr = numArg(what);
    const sym = strArg(what);
    if (addr === undefined && sym === undefined) return fail('TS4013', [pointText(flat), 'statement() takes an address or "function@file:line"']);
    const rest = flat.slice(i + 1).map((c) => c.name);
    if (rest.some((r) => r !== 'absolute' && r !== 'nearest')) return fail('TS4013', [pointText(flat), 'statement suffixes are .absolute and .nearest']);
    if (sym !== undefined) return fail('TS4015', [pointText(flat), 'source-line statement probes need debuginfo']);
    return [make('kernel.statement', { address: String(addr), module, absolute: rest.includes('absolute') }, undefined, false, true)];
  }
  if (what.name !== 'function') return fail('TS4013', [pointText(flat), `unknown probe point component '${what.name}'`]);
  const pattern = strArg(what);
  if (pattern === undefined) return fail('TS4013', [pointText(flat), 'function() takes a string pattern']);

  // Suffixes: .call | .exported | .inline | .return [.maxactive(N)]
  let isReturn = false;
  let maxactive: number | undefined;
  const suffixes: string[] = [];
  for (const c of flat.slice(i + 1)) {
    if (c.name === 'maxactive') {
      const n = numArg(c);
      if (!isReturn) return fail('TS4013', [pointText(flat), '.maxactive(N) only follows .return']);
      if (n === undefined || n <= 0n || n > 100_000n) return fail('TS4013', [pointText(flat), 'maxactive must be between 1 and 100000']);
      maxactive = Number(n);
      continue;
    }
    if (c.arg || !['call', 'return', 'exported', 'inline'].includes(c.name) || suffixes.includes(c.name)) {
      return fail('TS4013', [pointText(flat), `'${c.name}' is not a function probe suffix`]);
    }
    if (kprobe && (c.name === 'exported' || c.name === 'inline')) return fail('TS4013', [pointText(flat), `kprobe probes take no .${c.name}`]);
    if (c.name === 'return') isReturn = true;
    suffixes.push(c.name);
  }
  if (suffixes.includes('return') && (suffixes.includes('call') || suffixes.includes('inline'))) {
    return fail('TS4013', [pointText(flat), '.return cannot be combined with .call or .inline']);
  }
  if (suffixes.includes('inline')) return fail('TS4015', [pointText(flat), 'inline-instance probes need debuginfo']);

  const [namePattern, where] = splitFunctionPattern(pattern);
  if (where !== undefined && kprobe) return fail('TS4013', [pointText(flat), 'kprobe.function takes a plain symbol name']);
  // Without debuginfo the kernel model knows names, not source files: "name@file" is matched by name,
  // but choosing functions *by* file or line cannot be honoured.
  if (where !== undefined && (/[*?[]/.test(namePattern) || where.includes(':'))) {
    return fail('TS4015', [pointText(flat), 'selecting functions by source file or line needs debuginfo']);
  }
  const family: ProbeFamily = kprobe ? 'kprobe.function' : 'kernel.function';
  const suffixText = flat.slice(i + 1).map(componentText).map((s) => '.' + s).join('');
  const prefix = kprobe ? (module ? `kprobe.module(${JSON.stringify(module)})` : 'kprobe') : module ? `module(${JSON.stringify(module)})` : 'kernel';
  const detailFor = (fn: string): Record<string, string | number | boolean> => ({
    function: fn, module, ...(maxactive !== undefined ? { maxactive } : {}), ...(suffixes.includes('exported') ? { exported: true } : {}),
  });
  if (!ctx.kernel) return [make(family, detailFor(namePattern), `${prefix}.function(${JSON.stringify(pattern)})${suffixText}`, isReturn, true)];

  const found: string[] = [];
  const wild = /[*?[]/.test(namePattern);
  const modPattern = module || '';
  for (const f of ctx.kernel.functions.values()) {
    if (module === '' ? f.module !== '' : !fnmatch(modPattern, f.module)) continue;
    if (suffixes.includes('exported') && !f.traceable) continue;
    if (wild ? fnmatch(namePattern, f.name) : f.name === namePattern) found.push(f.name);
  }
  if (found.length === 0) {
    const near = nearMatches(namePattern, [...ctx.kernel.functions.keys()]);
    return fail('TS4010', [pointText(flat) + (near.length ? ` (did you mean: ${near.join(', ')}?)` : '')]);
  }
  found.sort();
  return found.slice(0, MAX_EXPANSION).map((fn) => make(family, detailFor(fn), `${prefix}.function(${JSON.stringify(fn)})${suffixText}`, isReturn));
}

/** "name@file:line" → name and the location part (which needs debuginfo to honour). */
function splitFunctionPattern(p: string): [string, string | undefined] {
  const at = p.indexOf('@');
  return at < 0 ? [p, undefined] : [p.slice(0, at), p.slice(at + 1)];
}

function deriveTracepoints(pattern: string, make: Maker, fail: Failer, ctx: DeriveContext, text: string): DerivedProbe[] {
  const [sys, ev] = pattern.includes(':') ? [pattern.slice(0, pattern.indexOf(':')), pattern.slice(pattern.indexOf(':') + 1)] : ['*', pattern];
  if (!ctx.kernel) return [make('kernel.trace', { system: sys, event: ev }, `kernel.trace(${JSON.stringify(pattern)})`, false, true)];
  const found = [...ctx.kernel.tracepoints.values()].filter((t) => fnmatch(sys, t.system) && fnmatch(ev, t.event));
  if (found.length === 0) {
    const near = nearMatches(pattern, [...ctx.kernel.tracepoints.keys()]);
    return fail('TS4010', [text + (near.length ? ` (did you mean: ${near.join(', ')}?)` : '')]);
  }
  found.sort((a, b) => (a.system + ':' + a.event < b.system + ':' + b.event ? -1 : 1));
  return found.map((t) => make('kernel.trace', { system: t.system, event: t.event }, `kernel.trace(${JSON.stringify(t.system + ':' + t.event)})`));
}

/** How a tracepoint field reads in a script: char arrays and `__data_loc char[]` are strings, the rest numbers. */
export function tracepointFieldType(decl: string): 'long' | 'string' {
  return /\bchar\b[^*]*\[/.test(decl) ? 'string' : 'long';
}

/** Up to three names closest to `want` by edit distance (ignoring wildcards), for "did you mean". */
export function nearMatches(want: string, names: readonly string[]): string[] {
  const w = want.replace(/[*?[\]]/g, '');
  if (!w) return [];
  const scored: [number, string][] = [];
  for (const n of names) {
    if (Math.abs(n.length - w.length) > 3) continue;
    const d = editDistance(w, n);
    if (d <= Math.max(2, Math.floor(w.length / 4))) scored.push([d, n]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  return scored.slice(0, 3).map((s) => s[1]);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Condition text for -p2 output. */
export function conditionText(e: Expr): string {
  return printExpr(e);
}
