// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_h2.c - a later session entry using the same global:
 *	probe begin { printf("h2 sees reads>=1000=%d\n", reads >= 1000) }
 *	probe end { printf("h2 end\n") }
 */
#include <linux/module.h>
#include "tap.h"

static long *g_reads;
static struct tap_lockspec locks[1];

static void probe_begin(struct tap_context *c)
{
	tap_printf(c, "h2 sees reads>=1000=%d\n", (long)(*g_reads >= 1000));
}

static void probe_end(struct tap_context *c)
{
	tap_printf(c, "h2 end\n");
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_begin, .pp = "begin", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end" },
};

static int entry_init(void)
{
	/* the SESSION.md spelling: storage and lock asked for separately */
	g_reads = tap_session_global("reads", TAP_G_LONG, NULL, TAP_LONG, TAP_HIST_NONE, 0, 0, 0);
	if (IS_ERR(g_reads))
		return PTR_ERR(g_reads);
	locks[0].lock = tap_session_lock("reads");
	return 0;
}

static const struct tap_script entry = {
	.name = "entry 2",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = entry_init,
};

static int __init h2_init(void)
{
	return tap_session_attach(&entry, 2);
}

static void __exit h2_exit(void)
{
	tap_session_detach(&entry);
}

module_init(h2_init);
module_exit(h2_exit);
MODULE_LICENSE("GPL");
