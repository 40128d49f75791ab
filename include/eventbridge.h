/* eventbridge — the EventBridge envelope of the Glue events an SQS queue
 * delivers (../shared/notes/glue-events.md), read tolerantly: unknown
 * detail-types, sources and fields are no error, only a body that is not
 * an event is.  Owns nothing but the parse. */
#ifndef GLUEMETAD_EVENTBRIDGE_H
#define GLUEMETAD_EVENTBRIDGE_H

#include <stddef.h>
#include <stdint.h>

enum glue_event_kind {
	GLUE_EVENT_OTHER,               /* not about a job or a crawler: ignored */
	GLUE_EVENT_JOB,                 /* Glue Job State Change, Glue Job Run Status */
	GLUE_EVENT_CRAWLER,             /* Glue Crawler State Change */
};

/* Strings are NUL-terminated, cut to their size; name is as Glue wrote it
 * (matched against graph node names), the others sanitized. */
struct glue_event {
	enum glue_event_kind kind;
	char id[80];
	char detail_type[64];           /* "" when absent */
	char account[16];
	char region[32];
	int64_t time_s;                 /* the event's time, 0 when absent or malformed */
	char name[256];                 /* the job's or the crawler's */
	char state[32];
};

/* 0 with *ev filled (kind OTHER for what is not a Glue job or crawler
 * event, or one without a name); -EINVAL with why when body is not an
 * EventBridge event (not JSON, not an object, no detail-type). */
int eventbridge_parse(const char *body, struct glue_event *ev, char *why, size_t n);

#endif
