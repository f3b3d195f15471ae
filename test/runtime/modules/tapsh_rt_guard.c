// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_guard.c - handlers that are too slow: a CPU busy in probe handlers more than the
 * threshold trips the overload guard. The busy loop (spins per hit) stands in for a heavy
 * script body; real scripts cannot delay.
 */
#include "tap_runtime.c"

static char *tcase = "";
module_param(tcase, charp, 0444);
static uint spins = 20000;
module_param(spins, uint, 0444);

static long g_hits;
static struct tap_lock l_hits;
static const struct tap_lockspec locks[] = { { &l_hits, 1 } };

static void probe_read(struct tap_context *c)
{
	uint i;

	/*
	 * Count, do not watch the clock: udelay() uses TPAUSE (mis-emulated by qemu TCG) and
	 * local_clock() may advance only per tick in the guest, so a timed wait with
	 * interrupts off can spin forever.
	 */
	for (i = 0; i < spins; i++)
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
