/* history: save and load round trip in a temporary state_dir, the bound on
 * runs kept, a truncated or corrupt file reported and survived, stored
 * messages sanitized whoever wrote them, and a run whose state was not
 * saved shown as such and read back. */
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

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "history.h"
#include "state.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gm-history-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	(void)unlink(path);
	(void)rmdir(path);
	return rmdir(dir);
}

static void
write_file(const char *text)
{
	assert_int_equal(state_write(dir, HISTORY_FILE, text, strlen(text)), 0);
}

static void
fill(struct history_run *r, int i)
{
	snprintf(r->id, sizeof(r->id), "run-%d", i);
	snprintf(r->trigger, sizeof(r->trigger), "%s", i % 2 ? "manual" : "schedule");
	snprintf(r->result, sizeof(r->result), "success");
	r->started_ms = 1760000000000 + i;
	r->finished_ms = 1760000001000 + i;
	r->records = (unsigned long)i;
	r->warnings = 2;
	r->errors = 3;
	r->filtered = 4;
	r->pipelines = 5;
	r->statuses = 6;
	r->deleted = 7;
}

static void
test_round_trip(void **state)
{
	struct history a = { .name = "sales" }, b = { .name = "hr" };
	struct history a2 = { .name = "sales" }, b2 = { .name = "hr" };
	struct history none = { .name = "unknown" };
	const struct history *all[] = { &a, &b };
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		fill(history_push(&a), i);
	snprintf(a.runs[2].message, sizeof(a.runs[2].message), "GetWorkflow: AccessDenied");
	assert_int_equal(history_save(dir, all, 2), 0);
	assert_int_equal(history_load(dir, &a2), 0);
	assert_int_equal(history_load(dir, &b2), 0);
	assert_int_equal(history_load(dir, &none), 0);
	assert_int_equal(a2.n, 3);
	assert_int_equal(b2.n, 0);
	assert_int_equal(none.n, 0);
	assert_memory_equal(a.runs, a2.runs, sizeof(a.runs[0]) * 3);
	history_clear(&b);
	history_clear(&b2);
	history_clear(&none);
	assert_string_equal(a2.runs[0].trigger, "schedule");
	assert_string_equal(a2.runs[1].trigger, "manual");
	assert_string_equal(a2.runs[2].message, "GetWorkflow: AccessDenied");
	history_clear(&a);
	history_clear(&a2);
	assert_null(a.runs);
	assert_int_equal(a.n, 0);
}

static void
test_no_file_yet(void **state)
{
	struct history h = { .name = "sales" };

	(void)state;
	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h.n, 0);
}

static void
test_keeps_the_last(void **state)
{
	struct history h = { .name = "sales" }, h2 = { .name = "sales" };
	const struct history *all[] = { &h };
	int i;

	(void)state;
	for (i = 0; i < HISTORY_MAX + 7; i++)
		fill(history_push(&h), i);
	assert_int_equal(h.n, HISTORY_MAX);
	assert_string_equal(h.runs[0].id, "run-7");
	assert_string_equal(h.runs[HISTORY_MAX - 1].id, "run-56");
	assert_int_equal(history_save(dir, all, 1), 0);
	assert_int_equal(history_load(dir, &h2), 0);
	assert_int_equal(h2.n, HISTORY_MAX);
	assert_string_equal(h2.runs[0].id, "run-7");
	assert_int_equal(h.cap, HISTORY_MAX);
	history_clear(&h);
	history_clear(&h2);
}

static void
test_corrupt_is_reported_not_fatal(void **state)
{
	struct history h = { .name = "sales" }, h2 = { .name = "sales" };
	const struct history *all[] = { &h };
	char *text;

	(void)state;
	fill(history_push(&h), 1);
	assert_int_equal(history_save(dir, all, 1), 0);
	/* cut in the middle, as a full disk or an old bug would leave it */
	text = state_read(dir, HISTORY_FILE);
	assert_non_null(text);
	text[strlen(text) / 2] = '\0';
	write_file(text);
	free(text);
	assert_int_equal(history_load(dir, &h2), -EBADMSG);
	assert_int_equal(h2.n, 0);
	write_file("\x01\xff not json");
	assert_int_equal(history_load(dir, &h2), -EBADMSG);
	assert_int_equal(h2.n, 0);
	/* JSON of the wrong shape: nothing for the workflow, no error */
	write_file("{\"workflows\": {\"sales\": [1, \"x\", {\"run_id\": 7}]}}");
	assert_int_equal(history_load(dir, &h2), 0);
	assert_int_equal(h2.n, 1);
	assert_string_equal(h2.runs[0].id, "");
	/* the next save replaces the file */
	assert_int_equal(history_save(dir, all, 1), 0);
	h2.n = 0;
	assert_int_equal(history_load(dir, &h2), 0);
	assert_int_equal(h2.n, 1);
	assert_string_equal(h2.runs[0].id, "run-1");
	history_clear(&h);
	history_clear(&h2);
}

static void
test_unreadable(void **state)
{
	struct history h = { .name = "sales" };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(history_load(dir, &h), -EISDIR);
	assert_int_equal(h.n, 0);
}

static void
test_messages_sanitized(void **state)
{
	struct history h = { .name = "sales" };

	(void)state;
	/* written by an older version: raw control bytes, invalid UTF-8 */
	write_file("{\"workflows\": {\"sales\": [{\"run_id\": \"r\\u001b[2J\", "
	           "\"trigger\": \"schedule\", \"result\": \"failed\", "
	           "\"message\": \"bad\\nline\\u009b \xff end\", \"records\": -4, "
	           "\"started_ms\": 12}]}, \"version\": 1}");
	assert_int_equal(history_load(dir, &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.runs[0].id, "r\\x1b[2J");
	assert_string_equal(h.runs[0].message, "bad\\x0aline\\x9b \xef\xbf\xbd end");
	assert_int_equal(h.runs[0].records, 0);
	assert_int_equal(h.runs[0].started_ms, 12);
	history_clear(&h);
}

static void
test_json_format(void **state)
{
	struct history_run r = {0};
	cJSON *arr = cJSON_CreateArray(), *o;
	char *text;

	(void)state;
	fill(&r, 3);
	history_run_to_json(arr, &r);
	text = cJSON_PrintUnformatted(arr);
	assert_string_equal(text, "[{\"run_id\":\"run-3\",\"trigger\":\"manual\",\"result\":"
	                    "\"success\",\"started_ms\":1760000000003,\"finished_ms\":"
	                    "1760000001003,\"records\":3,\"warnings\":2,\"errors\":3,"
	                    "\"filtered\":4,\"pipelines\":5,\"statuses\":6,\"deleted\":7}]");
	free(text);
	snprintf(r.message, sizeof(r.message), "boom");
	history_run_to_json(arr, &r);
	o = cJSON_GetArrayItem(arr, 1);
	assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring, "boom");
	cJSON_Delete(arr);
}

static void
test_state_not_saved(void **state)
{
	struct history h = { .name = "sales" }, h2 = { .name = "sales" };
	const struct history *all[] = { &h };
	struct history_run *r;
	cJSON *arr = cJSON_CreateArray(), *o;
	char shown[256], small[12];

	(void)state;
	r = history_push(&h);
	fill(r, 1);
	history_run_result(r, shown, sizeof(shown));
	assert_string_equal(shown, "success");
	snprintf(r->state_error, sizeof(r->state_error), "history.json: Is a directory");
	history_run_result(r, shown, sizeof(shown));
	assert_string_equal(shown, "success (state not saved: history.json: Is a directory)");
	history_run_result(r, small, sizeof(small));
	assert_string_equal(small, "success (st");
	/* on the socket and in the file: no "success" for whoever compares */
	history_run_to_json(arr, r);
	o = cJSON_GetArrayItem(arr, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "result")->valuestring,
	                    "success (state not saved: history.json: Is a directory)");
	assert_string_equal(cJSON_GetObjectItem(o, "state_error")->valuestring,
	                    "history.json: Is a directory");
	cJSON_Delete(arr);
	/* read back: the result itself, and the reason apart */
	fill(history_push(&h), 2);
	snprintf(h.runs[1].result, sizeof(h.runs[1].result), "partialSuccess");
	snprintf(h.runs[1].state_error, sizeof(h.runs[1].state_error),
	         "memo-sales.json: No space left on device");
	fill(history_push(&h), 3);
	assert_int_equal(history_save(dir, all, 1), 0);
	assert_int_equal(history_load(dir, &h2), 0);
	assert_int_equal(h2.n, 3);
	assert_memory_equal(h.runs, h2.runs, sizeof(h.runs[0]) * 3);
	assert_string_equal(h2.runs[0].result, "success");
	assert_string_equal(h2.runs[1].result, "partialSuccess");
	assert_string_equal(h2.runs[1].state_error, "memo-sales.json: No space left on device");
	assert_string_equal(h2.runs[2].state_error, "");
	history_clear(&h);
	history_clear(&h2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_file_yet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeps_the_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_is_reported_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_sanitized, setup, teardown),
		cmocka_unit_test(test_json_format),
		cmocka_unit_test_setup_teardown(test_state_not_saved, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
