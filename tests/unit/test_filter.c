/* filter: OpenMetadata's filterPattern semantics (includes win, else
 * excludes; re.match anchored at the start only; case-insensitive), the
 * Python escapes and lazy quantifiers translated to POSIX, case folding
 * past ASCII, and pattern errors.  Expected values are what Python 3.11's
 * re.match(pattern, name, re.IGNORECASE) answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"
#include "util.h"

static void
test_filter(void **state)
{
	char *inc_v[] = { "^etl_\\d+", "Nightly" }, *exc_v[] = { "etl_1" };
	struct strlist inc = { inc_v, 2 }, exc = { exc_v, 1 }, none = { NULL, 0 };
	struct filter *f = NULL;
	char why[128];

	(void)state;
	assert_int_equal(filter_new(&inc, &exc, &f), 0);
	assert_false(filter_excludes(f, "etl_12"));     /* includes win over excludes */
	assert_false(filter_excludes(f, "ETL_3x"));     /* case-insensitive */
	assert_false(filter_excludes(f, "nightly_load"));
	assert_true(filter_excludes(f, "my_nightly"));  /* anchored at the start */
	assert_true(filter_excludes(f, "etl_x"));
	f = filter_free(f);
	assert_int_equal(filter_new(&none, &exc, &f), 0);
	assert_true(filter_excludes(f, "ETL_100"));
	assert_false(filter_excludes(f, "xetl_1"));
	f = filter_free(f);
	assert_int_equal(filter_new(&none, &none, &f), 0);
	assert_false(filter_excludes(f, "anything"));
	f = filter_free(f);
	assert_int_equal(filter_check_pattern("a(b", why, sizeof(why)), -22);
	assert_int_equal(filter_check_pattern("[\\w.-]+?_(?:x|y)\\s*$", why, sizeof(why)), 0);
}

/* 1 when the name lands with the pattern as the only include. */
static int
kept(const char *pattern, const char *name)
{
	char *v[] = { strdup(pattern) };
	struct strlist inc = { v, 1 };
	struct filter *f = NULL;
	int r;

	assert_non_null(v[0]);
	assert_int_equal(filter_new(&inc, NULL, &f), 0);
	r = !filter_excludes(f, name);
	filter_free(f);
	free(v[0]);
	return r;
}

static void
test_filter_folds_case_past_ascii(void **state)
{
	static const struct {
		const char *pattern, *name;
		int match;                      /* Python's re.match(p, n, re.I) */
	} t[] = {
		{ "DONNÉES", "données_été_日本", 1 },
		{ "données", "DONNÉES_BRUTES", 1 },
		{ "DONN.ES", "données", 1 },            /* . is one character, not one byte */
		{ "ΣΊΣΥΦΟΣ", "σίσυφος_φόρτωση", 1 },
		{ "σ", "ς", 1 },
		{ "ДАННЫЕ", "данные_ночь", 1 },
		{ "данные", "ДАННЫЙ", 0 },
		{ "k", "\xe2\x84\xaa" "elvin", 1 },     /* KELVIN SIGN */
		{ "\xe2\x84\xab", "åsa", 1 },           /* ANGSTROM SIGN */
		{ "ω", "\xe2\x84\xa6", 1 },             /* OHM SIGN */
		{ "ß", "ẞ", 1 },
		{ "straße", "STRASSE", 0 },             /* no full case folding in Python either */
		{ "i", "İstanbul", 1 },
		{ "ı", "Isparta", 1 },
		{ "ǅ", "ǆemal", 1 },
		{ "[à-þ]+_x", "ÉÈÇ_x", 1 },             /* a range past ASCII, by code point */
		{ "[a-é]+$", "Été", 1 },
		{ "[a-é]+$", "été_ü", 0 },
		{ "[^é]", "É", 0 },
		{ "\\w+_日本$", "Données_日本", 1 },
		{ "etl_", "ETL_sales", 1 },
	};
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (kept(t[i].pattern, t[i].name) != t[i].match)
			fail_msg("re.match(%s, %s, re.I) is %s", t[i].pattern, t[i].name,
			         t[i].match ? "a match" : "no match");
	}
	assert_int_equal(filter_check_pattern("[é-a]", why, sizeof(why)), -22);
	assert_non_null(strstr(why, "bad character range"));
	assert_int_equal(filter_check_pattern("[a-\xf4\x8f\xbf\xbf]", why, sizeof(why)), -22);
	assert_non_null(strstr(why, "wider than"));
	assert_int_equal(filter_check_pattern("[一-龥]+", why, sizeof(why)), 0);
}

static void
test_python_syntax_translated(void **state)
{
	static const struct {
		const char *pattern, *name;
		int match;                      /* Python's re.match(p, n, re.I) */
	} t[] = {
		{ "\\d+$", "2026", 1 },
		{ "\\d", "x1", 0 },
		{ "\\D\\d", "x1", 1 },
		{ "\\w+$", "a_b9", 1 },
		{ "\\w+$", "a-b", 0 },
		{ "a\\W", "a-", 1 },
		{ "a\\sb", "a b", 1 },
		{ "a\\Sb", "a b", 0 },
		{ "[\\d_]+$", "1_2", 1 },               /* an escape inside brackets */
		{ "[^\\d]", "5", 0 },
		{ "a.+?z$", "abcz", 1 },                /* lazy: still matches */
		{ "a*?b", "aab", 1 },
		{ "a{1,2}?c", "aac", 1 },
		{ "(?:dev|prod)_", "PROD_x", 1 },       /* non-capturing group */
		{ "(?:dev|prod)_", "test_x", 0 },
		{ "etl", "etl", 1 },
		{ "etl$", "etl_x", 0 },                 /* $ is still the end */
		{ "", "anything", 1 },                  /* empty matches at the start */
		{ "a\\.b", "a.b", 1 },
		{ "a\\.b", "axb", 0 },
		{ "[]x]", "]", 1 },                     /* ] first in brackets is literal */
		{ "\\é", "É", 1 },                      /* an escaped character past ASCII */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (kept(t[i].pattern, t[i].name) != t[i].match)
			fail_msg("re.match(%s, %s, re.I) is %s", t[i].pattern, t[i].name,
			         t[i].match ? "a match" : "no match");
}

static void
test_bad_patterns(void **state)
{
	char *bad_v[] = { "ok", "a(b" }, *ok_v[] = { "ok" };
	struct strlist bad = { bad_v, 2 }, ok = { ok_v, 1 };
	struct filter *f = NULL;
	char why[128];

	(void)state;
	why[0] = '\0';
	assert_int_equal(filter_check_pattern("a(b", why, sizeof(why)), -EINVAL);
	assert_true(why[0] != '\0');            /* regerror's reason */
	assert_int_equal(filter_check_pattern("*a", why, sizeof(why)), -EINVAL);
	assert_int_equal(filter_check_pattern("[z-a]", why, sizeof(why)), -EINVAL);
	assert_int_equal(filter_check_pattern("[abc", why, sizeof(why)), -EINVAL);
	assert_int_equal(filter_check_pattern("^etl_.*", why, sizeof(why)), 0);
	assert_int_equal(filter_check_pattern(".*_test$", why, sizeof(why)), 0);
	/* a bad include or exclude fails the whole filter, leaving ret alone */
	assert_int_equal(filter_new(&bad, NULL, &f), -EINVAL);
	assert_null(f);
	assert_int_equal(filter_new(&ok, &bad, &f), -EINVAL);
	assert_null(f);
}

static void
test_no_filter_keeps_all(void **state)
{
	struct strlist none = { NULL, 0 };
	struct filter *f = NULL;

	(void)state;
	assert_false(filter_excludes(NULL, "x"));       /* no filter at all */
	assert_int_equal(filter_new(NULL, NULL, &f), 0);
	assert_false(filter_excludes(f, "x"));
	assert_false(filter_excludes(f, ""));
	f = filter_free(f);
	assert_null(f);
	assert_int_equal(filter_new(&none, NULL, &f), 0);       /* an empty list is none */
	assert_false(filter_excludes(f, "x"));
	filter_free(f);
	assert_null(filter_free(NULL));
}

static void
test_invalid_utf8_name(void **state)
{
	char *v[] = { "etl" };
	struct strlist inc = { v, 1 };
	struct filter *f = NULL;

	(void)state;
	/* a name from Glue that is not UTF-8 is matched, not refused */
	assert_int_equal(filter_new(&inc, NULL, &f), 0);
	assert_false(filter_excludes(f, "ETL_\xff\xfe"));
	assert_true(filter_excludes(f, "\xff" "etl"));
	filter_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_filter_folds_case_past_ascii),
		cmocka_unit_test(test_python_syntax_translated),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_no_filter_keeps_all),
		cmocka_unit_test(test_invalid_utf8_name),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
