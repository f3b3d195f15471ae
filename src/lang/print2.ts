// The `-p2` printer: the resolved program (globals with types, used functions, derived probes), stable and readable.

import type { Resolved, Ty, Unit, VarSym } from './elaborate.js';
import { liveUses } from './optimize.js';
import { printStmt, type PrintOptions } from './print.js';
import { conditionText } from './probes.js';

export function printResolved(r: Resolved): string {
  const out: string[] = [];
  const ty = (t: Ty | undefined): string => t ?? 'unknown';
  const varText = (v: VarSym): string => {
    const t = r.types.vars.get(v);
    const keys = t && v.arity ? `[${Array.from({ length: v.arity }, (_, i) => ty(t.keys[i])).join(', ')}]` : '';
    return `${v.name}:${ty(t?.value)}${keys}`;
  };
  const hide: PrintOptions = {
    omitStmt: (s) => r.elision.stmts.has(s),
    storeElided: (e) => r.elision.stores.has(e),
    omitExpr: (e) => r.elision.exprs.has(e),
  };
  const locals = (u: Unit): string => {
    const live = liveUses(u, r.elision);
    const ls = [...u.locals.values()].filter((l) => l.scope === 'local' && live.has(l));
    return ls.length ? `# locals: ${ls.map(varText).join(', ')}\n` : '';
  };
  if (r.files.length) out.push('# tapset files', ...r.files.map((f) => `#   ${f}`));
  if (r.globals.length) {
    out.push('# globals');
    for (const g of [...r.globals].sort((a, b) => (a.name < b.name ? -1 : 1))) out.push(varText(g) + (g.file ? ` /* ${g.file} */` : ''));
  }
  if (r.functions.length) {
    out.push('# functions');
    const fns = [...r.functions].sort((a, b) => (a.func!.name < b.func!.name ? -1 : a.func!.name > b.func!.name ? 1 : 0));
    for (const u of fns) {
      const f = u.func!;
      const sig = r.types.funcs.get(f)!;
      const params = f.decl.params.map((p, i) => `${p.name}:${ty(sig.params[i])}`).join(', ');
      const body = f.decl.body.kind === 'block' ? printStmt(f.decl.body, 0, hide) : `%{${f.decl.body.code}%}`;
      out.push(`${f.name}:${sig.ret ?? 'void'} (${params})${f.file ? ` /* ${f.file} */` : ''}\n${locals(u)}${body}`);
    }
  }
  out.push('# probes');
  for (const { derived: d, unit } of r.probes) {
    const origin = d.written + (d.via.length ? ` (alias ${d.via.join(' -> ')})` : '');
    const cond = d.conditions.length ? ` if (${d.conditions.map(conditionText).join(') && (')})` : '';
    const bodies = d.bodies.map((b) => printStmt(b, 0, hide)).join('\n');
    out.push(`${d.point}${cond} /* <- ${origin}${d.unverified ? ', unverified: no kernel model' : ''} */\n${locals(unit)}${bodies}`);
  }
  return out.join('\n') + '\n';
}
