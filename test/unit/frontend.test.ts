// The CLI front end's checks before pass 1: --example lookup and a bad $TMPDIR.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTmpdir, findExample, ScriptError } from '../../src/cli/frontend.js';

const usable = tmpdir();
const saved = { TMPDIR: process.env['TMPDIR'], TAPSH_EXAMPLES_DIR: process.env['TAPSH_EXAMPLES_DIR'] };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

describe('findExample (--example NAME)', () => {
  it('finds the one script of that name under the examples directory, else says why', () => {
    const root = mkdtempSync(join(tmpdir(), 'tapsh-examples-'));
    try {
      mkdirSync(join(root, 'general'));
      mkdirSync(join(root, 'io'));
      writeFileSync(join(root, 'general/hello.stp'), 'probe begin { exit() }\n');
      writeFileSync(join(root, 'general/twice.stp'), '');
      writeFileSync(join(root, 'io/twice.stp'), '');
      process.env['TAPSH_EXAMPLES_DIR'] = root;
      expect(findExample('hello.stp')).toBe(join(root, 'general/hello.stp'));
      expect(findExample('io/twice.stp')).toBe(join(root, 'io/twice.stp'));
      expect(() => findExample('twice.stp')).toThrow(/Multiple examples found: general\/twice.stp, io\/twice.stp/);
      expect(() => findExample('nope.stp')).toThrow(new ScriptError(`Example 'nope.stp' was not found under '${root}'.`));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('checkTmpdir', () => {
  it('refuses a TMPDIR that is not a directory, as stap does, and accepts a usable one', () => {
    process.env['TMPDIR'] = '/dev/null/BADTMPDIR';
    expect(() => checkTmpdir()).toThrow(/TMPDIR=\/dev\/null\/BADTMPDIR: Not a directory/);
    process.env['TMPDIR'] = '/nonexistent-tapsh-dir';
    expect(() => checkTmpdir()).toThrow(/No such file or directory/);
    process.env['TMPDIR'] = usable;
    expect(() => checkTmpdir()).not.toThrow();
  });
});
