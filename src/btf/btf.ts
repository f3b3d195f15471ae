// A reader for BTF, the kernel's compact type information (/sys/kernel/btf/vmlinux and split module BTF).

export enum BtfKind {
  Void = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Width for bitfields, 0 otherwise. */
  bitSize: number;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfEnumValue {
  name: string;
  value: bigint;
}

export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string;
  /** Struct/union/enum/int/float/datasec size in bytes; 0 where it does not apply. */
  size: number;
  /** Referenced type for ptr/typedef/const/volatile/restrict/func/var/type_tag/decl_tag, return type for func_proto. */
  ref: number;
  kindFlag: boolean;
  /** Int: signedness/char/bool and width in bits. */
  intEncoding?: { signed: boolean; char: boolean; bool: boolean; bits: number; offset: number };
  array?: { elem: number; index: number; count: number };
  members?: BtfMember[];
  params?: BtfParam[];
  enumValues?: BtfEnumValue[];
  /** Func: linkage (0 static, 1 global, 2 extern). */
  linkage?: number;
}

export class BtfError extends Error {}

const MAGIC = 0xeb9f;

/** FNV-1a over bytes [start, end) of a buffer (the name index's hash). */
function hashBytes(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** Bytes that follow the 12-byte common header of a type record, by kind. */
function extraBytes(kind: BtfKind, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      return 4;
    case BtfKind.Array:
      return 12;
    case BtfKind.Struct:
    case BtfKind.Union:
    case BtfKind.Enum64:
    case BtfKind.Datasec:
      return 12 * vlen;
    case BtfKind.Enum:
    case BtfKind.FuncProto:
      return 8 * vlen;
    case BtfKind.Ptr:
    case BtfKind.Fwd:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.Func:
    case BtfKind.Float:
    case BtfKind.TypeTag:
      return 0;
    default:
      return -1;
  }
}

/**
 * A BTF blob, read lazily: loading only indexes where each type record starts (one pass over
 * fixed-size headers, no objects), and a type is decoded the first time it is asked for. Module
 * BTF is "split": its type ids and string offsets continue where its base (vmlinux) stops, so
 * parse it with the vmlinux Btf as `base`.
 */
export class Btf {
  /** First type id defined in this blob (1 for vmlinux). */
  readonly firstId: number;
  private readonly offsets: Uint32Array;
  private readonly nameOffs: Uint32Array;
  private readonly decoded: (BtfType | undefined)[];
  /** Name index (built on first find): hash buckets of type indexes, chained through `nameNext` (index + 1; 0 ends). */
  private nameHeads: Int32Array | undefined;
  private nameNext: Int32Array | undefined;

  private constructor(
    readonly base: Btf | undefined,
    private readonly buf: Buffer,
    private readonly strings: Buffer,
    private readonly stringBytes: number,
    offsets: Uint32Array,
    nameOffs: Uint32Array,
  ) {
    this.firstId = base ? base.nextId : 1;
    this.offsets = offsets;
    this.nameOffs = nameOffs;
    this.decoded = new Array(offsets.length);
  }

  static parse(buf: Uint8Array, base?: Btf): Btf {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    if (b.length < 24 || b.readUInt16LE(0) !== MAGIC) throw new BtfError('not a BTF blob (bad magic)');
    if (b.readUInt8(2) !== 1) throw new BtfError(`unsupported BTF version ${b.readUInt8(2)}`);
    const hdrLen = b.readUInt32LE(4);
    const typeOff = hdrLen + b.readUInt32LE(8);
    const typeLen = b.readUInt32LE(12);
    const strOff = hdrLen + b.readUInt32LE(16);
    const strLen = b.readUInt32LE(20);
    if (typeOff + typeLen > b.length || strOff + strLen > b.length) throw new BtfError('truncated BTF blob');
    // Every record is at least 12 bytes: size the index for the most there can be, trim at the end.
    const cap = Math.floor(typeLen / 12) + 1;
    const offsets = new Uint32Array(cap);
    const nameOffs = new Uint32Array(cap);
    let n = 0;
    let off = typeOff;
    const end = typeOff + typeLen;
    while (off < end) {
      if (off + 12 > end) throw new BtfError('type section does not end on a type boundary');
      const info = b.readUInt32LE(off + 4);
      const kind = ((info >>> 24) & 0x1f) as BtfKind;
      const extra = extraBytes(kind, info & 0xffff);
      if (extra < 0) throw new BtfError(`unknown BTF kind ${kind} for type ${(base ? base.nextId : 1) + n} at byte ${off}`);
      offsets[n] = off;
      nameOffs[n++] = b.readUInt32LE(off);
      off += 12 + extra;
    }
    if (off !== end) throw new BtfError('type section does not end on a type boundary');
    return new Btf(base, b, b.subarray(strOff, strOff + strLen), (base ? base.stringBytes : 0) + strLen, offsets.slice(0, n), nameOffs.slice(0, n));
  }

  private string(off: number): string {
    const baseLen = this.base ? this.base.stringBytes : 0;
    if (off < baseLen) return this.base!.string(off);
    const o = off - baseLen;
    if (o >= this.strings.length) throw new BtfError(`string offset ${off} out of range`);
    const end = this.strings.indexOf(0, o);
    return this.strings.toString('latin1', o, end < 0 ? this.strings.length : end);
  }

  private decode(id: number): BtfType {
    const b = this.buf;
    let off = this.offsets[id - this.firstId]!;
    const nameOff = b.readUInt32LE(off);
    const info = b.readUInt32LE(off + 4);
    const sizeOrType = b.readUInt32LE(off + 8);
    off += 12;
    const vlen = info & 0xffff;
    const kind = ((info >>> 24) & 0x1f) as BtfKind;
    const kindFlag = (info >>> 31) === 1;
    const str = (o: number) => this.string(o);
    const t: BtfType = { id, kind, name: str(nameOff), size: 0, ref: 0, kindFlag };
    switch (kind) {
      case BtfKind.Int: {
        const enc = b.readUInt32LE(off);
        t.size = sizeOrType;
        t.intEncoding = { signed: ((enc >>> 24) & 1) === 1, char: ((enc >>> 24) & 2) === 2, bool: ((enc >>> 24) & 4) === 4, offset: (enc >>> 16) & 0xff, bits: enc & 0xff };
        break;
      }
      case BtfKind.Ptr:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
      case BtfKind.DeclTag:
        t.ref = sizeOrType;
        break;
      case BtfKind.Fwd:
        break;
      case BtfKind.Func:
        t.ref = sizeOrType;
        t.linkage = vlen;
        break;
      case BtfKind.Array:
        t.array = { elem: b.readUInt32LE(off), index: b.readUInt32LE(off + 4), count: b.readUInt32LE(off + 8) };
        break;
      case BtfKind.Struct:
      case BtfKind.Union:
        t.size = sizeOrType;
        t.members = [];
        for (let i = 0; i < vlen; i++, off += 12) {
          const mOff = b.readUInt32LE(off + 8);
          t.members.push({
            name: str(b.readUInt32LE(off)),
            type: b.readUInt32LE(off + 4),
            bitOffset: kindFlag ? mOff & 0xffffff : mOff,
            bitSize: kindFlag ? mOff >>> 24 : 0,
          });
        }
        break;
      case BtfKind.Enum:
        t.size = sizeOrType;
        t.enumValues = [];
        for (let i = 0; i < vlen; i++, off += 8) {
          const v = kindFlag ? BigInt(b.readInt32LE(off + 4)) : BigInt(b.readUInt32LE(off + 4));
          t.enumValues.push({ name: str(b.readUInt32LE(off)), value: v });
        }
        break;
      case BtfKind.Enum64:
        t.size = sizeOrType;
        t.enumValues = [];
        for (let i = 0; i < vlen; i++, off += 12) {
          const raw = (BigInt(b.readUInt32LE(off + 8)) << 32n) | BigInt(b.readUInt32LE(off + 4));
          t.enumValues.push({ name: str(b.readUInt32LE(off)), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        break;
      case BtfKind.FuncProto:
        t.ref = sizeOrType;
        t.params = [];
        for (let i = 0; i < vlen; i++, off += 8) t.params.push({ name: str(b.readUInt32LE(off)), type: b.readUInt32LE(off + 4) });
        break;
      case BtfKind.Var:
        t.ref = sizeOrType;
        t.linkage = b.readUInt32LE(off);
        break;
      case BtfKind.Datasec:
      case BtfKind.Float:
        t.size = sizeOrType;
        break;
      default:
        throw new BtfError(`unknown BTF kind ${kind} for type ${id}`);
    }
    return t;
  }

  /** Decodes every type now (what an eager reader pays up front; benchmarks compare against it). */
  decodeAll(): number {
    for (let id = this.firstId; id < this.nextId; id++) this.type(id);
    return this.offsets.length;
  }

  /** Names of every function with a prototype (FUNC records), in id order. */
  functionNames(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.offsets.length; i++) {
      const info = this.buf.readUInt32LE(this.offsets[i]! + 4);
      if (((info >>> 24) & 0x1f) === BtfKind.Func) out.push(this.string(this.nameOffs[i]!));
    }
    return out;
  }

  /** Names of the functions (FUNC records) whose name starts with `prefix`, in id order. */
  functionNamesWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    const want = Buffer.from(prefix, 'latin1');
    const baseLen = this.base ? this.base.stringBytes : 0;
    for (let i = 0; i < this.offsets.length; i++) {
      const info = this.buf.readUInt32LE(this.offsets[i]! + 4);
      if (((info >>> 24) & 0x1f) !== BtfKind.Func) continue;
      const o = this.nameOffs[i]!;
      if (o < baseLen) {
        const name = this.string(o);
        if (name.startsWith(prefix)) out.push(name);
      } else if (o - baseLen + want.length <= this.strings.length && this.strings.compare(want, 0, want.length, o - baseLen, o - baseLen + want.length) === 0) {
        out.push(this.string(o));
      }
    }
    return out;
  }

  /** One past the last type id defined here (where split BTF built on this one starts). */
  get nextId(): number {
    return this.firstId + this.offsets.length;
  }

  /** Number of types in this blob (not counting the base). */
  get count(): number {
    return this.offsets.length;
  }

  type(id: number): BtfType {
    if (id === 0) return { id: 0, kind: BtfKind.Void, name: 'void', size: 0, ref: 0, kindFlag: false };
    if (id < this.firstId) {
      if (!this.base) throw new BtfError(`type id ${id} out of range`);
      return this.base.type(id);
    }
    const i = id - this.firstId;
    if (i >= this.offsets.length) throw new BtfError(`type id ${id} out of range`);
    return (this.decoded[i] ??= this.decode(id));
  }

  /** The bytes of a name in the string section(s): [buffer, start, end]. */
  private nameBytes(off: number): [Buffer, number, number] {
    const baseLen = this.base ? this.base.stringBytes : 0;
    if (off < baseLen) return this.base!.nameBytes(off);
    const start = off - baseLen;
    const end = this.strings.indexOf(0, start);
    return [this.strings, start, end < 0 ? this.strings.length : end];
  }

  /**
   * Ids of types with this name (this blob first, then the base), optionally of one kind. The
   * index hashes the names' bytes where they lie: no string is made for a name never asked for.
   */
  find(name: string, kind?: BtfKind): number[] {
    const count = this.nameOffs.length;
    if (!this.nameHeads) {
      let size = 1;
      while (size < count * 2) size <<= 1;
      const heads = new Int32Array(size);
      const next = new Int32Array(count);
      for (let i = count - 1; i >= 0; i--) {
        const o = this.nameOffs[i]!;
        if (o === 0) continue;
        const [buf, start, end] = this.nameBytes(o);
        const h = hashBytes(buf, start, end) & (size - 1);
        next[i] = heads[h]!;
        heads[h] = i + 1;
      }
      this.nameHeads = heads;
      this.nameNext = next;
    }
    const want = Buffer.from(name, 'latin1');
    const heads = this.nameHeads;
    const next = this.nameNext!;
    const own: number[] = [];
    for (let i = heads[hashBytes(want, 0, want.length) & (heads.length - 1)]!; i !== 0; i = next[i - 1]!) {
      const [buf, start, end] = this.nameBytes(this.nameOffs[i - 1]!);
      if (end - start !== want.length || buf.compare(want, 0, want.length, start, end) !== 0) continue;
      const id = this.firstId + i - 1;
      if (kind === undefined || this.type(id).kind === kind) own.push(id);
    }
    return this.base ? [...own, ...this.base.find(name, kind)] : own;
  }

  /** Skips typedef, const, volatile, restrict and type tags. */
  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let guard = 0; guard < 64; guard++) {
      if (t.kind === BtfKind.Typedef || t.kind === BtfKind.Const || t.kind === BtfKind.Volatile || t.kind === BtfKind.Restrict || t.kind === BtfKind.TypeTag) {
        t = this.type(t.ref);
      } else {
        return t;
      }
    }
    throw new BtfError(`type ${id}: qualifier chain too long`);
  }

  /** Size in bytes of a type as C's sizeof would give it. */
  sizeof(id: number): number {
    const t = this.resolve(id);
    switch (t.kind) {
      case BtfKind.Int:
      case BtfKind.Struct:
      case BtfKind.Union:
      case BtfKind.Enum:
      case BtfKind.Enum64:
      case BtfKind.Float:
        return t.size;
      case BtfKind.Ptr:
        return 8;
      case BtfKind.Array:
        return t.array!.count * this.sizeof(t.array!.elem);
      default:
        return 0;
    }
  }

  /** A function's prototype: its parameters (names and types) and return type. */
  funcProto(name: string): { params: BtfParam[]; ret: number; func: BtfType } | undefined {
    const fid = this.find(name, BtfKind.Func)[0];
    if (fid === undefined) return undefined;
    const func = this.type(fid);
    const proto = this.type(func.ref);
    if (proto.kind !== BtfKind.FuncProto) return undefined;
    return { params: proto.params ?? [], ret: proto.ref, func };
  }

  /**
   * Finds a member by name in a struct/union, looking through anonymous struct/union members as
   * C does. Returns the member with its bit offset from the start of `id`.
   */
  member(id: number, name: string): BtfMember | undefined {
    const t = this.resolve(id);
    if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return undefined;
    for (const m of t.members ?? []) {
      if (m.name === name) return m;
      if (m.name === '') {
        const inner = this.member(m.type, name);
        if (inner) return { ...inner, bitOffset: m.bitOffset + inner.bitOffset };
      }
    }
    return undefined;
  }

  /** Member names visible in a struct/union (anonymous members flattened), for "did you mean" lists. */
  memberNames(id: number): string[] {
    const t = this.resolve(id);
    if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return [];
    const out: string[] = [];
    for (const m of t.members ?? []) {
      if (m.name === '') out.push(...this.memberNames(m.type));
      else out.push(m.name);
    }
    return out;
  }

  /** The C spelling of a type, e.g. "struct task_struct *", "const char *", "char [16]". */
  typeName(id: number): string {
    const t = this.type(id);
    switch (t.kind) {
      case BtfKind.Void:
        return 'void';
      case BtfKind.Int:
      case BtfKind.Float:
      case BtfKind.Typedef:
        return t.name;
      case BtfKind.Struct:
        return `struct ${t.name || '(anon)'}`;
      case BtfKind.Union:
        return `union ${t.name || '(anon)'}`;
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return `enum ${t.name || '(anon)'}`;
      case BtfKind.Fwd:
        return `${t.kindFlag ? 'union' : 'struct'} ${t.name}`;
      case BtfKind.Ptr: {
        const inner = this.type(t.ref);
        if (inner.kind === BtfKind.FuncProto) return `${this.typeName(inner.ref)} (*)(${(inner.params ?? []).map((p) => this.typeName(p.type)).join(', ')})`;
        const s = this.typeName(t.ref);
        return s.endsWith('*') ? `${s}*` : `${s} *`;
      }
      case BtfKind.Const:
        return `const ${this.typeName(t.ref)}`;
      case BtfKind.Volatile:
        return `volatile ${this.typeName(t.ref)}`;
      case BtfKind.Restrict:
        return `${this.typeName(t.ref)} restrict`;
      case BtfKind.TypeTag:
      case BtfKind.DeclTag:
        return this.typeName(t.ref);
      case BtfKind.Array:
        return `${this.typeName(t.array!.elem)} [${t.array!.count}]`;
      case BtfKind.FuncProto:
        return `${this.typeName(t.ref)} (${(t.params ?? []).map((p) => this.typeName(p.type)).join(', ')})`;
      case BtfKind.Func:
        return `${t.name}: ${this.typeName(t.ref)}`;
      case BtfKind.Var:
        return this.typeName(t.ref);
      case BtfKind.Datasec:
        return `section ${t.name}`;
      default:
        return `(kind ${t.kind})`;
    }
  }
}
