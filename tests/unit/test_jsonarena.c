/* jsonarena: replies parsed into one chunk and given back at once.  What a
 * parse gives must be what cJSON_ParseWithLength() gives (compared through
 * cJSON's own printer, with the arena off), nested parses must leave each
 * other's trees alone, and a tree too large for the chunk must parse the
 * same.  Under valgrind (make check-valgrind) the test also shows that
 * nothing allocated outside a parse, or past the chunk, is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "jsonarena.h"
#include "util.h"

/* A GetWorkflowRuns-like reply: n runs, each with a few strings and numbers. */
static char *
reply_text(int n)
{
	struct buf b = {0};
	int i;

	assert_int_equal(buf_puts(&b, "{\"Runs\":["), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s{\"Name\":\"wf\",\"WorkflowRunId\":\"wr_%08d\","
		                            "\"Status\":\"COMPLETED\",\"StartedOn\":%d.5,"
		                            "\"Statistics\":{\"TotalActions\":%d,\"Failed\":[]},"
		                            "\"Tags\":[\"a\\u00e9\",null,true,false]}",
		                            i ? "," : "", i, 1700000000 + i, i % 9), 0);
	assert_int_equal(buf_puts(&b, "],\"NextToken\":\"t\"}"), 0);
	return b.data;
}

/* The text cJSON prints of text parsed the usual way: the reference. */
static char *
reference(const char *text)
{
	cJSON *j = cJSON_ParseWithLength(text, strlen(text));
	char *out;

	assert_non_null(j);
	out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return out;
}

static void
assert_parses_as_reference(const char *text)
{
	char *want = reference(text), *got;
	size_t mark;
	cJSON *j = json_arena_parse(text, strlen(text), &mark);

	assert_non_null(j);
	got = cJSON_PrintUnformatted(j);
	assert_string_equal(got, want);
	cJSON_free(got);
	json_arena_release(j, mark);
	cJSON_free(want);
}

static void
test_same_tree_as_cjson(void **state)
{
	char *text = reply_text(50);

	(void)state;
	assert_parses_as_reference(text);
	assert_parses_as_reference("{}");
	assert_parses_as_reference("[1,2.5,\"x\",{\"k\":[null]}]");
	free(text);
}

static void
test_released_memory_is_used_again(void **state)
{
	char *text = reply_text(20);
	size_t m1, m2, mc;
	cJSON *a, *b, *c;

	(void)state;
	a = json_arena_parse(text, strlen(text), &m1);
	assert_non_null(a);
	/* a second tree while the first is held goes past it, by its size */
	c = json_arena_parse(text, strlen(text), &mc);
	assert_non_null(c);
	assert_true(mc >= m1 + 20 * 10 * sizeof(cJSON));
	json_arena_release(c, mc);
	json_arena_release(a, m1);
	b = json_arena_parse(text, strlen(text), &m2);
	assert_non_null(b);
	/* the second tree is where the first was: one chunk, not malloc */
	assert_ptr_equal(a, b);
	assert_int_equal(m1, m2);
	json_arena_release(b, m2);
	free(text);
}

static void
test_nested_parses_keep_each_other(void **state)
{
	char *outer_text = reply_text(30), *inner_text = reply_text(3), *want, *got;
	size_t mo, mi;
	cJSON *outer, *inner, *made;

	(void)state;
	want = reference(outer_text);
	outer = json_arena_parse(outer_text, strlen(outer_text), &mo);
	assert_non_null(outer);
	/* made between the parses: from malloc, and freed as usual */
	made = cJSON_CreateObject();
	cJSON_AddStringToObject(made, "k", "v");
	inner = json_arena_parse(inner_text, strlen(inner_text), &mi);
	assert_non_null(inner);
	assert_true(mi > mo);
	json_arena_release(inner, mi);
	got = cJSON_PrintUnformatted(outer);
	assert_string_equal(got, want);
	cJSON_free(got);
	json_arena_release(outer, mo);
	cJSON_Delete(made);
	cJSON_free(want);
	free(outer_text);
	free(inner_text);
}

static void
test_not_json_gives_nothing_and_holds_nothing(void **state)
{
	char *text = reply_text(5);
	size_t m0, m1, m2;
	cJSON *a, *b;

	(void)state;
	a = json_arena_parse(text, strlen(text), &m0);
	json_arena_release(a, m0);
	assert_null(json_arena_parse("{\"Runs\":[{\"Name\":\"cut", 21, &m1));
	assert_null(json_arena_parse("", 0, &m1));
	b = json_arena_parse(text, strlen(text), &m2);
	assert_ptr_equal(a, b);
	assert_int_equal(m0, m2);
	json_arena_release(b, m2);
	free(text);
}

static void
test_larger_than_the_chunk(void **state)
{
	/* some 8 MiB of tree: past the first chunk, and past the next */
	char *text = reply_text(20000);

	(void)state;
	assert_parses_as_reference(text);
	assert_parses_as_reference(text);
	json_arena_trim();
	assert_parses_as_reference(text);
	json_arena_trim();
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_tree_as_cjson),
		cmocka_unit_test(test_released_memory_is_used_again),
		cmocka_unit_test(test_nested_parses_keep_each_other),
		cmocka_unit_test(test_not_json_gives_nothing_and_holds_nothing),
		cmocka_unit_test(test_larger_than_the_chunk),
	};

	return cmocka_run_group_tests_name("jsonarena", tests, NULL, NULL);
}
