// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_split.c - a script unit for the split build: it includes only the slim tap.h and links
 * against a prebuilt runtime object (cached per kernel and -D flags).
 *
 *	global n
 *	probe begin { n = 41 }
 *	probe timer.jiffies(2) { n++; printf("hello %d from a %d-byte-string runtime\n", n, MAXSTRINGLEN); exit() }
 */
#include <linux/module.h>
#include "tap.h"

static long g_n;
static struct tap_lock l_n;
static const struct tap_lockspec locks[] = { { &l_n, 1 } };

static void probe_begin(struct tap_context *c)
{
	g_n = 41;
}

static void probe_timer(struct tap_context *c)
{
	TAP_ACTIONS(c, 3, out);
	g_n++;
	tap_printf(c, "hello %d from a %d-byte-string runtime\n", g_n, (long)TAP_MAXSTRINGLEN);
	tap_exit();
out:
	return;
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_begin, .pp = "begin", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_TIMER, .handler = probe_timer, .pp = "timer.jiffies(2)", .period_jiffies = 2,
	  .locks = locks, .nlocks = 1 },
};

static int script_init(void)
{
	tap_lock_init(&l_n);
	return 0;
}

const struct tap_script tap_script = {
	.name = "split.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
};
