// The ink UI rendered with ink-testing-library: prompt, transcript, live output tagged by entry, status bar.
import { render } from 'ink-testing-library';
import React from 'react';
import { describe, expect, it } from 'vitest';
import { App } from '../../src/repl/App.js';
import { FakeEngine } from './fake-engine.js';

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

async function waitFor(frame: () => string | undefined, want: RegExp, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const f = frame() ?? '';
    if (want.test(f)) return f;
    await tick(10);
  }
  throw new Error(`frame never matched ${want}:\n${frame()}`);
}

describe('App', () => {
  it('takes an entry, numbers it, shows probe output tagged by entry and the status bar', async () => {
    const engine = new FakeEngine();
    const ui = render(<App engine={engine} subscribe={engine.subscribe} frameMs={10} />);
    await waitFor(() => ui.lastFrame(), /stap>/);
    ui.stdin.write('probe timer.s(1) { printf("x\\n") }');
    await tick();
    ui.stdin.write('\r');
    await waitFor(() => ui.frames.join('\n'), /\[1\] probe timer\.s\(1\)/);
    engine.sink!.output(1, 'hello from the probe\n');
    engine.emit({ armed: 1, hitsPerSecond: 7 });
    const frame = await waitFor(() => ui.frames.join('\n'), /\[1\] hello from the probe/);
    expect(frame).toContain('[1] hello from the probe');
    await waitFor(() => ui.lastFrame(), /armed 1 \| 7 hits\/s \| dropped 0/);
    ui.unmount();
  });

  it('continues multi-line entries with the "   > " prompt and quits on Ctrl-D', async () => {
    const engine = new FakeEngine();
    const ui = render(<App engine={engine} subscribe={engine.subscribe} frameMs={10} />);
    await waitFor(() => ui.lastFrame(), /stap>/);
    ui.stdin.write('probe begin {');
    await tick();
    ui.stdin.write('\r');
    await waitFor(() => ui.lastFrame(), /^\s*>/m);
    ui.stdin.write('}');
    await tick();
    ui.stdin.write('\r');
    await waitFor(() => ui.frames.join('\n'), /\[1\] probe begin \{/);
    ui.stdin.write('\u0004');
    await waitFor(() => (engine.quitCalled ? 'quit' : ''), /quit/);
    ui.unmount();
  });

  it('takes pasted lines (or keys that arrived together with Enter) one line at a time', async () => {
    const engine = new FakeEngine();
    const ui = render(<App engine={engine} subscribe={engine.subscribe} frameMs={10} />);
    await waitFor(() => ui.lastFrame(), /stap>/);
    ui.stdin.write('global x\rprobe begin {\r}\rprobe end { pri');
    await waitFor(() => ui.frames.join('\n'), /\[2\] probe begin \{/);
    expect(ui.frames.join('\n')).toMatch(/\[1\] global x/);
    await waitFor(() => ui.lastFrame(), /stap> probe end \{ pri/); // the unfinished last line stays in the input
    expect(engine.entries.map((e) => e.text)).toEqual(['global x', 'probe begin {\n}']);
    ui.unmount();
  });

  it('completes probe points with Tab', async () => {
    const engine = new FakeEngine();
    const ui = render(<App engine={engine} subscribe={engine.subscribe} frameMs={10} />);
    await waitFor(() => ui.lastFrame(), /stap>/);
    ui.stdin.write('probe kernel.trace("sch');
    await tick();
    ui.stdin.write('\t');
    await waitFor(() => ui.lastFrame(), /probe kernel\.trace\("sched:sched_switch"\)/);
    ui.unmount();
  });
});
