// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_errors.c - translator-shaped error paths; the module parameter tcase picks which oracle
 * script (test/runtime/oracle/src) this load reproduces: div0 mod0 maxaction nesting mapfull addr0
 * addrlong catch error exit_end inend emptymin errprobe.
 */
#include "tap_runtime.c"

static char *tcase = "";
module_param(tcase, charp, 0444);

static long g_g, g_d, g_c, g_i;
static struct tap_map *g_m;		/* global m[3] */
static struct tap_stat *g_s;
static struct tap_lock l_all;
static const struct tap_lockspec locks[] = { { &l_all, 1 } };

#define IS(name) (!strcmp(tcase, name))

struct begin_locals {
	long x, i;
	char msg[TAP_MAXSTRINGLEN];
	char m[TAP_MAXSTRINGLEN];
	char tmp[TAP_MAXSTRINGLEN];
};

/* function r(n) { d = n; return r(n + 1) + 1 } */
static long fn_r(struct tap_context *c, long n)
{
	long ret = 0;

	c->last_stmt = "identifier 'r' at err_nesting.stp:2:10";
	TAP_FUNC_ENTER(c, out_unnested);
	TAP_ACTIONS(c, 1, out);
	g_d = n;
	ret = fn_r(c, n + 1);
	TAP_CHECK(c, out);
	ret += 1;
out:
	TAP_FUNC_EXIT(c);
out_unnested:
	return ret;
}

static void begin_catch(struct tap_context *c, struct begin_locals *l)
{
	/* try { x = 0; g = 1 / x; printf("not here\n") } catch (msg) { printf("caught [%s]\n", msg) } */
	l->x = 0;
	g_g = tap_div(c, 1, l->x);
	TAP_CHECK(c, catch1);
	tap_printf(c, "not here\n");
	goto end1;
catch1:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end1:
	tap_script_error(c, "my own");
	TAP_CHECK(c, catch2);
	goto end2;
catch2:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end2:
	tap_script_error(c, "no var");
	TAP_CHECK(c, catch3);
	goto end3;
catch3:
	tap_error_clear(c);
	tap_printf(c, "caught plain\n");
end3:
	g_g = tap_kread(c, 0, 8, 1);
	TAP_CHECK(c, catch4);
	goto end4;
catch4:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end4:
	tap_kernel_string(c, l->tmp, 0, -1);
	TAP_CHECK(c, catch5);
	tap_printf(c, "%s\n", l->tmp);
	goto end5;
catch5:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end5:
	g_g = tap_kread(c, 8, 4, 1);
	TAP_CHECK(c, catch6);
	goto end6;
catch6:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end6:
	g_g = tap_kread(c, 8, 1, 1);
	TAP_CHECK(c, catch7);
	goto end7;
catch7:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end7:
	g_g = tap_kread(c, 8, 2, 1);
	TAP_CHECK(c, catch8);
	goto end8;
catch8:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end8:
	tap_user_string(c, l->tmp, 8, -1);
	TAP_CHECK(c, catch9);
	tap_printf(c, "%s\n", l->tmp);
	goto end9;
catch9:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end9:
	/* try { try { error("inner") } catch (m) { error("re-" . m) } } catch (msg) { ... } */
	tap_script_error(c, "inner");
	TAP_CHECK(c, catch10a);
	goto end10a;
catch10a:
	tap_strcpy(l->m, tap_error_msg(c));
	tap_error_clear(c);
	tap_strcat(tap_strcpy(l->tmp, "re-"), l->m);
	tap_script_error(c, l->tmp);
	TAP_CHECK(c, catch10);
end10a:
	goto end10;
catch10:
	tap_strcpy(l->msg, tap_error_msg(c));
	tap_error_clear(c);
	tap_printf(c, "caught [%s]\n", l->msg);
end10:
	tap_printf(c, "survived %d\n", g_g);
	tap_exit();
	tap_printf(c, "after exit\n");
}

static void probe_begin(struct tap_context *c)
{
	struct begin_locals *l = tap_frame_push(c, sizeof(*l));
	struct tap_agg *a;
	long v;

	if (!l)
		return;
	if (IS("div0")) {
		tap_printf(c, "before\n");
		l->x = 0;
		c->last_stmt = "operator '/' at err_div0.stp:2:60";
		v = tap_div(c, 10, l->x);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
		tap_printf(c, "after\n");
	} else if (IS("mod0")) {
		tap_printf(c, "before\n");
		l->x = 0;
		c->last_stmt = "operator '%' at err_mod0.stp:1:60";
		v = tap_mod(c, 10, l->x);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
	} else if (IS("maxaction")) {
		tap_printf(c, "start\n");
		for (;;) {
			c->last_stmt = "identifier 'i' at err_maxaction.stp:2:44";
			TAP_ACTIONS(c, 1, out);
			g_i++;
		}
	} else if (IS("nesting")) {
		tap_printf(c, "start\n");
		v = fn_r(c, 0);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
	} else if (IS("mapfull")) {
		for (l->i = 0; l->i < 10; l->i++) {
			TAP_ACTIONS(c, 2, out);
			c->last_stmt = "identifier 'm' at err_mapfull_decl.stp:2:42";
			tap_map_set_long(c, g_m, l->i, l->i);
			TAP_CHECK(c, out);
			tap_printf(c, "%d\n", l->i);
		}
	} else if (IS("addr0")) {
		tap_printf(c, "a\n");
		c->last_stmt = "identifier 'kernel_string' at /usr/share/systemtap/tapset/linux/conversions.stp:18:10";
		tap_kernel_string(c, l->tmp, 0, -1);
		TAP_CHECK(c, out);
		tap_printf(c, "%s\n", l->tmp);
	} else if (IS("addrlong")) {
		tap_printf(c, "a\n");
		c->last_stmt = "identifier 'kernel_long' at /usr/share/systemtap/tapset/linux/conversions.stp:285:10";
		v = tap_kread(c, 16, 8, 1);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
	} else if (IS("catch")) {
		begin_catch(c, l);
	} else if (IS("error")) {
		tap_printf(c, "a\n");
		tap_script_error(c, "boom here");
		TAP_CHECK(c, out);
		tap_printf(c, "b\n");
	} else if (IS("exit_end")) {
		g_c = 1;
		tap_exit();
		tap_printf(c, "after exit in begin c=%d\n", g_c);
	} else if (IS("inend")) {
		tap_printf(c, "begin\n");
		tap_exit();
	} else if (IS("errprobe")) {
		tap_printf(c, "begin\n");
		l->x = 0;
		c->last_stmt = "operator '/' at err_probe.stp:1:58";
		v = tap_div(c, 1, l->x);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
	} else if (IS("emptymin")) {
		tap_stat_add(g_s, 1);
		tap_stat_clear(g_s);
		c->last_stmt = "operator '@min' at stats_emptymin.stp:5:21";
		a = tap_stat_get(g_s);
		v = tap_agg_min(c, a);
		TAP_CHECK(c, out);
		tap_printf(c, "min=%d\n", v);
	}
out:
	return;
}

static void probe_begin_m10(struct tap_context *c)
{
	if (IS("exit_end"))
		tap_printf(c, "begin-10\n");
}

static void probe_begin_10(struct tap_context *c)
{
	if (IS("exit_end"))
		tap_printf(c, "begin10\n");
}

static void probe_end(struct tap_context *c)
{
	long x = 0, v;

	if (IS("exit_end")) {
		tap_printf(c, "end0\n");
	} else if (IS("inend")) {
		tap_printf(c, "end1\n");
		c->last_stmt = "operator '/' at err_inend.stp:2:55";
		v = tap_div(c, 1, x);
		TAP_CHECK(c, out);
		tap_printf(c, "%d\n", v);
		tap_printf(c, "not\n");
	} else if (IS("catch")) {
		tap_printf(c, "end\n");
	} else {
		tap_printf(c, "end ran\n");	/* never expected: errors skip end probes */
	}
out:
	return;
}

static void probe_end_5(struct tap_context *c)
{
	if (IS("exit_end"))
		tap_printf(c, "end5\n");
}

static void probe_end_m5(struct tap_context *c)
{
	if (IS("exit_end"))
		tap_printf(c, "end-5\n");
}

static void probe_error(struct tap_context *c)
{
	if (IS("errprobe"))
		tap_printf(c, "error probe ran\n");
}

static void probe_end_10(struct tap_context *c)
{
	if (IS("inend"))
		tap_printf(c, "end2\n");
}

#define P(k, fn, prio) { .kind = k, .handler = fn, .pp = #k, .priority = prio, .locks = locks, .nlocks = 1 }
static const struct tap_probe probes[] = {
	P(TAP_PROBE_BEGIN, probe_begin, 0),
	P(TAP_PROBE_BEGIN, probe_begin_10, 10),
	P(TAP_PROBE_BEGIN, probe_begin_m10, -10),
	P(TAP_PROBE_END, probe_end_5, 5),
	P(TAP_PROBE_END, probe_end, 0),
	P(TAP_PROBE_END, probe_end_m5, -5),
	P(TAP_PROBE_END, probe_end_10, 10),
	P(TAP_PROBE_ERROR, probe_error, 0),
};

static int script_init(void)
{
	tap_lock_init(&l_all);
	g_m = tap_map_new("l", TAP_LONG, 3, TAP_HIST_NONE, 0, 0, 0);
	g_s = tap_stat_new(TAP_HIST_NONE, 0, 0, 0);
	return g_m && g_s ? 0 : -ENOMEM;
}

static void script_exit(void)
{
	tap_map_free(g_m);
	tap_stat_free(g_s);
}

const struct tap_script tap_script = {
	.name = "errors.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
	.init = script_init,
	.exit = script_exit,
};
