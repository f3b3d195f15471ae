/* User-space stand-ins for the kernel and interface names the tapsets' embedded C uses, so pure helpers can be unit-tested with gcc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdarg.h>
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <time.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef long long time64_t;

#define __user
#define __maybe_unused __attribute__((unused))
#define MAXSTRINGLEN 512
#define PAGE_SIZE 4096UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S64_MIN INT64_MIN
#define min(a, b) ((a) < (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define DEFINE_PER_CPU(type, name) type name
#define this_cpu_ptr(p) (p)
#define scnprintf(buf, n, ...) ({ int __k = snprintf(buf, n, __VA_ARGS__); __k < 0 ? 0 : (size_t)__k >= (n) ? (int)(n) - 1 : __k; })
#define irq_fpu_usable() 1
#define kernel_fpu_begin() do { } while (0)
#define kernel_fpu_end() do { } while (0)

static inline long strscpy(char *d, const char *s, size_t n)
{
	size_t len = strnlen(s, n);

	if (len == n) {
		memcpy(d, s, n - 1);
		d[n - 1] = '\0';
		return -E2BIG;
	}
	memcpy(d, s, len + 1);
	return len;
}

static inline const char *skip_spaces(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static inline long long simple_strtoll(const char *s, char **end, unsigned int base)
{
	return (long long)strtoull(s, end, base);
}

/* "memory" here is ordinary process memory; address 0..4095 is treated as unreadable */
static inline long copy_from_kernel_nofault(void *dst, const void *src, size_t n)
{
	if ((unsigned long)src < 4096)
		return -EFAULT;
	memcpy(dst, src, n);
	return 0;
}
#define copy_from_user_nofault(d, s, n) copy_from_kernel_nofault(d, s, n)

/* the kernel's struct tm has a long tm_year; the libc one is used inside time64_to_tm only */
struct tm_k { int tm_sec, tm_min, tm_hour, tm_mday, tm_mon; long tm_year; int tm_wday, tm_yday; };
static inline void time64_to_tm(time64_t t, int off, struct tm_k *r)
{
	time_t tt = t + off;
	struct tm g;

	gmtime_r(&tt, &g);
	r->tm_sec = g.tm_sec; r->tm_min = g.tm_min; r->tm_hour = g.tm_hour; r->tm_mday = g.tm_mday;
	r->tm_mon = g.tm_mon; r->tm_year = g.tm_year; r->tm_wday = g.tm_wday; r->tm_yday = g.tm_yday;
}
#define tm tm_k

/* the interface of tapsets/README.md, for one call at a time */
static char tapsh_error_msg[256];
static int tapsh_error_raised;
#define STAP_ERROR(...) do { snprintf(tapsh_error_msg, sizeof(tapsh_error_msg), __VA_ARGS__); tapsh_error_raised = 1; goto out; } while (0)
#define STAP_WARN(...) do { } while (0)
