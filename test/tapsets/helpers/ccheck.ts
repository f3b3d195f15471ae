// Builds every embedded-C piece of the tapsets as one kernel module against a kbuild tree, to catch C errors before the translator exists.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionDecl } from '../../../src/lang/ast.js';
import { parseTapset, rel, tapsetFiles } from './tapsets.js';

/** A kbuild tree to compile against: $TAPSH_KBUILD, else the first /usr/src/linux-headers-*-amd64. */
export function findBuildTree(): string | undefined {
  if (process.env.TAPSH_KBUILD) return process.env.TAPSH_KBUILD;
  if (!existsSync('/usr/src')) return undefined;
  const d = readdirSync('/usr/src').filter((e) => /^linux-headers-.*-amd64$/.test(e)).sort().pop();
  return d ? join('/usr/src', d) : undefined;
}

/*
 * The README's interface, stubbed just enough to compile: the translator's real definitions
 * differ, but code that compiles here uses only what the table promises.
 */
const PRELUDE = `
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/string.h>
#include <linux/ptrace.h>
#define MAXSTRINGLEN 512
static char tapsh_errbuf[128] __maybe_unused;
static struct pt_regs *tapsh_regs __maybe_unused;
static const char *tapsh_pp __maybe_unused = "begin";
#define CONTEXT ((void *)0)
#define STAP_PROBE_POINT() (tapsh_pp)
#define STAP_PROBE_NAME() (tapsh_pp)
#define STAP_REMOTE_ID() (-1L)
#define STAP_REMOTE_URI() ("")
#define STAP_PROBE_REGS() (tapsh_regs)
#define STAP_TARGET_PID() 0L
#define STAP_EXIT() do { } while (0)
#define STAP_ABORT() do { } while (0)
struct tapsh_check_ctx { int errors; };
static __printf(2, 3) __maybe_unused void tapsh_check_error(struct tapsh_check_ctx *ctx, const char *fmt, ...)
{
	ctx->errors++;
	(void)fmt;
}
/* like the translator's: uses the context parameter c, so a body's own local named c fails to compile */
#define STAP_ERROR(fmt, ...) do { tapsh_check_error(c, fmt, ##__VA_ARGS__); snprintf(tapsh_errbuf, sizeof(tapsh_errbuf), fmt, ##__VA_ARGS__); goto out; } while (0)
#define STAP_WARN(fmt, ...) pr_warn(fmt, ##__VA_ARGS__)
`;

function cFunction(f: FunctionDecl, id: string): string {
  const params = ['struct tapsh_check_ctx *c'];
  params.push(...f.params.map((p) => (p.type === 'string' ? `const char *STAP_ARG_${p.name}` : `int64_t STAP_ARG_${p.name}`)));
  let ret = '';
  let defs = '';
  if (f.returnType === 'string') {
    params.push('char *tapsh_retbuf');
    ret = 'tapsh_retbuf';
    defs = '#define STAP_RETVALUE tapsh_retbuf\n#define STAP_RETURN(v) do { strscpy(tapsh_retbuf, (v), MAXSTRINGLEN); goto out; } while (0)\n';
  } else if (f.returnType === 'long') {
    params.push('int64_t *tapsh_retp');
    ret = 'tapsh_retp';
    defs = '#define STAP_RETVALUE (*tapsh_retp)\n#define STAP_RETURN(v) do { *tapsh_retp = (v); goto out; } while (0)\n';
  } else {
    defs = '#define STAP_RETURN(v) do { (void)(v); goto out; } while (0)\n';
  }
  const code = f.body.kind === 'embedded' ? f.body.code : '';
  void ret;
  return `${defs}static noinline __used void ${id}(${params.join(', ')})\n{\n{\n${code}\n}\n\tgoto out;\nout:\n\t;\n}\n#undef STAP_RETVALUE\n#undef STAP_RETURN\n\n`;
}

/** The C of every tapset file: top-level blocks first (as the translator emits them), then functions. */
export function tapsetModuleSource(arch = 'x86_64'): string {
  let top = '';
  let funcs = '';
  let n = 0;
  for (const path of tapsetFiles('.stp')) {
    const { program } = parseTapset(path, arch);
    for (const d of program?.decls ?? []) {
      if (d.kind === 'embeddedDecl') top += `/* ${rel(path)} */\n${d.code.code}\n`;
      if (d.kind === 'function' && d.body.kind === 'embedded') funcs += `/* ${rel(path)}: ${d.name} */\n${cFunction(d, `tapsh_fn_${n++}_${d.name}`)}`;
    }
  }
  return `${PRELUDE}\n${top}\n${funcs}\nstatic int __init tapsh_check_init(void) { return 0; }\nstatic void __exit tapsh_check_exit(void) { }\nmodule_init(tapsh_check_init);\nmodule_exit(tapsh_check_exit);\nMODULE_LICENSE("GPL");\n`;
}

/**
 * One translation unit per tapset file (its own top-level blocks and functions only), so that a
 * file that forgets an #include fails here as it would alone in a generated module.
 */
export function perFileSources(arch = 'x86_64'): Map<string, string> {
  const out = new Map<string, string>();
  let n = 0;
  for (const path of tapsetFiles('.stp')) {
    const { program } = parseTapset(path, arch);
    let top = '';
    let funcs = '';
    for (const d of program?.decls ?? []) {
      if (d.kind === 'embeddedDecl') top += `${d.code.code}\n`;
      if (d.kind === 'function' && d.body.kind === 'embedded') funcs += cFunction(d, `tapsh_fn_${n++}_${d.name}`);
    }
    if (top || funcs) out.set(rel(path).replace(/[^A-Za-z0-9]/g, '_').replace(/_stp$/, ''), `${PRELUDE}\n${top}\n${funcs}`);
  }
  return out;
}

/** Compiles the module; returns kbuild's output and whether it built. Asynchronous: a build takes a while. */
export async function compileTapsets(tree: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tapsh-tapset-cc-'));
  writeFileSync(join(dir, 'tapsets_all.c'), tapsetModuleSource());
  const units = perFileSources();
  for (const [name, src] of units) writeFileSync(join(dir, `tf_${name}.c`), src);
  // the whole library in one unit (name clashes between files), and each file alone (missing includes)
  writeFileSync(join(dir, 'Makefile'), `obj-m := tapsets_check.o\ntapsets_check-y := tapsets_all.o ${[...units.keys()].map((k) => `tf_${k}.o`).join(' ')}\n`);
  try {
    const { stdout, stderr } = await promisify(execFile)('make', ['-s', '-k', '-j2', '-C', tree, `M=${dir}`, 'modules'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}\n(sources: ${dir})` };
  }
}
