/* backoff — the one retry policy of every client (AWS services, STS,
 * OpenMetadata): how many attempts a request gets and how long it waits
 * before the next one.  Each client keeps its own budget in a struct
 * backoff; the rules are the same for all.  No state, no init. */
#ifndef GLUEMETAD_BACKOFF_H
#define GLUEMETAD_BACKOFF_H

struct backoff {
	unsigned max_attempts;      /* attempts of any kind: the last one ends the request */
	unsigned max_failures;      /* failed attempts that were not throttled */
	long base_ms;               /* the first retry waits less than this */
	long cap_ms;                /* no retry waits this long or longer */
};

/* Whether a request is tried again after a retryable failed attempt:
 * throttled says whether that attempt was throttled (throttled attempts
 * count only against max_attempts), failures counts the failed attempts
 * that were not throttled (this one included), attempts all of them so
 * far. */
int backoff_again(const struct backoff *b, int throttled, unsigned failures, unsigned attempts);
/* The delay in ms before the next attempt after attempts (>= 1) of them:
 * AWS's "full jitter", uniform in [0, min(base_ms * 2^(attempts-1), cap_ms)). */
long backoff_delay(const struct backoff *b, unsigned attempts);

#endif
