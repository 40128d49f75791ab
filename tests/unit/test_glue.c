/* glue: decoding of the replies the run reads (ListWorkflows,
 * BatchGetWorkflows, GetWorkflowRuns) into typed results. */
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

static void
names_clear(struct glue_names *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* Decodes text as page number page asked for with token. */
static void
decode(const char *text, const char *token, unsigned page, unsigned max, struct glue_names *out)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	memset(out, 0, sizeof(*out));
	assert_int_equal(glue_names_decode(j, token, page, max, out), 0);
	cJSON_Delete(j);
}

static void
test_list_page_with_token(void **state)
{
	struct glue_names p;

	(void)state;
	decode("{\"Workflows\":[\"a\",\"\",\"b\",7],\"NextToken\":\"t1\"}", NULL, 1, 10, &p);
	assert_int_equal(p.st.state, GLUE_KNOWN);
	assert_int_equal(p.end, GLUE_PAGE_MORE);
	assert_int_equal(p.page, 1);
	assert_int_equal(p.n, 2);       /* empty names and non-strings are left out */
	assert_string_equal(p.names[0], "a");
	assert_string_equal(p.names[1], "b");
	names_clear(&p);
}

static void
test_list_last_page(void **state)
{
	struct glue_names p;

	(void)state;
	decode("{\"Workflows\":[\"a\"]}", "t1", 2, 10, &p);
	assert_int_equal(p.st.state, GLUE_KNOWN);
	assert_int_equal(p.end, GLUE_PAGE_LAST);
	names_clear(&p);
	decode("{\"Workflows\":[],\"NextToken\":null}", NULL, 1, 10, &p);
	assert_int_equal(p.end, GLUE_PAGE_LAST);
	assert_int_equal(p.n, 0);
	names_clear(&p);
	decode("{\"NextToken\":\"\"}", NULL, 1, 10, &p);       /* an empty token ends it */
	assert_int_equal(p.st.state, GLUE_KNOWN);
	assert_int_equal(p.end, GLUE_PAGE_LAST);
	names_clear(&p);
}

static void
test_list_repeated_token(void **state)
{
	struct glue_names p;

	(void)state;
	decode("{\"Workflows\":[\"a\"],\"NextToken\":\"t1\"}", "t1", 2, 10, &p);
	assert_int_equal(p.st.state, GLUE_KNOWN);
	assert_int_equal(p.end, GLUE_PAGE_REPEATED);
	assert_int_equal(p.n, 1);       /* the names still count */
	names_clear(&p);
}

static void
test_list_page_cap(void **state)
{
	struct glue_names p;

	(void)state;
	decode("{\"Workflows\":[\"a\"],\"NextToken\":\"t3\"}", "t2", 3, 3, &p);
	assert_int_equal(p.end, GLUE_PAGE_CAPPED);
	names_clear(&p);
	decode("{\"Workflows\":[\"a\"],\"NextToken\":\"t3\"}", "t2", 2, 3, &p);
	assert_int_equal(p.end, GLUE_PAGE_MORE);
	names_clear(&p);
}

static void
test_list_malformed(void **state)
{
	struct glue_names p;

	(void)state;
	decode("{\"Workflows\":\"a\"}", NULL, 1, 10, &p);
	assert_int_equal(p.st.state, GLUE_UNKNOWN);
	assert_int_equal(p.st.fail, GLUE_FAIL_MALFORMED);
	names_clear(&p);
	decode("{\"Workflows\":[\"a\"],\"NextToken\":5}", NULL, 1, 10, &p);
	assert_int_equal(p.st.state, GLUE_UNKNOWN);
	assert_int_equal(p.n, 0);
	names_clear(&p);
}

static void
test_batch_find(void **state)
{
	cJSON *j = cJSON_Parse("{\"Workflows\":[{\"Name\":\"a\",\"Description\":\"x\"},"
	                       "{\"Name\":\"b\"}],\"MissingWorkflows\":[\"c\"]}");
	const cJSON *wf;
	int missing;

	(void)state;
	assert_int_equal(glue_batch_find(j, "b", &wf, &missing), 0);
	assert_non_null(wf);
	assert_string_equal(cJSON_GetObjectItem(wf, "Name")->valuestring, "b");
	assert_int_equal(missing, 0);
	assert_int_equal(glue_batch_find(j, "c", &wf, &missing), 0);
	assert_null(wf);
	assert_int_equal(missing, 1);
	/* neither returned nor missing: read alone */
	assert_int_equal(glue_batch_find(j, "d", &wf, &missing), 0);
	assert_null(wf);
	assert_int_equal(missing, 0);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"Workflows\":{},\"MissingWorkflows\":[]}");
	assert_int_equal(glue_batch_find(j, "a", &wf, &missing), -EINVAL);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"MissingWorkflows\":\"a\"}");
	assert_int_equal(glue_batch_find(j, "a", &wf, &missing), -EINVAL);
	cJSON_Delete(j);
	j = cJSON_Parse("{}");          /* nothing at all: every name is read alone */
	assert_int_equal(glue_batch_find(j, "a", &wf, &missing), 0);
	assert_null(wf);
	assert_int_equal(missing, 0);
	cJSON_Delete(j);
}

static void
test_runs_page(void **state)
{
	cJSON *j = cJSON_Parse("{\"Runs\":[{\"WorkflowRunId\":\"r1\"},{\"WorkflowRunId\":\"r2\"}],"
	                       "\"NextToken\":\"n\"}");
	struct glue_runs p;

	(void)state;
	memset(&p, 0, sizeof(p));
	glue_runs_decode(j, &p);
	assert_int_equal(p.st.state, GLUE_KNOWN);
	assert_int_equal(cJSON_GetArraySize(p.runs), 2);
	assert_string_equal(p.next_token, "n");
	cJSON_Delete(j);

	j = cJSON_Parse("{\"Runs\":[]}");
	memset(&p, 0, sizeof(p));
	glue_runs_decode(j, &p);
	assert_int_equal(p.st.state, GLUE_KNOWN);     /* known, and empty */
	assert_int_equal(cJSON_GetArraySize(p.runs), 0);
	assert_null(p.next_token);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"Runs\":{}}");
	memset(&p, 0, sizeof(p));
	glue_runs_decode(j, &p);
	assert_int_equal(p.st.state, GLUE_UNKNOWN);
	assert_int_equal(p.st.fail, GLUE_FAIL_MALFORMED);
	assert_null(p.runs);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"Runs\":[],\"NextToken\":[]}");
	memset(&p, 0, sizeof(p));
	glue_runs_decode(j, &p);
	assert_int_equal(p.st.state, GLUE_UNKNOWN);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_page_with_token),
		cmocka_unit_test(test_list_last_page),
		cmocka_unit_test(test_list_repeated_token),
		cmocka_unit_test(test_list_page_cap),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_batch_find),
		cmocka_unit_test(test_runs_page),
	};

	return cmocka_run_group_tests_name("glue", tests, NULL, NULL);
}
