/* cron — cron expressions: 5 fields (minute hour day-of-month month
 * day-of-week) or 6 with seconds first; lists, ranges, steps, month and
 * weekday names, @yearly @annually @monthly @weekly @daily @midnight
 * @hourly.  Vixie semantics: when both day fields are restricted, a day
 * matching either fires.  Next fire times in an IANA time zone, as cronie
 * treats the changes of daylight saving time: a time the spring-forward gap
 * skips fires once at the first instant after the gap; a time the fall-back
 * overlap repeats fires once, at its first occurrence, unless the schedule
 * is a wildcard one (its second, minute or hour field starts with '*', as
 * "0 * * * *" or "*\/15 2 * * *"), which fires in both occurrences. */
#ifndef GLUEMETAD_CRON_H
#define GLUEMETAD_CRON_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

struct cron_spec {
	uint64_t sec;               /* bit n: second n (0-59) */
	uint64_t min;               /* 0-59 */
	uint32_t hour;              /* 0-23 */
	uint32_t dom;               /* bit n: day n (1-31) */
	uint16_t mon;               /* bit n: month n (1-12) */
	uint8_t dow;                /* bit n: weekday n (0-6, Sunday 0) */
	int dom_star, dow_star;     /* the field started with '*' */
	int wild;                   /* second, minute or hour started with '*' */
};

/* Returns 0, or -EINVAL with a reason ("minute 61 out of range 0-59"). */
int cron_parse(const char *expr, struct cron_spec *ret, char *why, size_t why_len);


/* The first fire time strictly after `after` (epoch seconds) in zone tz
 * (NULL: the system zone).  -ERANGE when nothing fires within 8 years
 * (e.g. "0 0 30 2 *"). */
int cron_next(const struct cron_spec *c, const char *tz, time_t after, time_t *ret);
/* The next n fire times after `after` into ret[], each after the one
 * before, switching the zone once; how many there are (fewer than n when
 * the schedule ends within 8 years of one of them). */
size_t cron_next_n(const struct cron_spec *c, const char *tz, time_t after, time_t *ret,
                   size_t n);

#endif
