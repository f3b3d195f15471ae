// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_limits.c - built with -DMAXSTRINGLEN=16 -DMAXERRORS=2: oracle/src strlen.stp (tcase=strlen)
 * and err_multi.stp (tcase=multi).
 */
#include "tap_runtime.c"

static char *tcase = "";
module_param(tcase, charp, 0444);

static long g_n, g_z;
static struct tap_lock l_n;
static const struct tap_lockspec locks[] = { { &l_n, 1 } };

struct begin_locals {
	char s[TAP_MAXSTRINGLEN], t[TAP_MAXSTRINGLEN], u[TAP_MAXSTRINGLEN];
};

static void probe_begin(struct tap_context *c)
{
	struct begin_locals *l;

	if (strcmp(tcase, "strlen"))
		return;
	l = tap_frame_push(c, sizeof(*l));
	if (!l)
		return;
	tap_strcpy(l->s, "0123456789abcdefghijklmnop");
	tap_printf(c, "%s|%d\n", l->s, (long)strlen(l->s));
	tap_sprintf(l->t, "%s%s", l->s, l->s);
	tap_printf(c, "%s|%d\n", l->t, (long)strlen(l->t));
	tap_strcat(tap_strcpy(l->u, l->s), "XYZ");
	tap_printf(c, "%s|%d\n", l->u, (long)strlen(l->u));
	tap_printf(c, "%s%s\n", "0123456789", "0123456789");
	tap_exit();
}

/* probe timer.ms(10) { n++; if (n < 10) { printf("n=%d\n", n); z = 1 / (n - n) } } */
static void probe_timer(struct tap_context *c)
{
	if (strcmp(tcase, "multi"))
		return;
	TAP_ACTIONS(c, 1, out);
	g_n++;
	if (g_n < 10) {
		TAP_ACTIONS(c, 2, out);
		tap_printf(c, "n=%d\n", g_n);
		c->last_stmt = "operator '/' at err_multi.stp:3:68";
		g_z = tap_div(c, 1, g_n - g_n);
		TAP_CHECK(c, out);
	}
out:
	return;
}

static void probe_end(struct tap_context *c)
{
	if (!strcmp(tcase, "multi"))
		tap_printf(c, "end n>=3=%d\n", (long)(g_n >= 3));
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_begin, .pp = "begin", .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_TIMER, .handler = probe_timer, .pp = "timer.ms(10)", .period_ns = 10000000,
	  .locks = locks, .nlocks = 1 },
	{ .kind = TAP_PROBE_END, .handler = probe_end, .pp = "end", .locks = locks, .nlocks = 1 },
};

static int script_init(void)
{
	tap_lock_init(&l_n);
	return 0;
}

const struct tap_script tap_script = {
	.name = "limits.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
};
