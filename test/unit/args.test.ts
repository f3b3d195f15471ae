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
});
