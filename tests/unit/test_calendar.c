/* calendar: the ISO 8601 form with the zone's offset (half and quarter
 * hours, west of UTC, across a change of daylight saving time) and the
 * forms --from takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"

static void
test_iso(void **state)
{
	static const struct { time_t t; const char *tz, *want; } c[] = {
		{ 0, "UTC", "1970-01-01T00:00:00+00:00" },
		{ 1790000000, "Asia/Kathmandu", "2026-09-21T19:58:20+05:45" },
		{ 1790000000, "America/St_Johns", "2026-09-21T11:43:20-02:30" },
		{ 1798761600, "America/St_Johns", "2026-12-31T20:30:00-03:30" },
		{ 1790000000, "Australia/Lord_Howe", "2026-09-22T00:43:20+10:30" },
		{ 1798761600, "Australia/Lord_Howe", "2027-01-01T11:00:00+11:00" },
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(*c); i++) {
		assert_int_equal(calendar_iso(c[i].t, c[i].tz, out, sizeof(out)), 0);
		assert_string_equal(out, c[i].want);
	}
	assert_int_equal(calendar_iso(0, "UTC", out, 25), -1);     /* too small */
}

static void
test_from(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(calendar_parse_from("@1790000000", &t), 0);
	assert_int_equal(t, 1790000000);
	assert_int_equal(calendar_parse_from("2026-09-21T11:43:20-02:30", &t), 0);
	assert_int_equal(t, 1790000000);
	assert_int_equal(calendar_parse_from("2026-09-21T14:13:20Z", &t), 0);
	assert_int_equal(t, 1790000000);
	assert_int_equal(calendar_parse_from("2026-09-21T14:13:20", &t), -1);   /* no offset */
	assert_int_equal(calendar_parse_from("@", &t), -1);
	assert_int_equal(calendar_parse_from("@-5", &t), -1);
	assert_int_equal(calendar_parse_from("@12x", &t), -1);
	assert_int_equal(calendar_parse_from("tomorrow", &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso),
		cmocka_unit_test(test_from),
	};

	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
