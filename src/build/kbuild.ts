// Runs kbuild (make -C BUILD_TREE M=DIR modules) and reports its failures readably.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildTree } from './buildtree.js';

export interface KbuildResult {
  ko: string;
  log: string;
  ms: number;
}

export class KbuildError extends Error {
  constructor(readonly log: string, message: string) {
    super(message);
    this.name = 'KbuildError';
  }
}

/** Builds the module `name` from the sources (and Kbuild/Makefile) already in `dir`. */
export async function kbuild(tree: BuildTree, dir: string, name: string, extraArgs: string[] = [], target = 'modules', signal?: AbortSignal): Promise<KbuildResult> {
  const t0 = Date.now();
  const args = ['-C', tree.dir, `M=${dir}`, '-j2', ...extraArgs, target];
  if (signal?.aborted) throw new KbuildError('', 'cancelled');
  // make in its own process group: a cancel stops make and every compiler it started.
  const child = spawn('make', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, detached: !!signal });
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  signal?.addEventListener('abort', kill, { once: true });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.stderr.on('data', (b: Buffer) => chunks.push(b));
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (c) => resolve(c ?? 1));
  });
  signal?.removeEventListener('abort', kill);
  if (signal?.aborted) throw new KbuildError('', 'cancelled');
  const log = Buffer.concat(chunks).toString('utf8');
  const ko = join(dir, target === 'modules' ? `${name}.ko` : target);
  if (code !== 0 || !existsSync(ko)) {
    const errors = log.split('\n').filter((l) => /error|Error/.test(l)).slice(0, 20).join('\n');
    throw new KbuildError(log, `kbuild failed for ${name} (make ${args.join(' ')}, exit ${code}):\n${errors || log.slice(-2000)}`);
  }
  return { ko, log, ms: Date.now() - t0 };
}
