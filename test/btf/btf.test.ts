// The BTF reader on blobs built here byte by byte (the lab test reads the real kernel's BTF).
import { describe, expect, it } from 'vitest';
import { Btf, BtfKind } from '../../src/btf/btf.js';
import { resolveTracepointTarget } from '../../src/btf/targets.js';
import { stapTypeName, tracepointArgs } from '../../src/btf/tracepoints.js';

/** Assembles a BTF blob: types as (name, kind, vlen, kindFlag, sizeOrType, extra u32 words). */
class BtfBuilder {
  private strs = ['\0'];
  private strLen = 1;
  private words: number[] = [];
  private nextId: number;
  constructor(firstId = 1, private readonly baseStrLen = 0) {
    this.nextId = firstId;
  }
  str(s: string): number {
    if (s === '') return 0;
    const off = this.baseStrLen + this.strLen;
    this.strs.push(s + '\0');
    this.strLen += Buffer.byteLength(s) + 1;
    return off;
  }
  type(name: string, kind: BtfKind, vlen: number, kindFlag: boolean, sizeOrType: number, extra: number[] = []): number {
    this.words.push(this.str(name), ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.nextId++;
  }
  build(): Buffer {
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
    const strings = Buffer.from(this.strs.join(''), 'latin1');
    const h = Buffer.alloc(24);
    h.writeUInt16LE(0xeb9f, 0);
    h.writeUInt8(1, 2);
    h.writeUInt32LE(24, 4);
    h.writeUInt32LE(0, 8);
    h.writeUInt32LE(types.length, 12);
    h.writeUInt32LE(types.length, 16);
    h.writeUInt32LE(strings.length, 20);
    return Buffer.concat([h, types, strings]);
  }
}

describe('BTF reader on a hand-built blob', () => {
  const b = new BtfBuilder();
  const int = b.type('int', BtfKind.Int, 0, false, 4, [(1 << 24) | 32]);
  const u8 = b.type('unsigned char', BtfKind.Int, 0, false, 1, [8]);
  const charArr = b.type('', BtfKind.Array, 0, false, 0, [u8, int, 16]);
  const inner = b.type('', BtfKind.Union, 2, false, 4, [b.str('a'), int, 0, b.str('b'), u8, 0]);
  const s = b.type('thing', BtfKind.Struct, 4, true, 24, [
    b.str('id'), int, 0,
    b.str('flags'), u8, (3 << 24) | 32, // 3-bit bitfield at bit 32
    b.str(''), inner, 64, // anonymous union: a, b visible at byte 8
    b.str('name'), charArr, 96,
  ]);
  const td = b.type('thing_t', BtfKind.Typedef, 0, false, s);
  const cst = b.type('', BtfKind.Const, 0, false, td);
  const ptr = b.type('', BtfKind.Ptr, 0, false, cst);
  const e64 = b.type('big', BtfKind.Enum64, 1, true, 8, [b.str('NEG'), 0xffffffff, 0xffffffff]);
  const proto = b.type('', BtfKind.FuncProto, 2, false, int, [b.str('t'), ptr, b.str('n'), int]);
  b.type('frob', BtfKind.Func, 1, false, proto);
  const btf = Btf.parse(b.build());

  it('reads ints, arrays, structs with bitfields and anonymous members', () => {
    expect(btf.type(int).intEncoding).toMatchObject({ signed: true, bits: 32 });
    expect(btf.member(s, 'flags')).toMatchObject({ bitOffset: 32, bitSize: 3 });
    expect(btf.member(s, 'b')).toMatchObject({ bitOffset: 64 }); // through the anonymous union
    expect(btf.memberNames(s)).toEqual(['id', 'flags', 'a', 'b', 'name']);
    expect(btf.sizeof(charArr)).toBe(16);
    expect(btf.typeName(charArr)).toBe('unsigned char [16]');
  });

  it('sees through typedefs and qualifiers, and spells C types', () => {
    expect(btf.resolve(cst).name).toBe('thing');
    expect(btf.typeName(ptr)).toBe('const thing_t *');
    expect(btf.sizeof(ptr)).toBe(8);
    expect(btf.type(e64).enumValues).toEqual([{ name: 'NEG', value: -1n }]);
  });

  it('gives function prototypes by name', () => {
    const f = btf.funcProto('frob')!;
    expect(f.params.map((p) => `${btf.typeName(p.type)} ${p.name}`)).toEqual(['const thing_t * t', 'int n']);
    expect(btf.typeName(f.ret)).toBe('int');
    expect(btf.funcProto('nope')).toBeUndefined();
  });

  it('reads split BTF on top of a base, continuing ids and string offsets', () => {
    const baseBlob = b.build();
    const base = Btf.parse(baseBlob);
    const strLen = baseBlob.readUInt32LE(20);
    const m = new BtfBuilder(base.nextId, strLen);
    const modStruct = m.type('mod_thing', BtfKind.Struct, 1, false, 8, [m.str('owner'), ptr, 0]);
    const split = Btf.parse(m.build(), base);
    expect(modStruct).toBe(base.nextId);
    expect(split.typeName(split.member(modStruct, 'owner')!.type)).toBe('const thing_t *');
    expect(split.find('thing', BtfKind.Struct)).toEqual([s]);
  });

  it('rejects what is not BTF', () => {
    expect(() => Btf.parse(Buffer.from('not btf at all, really not'))).toThrow(/bad magic/);
    expect(() => Btf.parse(b.build().subarray(0, 40))).toThrow(/truncated/);
  });
});

describe('tracepoint arguments from BTF (btf_trace_* typedefs, names from the event class functions)', () => {
  const b = new BtfBuilder();
  const int = b.type('int', BtfKind.Int, 0, false, 4, [(1 << 24) | 32]);
  const chr = b.type('char', BtfKind.Int, 0, false, 1, [(2 << 24) | 8]);
  const voidp = b.type('', BtfKind.Ptr, 0, false, 0);
  const task = b.type('task_struct', BtfKind.Struct, 1, false, 8, [b.str('pid'), int, 0]);
  const taskp = b.type('', BtfKind.Ptr, 0, false, task);
  const cchar = b.type('', BtfKind.Const, 0, false, chr);
  const ccharp = b.type('', BtfKind.Ptr, 0, false, cchar);
  // Event "ev_one" of class "ev_template" (void *, struct task_struct *p, const char *why); a decoy class with other names.
  const unnamed = b.type('', BtfKind.FuncProto, 3, false, 0, [0, voidp, 0, taskp, 0, ccharp]);
  const tdPtr = b.type('', BtfKind.Ptr, 0, false, unnamed);
  b.type('btf_trace_ev_one', BtfKind.Typedef, 0, false, tdPtr);
  b.type('btf_trace_zz_other', BtfKind.Typedef, 0, false, tdPtr);
  const named = b.type('', BtfKind.FuncProto, 3, false, 0, [b.str('__data'), voidp, b.str('p'), taskp, b.str('why'), ccharp]);
  b.type('__bpf_trace_ev_template', BtfKind.Func, 0, false, named);
  const decoy = b.type('', BtfKind.FuncProto, 3, false, 0, [b.str('__data'), voidp, b.str('tsk'), taskp, b.str('msg'), ccharp]);
  b.type('__bpf_trace_zz_other', BtfKind.Func, 0, false, decoy);
  const btf = Btf.parse(b.build());

  it('takes the types from the typedef and the names from the class that fits best', () => {
    const args = tracepointArgs(btf, 'ev_one')!;
    expect(args.map((a) => `$${a.name}:${stapTypeName(btf, a.type)}`)).toEqual(['$p:struct task_struct*', '$why:char const*']);
    // An event that is its own class keeps its own names.
    expect(tracepointArgs(btf, 'zz_other')!.map((a) => a.name)).toEqual(['tsk', 'msg']);
    // The format's field names outweigh a name prefix.
    expect(tracepointArgs(btf, 'ev_one', ['tsk', 'msg'])!.map((a) => a.name)).toEqual(['tsk', 'msg']);
    expect(tracepointArgs(btf, 'no_such_event')).toBeUndefined();
  });

  it('resolves member chains on an argument', () => {
    const tp = { btf, args: tracepointArgs(btf, 'ev_one')! };
    const r = resolveTracepointTarget(tp, 'p', [{ kind: 'member', name: 'pid', span: undefined as never }]);
    expect(r.ok && r.plan.base).toEqual({ kind: 'tparg', index: 0 });
    expect(r.ok && r.plan.steps).toEqual([{ kind: 'deref' }, { kind: 'load', size: 4, signed: true }]);
    const bad = resolveTracepointTarget(tp, 'nope', []);
    expect(!bad.ok && bad.message).toBe('no argument nope; the tracepoint\'s arguments are: $p $why');
  });
});
