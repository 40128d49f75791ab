/* cron — see include/cron.h.  Fields become bitsets as in cronie's
 * entry.c; the search walks the wall clock of the zone field by field and
 * converts candidates back through the zone's offsets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "util.h"

struct field {
	const char *name;
	int min, max;
	const char *const *names;       /* names[i] is value min+i, or NULL */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
	"AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
	NULL };

static const struct field fields[] = {
	{ "second", 0, 59, NULL },
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, day_names },
};

static int
parse_value(const char **p, const struct field *f, int *ret, char *why, size_t n)
{
	const char *s = *p;
	long v = 0;
	int digits = 0;

	if (f->names && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))) {
		int i;

		for (i = 0; f->names[i]; i++)
			if (strncasecmp(s, f->names[i], 3) == 0 &&
			    !((s[3] >= 'A' && s[3] <= 'Z') || (s[3] >= 'a' && s[3] <= 'z'))) {
				*ret = f->min + i;
				*p = s + 3;
				return 0;
			}
		snprintf(why, n, "%s: unknown name '%.16s'", f->name, s);
		return -EINVAL;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		if (v > 1000)
			break;
		digits++;
	}
	if (!digits) {
		snprintf(why, n, "%s: expected a number, found '%.16s'", f->name, *p);
		return -EINVAL;
	}
	if (v < f->min || v > f->max) {
		snprintf(why, n, "%s %ld out of range %d-%d", f->name, v, f->min, f->max);
		return -EINVAL;
	}
	*ret = (int)v;
	*p = s;
	return 0;
}

/* One field: comma-separated items of '*', 'a', 'a-b', each with an
 * optional '/step'.  Sets bits in *bits (bit n = value n). */
static int
parse_field(const char *text, const struct field *f, uint64_t *bits, int *star, char *why,
            size_t n)
{
	const char *p = text;

	*bits = 0;
	*star = *p == '*';
	if (!*p) {
		snprintf(why, n, "%s: empty field", f->name);
		return -EINVAL;
	}
	for (;;) {
		int lo, hi, step = 1, v;

		if (*p == '*') {
			lo = f->min;
			hi = f->max == 7 ? 6 : f->max;
			p++;
		} else {
			if (parse_value(&p, f, &lo, why, n) < 0)
				return -EINVAL;
			hi = lo;
			if (*p == '-') {
				p++;
				if (parse_value(&p, f, &hi, why, n) < 0)
					return -EINVAL;
				if (hi < lo) {
					snprintf(why, n, "%s: range %d-%d goes backwards", f->name, lo, hi);
					return -EINVAL;
				}
			} else if (*p == '/') {
				/* "a/n": from a to the end, for the day of
				 * the week 7 as cronie's 0-7 (so "1/2" and
				 * "7/6" include Sunday) */
				hi = f->max;
			}
		}
		if (*p == '/') {
			long s = 0;
			int digits = 0;

			p++;
			while (*p >= '0' && *p <= '9' && s <= 1000) {
				s = s * 10 + (*p++ - '0');
				digits++;
			}
			if (!digits || s < 1 || s > f->max) {
				snprintf(why, n, "%s: step must be 1-%d", f->name, f->max);
				return -EINVAL;
			}
			step = (int)s;
		}
		for (v = lo; v <= hi; v += step)
			*bits |= 1ULL << (f->max == 7 && v == 7 ? 0 : v);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p) {
			snprintf(why, n, "%s: unexpected '%c' in '%s'", f->name, *p, text);
			return -EINVAL;
		}
		return 0;
	}
}

static const struct {
	const char *name, *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

int
cron_parse(const char *expr, struct cron_spec *ret, char *why, size_t why_len)
{
	char buf[256], *tok[7], *save = NULL, *t;
	struct cron_spec c = {0};
	uint64_t bits[6];
	int star[6] = {0}, nt = 0, i, first;
	size_t m;

	if (!expr || strlen(expr) >= sizeof(buf)) {
		snprintf(why, why_len, "expression missing or longer than %zu characters",
		         sizeof(buf) - 1);
		return -EINVAL;
	}
	while (*expr == ' ' || *expr == '\t')
		expr++;
	if (*expr == '@') {
		for (m = 0; m < sizeof(macros) / sizeof(*macros); m++)
			if (strcmp(expr, macros[m].name) == 0)
				return cron_parse(macros[m].expr, ret, why, why_len);
		snprintf(why, why_len, "unknown macro '%s' (use @yearly, @annually, @monthly, "
		         "@weekly, @daily, @midnight or @hourly)", expr);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", expr);
	for (t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (nt == 6) {
			snprintf(why, why_len, "more than 6 fields");
			return -EINVAL;
		}
		tok[nt++] = t;
	}
	if (nt != 5 && nt != 6) {
		snprintf(why, why_len, "%d fields; expected 5 (minute hour day-of-month month "
		         "day-of-week) or 6 (seconds first)", nt);
		return -EINVAL;
	}
	first = nt == 6 ? 0 : 1;
	bits[0] = 1;                    /* second 0 for 5-field expressions */
	for (i = 0; i < nt; i++)
		if (parse_field(tok[i], &fields[first + i], &bits[first + i], &star[first + i], why,
		                why_len) < 0)
			return -EINVAL;
	c.sec = bits[0];
	c.min = bits[1];
	c.hour = (uint32_t)bits[2];
	c.dom = (uint32_t)bits[3];
	c.mon = (uint16_t)bits[4];
	c.dow = (uint8_t)bits[5];
	c.wild = star[0] || star[1] || star[2];
	c.dom_star = star[3];
	c.dow_star = star[5];
	*ret = c;
	return 0;
}

static int
day_matches(const struct cron_spec *c, const struct tm *w)
{
	int dom = (c->dom >> w->tm_mday) & 1, dow = (c->dow >> w->tm_wday) & 1;

	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/* Wall-clock fields of zone time `t`, as seconds on a UTC-like scale. */
static time_t
wall_of(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return timegm(&tm);
}

/* The instant for wall time w after `after`.  A wall time the fall-back
 * overlap repeats has two instants: a wildcard schedule may take either, a
 * fixed-time one only the first (once that has passed, so has the time).
 * A wall time in a spring-forward gap has none: it is the first instant
 * after the gap.  -1 if none.
 *
 * The instants are w minus each UTC offset the zone has around w (those
 * 16 hours before and after, wider than any offset), kept when they show w.
 * Not mktime(): for a time in a gap, or a change between two offsets of
 * the same tm_isdst (Asia/Kathmandu 1986, +05:30 -> +05:45), its answer
 * depends on the guess left by earlier calls. */
#define CRON_AROUND (16 * 3600)
static time_t
instant_of(time_t w, time_t after, int wild)
{
	struct tm tm;
	time_t first = -1, best = -1, t, lo, hi, cand[2];
	int i;

	localtime_r(&(time_t){ w - CRON_AROUND }, &tm);
	cand[0] = w - tm.tm_gmtoff;
	localtime_r(&(time_t){ w + CRON_AROUND }, &tm);
	cand[1] = w - tm.tm_gmtoff;
	for (i = 0; i < 2; i++) {
		t = cand[i];
		if ((i == 1 && t == cand[0]) || wall_of(t) != w)
			continue;       /* that offset does not produce that wall time */
		if (first < 0 || t < first)
			first = t;
		if (t > after && (best < 0 || t < best))
			best = t;
	}
	if (first >= 0)
		return wild ? best : first > after ? first : -1;
	/* No instant shows wall time w: it is in a gap.  The gap ends at the
	 * first instant whose wall time is past w: between lo, whose wall time
	 * is before w, and hi, whose wall time is after it. */
	lo = w - CRON_AROUND;
	hi = w + CRON_AROUND;
	if (wall_of(lo) >= w || wall_of(hi) < w)
		return -1;
	while (hi - lo > 1) {
		t = lo + (hi - lo) / 2;
		if (wall_of(t) >= w)
			hi = t;
		else
			lo = t;
	}
	return hi > after ? hi : -1;
}

/* Days in month mon (0-11) of year (since 1900), Gregorian. */
static int
month_days(int year, int mon)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = year + 1900;

	return days[mon] + (mon == 1 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* The lowest value from v on whose bit is set in mask, or -1. */
static int
next_set(uint64_t mask, int v)
{
	mask = v < 64 ? mask >> v : 0;
	return mask ? v + __builtin_ctzll(mask) : -1;
}

/* The first matching wall time from w on with an instant after `after`.
 * A field that does not match moves to its next value that does, or, when
 * none is left, carries into the field above. */
static int
walk(const struct cron_spec *c, time_t w, time_t after, time_t *ret)
{
	time_t limit = w + 8LL * 366 * 86400, t;
	struct tm tm;
	int v;

	while (w < limit) {
		gmtime_r(&w, &tm);
		if ((v = next_set(c->mon, tm.tm_mon + 1)) != tm.tm_mon + 1) {
			if (v < 0)
				tm.tm_year++;
			tm.tm_mon = v < 0 ? 0 : v - 1;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			w = timegm(&tm);
			continue;
		}
		if (!day_matches(c, &tm)) {
			/* the days of this month counted here, the weekday with
			 * them; the day after its last is the 1st of the next */
			v = month_days(tm.tm_year, tm.tm_mon);
			do {
				tm.tm_mday++;
				tm.tm_wday = (tm.tm_wday + 1) % 7;
			} while (tm.tm_mday <= v && !day_matches(c, &tm));
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			w = timegm(&tm);
			continue;
		}
		if ((v = next_set(c->hour, tm.tm_hour)) != tm.tm_hour) {
			if (v < 0)
				tm.tm_mday++;
			tm.tm_hour = v < 0 ? 0 : v;
			tm.tm_min = tm.tm_sec = 0;
			w = timegm(&tm);
			continue;
		}
		if ((v = next_set(c->min, tm.tm_min)) != tm.tm_min) {
			w += v < 0 ? 3600 - tm.tm_min * 60 - tm.tm_sec
			           : (v - tm.tm_min) * 60 - tm.tm_sec;
			continue;
		}
		if ((v = next_set(c->sec, tm.tm_sec)) != tm.tm_sec) {
			w += v < 0 ? 60 - tm.tm_sec : v - tm.tm_sec;
			continue;
		}
		t = instant_of(w, after, c->wild);
		if (t >= 0) {
			*ret = t;
			return 0;
		}
		w++;    /* that wall time already passed (the repeated hour) */
	}
	return -ERANGE;
}

/* The instant the clock falls back within CRON_OVERLAP_MAX after `after`,
 * or -1: where the wall clock shows again times `after` has shown. */
#define CRON_OVERLAP_MAX (3 * 3600)
static time_t
fall_back_after(time_t after)
{
	struct tm a, b;
	time_t lo = after, hi = after + CRON_OVERLAP_MAX, t;

	localtime_r(&lo, &a);
	localtime_r(&hi, &b);
	if (b.tm_gmtoff >= a.tm_gmtoff)
		return -1;
	while (hi - lo > 1) {
		t = lo + (hi - lo) / 2;
		localtime_r(&t, &b);
		if (b.tm_gmtoff < a.tm_gmtoff)
			hi = t;
		else
			lo = t;
	}
	return hi;
}

/* cron_next() in the zone already switched to. */
static int
next_here(const struct cron_spec *c, time_t after, time_t *ret)
{
	time_t fb, again;
	int r;

	r = walk(c, wall_of(after) + 1, after, ret);
	/* The walk goes forward on the wall clock: when the clock falls back
	 * soon after `after`, a wildcard schedule also fires in the repeated
	 * times, which the walk has left behind (as cronie runs its wildcard
	 * jobs again there). */
	if (c->wild && (fb = fall_back_after(after)) >= 0 &&
	    walk(c, wall_of(fb), fb - 1, &again) == 0 && (r < 0 || again < *ret)) {
		*ret = again;
		r = 0;
	}
	return r;
}

int
cron_next(const struct cron_spec *c, const char *tz, time_t after, time_t *ret)
{
	struct tz_switch sw;
	int r;

	tz_switch_enter(&sw, tz);
	r = next_here(c, after, ret);
	tz_switch_leave(&sw);
	return r;
}

size_t
cron_next_n(const struct cron_spec *c, const char *tz, time_t after, time_t *ret, size_t n)
{
	struct tz_switch sw;
	size_t i;

	tz_switch_enter(&sw, tz);
	for (i = 0; i < n && next_here(c, i ? ret[i - 1] : after, &ret[i]) == 0; i++)
		;
	tz_switch_leave(&sw);
	return i;
}
