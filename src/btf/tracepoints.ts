// Tracepoint arguments from BTF: the TP_PROTO of `kernel.trace("sys:event")`, as stap offers them ($prev, $next, ...).
import { Btf, BtfKind, type BtfParam } from './btf.js';

/** The functions the kernel generates per event class, whose parameters carry TP_ARGS's names. */
const CLASS_PREFIXES = ['__bpf_trace_', 'trace_event_raw_event_', 'perf_trace_'];

const classIndex = new WeakMap<Btf, Map<string, { name: string; params: BtfParam[] }[]>>();

/** Class functions by their parameter type list (ids joined), built once per blob. */
function classesBySignature(btf: Btf): Map<string, { name: string; params: BtfParam[] }[]> {
  let index = classIndex.get(btf);
  if (index) return index;
  index = new Map();
  const seen = new Set<string>();
  for (const prefix of CLASS_PREFIXES) {
    for (const fn of btf.functionNamesWithPrefix(prefix)) {
      const cls = fn.slice(prefix.length);
      if (seen.has(cls)) continue;
      const proto = btf.funcProto(fn);
      if (!proto || proto.params.length === 0) continue;
      seen.add(cls);
      const key = proto.params.map((p) => p.type).join(',');
      const list = index.get(key) ?? [];
      list.push({ name: cls, params: proto.params });
      index.set(key, list);
    }
  }
  classIndex.set(btf, index);
  return index;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The arguments a tracepoint's probe functions receive (after the leading `void *data`), with
 * names and BTF types: from the `btf_trace_EVENT` typedef (types, per event) and the functions
 * generated for the event's class (names; BTF does not say which class an event belongs to, so
 * it is chosen among the classes with the same parameter types: the event's own name first,
 * then the one whose names are the event's format fields, a class that is no event itself and
 * whose name shares the longest prefix with the event's). Undefined when the BTF has no such
 * typedef (an event of a module whose BTF is not loaded, or a kernel without BTF).
 */
export function tracepointArgs(btf: Btf, event: string, fieldNames: readonly string[] = []): BtfParam[] | undefined {
  const td = btf.find(`btf_trace_${event}`, BtfKind.Typedef)[0];
  if (td === undefined) return undefined;
  const ptr = btf.type(btf.type(td).ref);
  const proto = ptr.kind === BtfKind.Ptr ? btf.type(ptr.ref) : undefined;
  if (!proto || proto.kind !== BtfKind.FuncProto || !proto.params?.length) return undefined;
  const types = proto.params.map((p) => p.type);
  const candidates = classesBySignature(btf).get(types.join(',')) ?? [];
  const fields = new Set(fieldNames);
  const score = (c: { name: string; params: BtfParam[] }): number[] => [
    c.name === event ? 1 : 0,
    c.params.slice(1).filter((p) => fields.has(p.name)).length,
    event.startsWith(c.name) ? 1 : 0,
    btf.find(`btf_trace_${c.name}`, BtfKind.Typedef).length ? 0 : 1,
    commonPrefix(c.name, event),
  ];
  const better = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return false;
  };
  let best: { name: string; params: BtfParam[] } | undefined;
  let bestScore: number[] = [];
  for (const c of candidates) {
    const sc = score(c);
    if (!best || better(sc, bestScore)) [best, bestScore] = [c, sc];
  }
  return types.slice(1).map((type, i) => ({ name: best?.params[i + 1]?.name || `arg${i + 1}`, type }));
}

/** A C type as stap's -L spells it (from DWARF): qualifiers after what they qualify (`char const*`), `int (*) (unsigned int)`. */
export function stapTypeName(btf: Btf, id: number): string {
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.Ptr: {
      const inner = btf.type(t.ref);
      if (inner.kind === BtfKind.FuncProto) return `${stapTypeName(btf, inner.ref)} (*) (${(inner.params ?? []).map((p) => stapTypeName(btf, p.type)).join(', ')})`;
      return `${stapTypeName(btf, t.ref)}*`;
    }
    case BtfKind.Const:
      return `${stapTypeName(btf, t.ref)} const`;
    case BtfKind.Volatile:
      return `${stapTypeName(btf, t.ref)} volatile`;
    case BtfKind.TypeTag:
      return stapTypeName(btf, t.ref);
    case BtfKind.Array:
      return `${stapTypeName(btf, t.array!.elem)}[${t.array!.count}]`;
    default:
      return btf.typeName(id);
  }
}
