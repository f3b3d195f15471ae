// Pass 3: translate an elaborated program into one C translation unit over runtime-c (tap.h).
import type {
  TargetComponent, TargetTail,
  ArrayIndex, Assign, Binary, Block, Call, Crement, DeleteStmt, EmbeddedCode, Expr, ForeachStmt, HistOp, Indexable,
  PrintCall, Span, StatOp, Stmt, SymbolRef, TryStmt,
} from '../lang/ast.js';
import { assertNever } from '../lang/ast.js';
import type { FuncSym, Resolved, Ty, Unit, VarSym } from '../lang/elaborate.js';
import type { DerivedProbe } from '../lang/probes.js';
import type { KernelModel, TracepointField } from '../remote/model.js';
import { CWriter, cString } from './cwriter.js';
import { compileRegex, regexC, RegexError, type CompiledRegex } from './regex.js';
import { btfForFunction, isCharArray, modelBtf, resolveCast, resolveTarget, modelTracepointTargets, resolveTracepointTarget, type Resolution, type TargetPlan } from '../btf/targets.js';
import { Btf, BtfKind, type BtfParam } from '../btf/btf.js';

export interface TranslateOptions {
  moduleName: string;
  scriptName: string;
  kernel?: KernelModel;
  /** -G NAME=VALUE initial values (applied as module parameters by pass 5; recorded here for init). */
  globalsInit?: Map<string, string>;
  /** Source texts by file name, to point runtime errors at the exact token as stap does. */
  sources?: Map<string, string>;
  /**
   * Session mode (src/repl/SESSION.md): a handler module for entry `entry` of a live session.
   * Globals live in the session core and are looked up by name at init; the module attaches its
   * probe table to the core instead of carrying the runtime.
   */
  session?: { entry: number };
}

export interface TranslateProblem {
  message: string;
  span: Span | undefined;
}

export interface TranslateResult {
  c: string;
  problems: TranslateProblem[];
}

/** A failure to translate something pass 2 accepted (a feature not built yet). */
class Unsupported extends Error {
  constructor(message: string, readonly span: Span | undefined) {
    super(message);
  }
}

const TIMER_NS: Record<string, number> = { s: 1e9, sec: 1e9, ms: 1e6, msec: 1e6, us: 1e3, usec: 1e3, ns: 1, nsec: 1 };

/** Per-global facts the translator needs. */
interface GlobalInfo {
  sym: VarSym;
  c: string;
  index: number;
  value: Ty;
  keys: Ty[];
  isArray: boolean;
  hist: HistOp | undefined;
  maxEntries: number | undefined;
}

/** The C storage of a unit's locals and temporaries. */
class Frame {
  readonly fields: string[] = [];
  private longTemps = 0;
  private strTemps = 0;
  private liveLong = 0;
  private liveStr = 0;

  constructor(readonly structName: string) {}

  longTemp(): string {
    const i = this.liveLong++;
    if (i >= this.longTemps) {
      this.longTemps++;
      this.fields.push(`long __l${i};`);
    }
    return `l->__l${i}`;
  }

  strTemp(): string {
    const i = this.liveStr++;
    if (i >= this.strTemps) {
      this.strTemps++;
      this.fields.push(`char __s${i}[TAP_MAXSTRINGLEN];`);
    }
    return `l->__s${i}`;
  }

  /** Temporaries live only within one statement. */
  mark(): [number, number] {
    return [this.liveLong, this.liveStr];
  }
  release(m: [number, number]): void {
    [this.liveLong, this.liveStr] = m;
  }
}

/** Code emission state for the unit being translated. */
interface UnitCtx {
  unit: Unit;
  frame: Frame;
  w: CWriter;
  /** Where an error jumps: the unit's exit, or the innermost catch. */
  errLabel: string;
  /** Where `return`/`next` go. */
  outLabel: string;
  retType: Ty | undefined;
  isFunction: boolean;
  probe: DerivedProbe | undefined;
  locals: Map<VarSym, string>;
  labels: number;
  /**
   * A .return probe of a kernel function: values read at entry (`@entry(expr)`, parameters,
   * `$$parms`) get slots in the kretprobe instance's data, filled by an entry handler.
   */
  entry?: EntrySlots;
  /** Emitting that entry handler: parameters are read from the registers of the call. */
  atEntry?: boolean;
  /** A kernel.trace probe reading its event's TP_PROTO arguments (attached to the tracepoint itself). */
  tpArgs?: { btf: Btf; args: BtfParam[]; fields: boolean };
}

/** The expressions a return handler needs evaluated at function entry, one slot each. */
interface EntrySlots {
  struct: string;
  slots: { expr: Expr; ty: Ty }[];
}

export function translate(r: Resolved, opts: TranslateOptions): TranslateResult {
  return new Translator(r, opts).run();
}

class Translator {
  private readonly out = new CWriter();
  private readonly problems: TranslateProblem[] = [];
  private readonly globals = new Map<VarSym, GlobalInfo>();
  private readonly funcNames = new Map<FuncSym, string>();
  private readonly funcUnits = new Map<FuncSym, Unit>();
  /** Globals each function touches directly: [read, written]. */
  private readonly touches = new Map<Unit, Map<VarSym, boolean>>();
  private readonly calls = new Map<Unit, Set<FuncSym>>();
  private readonly unitBodies: string[] = [];
  private varianceShift = new Map<VarSym, number>();
  /** Number globals changed only by atomic operations (findAtomicGlobals): no lock. */
  private atomicGlobals = new Set<VarSym>();
  /** Probe index -> its kretprobe entry handler and data struct (probes using @entry or parameters at return). */
  private readonly entryHandlers = new Map<number, { fn: string; struct: string }>();
  /** Probe index -> the typed tracepoint probe function of kernel.trace probes that read TP_PROTO arguments. */
  private readonly tpArgProbes = new Map<number, { fn: string; fields: boolean }>();
  /** Regex literals (`=~`) by pattern -> their matcher's C name; the matchers' C text. */
  private readonly regexes = new Map<string, string>();
  private readonly regexDecls: string[] = [];
  /** Session mode: statements filling the lock specs at init. */
  private readonly sessionLockFills: string[] = [];

  constructor(private readonly r: Resolved, private readonly opts: TranslateOptions) {}

  run(): TranslateResult {
    this.collectGlobals();
    for (const u of this.r.functions) if (u.func) this.funcUnits.set(u.func, u);
    if (!this.opts.session) this.findAtomicGlobals();
    this.nameFunctions();
    const w = this.out;
    w.line(`/* Generated by tapsh from ${this.opts.scriptName.replace(/\*\//g, '* /')}: module ${this.opts.moduleName}. Do not edit. */`);
    w.line('#include <linux/module.h>');
    w.line('#include "tap.h"');
    w.line('#ifndef MAXSTRINGLEN');
    w.line('#define MAXSTRINGLEN TAP_MAXSTRINGLEN');
    w.line('#endif');
    w.line('#include <linux/kernel.h>');
    w.line('#include <linux/sched.h>');
    w.line('#include <linux/string.h>');
    w.line('#include <linux/ptrace.h>');
    w.line('#include <linux/kprobes.h>');
    w.line('#include <linux/jiffies.h>');
    w.line('');
    w.line('/* The embedded-C interface that needs no function context (tapsets/README.md); usable in %{ %} helpers too. */');
    w.line('#define STAP_PROBE_REGS() (tap_this_context()->regs)');
    w.line('#define STAP_PROBE_POINT() (tap_this_context()->probe ? tap_this_context()->probe->pp : "")');
    w.line('#define STAP_PROBE_NAME() tap_probe_name(tap_this_context())');
    w.line('#define STAP_TARGET_PID() (tap_target_pid)');
    w.line('#define STAP_REMOTE_ID() (tap_remote_id)');
    w.line('#define STAP_REMOTE_URI() ((const char *)tap_remote_uri)');
    w.line('#define STAP_EXIT() tap_exit()');
    w.line('static long tap_target_pid;');
    w.line('static long tap_remote_id = -1;');
    w.line('static char *tap_remote_uri = "";');
    w.line('static __maybe_unused const char *tap_probe_name(struct tap_context *c);');
    w.line('');
    w.line('/* Appends for pretty-printed values ($var$, $$parms): truncate at TAP_MAXSTRINGLEN like every string. */');
    w.line('static __maybe_unused void tap_pretty_append(char *dst, const char *s)');
    w.line('{');
    w.line('\tsize_t n = strlen(dst);');
    w.line('');
    w.line('\tif (n < TAP_MAXSTRINGLEN - 1)');
    w.line('\t\tstrscpy(dst + n, s, TAP_MAXSTRINGLEN - n);');
    w.line('}');
    w.line('');
    w.line('static __maybe_unused __printf(2, 3) void tap_pretty_appendf(char *dst, const char *fmt, ...)');
    w.line('{');
    w.line('\tsize_t n = strlen(dst);');
    w.line('\tva_list ap;');
    w.line('');
    w.line('\tif (n >= TAP_MAXSTRINGLEN - 1)');
    w.line('\t\treturn;');
    w.line('\tva_start(ap, fmt);');
    w.line('\tvscnprintf(dst + n, TAP_MAXSTRINGLEN - n, fmt, ap);');
    w.line('\tva_end(ap);');
    w.line('}');
    w.line('');
    this.emitEmbeddedDecls();
    this.emitGlobals();
    this.emitFunctionPrototypes();
    const probeHandlers: string[] = [];
    for (const u of this.r.functions) this.emitUnit(u, undefined);
    this.r.probes.forEach((p, i) => probeHandlers.push(this.emitUnit(p.unit, p.derived, i)));
    for (const r of this.regexDecls) w.raw(r);
    for (const b of this.unitBodies) w.raw(b);
    this.emitProbeTable(probeHandlers);
    this.emitScript();
    return { c: w.text(), problems: this.problems };
  }

  // ---- source positions for runtime messages ("near operator '/' at a.stp:2:52") ----

  private at(file: string, offset: number, fallback: Span): string {
    const text = this.opts.sources?.get(file);
    if (text === undefined || offset < 0 || offset > text.length) return `${fallback.file}:${fallback.line}:${fallback.col}`;
    let line = 1;
    let lineStart = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return `${file}:${line}:${offset - lineStart + 1}`;
  }

  /** Where a binary operator token is (between its operands). */
  private operatorAt(e: { op: string; left: Expr; span: Span }, right: Expr): string {
    const text = this.opts.sources?.get(e.span.file);
    const idx = text ? text.indexOf(e.op, e.left.span.end) : -1;
    const where = idx >= 0 && idx < right.span.offset ? this.at(e.span.file, idx, e.span) : this.at(e.span.file, e.span.offset, e.span);
    return cString(`operator '${e.op}' at ${where}`);
  }

  /** An identifier token at the start of a span (or the first occurrence of `name` inside it). */
  private identifierAt(name: string, span: Span): string {
    const text = this.opts.sources?.get(span.file);
    let idx = text ? text.indexOf(name, span.offset) : -1;
    if (idx < 0 || idx > span.end) idx = span.offset;
    return cString(`identifier '${name}' at ${this.at(span.file, idx, span)}`);
  }

  /** stap's description of the token a span starts with: identifier 'x' or operator '++'. */
  private tokenAt(span: Span): string {
    const text = this.opts.sources?.get(span.file);
    const rest = text ? text.slice(span.offset, span.offset + 64) : '';
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (id) return cString(`identifier '${id[0]}' at ${span.file}:${span.line}:${span.col}`);
    const op = /^(\+\+|--|@\w+|\$\w+|[^\s\w])/.exec(rest);
    return cString(`operator '${op ? op[0] : '?'}' at ${span.file}:${span.line}:${span.col}`);
  }

  private setLast(ctx: UnitCtx, literal: string): void {
    ctx.w.line(`c->last_stmt = ${literal};`);
  }

  // ---- globals ----

  private collectGlobals(): void {
    const histOf = new Map<VarSym, HistOp>();
    const shiftOf = new Map<VarSym, number>();
    const visitUnits = [...this.r.functions, ...this.r.probes.map((p) => p.unit)];
    for (const u of visitUnits) {
      walkUnit(u, (e) => {
        if (e.kind === 'hist') {
          const sym = this.symOfIndexable(u, e.operand);
          if (sym && !histOf.has(sym)) histOf.set(sym, e);
        }
        // @variance(s, N): the statistic keeps its running mean scaled by 2^N (set at init).
        if (e.kind === 'stat' && e.op === 'variance' && e.shift?.value != null) {
          const sym = this.symOfIndexable(u, e.operand);
          if (sym) shiftOf.set(sym, Math.max(shiftOf.get(sym) ?? 0, Number(e.shift.value)));
        }
      });
    }
    this.varianceShift = shiftOf;
    this.r.globals.forEach((g, index) => {
      const t = this.r.types.vars.get(g);
      const isArray = (g.arity ?? 0) > 0;
      const decl = g.decl && g.decl.kind === 'global' ? g.decl : undefined;
      this.globals.set(g, {
        sym: g,
        c: `g_${g.name}`,
        index,
        value: t?.value ?? 'long',
        keys: (t?.keys ?? []).map((k) => k ?? 'long'),
        isArray,
        hist: histOf.get(g),
        maxEntries: decl?.size?.value != null ? Number(decl.size.value) : undefined,
      });
    });
  }

  private symOfIndexable(u: Unit, e: Expr): VarSym | undefined {
    const base = e.kind === 'index' ? e.base : e;
    if (base.kind !== 'symbol') return undefined;
    const s = u.bindings.get(base);
    return s && s.kind === 'var' ? s : undefined;
  }

  private emitGlobals(): void {
    const w = this.out;
    // target(): the pid of -c's command or -x, set by pass 5 as a module parameter.
    w.line('module_param_named(tapsh_target, tap_target_pid, long, 0444);');
    // remote_id()/remote_uri(): which --remote host this is (-1 and "" when not run with --remote).
    w.line('module_param_named(tapsh_remote_id, tap_remote_id, long, 0444);');
    w.line('module_param_named(tapsh_remote_uri, tap_remote_uri, charp, 0444);');
    w.line('');
    if (this.globals.size === 0) return;
    if (this.opts.session) {
      w.line('/* globals: they live in the session core; the pointers are filled at init */');
      for (const g of this.globals.values()) {
        if (g.isArray) w.line(`static struct tap_map *${g.c};`);
        else if (g.value === 'stats') w.line(`static struct tap_stat *${g.c};`);
        else if (g.value === 'string') {
          w.line(`static char *${g.c}_p;`);
          w.line(`#define ${g.c} (${g.c}_p)`);
        } else {
          w.line(`static long *${g.c}_p;`);
          w.line(`#define ${g.c} (*${g.c}_p)`);
        }
        w.line(`static struct tap_lock *${g.c}_lockp;`);
        w.line(`#define ${g.c}_lock (*${g.c}_lockp)`);
      }
      w.line('');
      return;
    }
    w.line('/* globals; scalars take -G NAME=VALUE as module parameters tapsh_global_NAME */');
    for (const g of this.globals.values()) {
      const d = g.sym.decl && g.sym.decl.kind === 'global' ? g.sym.decl : undefined;
      if (g.isArray) w.line(`static struct tap_map *${g.c};`);
      else if (g.value === 'stats') w.line(`static struct tap_stat *${g.c};`);
      else if (g.value === 'string') {
        // Initialisers are static so that a -G value (set before init runs) wins over them.
        const init = d?.init?.kind === 'string' ? ` = ${cString(d.init.value)}` : '';
        w.line(`static char ${g.c}[TAP_MAXSTRINGLEN]${init};`);
        w.line(`static char *${g.c}_param;`);
        w.line(`module_param_named(tapsh_global_${g.sym.name}, ${g.c}_param, charp, 0);`);
      } else {
        const init = d?.init?.kind === 'number' && d.init.value !== null ? ` = ${longLiteral(d.init.value)}` : '';
        w.line(`static long ${g.c}${init};`);
        w.line(`module_param_named(tapsh_global_${g.sym.name}, ${g.c}, long, 0);`);
      }
      w.line(`static struct tap_lock ${g.c}_lock;`);
    }
    w.line('');
  }

  /**
   * Number globals that need no lock: every change to them is one atomic operation (`++`, `--`,
   * `+=`, `-=`, or a plain store) and no probe both reads one and changes it (with the functions
   * it calls), so no read-then-write sequence could interleave with a concurrent change. Their
   * increments become atomic_long ops and handlers that touch nothing else take no lock at all
   * (a `n++` counter costs about what a hand-written per-CPU counter does).
   */
  private findAtomicGlobals(): void {
    const candidates = [...this.globals.values()].filter((g) => !g.isArray && g.value === 'long').map((g) => g.sym);
    if (!candidates.length) return;
    const usesOf = (u: Unit): Map<VarSym, { reads: number; writes: number }> => {
      const targets = new Set<Expr>();
      const m = new Map<VarSym, { reads: number; writes: number }>();
      const bump = (sym: VarSym | undefined, reads: number, writes: number) => {
        if (!sym) return;
        const x = m.get(sym) ?? { reads: 0, writes: 0 };
        x.reads += reads;
        x.writes += writes;
        m.set(sym, x);
      };
      walkUnit(u, (e) => {
        if (e.kind === 'assign' || e.kind === 'crement') {
          const t = e.kind === 'assign' ? e.target : e.operand;
          if (t.kind === 'symbol') {
            targets.add(t);
            // Compound assignments other than += and -= read the old value first.
            const atomic = e.kind === 'crement' || e.op === '=' || e.op === '+=' || e.op === '-=';
            bump(this.symOfIndexable(u, t), atomic ? 0 : 1, 1);
          }
        }
      }, (st) => {
        if (st.kind === 'delete' && st.target.kind === 'symbol') bump(this.symOfIndexable(u, st.target), 0, 1);
      });
      walkUnit(u, (e) => {
        if (e.kind === 'symbol' && !targets.has(e)) bump(this.symOfIndexable(u, e), 1, 0);
      });
      return m;
    };
    const ok = new Set(candidates);
    for (const p of this.r.probes) {
      const total = new Map<VarSym, { reads: number; writes: number }>();
      const seen = new Set<Unit>();
      const visit = (u: Unit) => {
        if (seen.has(u)) return;
        seen.add(u);
        for (const [sym, x] of usesOf(u)) {
          const t = total.get(sym) ?? { reads: 0, writes: 0 };
          total.set(sym, { reads: t.reads + x.reads, writes: t.writes + x.writes });
        }
        for (const f of this.directCalls(u)) {
          const fu = this.funcUnits.get(f);
          if (fu) visit(fu);
        }
      };
      visit(p.unit);
      for (const [sym, x] of total) if (x.reads && x.writes) ok.delete(sym);
    }
    this.atomicGlobals = ok;
  }

  /** The atomic global (see findAtomicGlobals) an lvalue names, if it is one. */
  private atomicTarget(ctx: UnitCtx, t: Expr): GlobalInfo | undefined {
    if (t.kind !== 'symbol') return undefined;
    const sym = this.symOfIndexable(ctx.unit, t);
    return sym && this.atomicGlobals.has(sym) ? this.globals.get(sym) : undefined;
  }

  private mapKeysSpec(g: GlobalInfo): string {
    return g.keys.map((k) => (k === 'string' ? 's' : 'l')).join('');
  }

  private histArgs(h: HistOp | undefined, u: Unit | undefined): string {
    if (!h) return 'TAP_HIST_NONE, 0, 0, 0';
    if (h.op === 'hist_log') return 'TAP_HIST_LOG, 0, 0, 0';
    const nums = h.params.map((p) => constLong(p));
    if (nums.some((n) => n === undefined)) throw new Unsupported('@hist_linear needs constant low, high and width', h.span);
    void u;
    return `TAP_HIST_LINEAR, ${nums.join(', ')}`;
  }

  // ---- functions ----

  private nameFunctions(): void {
    const used = new Set<string>();
    for (const u of this.r.functions) {
      const f = u.func!;
      let name = `tapf_${f.name}`;
      if (used.has(name)) name = `${name}_${f.decl.params.length}`;
      for (let i = 2; used.has(name); i++) name = `tapf_${f.name}_${i}`;
      used.add(name);
      this.funcNames.set(f, name);
    }
  }

  private funcRet(f: FuncSym): Ty {
    return this.r.types.funcs.get(f)?.ret ?? 'long';
  }

  private paramTypes(f: FuncSym): Ty[] {
    const t = this.r.types.funcs.get(f);
    return f.decl.params.map((_, i) => t?.params[i] ?? 'long');
  }

  private signature(f: FuncSym): string {
    const ret = this.funcRet(f);
    const params = ['struct tap_context *c'];
    if (ret === 'string') params.push('char *__ret');
    this.paramTypes(f).forEach((t, i) => params.push(t === 'string' ? `const char *a_${f.decl.params[i]!.name}` : `long a_${f.decl.params[i]!.name}`));
    return `static __maybe_unused ${ret === 'string' ? 'void' : 'long'} ${this.funcNames.get(f)}(${params.join(', ')})`;
  }

  private emitFunctionPrototypes(): void {
    if (this.r.functions.length === 0) return;
    this.out.line('/* functions */');
    for (const u of this.r.functions) this.out.line(`${this.signature(u.func!)};`);
    this.out.line('');
  }

  private emitEmbeddedDecls(): void {
    for (const d of this.r.embedded) this.out.origin(d.span).raw(d.code.code);
    if (this.r.embedded.length) this.out.line('');
  }

  // ---- units ----

  /** Emits a function or probe handler into unitBodies; returns the handler's C name for probes. */
  private emitUnit(u: Unit, probe: DerivedProbe | undefined, probeIndex = 0): string {
    const f = u.func;
    const cname = f ? this.funcNames.get(f)! : `tap_probe_${probeIndex}`;
    const frame = new Frame(`tapframe_${cname}`);
    const w = new CWriter();
    const ctx: UnitCtx = {
      unit: u, frame, w, errLabel: 'out', outLabel: 'out', retType: f ? this.funcRet(f) : undefined,
      isFunction: !!f, probe, locals: new Map(), labels: 0,
      entry: probe && probe.isReturn && isFunctionFamily(probe.family) ? { struct: `tapentry_${cname}`, slots: [] } : undefined,
      tpArgs: probe && probe.family === 'kernel.trace' ? this.usesTracepointArgs(u, probe) : undefined,
    };
    try {
      if (probe && !PROBE_FAMILIES_BUILT.has(probe.family)) throw new Unsupported(unbuiltFamily(probe.family), u.bodies[0]?.span);
      if (f && f.decl.body.kind === 'embedded') {
        this.emitEmbeddedFunction(f, f.decl.body, w);
        this.unitBodies.push(w.text());
        return cname;
      }
      for (const v of u.locals.values()) {
        const t = this.r.types.vars.get(v)?.value ?? 'long';
        const field = `v_${v.name}`;
        ctx.locals.set(v, `l->${field}`);
        frame.fields.push(t === 'string' ? `char ${field}[TAP_MAXSTRINGLEN];` : `long ${field};`);
      }
      const body = new CWriter();
      const bctx = { ...ctx, w: body };
      if (probe) for (const cond of probe.conditions) {
        const m = frame.mark();
        const v = this.expr(bctx, cond);
        body.line(`if (!(${v}))`).line(`\tgoto out;`);
        frame.release(m);
      }
      for (const b of u.bodies) this.block(bctx, b);
      if (ctx.entry && ctx.entry.slots.length) {
        this.emitEntryHandler(ctx, `${cname}_entry`, w);
        this.entryHandlers.set(probeIndex, { fn: `${cname}_entry`, struct: ctx.entry.struct });
      }

      if (frame.fields.length === 0) frame.fields.push('char __unused;');
      w.open(`struct ${frame.structName}`);
      for (const fl of frame.fields) w.line(fl);
      w.close(';');
      w.line('');
      if (f) {
        const ret = this.funcRet(f);
        w.line(this.signature(f));
        w.open('');
        w.line(`struct ${frame.structName} *l;`);
        w.line('u32 __mark;');
        if (ret !== 'string') w.line('long __retval = 0;');
        else w.line(`__ret[0] = '\\0';`);
        w.line('');
        w.line(`c->last_stmt = ${this.identifierAt(f.name, { ...f.decl.span, offset: f.decl.span.offset + 'function'.length })};`);
        w.line('TAP_FUNC_ENTER(c, out_nesting);');
        w.line('__mark = TAP_FRAME_MARK(c);');
        w.line('l = tap_frame_push(c, sizeof(*l));');
        w.line('if (!l)');
        w.line('\tgoto out;');
        this.initLocals(ctx, w);
        f.decl.params.forEach((p, i) => {
          const v = u.locals.get(p.name);
          const dst = v ? ctx.locals.get(v) : undefined;
          if (!dst) return;
          if (this.paramTypes(f)[i] === 'string') w.line(`strscpy(${dst}, a_${p.name}, TAP_MAXSTRINGLEN);`);
          else w.line(`${dst} = a_${p.name};`);
        });
        w.raw(indentBlock(body.text(), 1));
        w.label('out');
        w.line('TAP_FRAME_POP(c, __mark);');
        w.line('TAP_FUNC_EXIT(c);');
        w.label('out_nesting');
        w.line(ret === 'string' ? 'return;' : 'return __retval;');
        w.close();
      } else {
        w.line(`static void ${cname}(struct tap_context *c)`);
        w.open('');
        w.line(`struct ${frame.structName} *l;`);
        w.line('u32 __mark = TAP_FRAME_MARK(c);');
        w.line('');
        w.line('l = tap_frame_push(c, sizeof(*l));');
        w.line('if (!l)');
        w.line('\tgoto out;');
        this.initLocals(ctx, w);
        w.raw(indentBlock(body.text(), 1));
        w.label('out');
        w.line('TAP_FRAME_POP(c, __mark);');
        w.close();
        if (ctx.tpArgs) {
          // The tracepoint calls this with its TP_PROTO arguments, each in an integer register or
          // stack slot: taken as unsigned longs, cut to their types' sizes where they are read.
          const n = ctx.tpArgs.args.length;
          const params = ctx.tpArgs.args.map((_, i) => `unsigned long a${i}`);
          w.line('');
          w.line(`static void ${cname}_tp(${['void *data', ...params].join(', ')})`);
          w.open('');
          w.line(`unsigned long args[${Math.max(n, 1)}] = { ${n ? ctx.tpArgs.args.map((_, i) => `a${i}`).join(', ') : '0'} };`);
          w.line('');
          w.line(`tap_tp_args_hit(data, args, ${n});`);
          w.close();
          this.tpArgProbes.set(probeIndex, { fn: `${cname}_tp`, fields: ctx.tpArgs.fields });
        }
      }
      w.line('');
      this.unitBodies.push(w.text());
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      this.problems.push({ message: e.message, span: e.span });
      this.unitBodies.push(`/* ${cname}: not translated (${e.message.replace(/\*\//g, '* /')}) */\n`);
    }
    return cname;
  }

  /**
   * The kretprobe entry handler of a .return probe: evaluates every slot's expression with the
   * registers of the call (so `$param` is the argument) into the instance's data.
   */
  private emitEntryHandler(ret: UnitCtx, name: string, w: CWriter): void {
    const entry = ret.entry!;
    w.open(`struct ${entry.struct}`);
    entry.slots.forEach((s, i) => w.line(s.ty === 'string' ? `char e${i}[TAP_MAXSTRINGLEN];` : `long e${i};`));
    w.close(';');
    w.line('');
    const frame = new Frame(`tapframe_${name}`);
    const body = new CWriter();
    const ctx: UnitCtx = { ...ret, frame, w: body, errLabel: 'out', outLabel: 'out', locals: new Map(), labels: 0, entry: undefined, atEntry: true };
    body.line(`d = (struct ${entry.struct} *)c->ri->data;`);
    entry.slots.forEach((s, i) => {
      const m = frame.mark();
      body.origin(s.expr.span);
      const v = this.expr(ctx, s.expr);
      body.line(s.ty === 'string' ? `strscpy(d->e${i}, ${v}, TAP_MAXSTRINGLEN);` : `d->e${i} = ${v};`);
      frame.release(m);
    });
    if (frame.fields.length === 0) frame.fields.push('char __unused;');
    w.open(`struct ${frame.structName}`);
    for (const fl of frame.fields) w.line(fl);
    w.close(';');
    w.line('');
    w.line(`static void ${name}(struct tap_context *c)`);
    w.open('');
    w.line(`struct ${frame.structName} *l;`);
    w.line(`struct ${entry.struct} *d;`);
    w.line('u32 __mark = TAP_FRAME_MARK(c);');
    w.line('');
    w.line('l = tap_frame_push(c, sizeof(*l));');
    w.line('if (!l)');
    w.line('\tgoto out;');
    w.raw(indentBlock(body.text(), 1));
    w.label('out');
    w.line('TAP_FRAME_POP(c, __mark);');
    w.close();
    w.line('');
  }

  /**
   * A value that a return probe reads as it was at function entry: in the entry handler the
   * expression itself, in the return handler its slot.
   */
  private entryValue(ctx: UnitCtx, node: Expr, evaluate: Expr): string {
    if (ctx.atEntry) return this.expr(ctx, evaluate);
    if (!ctx.entry) throw new Unsupported('@entry() is only available in .return probes of kernel functions', node.span);
    const ty = this.typeOf(ctx, node) === 'string' ? 'string' : 'long';
    const i = ctx.entry.slots.push({ expr: evaluate, ty }) - 1;
    return `((struct ${ctx.entry.struct} *)c->ri->data)->e${i}`;
  }

  private initLocals(ctx: UnitCtx, w: CWriter): void {
    for (const [v, c] of ctx.locals) {
      const t = this.r.types.vars.get(v)?.value ?? 'long';
      w.line(t === 'string' ? `${c}[0] = '\\0';` : `${c} = 0;`);
    }
  }

  private emitEmbeddedFunction(f: FuncSym, code: EmbeddedCode, w: CWriter): void {
    const ret = this.funcRet(f);
    const params = f.decl.params.map((p) => p.name);
    w.line(this.signature(f));
    w.open('');
    if (ret !== 'string') w.line('long __retval = 0;');
    else w.line(`__ret[0] = '\\0';`);
    // Faults inside a library function point at its name, as stap's do; error() reports its message verbatim.
    if (f.name === 'error' && f.file !== undefined) w.line('c->last_stmt = NULL;');
    else w.line(`c->last_stmt = ${this.identifierAt(f.name, { ...f.decl.span, offset: f.decl.span.offset + 'function'.length })};`);
    // Old-style embedded C (before STAP_ARG_*): THIS->param and THIS->__retvalue.
    const oldStyle = /\bTHIS\b/.test(code.code);
    if (oldStyle) {
      const types = this.paramTypes(f);
      const fields = [...params.map((p, i) => (types[i] === 'string' ? `const char *${p};` : `long ${p};`)), ret === 'string' ? 'char *__retvalue;' : 'long __retvalue;'];
      const inits = [...params.map((p) => `a_${p}`), ret === 'string' ? '__ret' : '0'];
      w.line(`struct { ${fields.join(' ')} } __this = { ${inits.join(', ')} }, *THIS __maybe_unused = &__this;`);
    }
    const defs = [
      '#define CONTEXT c',
      ...params.map((p) => `#define STAP_ARG_${p} (a_${p})`),
      ret === 'string' ? '#define STAP_RETVALUE __ret' : oldStyle ? '#define STAP_RETVALUE (THIS->__retvalue)' : '#define STAP_RETVALUE __retval',
      ret === 'string'
        ? '#define STAP_RETURN(v) do { strscpy(__ret, (v), TAP_MAXSTRINGLEN); goto __out; } while (0)'
        : `#define STAP_RETURN(v) do { STAP_RETVALUE = (long)(v); goto __out; } while (0)`,
      '#define STAP_ERROR(...) do { tap_error(c, __VA_ARGS__); goto __out; } while (0)',
      '#define STAP_WARN(...) tap_warn(__VA_ARGS__)',
      // abort(): the runtime has no "stop without end probes" yet, so this is exit() plus leaving the function.
      '#define STAP_ABORT() do { tap_exit(); goto __out; } while (0)',
    ];
    w.raw(defs.join('\n'));
    w.origin(code.span);
    w.line('{');
    w.raw(code.code);
    w.line('}');
    w.raw('__out: __attribute__((unused));');
    if (oldStyle && ret !== 'string') w.line('__retval = THIS->__retvalue;');
    w.raw(defs.map((d) => `#undef ${d.split(/[ (]/)[1]}`).join('\n'));
    w.line(ret === 'string' ? 'return;' : 'return __retval;');
    w.close();
    w.line('');
  }

  // ---- statements ----

  private block(ctx: UnitCtx, b: Block): void {
    const live = b.stmts.filter((s) => s.kind !== 'empty' && s.kind !== 'block' && !this.r.elision.stmts.has(s));
    if (live.length > 0) {
      this.setLast(ctx, this.tokenAt(live[0]!.span));
      ctx.w.line(`TAP_ACTIONS(c, ${live.length}, ${ctx.errLabel});`);
    }
    for (const s of b.stmts) this.stmt(ctx, s);
  }

  private check(ctx: UnitCtx): void {
    ctx.w.line(`TAP_CHECK(c, ${ctx.errLabel});`);
  }

  private stmt(ctx: UnitCtx, s: Stmt): void {
    if (this.r.elision.stmts.has(s)) return;
    const w = ctx.w;
    const m = ctx.frame.mark();
    if (s.kind !== 'block') w.origin(s.span);
    switch (s.kind) {
      case 'block':
        w.open('');
        this.block(ctx, s);
        w.close();
        break;
      case 'empty':
        break;
      case 'exprStmt': {
        const v = this.expr(ctx, s.expr, true);
        if (v && v !== '0') w.line(`(void)(${v});`);
        break;
      }
      case 'if': {
        // `if (@defined($x))` is decided for this probe point: only the branch taken is translated
        // (the other may name variables this point does not have).
        const decided = this.definedCond(ctx, s.cond);
        if (decided !== undefined) {
          const taken = decided ? s.then : s.else;
          if (taken) {
            w.open('');
            this.body(ctx, taken);
            w.close();
          }
          break;
        }
        const cond = this.expr(ctx, s.cond);
        w.open(`if (${cond})`);
        this.body(ctx, s.then);
        if (s.else) {
          w.orElse();
          this.body(ctx, s.else);
        }
        w.close();
        break;
      }
      case 'while': {
        w.open('for (;;)');
        const cond = this.expr(ctx, s.cond);
        w.line(`if (!(${cond}))`).line('\tbreak;');
        this.setLast(ctx, this.tokenAt(s.body.kind === 'block' && s.body.stmts[0] ? s.body.stmts[0].span : s.body.span));
        w.line(`TAP_ACTIONS(c, 1, ${ctx.errLabel});`);
        this.body(ctx, s.body);
        w.close();
        break;
      }
      case 'for': {
        if (s.init && !this.r.elision.exprs.has(s.init)) {
          const v = this.expr(ctx, s.init, true);
          if (v) w.line(`(void)(${v});`);
        }
        ctx.frame.release(m);
        const step = `__cont_${ctx.labels++}`;
        w.open('for (;;)');
        if (s.cond) {
          const cond = this.expr(ctx, s.cond);
          w.line(`if (!(${cond}))`).line('\tbreak;');
        }
        w.line(`TAP_ACTIONS(c, 1, ${ctx.errLabel});`);
        // `continue` in the body must still run the step: route it through a label.
        const inner = { ...ctx, continueLabel: step } as UnitCtx;
        w.open('');
        this.bodyWithContinue(inner, s.body, step);
        w.close();
        w.label(step);
        if (s.step && !this.r.elision.exprs.has(s.step)) {
          const v = this.expr(ctx, s.step, true);
          if (v) w.line(`(void)(${v});`);
        } else {
          w.line(';');
        }
        w.close();
        break;
      }
      case 'foreach':
        this.foreach(ctx, s);
        break;
      case 'return': {
        if (!ctx.isFunction) {
          w.line(`goto ${ctx.outLabel};`);
          break;
        }
        if (s.value) {
          const v = this.expr(ctx, s.value);
          if (ctx.retType === 'string') w.line(`strscpy(__ret, ${v}, TAP_MAXSTRINGLEN);`);
          else w.line(`__retval = ${v};`);
        }
        w.line(`goto ${ctx.outLabel};`);
        break;
      }
      case 'delete':
        this.delete(ctx, s);
        break;
      case 'try':
        this.tryStmt(ctx, s);
        break;
      case 'next':
        w.line(`goto ${ctx.outLabel};`);
        break;
      case 'break':
        w.line('break;');
        break;
      case 'continue': {
        const label = (ctx as UnitCtx & { continueLabel?: string }).continueLabel;
        w.line(label ? `goto ${label};` : 'continue;');
        break;
      }
      default:
        assertNever(s, 'statement');
    }
    ctx.frame.release(m);
  }

  private body(ctx: UnitCtx, s: Stmt): void {
    if (s.kind === 'block') this.block(ctx, s);
    else this.stmt(ctx, s);
  }

  /** A loop body where `continue` means "go to the step label" (for-loops). Nested loops reset it. */
  private bodyWithContinue(ctx: UnitCtx, s: Stmt, label: string): void {
    const c = { ...ctx, continueLabel: label } as UnitCtx;
    this.body(c, s);
  }

  private tryStmt(ctx: UnitCtx, s: TryStmt): void {
    const w = ctx.w;
    const n = ctx.labels++;
    const catchLabel = `__catch_${n}`;
    const endLabel = `__tried_${n}`;
    w.open('');
    this.block({ ...ctx, errLabel: catchLabel }, s.body);
    w.line(`goto ${endLabel};`);
    w.close();
    w.label(catchLabel);
    w.open('');
    if (s.catchVar) {
      const v = ctx.unit.locals.get(s.catchVar);
      const dst = v ? ctx.locals.get(v) : undefined;
      if (dst) w.line(`strscpy(${dst}, tap_error_msg(c), TAP_MAXSTRINGLEN);`);
    }
    w.line('tap_error_clear(c);');
    this.block(ctx, s.handler);
    w.close();
    w.label(endLabel);
    w.line(';');
  }

  /** `foreach (j in @hist_log(s))`: every bucket index in order (stap 4.8), `j-` backwards, with `limit`. */
  private foreachHist(ctx: UnitCtx, s: ForeachStmt, h: HistOp): void {
    const w = ctx.w;
    if (s.keys.length !== 1 || s.value || s.slice || s.arraySort) throw new Unsupported('foreach over a histogram takes one bucket index', s.span);
    const agg = this.aggOf(ctx, h.operand);
    this.setLast(ctx, cString(`operator '@${h.op}' at ${h.span.file}:${h.span.line}:${h.span.col}`));
    w.line(`if (!${agg}->buckets || !${agg}->count)`).line('\ttap_error(c, "empty aggregate");');
    this.check(ctx);
    const n = ctx.frame.longTemp();
    const k = ctx.frame.longTemp();
    w.line(`${n} = ${agg}->hist->nbuckets;`);
    let limit: string | undefined;
    if (s.limit) {
      const lim = this.expr(ctx, s.limit);
      const cnt = ctx.frame.longTemp();
      const max = ctx.frame.longTemp();
      w.line(`${max} = ${lim};`);
      w.line(`${cnt} = 0;`);
      limit = `${cnt}++ >= ${max}`;
    }
    const down = s.keys[0]!.sort < 0;
    w.open(down ? `for (${k} = ${n} - 1; ${k} >= 0; ${k}--)` : `for (${k} = 0; ${k} < ${n}; ${k}++)`);
    if (limit) w.line(`if (${limit})`).line('\tbreak;');
    w.line(`${this.localOf(ctx, s.keys[0]!)} = ${k};`);
    w.line(`TAP_ACTIONS(c, 1, ${ctx.errLabel});`);
    this.body({ ...ctx, continueLabel: undefined } as UnitCtx, s.body);
    w.close();
  }

  private foreach(ctx: UnitCtx, s: ForeachStmt): void {
    const w = ctx.w;
    if (s.array.kind === 'hist') return this.foreachHist(ctx, s, s.array);
    const g = this.globalOfIndexable(ctx, s.array);
    if (!g.isArray) throw new Unsupported(`foreach over ${g.sym.name}, which is not an array`, s.span);
    // Sort column: 0 = value, i = key i; direction +1/-1, 0 unsorted.
    let column = 0;
    let dir = 0;
    s.keys.forEach((k, i) => {
      if (k.sort !== 0) {
        column = i + 1;
        dir = k.sort;
      }
    });
    if (s.value?.sort) {
      column = 0;
      dir = s.value.sort;
    }
    if (s.arraySort) {
      column = 0;
      dir = s.arraySort;
    }
    const field = { count: 'TAP_AGG_COUNT', sum: 'TAP_AGG_SUM', min: 'TAP_AGG_MIN', max: 'TAP_AGG_MAX', avg: 'TAP_AGG_AVG', variance: 'TAP_AGG_COUNT' }[s.sortAggregate ?? 'count'];
    const e = ctx.frame.longTemp();
    let limitVar: string | undefined;
    if (s.limit) {
      const lim = this.expr(ctx, s.limit);
      limitVar = ctx.frame.longTemp();
      const cnt = ctx.frame.longTemp();
      w.line(`${limitVar} = ${lim};`);
      w.line(`${cnt} = 0;`);
      limitVar = `${cnt}++ >= ${limitVar}`;
    }
    const ent = `((struct tap_entry *)${e})`;
    w.open(`for (${e} = (long)tap_map_iter(${g.c}, ${column}, ${dir}, ${field}); ${e}; ${e} = (long)tap_map_next(${g.c}, ${ent}))`);
    if (limitVar) w.line(`if (${limitVar})`).line('\tbreak;');
    // Slice filter: keys given as expressions must match.
    if (s.slice) {
      s.slice.forEach((k, i) => {
        if (!k) return;
        const v = this.expr(ctx, k);
        if (g.keys[i] === 'string') w.line(`if (tap_strcmp(tap_key_str(${g.c}, ${ent}, ${i}), ${v}) != 0)`).line('\tcontinue;');
        else w.line(`if (tap_key_long(${g.c}, ${ent}, ${i}) != ${v})`).line('\tcontinue;');
      });
    }
    s.keys.forEach((k, i) => {
      const dst = this.localOf(ctx, k);
      if (g.keys[i] === 'string') w.line(`strscpy(${dst}, tap_key_str(${g.c}, ${ent}, ${i}), TAP_MAXSTRINGLEN);`);
      else w.line(`${dst} = tap_key_long(${g.c}, ${ent}, ${i});`);
    });
    if (s.value) {
      const dst = this.localOf(ctx, s.value);
      if (g.value === 'string') w.line(`strscpy(${dst}, tap_val_str(${g.c}, ${ent}), TAP_MAXSTRINGLEN);`);
      else if (g.value === 'long') w.line(`${dst} = tap_val_long(${g.c}, ${ent});`);
      else throw new Unsupported('a value variable in foreach over statistics', s.span);
    }
    w.line(`TAP_ACTIONS(c, 1, ${ctx.errLabel});`);
    this.body({ ...ctx, continueLabel: undefined } as UnitCtx, s.body);
    w.close();
  }

  private localOf(ctx: UnitCtx, node: SymbolRef | { kind: 'foreachKey'; name: string; span: Span }): string {
    const sym = ctx.unit.bindings.get(node as SymbolRef) ?? ctx.unit.locals.get(node.name);
    if (sym && sym.kind === 'var') {
      const l = ctx.locals.get(sym);
      if (l) return l;
      const g = this.globals.get(sym);
      if (g && !g.isArray) return g.c;
    }
    throw new Unsupported(`cannot find the variable ${node.name}`, node.span);
  }

  private delete(ctx: UnitCtx, s: DeleteStmt): void {
    const w = ctx.w;
    const t = s.target;
    if (t.kind === 'symbol') {
      const sym = ctx.unit.bindings.get(t);
      if (!sym || sym.kind !== 'var') throw new Unsupported(`delete of ${t.name}`, t.span);
      const g = this.globals.get(sym);
      if (g) {
        if (g.isArray) w.line(`tap_map_clear(${g.c});`);
        else if (g.value === 'stats') w.line(`tap_stat_clear(${g.c});`);
        else if (g.value === 'string') w.line(`${g.c}[0] = '\\0';`);
        else w.line(`${g.c} = 0;`);
        return;
      }
      const l = ctx.locals.get(sym)!;
      w.line((this.r.types.vars.get(sym)?.value ?? 'long') === 'string' ? `${l}[0] = '\\0';` : `${l} = 0;`);
      return;
    }
    if (t.kind === 'index') {
      const g = this.globalOfIndexable(ctx, t.base);
      if (t.keys.some((k) => k === null)) {
        // delete a[*, k]: walk and delete matching entries (the map tolerates deletion of the current entry).
        const e = ctx.frame.longTemp();
        const nxt = ctx.frame.longTemp();
        const ent = `((struct tap_entry *)${e})`;
        const conds: string[] = [];
        t.keys.forEach((k, i) => {
          if (!k) return;
          const v = this.expr(ctx, k);
          conds.push(g.keys[i] === 'string' ? `tap_strcmp(tap_key_str(${g.c}, ${ent}, ${i}), ${v}) == 0` : `tap_key_long(${g.c}, ${ent}, ${i}) == ${v}`);
        });
        w.open(`for (${e} = (long)tap_map_iter(${g.c}, 0, 0, TAP_AGG_COUNT); ${e}; ${e} = ${nxt})`);
        w.line(`${nxt} = (long)tap_map_next(${g.c}, ${ent});`);
        const keyArgs = g.keys.map((k, i) => (k === 'string' ? `tap_key_str(${g.c}, ${ent}, ${i})` : `tap_key_long(${g.c}, ${ent}, ${i})`));
        w.line(`if (${conds.length ? conds.join(' && ') : '1'})`).line(`\ttap_map_delete(${g.c}, ${keyArgs.join(', ')});`);
        w.close();
        return;
      }
      const keys = this.keys(ctx, g, t);
      w.line(`tap_map_delete(${g.c}, ${keys});`);
      return;
    }
    throw new Unsupported(`delete of a ${t.kind} expression`, t.span);
  }

  // ---- expressions ----

  private typeOf(ctx: UnitCtx, e: Expr): Ty {
    return ctx.unit.exprTypes.get(e) ?? 'long';
  }

  private globalOfIndexable(ctx: UnitCtx, e: Indexable | Expr): GlobalInfo {
    const sym = this.symOfIndexable(ctx.unit, e);
    const g = sym ? this.globals.get(sym) : undefined;
    if (!g) throw new Unsupported('indexing something that is not a global array', e.span);
    return g;
  }

  /** Key arguments for a map call, evaluated left to right into temporaries where needed. */
  private keys(ctx: UnitCtx, g: GlobalInfo, ix: ArrayIndex | { keys: readonly (Expr | null)[]; span: Span }): string {
    if (ix.keys.some((k) => !k)) throw new Unsupported('a * key outside foreach/delete', ix.span);
    return this.operands(ctx, ix.keys, (v, _e, i) => (g.keys[i] === 'string' ? `(const char *)(${v})` : `(long)(${v})`)).join(', ');
  }

  /** Whether evaluating `e` can change a variable or produce output (so earlier operands must be snapshotted). */
  private hasEffects(e: Expr | null): boolean {
    if (!e) return false;
    if (e.kind === 'assign' || e.kind === 'crement' || e.kind === 'call' || (e.kind === 'print' && !e.name.startsWith('s'))) return true;
    return exprChildren(e).some((c) => this.hasEffects(c));
  }

  /**
   * Evaluates operands left to right as stap does: a plain variable read is copied when a later
   * operand has side effects, so `printf("%d %d", i, i++)` sees the value before the increment.
   */
  private operands(ctx: UnitCtx, exprs: readonly (Expr | null)[], wrap: (v: string, e: Expr, i: number) => string = (v) => v): string[] {
    return exprs.map((e, i) => {
      if (!e) throw new Unsupported('a * key outside foreach/delete', undefined);
      let v = this.expr(ctx, e);
      if (/^(l->v_\w+|g_\w+)$/.test(v) && exprs.slice(i + 1).some((x) => this.hasEffects(x))) {
        const string = this.typeOf(ctx, e) === 'string';
        const t = string ? ctx.frame.strTemp() : ctx.frame.longTemp();
        ctx.w.line(string ? `strscpy(${t}, ${v}, TAP_MAXSTRINGLEN);` : `${t} = ${v};`);
        v = t;
      }
      return wrap(v, e, i);
    });
  }

  /**
   * Emits the statements an expression needs and returns a C expression for its value (a
   * `const char *` for strings). `discard` marks a statement-level expression.
   */
  private expr(ctx: UnitCtx, e: Expr, discard = false): string {
    const w = ctx.w;
    switch (e.kind) {
      case 'number':
        if (e.value === null) throw new Unsupported(`invalid number ${e.text}`, e.span);
        return longLiteral(e.value);
      case 'string':
        return cString(e.value);
      case 'symbol': {
        const sym = ctx.unit.bindings.get(e);
        if (!sym || sym.kind !== 'var') throw new Unsupported(`unresolved symbol ${e.name}`, e.span);
        const l = ctx.locals.get(sym);
        if (l) return l;
        const g = this.globals.get(sym);
        if (!g) throw new Unsupported(`unknown variable ${e.name}`, e.span);
        if (g.value === 'stats' || g.isArray) throw new Unsupported(`${e.name} used as a scalar`, e.span);
        return g.c;
      }
      case 'index': {
        if (e.base.kind === 'hist') return this.histBucket(ctx, e.base, e.keys, e.span);
        const g = this.globalOfIndexable(ctx, e.base);
        const keys = this.keys(ctx, g, e);
        if (g.value === 'string') {
          const t = ctx.frame.strTemp();
          w.line(`strscpy(${t}, tap_map_get_str(${g.c}, ${keys}), TAP_MAXSTRINGLEN);`);
          return t;
        }
        if (g.value === 'stats') throw new Unsupported('a statistics element read without an aggregate (@count, ...)', e.span);
        const t = ctx.frame.longTemp();
        w.line(`${t} = tap_map_get_long(${g.c}, ${keys});`);
        return t;
      }
      case 'call':
        return this.call(ctx, e);
      case 'print':
        return this.print(ctx, e);
      case 'binary':
        return this.binary(ctx, e);
      case 'unary': {
        const v = this.expr(ctx, e.operand);
        if (e.op === '!') return `(!(${v}))`;
        if (e.op === '~') return `(~(${v}))`;
        if (e.op === '-') return `((long)(0UL - (unsigned long)(${v})))`;
        return `(${v})`;
      }
      case 'crement':
        return this.crement(ctx, e, discard);
      case 'assign':
        return this.assign(ctx, e, discard);
      case 'ternary': {
        const decided = this.definedCond(ctx, e.cond);
        if (decided !== undefined) return this.expr(ctx, decided ? e.then : e.else);
        const ty = this.typeOf(ctx, e);
        const cond = this.expr(ctx, e.cond);
        const t = ty === 'string' ? ctx.frame.strTemp() : ctx.frame.longTemp();
        w.open(`if (${cond})`);
        const a = this.expr(ctx, e.then);
        w.line(ty === 'string' ? `strscpy(${t}, ${a}, TAP_MAXSTRINGLEN);` : `${t} = ${a};`);
        w.orElse();
        const b = this.expr(ctx, e.else);
        w.line(ty === 'string' ? `strscpy(${t}, ${b}, TAP_MAXSTRINGLEN);` : `${t} = ${b};`);
        w.close();
        return t;
      }
      case 'in': {
        // stap 4.8: `i in @hist_log(s)` is bucket i's count, as @hist_log(s)[i] is.
        if (e.array.kind === 'hist') return this.histBucket(ctx, e.array, e.keys, e.span);
        const g = this.globalOfIndexable(ctx, e.array);
        if (e.keys.some((k) => k === null)) throw new Unsupported('`in` with a * key', e.span);
        const keys = this.keys(ctx, g, e);
        const t = ctx.frame.longTemp();
        w.line(`${t} = tap_map_exists(${g.c}, ${keys});`);
        return t;
      }
      case 'stat':
        return this.statOp(ctx, e);
      case 'hist':
        throw new Unsupported('a histogram outside print()', e.span);
      case 'regex': {
        const v = this.expr(ctx, e.left);
        const fn = this.regexFunction(e.pattern.value, e.pattern.span);
        return e.op === '=~' ? `${fn}(${v})` : `(!${fn}(${v}))`;
      }
      case 'target':
        // --skip-badvars: a variable this point does not have reads as 0 (pass 2 said which).
        if (this.r.badTargets?.has(e)) return '0L';
        // In a .return probe a parameter (and anything built on it) is its value at entry, as in stap.
        if (ctx.entry && e.name !== 'return') return this.entryValue(ctx, e, e);
        return this.targetVar(ctx, e);
      case 'entry':
        return this.entryValue(ctx, e, e.operand);
      case 'embedded': {
        // Guru mode's `%{ C %}` as an expression (pass 2 allowed it only with -g): a long, or a
        // string with /* string */. CONTEXT is the probe context, as in embedded functions.
        const code = e.code.trim() || '0';
        if (this.typeOf(ctx, e) === 'string') {
          const t = ctx.frame.strTemp();
          w.line(`{ struct tap_context *CONTEXT __maybe_unused = c; strscpy(${t}, (const char *)(${code}), TAP_MAXSTRINGLEN); }`);
          return t;
        }
        const t = ctx.frame.longTemp();
        w.line(`{ struct tap_context *CONTEXT __maybe_unused = c; ${t} = (long)(${code}); }`);
        return t;
      }
      case 'cast':
        return this.castExpr(ctx, e);
      case 'contextVars':
        return this.contextVars(ctx, e);
      case 'defined':
        return this.definedHere(ctx, e.operand) ? '1L' : '0L';
      case 'autocast':
        return this.autocastExpr(ctx, e);
      case 'atVar':
      case 'perf':
      case 'probewrite':
      case 'const':
      case 'register':
      case 'deref':
        throw new Unsupported(`@${e.kind} is not built yet`, e.span);
      default:
        return assertNever(e, 'expression');
    }
  }

  private targetVar(ctx: UnitCtx, e: Extract<Expr, { kind: 'target' }>): string {
    const p = ctx.probe;
    if (p && (p.family === 'kernel.function' || p.family === 'kprobe.function')) return this.functionTarget(ctx, e, p);
    if (!p || p.family !== 'kernel.trace') throw new Unsupported(`$${e.name}: target variables are available in kernel.function and kernel.trace probes`, e.span);
    const args = this.tracepointArgsOf(p);
    if (args?.args.some((a) => a.name === e.name) && (ctx.tpArgs || !this.opts.kernel?.tracepoints.get(`${p.detail['system']}:${p.detail['event']}`)?.fields.some((f) => f.name === e.name))) {
      // A TP_PROTO argument (stap's tracepoint variables): the probe is attached to the tracepoint itself.
      this.setLast(ctx, cString(`identifier '$${e.name}' at ${e.span.file}:${e.span.line}:${e.span.col}`));
      if (e.pretty) return this.prettyTarget(ctx, e, args.btf, (want) => resolveTracepointTarget(args, e.name, e.components, want));
      const r = resolveTracepointTarget(args, e.name, e.components, e.addressOf);
      if (!r.ok) throw new Unsupported(r.message, e.span);
      return this.addressOrValue(ctx, r.plan, e);
    }
    if (e.components.length || e.pretty || e.addressOf) throw new Unsupported(`$${e.name} with members or pretty-printing`, e.span);
    const tp = this.opts.kernel?.tracepoints.get(`${p.detail['system']}:${p.detail['event']}`);
    if (!tp) throw new Unsupported(`no field layout for ${p.point} (no kernel model)`, e.span);
    const f: TracepointField | undefined = tp.fields.find((x) => x.name === e.name);
    if (!f) throw new Unsupported(`${p.point} has no field ${e.name}; it has ${tp.fields.filter((x) => !x.common).map((x) => x.name).join(', ')}`, e.span);
    if (/^__data_loc\b/.test(f.decl)) {
      const t = ctx.frame.strTemp();
      ctx.w.line(`tap_tp_dynstring(c, ${t}, ${f.offset});`);
      return t;
    }
    if (/\bchar\s+\w+\s*\[\d+\]$/.test(f.decl)) {
      const t = ctx.frame.strTemp();
      ctx.w.line(`tap_tp_string(c, ${t}, ${f.offset}, ${f.size});`);
      return t;
    }
    if (![1, 2, 4, 8].includes(f.size)) throw new Unsupported(`field ${e.name} (${f.decl}) is not a number or string`, e.span);
    return `tap_tp_field(c, ${f.offset}, ${f.size}, ${f.signed ? 1 : 0})`;
  }

  /** The C matcher of a regex literal (one per distinct pattern, tables emitted before the handlers). */
  private regexFunction(pattern: string, span: Span): string {
    let name = this.regexes.get(pattern);
    if (name) return name;
    let re: CompiledRegex;
    try {
      re = compileRegex(pattern);
    } catch (err) {
      if (err instanceof RegexError) throw new Unsupported(`regular expression ${JSON.stringify(pattern)}: ${err.message}`, span);
      throw err;
    }
    name = `tap_regex_${this.regexes.size}`;
    this.regexes.set(pattern, name);
    this.regexDecls.push(regexC(name, pattern, re));
    return name;
  }

  /** `@defined(X)` / `!@defined(X)` (also `&&`/`||` of them): its value at this probe point, else undefined. */
  private definedCond(ctx: UnitCtx, e: Expr): boolean | undefined {
    if (e.kind === 'defined') return this.definedHere(ctx, e.operand);
    if (e.kind === 'unary' && e.op === '!') {
      const v = this.definedCond(ctx, e.operand);
      return v === undefined ? undefined : !v;
    }
    if (e.kind === 'binary' && (e.op === '&&' || e.op === '||')) {
      const a = this.definedCond(ctx, e.left);
      const b = this.definedCond(ctx, e.right);
      if (a === undefined || b === undefined) return undefined;
      return e.op === '&&' ? a && b : a || b;
    }
    return undefined;
  }

  /** Whether a target expression resolves at this probe point (stap's @defined). */
  private definedHere(ctx: UnitCtx, x: Expr): boolean {
    const p = ctx.probe;
    if (x.kind === 'cast') {
      const btf = modelBtf(this.opts.kernel);
      return !!btf && resolveCast(btf, x.type, x.components).ok;
    }
    if (x.kind === 'contextVars') return !!p && isFunctionFamily(p.family);
    if (x.kind === 'atVar') return false;
    if (x.kind === 'autocast') {
      const struct = this.r.autocastTypes?.get(x);
      const btf = modelBtf(this.opts.kernel);
      return !!struct && !!btf && resolveCast(btf, struct, x.components, x.pretty > 0 || x.addressOf).ok;
    }
    if (x.kind !== 'target') return true;
    if (!p) return false;
    if (p.family === 'procfs') return x.name === 'value';
    if (isFunctionFamily(p.family)) {
      const btf = modelBtf(this.opts.kernel);
      if (!btf) return false;
      const wantAddress = x.pretty > 0 || x.addressOf;
      return resolveTarget(btf, String(p.detail['function']), p.isReturn && x.name === 'return', x.name, x.components, wantAddress).ok;
    }
    if (p.family === 'kernel.trace') {
      const args = this.tracepointArgsOf(p);
      if (args?.args.some((a) => a.name === x.name)) return resolveTracepointTarget(args, x.name, x.components, x.pretty > 0 || x.addressOf).ok;
      return !x.components.length && !!this.opts.kernel?.tracepoints.get(`${p.detail['system']}:${p.detail['event']}`)?.fields.some((f) => f.name === x.name);
    }
    return false;
  }

  /** The TP_PROTO arguments of a kernel.trace probe's event, from BTF (undefined without). */
  private tracepointArgsOf(p: DerivedProbe): { btf: Btf; args: BtfParam[] } | undefined {
    if (p.family !== 'kernel.trace') return undefined;
    return modelTracepointTargets(this.opts.kernel, String(p.detail['system']), String(p.detail['event']));
  }

  /** Whether a tracepoint probe's handler reads TP_PROTO arguments (then it is attached to the tracepoint, not its perf event). */
  private usesTracepointArgs(u: Unit, p: DerivedProbe): { btf: Btf; args: BtfParam[]; fields: boolean } | undefined {
    const args = this.tracepointArgsOf(p);
    if (!args) return undefined;
    // A name that is also a numeric field of the trace record reads the same value either way: it
    // keeps the perf attachment, so format-only fields ($id in sys_exit) can be read beside it.
    const fields = this.opts.kernel?.tracepoints.get(`${p.detail['system']}:${p.detail['event']}`)?.fields ?? [];
    let uses = false;
    let fieldsToo = false;
    walkUnit(u, (e) => {
      if (e.kind !== 'target') return;
      if (!args.args.some((a) => a.name === e.name)) {
        // A field of the record only: with arguments too, the handler runs from the record.
        if (fields.some((x) => x.name === e.name)) fieldsToo = true;
        return;
      }
      const f = fields.find((x) => x.name === e.name);
      if (!f || e.components.length || e.pretty || e.addressOf || /^__data_loc\b|\[\d*\]$/.test(f.decl)) uses = true;
    });
    return uses ? { ...args, fields: fieldsToo } : undefined;
  }

  /** `$arg->member[i]...` in a kernel function probe, read through the fault-tolerant accessors (BTF layout). */
  private functionTarget(ctx: UnitCtx, e: Extract<Expr, { kind: 'target' }>, p: DerivedProbe): string {
    if (e.pretty) return this.prettyFunctionTarget(ctx, e, p);
    const btf = modelBtf(this.opts.kernel);
    if (!btf) throw new Unsupported(`$${e.name}: the kernel model has no BTF, so function arguments cannot be located`, e.span);
    const r = resolveTarget(btf, String(p.detail['function']), p.isReturn && e.name === 'return', e.name, e.components, e.addressOf);
    if (!r.ok) throw new Unsupported(r.message, e.span);
    this.setLast(ctx, cString(`identifier '$${e.name}' at ${e.span.file}:${e.span.line}:${e.span.col}`));
    return this.addressOrValue(ctx, r.plan, e);
  }

  /** A target's value, or with `&` its address (what lives in memory only: pass 2 refused the rest). */
  private addressOrValue(ctx: UnitCtx, plan: TargetPlan, e: TargetTail & { span: Span }, start?: string): string {
    if (!e.addressOf) return this.emitPlan(ctx, plan, e.components, start, e.span);
    const last = plan.steps[plan.steps.length - 1];
    if (!plan.steps.some((st) => st.kind === 'deref') && plan.base.kind !== 'expr') throw new Unsupported('it is held in a register: it has no address', e.span);
    if (last?.kind === 'load' && last.bitSize) throw new Unsupported('a bitfield has no address', e.span);
    return this.emitPlan(ctx, plan, e.components, start, e.span, true);
  }

  /** `@cast(addr, "struct T")->member...` through BTF. */
  private castExpr(ctx: UnitCtx, e: Extract<Expr, { kind: 'cast' }>): string {
    const btf = modelBtf(this.opts.kernel);
    if (!btf) throw new Unsupported('@cast needs the kernel model\'s BTF', e.span);
    if (e.pretty) {
      const addr = ctx.frame.longTemp();
      ctx.w.line(`${addr} = (long)(${this.expr(ctx, e.operand)});`);
      this.setLast(ctx, cString(`operator '@cast' at ${e.span.file}:${e.span.line}:${e.span.col}`));
      return this.prettyTarget(ctx, e, btf, (want) => resolveCast(btf, e.type, e.components, want), addr);
    }
    if (e.addressOf) {
      // &@cast(p, "T")->member: the member's address (never read).
      const r = resolveCast(btf, e.type, e.components, true);
      if (!r.ok) throw new Unsupported(r.message, e.span);
      return this.addressOrValue(ctx, r.plan, e, this.expr(ctx, e.operand));
    }
    const r = resolveCast(btf, e.type, e.components);
    if (!r.ok) throw new Unsupported(r.message, e.span);
    const addr = this.expr(ctx, e.operand);
    this.setLast(ctx, cString(`operator '@cast' at ${e.span.file}:${e.span.line}:${e.span.col}`));
    return this.emitPlan(ctx, r.plan, e.components, addr, e.span);
  }

  /**
   * `x->member` on a script value whose kernel type pass 2 worked out (a local holding `$p`, a
   * function returning a @cast, ...): read as `@cast(x, "struct T")->member` would be.
   */
  private autocastExpr(ctx: UnitCtx, e: Extract<Expr, { kind: 'autocast' }>): string {
    const struct = this.r.autocastTypes?.get(e);
    const btf = modelBtf(this.opts.kernel);
    if (!struct || !btf) throw new Unsupported(`'->' on a value whose kernel type is not known here: use @cast(value, "struct NAME")->member`, e.span);
    const start = this.expr(ctx, e.operand);
    const addr = ctx.frame.longTemp();
    ctx.w.line(`${addr} = (long)(${start});`);
    this.setLast(ctx, this.tokenAt(e.span));
    if (e.pretty) return this.prettyTarget(ctx, e, btf, (want) => resolveCast(btf, struct, e.components, want), addr);
    const r = resolveCast(btf, struct, e.components, e.addressOf);
    if (!r.ok) throw new Unsupported(r.message, e.span);
    return this.addressOrValue(ctx, r.plan, e, addr);
  }

  /** Emits the reads of a resolved target plan; `start` is the value for an 'expr' base. */
  private emitPlan(ctx: UnitCtx, plan: TargetPlan, components: readonly TargetComponent[], start: string | undefined, span: Span, addressOnly = false): string {
    const w = ctx.w;
    const v = ctx.frame.longTemp();
    const ext = (expr: string, size: number, signed: boolean) =>
      size >= 8 ? `(long)(${expr})` : `(long)(${signed ? 's' : 'u'}${size * 8})(${expr})`;
    switch (plan.base.kind) {
      case 'expr':
        w.line(`${v} = (long)(${start ?? '0'});`);
        break;
      case 'reg':
        w.line(`${v} = c->regs ? ${ext(`c->regs->${plan.base.reg}`, plan.baseSize, plan.baseSigned)} : 0;`);
        break;
      case 'return':
        w.line(`${v} = c->regs ? ${ext('regs_return_value(c->regs)', plan.baseSize, plan.baseSigned)} : 0;`);
        break;
      case 'tparg':
        // The tracepoint's arguments, one unsigned long each (tap_tp_args_hit); narrower types are cut to size.
        w.line(`${v} = ${ext(`tap_tp_arg(c, ${plan.base.index})`, plan.baseSize, plan.baseSigned)};`);
        break;
      case 'stack':
        w.line(`${v} = tap_tread(c, c->regs ? c->regs->sp + ${8 * (plan.base.slot + 1)} : 0, 8, 0);`);
        this.check(ctx);
        if (plan.baseSize < 8) w.line(`${v} = ${ext(v, plan.baseSize, plan.baseSigned)};`);
        break;
    }
    // `v` holds the current value or, after a deref, the current address.
    const last = plan.steps.length - 1;
    for (const [i, st] of plan.steps.entries()) {
      if (addressOnly && i === last && st.kind === 'load') break;
      switch (st.kind) {
        case 'deref':
          break;
        case 'offset':
          w.line(`${v} += ${st.bytes};`);
          break;
        case 'index': {
          const comp = components[st.index];
          if (!comp || comp.kind !== 'subscript') throw new Unsupported('a subscript the resolver could not place', span);
          const idx = this.expr(ctx, comp.index);
          w.line(`${v} += (long)(${idx}) * ${st.elemSize};`);
          break;
        }
        case 'load':
          w.line(`${v} = tap_tread(c, (unsigned long)${v}, ${st.size}, ${st.bitSize ? 0 : st.signed ? 1 : 0});`);
          this.check(ctx);
          if (st.bitSize) {
            const mask = st.bitSize >= 64 ? '~0UL' : `((1UL << ${st.bitSize}) - 1)`;
            w.line(`${v} = (long)(((unsigned long)${v} >> ${st.bitOffset ?? 0}) & ${mask});`);
            if (st.signed && st.bitSize < 64) w.line(`${v} = (${v} ^ (1L << ${st.bitSize - 1})) - (1L << ${st.bitSize - 1});`);
          }
          break;
        default:
          assertNever(st, 'target step');
      }
    }
    if (plan.result.kind === 'string') {
      const t = ctx.frame.strTemp();
      w.line(`tap_kernel_string(c, ${t}, (unsigned long)${v}, ${Math.min(plan.result.maxLen, 4096)});`);
      this.check(ctx);
      return t;
    }
    return v;
  }

  /**
   * `$$parms`, `$$vars`, `$$locals`, `$$return` (with `$`/`$$` suffixes) in kernel function probes,
   * as stap prints them: `name=0x...` pairs, or with `$` the pointed-to values pretty-printed.
   */
  private contextVars(ctx: UnitCtx, e: Extract<Expr, { kind: 'contextVars' }>): string {
    const p = ctx.probe;
    if (!p || (p.family !== 'kernel.function' && p.family !== 'kprobe.function')) {
      throw new Unsupported(`$$${e.which} is available in kernel.function probes (tracepoint probes have their fields by name)`, e.span);
    }
    // In a .return probe the parameters are their values at entry.
    if (ctx.entry && e.which !== 'return') return this.entryValue(ctx, e, e);
    const vmlinux = modelBtf(this.opts.kernel);
    const btf = vmlinux ? btfForFunction(vmlinux, String(p.detail['function']), String(p.detail['module'] ?? '')) : undefined;
    const proto = btf?.funcProto(String(p.detail['function']));
    if (!btf || !proto) throw new Unsupported(`$$${e.which}: no BTF prototype for ${String(p.detail['function'])}`, e.span);
    const names: string[] = [];
    if (e.which === 'parms' || e.which === 'vars') names.push(...proto.params.map((x) => x.name));
    else if (e.which === 'return') {
      if (!p.isReturn) throw new Unsupported('$$return is only available in .return probes', e.span);
      if (proto.ret !== 0) names.push('return');
    } else if (e.which !== 'locals') throw new Unsupported(`$$${e.which} is not a context variable of kernel function probes`, e.span);
    const dst = ctx.frame.strTemp();
    const w = ctx.w;
    w.line(`${dst}[0] = '\\0';`);
    this.setLast(ctx, cString(`identifier '$$${e.which}' at ${e.span.file}:${e.span.line}:${e.span.col}`));
    names.forEach((name, i) => {
      const r = resolveTarget(btf, String(p.detail['function']), name === 'return', name, []);
      if (!r.ok) return;
      w.line(`tap_pretty_append(${dst}, ${cString(`${i > 0 ? ' ' : ''}${name}=`)});`);
      const v = this.emitPlan(ctx, r.plan, [], undefined, e.span);
      const t = btf.resolve(name === 'return' ? proto.ret : proto.params[i]!.type);
      if (e.pretty && t.kind === BtfKind.Ptr) this.prettyPointee(ctx, btf, t.ref, v, dst, e.pretty);
      else this.prettyScalar(ctx, btf, name === 'return' ? proto.ret : proto.params[i]!.type, v, dst, true);
    });
    return dst;
  }

  /** `$var$` / `$var$$` in a kernel function probe. */
  private prettyFunctionTarget(ctx: UnitCtx, e: Extract<Expr, { kind: 'target' }>, p: DerivedProbe): string {
    const vmlinux = modelBtf(this.opts.kernel);
    if (!vmlinux) throw new Unsupported(`$${e.name}: the kernel model has no BTF`, e.span);
    const btf = btfForFunction(vmlinux, String(p.detail['function']), String(p.detail['module'] ?? ''));
    const fn = String(p.detail['function']);
    const isRet = p.isReturn && e.name === 'return';
    this.setLast(ctx, cString(`identifier '$${e.name}' at ${e.span.file}:${e.span.line}:${e.span.col}`));
    return this.prettyTarget(ctx, e, btf, (want) => resolveTarget(btf, fn, isRet, e.name, e.components, want));
  }

  /**
   * `$var$` / `$var$$` (also after `->member`): the value pretty-printed into a string. `resolve`
   * gives the target's plan (with `wantAddress`: ending at an inline struct's address).
   */
  private prettyTarget(ctx: UnitCtx, e: TargetTail & { span: Span }, btf: Btf, resolve: (wantAddress: boolean) => Resolution, start?: string): string {
    const r = resolve(false);
    const dst = ctx.frame.strTemp();
    const w = ctx.w;
    w.line(`${dst}[0] = '\\0';`);
    if (r.ok) {
      const typeId = r.plan.typeId;
      const v = this.emitPlan(ctx, r.plan, e.components, start, e.span);
      const t = btf.resolve(typeId);
      if (t.kind === BtfKind.Ptr) this.prettyPointee(ctx, btf, t.ref, v, dst, e.pretty);
      else if (isCharArray(btf, t)) {
        const s = ctx.frame.strTemp();
        w.line(`tap_kernel_string(c, ${s}, (unsigned long)${v}, ${Math.min(t.array!.count, 4096)});`);
        this.check(ctx);
        w.line(`tap_pretty_append(${dst}, "\\""); tap_pretty_append(${dst}, ${s}); tap_pretty_append(${dst}, "\\"");`);
      } else if (t.kind === BtfKind.Array) w.line(`tap_pretty_append(${dst}, "[...]");`);
      else this.prettyScalar(ctx, btf, typeId, v, dst, false);
      return dst;
    }
    // An inline struct (e.g. `$p->se$$`): print it from its address.
    const at = resolve(true);
    if (!at.ok) throw new Unsupported(r.message, e.span);
    const v = this.emitPlan(ctx, at.plan, e.components, start, e.span);
    this.prettyStruct(ctx, btf, at.plan.typeId, v, dst, e.pretty === 2 ? 64 : 1);
    return dst;
  }

  /** A number as stap pretty-prints it: pointers 0x-hex, others decimal (hex everywhere with `hexAll`). */
  private prettyScalar(ctx: UnitCtx, btf: Btf, typeId: number, v: string, dst: string, hexAll: boolean): void {
    const t = btf.resolve(typeId);
    if (hexAll || t.kind === BtfKind.Ptr) ctx.w.line(`tap_pretty_appendf(${dst}, "0x%lx", (unsigned long)${v});`);
    else if (t.kind === BtfKind.Int && !t.intEncoding?.signed && t.size === 8) ctx.w.line(`tap_pretty_appendf(${dst}, "%lu", (unsigned long)${v});`);
    else ctx.w.line(`tap_pretty_appendf(${dst}, "%ld", (long)${v});`);
  }

  /** What a pointer points to: a struct printed one level (or fully for `$$`), a char pointer as a string. */
  private prettyPointee(ctx: UnitCtx, btf: Btf, targetId: number, addr: string, dst: string, pretty: number): void {
    const t = btf.resolve(targetId);
    const w = ctx.w;
    if (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) {
      w.open(`if (${addr})`);
      this.prettyStruct(ctx, btf, targetId, addr, dst, pretty === 2 ? 64 : 1);
      w.orElse();
      w.line(`tap_pretty_append(${dst}, "0x0");`);
      w.close();
    } else if (t.kind === BtfKind.Int && t.size === 1) {
      const s = ctx.frame.strTemp();
      w.line(`tap_kernel_string(c, ${s}, (unsigned long)${addr}, TAP_MAXSTRINGLEN);`);
      this.check(ctx);
      w.line(`tap_pretty_append(${dst}, "\\""); tap_pretty_append(${dst}, ${s}); tap_pretty_append(${dst}, "\\"");`);
    } else {
      w.line(`tap_pretty_appendf(${dst}, "0x%lx", (unsigned long)${addr});`);
    }
  }

  /**
   * `{.a=1, .b=0x..., .c={...}}` for the struct at `addr`; nested structs are expanded while
   * `depth` allows, else `{...}`. Stops reading once the string is full, as stap's output does.
   */
  private prettyStruct(ctx: UnitCtx, btf: Btf, typeId: number, addr: string, dst: string, depth: number): void {
    const w = ctx.w;
    const t = btf.resolve(typeId);
    w.line(`tap_pretty_append(${dst}, "{");`);
    (t.members ?? []).forEach((m, i) => {
      const sep = i > 0 ? ', ' : '';
      const label = m.name ? `${sep}.${m.name}=` : sep;
      const mt = btf.resolve(m.type);
      w.open(`if (strlen(${dst}) < TAP_MAXSTRINGLEN - 1)`);
      w.line(`tap_pretty_append(${dst}, ${cString(label)});`);
      const at = `(unsigned long)${addr} + ${Math.floor(m.bitOffset / 8)}`;
      if (mt.kind === BtfKind.Struct || mt.kind === BtfKind.Union) {
        if (depth > 1) this.prettyStruct(ctx, btf, m.type, `(${at})`, dst, depth - 1);
        else w.line(`tap_pretty_append(${dst}, "{...}");`);
      } else if (mt.kind === BtfKind.Array) {
        const elem = btf.resolve(mt.array!.elem);
        if (elem.kind === BtfKind.Int && elem.size === 1) {
          const mark = ctx.frame.mark();
          const s = ctx.frame.strTemp();
          w.line(`tap_kernel_string(c, ${s}, ${at}, ${Math.min(mt.array!.count, 4096)});`);
          this.check(ctx);
          w.line(`tap_pretty_append(${dst}, "\\""); tap_pretty_append(${dst}, ${s}); tap_pretty_append(${dst}, "\\"");`);
          ctx.frame.release(mark);
        } else {
          w.line(`tap_pretty_append(${dst}, "[...]");`);
        }
      } else if ([BtfKind.Int, BtfKind.Enum, BtfKind.Enum64, BtfKind.Ptr].includes(mt.kind)) {
        const size = mt.kind === BtfKind.Ptr ? 8 : mt.size;
        const mark = ctx.frame.mark();
        const v = ctx.frame.longTemp();
        if (m.bitSize) {
          const byteOff = Math.floor(m.bitOffset / 8) & ~(size - 1);
          w.line(`${v} = tap_tread(c, (unsigned long)${addr} + ${byteOff}, ${size}, 0);`);
          this.check(ctx);
          w.line(`${v} = (long)(((unsigned long)${v} >> ${m.bitOffset - byteOff * 8}) & ((1UL << ${m.bitSize}) - 1));`);
        } else {
          const signed = mt.kind === BtfKind.Int ? !!mt.intEncoding?.signed : mt.kind !== BtfKind.Ptr;
          w.line(`${v} = tap_tread(c, ${at}, ${size}, ${signed ? 1 : 0});`);
          this.check(ctx);
        }
        this.prettyScalar(ctx, btf, m.type, v, dst, false);
        ctx.frame.release(mark);
      } else {
        w.line(`tap_pretty_append(${dst}, "?");`);
      }
      w.close();
    });
    w.line(`tap_pretty_append(${dst}, "}");`);
  }

  private binary(ctx: UnitCtx, e: Binary): string {
    const w = ctx.w;
    if (e.op === '&&' || e.op === '||') {
      const t = ctx.frame.longTemp();
      const a = this.expr(ctx, e.left);
      w.line(`${t} = !!(${a});`);
      w.open(e.op === '&&' ? `if (${t})` : `if (!${t})`);
      const b = this.expr(ctx, e.right);
      w.line(`${t} = !!(${b});`);
      w.close();
      return t;
    }
    if (e.op === '.') {
      const [a, b] = this.operands(ctx, [e.left, e.right]) as [string, string];
      const t = ctx.frame.strTemp();
      w.line(`strscpy(${t}, ${a}, TAP_MAXSTRINGLEN);`);
      w.line(`tap_strcat(${t}, ${b});`);
      return t;
    }
    // stap folds `0 * X` when X has no effects; a `/* pure */` embedded expression then never reaches the compiler.
    if (e.op === '*' && [e.left, e.right].some((x) => x.kind === 'number' && x.value === 0n)) {
      const other = e.left.kind === 'number' && e.left.value === 0n ? e.right : e.left;
      if (!this.hasEffects(other) && isPureEmbedded(other)) return '0L';
    }
    const lt = this.typeOf(ctx, e.left);
    const [a, b] = this.operands(ctx, [e.left, e.right]) as [string, string];
    if (lt === 'string' && ['==', '!=', '<', '>', '<=', '>='].includes(e.op)) return `(tap_strcmp(${a}, ${b}) ${e.op} 0)`;
    switch (e.op) {
      case '/':
      case '%': {
        const t = ctx.frame.longTemp();
        this.setLast(ctx, this.operatorAt(e, e.right));
        w.line(`${t} = ${e.op === '/' ? 'tap_div' : 'tap_mod'}(c, ${a}, ${b});`);
        this.check(ctx);
        return t;
      }
      case '+':
      case '-':
      case '*':
        // Wrap like stap's 64-bit arithmetic instead of C's undefined signed overflow.
        return `((long)((unsigned long)(${a}) ${e.op} (unsigned long)(${b})))`;
      case '<<':
        return `((long)((unsigned long)(${a}) << ((${b}) & 63)))`;
      case '>>':
        return `((long)(${a}) >> ((${b}) & 63))`;
      default:
        return `((long)((${a}) ${e.op} (${b})))`;
    }
  }

  /** The plan of a target expression being written (`$var = x`, `$p->m = x`, `@cast(...)->m = x`; pass 2 allowed it only with -g). */
  private targetLvalue(ctx: UnitCtx, t: Expr): { plan: TargetPlan; components: readonly TargetComponent[]; start?: string } {
    const p = ctx.probe;
    if (t.kind === 'cast') {
      const btf = modelBtf(this.opts.kernel);
      if (!btf) throw new Unsupported('@cast needs the kernel model\'s BTF', t.span);
      const r = resolveCast(btf, t.type, t.components);
      if (!r.ok) throw new Unsupported(r.message, t.span);
      return { plan: r.plan, components: t.components, start: this.expr(ctx, t.operand) };
    }
    if (t.kind !== 'target' || !p) throw new Unsupported(`assignment to a ${t.kind} expression`, t.span);
    if (t.pretty || t.addressOf) throw new Unsupported(`$${t.name}${t.pretty ? '$' : ''} cannot be assigned to`, t.span);
    if (isFunctionFamily(p.family)) {
      // Parameters in a return probe are copies saved at entry (stap's wording).
      if (p.isReturn && t.name !== 'return') throw new Unsupported('write to target variable not permitted in .return probes', t.span);
      const btf = modelBtf(this.opts.kernel);
      if (!btf) throw new Unsupported(`$${t.name}: the kernel model has no BTF, so function arguments cannot be located`, t.span);
      const r = resolveTarget(btf, String(p.detail['function']), p.isReturn, t.name, t.components);
      if (!r.ok) throw new Unsupported(r.message, t.span);
      return { plan: r.plan, components: t.components };
    }
    const args = this.tracepointArgsOf(p);
    if (args?.args.some((a) => a.name === t.name)) {
      const r = resolveTracepointTarget(args, t.name, t.components);
      if (!r.ok) throw new Unsupported(r.message, t.span);
      return { plan: r.plan, components: t.components };
    }
    throw new Unsupported(`write to tracepoint '${p.point}' not permitted`, t.span);
  }

  /** Stores `value` (a C long expression) where a target plan reads from: memory through tap_kwrite, or the saved registers. */
  private emitTargetStore(ctx: UnitCtx, lv: { plan: TargetPlan; components: readonly TargetComponent[]; start?: string }, value: string, span: Span): void {
    const w = ctx.w;
    const { plan } = lv;
    const last = plan.steps[plan.steps.length - 1];
    if (last?.kind === 'load') {
      const addr = this.emitPlan(ctx, plan, lv.components, lv.start, span, true);
      if (last.bitSize) {
        // A bitfield: read the containing word, replace the bits, write it back.
        const word = ctx.frame.longTemp();
        const mask = last.bitSize >= 64 ? '~0UL' : `(((1UL << ${last.bitSize}) - 1) << ${last.bitOffset ?? 0})`;
        w.line(`${word} = tap_tread(c, (unsigned long)${addr}, ${last.size}, 0);`);
        this.check(ctx);
        w.line(`${word} = (long)(((unsigned long)${word} & ~${mask}) | (((unsigned long)(${value}) << ${last.bitOffset ?? 0}) & ${mask}));`);
        w.line(`tap_kwrite(c, (unsigned long)${addr}, ${last.size}, ${word});`);
      } else {
        w.line(`tap_kwrite(c, (unsigned long)${addr}, ${last.size}, (long)(${value}));`);
      }
      this.check(ctx);
      return;
    }
    if (plan.steps.length) throw new Unsupported(`${plan.typeName} is not a value that can be assigned`, span);
    switch (plan.base.kind) {
      case 'reg':
        // The probed function sees the new argument when the kprobe returns.
        w.line(`if (c->regs)`).line(`\tc->regs->${plan.base.reg} = (unsigned long)(${value});`);
        return;
      case 'return':
        w.line(`if (c->regs)`).line(`\tregs_set_return_value(c->regs, (unsigned long)(${value}));`);
        return;
      case 'stack':
        w.line(`tap_kwrite(c, c->regs ? c->regs->sp + ${8 * (plan.base.slot + 1)} : 0, 8, (long)(${value}));`);
        this.check(ctx);
        return;
      case 'tparg':
        throw new Unsupported('a tracepoint argument is a copy passed to the probe: assign through it ($p->member = x), not to it', span);
      case 'expr':
        throw new Unsupported('@cast(...) without a member is an address, not a value that can be assigned', span);
      default:
        assertNever(plan.base, 'target base');
    }
  }

  private lvalue(ctx: UnitCtx, t: Expr): { kind: 'scalar'; c: string; ty: Ty } | { kind: 'map'; g: GlobalInfo; keys: string } | { kind: 'stat'; g: GlobalInfo } | { kind: 'statmap'; g: GlobalInfo; keys: string } {
    if (t.kind === 'symbol') {
      const sym = ctx.unit.bindings.get(t);
      if (!sym || sym.kind !== 'var') throw new Unsupported(`cannot assign to ${t.name}`, t.span);
      const l = ctx.locals.get(sym);
      const ty = this.r.types.vars.get(sym)?.value ?? 'long';
      if (l) return { kind: 'scalar', c: l, ty };
      const g = this.globals.get(sym);
      if (!g) throw new Unsupported(`unknown variable ${t.name}`, t.span);
      if (g.value === 'stats' && !g.isArray) return { kind: 'stat', g };
      return { kind: 'scalar', c: g.c, ty };
    }
    if (t.kind === 'index') {
      const g = this.globalOfIndexable(ctx, t.base);
      const keys = this.keys(ctx, g, t);
      if (g.value === 'stats') return { kind: 'statmap', g, keys };
      return { kind: 'map', g, keys };
    }
    throw new Unsupported(`assignment to a ${t.kind} expression (writes to $target variables are not built yet)`, t.span);
  }

  private assign(ctx: UnitCtx, e: Assign, discard: boolean): string {
    const w = ctx.w;
    if (this.r.elision.stores.has(e)) {
      // A dead store: the value is still computed for its side effects.
      const v = this.expr(ctx, e.value, true);
      if (v && v !== '0') w.line(`(void)(${v});`);
      return '';
    }
    if (e.target.kind === 'target' || e.target.kind === 'cast') {
      // Guru mode: write through the target's plan (fault-tolerant).
      const tv = this.targetLvalue(ctx, e.target);
      if (e.op === '<<<' || e.op === '.=') throw new Unsupported(`${e.op} into a target variable`, e.span);
      const v = this.expr(ctx, e.value);
      const t = ctx.frame.longTemp();
      if (e.op === '=') w.line(`${t} = ${v};`);
      else {
        const old = this.emitPlan(ctx, tv.plan, tv.components, tv.start, e.span);
        w.line(`${t} = ${this.compound(ctx, e.op, old, v)};`);
      }
      this.setLast(ctx, this.tokenAt(e.target.span));
      this.emitTargetStore(ctx, tv, t, e.span);
      return t;
    }
    const atomic = e.op === '+=' || e.op === '-=' ? this.atomicTarget(ctx, e.target) : undefined;
    if (atomic) {
      const v = this.expr(ctx, e.value);
      const t = ctx.frame.longTemp();
      w.line(`${t} = atomic_long_${e.op === '+=' ? 'add' : 'sub'}_return(${v}, (atomic_long_t *)&${atomic.c});`);
      return t;
    }
    const lv = this.lvalue(ctx, e.target);
    if (e.target.kind === 'index' || e.op === '<<<') this.setLast(ctx, this.tokenAt(e.target.span));
    if (e.op === '<<<') {
      const v = this.expr(ctx, e.value);
      if (lv.kind === 'stat') w.line(`tap_stat_add(${lv.g.c}, ${v});`);
      else if (lv.kind === 'statmap') {
        w.line(`tap_map_stat_add(c, ${lv.g.c}, ${v}, ${lv.keys});`);
        this.check(ctx);
      } else throw new Unsupported('<<< into something that is not statistics', e.span);
      return discard ? '' : '0';
    }
    if (lv.kind === 'stat' || lv.kind === 'statmap') throw new Unsupported('assignment to statistics (use <<<)', e.span);
    const ty = lv.kind === 'scalar' ? lv.ty : lv.g.value;
    if (ty === 'string') {
      const v = this.expr(ctx, e.value);
      if (lv.kind === 'scalar') {
        if (e.op === '.=') w.line(`tap_strcat(${lv.c}, ${v});`);
        else w.line(`strscpy(${lv.c}, ${v}, TAP_MAXSTRINGLEN);`);
        return discard ? '' : lv.c;
      }
      const t = ctx.frame.strTemp();
      if (e.op === '.=') {
        w.line(`strscpy(${t}, tap_map_get_str(${lv.g.c}, ${lv.keys}), TAP_MAXSTRINGLEN);`);
        w.line(`tap_strcat(${t}, ${v});`);
      } else {
        w.line(`strscpy(${t}, ${v}, TAP_MAXSTRINGLEN);`);
      }
      w.line(`tap_map_set_str(c, ${lv.g.c}, ${t}, ${lv.keys});`);
      this.check(ctx);
      return discard ? '' : t;
    }
    const v = this.expr(ctx, e.value);
    if (lv.kind === 'scalar') {
      if (e.op === '=') {
        w.line(`${lv.c} = ${v};`);
        return discard ? '' : lv.c;
      }
      w.line(`${lv.c} = ${this.compound(ctx, e.op, lv.c, v)};`);
      return discard ? '' : lv.c;
    }
    // Map element: read-modify-write through a reference (creates the entry as stap does).
    if (e.op === '=') {
      const t = ctx.frame.longTemp();
      w.line(`${t} = ${v};`);
      w.line(`tap_map_set_long(c, ${lv.g.c}, ${t}, ${lv.keys});`);
      this.check(ctx);
      return t;
    }
    const t = ctx.frame.longTemp();
    w.line(`${t} = tap_map_get_long(${lv.g.c}, ${lv.keys});`);
    w.line(`${t} = ${this.compound(ctx, e.op, t, v)};`);
    w.line(`tap_map_set_long(c, ${lv.g.c}, ${t}, ${lv.keys});`);
    this.check(ctx);
    return t;
  }

  /** `a OP= b` as a C expression (division through the checked helpers). */
  private compound(ctx: UnitCtx, op: string, a: string, b: string): string {
    const base = op.slice(0, -1);
    if (base === '/' || base === '%') {
      const t = ctx.frame.longTemp();
      ctx.w.line(`${t} = ${base === '/' ? 'tap_div' : 'tap_mod'}(c, ${a}, ${b});`);
      this.check(ctx);
      return t;
    }
    if (base === '+' || base === '-' || base === '*') return `((long)((unsigned long)(${a}) ${base} (unsigned long)(${b})))`;
    if (base === '<<') return `((long)((unsigned long)(${a}) << ((${b}) & 63)))`;
    if (base === '>>') return `((long)(${a}) >> ((${b}) & 63))`;
    return `((${a}) ${base} (${b}))`;
  }

  private crement(ctx: UnitCtx, e: Crement, discard: boolean): string {
    const w = ctx.w;
    if (this.r.elision.stores.has(e)) return '';
    const atomic = this.atomicTarget(ctx, e.operand);
    if (atomic) {
      const ref = `(atomic_long_t *)&${atomic.c}`;
      const op = e.op === '++' ? 'inc' : 'dec';
      if (discard) {
        w.line(`atomic_long_${op}(${ref});`);
        return '';
      }
      const t = ctx.frame.longTemp();
      w.line(e.prefix ? `${t} = atomic_long_${op}_return(${ref});` : `${t} = atomic_long_fetch_${e.op === '++' ? 'add' : 'sub'}(1, ${ref});`);
      return t;
    }
    const lv = this.lvalue(ctx, e.operand);
    const delta = e.op === '++' ? '1' : '-1';
    if (lv.kind === 'scalar') {
      if (discard) {
        w.line(`${lv.c} = (long)((unsigned long)${lv.c} + (unsigned long)(${delta}));`);
        return '';
      }
      const t = ctx.frame.longTemp();
      if (e.prefix) {
        w.line(`${lv.c} = (long)((unsigned long)${lv.c} + (unsigned long)(${delta}));`);
        w.line(`${t} = ${lv.c};`);
      } else {
        w.line(`${t} = ${lv.c};`);
        w.line(`${lv.c} = (long)((unsigned long)${lv.c} + (unsigned long)(${delta}));`);
      }
      return t;
    }
    if (lv.kind !== 'map') throw new Unsupported(`${e.op} on statistics`, e.span);
    this.setLast(ctx, this.tokenAt(e.operand.span));
    const old = ctx.frame.longTemp();
    w.line(`${old} = tap_map_get_long(${lv.g.c}, ${lv.keys});`);
    w.line(`tap_map_set_long(c, ${lv.g.c}, (long)((unsigned long)${old} + (unsigned long)(${delta})), ${lv.keys});`);
    this.check(ctx);
    if (e.prefix) return `((long)((unsigned long)${old} + (unsigned long)(${delta})))`;
    return old;
  }

  /** `@hist_log(s)[i]`: the count in bucket i ("histogram index out of range" outside). */
  private histBucket(ctx: UnitCtx, h: HistOp, keys: readonly (Expr | null)[], span: Span): string {
    if (keys.length !== 1 || !keys[0]) throw new Unsupported('a histogram takes one bucket index', span);
    const i = this.expr(ctx, keys[0]);
    const agg = this.aggOf(ctx, h.operand);
    const t = ctx.frame.longTemp();
    this.setLast(ctx, cString(`operator '@${h.op}' at ${h.span.file}:${h.span.line}:${h.span.col}`));
    ctx.w.line(`${t} = tap_hist_bucket(c, ${agg}, ${i});`);
    this.check(ctx);
    return t;
  }

  private aggOf(ctx: UnitCtx, operand: Expr): string {
    const w = ctx.w;
    if (operand.kind === 'symbol') {
      const g = this.globalOfIndexable(ctx, operand);
      if (g.value !== 'stats' || g.isArray) throw new Unsupported(`${g.sym.name} is not a statistics scalar`, operand.span);
      const t = ctx.frame.longTemp();
      w.line(`${t} = (long)tap_stat_get(${g.c});`);
      return `((struct tap_agg *)${t})`;
    }
    if (operand.kind === 'index') {
      const g = this.globalOfIndexable(ctx, operand.base);
      const keys = this.keys(ctx, g, operand);
      const t = ctx.frame.longTemp();
      w.line(`${t} = (long)tap_map_get_agg(${g.c}, ${keys});`);
      return `((struct tap_agg *)${t})`;
    }
    throw new Unsupported('an aggregate of something that is not statistics', operand.span);
  }

  private statOp(ctx: UnitCtx, e: StatOp): string {
    const agg = this.aggOf(ctx, e.operand);
    this.setLast(ctx, cString(`operator '@${e.op}' at ${e.span.file}:${e.span.line}:${e.span.col}`));
    const t = ctx.frame.longTemp();
    const w = ctx.w;
    switch (e.op) {
      case 'count':
        w.line(`${t} = tap_agg_count(${agg});`);
        return t;
      case 'sum':
        w.line(`${t} = tap_agg_sum(${agg});`);
        return t;
      case 'min':
      case 'max':
      case 'avg':
        w.line(`${t} = tap_agg_${e.op}(c, ${agg});`);
        this.check(ctx);
        return t;
      case 'variance':
        w.line(`${t} = tap_agg_variance(c, ${agg}, ${e.shift?.value != null ? String(e.shift.value) : '0'});`);
        this.check(ctx);
        return t;
      default:
        return assertNever(e.op, 'aggregate');
    }
  }

  private call(ctx: UnitCtx, e: Call): string {
    const sym = ctx.unit.bindings.get(e);
    if (!sym || sym.kind !== 'function') throw new Unsupported(`unresolved function ${e.name}()`, e.span);
    const name = this.funcNames.get(sym);
    if (!name) throw new Unsupported(`function ${e.name}() was not kept by pass 2`, e.span);
    const args = this.operands(ctx, e.args);
    const w = ctx.w;
    if (this.funcRet(sym) === 'string') {
      const t = ctx.frame.strTemp();
      w.line(`${name}(${['c', t, ...args].join(', ')});`);
      this.check(ctx);
      return t;
    }
    const t = ctx.frame.longTemp();
    w.line(`${t} = ${name}(${['c', ...args].join(', ')});`);
    this.check(ctx);
    return t;
  }

  private print(ctx: UnitCtx, e: PrintCall): string {
    const w = ctx.w;
    const toString = e.name.startsWith('s');
    const base = toString ? e.name.slice(1) : e.name;
    const dst = toString ? ctx.frame.strTemp() : undefined;
    if (dst) w.line(`${dst}[0] = '\\0';`);
    if (base === 'printf') {
      const [fmt, ...rest] = e.args;
      if (!fmt || fmt.kind !== 'string') throw new Unsupported('printf needs a literal format string', e.span);
      const args = this.operands(ctx, rest, (v, a) => (this.typeOf(ctx, a) === 'string' ? `(const char *)(${v})` : `(long)(${v})`));
      if (dst) w.line(`tap_sprintf(${[dst, cString(fmt.value), ...args].join(', ')});`);
      else w.line(`tap_printf(${['c', cString(fmt.value), ...args].join(', ')});`);
      return dst ?? '0';
    }
    // print/println/printd/printdln: values joined (by the delimiter for the d forms), newline for ln forms.
    const delimited = base === 'printd' || base === 'printdln';
    const args = delimited ? e.args.slice(1) : e.args;
    const delim = delimited ? this.expr(ctx, e.args[0]!) : undefined;
    args.forEach((a, i) => {
      if (i > 0 && delim) this.emitPiece(ctx, dst, 'string', delim);
      if (a.kind === 'hist' || (a.kind === 'symbol' && this.isStats(ctx, a))) {
        const operand = a.kind === 'hist' ? a.operand : a;
        const agg = this.aggOfHist(ctx, operand);
        this.setLast(ctx, this.tokenAt(e.span));
        const summary = `"count=%ld sum=%ld min=%ld max=%ld avg=%ld", tap_agg_count(${agg}), tap_agg_sum(${agg}), tap_agg_min(c, ${agg}), tap_agg_max(c, ${agg}), tap_agg_avg(c, ${agg})`;
        if (a.kind === 'hist') w.line(dst ? `tap_sprint_hist(c, ${dst}, ${agg});` : `tap_print_hist(c, ${agg});`);
        else if (dst) throw new Unsupported('print format actual argument evaluation type unsupported (sprint of a statistic: use @count, @sum, ... or a histogram)', a.span);
        else w.line(`tap_printf(c, ${summary});`);
        this.check(ctx);
        return;
      }
      const ty = this.typeOf(ctx, a);
      this.emitPiece(ctx, dst, ty, this.expr(ctx, a));
    });
    if (base.endsWith('ln')) this.emitPiece(ctx, dst, 'string', '"\\n"');
    return dst ?? '0';
  }

  private isStats(ctx: UnitCtx, s: SymbolRef): boolean {
    const sym = ctx.unit.bindings.get(s);
    const g = sym && sym.kind === 'var' ? this.globals.get(sym) : undefined;
    return !!g && g.value === 'stats' && !g.isArray;
  }

  private aggOfHist(ctx: UnitCtx, operand: Expr): string {
    return this.aggOf(ctx, operand);
  }

  private emitPiece(ctx: UnitCtx, dst: string | undefined, ty: Ty, v: string): void {
    const w = ctx.w;
    if (dst) {
      if (ty === 'string') w.line(`tap_strcat(${dst}, ${v});`);
      else {
        const t = ctx.frame.strTemp();
        w.line(`tap_sprint_long(${t}, ${v});`);
        w.line(`tap_strcat(${dst}, ${t});`);
      }
      return;
    }
    if (ty === 'string') w.line(`tap_print_str(c, ${v});`);
    else w.line(`tap_print_long(c, ${v});`);
  }

  // ---- tables ----

  private locksFor(u: Unit): { g: GlobalInfo; write: boolean }[] {
    const acc = new Map<VarSym, boolean>();
    const seen = new Set<Unit>();
    const visit = (unit: Unit) => {
      if (seen.has(unit)) return;
      seen.add(unit);
      for (const [sym, write] of this.directTouches(unit)) acc.set(sym, (acc.get(sym) ?? false) || write);
      for (const f of this.directCalls(unit)) {
        const fu = this.funcUnits.get(f);
        if (fu) visit(fu);
      }
    };
    visit(u);
    return [...acc].filter(([sym]) => !this.atomicGlobals.has(sym)).map(([sym, write]) => ({ g: this.globals.get(sym)!, write })).filter((x) => x.g).sort((a, b) => a.g.index - b.g.index);
  }

  private directTouches(u: Unit): Map<VarSym, boolean> {
    let m = this.touches.get(u);
    if (m) return m;
    m = new Map();
    const mark = (e: Expr | Indexable, write: boolean) => {
      const sym = this.symOfIndexable(u, e as Expr);
      if (sym && this.globals.has(sym)) m!.set(sym, (m!.get(sym) ?? false) || write);
    };
    walkUnit(u, (e) => {
      if (e.kind === 'symbol' || e.kind === 'index') mark(e, false);
      if (e.kind === 'assign' || e.kind === 'crement') mark(e.kind === 'assign' ? e.target : e.operand, true);
    }, (s) => {
      if (s.kind === 'delete') mark(s.target, true);
      if (s.kind === 'foreach') mark(s.array, false);
    });
    this.touches.set(u, m);
    return m;
  }

  private directCalls(u: Unit): Set<FuncSym> {
    let s = this.calls.get(u);
    if (s) return s;
    s = new Set();
    walkUnit(u, (e) => {
      if (e.kind === 'call') {
        const f = u.bindings.get(e);
        if (f && f.kind === 'function') s!.add(f);
      }
    });
    this.calls.set(u, s);
    return s;
  }

  private emitProbeTable(handlers: string[]): void {
    const w = this.out;
    const rows: string[] = [];
    this.r.probes.forEach((p, i) => {
      const locks = this.locksFor(p.unit);
      if (locks.length && this.opts.session) {
        // The locks are the core's, known only at init.
        w.line(`static struct tap_lockspec tap_locks_${i}[${locks.length}];`);
        this.sessionLockFills.push(...locks.map((l, j) => `tap_locks_${i}[${j}] = (struct tap_lockspec){ ${l.g.c}_lockp, ${l.write ? 1 : 0} };`));
      } else if (locks.length) {
        w.line(`static const struct tap_lockspec tap_locks_${i}[] = {`);
        for (const l of locks) w.line(`\t{ &${l.g.c}_lock, ${l.write ? 1 : 0} },`);
        w.line('};');
      }
      try {
        rows.push(this.probeRow(p.derived, i, handlers[i]!, locks.length ? `tap_locks_${i}` : 'NULL', locks.length));
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        const decl = p.unit.bodies[0]?.span;
        // The handler already said so (a probe family not built): once is enough.
        if (!this.problems.some((x) => x.message === e.message)) this.problems.push({ message: `${p.derived.point}: ${e.message}`, span: decl });
      }
    });
    w.line('static const struct tap_probe tap_probes[] = {');
    for (const r of rows) w.line(r);
    w.line('};');
    w.line('');
    w.line('/* The probe points as the script wrote them (pn()), in tap_probes order. */');
    w.line('static const char *const tap_probe_written[] = {');
    for (const p of this.r.probes) w.line(`\t${cString(p.derived.written)},`);
    w.line('};');
    w.line('');
    w.line('static __maybe_unused const char *tap_probe_name(struct tap_context *c)');
    w.line('{');
    w.line('\tif (!c->probe || c->probe < tap_probes || c->probe >= tap_probes + ARRAY_SIZE(tap_probes))');
    w.line('\t\treturn "";');
    w.line('\treturn tap_probe_written[c->probe - tap_probes];');
    w.line('}');
    w.line('');
  }

  private probeRow(d: DerivedProbe, index: number, handler: string, locks: string, nlocks: number): string {
    const f: string[] = [];
    const det = d.detail;
    const pp = cString(d.point);
    switch (d.family) {
      case 'begin':
      case 'end':
      case 'error':
      case 'never':
        f.push(`.kind = TAP_PROBE_${d.family.toUpperCase()}`, `.priority = ${Number(det['priority'] ?? 0)}`);
        break;
      case 'timer': {
        const unit = String(det['unit']);
        const n = Number(det['interval']);
        if (unit === 'jiffies') {
          // The runtime converts with the target kernel's HZ.
          const rnd = det['randomize'] !== undefined ? Number(det['randomize']) : 0;
          f.push('.kind = TAP_PROBE_TIMER', `.period_jiffies = ${n}`, `.randomize_ns = ${rnd ? `${rnd}LL * (NSEC_PER_SEC / HZ)` : '0'}`);
          break;
        }
        const ns = unit === 'hz' ? Math.round(1e9 / n) : n * (TIMER_NS[unit] ?? 1e6);
        const rnd = det['randomize'] !== undefined ? Number(det['randomize']) * (TIMER_NS[unit] ?? 1) : 0;
        f.push('.kind = TAP_PROBE_TIMER', `.period_ns = ${ns}LL`, `.randomize_ns = ${rnd}LL`);
        break;
      }
      case 'timer.profile':
        f.push('.kind = TAP_PROBE_PROFILE');
        break;
      case 'kernel.function':
      case 'kprobe.function':
        if (d.isReturn) {
          f.push('.kind = TAP_PROBE_KRETPROBE', `.maxactive = ${Number(det['maxactive'] ?? 0)}`);
          const eh = this.entryHandlers.get(index);
          if (eh) f.push(`.entry_handler = ${eh.fn}`, `.entry_data_size = sizeof(struct ${eh.struct})`);
        }
        else f.push('.kind = TAP_PROBE_KPROBE');
        f.push(`.symbol = ${cString(String(det['function']))}`);
        break;
      case 'kernel.trace':
        f.push('.kind = TAP_PROBE_TRACEPOINT', `.tp_system = ${cString(String(det['system']))}`, `.tp_event = ${cString(String(det['event']))}`);
        if (this.tpArgProbes.has(index)) f.push(`.tp_probe = (void *)${this.tpArgProbes.get(index)!.fn}`, ...(this.tpArgProbes.get(index)!.fields ? ['.tp_fields = 1'] : []));
        break;
      case 'kernel.statement':
        f.push('.kind = TAP_PROBE_KPROBE', `.addr = ${String(det['address'])}UL`);
        break;
      default:
        throw new Unsupported(unbuiltFamily(d.family), undefined);
    }
    return `\t{ ${[...f, `.handler = ${handler}`, `.pp = ${pp}`, `.locks = ${locks}`, `.nlocks = ${nlocks}`].join(', ')} },`;
  }

  /** Session mode: look the globals up in the core, attach to it on load, detach on unload. */
  private emitSessionScript(entry: number): void {
    const w = this.out;
    w.line('static int tap_session_init(void)');
    w.open('');
    w.line('void *p;');
    w.line('');
    for (const g of this.globals.values()) {
      const kind = g.isArray ? 'TAP_G_MAP' : g.value === 'stats' ? 'TAP_G_STAT' : g.value === 'string' ? 'TAP_G_STRING' : 'TAP_G_LONG';
      const vt = g.value === 'stats' ? 'TAP_STAT' : g.value === 'string' ? 'TAP_STRING' : 'TAP_LONG';
      const keys = g.isArray ? this.mapKeysSpec(g) : '';
      // A session statistic is created once for every entry to come: it keeps log buckets even when
      // this entry prints no histogram, so a later print(@hist_log(s)) finds them.
      const hist = g.value === 'stats' ? (g.hist ? this.histArgs(g.hist, undefined) : 'TAP_HIST_LOG, 0, 0, 0') : 'TAP_HIST_NONE, 0, 0, 0';
      w.line(`p = tap_session_global(${cString(g.sym.name)}, ${kind}, ${cString(keys)}, ${vt}, ${hist});`);
      w.line('if (IS_ERR_OR_NULL(p))').line('\treturn p ? PTR_ERR(p) : -ENOMEM;');
      if (g.isArray) w.line(`${g.c} = p;`);
      else if (g.value === 'stats') w.line(`${g.c} = p;`);
      else w.line(`${g.c}_p = p;`);
      w.line(`${g.c}_lockp = tap_session_lock(${cString(g.sym.name)});`);
      w.line(`if (!${g.c}_lockp)`).line('\treturn -ENOENT;');
    }
    for (const f of this.sessionLockFills) w.line(f);
    w.line('return 0;');
    w.close();
    w.line('');
    w.line('const struct tap_script tap_script = {');
    w.line(`\t.name = ${cString(this.opts.scriptName)},`);
    w.line('\t.probes = tap_probes,');
    w.line('\t.nprobes = ARRAY_SIZE(tap_probes),');
    w.line('\t.init = tap_session_init,');
    w.line('\t.exit = NULL, /* the globals are the core\'s */');
    w.line('};');
    w.line('');
    w.line('static int __init tap_entry_init(void)');
    w.line('{');
    w.line(`\treturn tap_session_attach(&tap_script, ${entry});`);
    w.line('}');
    w.line('');
    w.line('static void __exit tap_entry_exit(void)');
    w.line('{');
    w.line('\ttap_session_detach(&tap_script);');
    w.line('}');
    w.line('');
    w.line('module_init(tap_entry_init);');
    w.line('module_exit(tap_entry_exit);');
    w.line('MODULE_LICENSE("GPL");');
    w.line(`MODULE_DESCRIPTION(${cString(`tapsh session entry ${entry}`)});`);
  }

  private emitScript(): void {
    if (this.opts.session) return this.emitSessionScript(this.opts.session.entry);
    const w = this.out;
    w.line('static void tap_globals_exit(void);');
    w.line('');
    w.line('static int tap_globals_init(void)');
    w.open('');
    for (const g of this.globals.values()) w.line(`tap_lock_init(&${g.c}_lock);`);
    for (const g of this.globals.values()) {
      if (g.isArray) {
        const max = g.maxEntries ?? 0;
        const vt = g.value === 'stats' ? 'TAP_STAT' : g.value === 'string' ? 'TAP_STRING' : 'TAP_LONG';
        w.line(`${g.c} = tap_map_new(${cString(this.mapKeysSpec(g))}, ${vt}, ${max ? max : 'TAP_MAXMAPENTRIES'}, ${this.histArgs(g.hist, undefined)});`);
        w.line(`if (!${g.c})`).line('\tgoto fail;');
        const shift = this.varianceShift.get(g.sym);
        if (shift && g.value === 'stats') w.line(`tap_map_set_shift(${g.c}, ${shift});`);
      } else if (g.value === 'stats') {
        w.line(`${g.c} = tap_stat_new(${this.histArgs(g.hist, undefined)});`);
        w.line(`if (!${g.c})`).line('\tgoto fail;');
        const shift = this.varianceShift.get(g.sym);
        if (shift) w.line(`tap_stat_set_shift(${g.c}, ${shift});`);
      } else if (g.value === 'string') {
        w.line(`if (${g.c}_param)`).line(`\tstrscpy(${g.c}, ${g.c}_param, TAP_MAXSTRINGLEN);`);
      }
    }
    w.line('return 0;');
    if ([...this.globals.values()].some((g) => g.isArray || g.value === 'stats')) {
      w.label('fail');
      w.line('tap_globals_exit();');
      w.line('return -ENOMEM;');
    }
    w.close();
    w.line('');
    w.line('static void tap_globals_exit(void)');
    w.open('');
    for (const g of this.globals.values()) {
      if (g.isArray) w.line(`if (${g.c})`).line(`\ttap_map_free(${g.c});`).line(`${g.c} = NULL;`);
      else if (g.value === 'stats') w.line(`if (${g.c})`).line(`\ttap_stat_free(${g.c});`).line(`${g.c} = NULL;`);
    }
    w.close();
    w.line('');
    w.line('const struct tap_script tap_script = {');
    w.line(`\t.name = ${cString(this.opts.scriptName)},`);
    w.line('\t.probes = tap_probes,');
    w.line('\t.nprobes = ARRAY_SIZE(tap_probes),');
    w.line('\t.init = tap_globals_init,');
    w.line('\t.exit = tap_globals_exit,');
    w.line('};');

  }
}

/** Probe families pass 3 can emit a probe-table row for. */
const PROBE_FAMILIES_BUILT = new Set(['begin', 'end', 'error', 'never', 'timer', 'timer.profile', 'kernel.function', 'kprobe.function', 'kernel.trace', 'kernel.statement']);

function unbuiltFamily(family: string): string {
  return `${family} probes are not supported by tapsh yet: the runtime has no ${family === 'procfs' ? '/proc files for scripts' : `${family} probe points`}; remove the probe or run the script with SystemTap`;
}

/** Whether every embedded-C piece in `e` is marked `/* pure *\/` (and there is at least one). */
function isPureEmbedded(e: Expr): boolean {
  if (e.kind === 'embedded') return e.pragmas.includes('pure') || /\/\*\s*pure\s*\*\//.test(e.code);
  const kids = exprChildren(e).filter((x): x is Expr => !!x);
  return kids.length > 0 && kids.every(isPureEmbedded);
}

function isFunctionFamily(f: string): boolean {
  return f === 'kernel.function' || f === 'kprobe.function';
}

/** The value of a literal number expression, if the expression is one. */
function constLong(e: Expr): string | undefined {
  if (e.kind === 'number' && e.value !== null) return longLiteral(e.value);
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'number' && e.operand.value !== null) return longLiteral(-e.operand.value);
  return undefined;
}

/** A C literal for a 64-bit value as stap reads it (wrapping to signed). */
function longLiteral(v: bigint): string {
  const s = BigInt.asIntN(64, v);
  if (s === -(2n ** 63n)) return '(-9223372036854775807L - 1)';
  return `${s}L`;
}

function indentBlock(text: string, n: number): string {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => (l === '' || l.startsWith('#') ? l : '\t'.repeat(n) + l))
    .join('\n');
}

/** Visits every expression (and statement) in a unit's bodies. */
function walkUnit(u: Unit, onExpr: (e: Expr) => void, onStmt?: (s: Stmt) => void): void {
  const seen = new Set<object>();
  const ex = (e: Expr | null | undefined): void => {
    if (!e || seen.has(e)) return;
    seen.add(e);
    onExpr(e);
    for (const child of exprChildren(e)) ex(child);
  };
  const st = (s: Stmt | undefined): void => {
    if (!s) return;
    onStmt?.(s);
    switch (s.kind) {
      case 'block':
        s.stmts.forEach(st);
        break;
      case 'exprStmt':
        ex(s.expr);
        break;
      case 'if':
        ex(s.cond);
        st(s.then);
        st(s.else);
        break;
      case 'while':
        ex(s.cond);
        st(s.body);
        break;
      case 'for':
        ex(s.init);
        ex(s.cond);
        ex(s.step);
        st(s.body);
        break;
      case 'foreach':
        ex(s.array as Expr);
        s.slice?.forEach(ex);
        ex(s.limit);
        st(s.body);
        break;
      case 'return':
        ex(s.value);
        break;
      case 'delete':
        ex(s.target);
        break;
      case 'try':
        st(s.body);
        st(s.handler);
        break;
      case 'empty':
      case 'next':
      case 'break':
      case 'continue':
        break;
      default:
        assertNever(s, 'statement');
    }
  };
  for (const b of u.bodies) st(b);
  for (const p of u.probes) p.conditions.forEach(ex);
}

function exprChildren(e: Expr): (Expr | null)[] {
  switch (e.kind) {
    case 'index':
      return [e.base as Expr, ...e.keys];
    case 'call':
    case 'print':
      return [...e.args];
    case 'binary':
      return [e.left, e.right];
    case 'unary':
    case 'crement':
      return [e.operand];
    case 'assign':
      return [e.target, e.value];
    case 'ternary':
      return [e.cond, e.then, e.else];
    case 'in':
      return [...e.keys, e.array as Expr];
    case 'regex':
      return [e.left];
    case 'stat':
      return [e.operand];
    case 'hist':
      return [e.operand, ...e.params];
    case 'target':
    case 'atVar':
      return e.components.filter((c) => c.kind === 'subscript').map((c) => (c as { index: Expr }).index);
    case 'cast':
    case 'autocast':
      return [e.operand];
    case 'defined':
    case 'entry':
    case 'probewrite':
      return [e.operand];
    case 'register':
      return [e.register];
    case 'deref':
      return [e.size, e.address];
    default:
      return [];
  }
}
