// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_badprobe.c - a required probe that cannot register: the start fails cleanly, the good one is unregistered.
 *
 *	probe begin { printf("begin\n") }
 *	probe kprobe.function("vfs_read") { }
 *	probe kprobe.function("tapsh_no_such_function") { }
 *	probe end { printf("end\n") }
 */
#include "tap_runtime.c"

static void probe_begin(struct tap_context *c)
{
	tap_print_str(c, "begin\n");
}

static void probe_nothing(struct tap_context *c)
{
}

static void probe_end(struct tap_context *c)
{
	tap_print_str(c, "end\n");
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_begin, .pp = "begin" },
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_nothing, .pp = "kprobe.function(\"vfs_read\")", .symbol = "vfs_read" },
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_nothing, .pp = "kprobe.function(\"tapsh_no_such_function\")",
	  .symbol = "tapsh_no_such_function" },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end" },
};

const struct tap_script tap_script = {
	.name = "badprobe.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
};
