// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_printf.c - hand-written in the translator's shape: oracle/src/printf_int.stp + printf_str.stp. */
#include "tap_runtime.c"

/* printf_int.stp */
static void probe_0(struct tap_context *c)
{
	tap_printf(c, "[%d] [%i] [%u] [%x] [%X] [%o]\n", 42L, -42L, -1L, 255L, 255L, 8L);
	tap_printf(c, "[%5d] [%-5d] [%05d] [%+d] [% d] [%+d]\n", 42L, 42L, 42L, 42L, 42L, -42L);
	tap_printf(c, "[%#x] [%#X] [%#o] [%#5x] [%#8o]\n", 255L, 255L, 8L, 10L, 8L);
	tap_printf(c, "[%.3d] [%8.3d] [%-8.3d|] [%.0d] [%.0x]\n", 7L, 7L, 7L, 0L, 0L);
	tap_printf(c, "[%*d] [%-*d] [%.*d] [%*.*d]\n", 6L, 1L, 6L, 2L, 4L, 3L, 7L, 3L, 4L);
	tap_printf(c, "[%d] [%d] [%u] [%x]\n", 9223372036854775807L, (long)(-9223372036854775807L - 1),
		   (long)(-9223372036854775807L - 1), -1L);
	tap_printf(c, "[%p] [%p] [%20p] [%-20p|]\n", 0L, (long)0xffffffff81000000UL, 4096L, 4096L);
	tap_printf(c, "[%c] [%3c] [%-3c|] [%c]\n", 65L, 66L, 67L, 0x263aL);
	tap_printf(c, "[%b] [%5b] [%x]\n", 5L, 5L, 1L);
	tap_printf(c, "[%%] [100%%]\n");
	tap_printf(c, "[%+x] [% x] [%+5d] [% 5d] [%-5x|] [%05x] [%#10x]\n", 42L, 42L, 42L, 42L, 42L, 42L, 42L);
	tap_printf(c, "[%+d] [% d] [%05d] [%-5d|]\n", -42L, -42L, -42L, -42L);
	tap_printf(c, "[%+u] [% o] [%#.3o] [%#.0o] [%#x]\n", 5L, 5L, 5L, 0L, 0L);
	tap_printf(c, "no newline at end");
	tap_printf(c, "\n%d%s%d\n", 1L, "x", 2L);
	tap_exit();
}

/* printf_str.stp, as a second begin probe with a later priority (exit() above does not stop
 * it: only probes of a later begin *after* exit are skipped, and this file is split in two
 * modules' worth of output by the test on the "=====" line). */
struct probe_1_locals {
	char s[TAP_MAXSTRINGLEN];
	char t[TAP_MAXSTRINGLEN];
	char tmp[TAP_MAXSTRINGLEN];
};

static void probe_1(struct tap_context *c)
{
	struct probe_1_locals *l = tap_frame_push(c, sizeof(*l));

	if (!l)
		return;
	tap_printf(c, "[%s] [%10s] [%-10s|] [%.3s] [%10.3s] [%-10.3s|]\n", "hello", "hello", "hello", "hello", "hello", "hello");
	tap_printf(c, "[%*s] [%-*s|] [%.*s]\n", 7L, "ab", 7L, "ab", 2L, "abcdef");
	tap_printf(c, "[%s] [%5s]\n", "", "");
	tap_printf(c, "[%s] [%d]\n", "tab\there", 3L);
	tap_print_str(c, "print ");
	tap_print_long(c, 1);
	tap_print_str(c, " ");
	tap_print_str(c, "x");
	tap_print_str(c, "\n");
	tap_print_str(c, "a");
	tap_print_long(c, 2);
	tap_print_str(c, "b");
	tap_print_str(c, "\n");
	tap_print_long(c, 1);
	tap_print_str(c, "\n");
	tap_print_str(c, "");
	tap_print_str(c, "\n");
	tap_print_long(c, -5);
	tap_print_str(c, "\n");
	tap_sprintf(l->s, "%d-%s-%x", 10L, "ten", 10L);
	tap_printf(c, "%s|%d\n", l->s, (long)strlen(l->s));
	tap_sprint_long(l->t, 12345);
	tap_printf(c, "%s|%s\n", l->t, tap_strcpy(l->tmp, "str"));
	tap_sprintf(l->tmp, "%5d|%-5s|", 3L, "ab");
	tap_printf(c, "%s\n", l->tmp);
	tap_printf(c, "%d %s\n", 1L, "a\"b\\c");
	tap_printf(c, "[%s]\n", "\a\b\f\v\x41\101");
}

/* printf_b.stp: %b writes raw bytes, width 1/2/4 selects the size, anything else 8 */
static void probe_2(struct tap_context *c)
{
	tap_printf(c, "[%1b][%2b][%4b][%8b][%b]\n", 0x41L, 0x4243L, 0x44454647L, 0x4849L, 0x4aL);
	tap_printf(c, "[%-8b|][%3b]\n", 0x41L, 0x42L);
}

static const struct tap_probe probes[] = {
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_2, .pp = "begin(-2)", .priority = -2 },
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_1, .pp = "begin(-1)", .priority = -1 },
	{ .kind = TAP_PROBE_BEGIN, .handler = probe_0, .pp = "begin" },
};

const struct tap_script tap_script = {
	.name = "printf.stp",
	.probes = probes,
	.nprobes = ARRAY_SIZE(probes),
};
