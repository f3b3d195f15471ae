// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_flood.c - a printf on hot kprobes, for drop accounting and the emergency disarm.
 *
 *	global hits
 *	probe kprobe.function("vfs_read"), kprobe.function("vfs_write") { if (execname() == "dd") { hits++; printf("%s ... %d\n", ...) } }
 *	probe end { printf("end hits>0=%d\n", hits > 0) }
 *
 * Only the workload (dd) floods: a probe on the reads of the transport's own reader (cat over
 * SSH) feeds itself, and under TCG that feedback can starve the guest's sshd entirely, which
 * made these tests flaky rather than telling anything about the runtime.
 */
#include "tap_runtime.c"
#include <linux/sched.h>
#include <linux/string.h>

static long g_hits;
static struct tap_lock l_hits;
static const struct tap_lockspec locks[] = { { &l_hits, 1 } };

static void probe_hot(struct tap_context *c)
{
	if (strcmp(current->comm, "dd"))
		return;
	TAP_ACTIONS(c, 2, out);
	g_hits++;
	tap_printf(c, "%s hit %d on cpu with a line long enough to fill buffers quickly: %80s|\n",
		   c->probe->symbol, g_hits, "padding");
out:
	return;
}

static void probe_end(struct tap_context *c)
{
	tap_printf(c, "end hits>0=%d\n", (long)(g_hits > 0));
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_hot, .pp = "kprobe.function(\"vfs_read\")",
	  .symbol = "vfs_read", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_hot, .pp = "kprobe.function(\"vfs_write\")",
	  .symbol = "vfs_write", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end", .locks = locks, .nlocks = 1 },
};

static int script_init(void)
{
	tap_lock_init(&l_hits);
	return 0;
}

const struct tap_script tap_script = {
	.name = "flood.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
};
