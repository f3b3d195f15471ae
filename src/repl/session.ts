// The live session engine (SESSION.md): a core module on the target, one small handler module per entry.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BuildTree } from '../build/buildtree.js';
import { ccflags, compilerIdentity, runtimeDigest } from '../build/module-cache.js';
import { kbuild, KbuildError } from '../build/kbuild.js';
import { mapCErrors, renderCErrors } from '../build/cerrors.js';
import type { ExternalGlobal, Resolved, Ty } from '../lang/elaborate.js';
import { renderDiagnostics } from '../lang/pass1.js';
import { elaborateScript, type ElaborateScriptInput } from '../lang/pass2.js';
import type { KernelModel } from '../remote/model.js';
import type { LiveStream, Target } from '../remote/target.js';
import { shellQuote } from '../remote/target.js';
import { RecordDecoder, RecordKind } from '../run/records.js';
import { translate } from '../translate/translate.js';
import { cacheDir } from '../util/cache.js';
import type { EntryInfo, EntryKind, SessionEngine, SessionSink, SessionStatus, SubmitOutcome } from './engine.js';

export interface LiveSessionOptions {
  target: Target;
  tree: BuildTree;
  model?: KernelModel;
  sink: SessionSink;
  defines?: string[];
  /** Front-end settings shared by every entry (tapset dirs, guru mode, ...). */
  frontEnd: Omit<ElaborateScriptInput, 'text' | 'fileName' | 'unoptimized' | 'suppressWarnings' | 'warningsAreErrors' | 'kernelModel' | 'externalGlobals'>;
}

interface Entry extends EntryInfo {
  /** Loaded handler module, when the entry has one. */
  module?: string;
  /** Functions it defines (by name) and calls. */
  defines: string[];
}

interface SessionGlobal extends ExternalGlobal {
  declaredIn: number;
}

/** Builds the core once per kernel tree, -D set and runtime: the runtime with every entry point exported. */
export async function buildCore(tree: BuildTree, defines: string[]): Promise<{ ko: string; symvers: string }> {
  const key = createHash('sha256')
    .update(['tapsh-core v1', runtimeDigest(), tree.release, tree.utsVersion, tree.vermagic, compilerIdentity(tree), [...defines].sort().join('\n')].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const dir = join(cacheDir('core'), key);
  const ko = join(dir, 'tapsh_core.ko');
  const symvers = join(dir, 'Module.symvers');
  if (existsSync(ko) && existsSync(symvers)) return { ko, symvers };
  const work = `${dir}.build-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'tapsh_core.c'), '#define TAP_CORE 1\n#include "tap_runtime.c"\n');
  writeFileSync(join(work, 'Kbuild'), `obj-m += tapsh_core.o\nccflags-y += ${ccflags(defines)}\n`);
  try {
    await kbuild(tree, work, 'tapsh_core');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(work, 'Module.symvers'), symvers);
    copyFileSync(join(work, 'tapsh_core.ko'), `${ko}.tmp`);
    renameSync(`${ko}.tmp`, ko);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ko, symvers };
}

/** Builds one entry's handler module against the core's exported symbols. */
async function buildHandler(tree: BuildTree, core: { symvers: string }, name: string, c: string, defines: string[]): Promise<string> {
  const dir = join(cacheDir('session'), `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.c`), c);
  writeFileSync(join(dir, 'Kbuild'), `obj-m += ${name}.o\nccflags-y += ${ccflags(defines)}\nKBUILD_EXTRA_SYMBOLS := ${core.symvers}\n`);
  try {
    await kbuild(tree, dir, name, [`KBUILD_EXTRA_SYMBOLS=${core.symvers}`]);
  } catch (e) {
    if (e instanceof KbuildError) {
      const mapped = renderCErrors(mapCErrors(e.log, join(dir, `${name}.c`), c));
      throw new KbuildError(e.log, mapped || e.message);
    }
    throw e;
  }
  return join(dir, `${name}.ko`);
}

/** What pass 2 tells about an entry's globals, to check against the session's. */
function globalsOf(r: Resolved): Map<string, { value: Ty; keys: Ty[] }> {
  const out = new Map<string, { value: Ty; keys: Ty[] }>();
  for (const g of r.globals) {
    if (g.file !== undefined) continue; // tapset globals stay the tapset's
    if (g.reads + g.writes === 0) continue; // declared by the session prelude, not used here
    const t = r.types.vars.get(g);
    out.set(g.name, { value: t?.value ?? 'long', keys: (t?.keys ?? []).map((k) => k ?? 'long') });
  }
  return out;
}

function kindOf(text: string, r: Resolved | undefined, wrapped: boolean): EntryKind {
  if (wrapped) return 'statement';
  if (r && r.probes.length) return 'probe';
  if (/^\s*function\b/.test(text)) return 'function';
  return 'global';
}

export class LiveSession implements SessionEngine {
  private readonly entries: Entry[] = [];
  private readonly sessionGlobals = new Map<string, SessionGlobal>();
  private readonly functions = new Map<string, { entry: number; text: string }>();
  /** Globals declared by `global` entries whose type no use has fixed yet. */
  private readonly declared = new Set<string>();
  private next = 1;
  private core!: { ko: string; symvers: string };
  /** The core's module name is fixed when it is built (cached per kernel): one session per target at a time. */
  private readonly coreName = 'tapsh_core';
  private readonly tag = randomBytes(3).toString('hex');
  private stream: LiveStream | undefined;
  private status: SessionStatus;
  private disarmed = false;

  private constructor(private readonly o: LiveSessionOptions) {
    this.status = { target: o.target.name, release: o.tree.release, armed: 0, hitsPerSecond: 0, dropped: 0, disarmed: false };
  }

  /** Builds (cached) and loads the core, arms it and starts reading its output. */
  static async start(o: LiveSessionOptions): Promise<LiveSession> {
    const s = new LiveSession(o);
    s.core = await buildCore(o.tree, o.defines ?? []);
    await s.load(s.coreName, readFileSync(s.core.ko));
    const decoder = new RecordDecoder();
    s.stream = o.target.stream(`echo start > /proc/${s.coreName}/ctl 2>/dev/null; exec cat /proc/${s.coreName}/data`);
    const debug = !!process.env['TAPSH_DEBUG'];
    s.stream.stderr.on('data', (b: Buffer) => debug && process.stderr.write(`[core stream] ${b.toString()}`));
    s.stream.stdout.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (debug) process.stderr.write(`[core record] kind ${r.kind} ${JSON.stringify(r.payload.toString("latin1"))}\n`);
        switch (r.kind) {
          case RecordKind.Output:
            o.sink.output(undefined, r.payload.toString('utf8'));
            break;
          case RecordKind.Warning:
            o.sink.warning(r.payload.toString('utf8'));
            break;
          case RecordKind.Error:
            o.sink.error(r.payload.toString('utf8'));
            break;
          default:
            // Tagged output (kind 8 and up, SESSION.md): entry number first.
            if (r.kind >= 8 && r.payload.length >= 4) o.sink.output(r.payload.readUInt32LE(0), r.payload.subarray(4).toString('utf8'));
        }
      }
    });
    // Handlers can attach once the core runs (it refuses with EAGAIN before `start` is done).
    for (let i = 0; i < 100; i++) {
      const st = (await o.target.run(`cat /proc/${s.coreName}/ctl`, { allowFailure: true })).stdout.toString();
      if (/^state=RUNNING$/m.test(st)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    o.sink.status(s.status);
    return s;
  }

  private async load(name: string, ko: Uint8Array): Promise<void> {
    const dir = `/tmp/${name}`;
    const r = await this.o.target.run(`umask 077 && mkdir -p ${dir} && cat > ${dir}/${name}.ko && insmod ${dir}/${name}.ko; rc=$?; rm -rf ${dir}; exit $rc`, {
      input: ko,
      allowFailure: true,
      timeoutMs: 120_000,
    });
    if (r.code !== 0) throw new Error(`could not load ${name}: ${r.stderr.toString().trim() || `insmod exit ${r.code}`}`);
  }

  private functionText(except: readonly string[] = []): string {
    return [...this.functions.entries()].filter(([n]) => !except.includes(n)).map(([, f]) => f.text).join('\n');
  }

  async submit(text: string): Promise<SubmitOutcome> {
    const id = this.next;
    const declared = [...new Set([...this.sessionGlobals.keys(), ...this.declared])];
    const prelude = (declared.length ? `global ${declared.join(', ')}\n` : '');
    const newFunctions = [...text.matchAll(/\bfunction\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
    const attempt = (body: string) =>
      elaborateScript({
        ...this.o.frontEnd,
        text: `${prelude}${this.functionText(newFunctions)}\n${body}\n`,
        fileName: `entry ${id}`,
        // Optimized like a script: globals and functions this entry does not use are not its own.
        unoptimized: false,
        suppressWarnings: true,
        warningsAreErrors: false,
        kernelModel: this.o.model,
      });
    let wrapped = false;
    let r = attempt(text);
    // Not declarations? Then a statement list run once: `print(@hist_log(lat))`, `delete cnt`.
    if (!r.resolved && r.diagnostics.some((d) => d.message.startsWith('parse error'))) {
      const w = attempt(`probe begin {\n${text}\n}`);
      if (w.resolved) {
        r = w;
        wrapped = true;
      }
    }
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (!r.resolved && errors.length && errors.every((d) => d.code === 'TS4060')) {
      // Only declarations (globals, functions): nothing to load yet; later entries see them.
      const names = [...text.matchAll(/\bglobal\s+([^;{}\n]+)/g)].flatMap((m) => m[1]!.split(',').map((x) => x.trim().split(/[\s=[]/)[0]!)).filter(Boolean);
      for (const n of names) if (!this.sessionGlobals.has(n)) this.declared.add(n);
      const fns = [...text.matchAll(/\bfunction\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
      const id = this.next++;
      for (const f of fns) this.functions.set(f, { entry: id, text });
      this.entries.push({ id, text, kind: fns.length ? 'function' : 'global', state: 'done', hits: 0, errors: 0, defines: fns });
      return { id, diagnostics: '' };
    }
    if (!r.resolved) {
      return { diagnostics: renderDiagnostics(errors, r.sources) };
    }
    // A global already in the session must keep its type.
    for (const [name, t] of globalsOf(r.resolved)) {
      const known = this.sessionGlobals.get(name);
      if (known && (known.value !== t.value || known.keys.join() !== t.keys.join())) {
        const where = text.indexOf(name);
        return {
          diagnostics: `semantic error: global '${name}' is a ${describeType(known)} in this session (entry ${known.declaredIn}) but this entry uses it as a ${describeType(t)}\n` +
            (where >= 0 ? `     source: ${text.split('\n')[text.slice(0, where).split('\n').length - 1]}\n` : ''),
        };
      }
    }
    if (process.env['TAPSH_DEBUG']) process.stderr.write(`[session] entry ${id}: ${r.resolved.probes.length} probes, wrapped=${wrapped}\n`);
    this.next++;
    for (const [name, t] of globalsOf(r.resolved)) if (!this.sessionGlobals.has(name)) this.sessionGlobals.set(name, { ...t, declaredIn: id });
    for (const f of newFunctions) this.functions.set(f, { entry: id, text });
    const entry: Entry = { id, text, kind: kindOf(text, r.resolved, wrapped), state: 'armed', hits: 0, errors: 0, defines: newFunctions };
    if (r.resolved.probes.length) {
      const t = translate(r.resolved, { moduleName: `tapsh_e${id}`, scriptName: `entry ${id}`, kernel: this.o.model, sources: r.sources, session: { entry: id } });
      if (t.problems.length) {
        this.next--;
        return { diagnostics: t.problems.map((p) => `semantic error: ${p.message}\n`).join('') };
      }
      const name = `tapsh_e${id}_${this.tag}`;
      try {
        const ko = await buildHandler(this.o.tree, this.core, name, t.c, this.o.defines ?? []);
        try {
          await this.load(name, readFileSync(ko));
        } finally {
          rmSync(dirname(ko), { recursive: true, force: true }); // the build directory has served
        }
      } catch (e) {
        // Nothing was loaded: the entry does not exist, the session goes on.
        this.next--;
        const why = e instanceof KbuildError ? e.message : (e as Error).message;
        return { diagnostics: `entry not loaded: ${why}\n${/Invalid argument/.test(why) ? '(a global is used with another shape than the session gave it, e.g. @hist_linear bounds)\n' : ''}` };
      }
      entry.module = name;
      if (wrapped) {
        // A statement list ran once, in its begin probe, while attaching: its module can go.
        await this.o.target.run(`rmmod ${name}`, { allowFailure: true, timeoutMs: 60_000 });
        entry.module = undefined;
        entry.state = 'done';
      }
    }
    this.entries.push(entry);
    this.status = { ...this.status, armed: this.entries.filter((e) => e.module && e.state === 'armed').length };
    this.o.sink.status(this.status);
    return { id, diagnostics: '' };
  }

  list(): EntryInfo[] {
    return this.entries.map(({ module: _m, defines: _d, ...info }) => info);
  }

  async remove(id: number | 'all'): Promise<string> {
    const victims = id === 'all' ? [...this.entries] : this.entries.filter((e) => e.id === id);
    if (victims.length === 0) return `There is no entry ${id}. Type list to see them.\n`;
    for (const e of victims) {
      if (e.module) await this.o.target.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
      this.entries.splice(this.entries.indexOf(e), 1);
    }
    this.status = { ...this.status, armed: this.entries.filter((e) => e.module && e.state === 'armed').length };
    this.o.sink.status(this.status);
    return id === 'all' ? 'Deleted every entry; globals keep their values.\n' : `Deleted entry ${id}; globals keep their values.\n`;
  }

  private async ctl(cmd: string): Promise<void> {
    await this.o.target.run(`echo ${shellQuote(cmd)} > /proc/${this.coreName}/ctl`, { allowFailure: true, timeoutMs: 30_000 });
  }

  async disable(id: number): Promise<string> {
    const e = this.entries.find((x) => x.id === id);
    if (!e) return `There is no entry ${id}.\n`;
    await this.ctl(`disable ${id}`);
    e.state = 'disabled';
    return `Entry ${id} disabled.\n`;
  }

  async enable(id: number): Promise<string> {
    const e = this.entries.find((x) => x.id === id);
    if (!e) return `There is no entry ${id}.\n`;
    await this.ctl(`enable ${id}`);
    e.state = 'armed';
    return `Entry ${id} enabled.\n`;
  }

  async replace(id: number, text: string): Promise<SubmitOutcome> {
    await this.remove(id);
    return this.submit(text);
  }

  script(): string {
    const globals = [...this.sessionGlobals.keys()];
    const lines = [`# tapsh session saved ${new Date().toISOString()}`];
    if (globals.length) lines.push(`global ${globals.join(', ')}`);
    for (const e of this.entries) {
      if (e.kind === 'global') continue;
      if (e.kind === 'statement') lines.push(`# entry ${e.id} (ran once): ${e.text.replace(/\n/g, '\n# ')}`);
      else lines.push(e.text);
    }
    return lines.join('\n') + '\n';
  }

  async globals(): Promise<string> {
    const r = await this.o.target.run(`echo globals > /proc/${this.coreName}/ctl; cat /proc/${this.coreName}/ctl`, { allowFailure: true });
    return r.stdout.toString() || [...this.sessionGlobals].map(([n, g]) => `${n}: ${describeType(g)}\n`).join('');
  }

  async reset(): Promise<string> {
    await this.ctl('reset');
    return 'Globals cleared.\n';
  }

  async disarm(): Promise<string> {
    await this.ctl('disarm');
    this.disarmed = true;
    this.status = { ...this.status, disarmed: true, armed: 0 };
    this.o.sink.status(this.status);
    return 'Disarmed: every probe is unregistered. Quit to unload.\n';
  }

  targets(): string {
    return `${this.o.target.name}: kernel ${this.o.tree.release}, core module ${this.coreName}\n`;
  }

  options(): string {
    return `defines: ${(this.o.defines ?? []).join(' ') || '(none)'}\nguru_mode: ${this.o.frontEnd.guru ? 1 : 0}\n`;
  }

  setOption(name: string): string {
    return `Option ${name} cannot be changed in a running session yet.\n`;
  }

  names(): ReadonlySet<string> {
    return new Set([...this.sessionGlobals.keys(), ...this.functions.keys()]);
  }

  complete(prefix: string): string[] {
    const m = this.o.model;
    const out: string[] = [];
    const fn = /kernel\.function\("([^"]*)$/.exec(prefix);
    if (fn && m) for (const f of m.functions.keys()) if (f.startsWith(fn[1]!) && out.length < 200) out.push(`kernel.function("${f}")`);
    const tp = /kernel\.trace\("([^"]*)$/.exec(prefix);
    if (tp && m) for (const t of m.tracepoints.keys()) if (t.startsWith(tp[1]!) && out.length < 200) out.push(`kernel.trace("${t}")`);
    if (!fn && !tp) for (const n of this.names()) if (n.startsWith(prefix)) out.push(n);
    return out.map((c) => prefix.slice(0, prefix.length - (fn?.[0].length ?? tp?.[0].length ?? prefix.length)) + c);
  }

  /** End probes, drain, unload every handler, then the core. Safe to call twice. */
  async quit(): Promise<void> {
    if (!this.disarmed) await this.ctl('exit');
    const drained = this.stream ? this.stream.exited : Promise.resolve(0);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 30_000))]);
    for (const e of [...this.entries].reverse()) if (e.module) await this.o.target.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
    await this.o.target.run(`rmmod ${this.coreName}`, { allowFailure: true, timeoutMs: 60_000 });
    await this.stream?.close();
  }
}

function describeType(t: { value: Ty; keys: readonly Ty[] }): string {
  return t.keys.length ? `array [${t.keys.join(', ')}] of ${t.value}` : t.value;
}
