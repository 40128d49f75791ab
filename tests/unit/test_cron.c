/* cron: parsing, next-fire computation with fixed clocks, the day-of-month /
 * day-of-week rule, and DST in Europe/Berlin and America/New_York. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"
#include "util.h"

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
	                 .tm_min = mi, .tm_sec = s };

	return timegm(&tm);
}

static void
expect_next(const char *expr, const char *tz, time_t after, time_t want)
{
	struct cron_spec c;
	char why[128] = "", a[32], b[32];
	time_t got = 0;
	struct tm tm;

	if (cron_parse(expr, &c, why, sizeof(why)) < 0)
		fail_msg("'%s': %s", expr, why);
	assert_int_equal(cron_next(&c, tz, after, &got), 0);
	if (got != want) {
		gmtime_r(&got, &tm);
		strftime(a, sizeof(a), "%F %T", &tm);
		gmtime_r(&want, &tm);
		strftime(b, sizeof(b), "%F %T", &tm);
		fail_msg("'%s' in %s: got %s UTC, want %s UTC", expr, tz ? tz : "system", a, b);
	}
}

static void
test_basic(void **state)
{
	(void)state;
	expect_next("*/15 * * * *", "UTC", utc(2026, 1, 1, 0, 7, 30), utc(2026, 1, 1, 0, 15, 0));
	expect_next("*/15 * * * *", "UTC", utc(2026, 1, 1, 0, 15, 0), utc(2026, 1, 1, 0, 30, 0));
	expect_next("0 9 * * MON-FRI", "UTC", utc(2026, 11, 27, 10, 0, 0),
	            utc(2026, 11, 30, 9, 0, 0));
	expect_next("0 0 1 jan,jul *", "UTC", utc(2026, 2, 1, 0, 0, 0), utc(2026, 7, 1, 0, 0, 0));
	expect_next("5-10/5 4 * * *", "UTC", utc(2026, 5, 5, 4, 5, 0), utc(2026, 5, 5, 4, 10, 0));
	expect_next("0 0 * * 7", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 11, 29, 0, 0, 0));
	expect_next("0 0 29 2 *", "UTC", utc(2026, 3, 1, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0));
	expect_next("30/10 * * * *", "UTC", utc(2026, 1, 1, 0, 51, 0), utc(2026, 1, 1, 1, 30, 0));
	/* "a/n" in the day of the week runs to 7 as in cronie (0-7): Sunday */
	expect_next("0 0 * * 1/2", "UTC", utc(2026, 11, 28, 0, 0, 0), utc(2026, 11, 29, 0, 0, 0));
	expect_next("0 0 * * 7/6", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 11, 29, 0, 0, 0));
}

/* A gap between two offsets that are both standard time: Asia/Kathmandu
 * went from +05:30 to +05:45 at 1986-01-01 00:00, skipping 00:00-00:14.
 * The skipped times fire once at 00:15, whatever was asked before. */
static void
test_gap_same_isdst(void **state)
{
	(void)state;
	expect_next("0,8 0 * * *", "Asia/Kathmandu", utc(1985, 12, 31, 18, 27, 43),
	            utc(1985, 12, 31, 18, 30, 0));
	expect_next("*/8 * * * *", "Asia/Kathmandu", utc(1985, 12, 31, 18, 27, 43),
	            utc(1985, 12, 31, 18, 30, 0));
	expect_next("*/8 * * * *", "Asia/Kathmandu", utc(1985, 12, 31, 18, 30, 0),
	            utc(1985, 12, 31, 18, 31, 0));
}

static void
test_seconds_and_macros(void **state)
{
	(void)state;
	expect_next("*/3 * * * * *", "UTC", utc(2026, 1, 1, 0, 0, 1), utc(2026, 1, 1, 0, 0, 3));
	expect_next("*/3 * * * * *", "UTC", utc(2026, 1, 1, 0, 0, 59), utc(2026, 1, 1, 0, 1, 0));
	expect_next("15 30 2 * * *", "UTC", utc(2026, 1, 1, 3, 0, 0), utc(2026, 1, 2, 2, 30, 15));
	expect_next("@hourly", "UTC", utc(2026, 1, 1, 0, 0, 0), utc(2026, 1, 1, 1, 0, 0));
	expect_next("@daily", "UTC", utc(2026, 1, 1, 0, 0, 0), utc(2026, 1, 2, 0, 0, 0));
	expect_next("@weekly", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 11, 29, 0, 0, 0));
	expect_next("@monthly", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 12, 1, 0, 0, 0));
	expect_next("@yearly", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
	expect_next("@annually", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
}

static void
test_day_rule(void **state)
{
	(void)state;
	/* both restricted: the 13th or a Friday, whichever comes first */
	expect_next("0 0 13 * FRI", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 11, 27, 0, 0, 0));
	expect_next("0 0 13 * FRI", "UTC", utc(2026, 12, 11, 1, 0, 0), utc(2026, 12, 13, 0, 0, 0));
	/* one side starts with '*': both must match (odd days that are Fridays) */
	expect_next("0 0 */2 * FRI", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 11, 27, 0, 0, 0));
	expect_next("0 0 */2 * FRI", "UTC", utc(2026, 11, 28, 0, 0, 0), utc(2026, 12, 11, 0, 0, 0));
	expect_next("0 0 13 * *", "UTC", utc(2026, 11, 24, 0, 0, 0), utc(2026, 12, 13, 0, 0, 0));
}

static void
test_dst_berlin(void **state)
{
	(void)state;
	/* 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist, fires at 03:00 */
	expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0, 0),
	            utc(2026, 3, 29, 1, 0, 0));
	expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 3, 29, 1, 0, 0),
	            utc(2026, 3, 30, 0, 30, 0));
	/* 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice, fires once */
	expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12, 0, 0),
	            utc(2026, 10, 25, 0, 30, 0));
	expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 30, 0),
	            utc(2026, 10, 26, 1, 30, 0));
	/* ordinary times around the change keep their wall clock */
	expect_next("0 9 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0, 0),
	            utc(2026, 3, 29, 7, 0, 0));
}

static void
test_dst_new_york(void **state)
{
	(void)state;
	/* 2026-03-08 02:00 EST -> 03:00 EDT */
	expect_next("0 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0, 0),
	            utc(2026, 3, 8, 7, 0, 0));
	expect_next("15 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0, 0),
	            utc(2026, 3, 8, 7, 0, 0));
	/* 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 fires once, at its first time */
	expect_next("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0, 0),
	            utc(2026, 11, 1, 5, 30, 0));
	expect_next("30 1 * * *", "America/New_York", utc(2026, 11, 1, 5, 30, 0),
	            utc(2026, 11, 2, 6, 30, 0));
	/* a fixed time does not fire again in the repeated hour, even when
	 * asked from inside it (a restart at 01:10 EST) */
	expect_next("30 1 * * *", "America/New_York", utc(2026, 11, 1, 6, 10, 0),
	            utc(2026, 11, 2, 6, 30, 0));
	/* a wildcard schedule fires in both 01:00 hours, as cronie runs its
	 * wildcard jobs: hourly stays hourly */
	expect_next("0 * * * *", "America/New_York", utc(2026, 11, 1, 5, 0, 0),
	            utc(2026, 11, 1, 6, 0, 0));
	expect_next("0 * * * *", "America/New_York", utc(2026, 11, 1, 6, 0, 0),
	            utc(2026, 11, 1, 7, 0, 0));
	expect_next("*/20 1 * * *", "America/New_York", utc(2026, 11, 1, 5, 40, 0),
	            utc(2026, 11, 1, 6, 0, 0));
	expect_next("*/20 1 * * *", "America/New_York", utc(2026, 11, 1, 6, 40, 0),
	            utc(2026, 11, 2, 6, 0, 0));
}

static void
test_errors(void **state)
{
	static const struct { const char *expr, *why; } bad[] = {
		{ "61 * * * *", "minute 61 out of range 0-59" },
		{ "* 24 * * *", "hour 24 out of range 0-23" },
		{ "* * 0 * *", "day-of-month 0 out of range 1-31" },
		{ "* * * 13 *", "month 13 out of range 1-12" },
		{ "* * * * 8", "day-of-week 8 out of range 0-7" },
		{ "60 * * * * *", "second 60 out of range 0-59" },
		{ "* * *", "3 fields; expected 5" },
		{ "* * * * * * *", "more than 6 fields" },
		{ "*/0 * * * *", "minute: step must be 1-59" },
		{ "5-1 * * * *", "minute: range 5-1 goes backwards" },
		{ "* * * JANX *", "month: unknown name" },
		{ "1,,2 * * * *", "minute: expected a number" },
		{ "1x * * * *", "minute: unexpected 'x'" },
		{ "@reboot", "unknown macro '@reboot'" },
		{ "", "0 fields" },
	};
	struct cron_spec c;
	char why[160];
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why[0] = '\0';
		assert_int_equal(cron_parse(bad[i].expr, &c, why, sizeof(why)), -22);
		if (!strstr(why, bad[i].why))
			fail_msg("'%s': got '%s', want '%s'", bad[i].expr, why, bad[i].why);
	}
	assert_int_equal(cron_parse("0 0 30 2 *", &c, why, sizeof(why)), 0);
	assert_int_equal(cron_next(&c, "UTC", utc(2026, 1, 1, 0, 0, 0), &t), -34);
}

static void
test_timezones(void **state)
{
	(void)state;
	assert_int_equal(tz_check("Europe/Berlin"), 0);
	assert_int_equal(tz_check("UTC"), 0);
	assert_int_equal(tz_check("Mars/Olympus_Mons"), -2);
	assert_int_equal(tz_check("../../etc/passwd"), -22);
	assert_int_equal(tz_check("/etc/localtime"), -22);
	assert_int_equal(tz_check(""), -22);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_seconds_and_macros),
		cmocka_unit_test(test_day_rule),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_gap_same_isdst),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_timezones),
	};

	return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
