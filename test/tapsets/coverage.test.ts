// Coverage report: how much of the reference index, and of what the conformance corpus calls, the tapsets provide.
import '../lang/helpers/ensure-parser.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provided, readIndex, SHARED } from './helpers/tapsets.js';

const index = readIndex();
const mine = provided();

/* Probe aliases pass 2 derives from the kernel's syscall tracepoints rather than from tapset files. */
const derivedFamily = (name: string): boolean => /^(syscall|nd_syscall|syscall_any)(\.|$)/.test(name);
/* Probe points pass 2 implements as built-in families (upstream writes them as aliases). */
const builtin = (name: string): boolean => /^timer\.profile(\.|$)/.test(name);
/* Upstream-internal alias layers (dw_/tp_/nd1_/__ prefixes) scripts do not name. */
const internalAlias = (name: string): boolean => /^(_|dw_|tp_|nd1_|nd2_|kprobe_|__)/.test(name.split('.')[0]!);

/** Names (function, probe alias, macro) each corpus file under semok/buildok/examples uses, by the index's vocabulary. */
function corpusUses(): Map<string, number> {
  const functions = new Set(index.filter((e) => e.kind === 'function').map((e) => e.name));
  const aliases = new Set(index.filter((e) => e.kind === 'probe').map((e) => e.name));
  const macros = new Set(index.filter((e) => e.kind === 'macro').map((e) => e.name));
  const uses = new Map<string, number>();
  for (const dir of ['semok', 'buildok', 'examples']) {
    const d = join(SHARED, 'corpus', dir);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((x) => /\.(stp|sh)$/.test(x))) {
      const text = readFileSync(join(d, f), 'utf8').replace(/%\{[\s\S]*?%\}/g, '');
      const seen = new Set<string>();
      for (const m of text.matchAll(/(?<![\w$@.])([A-Za-z_]\w*)\s*\(/g)) if (functions.has(m[1]!)) seen.add(`function ${m[1]}`);
      for (const m of text.matchAll(/@([A-Za-z_]\w*)/g)) if (macros.has(m[1]!)) seen.add(`macro ${m[1]}`);
      for (const m of text.matchAll(/\bprobe\s+([^{]*?)\s*(?:\{|\+?=)/g)) {
        for (const raw of m[1]!.split(',')) {
          const comps = raw.trim().replace(/\([^)]*\)/g, '').replace(/[?!]+$/, '').split('.');
          for (let k = comps.length; k > 0; k--) {
            const cand = comps.slice(0, k).join('.');
            if (aliases.has(cand)) {
              seen.add(`probe ${cand}`);
              break;
            }
          }
        }
      }
      for (const s of seen) uses.set(s, (uses.get(s) ?? 0) + 1);
    }
  }
  return uses;
}

function has(key: string): boolean {
  const [kind, name] = key.split(' ') as [string, string];
  if (kind === 'function') return mine.functions.has(name);
  if (kind === 'macro') return mine.macros.has(name);
  return mine.aliases.has(name) || derivedFamily(name) || builtin(name);
}

describe('coverage report', () => {
  it('prints what the tapsets provide', () => {
    const fnNames = new Set(index.filter((e) => e.kind === 'function').map((e) => e.name));
    const aliasNames = new Set(index.filter((e) => e.kind === 'probe').map((e) => e.name));
    const macroNames = new Set(index.filter((e) => e.kind === 'macro' && !/\/sysc_|syscalls\.stpm|nfsd\.stp|socket\.stp/.test(e.file)).map((e) => e.name));
    const fnSigs = index.filter((e) => e.kind === 'function');
    const sigProvided = fnSigs.filter((e) => (mine.functions.get(e.name) ?? []).some((d) => d.decl.params.length === (e.args.trim() ? e.args.split(',').length : 0)));
    const publicAliases = [...aliasNames].filter((n) => !internalAlias(n));
    const handAliases = publicAliases.filter((n) => !derivedFamily(n));
    const uses = corpusUses();
    const used = [...uses.keys()];
    const usedProvided = used.filter(has);
    const usedSyscall = used.filter((k) => k.startsWith('probe ') && derivedFamily(k.slice(6)));
    const usedOwn = used.filter((k) => !usedSyscall.includes(k));
    const weighted = used.reduce((a, k) => a + uses.get(k)!, 0);
    const weightedProvided = usedProvided.reduce((a, k) => a + uses.get(k)!, 0);
    const missingTop = used.filter((k) => !has(k)).sort((a, b) => uses.get(b)! - uses.get(a)!).slice(0, 25);
    const lines = [
      `functions: ${[...fnNames].filter((n) => mine.functions.has(n)).length}/${fnNames.size} names, ${sigProvided.length}/${fnSigs.length} signatures`,
      `probe aliases (scripts' names, without dw_/tp_/nd1_/__ layers): ${publicAliases.filter((n) => mine.aliases.has(n) || derivedFamily(n) || builtin(n)).length}/${publicAliases.length}` +
        ` (${publicAliases.filter(derivedFamily).length} syscall ones derived by pass 2; hand-written: ${handAliases.filter((n) => mine.aliases.has(n)).length}/${handAliases.length})`,
      `macros (public .stpm ones): ${[...macroNames].filter((n) => mine.macros.has(n)).length}/${macroNames.size}`,
      `corpus (semok+buildok+examples) uses ${used.length} index names: ${usedProvided.length} provided; by uses: ${weightedProvided}/${weighted}`,
      `  of which syscall.*/nd_syscall.* aliases (left to pass 2): ${usedSyscall.length}; all other names: ${usedOwn.filter(has).length}/${usedOwn.length} provided` +
        ` (functions ${usedOwn.filter((k) => k.startsWith('function ') && has(k)).length}/${usedOwn.filter((k) => k.startsWith('function ')).length},` +
        ` aliases ${usedOwn.filter((k) => k.startsWith('probe ') && has(k)).length}/${usedOwn.filter((k) => k.startsWith('probe ')).length},` +
        ` macros ${usedOwn.filter((k) => k.startsWith('macro ') && has(k)).length}/${usedOwn.filter((k) => k.startsWith('macro ')).length})`,
      `most used missing: ${missingTop.map((k) => `${k.split(' ')[1]} (${uses.get(k)})`).join(', ')}`,
    ];
    console.log(`tapset coverage\n  ${lines.join('\n  ')}`);
    expect(usedProvided.length).toBeGreaterThan(0);
  });
});
