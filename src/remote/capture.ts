// Captures a target kernel's identity and model (symbols, tracepoints, BTF) into the cache.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cacheDir } from '../util/cache.js';
import type { KernelFunction, KernelIdentity, KernelModel, Tracepoint, TracepointField } from './model.js';
import type { Target } from './target.js';
import { TargetError } from './target.js';

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const MODEL_FORMAT = 1;

/** Walks an ELF note section (as /sys/kernel/notes holds) and returns the GNU build id in hex. */
export function parseBuildId(notes: Buffer): string {
  let off = 0;
  while (off + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(off);
    const descsz = notes.readUInt32LE(off + 4);
    const type = notes.readUInt32LE(off + 8);
    const nameOff = off + 12;
    const descOff = nameOff + ((namesz + 3) & ~3);
    const next = descOff + ((descsz + 3) & ~3);
    if (next > notes.length || namesz > 256) break;
    const name = notes.subarray(nameOff, nameOff + namesz).toString('latin1').replace(/\0+$/, '');
    if (name === 'GNU' && type === 3 /* NT_GNU_BUILD_ID */) return notes.subarray(descOff, descOff + descsz).toString('hex');
    off = next;
  }
  return '';
}

/** Reads the identity of the kernel running on `target`. */
export async function readIdentity(target: Target): Promise<KernelIdentity> {
  const sep = '--tapsh--';
  // One round trip: release, arch, version, the vermagic any module of this kernel carries
  // (read from its .modinfo strings: busybox modinfo needs modules.dep, tr and grep don't),
  // and the ELF notes as hex (od is in POSIX and busybox).
  const out = (
    await target.run(
      `uname -r; echo ${sep}; uname -m; echo ${sep}; cat /proc/version; echo ${sep}; ` +
        `m=$(find /lib/modules/$(uname -r) -name '*.ko' 2>/dev/null | head -n 1); ` +
        `[ -n "$m" ] && tr '\\0' '\\n' < "$m" | grep -m 1 '^vermagic=' | cut -d= -f2-; echo ${sep}; ` +
        `od -An -v -tx1 /sys/kernel/notes 2>/dev/null; true`,
      { timeoutMs: 30_000 },
    )
  ).stdout.toString('utf8');
  const [release = '', arch = '', version = '', vermagic = '', notesHex = ''] = out.split(`${sep}\n`).map((s) => s.trim());
  const notes = Buffer.from(notesHex.replace(/\s+/g, ''), 'hex');
  if (!release) throw new TargetError('COMMAND_FAILED', target.name, 'read kernel identity', 'uname -r printed nothing', 'Check that the target has a working shell with uname.');
  return { release, arch, version, buildId: parseBuildId(notes), vermagic };
}

/** Parses one tracefs `format` file. */
export function parseTracepointFormat(system: string, event: string, text: string): Tracepoint {
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? -1);
  const fields: TracepointField[] = [];
  let common = true;
  for (const line of text.split('\n')) {
    if (line.trim() === '' && fields.length > 0) common = false; // a blank line ends the common_* block
    const m = /^\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/.exec(line);
    if (!m) continue;
    const decl = m[1]!.trim();
    const nameMatch = /([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*$/.exec(decl);
    fields.push({
      decl,
      name: nameMatch?.[1] ?? decl,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === '1',
      common: common && (nameMatch?.[1] ?? '').startsWith('common_'),
    });
  }
  const printFmt = /^print fmt: (.*)$/m.exec(text)?.[1] ?? '';
  return { system, event, id, fields, printFmt };
}

/** Splits `== NAME SIZE\n<SIZE bytes>` frames (binary-safe). */
export function splitSized(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0) break;
    const m = /^== (\S+) (\d+)$/.exec(buf.toString('latin1', off, nl));
    if (!m) break;
    const size = Number(m[2]);
    out.set(m[1]!, buf.subarray(nl + 1, nl + 1 + size));
    off = nl + 1 + size;
  }
  return out;
}

/** Splits the output of `head -n N file1 file2 ...` ("==> path <==" headers) into path → text. */
export function splitHeadOutput(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^==> (.*) <==$/gm;
  let m: RegExpExecArray | null;
  let prev: { path: string; start: number } | undefined;
  while ((m = re.exec(text))) {
    if (prev) out.set(prev.path, text.slice(prev.start, m.index));
    prev = { path: m[1]!, start: m.index + m[0].length + 1 };
  }
  if (prev) out.set(prev.path, text.slice(prev.start));
  return out;
}

function parseKallsyms(text: string, traceable: Set<string>): Map<string, KernelFunction> {
  const fns = new Map<string, KernelFunction>();
  for (const line of text.split('\n')) {
    // "ffffffff81000000 T _stext" or "ffffffffc0001000 t foo	[virtio_net]"
    const m = /^[0-9a-f]+ ([tTwW]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
    if (!m) continue;
    const name = m[2]!;
    if (fns.has(name)) continue;
    fns.set(name, { name, module: m[3] ?? '', traceable: traceable.has(name) });
  }
  return fns;
}

function parseFilterFunctions(text: string): Set<string> {
  const s = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.split(/\s/, 1)[0];
    if (name) s.add(name);
  }
  return s;
}

function modelDir(identity: KernelIdentity): string {
  const key = `${identity.release}-${identity.buildId ? identity.buildId.slice(0, 16) : 'nobuildid'}`;
  return join(cacheDir('kernels'), key);
}

/**
 * Captures the model of the kernel running on `target` into the cache (or reuses the cached
 * one for the same release + build id) and returns it.
 */
export async function captureKernelModel(target: Target, opts: { refresh?: boolean; identity?: KernelIdentity } = {}): Promise<KernelModel> {
  const identity = opts.identity ?? (await readIdentity(target));
  const dir = modelDir(identity);
  if (!opts.refresh && existsSync(join(dir, 'identity.json'))) {
    const cached = loadKernelModel(dir);
    if (cached) return cached;
  }
  const tracefs = (await target.run(`for d in ${TRACEFS.join(' ')}; do [ -e "$d/available_events" ] && { echo "$d"; break; }; done; true`)).stdout.toString().trim();
  const kallsyms = (await target.run('cat /proc/kallsyms', { timeoutMs: 120_000 })).stdout.toString('latin1');
  if (/^0{16} [tT] _stext$/m.test(kallsyms) || !/^[0-9a-f]*[1-9a-f][0-9a-f]* [tT] /m.test(kallsyms)) {
    throw new TargetError('COMMAND_FAILED', target.name, 'read /proc/kallsyms', 'symbol addresses are hidden (kptr_restrict)', 'Connect as root, or set kernel.kptr_restrict=0 on the target.');
  }
  let filter = '';
  const tracepoints = new Map<string, Tracepoint>();
  if (tracefs) {
    filter = (await target.run(`cat ${tracefs}/available_filter_functions`, { timeoutMs: 120_000, allowFailure: true })).stdout.toString('latin1');
    // One process for all ~2000 format files: head prints each behind a "==> path <==" header.
    const formats = (await target.run(`cd ${tracefs}/events && head -n 1000 */*/format`, { timeoutMs: 120_000, allowFailure: true })).stdout.toString('utf8');
    for (const [path, text] of splitHeadOutput(formats)) {
      const [system, event] = path.split('/');
      if (!system || !event) continue;
      tracepoints.set(`${system}:${event}`, parseTracepointFormat(system, event, text));
    }
  }
  const btf = (await target.run('cat /sys/kernel/btf/vmlinux', { timeoutMs: 120_000, allowFailure: true })).stdout;
  // Loaded modules' split BTF (types of module functions, on top of vmlinux's), framed by size.
  const moduleBtf = (
    await target.run(
      'cd /sys/kernel/btf 2>/dev/null && for f in *; do [ "$f" = vmlinux ] && continue; [ -f "$f" ] || continue; echo "== $f $(wc -c < "$f")"; cat "$f"; done; true',
      { timeoutMs: 120_000, allowFailure: true },
    )
  ).stdout;

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const model: KernelModel = {
    identity,
    capturedAt: new Date().toISOString(),
    capturedFrom: target.name,
    functions: parseKallsyms(kallsyms, parseFilterFunctions(filter)),
    tracepoints,
    btfPath: btf.length ? join(dir, 'vmlinux.btf') : '',
    btfSize: btf.length,
  };
  writeFileSync(join(tmp, 'kallsyms.gz'), gzipSync(kallsyms));
  writeFileSync(join(tmp, 'available_filter_functions.gz'), gzipSync(filter));
  writeFileSync(join(tmp, 'tracepoints.json'), JSON.stringify([...tracepoints.values()]));
  if (btf.length) writeFileSync(join(tmp, 'vmlinux.btf'), btf);
  for (const [name, blob] of splitSized(moduleBtf)) {
    mkdirSync(join(tmp, 'modules-btf'), { recursive: true });
    writeFileSync(join(tmp, 'modules-btf', `${name}.btf`), blob);
  }
  writeFileSync(
    join(tmp, 'identity.json'),
    JSON.stringify({ format: MODEL_FORMAT, identity, capturedAt: model.capturedAt, capturedFrom: model.capturedFrom, btfSize: btf.length }, null, 2),
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return model;
}

/** Loads a cached model directory; undefined when it is missing or from an older format. */
export function loadKernelModel(dir: string): KernelModel | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as {
      format: number;
      identity: KernelIdentity;
      capturedAt: string;
      capturedFrom: string;
      btfSize: number;
    };
    if (meta.format !== MODEL_FORMAT) return undefined;
    const kallsymsGz = readFileSync(join(dir, 'kallsyms.gz'));
    const filterGz = readFileSync(join(dir, 'available_filter_functions.gz'));
    const tpsJson = readFileSync(join(dir, 'tracepoints.json'), 'utf8');
    // Parsed on first use: a script with no kernel probe points (or tapsh -p1/-p2 on one) never pays for them.
    let functions: Map<string, KernelFunction> | undefined;
    let tracepoints: Map<string, Tracepoint> | undefined;
    return {
      identity: meta.identity,
      capturedAt: meta.capturedAt,
      capturedFrom: meta.capturedFrom,
      get functions() {
        return (functions ??= parseKallsyms(gunzipSync(kallsymsGz).toString('latin1'), parseFilterFunctions(gunzipSync(filterGz).toString('latin1'))));
      },
      get tracepoints() {
        return (tracepoints ??= new Map((JSON.parse(tpsJson) as Tracepoint[]).map((t) => [`${t.system}:${t.event}`, t])));
      },
      btfPath: meta.btfSize ? join(dir, 'vmlinux.btf') : '',
      btfSize: meta.btfSize,
    };
  } catch {
    return undefined;
  }
}

/** The cached model for a kernel identity, if one was captured before. */
export function cachedKernelModel(identity: KernelIdentity): KernelModel | undefined {
  return loadKernelModel(modelDir(identity));
}

/** The newest cached model for a kernel release (any build id), if one was captured before. */
export function cachedModelForRelease(release: string): KernelModel | undefined {
  const root = cacheDir('kernels');
  const dirs = readdirSync(root).filter((d) => d.startsWith(`${release}-`) && !d.includes('.tmp-'));
  const models = dirs.map((d) => loadKernelModel(join(root, d))).filter((m): m is KernelModel => !!m);
  models.sort((a, b) => b.capturedAt.localeCompare(a.capturedAt));
  return models[0];
}
