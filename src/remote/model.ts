// The kernel model: what elaboration needs to know about a target kernel, captured once per build.

/** One field of a tracepoint, as tracefs `events/SUB/EVENT/format` describes it. */
export interface TracepointField {
  /** C declaration as written by the kernel, e.g. "char prev_comm[16]" or "__data_loc char[] name". */
  decl: string;
  /** Field name (the identifier in `decl`), usable in scripts as `$name`. */
  name: string;
  offset: number;
  size: number;
  signed: boolean;
  /** True for the common_* header fields every event carries. */
  common: boolean;
}

export interface Tracepoint {
  /** "sched" in "sched:sched_switch". */
  system: string;
  /** "sched_switch". */
  event: string;
  id: number;
  fields: TracepointField[];
  /** The `print fmt:` line, kept for reference. */
  printFmt: string;
}

/** Identity of a running kernel: enough to pick (or refuse) a build tree and a cache entry. */
export interface KernelIdentity {
  /** `uname -r`, e.g. "6.1.0-57-amd64". */
  release: string;
  /** `uname -m`, e.g. "x86_64". */
  arch: string;
  /** GNU build id of vmlinux (hex), from /sys/kernel/notes; "" when the kernel has none. */
  buildId: string;
  /** Full /proc/version line. */
  version: string;
  /** vermagic string modules must carry to load, e.g. "6.1.0-57-amd64 SMP preempt mod_unload modversions". */
  vermagic: string;
}

/** A function symbol known to the kernel. */
export interface KernelFunction {
  name: string;
  /** Module name for module symbols, "" for vmlinux. */
  module: string;
  /** Whether ftrace lists it in available_filter_functions (i.e. it is a real, traceable entry). */
  traceable: boolean;
}

/** Everything captured from one kernel, as stored in the cache. */
export interface KernelModel {
  identity: KernelIdentity;
  /** When it was captured (ISO time) and from which target. */
  capturedAt: string;
  capturedFrom: string;
  /** Text function symbols by name (vmlinux and loaded modules). */
  functions: Map<string, KernelFunction>;
  /** Tracepoints by "system:event". */
  tracepoints: Map<string, Tracepoint>;
  /** Path of the raw BTF blob for vmlinux in the cache ("" when the kernel has none). */
  btfPath: string;
  btfSize: number;
}
