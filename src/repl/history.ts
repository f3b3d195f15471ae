// Prompt history persisted across sessions in the cache directory.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../util/cache.js';

export class History {
  private readonly items: string[];

  constructor(private readonly path = join(cacheDir(), 'history'), private readonly max = 1000) {
    this.items = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map(decode) : [];
    if (this.items.length > max) {
      this.items.splice(0, this.items.length - max);
      writeFileSync(path, this.items.map(encode).join('\n') + '\n');
    }
  }

  add(line: string): void {
    if (this.items[this.items.length - 1] === line) return;
    this.items.push(line);
    try {
      appendFileSync(this.path, encode(line) + '\n', { mode: 0o600 });
    } catch {
      /* history is a convenience: never fail a session over it */
    }
  }

  entries(): readonly string[] {
    return this.items;
  }
}

const encode = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const decode = (s: string) => s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
