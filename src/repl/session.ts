// The live session engine (SESSION.md): a core module on the target, one small handler module per entry.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BuildTree } from '../build/buildtree.js';
import { buildModule, ccflags, compilerIdentity, runtimeDigest, runtimeObject, stripDebug } from '../build/module-cache.js';
import { ensurePch, loadRecipe, recipeKey, runRecipe } from '../build/fastbuild.js';
import { kbuild, KbuildError } from '../build/kbuild.js';
import { mapCErrors, renderCErrors } from '../build/cerrors.js';
import type { ExternalGlobal, Resolved, Ty } from '../lang/elaborate.js';
import { renderDiagnostics } from '../lang/pass1.js';
import { elaborateScript, listProbePoints, type ElaborateScriptInput } from '../lang/pass2.js';
import type { KernelModel } from '../remote/model.js';
import type { LiveStream, Target } from '../remote/target.js';
import { shellQuote, TargetError } from '../remote/target.js';
import { ModuleState, RecordDecoder, RecordKind, stateOf } from '../run/records.js';
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

/** How long each step of an entry took, for the benchmark and `set verbose`. */
export interface EntryTimings {
  /** Passes 1-3: parse, elaborate against the session, translate. */
  frontMs: number;
  /** Host-side build of the handler module. */
  compileMs: number;
  transferLoadMs: number;
  /** The build replayed kbuild's recipe (no make). */
  fast: boolean;
}

/**
 * Builds one entry's handler module against the core's exported symbols: with the pass-4 recipe
 * (the compiler, objtool, modpost and ld commands kbuild would run, no make) when one has been
 * learned for this tree and -D set, else through make.
 */
async function buildHandler(tree: BuildTree, core: { symvers: string }, name: string, c: string, defines: string[], signal?: AbortSignal): Promise<{ ko: string; fast: boolean }> {
  const dir = join(cacheDir('session'), `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const compileError = (log: string, unit: string) => new KbuildError(log, renderCErrors(mapCErrors(log, join(dir, unit), c)) || `the handler module did not build:\n${log.slice(-2000)}`);
  const recipe = loadRecipe(recipeKey(tree, await runtimeObject(tree, defines)));
  if (recipe) {
    writeFileSync(join(dir, 'tapsh_script.c'), c);
    const [unit, mod] = await Promise.all([ensurePch(recipe, tree, 'unit'), ensurePch(recipe, tree, 'mod')]);
    const r = await runRecipe(recipe, tree, dir, name, { coreSymvers: core.symvers }, { unit, mod }, signal);
    if (signal?.aborted) throw new CancelledError();
    if (r.ok) {
      // Only the code is loaded: without debug info the upload is a few kilobytes.
      await stripDebug(join(dir, `${name}.ko`));
      return { ko: join(dir, `${name}.ko`), fast: true };
    }
    if (mapCErrors(r.log, join(dir, 'tapsh_script.c'), c).some((e) => e.severity === 'error')) throw compileError(r.log, 'tapsh_script.c');
    // A stale recipe: make below.
  }
  writeFileSync(join(dir, `${name}.c`), c);
  writeFileSync(join(dir, 'Kbuild'), `obj-m += ${name}.o\nccflags-y += ${ccflags(defines)}\nKBUILD_EXTRA_SYMBOLS := ${core.symvers}\n`);
  try {
    await kbuild(tree, dir, name, [`KBUILD_EXTRA_SYMBOLS=${core.symvers}`], 'modules', signal);
  } catch (e) {
    if (signal?.aborted) throw new CancelledError();
    if (e instanceof KbuildError) throw compileError(e.log, `${name}.c`);
    throw e;
  }
  await stripDebug(join(dir, `${name}.ko`));
  return { ko: join(dir, `${name}.ko`), fast: false };
}

/**
 * Makes sure the pass-4 recipe exists for this tree and -D set, by building a one-line standalone
 * module through make once (cached like every module): later handler builds then skip make.
 */
async function learnRecipe(tree: BuildTree, defines: string[], o: LiveSessionOptions): Promise<void> {
  const known = loadRecipe(recipeKey(tree, await runtimeObject(tree, defines)));
  if (known) {
    await Promise.all([ensurePch(known, tree, 'unit'), ensurePch(known, tree, 'mod')]);
    return;
  }
  const r = elaborateScript({ ...o.frontEnd, text: 'probe begin { exit() }\n', fileName: 'recipe.stp', unoptimized: false, suppressWarnings: true, warningsAreErrors: false, kernelModel: o.model });
  if (!r.resolved) return;
  const name = `tapsh_${randomBytes(6).toString('hex')}`;
  const t = translate(r.resolved, { moduleName: name, scriptName: 'recipe.stp', kernel: o.model, sources: r.sources });
  await buildModule({ name, c: t.c, defines }, tree);
  const learnt = loadRecipe(recipeKey(tree, await runtimeObject(tree, defines)));
  if (learnt) await Promise.all([ensurePch(learnt, tree, 'unit'), ensurePch(learnt, tree, 'mod')]);
}

/** Names of the functions a text defines. */
function definedFunctions(text: string): string[] {
  return [...text.matchAll(/\bfunction\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
}

/** A build stopped by Ctrl-C: nothing was loaded. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
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
  /** Numbers for the one-shot handlers of commands, far above any entry's; their output is captured. */
  private internalId = 0x40000000;
  private readonly captures = new Map<number, (text: string) => void>();
  private stream: LiveStream | undefined;
  private status: SessionStatus;
  private poller: NodeJS.Timeout | undefined;
  private recipeReady: Promise<void> = Promise.resolve();
  private verbose = 0;
  /** The handler build in progress, which Ctrl-C stops. */
  private building: AbortController | undefined;
  /** Timings of the last handler built and loaded. */
  lastTimings: EntryTimings | undefined;
  private polling: Promise<void> | undefined;
  private lastHits: { hits: number; at: number } | undefined;
  private disarmed = false;

  private constructor(private readonly o: LiveSessionOptions) {
    this.status = { target: o.target.name, release: o.tree.release, armed: 0, hitsPerSecond: 0, dropped: 0, disarmed: false };
  }

  /** Builds (cached) and loads the core, arms it and starts reading its output. */
  static async start(o: LiveSessionOptions): Promise<LiveSession> {
    const s = new LiveSession(o);
    // The core (make, cached) and the pass-4 recipe (one standalone build, cached) side by side.
    s.recipeReady = learnRecipe(o.tree, o.defines ?? [], o).catch(() => undefined);
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
          case RecordKind.OutputEntry:
          case RecordKind.WarningEntry:
          case RecordKind.ErrorEntry: {
            // A session entry's own records: its number first (PROTOCOL.md).
            if (r.payload.length < 4) break;
            const id = r.payload.readUInt32LE(0);
            const text = r.payload.subarray(4).toString('utf8');
            const capture = s.captures.get(id);
            if (capture && r.kind === RecordKind.OutputEntry) capture(text);
            else if (r.kind === RecordKind.OutputEntry) o.sink.output(id, text);
            else if (r.kind === RecordKind.WarningEntry) o.sink.warning(text, id);
            else o.sink.error(text, id);
            break;
          }
          case RecordKind.State:
            // The SysRq key or /proc/sysrq-trigger disarmed the core: say so, and show it.
            if (stateOf(r).state === ModuleState.Disarmed && !s.disarmed) {
              s.disarmed = true;
              s.status = { ...s.status, disarmed: true, armed: 0 };
              o.sink.warning('emergency disarm: every probe of the session is unregistered (SysRq or the disarm command). Quit to unload.');
              o.sink.status(s.status);
            }
            break;
          case RecordKind.Dropped:
            s.status = { ...s.status, dropped: s.status.dropped + Number(r.payload.readBigUInt64LE(0)) };
            o.sink.status(s.status);
            break;
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
    // Hits, errors and hits per second for `list` and the status bar, from the core's ctl text.
    s.poller = setInterval(() => void s.refresh(), 2000);
    s.poller.unref();
    return s;
  }

  /** Reads the core's counters (ctl): per-entry hits and errors, hits per second. One read at a time. */
  refresh(): Promise<void> {
    this.polling ??= (async () => {
      try {
        const r = await this.run(`cat /proc/${this.coreName}/ctl`, { allowFailure: true, timeoutMs: 10_000 });
        const text = r.stdout.toString();
        const now = Date.now();
        const total = Number(/^hits=(\d+)$/m.exec(text)?.[1] ?? NaN);
        for (const m of text.matchAll(/^entry=(\d+) hits=(\d+) errors=(\d+) disabled=(\d)$/gm)) {
          const e = this.entries.find((x) => x.id === Number(m[1]));
          if (!e) continue;
          e.hits = Number(m[2]);
          e.errors = Number(m[3]);
        }
        if (Number.isFinite(total)) {
          const rate = this.lastHits ? ((total - this.lastHits.hits) * 1000) / Math.max(1, now - this.lastHits.at) : 0;
          this.lastHits = { hits: total, at: now };
          this.status = { ...this.status, hitsPerSecond: Math.max(0, Math.round(rate)) };
          this.o.sink.status(this.status);
        }
      } catch {
        // The target is busy or gone: the next poll tries again, quit reports real trouble.
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Commands on the target, one at a time: the session's own polling, builds' loads and the
   * user's commands never open exec channels concurrently (dropbear under load refuses some).
   */
  private run(command: string, options: Parameters<Target['run']>[1]): ReturnType<Target['run']> {
    const next = this.queue.then(() => this.o.target.run(command, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async load(name: string, ko: Uint8Array): Promise<void> {
    const dir = `/tmp/${name}`;
    const r = await this.run(`umask 077 && mkdir -p ${dir} && cat > ${dir}/${name}.ko && insmod ${dir}/${name}.ko; rc=$?; rm -rf ${dir}; exit $rc`, {
      input: ko,
      allowFailure: true,
      timeoutMs: 120_000,
    });
    const why = r.stderr.toString().trim() || `insmod exit ${r.code}`;
    if (r.code !== 0 && name === this.coreName && /File exists/.test(why))
      throw new TargetError('SESSION_BUSY', this.o.target.name, 'start the session core', `another tapsh session is running on ${this.o.target.name} (its module ${name} is loaded)`,
        `Quit that session first (or unload it there with: rmmod $(lsmod | awk '/^tapsh_e/{print $1}') ${name}).`);
    if (r.code !== 0) throw new Error(`could not load ${name}: ${why}`);
  }

  private functionText(except: readonly string[] = []): string {
    return [...this.functions.entries()].filter(([n]) => !except.includes(n)).map(([, f]) => f.text).join('\n');
  }

  async submit(text: string): Promise<SubmitOutcome> {
    const submitted = performance.now();
    if (this.disarmed) return { diagnostics: 'The session is disarmed: its core accepts no more probes. Quit (Ctrl-D) and start a new session.\n' };
    const id = this.next;
    const newFunctions = definedFunctions(text);
    const redefined = newFunctions.filter((f) => this.functions.has(f));
    const attempt = (body: string) => this.elaborateEntry(body, id, newFunctions);
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
      const fns = newFunctions;
      const id = this.next++;
      for (const f of fns) this.functions.set(f, { entry: id, text });
      this.entries.push({ id, text, kind: fns.length ? 'function' : 'global', state: 'done', hits: 0, errors: 0, defines: fns });
      return { id, diagnostics: '', note: redefined.length ? await this.swapDependents(redefined) : undefined };
    }
    if (!r.resolved) {
      return { diagnostics: renderDiagnostics(errors, r.sources) };
    }
    const conflict = this.typeConflict(r.resolved, text);
    if (conflict) return { diagnostics: conflict };
    if (process.env['TAPSH_DEBUG']) process.stderr.write(`[session] entry ${id}: ${r.resolved.probes.length} probes, wrapped=${wrapped}\n`);
    this.next++;
    const entry: Entry = { id, text, kind: kindOf(text, r.resolved, wrapped), state: 'armed', hits: 0, errors: 0, defines: newFunctions };
    if (r.resolved.probes.length) {
      try {
        entry.module = await this.buildAndLoad(r.resolved, r.sources, id, submitted);
      } catch (e) {
        // Nothing was loaded: the entry does not exist, the session goes on.
        this.next--;
        return { diagnostics: (e as Error).message };
      }
    }
    // Accepted: its globals and functions are the session's from now on.
    for (const [name, t] of globalsOf(r.resolved)) if (!this.sessionGlobals.has(name)) this.sessionGlobals.set(name, { ...t, declaredIn: id });
    for (const f of newFunctions) this.functions.set(f, { entry: id, text });
    if (entry.module) {
      if (wrapped) {
        // A statement list ran once, in its begin probe, while attaching: its module can go.
        await this.run(`rmmod ${entry.module}`, { allowFailure: true, timeoutMs: 60_000 });
        entry.module = undefined;
        entry.state = 'done';
      }
    }
    this.entries.push(entry);
    this.status = { ...this.status, armed: this.entries.filter((e) => e.module && e.state === 'armed').length };
    this.o.sink.status(this.status);
    const t = this.lastTimings;
    let note = this.verbose && t && r.resolved.probes.length ? `[${id}] passes 1-3 in ${Math.round(t.frontMs)} ms, compiled in ${Math.round(t.compileMs)} ms (${t.fast ? 'recipe' : 'make'}), uploaded and loaded in ${Math.round(t.transferLoadMs)} ms\n` : undefined;
    if (redefined.length) note = (note ?? '') + (await this.swapDependents(redefined, id));
    return { id, diagnostics: '', note };
  }

  /**
   * Pass 1-2 of an entry's text in the session: its globals declared, the session's functions
   * (except those the text defines itself) before it.
   */
  private elaborateEntry(body: string, id: number, ownFunctions: readonly string[]) {
    const declared = [...new Set([...this.sessionGlobals.keys(), ...this.declared])];
    return elaborateScript({
      ...this.o.frontEnd,
      text: `${declared.length ? `global ${declared.join(', ')}\n` : ''}${this.functionText(ownFunctions)}\n${body}\n`,
      fileName: `entry ${id}`,
      // Optimized like a script: globals and functions this entry does not use are not its own.
      unoptimized: false,
      suppressWarnings: true,
      warningsAreErrors: false,
      kernelModel: this.o.model,
    });
  }

  /** A global the session already has, used with another type: the message with the source line and a caret; else undefined. */
  private typeConflict(resolved: Resolved, text: string): string | undefined {
    for (const [name, t] of globalsOf(resolved)) {
      const known = this.sessionGlobals.get(name);
      if (!known || (known.value === t.value && known.keys.join() === t.keys.join())) continue;
      let out = `semantic error: global '${name}' is a ${describeType(known)} in this session (entry ${known.declaredIn}) but this entry uses it as a ${describeType(t)}\n`;
      const at = new RegExp(`\\b${name}\\b`).exec(text)?.index;
      if (at !== undefined) {
        const lineStart = text.lastIndexOf('\n', at - 1) + 1;
        const line = text.slice(lineStart).split('\n')[0]!;
        out += `     source: ${line}\n${' '.repeat('     source: '.length + at - lineStart)}^\n`;
      }
      return out;
    }
    return undefined;
  }

  /**
   * After functions were redefined: rebuilds every live probe entry that calls them (directly or
   * through other session functions) with the new definitions, and swaps its handler module.
   * Returns a line per entry for the transcript.
   */
  private async swapDependents(redefined: string[], except?: number): Promise<string> {
    // The functions that reach a redefined one, by their text.
    const reach = new Set(redefined);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [name, f] of this.functions) if (!reach.has(name) && [...reach].some((r) => new RegExp(`\\b${r}\\s*\\(`).test(f.text))) reach.add(name), (grew = true);
    }
    const calls = (text: string) => [...reach].some((r) => new RegExp(`\\b${r}\\s*\\(`).test(text.replace(/\bfunction\s+\w+/g, '')));
    let out = '';
    for (const e of this.entries) {
      if (e.id === except || !e.module || e.kind !== 'probe' || !calls(e.text)) continue;
      const r = this.elaborateEntry(e.text, e.id, e.defines);
      if (!r.resolved) {
        out += `[${e.id}] kept its old code: with the new definitions it does not compile:\n${renderDiagnostics(r.diagnostics.filter((d) => d.severity === 'error'), r.sources)}`;
        continue;
      }
      // The new handler takes the old one's module name: unload first (a moment without the entry's probes).
      await this.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
      try {
        e.module = await this.buildAndLoad(r.resolved, r.sources, e.id);
        if (e.state === 'disabled') await this.ctl(`disable ${e.id}`);
        out += `[${e.id}] rebuilt with the new ${[...reach].filter((f) => redefined.includes(f)).join(', ')}\n`;
      } catch (err) {
        e.module = undefined;
        e.state = 'failed';
        out += `[${e.id}] failed to rebuild and is no longer loaded: ${(err as Error).message}`;
      }
    }
    return out;
  }

  /** Translates an elaborated entry in session mode, builds its handler and loads it; returns the module name. Throws with a message for the prompt. */
  private async buildAndLoad(resolved: Resolved, sources: Parameters<typeof translate>[1]['sources'], id: number, submitted = performance.now()): Promise<string> {
    const t = translate(resolved, { moduleName: `tapsh_e${id}`, scriptName: `entry ${id}`, kernel: this.o.model, sources, session: { entry: id } });
    if (t.problems.length) throw new Error(t.problems.map((p) => `semantic error: ${p.message}\n`).join(''));
    const name = `tapsh_e${id}_${this.tag}`;
    try {
      const t0 = performance.now();
      const frontMs = t0 - submitted;
      await this.recipeReady;
      const building = new AbortController();
      this.building = building;
      let built: { ko: string; fast: boolean };
      try {
        built = await buildHandler(this.o.tree, this.core, name, t.c, this.o.defines ?? [], building.signal);
      } finally {
        this.building = undefined;
      }
      const { ko, fast } = built;
      const t1 = performance.now();
      try {
        await this.load(name, readFileSync(ko));
      } finally {
        rmSync(dirname(ko), { recursive: true, force: true }); // the build directory has served
      }
      this.lastTimings = { frontMs, compileMs: t1 - t0, transferLoadMs: performance.now() - t1, fast };
    } catch (e) {
      if (e instanceof CancelledError) throw new Error(`Cancelled: the build of entry ${id} was stopped; nothing was loaded.\n`);
      const why = e instanceof KbuildError ? e.message : (e as Error).message;
      throw new Error(`entry not loaded: ${why}\n${/Invalid argument/.test(why) ? '(a global is used with another shape than the session gave it, e.g. @hist_linear bounds)\n' : ''}`);
    }
    return name;
  }

  /**
   * Runs statements once against the live globals for a command (`globals`, `reset`), outside the
   * entry numbering, and returns what they printed: their output is tagged with a private number
   * and collected up to a sentinel line instead of going to the transcript.
   */
  private async runInternal(statements: string): Promise<string> {
    const id = this.internalId++;
    const sentinel = `tapsh-done-${this.tag}-${id}`;
    const r = elaborateScript({
      ...this.o.frontEnd,
      text: `probe begin {\n${statements}\nprintf("%s\\n", "${sentinel}")\n}\n`,
      fileName: 'command',
      unoptimized: false,
      suppressWarnings: true,
      warningsAreErrors: false,
      kernelModel: this.o.model,
      externalGlobals: this.sessionGlobals,
    });
    if (!r.resolved) throw new Error(renderDiagnostics(r.diagnostics.filter((d) => d.severity === 'error'), r.sources));
    let collected = '';
    const done = new Promise<void>((resolve) => {
      this.captures.set(id, (text) => {
        collected += text;
        if (collected.includes(`${sentinel}\n`)) resolve();
      });
    });
    try {
      const module = await this.buildAndLoad(r.resolved, r.sources, id);
      await this.run(`rmmod ${module}`, { allowFailure: true, timeoutMs: 60_000 });
      await Promise.race([done, new Promise((res) => setTimeout(res, 15_000))]);
    } finally {
      this.captures.delete(id);
    }
    return collected.replace(`${sentinel}\n`, '');
  }

  /** Stops the handler build in progress (Ctrl-C); false when nothing is being built. */
  cancel(): boolean {
    if (!this.building) return false;
    this.building.abort();
    return true;
  }

  list(): EntryInfo[] {
    return this.entries.map(({ module: _m, defines: _d, ...info }) => info);
  }

  async remove(id: number | 'all'): Promise<string> {
    const victims = id === 'all' ? [...this.entries] : this.entries.filter((e) => e.id === id);
    if (victims.length === 0) return `There is no entry ${id}. Type list to see them.\n`;
    for (const e of victims) {
      if (e.module) await this.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
      this.entries.splice(this.entries.indexOf(e), 1);
    }
    this.status = { ...this.status, armed: this.entries.filter((e) => e.module && e.state === 'armed').length };
    this.o.sink.status(this.status);
    return id === 'all' ? 'Deleted every entry; globals keep their values.\n' : `Deleted entry ${id}; globals keep their values.\n`;
  }

  private async ctl(cmd: string): Promise<void> {
    await this.run(`echo ${shellQuote(cmd)} > /proc/${this.coreName}/ctl`, { allowFailure: true, timeoutMs: 30_000 });
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

  /**
   * `edit N`: the entry keeps its number; its handler is rebuilt from the new text and swapped in.
   * A new text that does not compile leaves the old entry as it was.
   */
  async replace(id: number, text: string): Promise<SubmitOutcome> {
    const e = this.entries.find((x) => x.id === id);
    if (!e) return { diagnostics: `There is no entry ${id}. Type list to see them.\n` };
    if (e.kind !== 'probe') return { diagnostics: `Entry ${id} is a ${e.kind} entry; only probe entries are edited in place (type a new definition instead).\n` };
    const fns = definedFunctions(text);
    const r = this.elaborateEntry(text, id, fns);
    if (!r.resolved) return { diagnostics: renderDiagnostics(r.diagnostics.filter((d) => d.severity === 'error'), r.sources) + `Entry ${id} is unchanged.\n` };
    const conflict = this.typeConflict(r.resolved, text);
    if (conflict) return { diagnostics: `${conflict}Entry ${id} is unchanged.\n` };
    if (e.module) await this.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
    e.module = undefined;
    try {
      if (r.resolved.probes.length) e.module = await this.buildAndLoad(r.resolved, r.sources, id);
    } catch (err) {
      e.state = 'failed';
      return { diagnostics: `${(err as Error).message}Entry ${id} is no longer loaded (type delete ${id}, or edit it again).\n` };
    }
    for (const [name, t] of globalsOf(r.resolved)) if (!this.sessionGlobals.has(name)) this.sessionGlobals.set(name, { ...t, declaredIn: id });
    e.text = text;
    e.defines = fns;
    e.state = 'armed';
    return { id, diagnostics: '' };
  }

  script(): string {
    const globals = [...this.sessionGlobals.keys()];
    const lines = [`# tapsh session saved ${new Date().toISOString()}`];
    if (globals.length) lines.push(`global ${globals.join(', ')}`);
    for (const e of this.entries) {
      if (e.kind === 'global') continue;
      // A function entry whose functions were all redefined later is superseded.
      if (e.kind === 'function' && e.defines.every((f) => this.functions.get(f)?.entry !== e.id)) continue;
      if (e.kind === 'statement') lines.push(`# entry ${e.id} (ran once): ${e.text.replace(/\n/g, '\n# ')}`);
      else lines.push(e.text);
    }
    return lines.join('\n') + '\n';
  }

  async globals(): Promise<string> {
    if (this.sessionGlobals.size === 0) return 'No globals yet.\n';
    const lines: string[] = [];
    for (const [name, g] of this.sessionGlobals) {
      const type = describeType(g);
      if (g.keys.length === 0) {
        if (g.value === 'long') lines.push(`printf("%s: %s = %d\\n", "${name}", "${type}", ${name})`);
        else if (g.value === 'string') lines.push(`printf("%s: %s = \\"%s\\"\\n", "${name}", "${type}", ${name})`);
        else lines.push(`if (@count(${name})) printf("%s: %s, @count=%d @sum=%d @min=%d @max=%d @avg=%d\\n", "${name}", "${type}", @count(${name}), @sum(${name}), @min(${name}), @max(${name}), @avg(${name})) else printf("%s: %s, empty\\n", "${name}", "${type}")`);
        continue;
      }
      // Arrays: the size and the first entries in key order.
      const ks = g.keys.map((_, i) => `k${i}`);
      const keyFmt = g.keys.map((k) => (k === 'string' ? '\\"%s\\"' : '%d')).join(',');
      const val = g.value === 'stats' ? `@count(${name}[${ks.join(',')}])` : `${name}[${ks.join(',')}]`;
      const valFmt = g.value === 'string' ? '\\"%s\\"' : '%d';
      const valName = g.value === 'stats' ? ' @count' : '';
      lines.push(
        `__n = 0; foreach ([${ks.join(',')}] in ${name}) __n++; printf("%s: %s, %d entries\\n", "${name}", "${type}", __n)`,
        `foreach ([${ks.join(',')}] in ${name} limit ${GLOBALS_SHOWN}) printf("  ${name}[${keyFmt}]${valName} = ${valFmt}\\n", ${ks.join(', ')}, ${val})`,
        `if (__n > ${GLOBALS_SHOWN}) printf("  ... %d more\\n", __n - ${GLOBALS_SHOWN})`,
      );
    }
    try {
      return await this.runInternal(lines.join('\n'));
    } catch (e) {
      return `Could not read the globals: ${(e as Error).message}\n`;
    }
  }

  async reset(): Promise<string> {
    if (this.sessionGlobals.size === 0) return 'No globals to clear.\n';
    try {
      await this.runInternal([...this.sessionGlobals.keys()].map((n) => `delete ${n}`).join('\n'));
    } catch (e) {
      return `Could not clear the globals: ${(e as Error).message}\n`;
    }
    return `Cleared ${this.sessionGlobals.size} global${this.sessionGlobals.size === 1 ? '' : 's'}: ${[...this.sessionGlobals.keys()].join(', ')}.\n`;
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

  options(name?: string): string {
    const limits = Object.fromEntries((this.o.defines ?? []).map((d) => d.split('=') as [string, string]));
    const all: [string, string][] = [
      ['verbose', String(this.verbose)],
      ['guru_mode', this.o.frontEnd.guru ? '1' : '0'],
      ['colour', this.status.colour === false ? '0' : '1'],
      ...LIMITS.map((l): [string, string] => [l, limits[l] ?? '(default)']),
    ];
    const shown = name ? all.filter(([k]) => k === name) : all;
    if (shown.length === 0) return `There is no option ${name}; options: ${all.map(([k]) => k).join(', ')}.\n`;
    return shown.map(([k, v]) => `${k} = ${v}\n`).join('');
  }

  setOption(name: string, value: string): string {
    const flag = /^(1|on|yes|true)$/i.test(value) ? true : /^(0|off|no|false)$/i.test(value) ? false : undefined;
    switch (name) {
      case 'verbose':
        if (flag === undefined && !/^\d+$/.test(value)) return 'verbose takes a number (0: quiet, 1: build and load times per entry).\n';
        this.verbose = flag === undefined ? Number(value) : Number(flag);
        return `verbose = ${this.verbose}\n`;
      case 'guru_mode':
        if (flag === undefined) return 'guru_mode takes 0 or 1.\n';
        (this.o.frontEnd as { guru?: boolean }).guru = flag;
        return `guru_mode = ${flag ? 1 : 0} (for entries typed from now on)\n`;
      case 'colour':
      case 'color':
        if (flag === undefined) return 'colour takes 0 or 1.\n';
        this.status = { ...this.status, colour: flag };
        this.o.sink.status(this.status);
        return `colour = ${flag ? 1 : 0}\n`;
      default:
        if (LIMITS.includes(name))
          return `${name} is compiled into the session's core module, which is already loaded: start the session with -D ${name}=${value} to change it.\n`;
        return `There is no option ${name}; options: verbose, guru_mode, colour, ${LIMITS.join(', ')}.\n`;
    }
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
    // Tapset probe aliases (vfs.read, syscall.openat, scheduler.cpu_on, ...): what -l lists for PREFIX*.
    if (!fn && !tp && /^[A-Za-z_][\w.]*$/.test(prefix) && (prefix.includes('.') || out.length === 0)) {
      for (const pattern of prefix.includes('.') ? [`${prefix}*`] : [`${prefix}*.*`]) {
        try {
          for (const line of listProbePoints(pattern, { ...this.o.frontEnd, kernelModel: this.o.model, unoptimized: true, suppressWarnings: true, warningsAreErrors: false }, false).lines) {
            if (line.startsWith(prefix) && !out.includes(line) && out.length < 200) out.push(line);
          }
        } catch {
          // a pattern pass 2 cannot take: no completions from it
        }
      }
    }
    return out.map((c) => prefix.slice(0, prefix.length - (fn?.[0].length ?? tp?.[0].length ?? prefix.length)) + c);
  }

  /** End probes, drain, unload every handler, then the core. Safe to call twice. */
  async quit(): Promise<void> {
    clearInterval(this.poller);
    if (!this.disarmed) await this.ctl('exit');
    const drained = this.stream ? this.stream.exited : Promise.resolve(0);
    await Promise.race([drained, new Promise((r) => setTimeout(r, 30_000))]);
    for (const e of [...this.entries].reverse()) if (e.module) await this.run(`rmmod ${e.module}`, { allowFailure: true, timeoutMs: 60_000 });
    await this.run(`rmmod ${this.coreName}`, { allowFailure: true, timeoutMs: 60_000 });
    await this.stream?.close();
  }
}

/** The -D limits `show` reports (fixed when the core is built). */
const LIMITS = ['MAXACTION', 'MAXMAPENTRIES', 'MAXSTRINGLEN', 'MAXNESTING', 'MAXERRORS', 'MAXSKIPPED'];

/** How many entries of an array `globals` shows. */
const GLOBALS_SHOWN = 10;

function describeType(t: { value: Ty; keys: readonly Ty[] }): string {
  return t.keys.length ? `array [${t.keys.join(', ')}] of ${t.value}` : t.value;
}
