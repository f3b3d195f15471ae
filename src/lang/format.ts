// printf format strings as stap 4.8 reads them: which argument types a format asks for, or why it is malformed.

import type { Ty } from './elaborate.js';

/**
 * Argument types a printf format string asks for, in order (`%%` takes none, `*` widths take a long);
 * a string naming the bad directive when one is malformed. stap 4.8 accepts one optional `l` length
 * modifier and nothing else (`%lld`, `%hd`, `%zd` are errors), and `%%` with no flag, width or
 * precision (`%5%` is an error); it rejects these while parsing.
 */
export function formatTypes(fmt: string): Ty[] | string {
  const out: Ty[] = [];
  const re = /%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?(l)?(.?)/gs;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fmt))) {
    const conv = m[5]!;
    if (conv === '%' && m[0] === '%%') continue;
    if (!/^[diouxXpcsmMb]$/.test(conv)) return conv === '' ? 'a lone % at the end' : `%${m.slice(1, 5).map((x) => x ?? '').join('')}${conv}`;
    if (m[2] === '*') out.push('long');
    if (m[3] === '*') out.push('long');
    out.push(conv === 's' || conv === 'M' ? 'string' : 'long');
  }
  return out;
}
