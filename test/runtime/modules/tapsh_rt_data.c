// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_data.c - translator-shaped: oracle/src stats.stp, hist_small.stp, hist_neg.stp, maps.stp, maps_stat.stp, stats_empty2.stp. */
#include "tap_runtime.c"

static struct tap_stat *g_s, *g_e, *g_n, *g_h, *g_l, *g_m, *g_m2;	/* stats.stp */
static struct tap_stat *g_ha, *g_hb, *g_hc;				/* hist_small.stp */
static struct tap_map *g_hx;
static struct tap_stat *g_na, *g_nb, *g_nc;				/* hist_neg.stp */
static struct tap_map *g_a, *g_b, *g_c, *g_d;				/* maps.stp */
static struct tap_map *g_sc;						/* maps_stat.stp */
static struct tap_stat *g_es, *g_et;					/* stats_empty2.stp */
static struct tap_lock l_all;

static const struct tap_lockspec locks_w[] = { { &l_all, 1 } };

#define ADD(st, v) tap_stat_add(st, (long)(v))
#define DASHES() tap_print_str(c, "---\n")

/* stats.stp */
static void probe_stats(struct tap_context *c)
{
	long i;

	for (i = 1; i <= 100; i++) {
		TAP_ACTIONS(c, 1, out);
		ADD(g_s, i);
	}
	{
		struct tap_agg *a = tap_stat_get(g_s);
		long cnt = tap_agg_count(a), sum = tap_agg_sum(a), mn = tap_agg_min(c, a),
		     mx = tap_agg_max(c, a), avg = tap_agg_avg(c, a), var = tap_agg_variance(c, a, 0);

		TAP_CHECK(c, out);
		tap_printf(c, "count=%d sum=%d min=%d max=%d avg=%d var=%d\n", cnt, sum, mn, mx, avg, var);
		tap_printf(c, "var3=%d\n", tap_agg_variance(c, tap_stat_get(g_s), 3));
	}
	ADD(g_n, -5); ADD(g_n, 0); ADD(g_n, 3); ADD(g_n, 3); ADD(g_n, 7); ADD(g_n, 1000); ADD(g_n, 1023);
	ADD(g_n, 1024); ADD(g_n, 65536); ADD(g_n, 1); ADD(g_n, 2); ADD(g_n, -1); ADD(g_n, -1000);
	tap_print_hist(c, tap_stat_get(g_n));
	TAP_CHECK(c, out);
	DASHES();
	ADD(g_h, 0); ADD(g_h, 5); ADD(g_h, 12); ADD(g_h, 12); ADD(g_h, 47); ADD(g_h, 99); ADD(g_h, 100);
	ADD(g_h, -3); ADD(g_h, 200);
	tap_print_hist(c, tap_stat_get(g_h));
	DASHES();
	ADD(g_l, 1); ADD(g_l, 2); ADD(g_l, 4);
	for (i = 0; i < 67; i++)
		ADD(g_l, 8);
	tap_print_hist(c, tap_stat_get(g_l));
	DASHES();
	for (i = 0; i < 1000; i++) {
		TAP_ACTIONS(c, 1, out);
		ADD(g_m, i * 7);
	}
	tap_print_hist(c, tap_stat_get(g_m));
	DASHES();
	ADD(g_m2, 50);
	tap_print_hist(c, tap_stat_get(g_m2));
	DASHES();
	ADD(g_e, 5);
	tap_print_hist(c, tap_stat_get(g_e));
	DASHES();
out:
	return;
}

/* hist_small.stp */
static void probe_hist_small(struct tap_context *c)
{
	struct tap_entry *e;

	ADD(g_ha, 0);
	tap_print_hist(c, tap_stat_get(g_ha));
	DASHES();
	ADD(g_hb, 1); ADD(g_hb, 1); ADD(g_hb, 2);
	tap_print_hist(c, tap_stat_get(g_hb));
	DASHES();
	ADD(g_hc, 3); ADD(g_hc, 3); ADD(g_hc, 4);
	tap_print_hist(c, tap_stat_get(g_hc));
	DASHES();
	tap_map_stat_add(c, g_hx, 5, 1L);
	tap_map_stat_add(c, g_hx, 6, 2L);
	tap_map_stat_add(c, g_hx, 7, 2L);
	TAP_CHECK(c, out);
	for (e = tap_map_iter(g_hx, 0, 0, TAP_AGG_COUNT); e; e = tap_map_next(g_hx, e)) {
		long k = tap_key_long(g_hx, e, 0);
		long cnt = tap_agg_count(tap_map_get_agg(g_hx, k));
		long avg = tap_agg_avg(c, tap_map_get_agg(g_hx, k));

		TAP_CHECK(c, out);
		tap_printf(c, "%d: count=%d avg=%d\n", k, cnt, avg);
	}
	for (e = tap_map_iter(g_hx, 0, 0, TAP_AGG_COUNT); e; e = tap_map_next(g_hx, e)) {
		tap_print_hist(c, tap_map_get_agg(g_hx, tap_key_long(g_hx, e, 0)));
		TAP_CHECK(c, out);
	}
out:
	return;
}

/* hist_neg.stp */
static void probe_hist_neg(struct tap_context *c)
{
	ADD(g_na, -4); ADD(g_na, -1);
	tap_print_hist(c, tap_stat_get(g_na));
	ADD(g_nb, 1); ADD(g_nb, 16);
	tap_print_hist(c, tap_stat_get(g_nb));
	ADD(g_nc, 10); ADD(g_nc, 50);
	tap_print_hist(c, tap_stat_get(g_nc));
	ADD(g_nc, 1000);
	tap_print_hist(c, tap_stat_get(g_nc));
}

#define FOREACH(m, col, dir, e) for (e = tap_map_iter(m, col, dir, TAP_AGG_COUNT); e; e = tap_map_next(m, e))

/* maps.stp */
static void probe_maps(struct tap_context *c)
{
	struct tap_entry *e;
	long n, *p;

	tap_map_set_long(c, g_a, 30, 3L);
	tap_map_set_long(c, g_a, 100, 1L);
	tap_map_set_long(c, g_a, 20, 2L);
	tap_map_set_long(c, g_a, 5, -7L);
	tap_map_set_long(c, g_a, 20, 10L);
	FOREACH(g_a, 0, 0, e)
		tap_printf(c, "k %d %d\n", tap_key_long(g_a, e, 0), tap_map_get_long(g_a, tap_key_long(g_a, e, 0)));
	FOREACH(g_a, 1, -1, e)
		tap_printf(c, "k- %d %d\n", tap_key_long(g_a, e, 0), tap_val_long(g_a, e));
	FOREACH(g_a, 0, 1, e)
		tap_printf(c, "v+ %d %d\n", tap_key_long(g_a, e, 0), tap_val_long(g_a, e));
	FOREACH(g_a, 0, -1, e)
		tap_printf(c, "v- %d %d\n", tap_key_long(g_a, e, 0), tap_val_long(g_a, e));
	n = 0;
	FOREACH(g_a, 0, -1, e) {
		if (n++ == 2)
			break;
		tap_printf(c, "lim %d %d\n", tap_key_long(g_a, e, 0), tap_val_long(g_a, e));
	}
	FOREACH(g_a, 0, 0, e)
		tap_printf(c, "kk %d\n", tap_key_long(g_a, e, 0));
	FOREACH(g_a, 0, 1, e)
		tap_printf(c, "vv %d=%d\n", tap_key_long(g_a, e, 0), tap_val_long(g_a, e));
	tap_map_set_str(c, g_b, "z", "zeta", 1L);
	tap_map_set_str(c, g_b, "a", "alpha", 2L);
	tap_map_set_str(c, g_b, "b", "alpha", 1L);
	tap_map_set_str(c, g_b, "m", "mid", 0L);
	FOREACH(g_b, 0, 0, e)
		tap_printf(c, "%s,%d=%s\n", tap_key_str(g_b, e, 0), tap_key_long(g_b, e, 1), tap_val_str(g_b, e));
	FOREACH(g_b, 2, -1, e)
		tap_printf(c, "n- %s,%d=%s\n", tap_key_str(g_b, e, 0), tap_key_long(g_b, e, 1), tap_val_str(g_b, e));
	FOREACH(g_b, 0, -1, e)
		tap_printf(c, "v- %s,%d=%s\n", tap_key_str(g_b, e, 0), tap_key_long(g_b, e, 1), tap_val_str(g_b, e));
	tap_printf(c, "in=%d notin=%d\n", (long)tap_map_exists(g_a, 3L), (long)tap_map_exists(g_a, 99L));
	tap_map_delete(g_a, 3L);
	tap_printf(c, "after delete in=%d missing=%d str=[%s]\n", (long)tap_map_exists(g_a, 3L),
		   tap_map_get_long(g_a, 99L), tap_map_get_str(g_b, "x", 9L));
	tap_printf(c, "size ok\n");
	tap_map_clear(g_a);
	FOREACH(g_a, 0, 0, e)
		tap_printf(c, "never %d\n", tap_key_long(g_a, e, 0));
	tap_map_stat_add(c, g_c, 5, "x");
	tap_map_stat_add(c, g_c, 7, "x");
	tap_map_stat_add(c, g_c, 1, "y");
	FOREACH(g_c, 0, 0, e) {
		const char *k = tap_key_str(g_c, e, 0);

		tap_printf(c, "%s %d %d\n", k, tap_agg_count(tap_map_get_agg(g_c, k)), tap_agg_sum(tap_map_get_agg(g_c, k)));
	}
	FOREACH(g_c, 0, -1, e)
		tap_printf(c, "c- %s %d\n", tap_key_str(g_c, e, 0), tap_agg_sum(tap_val_agg(g_c, e)));
	tap_map_set_long(c, g_d, 1, 1L);
	tap_map_set_long(c, g_d, 1, 2L);
	tap_map_set_long(c, g_d, 1, 3L);
	tap_map_set_long(c, g_d, 1, 0L);
	FOREACH(g_d, 0, -1, e)
		tap_printf(c, "tie %d\n", tap_key_long(g_d, e, 0));
	FOREACH(g_d, 0, 1, e)
		tap_printf(c, "tie+ %d\n", tap_key_long(g_d, e, 0));
	p = tap_map_ref_long(c, g_a, 1L);
	TAP_CHECK(c, out);
	(*p)++;
	p = tap_map_ref_long(c, g_a, 1L);
	TAP_CHECK(c, out);
	*p += 5;
	tap_map_set_long(c, g_a, tap_map_get_long(g_a, 1L) * 2, 2L);
	tap_printf(c, "%d %d\n", tap_map_get_long(g_a, 1L), tap_map_get_long(g_a, 2L));
out:
	return;
}

/* maps_stat.stp */
static void probe_maps_stat(struct tap_context *c)
{
	struct tap_entry *e;

	tap_map_stat_add(c, g_sc, 1, "a");
	tap_map_stat_add(c, g_sc, 1, "a");
	tap_map_stat_add(c, g_sc, 1, "a");
	tap_map_stat_add(c, g_sc, 100, "b");
	tap_map_stat_add(c, g_sc, 5, "c");
	tap_map_stat_add(c, g_sc, 5, "c");
	FOREACH(g_sc, 0, -1, e)
		tap_printf(c, "c- %s\n", tap_key_str(g_sc, e, 0));
	FOREACH(g_sc, 0, 1, e)
		tap_printf(c, "c+ %s\n", tap_key_str(g_sc, e, 0));
}

/* stats_empty2.stp: try/catch as the translator emits it */
static void probe_stats_empty2(struct tap_context *c)
{
	struct tap_agg *a;
	long v;

	ADD(g_et, 1);
	tap_stat_clear(g_et);
	tap_printf(c, "count=%d\n", tap_agg_count(tap_stat_get(g_et)));
	tap_printf(c, "sum=%d\n", tap_agg_sum(tap_stat_get(g_et)));
	v = tap_agg_max(c, tap_stat_get(g_et));
	if (c->error)
		goto catch1;
	tap_printf(c, "max=%d\n", v);
	goto end1;
catch1:
	tap_printf(c, "max: %s\n", tap_error_msg(c));
	tap_error_clear(c);
end1:
	v = tap_agg_avg(c, tap_stat_get(g_et));
	if (c->error)
		goto catch2;
	tap_printf(c, "avg=%d\n", v);
	goto end2;
catch2:
	tap_printf(c, "avg: %s\n", tap_error_msg(c));
	tap_error_clear(c);
end2:
	v = tap_agg_variance(c, tap_stat_get(g_et), 0);
	if (c->error)
		goto catch3;
	tap_printf(c, "var=%d\n", v);
	goto end3;
catch3:
	tap_printf(c, "var: %s\n", tap_error_msg(c));
	tap_error_clear(c);
end3:
	ADD(g_es, 7);
	a = tap_stat_get(g_es);
	tap_printf(c, "var1=%d avg=%d\n", tap_agg_variance(c, a, 0), tap_agg_avg(c, a));
	ADD(g_es, -8);
	a = tap_stat_get(g_es);
	tap_printf(c, "var2=%d avg=%d\n", tap_agg_variance(c, a, 0), tap_agg_avg(c, a));
	tap_exit();
}

#define BEGIN(fn, prio) { .kind = TAP_PROBE_BEGIN, .handler = fn, .pp = "begin", .priority = prio, \
			  .locks = locks_w, .nlocks = 1 }
static const struct tap_probe probes[] = {
	BEGIN(probe_stats, 1),
	BEGIN(probe_hist_small, 2),
	BEGIN(probe_hist_neg, 3),
	BEGIN(probe_maps, 4),
	BEGIN(probe_maps_stat, 5),
	BEGIN(probe_stats_empty2, 6),
};

static int script_init(void)
{
	tap_lock_init(&l_all);
	g_s = tap_stat_new(TAP_HIST_NONE, 0, 0, 0);
	g_n = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_h = tap_stat_new(TAP_HIST_LINEAR, 0, 100, 10);
	g_l = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_m = tap_stat_new(TAP_HIST_LINEAR, 0, 7000, 500);
	g_m2 = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_e = tap_stat_new(TAP_HIST_LINEAR, 0, 50, 10);
	g_ha = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_hb = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_hc = tap_stat_new(TAP_HIST_LINEAR, 0, 10, 1);
	g_hx = tap_map_new("l", TAP_STAT, 0, TAP_HIST_LOG, 0, 0, 0);
	g_na = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_nb = tap_stat_new(TAP_HIST_LOG, 0, 0, 0);
	g_nc = tap_stat_new(TAP_HIST_LINEAR, 0, 100, 5);
	g_a = tap_map_new("l", TAP_LONG, 0, TAP_HIST_NONE, 0, 0, 0);
	g_b = tap_map_new("sl", TAP_STRING, 0, TAP_HIST_NONE, 0, 0, 0);
	g_c = tap_map_new("s", TAP_STAT, 0, TAP_HIST_NONE, 0, 0, 0);
	g_d = tap_map_new("l", TAP_LONG, 0, TAP_HIST_NONE, 0, 0, 0);
	g_sc = tap_map_new("s", TAP_STAT, 0, TAP_HIST_NONE, 0, 0, 0);
	g_es = tap_stat_new(TAP_HIST_NONE, 0, 0, 0);
	g_et = tap_stat_new(TAP_HIST_NONE, 0, 0, 0);
	if (!g_s || !g_n || !g_h || !g_l || !g_m || !g_m2 || !g_e || !g_ha || !g_hb || !g_hc || !g_hx ||
	    !g_na || !g_nb || !g_nc || !g_a || !g_b || !g_c || !g_d || !g_sc || !g_es || !g_et)
		return -ENOMEM;	/* script_exit frees what was allocated */
	tap_stat_set_shift(g_s, 3);	/* the script uses @variance(s, 3) */
	return 0;
}

static void script_exit(void)
{
	tap_stat_free(g_s); tap_stat_free(g_n); tap_stat_free(g_h); tap_stat_free(g_l);
	tap_stat_free(g_m); tap_stat_free(g_m2); tap_stat_free(g_e); tap_stat_free(g_ha);
	tap_stat_free(g_hb); tap_stat_free(g_hc); tap_map_free(g_hx); tap_stat_free(g_na);
	tap_stat_free(g_nb); tap_stat_free(g_nc); tap_map_free(g_a); tap_map_free(g_b);
	tap_map_free(g_c); tap_map_free(g_d); tap_map_free(g_sc); tap_stat_free(g_es);
	tap_stat_free(g_et);
}

const struct tap_script tap_script = {
	.name = "data.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
	.exit = script_exit,
};
