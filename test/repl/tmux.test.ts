// The `stap>` session in a real terminal: tapsh -i under tmux, typed into key by key, against the lab VM (issue 5's scenario).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, missing, REPO, runTapsh, tempDir } from '../helpers/env.js';

const skip = missing(['tmux', 'qemu-system-x86_64', 'dropbearconvert', 'make'], 'the live session in a real terminal (tmux) on the lab VM');
const built = existsSync(join(REPO, 'dist/cli/main.js'));
const cache = tempDir('tapsh-tmux-cache-');
const home = tempDir('tapsh-tmux-home-');
const env = { ...process.env, TAPSH_CACHE_DIR: cache };
let SESSION = `tapsh-test-${process.pid}`;
const socket = join(home, 'tmux.sock');

/** tmux on its own socket; its server (and so tapsh) gets a plain login-like environment, not the test runner's. */
function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm-256color', LANG: 'C.UTF-8' } });
}

/** Everything the terminal showed, scrollback included, without trailing blank lines. */
function screen(): string {
  return tmux('capture-pane', '-p', '-J', '-t', SESSION, '-S', '-5000').replace(/\s+$/, '');
}

/** Waits until the UI reads keys (raw mode on): a key typed earlier would be line-buffered by the tty. */
async function untilReadsKeys(): Promise<void> {
  for (let ready = false, tries = 0; !ready; tries++) {
    if (tries === 60) throw new Error(`the prompt never echoed a key; the terminal shows:\n${screen()}`);
    tmux('send-keys', '-t', SESSION, '-l', '#');
    ready = await waitFor(/stap> #/, 1000).then(() => true, () => false);
    tmux('send-keys', '-t', SESSION, 'BSpace');
  }
  await waitFor(/stap>$/);
}

/** The input line as the UI shows it now (the last line starting with a prompt). */
function inputLine(): string {
  const lines = screen().split('\n').filter((l) => /^(stap>| {3}>)/.test(l));
  return (lines[lines.length - 1] ?? '').replace(/^(stap>| {3}>) ?/, '').trimEnd();
}

/**
 * Types a line as a person would: the characters, and Enter once the UI shows them (keys sent
 * together arrive as one chunk; waiting keeps Enter a key of its own). A line the UI never showed
 * is cleared with Ctrl-C and typed again.
 */
async function type(line: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    tmux('send-keys', '-t', SESSION, '-l', line);
    const end = Date.now() + 10_000;
    while (Date.now() < end && !inputLine().endsWith(line.trimEnd())) await new Promise((r) => setTimeout(r, 100));
    if (inputLine().endsWith(line.trimEnd())) break;
    if (attempt === 2) throw new Error(`the UI never showed the typed line ${JSON.stringify(line)}; the terminal shows:\n${screen()}`);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await new Promise((r) => setTimeout(r, 500));
  }
  tmux('send-keys', '-t', SESSION, 'Enter');
}

async function waitFor(re: RegExp, ms = 120_000, from = 0): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen();
    const m = re.exec(s.slice(from));
    if (m) return m[0];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the terminal never showed ${re}; it shows:\n${s.slice(-4000)}`);
}

/** The last "cnt=A r=B" line the timer printed after offset `from`. */
function lastCounts(from = 0): { cnt: number; r: number } | undefined {
  const all = [...screen().slice(from).matchAll(/cnt=(\d+) r=(\d+)/g)];
  const m = all[all.length - 1];
  return m ? { cnt: Number(m[1]), r: Number(m[2]) } : undefined;
}

describe.skipIf(skip || !built)('tapsh -i in tmux', () => {
  beforeAll(async () => {
    const r = await runTapsh(['lab', 'start'], { env });
    if (r.code !== 0) throw new Error(r.err);
  }, 300_000);
  afterAll(async () => {
    spawnSync('tmux', ['-S', socket, 'kill-server']);
    await runTapsh(['lab', 'stop'], { env });
  });

  it('adds probes sharing a global, deletes one, prints a histogram, saves, re-runs the file, and unloads on Ctrl-D', { timeout: 900_000 }, async () => {
    // A wrapper that keeps the exit status for the test; EDITOR is a non-interactive edit for `edit N`.
    const script = join(home, 'run.sh');
    writeFileSync(script, `#!/bin/sh\n"${process.execPath}" "${BIN}" -i\necho "tapsh exited with $?"\nsleep 600\n`, { mode: 0o755 });
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', SESSION, '-x', '160', '-y', '45',
      '-e', `TAPSH_CACHE_DIR=${cache}`, '-e', `HOME=${home}`, '-e', 'TERM=xterm-256color', '-e', `EDITOR=sed -i s/vfs_write/ksys_write/`, script);
    await waitFor(/stap>/, 420_000); // the first session on a fresh cache builds the core and learns the build recipe
    expect(screen()).toMatch(/lab VM/); // the status bar names the target
    await untilReadsKeys();

    await type('global cnt, r, lat');
    await waitFor(/\[1\] global cnt, r, lat/);
    await type('probe kernel.function("vfs_read") { cnt++; r++; lat <<< $count }');
    await waitFor(/\[2\] probe kernel\.function\("vfs_read"\)/);
    await type('probe timer.ms(500) { printf("cnt=%d r=%d\\n", cnt, r) }');
    await waitFor(/\[3\] probe timer\.ms\(500\)/);
    await waitFor(/\[3\] cnt=[1-9]\d* r=[1-9]\d*/); // the timer sees the kprobe's counts, tagged with its entry
    // A second probe sharing the global, typed over two lines (the prompt continues while the brace is open).
    await type('probe kernel.function("vfs_write") {');
    await waitFor(/^ {3}>/m);
    await type('cnt++ }');
    await waitFor(/\[4\] probe kernel\.function\("vfs_write"\)/);

    await type('delete 2');
    await waitFor(/Deleted entry 2; globals keep their values\./);
    const mark = screen().length;
    await waitFor(/cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+/, 60_000, mark);
    const first = lastCounts(mark)!;
    await waitFor(/cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+[\s\S]*cnt=\d+ r=\d+/, 60_000, mark);
    const later = lastCounts(mark)!;
    expect(later.r).toBe(first.r); // entry 2's hits stopped: r no longer moves
    expect(first.r).toBeGreaterThan(0); // and kept its value
    expect(later.cnt).toBeGreaterThan(first.cnt); // entry 4 still counts into the shared global

    await type('print(@hist_log(lat))');
    await waitFor(/value \|-{50} count/);
    await type('list');
    await waitFor(/\[4\] armed +hits=[1-9]\d* errors=0/);
    expect(screen()).not.toMatch(/\[2\] (armed|disabled)/);

    // edit 4 through $EDITOR: the entry keeps its number, its probe point changes.
    await type('edit 4');
    await waitFor(/\[4\] replaced/);
    await type('list');
    await waitFor(/\[4\] armed .*ksys_write/);

    // Tab completes probe points: kernel functions from the model, tapset aliases from the library.
    tmux('send-keys', '-t', SESSION, '-l', 'probe kernel.function("vfs_wri');
    await waitFor(/stap> probe kernel\.function\("vfs_wri/);
    tmux('send-keys', '-t', SESSION, 'Tab');
    await waitFor(/stap> probe kernel\.function\("vfs_write/);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await waitFor(/stap>$/);
    tmux('send-keys', '-t', SESSION, '-l', 'probe scheduler.cpu_o');
    await waitFor(/stap> probe scheduler\.cpu_o/);
    tmux('send-keys', '-t', SESSION, 'Tab');
    await waitFor(/scheduler\.cpu_off {2}scheduler\.cpu_on/);
    tmux('send-keys', '-t', SESSION, 'C-c');
    await waitFor(/stap>$/);

    // Output tags are coloured in a terminal; `set colour 0` turns that off for new lines.
    const escaped = () => tmux('capture-pane', '-p', '-e', '-J', '-t', SESSION, '-S', '-5000');
    expect(escaped()).toMatch(/\u001b\[[0-9;]*m\[3\] (\u001b\[[0-9;]*m)?cnt=/);
    await type('set colour 0');
    await waitFor(/colour = 0/);
    await waitFor(/colour = 0[\s\S]*\[3\] cnt=\d+ r=\d+\n[\s\S]*\[3\] cnt=/);
    const after = escaped().split('colour = 0').pop()!;
    expect(after).toMatch(/(^|\n)\[3\] cnt=\d+/); // a tag without an escape sequence before it
    expect(after).not.toMatch(/\u001b\[[0-9;]*m\[3\] /);

    const saved = join(home, 'session.stp');
    await type(`save ${saved}`);
    await waitFor(/Saved the session to /);

    // Ctrl-D quits: end probes, drain, unload.
    tmux('send-keys', '-t', SESSION, 'C-d');
    await waitFor(/tapsh exited with 0/, 120_000);

    const text = readFileSync(saved, 'utf8');
    expect(text).toContain('global cnt, r, lat');
    expect(text).toContain('probe kernel.function("ksys_write") {\ncnt++ }');
    expect(text).not.toContain('vfs_read'); // the deleted entry is not saved
    // The saved session runs as a script to the same effect.
    const rerun = await runTapsh(['-T', '3', saved], { env });
    expect(rerun.code, rerun.err).toBe(0);
    expect(rerun.out.toString()).toMatch(/cnt=[1-9]\d* r=0\n/);

    const lsmod = await runTapsh(['lab', 'ssh', 'lsmod'], { env });
    expect(lsmod.out.toString()).not.toMatch(/^(tapsh_|stap_)/m);

    // Losing the terminal (the tmux session killed: SIGHUP) unloads everything too.
    SESSION = `${SESSION}-hup`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', SESSION, '-x', '160', '-y', '45',
      '-e', `TAPSH_CACHE_DIR=${cache}`, '-e', `HOME=${home}`, '-e', 'TERM=xterm-256color', `"${process.execPath}" "${BIN}" -i`);
    await waitFor(/stap>/, 240_000);
    await untilReadsKeys();
    await type('probe kernel.function("vfs_read") { hup++ }');
    await waitFor(/\[1\] probe kernel\.function\("vfs_read"\)/);
    const loaded = await runTapsh(['lab', 'ssh', 'lsmod'], { env });
    expect(loaded.out.toString()).toMatch(/^tapsh_core /m);
    spawnSync('tmux', ['-S', socket, 'kill-session', '-t', SESSION]);
    let left = '';
    for (const end = Date.now() + 90_000; Date.now() < end; ) {
      left = (await runTapsh(['lab', 'ssh', 'lsmod'], { env })).out.toString();
      if (!/^(tapsh_|stap_)/m.test(left)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(left).not.toMatch(/^(tapsh_|stap_)/m);
  });
});
