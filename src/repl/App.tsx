// The terminal UI: finished transcript in <Static>, a status bar, and the stap> prompt.
import { Box, Static, Text, useApp, useInput } from 'ink';
import TextInput from 'ink-text-input';
import React, { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { Controller } from './controller.js';
import type { SessionEngine, SessionStatus } from './engine.js';
import { History } from './history.js';
import { initialState, OutputThrottle, reduce, type TranscriptItem } from './state.js';

const COLOURS = ['cyan', 'green', 'magenta', 'yellow', 'blue', 'red'] as const;

export interface AppProps {
  engine: SessionEngine;
  /** Registers the UI's sinks with the engine's event source. */
  subscribe: (sink: { output: (id: number | undefined, text: string) => void; warning: (t: string, id?: number) => void; error: (t: string, id?: number) => void; status: (s: SessionStatus) => void }) => () => void;
  history?: History;
  initial?: SessionStatus;
  /** Flush interval for probe output, ms. */
  frameMs?: number;
  onExit?: () => void;
  /** `edit N`: opens the text in an editor, returns the edited text (undefined: unchanged or failed). */
  editor?: (text: string) => Promise<string | undefined>;
}

function Line({ item, colour }: { item: TranscriptItem; colour: boolean }): React.ReactElement {
  const tag = item.entryId !== undefined ? `[${item.entryId}] ` : '';
  // `set colour 0`: the same text, no colours (new lines; what is printed stays as it was).
  if (!colour) return <Text>{item.kind === 'echo' ? item.text.split('\n').map((l, i) => (i === 0 ? `stap> ${l}` : `   > ${l}`)).join('\n') : `${tag}${item.text}`}</Text>;
  switch (item.kind) {
    case 'echo':
      return <Text dimColor>{item.text.split('\n').map((l, i) => (i === 0 ? `stap> ${l}` : `   > ${l}`)).join('\n')}</Text>;
    case 'info':
      return <Text>{item.text}</Text>;
    case 'problem':
    case 'error':
      return <Text color="red">{item.text}</Text>;
    case 'warning':
      return <Text color="yellow">{item.text}</Text>;
    case 'collapsed':
      return <Text color="yellow" dimColor>{item.text}</Text>;
    case 'output':
      return (
        <Text>
          {tag ? <Text color={COLOURS[item.entryId! % COLOURS.length]}>{tag}</Text> : null}
          {item.text}
        </Text>
      );
    default:
      return <Text>{item.text}</Text>;
  }
}

export function StatusBar({ status, busy, collapsed }: { status: SessionStatus; busy: string | undefined; collapsed: number }): React.ReactElement {
  return (
    <Box>
      <Text inverse>
        {' '}
        {status.target || 'no target'} {status.release} | armed {status.armed} | {status.hitsPerSecond.toFixed(0)} hits/s | dropped {status.dropped}
        {collapsed ? ` | collapsed ${collapsed}` : ''}
        {status.disarmed ? ' | DISARMED' : ''}{' '}
      </Text>
      {busy ? <Text color="yellow"> {busy}...</Text> : null}
    </Box>
  );
}

export function App({ engine, subscribe, history, initial, frameMs = 100, onExit, editor }: AppProps): React.ReactElement {
  const [state, dispatch] = useReducer(reduce, initial, (s) => initialState(s));
  const [value, setValue] = useState('');
  const [prompt, setPrompt] = useState('stap> ');
  const { exit } = useApp();
  const throttle = useRef(new OutputThrottle());
  const historyPos = useRef<number | undefined>(undefined);

  const controller = useMemo(
    () =>
      new Controller(engine, {
        echo: (text) => dispatch({ type: 'add', kind: 'echo', text }),
        info: (text) => dispatch({ type: 'add', kind: 'info', text }),
        problem: (text) => dispatch({ type: 'add', kind: 'problem', text }),
        busy: (what) => dispatch({ type: 'busy', what }),
      }, editor),
    [engine, editor],
  );

  useEffect(
    () =>
      subscribe({
        output: (id, text) => throttle.current.push(id, text),
        warning: (t, id) => dispatch({ type: 'add', kind: 'warning', text: `${id !== undefined ? `[${id}] ` : ''}WARNING: ${t}` }),
        error: (t, id) => dispatch({ type: 'add', kind: 'error', text: `${id !== undefined ? `[${id}] ` : ''}ERROR: ${t}` }),
        status: (s) => dispatch({ type: 'status', status: s }),
      }),
    [subscribe],
  );

  useEffect(() => {
    const timer = setInterval(() => {
      const batch = throttle.current.take();
      if (batch) dispatch({ type: 'output', ...batch });
    }, frameMs);
    return () => clearInterval(timer);
  }, [frameMs]);

  const finish = async () => {
    dispatch({ type: 'quitting' });
    await controller.end();
    const batch = throttle.current.take(true);
    if (batch) dispatch({ type: 'output', ...batch });
    onExit?.();
    setTimeout(() => exit(), 0);
  };

  // Keys typed right after Enter can reach the input before it re-rendered with the cleared
  // value: it then reports the submitted line plus the new keys. Keep only the new keys.
  const submitted = useRef<string | undefined>(undefined);
  const change = (v: string) => {
    if (/[\r\n]/.test(v)) return; // a chunk with line ends: useInput below submits it line by line
    const s = submitted.current;
    submitted.current = undefined;
    setValue(s !== undefined && v.length > s.length && v.startsWith(s) ? v.slice(s.length) : v);
  };

  const submit = async (line: string) => {
    submitted.current = line;
    setValue('');
    historyPos.current = undefined;
    if (line.trim()) history?.add(line);
    await controller.line(line);
    setPrompt(controller.prompt());
    if (controller.done) {
      onExit?.();
      setTimeout(() => exit(), 0);
    }
  };

  useInput((input, key) => {
    // Pasted text, or keys that arrived together with Enter: every complete line is an input line.
    if (input.length > 1 && /[\r\n]/.test(input)) {
      const lines = (value + input).split(/\r\n|\r|\n/);
      const rest = lines.pop()!;
      void (async () => {
        for (const l of lines) await submit(l);
        setValue(rest);
      })();
      return;
    }
    if (key.ctrl && input === 'd') {
      if (value === '') void finish();
      return;
    }
    if (key.ctrl && input === 'c') {
      if (state.busy === 'compiling' && controller.cancelBuild()) return;
      if (value !== '') setValue('');
      else if (controller.cancel()) setPrompt(controller.prompt());
      return;
    }
    if (key.upArrow && history) {
      const entries = history.entries();
      const pos = historyPos.current === undefined ? entries.length - 1 : Math.max(0, historyPos.current - 1);
      if (entries[pos] !== undefined) {
        historyPos.current = pos;
        setValue(entries[pos]!);
      }
      return;
    }
    if (key.downArrow && history && historyPos.current !== undefined) {
      const entries = history.entries();
      const pos = historyPos.current + 1;
      historyPos.current = pos < entries.length ? pos : undefined;
      setValue(pos < entries.length ? entries[pos]! : '');
      return;
    }
    if (key.tab) {
      const word = /[\w.:"*(]*$/.exec(value)?.[0] ?? '';
      const options = engine.complete(word);
      if (options.length === 1) setValue(value.slice(0, value.length - word.length) + options[0]);
      else if (options.length > 1) {
        const common = commonPrefix(options);
        if (common.length > word.length) setValue(value.slice(0, value.length - word.length) + common);
        else dispatch({ type: 'add', kind: 'info', text: options.slice(0, 40).join('  ') + (options.length > 40 ? `  ... (${options.length})` : '') });
      }
    }
  });

  return (
    <>
      <Static items={state.transcript}>{(item) => <Line key={item.key} item={item} colour={state.status.colour !== false} />}</Static>
      <Box flexDirection="column">
        <StatusBar status={state.status} busy={state.busy} collapsed={state.collapsed} />
        {state.quitting ? null : (
          <Box>
            <Text color="green">{prompt}</Text>
            <TextInput value={value} onChange={change} onSubmit={(l) => void submit(l)} showCursor />
          </Box>
        )}
      </Box>
    </>
  );
}

export function commonPrefix(xs: string[]): string {
  if (xs.length === 0) return '';
  let p = xs[0]!;
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}
