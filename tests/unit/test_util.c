/* util: the growable buffer and its cap, strict number parsing, error
 * messages, percent-encoding, the string map, ISO 8601 times, XML leaves,
 * UUIDs and the join counter.  UTF-8 and str_sanitize() are in test_text.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "util.h"

static void
test_buf_grows_and_stays_terminated(void **state)
{
	struct buf b = {0};
	char *s;
	int i;

	(void)state;
	assert_int_equal(buf_puts(&b, ""), 0);
	assert_non_null(b.data);                /* empty, but a string */
	assert_string_equal(b.data, "");
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%d,", i % 10), 0);
	assert_int_equal(b.len, 2000);
	assert_int_equal(strlen(b.data), 2000);
	assert_memory_equal(b.data + 1990, "5,6,7,8,9,", 10);
	assert_int_equal(buf_append(&b, "x\0y", 3), 0);  /* bytes, not a string */
	assert_int_equal(b.len, 2003);
	assert_int_equal(b.data[2001], '\0');
	assert_int_equal(b.data[2003], '\0');
	s = buf_steal(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(s[2002], 'y');
	free(s);
	s = buf_steal(&b);                      /* nothing written: "" not NULL */
	assert_string_equal(s, "");
	free(s);
}

static void
test_buf_cap(void **state)
{
	struct buf b = { .max = 8 };

	(void)state;
	assert_int_equal(buf_puts(&b, "12345678"), 0);          /* exactly the cap */
	assert_int_equal(buf_puts(&b, "9"), -EFBIG);
	assert_int_equal(b.len, 8);                             /* unchanged */
	assert_string_equal(b.data, "12345678");
	assert_int_equal(buf_printf(&b, "%s", "x"), -EFBIG);
	assert_string_equal(b.data, "12345678");
	buf_wipe(&b);
	assert_null(b.data);
	assert_int_equal(b.max, 8);                             /* the cap is kept */
	assert_int_equal(buf_append(&b, "123456789", 9), -EFBIG);
	assert_int_equal(buf_append(&b, "12345", 5), 0);
	assert_int_equal(buf_append(&b, "1234", 4), -EFBIG);
	buf_clear(&b);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -EFBIG); /* no overflow */
	buf_clear(&b);
}

static void
expect_num(const char *s, int64_t min, int64_t max, int want_r, int64_t want,
           const char *want_why)
{
	const char *why = NULL;
	int64_t v = 12345;
	int r = num_parse_i64(s, min, max, &v, &why);

	if (r != want_r)
		fail_msg("'%s' in %lld..%lld: returned %d, want %d (%s)", s ? s : "(null)",
		         (long long)min, (long long)max, r, want_r, why ? why : "");
	if (r == 0) {
		assert_int_equal(v, want);
	} else {
		assert_int_equal(v, 12345);             /* ret_ untouched on failure */
		assert_non_null(why);
		assert_string_equal(why, want_why);
	}
}

static void
test_num_parse_i64(void **state)
{
	(void)state;
	expect_num("0", 0, 10, 0, 0, NULL);
	expect_num("10", 0, 10, 0, 10, NULL);
	expect_num("-5", -10, 10, 0, -5, NULL);
	expect_num("007", 0, 10, 0, 7, NULL);           /* decimal, not octal */
	expect_num("9223372036854775807", INT64_MIN, INT64_MAX, 0, INT64_MAX, NULL);
	expect_num("-9223372036854775808", INT64_MIN, INT64_MAX, 0, INT64_MIN, NULL);
	expect_num("", 0, 10, -EINVAL, 0, "empty");
	expect_num(NULL, 0, 10, -EINVAL, 0, "empty");
	expect_num(" 5", 0, 10, -EINVAL, 0, "not a number");    /* no leading space */
	expect_num("+5", 0, 10, -EINVAL, 0, "not a number");    /* nor a sign strtoll takes */
	expect_num("5 ", 0, 10, -EINVAL, 0, "not a number");
	expect_num("5x", 0, 10, -EINVAL, 0, "not a number");
	expect_num("0x10", 0, 100, -EINVAL, 0, "not a number");
	expect_num("1.5", 0, 10, -EINVAL, 0, "not a number");
	expect_num("-", 0, 10, -EINVAL, 0, "not a number");
	expect_num("11", 0, 10, -ERANGE, 0, "too large");
	expect_num("-1", 0, 10, -ERANGE, 0, "too small");
	expect_num("9223372036854775808", INT64_MIN, INT64_MAX, -ERANGE, 0, "too large");
	expect_num("-9223372036854775809", INT64_MIN, INT64_MAX, -ERANGE, 0, "too small");
	expect_num("99999999999999999999", 0, 10, -ERANGE, 0, "too large");
}

static void
test_gm_err(void **state)
{
	struct gm_err e = {{0}};
	char big[6000];

	(void)state;
	gm_err_set(&e, "%s:%d: %s", "conf.yaml", 3, "bad");
	assert_string_equal(e.msg, "conf.yaml:3: bad");
	gm_err_set(NULL, "ignored");            /* a caller that wants no message */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gm_err_set(&e, "%s", big);              /* cut, still terminated */
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void
test_urlencode(void **state)
{
	char *s;

	(void)state;
	s = str_urlencode("AZaz09-_.~");
	assert_string_equal(s, "AZaz09-_.~");   /* RFC 3986 unreserved stay */
	free(s);
	s = str_urlencode("a b/c?d=e&f+g%h");
	assert_string_equal(s, "a%20b%2Fc%3Fd%3De%26f%2Bg%25h");
	free(s);
	s = str_urlencode("été\x01\xff");     /* bytes, upper-case hex */
	assert_string_equal(s, "%C3%A9t%C3%A9%01%FF");
	free(s);
	s = str_urlencode("");
	assert_string_equal(s, "");
	free(s);
	s = str_urlencode_printf("/v1/pipelines/name/%s?fields=tags", "svc.my pipe");
	assert_string_equal(s, "/v1/pipelines/name/svc.my%20pipe?fields=tags");
	free(s);
}

static void
test_str_helpers(void **state)
{
	char *s;

	(void)state;
	assert_null(str_dup(NULL));
	s = str_dup("x");
	assert_string_equal(s, "x");
	free(s);
	assert_true(str_eq(NULL, NULL));
	assert_false(str_eq("a", NULL));
	assert_false(str_eq(NULL, "a"));
	assert_true(str_eq("a", "a"));
	assert_false(str_eq("a", "A"));
	str_wipe_free(NULL);
	str_wipe_free(strdup("secret"));
}

static void
test_strmap(void **state)
{
	struct strmap m = {0};
	struct strmap_entry *e;
	char key[32], val[32];
	int i;

	(void)state;
	assert_null(strmap_get(&m, "a"));       /* an empty map has no table yet */
	assert_int_equal(strmap_put(&m, "a", "1"), 0);
	assert_int_equal(strmap_put(&m, "b", NULL), 0);
	e = strmap_get(&m, "a");
	assert_non_null(e);
	assert_string_equal(e->value, "1");
	e = strmap_get(&m, "b");
	assert_non_null(e);                     /* present, with a NULL value */
	assert_null(e->value);
	assert_int_equal(strmap_put(&m, "a", "2"), 0);  /* replaces, no new entry */
	assert_int_equal(m.n, 2);
	assert_string_equal(strmap_get(&m, "a")->value, "2");
	assert_null(strmap_get(&m, "A"));       /* case matters */
	/* past several growths every key is still found with its value */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i * 7);
		assert_int_equal(strmap_put(&m, key, val), 0);
	}
	assert_int_equal(m.n, 1002);
	assert_true(m.cap >= 2 * m.n);          /* at most half full */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i * 7);
		e = strmap_get(&m, key);
		assert_non_null(e);
		assert_string_equal(e->value, val);
	}
	assert_string_equal(strmap_get(&m, "a")->value, "2");
	assert_null(strmap_get(&m, "k1000"));
	strmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_null(strmap_get(&m, "a"));
	assert_int_equal(strmap_put(&m, "again", "x"), 0);     /* usable after clear */
	strmap_clear(&m);
}

static void
test_iso8601(void **state)
{
	(void)state;
	assert_int_equal(time_parse_iso8601("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00Z"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00.123456Z"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T20:30:00+01:30"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T17:00:00-02:00"), 1795546800);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00z"), 1795546800);
	assert_int_equal(time_parse_iso8601(NULL), -1);
	assert_int_equal(time_parse_iso8601(""), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00"), -1);       /* no zone */
	assert_int_equal(time_parse_iso8601("2026-11-24 19:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-13-24T19:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T24:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00.Z"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00Zjunk"), -1);
	assert_int_equal(time_parse_iso8601("2026-11-24T19:00:00+0100"), -1);
	assert_int_equal(time_parse_iso8601("1969-12-31T23:59:59Z"), -1);
}

static void
test_xml_leaf(void **state)
{
	char *s;

	(void)state;
	s = str_xml_leaf("<R><Code>NoSuchKey</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;"
	                 " &apos;d&apos; &#65;&#x42;</Message></R>", "Message");
	assert_string_equal(s, "a <b> & \"c\" 'd' AB");
	free(s);
	s = str_xml_leaf("<Code>First</Code><Code>Second</Code>", "Code");
	assert_string_equal(s, "First");
	free(s);
	s = str_xml_leaf("<Code></Code>", "Code");
	assert_string_equal(s, "");
	free(s);
	s = str_xml_leaf("<x>&bogus; &#0; &#200;</x>", "x");   /* left as written */
	assert_string_equal(s, "&bogus; &#0; &#200;");
	free(s);
	assert_null(str_xml_leaf("<Code>open", "Code"));
	assert_null(str_xml_leaf("<Other>x</Other>", "Code"));
}

static void
test_uuid4(void **state)
{
	char a[37], b[37];
	size_t i;

	(void)state;
	str_uuid4(a);
	str_uuid4(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');                   /* version 4 */
	assert_non_null(strchr("89ab", a[19]));        /* RFC 4122 variant */
}

static void
test_join(void **state)
{
	struct join j = {0};

	(void)state;
	assert_false(join_done(&j));            /* nothing in flight: not "last" */
	assert_int_equal(j.pending, 0);
	join_add(&j, 3);
	assert_false(join_done(&j));
	assert_false(join_done(&j));
	assert_true(join_done(&j));
	assert_false(join_done(&j));
	assert_int_equal(j.pending, 0);
}

static void
test_json_strings(void **state)
{
	cJSON *a = cJSON_Parse("[\"a\", 1, null, \"b\", {}, \"c\"]");
	const char *out[2];

	(void)state;
	assert_non_null(a);
	assert_int_equal(json_strings(a, out, 2), 2);   /* non-strings skipped, capped */
	assert_string_equal(out[0], "a");
	assert_string_equal(out[1], "b");
	assert_int_equal(json_strings(NULL, out, 2), 0);
	cJSON_Delete(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_num_parse_i64),
		cmocka_unit_test(test_gm_err),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_str_helpers),
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_xml_leaf),
		cmocka_unit_test(test_uuid4),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_json_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
