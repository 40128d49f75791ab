/* sched — when workflows fire: one timer per workflow armed for its next
 * cron time (plus its random jitter), the overlap rule (a workflow never
 * runs twice at once: a fire while it runs or waits is skipped and
 * counted), and the run queue (at most max_running runs at once; the others
 * wait in the order they fired).  sched decides and the daemon acts: it
 * starts runs through sched_ops.start and hears about skipped, queued and
 * timer fires through sched_ops.event; sched itself does not log.
 *
 * Time and timers come from a struct sched_clock, so that tests drive the
 * schedule with a fake clock; sched_clock_uv() gives the real one (wall
 * clock, one libuv one-shot timer per workflow, re-armed after each fire as
 * STYLE.md §7 asks).
 *
 * The header is schedule.h, not sched.h: with -Iinclude a sched.h here
 * would stand in for the system <sched.h> that <pthread.h> (through
 * <uv.h>) includes. */
#ifndef GLUEMETAD_SCHEDULE_H
#define GLUEMETAD_SCHEDULE_H

#include <stdint.h>
#include <time.h>

struct cfg_workflow;
struct uv_loop_s;
struct sched;
struct sched_entry;

/* The clock and the timers.  A timer is made per entry by timer_new (NULL
 * without memory) and calls sched_entry_due() for that entry when it goes
 * off; timer_free may release it later (libuv frees in a close callback),
 * but it must not call sched_entry_due() any more. */
struct sched_clock {
	int64_t (*now_ms)(void *arg);           /* wall clock, ms since the epoch */
	uint64_t (*rand)(void *arg);            /* for the jitter */
	void *(*timer_new)(void *arg, struct sched_entry *e);
	void (*timer_start)(void *timer, uint64_t delay_ms);
	void (*timer_stop)(void *timer);
	void (*timer_free)(void *timer);
	void *arg;
};

enum sched_event {
	SCHED_SKIPPED,          /* a timer fire found the entry running or queued */
	SCHED_QUEUED,           /* a fire found max_running runs in progress */
	SCHED_NEVER_FIRES,      /* the schedule has no next fire time */
	SCHED_FIRED,            /* a timer fire was handled and the timer re-armed */
};

struct sched_ops {
	/* Starts a run of e; 0 when it runs (until sched_entry_done()), a
	 * negative errno when it could not start. */
	int (*start)(struct sched_entry *e, const char *trigger, void *arg);
	void (*event)(struct sched_entry *e, enum sched_event ev, void *arg);
};

/* clock and ops are copied; arg goes to every ops call.  NULL without
 * memory. */
struct sched *sched_new(const struct sched_clock *clock, const struct sched_ops *ops,
                        void *arg);
/* Frees the schedule and every entry still in it. */
struct sched *sched_free(struct sched *s);
/* The real clock: time_now_ms(), rand_u64() and libuv timers on loop. */
void sched_clock_uv(struct sched_clock *ret, struct uv_loop_s *loop);

void sched_set_max_running(struct sched *s, unsigned n);
unsigned sched_running(const struct sched *s);
/* Starts queued entries while fewer than max_running run. */
void sched_start_queued(struct sched *s);
/* For shutdown: disarms every timer and empties the queue; afterwards
 * nothing is armed or started any more. */
void sched_stop(struct sched *s);

/* An entry for workflow w (borrowed: valid until the next
 * sched_entry_update()), not armed yet; data is the caller's. */
struct sched_entry *sched_entry_new(struct sched *s, const struct cfg_workflow *w, void *data);
/* Removes e from its schedule and its queue and frees it; accepts NULL. */
void sched_entry_free(struct sched_entry *e);
/* Gives e its (new) workflow and arms it for the next fire from now, unless
 * it is armed already for an unchanged schedule (re-arming would roll the
 * jitter anew, or skip a fire that is due but not yet run).  w NULL: the
 * workflow is gone; e is disarmed and leaves the queue, a run in progress
 * is unaffected. */
void sched_entry_update(struct sched_entry *e, const struct cfg_workflow *w);
/* Fires e now: 0 started (or tried to: see sched_entry_view()), 1
 * queued, -EBUSY refused because e is running or queued.  A refusal here
 * is not counted as skipped: only a fire of the timer is (a manual run
 * asked for twice is the caller's to answer). */
int sched_fire(struct sched_entry *e, const char *trigger);
/* e's timer went off (called by the clock). */
void sched_entry_due(struct sched_entry *e);
/* The trigger of a catch-up fire. */
#define SCHED_CATCH_UP "catch-up"
/* systemd's Persistent=: when e's workflow has catch_up and a fire time
 * passed after last_start (epoch seconds: the last recorded start of a
 * run; 0 none known, as on a first start) up to now, that fire time (the
 * first one missed); 0 when there is nothing to catch up, or e runs or
 * waits already.  The caller then fires e once with trigger
 * SCHED_CATCH_UP, however many fire times were missed. */
time_t sched_missed(const struct sched_entry *e, time_t last_start);
/* The wall clock was stepped (an operator, NTP, a resume): every armed
 * timer is set again from the wall clock, keeping its fire time and
 * jitter.  A fire time the step passed over fires now, once (the next is
 * armed from now, as after a spring-forward gap); after a step back,
 * nothing done already fires again. */
void sched_clock_stepped(struct sched *s);
/* e's run in progress gives way to the schedule (a short targeted
 * refresh): a timer fire meanwhile is not skipped but queued for when it
 * ends.  Until the run ends. */
void sched_entry_yields(struct sched_entry *e);
/* e's run ended; the caller then calls sched_start_queued(). */
void sched_entry_done(struct sched_entry *e);

/* How many fires sched_longest_gap() looks at. */
#define SCHED_GAP_FIRES 32
/* The longest time (seconds) between two consecutive fires of w among its
 * next SCHED_GAP_FIRES fires after `from`, plus its jitter: what "no run
 * for too long" can be measured against (a weekday schedule gives the
 * weekend's gap, not a day).  0 when w is disabled or fires fewer than
 * twice. */
int64_t sched_longest_gap(const struct cfg_workflow *w, time_t from);

void *sched_entry_data(const struct sched_entry *e);
/* What an entry shows: owned by sched, read-only outside, valid while e
 * lives. */
struct sched_view {
	time_t next_fire;               /* the armed fire (epoch seconds), 0: none */
	int running, queued;
	unsigned long skipped;          /* timer fires skipped: it was running or queued */
	int catching_up;                /* a SCHED_CATCH_UP fire queued, not started yet */
};
const struct sched_view *sched_entry_view(const struct sched_entry *e);

#endif
