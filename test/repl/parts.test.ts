// The shell's pure parts: entry completeness, command recognition, the reducer and the output throttle.
import { describe, expect, it } from 'vitest';
import { lineTagger } from '../../src/repl/run.js';
import { parseCommand } from '../../src/repl/commands.js';
import { Controller } from '../../src/repl/controller.js';
import { EntryBuffer, openness } from '../../src/repl/entry.js';
import { initialState, OutputThrottle, reduce } from '../../src/repl/state.js';
import { FakeEngine } from './fake-engine.js';

describe('entry completeness', () => {
  it('waits while braces, parens, strings, comments or embedded C are open', () => {
    expect(openness('probe begin {').open).toEqual(['{']);
    expect(openness('probe begin { printf("a{", ').complete).toBe(false);
    expect(openness('probe begin { printf("}") }').complete).toBe(true);
    expect(openness('x = "unterminated').open).toEqual(['"']);
    expect(openness('/* comment').open).toEqual(['/*']);
    expect(openness('# a { in a comment').complete).toBe(true);
    expect(openness('function f() %{ /* { */').open).toEqual(['%{']);
    expect(openness('x = 1 +').complete).toBe(false);
    expect(openness('x++').complete).toBe(true);
    expect(openness('probe begin { }}').complete).toBe(true); // stray closer: let the parser say so
  });
  it('assembles multi-line entries', () => {
    const b = new EntryBuffer();
    expect(b.push('probe timer.s(1) {')).toBeUndefined();
    expect(b.pending).toBe(true);
    expect(b.push('  printf("%d\\n", cnt)')).toBeUndefined();
    expect(b.push('}')).toBe('probe timer.s(1) {\n  printf("%d\\n", cnt)\n}');
    expect(b.pending).toBe(false);
  });
});

describe('commands', () => {
  it('recognises bare and :-prefixed commands with valid arguments', () => {
    expect(parseCommand('list')?.spec.name).toBe('list');
    expect(parseCommand(':list')?.spec.name).toBe('list');
    expect(parseCommand('delete 2')?.args).toBe('2');
    expect(parseCommand('delete all')?.args).toBe('all');
    expect(parseCommand('save /tmp/x.stp')?.args).toBe('/tmp/x.stp');
    expect(parseCommand('quit')?.spec.name).toBe('quit');
  });
  it('leaves script alone: `delete cnt` deletes a global, `list` as a known name is script', () => {
    expect(parseCommand('delete cnt', new Set(['cnt']))).toBeUndefined();
    expect(parseCommand('delete cnt')).toBeUndefined(); // not an entry number either
    expect(parseCommand('list', new Set(['list']))).toBeUndefined();
    expect(parseCommand('probe begin { }')).toBeUndefined();
    expect(parseCommand('printf("x")')).toBeUndefined();
  });
});

describe('reducer and throttle', () => {
  it('appends transcript items and tracks status and busy state', () => {
    let s = initialState();
    s = reduce(s, { type: 'add', kind: 'echo', text: 'probe begin {}\n' });
    s = reduce(s, { type: 'busy', what: 'compiling' });
    s = reduce(s, { type: 'status', status: { target: 'lab', release: '6.1', armed: 2, hitsPerSecond: 5, dropped: 0, disarmed: false } });
    expect(s.transcript).toEqual([{ key: 1, kind: 'echo', text: 'probe begin {}' }]);
    expect(s.busy).toBe('compiling');
    expect(s.status.armed).toBe(2);
  });
  it('caps output per frame and reports how much it collapsed', () => {
    const t = new OutputThrottle(3);
    t.push(1, 'a\nb\n');
    t.push(2, 'c\nd\ne\npartial');
    const batch = t.take()!;
    expect(batch.lines).toEqual([{ entryId: 1, text: 'a' }, { entryId: 1, text: 'b' }, { entryId: 2, text: 'c' }]);
    expect(batch.dropped).toBe(2);
    let s = reduce(initialState(), { type: 'output', ...batch });
    expect(s.transcript.at(-1)).toMatchObject({ kind: 'collapsed', text: '... 2 lines of output collapsed (flood)' });
    expect(s.collapsed).toBe(2);
    expect(t.take(true)!.lines).toEqual([{ entryId: 2, text: 'partial' }]);
    s = reduce(s, { type: 'output', lines: [], dropped: 0 });
    expect(s.collapsed).toBe(2);
  });
});

describe('controller', () => {
  it('numbers entries, runs commands, reports diagnostics, and quits through the engine', async () => {
    const engine = new FakeEngine();
    const log: string[] = [];
    const c = new Controller(engine, { echo: (t) => log.push(`> ${t}`), info: (t) => log.push(t), problem: (t) => log.push(`! ${t}`), busy: () => undefined });
    await c.line('global cnt');
    await c.line('probe kernel.function("vfs_read") {');
    expect(c.prompt()).toBe('   > ');
    await c.line('  cnt++ }');
    await c.line('probe bad');
    await c.line('list');
    await c.line('disable 2');
    await c.line('delete cnt'); // script: cnt is a session name
    await c.end();
    expect(log).toContain('[1] global cnt\n');
    expect(log).toContain('[2] probe kernel.function("vfs_read") {\n');
    expect(log).toContain('! parse error: expected something, saw bad\n');
    expect(log.some((l) => /^\[2\] armed +hits=0 errors=0 {2}probe kernel.function\("vfs_read"\) \{ \.\.\.\n$/.test(l))).toBe(true);
    expect(log).toContain('disabled 2\n');
    expect(engine.entries.map((e) => e.text)).toContain('delete cnt');
    expect(engine.quitCalled).toBe(true);
    expect(c.done).toBe(true);
  });
});

describe('plain-mode line tags', () => {
  it('prefixes each line of an entry with its number, also when a line arrives in pieces', () => {
    const tag = lineTagger();
    expect(tag(3, 'cnt=1\ncnt=2\n')).toBe('[3] cnt=1\n[3] cnt=2\n');
    expect(tag(3, 'half ')).toBe('[3] half ');
    expect(tag(4, 'other\n')).toBe('[4] other\n');
    expect(tag(3, 'line\nnext')).toBe('line\n[3] next');
    expect(tag(undefined, 'untagged\n')).toBe('untagged\n');
  });
});

describe('controller on a failing target', () => {
  it('reports a command or entry the target refused as a problem and goes on', async () => {
    const engine = new FakeEngine();
    const problems: string[] = [];
    const c = new Controller(engine, { echo: () => undefined, info: () => undefined, problem: (t) => problems.push(t), busy: () => undefined });
    await c.line('probe begin { }');
    engine.remove = () => Promise.reject(Object.assign(new Error('could not open an exec channel: Unable to exec'), { remedy: 'Check the SSH server.' }));
    await c.line('delete 1');
    expect(problems.join('')).toMatch(/delete failed: could not open an exec channel: Unable to exec\n {2}Check the SSH server\./);
    engine.submit = () => Promise.reject(new Error('the SSH connection is closed'));
    await c.line('probe end { }');
    expect(problems.join('')).toMatch(/the entry failed: the SSH connection is closed/);
    await c.line('list');
    expect(c.done).toBe(false);
  });
});
