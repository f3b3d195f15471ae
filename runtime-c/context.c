// SPDX-License-Identifier: GPL-2.0
/* context.c - per-CPU probe contexts: entry/exit, reentrancy, locks, limits, errors, overload. */
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/sched/clock.h>
#include <linux/vmalloc.h>
#include "tap_rt.h"

static struct tap_context **tap_ctx;	/* one per possible CPU, vzalloc'ed (too big for percpu) */

atomic_t tap_disarmed = ATOMIC_INIT(0);
atomic_t tap_state_v = ATOMIC_INIT(TAP_LOADED);
atomic_t tap_stop_requested = ATOMIC_INIT(0);
atomic_t tap_errored = ATOMIC_INIT(0);
atomic64_t tap_nskipped, tap_nerrors, tap_nreentered, tap_nlockfail;
static atomic_t tap_skip_reported = ATOMIC_INIT(0);

/**
 * tap_lock_init - initialise a global's lock (from tap_script.init)
 * @l: the lock
 */
TAP_API void tap_lock_init(struct tap_lock *l)
{
	rwlock_init(&l->rw);
}
TAP_API_EXPORT(tap_lock_init);

/*
 * Bounded patience, about stap's MAXTRYLOCK x TRYLOCKDELAY ns: one PAUSE per try and
 * TRYLOCKDELAY/10 more. Not ndelay(): on CPUs with WAITPKG the kernel's delay loop uses
 * TPAUSE, which qemu's TCG mis-emulates (udelay in a handler killed the lab VM).
 */
static bool tap_trylock_one(const struct tap_lockspec *ls)
{
	int i, j;

	for (i = 0; i < TAP_MAXTRYLOCK; i++) {
		if (ls->write ? write_trylock(&ls->lock->rw) : read_trylock(&ls->lock->rw))
			return true;
		for (j = 0; j <= TAP_TRYLOCKDELAY / 10; j++)
			cpu_relax();
	}
	return false;
}

static void tap_unlock_n(const struct tap_probe *p, unsigned int n)
{
	while (n--) {
		const struct tap_lockspec *ls = &p->locks[n];

		if (ls->write)
			write_unlock(&ls->lock->rw);
		else
			read_unlock(&ls->lock->rw);
	}
}

static bool tap_lock_all(const struct tap_probe *p)
{
	unsigned int i;

	for (i = 0; i < p->nlocks; i++) {
		if (!tap_trylock_one(&p->locks[i])) {
			tap_unlock_n(p, i);
			return false;
		}
	}
	return true;
}

/* Stop the script once: an ERROR record, then the same path as exit(). */
static void tap_fatal(const char *msg)
{
	tap_record(TAP_REC_ERROR, msg, strlen(msg), true);
	atomic_set(&tap_errored, 1);
	tap_request_stop();
}

/**
 * tap_count_skip - count a skipped hit; too many stops the script (MAXSKIPPED)
 */
TAP_API void tap_count_skip(void)
{
	if (atomic64_inc_return(&tap_nskipped) > TAP_MAXSKIPPED &&
	    !atomic_xchg(&tap_skip_reported, 1))
		tap_fatal("Skipped too many probes, check MAXSKIPPED or try again with stap -t for more details.");
}

/*
 * Handlers run with interrupts off (as stap's), so an interrupt's probe cannot find
 * the context busy and be skipped. -DTAP_IRQS_ON keeps them on (preemption off only):
 * cheaper per hit, but hits from interrupts during a handler on the same CPU are skipped.
 */
#ifdef TAP_IRQS_ON
#define tap_irq_save(f) do { (f) = 0; preempt_disable_notrace(); } while (0)
#define tap_irq_restore(f) preempt_enable_notrace()
#else
#define tap_irq_save(f) local_irq_save(f)
#define tap_irq_restore(f) local_irq_restore(f)
#endif

static bool tap_is_process_probe(const struct tap_probe *p)
{
	return p->kind == TAP_PROBE_BEGIN || p->kind == TAP_PROBE_END || p->kind == TAP_PROBE_ERROR;
}

/**
 * tap_this_context - the context of the handler running on this CPU
 *
 * For code that has no context parameter (tapset C helpers: STAP_PROBE_REGS() and friends).
 * Only meaningful inside a handler, where preemption is off.
 */
TAP_API struct tap_context *tap_this_context(void)
{
	return tap_ctx[raw_smp_processor_id()];
}
TAP_API_EXPORT(tap_this_context);

/**
 * tap_enter - enter this CPU's context for a probe hit
 * @p: the probe
 * @regs: registers at the hit (NULL for begin/end)
 * @unused: reserved (0)
 *
 * Checks the disarm flag first, then the state, reentrancy and the globals'
 * locks. On success interrupts are off and the context is ours until tap_leave().
 *
 * Return: the context, or NULL when the hit is skipped.
 */
TAP_API struct tap_context *tap_enter(const struct tap_probe *p, struct pt_regs *regs, long unused)
{
	struct tap_context *c;
	unsigned long flags;

	if (unlikely(atomic_read(&tap_disarmed)))
		return NULL;
	if (!tap_is_process_probe(p) && atomic_read(&tap_state_v) != TAP_RUNNING)
		return NULL;
	tap_irq_save(flags);
	c = tap_ctx[smp_processor_id()];
	if (unlikely(atomic_inc_return(&c->busy) != 1)) {
		atomic_dec(&c->busy);
		tap_irq_restore(flags);
		atomic64_inc(&tap_nreentered);
		tap_count_skip();
		return NULL;
	}
	if (unlikely(!tap_lock_all(p))) {
		atomic_dec(&c->busy);
		tap_irq_restore(flags);
		atomic64_inc(&tap_nlockfail);
		tap_count_skip();
		return NULL;
	}
	c->hits++;	/* per CPU: no shared cache line on the hot path */
	c->irqflags = flags;
	c->probe = p;
	c->entry = 0;
	c->regs = regs;
	c->ri = NULL;
	c->tp_raw = NULL;
	c->tp_size = 0;
	c->actions = 0;
	c->maxaction = tap_is_process_probe(p) ? TAP_MAXACTION_INTERRUPTIBLE : TAP_MAXACTION;
	c->nesting = 0;
	c->error = 0;
	c->errbuf[0] = '\0';
	c->last_stmt = NULL;
	c->frame_top = 0;
	c->outlen = 0;
#ifndef TAP_NO_OVERLOAD
	c->t0 = local_clock();
#endif
	return c;
}

static void tap_report_error(struct tap_context *c)
{
	int n;

	if (c->last_stmt)
		n = scnprintf(c->outbuf, sizeof(c->outbuf), "%s near %s", c->errbuf, c->last_stmt);
	else
		n = scnprintf(c->outbuf, sizeof(c->outbuf), "%s", c->errbuf);
	tap_record_entry(TAP_REC_ERROR, c->entry, c->outbuf, n, true);
	if (atomic64_inc_return(&tap_nerrors) > TAP_MAXERRORS) {
		atomic_set(&tap_errored, 1);
		tap_request_stop();
	}
}

#ifndef TAP_NO_OVERLOAD
static void tap_overload_check(struct tap_context *c, u64 now)
{
	if (tap_is_process_probe(c->probe))
		return;
	if (now - c->ovl_start > TAP_OVERLOAD_INTERVAL_NS) {
		c->ovl_start = now;
		c->ovl_time = 0;
	}
	c->ovl_time += now - c->t0;
	if (unlikely(c->ovl_time > TAP_OVERLOAD_THRESHOLD_NS) && !c->error) {
		tap_error(c, "probe overhead (%llu ns) exceeded threshold (%llu ns) in last %llu ns",
			  c->ovl_time, (u64)TAP_OVERLOAD_THRESHOLD_NS, now - c->ovl_start);
		c->last_stmt = NULL;
		c->ovl_time = 0;
	}
}
#else
static void tap_overload_check(struct tap_context *c, u64 now)
{
}
#endif

/**
 * tap_leave - end a hit: flush output, report a pending error, unlock, release
 * @c: the context from tap_enter()
 */
TAP_API void tap_leave(struct tap_context *c)
{
	unsigned long flags = c->irqflags;

	tap_overload_check(c, local_clock());
	tap_flush(c);
	if (unlikely(c->error))
		tap_report_error(c);
	tap_unlock_n(c->probe, c->probe->nlocks);
	c->probe = NULL;
	atomic_dec(&c->busy);
	tap_irq_restore(flags);
}

/**
 * tap_error - raise a script error in the running handler (first one wins)
 * @c: context
 * @fmt: printf-style message, stap's wording (e.g. "division by 0")
 *
 * The handler must then unwind (TAP_CHECK) to its end or to the enclosing catch.
 * At tap_leave() the message goes out as an ERROR record, with " near " and
 * c->last_stmt appended when set.
 */
TAP_API void tap_error(struct tap_context *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error)
		return;
	va_start(ap, fmt);
	vsnprintf(c->errbuf, sizeof(c->errbuf), fmt, ap);
	va_end(ap);
	c->error = 1;
}
TAP_API_EXPORT(tap_error);

/**
 * tap_script_error - the script's error(msg): reported as msg alone (no " near ...")
 * @c: context
 * @msg: the message
 */
TAP_API void tap_script_error(struct tap_context *c, const char *msg)
{
	if (c->error)
		return;
	tap_error(c, "%s", msg);
	c->last_stmt = NULL;
}
TAP_API_EXPORT(tap_script_error);

/**
 * tap_error_maxaction - the MAXACTION error (used by TAP_ACTIONS)
 * @c: context
 */
TAP_API void tap_error_maxaction(struct tap_context *c)
{
	tap_error(c, "MAXACTION exceeded");
}
TAP_API_EXPORT(tap_error_maxaction);

/**
 * tap_error_maxnesting - the MAXNESTING error (used by TAP_FUNC_ENTER)
 * @c: context
 */
TAP_API void tap_error_maxnesting(struct tap_context *c)
{
	tap_error(c, "MAXNESTING exceeded");
}
TAP_API_EXPORT(tap_error_maxnesting);

/**
 * tap_warn - send a WARNING record (any context)
 * @fmt: printf-style message without "WARNING: "
 */
TAP_API void tap_warn(const char *fmt, ...)
{
	char buf[TAP_ERRLEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vscnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_record(TAP_REC_WARNING, buf, n, true);
}
TAP_API_EXPORT(tap_warn);

/**
 * tap_exit - the script's exit(): stop after this handler (it keeps running, as in stap)
 */
TAP_API void tap_exit(void)
{
	tap_request_stop();
}
TAP_API_EXPORT(tap_exit);

/**
 * tap_frame_push - take zeroed scratch space for locals from the context
 * @c: context
 * @size: bytes
 *
 * Frames are released with TAP_FRAME_POP(c, mark) (mark from TAP_FRAME_MARK
 * taken before the push); everything is released at handler end.
 *
 * Return: the space, or NULL with an error pending.
 */
TAP_API void *tap_frame_push(struct tap_context *c, u32 size)
{
	u32 at = ALIGN(c->frame_top, 16);
	void *p;

	if (unlikely(at + size > TAP_FRAME_BYTES || at + size < at)) {
		tap_error(c, "MAXNESTING exceeded (out of frame space, TAP_FRAME_BYTES=%d)", TAP_FRAME_BYTES);
		return NULL;
	}
	p = c->frames + at;
	memset(p, 0, size);
	c->frame_top = at + size;
	return p;
}
TAP_API_EXPORT(tap_frame_push);

/**
 * tap_div - a / b with stap's semantics
 * @c: context
 * @a: dividend
 * @b: divisor
 *
 * Return: the quotient; 0 with "division by 0" pending when @b is 0.
 */
TAP_API long tap_div(struct tap_context *c, long a, long b)
{
	if (unlikely(b == 0)) {
		tap_error(c, "division by 0");
		return 0;
	}
	if (unlikely(b == -1))
		return (long)(0UL - (unsigned long)a);	/* LONG_MIN / -1 would trap */
	return a / b;
}
TAP_API_EXPORT(tap_div);

/**
 * tap_mod - a % b with stap's semantics
 * @c: context
 * @a: dividend
 * @b: divisor
 *
 * Return: the remainder; 0 with "division by 0" pending when @b is 0.
 */
TAP_API long tap_mod(struct tap_context *c, long a, long b)
{
	if (unlikely(b == 0)) {
		tap_error(c, "division by 0");
		return 0;
	}
	if (unlikely(b == -1))
		return 0;
	return a % b;
}
TAP_API_EXPORT(tap_mod);

/**
 * tap_hits - probe hits so far, summed over CPUs
 */
TAP_API u64 tap_hits(void)
{
	u64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(tap_ctx[cpu]->hits);
	return n;
}

/**
 * tap_context_init - allocate every CPU's context
 *
 * Return: 0 or -ENOMEM (everything undone).
 */
TAP_API int tap_context_init(void)
{
	int cpu;

	tap_ctx = kcalloc(nr_cpu_ids, sizeof(*tap_ctx), GFP_KERNEL);
	if (!tap_ctx)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		tap_ctx[cpu] = vzalloc(sizeof(struct tap_context));
		if (!tap_ctx[cpu])
			goto free_contexts;
	}
	return 0;
free_contexts:
	tap_context_exit();
	return -ENOMEM;
}

/**
 * tap_context_exit - free the contexts (no handler may be running)
 */
TAP_API void tap_context_exit(void)
{
	int cpu;

	if (!tap_ctx)
		return;
	for_each_possible_cpu(cpu)
		vfree(tap_ctx[cpu]);
	kfree(tap_ctx);
	tap_ctx = NULL;
}
