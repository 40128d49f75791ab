/* events — the consumer of Glue's events: long-polls the SQS queue that
 * EventBridge sends them to (one ReceiveMessage in flight at a time, on the
 * daemon's loop), maps each job or crawler event to the configured
 * workflows whose Glue graphs hold that job or crawler (evindex.h), and
 * after a debounce asks the daemon for a targeted refresh of just those
 * Glue workflows.  A message is deleted once the refresh it asked for has
 * written (or a full run that began after it arrived has), never before;
 * when that fails the message is left to come back after its visibility
 * timeout (at-least-once: a refresh writes nothing that is there already).
 * Messages that map to nothing, are not Glue events, or are not events at
 * all are deleted and counted.  Errors back off (capped) and never touch
 * the schedules.  events_ logs what it does about messages; counts go to
 * metrics through the daemon (events_view()). */
#ifndef GLUEMETAD_EVENTS_H
#define GLUEMETAD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct cfg_events;
struct evindex;
struct http;
struct metrics;
struct events;

/* The reasons an event is ignored (gluemetad_events_ignored_total). */
enum events_ignored {
	EVENTS_IGNORED_UNMAPPED,        /* no configured workflow holds its job or crawler */
	EVENTS_IGNORED_OTHER,           /* not a Glue job or crawler event */
	EVENTS_IGNORED_UNPARSEABLE,     /* not an EventBridge event */
	EVENTS_N_IGNORED,
};

struct events_ops {
	/* A targeted refresh of Glue workflows names[0..n-1] of the
	 * configuration's workflow owner is due.  0: started (the daemon calls
	 * events_run_ended() when it ends); -EBUSY: owner runs already (the
	 * daemon calls events_run_ended() for that run, and the refresh is
	 * asked for again then); another negative errno: it cannot run, the
	 * messages are left to come back. */
	int (*refresh)(const char *owner, const char *const *names, size_t n, void *arg);
	/* Counts for the metrics: an event received (its detail-type), one
	 * applied (a status written from it; lag_s from the event's time, -1
	 * unknown), one ignored. */
	void (*received)(const char *detail_type, void *arg);
	void (*applied)(double lag_s, void *arg);
	void (*ignored)(enum events_ignored why, void *arg);
};

/* What status shows; owned by the consumer, valid while it lives. */
struct events_view {
	const char *queue_url;
	int64_t last_poll_ms;           /* the last ReceiveMessage answered */
	int64_t last_event_ms;          /* the last event received */
	double last_lag_s;              /* event time to its refresh written; -1 none */
	unsigned long received, applied, ignored, deleted, delete_failed;
	unsigned consecutive_errors;
	char last_error[256];           /* sanitized; "" after a good poll */
	size_t pending;                 /* messages waiting for their refresh */
};

/* Starts polling at once.  cfg, index and ops are borrowed for the
 * consumer's life.  NULL with err set. */
struct events *events_new(struct http *h, const struct cfg_events *cfg,
                          const struct evindex *index, const struct events_ops *ops, void *arg,
                          char *err, size_t err_len);
/* Stops: cancels the poll in flight and any delete; done(arg) runs once
 * everything settled (maybe before this returns), then the consumer is
 * freed.  Messages not deleted come back to the next consumer. */
void events_stop(struct events *x, void (*done)(void *arg), void *arg);
/* A run of owner ended: refresh says it was the targeted refresh the
 * consumer asked for, ok that it wrote what it read (a success);
 * started_ms when it began.  A full run that began after a message
 * arrived answers that message as well as a refresh would. */
void events_run_ended(struct events *x, const char *owner, int refresh, int ok,
                      int64_t started_ms);
/* owner left the configuration: its waiting messages are left to come
 * back. */
void events_forget(struct events *x, const char *owner);
const struct events_view *events_view(const struct events *x);
/* The last refresh the consumer asked for owner: when it was asked, 0
 * never. */
int64_t events_last_refresh_ms(const struct events *x, const char *owner);

#endif
