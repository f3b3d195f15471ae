// Pass 1c: rules stap enforces while parsing that the grammar does not express (literal ranges, duplicates, guru-only forms).

import type { Program } from './ast.js';
import { diag, type Diagnostic } from './diagnostics.js';
import { formatTypes } from './format.js';
import { forEachNode } from './walk.js';

const MAX_KEYS = 9;
const GURU_ONLY_AT = { kregister: '@kregister', kderef: '@kderef' } as const;

/** Checks one parsed file; `privileged` is true for tapsets and for scripts run with -g. */
export function checkProgram(program: Program, privileged: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  forEachNode(program, (n) => {
    switch (n.kind) {
      case 'number':
        if (n.value === null) out.push(diag('TS3001', n.span, [`'${n.text}'`]));
        break;
      case 'function': {
        const seen = new Set<string>();
        for (const p of n.params) {
          if (seen.has(p.name)) out.push(diag('TS3002', p.span, [p.name, n.name]));
          seen.add(p.name);
        }
        break;
      }
      case 'global':
        if (n.size && n.size.value === 0n) out.push(diag('TS3003', n.size.span));
        if (n.size && n.init) out.push(diag('TS3004', n.init.span, [n.name]));
        break;
      case 'print': {
        const needsLiteral = /f$|d$|dln$/.test(n.name);
        if (needsLiteral && (n.args.length === 0 || n.args[0]!.kind !== 'string')) {
          out.push(diag('TS3005', n.args[0]?.span ?? n.span, [n.name]));
        } else if (n.args.length === 0 && !n.name.endsWith('ln')) {
          out.push(diag('TS3006', n.span, [n.name]));
        } else if (n.name.endsWith('printf') && n.args[0]!.kind === 'string') {
          const bad = formatTypes(n.args[0]!.value);
          if (typeof bad === 'string') out.push(diag('TS3015', n.args[0]!.span, [], [`the bad directive is ${bad}`]));
        }
        break;
      }
      case 'alias':
        for (const a of n.names) if (a.optional || a.sufficient || a.condition) out.push(diag('TS3007', a.span));
        break;
      case 'foreach': {
        const sorts = n.keys.filter((k) => k.sort !== 0).length + (n.value && n.value.sort !== 0 ? 1 : 0) + (n.arraySort !== 0 ? 1 : 0);
        if (sorts > 1) out.push(diag('TS3008', n.span));
        if (n.keys.length > MAX_KEYS) out.push(diag('TS3012', n.span, [n.array.kind === 'symbol' ? n.array.name : '@hist', n.keys.length]));
        break;
      }
      case 'index':
      case 'in':
        if (n.keys.length > MAX_KEYS) {
          const base = n.kind === 'index' ? n.base : n.array;
          out.push(diag('TS3012', n.span, [base.kind === 'symbol' ? base.name : '@hist', n.keys.length]));
        }
        break;
      case 'stat':
        if (n.shift && n.op !== 'variance') out.push(diag('TS3014', n.shift.span, [`@${n.op}`]));
        break;
      case 'perf':
        if (n.counter.value === '') out.push(diag('TS3009', n.counter.span));
        break;
      case 'component':
        if (n.name === 'maxactive' && n.arg && n.arg.kind !== 'number') out.push(diag('TS3013', n.arg.span));
        break;
      case 'embedded':
        if (!privileged) out.push(diag('TS3011', n.span));
        break;
      case 'register':
      case 'deref':
        if (!privileged && n.space === 'kernel') out.push(diag('TS3010', n.span, [GURU_ONLY_AT[n.kind === 'register' ? 'kregister' : 'kderef']]));
        break;
      case 'const':
        if (!privileged) out.push(diag('TS3010', n.span, ['@const']));
        break;
      default:
        break;
    }
  });
  return out;
}
