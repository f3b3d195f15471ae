// Pass 2 API behaviour: -l/-L listing, -w/-W, checks without a kernel model, library inclusion on demand.
import './helpers/ensure-parser.js';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { elaborateScript, listProbePoints, printElaborated, type ElaborateScriptInput } from '../../src/lang/pass2.js';
import { REPO } from './helpers/ensure-parser.js';
import { TEST_KERNEL } from './helpers/kernel-model.js';

const TAPSETS = join(REPO, 'test/lang/fixtures/tapsets');
const base: Omit<ElaborateScriptInput, 'text' | 'fileName'> = {
  scriptArgs: [], includeDirs: [], guru: false, tapsetDirs: [TAPSETS], kernelModel: TEST_KERNEL,
  unoptimized: false, suppressWarnings: false, warningsAreErrors: false,
};
const p2 = (text: string, more: Partial<ElaborateScriptInput> = {}) => elaborateScript({ ...base, text, fileName: 't.stp', ...more });
const errors = (r: ReturnType<typeof p2>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);

describe('listProbePoints (-l / -L)', () => {
  it('lists what a pattern resolves to, sorted', () => {
    expect(listProbePoints('kernel.function("tcp_*")', base, false).lines).toEqual([
      'kernel.function("tcp_recvmsg")', 'kernel.function("tcp_sendmsg")', 'kernel.function("tcp_v4_connect")',
    ]);
    // Through aliases stap lists the aliases (here from the fixture tapsets and from the test kernel's syscall tracepoints).
    expect(listProbePoints('syscall.*', base, false).lines).toEqual(['syscall.openat', 'syscall.read']);
    expect(listProbePoints('syscall.read', base, true).lines).toEqual(['syscall.read name:string fd:long count:long']);
  });
  it('-L adds tracepoint fields', () => {
    expect(listProbePoints('kernel.trace("sched:*")', base, true).lines).toEqual([
      'kernel.trace("sched:sched_switch") $prev_comm:char[16] $prev_pid:pid_t $next_comm:char[16] $next_pid:pid_t',
    ]);
  });
  it('reports near matches when nothing resolves', () => {
    const r = listProbePoints('kernel.function("tcp_sendmgs")', base, false);
    expect(r.lines).toEqual([]);
    expect(r.diagnostics[0]!.message).toContain('did you mean: tcp_sendmsg?');
  });
});

describe('elaborateScript', () => {
  it('--skip-badvars: a target variable the probe lacks is a warning and reads as 0; others stay errors', () => {
    const src = 'probe kernel.trace("sched:sched_switch") { println($nope + $prev_pid) }';
    expect(errors(p2(src))).toEqual([expect.stringContaining("has no field '$nope'")]);
    const r = p2(src, { skipBadvars: true });
    expect(errors(r)).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['TS4085']);
    expect([...r.resolved!.badTargets].map((e) => (e.kind === 'target' ? e.name : e.kind))).toEqual(['nope']);
    expect(errors(p2('probe begin { $x++ }', { skipBadvars: true, guru: true }))).toEqual([expect.stringContaining("'++' on a target variable")]);
  });
  it('accepts kernel points unverified when there is no kernel model', () => {
    const r = p2('probe kernel.function("anything_at_all") { println(1) }', { kernelModel: undefined });
    expect(errors(r)).toEqual([]);
    expect(printElaborated(r.resolved!)).toContain('unverified: no kernel model');
  });
  it('-w drops warnings, -W makes them fatal', () => {
    const src = 'probe begin { println(x + 1) }';
    expect(p2(src).resolved).toBeDefined();
    expect(p2(src).diagnostics.map((d) => d.code)).toEqual(['TS4070']);
    expect(p2(src, { suppressWarnings: true }).diagnostics).toEqual([]);
    expect(p2(src, { warningsAreErrors: true }).resolved).toBeUndefined();
  });
  it('pulls in only the tapset files the script uses, including their probes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-lib-'));
    writeFileSync(join(dir, 'counter.stp'), 'global hits\nfunction hit() { hits++ }\nprobe end { println(hits) }\n');
    writeFileSync(join(dir, 'unrelated.stp'), 'global other\nprobe begin { other = 1 }\n');
    const r = p2('probe begin { hit() }', { tapsetDirs: [dir] });
    expect(errors(r)).toEqual([]);
    expect(r.resolved!.files).toEqual([join(dir, 'counter.stp')]);
    expect(r.resolved!.probes.map((p) => p.derived.point)).toEqual(['begin', 'end']);
  });
  it('parses a tapset file only when the script needs something it declares', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-lib-'));
    writeFileSync(join(dir, 'good.stp'), 'function good() { return 1 }\n%( arch == "nosuch" %? function hidden() { return 2 } %)\n');
    writeFileSync(join(dir, 'broken.stp'), 'function broken( { \n');
    const r = p2('probe begin { println(good()) }', { tapsetDirs: [dir] });
    expect(r.diagnostics).toEqual([]);
    expect(errors(p2('probe begin { println(hidden()) }', { tapsetDirs: [dir] }))[0]).toMatch(/unresolved function call 'hidden'/);
    const b = p2('probe begin { println(broken()) }', { tapsetDirs: [dir] });
    expect(b.diagnostics.map((d) => d.code)).toEqual(['TS4001', 'TS4041']);
  });
  it('private tapset symbols stay inside their file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-lib-'));
    writeFileSync(join(dir, 'lib.stp'), 'private global secret\nprivate function helper() { return 1 }\nfunction api() { secret = helper(); return secret }\n');
    expect(errors(p2('probe begin { println(api()) }', { tapsetDirs: [dir] }))).toEqual([]);
    expect(errors(p2('probe begin { println(helper()) }', { tapsetDirs: [dir] }))[0]).toMatch(/unresolved function call 'helper'/);
  });
  it('"!" stops at the first point that resolves, "?" tolerates misses', () => {
    const r = p2('probe kernel.function("nope")?, kernel.function("vfs_read")!, kernel.function("vfs_write") { println(1) }');
    expect(r.resolved!.probes.map((p) => p.derived.point)).toEqual(['kernel.function("vfs_read")']);
  });
  it('infers types through function parameters, return values and arrays', () => {
    const r = p2('global m\nfunction f(k) { return m[k] }\nprobe begin { m["a"] = 1; x = f("a"); println(x) }');
    expect(errors(r)).toEqual([]);
    expect(printElaborated(r.resolved!)).toContain('f:long (k:string)');
    expect(printElaborated(r.resolved!)).toContain('m:long[string]');
  });
  it('uses session globals with fixed types without declarations', () => {
    const externalGlobals = new Map([
      ['hits', { value: 'long' as const, keys: ['string' as const] }],
      ['lat', { value: 'stats' as const, keys: [] }],
    ]);
    const ok = p2('probe end { foreach (k in hits) println(k, hits[k]); println(@avg(lat)) }', { externalGlobals });
    expect(errors(ok)).toEqual([]);
    expect(ok.resolved!.globals.map((g) => [g.name, g.external])).toEqual([['hits', true], ['lat', true]]);
    expect(errors(p2('probe begin { hits[1] = "x" }', { externalGlobals }))).toEqual([
      'semantic error: type mismatch: expected string but found long for index 1 of \'hits\'',
      'semantic error: type mismatch: expected long but found string for the value assigned to \'hits[...]\'',
    ]);
    expect(errors(p2('global lat\nprobe begin { lat = 1 }', { externalGlobals }))[0]).toMatch(/type mismatch/);
  });
  it('resolves recursive functions', () => {
    const r = p2('function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }\nprobe begin { println(fib(10)) }');
    expect(errors(r)).toEqual([]);
    expect(printElaborated(r.resolved!)).toContain('fib:long (n:long)');
  });
  it('reuses parsed tapsets from the disk cache, and notices edits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapsh-lib-'));
    const cacheDir = mkdtempSync(join(tmpdir(), 'tapsh-cache-'));
    writeFileSync(join(dir, 'lib.stp'), 'global count\nfunction bump:long (n:long) { count += n; return count }\n');
    const src = 'probe begin { println(bump(2)) }';
    const first = p2(src, { tapsetDirs: [dir], cacheDir });
    expect(readdirSync(cacheDir).sort().map((f) => f.replace(/^[0-9a-f]+/, ''))).toEqual(['.ast', '.idx']);
    const second = p2(src, { tapsetDirs: [dir], cacheDir });
    expect(printElaborated(second.resolved!)).toBe(printElaborated(first.resolved!));
    writeFileSync(join(dir, 'lib.stp'), 'function bump:string (n:long) { return sprint(n) }\n');
    expect(printElaborated(p2(src, { tapsetDirs: [dir], cacheDir }).resolved!)).toContain('bump:string (n:long)');
  });
});
