// A small hand-made kernel model for pass-2 tests: a few functions, a module, two tracepoints.
import type { KernelFunction, KernelModel, Tracepoint, TracepointField } from '../../../src/remote/model.js';

const fn = (name: string, module = '', traceable = true): [string, KernelFunction] => [module ? `${module}:${name}` : name, { name, module, traceable }];
const field = (decl: string, name: string, offset: number, size: number, common = false): TracepointField => ({ decl, name, offset, size, signed: false, common });
const common = [field('unsigned short common_type', 'common_type', 0, 2, true), field('int common_pid', 'common_pid', 4, 4, true)];

const tracepoints: Tracepoint[] = [
  {
    system: 'sched', event: 'sched_switch', id: 300, printFmt: '',
    fields: [...common, field('char prev_comm[16]', 'prev_comm', 8, 16), field('pid_t prev_pid', 'prev_pid', 24, 4), field('char next_comm[16]', 'next_comm', 40, 16), field('pid_t next_pid', 'next_pid', 56, 4)],
  },
  {
    system: 'syscalls', event: 'sys_enter_openat', id: 600, printFmt: '',
    fields: [...common, field('int __syscall_nr', '__syscall_nr', 8, 4), field('const char * filename', 'filename', 24, 8), field('int flags', 'flags', 32, 8)],
  },
];

export const TEST_KERNEL: KernelModel = {
  identity: { release: '6.1.0-57-amd64', arch: 'x86_64', buildId: 'abc', version: 'Linux version 6.1.0-57-amd64', vermagic: '6.1.0-57-amd64 SMP preempt mod_unload modversions' },
  capturedAt: '2026-11-30T00:00:00Z',
  capturedFrom: 'test',
  functions: new Map([
    fn('vfs_read'), fn('vfs_write'), fn('vfs_readv'), fn('ksys_read'), fn('do_sys_openat2'), fn('schedule'),
    fn('tcp_sendmsg'), fn('tcp_recvmsg'), fn('tcp_v4_connect'), fn('__x64_sys_openat'), fn('kmalloc_hidden', '', false),
    fn('ext4_file_write_iter', 'ext4'), fn('ext4_file_read_iter', 'ext4'),
  ]),
  tracepoints: new Map(tracepoints.map((t) => [`${t.system}:${t.event}`, t])),
  btfPath: '',
  btfSize: 0,
};
