/* SPDX-License-Identifier: GPL-2.0 */
/* tap.h - the slim interface every generated tapsh unit (and the runtime itself) includes. */
#ifndef TAP_H
#define TAP_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/atomic.h>
#include <linux/spinlock_types.h>
#include <linux/list.h>
#include <linux/stdarg.h>

/*
 * TAP_API marks runtime entry points other units call. A standalone module is one
 * translation unit, so they stay plain (non-static) functions; a session core build
 * defines TAP_CORE so every one of them is also exported for handler modules.
 */
#ifdef TAP_CORE
#define TAP_API_EXPORT(sym) EXPORT_SYMBOL_GPL(sym)
#else
#define TAP_API_EXPORT(sym)
#endif
#define TAP_API

/* Limits: stap's names and defaults, each overridable with -D NAME=VALUE. */
#ifndef TAP_MAXSTRINGLEN
#ifdef MAXSTRINGLEN
#define TAP_MAXSTRINGLEN MAXSTRINGLEN
#else
#define TAP_MAXSTRINGLEN 512
#endif
#endif
#ifndef TAP_MAXACTION
#ifdef MAXACTION
#define TAP_MAXACTION MAXACTION
#else
#define TAP_MAXACTION 1000
#endif
#endif
#ifndef TAP_MAXACTION_INTERRUPTIBLE
#ifdef MAXACTION_INTERRUPTIBLE
#define TAP_MAXACTION_INTERRUPTIBLE MAXACTION_INTERRUPTIBLE
#else
#define TAP_MAXACTION_INTERRUPTIBLE (TAP_MAXACTION * 10)
#endif
#endif
#ifndef TAP_MAXNESTING
#ifdef MAXNESTING
#define TAP_MAXNESTING MAXNESTING
#else
#define TAP_MAXNESTING 10
#endif
#endif
#ifndef TAP_MAXMAPENTRIES
#ifdef MAXMAPENTRIES
#define TAP_MAXMAPENTRIES MAXMAPENTRIES
#else
#define TAP_MAXMAPENTRIES 2048
#endif
#endif
#ifndef TAP_MAXERRORS
#ifdef MAXERRORS
#define TAP_MAXERRORS MAXERRORS
#else
#define TAP_MAXERRORS 0
#endif
#endif
#ifndef TAP_MAXSKIPPED
#ifdef MAXSKIPPED
#define TAP_MAXSKIPPED MAXSKIPPED
#else
#define TAP_MAXSKIPPED 100
#endif
#endif
#ifndef TAP_MAXTRYLOCK
#ifdef MAXTRYLOCK
#define TAP_MAXTRYLOCK MAXTRYLOCK
#else
#define TAP_MAXTRYLOCK TAP_MAXACTION
#endif
#endif
#ifndef TAP_TRYLOCKDELAY
#ifdef TRYLOCKDELAY
#define TAP_TRYLOCKDELAY TRYLOCKDELAY
#else
#define TAP_TRYLOCKDELAY 10	/* ns */
#endif
#endif
/* Overload guard: probe handlers on one CPU may use THRESHOLD ns per INTERVAL ns (README). */
#if defined(STP_NO_OVERLOAD) && !defined(TAP_NO_OVERLOAD)
#define TAP_NO_OVERLOAD
#endif
#ifndef TAP_OVERLOAD_INTERVAL_NS
#define TAP_OVERLOAD_INTERVAL_NS 1000000000LL
#endif
#ifndef TAP_OVERLOAD_THRESHOLD_NS
#define TAP_OVERLOAD_THRESHOLD_NS 500000000LL
#endif
/* Per-CPU handler output buffer: flushed as one OUTPUT record at handler end (or when full). */
#ifndef TAP_OUTBUF_BYTES
#define TAP_OUTBUF_BYTES 8192
#endif
/* Per-CPU scratch for locals of handlers and function frames (see tap_frame_push). */
#ifndef TAP_FRAME_BYTES
#define TAP_FRAME_BYTES 32768
#endif
#define TAP_MAXKEYS 9
#define TAP_ERRLEN 256

struct pt_regs;
struct kretprobe_instance;
struct tap_context;

/* Global locks: every global has one; handlers list the ones they use (see tap_probe). */
struct tap_lock {
	rwlock_t rw;
};

struct tap_lockspec {
	struct tap_lock *lock;
	int write;
};

enum tap_probe_kind {
	TAP_PROBE_BEGIN,
	TAP_PROBE_END,
	TAP_PROBE_ERROR,
	TAP_PROBE_NEVER,
	TAP_PROBE_TIMER,	/* hrtimer: period_ns, randomize_ns */
	TAP_PROBE_PROFILE,	/* timer.profile: every CPU, every tick */
	TAP_PROBE_KPROBE,	/* symbol (+offset) or addr */
	TAP_PROBE_KRETPROBE,	/* symbol, maxactive */
	TAP_PROBE_TRACEPOINT,	/* tp_system, tp_event */
};

/**
 * struct tap_probe - one probe point of a script, as the translator emits it
 * @kind: what to register
 * @handler: the script body; runs with the context entered and globals locked
 * @pp: the probe point as written/resolved, for pp() and messages
 * @priority: begin/end/error order (lower first)
 * @optional: a '?' point: failure to register is a WARNING, not an error
 * @symbol: kprobe/kretprobe function name (may include "module:"-less symbol only)
 * @offset: kprobe offset from @symbol
 * @addr: kprobe absolute address when @symbol is NULL
 * @maxactive: kretprobe instances (0: the kernel's default)
 * @entry_handler: kretprobe: runs at function entry (for @entry(expr)); it stores into
 *	c->ri->data, which the return handler reads
 * @entry_data_size: kretprobe: bytes of c->ri->data per instance
 * @period_ns: timer period (timer.ns/us/ms/s/hz)
 * @period_jiffies: timer.jiffies(N): N here, the runtime converts with the target's HZ
 * @randomize_ns: timer.randomize(M): each period is +-M (uniform)
 * @tp_system: tracepoint subsystem ("sched")
 * @tp_event: tracepoint event ("sched_switch")
 * @tp_probe: kernel.trace reading the event's TP_PROTO arguments: the probe function to
 *	register on the tracepoint (its prototype with every argument an unsigned long); it
 *	calls tap_tp_args_hit(data, args, n) and the handler finds the arguments in c->tp_raw
 *	(an unsigned long array, c->tp_size bytes). NULL: the event's perf record (format fields)
 * @tp_fields: with @tp_probe: the handler also reads the record's fields, so it runs from the
 *	perf record and the probe function only keeps the arguments (read with tap_tp_arg)
 * @locks: the globals the handler touches, with the access it needs, in a fixed order
 * @nlocks: entries in @locks
 */
struct tap_probe {
	enum tap_probe_kind kind;
	void (*handler)(struct tap_context *c);
	const char *pp;
	int priority;
	int optional;
	const char *symbol;
	unsigned long offset;
	unsigned long addr;
	int maxactive;
	void (*entry_handler)(struct tap_context *c);
	size_t entry_data_size;
	s64 period_ns;
	long period_jiffies;
	s64 randomize_ns;
	const char *tp_system;
	const char *tp_event;
	void *tp_probe;
	int tp_fields;
	const struct tap_lockspec *locks;
	unsigned int nlocks;
};

/**
 * struct tap_script - what a generated module defines (one, named tap_script)
 * @name: script name for messages (e.g. "a.stp")
 * @probes: the probe table
 * @nprobes: entries in @probes
 * @init: allocates globals (process context, may sleep); 0 or -errno
 * @exit: frees them; called after every probe is gone
 */
struct tap_script {
	const char *name;
	const struct tap_probe *probes;
	unsigned int nprobes;
	int (*init)(void);
	void (*exit)(void);
};

/**
 * struct tap_context - per-CPU state of the running handler
 * @busy: reentrancy guard (1 while a handler runs on this CPU)
 * @error: an error is pending, its message in @errbuf (generated code reads it)
 * @probe: the probe that fired (generated code: ->pp, ->symbol)
 * @regs: registers at the hit, NULL for begin/end (generated code)
 * @ri: kretprobe instance in .return handlers (generated code)
 * @tp_raw: tracepoint record in the tracefs format layout (read with tap_tp_*)
 * @tp_size: its size
 * @actions: statements counted so far (TAP_ACTIONS)
 * @maxaction: this hit's limit (MAXACTION or MAXACTION_INTERRUPTIBLE)
 * @nesting: function call depth (TAP_FUNC_ENTER)
 * @last_stmt: where the next error happens, set by generated code
 * @irqflags: interrupt state to restore at exit
 * @t0: local_clock() at entry
 * @ovl_start: overload guard window start
 * @ovl_time: handler time in that window
 * @hits: hits on this CPU
 * @frame_top: bytes of @frames in use
 * @outlen: bytes of @outbuf in use
 * @errbuf: the pending error's message
 * @outbuf: the handler's output, flushed as one OUTPUT record
 * @frames: locals of the handler and its functions (tap_frame_push)
 */
struct tap_context {
	atomic_t busy;
	int error;
	const struct tap_probe *probe;
	struct pt_regs *regs;
	struct kretprobe_instance *ri;
	const void *tp_raw;
	u32 tp_size;
	long actions;
	long maxaction;
	int nesting;
	const char *last_stmt;
	unsigned long irqflags;
	u64 t0;
	u64 ovl_start, ovl_time;
	u64 hits;
	u32 frame_top;
	u32 outlen;
	u32 entry;		/* session entry of the running handler (0: none) */
	char errbuf[TAP_ERRLEN];
	char outbuf[TAP_OUTBUF_BYTES];
	char frames[TAP_FRAME_BYTES] __aligned(16);
};

/* --- context, errors and limits (context.c) --- */
TAP_API struct tap_context *tap_this_context(void);
TAP_API void tap_tp_args_hit(void *data, const unsigned long *args, unsigned int n);
TAP_API unsigned long tap_tp_arg(struct tap_context *c, unsigned int i);
TAP_API void tap_error(struct tap_context *c, const char *fmt, ...) __printf(2, 3);
TAP_API void tap_script_error(struct tap_context *c, const char *msg);
TAP_API void tap_error_maxaction(struct tap_context *c);
TAP_API void tap_error_maxnesting(struct tap_context *c);
TAP_API void tap_warn(const char *fmt, ...) __printf(1, 2);
TAP_API void tap_exit(void);
TAP_API void *tap_frame_push(struct tap_context *c, u32 size);
TAP_API long tap_div(struct tap_context *c, long a, long b);
TAP_API long tap_mod(struct tap_context *c, long a, long b);

/* Count N actions; on MAXACTION jump to LABEL with the error pending. */
#define TAP_ACTIONS(c, n, label)						\
	do {									\
		if (unlikely(((c)->actions += (n)) > (c)->maxaction)) {	\
			tap_error_maxaction(c);					\
			goto label;						\
		}								\
	} while (0)

/* Jump to LABEL when an error is pending (after any call that can fail). */
#define TAP_CHECK(c, label)							\
	do {									\
		if (unlikely((c)->error))					\
			goto label;						\
	} while (0)

/* Function prologue/epilogue: MAXNESTING and the frame of locals. */
#define TAP_FUNC_ENTER(c, label)						\
	do {									\
		if (unlikely(++(c)->nesting > TAP_MAXNESTING)) {		\
			(c)->nesting--;						\
			tap_error_maxnesting(c);				\
			goto label;						\
		}								\
	} while (0)
#define TAP_FUNC_EXIT(c) ((c)->nesting--)
#define TAP_FRAME_MARK(c) ((c)->frame_top)
#define TAP_FRAME_POP(c, mark) ((c)->frame_top = (mark))

/* try/catch support: the pending message, and clearing it. */
static inline const char *tap_error_msg(struct tap_context *c)
{
	return c->errbuf;
}

static inline void tap_error_clear(struct tap_context *c)
{
	c->error = 0;
	c->errbuf[0] = '\0';
}

/* --- strings and printing (string.c, printf.c) --- */
TAP_API void tap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
TAP_API void tap_printf(struct tap_context *c, const char *fmt, ...);
TAP_API void tap_sprintf(char *dst, const char *fmt, ...);
TAP_API void tap_print_str(struct tap_context *c, const char *s);
TAP_API void tap_print_long(struct tap_context *c, long v);
TAP_API void tap_print_char(struct tap_context *c, int ch);
TAP_API void tap_print_mem(struct tap_context *c, const char *s, size_t n);
TAP_API void tap_flush(struct tap_context *c);
TAP_API char *tap_strcpy(char *dst, const char *src);
TAP_API char *tap_strcat(char *dst, const char *src);
TAP_API char *tap_sprint_long(char *dst, long v);
TAP_API int tap_strcmp(const char *a, const char *b);

/* --- safe memory access (memory.c) --- */
TAP_API long tap_kread(struct tap_context *c, unsigned long addr, int size, int is_signed);
TAP_API long tap_tread(struct tap_context *c, unsigned long addr, int size, int is_signed);
TAP_API int tap_kwrite(struct tap_context *c, unsigned long addr, int size, long val);
TAP_API char *tap_kernel_string(struct tap_context *c, char *dst, unsigned long addr, long maxlen);
TAP_API char *tap_user_string(struct tap_context *c, char *dst, unsigned long addr, long maxlen);
TAP_API long tap_uread(struct tap_context *c, unsigned long addr, int size, int is_signed);
TAP_API long tap_tp_field(struct tap_context *c, u32 offset, u32 size, int is_signed);
TAP_API char *tap_tp_string(struct tap_context *c, char *dst, u32 offset, u32 size);
TAP_API char *tap_tp_dynstring(struct tap_context *c, char *dst, u32 offset);

/* --- statistics (stat.c) --- */
enum tap_hist_kind {
	TAP_HIST_NONE,
	TAP_HIST_LOG,
	TAP_HIST_LINEAR,
};

/**
 * struct tap_hist_spec - histogram shape of a statistics variable
 * @kind: none, log or linear
 * @start: linear: lowest bucket value
 * @stop: linear: end of the range
 * @interval: linear: bucket width
 * @nbuckets: buckets counted (computed by tap_hist_init)
 * @shift: @variance precision: means are kept scaled by 2^shift
 */
struct tap_hist_spec {
	enum tap_hist_kind kind;
	long start, stop, interval;
	int nbuckets;
	int shift;
};

#define TAP_HIST_LOG_BUCKETS 128	/* 64 negative, 64 non-negative (0 has its own) */

/**
 * struct tap_agg - an aggregated statistic, as @count/@sum/... read it
 * @count: values added
 * @sum: their sum
 * @min: smallest (valid when @count > 0)
 * @max: largest
 * @avg_s: for @variance, the sum over CPUs of count * running mean (scaled by 2^shift)
 * @avg2_s: the sum over CPUs of count * running mean squared
 * @m2: the sum over CPUs of (count - 1) * that CPU's variance (truncated, as stap's)
 * @hist: the histogram shape
 * @buckets: hist->nbuckets counters, NULL without a histogram
 */
struct tap_agg {
	long count, sum, min, max;
	s64 avg_s, m2, avg2_s;
	const struct tap_hist_spec *hist;
	long *buckets;		/* hist->nbuckets counters (NULL when no histogram) */
};

struct tap_stat;

TAP_API struct tap_stat *tap_stat_new(enum tap_hist_kind kind, long start, long stop, long interval);
TAP_API void tap_stat_free(struct tap_stat *st);
TAP_API void tap_stat_set_shift(struct tap_stat *st, int shift);
TAP_API void tap_stat_add(struct tap_stat *st, long v);
TAP_API struct tap_agg *tap_stat_get(struct tap_stat *st);
TAP_API void tap_stat_clear(struct tap_stat *st);
TAP_API long tap_agg_count(struct tap_agg *a);
TAP_API long tap_agg_sum(struct tap_agg *a);
TAP_API long tap_agg_min(struct tap_context *c, struct tap_agg *a);
TAP_API long tap_agg_max(struct tap_context *c, struct tap_agg *a);
TAP_API long tap_agg_avg(struct tap_context *c, struct tap_agg *a);
TAP_API long tap_agg_variance(struct tap_context *c, struct tap_agg *a, int shift);
TAP_API void tap_print_hist(struct tap_context *c, struct tap_agg *a);
TAP_API void tap_sprint_hist(struct tap_context *c, char *dst, struct tap_agg *a);
TAP_API long tap_hist_bucket(struct tap_context *c, struct tap_agg *a, long i);

/* --- maps (map.c) --- */
enum tap_vtype {
	TAP_LONG,
	TAP_STRING,
	TAP_STAT,
};

/* Sort columns for tap_map_iter: 0 the value, 1..9 a key; stat values sort by a field. */
enum tap_agg_field {
	TAP_AGG_COUNT,
	TAP_AGG_SUM,
	TAP_AGG_MIN,
	TAP_AGG_MAX,
	TAP_AGG_AVG,
};

struct tap_map;
struct tap_entry;

TAP_API struct tap_map *tap_map_new(const char *keys, enum tap_vtype vtype, unsigned int max,
				    enum tap_hist_kind hist, long start, long stop, long interval);
TAP_API void tap_map_free(struct tap_map *m);
TAP_API void tap_map_set_shift(struct tap_map *m, int shift);
TAP_API long tap_map_get_long(struct tap_map *m, ...);
TAP_API const char *tap_map_get_str(struct tap_map *m, ...);
TAP_API struct tap_agg *tap_map_get_agg(struct tap_map *m, ...);
TAP_API int tap_map_set_long(struct tap_context *c, struct tap_map *m, long v, ...);
TAP_API int tap_map_set_str(struct tap_context *c, struct tap_map *m, const char *v, ...);
TAP_API long *tap_map_ref_long(struct tap_context *c, struct tap_map *m, ...);
TAP_API int tap_map_stat_add(struct tap_context *c, struct tap_map *m, long v, ...);
TAP_API int tap_map_exists(struct tap_map *m, ...);
TAP_API void tap_map_delete(struct tap_map *m, ...);
TAP_API void tap_map_clear(struct tap_map *m);
TAP_API unsigned int tap_map_size(struct tap_map *m);
TAP_API struct tap_entry *tap_map_iter(struct tap_map *m, int column, int dir, enum tap_agg_field field);
TAP_API struct tap_entry *tap_map_next(struct tap_map *m, struct tap_entry *e);
TAP_API long tap_key_long(struct tap_map *m, struct tap_entry *e, int i);
TAP_API const char *tap_key_str(struct tap_map *m, struct tap_entry *e, int i);
TAP_API long tap_val_long(struct tap_map *m, struct tap_entry *e);
TAP_API const char *tap_val_str(struct tap_map *m, struct tap_entry *e);
TAP_API struct tap_agg *tap_val_agg(struct tap_map *m, struct tap_entry *e);

/* --- globals' locks (context.c) --- */
TAP_API void tap_lock_init(struct tap_lock *l);

/* --- session core (session.c; the core is built with -DTAP_CORE) --- */
enum tap_gkind {
	TAP_G_LONG,
	TAP_G_STRING,
	TAP_G_STAT,
	TAP_G_MAP,
};

TAP_API void *tap_global(const char *name, enum tap_gkind kind, const char *keys, enum tap_vtype vtype,
			 unsigned int max, enum tap_hist_kind hist, long start, long stop, long interval,
			 struct tap_lock **lock);
TAP_API void *tap_session_global(const char *name, enum tap_gkind kind, const char *keys,
				 enum tap_vtype vtype, enum tap_hist_kind hist, long start, long stop,
				 long interval);
TAP_API struct tap_lock *tap_session_lock(const char *name);
TAP_API int tap_session_attach(const struct tap_script *s, u32 entry);
TAP_API void tap_session_detach(const struct tap_script *s);

#endif /* TAP_H */
