/* SPDX-License-Identifier: GPL-2.0 */
/* tap_rt.h - declarations shared by the runtime's own files (not needed by handler units). */
#ifndef TAP_RT_H
#define TAP_RT_H

#include <linux/proc_fs.h>
#include "tap.h"

/* Record kinds and states: PROTOCOL.md. */
enum tap_rec_kind {
	TAP_REC_OUTPUT = 1,
	TAP_REC_WARNING = 2,
	TAP_REC_ERROR = 3,
	TAP_REC_DROPPED = 4,
	TAP_REC_STATE = 5,
	TAP_REC_EOF = 6,
	TAP_REC_STATS = 7,
	TAP_REC_OUTPUT_ENTRY = 8,	/* session: u32 entry, then as OUTPUT */
	TAP_REC_WARNING_ENTRY = 9,	/* session: u32 entry, then as WARNING */
	TAP_REC_ERROR_ENTRY = 10,	/* session: u32 entry, then as ERROR */
};

enum tap_state {
	TAP_LOADED,
	TAP_STARTING,
	TAP_RUNNING,
	TAP_STOPPING,
	TAP_DONE,
	TAP_DISARMED,
};

extern const struct tap_script tap_script;

/* transport.c */
TAP_API int tap_record(u16 kind, const void *p, u32 len, bool ctl);
TAP_API int tap_record_entry(u16 kind, u32 entry, const void *p, u32 len, bool ctl);
TAP_API void tap_record_wake(void);
TAP_API u64 tap_transport_dropped(void);
TAP_API void tap_transport_final(u32 status);
TAP_API void tap_transport_drain(unsigned int timeout_ms);
TAP_API int tap_transport_init(struct proc_dir_entry *dir, u32 bufsize);
TAP_API void tap_transport_exit(void);

/* context.c */
TAP_API struct tap_context *tap_enter(const struct tap_probe *p, struct pt_regs *regs, long maxaction);
TAP_API void tap_leave(struct tap_context *c);
TAP_API int tap_context_init(void);
TAP_API void tap_context_exit(void);
TAP_API void tap_count_skip(void);
TAP_API u64 tap_hits(void);
extern atomic_t tap_disarmed;
extern atomic_t tap_state_v;
extern atomic64_t tap_nskipped, tap_nerrors, tap_nreentered, tap_nlockfail;
extern atomic_t tap_stop_requested;
extern atomic_t tap_errored;

/* control.c */
TAP_API void tap_set_state(int state, const char *detail);
TAP_API void tap_request_stop(void);
TAP_API void tap_disarm(void);
TAP_API bool tap_is_unloading(void);

/* stat.c (map.c builds on these) */
struct tap_statdata;
TAP_API void tap_hist_init(struct tap_hist_spec *h, enum tap_hist_kind kind, long start, long stop, long interval);
TAP_API size_t tap_statdata_size(const struct tap_hist_spec *h);
TAP_API void tap_statdata_add(struct tap_statdata *d, const struct tap_hist_spec *h, long v);
TAP_API void tap_statdata_merge(struct tap_agg *a, const struct tap_statdata *src);
TAP_API void tap_agg_reset(struct tap_agg *a);

/* probes.c */
TAP_API int tap_probes_arm(void);
TAP_API void tap_probes_disarm(void);
TAP_API void tap_run_simple(enum tap_probe_kind kind);
TAP_API int tap_probes_init(void);
TAP_API void tap_probes_exit(void);
TAP_API unsigned int tap_probes_armed(void);

/* session.c */
TAP_API void tap_globals_free(void);

#endif /* TAP_RT_H */
