// SPDX-License-Identifier: GPL-2.0
/* transport.c - per-CPU record buffers and the /proc/tapsh_NAME/data reader (PROTOCOL.md). */
#include <linux/percpu.h>
#include <linux/sched/clock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/jiffies.h>
#include "tap_rt.h"

#define TAP_HDR_BYTES 24
/* Space only control records (STATE, EOF, DROPPED, STATS, errors from the host side) may use. */
#define TAP_CTL_RESERVE 4096
#define TAP_BOUNCE_BYTES (64 * 1024)
#define TAP_PRODUCER_TRIES 100

struct tap_buf {
	raw_spinlock_t lock;
	char *data;
	u32 size;
	u64 head;		/* bytes ever written */
	u64 tail;		/* bytes ever consumed */
	atomic64_t drop_recs, drop_bytes;
	atomic64_t total_drop_recs;
};

struct tap_hdr {
	__le32 len;
	__le16 kind;
	__le16 cpu;
	__le64 seq;
	__le64 time;
} __packed;

static struct tap_buf __percpu *tap_bufs;
static u32 tap_bufsize_bytes;
static atomic64_t tap_seq = ATOMIC64_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(tap_readq);
static atomic_t tap_reader = ATOMIC_INIT(0);
static atomic_t tap_eof_queued = ATOMIC_INIT(0);
static int tap_eof_consumed;
static char *tap_bounce;
static DEFINE_MUTEX(tap_read_mutex);

static void tap_ring_put(struct tap_buf *b, u64 pos, const void *src, u32 n)
{
	u32 off = pos % b->size;
	u32 first = min(n, b->size - off);

	memcpy(b->data + off, src, first);
	if (first < n)
		memcpy(b->data, (const char *)src + first, n - first);
}

static void tap_ring_get(struct tap_buf *b, u64 pos, void *dst, u32 n)
{
	u32 off = pos % b->size;
	u32 first = min(n, b->size - off);

	memcpy(dst, b->data + off, first);
	if (first < n)
		memcpy((char *)dst + first, b->data, n - first);
}

static bool tap_buf_lock(struct tap_buf *b, unsigned long *flags)
{
	int i;

	for (i = 0; i < TAP_PRODUCER_TRIES; i++) {
		local_irq_save(*flags);
		if (raw_spin_trylock(&b->lock))
			return true;
		local_irq_restore(*flags);
		cpu_relax();
	}
	return false;
}

/* One record: the header, an optional prefix (a session entry's tag), the payload. */
static void tap_buf_write2(struct tap_buf *b, u16 kind, u16 cpu, u64 seq, const void *pre, u32 prelen,
			   const void *p, u32 len)
{
	struct tap_hdr h = {
		.len = cpu_to_le32(prelen + len), .kind = cpu_to_le16(kind), .cpu = cpu_to_le16(cpu),
		.seq = cpu_to_le64(seq), .time = cpu_to_le64(local_clock()),
	};

	tap_ring_put(b, b->head, &h, sizeof(h));
	if (prelen)
		tap_ring_put(b, b->head + sizeof(h), pre, prelen);
	tap_ring_put(b, b->head + sizeof(h) + prelen, p, len);
	b->head += sizeof(h) + prelen + len;
}

static void tap_buf_write(struct tap_buf *b, u16 kind, u16 cpu, u64 seq, const void *p, u32 len)
{
	tap_buf_write2(b, kind, cpu, seq, NULL, 0, p, len);
}

/* Called with b->lock held: report earlier drops first, if there is room for that. */
static void tap_buf_report_drops(struct tap_buf *b, u16 cpu, u32 room)
{
	u64 d[2];

	if (likely(!atomic64_read(&b->drop_recs)) || room < TAP_HDR_BYTES + sizeof(d))
		return;
	d[0] = cpu_to_le64(atomic64_xchg(&b->drop_recs, 0));
	d[1] = cpu_to_le64(atomic64_xchg(&b->drop_bytes, 0));
	tap_buf_write(b, TAP_REC_DROPPED, cpu, atomic64_inc_return(&tap_seq), d, sizeof(d));
}

/**
 * tap_record - append one framed record to the current CPU's buffer
 * @kind: record kind (TAP_REC_*)
 * @p: payload
 * @len: payload bytes
 * @ctl: a control record: may use the reserve, never dropped for lack of room
 *	 while the reserve lasts
 *
 * Safe in any context: never sleeps, takes only this CPU's buffer lock with a
 * bounded trylock. A record that does not fit is counted as dropped (and still
 * consumes a sequence number so the host sees the gap).
 *
 * Return: 0, or -ENOSPC when the record was dropped.
 */
static int tap_record2(u16 kind, const void *pre, u32 prelen, const void *p, u32 len, bool ctl)
{
	unsigned long flags;
	struct tap_buf *b;
	u32 need = TAP_HDR_BYTES + prelen + len, room, limit;
	int cpu;

	preempt_disable();
	cpu = smp_processor_id();
	b = per_cpu_ptr(tap_bufs, cpu);
	if (!tap_buf_lock(b, &flags))
		goto drop;
	limit = ctl ? b->size : b->size - TAP_CTL_RESERVE;
	room = limit > b->head - b->tail ? limit - (u32)(b->head - b->tail) : 0;
	tap_buf_report_drops(b, cpu, room > need ? room - need : 0);
	room = limit > b->head - b->tail ? limit - (u32)(b->head - b->tail) : 0;
	if (need > room || need > TAP_BOUNCE_BYTES) {
		raw_spin_unlock_irqrestore(&b->lock, flags);
		goto drop;
	}
	tap_buf_write2(b, kind, cpu, atomic64_inc_return(&tap_seq), pre, prelen, p, len);
	raw_spin_unlock_irqrestore(&b->lock, flags);
	preempt_enable();
	return 0;
drop:
	atomic64_inc(&tap_seq);
	atomic64_inc(&b->drop_recs);
	atomic64_add(need, &b->drop_bytes);
	atomic64_inc(&b->total_drop_recs);
	preempt_enable();
	return -ENOSPC;
}

TAP_API int tap_record(u16 kind, const void *p, u32 len, bool ctl)
{
	return tap_record2(kind, NULL, 0, p, len, ctl);
}
TAP_API_EXPORT(tap_record);

/**
 * tap_record_entry - as tap_record(), for output of a session entry's handler
 * @kind: TAP_REC_OUTPUT, TAP_REC_WARNING or TAP_REC_ERROR
 * @entry: the session entry number (0: untagged, plain @kind)
 * @p: payload
 * @len: payload bytes
 * @ctl: a control record (see tap_record())
 *
 * A non-zero @entry turns the kind into its tagged twin (OUTPUT_ENTRY, WARNING_ENTRY,
 * ERROR_ENTRY) whose payload starts with the entry number as a little-endian u32.
 *
 * Return: 0, or -ENOSPC when the record was dropped.
 */
TAP_API int tap_record_entry(u16 kind, u32 entry, const void *p, u32 len, bool ctl)
{
	__le32 tag = cpu_to_le32(entry);

	if (!entry)
		return tap_record2(kind, NULL, 0, p, len, ctl);
	return tap_record2(kind + TAP_REC_OUTPUT_ENTRY - TAP_REC_OUTPUT, &tag, sizeof(tag), p, len, ctl);
}
TAP_API_EXPORT(tap_record_entry);

/**
 * tap_record_wake - wake the reader; only from contexts where wake_up is safe
 *
 * Probe handlers never call this (they may run inside the scheduler); the reader
 * polls every jiffy instead.
 */
TAP_API void tap_record_wake(void)
{
	wake_up_interruptible(&tap_readq);
}
TAP_API_EXPORT(tap_record_wake);

/**
 * tap_transport_dropped - total records dropped so far, over all CPUs
 */
TAP_API u64 tap_transport_dropped(void)
{
	u64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += atomic64_read(&per_cpu_ptr(tap_bufs, cpu)->total_drop_recs);
	return n;
}

/**
 * tap_transport_final - emit the final DROPPED (if any) and the EOF record
 * @status: exit status hint for the EOF record
 *
 * Process context, after every probe is gone.
 */
TAP_API void tap_transport_final(u32 status)
{
	u64 d[2] = { 0, 0 };
	__le32 st = cpu_to_le32(status);
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tap_buf *b = per_cpu_ptr(tap_bufs, cpu);

		d[0] += atomic64_xchg(&b->drop_recs, 0);
		d[1] += atomic64_xchg(&b->drop_bytes, 0);
	}
	if (d[0])
		tap_record(TAP_REC_DROPPED, d, sizeof(d), true);
	tap_record(TAP_REC_EOF, &st, sizeof(st), true);
	atomic_set(&tap_eof_queued, 1);
	tap_record_wake();
}

static bool tap_data_ready(void);

/**
 * tap_transport_drain - wait (process context) until the reader has emptied the buffers
 * @timeout_ms: give up after this long; returns at once when nobody reads
 *
 * Called before end probes so their output is not dropped behind a flood's backlog.
 */
TAP_API void tap_transport_drain(unsigned int timeout_ms)
{
	unsigned long until = jiffies + msecs_to_jiffies(timeout_ms);

	while (atomic_read(&tap_reader) && tap_data_ready() && time_before(jiffies, until)) {
		tap_record_wake();
		schedule_timeout_interruptible(1);
	}
}

/* The CPU whose oldest record has the lowest sequence number, or -1. */
static int tap_oldest_cpu(void)
{
	u64 best = U64_MAX;
	int cpu, found = -1;

	for_each_possible_cpu(cpu) {
		struct tap_buf *b = per_cpu_ptr(tap_bufs, cpu);
		struct tap_hdr h;
		unsigned long flags;

		raw_spin_lock_irqsave(&b->lock, flags);
		if (b->head != b->tail) {
			tap_ring_get(b, b->tail, &h, sizeof(h));
			if (le64_to_cpu(h.seq) < best) {
				best = le64_to_cpu(h.seq);
				found = cpu;
			}
		}
		raw_spin_unlock_irqrestore(&b->lock, flags);
	}
	return found;
}

/* Move whole records, oldest first, into the bounce buffer; returns bytes. */
static size_t tap_collect(size_t max, bool *saw_eof)
{
	size_t got = 0;
	int cpu;

	while ((cpu = tap_oldest_cpu()) >= 0) {
		struct tap_buf *b = per_cpu_ptr(tap_bufs, cpu);
		unsigned long flags;
		struct tap_hdr h;
		u32 n;

		raw_spin_lock_irqsave(&b->lock, flags);
		tap_ring_get(b, b->tail, &h, sizeof(h));
		n = sizeof(h) + le32_to_cpu(h.len);
		if (got + n > max) {
			raw_spin_unlock_irqrestore(&b->lock, flags);
			break;
		}
		tap_ring_get(b, b->tail, tap_bounce + got, n);
		b->tail += n;
		raw_spin_unlock_irqrestore(&b->lock, flags);
		got += n;
		if (le16_to_cpu(h.kind) == TAP_REC_EOF) {
			*saw_eof = true;
			break;
		}
	}
	return got;
}

static bool tap_data_ready(void)
{
	return tap_oldest_cpu() >= 0;
}

static ssize_t tap_data_read(struct file *f, char __user *ubuf, size_t count, loff_t *ppos)
{
	bool saw_eof = false;
	size_t got;
	int ret;

	if (mutex_lock_interruptible(&tap_read_mutex))
		return -ERESTARTSYS;
	for (;;) {
		if (tap_eof_consumed || tap_is_unloading()) {
			ret = 0;
			goto out_unlock;
		}
		if (tap_data_ready())
			break;
		if (f->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		/* Producers cannot wake us from probe context: poll once a jiffy. */
		ret = wait_event_interruptible_timeout(tap_readq, tap_data_ready(), 1);
		if (ret < 0) {
			ret = -ERESTARTSYS;
			goto out_unlock;
		}
	}
	got = tap_collect(min_t(size_t, count, TAP_BOUNCE_BYTES), &saw_eof);
	if (!got) {
		ret = -EINVAL;	/* the caller's buffer cannot hold the next record */
		goto out_unlock;
	}
	if (copy_to_user(ubuf, tap_bounce, got)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	if (saw_eof)
		tap_eof_consumed = 1;
	*ppos += got;
	ret = got;
out_unlock:
	mutex_unlock(&tap_read_mutex);
	return ret;
}

static int tap_data_open(struct inode *inode, struct file *f)
{
	if (atomic_cmpxchg(&tap_reader, 0, 1) != 0)
		return -EBUSY;
	return nonseekable_open(inode, f);
}

static int tap_data_release(struct inode *inode, struct file *f)
{
	atomic_set(&tap_reader, 0);
	return 0;
}

static const struct proc_ops tap_data_ops = {
	.proc_open = tap_data_open,
	.proc_read = tap_data_read,
	.proc_release = tap_data_release,
	.proc_lseek = no_llseek,
};

/**
 * tap_transport_init - allocate the per-CPU buffers and create the data file
 * @dir: the module's /proc directory
 * @bufsize: bytes per CPU
 *
 * Return: 0 or -errno (everything undone).
 */
TAP_API int tap_transport_init(struct proc_dir_entry *dir, u32 bufsize)
{
	int cpu;

	tap_bufsize_bytes = max_t(u32, roundup_pow_of_two(bufsize), 4 * TAP_CTL_RESERVE);
	tap_bufs = alloc_percpu(struct tap_buf);
	if (!tap_bufs)
		return -ENOMEM;
	tap_bounce = vmalloc(TAP_BOUNCE_BYTES);
	if (!tap_bounce)
		goto free_bufs;
	for_each_possible_cpu(cpu) {
		struct tap_buf *b = per_cpu_ptr(tap_bufs, cpu);

		raw_spin_lock_init(&b->lock);
		b->size = tap_bufsize_bytes;
		b->data = vzalloc(b->size);
		if (!b->data)
			goto free_data;
	}
	if (!proc_create("data", 0400, dir, &tap_data_ops))
		goto free_data;
	return 0;
free_data:
	for_each_possible_cpu(cpu)
		vfree(per_cpu_ptr(tap_bufs, cpu)->data);
	vfree(tap_bounce);
free_bufs:
	free_percpu(tap_bufs);
	return -ENOMEM;
}

/**
 * tap_transport_exit - free the buffers (the proc directory is removed by the caller)
 */
TAP_API void tap_transport_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		vfree(per_cpu_ptr(tap_bufs, cpu)->data);
	vfree(tap_bounce);
	free_percpu(tap_bufs);
}
