// SPDX-License-Identifier: GPL-2.0
/* control.c - module lifecycle (PROTOCOL.md): init/exit, the ctl file, stop work, SysRq disarm. */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysrq.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include "tap_rt.h"

static char *tap_sysrq_param = "y";
module_param_named(tapsh_sysrq, tap_sysrq_param, charp, 0444);
MODULE_PARM_DESC(tapsh_sysrq, "magic SysRq key that disarms the script ('-' for none)");
static uint tap_bufsize_param = 256 * 1024;
module_param_named(tapsh_bufsize, tap_bufsize_param, uint, 0444);
MODULE_PARM_DESC(tapsh_bufsize, "per-CPU record buffer bytes");

#ifdef TAP_CORE
/* The session core runs no script of its own: handler modules attach theirs. */
const struct tap_script tap_script = { .name = "session" };
#endif

static const char * const tap_state_names[] = {
	"LOADED", "STARTING", "RUNNING", "STOPPING", "DONE", "DISARMED",
};

static struct proc_dir_entry *tap_dir;
static char tap_dirname[64];
static DEFINE_MUTEX(tap_ctl_mutex);	/* start, stop and disarm never overlap */
static struct timer_list tap_janitor;
static atomic_t tap_unloading = ATOMIC_INIT(0);
static atomic_t tap_stop_queued = ATOMIC_INIT(0);
static int tap_sysrq_key;		/* registered key, 0 when none */
static void tap_stop_fn(struct work_struct *w);
static void tap_disarm_fn(struct work_struct *w);
static DECLARE_WORK(tap_stop_work, tap_stop_fn);
static DECLARE_WORK(tap_disarm_work, tap_disarm_fn);

/**
 * tap_set_state - change state and tell the host with a STATE record
 * @state: new state
 * @detail: optional text (NULL for none)
 */
TAP_API void tap_set_state(int state, const char *detail)
{
	char buf[128];
	size_t n = detail ? min(strlen(detail), sizeof(buf) - 4) : 0;

	atomic_set(&tap_state_v, state);
	*(__le32 *)buf = cpu_to_le32(state);
	memcpy(buf + 4, detail, n);
	tap_record(TAP_REC_STATE, buf, 4 + n, true);
	tap_record_wake();
}

/**
 * tap_request_stop - exit() and fatal errors: stop soon (safe in any context)
 *
 * Only flips atomics; the janitor timer queues the stop work, since probe
 * handlers may run where queueing work is not safe.
 */
TAP_API void tap_request_stop(void)
{
	atomic_set(&tap_stop_requested, 1);
	atomic_cmpxchg(&tap_state_v, TAP_RUNNING, TAP_STOPPING);
}
TAP_API_EXPORT(tap_request_stop);

static void tap_send_stats(void)
{
	char buf[256];
	int n;

	n = scnprintf(buf, sizeof(buf),
		      "hits=%lld\nskipped=%lld\nerrors=%lld\nreentered=%lld\nlockfail=%lld\ndropped=%llu\n",
		      (s64)tap_hits(), (s64)atomic64_read(&tap_nskipped),
		      (s64)atomic64_read(&tap_nerrors), (s64)atomic64_read(&tap_nreentered),
		      (s64)atomic64_read(&tap_nlockfail), tap_transport_dropped());
	tap_record(TAP_REC_STATS, buf, n, true);
}

static bool tap_finished(void)
{
	int s = atomic_read(&tap_state_v);

	return s == TAP_DONE || s == TAP_DISARMED;
}

/*
 * Called with tap_ctl_mutex held: disarm, end (or error) probes, STATS, EOF.
 * A script stopped before "start" never ran begin probes, so runs no end probes.
 */
static void tap_stop_locked(void)
{
	bool started;

	if (tap_finished())
		return;
	started = atomic_read(&tap_state_v) != TAP_LOADED;
	tap_set_state(TAP_STOPPING, NULL);
	tap_probes_disarm();
	tap_transport_drain(5000);
	if (started && !atomic_read(&tap_disarmed))
		tap_run_simple(atomic_read(&tap_errored) ? TAP_PROBE_ERROR : TAP_PROBE_END);
	tap_send_stats();
	tap_set_state(TAP_DONE, NULL);
	tap_transport_final(atomic_read(&tap_errored) ? 1 : 0);
}

static void tap_stop_fn(struct work_struct *w)
{
	mutex_lock(&tap_ctl_mutex);
	tap_stop_locked();
	mutex_unlock(&tap_ctl_mutex);
}

static void tap_disarm_fn(struct work_struct *w)
{
	mutex_lock(&tap_ctl_mutex);
	tap_probes_disarm();
	if (!tap_finished()) {
		tap_set_state(TAP_DISARMED, "emergency disarm");
		tap_send_stats();
		tap_transport_final(1);
	}
	mutex_unlock(&tap_ctl_mutex);
}

/**
 * tap_disarm - emergency disarm: flag every handler off, unregister in a work item
 *
 * Safe from the SysRq handler (hard or soft IRQ) and from the ctl file.
 */
TAP_API void tap_disarm(void)
{
	atomic_set(&tap_disarmed, 1);
	schedule_work(&tap_disarm_work);
}

static void tap_sysrq_handler(int key)
{
	tap_disarm();
}

static const struct sysrq_key_op tap_sysrq_op = {
	.handler = tap_sysrq_handler,
	.help_msg = "tapsh-disarm(y)",
	.action_msg = "tapsh: disarming probes",
	.enable_mask = SYSRQ_ENABLE_RTNICE,
};

/* Once a jiffy: queue the stop work when asked, wake the reader when records wait. */
static void tap_janitor_fn(struct timer_list *t)
{
	if (atomic_read(&tap_stop_requested) && !atomic_xchg(&tap_stop_queued, 1))
		schedule_work(&tap_stop_work);
	tap_record_wake();
	if (!atomic_read(&tap_unloading))
		mod_timer(&tap_janitor, jiffies + 1);
}

static int tap_start(void)
{
	int err;

	if (atomic_read(&tap_state_v) != TAP_LOADED)
		return -EALREADY;
	tap_set_state(TAP_STARTING, NULL);
	tap_run_simple(TAP_PROBE_BEGIN);
	if (atomic_read(&tap_stop_requested) || atomic_read(&tap_disarmed))
		return 0;	/* the stop work takes it from here */
	err = tap_probes_arm();
	if (err) {
		atomic_set(&tap_errored, 1);
		atomic_set(&tap_stop_queued, 1);	/* no end probes after a failed start */
		tap_send_stats();
		tap_set_state(TAP_DONE, "start failed");
		tap_transport_final(1);
		return err;
	}
	if (atomic_cmpxchg(&tap_state_v, TAP_STARTING, TAP_RUNNING) == TAP_STARTING)
		tap_set_state(TAP_RUNNING, NULL);
	return 0;
}

static int tap_session_ctl(const char *cmd);
static int tap_session_show(char *buf, size_t size, int n);

static ssize_t tap_ctl_write(struct file *f, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char cmd[32];
	size_t n = min(count, sizeof(cmd) - 1);
	int err = 0;

	if (copy_from_user(cmd, ubuf, n))
		return -EFAULT;
	cmd[n] = '\0';
	strim(cmd);
	if (!strcmp(cmd, "start")) {
		mutex_lock(&tap_ctl_mutex);
		err = tap_start();
		mutex_unlock(&tap_ctl_mutex);
	} else if (!strcmp(cmd, "exit")) {
		tap_request_stop();
	} else if (!strcmp(cmd, "disarm")) {
		tap_disarm();
	} else {
		err = tap_session_ctl(cmd);
	}
	return err ? err : count;
}

static ssize_t tap_ctl_read(struct file *f, char __user *ubuf, size_t count, loff_t *ppos)
{
	const size_t size = 8192;
	int n, s = atomic_read(&tap_state_v);
	ssize_t ret;
	char *buf = kmalloc(size, GFP_KERNEL);

	if (!buf)
		return -ENOMEM;
	n = scnprintf(buf, size,
		      "state=%s\nhits=%lld\nskipped=%lld\nerrors=%lld\ndropped=%llu\nsysrq=%c\n",
		      tap_state_names[s], (s64)tap_hits(),
		      (s64)atomic64_read(&tap_nskipped), (s64)atomic64_read(&tap_nerrors),
		      tap_transport_dropped(), tap_sysrq_key ? tap_sysrq_key : '-');
	n = tap_session_show(buf, size, n);
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, n);
	kfree(buf);
	return ret;
}

static const struct proc_ops tap_ctl_ops = {
	.proc_read = tap_ctl_read,
	.proc_write = tap_ctl_write,
	.proc_lseek = default_llseek,
};

static void tap_sysrq_register(void)
{
	int key = tap_sysrq_param ? tap_sysrq_param[0] : '-';

	if (!key || key == '-')
		return;
	if (register_sysrq_key(key, &tap_sysrq_op)) {
		tap_warn("SysRq key '%c' is taken: emergency disarm only through ctl", key);
		return;
	}
	tap_sysrq_key = key;
}

static int __init tap_module_init(void)
{
	const char *name = THIS_MODULE->name;	/* not KBUILD_MODNAME: the runtime may be a prebuilt object */
	int err;

	snprintf(tap_dirname, sizeof(tap_dirname), "%s%s",
		 strncmp(name, "tapsh_", 6) ? "tapsh_" : "", name);
	err = tap_context_init();
	if (err)
		goto fail;
	err = -ENOMEM;
	tap_dir = proc_mkdir(tap_dirname, NULL);
	if (!tap_dir)
		goto free_contexts;
	err = tap_transport_init(tap_dir, tap_bufsize_param);
	if (err)
		goto remove_dir;
	err = -ENOMEM;
	if (!proc_create("ctl", 0600, tap_dir, &tap_ctl_ops))
		goto free_transport;
	err = tap_probes_init();
	if (err)
		goto free_transport;
	err = tap_script.init ? tap_script.init() : 0;
	if (err)
		goto exit_script;
	tap_set_state(TAP_LOADED, NULL);
	tap_sysrq_register();
	timer_setup(&tap_janitor, tap_janitor_fn, 0);
	mod_timer(&tap_janitor, jiffies + 1);
	return 0;
exit_script:
	if (tap_script.exit)
		tap_script.exit();	/* must cope with a partial init */
	tap_probes_exit();
free_transport:
	tap_transport_exit();
remove_dir:
	proc_remove(tap_dir);
free_contexts:
	tap_context_exit();
fail:
	pr_err("tapsh %s: init failed (%d)\n", THIS_MODULE->name, err);
	return err;
}

static void __exit tap_module_exit(void)
{
	atomic_set(&tap_disarmed, 1);
	atomic_set(&tap_unloading, 1);
	if (tap_sysrq_key)
		unregister_sysrq_key(tap_sysrq_key, &tap_sysrq_op);
	del_timer_sync(&tap_janitor);
	cancel_work_sync(&tap_stop_work);
	cancel_work_sync(&tap_disarm_work);
	mutex_lock(&tap_ctl_mutex);
	tap_probes_disarm();
	mutex_unlock(&tap_ctl_mutex);
	proc_remove(tap_dir);	/* waits for readers, who see tap_unloading */
	if (tap_script.exit)
		tap_script.exit();
	tap_probes_exit();
	tap_globals_free();
	tap_transport_exit();
	tap_context_exit();
}

/**
 * tap_is_unloading - true once module_exit has started (readers return EOF)
 */
TAP_API bool tap_is_unloading(void)
{
	return atomic_read(&tap_unloading);
}

module_init(tap_module_init);
module_exit(tap_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tapsh probe module");
