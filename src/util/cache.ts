// Where tapsh keeps its caches and state: $TAPSH_CACHE_DIR, else $XDG_CACHE_HOME/tapsh, else ~/.cache/tapsh.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheRoot(): string {
  const explicit = process.env['TAPSH_CACHE_DIR'];
  if (explicit) return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'tapsh');
}

/** A subdirectory of the cache, created (private to the user) if missing. */
export function cacheDir(...parts: string[]): string {
  const dir = join(cacheRoot(), ...parts);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
