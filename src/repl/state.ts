// The shell's state as a pure reducer: transcript, throttled probe output, status bar, busy indicator.
import type { SessionStatus } from './engine.js';

export type ItemKind = 'echo' | 'info' | 'problem' | 'output' | 'warning' | 'error' | 'collapsed';

export interface TranscriptItem {
  key: number;
  kind: ItemKind;
  text: string;
  /** Entry the output came from, shown as "[3]". */
  entryId?: number;
}

export interface ReplState {
  transcript: TranscriptItem[];
  status: SessionStatus;
  busy: string | undefined;
  nextKey: number;
  /** Output lines dropped by the throttle so far (shown as a marker and in the status bar). */
  collapsed: number;
  quitting: boolean;
}

export type ReplAction =
  | { type: 'add'; kind: Exclude<ItemKind, 'output' | 'collapsed'>; text: string }
  | { type: 'output'; lines: { entryId?: number; text: string }[]; dropped: number }
  | { type: 'status'; status: SessionStatus }
  | { type: 'busy'; what: string | undefined }
  | { type: 'quitting' };

export const initialStatus: SessionStatus = { target: '', release: '', armed: 0, hitsPerSecond: 0, dropped: 0, disarmed: false };

export function initialState(status: SessionStatus = initialStatus): ReplState {
  return { transcript: [], status, busy: undefined, nextKey: 1, collapsed: 0, quitting: false };
}

/** How many transcript items are kept (older ones have already been printed by <Static>). */
export const TRANSCRIPT_KEEP = 500;

export function reduce(state: ReplState, action: ReplAction): ReplState {
  switch (action.type) {
    case 'add': {
      const item: TranscriptItem = { key: state.nextKey, kind: action.kind, text: action.text.replace(/\n$/, '') };
      return { ...state, transcript: trim([...state.transcript, item]), nextKey: state.nextKey + 1 };
    }
    case 'output': {
      let key = state.nextKey;
      const items: TranscriptItem[] = action.lines.map((l) => ({ key: key++, kind: 'output', text: l.text, entryId: l.entryId }));
      if (action.dropped > 0) items.push({ key: key++, kind: 'collapsed', text: `... ${action.dropped} lines of output collapsed (flood)`, entryId: undefined });
      return { ...state, transcript: trim([...state.transcript, ...items]), nextKey: key, collapsed: state.collapsed + action.dropped };
    }
    case 'status':
      return { ...state, status: action.status };
    case 'busy':
      return { ...state, busy: action.what };
    case 'quitting':
      return { ...state, quitting: true };
    default: {
      const never: never = action;
      return never;
    }
  }
}

function trim(items: TranscriptItem[]): TranscriptItem[] {
  return items.length > TRANSCRIPT_KEEP ? items.slice(items.length - TRANSCRIPT_KEEP) : items;
}

/**
 * Collects probe output between UI frames and releases at most `maxLines` per flush, counting the
 * rest, so a flood of output can never freeze the terminal.
 */
export class OutputThrottle {
  private partial = new Map<number | undefined, string>();
  private lines: { entryId?: number; text: string }[] = [];
  private dropped = 0;

  constructor(private readonly maxLines = 200) {}

  push(entryId: number | undefined, text: string): void {
    const joined = (this.partial.get(entryId) ?? '') + text;
    const parts = joined.split('\n');
    this.partial.set(entryId, parts.pop()!);
    for (const p of parts) {
      if (this.lines.length < this.maxLines) this.lines.push({ entryId, text: p });
      else this.dropped++;
    }
  }

  /** What to show now; `final` also releases unterminated lines. */
  take(final = false): { lines: { entryId?: number; text: string }[]; dropped: number } | undefined {
    if (final) {
      for (const [id, p] of this.partial) if (p) this.lines.push({ entryId: id, text: p });
      this.partial.clear();
    }
    if (this.lines.length === 0 && this.dropped === 0) return undefined;
    const out = { lines: this.lines, dropped: this.dropped };
    this.lines = [];
    this.dropped = 0;
    return out;
  }
}
