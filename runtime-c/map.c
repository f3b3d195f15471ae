// SPDX-License-Identifier: GPL-2.0
/* map.c - preallocated hash maps (up to 9 long/string keys; long, string or stat values). */
#include <linux/jhash.h>
#include <linux/hash.h>
#include <linux/list_sort.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include "tap_rt.h"

/*
 * Every entry sits on one list: the table's live list (iteration order: insertion
 * order until a sorted foreach sorts it in place, as stap does) or its free list.
 * Buckets chain entries by index + 1 (0 ends a chain). All memory comes from
 * tap_map_new(); nothing is allocated in probe context.
 */
struct tap_entry {
	struct list_head list;
	u32 hnext;
	u32 hash;
	char data[] __aligned(8);
};

struct tap_table {
	char *pool;
	u32 esize, max, used, nbuckets;
	u32 *buckets;
	struct list_head live, free;
};

struct tap_map {
	char keys[TAP_MAXKEYS + 1];	/* 'l' or 's' per key */
	int nkeys;
	enum tap_vtype vtype;
	u32 koff[TAP_MAXKEYS];
	u32 voff;
	u32 max;
	int sized;			/* declared size (message wording) */
	struct tap_hist_spec hist;
	size_t dsize;			/* stat accumulator bytes */
	struct tap_table main;		/* values; for stats, the aggregate */
	struct tap_table *cpu;		/* stats: one table per CPU */
	struct tap_agg scratch;		/* tap_map_get_agg result */
	long *scratch_buckets;
	/* sort parameters for list_sort's callback */
	int sort_col, sort_dir;
	enum tap_agg_field sort_field;
};

struct tap_keys {
	long l[TAP_MAXKEYS];
	const char *s[TAP_MAXKEYS];
	u32 slen[TAP_MAXKEYS];
};

static struct tap_entry *tap_ent(struct tap_table *t, u32 i)
{
	return (struct tap_entry *)(t->pool + (size_t)i * t->esize);
}

static u32 tap_ent_index(struct tap_table *t, struct tap_entry *e)
{
	return ((char *)e - t->pool) / t->esize;
}

static void tap_table_reset(struct tap_table *t)
{
	u32 i;

	INIT_LIST_HEAD(&t->live);
	INIT_LIST_HEAD(&t->free);
	memset(t->buckets, 0, t->nbuckets * sizeof(u32));
	for (i = 0; i < t->max; i++)
		list_add_tail(&tap_ent(t, i)->list, &t->free);
	t->used = 0;
}

static int tap_table_init(struct tap_table *t, u32 esize, u32 max)
{
	t->esize = ALIGN(esize, 8);
	t->max = max;
	t->nbuckets = roundup_pow_of_two(max(max, 16U));
	t->pool = vzalloc((size_t)t->esize * max);
	t->buckets = vzalloc(t->nbuckets * sizeof(u32));
	if (!t->pool || !t->buckets) {
		vfree(t->pool);
		vfree(t->buckets);
		return -ENOMEM;
	}
	tap_table_reset(t);
	return 0;
}

static void tap_table_free(struct tap_table *t)
{
	vfree(t->pool);
	vfree(t->buckets);
}

static void tap_keys_get(struct tap_map *m, struct tap_keys *k, va_list *ap)
{
	int i;

	for (i = 0; i < m->nkeys; i++) {
		if (m->keys[i] == 's') {
			k->s[i] = va_arg(*ap, const char *);
			if (!k->s[i])
				k->s[i] = "";
			k->slen[i] = strnlen(k->s[i], TAP_MAXSTRINGLEN - 1);
		} else {
			k->l[i] = va_arg(*ap, long);
		}
	}
}

static u32 tap_keys_hash(struct tap_map *m, const struct tap_keys *k)
{
	u32 h = 0;
	int i;

	for (i = 0; i < m->nkeys; i++) {
		if (m->keys[i] == 's')
			h = jhash(k->s[i], k->slen[i], h);
		else
			h = jhash_2words((u32)k->l[i], (u32)((u64)k->l[i] >> 32), h);
	}
	return h;
}

static bool tap_keys_match(struct tap_map *m, struct tap_entry *e, const struct tap_keys *k)
{
	int i;

	for (i = 0; i < m->nkeys; i++) {
		const char *slot = e->data + m->koff[i];

		if (m->keys[i] == 's') {
			if (strncmp(slot, k->s[i], k->slen[i]) || slot[k->slen[i]])
				return false;
		} else if (*(const long *)slot != k->l[i]) {
			return false;
		}
	}
	return true;
}

static struct tap_entry *tap_table_find(struct tap_map *m, struct tap_table *t,
					const struct tap_keys *k, u32 hash)
{
	u32 i = t->buckets[hash & (t->nbuckets - 1)];

	while (i) {
		struct tap_entry *e = tap_ent(t, i - 1);

		if (e->hash == hash && tap_keys_match(m, e, k))
			return e;
		i = e->hnext;
	}
	return NULL;
}

/* Takes a free entry, stores the keys and a zero value; NULL when full. */
static struct tap_entry *tap_table_insert(struct tap_map *m, struct tap_table *t,
					  const struct tap_keys *k, u32 hash, bool at_head)
{
	struct tap_entry *e;
	u32 *b;
	int i;

	if (list_empty(&t->free))
		return NULL;
	e = list_first_entry(&t->free, struct tap_entry, list);
	list_del(&e->list);
	memset(e->data, 0, t->esize - sizeof(*e));
	for (i = 0; i < m->nkeys; i++) {
		char *slot = e->data + m->koff[i];

		if (m->keys[i] == 's')
			memcpy(slot, k->s[i], k->slen[i]);
		else
			*(long *)slot = k->l[i];
	}
	e->hash = hash;
	b = &t->buckets[hash & (t->nbuckets - 1)];
	e->hnext = *b;
	*b = tap_ent_index(t, e) + 1;
	if (at_head)
		list_add(&e->list, &t->live);
	else
		list_add_tail(&e->list, &t->live);
	t->used++;
	return e;
}

static void tap_table_remove(struct tap_table *t, struct tap_entry *e)
{
	u32 *p = &t->buckets[e->hash & (t->nbuckets - 1)], self = tap_ent_index(t, e) + 1;

	while (*p && *p != self)
		p = &tap_ent(t, *p - 1)->hnext;
	if (*p)
		*p = e->hnext;
	list_move(&e->list, &t->free);
	t->used--;
}

static void tap_map_overflow(struct tap_context *c, struct tap_map *m)
{
	if (m->sized)
		tap_error(c, "Array overflow, check size limit (%u)", m->max);
	else
		tap_error(c, "Array overflow, check MAXMAPENTRIES");
}

/**
 * tap_map_new - allocate a map global (init time)
 * @keys: key types, one letter per key: 'l' long, 's' string (1 to 9 keys)
 * @vtype: value type
 * @max: entries (0: TAP_MAXMAPENTRIES; a declared size "global m[N]" otherwise)
 * @hist: histogram kind of stat values
 * @start: linear start
 * @stop: linear stop
 * @interval: linear interval
 *
 * Return: the map or NULL.
 */
TAP_API struct tap_map *tap_map_new(const char *keys, enum tap_vtype vtype, unsigned int max,
				    enum tap_hist_kind hist, long start, long stop, long interval)
{
	struct tap_map *m = kzalloc(sizeof(*m), GFP_KERNEL);
	u32 off = 0, vsize;
	int i, cpu;

	if (!m)
		return NULL;
	m->nkeys = min_t(int, strlen(keys), TAP_MAXKEYS);
	memcpy(m->keys, keys, m->nkeys);
	m->vtype = vtype;
	m->sized = max != 0;
	m->max = max ? max : TAP_MAXMAPENTRIES;
	for (i = 0; i < m->nkeys; i++) {
		m->koff[i] = off;
		off += keys[i] == 's' ? ALIGN(TAP_MAXSTRINGLEN, 8) : sizeof(long);
	}
	m->voff = off;
	tap_hist_init(&m->hist, vtype == TAP_STAT ? hist : TAP_HIST_NONE, start, stop, interval);
	m->dsize = tap_statdata_size(&m->hist);
	switch (vtype) {
	case TAP_STRING:
		vsize = TAP_MAXSTRINGLEN;
		break;
	case TAP_STAT:
		vsize = sizeof(struct tap_agg) + m->hist.nbuckets * sizeof(long);
		break;
	default:
		vsize = sizeof(long);
		break;
	}
	if (tap_table_init(&m->main, sizeof(struct tap_entry) + off + vsize, m->max))
		goto free_map;
	if (vtype != TAP_STAT)
		return m;
	m->scratch_buckets = kcalloc(max_t(int, m->hist.nbuckets, 1), sizeof(long), GFP_KERNEL);
	m->cpu = kcalloc(nr_cpu_ids, sizeof(*m->cpu), GFP_KERNEL);
	if (!m->scratch_buckets || !m->cpu)
		goto free_tables;
	for_each_possible_cpu(cpu)
		if (tap_table_init(&m->cpu[cpu], sizeof(struct tap_entry) + off + m->dsize, m->max))
			goto free_tables;
	m->scratch.hist = &m->hist;
	m->scratch.buckets = m->hist.nbuckets ? m->scratch_buckets : NULL;
	return m;
free_tables:
	tap_map_free(m);
	return NULL;
free_map:
	kfree(m);
	return NULL;
}
TAP_API_EXPORT(tap_map_new);

/**
 * tap_map_set_shift - @variance(m[k], N) precision for a stat map (init time)
 * @m: the map
 * @shift: N
 */
TAP_API void tap_map_set_shift(struct tap_map *m, int shift)
{
	m->hist.shift = shift;
}
TAP_API_EXPORT(tap_map_set_shift);

/**
 * tap_map_free - free a map (NULL is fine)
 * @m: the map
 */
TAP_API void tap_map_free(struct tap_map *m)
{
	int cpu;

	if (!m)
		return;
	if (m->cpu) {
		for_each_possible_cpu(cpu)
			tap_table_free(&m->cpu[cpu]);
		kfree(m->cpu);
	}
	tap_table_free(&m->main);
	kfree(m->scratch_buckets);
	kfree(m);
}
TAP_API_EXPORT(tap_map_free);

static struct tap_entry *tap_map_lookup_v(struct tap_map *m, va_list *ap)
{
	struct tap_keys k;

	tap_keys_get(m, &k, ap);
	return tap_table_find(m, &m->main, &k, tap_keys_hash(m, &k));
}

static struct tap_entry *tap_map_insert_v(struct tap_context *c, struct tap_map *m, va_list *ap)
{
	struct tap_entry *e;
	struct tap_keys k;
	u32 h;

	tap_keys_get(m, &k, ap);
	h = tap_keys_hash(m, &k);
	e = tap_table_find(m, &m->main, &k, h);
	if (e)
		return e;
	e = tap_table_insert(m, &m->main, &k, h, false);
	if (!e)
		tap_map_overflow(c, m);
	return e;
}

/**
 * tap_map_get_long - read m[keys] (0 when absent)
 * @m: a map of longs; then the keys (long or const char *, as declared)
 */
TAP_API long tap_map_get_long(struct tap_map *m, ...)
{
	struct tap_entry *e;
	va_list ap;

	va_start(ap, m);
	e = tap_map_lookup_v(m, &ap);
	va_end(ap);
	return e ? *(long *)(e->data + m->voff) : 0;
}
TAP_API_EXPORT(tap_map_get_long);

/**
 * tap_map_get_str - read m[keys] ("" when absent); valid until the map changes
 * @m: a map of strings; then the keys
 */
TAP_API const char *tap_map_get_str(struct tap_map *m, ...)
{
	struct tap_entry *e;
	va_list ap;

	va_start(ap, m);
	e = tap_map_lookup_v(m, &ap);
	va_end(ap);
	return e ? e->data + m->voff : "";
}
TAP_API_EXPORT(tap_map_get_str);

/**
 * tap_map_set_long - m[keys] = v
 * @c: context (overflow error)
 * @m: a map of longs
 * @v: value; then the keys
 *
 * Return: 0, or -ENOSPC with "Array overflow, ..." pending.
 */
TAP_API int tap_map_set_long(struct tap_context *c, struct tap_map *m, long v, ...)
{
	struct tap_entry *e;
	va_list ap;

	va_start(ap, v);
	e = tap_map_insert_v(c, m, &ap);
	va_end(ap);
	if (!e)
		return -ENOSPC;
	*(long *)(e->data + m->voff) = v;
	return 0;
}
TAP_API_EXPORT(tap_map_set_long);

/**
 * tap_map_set_str - m[keys] = v (truncated to TAP_MAXSTRINGLEN - 1)
 * @c: context
 * @m: a map of strings
 * @v: value; then the keys
 *
 * Return: 0, or -ENOSPC with the overflow error pending.
 */
TAP_API int tap_map_set_str(struct tap_context *c, struct tap_map *m, const char *v, ...)
{
	struct tap_entry *e;
	va_list ap;

	va_start(ap, v);
	e = tap_map_insert_v(c, m, &ap);
	va_end(ap);
	if (!e)
		return -ENOSPC;
	tap_strcpy(e->data + m->voff, v);
	return 0;
}
TAP_API_EXPORT(tap_map_set_str);

/**
 * tap_map_ref_long - the value slot of m[keys], inserted as 0 when absent (for ++, +=)
 * @c: context
 * @m: a map of longs; then the keys
 *
 * Return: the slot, or NULL with the overflow error pending.
 */
TAP_API long *tap_map_ref_long(struct tap_context *c, struct tap_map *m, ...)
{
	struct tap_entry *e;
	va_list ap;

	va_start(ap, m);
	e = tap_map_insert_v(c, m, &ap);
	va_end(ap);
	return e ? (long *)(e->data + m->voff) : NULL;
}
TAP_API_EXPORT(tap_map_ref_long);

/**
 * tap_map_stat_add - m[keys] <<< v (global read-locked: this CPU's table)
 * @c: context
 * @m: a map of stats
 * @v: value; then the keys
 *
 * Return: 0, or -ENOSPC with the overflow error pending.
 */
TAP_API int tap_map_stat_add(struct tap_context *c, struct tap_map *m, long v, ...)
{
	struct tap_table *t = &m->cpu[smp_processor_id()];
	struct tap_entry *e;
	struct tap_keys k;
	va_list ap;
	u32 h;

	va_start(ap, v);
	tap_keys_get(m, &k, &ap);
	va_end(ap);
	h = tap_keys_hash(m, &k);
	e = tap_table_find(m, t, &k, h);
	if (!e)
		e = tap_table_insert(m, t, &k, h, false);
	if (!e) {
		tap_map_overflow(c, m);
		return -ENOSPC;
	}
	tap_statdata_add((struct tap_statdata *)(e->data + m->voff), &m->hist, v);
	return 0;
}
TAP_API_EXPORT(tap_map_stat_add);

/**
 * tap_map_get_agg - aggregate of m[keys] over CPUs (global write-locked)
 * @m: a map of stats; then the keys
 *
 * Return: the aggregate (count 0 when absent), valid until the next call on @m.
 */
TAP_API struct tap_agg *tap_map_get_agg(struct tap_map *m, ...)
{
	struct tap_keys k;
	va_list ap;
	u32 h;
	int cpu;

	va_start(ap, m);
	tap_keys_get(m, &k, &ap);
	va_end(ap);
	h = tap_keys_hash(m, &k);
	tap_agg_reset(&m->scratch);
	for_each_possible_cpu(cpu) {
		struct tap_entry *e = tap_table_find(m, &m->cpu[cpu], &k, h);

		if (e)
			tap_statdata_merge(&m->scratch, (struct tap_statdata *)(e->data + m->voff));
	}
	return &m->scratch;
}
TAP_API_EXPORT(tap_map_get_agg);

/**
 * tap_map_exists - [keys] in m
 * @m: the map; then the keys
 */
TAP_API int tap_map_exists(struct tap_map *m, ...)
{
	struct tap_keys k;
	va_list ap;
	u32 h;
	int cpu;

	va_start(ap, m);
	tap_keys_get(m, &k, &ap);
	va_end(ap);
	h = tap_keys_hash(m, &k);
	if (m->vtype != TAP_STAT)
		return tap_table_find(m, &m->main, &k, h) != NULL;
	for_each_possible_cpu(cpu)
		if (tap_table_find(m, &m->cpu[cpu], &k, h))
			return 1;
	return 0;
}
TAP_API_EXPORT(tap_map_exists);

/**
 * tap_map_delete - delete m[keys] (absent keys are fine)
 * @m: the map; then the keys
 */
TAP_API void tap_map_delete(struct tap_map *m, ...)
{
	struct tap_entry *e;
	struct tap_keys k;
	va_list ap;
	u32 h;
	int cpu;

	va_start(ap, m);
	tap_keys_get(m, &k, &ap);
	va_end(ap);
	h = tap_keys_hash(m, &k);
	e = tap_table_find(m, &m->main, &k, h);
	if (e)
		tap_table_remove(&m->main, e);
	if (m->vtype != TAP_STAT)
		return;
	for_each_possible_cpu(cpu) {
		e = tap_table_find(m, &m->cpu[cpu], &k, h);
		if (e)
			tap_table_remove(&m->cpu[cpu], e);
	}
}
TAP_API_EXPORT(tap_map_delete);

/**
 * tap_map_clear - delete every entry ("delete m")
 * @m: the map
 */
TAP_API void tap_map_clear(struct tap_map *m)
{
	int cpu;

	tap_table_reset(&m->main);
	if (m->vtype != TAP_STAT)
		return;
	for_each_possible_cpu(cpu)
		tap_table_reset(&m->cpu[cpu]);
}
TAP_API_EXPORT(tap_map_clear);

/* Rebuild the aggregate table from the CPU tables (new keys go first, as stap's do). */
static void tap_map_aggregate(struct tap_map *m)
{
	struct tap_entry *e, *a;
	struct tap_keys k;
	int cpu, i;

	tap_table_reset(&m->main);
	for_each_possible_cpu(cpu) {
		list_for_each_entry(e, &m->cpu[cpu].live, list) {
			struct tap_agg *agg;

			for (i = 0; i < m->nkeys; i++) {
				k.s[i] = e->data + m->koff[i];
				k.l[i] = *(long *)(e->data + m->koff[i]);
				k.slen[i] = m->keys[i] == 's' ? strlen(k.s[i]) : 0;
			}
			a = tap_table_find(m, &m->main, &k, e->hash);
			if (!a) {
				a = tap_table_insert(m, &m->main, &k, e->hash, true);
				if (!a)
					return;	/* cannot happen: each CPU table holds at most max keys */
				agg = (struct tap_agg *)(a->data + m->voff);
				agg->hist = &m->hist;
				agg->buckets = m->hist.nbuckets ? (long *)(agg + 1) : NULL;
			}
			agg = (struct tap_agg *)(a->data + m->voff);
			tap_statdata_merge(agg, (struct tap_statdata *)(e->data + m->voff));
		}
	}
}

/**
 * tap_map_size - number of entries
 * @m: the map (stat maps: after aggregation by tap_map_iter)
 */
TAP_API unsigned int tap_map_size(struct tap_map *m)
{
	return m->main.used;
}
TAP_API_EXPORT(tap_map_size);

static long tap_agg_field(const struct tap_agg *a, enum tap_agg_field f)
{
	switch (f) {
	case TAP_AGG_SUM:
		return a->sum;
	case TAP_AGG_MIN:
		return a->min;
	case TAP_AGG_MAX:
		return a->max;
	case TAP_AGG_AVG:
		return a->count ? div64_s64(a->sum, a->count) : 0;
	default:
		return a->count;
	}
}

static int tap_cmp_long(long a, long b)
{
	return a < b ? -1 : a > b;
}

static int tap_entry_cmp(void *priv, const struct list_head *la, const struct list_head *lb)
{
	struct tap_map *m = priv;
	struct tap_entry *a = list_entry(la, struct tap_entry, list);
	struct tap_entry *b = list_entry(lb, struct tap_entry, list);
	int col = m->sort_col, r;
	u32 off;

	if (col == 0) {
		off = m->voff;
		if (m->vtype == TAP_STRING)
			r = strcmp(a->data + off, b->data + off);
		else if (m->vtype == TAP_STAT)
			r = tap_cmp_long(tap_agg_field((void *)(a->data + off), m->sort_field),
					 tap_agg_field((void *)(b->data + off), m->sort_field));
		else
			r = tap_cmp_long(*(long *)(a->data + off), *(long *)(b->data + off));
	} else {
		off = m->koff[col - 1];
		if (m->keys[col - 1] == 's')
			r = strcmp(a->data + off, b->data + off);
		else
			r = tap_cmp_long(*(long *)(a->data + off), *(long *)(b->data + off));
	}
	return m->sort_dir < 0 ? -r : r;
}

/**
 * tap_map_iter - start a foreach: aggregate (stats), sort in place, return the first entry
 * @m: the map (global write-locked when @dir != 0 or for stats)
 * @column: 0 sort by value, 1..9 by that key
 * @dir: 1 ascending, -1 descending, 0 unsorted (current list order)
 * @field: for stat values, the aggregate to sort by
 *
 * The sort is stable and leaves the map in the new order, like stap's.
 * The body must not add or delete entries of @m.
 *
 * Return: the first entry or NULL.
 */
TAP_API struct tap_entry *tap_map_iter(struct tap_map *m, int column, int dir, enum tap_agg_field field)
{
	if (m->vtype == TAP_STAT)
		tap_map_aggregate(m);
	if (dir) {
		m->sort_col = column;
		m->sort_dir = dir;
		m->sort_field = field;
		list_sort(m, &m->main.live, tap_entry_cmp);
	}
	return list_first_entry_or_null(&m->main.live, struct tap_entry, list);
}
TAP_API_EXPORT(tap_map_iter);

/**
 * tap_map_next - the entry after @e in iteration order
 * @m: the map
 * @e: current entry
 *
 * Return: the next entry or NULL.
 */
TAP_API struct tap_entry *tap_map_next(struct tap_map *m, struct tap_entry *e)
{
	if (list_is_last(&e->list, &m->main.live))
		return NULL;
	return list_next_entry(e, list);
}
TAP_API_EXPORT(tap_map_next);

/**
 * tap_key_long - key @i (0-based) of an entry, a long key
 * @m: map
 * @e: entry
 * @i: key index
 */
TAP_API long tap_key_long(struct tap_map *m, struct tap_entry *e, int i)
{
	return *(long *)(e->data + m->koff[i]);
}
TAP_API_EXPORT(tap_key_long);

/**
 * tap_key_str - key @i (0-based) of an entry, a string key
 * @m: map
 * @e: entry
 * @i: key index
 */
TAP_API const char *tap_key_str(struct tap_map *m, struct tap_entry *e, int i)
{
	return e->data + m->koff[i];
}
TAP_API_EXPORT(tap_key_str);

/**
 * tap_val_long - an entry's long value
 * @m: map
 * @e: entry
 */
TAP_API long tap_val_long(struct tap_map *m, struct tap_entry *e)
{
	return *(long *)(e->data + m->voff);
}
TAP_API_EXPORT(tap_val_long);

/**
 * tap_val_str - an entry's string value
 * @m: map
 * @e: entry
 */
TAP_API const char *tap_val_str(struct tap_map *m, struct tap_entry *e)
{
	return e->data + m->voff;
}
TAP_API_EXPORT(tap_val_str);

/**
 * tap_val_agg - an entry's aggregate (stat maps, during tap_map_iter iteration)
 * @m: map
 * @e: entry
 */
TAP_API struct tap_agg *tap_val_agg(struct tap_map *m, struct tap_entry *e)
{
	return (struct tap_agg *)(e->data + m->voff);
}
TAP_API_EXPORT(tap_val_agg);
