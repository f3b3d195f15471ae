// A stand-in session engine for UI unit tests (the e2e tests use the real one against the lab VM).
import type { EntryInfo, SessionEngine, SessionSink, SessionStatus, SubmitOutcome } from '../../src/repl/engine.js';

export class FakeEngine implements SessionEngine {
  entries: EntryInfo[] = [];
  sink: SessionSink | undefined;
  quitCalled = false;
  private next = 1;

  subscribe = (sink: SessionSink) => {
    this.sink = sink;
    return () => {
      this.sink = undefined;
    };
  };

  async submit(text: string): Promise<SubmitOutcome> {
    if (text.includes('bad')) return { diagnostics: 'parse error: expected something, saw bad\n' };
    const id = this.next++;
    this.entries.push({ id, text, kind: text.trim().startsWith('probe') ? 'probe' : text.trim().startsWith('global') ? 'global' : 'statement', state: 'armed', hits: 0, errors: 0 });
    return { id, diagnostics: '' };
  }
  list(): EntryInfo[] {
    return this.entries;
  }
  async remove(id: number | 'all'): Promise<string> {
    this.entries = id === 'all' ? [] : this.entries.filter((e) => e.id !== id);
    return `deleted ${id}\n`;
  }
  async disable(id: number): Promise<string> {
    const e = this.entries.find((x) => x.id === id);
    if (e) e.state = 'disabled';
    return `disabled ${id}\n`;
  }
  async enable(id: number): Promise<string> {
    const e = this.entries.find((x) => x.id === id);
    if (e) e.state = 'armed';
    return `enabled ${id}\n`;
  }
  async replace(id: number, text: string): Promise<SubmitOutcome> {
    const e = this.entries.find((x) => x.id === id);
    if (e) e.text = text;
    return { id, diagnostics: '' };
  }
  script(): string {
    return this.entries.map((e) => e.text).join('\n') + '\n';
  }
  async globals(): Promise<string> {
    return 'cnt: long = 3\n';
  }
  async reset(): Promise<string> {
    return 'globals cleared\n';
  }
  async disarm(): Promise<string> {
    return 'disarmed\n';
  }
  targets(): string {
    return 'fake target\n';
  }
  options(): string {
    return 'verbose = 0\n';
  }
  setOption(name: string, value: string): string {
    return `${name} = ${value}\n`;
  }
  names(): ReadonlySet<string> {
    return new Set(['cnt']);
  }
  complete(prefix: string): string[] {
    return ['kernel.function("do_sys_open")', 'kernel.function("do_sys_openat2")', 'kernel.trace("sched:sched_switch")'].filter((c) => c.startsWith(prefix));
  }
  async quit(): Promise<void> {
    this.quitCalled = true;
  }
  emit(status: Partial<SessionStatus>): void {
    this.sink?.status({ target: 'lab', release: '6.1', armed: 1, hitsPerSecond: 0, dropped: 0, disarmed: false, ...status });
  }
}
