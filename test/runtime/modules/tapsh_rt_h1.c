// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_h1.c - a session handler module (stap> probe kprobe.function("vfs_read") { reads++ }):
 * includes only tap.h, links against the core's exports, gets its global by name.
 */
#include <linux/module.h>
#include "tap.h"

static long *g_reads;
static struct tap_lockspec locks[1];	/* filled at init: the lock lives in the core */

static void probe_0(struct tap_context *c)
{
	TAP_ACTIONS(c, 1, out);
	(*g_reads)++;
out:
	return;
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_0, .pp = "kprobe.function(\"vfs_read\")",
	  .symbol = "vfs_read", .locks = locks, .nlocks = 1 },
};

static int entry_init(void)
{
	g_reads = tap_global("reads", TAP_G_LONG, NULL, TAP_LONG, 0, TAP_HIST_NONE, 0, 0, 0, &locks[0].lock);
	locks[0].write = 1;
	return g_reads ? 0 : -EINVAL;
}

static const struct tap_script entry = {
	.name = "entry 1",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = entry_init,
};

static int __init h1_init(void)
{
	return tap_session_attach(&entry, 1);
}

static void __exit h1_exit(void)
{
	tap_session_detach(&entry);
}

module_init(h1_init);
module_exit(h1_exit);
MODULE_LICENSE("GPL");
