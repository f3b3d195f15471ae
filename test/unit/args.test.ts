// stap-compatible command-line parsing.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.js';

describe('parseArgs', () => {
  it('takes the first positional as the script file and the rest as its arguments', () => {
    const o = parseArgs(['-v', 'x.stp', 'a', 'b']);
    expect(o.scriptFile).toBe('x.stp');
    expect(o.scriptArgs).toEqual(['a', 'b']);
    expect(o.verbose).toBe(1);
  });

  it('treats every positional as an argument when -e gives the script', () => {
    const o = parseArgs(['-e', 'probe begin { exit() }', 'x.stp', '42']);
    expect(o.script).toBe('probe begin { exit() }');
    expect(o.scriptFile).toBeUndefined();
    expect(o.scriptArgs).toEqual(['x.stp', '42']);
  });

  it('clusters flags like getopt (-gp1, -vvv, -p4) and accepts attached values', () => {
    const o = parseArgs(['-gwp1', '-vvv', '-Ifoo', '-D', 'MAXACTION=100', '-DSTP_NO_OVERLOAD', 'f.stp']);
    expect(o.guru && o.suppressWarnings).toBe(true);
    expect(o.lastPass).toBe(1);
    expect(o.verbose).toBe(3);
    expect(o.includeDirs).toEqual(['foo']);
    expect(o.defines).toEqual(['MAXACTION=100', 'STP_NO_OVERLOAD']);
  });

  it('permutes options after the script like GNU getopt, and stops at --', () => {
    const o = parseArgs(['f.stp', '-p2', '--', '-x', '-v']);
    expect(o.lastPass).toBe(2);
    expect(o.scriptArgs).toEqual(['-x', '-v']);
  });

  it('parses long options with = or a separate value, and unique prefixes', () => {
    const o = parseArgs(['--remote=ssh://a@h:2222', '--remote', 'b@h2', '--remote-prefix', '--compat=1.0', '--vers']);
    expect(o.remotes).toEqual(['ssh://a@h:2222', 'b@h2']);
    expect(o.remotePrefix).toBe(true);
    expect(o.compatible).toBe('1.0');
    expect(o.version).toBe(true);
  });

  it('rejects what stap rejects with getopt-style messages', () => {
    expect(() => parseArgs(['-z'])).toThrow(new UsageError("invalid option -- 'z'"));
    expect(() => parseArgs(['-p'])).toThrow(/requires an argument -- 'p'/);
    expect(() => parseArgs(['-p7'])).toThrow(/Invalid pass number '7'/);
    expect(() => parseArgs(['-x', 'abc'])).toThrow(/Invalid process id/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unrecognized option '--bogus'/);
    expect(() => parseArgs(['--re=x'])).toThrow(/ambiguous/);
    expect(() => parseArgs(['-T', '-3'])).toThrow(/Invalid timeout/);
    expect(() => parseArgs(['-m', 'bad-name'])).toThrow(/Invalid module name/);
    expect(() => parseArgs(['-e', 'a', '-e', 'b'])).toThrow(/Only one script/);
  });

  it('takes --prologue-searching with or without a WHEN, and checks it', () => {
    for (const a of ['--prologue-searching', '--prologue-searching=always', '--prologue-searching=never', '--prologue-searching=auto']) {
      expect(parseArgs(['-p1', a, '-e', 'probe never {}']).ignored).toEqual(['prologue-searching']);
    }
    expect(() => parseArgs(['--prologue-searching=sometimes'])).toThrow(/Invalid argument 'sometimes' for --prologue-searching/);
  });

  it('checks the values of options it otherwise ignores, as stap does (-s 1-4095)', () => {
    expect(parseArgs(['-s', '64', '-e', 'x']).ignored).toEqual(['s']);
    expect(() => parseArgs(['-s', '0', '-e', 'x'])).toThrow(/Invalid buffer size \(should be 1-4095\)/);
    expect(() => parseArgs(['-s4096', '-e', 'x'])).toThrow(/Invalid buffer size/);
  });

  it('--suppress-time-limits lifts the runtime limits unless -D sets them', () => {
    expect(parseArgs(['--suppress-time-limits', '-e', 'x']).defines).toEqual(['STP_NO_OVERLOAD', 'MAXACTION=100000000', 'MAXACTION_INTERRUPTIBLE=1000000000', 'MAXTRYLOCK=1000']);
    expect(parseArgs(['--suppress-time-limits', '-DMAXACTION=5', '-e', 'x']).defines).toEqual(['MAXACTION=5', 'STP_NO_OVERLOAD', 'MAXACTION_INTERRUPTIBLE=1000000000', 'MAXTRYLOCK=1000']);
  });

  it('--example marks the script file as an example name; -d, --ldd and --all-modules are accepted', () => {
    const o = parseArgs(['-p4', '--example', 'helloworld.stp']);
    expect(o.example).toBe(true);
    expect(o.scriptFile).toBe('helloworld.stp');
    expect(parseArgs(['-d', '/bin/ls', '--ldd', '--all-modules', 'f.stp']).ignored).toEqual(['d', 'ldd', 'all-modules']);
  });
});
