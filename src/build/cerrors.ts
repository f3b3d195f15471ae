// Maps gcc's complaints about generated C back to the script lines that produced them (the origin comments).

export interface MappedCError {
  /** "script.stp:12" from the nearest origin comment above the C line, or undefined when none. */
  origin: string | undefined;
  cLine: number;
  severity: 'error' | 'warning';
  message: string;
}

/** gcc diagnostics for `cFile` in a kbuild log, each with the script location its C line came from. */
export function mapCErrors(log: string, cFile: string, cText: string): MappedCError[] {
  const lines = cText.split('\n');
  const out: MappedCError[] = [];
  const base = cFile.slice(cFile.lastIndexOf('/') + 1);
  const re = /^(\S+?):(\d+):(\d+): (error|warning): (.*)$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(log))) {
    const file = m[1]!;
    if (!(file === cFile || file.endsWith('/' + base) || file === base)) continue;
    const cLine = Number(m[2]);
    let origin: string | undefined;
    for (let i = Math.min(cLine, lines.length) - 1; i >= 0; i--) {
      const o = /^\s*\/\* (.+:\d+) \*\/\s*$/.exec(lines[i]!);
      if (o) {
        origin = o[1];
        break;
      }
    }
    out.push({ origin, cLine, severity: m[4] as 'error' | 'warning', message: m[5]! });
  }
  return out;
}

/** The report a user sees: script location first, the C line for whoever debugs tapsh. */
export function renderCErrors(errors: MappedCError[]): string {
  return errors
    .filter((e) => e.severity === 'error')
    .map((e) => `${e.origin ?? '(generated code)'}: ${e.severity}: ${e.message} [generated C line ${e.cLine}]`)
    .join('\n');
}
