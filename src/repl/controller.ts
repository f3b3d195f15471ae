// Turns typed lines into entries and commands against a session engine; both the terminal UI and plain mode use it.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseCommand, helpText } from './commands.js';
import type { SessionEngine } from './engine.js';
import { EntryBuffer, openness } from './entry.js';

/** Where the controller reports what happened, in the order it happened. */
export interface ControllerSink {
  /** The echo of a complete entry or command as typed. */
  echo(text: string): void;
  info(text: string): void;
  problem(text: string): void;
  busy(what: string | undefined): void;
}

export class Controller {
  private readonly buffer = new EntryBuffer();
  private quitting = false;

  constructor(private readonly engine: SessionEngine, private readonly sink: ControllerSink, private readonly editor?: (text: string) => Promise<string | undefined>) {}

  /** The prompt for the next line: "stap> " or a continuation naming what is open. */
  prompt(): string {
    if (!this.buffer.pending) return 'stap> ';
    return '   > ';
  }

  get pendingText(): string {
    return this.buffer.text;
  }

  get done(): boolean {
    return this.quitting;
  }

  /** Ctrl-C while an entry compiles: stops its build (it is not loaded). */
  cancelBuild(): boolean {
    return this.engine.cancel?.() ?? false;
  }

  /** Drops a half-typed entry (Ctrl-C). */
  cancel(): boolean {
    const had = this.buffer.pending;
    this.buffer.clear();
    return had;
  }

  /** Handles one line; resolves when whatever it started is finished. */
  async line(line: string): Promise<void> {
    if (!this.buffer.pending) {
      const cmd = parseCommand(line, this.engine.names());
      if (cmd) {
        this.sink.echo(line);
        try {
          await this.command(cmd.spec.name, cmd.args);
        } catch (e) {
          this.sink.problem(failure(cmd.spec.name, e));
        }
        return;
      }
    }
    const entry = this.buffer.push(line);
    if (entry === undefined) return;
    this.sink.echo(entry);
    this.sink.busy('compiling');
    try {
      let r;
      try {
        r = await this.engine.submit(entry);
      } catch (e) {
        this.sink.problem(failure('the entry', e));
        return;
      }
      if (r.diagnostics) this.sink.problem(r.diagnostics);
      if (r.id !== undefined) this.sink.info(`[${r.id}] ${describe(entry)}\n`);
      if (r.note) this.sink.info(r.note);
    } finally {
      this.sink.busy(undefined);
    }
  }

  /** End of input (Ctrl-D or EOF): a half-typed entry is reported, then the session ends. */
  async end(): Promise<void> {
    if (this.buffer.pending) {
      const open = openness(this.buffer.text).open;
      this.sink.problem(`The last entry was not complete (still open: ${open.join(' ') || 'an operator'}); it was dropped.\n`);
      this.buffer.clear();
    }
    try {
      await this.command('quit', '');
    } catch (e) {
      this.sink.problem(failure('quit', e));
    }
  }

  private async command(name: string, args: string): Promise<void> {
    const e = this.engine;
    const s = this.sink;
    switch (name) {
      case 'list': {
        await e.refresh?.();
        const entries = e.list();
        if (entries.length === 0) s.info('No entries yet.\n');
        for (const x of entries) {
          const firstLine = x.text.split('\n')[0]!;
          s.info(`[${x.id}] ${x.state.padEnd(8)} hits=${x.hits} errors=${x.errors}  ${firstLine}${x.text.includes('\n') ? ' ...' : ''}\n`);
        }
        return;
      }
      case 'delete':
        s.info(await e.remove(args === 'all' ? 'all' : Number(args)));
        return;
      case 'disable':
        s.info(await e.disable(Number(args)));
        return;
      case 'enable':
        s.info(await e.enable(Number(args)));
        return;
      case 'edit': {
        const id = Number(args);
        const entry = e.list().find((x) => x.id === id);
        if (!entry) return s.problem(`There is no entry ${id}. Type list to see them.\n`);
        if (!this.editor) return s.problem('No editor is available here (set $EDITOR and use a terminal).\n');
        const text = await this.editor(entry.text);
        if (text === undefined || text.trim() === entry.text.trim()) return s.info(`Entry ${id} unchanged.\n`);
        const r = await e.replace(id, text);
        if (r.diagnostics) s.problem(r.diagnostics);
        else s.info(`[${id}] replaced\n`);
        return;
      }
      case 'save':
        try {
          writeFileSync(args, e.script());
          s.info(`Saved the session to ${args}; run it with: tapsh ${args}\n`);
        } catch (err) {
          s.problem(`Could not write ${args}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        }
        return;
      case 'load': {
        let text: string;
        try {
          text = readFileSync(args, 'utf8');
        } catch (err) {
          return s.problem(`Could not read ${args}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        }
        for (const l of text.split('\n')) await this.line(l);
        if (this.buffer.pending) {
          s.problem(`${args} ends inside an unfinished entry; it was dropped.\n`);
          this.buffer.clear();
        }
        return;
      }
      case 'globals':
        s.info(await e.globals());
        return;
      case 'set': {
        const [k, ...v] = args.split(/\s+/);
        s.info(e.setOption(k!, v.join(' ')));
        return;
      }
      case 'show':
        s.info(e.options(args || undefined));
        return;
      case 'targets':
        s.info(e.targets());
        return;
      case 'reset':
        s.info(await e.reset());
        return;
      case 'disarm':
        s.info(await e.disarm());
        return;
      case 'help':
        s.info(helpText(args || undefined));
        return;
      case 'quit':
      case 'exit':
        if (this.quitting) return;
        this.quitting = true;
        s.busy('running end probes and unloading');
        try {
          await e.quit();
        } finally {
          s.busy(undefined);
        }
        return;
      default:
        s.problem(`Unknown command ${name}.\n`);
    }
  }
}

/** A failure on the target (connection lost, a command refused) as a line for the transcript; the session goes on. */
function failure(what: string, e: unknown): string {
  const err = e as Error & { remedy?: string };
  return `${what} failed: ${err.message ?? String(e)}\n${err.remedy ? `  ${err.remedy}\n` : ''}`;
}

function describe(entry: string): string {
  const first = entry.trim().split('\n')[0]!;
  return first.length > 60 ? first.slice(0, 57) + '...' : first;
}
