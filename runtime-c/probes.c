// SPDX-License-Identifier: GPL-2.0
/* probes.c - registering the probe table: begin/end/error, hrtimers, profile, kprobes, kretprobes, tracepoints. */
#include <linux/trace_events.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/perf_event.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/module.h>
#include <asm/irq_regs.h>
#include "tap_rt.h"

/* A tracepoint's arguments as tap_tp_arg reads them (see tap_tp_args_hit). */
#define TAP_TP_MAXARGS 12
struct tap_tp_args {
	unsigned long v[TAP_TP_MAXARGS];
	unsigned int n;
};

/* While a handler reading both arguments and record fields runs: its arguments. */
static DEFINE_PER_CPU(const struct tap_tp_args *, tap_tp_cur);

/* Mutable registration state, one per probe-table entry (allocated at init). */
struct tap_set;

struct tap_pstate {
	const struct tap_probe *p;
	struct tap_set *set;
	int armed;
	struct kprobe kp;
	struct kretprobe krp;
	struct hrtimer hr;
	struct perf_event **events;	/* per CPU: tracepoint / profile */
	struct tracepoint *tp;		/* tracepoint with TP_PROTO arguments (tp_probe) */
	struct module *tp_mod;		/* the module defining it, pinned while registered */
	struct tap_tp_args __percpu *stash;	/* tp_fields too: the arguments, for the record's handler */
};

/*
 * A probe set: one script's table and its registration state. A standalone module has
 * one (tap_script); a session core has one per attached handler module (session.c).
 * The list changes only under tap_ctl_mutex.
 */
struct tap_set {
	const struct tap_script *script;
	struct tap_pstate *ps;
	struct list_head node;
	u32 entry;		/* session entry number (0: the module's own script) */
	atomic_t disabled;	/* session: `disable ENTRY` (hits are skipped, not counted) */
	atomic64_t hits;	/* session entries only: handler runs */
	atomic64_t errors;	/* session entries only: runs that ended in a script error */
};

static LIST_HEAD(tap_sets);
static struct tap_set tap_main_set;

/*
 * Run @fn for a hit of @p, which belongs to @set (NULL: find nothing to tag). A
 * session entry's hits are tagged with its number, counted, and skipped while it
 * is disabled; the module's own script (entry 0) pays none of that.
 */
static bool tap_run_fn(const struct tap_probe *p, struct tap_set *set, void (*fn)(struct tap_context *c),
		       struct pt_regs *regs, struct kretprobe_instance *ri, const void *raw, u32 rawsize)
{
	u32 entry = set ? set->entry : 0;
	struct tap_context *c;

	if (unlikely(entry) && atomic_read(&set->disabled))
		return false;
	c = tap_enter(p, regs, 0);
	if (!c)
		return false;
	c->entry = entry;
	c->ri = ri;
	c->tp_raw = raw;
	c->tp_size = rawsize;
	fn(c);
	if (unlikely(entry)) {
		atomic64_inc(&set->hits);
		if (c->error)
			atomic64_inc(&set->errors);
	}
	tap_leave(c);
	return true;
}

static void tap_run_handler(const struct tap_pstate *ps, struct pt_regs *regs,
			    struct kretprobe_instance *ri, const void *raw, u32 rawsize)
{
	tap_run_fn(ps->p, ps->set, ps->p->handler, regs, ri, raw, rawsize);
}

/* --- begin / end / error --- */

static int tap_prio_cmp(const void *a, const void *b)
{
	const struct tap_probe *pa = (*(struct tap_pstate * const *)a)->p;
	const struct tap_probe *pb = (*(struct tap_pstate * const *)b)->p;

	if (pa->priority != pb->priority)
		return pa->priority < pb->priority ? -1 : 1;
	return 0;
}

static unsigned int tap_sets_nprobes(void)
{
	struct tap_set *set;
	unsigned int n = 0;

	list_for_each_entry(set, &tap_sets, node)
		n += set->script->nprobes;
	return n;
}

/* Run the given probes (process context) in priority order, stable. */
static void tap_run_list(struct tap_pstate **v, unsigned int n, enum tap_probe_kind kind)
{
	unsigned int i, j;

	/* insertion sort: stable, and these lists are short */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && tap_prio_cmp(&v[j - 1], &v[j]) > 0; j--)
			swap(v[j - 1], v[j]);
	for (i = 0; i < n; i++) {
		s64 errors = atomic64_read(&tap_nerrors);

		if (atomic_read(&tap_disarmed))
			break;
		tap_run_handler(v[i], NULL, NULL, NULL, 0);
		if (atomic64_read(&tap_nerrors) != errors && atomic_read(&tap_errored))
			break;
		if (kind == TAP_PROBE_BEGIN && atomic_read(&tap_stop_requested))
			break;
	}
}

/**
 * tap_set_run_simple - run the begin/end/error probes of one set, or of all
 * @only: the set (NULL: every set, merged by priority)
 * @kind: TAP_PROBE_BEGIN, TAP_PROBE_END or TAP_PROBE_ERROR
 *
 * Process context, tap_ctl_mutex held.
 */
static void tap_set_run_simple(struct tap_set *only, enum tap_probe_kind kind)
{
	struct tap_pstate **v;
	struct tap_set *set;
	unsigned int i, n = 0;

	v = kcalloc(max(tap_sets_nprobes(), 1U), sizeof(*v), GFP_KERNEL);
	if (!v)
		return;
	list_for_each_entry(set, &tap_sets, node) {
		if (only && set != only)
			continue;
		for (i = 0; i < set->script->nprobes; i++)
			if (set->script->probes[i].kind == kind)
				v[n++] = &set->ps[i];
	}
	tap_run_list(v, n, kind);
	kfree(v);
}

/**
 * tap_run_simple - run every begin, end or error probe of every set in priority order
 * @kind: TAP_PROBE_BEGIN, TAP_PROBE_END or TAP_PROBE_ERROR
 *
 * Process context, tap_ctl_mutex held. Begin probes stop at the first that calls
 * exit() or fails; end and error probes stop at the first uncaught error (stap 4.8
 * does both).
 */
TAP_API void tap_run_simple(enum tap_probe_kind kind)
{
	tap_set_run_simple(NULL, kind);
}

/* --- timers --- */

static u64 tap_timer_period(const struct tap_probe *p)
{
	s64 ns = p->period_jiffies ? (s64)jiffies_to_nsecs(p->period_jiffies) : p->period_ns;

	if (p->randomize_ns > 0)
		ns += (s64)(get_random_u32() % (u32)(2 * p->randomize_ns + 1)) - p->randomize_ns;
	return max_t(s64, ns, 1000);
}

static enum hrtimer_restart tap_hrtimer_fn(struct hrtimer *t)
{
	struct tap_pstate *ps = container_of(t, struct tap_pstate, hr);

	if (atomic_read(&tap_disarmed) || atomic_read(&tap_state_v) > TAP_RUNNING)
		return HRTIMER_NORESTART;
	tap_run_handler(ps, get_irq_regs(), NULL, NULL, 0);
	hrtimer_forward_now(t, ns_to_ktime(tap_timer_period(ps->p)));
	return HRTIMER_RESTART;
}

static int tap_arm_timer(struct tap_pstate *ps)
{
	hrtimer_init(&ps->hr, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	ps->hr.function = tap_hrtimer_fn;
	hrtimer_start(&ps->hr, ns_to_ktime(tap_timer_period(ps->p)), HRTIMER_MODE_REL);
	return 0;
}

/* --- perf events: timer.profile and tracepoints --- */

static void tap_perf_profile(struct perf_event *ev, struct perf_sample_data *data, struct pt_regs *regs)
{
	struct tap_pstate *ps = ev->overflow_handler_context;

	tap_run_handler(ps, regs, NULL, NULL, 0);
}

static void tap_perf_tp(struct perf_event *ev, struct perf_sample_data *data, struct pt_regs *regs)
{
	struct tap_pstate *ps = ev->overflow_handler_context;

	if (!data->raw)
		return;
	if (ps->stash)
		this_cpu_write(tap_tp_cur, this_cpu_ptr(ps->stash));
	tap_run_handler(ps, regs, NULL, data->raw->frag.data, data->raw->frag.size);
	if (ps->stash)
		this_cpu_write(tap_tp_cur, NULL);
}

static void tap_perf_release(struct tap_pstate *ps)
{
	int cpu;

	if (!ps->events)
		return;
	for_each_possible_cpu(cpu)
		if (!IS_ERR_OR_NULL(ps->events[cpu]))
			perf_event_release_kernel(ps->events[cpu]);
	kfree(ps->events);
	ps->events = NULL;
}

static int tap_perf_create(struct tap_pstate *ps, struct perf_event_attr *attr,
			   perf_overflow_handler_t fn)
{
	int cpu, err;

	ps->events = kcalloc(nr_cpu_ids, sizeof(*ps->events), GFP_KERNEL);
	if (!ps->events)
		return -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		ps->events[cpu] = perf_event_create_kernel_counter(attr, cpu, NULL, fn, ps);
		if (IS_ERR(ps->events[cpu])) {
			err = PTR_ERR(ps->events[cpu]);
			ps->events[cpu] = NULL;
			cpus_read_unlock();
			tap_perf_release(ps);
			return err;
		}
	}
	cpus_read_unlock();
	return 0;
}

static int tap_arm_profile(struct tap_pstate *ps)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_period = NSEC_PER_SEC / HZ,
		.pinned = 1,
	};

	return tap_perf_create(ps, &attr, tap_perf_profile);
}

/*
 * Tracepoints whose TP_PROTO arguments the script reads ($prev, $next) are attached to the
 * tracepoint itself: the translator emits a probe function with the event's prototype
 * (every argument as an unsigned long) that calls tap_tp_args_hit. Handlers see the
 * arguments as an array in c->tp_raw (c->tp_size bytes) and have no registers.
 */
struct tap_tp_lookup {
	const char *name;
	struct tracepoint *tp;
	struct module *mod;
};

static void tap_tp_match(struct tracepoint *tp, void *priv)
{
	struct tap_tp_lookup *l = priv;

	if (!l->tp && !strcmp(tp->name, l->name))
		l->tp = tp;
}

static struct tap_tp_lookup *tap_tp_module_lookup;	/* under tap_ctl_mutex */

/* Called for every module with tracepoints when the notifier is registered. */
static int tap_tp_module_cb(struct notifier_block *nb, unsigned long val, void *data)
{
	struct tp_module *tp_mod = data;
	struct tap_tp_lookup *l = tap_tp_module_lookup;
	unsigned int i;

	if (val != MODULE_STATE_COMING || !l || l->tp)
		return NOTIFY_OK;
	for (i = 0; i < tp_mod->mod->num_tracepoints; i++) {
		struct tracepoint *tp = tracepoint_ptr_deref(&tp_mod->mod->tracepoints_ptrs[i]);

		if (!strcmp(tp->name, l->name) && try_module_get(tp_mod->mod)) {
			l->tp = tp;
			l->mod = tp_mod->mod;
			break;
		}
	}
	return NOTIFY_OK;
}

static struct notifier_block tap_tp_module_nb = { .notifier_call = tap_tp_module_cb };

static int tap_arm_tp_args(struct tap_pstate *ps)
{
	struct tap_tp_lookup l = { .name = ps->p->tp_event };
	int err;

	for_each_kernel_tracepoint(tap_tp_match, &l);
	if (!l.tp) {
		tap_tp_module_lookup = &l;
		err = register_tracepoint_module_notifier(&tap_tp_module_nb);
		if (!err)
			unregister_tracepoint_module_notifier(&tap_tp_module_nb);
		tap_tp_module_lookup = NULL;
	}
	if (!l.tp)
		return -ENOENT;
	/*
	 * With tp_fields the handler runs from the perf record (below) and this probe only keeps
	 * the arguments for it: one priority above perf's own probe, so it runs first, on the
	 * same CPU, in the same tracepoint call.
	 */
	if (ps->p->tp_fields) {
		ps->stash = alloc_percpu(struct tap_tp_args);
		err = ps->stash ? tracepoint_probe_register_prio(l.tp, ps->p->tp_probe, ps, TRACEPOINT_DEFAULT_PRIO + 1) : -ENOMEM;
	} else {
		err = tracepoint_probe_register(l.tp, ps->p->tp_probe, ps);
	}
	if (err) {
		free_percpu(ps->stash);
		ps->stash = NULL;
		if (l.mod)
			module_put(l.mod);
		return err;
	}
	ps->tp = l.tp;
	ps->tp_mod = l.mod;
	return 0;
}

static void tap_disarm_tp_args(struct tap_pstate *ps)
{
	tracepoint_probe_unregister(ps->tp, ps->p->tp_probe, ps);
	ps->tp = NULL;
}

/* After the grace period: no probe function of ours runs any more. */
static void tap_tp_args_release(struct tap_pstate *ps)
{
	if (ps->tp_mod)
		module_put(ps->tp_mod);
	ps->tp_mod = NULL;
	free_percpu(ps->stash);
	ps->stash = NULL;
}

/**
 * tap_tp_args_hit - a tracepoint with TP_PROTO arguments fired
 * @data: the probe's registration state (given to tracepoint_probe_register)
 * @args: its arguments, one unsigned long each
 * @n: how many
 */
TAP_API void tap_tp_args_hit(void *data, const unsigned long *args, unsigned int n)
{
	struct tap_pstate *ps = data;

	if (ps->stash) {
		struct tap_tp_args *a = this_cpu_ptr(ps->stash);

		a->n = min_t(unsigned int, n, TAP_TP_MAXARGS);
		memcpy(a->v, args, a->n * sizeof(*args));
		return;
	}
	tap_run_handler(ps, NULL, NULL, args, n * sizeof(*args));
}
TAP_API_EXPORT(tap_tp_args_hit);

/**
 * tap_tp_arg - argument @i of the tracepoint whose handler runs (0 past the last)
 * @c: context
 * @i: 0-based, after the probe function's `void *data`
 */
TAP_API unsigned long tap_tp_arg(struct tap_context *c, unsigned int i)
{
	const struct tap_tp_args *a = this_cpu_read(tap_tp_cur);

	if (a)
		return i < a->n ? a->v[i] : 0;
	if (c->probe && c->probe->tp_probe && (i + 1) * sizeof(unsigned long) <= c->tp_size)
		return ((const unsigned long *)c->tp_raw)[i];
	return 0;
}
TAP_API_EXPORT(tap_tp_arg);

/*
 * The tracepoint's perf id (ids are assigned at boot, so never compiled in). tracefs
 * files cannot be kernel_read(), but the event file lookup the hist triggers use is
 * exported; it also pins the event (a module's events) until we put it back.
 */
static int tap_tracepoint_id(const char *sys, const char *event, u64 *id)
{
	struct trace_event_file *file = trace_get_event_file(NULL, sys, event);

	if (IS_ERR(file))
		return PTR_ERR(file);
	*id = file->event_call->event.type;
	trace_put_event_file(file);
	return 0;
}

static int tap_arm_tracepoint(struct tap_pstate *ps)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.sample_period = 1,
		.sample_type = PERF_SAMPLE_RAW,
	};
	int err;

	if (ps->p->tp_probe) {
		err = tap_arm_tp_args(ps);
		if (err || !ps->p->tp_fields)
			return err;
	}
	err = tap_tracepoint_id(ps->p->tp_system, ps->p->tp_event, &attr.config);
	if (!err)
		err = tap_perf_create(ps, &attr, tap_perf_tp);
	if (err && ps->tp) {
		tap_disarm_tp_args(ps);
		tracepoint_synchronize_unregister();
		tap_tp_args_release(ps);
	}
	return err;
}

/* --- kprobes --- */

static int tap_kprobe_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct tap_pstate *ps = container_of(kp, struct tap_pstate, kp);

	tap_run_handler(ps, regs, NULL, NULL, 0);
	return 0;
}

static int tap_kretprobe_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tap_pstate *ps = container_of(get_kretprobe(ri), struct tap_pstate, krp);

	tap_run_handler(ps, regs, ri, NULL, 0);
	return 0;
}

static int tap_arm_kprobe(struct tap_pstate *ps)
{
	memset(&ps->kp, 0, sizeof(ps->kp));
	ps->kp.pre_handler = tap_kprobe_pre;
	if (ps->p->symbol) {
		ps->kp.symbol_name = ps->p->symbol;
		ps->kp.offset = ps->p->offset;
	} else {
		ps->kp.addr = (kprobe_opcode_t *)ps->p->addr;
	}
	return register_kprobe(&ps->kp);
}

/* @entry(): a return handler runs only for instances whose entry handler ran. */
static int tap_kretprobe_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct tap_pstate *ps = container_of(get_kretprobe(ri), struct tap_pstate, krp);

	return tap_run_fn(ps->p, ps->set, ps->p->entry_handler, regs, ri, NULL, 0) ? 0 : 1;
}

static int tap_arm_kretprobe(struct tap_pstate *ps)
{
	memset(&ps->krp, 0, sizeof(ps->krp));
	ps->krp.handler = tap_kretprobe_ret;
	if (ps->p->entry_handler) {
		ps->krp.entry_handler = tap_kretprobe_entry;
		ps->krp.data_size = ps->p->entry_data_size;
	}
	ps->krp.maxactive = ps->p->maxactive;
	if (ps->p->symbol)
		ps->krp.kp.symbol_name = ps->p->symbol;
	else
		ps->krp.kp.addr = (kprobe_opcode_t *)ps->p->addr;
	return register_kretprobe(&ps->krp);
}

static int tap_arm_one(struct tap_pstate *ps)
{
	switch (ps->p->kind) {
	case TAP_PROBE_TIMER:
		return tap_arm_timer(ps);
	case TAP_PROBE_PROFILE:
		return tap_arm_profile(ps);
	case TAP_PROBE_KPROBE:
		return tap_arm_kprobe(ps);
	case TAP_PROBE_KRETPROBE:
		return tap_arm_kretprobe(ps);
	case TAP_PROBE_TRACEPOINT:
		return tap_arm_tracepoint(ps);
	default:
		return 1;	/* begin/end/error/never: nothing to register */
	}
}

static void tap_set_disarm(struct tap_set *set);

/**
 * tap_set_arm - register a set's probes
 * @set: the set
 *
 * Process context, tap_ctl_mutex held. Optional probes that fail are skipped with a
 * WARNING; a required one is an ERROR and the set's probes are unregistered again.
 *
 * Return: 0 or the registration's -errno.
 */
static int tap_set_arm(struct tap_set *set)
{
	unsigned int i;
	int err;

	for (i = 0; i < set->script->nprobes; i++) {
		struct tap_pstate *ps = &set->ps[i];

		if (atomic_read(&tap_disarmed))
			return -ECANCELED;
		err = tap_arm_one(ps);
		if (err > 0)
			continue;
		if (!err) {
			ps->armed = 1;
			continue;
		}
		if (ps->p->optional) {
			tap_warn("probe %s registration failed (error %d): skipped", ps->p->pp, err);
			continue;
		}
		{
			char msg[TAP_ERRLEN];
			int n = scnprintf(msg, sizeof(msg), "probe %s registration failed (error %d)",
					  ps->p->pp, err);

			tap_record(TAP_REC_ERROR, msg, n, true);
		}
		tap_set_disarm(set);
		return err;
	}
	return 0;
}

/**
 * tap_set_disarm - unregister a set's armed probes and wait for running handlers
 * @set: the set
 *
 * Process context, tap_ctl_mutex held; idempotent.
 */
static void tap_set_disarm(struct tap_set *set)
{
	unsigned int i, nk = 0, nr = 0, ntp = 0, n = set->script->nprobes;
	struct kretprobe **krps;
	struct kprobe **kps;

	kps = kcalloc(n + 1, sizeof(*kps), GFP_KERNEL);
	krps = kcalloc(n + 1, sizeof(*krps), GFP_KERNEL);
	for (i = 0; i < n; i++) {
		struct tap_pstate *ps = &set->ps[i];

		if (!ps->armed)
			continue;
		switch (ps->p->kind) {
		case TAP_PROBE_KPROBE:
			if (kps)
				kps[nk++] = &ps->kp;
			else
				unregister_kprobe(&ps->kp);
			break;
		case TAP_PROBE_KRETPROBE:
			if (krps)
				krps[nr++] = &ps->krp;
			else
				unregister_kretprobe(&ps->krp);
			break;
		case TAP_PROBE_TIMER:
			hrtimer_cancel(&ps->hr);
			break;
		case TAP_PROBE_TRACEPOINT:
			if (ps->tp) {
				tap_disarm_tp_args(ps);
				ntp++;
			}
			tap_perf_release(ps);	/* none unless tp_fields or plain */
			break;
		default:
			tap_perf_release(ps);
			break;
		}
		ps->armed = 0;
	}
	if (nk)
		unregister_kprobes(kps, nk);	/* one grace period for the batch */
	if (nr)
		unregister_kretprobes(krps, nr);
	kfree(kps);
	kfree(krps);
	synchronize_rcu();	/* perf overflow handlers run under RCU-sched too */
	if (ntp) {
		tracepoint_synchronize_unregister();
		for (i = 0; i < n; i++)
			tap_tp_args_release(&set->ps[i]);
	}
}

/**
 * tap_set_add - allocate a set's registration state and put it on the list
 * @set: the set to fill
 * @script: its probe table
 *
 * Return: 0 or -ENOMEM.
 */
static int tap_set_add(struct tap_set *set, const struct tap_script *script)
{
	unsigned int i;

	set->script = script;
	set->ps = kcalloc(max(script->nprobes, 1U), sizeof(*set->ps), GFP_KERNEL);
	if (!set->ps)
		return -ENOMEM;
	for (i = 0; i < script->nprobes; i++) {
		set->ps[i].p = &script->probes[i];
		set->ps[i].set = set;
	}
	list_add_tail(&set->node, &tap_sets);
	return 0;
}

/**
 * tap_set_del - take a disarmed set off the list and free its state
 * @set: the set
 */
static void tap_set_del(struct tap_set *set)
{
	list_del(&set->node);
	kfree(set->ps);
	set->ps = NULL;
}

/**
 * tap_probes_arm - register the probes of every set (not begin/end/error/never)
 *
 * Process context, tap_ctl_mutex held. An optional probe that fails gets a WARNING
 * and is skipped; a required one gets an ERROR and everything is unregistered.
 *
 * Return: 0 or the failing registration's -errno.
 */
TAP_API int tap_probes_arm(void)
{
	struct tap_set *set;
	int err;

	list_for_each_entry(set, &tap_sets, node) {
		err = tap_set_arm(set);
		if (err) {
			tap_probes_disarm();
			return err;
		}
	}
	return 0;
}

/**
 * tap_probes_disarm - unregister every armed probe of every set, wait for handlers
 *
 * Process context, tap_ctl_mutex held; idempotent.
 */
TAP_API void tap_probes_disarm(void)
{
	struct tap_set *set;

	list_for_each_entry(set, &tap_sets, node)
		tap_set_disarm(set);
}

/**
 * tap_probes_init - registration state for the module's own script (tap_script)
 *
 * Return: 0 or -ENOMEM.
 */
TAP_API int tap_probes_init(void)
{
	return tap_set_add(&tap_main_set, &tap_script);
}

/**
 * tap_probes_exit - free the registration state (after tap_probes_disarm)
 */
TAP_API void tap_probes_exit(void)
{
	if (tap_main_set.ps)
		tap_set_del(&tap_main_set);
}

/**
 * tap_probes_armed - number of registered probes (for the status text)
 */
TAP_API unsigned int tap_probes_armed(void)
{
	struct tap_set *set;
	unsigned int i, n = 0;

	list_for_each_entry(set, &tap_sets, node)
		for (i = 0; i < set->script->nprobes; i++)
			n += set->ps[i].armed;
	return n;
}
