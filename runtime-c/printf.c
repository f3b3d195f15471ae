// SPDX-License-Identifier: GPL-2.0
/* printf.c - the printf engine (stap directives and flags), print helpers, output flushing. */
#include <linux/kernel.h>
#include <linux/string.h>
#include "tap_rt.h"

/* Where formatted bytes go: a context's output buffer or a fixed-size string. */
struct tap_sink {
	struct tap_context *c;	/* non-NULL: the handler's output buffer */
	char *buf;		/* string sink */
	size_t size, len;
};

/**
 * tap_flush - send the handler's buffered output as one OUTPUT record
 * @c: context
 */
TAP_API void tap_flush(struct tap_context *c)
{
	if (!c->outlen)
		return;
	tap_record_entry(TAP_REC_OUTPUT, c->entry, c->outbuf, c->outlen, false);
	c->outlen = 0;
}
TAP_API_EXPORT(tap_flush);

static void tap_sink_put(struct tap_sink *s, const char *p, size_t n)
{
	if (s->c) {
		struct tap_context *c = s->c;

		while (n) {
			size_t room = sizeof(c->outbuf) - c->outlen, k = min(n, room);

			memcpy(c->outbuf + c->outlen, p, k);
			c->outlen += k;
			p += k;
			n -= k;
			if (c->outlen == sizeof(c->outbuf))
				tap_flush(c);
		}
		return;
	}
	if (s->len + 1 < s->size) {
		size_t k = min(n, s->size - 1 - s->len);

		memcpy(s->buf + s->len, p, k);
		s->len += k;
	}
}

static void tap_sink_pad(struct tap_sink *s, char ch, long n)
{
	static const char spaces[16] = "                ";
	static const char zeros[16] = "0000000000000000";
	const char *src = ch == '0' ? zeros : spaces;

	while (n > 0) {
		long k = min_t(long, n, sizeof(spaces));

		tap_sink_put(s, src, k);
		n -= k;
	}
}

/* Parsed directive. */
struct tap_spec {
	unsigned left:1, plus:1, space:1, zero:1, alt:1;
	long width;
	long prec;		/* -1: none */
	char conv;
};

/* Digits of v in base (lower/upper), into the end of buf; returns the start. */
static char *tap_utoa(char *end, unsigned long v, int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = digits[v % base];
		v /= base;
	} while (v);
	return end;
}

/*
 * Integers follow stap 4.8 (checked with the oracle), which differs from C: at least
 * one digit is always printed (%.0d of 0 is "0"), '#' always adds 0x / 0 (%#x of 0 is
 * "0x0", %#.3o of 5 is "0005"), '+' and ' ' only affect signed conversions, and '0'
 * pads with zeros even when a precision is given.
 */
static void tap_fmt_int(struct tap_sink *s, const struct tap_spec *sp, long v)
{
	char tmp[72], *end = tmp + sizeof(tmp), *d;
	const char *sign = "", *prefix = "";
	unsigned long u = v;
	bool upper = sp->conv == 'X';
	long width = sp->width, prec, ndig;
	int base = 10;

	switch (sp->conv) {
	case 'd':
	case 'i':
		if (v < 0) {
			u = 0UL - (unsigned long)v;
			sign = "-";
		} else if (sp->plus) {
			sign = "+";
		} else if (sp->space) {
			sign = " ";
		}
		break;
	case 'o':
		base = 8;
		prefix = sp->alt ? "0" : "";
		break;
	case 'x':
	case 'X':
		base = 16;
		prefix = sp->alt ? (upper ? "0X" : "0x") : "";
		break;
	default:
		break;
	}
	d = tap_utoa(end, u, base, upper);
	ndig = end - d;
	prec = max(sp->prec, ndig);
	width -= strlen(sign) + strlen(prefix) + prec;
	if (!sp->left && !sp->zero)
		tap_sink_pad(s, ' ', width);
	tap_sink_put(s, sign, strlen(sign));
	tap_sink_put(s, prefix, strlen(prefix));
	if (!sp->left && sp->zero)
		tap_sink_pad(s, '0', width);
	tap_sink_pad(s, '0', prec - ndig);
	tap_sink_put(s, d, ndig);
	if (sp->left)
		tap_sink_pad(s, ' ', width);
}

static void tap_fmt_bytes(struct tap_sink *s, const struct tap_spec *sp, const char *p, long n)
{
	long pad = sp->width > n ? sp->width - n : 0;

	if (!sp->left)
		tap_sink_pad(s, ' ', pad);
	tap_sink_put(s, p, n);
	if (sp->left)
		tap_sink_pad(s, ' ', pad);
}

static void tap_fmt_str(struct tap_sink *s, const struct tap_spec *sp, const char *str)
{
	long n;

	if (!str)
		str = "";
	n = sp->prec >= 0 ? strnlen(str, sp->prec) : strlen(str);
	tap_fmt_bytes(s, sp, str, n);
}

/* %p: "0x" and the hex digits, as stap prints it (no zero fill), in a width. */
static void tap_fmt_ptr(struct tap_sink *s, const struct tap_spec *sp, long v)
{
	struct tap_spec x = *sp;
	char tmp[24], *end = tmp + sizeof(tmp), *d = tap_utoa(end, v, 16, false);

	*--d = 'x';
	*--d = '0';
	x.prec = -1;
	tap_fmt_bytes(s, &x, d, end - d);
}

/* %b: the value's raw bytes, width selecting 1, 2, 4 or 8 (default 8). */
static void tap_fmt_binary(struct tap_sink *s, const struct tap_spec *sp, long v)
{
	long w = sp->width;
	u8 b1 = v;
	u16 b2 = v;
	u32 b4 = v;

	switch (w) {
	case 1:
		tap_sink_put(s, (const char *)&b1, 1);
		break;
	case 2:
		tap_sink_put(s, (const char *)&b2, 2);
		break;
	case 4:
		tap_sink_put(s, (const char *)&b4, 4);
		break;
	default:
		tap_sink_put(s, (const char *)&v, 8);
		break;
	}
}

/* %m / %M: memory at an address (precision bytes, default 1), raw or as hex. */
static void tap_fmt_mem(struct tap_sink *s, const struct tap_spec *sp, long addr)
{
	char raw[64], hex[2 * sizeof(raw)];
	long want = sp->prec >= 0 ? sp->prec : 1, n;
	struct tap_spec x = *sp;
	int i;

	want = min_t(long, want, sizeof(raw));
	if (copy_from_kernel_nofault(raw, (const void *)addr, want)) {
		if (s->c)
			tap_error(s->c, "kernel memory read fault at 0x%lx", addr);
		return;
	}
	x.prec = -1;
	if (sp->conv == 'm') {
		tap_fmt_bytes(s, &x, raw, want);
		return;
	}
	for (i = 0, n = 0; i < want; i++) {
		hex[n++] = hex_asc_lo(raw[i] >> 4);
		hex[n++] = hex_asc_lo(raw[i]);
	}
	tap_fmt_bytes(s, &x, hex, n);
}

/* Parses one directive after '%'; returns the byte after it. */
static const char *tap_parse_spec(const char *f, struct tap_spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->prec = -1;
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '+')
			sp->plus = 1;
		else if (*f == ' ')
			sp->space = 1;
		else if (*f == '0')
			sp->zero = 1;
		else if (*f == '#')
			sp->alt = 1;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, long);
		if (sp->width < 0) {
			sp->left = 1;
			sp->width = -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, long);
			if (sp->prec < 0)
				sp->prec = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->prec = sp->prec * 10 + (*f++ - '0');
		}
	}
	while (*f == 'l' || *f == 'h' || *f == 'L' || *f == 'z' || *f == 'j' || *f == 't')
		f++;
	sp->width = min_t(long, sp->width, 4096);
	sp->prec = min_t(long, sp->prec, 4096);
	sp->conv = *f;
	return *f ? f + 1 : f;
}

static void tap_format(struct tap_sink *s, const char *f, va_list *ap)
{
	struct tap_spec sp;
	const char *lit;
	char ch;

	while (*f) {
		for (lit = f; *f && *f != '%'; f++)
			;
		if (f > lit)
			tap_sink_put(s, lit, f - lit);
		if (!*f)
			break;
		f = tap_parse_spec(f + 1, &sp, ap);
		switch (sp.conv) {
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
			tap_fmt_int(s, &sp, va_arg(*ap, long));
			break;
		case 's':
			tap_fmt_str(s, &sp, va_arg(*ap, const char *));
			break;
		case 'c':
			ch = (char)va_arg(*ap, long);
			sp.prec = -1;
			tap_fmt_bytes(s, &sp, &ch, 1);
			break;
		case 'p':
			tap_fmt_ptr(s, &sp, va_arg(*ap, long));
			break;
		case 'b':
			tap_fmt_binary(s, &sp, va_arg(*ap, long));
			break;
		case 'm':
		case 'M':
			tap_fmt_mem(s, &sp, va_arg(*ap, long));
			break;
		case '%':
			tap_sink_put(s, "%", 1);
			break;
		case '\0':
			return;
		default:	/* unknown: print it as written (the translator rejects these) */
			tap_sink_put(s, "%", 1);
			tap_sink_put(s, &sp.conv, 1);
			break;
		}
	}
}

/**
 * tap_vsnprintf - format into a buffer with stap's printf rules (always NUL-terminated)
 * @buf: destination
 * @size: its size (output truncated to size - 1 bytes)
 * @fmt: format: integer arguments (and '*' values) are long, %s takes const char *
 * @ap: arguments
 */
TAP_API void tap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct tap_sink s = { .buf = buf, .size = size };
	va_list aq;

	if (!size)
		return;
	va_copy(aq, ap);
	tap_format(&s, fmt, &aq);
	va_end(aq);
	buf[s.len] = '\0';
}
TAP_API_EXPORT(tap_vsnprintf);

/**
 * tap_printf - the script's printf into the handler's output
 * @c: context
 * @fmt: format (see tap_vsnprintf for argument types)
 */
TAP_API void tap_printf(struct tap_context *c, const char *fmt, ...)
{
	struct tap_sink s = { .c = c };
	va_list ap;

	va_start(ap, fmt);
	tap_format(&s, fmt, &ap);
	va_end(ap);
}
TAP_API_EXPORT(tap_printf);

/**
 * tap_sprintf - the script's sprintf into a TAP_MAXSTRINGLEN string (truncating)
 * @dst: destination of TAP_MAXSTRINGLEN bytes
 * @fmt: format (see tap_vsnprintf); arguments may alias @dst
 */
TAP_API void tap_sprintf(char *dst, const char *fmt, ...)
{
	char tmp[TAP_MAXSTRINGLEN];
	va_list ap;

	va_start(ap, fmt);
	tap_vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(dst, tmp, strlen(tmp) + 1);
}
TAP_API_EXPORT(tap_sprintf);

/**
 * tap_print_mem - append raw bytes to the handler's output
 * @c: context
 * @p: bytes
 * @n: count
 */
TAP_API void tap_print_mem(struct tap_context *c, const char *p, size_t n)
{
	struct tap_sink s = { .c = c };

	tap_sink_put(&s, p, n);
}
TAP_API_EXPORT(tap_print_mem);

/**
 * tap_print_str - print(s)
 * @c: context
 * @str: NUL-terminated string
 */
TAP_API void tap_print_str(struct tap_context *c, const char *str)
{
	tap_print_mem(c, str, strlen(str));
}
TAP_API_EXPORT(tap_print_str);

/**
 * tap_print_long - print(n): decimal
 * @c: context
 * @v: value
 */
TAP_API void tap_print_long(struct tap_context *c, long v)
{
	char tmp[24];

	tap_print_str(c, tap_sprint_long(tmp, v));
}
TAP_API_EXPORT(tap_print_long);

/**
 * tap_print_char - one byte of output
 * @c: context
 * @ch: the byte
 */
TAP_API void tap_print_char(struct tap_context *c, int ch)
{
	char b = ch;

	tap_print_mem(c, &b, 1);
}
TAP_API_EXPORT(tap_print_char);
