/* glue: the decoding of enrichment's replies (GetTags, BatchGetJobs,
 * GetConnection) into typed results. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "glue.h"

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

static void
test_tags(void **state)
{
	cJSON *j = parse("{\"Tags\":{\"owner\":\"alice\",\"team\":\"\",\"\":\"x\","
	                 "\"n\":3,\"env\":\"prod\"}}");
	struct glue_tags_result r = {0};

	(void)state;
	assert_int_equal(glue_decode_tags(j, &r), 0);
	assert_int_equal(r.state, GLUE_KNOWN);
	assert_int_equal(r.n, 3);       /* no empty key, no value that is not a string */
	assert_string_equal(r.v[0].key, "owner");
	assert_string_equal(r.v[0].value, "alice");
	assert_string_equal(r.v[1].key, "team");
	assert_string_equal(r.v[1].value, "");
	assert_string_equal(r.v[2].key, "env");
	glue_tags_result_clear(&r);
	assert_null(r.v);
	cJSON_Delete(j);
}

static void
test_tags_none_and_malformed(void **state)
{
	cJSON *j = parse("{}");
	struct glue_tags_result r = {0};

	(void)state;
	/* no Tags member: known, and empty (unknown is not empty) */
	assert_int_equal(glue_decode_tags(j, &r), 0);
	assert_int_equal(r.state, GLUE_KNOWN);
	assert_int_equal(r.n, 0);
	glue_tags_result_clear(&r);
	cJSON_Delete(j);
	j = parse("{\"Tags\":[\"a\"]}");
	memset(&r, 0, sizeof(r));
	assert_int_equal(glue_decode_tags(j, &r), -EINVAL);
	assert_int_equal(r.state, GLUE_UNKNOWN);
	glue_tags_result_clear(&r);
	cJSON_Delete(j);
}

static void
test_jobs_with_jobs_not_found(void **state)
{
	cJSON *j = parse("{\"Jobs\":[{\"Name\":\"a\"},{\"Name\":\"b\"}],"
	                 "\"JobsNotFound\":[\"gone\",7,\"also-gone\"]}");
	struct glue_jobs_result r;

	(void)state;
	assert_int_equal(glue_decode_jobs(j, &r), 0);
	assert_int_equal(r.state, GLUE_KNOWN);
	assert_int_equal(r.n_jobs, 2);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.jobs[1], "Name")->valuestring, "b");
	assert_int_equal(r.n_missing, 2);
	assert_string_equal(r.missing[0], "gone");
	assert_string_equal(r.missing[1], "also-gone");
	glue_jobs_result_clear(&r);
	cJSON_Delete(j);
}

static void
test_jobs_malformed(void **state)
{
	cJSON *j = parse("{\"Jobs\":{\"Name\":\"a\"}}");
	struct glue_jobs_result r;

	(void)state;
	assert_int_equal(glue_decode_jobs(j, &r), -EINVAL);
	assert_int_equal(r.state, GLUE_UNKNOWN);
	assert_int_equal(r.n_jobs, 0);
	glue_jobs_result_clear(&r);
	cJSON_Delete(j);
	j = parse("{\"JobsNotFound\":[\"x\"]}");
	assert_int_equal(glue_decode_jobs(j, &r), 0);
	assert_int_equal(r.n_jobs, 0);
	assert_int_equal(r.n_missing, 1);
	glue_jobs_result_clear(&r);
	cJSON_Delete(j);
}

static void
test_connection(void **state)
{
	cJSON *j = parse("{\"Connection\":{\"Name\":\"c\",\"ConnectionProperties\":"
	                 "{\"JDBC_CONNECTION_URL\":\"jdbc:postgresql://h:5432/sales\"}}}");
	struct glue_connection_result r = {0};

	(void)state;
	glue_decode_connection(j, &r);
	assert_int_equal(r.state, GLUE_KNOWN);
	assert_true(r.found);
	assert_string_equal(r.jdbc_url, "jdbc:postgresql://h:5432/sales");
	cJSON_Delete(j);
	j = parse("{\"Connection\":{\"Name\":\"c\",\"ConnectionType\":\"NETWORK\"}}");
	memset(&r, 0, sizeof(r));
	glue_decode_connection(j, &r);
	assert_int_equal(r.state, GLUE_KNOWN);
	assert_true(r.found);
	assert_null(r.jdbc_url);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_tags_none_and_malformed),
		cmocka_unit_test(test_jobs_with_jobs_not_found),
		cmocka_unit_test(test_jobs_malformed),
		cmocka_unit_test(test_connection),
	};

	return cmocka_run_group_tests_name("glue_enrich", tests, NULL, NULL);
}
