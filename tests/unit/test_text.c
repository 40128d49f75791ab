/* Text from outside: str_sanitize() and friends (valid UTF-8 out, control
 * characters escaped).  The expected values were computed with Python 3.11:
 * bytes.decode("utf-8", "replace") for the replacement characters.  Filter
 * patterns folding case past ASCII are in test_filter.c. */
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

#define FFFD "\xef\xbf\xbd"

static void
test_utf8_decode(void **state)
{
	static const struct {
		const char *in;
		uint32_t cp;
		size_t len;
	} t[] = {
		{ "A", 'A', 1 },
		{ "\xc3\xa9", 0xe9, 2 },
		{ "\xe2\x82\xac", 0x20ac, 3 },
		{ "\xf0\x9f\x98\x80", 0x1f600, 4 },
		{ "\xf4\x8f\xbf\xbf", 0x10ffff, 4 },
		{ "\x80", UTF8_INVALID, 1 },            /* a lone continuation byte */
		{ "\xc0\xaf", UTF8_INVALID, 1 },        /* overlong, never a lead byte */
		{ "\xe0\x80\xaf", UTF8_INVALID, 1 },    /* overlong */
		{ "\xed\xa0\x80", UTF8_INVALID, 1 },    /* a surrogate */
		{ "\xf4\x90\x80\x80", UTF8_INVALID, 1 },        /* past U+10FFFF */
		{ "\xf5\x80", UTF8_INVALID, 1 },
		{ "\xe2\x82", UTF8_INVALID, 2 },        /* cut short: one maximal subpart */
		{ "\xf0\x9f\x98" "A", UTF8_INVALID, 3 },
		{ "\xff", UTF8_INVALID, 1 },
	};
	size_t i, n;
	uint32_t cp;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = utf8_decode(t[i].in, strlen(t[i].in), &cp);
		assert_int_equal(cp, t[i].cp);
		assert_int_equal(n, t[i].len);
	}
	/* the length given is respected: a sequence cut by it is invalid */
	n = utf8_decode("\xc3\xa9", 1, &cp);
	assert_int_equal(cp, UTF8_INVALID);
	assert_int_equal(n, 1);
}

static void
test_utf8_encode(void **state)
{
	static const uint32_t cps[] = { 0, 'z', 0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xffff,
	                                0x10000, 0x10ffff };
	char out[4];
	size_t i, n, m;
	uint32_t back;

	(void)state;
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		n = utf8_encode(cps[i], out);
		m = utf8_decode(out, n, &back);
		assert_int_equal(m, n);
		assert_int_equal(back, cps[i]);
	}
}

static const struct {
	const char *in, *out;
} SANITIZED[] = {
	{ "", "" },
	{ "plain ASCII, with \\ and \"quotes\"", "plain ASCII, with \\ and \"quotes\"" },
	{ "donn\xc3\xa9" "es \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", "donn\xc3\xa9" "es "
	  "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80" },
	/* what the issue saw: a screen clear, a window title, a bell, a forged record */
	{ "HTTP 500: \x1b[2J\x1b]0;pwned\x07\a\nNOTICE [good] run FAKE success",
	  "HTTP 500: \\x1b[2J\\x1b]0;pwned\\x07\\x07\\x0aNOTICE [good] run FAKE success" },
	{ "a\tb\rc\x01\x1f", "a\\x09b\\x0dc\\x01\\x1f" },
	{ "del\x7f", "del\\x7f" },
	{ "csi\xc2\x9b" "31m nel\xc2\x85 nbsp\xc2\xa0", "csi\\x9b31m nel\\x85 nbsp\xc2\xa0" },
	{ "\xff\xfe", FFFD FFFD },
	{ "run \xed\xa0\x80", "run " FFFD FFFD FFFD },
	{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },
	{ "a\xc2", "a" FFFD },
	{ "\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", FFFD FFFD FFFD FFFD "A" },   /* Unicode's table 3-8 */
	{ "an escape already written \\x1b stays", "an escape already written \\x1b stays" },
};

static void
test_sanitize_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(SANITIZED) / sizeof(SANITIZED[0]); i++) {
		char *s = str_sanitize(SANITIZED[i].in), *again;

		assert_non_null(s);
		assert_string_equal(s, SANITIZED[i].out);
		assert_int_equal(str_sanitize_buf(NULL, 0, SANITIZED[i].in), strlen(s));
		again = str_sanitize(s);
		assert_string_equal(again, s);          /* twice is once */
		free(again);
		free(s);
	}
}

/* What a terminal or a log reader may see: valid UTF-8 (checked here with
 * the rules spelled out, not with utf8_decode), no C0, DEL or C1. */
static void
assert_clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = *u < 0x80 ? 1 : *u >= 0xc2 && *u <= 0xdf ? 2 : *u >= 0xe0 && *u <= 0xef ? 3 :
		           *u >= 0xf0 && *u <= 0xf4 ? 4 : 0;
		uint32_t cp = n == 1 ? *u : n == 2 ? *u & 0x1fu : n == 3 ? *u & 0x0fu : *u & 0x07u;
		size_t i;

		assert_true(n > 0);
		for (i = 1; i < n; i++) {
			assert_true((u[i] & 0xc0) == 0x80);
			cp = cp << 6 | (u[i] & 0x3fu);
		}
		assert_true(n == 1 || cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u));
		assert_false(cp >= 0xd800 && cp <= 0xdfff);
		assert_true(cp <= 0x10ffff);
		assert_false(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f));
		u += n;
	}
}

static void
test_sanitize_random_bytes(void **state)
{
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	char in[64];
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t len = (size_t)(seed % sizeof(in)), i;
		char *s, *again, t[sizeof(in) + 16];
		cJSON *j;

		for (i = 0; i < len; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			/* biased toward bytes that make or break UTF-8 */
			in[i] = (char)(seed & 1 ? 0x80 | (seed >> 8 & 0x7f) : seed >> 8 & 0xff);
			if (!in[i])
				in[i] = '\x1b';
		}
		in[len] = '\0';
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		s = str_sanitize(in);
		assert_non_null(s);
		assert_clean(s);
		again = str_sanitize(s);
		assert_string_equal(again, s);
		free(again);
		free(s);
		/* json_sanitize() settles printable ASCII in one scan and gives
		 * exactly str_sanitize()'s text: the random bytes alone, after
		 * an ASCII prefix, and mapped into printable ASCII */
		snprintf(t, sizeof(t), round % 3 == 0 ? "%s" : "workflow-%s", in);
		if (round % 3 == 2)
			for (i = 0; t[i]; i++)
				t[i] = (char)(0x20 + (unsigned char)t[i] % 0x5f);
		s = str_sanitize(t);
		j = cJSON_CreateString(t);
		assert_non_null(s);
		assert_non_null(j);
		assert_int_equal(json_sanitize(j), 0);
		assert_string_equal(j->valuestring, s);
		if (round % 3 == 2)
			assert_string_equal(j->valuestring, t);
		cJSON_Delete(j);
		free(s);
	}
}

static void
test_sanitize_buf_never_cuts(void **state)
{
	char out[16];

	(void)state;
	memset(out, 'x', sizeof(out));
	/* "é" needs 3 bytes with its NUL */
	assert_int_equal(str_sanitize_buf(out, 2, "\xc3\xa9"), 2);
	assert_string_equal(out, "");
	assert_int_equal(str_sanitize_buf(out, 3, "\xc3\xa9"), 2);
	assert_string_equal(out, "\xc3\xa9");
	/* an escape is 4 bytes: all of it or none */
	assert_int_equal(str_sanitize_buf(out, 6, "ab\x1b"), 6);
	assert_string_equal(out, "ab");
	/* nothing after a piece that did not fit, even a smaller one */
	assert_int_equal(str_sanitize_buf(out, 5, "ab" FFFD "c"), 6);
	assert_string_equal(out, "ab");
	assert_int_equal(str_sanitize_buf(out, sizeof(out), "\xff" "ok"), 5);
	assert_string_equal(out, FFFD "ok");
	out[0] = 'x';
	assert_int_equal(str_sanitize_buf(out, 0, "abc"), 3);     /* n = 0: nothing written */
	assert_int_equal(out[0], 'x');
}

static void
test_json_sanitize(void **state)
{
	cJSON *j = cJSON_CreateObject(), *arr, *o;
	char *text;

	(void)state;
	cJSON_AddStringToObject(j, "error", "no workflow named '\xff\xfe'");
	arr = cJSON_AddArrayToObject(j, "runs");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "message", "\x1b]0;t\x07\nNOTICE x");
	cJSON_AddStringToObject(o, "k\xc2\x9b", "v");
	cJSON_AddNumberToObject(o, "n", 3);
	cJSON_AddItemToArray(arr, o);
	cJSON_AddItemToArray(arr, cJSON_CreateString("del\x7f"));
	assert_int_equal(json_sanitize(j), 0);
	text = cJSON_PrintUnformatted(j);
	assert_string_equal(text, "{\"error\":\"no workflow named '" FFFD FFFD "'\",\"runs\":"
	                          "[{\"message\":\"\\\\x1b]0;t\\\\x07\\\\x0aNOTICE x\","
	                          "\"k\\\\x9b\":\"v\",\"n\":3},\"del\\\\x7f\"]}");
	assert_clean(text);
	free(text);
	cJSON_Delete(j);
	assert_int_equal(json_sanitize(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_utf8_encode),
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_sanitize_random_bytes),
		cmocka_unit_test(test_sanitize_buf_never_cuts),
		cmocka_unit_test(test_json_sanitize),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
