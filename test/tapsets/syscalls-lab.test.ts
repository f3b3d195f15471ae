// syscall.* aliases on the real kernel in the lab VM: a workload whose system calls we know, and the
// names, arguments and return values the probes report for it. On by default (npm test);
// TAPSH_TAPSET_LAB=0 skips it while iterating on something else.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/tapsets.js';

const enabled = process.env.TAPSH_TAPSET_LAB !== '0';
const execFileAsync = promisify(execFile);

async function tapsh(args: string[]): Promise<string[]> {
  const { stdout } = await execFileAsync(process.execPath, [join(REPO, 'bin/tapsh.js'), ...args], { encoding: 'utf8', timeout: 280_000 });
  return stdout.split('\n').filter((l) => l !== '');
}

describe.skipIf(!enabled)('syscall aliases in the lab VM', () => {
  it('openat/read/close and their returns report what wc did', async () => {
    // busybox wc opens /proc/version (fd 3), reads it until EOF, closes it; then fails to open a missing file.
    const lines = await tapsh([
      '-c', 'wc -c /proc/version /no/such/file',
      '-e', `
      probe syscall.openat { if (pid() == target()) printf("E %s [%s] %s %d %s\\n", name, argstr, filename, dfd, flags_str) }
      probe syscall.openat.return { if (pid() == target()) printf("R %s %s %d %s\\n", name, retstr, retval, filename) }
      probe syscall.read { if (pid() == target() && fd == 3) printf("E %s %d %d %d\\n", name, fd, count, buf_uaddr != 0) }
      probe syscall.read.return { if (pid() == target() && fd == 3) printf("R %s %d %s\\n", name, retval > 0, retstr) }
      probe syscall.close { if (pid() == target() && fd == 3) printf("E %s [%s]\\n", name, argstr) }
      probe nd_syscall.close.return { if (pid() == target() && fd == 3) printf("R %s %s\\n", name, retstr) }`,
    ]);
    const opens = lines.filter((l) => / openat /.test(l) && /version|no\/such/.test(l));
    expect(opens).toEqual([
      'E openat [AT_FDCWD, "/proc/version", O_RDONLY] "/proc/version" -100 O_RDONLY',
      'R openat 3 3 "/proc/version"',
      'E openat [AT_FDCWD, "/no/such/file", O_RDONLY] "/no/such/file" -100 O_RDONLY',
      'R openat -2 (ENOENT) -2 "/no/such/file"',
    ]);
    const reads = lines.filter((l) => / read /.test(l));
    // at least one read with data and the final one at end of file, each entry followed by its return
    expect(reads.length).toBeGreaterThanOrEqual(4);
    expect(reads[0]).toMatch(/^E read 3 \d+ 1$/);
    expect(reads[1]).toBe('R read 1 ' + reads[1]!.split(' ')[3]);
    expect(reads.slice(-2)).toEqual([expect.stringMatching(/^E read 3 \d+ 1$/), 'R read 0 0']);
    expect(lines.filter((l) => / close /.test(l))).toEqual(['E close [3]', 'R close 0']);
  }, 300_000);
});

describe.skipIf(!enabled)('other library functions in the lab VM', () => {
  it('argv/argc, pstrace, inode_path, symfileline and usymfileline', async () => {
    const lines = await tapsh([
      '-c', 'sleep 0.3; wc -c /etc/passwd',
      '-e', `
      probe begin { printf("%d [%s] [%s]\\n", argc, argv[1], argv[2]); println("[", pstrace(pid2task(1)), "]")
        println(symfileline(0xffffffff81000000), " ", usymfileline(0x7f0000001000), " ", symfile(0x10), symline(0x11), usymfile(0x12), usymline(0x13)) }
      probe kprobe.function("vfs_read") {
        if (execname() == "wc" && (pid() == target() || ppid() == target())) { f = pointer_arg(1); println(inode_path(@cast(f, "struct file")->f_inode), pstrace(task_current())); exit() }
      }`,
      'one', 'two three',
    ]);
    expect(lines.slice(0, 3)).toEqual(['2 [one] [two three]', '[]', '0xffffffff81000000 0x7f0000001000 0x100x110x120x13']);
    // the -c command's wc (busybox cat would use sendfile): " wc(PID) ..." up to (not including) init
    expect(lines.find((l) => l.startsWith('/etc/passwd'))).toMatch(/^\/etc\/passwd wc\(\d+\)( \S+\(\d+\))+$/);
  }, 300_000);
});
