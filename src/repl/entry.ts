// Splits what the user types into entries: an entry is complete when no brace, bracket, paren, string or comment is open.

export interface Openness {
  complete: boolean;
  /** What is still open, innermost last, e.g. ['{', '('] or ['"']: shown in the continuation prompt. */
  open: string[];
}

/** Scans SystemTap text and reports whether it is a complete entry. */
export function openness(text: string): Openness {
  const stack: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '#' || (ch === '/' && next === '/')) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl + 1;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return { complete: false, open: [...stack, '/*'] };
      i = end + 2;
      continue;
    }
    if (ch === '%' && next === '{') {
      const end = text.indexOf('%}', i + 2);
      if (end < 0) return { complete: false, open: [...stack, '%{'] };
      i = end + 2;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= n) return { complete: false, open: [...stack, '"'] };
      i = j + 1;
      continue;
    }
    if (ch === '{' || ch === '(' || ch === '[') stack.push(ch);
    else if (ch === '}' || ch === ')' || ch === ']') {
      // A stray closer makes the entry "complete" so the parser can report it, rather than waiting forever.
      const want = ch === '}' ? '{' : ch === ')' ? '(' : '[';
      if (stack[stack.length - 1] === want) stack.pop();
      else return { complete: true, open: [] };
    }
    i++;
  }
  if (stack.length) return { complete: false, open: stack };
  // A line ending in a binary operator or a comma continues on the next line.
  const trimmed = text.replace(/(#|\/\/)[^\n]*$/, '').trimEnd();
  if (/(&&|\|\||[+\-*/%=<>,.&|^?:]|\bin)$/.test(trimmed) && !/(\+\+|--)$/.test(trimmed)) return { complete: false, open: [] };
  return { complete: true, open: [] };
}

/** Accumulates typed lines into entries. */
export class EntryBuffer {
  private lines: string[] = [];

  /** Adds a line; returns the complete entry when it is one, undefined when more is needed. */
  push(line: string): string | undefined {
    this.lines.push(line);
    const text = this.lines.join('\n');
    if (this.lines.length === 1 && text.trim() === '') {
      this.lines = [];
      return undefined;
    }
    if (openness(text).complete) {
      this.lines = [];
      return text;
    }
    return undefined;
  }

  get pending(): boolean {
    return this.lines.length > 0;
  }

  get text(): string {
    return this.lines.join('\n');
  }

  clear(): void {
    this.lines = [];
  }
}
