// `tapsh -i`: a live session on the default target, in the ink UI on a terminal or line by line when piped.
import { createInterface } from 'node:readline';
import { buildTreeFor } from '../build/buildtree.js';
import type { CliOptions } from '../cli/options.js';
import type { Io } from '../cli/lab-command.js';
import { captureKernelModel, readIdentity } from '../remote/capture.js';
import { openDefaultTarget } from '../remote/connect.js';
import { Controller } from './controller.js';
import type { SessionSink, SessionStatus } from './engine.js';
import { History } from './history.js';
import { LiveSession } from './session.js';

/** Fans the engine's events out to whichever UI subscribed. */
class Hub implements SessionSink {
  private sinks: SessionSink[] = [];
  last: SessionStatus | undefined;
  subscribe = (s: SessionSink) => {
    this.sinks.push(s);
    if (this.last) s.status(this.last);
    return () => {
      this.sinks = this.sinks.filter((x) => x !== s);
    };
  };
  output(id: number | undefined, text: string): void {
    for (const s of this.sinks) s.output(id, text);
  }
  warning(text: string, id?: number): void {
    for (const s of this.sinks) s.warning(text, id);
  }
  error(text: string, id?: number): void {
    for (const s of this.sinks) s.error(text, id);
  }
  status(st: SessionStatus): void {
    this.last = st;
    for (const s of this.sinks) s.status(st);
  }
}

export async function runInteractive(o: CliOptions, io: Io): Promise<number> {
  const open = await openDefaultTarget({ remote: o.remotes[0], onProgress: (s) => io.err(`[lab] ${s}\n`) });
  const hub = new Hub();
  let session: LiveSession | undefined;
  try {
    const identity = await readIdentity(open.target);
    const tree = buildTreeFor(identity);
    const model = await captureKernelModel(open.target, { identity });
    io.err(`tapsh: live session on ${open.target.name} (kernel ${identity.release}); type help for commands, Ctrl-D to quit.\n`);
    session = await LiveSession.start({
      target: open.target,
      tree,
      model,
      sink: hub,
      defines: o.defines,
      frontEnd: { scriptArgs: o.scriptArgs, includeDirs: o.includeDirs, guru: o.guru, compatible: o.compatible },
    });
    // The terminal went away: end probes, drain, unload everything all the same, then leave.
    // A lasting listener, not `once`: ink's exit hook re-raises a signal nobody else listens to,
    // which would kill the process before the modules are unloaded.
    let hungUp = false;
    process.on('SIGHUP', () => {
      if (hungUp) return;
      hungUp = true;
      void (session?.quit() ?? Promise.resolve()).catch(() => undefined).finally(() => process.exit(129));
    });
    if (process.stdin.isTTY) {
      const { render } = await import('ink');
      const React = await import('react');
      const { App } = await import('./App.js');
      const app = render(React.createElement(App, { engine: session, subscribe: hub.subscribe, history: new History(), initial: hub.last, editor: editInEditor }), { exitOnCtrlC: false });
      await app.waitUntilExit();
    } else {
      await plain(session, hub, io, o.timeoutSeconds);
    }
    return 0;
  } finally {
    await session?.quit().catch(() => undefined);
    await open.release();
  }
}

/** Without a terminal: the same session semantics, one line at a time, output as it comes. */
async function plain(session: LiveSession, hub: Hub, io: Io, lingerSeconds?: number): Promise<void> {
  const tag = lineTagger();
  hub.subscribe({
    output: (id, text) => io.out(tag(id, text)),
    warning: (t, id) => io.err(`${id !== undefined ? `[${id}] ` : ''}WARNING: ${t}\n`),
    error: (t, id) => io.err(`${id !== undefined ? `[${id}] ` : ''}ERROR: ${t}\n`),
    status: () => undefined,
  });
  const controller = new Controller(
    session,
    {
      echo: () => undefined,
      info: (t) => io.out(t),
      problem: (t) => io.err(t),
      busy: () => undefined,
    },
    editInEditor,
  );
  // Ctrl-C (SIGINT) stops the build of the entry being compiled; otherwise it ends the session cleanly.
  process.on('SIGINT', () => {
    if (controller.cancelBuild()) return;
    void controller.end();
  });
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    await controller.line(line);
    if (controller.done) break;
  }
  // A scripted session ends with its input, unless -T asks it to keep running that long first.
  if (!controller.done && lingerSeconds) await new Promise((r) => setTimeout(r, lingerSeconds * 1000));
  if (!controller.done) await controller.end();
}

/**
 * `edit N`: the entry's text in $VISUAL or $EDITOR (vi when neither is set), on the terminal; the
 * edited text, or undefined when the editor failed.
 */
export async function editInEditor(text: string): Promise<string | undefined> {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'tapsh-edit-'));
  const file = join(dir, 'entry.stp');
  try {
    writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
    const editor = process.env['VISUAL'] || process.env['EDITOR'] || 'vi';
    // Through sh, so EDITOR may carry arguments ("code -w", "nano -w").
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit' });
    if (r.status !== 0) return undefined;
    return readFileSync(file, 'utf8').replace(/\n+$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prefixes each line of an entry's output with "[N] ", remembering per entry whether its last record ended a line. */
export function lineTagger(): (id: number | undefined, text: string) => string {
  const atStart = new Map<number, boolean>();
  return (id, text) => {
    if (id === undefined) return text;
    let start = atStart.get(id) ?? true;
    let out = '';
    for (const piece of text.split(/(?<=\n)/)) {
      if (!piece) continue;
      out += (start ? `[${id}] ` : '') + piece;
      start = piece.endsWith('\n');
    }
    atStart.set(id, start);
    return out;
  };
}
