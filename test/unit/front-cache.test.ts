// The front cache's key changes with everything passes 1-3 read, and only then.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { frontKey, lookupFront, readScriptFile, storeFront } from '../../src/cli/front-cache.js';
import { tempDir } from '../helpers/env.js';

const dir = tempDir('tapsh-front-');
beforeAll(() => {
  process.env['TAPSH_CACHE_DIR'] = join(dir, 'cache');
});
afterAll(() => {
  delete process.env['TAPSH_CACHE_DIR'];
});

function key(argv: string[], text?: string): string | undefined {
  const o = parseArgs(argv);
  return frontKey(o, argv, text ?? o.script ?? readScriptFile(o.scriptFile));
}

it('keys on the command line, the script text and the tapset files', () => {
  const tapsets = join(dir, 'mytapsets');
  mkdirSync(tapsets, { recursive: true });
  writeFileSync(join(tapsets, 'a.stp'), 'function f() { return 1 }\n');
  const script = join(dir, 's.stp');
  writeFileSync(script, 'probe begin { exit() }\n');
  const base = key(['-p4', '-I', tapsets, script]);
  expect(base).toMatch(/^[0-9a-f]{32}$/);
  expect(key(['-p4', '-I', tapsets, script])).toBe(base); // deterministic
  expect(key(['-p4', '-I', tapsets, '-DMAXACTION=5', script])).not.toBe(base); // another option
  writeFileSync(script, 'probe begin { exit(); }\n');
  expect(key(['-p4', '-I', tapsets, script])).not.toBe(base); // the script changed
  const edited = key(['-p4', '-I', tapsets, script]);
  writeFileSync(join(tapsets, 'a.stp'), 'function f() { return 2 }\n');
  utimesSync(join(tapsets, 'a.stp'), new Date(), new Date(Date.now() + 5000));
  expect(key(['-p4', '-I', tapsets, script])).not.toBe(edited); // a tapset changed
  process.env['SYSTEMTAP_TAPSET'] = tapsets;
  expect(key(['-p4', '-I', tapsets, script])).not.toBe(edited); // another tapset path
  delete process.env['SYSTEMTAP_TAPSET'];
  expect(key(['-p4', join(dir, 'missing.stp')], undefined)).toBeUndefined(); // unreadable: no cache, pass 1 reports it
});

it('stores and finds an entry; a module the module cache lost is dropped from the hit', () => {
  const k = key(['-p4', '-e', 'probe begin { exit() }'])!;
  expect(lookupFront(k)).toBeUndefined();
  const ko = join(dir, 'x.ko');
  writeFileSync(ko, 'not really a module');
  storeFront(k, { name: 'stap_0123', c: '/* C */', ko });
  expect(lookupFront(k)).toEqual({ name: 'stap_0123', c: '/* C */', ko });
  storeFront(k, { name: 'stap_0123', c: '/* C */', ko: join(dir, 'gone.ko') });
  expect(lookupFront(k)).toEqual({ name: 'stap_0123', c: '/* C */' });
});
