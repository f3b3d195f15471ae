// A writer for cpio "newc" archives, the format the Linux kernel unpacks as an initramfs.

/** File types as the mode's S_IFMT bits. */
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export type CpioEntry =
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char' | 'block'; path: string; major: number; minor: number; mode?: number };

const TRAILER = 'TRAILER!!!';

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`cpio: field value ${n} does not fit in 32 bits`);
  }
  return n.toString(16).padStart(8, '0');
}

/** Bytes needed to bring `len` up to a multiple of 4. */
function pad4(len: number): number {
  return (4 - (len % 4)) % 4;
}

function normalise(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) {
    throw new Error(`cpio: path ${JSON.stringify(path)} climbs out of the archive with '..'`);
  }
  return parts.join('/');
}

function header(ino: number, mode: number, fileSize: number, nameSize: number, rdev: [number, number], nlink: number, mtime: number): string {
  return (
    '070701' +
    hex8(ino) +
    hex8(mode) +
    hex8(0) + // uid: root
    hex8(0) + // gid: root
    hex8(nlink) +
    hex8(mtime) +
    hex8(fileSize) +
    hex8(0) + // devmajor
    hex8(0) + // devminor
    hex8(rdev[0]) +
    hex8(rdev[1]) +
    hex8(nameSize) +
    hex8(0) // check: unused by newc
  );
}

/**
 * Builds an archive in memory. Parent directories are added automatically (mode 0755), paths are
 * stored relative ("bin/sh"), and the output is reproducible: mtimes are fixed and entries keep the
 * order in which they were added.
 */
export class CpioWriter {
  private readonly chunks: Buffer[] = [];
  private readonly seen = new Map<string, CpioEntry['type']>();
  private nextIno = 1;
  private finished = false;

  constructor(private readonly mtime = 0) {}

  add(entry: CpioEntry): this {
    if (this.finished) throw new Error('cpio: archive already finished');
    const path = normalise(entry.path);
    if (path === '') throw new Error('cpio: an entry needs a non-empty path');
    const previous = this.seen.get(path);
    if (previous !== undefined) {
      if (previous === 'dir' && entry.type === 'dir') return this;
      throw new Error(`cpio: ${path} added twice`);
    }
    this.addParents(path);
    this.emit(path, entry);
    this.seen.set(path, entry.type);
    return this;
  }

  file(path: string, data: Uint8Array | string, mode = 0o644): this {
    return this.add({ type: 'file', path, data: typeof data === 'string' ? Buffer.from(data) : data, mode });
  }

  dir(path: string, mode = 0o755): this {
    return this.add({ type: 'dir', path, mode });
  }

  symlink(path: string, target: string): this {
    return this.add({ type: 'symlink', path, target });
  }

  device(path: string, kind: 'char' | 'block', major: number, minor: number, mode = 0o600): this {
    return this.add({ type: kind, path, major, minor, mode });
  }

  has(path: string): boolean {
    return this.seen.has(normalise(path));
  }

  /** Appends the trailer and returns the archive. */
  finish(): Buffer {
    if (!this.finished) {
      this.emitRaw(TRAILER, 0, new Uint8Array(0), [0, 0], 1);
      this.finished = true;
    }
    return Buffer.concat(this.chunks);
  }

  private addParents(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const kind = this.seen.get(dir);
      if (kind === undefined) {
        this.emit(dir, { type: 'dir', path: dir, mode: 0o755 });
        this.seen.set(dir, 'dir');
      } else if (kind !== 'dir') {
        throw new Error(`cpio: ${dir} is a ${kind}, so ${path} cannot be placed under it`);
      }
    }
  }

  private emit(path: string, entry: CpioEntry): void {
    switch (entry.type) {
      case 'file':
        this.emitRaw(path, S_IFREG | ((entry.mode ?? 0o644) & 0o7777), entry.data, [0, 0], 1);
        return;
      case 'dir':
        this.emitRaw(path, S_IFDIR | ((entry.mode ?? 0o755) & 0o7777), new Uint8Array(0), [0, 0], 2);
        return;
      case 'symlink':
        this.emitRaw(path, S_IFLNK | 0o777, Buffer.from(entry.target), [0, 0], 1);
        return;
      case 'char':
      case 'block':
        this.emitRaw(
          path,
          (entry.type === 'char' ? S_IFCHR : S_IFBLK) | ((entry.mode ?? 0o600) & 0o7777),
          new Uint8Array(0),
          [entry.major, entry.minor],
          1,
        );
        return;
      default: {
        const never: never = entry;
        throw new Error(`cpio: unknown entry ${JSON.stringify(never)}`);
      }
    }
  }

  private emitRaw(name: string, mode: number, data: Uint8Array, rdev: [number, number], nlink: number): void {
    const nameBytes = Buffer.from(name + '\0');
    const ino = name === TRAILER ? 0 : this.nextIno++;
    const head = Buffer.from(header(ino, mode, data.length, nameBytes.length, rdev, nlink, this.mtime), 'ascii');
    this.chunks.push(head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)));
    if (data.length > 0) {
      this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.alloc(pad4(data.length)));
    }
  }
}
