// syscall.NAME / nd_syscall.NAME probe aliases, derived from the kernel model's syscall tracepoints
// (tapsets/README.md, "syscall aliases"). Each alias is generated as tapset source in a virtual file
// that the library indexes like any other, so pass 2 treats them as ordinary aliases.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../util/cache.js';
import type { KernelModel, Tracepoint, TracepointField } from '../remote/model.js';
import { fnmatch } from './preprocess.js';

/** Where generated syscall tapsets appear in diagnostics and -p2 output. */
export const SYSCALL_TAPSET_PREFIX = '<syscalls>/';

export interface VirtualTapset {
  readonly path: string;
  readonly text: string;
  readonly functions: readonly string[];
  readonly globals: readonly string[];
  readonly aliasHeads: readonly string[];
}

/**
 * stap's names for system calls whose tracepoint is named differently on x86_64 (kernel facts:
 * the tracepoint carries the kernel's sys_* name). A name with two tracepoints covers both.
 */
const STAP_NAMES: Readonly<Record<string, readonly string[]>> = {
  pread: ['pread64'], pwrite: ['pwrite64'], stat: ['newstat'], lstat: ['newlstat'], fstat: ['newfstat'],
  fstatat: ['newfstatat'], uname: ['newuname'], mmap2: ['mmap'], sendfile: ['sendfile64'],
  pipe: ['pipe', 'pipe2'], eventfd: ['eventfd', 'eventfd2'], epoll_create: ['epoll_create', 'epoll_create1'],
  inotify_init: ['inotify_init', 'inotify_init1'], signalfd: ['signalfd', 'signalfd4'], getdents: ['getdents', 'getdents64'],
};

/** How a tracepoint field (all are 8 bytes wide in syscall events) is read: width and signedness of its C type. */
type FieldKind = 'string' | 'pointer' | 's32' | 'u32' | 'u16' | 's64' | 'u64';

export function fieldKind(f: TracepointField): FieldKind {
  const type = f.decl.replace(new RegExp(`\\b${f.name}\\s*$`), '').replace(/\bconst\b/g, '').replace(/\s+/g, ' ').trim();
  if (/^char \*$/.test(type) && /const/.test(f.decl)) return 'string';
  if (type.includes('*') || /^cap_user_(header|data)_t$/.test(type)) return 'pointer';
  if (/^(int|pid_t|__s32|key_t|mqd_t|timer_t|clockid_t|key_serial_t|rwf_t|enum .*)$/.test(type)) return 's32';
  if (/^(unsigned int|unsigned|u32|__u32|uid_t|gid_t|qid_t)$/.test(type)) return 'u32';
  if (type === 'umode_t') return 'u16';
  if (/^(long|loff_t|off_t|__s64|long long)$/.test(type)) return 's64';
  return 'u64';
}

/** The script expression for a field's value, given how the raw 64-bit value is reached (`$fd`, or a saved copy). */
function fieldValue(kind: FieldKind, raw: string): string {
  switch (kind) {
    case 's32': return `__int32(${raw})`;
    case 'u32': return `__uint32(${raw})`;
    case 'u16': return `__ushort(${raw})`;
    default: return raw;
  }
}

/**
 * Decoders for `X_str` variables: by variable name, optionally per system call (`name:var`). The
 * argument is the script expression of X. Functions come from aux_syscalls.stp and friends.
 */
const DECODERS: Readonly<Record<string, (x: string, v: (name: string) => string | undefined) => string>> = {
  dfd_str: (x) => `_dfd_str(${x})`,
  dirfd_str: (x) => `_dfd_str(${x})`,
  newdfd_str: (x) => `_dfd_str(${x})`,
  olddfd_str: (x) => `_dfd_str(${x})`,
  sig_str: (x) => `_signal_name(${x})`,
  timeout_str: (x) => `_struct_timespec_u(${x}, 1)`,
  tsp_str: (x) => `_struct_timespec_u(${x}, 1)`,
  req_str: (x) => `_struct_timespec_u(${x}, 1)`,
  tz_str: (x) => `_struct_timezone_u(${x})`,
  act_str: (x) => `_struct_sigaction_u(${x})`,
  set_str: (x) => `_stp_sigset_u(${x})`,
  sched_attr_str: (x) => `_struct_sched_attr_u(${x})`,
  rlim_str: (x) => `_struct_rlimit_u(${x})`,
  new_rlim_str: (x) => `_struct_rlimit_u(${x})`,
  old_rlim_str: (x) => `_struct_rlimit_u(${x})`,
  siginfo_str: (x) => `_stp_siginfo_u(${x})`,
  info_str: (x) => `_stp_siginfo_u(${x})`,
  uinfo_str: (x) => `_stp_siginfo_u(${x})`,
  uss_str: (x) => `_stp_sigaltstack_u(${x})`,
  uoss_str: (x) => `_stp_sigaltstack_u(${x})`,
  tv_str: (x) => `_struct_timeval_u(${x}, 1)`,
  tms_str: (x) => `_struct_tms_u(${x})`,
  clk_id_str: (x) => `_get_wc_str(${x})`,
  clockid_str: (x) => `_get_wc_str(${x})`,
  which_clock_str: (x) => `_get_wc_str(${x})`,
  'open:flags_str': (x) => `_sys_open_flag_str(${x})`,
  'openat:flags_str': (x) => `_sys_open_flag_str(${x})`,
  'open_by_handle_at:flags_str': (x) => `_sys_open_flag_str(${x})`,
  'mmap2:flags_str': (x) => `_mmap_flags(${x})`,
  'pipe:flags_str': (x) => `_sys_pipe2_flag_str(${x})`,
  'dup3:flags_str': (x) => `_dup3_flag_str(${x})`,
  'accept4:flags_str': (x) => `_sock_flags_str(${x})`,
  'eventfd:flags_str': (x) => `_eventfd2_flag_str(${x})`,
  'epoll_create:flags_str': (x) => `_epoll_create1_flag_str(${x})`,
  'inotify_init:flags_str': (x) => `_inotify_init1_flag_str(${x})`,
  'signalfd:flags_str': (x) => `_signalfd4_flags_str(${x})`,
  'renameat2:flags_str': (x) => `_renameat2_flags_str(${x})`,
  'getrandom:flags_str': (x) => `_getrandom_flags_str(${x})`,
  'memfd_create:flags_str': (x) => `_mfd_flags_str(${x})`,
  'msync:flags_str': (x) => `_msync_flag_str(${x})`,
  'mremap:flags_str': (x) => `_mremap_flags(${x})`,
  'mlockall:flags_str': (x) => `_mlockall_flags_str(${x})`,
  'mlock2:flags_str': (x) => `_stp_mlock2_str(${x})`,
  'timerfd_create:flags_str': (x) => `_stp_timerfd_flags_str(${x})`,
  'timerfd_settime:flags_str': (x) => `_stp_timerfd_flags_str(${x})`,
  'sync_file_range:flags_str': (x) => `_sync_file_range_flags_str(${x})`,
  'splice:flags_str': (x) => `_stp_splice_flags_str(${x})`,
  'tee:flags_str': (x) => `_stp_splice_flags_str(${x})`,
  'vmsplice:flags_str': (x) => `_stp_splice_flags_str(${x})`,
  'swapon:flags_str': (x) => `_swapon_flags_str(${x})`,
  'userfaultfd:flags_str': (x) => `_userfaultfd_flags_str(${x})`,
  'seccomp:flags_str': (x) => `_seccomp_flags_str(${x})`,
  'fanotify_init:flags_str': (x) => `_fanotify_init_flags_str(${x})`,
  'fanotify_mark:flags_str': (x) => `_fanotify_mark_flags_str(${x})`,
  'finit_module:flags_str': (x) => `_finit_module_flags_str(${x})`,
  'delete_module:flags_str': (x) => `_module_flags_str(${x})`,
  'perf_event_open:flags_str': (x) => `_perf_event_open_flags_str(${x})`,
  'kexec_file_load:flags_str': (x) => `_kexec_file_load_flags_str(${x})`,
  'kexec_load:flags_str': (x) => `_kexec_flags_str(${x})`,
  'clock_nanosleep:flags_str': (x) => `_stp_clock_nanosleep_flags_str(${x})`,
  'clock_nanosleep:flag_str': (x) => `_stp_clock_nanosleep_flags_str(${x})`,
  'preadv2:flags_str': (x) => `_preadv2_flags_str(${x})`,
  'pwritev2:flags_str': (x) => `_preadv2_flags_str(${x})`,
  'send:flags_str': (x) => `_sendflags_str(${x})`,
  'sendto:flags_str': (x) => `_sendflags_str(${x})`,
  'sendmsg:flags_str': (x) => `_sendflags_str(${x})`,
  'sendmmsg:flags_str': (x) => `_sendflags_str(${x})`,
  'recv:flags_str': (x) => `_recvflags_str(${x})`,
  'recvfrom:flags_str': (x) => `_recvflags_str(${x})`,
  'recvmsg:flags_str': (x) => `_recvflags_str(${x})`,
  'recvmmsg:flags_str': (x) => `_recvflags_str(${x})`,
  'unlinkat:flags_str': (x) => `_at_flag_str(${x})`,
  'fchownat:flags_str': (x) => `_at_flag_str(${x})`,
  'fchmodat:flags_str': (x) => `_at_flag_str(${x})`,
  'fstatat:flags_str': (x) => `_at_flag_str(${x})`,
  'linkat:flags_str': (x) => `_at_flag_str(${x})`,
  'utimensat:flags_str': (x) => `_at_flag_str(${x})`,
  'statx:flags_str': (x) => `_at_flag_str(${x})`,
  'faccessat2:flags_str': (x) => `_faccessat2_flags_str(${x})`,
  'setxattr:flags_str': (x) => `_stp_xattr_flags_str(${x})`,
  'lsetxattr:flags_str': (x) => `_stp_xattr_flags_str(${x})`,
  'fsetxattr:flags_str': (x) => `_stp_xattr_flags_str(${x})`,
  'shmat:shmflg_str': (x) => `_shmat_flags_str(${x})`,
  'shmget:shmflg_str': (x) => `_stp_shmget_flags_str(${x})`,
  'semget:semflg_str': (x) => `__sem_flags(${x})`,
  'msgget:msgflg_str': (x) => `_stp_msgflg_str(${x})`,
  'msgsnd:msgflg_str': (x) => `_stp_msgflg_str(${x})`,
  'msgrcv:msgflg_str': (x) => `_stp_msgflg_str(${x})`,
  'mount:mountflags_str': (x) => `_mountflags_str(${x})`,
  'umount:flags_str': (x) => `_umountflags_str(${x})`,
  'umount2:flags_str': (x) => `_umountflags_str(${x})`,
  prot_str: (x) => `_mprotect_prot_str(${x})`,
  'access:mode_str': (x) => `_access_mode_str(${x})`,
  'faccessat:mode_str': (x) => `_access_mode_str(${x})`,
  'faccessat2:mode_str': (x) => `_access_mode_str(${x})`,
  'mknod:mode_str': (x) => `_mknod_mode_str(${x})`,
  'mknodat:mode_str': (x) => `_mknod_mode_str(${x})`,
  'fallocate:mode_str': (x) => `_stp_fallocate_mode_str(${x})`,
  'get_mempolicy:flags_str': (x) => `_mempolicy_flags_str(${x})`,
  'set_mempolicy:mode_str': (x) => `_mempolicy_mode_str(${x})`,
  'mbind:mode_str': (x) => `_mempolicy_mode_str(${x})`,
  options_str: (x) => `_wait4_opt_str(${x})`,
  'waitid:options_str': (x) => `_waitid_opt_str(${x})`,
  'waitid:which_str': (x) => `_waitid_which_str(${x})`,
  op_str: (x) => `_futex_op_str(${x})`,
  'epoll_ctl:op_str': (x) => `_opoll_op_str(${x})`,
  'seccomp:op_str': (x) => `_seccomp_op_str(${x})`,
  'fcntl:cmd_str': (x) => `_fcntl_cmd_str(${x})`,
  'flock:operation_str': (x) => `_flock_cmd_str(${x})`,
  'bpf:cmd_str': (x) => `_bpf_cmd_str(${x})`,
  'membarrier:cmd_str': (x) => `_membarrier_cmd_str(${x})`,
  'semctl:cmd_str': (x) => `_semctl_cmd(${x})`,
  'msgctl:cmd_str': (x) => `_stp_msgctl_cmd_str(${x})`,
  'keyctl:option_str': (x) => `_stp_keyctl_cmd_str(${x})`,
  'quotactl:cmd_str': (x) => `_quotactl_cmd_str(${x})`,
  'arch_prctl:code_str': (x) => `_stp_arch_prctl_func_str(${x})`,
  how_str: (x) => `_sigprocmask_how_str(${x})`,
  'shutdown:how_str': (x) => `_shutdown_how_str(${x})`,
  whence_str: (x) => `_seek_whence_str(${x})`,
  resource_str: (x) => `_rlimit_resource_str(${x})`,
  'getrusage:who_str': (x) => `_rusage_who_str(${x})`,
  'ioprio_get:which_str': (x) => `_stp_ioprio_which_str(${x})`,
  'ioprio_set:which_str': (x) => `_stp_ioprio_which_str(${x})`,
  'getpriority:which_str': (x) => `_priority_which_str(${x})`,
  'setpriority:which_str': (x) => `_priority_which_str(${x})`,
  'getitimer:which_str': (x) => `_itimer_which_str(${x})`,
  'setitimer:which_str': (x) => `_itimer_which_str(${x})`,
  policy_str: (x) => `_sched_policy_str(${x})`,
  'madvise:advice_str': (x) => `_madvice_advice_str(${x})`,
  'fadvise64:advice_str': (x) => `_fadvice_advice_str(${x})`,
  'kcmp:type_str': (x) => `_kcmp_type_str(${x})`,
  'statx:mask_str': (x) => `_statx_mask_str(${x})`,
  'inotify_add_watch:mask_str': (x) => `_inotify_watch_mask_str(${x})`,
  'fanotify_mark:mask_str': (x) => `_fanotify_mark_mask_str(${x})`,
  'ptrace:request_str': (x) => `__ptrace_request_str(${x})`,
  'prctl:option_str': (x) => `__prctl_option_str(${x})`,
  'reboot:magic_str': (x) => `_reboot_magic_str(${x})`,
  'reboot:flag_str': (x) => `_reboot_flag_str(${x})`,
  'pkey_alloc:init_val_str': (x) => `_pkey_alloc_init_val_str(${x})`,
  'socket:family_str': (x) => `_sock_family_str(${x})`,
  'socket:type_str': (x) => `_sock_type_str(${x})`,
  'socketpair:family_str': (x) => `_sock_family_str(${x})`,
  'socketpair:type_str': (x) => `_sock_type_str(${x})`,
  'socket:protocol_str': (x, v) => `_sock_protocol_str(${v('family') ?? 0}, ${x})`,
  'socketpair:protocol_str': (x, v) => `_sock_protocol_str(${v('family') ?? 0}, ${x})`,
  'setsockopt:level_str': (x) => `_sockopt_level_str(${x})`,
  'getsockopt:level_str': (x) => `_sockopt_level_str(${x})`,
  'setsockopt:optname_str': (x) => `_sockopt_optname_str(${x})`,
  'getsockopt:optname_str': (x) => `_sockopt_optname_str(${x})`,
};

/** uaddr_af, uaddr_ip, ... of a sockaddr argument (bind, connect). */
function sockaddrVars(addr: string): Readonly<Record<string, (v: (name: string) => string | undefined) => string>> {
  const part = (fn: string) => (v: (name: string) => string | undefined): string => `${fn}(${v(addr)}, ${v('addrlen')})`;
  return {
    uaddr_af: part('_struct_sockaddr_u_sa_family'),
    uaddr_ip: part('_struct_sockaddr_u_ip_addr'),
    uaddr_ip_port: part('_struct_sockaddr_u_tcp_port'),
    uaddr_ipv6_flowinfo: part('_struct_sockaddr_u_ipv6_flowinfo'),
    uaddr_ipv6_scope_id: part('_struct_sockaddr_u_ipv6_scope_id'),
  };
}

/**
 * Variables that are not `X`, `X_uaddr`, `X_str` or `X_unquoted` of a field: how to compute them from
 * the other variables (`v(name)` is the expression of variable `name`). Per system call.
 */
const COMPUTED: Readonly<Record<string, Readonly<Record<string, (v: (name: string) => string | undefined) => string>>>> = {
  kill: { sig_name: (v) => `_signal_name(${v('sig')})` },
  mq_open: { filename: (v) => `user_string_quoted(${v('name_uaddr')})`, filename_unquoted: (v) => `user_string(${v('name_uaddr')}, "")` },
  pivot_root: { old_root_str: (v) => `user_string_quoted(${v('__put_old')})`, old_root_str_unquoted: (v) => `user_string(${v('__put_old')}, "")` },
  rt_sigqueueinfo: { siginfo_str: (v) => `_stp_siginfo_u(${v('uinfo_uaddr')})` },
  semctl: { cmdstr: (v) => `_semctl_cmd(${v('cmd')})` },
  tkill: { sig_str: (v) => `_signal_name(${v('sig')})` },
  tgkill: { sig_str: (v) => `_signal_name(${v('sig')})` },
  nanosleep: { req_str: (v) => `_struct_timespec_u(${v('req_uaddr')}, 1)` },
  clock_nanosleep: { req_str: (v) => `_struct_timespec_u(${v('req_uaddr')}, 1)` },
  write: { buf_str: (v) => `user_buffer_quoted(${v('buf_uaddr')}, ${v('count')}, 50)` },
  execve: { args: (v) => `__get_argv(${v('__argv')}, 0)`, env_str: (v) => `__get_argv(${v('__envp')}, 0)` },
  execveat: { args: (v) => `__get_argv(${v('__argv')}, 0)`, env_str: (v) => `__get_argv(${v('__envp')}, 0)` },
  compat_execve: { args: (v) => `__get_compat_argv(${v('__argv')}, 0)`, env_str: (v) => `__get_compat_argv(${v('__envp')}, 0)` },
  compat_execveat: { args: (v) => `__get_compat_argv(${v('__argv')}, 0)`, env_str: (v) => `__get_compat_argv(${v('__envp')}, 0)` },
  adjtimex: { buf_str: (v) => `_struct_timex_u(${v('buf_uaddr')})` },
  io_getevents: { timestr: (v) => `_struct_timespec_u(${v('timeout_uaddr')}, 1)` },
  futimesat: { tvp_str: (v) => `_struct_timeval_u(${v('tvp_uaddr')}, 2)` },
  utimes: { tvp_uaddr_str: (v) => `_struct_timeval_u(${v('tvp_uaddr')}, 2)` },
  setxattr: { value_str: (v) => `_stp_xattr_val_str(${v('value_uaddr')}, ${v('size')})` },
  lsetxattr: { value_str: (v) => `_stp_xattr_val_str(${v('value_uaddr')}, ${v('size')})` },
  fsetxattr: { value_str: (v) => `_stp_xattr_val_str(${v('value_uaddr')}, ${v('size')})` },
  bind: sockaddrVars('my_addr_uaddr'),
  connect: sockaddrVars('serv_addr_uaddr'),
};

/** argstr, where stap's layout is not the plain "each argument in order": printf format and variables. */
const ARGSTR: Readonly<Record<string, (v: (name: string) => string | undefined) => string>> = {
  open: (v) => `(${v('flags')} & 64) ? sprintf("%s, %s, %#o", ${v('filename')}, ${v('flags_str')}, ${v('mode')}) : sprintf("%s, %s", ${v('filename')}, ${v('flags_str')})`,
  openat: (v) => `(${v('flags')} & 64) ? sprintf("%s, %s, %s, %#o", ${v('dfd_str')}, ${v('filename')}, ${v('flags_str')}, ${v('mode')}) : sprintf("%s, %s, %s", ${v('dfd_str')}, ${v('filename')}, ${v('flags_str')})`,
  read: (v) => `sprintf("%d, %p, %u", ${v('fd')}, ${v('buf_uaddr')}, ${v('count')})`,
  write: (v) => `sprintf("%d, %s, %u", ${v('fd')}, ${v('buf_str')}, ${v('count')})`,
  execve: (v) => `sprintf("%s, %s, %s", ${v('filename')}, ${v('args')}, ${v('env_str')})`,
  compat_execve: (v) => `sprintf("%s, %s, %s", ${v('filename')}, ${v('args')}, ${v('env_str')})`,
  // the exit signal in the low byte reads as a signal name ("...|SIGCHLD")
  clone: (v) => `sprintf("%s, %p, %p, %p", ${v('clone_flags')} & 0xff ? sprintf("%s|%s", __fork_flags(${v('clone_flags')} & ~0xff), _signal_name(${v('clone_flags')} & 0xff)) : __fork_flags(${v('clone_flags')}), ${v('stack_start')}, ${v('parent_tid_uaddr')}, ${v('child_tid_uaddr')})`,
  mprotect: (v) => `sprintf("%p, %d, %s", ${v('addr')}, ${v('len')}, ${v('prot_str')})`,
  munmap: (v) => `sprintf("%p, %u", ${v('start')}, ${v('length')})`,
  brk: (v) => `sprintf("%p", ${v('brk')})`,
  prctl: (v) => `_prctl_argstr(${v('option')}, ${v('arg2')}, ${v('arg3')}, ${v('arg4')}, ${v('arg5')})`,
  fcntl: (v) => `sprintf("%d, %s, 0x%x", ${v('fd')}, ${v('cmd_str')}, ${v('arg')})`,
  mmap2: (v) => `sprintf("%p, %u, %s, %s, %d, %d", ${v('start')}, ${v('length')}, ${v('prot_str')}, ${v('flags_str')}, ${v('fd')}, ${v('pgoffset')})`,
  kill: (v) => `sprintf("%d, %s", ${v('pid')}, ${v('sig_name')})`,
  nanosleep: (v) => `sprintf("%s, %p", ${v('req_str')}, ${v('rem_uaddr')})`,
  connect: (v) => `sprintf("%d, %s, %u", ${v('sockfd')}, _struct_sockaddr_u(${v('serv_addr_uaddr')}, ${v('addrlen')}), ${v('addrlen')})`,
};

interface SyscallShape {
  /** stap's name (the alias name and `name`). */
  readonly name: string;
  readonly enter: Tracepoint;
  readonly exit: Tracepoint | undefined;
}

/** The stap 4.8 variable lists (tapsets/syscall-vars-stap48.tsv), by syscall name. */
function stapVariables(tapsetDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let text = '';
  try {
    text = readFileSync(join(tapsetDir, 'syscall-vars-stap48.tsv'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, vars] = line.split('\t');
    if (name) out.set(name, (vars ?? '').split(',').filter(Boolean));
  }
  return out;
}

/** The syscalls the model has, under stap's names where they differ, each with its tracepoints. */
export function syscallShapes(model: KernelModel): SyscallShape[] {
  const byTp = new Map<string, string>();
  for (const [stap, tps] of Object.entries(STAP_NAMES)) for (const tp of tps) byTp.set(tp, stap);
  const out: SyscallShape[] = [];
  for (const tp of model.tracepoints.values()) {
    if (tp.system !== 'syscalls' || !tp.event.startsWith('sys_enter_')) continue;
    const kname = tp.event.slice('sys_enter_'.length);
    out.push({ name: byTp.get(kname) ?? kname, enter: tp, exit: model.tracepoints.get(`syscalls:sys_exit_${kname}`) });
  }
  return out.sort((a, b) => (a.name + ':' + a.enter.event < b.name + ':' + b.enter.event ? -1 : 1));
}

/** System calls stap names that the kernel has no function for any more, by x86_64 number. */
const RAW_ONLY: Readonly<Record<string, number>> = { sysctl: 156 };

/** Wrapper arguments whose kinds stap's variable names do not tell (32-bit execve's argv and envp). */
const WRAPPER_ARGS: Readonly<Record<string, readonly string[]>> = {
  compat_execve: ['const char * filename', 'u32 argv', 'u32 envp'],
  sysctl: ['void * args'],
  compat_execveat: ['int dfd', 'const char * filename', 'u32 argv', 'u32 envp', 'int flags'],
};

/**
 * A call stap knows that fires no tracepoint here (32-bit and old entry points): its wrapper
 * function in the kernel, if the model has one.
 */
export function syscallWrapper(model: KernelModel, name: string): string | undefined {
  const base = name.replace(/^compat_(sys_)?/, '');
  return [`__ia32_compat_sys_${base}`, `__ia32_sys_${base}`, `__x64_sys_${base}`].find((f) => model.functions.has(f));
}

/**
 * The wrapper's arguments as pseudo-fields, one per argument variable stap lists, in order: a string
 * where stap has `X_unquoted`, a pointer for `X_uaddr`, an int otherwise (the convention passes 32 bits).
 */
function wrapperShape(name: string, fn: string, wanted: readonly string[]): SyscallShape {
  const explicit = WRAPPER_ARGS[name];
  if (explicit) {
    const fields = explicit.map((decl, i): TracepointField => ({ decl, name: /(\w+)$/.exec(decl)![1]!, offset: i, size: 8, signed: false, common: false }));
    return { name, enter: { system: '', event: fn, id: 0, fields, printFmt: '' }, exit: undefined };
  }
  const args = wanted.filter((v) => !/_(str|unquoted)$/.test(v) && !['name', 'argstr', 'sig_name', 'cmdstr'].includes(v) && !(v.endsWith('_uaddr') && wanted.includes(v.slice(0, -6))));
  const fields = args.slice(0, 6).map((v, i): TracepointField => ({
    decl: wanted.includes(`${v}_unquoted`) ? `const char * ${v}` : v.endsWith('_uaddr') ? `void * ${v}` : `int ${v}`,
    name: v, offset: i, size: 8, signed: false, common: false,
  }));
  return { name, enter: { system: '', event: fn, id: 0, fields, printFmt: '' }, exit: undefined };
}

interface Assignment {
  readonly name: string;
  readonly expr: string;
  /** How argstr shows it: bound to an argument (string, pointer, number), or decoded/computed. */
  readonly shape: 'string' | 'pointer' | 'number' | 'derived';
  /** Position of the argument it is bound to (argstr lists arguments in call order). */
  readonly pos: number;
}

/**
 * The variables of one syscall alias, in order, computed from the tracepoint fields reached through
 * `raw(field)` (`$fd` at entry; the saved user register at return). `wanted` is stap's variable list for the
 * call; without one, each field gives `F` (or `F_uaddr` for a pointer).
 */
export function syscallVariables(s: SyscallShape, wanted: readonly string[] | undefined, raw: (f: TracepointField) => string): Assignment[] {
  const fields = argumentFields(s);
  const out: Assignment[] = [];
  const have = new Set<string>();
  const set = (name: string, expr: string, shape: Assignment['shape'], pos = -1): void => {
    if (have.has(name)) return;
    have.add(name);
    out.push({ name, expr, shape, pos });
  };
  /** Raw field values by `__FIELD`, and the pointer behind each string variable (for `X_unquoted`). */
  const hidden = new Map<string, string>(fields.map((f) => ['__' + f.name, raw(f)]));
  const used = new Set<TracepointField>();
  const vars = wanted ?? fields.map((f) => (fieldKind(f) === 'pointer' ? `${f.name}_uaddr` : f.name));
  /** The field each bound variable reads. */
  const fieldOf = new Map<string, TracepointField>();
  const isCharPointer = (f: TracepointField): boolean => /\bchar \*\s*\w+$/.test(f.decl);
  const bindField = (name: string, f: TracepointField): void => {
    used.add(f);
    fieldOf.set(name, f);
    const kind = fieldKind(f);
    const pos = fields.indexOf(f);
    // a `char *` argument stap shows as text (mount's source, getrandom's buf) reads as a string
    // (but not when stap pairs it with `X_str_unquoted`: then X is the address and X_str the text)
    const text = (kind === 'string' || (kind === 'pointer' && (isCharPointer(f) || vars.includes(`${name}_unquoted`)))) && !vars.includes(`${name}_str_unquoted`);
    if (text && !name.endsWith('_uaddr')) {
      set(name, `user_string_quoted(${raw(f)})`, 'string', pos);
      hidden.set(name, raw(f));
    } else set(name, fieldValue(kind, raw(f)), kind === 'pointer' || kind === 'string' ? 'pointer' : 'number', pos);
  };
  const byName = new Map(fields.map((f) => [f.name, f]));
  // 32-bit variants (compat_sys_semctl) decode as the native call does
  const native = s.name.replace(/^compat_(sys_)?/, '');
  const computedFor = (v: string): ((w: (name: string) => string | undefined) => string) | undefined => COMPUTED[s.name]?.[v] ?? COMPUTED[native]?.[v];
  const derived = (v: string): boolean => /_(str|unquoted)$/.test(v) || ['name', 'argstr', 'sig_name', 'cmdstr'].includes(v) || !!computedFor(v);
  // 1. Variables named after a field (or its address). A field called `name` is `name_str`, since
  //    `name` is the call's name.
  for (const v of vars) {
    if (v === 'name_str' && byName.has('name')) bindField(v, byName.get('name')!);
    if (derived(v)) continue;
    const f = byName.get(v) ?? (v.endsWith('_uaddr') ? byName.get(v.slice(0, -6)) : undefined);
    if (f) bindField(v, f);
  }
  // 2. The rest by position: stap lists a call's arguments in order, as the tracepoint does; `X_uaddr`
  //    followed by `X` (or the reverse) is one argument.
  const restVars = vars.filter((v) => !derived(v) && !have.has(v));
  const restFields = fields.filter((f) => !used.has(f));
  for (let i = 0, j = 0; i < restVars.length && j < restFields.length; i++, j++) {
    const a = restVars[i]!;
    const b = restVars[i + 1];
    bindField(a, restFields[j]!);
    if (b && (b === a + '_uaddr' || a === b + '_uaddr')) bindField(restVars[++i]!, restFields[j]!);
  }
  // A variable of an argument this variant of the call does not have (dup2's flags, eventfd's
  // flags) is 0, as in stap, when every field is accounted for.
  if (fields.every((f) => used.has(f))) for (const v of restVars) if (!have.has(v)) set(v, '0', 'derived');
  const v = (name: string): string | undefined => (have.has(name) ? name : hidden.get(name));
  // 3. Decoded and computed variables.
  for (const name of vars) {
    if (have.has(name) || name === 'name' || name === 'argstr') continue;
    const computed = computedFor(name) ?? (name === 'sig_name' ? (w: typeof v) => `_signal_name(${w('sig')})` : undefined);
    if (computed) {
      set(name, computed(v), 'derived');
      continue;
    }
    const m = /^(.*)_(str|unquoted)$/.exec(name);
    if (!m) continue;
    const base = m[1]!;
    if (m[2] === 'unquoted') {
      // X_unquoted of a string X; X_str_unquoted of an address X
      const f = fieldOf.get(base) ?? fieldOf.get(base.replace(/_str$/, '')) ?? fieldOf.get(base.replace(/_str$/, '_uaddr'));
      const ptr = hidden.get(base) ?? (f ? raw(f) : undefined);
      if (ptr && have.has(base)) set(name, `user_string(${ptr}, "")`, 'derived');
      continue;
    }
    const behind = fieldOf.get(base) ?? fieldOf.get(base + '_uaddr') ?? byName.get(base);
    if (behind && isCharPointer(behind) && out.find((a) => a.name === base)?.shape !== 'string') {
      set(name, `user_string_quoted(${raw(behind)})`, 'derived');
      continue;
    }
    const x = v(base) ?? v(base + '_uaddr') ?? (base === 'flag' ? v('flags') : undefined);
    if (x === undefined) continue;
    if (out.find((a) => a.name === base)?.shape === 'string') {
      set(name, base, 'derived');
      continue;
    }
    const dec = DECODERS[`${s.name}:${name}`] ?? DECODERS[`${native}:${name}`] ?? DECODERS[name];
    set(name, dec ? dec(x, v) : `sprintf("0x%x", ${x})`, 'derived');
  }
  return out;
}

function argumentFields(s: SyscallShape): TracepointField[] {
  return s.enter.fields.filter((f) => !f.common && f.name !== '__syscall_nr');
}

/** argstr: stap's layout where known, otherwise each argument in order, decoded where a decoder exists. */
function argstrExpr(s: SyscallShape, vars: readonly Assignment[], raw: (f: TracepointField) => string): string {
  const have = new Set(vars.map((a) => a.name));
  const hidden = new Map(argumentFields(s).map((f) => ['__' + f.name, raw(f)]));
  const special = ARGSTR[s.name] ?? ARGSTR[s.name.replace(/^compat_(sys_)?/, '')];
  if (special) {
    let missing = false;
    const text = special((n) => (have.has(n) ? n : hidden.get(n) ?? ((missing = true), '0')));
    if (!missing) return text;
  }
  const parts: { fmt: string; expr: string }[] = [];
  // One entry per argument: where X and X_uaddr read the same one, the text wins.
  const shown = new Map<number, Assignment>();
  for (const a of vars) {
    const prior = shown.get(a.pos);
    if (a.shape !== 'derived' && (!prior || (prior.shape === 'pointer' && a.shape === 'string'))) shown.set(a.pos, a);
  }
  for (const a of [...vars].sort((x, y) => x.pos - y.pos)) {
    if (a.shape === 'derived' || shown.get(a.pos) !== a) continue;
    const base = a.name.replace(/_uaddr$/, '');
    const decoded = [a.name + '_str', base + '_str'].find((n) => have.has(n)) ?? (a.name === 'sig' && have.has('sig_name') ? 'sig_name' : undefined);
    if (decoded) parts.push({ fmt: '%s', expr: decoded });
    else parts.push({ fmt: a.shape === 'string' ? '%s' : a.shape === 'pointer' ? '%p' : '%d', expr: a.name });
  }
  if (parts.length === 0) return '""';
  return `sprintf(${JSON.stringify(parts.map((p) => p.fmt).join(', '))}, ${parts.map((p) => p.expr).join(', ')})`;
}

/** Variables only a return probe has (what the call wrote back), as script statements. */
const RETURN_EXTRA: Readonly<Record<string, string>> = {
  wait4: 'status_str = retval > 0 && status_uaddr ? _wait_status_str(user_int(status_uaddr)) : ""',
};


function entrySource(s: SyscallShape, wanted: readonly string[] | undefined): string {
  const raw = (f: TracepointField): string => `$${f.name}`;
  const vars = syscallVariables(s, wanted, raw);
  const lines = [`\tname = ${JSON.stringify(s.name)}`, ...vars.map((a) => `\t${a.name} = ${a.expr}`), `\targstr = ${argstrExpr(s, vars, raw)}`];
  return `probe syscall.${s.name}, nd_syscall.${s.name} = kernel.trace("syscalls:${s.enter.event}") {\n${lines.join('\n')}\n}\n`;
}

function returnSource(s: SyscallShape, wanted: readonly string[] | undefined): string {
  const exit = s.exit!;
  // The arguments are still in the user registers the call saved at entry (x86_64: the tracepoint's
  // fields are the arguments in order); after a successful execve they are the new program's.
  const position = new Map(argumentFields(s).map((f, i) => [f, i + 1]));
  const raw = (f: TracepointField): string => `__syscall_user_arg(${position.get(f)})`;
  const vars = syscallVariables(s, wanted, raw);
  const body = [
    `\tname = ${JSON.stringify(s.name)}`,
    `\tretval = $ret`,
    `\tretstr = return_str(1, retval)`,
    ...vars.map((a) => `\t${a.name} = ${a.expr}`),
    ...(RETURN_EXTRA[s.name] ? [`\t${RETURN_EXTRA[s.name]}`] : []),
  ];
  return `probe syscall.${s.name}.return, nd_syscall.${s.name}.return = kernel.trace("syscalls:${exit.event}") {\n${body.join('\n')}\n}\n`;
}

const generated = new WeakMap<KernelModel, Map<string, VirtualTapset[]>>();

/**
 * The syscall alias files for a kernel: for each system call an entry file (syscall.NAME and
 * nd_syscall.NAME) and a return file (the .return aliases). Cached per model and tapset directory.
 */
export function syscallTapsets(model: KernelModel, tapsetDir: string): readonly VirtualTapset[] {
  let perDir = generated.get(model);
  if (!perDir) generated.set(model, (perDir = new Map()));
  const known = perDir.get(tapsetDir);
  if (known) return known;
  // On disk per kernel model, variable list and version of this code: generating them costs a
  // kallsyms parse and ~700 files of text, on every tapsh process otherwise.
  const stamp = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    return st ? `${st.size}:${st.mtimeMs}` : 'absent';
  };
  const key = createHash('sha256')
    .update([JSON.stringify(model.identity), model.capturedAt, tapsetDir, stamp(join(tapsetDir, 'syscall-vars-stap48.tsv')), stamp(fileURLToPath(import.meta.url))].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const disk = join(cacheDir('lang'), `syscalls-${key}.json`);
  try {
    const cached = JSON.parse(readFileSync(disk, 'utf8')) as VirtualTapset[];
    perDir.set(tapsetDir, cached);
    return cached;
  } catch {
    // not generated yet for this model
  }
  const out = generateSyscallTapsets(model, tapsetDir);
  perDir.set(tapsetDir, out);
  try {
    mkdirSync(cacheDir('lang'), { recursive: true });
    writeFileSync(`${disk}.tmp-${process.pid}`, JSON.stringify(out));
    renameSync(`${disk}.tmp-${process.pid}`, disk);
  } catch {
    // a cache that cannot be written only costs time
  }
  return out;
}

function generateSyscallTapsets(model: KernelModel, tapsetDir: string): VirtualTapset[] {
  const wanted = stapVariables(tapsetDir);
  const out: VirtualTapset[] = [];
  const heads = ['syscall', 'nd_syscall'];
  for (const s of syscallShapes(model)) {
    const file = s.name === s.enter.event.slice(10) ? s.name : `${s.name}@${s.enter.event.slice(10)}`;
    const w = wanted.get(s.name);
    out.push({ path: `${SYSCALL_TAPSET_PREFIX}${file}.stp`, text: `// syscall.${s.name}, from syscalls:${s.enter.event}\n` + entrySource(s, w), functions: [], globals: [], aliasHeads: heads });
    if (s.exit) out.push({ path: `${SYSCALL_TAPSET_PREFIX}${file}.return.stp`, text: `// syscall.${s.name}.return, from syscalls:${s.exit.event}\n` + returnSource(s, w), functions: [], globals: [], aliasHeads: heads });
  }
  // Calls the kernel only answers with ENOSYS (no sys_* function, no tracepoint): on raw_syscalls,
  // by number, as stap does (x86_64 numbers).
  for (const [name, nr] of Object.entries(RAW_ONLY)) {
    const w = wanted.get(name);
    if (!w || out.some((f) => f.path === `${SYSCALL_TAPSET_PREFIX}${name}.stp`) || !model.tracepoints.has('raw_syscalls:sys_enter')) continue;
    const s = wrapperShape(name, 'raw_syscalls:sys_enter', w);
    const raw = (f: TracepointField): string => `__syscall_user_arg(${f.offset + 1})`;
    const vars = syscallVariables(s, w, raw);
    const body = [`\tif ($id != ${nr}) next`, `\tname = ${JSON.stringify(name)}`, ...vars.map((a) => `\t${a.name} = ${a.expr}`), `\targstr = ${argstrExpr(s, vars, raw)}`];
    out.push({
      path: `${SYSCALL_TAPSET_PREFIX}${name}.stp`, functions: [], globals: [], aliasHeads: heads,
      text: `// syscall.${name}: system call ${nr}, which the kernel no longer implements\n` +
        `probe syscall.${name}, nd_syscall.${name} = kernel.trace("raw_syscalls:sys_enter") {\n${body.join('\n')}\n}\n`,
    });
    out.push({
      path: `${SYSCALL_TAPSET_PREFIX}${name}.return.stp`, functions: [], globals: [], aliasHeads: heads,
      text: `// syscall.${name}.return: system call ${nr}\n` +
        `probe syscall.${name}.return, nd_syscall.${name}.return = kernel.trace("raw_syscalls:sys_exit") {\n` +
        `\tif ($id != ${nr}) next\n\tname = ${JSON.stringify(name)}\n\tretval = $ret\n\tretstr = return_str(1, retval)\n}\n`,
    });
  }
  const have = new Set(out.map((f) => f.path));
  for (const [name, w] of wanted) {
    const fn = syscallWrapper(model, name);
    if (!fn || have.has(`${SYSCALL_TAPSET_PREFIX}${name}.stp`) || out.some((f) => f.path.startsWith(`${SYSCALL_TAPSET_PREFIX}${name}@`))) continue;
    const s = wrapperShape(name, fn, w);
    const ia32 = fn.startsWith('__ia32_') ? 1 : 0;
    const raw = (f: TracepointField): string => `__syscall_wrapper_arg(${f.offset + 1}, ${ia32})`;
    const vars = syscallVariables(s, w, raw);
    const body = [`\tname = ${JSON.stringify(name)}`, ...vars.map((a) => `\t${a.name} = ${a.expr}`), `\targstr = ${argstrExpr(s, vars, raw)}`];
    out.push({
      path: `${SYSCALL_TAPSET_PREFIX}${name}.stp`, functions: [], globals: [], aliasHeads: heads,
      text: `// syscall.${name}, at the wrapper ${fn} (no tracepoint fires for it)\n` +
        `probe syscall.${name}, nd_syscall.${name} = kprobe.function(${JSON.stringify(fn)}) {\n${body.join('\n')}\n}\n`,
    });
    out.push({
      path: `${SYSCALL_TAPSET_PREFIX}${name}.return.stp`, functions: [], globals: [], aliasHeads: heads,
      text: `// syscall.${name}.return, at the wrapper ${fn}\n` +
        `probe syscall.${name}.return, nd_syscall.${name}.return = kprobe.function(${JSON.stringify(fn)}).return {\n` +
        `\tname = ${JSON.stringify(name)}\n\tretval = returnval()\n\tretstr = return_str(1, retval)\n}\n`,
    });
  }
  return out;
}

/**
 * Suffixes stap accepts after a syscall alias that mean nothing for a tracepoint: `.maxactive(N)` after
 * `.return` (kretprobe instances) and `.call` after an entry. Returns the suffix to keep.
 */
export function syscallSuffix<T extends { readonly name: string }>(aliasFile: string | undefined, aliasName: string, suffix: readonly T[]): T[] {
  if (!aliasFile?.startsWith(SYSCALL_TAPSET_PREFIX)) return [...suffix];
  const isReturn = aliasName.endsWith('.return');
  return suffix.filter((c) => !(isReturn ? fnmatch(c.name, 'maxactive') : fnmatch(c.name, 'call')));
}
