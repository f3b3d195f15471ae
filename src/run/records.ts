// Decodes the module's framed record stream (runtime-c/PROTOCOL.md) incrementally, chunk by chunk.

export const RECORD_HEADER_BYTES = 24;

export enum RecordKind {
  Output = 1,
  Warning = 2,
  Error = 3,
  Dropped = 4,
  State = 5,
  Eof = 6,
  Stats = 7,
  /** Session: u32 entry number, then as Output / Warning / Error. */
  OutputEntry = 8,
  WarningEntry = 9,
  ErrorEntry = 10,
}

export enum ModuleState {
  Loaded = 0,
  Starting = 1,
  Running = 2,
  Stopping = 3,
  Done = 4,
  Disarmed = 5,
}

export interface ModuleRecord {
  kind: RecordKind;
  cpu: number;
  seq: bigint;
  timeNs: bigint;
  payload: Buffer;
}

/** Largest payload we accept; anything bigger means the stream is corrupt, not that a record is big. */
const MAX_PAYLOAD = 64 * 1024 * 1024;

export class RecordStreamError extends Error {}

/** Feeds bytes in, gets whole records out; keeps the partial tail between calls. */
export class RecordDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private lastSeq = 0n;
  /** Sequence numbers skipped so far (records the module could not store). */
  missing = 0n;

  push(chunk: Buffer): ModuleRecord[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: ModuleRecord[] = [];
    let off = 0;
    while (this.pending.length - off >= RECORD_HEADER_BYTES) {
      const len = this.pending.readUInt32LE(off);
      const kind = this.pending.readUInt16LE(off + 4);
      // Kinds up to 15 are accepted (8-10 are the session's entry-tagged records, SESSION.md).
      if (len > MAX_PAYLOAD || kind < RecordKind.Output || kind > 15) {
        throw new RecordStreamError(`corrupt record stream at byte ${off}: kind ${kind}, length ${len}`);
      }
      if (this.pending.length - off < RECORD_HEADER_BYTES + len) break;
      const seq = this.pending.readBigUInt64LE(off + 8);
      if (this.lastSeq !== 0n && seq > this.lastSeq + 1n) this.missing += seq - this.lastSeq - 1n;
      if (seq > this.lastSeq) this.lastSeq = seq;
      out.push({
        kind,
        cpu: this.pending.readUInt16LE(off + 6),
        seq,
        timeNs: this.pending.readBigUInt64LE(off + 16),
        payload: Buffer.from(this.pending.subarray(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len)),
      });
      off += RECORD_HEADER_BYTES + len;
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
    return out;
  }

  /** Bytes received that do not yet form a whole record. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Encodes one record (the host side never sends records; this exists for tests and tools). */
export function encodeRecord(kind: RecordKind, seq: bigint, payload: Buffer, cpu = 0, timeNs = 0n): Buffer {
  const h = Buffer.alloc(RECORD_HEADER_BYTES);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt16LE(kind, 4);
  h.writeUInt16LE(cpu, 6);
  h.writeBigUInt64LE(seq, 8);
  h.writeBigUInt64LE(timeNs, 16);
  return Buffer.concat([h, payload]);
}

export function droppedCounts(r: ModuleRecord): { records: bigint; bytes: bigint } {
  return { records: r.payload.readBigUInt64LE(0), bytes: r.payload.readBigUInt64LE(8) };
}

export function stateOf(r: ModuleRecord): { state: ModuleState; detail: string } {
  return { state: r.payload.readUInt32LE(0), detail: r.payload.subarray(4).toString('utf8') };
}
