// SPDX-License-Identifier: GPL-2.0
/* string.c - fixed-size (TAP_MAXSTRINGLEN) string helpers: copies and appends truncate. */
#include <linux/string.h>
#include "tap_rt.h"

/**
 * tap_strcpy - copy into a TAP_MAXSTRINGLEN string, truncating
 * @dst: destination (TAP_MAXSTRINGLEN bytes); may equal @src
 * @src: source
 *
 * Return: @dst
 */
TAP_API char *tap_strcpy(char *dst, const char *src)
{
	if (dst != src)
		strscpy(dst, src ? src : "", TAP_MAXSTRINGLEN);
	return dst;
}
TAP_API_EXPORT(tap_strcpy);

/**
 * tap_strcat - append to a TAP_MAXSTRINGLEN string, truncating
 * @dst: destination (TAP_MAXSTRINGLEN bytes)
 * @src: what to append (must not overlap @dst)
 *
 * Return: @dst
 */
TAP_API char *tap_strcat(char *dst, const char *src)
{
	size_t n = strnlen(dst, TAP_MAXSTRINGLEN - 1);

	strscpy(dst + n, src ? src : "", TAP_MAXSTRINGLEN - n);
	return dst;
}
TAP_API_EXPORT(tap_strcat);

/**
 * tap_sprint_long - decimal text of a number
 * @dst: at least 21 bytes
 * @v: value
 *
 * Return: @dst
 */
TAP_API char *tap_sprint_long(char *dst, long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	*--p = '\0';
	do {
		*--p = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	memcpy(dst, p, tmp + sizeof(tmp) - p);
	return dst;
}
TAP_API_EXPORT(tap_sprint_long);

/**
 * tap_strcmp - string comparison for ==, <, ... (bytewise, like stap)
 * @a: left
 * @b: right
 *
 * Return: <0, 0 or >0
 */
TAP_API int tap_strcmp(const char *a, const char *b)
{
	return strcmp(a, b);
}
TAP_API_EXPORT(tap_strcmp);
