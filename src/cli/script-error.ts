// What the command line reports about the script and its surroundings before any pass runs (no language code: loads fast).
import { accessSync, constants, statSync } from 'node:fs';

/** A problem with the script or its environment, reported as one `tapsh: ...` line. */
export class ScriptError extends Error {}

/** stap refuses to start when $TMPDIR is set but is not a directory it can write to; so does tapsh. */
export function checkTmpdir(): void {
  const dir = process.env['TMPDIR'];
  if (!dir) return;
  let problem: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) problem = 'Not a directory';
    else accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    problem = (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'Not a directory' : (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as NodeJS.ErrnoException).code ?? String(e);
  }
  if (problem) throw new ScriptError(`cannot create a temporary directory under TMPDIR=${dir}: ${problem}. Set TMPDIR to a writable directory, or unset it.`);
}

