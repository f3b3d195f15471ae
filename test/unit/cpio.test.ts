// The cpio newc writer, checked by reading its output back with GNU cpio(1).
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpioWriter } from '../../src/boottime/cpio.js';
import { missing, tempDir } from '../helpers/env.js';

const skip = missing(['cpio'], 'cpio(1) read-back tests');

describe.skipIf(skip)('cpio newc writer', () => {
  const binary = Buffer.from(Array.from({ length: 1027 }, (_, i) => (i * 7) & 0xff));
  const build = () => {
    const w = new CpioWriter();
    w.file('init', '#!/bin/sh\necho hi\n', 0o755);
    w.file('usr/lib/deep/blob.bin', binary, 0o600); // parents created implicitly
    w.file('odd', 'x'); // 1 byte: exercises data padding
    w.file('empty', '');
    w.symlink('bin/sh', 'busybox');
    w.dir('tmp', 0o1777);
    w.device('dev/console', 'char', 5, 1);
    return w.finish();
  };

  it('lists every entry, parents first, as cpio -t reads it', () => {
    const dir = tempDir();
    const archive = join(dir, 'a.cpio');
    writeFileSync(archive, build());
    const listing = execFileSync('cpio', ['-t', '--quiet', '-F', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(['init', 'usr', 'usr/lib', 'usr/lib/deep', 'usr/lib/deep/blob.bin', 'odd', 'empty', 'bin', 'bin/sh', 'tmp', 'dev', 'dev/console']);
  });

  it('round-trips contents, modes and symlinks through cpio -i', () => {
    const dir = tempDir();
    const archive = join(dir, 'a.cpio');
    writeFileSync(archive, build());
    const out = join(dir, 'x');
    execFileSync('sh', ['-c', `mkdir ${out} && cd ${out} && cpio -i -d --quiet --no-absolute-filenames -F ${archive} 2>&1 | grep -v 'Operation not permitted' || true`]);
    expect(readFileSync(join(out, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(statSync(join(out, 'init')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(out, 'usr/lib/deep/blob.bin')).equals(binary)).toBe(true);
    expect(statSync(join(out, 'usr/lib/deep/blob.bin')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'odd'), 'utf8')).toBe('x');
    expect(statSync(join(out, 'empty')).size).toBe(0);
    expect(readlinkSync(join(out, 'bin/sh'))).toBe('busybox');
    expect(statSync(join(out, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('keeps every header 4-byte aligned and ends with the trailer', () => {
    const buf = build();
    expect(buf.length % 4).toBe(0);
    let off = 0;
    const names: string[] = [];
    while (off < buf.length) {
      expect(buf.toString('ascii', off, off + 6)).toBe('070701');
      const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
      const size = field(6);
      const nameSize = field(11);
      names.push(buf.toString('ascii', off + 110, off + 110 + nameSize - 1));
      off += Math.ceil((110 + nameSize) / 4) * 4;
      off += Math.ceil(size / 4) * 4;
      if (names.at(-1) === 'TRAILER!!!') break;
    }
    expect(names.at(-1)).toBe('TRAILER!!!');
    expect(off).toBe(buf.length);
  });

  it('refuses paths that escape the archive and duplicate files', () => {
    const w = new CpioWriter();
    expect(() => w.file('../etc/passwd', 'x')).toThrow(/climbs out/);
    w.file('a', '1');
    expect(() => w.file('a', '2')).toThrow(/added twice/);
    expect(() => w.file('a/b', '3')).toThrow(/cannot be placed under it/);
  });
});
