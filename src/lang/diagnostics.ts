// The one catalog of front-end diagnostics: stable codes, message templates, and the renderer.

import type { Span } from './ast.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span | undefined;
  readonly notes: readonly string[];
}

/**
 * Every message the front end can emit. Codes are stable (tests and users grep for them);
 * `{0}`, `{1}` are filled from the arguments of `diag()`.
 */
export const MESSAGES = {
  // lexical / preprocessor: TS1xxx
  TS1001: 'parse error: unterminated comment',
  TS1002: 'parse error: unterminated string literal',
  TS1003: 'parse error: unterminated embedded code (missing %})',
  TS1004: 'parse error: unexpected character {0}',
  TS1010: 'parse error: incomplete conditional: expected {0}, saw {1}',
  TS1011: 'parse error: {0}',
  TS1012: 'parse error: expected {0} in preprocessor condition, saw {1}',
  TS1020: 'parse error: command line argument index {0} out of range [1-{1}]',
  TS1021: 'parse error: invalid command line argument reference {0}',
  TS1022: 'parse error: command line argument {0} expands to another argument reference',
  TS1030: 'parse error: expected macro name after @define, saw {0}',
  TS1031: 'parse error: cannot redefine the built-in @{0}',
  TS1032: 'parse error: expected %( to start the body of macro @{0}, saw {1}',
  TS1033: 'parse error: unterminated body of macro @{0} (missing %))',
  TS1034: 'parse error: macro @{0} takes {1} argument(s) but {2} given',
  TS1035: 'parse error: unterminated arguments of macro @{0} (missing ))',
  TS1036: 'parse error: macro @{0} expands into itself',
  TS1037: 'parse error: duplicate parameter {1} of macro @{0}',
  TS1038: 'warning: macro @{0} shadows the built-in @{0}',
  TS1040: 'parse error: unexpected {0} outside a %( conditional',
  TS1050: 'warning: tapset macro file {0}: {1}',
  // grammar: TS2xxx
  TS2001: 'parse error: expected {0}, saw {1}',
  TS2002: 'parse error: script contains no probes, functions or globals',
  TS2003: 'parse error: too many parse errors, giving up',
  TS2004: 'parse error: unknown macro or @-operator {0}',
  // post-parse checks: TS3xxx
  TS3001: 'parse error: number {0} invalid or out of range',
  TS3002: 'parse error: duplicate parameter {0} of function {1}',
  TS3003: 'parse error: array size must be greater than 0',
  TS3004: 'parse error: array {0} cannot be initialized with a scalar',
  TS3005: 'parse error: {0} requires a literal string as its first argument',
  TS3006: 'parse error: {0} requires at least one argument',
  TS3007: 'parse error: probe alias name cannot be optional (?), sufficient (!) or conditional (if)',
  TS3008: 'parse error: only one sort directive allowed in foreach',
  TS3009: 'parse error: @perf counter name must not be empty',
  TS3010: 'parse error: {0} requires guru mode (-g)',
  TS3011: 'parse error: embedded code in an unprivileged script; need guru mode (-g)',
  TS3012: 'parse error: array {0} has {1} keys; at most 9 are allowed',
  TS3014: 'parse error: {0} takes one argument (only @variance takes a bit shift)',
  // elaboration: TS4xxx
  TS4001: 'warning: tapset file {0} was skipped: {1}',
  TS4010: 'semantic error: no match for probe point {0}',
  TS4011: 'semantic error: probe alias expansion does not terminate ({0})',
  TS4012: 'semantic error: probe point {0} does not match any expansion of alias {1}{2}',
  TS4013: 'semantic error: invalid probe point {0}: {1}',
  TS4014: "semantic error: probe point {0}: the '{1}' probe family is not supported by tapsh",
  TS4015: 'semantic error: probe point {0} is not supported: {1}',
  TS4040: "semantic error: '{0}' is used as an array or statistic but is not a global (missing 'global {0}'?)",
  TS4041: "semantic error: unresolved function call '{0}' (not in the script or the tapset library)",
  TS4042: "semantic error: function '{0}' takes {1} argument(s) but {2} given",
  TS4043: "semantic error: probe condition may only refer to global variables, but '{0}' is not one",
  TS4044: 'semantic error: probe condition may not call functions',
  TS4045: 'semantic error: @entry is only valid in a function-return probe',
  TS4046: 'semantic error: {0}',
  TS4047: "semantic error: function '{0}' is guru-only (-g)",
  TS4050: 'semantic error: type mismatch: expected {0} but found {1} for {2}',
  TS4051: "semantic error: unresolved type for '{0}'",
  TS4052: "semantic error: array '{0}' used with {1} index(es) but elsewhere with {2}",
  TS4053: "semantic error: array '{0}' used without an index",
  TS4054: "semantic error: '*' slices are only allowed in foreach, delete and 'in'",
  TS4056: "semantic error: function '{0}' returns no value but its result is used",
  TS4057: 'semantic error: format string wants {0} argument(s) but {1} given',
  TS4058: "semantic error: '<<<' needs a global statistics variable or array element on its left",
  TS4059: "semantic error: invalid format directive {0}",
  TS4060: 'semantic error: no probes found',
  TS4061: "semantic error: duplicate global variable '{0}'",
  TS4062: "semantic error: duplicate function '{0}' with the same number of parameters",
  TS4063: "semantic error: 'return' outside a function",
  TS4065: "semantic error: the operand of '{0}' is not assignable",
  TS4066: "semantic error: '{0}' is declared as an array ({1}) but used as a scalar or statistic",
  TS4067: 'semantic error: $return is only available in return probes, not in {0}',
  TS4068: "semantic error: target variable '${0}' is not available in probe {1}",
  TS4069: "semantic error: tracepoint {1} has no field '${0}'; its fields are: {2}",
  TS4080: 'semantic error: in probe {0}: {1}',
  TS4081: 'semantic error: cannot take the address of {0}: {1}',
  TS4082: "semantic error: unable to find member '{0}' for {1} (alternatives: {2})",
  TS4083: "semantic error: unresolved type for '->': the value is {0}; use @cast(VALUE, \"TYPE\") to give it one",
  TS4084: "semantic error: '{0}' on a target variable is not supported: write it with an assignment (in guru mode), e.g. $x = $x + 1",
  TS4085: 'warning: {0}: it reads as 0 (--skip-badvars)',
  TS4072: 'semantic error: $value is write-only in procfs read probe {0} (assign what the reader gets)',
  TS4073: 'semantic error: $value is read-only in procfs write probe {0} (it holds what was written)',
  TS4074: "semantic error: '{0}' is modified inside the foreach loop that iterates over it",
  TS4075: "warning: probe '{0}' has been elided: it has no side effects once unused code is removed",
  TS4076: 'semantic error: procfs $value is a string; it has no members, elements or address',
  TS4077: 'semantic error: absolute probe point {0} requires guru mode (-g)',
  TS4070: "warning: never-assigned local variable '{0}'",
  TS4071: "warning: never-assigned global variable '{0}'",
  TS3013: 'parse error: maxactive takes a number literal',
  TS3015: 'parse error: invalid or missing conversion specifier',
} as const;

export type DiagCode = keyof typeof MESSAGES;

function fill(template: string, args: readonly (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (_m, i: string) => String(args[Number(i)] ?? ''));
}

/** Builds a diagnostic from the catalog; severity follows the template's `warning:` prefix. */
export function diag(code: DiagCode, span: Span | undefined, args: readonly (string | number)[] = [], notes: readonly string[] = []): Diagnostic {
  const message = fill(MESSAGES[code], args);
  return { code, severity: message.startsWith('warning:') ? 'warning' : 'error', message, span, notes };
}

/** Renders diagnostics in stap's spirit: message, `at file:line:col`, the source line and a caret under the column. */
export function renderDiagnostics(diags: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  const out: string[] = [];
  for (const d of diags) {
    out.push(`${d.message} [${d.code}]`);
    if (d.span) {
      const { file, line, col } = d.span;
      out.push(`        at: ${file}:${line}:${col}`);
      const text = sources.get(file);
      if (text !== undefined) {
        const src = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
        // Tabs are kept so the caret lines up in a terminal that shows the source line the same way.
        const pad = src.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
        out.push(`     source: ${src}`);
        out.push(`             ${pad}^`);
      }
    }
    for (const n of d.notes) out.push(`        note: ${n}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
