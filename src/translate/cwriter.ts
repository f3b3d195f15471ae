// The one indenting writer generated C goes through; origin comments map C lines back to the script.
import type { Span } from '../lang/ast.js';

export class CWriter {
  private readonly lines: string[] = [];
  private depth = 0;
  private lastOrigin = '';

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '\t'.repeat(this.depth) + text);
    return this;
  }

  /** `/* file:LINE *\/` before the code generated for a statement (once per line of script). */
  origin(span: Span | undefined): this {
    if (!span) return this;
    const tag = `${span.file}:${span.line}`;
    if (tag === this.lastOrigin) return this;
    this.lastOrigin = tag;
    return this.line(`/* ${tag.replace(/\*\//g, '* /')} */`);
  }

  open(text: string): this {
    this.line(text === '' ? '{' : `${text} {`);
    this.depth++;
    return this;
  }

  close(suffix = ''): this {
    this.depth--;
    this.lastOrigin = '';
    return this.line(`}${suffix}`);
  }

  /** `} else {` between the two branches of an open `if`. */
  orElse(): this {
    this.depth--;
    this.lastOrigin = '';
    this.line('} else {');
    this.depth++;
    return this;
  }

  /** A label at one level out, as kernel style has them. */
  label(name: string): this {
    this.lines.push('\t'.repeat(Math.max(0, this.depth - 1)) + `${name}:`);
    return this;
  }

  raw(block: string): this {
    for (const l of block.split('\n')) this.lines.push(l);
    return this;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** A C string literal for arbitrary text (octal escapes for anything unusual, never trigraphs). */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x3f) out += '\\?';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += '\\' + byte.toString(8).padStart(3, '0');
  }
  return out + '"';
}
