// SPDX-License-Identifier: GPL-2.0
/* session.c - the session core (built with -DTAP_CORE): handler modules attach probe tables, globals live here by name. */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "tap_rt.h"

/* A global created by name by the first handler module that uses it. */
struct tap_gvar {
	struct list_head node;
	char name[64];
	enum tap_gkind kind;
	char keys[TAP_MAXKEYS + 1];
	enum tap_vtype vtype;
	enum tap_hist_kind hist;
	long start, stop, interval;
	unsigned int max;
	struct tap_lock lock;
	long l;
	char *str;
	struct tap_stat *st;
	struct tap_map *m;
};

static LIST_HEAD(tap_gvars);
static DEFINE_MUTEX(tap_gvar_mutex);

static bool tap_gvar_same(const struct tap_gvar *g, enum tap_gkind kind, const char *keys,
			  enum tap_vtype vtype, enum tap_hist_kind hist, long start, long stop, long interval)
{
	if (g->kind != kind)
		return false;
	if (kind == TAP_G_MAP && (strcmp(g->keys, keys) || g->vtype != vtype))
		return false;
	if ((kind == TAP_G_STAT || (kind == TAP_G_MAP && vtype == TAP_STAT)) &&
	    (g->hist != hist || g->start != start || g->stop != stop || g->interval != interval))
		return false;
	return true;
}

static void *tap_gvar_ptr(struct tap_gvar *g)
{
	switch (g->kind) {
	case TAP_G_LONG:
		return &g->l;
	case TAP_G_STRING:
		return g->str;
	case TAP_G_STAT:
		return g->st;
	default:
		return g->m;
	}
}

static void tap_gvar_free(struct tap_gvar *g)
{
	kfree(g->str);
	tap_stat_free(g->st);
	tap_map_free(g->m);
	kfree(g);
}

/**
 * tap_global - find or create a session global by name (process context)
 * @name: the script's name for it
 * @kind: TAP_G_LONG, TAP_G_STRING, TAP_G_STAT or TAP_G_MAP
 * @keys: map key types ("ls"), else NULL
 * @vtype: map value type
 * @max: map size (0: MAXMAPENTRIES)
 * @hist: histogram kind (stats, stat maps)
 * @start: linear start
 * @stop: linear stop
 * @interval: linear interval
 * @lock: out: the global's lock, for the handler's lockspecs
 *
 * Return: long * / char * (TAP_MAXSTRINGLEN) / struct tap_stat * / struct tap_map *;
 * NULL when the name exists with another type (the host reports the conflict) or on
 * allocation failure.
 */
TAP_API void *tap_global(const char *name, enum tap_gkind kind, const char *keys, enum tap_vtype vtype,
			 unsigned int max, enum tap_hist_kind hist, long start, long stop, long interval,
			 struct tap_lock **lock)
{
	struct tap_gvar *g;
	void *p = NULL;

	mutex_lock(&tap_gvar_mutex);
	list_for_each_entry(g, &tap_gvars, node) {
		if (strcmp(g->name, name))
			continue;
		if (tap_gvar_same(g, kind, keys, vtype, hist, start, stop, interval)) {
			*lock = &g->lock;
			p = tap_gvar_ptr(g);
		}
		goto unlock;
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		goto unlock;
	strscpy(g->name, name, sizeof(g->name));
	strscpy(g->keys, keys ? keys : "", sizeof(g->keys));
	g->kind = kind;
	g->vtype = vtype;
	g->hist = hist;
	g->start = start;
	g->stop = stop;
	g->interval = interval;
	g->max = max;
	tap_lock_init(&g->lock);
	if (kind == TAP_G_STRING)
		g->str = kzalloc(TAP_MAXSTRINGLEN, GFP_KERNEL);
	else if (kind == TAP_G_STAT)
		g->st = tap_stat_new(hist, start, stop, interval);
	else if (kind == TAP_G_MAP)
		g->m = tap_map_new(g->keys, vtype, max, hist, start, stop, interval);
	p = tap_gvar_ptr(g);
	if (!p) {
		tap_gvar_free(g);
		goto unlock;
	}
	list_add_tail(&g->node, &tap_gvars);
	*lock = &g->lock;
unlock:
	mutex_unlock(&tap_gvar_mutex);
	return p;
}
TAP_API_EXPORT(tap_global);

/**
 * tap_session_global - a session global's storage, created on first use (SESSION.md's call)
 * @name: the global's name
 * @kind: TAP_G_LONG, TAP_G_STRING, TAP_G_STAT or TAP_G_MAP
 * @keys: map key types, else NULL
 * @vtype: map value type
 * @hist: histogram kind
 * @start: linear start
 * @stop: linear stop
 * @interval: linear interval
 *
 * As tap_global() with MAXMAPENTRIES-sized maps.
 *
 * Return: the storage, ERR_PTR(-EINVAL) when @name exists with another shape,
 * ERR_PTR(-ENOMEM).
 */
TAP_API void *tap_session_global(const char *name, enum tap_gkind kind, const char *keys,
				 enum tap_vtype vtype, enum tap_hist_kind hist, long start, long stop,
				 long interval)
{
	struct tap_lock *lock;
	struct tap_gvar *g;
	void *p = tap_global(name, kind, keys, vtype, 0, hist, start, stop, interval, &lock);

	if (p)
		return p;
	mutex_lock(&tap_gvar_mutex);
	list_for_each_entry(g, &tap_gvars, node) {
		if (!strcmp(g->name, name)) {
			mutex_unlock(&tap_gvar_mutex);
			return ERR_PTR(-EINVAL);
		}
	}
	mutex_unlock(&tap_gvar_mutex);
	return ERR_PTR(-ENOMEM);
}
TAP_API_EXPORT(tap_session_global);

/**
 * tap_session_lock - a session global's lock, for a handler's lock specs
 * @name: the global's name
 *
 * Return: the lock, or NULL when no global has that name yet.
 */
TAP_API struct tap_lock *tap_session_lock(const char *name)
{
	struct tap_lock *lock = NULL;
	struct tap_gvar *g;

	mutex_lock(&tap_gvar_mutex);
	list_for_each_entry(g, &tap_gvars, node) {
		if (!strcmp(g->name, name)) {
			lock = &g->lock;
			break;
		}
	}
	mutex_unlock(&tap_gvar_mutex);
	return lock;
}
TAP_API_EXPORT(tap_session_lock);

/**
 * tap_globals_free - free every session global (module exit)
 */
TAP_API void tap_globals_free(void)
{
	struct tap_gvar *g, *tmp;

	list_for_each_entry_safe(g, tmp, &tap_gvars, node) {
		list_del(&g->node);
		tap_gvar_free(g);
	}
}

/**
 * tap_session_attach - add a handler module's probes to the running session
 * @s: the handler module's script (its init gets the globals with tap_session_global)
 * @entry: the session's number for this entry (kept with its probes; see README)
 *
 * Process context (the handler module's module_init): runs @s->init, its begin
 * probes, then registers its probes. On failure everything of @s is undone.
 *
 * Return: 0, -EAGAIN when the session is not running, or the failure's -errno.
 */
TAP_API int tap_session_attach(const struct tap_script *s, u32 entry)
{
	struct tap_set *set;
	int err = -EAGAIN;

	mutex_lock(&tap_ctl_mutex);
	if (atomic_read(&tap_state_v) != TAP_RUNNING)
		goto unlock;
	err = -ENOMEM;
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!set)
		goto unlock;
	err = s->init ? s->init() : 0;
	if (err)
		goto exit_script;
	err = tap_set_add(set, s);
	if (err)
		goto exit_script;
	set->entry = entry;
	tap_set_run_simple(set, TAP_PROBE_BEGIN);
	err = tap_set_arm(set);
	if (err)
		goto del_set;
	mutex_unlock(&tap_ctl_mutex);
	return 0;
del_set:
	tap_set_del(set);
exit_script:
	if (s->exit)
		s->exit();
	kfree(set);
unlock:
	mutex_unlock(&tap_ctl_mutex);
	return err;
}
TAP_API_EXPORT(tap_session_attach);

/**
 * tap_session_detach - remove a handler module's probes (its module_exit)
 * @s: the script given to tap_session_attach (unknown scripts are ignored)
 *
 * Unregisters its probes and waits for running handlers; no end probes run (a
 * deleted entry just stops). Safe in every state of the core.
 */
TAP_API void tap_session_detach(const struct tap_script *s)
{
	struct tap_set *set;

	mutex_lock(&tap_ctl_mutex);
	list_for_each_entry(set, &tap_sets, node) {
		if (set->script != s || set == &tap_main_set)
			continue;
		tap_set_disarm(set);
		tap_set_del(set);
		if (s->exit)
			s->exit();
		kfree(set);
		break;
	}
	mutex_unlock(&tap_ctl_mutex);
}
TAP_API_EXPORT(tap_session_detach);

/**
 * tap_session_ctl - the ctl commands about entries: "disable N", "enable N"
 * @cmd: the command (trimmed)
 *
 * A disabled entry's probes stay registered; their hits are skipped before the
 * context is entered, so the entry costs one atomic read per hit until enabled.
 *
 * Return: 0, -ENOENT for an entry no handler module has, -EINVAL for other text.
 */
static int tap_session_ctl(const char *cmd)
{
	struct tap_set *set;
	char verb[8];
	unsigned int entry;
	int err = -ENOENT;
	bool on;

	if (sscanf(cmd, "%7s %u", verb, &entry) != 2 || !entry)
		return -EINVAL;
	if (!strcmp(verb, "enable"))
		on = true;
	else if (!strcmp(verb, "disable"))
		on = false;
	else
		return -EINVAL;
	mutex_lock(&tap_ctl_mutex);
	list_for_each_entry(set, &tap_sets, node) {
		if (set->entry != entry)
			continue;
		atomic_set(&set->disabled, !on);
		err = 0;
	}
	mutex_unlock(&tap_ctl_mutex);
	return err;
}

/**
 * tap_session_show - append one line per attached entry to the ctl status text
 * @buf: the text
 * @size: its size
 * @n: bytes already in it
 *
 * Lines: "entry=N hits=H errors=E disabled=0|1".
 *
 * Return: the new length.
 */
static int tap_session_show(char *buf, size_t size, int n)
{
	struct tap_set *set;

	mutex_lock(&tap_ctl_mutex);
	list_for_each_entry(set, &tap_sets, node) {
		if (!set->entry)
			continue;
		n += scnprintf(buf + n, size - n, "entry=%u hits=%lld errors=%lld disabled=%d\n",
			       set->entry, (s64)atomic64_read(&set->hits),
			       (s64)atomic64_read(&set->errors), atomic_read(&set->disabled));
	}
	mutex_unlock(&tap_ctl_mutex);
	return n;
}
