// What the interactive shell needs from a live session: the contract between the UI and the session engine.

export type EntryKind = 'probe' | 'global' | 'function' | 'statement';
export type EntryState = 'armed' | 'disabled' | 'failed' | 'done';

export interface EntryInfo {
  id: number;
  text: string;
  kind: EntryKind;
  state: EntryState;
  hits: number;
  errors: number;
}

export interface SessionStatus {
  target: string;
  release: string;
  armed: number;
  hitsPerSecond: number;
  dropped: number;
  disarmed: boolean;
  /** `set colour 0` turns colours off in the terminal UI (default on). */
  colour?: boolean;
}

export interface SubmitOutcome {
  /** The entry's number, when it was accepted. */
  id?: number;
  /** Diagnostics, rendered with source line and caret (empty when accepted cleanly). */
  diagnostics: string;
  /** Extra information for the transcript (build and load times with `set verbose 1`). */
  note?: string;
}

/** Callbacks the engine calls as things happen on the target. */
export interface SessionSink {
  output(entryId: number | undefined, text: string): void;
  warning(text: string, entryId?: number): void;
  error(text: string, entryId?: number): void;
  status(s: SessionStatus): void;
}

export interface SessionEngine {
  submit(text: string): Promise<SubmitOutcome>;
  list(): EntryInfo[];
  /** Stops the build of the entry being compiled (Ctrl-C); false when there is none. */
  cancel?(): boolean;
  /** Brings hit and error counts up to date (before `list`). */
  refresh?(): Promise<void>;
  remove(id: number | 'all'): Promise<string>;
  disable(id: number): Promise<string>;
  enable(id: number): Promise<string>;
  replace(id: number, text: string): Promise<SubmitOutcome>;
  /** The session as one script `tapsh FILE` runs. */
  script(): string;
  globals(): Promise<string>;
  reset(): Promise<string>;
  disarm(): Promise<string>;
  targets(): string;
  options(name?: string): string;
  setOption(name: string, value: string): string;
  /** Globals and functions the session defines (commands yield to these names). */
  names(): ReadonlySet<string>;
  /** Completions for the word before the cursor: probe points, functions, globals. */
  complete(prefix: string): string[];
  /** Runs end probes, drains output, unloads everything. */
  quit(): Promise<void>;
}
