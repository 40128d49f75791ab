/* memo: the file a workflow's runs leave for the next one — round trip
 * through memo_save() and memo_open(), a memo made under other settings
 * read as empty, a corrupt or missing file read as empty with the reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "memo.h"
#include "state.h"

static char dir[64], wf_path[128], memo_path[128];

static void
write_wf(const char *text)
{
	FILE *fp = fopen(wf_path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gm-memo-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(wf_path, sizeof(wf_path), "%s/glue.yaml", dir);
	snprintf(memo_path, sizeof(memo_path), "%s/memo-sales.json", dir);
	write_wf("source:\n  type: gluepipeline\n");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(wf_path);
	(void)unlink(memo_path);
	return rmdir(dir);
}

/* A memo with two entries saved under the current workflow file. */
static void
save_two(void)
{
	char *settings = memo_settings_read(wf_path);
	struct memo *m;

	assert_non_null(settings);
	m = memo_new(settings);
	assert_non_null(m);
	assert_int_equal(memo_put(m, "status/a", "0123456789abcdef0123456789abcdef"), 0);
	assert_int_equal(memo_put(m, "usage/b", "fedcba9876543210fedcba9876543210"), 0);
	assert_int_equal(memo_save(dir, "memo-sales.json", m), 0);
	memo_free(m);
	free(settings);
}

static void
test_round_trip(void **state)
{
	char *settings = NULL, why[256] = "x";
	struct memo *m;

	(void)state;
	save_two();
	m = memo_open(dir, "memo-sales.json", wf_path, &settings, why, sizeof(why));
	assert_non_null(m);
	assert_non_null(settings);
	assert_string_equal(why, "");
	assert_int_equal(memo_size(m), 2);
	assert_true(memo_same(m, "status/a", "0123456789abcdef0123456789abcdef"));
	assert_true(memo_same(m, "usage/b", "fedcba9876543210fedcba9876543210"));
	assert_false(memo_same(m, "usage/b", "0123456789abcdef0123456789abcdef"));
	assert_false(memo_same(m, "lineage/c", "0123456789abcdef0123456789abcdef"));
	memo_free(m);
	free(settings);
}

static void
test_settings_include_version(void **state)
{
	char *settings;

	(void)state;
	settings = memo_settings_read(wf_path);
	assert_non_null(settings);
	assert_string_equal(settings, "gluemetad " GLUEMETAD_VERSION "\n"
	                    "source:\n  type: gluepipeline\n");
	free(settings);
}

static void
test_settings_mismatch_discards(void **state)
{
	char *settings = NULL, why[256] = "";
	struct memo *m;

	(void)state;
	save_two();
	write_wf("source:\n  type: gluepipeline\n  serviceName: other\n");
	m = memo_open(dir, "memo-sales.json", wf_path, &settings, why, sizeof(why));
	assert_non_null(m);
	assert_int_equal(memo_size(m), 0);
	assert_string_equal(why, "the workflow file changed since");
	memo_free(m);
	free(settings);
	/* the same through memo_load() with settings given */
	m = memo_load(dir, "memo-sales.json", "other settings", why, sizeof(why));
	assert_non_null(m);
	assert_int_equal(memo_size(m), 0);
	assert_string_equal(why, "the workflow file changed since");
	memo_free(m);
}

static void
test_corrupt_file(void **state)
{
	static const char *const bad[] = {
		"{\"memo\": 1, \"settings\": \"abc\", \"entr",
		"not json at all",
		"[1, 2, 3]",
	};
	char *settings = NULL, why[256] = "";
	struct memo *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(state_write(dir, "memo-sales.json", bad[i], strlen(bad[i])), 0);
		m = memo_open(dir, "memo-sales.json", wf_path, &settings, why, sizeof(why));
		assert_non_null(m);
		assert_int_equal(memo_size(m), 0);
		assert_string_equal(why, "it is not a memo gluemetad wrote");
		memo_free(m);
		free(settings);
		settings = NULL;
	}
}

static void
test_malformed_entry_and_format(void **state)
{
	char *settings = memo_settings_read(wf_path), why[256] = "", fp[33], text[512];
	struct memo *m;

	(void)state;
	assert_non_null(settings);
	memo_fp(settings, fp);
	snprintf(text, sizeof(text), "{\"memo\": 1, \"settings\": \"%s\", \"entries\": "
	         "{\"a\": \"0123456789abcdef0123456789abcdef\", \"b\": \"short\"}}", fp);
	assert_int_equal(state_write(dir, "memo-sales.json", text, strlen(text)), 0);
	m = memo_load(dir, "memo-sales.json", settings, why, sizeof(why));
	assert_int_equal(memo_size(m), 0);
	assert_string_equal(why, "an entry is malformed");
	memo_free(m);
	snprintf(text, sizeof(text), "{\"memo\": 2, \"settings\": \"%s\", \"entries\": {}}", fp);
	assert_int_equal(state_write(dir, "memo-sales.json", text, strlen(text)), 0);
	m = memo_load(dir, "memo-sales.json", settings, why, sizeof(why));
	assert_int_equal(memo_size(m), 0);
	assert_string_equal(why, "it was written in another format");
	memo_free(m);
	free(settings);
}

static void
test_missing(void **state)
{
	char *settings = NULL, why[256] = "";
	struct memo *m;

	(void)state;
	/* no memo yet: an empty one, and why */
	m = memo_open(dir, "memo-sales.json", wf_path, &settings, why, sizeof(why));
	assert_non_null(m);
	assert_int_equal(memo_size(m), 0);
	assert_string_equal(why, "there is none yet");
	memo_free(m);
	free(settings);
	/* no workflow file: no memo, errno says why, *ret_settings untouched */
	settings = NULL;
	(void)unlink(wf_path);
	errno = 0;
	assert_null(memo_open(dir, "memo-sales.json", wf_path, &settings, why, sizeof(why)));
	assert_int_equal(errno, ENOENT);
	assert_null(settings);
}

static void
test_save_fails_cleanly(void **state)
{
	struct memo *m = memo_new("s");

	(void)state;
	assert_non_null(m);
	/* state_dir is a file: the save reports it */
	assert_true(memo_save(wf_path, "memo-sales.json", m) < 0);
	memo_free(m);
}

/* Keys as runs make them (kind, \x1f, id, \x1f, sub) and with the
 * characters JSON escapes; the text is JSON cJSON reads to the same
 * entries, and text cJSON wrote (the writer before) reads back. */
static void
test_text_is_json_both_ways(void **state)
{
	static const char *const keys[] = {
		"s\x1f" "924738cf-4324-4fbe-865e-45ce5c6b7ece\x1f" "1795811040031",
		"u\x1f" "a9984cac\x1f" "2026-11-28", "quote\"back\\slash", "nl\ntab\tend",
		"\xc3\xa9t\xc3\xa9 \xe6\x97\xa5",
	};
	const char *fp = "0123456789abcdef0123456789abcdef";
	struct memo *m = memo_new("settings"), *back;
	const char *why;
	cJSON *j, *ents, *e;
	char *text, *old;
	size_t i;

	(void)state;
	assert_non_null(m);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(memo_put(m, keys[i], fp), 0);
	text = memo_dump(m);
	assert_non_null(text);
	j = cJSON_Parse(text);
	assert_non_null(j);
	ents = cJSON_GetObjectItemCaseSensitive(j, "entries");
	assert_int_equal(cJSON_GetArraySize(ents), sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		e = cJSON_GetObjectItemCaseSensitive(ents, keys[i]);
		assert_non_null(e);
		assert_string_equal(e->valuestring, fp);
	}
	old = cJSON_PrintUnformatted(j);
	assert_non_null(old);
	assert_non_null(strstr(old, "\\u001f"));      /* cJSON escapes \x1f so */
	back = memo_parse(old, "settings", &why);
	assert_non_null(back);
	assert_null(why);
	assert_int_equal(memo_size(back), sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(memo_same(back, keys[i], fp));
	memo_free(back);
	/* after the object only whitespace */
	old = realloc(old, strlen(old) + 8);
	assert_non_null(old);
	strcat(old, " \n");
	back = memo_parse(old, "settings", &why);
	assert_null(why);
	assert_int_equal(memo_size(back), sizeof(keys) / sizeof(keys[0]));
	memo_free(back);
	strcat(old, "x");
	back = memo_parse(old, "settings", &why);
	assert_string_equal(why, "it is not a memo gluemetad wrote");
	assert_int_equal(memo_size(back), 0);
	memo_free(back);
	free(old);
	cJSON_Delete(j);
	free(text);
	memo_free(m);
}

/* A memo larger than 16 MiB (5,000 workflows x 20 runs make 17 MB) is
 * saved and read back whole: it was once refused on reading, and every
 * run after was a full one. */
static void
test_large_memo_round_trip(void **state)
{
	const size_t n = 70000;
	char *settings = memo_settings_read(wf_path), key[300], why[256] = "x", *s2 = NULL;
	const char *fp = "0123456789abcdef0123456789abcdef";
	struct memo *m, *back;
	struct stat st;
	size_t i;

	(void)state;
	assert_non_null(settings);
	m = memo_new(settings);
	assert_non_null(m);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "s\x1f%08zx-%0200zu\x1f%zu", i, i, i * 7);
		assert_int_equal(memo_put(m, key, fp), 0);
	}
	assert_int_equal(memo_save(dir, "memo-sales.json", m), 0);
	assert_int_equal(stat(memo_path, &st), 0);
	assert_true(st.st_size > (16 << 20));
	back = memo_open(dir, "memo-sales.json", wf_path, &s2, why, sizeof(why));
	assert_non_null(back);
	assert_string_equal(why, "");
	assert_int_equal(memo_size(back), n);
	snprintf(key, sizeof(key), "s\x1f%08zx-%0200zu\x1f%zu", n - 1, n - 1, (n - 1) * 7);
	assert_true(memo_same(back, key, fp));
	memo_free(back);
	memo_free(m);
	free(settings);
	free(s2);
}

/* memo_carry(): one pipeline's statuses, a prefix of no set shape, all. */
static void
test_carry(void **state)
{
	static const char *const keys[] = {
		"s\x1f" "id1\x1f" "100", "s\x1f" "id1\x1f" "200", "s\x1f" "id12\x1f" "100",
		"u\x1f" "id1\x1f" "2026-11-28", "r\x1f" "id1", "l\x1f" "id1",
		"s\x1f" "id\x1f" "x\x1f" "300",      /* an id holding \x1f */
	};
	const char *fp = "0123456789abcdef0123456789abcdef";
	struct memo *from = memo_new("s"), *to;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(memo_put(from, keys[i], fp), 0);
	/* a second put of a key replaces its fingerprint, not adds one */
	assert_int_equal(memo_put(from, keys[0], "fedcba9876543210fedcba9876543210"), 0);
	assert_int_equal(memo_size(from), sizeof(keys) / sizeof(keys[0]));
	assert_false(memo_same(from, keys[0], fp));
	assert_true(memo_same(from, keys[0], "fedcba9876543210fedcba9876543210"));
	assert_int_equal(memo_put(from, "k", "not hex at all, 32 characters..."), -EINVAL);

	to = memo_new("s");
	assert_int_equal(memo_carry(from, to, "s\x1f" "id1\x1f"), 0);
	assert_int_equal(memo_size(to), 2);
	assert_true(memo_same(to, keys[1], fp));
	assert_true(memo_same(to, keys[0], "fedcba9876543210fedcba9876543210"));
	memo_free(to);

	to = memo_new("s");
	assert_int_equal(memo_carry(from, to, "s\x1f" "id\x1f" "x\x1f"), 0);
	assert_int_equal(memo_size(to), 1);
	assert_true(memo_same(to, keys[6], fp));
	memo_free(to);

	to = memo_new("s");                     /* no shape: every key it begins */
	assert_int_equal(memo_carry(from, to, "s\x1f" "id1"), 0);
	assert_int_equal(memo_size(to), 3);
	assert_true(memo_same(to, keys[2], fp));
	memo_free(to);

	to = memo_new("s");
	assert_int_equal(memo_carry(from, to, ""), 0);
	assert_int_equal(memo_size(to), memo_size(from));
	for (i = 1; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(memo_same(to, keys[i], fp));
	memo_free(to);

	to = memo_new("s");
	assert_int_equal(memo_carry(from, to, "s\x1f" "nobody\x1f"), 0);
	assert_int_equal(memo_size(to), 0);
	memo_free(to);
	memo_free(from);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_include_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_mismatch_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_entry_and_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_fails_cleanly, setup, teardown),
		cmocka_unit_test(test_text_is_json_both_ways),
		cmocka_unit_test(test_carry),
		cmocka_unit_test_setup_teardown(test_large_memo_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
