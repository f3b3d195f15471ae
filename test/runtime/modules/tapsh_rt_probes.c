// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_probes.c - translator-shaped: kprobes (a wildcard's worth sharing one handler), a kretprobe,
 * timer.ms, timer.profile, a tracepoint with fields, an optional probe that cannot register.
 *
 *	global reads, calls[...], rets, retbytes, ticks, prof, execs
 *	probe kprobe.function("vfs_read") { reads++ }
 *	probe kprobe.function("vfs_{read,write,open}") { calls[ppfunc()]++ }
 *	probe kprobe.function("vfs_read").return { rets++; if (returnval() > 0) retbytes += returnval()
 *		if (returnval() > @entry($count)) over++ }	# x86_64: count in %dx at entry
 *	probe timer.ms(10).randomize(2) { ticks++ }
 *	probe timer.profile { prof++ }
 *	probe kernel.trace("sched:sched_process_exec") { if (isinstr(kernel_string-ish $filename, "tapsh-probe-me")) execs++ ; printf(...) }
 *	probe kprobe.function("tapsh_no_such_function")? { }
 *	probe end { printf(...) }
 */
#include "tap_runtime.c"

/* Tracepoint field layout, from the kernel model (the test reads tracefs and passes it). */
static uint tp_filename_off = 8, tp_pid_off = 12;
module_param(tp_filename_off, uint, 0444);
module_param(tp_pid_off, uint, 0444);

static long g_reads, g_rets, g_retbytes, g_ticks, g_prof, g_execs, g_over, g_entries;
static struct tap_map *g_calls;
static struct tap_lock l_reads, l_calls, l_rets, l_ticks, l_prof, l_execs;

static const struct tap_lockspec lk_reads[] = { { &l_reads, 1 } };
static const struct tap_lockspec lk_calls[] = { { &l_calls, 1 } };
static const struct tap_lockspec lk_rets[] = { { &l_rets, 1 } };
static const struct tap_lockspec lk_ticks[] = { { &l_ticks, 1 } };
static const struct tap_lockspec lk_prof[] = { { &l_prof, 1 } };
static const struct tap_lockspec lk_execs[] = { { &l_execs, 1 } };
static const struct tap_lockspec lk_end[] = {
	{ &l_reads, 0 }, { &l_calls, 1 }, { &l_rets, 0 }, { &l_ticks, 0 }, { &l_prof, 0 }, { &l_execs, 0 },
};

static void probe_reads(struct tap_context *c)
{
	TAP_ACTIONS(c, 1, out);
	g_reads++;
out:
	return;
}

static void probe_calls(struct tap_context *c)
{
	long *p;

	TAP_ACTIONS(c, 1, out);
	p = tap_map_ref_long(c, g_calls, c->probe->symbol);	/* ppfunc() */
	TAP_CHECK(c, out);
	(*p)++;
out:
	return;
}

struct probe_ret_entry {
	long count;	/* @entry($count) */
};

static void probe_ret_entry(struct tap_context *c)
{
	((struct probe_ret_entry *)c->ri->data)->count = (long)c->regs->dx;
	g_entries++;
}

static void probe_ret(struct tap_context *c)
{
	long rv = regs_return_value(c->regs);	/* returnval() */

	TAP_ACTIONS(c, 3, out);
	g_rets++;
	if (rv > 0)
		g_retbytes += rv;
	if (rv > ((struct probe_ret_entry *)c->ri->data)->count)
		g_over++;
out:
	return;
}

static void probe_tick(struct tap_context *c)
{
	g_ticks++;
}

static void probe_prof(struct tap_context *c)
{
	g_prof++;
}

struct exec_locals {
	char file[TAP_MAXSTRINGLEN];
};

static void probe_exec(struct tap_context *c)
{
	struct exec_locals *l = tap_frame_push(c, sizeof(*l));
	long pid;

	if (!l)
		return;
	tap_tp_dynstring(c, l->file, tp_filename_off);
	pid = tap_tp_field(c, tp_pid_off, 4, 1);
	TAP_CHECK(c, out);
	if (!strstr(l->file, "tapsh-probe-me"))
		return;
	g_execs++;
	tap_printf(c, "exec %s pid>0=%d\n", l->file, (long)(pid > 0));
out:
	return;
}

static void probe_end(struct tap_context *c)
{
	struct tap_entry *e;

	tap_printf(c, "reads>=1000=%d rets>=1000=%d retbytes>=512000=%d ticks>=10=%d prof>0=%d execs=%d\n",
		   (long)(g_reads >= 1000), (long)(g_rets >= 1000), (long)(g_retbytes >= 512000),
		   (long)(g_ticks >= 10), (long)(g_prof > 0), g_execs);
	for (e = tap_map_iter(g_calls, 1, 1, TAP_AGG_COUNT); e; e = tap_map_next(g_calls, e))
		tap_printf(c, "%s>0=%d\n", tap_key_str(g_calls, e, 0), (long)(tap_val_long(g_calls, e) > 0));
	tap_printf(c, "entry>=rets=%d over=%d\n", (long)(g_entries >= g_rets), g_over);
	tap_printf(c, "raw reads=%d rets=%d ticks=%d prof=%d\n", g_reads, g_rets, g_ticks, g_prof);
}

#define KP(fn, sym, lk) { .kind = TAP_PROBE_KPROBE, .handler = fn, .pp = "kprobe.function(\"" sym "\")", \
			  .symbol = sym, .locks = lk, .nlocks = ARRAY_SIZE(lk) }
static const struct tap_probe probes[] = {
	KP(probe_reads, "vfs_read", lk_reads),
	KP(probe_calls, "vfs_read", lk_calls),
	KP(probe_calls, "vfs_write", lk_calls),
	KP(probe_calls, "vfs_open", lk_calls),
	{ .kind = TAP_PROBE_KRETPROBE, .handler = probe_ret, .pp = "kprobe.function(\"vfs_read\").return",
	  .symbol = "vfs_read", .maxactive = 20, .entry_handler = probe_ret_entry,
	  .entry_data_size = sizeof(struct probe_ret_entry), .locks = lk_rets, .nlocks = 1 },
	{ .kind = TAP_PROBE_TIMER, .handler = probe_tick, .pp = "timer.ms(10).randomize(2)",
	  .period_ns = 10000000, .randomize_ns = 2000000, .locks = lk_ticks, .nlocks = 1 },
	{ .kind = TAP_PROBE_PROFILE, .handler = probe_prof, .pp = "timer.profile", .locks = lk_prof, .nlocks = 1 },
	{ .kind = TAP_PROBE_TRACEPOINT, .handler = probe_exec, .pp = "kernel.trace(\"sched:sched_process_exec\")",
	  .tp_system = "sched", .tp_event = "sched_process_exec", .locks = lk_execs, .nlocks = 1 },
	{ .kind = TAP_PROBE_KPROBE, .handler = probe_reads, .pp = "kprobe.function(\"tapsh_no_such_function\")?",
	  .symbol = "tapsh_no_such_function", .optional = 1, .locks = lk_reads, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end", .locks = lk_end, .nlocks = ARRAY_SIZE(lk_end) },
};

static int script_init(void)
{
	tap_lock_init(&l_reads);
	tap_lock_init(&l_calls);
	tap_lock_init(&l_rets);
	tap_lock_init(&l_ticks);
	tap_lock_init(&l_prof);
	tap_lock_init(&l_execs);
	g_calls = tap_map_new("s", TAP_LONG, 0, TAP_HIST_NONE, 0, 0, 0);
	return g_calls ? 0 : -ENOMEM;
}

static void script_exit(void)
{
	tap_map_free(g_calls);
}

const struct tap_script tap_script = {
	.name = "probes.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
	.exit = script_exit,
};
