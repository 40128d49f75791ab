/* Cron expressions: parsing, and the next fire time from a few starting
 * points in a few zones (a DST zone both ways, a half-hour zone, UTC).
 * Checks: 0 or -EINVAL with a reason; a fire time is after the start, at
 * most 8 years on, and a matching second; next(next) moves forward. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "fuzz.h"

static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York",
	                             "Australia/Lord_Howe", "Asia/Kolkata", NULL };
static const time_t starts[] = {
	0,              /* 1970 */
	1711846799,     /* 2024-03-31 00:59:59 UTC, just before the EU spring gap */
	1730595600,     /* 2024-11-03 01:00:00 UTC, US fall back */
	1709208000,     /* 2024-02-29 12:00:00 UTC, a leap day */
	4102444799,     /* 2099-12-31 23:59:59 UTC */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cron_spec c;
	char why[256] = "";
	char *expr;
	size_t i;
	int r;

	if (size > 512)
		return 0;
	expr = fuzz_cstr(data, size);
	r = cron_parse(expr, &c, why, sizeof(why));
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 || why[0]);
	if (r == 0) {
		/* the zone and the start follow from the input, so that the
		 * fuzzer can steer them */
		unsigned h = 0;

		for (i = 0; i < size; i++)
			h = h * 31 + data[i];
		for (i = 0; i < 3; i++) {
			const char *tz = zones[(h + i) % 5];
			time_t after = starts[(h / 5 + i) % 5], next, next2;

			r = cron_next(&c, tz, after, &next);
			FUZZ_CHECK(r == 0 || r == -ERANGE);
			if (r < 0)
				continue;
			FUZZ_CHECK(next > after);
			FUZZ_CHECK(next - after <= (time_t)9 * 366 * 86400);
			/* in UTC a fire is always a matching second (elsewhere a
			 * time in a spring-forward gap fires right after it) */
			FUZZ_CHECK(strcmp(tz, "UTC") != 0 || (c.sec >> (next % 60) & 1));
			r = cron_next(&c, tz, next, &next2);
			FUZZ_CHECK(r == 0 || r == -ERANGE);
			FUZZ_CHECK(r < 0 || next2 > next);
		}
	}
	free(expr);
	return 0;
}
