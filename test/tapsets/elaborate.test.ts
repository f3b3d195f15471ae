// Pass 2 over small scripts that use the tapsets: every public function, alias and macro resolves and type-checks.
import '../lang/helpers/ensure-parser.js';
import { describe, expect, it } from 'vitest';
import { elaborateScript, type ElaborateScriptInput } from '../../src/lang/pass2.js';
import { renderDiagnostics } from '../../src/lang/pass1.js';
import { provided, TAPSETS } from './helpers/tapsets.js';

const base: Omit<ElaborateScriptInput, 'text' | 'fileName'> = {
  scriptArgs: [], includeDirs: [], guru: true, tapsetDirs: [TAPSETS],
  unoptimized: false, suppressWarnings: true, warningsAreErrors: false,
};

function errorsOf(text: string): string {
  const r = elaborateScript({ ...base, text, fileName: 't.stp' });
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  return errs.length ? renderDiagnostics(errs, r.sources) : '';
}

const mine = provided();

describe('every public tapset function elaborates when called', () => {
  const calls: string[] = [];
  for (const [name, defs] of mine.functions) {
    for (const d of defs) {
      if (d.decl.private) continue;
      const args = d.decl.params.map((p) => (p.type === 'string' ? '"x"' : '1'));
      calls.push(`${name}(${args.join(', ')})`);
    }
  }
  it(`${calls.length} calls, one script each`, () => {
    const failed: string[] = [];
    for (const c of calls) {
      // the println keeps the probe from being elided whole when the call is pure and its value unused
      const e = errorsOf(`probe begin { ${c}; println(1) }`);
      if (e) failed.push(`${c}:\n${e}`);
    }
    expect(failed).toEqual([]);
  });
});

describe('probe aliases elaborate (no kernel model: points are accepted unverified)', () => {
  it('each alias with an empty body', () => {
    const failed: string[] = [];
    for (const name of mine.aliases.keys()) {
      const e = errorsOf(`probe ${name} { println(1) }`);
      if (e) failed.push(`${name}:\n${e}`);
    }
    expect(failed).toEqual([]);
  });
});

describe('scripts as users write them', () => {
  const scripts: Record<string, string> = {
    'identity and time': 'probe begin { printf("%s[%d/%d] uid=%d cpu=%d at %d %s\\n", execname(), pid(), tid(), uid(), cpu(), gettimeofday_s(), ctime(gettimeofday_s())) }',
    'strings': 'probe begin { s = "a,b,,c"; t = tokenize(s, ","); while (t != "") { println(t); t = tokenize("", ",") } println(str_replace(s, ",", ";"), strlen(s), substr(s, 1, 2), isinstr(s, "b"), strtol("0x1f", 16), text_str("a\\tb")) }',
    'memory': 'probe kernel.function("vfs_read") { printf("%s %d %s\\n", kernel_string_n($file, 8), user_long($buf), user_string_quoted($buf)) }',
    'stopwatch': 'probe begin { start_stopwatch("t") } probe end { stop_stopwatch("t"); printf("%dms\\n", read_stopwatch_ms("t")); delete_stopwatch("t") }',
    'tasks': 'probe begin { t = task_current(); printf("%s %d %d %d %s\\n", task_execname(t), task_pid(t), task_nice(t), task_state(t), task_ancestry(t, 0)) }',
    'errors': 'probe begin { try { error("boom") } catch (msg) { warn(msg) } printf("%s %s\\n", errno_str(-2), return_str(1, -13)); exit() }',
    'backtrace': 'probe kernel.function("vfs_read") { print_backtrace(); println(probefunc(), " ", caller()); printf("%s\\n", sprint_backtrace()) }',
    'ansi': 'probe begin { ansi_clear_screen(); ansi_set_color(31); print("red"); ansi_reset_color(); ansi_new_line() }',
  };
  for (const [what, text] of Object.entries(scripts)) {
    it(what, () => expect(errorsOf(text)).toBe(''));
  }
});

// Against a kernel model captured from the lab VM (when this machine has one cached): the
// tracepoints, fields and functions the aliases name must exist on that kernel.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKernelModel } from '../../src/remote/capture.js';
import { cacheDir } from '../../src/util/cache.js';

const kernelsDir = cacheDir('kernels');
const cachedModel = existsSync(kernelsDir)
  ? readdirSync(kernelsDir).map((d) => loadKernelModel(join(kernelsDir, d))).find((m) => m !== undefined)
  : undefined;

describe.skipIf(!cachedModel)('probe aliases resolve on a captured kernel', () => {
  it(`each alias on ${cachedModel?.identity.release}`, () => {
    const failed: string[] = [];
    for (const name of mine.aliases.keys()) {
      const r = elaborateScript({ ...base, kernelModel: cachedModel, text: `probe ${name} { println(1) }`, fileName: 't.stp' });
      const errs = r.diagnostics.filter((d) => d.severity === 'error');
      if (errs.length) failed.push(`${name}:\n${renderDiagnostics(errs, r.sources)}`);
    }
    expect(failed).toEqual([]);
  });
});
