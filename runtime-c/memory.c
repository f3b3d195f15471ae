// SPDX-License-Identifier: GPL-2.0
/* memory.c - fault-tolerant reads of kernel and user memory and of tracepoint records. */
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/mm.h>
#include "tap_rt.h"

static const char *tap_size_name(int size)
{
	switch (size) {
	case 1:
		return "char";
	case 2:
		return "short";
	case 4:
		return "int";
	default:
		return "long";
	}
}

static long tap_extend(const void *p, int size, int is_signed)
{
	switch (size) {
	case 1:
		return is_signed ? (long)*(const s8 *)p : (long)*(const u8 *)p;
	case 2:
		return is_signed ? (long)*(const s16 *)p : (long)*(const u16 *)p;
	case 4:
		return is_signed ? (long)*(const s32 *)p : (long)*(const u32 *)p;
	default:
		return *(const long *)p;
	}
}

/*
 * strncpy_from_*_nofault are not exported on 6.1: copy page by page instead (a
 * chunk that stays inside one page faults only if that page is unmapped).
 */
static long tap_strncpy_nofault(char *dst, unsigned long addr, long n, bool user)
{
	long done = 0;

	while (done < n) {
		long chunk = min_t(long, n - done, PAGE_SIZE - offset_in_page(addr + done));
		char *nul;
		long err;

		if (user)
			err = copy_from_user_nofault(dst + done, (const void __user *)(addr + done), chunk);
		else
			err = copy_from_kernel_nofault(dst + done, (const void *)(addr + done), chunk);
		if (err)
			return -EFAULT;
		nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	return done;
}

/**
 * tap_kread - read a 1/2/4/8-byte kernel value without risking a fault
 * @c: context (the error goes there)
 * @addr: kernel address
 * @size: 1, 2, 4 or 8
 * @is_signed: sign-extend
 *
 * Return: the value, or 0 with "kernel TYPE copy fault at 0xADDR
 * [man error::fault]" pending (stap's wording).
 */
TAP_API long tap_kread(struct tap_context *c, unsigned long addr, int size, int is_signed)
{
	u64 buf = 0;

	if (copy_from_kernel_nofault(&buf, (const void *)addr, size)) {
		tap_error(c, "kernel %s copy fault at 0x%lx [man error::fault]", tap_size_name(size), addr);
		return 0;
	}
	return tap_extend(&buf, size, is_signed);
}
TAP_API_EXPORT(tap_kread);

/**
 * tap_tread - tap_kread for $target variables and @cast: the same read, with the error stap
 * 4.8 gives target variables ("read fault [man error::fault] at 0xADDR")
 * @c: context
 * @addr: kernel address
 * @size: 1, 2, 4 or 8
 * @is_signed: sign-extend
 */
TAP_API long tap_tread(struct tap_context *c, unsigned long addr, int size, int is_signed)
{
	u64 buf = 0;

	if (copy_from_kernel_nofault(&buf, (const void *)addr, size)) {
		tap_error(c, "read fault [man error::fault] at 0x%lx", addr);
		return 0;
	}
	return tap_extend(&buf, size, is_signed);
}
TAP_API_EXPORT(tap_tread);

/**
 * tap_kwrite - write a 1/2/4/8-byte kernel value without risking a fault (guru mode's
 * `$var = x`, `$p->member = x`)
 * @c: context (the error goes there)
 * @addr: kernel address
 * @size: 1, 2, 4 or 8
 * @val: the value (its low @size bytes are stored)
 *
 * Return: 0, or -EFAULT with "write fault [man error::fault] at 0xADDR" pending (stap's
 * wording for target variables).
 */
TAP_API int tap_kwrite(struct tap_context *c, unsigned long addr, int size, long val)
{
	u64 v = val;
	u32 v32 = val;
	u16 v16 = val;
	u8 v8 = val;

	/* copy_to_kernel_nofault is not exported on 6.1: its checks and stores, here. */
	if (addr < TASK_SIZE_MAX + PAGE_SIZE || !__is_canonical_address(addr, boot_cpu_data.x86_virt_bits))
		goto fault;
	pagefault_disable();
	switch (size) {
	case 8:
		__put_kernel_nofault((void *)addr, &v, u64, fault_enable);
		break;
	case 4:
		__put_kernel_nofault((void *)addr, &v32, u32, fault_enable);
		break;
	case 2:
		__put_kernel_nofault((void *)addr, &v16, u16, fault_enable);
		break;
	default:
		__put_kernel_nofault((void *)addr, &v8, u8, fault_enable);
		break;
	}
	pagefault_enable();
	return 0;
fault_enable:
	pagefault_enable();
fault:
	tap_error(c, "write fault [man error::fault] at 0x%lx", addr);
	return -EFAULT;
}
TAP_API_EXPORT(tap_kwrite);

/**
 * tap_uread - read a 1/2/4/8-byte user value without risking a fault
 * @c: context
 * @addr: user address (of the current task)
 * @size: 1, 2, 4 or 8
 * @is_signed: sign-extend
 *
 * Return: the value, or 0 with "user TYPE copy fault at 0xADDR ..." pending.
 */
TAP_API long tap_uread(struct tap_context *c, unsigned long addr, int size, int is_signed)
{
	u64 buf = 0;

	if (copy_from_user_nofault(&buf, (const void __user *)addr, size)) {
		tap_error(c, "user %s copy fault at 0x%lx [man error::fault]", tap_size_name(size), addr);
		return 0;
	}
	return tap_extend(&buf, size, is_signed);
}
TAP_API_EXPORT(tap_uread);

/**
 * tap_kernel_string - copy a kernel C string into a script string
 * @c: context
 * @dst: TAP_MAXSTRINGLEN bytes
 * @addr: kernel address
 * @maxlen: at most this many bytes (<0: TAP_MAXSTRINGLEN - 1)
 *
 * Return: @dst; on a bad address "" with "kernel string copy fault at 0xADDR
 * [man error::fault]" pending.
 */
TAP_API char *tap_kernel_string(struct tap_context *c, char *dst, unsigned long addr, long maxlen)
{
	long n = maxlen < 0 || maxlen >= TAP_MAXSTRINGLEN ? TAP_MAXSTRINGLEN - 1 : maxlen;

	if (tap_strncpy_nofault(dst, addr, n, false) < 0) {
		dst[0] = '\0';
		tap_error(c, "kernel string copy fault at 0x%lx [man error::fault]", addr);
		return dst;
	}
	dst[n] = '\0';
	return dst;
}
TAP_API_EXPORT(tap_kernel_string);

/**
 * tap_user_string - copy a user C string (current task) into a script string
 * @c: context
 * @dst: TAP_MAXSTRINGLEN bytes
 * @addr: user address
 * @maxlen: at most this many bytes (<0: TAP_MAXSTRINGLEN - 1)
 *
 * Return: @dst; on a bad address "" with "user string copy fault -14 at 0xADDR
 * [man error::fault]" pending.
 */
TAP_API char *tap_user_string(struct tap_context *c, char *dst, unsigned long addr, long maxlen)
{
	long n = maxlen < 0 || maxlen >= TAP_MAXSTRINGLEN ? TAP_MAXSTRINGLEN - 1 : maxlen;

	if (tap_strncpy_nofault(dst, addr, n, true) < 0) {
		dst[0] = '\0';
		tap_error(c, "user string copy fault %d at 0x%lx [man error::fault]", -EFAULT, addr);
		return dst;
	}
	dst[n] = '\0';
	return dst;
}
TAP_API_EXPORT(tap_user_string);

static bool tap_tp_in(struct tap_context *c, u32 offset, u32 size)
{
	if (c->tp_raw && offset + size <= c->tp_size && offset + size >= offset)
		return true;
	tap_error(c, "tracepoint field at offset %u size %u is outside the %u-byte record",
		  offset, size, c->tp_size);
	return false;
}

/**
 * tap_tp_field - a numeric tracepoint field ($field) by its tracefs offset and size
 * @c: context of a tracepoint handler
 * @offset: byte offset in the record (tracefs format "offset:")
 * @size: 1, 2, 4 or 8 ("size:")
 * @is_signed: "signed:"
 *
 * Return: the value (0 with an error pending when outside the record).
 */
TAP_API long tap_tp_field(struct tap_context *c, u32 offset, u32 size, int is_signed)
{
	u64 buf = 0;

	if (!tap_tp_in(c, offset, size))
		return 0;
	memcpy(&buf, (const char *)c->tp_raw + offset, min_t(u32, size, sizeof(buf)));
	return tap_extend(&buf, size, is_signed);
}
TAP_API_EXPORT(tap_tp_field);

/**
 * tap_tp_string - a char[N] tracepoint field (e.g. prev_comm) as a string
 * @c: context
 * @dst: TAP_MAXSTRINGLEN bytes
 * @offset: field offset
 * @size: field size (N)
 *
 * Return: @dst
 */
TAP_API char *tap_tp_string(struct tap_context *c, char *dst, u32 offset, u32 size)
{
	u32 n;

	dst[0] = '\0';
	if (!tap_tp_in(c, offset, size))
		return dst;
	n = min_t(u32, size, TAP_MAXSTRINGLEN - 1);
	memcpy(dst, (const char *)c->tp_raw + offset, n);
	dst[n] = '\0';
	return dst;
}
TAP_API_EXPORT(tap_tp_string);

/**
 * tap_tp_dynstring - a __data_loc char[] field (u32: offset | length << 16)
 * @c: context
 * @dst: TAP_MAXSTRINGLEN bytes
 * @offset: offset of the 4-byte __data_loc word
 *
 * Return: @dst
 */
TAP_API char *tap_tp_dynstring(struct tap_context *c, char *dst, u32 offset)
{
	u32 loc = (u32)tap_tp_field(c, offset, 4, 0);

	dst[0] = '\0';
	if (c->error)
		return dst;
	return tap_tp_string(c, dst, loc & 0xffff, loc >> 16);
}
TAP_API_EXPORT(tap_tp_dynstring);
