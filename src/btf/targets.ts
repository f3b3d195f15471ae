// Resolves `$name->member[i].field` in kernel function probes against BTF: where the value lives and how to read it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TargetComponent } from '../lang/ast.js';
import type { KernelModel } from '../remote/model.js';
import { Btf, BtfKind, type BtfParam, type BtfType } from './btf.js';
import { tracepointArgs } from './tracepoints.js';

/** x86-64 SysV: the first six integer arguments, in pt_regs field names. */
const ARG_REGS = ['di', 'si', 'dx', 'cx', 'r8', 'r9'];

/** Where the chain starts. */
export type TargetBase =
  | { kind: 'reg'; reg: string }
  /** Stack slot N (0-based) above the return address at function entry. */
  | { kind: 'stack'; slot: number }
  | { kind: 'return' }
  /** Argument N (0-based, after `void *data`) of a tracepoint's probe function (TP_PROTO). */
  | { kind: 'tparg'; index: number }
  /** @cast: the address comes from a script expression. */
  | { kind: 'expr' };

/** One step from a value or an address to the next. */
export type TargetStep =
  /** The current value is a pointer: it becomes an address (no read yet). */
  | { kind: 'deref' }
  /** Add a byte offset to the current address. */
  | { kind: 'offset'; bytes: number }
  /** Add index * size to the current address (the index is a script expression). */
  | { kind: 'index'; index: number; elemSize: number }
  /** Read `size` bytes at the current address as the new value. */
  | { kind: 'load'; size: number; signed: boolean; bitOffset?: number; bitSize?: number };

export interface TargetPlan {
  base: TargetBase;
  /** Size and sign of the base value (arguments narrower than a register are sign/zero-extended). */
  baseSize: number;
  baseSigned: boolean;
  steps: TargetStep[];
  /** What the script sees: a number, or text read from a char array at the final address. */
  result: { kind: 'long' } | { kind: 'string'; maxLen: number };
  /** The C type of the final value, for messages and -L. */
  typeName: string;
  /** Its BTF type id (for pretty-printing), valid in `btf`. */
  typeId: number;
  /** The blob the ids belong to (vmlinux's or a module's split BTF). */
  btf: Btf;
}

export type Resolution =
  | { ok: true; plan: TargetPlan }
  /** `missing`: a member the type lacks, with the type's member names, for callers that word it their own way. */
  | { ok: false; message: string; missing?: { type: string; member: string; names: string[] } };

const loaded = new Map<string, Btf>();
/** Module BTF blobs by vmlinux Btf: name -> parsed split BTF (parsed on first use). */
const moduleBlobs = new WeakMap<Btf, Map<string, { path: string; btf?: Btf }>>();

/** The parsed BTF of a kernel model, loaded once per process (modules' BTF on demand). */
export function modelBtf(model: KernelModel | undefined): Btf | undefined {
  if (!model?.btfPath) return undefined;
  let btf = loaded.get(model.btfPath);
  if (!btf) {
    btf = Btf.parse(readFileSync(model.btfPath));
    loaded.set(model.btfPath, btf);
    const dir = join(dirname(model.btfPath), 'modules-btf');
    const mods = new Map<string, { path: string; btf?: Btf }>();
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith('.btf')) mods.set(f.slice(0, -4), { path: join(dir, f) });
    moduleBlobs.set(btf, mods);
  }
  return btf;
}

/**
 * The blob that describes function `fn`: vmlinux's, else the loaded module's whose split BTF has
 * it (`module` first when the probe names one). Type ids are only meaningful within that blob.
 */
export function btfForFunction(btf: Btf, fn: string, module?: string): Btf {
  if (btf.funcProto(fn)) return btf;
  const mods = moduleBlobs.get(btf);
  if (!mods) return btf;
  const order = module && mods.has(module) ? [module, ...[...mods.keys()].filter((m) => m !== module)] : [...mods.keys()];
  for (const name of order) {
    const entry = mods.get(name)!;
    entry.btf ??= Btf.parse(readFileSync(entry.path), btf);
    if (entry.btf.funcProto(fn)) return entry.btf;
  }
  return btf;
}

/**
 * A tracepoint's TP_PROTO arguments (`$prev`, `$next` of sched_switch) and the blob their type ids
 * belong to (vmlinux's, or the split BTF of the module that defines the event). Undefined when the
 * BTF does not describe the event or an argument cannot be passed in a register (struct by value,
 * floating point), in which case only the tracefs format's fields are offered.
 */
export function tracepointTargets(vmlinux: Btf, event: string, fieldNames: readonly string[] = []): { btf: Btf; args: BtfParam[] } | undefined {
  const key = `${event}\0${fieldNames.join(',')}`;
  let cache = tpCache.get(vmlinux);
  if (!cache) tpCache.set(vmlinux, (cache = new Map()));
  if (cache.has(key)) return cache.get(key);
  let found: { btf: Btf; args: BtfParam[] } | undefined;
  const mods = moduleBlobs.get(vmlinux);
  const search = (btf: Btf) => {
    const args = tracepointArgs(btf, event, fieldNames);
    if (args) found = { btf, args };
  };
  search(vmlinux);
  if (!found && mods) {
    for (const entry of mods.values()) {
      entry.btf ??= Btf.parse(readFileSync(entry.path), vmlinux);
      if (entry.btf.find(`btf_trace_${event}`, BtfKind.Typedef).some((id) => id >= entry.btf!.firstId)) {
        search(entry.btf);
        break;
      }
    }
  }
  if (found && !found.args.every((a) => scalarInfo(found!.btf, found!.btf.resolve(a.type)))) found = undefined;
  cache.set(key, found);
  return found;
}

/** tracepointTargets for `kernel.trace("system:event")` in a kernel model (its BTF and the event's format fields). */
export function modelTracepointTargets(model: KernelModel | undefined, system: string, event: string): { btf: Btf; args: BtfParam[] } | undefined {
  const vmlinux = modelBtf(model);
  if (!vmlinux) return undefined;
  const fields = model?.tracepoints.get(`${system}:${event}`)?.fields ?? [];
  return tracepointTargets(vmlinux, event, fields.map((f) => f.name));
}

const tpCache = new WeakMap<Btf, Map<string, { btf: Btf; args: BtfParam[] } | undefined>>();

/** `$arg->member...` in a tracepoint probe whose event has TP_PROTO arguments (see tracepointTargets). */
export function resolveTracepointTarget(tp: { btf: Btf; args: BtfParam[] }, name: string, components: readonly TargetComponent[], wantAddress = false): Resolution {
  const idx = tp.args.findIndex((a) => a.name === name);
  if (idx < 0) return { ok: false, message: `no argument ${name}; the tracepoint's arguments are: ${tp.args.map((a) => '$' + a.name).join(' ') || '(none)'}` };
  const typeId = tp.args[idx]!.type;
  const info = scalarInfo(tp.btf, tp.btf.resolve(typeId))!;
  return walk(tp.btf, { kind: 'tparg', index: idx }, info, typeId, '$' + name, components, false, wantAddress);
}

function scalarInfo(btf: Btf, t: BtfType): { size: number; signed: boolean } | undefined {
  switch (t.kind) {
    case BtfKind.Int:
      return { size: t.size, signed: !!t.intEncoding?.signed };
    case BtfKind.Enum:
    case BtfKind.Enum64:
      return { size: t.size, signed: (t.enumValues ?? []).some((v) => v.value < 0n) };
    case BtfKind.Ptr:
      return { size: 8, signed: false };
    default:
      void btf;
      return undefined;
  }
}

/** Whether a type is a char array (pretty-printed as a quoted string). */
export function isCharArray(btf: Btf, t: BtfType): boolean {
  if (t.kind !== BtfKind.Array) return false;
  const elem = btf.resolve(t.array!.elem);
  return elem.kind === BtfKind.Int && elem.size === 1;
}

/**
 * Resolves a target variable in a probe on `fn` (entry, or return when `isReturn`). Subscripts
 * are resolved with index placeholders: `index` steps carry the position of their component.
 */
export function resolveTarget(vmlinux: Btf, fn: string, isReturn: boolean, name: string, components: readonly TargetComponent[], wantAddress = false): Resolution {
  const btf = btfForFunction(vmlinux, fn);
  const proto = btf.funcProto(fn);
  if (!proto) return { ok: false, message: `no type information (BTF) for function ${fn}; its arguments cannot be read` };
  let typeId: number;
  let base: TargetBase;
  if (name === 'return') {
    if (!isReturn) return { ok: false, message: `$return is only available in .return probes` };
    if (proto.ret === 0) return { ok: false, message: `${fn} returns void: there is no $return` };
    typeId = proto.ret;
    base = { kind: 'return' };
  } else {
    const idx = proto.params.findIndex((p) => p.name === name);
    if (idx < 0) {
      const names = proto.params.map((p) => '$' + p.name).join(' ');
      return { ok: false, message: `${fn} has no parameter ${name}; its parameters are: ${names || '(none)'}` };
    }
    // In a .return probe a parameter is its value at entry: the translator saves it then, so it
    // resolves exactly as in an entry probe.
    typeId = proto.params[idx]!.type;
    const resolved = btf.resolve(typeId);
    if (resolved.kind === BtfKind.Struct || resolved.kind === BtfKind.Union) {
      return { ok: false, message: `$${name} is a ${btf.typeName(typeId)} passed by value; tapsh cannot locate structs passed in registers` };
    }
    base = idx < ARG_REGS.length ? { kind: 'reg', reg: ARG_REGS[idx]! } : { kind: 'stack', slot: idx - ARG_REGS.length };
  }
  const baseInfo = scalarInfo(btf, btf.resolve(typeId));
  if (!baseInfo) return { ok: false, message: `$${name} has type ${btf.typeName(typeId)}, which tapsh cannot read` };

  return walk(btf, base, baseInfo, typeId, '$' + name, components, false, wantAddress);
}

/**
 * `@cast(ADDR, "struct NAME")->member...`: ADDR (a script value) is a pointer to the named type.
 * The plan's base is the script expression itself (kind 'expr'); names may omit "struct ".
 */
export function resolveCast(btf: Btf, typeName: string, components: readonly TargetComponent[], wantAddress = false): Resolution {
  const m = /^\s*(struct|union|enum)?\s*([A-Za-z_]\w*)\s*(\**)\s*$/.exec(typeName);
  if (!m) return { ok: false, message: `@cast type "${typeName}" is not a struct, union, enum or typedef name tapsh understands` };
  const kinds = m[1] === 'union' ? [BtfKind.Union] : m[1] === 'enum' ? [BtfKind.Enum, BtfKind.Enum64] : m[1] === 'struct' ? [BtfKind.Struct] : [BtfKind.Struct, BtfKind.Union, BtfKind.Typedef];
  const id = kinds.flatMap((k) => btf.find(m[2]!, k)).find((x) => btf.type(x).kind !== BtfKind.Fwd);
  if (id === undefined) return { ok: false, message: `the kernel's BTF has no type ${m[1] ? m[1] + ' ' : ''}${m[2]}` };
  if (m[3]) return { ok: false, message: `@cast to a pointer type (${typeName}) is not supported; cast to the pointed-to type` };
  // The value is the object's address.
  return walk(btf, { kind: 'expr' }, { size: 8, signed: false }, id, `@cast(..., "${typeName}")`, components, true, wantAddress);
}

function walk(btf: Btf, base: TargetBase, baseInfo: { size: number; signed: boolean }, typeId: number, path: string, components: readonly TargetComponent[], startAtAddress = false, wantAddress = false): Resolution {
  const steps: TargetStep[] = [];
  // State: either we hold a value of typeId (addr=false) or the address of an object of typeId (addr=true).
  let atAddress = startAtAddress;
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    let t = btf.resolve(typeId);
    if (c.kind === 'member') {
      if (t.kind === BtfKind.Ptr) {
        // Follow the pointer: load it first when we only have its address (a pointer member).
        if (atAddress) steps.push({ kind: 'load', size: 8, signed: false });
        steps.push({ kind: 'deref' });
        typeId = t.ref;
        t = btf.resolve(typeId);
        atAddress = true;
      } else if (!atAddress) {
        return { ok: false, message: `${path} is a ${btf.typeName(typeId)}, not a pointer to a struct: cannot take ->${c.name}` };
      }
      if (t.kind === BtfKind.Fwd) return { ok: false, message: `${path} points to ${btf.typeName(typeId)}, whose layout the kernel's BTF does not describe` };
      if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return { ok: false, message: `${path} is a ${btf.typeName(typeId)}, which has no members` };
      const m = btf.member(typeId, c.name);
      if (!m) {
        const names = btf.memberNames(typeId);
        // Closest names first (task_struct has hundreds): the likely fix, not the whole list.
        const near = names.filter((n) => n.includes(c.name) || c.name.includes(n) || n.startsWith(c.name.slice(0, 3)));
        const shown = [...new Set([...near, ...names])].slice(0, 12);
        return {
          ok: false,
          message: `${btf.typeName(typeId)} has no member ${c.name}; its members include: ${shown.join(' ')}${names.length > shown.length ? ` (and ${names.length - shown.length} more)` : ''}`,
          missing: { type: btf.typeName(typeId), member: c.name, names },
        };
      }
      if (m.bitSize) {
        const mt = btf.resolve(m.type);
        const info = scalarInfo(btf, mt);
        if (!info || i !== components.length - 1) return { ok: false, message: `bitfield ${c.name} can only be read as a number` };
        const byteOff = Math.floor(m.bitOffset / 8) & ~(info.size - 1);
        steps.push({ kind: 'offset', bytes: byteOff });
        steps.push({ kind: 'load', size: info.size, signed: info.signed, bitOffset: m.bitOffset - byteOff * 8, bitSize: m.bitSize });
        return { ok: true, plan: { base, baseSize: baseInfo.size, baseSigned: baseInfo.signed, steps, result: { kind: 'long' }, typeName: btf.typeName(m.type), typeId: m.type, btf } };
      }
      if (m.bitOffset % 8) return { ok: false, message: `member ${c.name} is not byte-aligned` };
      if (m.bitOffset) steps.push({ kind: 'offset', bytes: m.bitOffset / 8 });
      typeId = m.type;
      path += `->${c.name}`;
      continue;
    }
    // Subscript: on a pointer (value, or loaded from its address) or an inline array (address).
    if (t.kind === BtfKind.Ptr) {
      if (atAddress) steps.push({ kind: 'load', size: 8, signed: false });
      steps.push({ kind: 'deref' });
      const elem = t.ref;
      steps.push({ kind: 'index', index: i, elemSize: btf.sizeof(elem) || 1 });
      typeId = elem;
      atAddress = true;
    } else if (atAddress && startAtAddress && i === 0) {
      // @cast(p, "T")[i]: p is taken as an array of T (stap's; &@cast(0, "T")[1] is sizeof(T)).
      steps.push({ kind: 'index', index: i, elemSize: btf.sizeof(typeId) || 1 });
    } else if (atAddress && t.kind === BtfKind.Array) {
      const elem = t.array!.elem;
      steps.push({ kind: 'index', index: i, elemSize: btf.sizeof(elem) || 1 });
      typeId = elem;
    } else {
      return { ok: false, message: `${path} is a ${btf.typeName(typeId)}: it cannot be indexed` };
    }
    path += '[...]';
  }

  const final = btf.resolve(typeId);
  if (atAddress && final.kind === BtfKind.Array) {
    // An array used as a value is its address, as in C and as stap has it: a char array is read
    // with kernel_string($dev->name), or pretty-printed as a string with $dev->name$.
    return { ok: true, plan: { base, baseSize: baseInfo.size, baseSigned: baseInfo.signed, steps, result: { kind: 'long' }, typeName: btf.typeName(typeId), typeId, btf } };
  }
  if (atAddress && wantAddress && (final.kind === BtfKind.Struct || final.kind === BtfKind.Union)) {
    return { ok: true, plan: { base, baseSize: baseInfo.size, baseSigned: baseInfo.signed, steps, result: { kind: 'long' }, typeName: btf.typeName(typeId), typeId, btf } };
  }
  const info = scalarInfo(btf, final);
  if (!info) return { ok: false, message: `${path} is a ${btf.typeName(typeId)}; only numbers, pointers and char arrays can be read (try ->member)` };
  if (atAddress) steps.push({ kind: 'load', size: info.size, signed: info.signed });
  return { ok: true, plan: { base, baseSize: baseInfo.size, baseSigned: baseInfo.signed, steps, result: { kind: 'long' }, typeName: btf.typeName(typeId), typeId, btf } };
}

/** The BTF type of `$name...` in a probe on `fn`, if it resolves (for pretty-printing decisions). */
export function targetTypeId(btf: Btf, fn: string, name: string, components: readonly TargetComponent[]): number | undefined {
  // Note: the id is in the blob of `fn` (see btfForFunction).
  const r = resolveTarget(btf, fn, name === 'return', name, components, true);
  return r.ok ? r.plan.typeId : undefined;
}

/** A plan ending at the address of an inline struct or union (`$p->se` for `$p->se$$`). */
export function resolveAddress(btf: Btf, fn: string, name: string, components: readonly TargetComponent[]): { plan: TargetPlan; typeId: number } | undefined {
  const r = resolveTarget(btf, fn, name === 'return', name, components, true);
  return r.ok ? { plan: r.plan, typeId: r.plan.typeId } : undefined;
}
