/* calendar — see include/calendar.h.  Owns the command's arguments and its
 * output; the times are cron_next()'s, the same the daemon arms. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cron.h"
#include "util.h"

#define CALENDAR_MAX_COUNT 1000

int
calendar_iso(time_t t, const char *tz, char *out, size_t n)
{
	struct tz_switch sw;
	struct tm tm;
	long off;
	int r = -1;

	tz_switch_enter(&sw, tz);
	if (localtime_r(&t, &tm) && n >= 26) {
		off = tm.tm_gmtoff;
		strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out + 19, n - 19, "%c%02ld:%02ld", off < 0 ? '-' : '+',
		         labs(off) / 3600, labs(off) % 3600 / 60);
		r = 0;
	}
	tz_switch_leave(&sw);
	return r;
}

int
calendar_parse_from(const char *s, time_t *ret)
{
	int64_t v;
	const char *why;

	if (s[0] == '@') {
		if (num_parse_i64(s + 1, 0, (int64_t)1 << 40, &v, &why) < 0)
			return -1;
	} else if ((v = time_parse_iso8601(s)) < 0) {
		return -1;
	}
	*ret = (time_t)v;
	return 0;
}

/* One question: count fire times of expr after `from` in tz, into out as
 * one line (times separated by sep).  0, or -EINVAL with why. */
static int
answer(const char *expr, const char *tz, const char *from, unsigned count, char sep,
       struct buf *out, char *why, size_t n)
{
	struct cron_spec spec;
	char reason[160], iso[32];
	time_t t = time(NULL), times[CALENDAR_MAX_COUNT];
	size_t got, i;

	if (cron_parse(expr, &spec, reason, sizeof(reason)) < 0) {
		snprintf(why, n, "'%s': %s", expr, reason);
		return -EINVAL;
	}
	if (tz && tz_check(tz) < 0) {
		snprintf(why, n, "'%s' is not an installed IANA time zone", tz);
		return -EINVAL;
	}
	if (from && calendar_parse_from(from, &t) < 0) {
		snprintf(why, n, "--from '%s': expected ISO 8601 with an offset "
		         "(2026-03-29T01:30:00+01:00, or Z) or @EPOCH-SECONDS", from);
		return -EINVAL;
	}
	got = cron_next_n(&spec, tz, t, times, count);
	if (!got) {
		snprintf(why, n, "'%s' does not fire in the 8 years after %s", expr,
		         from ? from : "now");
		return -EINVAL;
	}
	for (i = 0; i < got; i++) {
		calendar_iso(times[i], tz, iso, sizeof(iso));
		if ((i && buf_printf(out, "%c", sep) < 0) || buf_puts(out, iso) < 0) {
			snprintf(why, n, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

/* --batch: "ZONE\tFROM\tCOUNT\tEXPR" per line, ZONE "-" for the process's
 * zone; a line per line out. */
static int
batch(void)
{
	char line[512], why[320], *f[4], *save = NULL, *p;
	struct buf out = {0};
	int64_t count;
	const char *e;
	int i;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		p = line;
		for (i = 0; i < 3 && (f[i] = strtok_r(p, "\t", &save)); i++)
			p = NULL;
		f[3] = i == 3 ? strtok_r(NULL, "", &save) : NULL;
		buf_clear(&out);
		if (!f[3] || num_parse_i64(f[2], 1, CALENDAR_MAX_COUNT, &count, &e) < 0)
			printf("error: expected ZONE<TAB>FROM<TAB>COUNT<TAB>EXPR\n");
		else if (answer(f[3], strcmp(f[0], "-") ? f[0] : NULL, f[1], (unsigned)count, ' ',
		                &out, why, sizeof(why)) < 0)
			printf("error: %s\n", why);
		else
			printf("%s\n", out.data ? out.data : "");
	}
	buf_clear(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
calendar_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tz", required_argument, NULL, 'z' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tz = NULL, *from = NULL, *e;
	char why[320];
	struct buf out = {0};
	int64_t count = 5;
	int c, use_batch = 0, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'z': tz = optarg; break;
		case 'f': from = optarg; break;
		case 'n':
			if (num_parse_i64(optarg, 1, CALENDAR_MAX_COUNT, &count, &e) < 0) {
				fprintf(stderr, "gluemetad calendar: --count '%s': %s (1..%d)\n", optarg,
				        e, CALENDAR_MAX_COUNT);
				return 2;
			}
			break;
		case 'b': use_batch = 1; break;
		default:
			fprintf(stderr, "usage: gluemetad calendar EXPR [--tz ZONE] [--from TIME] "
			        "[--count N]\n       gluemetad calendar --batch\n");
			return 2;
		}
	}
	if (use_batch)
		return optind == argc ? batch() : 2;
	if (optind != argc - 1) {
		fprintf(stderr, "gluemetad calendar: expected one expression (quote it: "
		        "gluemetad calendar '0 2 * * *')\n");
		return 2;
	}
	r = answer(argv[optind], tz, from, (unsigned)count, '\n', &out, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "gluemetad calendar: %s\n", why);
		buf_clear(&out);
		return 2;
	}
	printf("%s\n", out.data);
	buf_clear(&out);
	return 0;
}
