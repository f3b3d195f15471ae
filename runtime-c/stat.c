// SPDX-License-Identifier: GPL-2.0
/* stat.c - statistics: per-CPU accumulation, aggregation on read, @hist_log/@hist_linear printing. */
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "tap_rt.h"

/*
 * One accumulator: count/sum/min/max, the sum of squares for @variance, then
 * hist->nbuckets counters. Scalars keep one per CPU (adds never contend);
 * map values keep one per entry of each CPU's map (see map.c).
 */
struct tap_statdata {
	long count, sum, min, max;
	s64 avg_s, m2;		/* Welford: running mean << shift, sum of squared deviations */
	long buckets[];
};

struct tap_stat {
	struct tap_hist_spec hist;
	size_t dsize;
	struct tap_statdata **cpu;	/* nr_cpu_ids pointers */
	struct tap_agg agg;		/* last aggregate (read under the global's write lock) */
	long *aggbuckets;
};

/**
 * tap_hist_init - fill in a histogram spec (bucket count) from its parameters
 * @h: spec to fill
 * @kind: none, log or linear
 * @start: linear start
 * @stop: linear stop
 * @interval: linear interval (> 0)
 */
TAP_API void tap_hist_init(struct tap_hist_spec *h, enum tap_hist_kind kind, long start, long stop, long interval)
{
	h->kind = kind;
	h->shift = 0;
	h->start = start;
	h->stop = stop;
	h->interval = interval > 0 ? interval : 1;
	switch (kind) {
	case TAP_HIST_LOG:
		h->nbuckets = TAP_HIST_LOG_BUCKETS;
		break;
	case TAP_HIST_LINEAR:
		/* underflow, (stop - start) / interval + 1 buckets, overflow */
		h->nbuckets = (stop - start) / h->interval + 3;
		break;
	default:
		h->nbuckets = 0;
		break;
	}
}

/**
 * tap_statdata_size - bytes of one accumulator for a histogram shape
 * @h: the spec
 */
TAP_API size_t tap_statdata_size(const struct tap_hist_spec *h)
{
	return sizeof(struct tap_statdata) + h->nbuckets * sizeof(long);
}

static int tap_hist_index(const struct tap_hist_spec *h, long v)
{
	long i;

	if (h->kind == TAP_HIST_LOG) {
		if (v == 0)
			return 64;
		if (v > 0)
			return 64 + fls64(v);
		return 64 - fls64(0UL - (unsigned long)v);
	}
	if (v < h->start)
		return 0;
	i = (v - h->start) / h->interval;
	if (i > h->nbuckets - 3)
		return h->nbuckets - 1;
	return i + 1;
}

/**
 * tap_statdata_add - add one value to an accumulator
 * @d: accumulator
 * @h: its histogram shape
 * @v: value
 */
TAP_API void tap_statdata_add(struct tap_statdata *d, const struct tap_hist_spec *h, long v)
{
	if (d->count == 0) {
		d->min = v;
		d->max = v;
	} else {
		if (v < d->min)
			d->min = v;
		if (v > d->max)
			d->max = v;
	}
	d->count++;
	d->sum += v;
	if (d->count == 1) {
		d->avg_s = (s64)v << h->shift;
		d->m2 = 0;
	} else {
		s64 delta = ((s64)v << h->shift) - d->avg_s;

		d->avg_s += div64_s64(delta, d->count);
		d->m2 += delta * (((s64)v << h->shift) - d->avg_s);
	}
	if (h->nbuckets)
		d->buckets[tap_hist_index(h, v)]++;
}

/**
 * tap_statdata_merge - fold accumulator @src into aggregate @a
 * @a: aggregate (count 0 to start)
 * @src: one CPU's accumulator
 */
TAP_API void tap_statdata_merge(struct tap_agg *a, const struct tap_statdata *src)
{
	int i;

	if (!src->count)
		return;
	if (a->count == 0) {
		a->min = src->min;
		a->max = src->max;
	} else {
		a->min = min(a->min, src->min);
		a->max = max(a->max, src->max);
	}
	/*
	 * @variance as stap 4.8 computes it (found from its outputs on small data sets): each
	 * CPU's variance, truncated, times (count - 1), plus count * (its running mean - the
	 * overall mean)^2, the overall mean being sum / count truncated; then / (count - 1).
	 * The squares are kept expanded here (sums of n*avg and n*avg^2, wrapping like the
	 * direct form) so CPUs merge one at a time.
	 */
	if (src->count >= 2)
		a->m2 = (u64)a->m2 + (u64)div64_s64(src->m2, src->count - 1) * (u64)(src->count - 1);
	a->avg_s = (u64)a->avg_s + (u64)src->count * (u64)src->avg_s;
	a->avg2_s = (u64)a->avg2_s + (u64)src->count * (u64)src->avg_s * (u64)src->avg_s;
	a->count += src->count;
	a->sum += src->sum;
	for (i = 0; a->buckets && i < a->hist->nbuckets; i++)
		a->buckets[i] += src->buckets[i];
}

/**
 * tap_agg_reset - empty an aggregate before merging
 * @a: aggregate
 */
TAP_API void tap_agg_reset(struct tap_agg *a)
{
	a->count = a->sum = a->min = a->max = 0;
	a->avg_s = a->m2 = a->avg2_s = 0;
	if (a->buckets)
		memset(a->buckets, 0, a->hist->nbuckets * sizeof(long));
}

/**
 * tap_stat_new - allocate a scalar statistics global (init time)
 * @kind: histogram kind
 * @start: linear start
 * @stop: linear stop
 * @interval: linear interval
 *
 * Return: the stat or NULL.
 */
TAP_API struct tap_stat *tap_stat_new(enum tap_hist_kind kind, long start, long stop, long interval)
{
	struct tap_stat *st = kzalloc(sizeof(*st), GFP_KERNEL);
	int cpu;

	if (!st)
		return NULL;
	tap_hist_init(&st->hist, kind, start, stop, interval);
	st->dsize = tap_statdata_size(&st->hist);
	st->cpu = kcalloc(nr_cpu_ids, sizeof(*st->cpu), GFP_KERNEL);
	if (!st->cpu)
		goto free_stat;
	for_each_possible_cpu(cpu) {
		st->cpu[cpu] = kzalloc(st->dsize, GFP_KERNEL);
		if (!st->cpu[cpu])
			goto free_cpus;
	}
	if (st->hist.nbuckets) {
		st->aggbuckets = kcalloc(st->hist.nbuckets, sizeof(long), GFP_KERNEL);
		if (!st->aggbuckets)
			goto free_cpus;
	}
	st->agg.hist = &st->hist;
	st->agg.buckets = st->aggbuckets;
	return st;
free_cpus:
	for_each_possible_cpu(cpu)
		kfree(st->cpu[cpu]);
	kfree(st->cpu);
free_stat:
	kfree(st);
	return NULL;
}
TAP_API_EXPORT(tap_stat_new);

/**
 * tap_stat_set_shift - @variance(s, N): accumulate means scaled by 2^N (init time)
 * @st: the stat
 * @shift: N (0 to 62)
 */
TAP_API void tap_stat_set_shift(struct tap_stat *st, int shift)
{
	st->hist.shift = shift;
}
TAP_API_EXPORT(tap_stat_set_shift);

/**
 * tap_stat_free - free a scalar statistic
 * @st: the stat (NULL is fine)
 */
TAP_API void tap_stat_free(struct tap_stat *st)
{
	int cpu;

	if (!st)
		return;
	for_each_possible_cpu(cpu)
		kfree(st->cpu[cpu]);
	kfree(st->cpu);
	kfree(st->aggbuckets);
	kfree(st);
}
TAP_API_EXPORT(tap_stat_free);

/**
 * tap_stat_add - the script's "st <<< v" (global read-locked: per-CPU data)
 * @st: the stat
 * @v: value
 */
TAP_API void tap_stat_add(struct tap_stat *st, long v)
{
	tap_statdata_add(st->cpu[smp_processor_id()], &st->hist, v);
}
TAP_API_EXPORT(tap_stat_add);

/**
 * tap_stat_get - aggregate every CPU's data (global write-locked)
 * @st: the stat
 *
 * Return: the aggregate, valid until the next tap_stat_get of @st.
 */
TAP_API struct tap_agg *tap_stat_get(struct tap_stat *st)
{
	int cpu;

	tap_agg_reset(&st->agg);
	for_each_possible_cpu(cpu)
		tap_statdata_merge(&st->agg, st->cpu[cpu]);
	return &st->agg;
}
TAP_API_EXPORT(tap_stat_get);

/**
 * tap_stat_clear - the script's "delete st" (global write-locked)
 * @st: the stat
 */
TAP_API void tap_stat_clear(struct tap_stat *st)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(st->cpu[cpu], 0, st->dsize);
}
TAP_API_EXPORT(tap_stat_clear);

static bool tap_agg_nonempty(struct tap_context *c, struct tap_agg *a)
{
	if (a && a->count)
		return true;
	tap_error(c, "empty aggregate");
	return false;
}

/**
 * tap_agg_count - @count (0 for an empty or missing aggregate)
 * @a: aggregate or NULL
 */
TAP_API long tap_agg_count(struct tap_agg *a)
{
	return a ? a->count : 0;
}
TAP_API_EXPORT(tap_agg_count);

/**
 * tap_agg_sum - @sum (0 for an empty or missing aggregate)
 * @a: aggregate or NULL
 */
TAP_API long tap_agg_sum(struct tap_agg *a)
{
	return a ? a->sum : 0;
}
TAP_API_EXPORT(tap_agg_sum);

/**
 * tap_agg_min - @min; "empty aggregate" error when there is no data
 * @c: context
 * @a: aggregate or NULL
 */
TAP_API long tap_agg_min(struct tap_context *c, struct tap_agg *a)
{
	return tap_agg_nonempty(c, a) ? a->min : 0;
}
TAP_API_EXPORT(tap_agg_min);

/**
 * tap_agg_max - @max; "empty aggregate" error when there is no data
 * @c: context
 * @a: aggregate or NULL
 */
TAP_API long tap_agg_max(struct tap_context *c, struct tap_agg *a)
{
	return tap_agg_nonempty(c, a) ? a->max : 0;
}
TAP_API_EXPORT(tap_agg_max);

/**
 * tap_agg_avg - @avg (integer, truncated); "empty aggregate" error when empty
 * @c: context
 * @a: aggregate or NULL
 */
TAP_API long tap_agg_avg(struct tap_context *c, struct tap_agg *a)
{
	if (!tap_agg_nonempty(c, a))
		return 0;
	return div64_s64(a->sum, a->count);
}
TAP_API_EXPORT(tap_agg_avg);

/**
 * tap_agg_variance - @variance: sample variance with stap 4.8's integer arithmetic (see
 * tap_statdata_merge); "empty aggregate" when empty
 * @c: context
 * @a: aggregate or NULL
 * @shift: unused: the shift is the variable's, set at init with tap_stat_set_shift
 */
TAP_API long tap_agg_variance(struct tap_context *c, struct tap_agg *a, int shift)
{
	if (!tap_agg_nonempty(c, a))
		return 0;
	if (a->count < 2)
		return 0;
	{
		s64 mean = div64_s64((s64)((u64)a->sum << a->hist->shift), a->count);
		u64 m2 = (u64)a->m2 + (u64)a->avg2_s - 2 * (u64)mean * (u64)a->avg_s +
			 (u64)a->count * (u64)mean * (u64)mean;

		return div64_s64((s64)m2, a->count - 1) >> (2 * a->hist->shift);
	}
}
TAP_API_EXPORT(tap_agg_variance);

/* Text of bucket i's lower bound, into buf; returns its length. */
static int tap_hist_label(const struct tap_hist_spec *h, int i, char *buf, size_t size)
{
	if (h->kind == TAP_HIST_LOG) {
		if (i == 64)
			return scnprintf(buf, size, "0");
		if (i > 64)
			return scnprintf(buf, size, "%lu", 1UL << (i - 65));
		if (i == 0)
			return scnprintf(buf, size, "%ld", LONG_MIN);
		return scnprintf(buf, size, "-%lu", 1UL << (63 - i));
	}
	if (i == 0)
		return scnprintf(buf, size, "<%ld", h->start);
	if (i == h->nbuckets - 1)
		return scnprintf(buf, size, ">%ld", h->stop);
	return scnprintf(buf, size, "%ld", h->start + (long)(i - 1) * h->interval);
}

/* A zero row is shown only within two buckets of a non-empty one. */
static bool tap_hist_near(const long *b, int lo, int hi, int i)
{
	int j;

	for (j = max(lo, i - 2); j <= min(hi, i + 2); j++)
		if (b[j])
			return true;
	return false;
}

static int tap_digits(long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void tap_hist_range(const struct tap_agg *a, int *plo, int *phi)
{
	const struct tap_hist_spec *h = a->hist;
	int first = -1, last = -1, i, zero = h->kind == TAP_HIST_LOG ? 64 : -1;

	for (i = 0; i < h->nbuckets; i++) {
		if (!a->buckets[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
	}
	*plo = max(first - 2, 0);
	*phi = min(last + 2, h->nbuckets - 1);
	/* a log histogram of non-negative values starts at 0 (stap's layout) */
	if (zero >= 0 && first >= zero)
		*plo = max(*plo, zero);
	/* linear: the underflow and overflow rows only appear when they hold values */
	if (zero < 0 && first > 0)
		*plo = max(*plo, 1);
	if (zero < 0 && last < h->nbuckets - 1)
		*phi = min(*phi, h->nbuckets - 2);
}

/* Where a histogram goes: the handler's output, or a string (sprint), truncated at MAXSTRINGLEN. */
static __printf(3, 4) void tap_hist_out(struct tap_context *c, char *dst, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	if (!dst) {
		char line[160];

		vscnprintf(line, sizeof(line), fmt, ap);
		tap_print_str(c, line);
	} else {
		n = strlen(dst);
		if (n < TAP_MAXSTRINGLEN - 1)
			vscnprintf(dst + n, TAP_MAXSTRINGLEN - n, fmt, ap);
	}
	va_end(ap);
}

static void tap_hist_emit(struct tap_context *c, char *dst, struct tap_agg *a)
{
	static const char dashes[] = "--------------------------------------------------";
	static const char ats[] = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";
	char label[24];
	int lo, hi, i, width = 5, cw, bar;
	long maxc = 0, scale;

	if (!tap_agg_nonempty(c, a) || !a->buckets)
		return;
	tap_hist_range(a, &lo, &hi);
	for (i = lo; i <= hi; i++) {
		width = max(width, tap_hist_label(a->hist, i, label, sizeof(label)));
		maxc = max(maxc, a->buckets[i]);
	}
	cw = tap_digits(maxc);
	scale = maxc > 50 ? (maxc + 49) / 50 : 1;
	tap_hist_out(c, dst, "%*s |%s count\n", width, "value", dashes);
	for (i = lo; i <= hi; i++) {
		if (!a->buckets[i] && !tap_hist_near(a->buckets, lo, hi, i)) {
			if (i == lo || tap_hist_near(a->buckets, lo, hi, i - 1))
				tap_hist_out(c, dst, "%*s~\n", width + 1, "");
			continue;
		}
		tap_hist_label(a->hist, i, label, sizeof(label));
		bar = a->buckets[i] / scale;
		tap_hist_out(c, dst, "%*s |%.*s%*s %*ld\n", width, label, bar, ats, 50 - bar, "", cw, a->buckets[i]);
	}
	tap_hist_out(c, dst, "\n");
}

/**
 * tap_print_hist - print(@hist_log(s)) / print(@hist_linear(...)) in stap's exact layout
 * @c: context
 * @a: aggregate with a histogram ("empty aggregate" error when it has no data)
 */
TAP_API void tap_print_hist(struct tap_context *c, struct tap_agg *a)
{
	tap_hist_emit(c, NULL, a);
}
TAP_API_EXPORT(tap_print_hist);

/**
 * tap_sprint_hist - sprint(@hist_log(s)): the same text into a string (appended to @dst,
 * truncated at MAXSTRINGLEN as every string)
 * @c: context
 * @dst: a TAP_MAXSTRINGLEN string
 * @a: aggregate with a histogram
 */
TAP_API void tap_sprint_hist(struct tap_context *c, char *dst, struct tap_agg *a)
{
	tap_hist_emit(c, dst, a);
}
TAP_API_EXPORT(tap_sprint_hist);

/**
 * tap_hist_bucket - @hist_log(s)[i], @hist_linear(...)[i], and `i in @hist_...(s)` (stap 4.8
 * gives the bucket's count for both): the count in bucket @i
 * @c: context
 * @a: aggregate with a histogram
 * @i: bucket index: log 0..127 (64 holds 0, 64+k holds 2^(k-1)..2^k-1, 64-k their negatives),
 *     linear 0 (underflow), 1.. (start, start+interval, ...), last (overflow)
 *
 * Return: the count, or 0 with "histogram index out of range" pending.
 */
TAP_API long tap_hist_bucket(struct tap_context *c, struct tap_agg *a, long i)
{
	if (!a || !a->buckets || i < 0 || i >= a->hist->nbuckets) {
		tap_error(c, "histogram index out of range");
		return 0;
	}
	return a->buckets[i];
}
TAP_API_EXPORT(tap_hist_bucket);
