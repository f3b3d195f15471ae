// The session's command table: stap -i's words plus what a live session needs. Bare words or a ':' prefix.

export interface CommandSpec {
  name: string;
  /** Argument syntax shown in help, e.g. "N|all". */
  args: string;
  /** Accepts the argument text (already trimmed). */
  accepts: (args: string) => boolean;
  help: string;
}

const none = (a: string) => a === '';
const entryNumber = (a: string) => /^\d+$/.test(a);
const file = (a: string) => a.length > 0 && !/\s/.test(a);

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'list', args: '', accepts: none, help: 'list entries with their number, state, hits and errors' },
  { name: 'delete', args: 'N|all', accepts: (a) => entryNumber(a) || a === 'all', help: 'remove entry N (its probes are unloaded) or every entry' },
  { name: 'disable', args: 'N', accepts: entryNumber, help: 'stop entry N\'s probes from firing, keeping it' },
  { name: 'enable', args: 'N', accepts: entryNumber, help: 'let a disabled entry fire again' },
  { name: 'edit', args: 'N', accepts: entryNumber, help: 'edit entry N in $EDITOR, then swap it in' },
  { name: 'save', args: 'FILE', accepts: file, help: 'write the session as one script that `tapsh FILE` runs' },
  { name: 'load', args: 'FILE', accepts: file, help: 'add the entries of a script file' },
  { name: 'globals', args: '', accepts: none, help: 'show globals with their types and current values' },
  { name: 'set', args: 'NAME VALUE', accepts: (a) => /^\w+\s+\S/.test(a), help: 'set an option (verbose, guru_mode, MAXMAPENTRIES, colour, ...)' },
  { name: 'show', args: '[NAME]', accepts: (a) => a === '' || /^\w+$/.test(a), help: 'show options' },
  { name: 'targets', args: '', accepts: none, help: 'show the target and its kernel' },
  { name: 'reset', args: '', accepts: none, help: 'clear every global\'s value' },
  { name: 'disarm', args: '', accepts: none, help: 'emergency: unregister every probe now (as the SysRq key)' },
  { name: 'help', args: '[COMMAND]', accepts: (a) => a === '' || /^:?\w+$/.test(a), help: 'this list, or one command' },
  { name: 'quit', args: '', accepts: none, help: 'run end probes, unload everything and leave (also Ctrl-D)' },
  { name: 'exit', args: '', accepts: none, help: 'same as quit' },
];

export interface ParsedCommand {
  spec: CommandSpec;
  args: string;
}

/**
 * A line is a command when it starts with a command word (optionally ':'-prefixed) whose
 * arguments fit, and the word is not a name the session's script uses (`delete cnt` deletes the
 * global cnt; `delete 2` removes entry 2). A ':' prefix always means a command.
 */
export function parseCommand(line: string, scriptNames: ReadonlySet<string> = new Set()): ParsedCommand | undefined {
  const t = line.trim();
  const colon = t.startsWith(':');
  const body = colon ? t.slice(1).trimStart() : t;
  const m = /^([a-z]+)\b\s*([\s\S]*)$/.exec(body);
  if (!m) return undefined;
  const spec = COMMANDS.find((c) => c.name === m[1]);
  if (!spec) return undefined;
  const args = m[2]!.trim().replace(/;$/, '').trim();
  if (!spec.accepts(args)) return colon ? { spec, args } : undefined;
  if (!colon && args !== '' && scriptNames.has(args.split(/\s+/)[0]!)) return undefined;
  if (!colon && args === '' && scriptNames.has(spec.name)) return undefined;
  return { spec, args };
}

export function helpText(name?: string): string {
  if (name) {
    const c = COMMANDS.find((x) => x.name === name.replace(/^:/, ''));
    if (!c) return `No command '${name}'. Type help for the list.\n`;
    return `${c.name}${c.args ? ' ' + c.args : ''}: ${c.help}\n`;
  }
  const width = Math.max(...COMMANDS.map((c) => c.name.length + (c.args ? c.args.length + 1 : 0)));
  return (
    'Type SystemTap script: a probe goes live as soon as the entry is complete; statements run once.\n' +
    'Commands (bare, or with a ":" prefix):\n' +
    COMMANDS.map((c) => `  ${(c.name + (c.args ? ' ' + c.args : '')).padEnd(width)}  ${c.help}`).join('\n') +
    '\n'
  );
}
