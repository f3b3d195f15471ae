// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_guard.c - handlers that are too slow: a CPU busy in probe handlers more than the
 * threshold trips the overload guard. The busy-wait (delay_us per hit) stands in for a heavy
 * script body; real scripts cannot delay.
 */
#include <linux/sched/clock.h>
#include "tap_runtime.c"

static char *tcase = "";
module_param(tcase, charp, 0444);
static uint delay_us = 200;
module_param(delay_us, uint, 0444);

static long g_hits;
static struct tap_lock l_hits;
static const struct tap_lockspec locks[] = { { &l_hits, 1 } };

static void probe_read(struct tap_context *c)
{
	u64 t0 = local_clock();

	/* not udelay(): under qemu TCG with -cpu max it uses TPAUSE, which crashed the guest */
	while (local_clock() - t0 < delay_us * 1000ULL)
		cpu_relax();
	g_hits++;
}

static void probe_end(struct tap_context *c)
{
	tap_printf(c, "end\n");
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_read, .pp = "kprobe.function(\"vfs_read\")",
	  .symbol = "vfs_read", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end", .locks = locks, .nlocks = 1 },
};

static int script_init(void)
{
	tap_lock_init(&l_hits);
	return 0;
}

const struct tap_script tap_script = {
	.name = "guard.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
};
