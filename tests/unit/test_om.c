/* om: decoding of the pipeline listing the run reads, and the memo's
 * "sourceHash:id" values and keys the run builds from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "memo.h"
#include "om.h"

#define HASH "0123456789abcdef0123456789abcdef"

static void
decode(const char *text, const char *cursor, unsigned page, struct om_pipelines *out,
       cJSON **ret_json)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	memset(out, 0, sizeof(*out));
	assert_int_equal(om_pipelines_decode(j, cursor, page, out), 0);
	*ret_json = j;                  /* the entries borrow from it */
}

static void
test_page_with_after(void **state)
{
	struct om_pipelines p;
	cJSON *j;

	(void)state;
	decode("{\"data\":[{\"name\":\"a\",\"id\":\"1\",\"sourceHash\":\"" HASH "\"},"
	       "{\"name\":\"b\",\"id\":\"2\",\"deleted\":true},{\"name\":\"c\"},{\"id\":\"4\"}],"
	       "\"paging\":{\"after\":\"cur1\",\"total\":9}}", NULL, 1, &p, &j);
	assert_int_equal(p.malformed, 0);
	assert_int_equal(p.end, OM_PAGE_MORE);
	assert_int_equal(p.n, 2);       /* entries without a name or an id are left out */
	assert_string_equal(p.v[0].name, "a");
	assert_string_equal(p.v[0].id, "1");
	assert_string_equal(p.v[0].source_hash, HASH);
	assert_int_equal(p.v[0].deleted, 0);
	assert_string_equal(p.v[1].name, "b");
	assert_null(p.v[1].source_hash);
	assert_int_equal(p.v[1].deleted, 1);
	assert_string_equal(om_pipelines_after(j), "cur1");
	free(p.v);
	cJSON_Delete(j);
}

static void
test_last_page(void **state)
{
	struct om_pipelines p;
	cJSON *j;

	(void)state;
	decode("{\"data\":[],\"paging\":{\"total\":0}}", NULL, 1, &p, &j);
	assert_int_equal(p.end, OM_PAGE_LAST);
	assert_int_equal(p.n, 0);
	assert_null(om_pipelines_after(j));
	free(p.v);
	cJSON_Delete(j);
	decode("{\"data\":[],\"paging\":{\"after\":\"\"}}", "c", 2, &p, &j);
	assert_int_equal(p.end, OM_PAGE_LAST);
	free(p.v);
	cJSON_Delete(j);
}

static void
test_repeated_cursor_and_cap(void **state)
{
	struct om_pipelines p;
	cJSON *j;

	(void)state;
	decode("{\"data\":[{\"name\":\"a\",\"id\":\"1\"}],\"paging\":{\"after\":\"c\"}}", "c", 2,
	       &p, &j);
	assert_int_equal(p.end, OM_PAGE_REPEATED);
	assert_int_equal(p.n, 1);       /* the page itself still counts */
	free(p.v);
	cJSON_Delete(j);
	decode("{\"data\":[],\"paging\":{\"after\":\"d\"}}", "c", OM_LIST_MAX_PAGES, &p, &j);
	assert_int_equal(p.end, OM_PAGE_CAPPED);
	free(p.v);
	cJSON_Delete(j);
	decode("{\"data\":[],\"paging\":{\"after\":\"d\"}}", "c", OM_LIST_MAX_PAGES - 1, &p, &j);
	assert_int_equal(p.end, OM_PAGE_MORE);
	free(p.v);
	cJSON_Delete(j);
}

static void
test_malformed_page(void **state)
{
	struct om_pipelines p;
	cJSON *j;

	(void)state;
	decode("{\"data\":{},\"paging\":{\"after\":\"x\"}}", NULL, 1, &p, &j);
	assert_int_equal(p.malformed, 1);
	assert_null(p.v);
	cJSON_Delete(j);
	decode("{\"paging\":{}}", NULL, 1, &p, &j);
	assert_int_equal(p.malformed, 1);
	cJSON_Delete(j);
}

static void
test_pipeline_value(void **state)
{
	char v[128], hash[33];
	const char *id;

	(void)state;
	assert_int_equal(memo_pipeline_value(HASH, "id-1", v, sizeof(v)), 0);
	assert_string_equal(v, HASH ":id-1");
	id = memo_pipeline_parse(v, hash);
	assert_non_null(id);
	assert_string_equal(id, "id-1");
	assert_string_equal(hash, HASH);
	assert_int_equal(memo_pipeline_value("short", "id", v, sizeof(v)), -EINVAL);
	assert_int_equal(memo_pipeline_value(HASH, "id-1", v, 36), -EINVAL);
	assert_null(memo_pipeline_parse("short:id", hash));
	assert_null(memo_pipeline_parse(HASH "-id", hash));
	assert_null(memo_pipeline_parse(NULL, hash));
}

static void
test_memo_keys(void **state)
{
	char k[64];

	(void)state;
	assert_int_equal(memo_key(MEMO_STATUS, "id", "1700000000000", k, sizeof(k)), 0);
	assert_string_equal(k, "s\x1fid\x1f" "1700000000000");
	assert_int_equal(memo_key(MEMO_USAGE, "id", "2026-12-01", k, sizeof(k)), 0);
	assert_string_equal(k, "u\x1fid\x1f" "2026-12-01");
	assert_int_equal(memo_key(MEMO_RUNS, "id", NULL, k, sizeof(k)), 0);
	assert_string_equal(k, "r\x1fid");
	assert_int_equal(memo_key(MEMO_STATUS, "id", "", k, sizeof(k)), 0);
	assert_string_equal(k, "s\x1fid\x1f");   /* the prefix of its statuses */
	assert_int_equal(memo_key(MEMO_STATUS, "id", "123", k, 7), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_with_after),
		cmocka_unit_test(test_last_page),
		cmocka_unit_test(test_repeated_cursor_and_cap),
		cmocka_unit_test(test_malformed_page),
		cmocka_unit_test(test_pipeline_value),
		cmocka_unit_test(test_memo_keys),
	};

	return cmocka_run_group_tests_name("om", tests, NULL, NULL);
}
