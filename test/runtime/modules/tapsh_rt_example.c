// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_example.c - the complete generated module of runtime-c/README.md, verbatim (keep them equal). */
#include <linux/sched.h>		/* what the tapset functions used need */
#include "tap_runtime.c"		/* or "tap.h" in the split build */

static struct tap_map *g_reads;
static struct tap_stat *g_sizes;
static struct tap_lock l_reads, l_sizes;

struct probe_0_locals {
	char t0[TAP_MAXSTRINGLEN];
};

/* a.stp:2 */
static void probe_0(struct tap_context *c)
{
	struct probe_0_locals *l = tap_frame_push(c, sizeof(*l));
	long *slot;

	if (!l)
		return;
	TAP_ACTIONS(c, 2, out);
	c->last_stmt = "identifier 'reads' at a.stp:2:37";
	tap_strcpy(l->t0, current->comm);			/* execname() */
	slot = tap_map_ref_long(c, g_reads, l->t0);
	TAP_CHECK(c, out);
	(*slot)++;
	tap_stat_add(g_sizes, (long)c->regs->dx);		/* $count */
out:
	return;
}

/* a.stp:3 */
static void probe_1(struct tap_context *c)
{
	struct tap_entry *e;
	long n = 0;

	TAP_ACTIONS(c, 2, out);
	for (e = tap_map_iter(g_reads, 0, -1, TAP_AGG_COUNT); e; e = tap_map_next(g_reads, e)) {
		TAP_ACTIONS(c, 1, out);
		if (n++ == 3)
			break;
		tap_printf(c, "%s %d\n", tap_key_str(g_reads, e, 0), tap_val_long(g_reads, e));
	}
	tap_map_clear(g_reads);
out:
	return;
}

/* a.stp:4 */
static void probe_2(struct tap_context *c)
{
	TAP_ACTIONS(c, 1, out);
	c->last_stmt = "identifier 'print' at a.stp:4:17";
	tap_print_hist(c, tap_stat_get(g_sizes));
	TAP_CHECK(c, out);
out:
	return;
}

static const struct tap_lockspec probe_0_locks[] = { { &l_reads, 1 }, { &l_sizes, 0 } };
static const struct tap_lockspec probe_1_locks[] = { { &l_reads, 1 } };
static const struct tap_lockspec probe_2_locks[] = { { &l_sizes, 1 } };

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_0, .pp = "kprobe.function(\"vfs_read\")",
	  .symbol = "vfs_read", .locks = probe_0_locks, .nlocks = 2 },
	{ .kind = TAP_PROBE_TIMER, .handler = probe_1, .pp = "timer.s(1)",
	  .period_ns = 1000000000, .locks = probe_1_locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_2, .pp = "end",
	  .locks = probe_2_locks, .nlocks = 1 },
};

static int script_init(void)
{
	tap_lock_init(&l_reads);
	tap_lock_init(&l_sizes);
	g_reads = tap_map_new("s", TAP_LONG, 0, TAP_HIST_NONE, 0, 0, 0);
	g_sizes = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	return g_reads && g_sizes ? 0 : -ENOMEM;
}

static void script_exit(void)
{
	tap_map_free(g_reads);
	tap_stat_free(g_sizes);
}

const struct tap_script tap_script = {
	.name = "a.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
	.exit = script_exit,
};
