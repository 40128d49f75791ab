/* om: the decoding of enrichment's replies (lookups by name, searches,
 * lineage) and the wildcard escape of search literals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "om.h"

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

static void
test_lookup_by_name(void **state)
{
	cJSON *j = parse("{\"id\":\"u-1\",\"name\":\"alice\"}");
	struct om_lookup r = {0};

	(void)state;
	om_decode_lookup(j, 0, &r);
	assert_int_equal(r.state, OM_LOOKUP_FOUND);
	assert_string_equal(r.id, "u-1");
	cJSON_Delete(j);
	/* a reply without an id is still the entity being there */
	j = parse("{\"name\":\"GlueTags\",\"id\":7}");
	om_decode_lookup(j, 0, &r);
	assert_int_equal(r.state, OM_LOOKUP_FOUND);
	assert_null(r.id);
	cJSON_Delete(j);
}

static void
test_search_skips_deleted_hits(void **state)
{
	cJSON *j = parse("{\"hits\":{\"hits\":["
	                 "{\"_source\":{\"id\":\"old\",\"deleted\":true}},"
	                 "{\"_source\":\"not an object\"},"
	                 "{\"_source\":{\"deleted\":false}},"
	                 "{\"_source\":{\"id\":\"new\",\"deleted\":false}},"
	                 "{\"_source\":{\"id\":\"later\"}}]}}");
	struct om_lookup r = {0};

	(void)state;
	om_decode_lookup(j, 1, &r);
	assert_int_equal(r.state, OM_LOOKUP_FOUND);
	assert_string_equal(r.id, "new");
	cJSON_Delete(j);
}

static void
test_search_without_hits(void **state)
{
	const char *replies[] = {
		"{\"hits\":{\"hits\":[]}}",
		"{\"hits\":{\"hits\":[{\"_source\":{\"id\":\"x\",\"deleted\":true}}]}}",
		"{\"hits\":{\"total\":0}}",
		"{}",
	};
	struct om_lookup r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(replies) / sizeof(*replies); i++) {
		cJSON *j = parse(replies[i]);

		memset(&r, 0, sizeof(r));
		om_decode_lookup(j, 1, &r);
		assert_int_equal(r.state, OM_LOOKUP_ABSENT);
		assert_null(r.id);
		cJSON_Delete(j);
	}
}

static void
test_lineage_edges(void **state)
{
	cJSON *j = parse("{\"entity\":{\"id\":\"p\",\"type\":\"pipeline\"},"
	                 "\"nodes\":[{\"id\":\"t1\",\"type\":\"table\"},"
	                 "{\"id\":\"c1\",\"type\":\"container\"}],"
	                 "\"upstreamEdges\":[{\"fromEntity\":\"t1\",\"toEntity\":\"p\","
	                 "\"lineageDetails\":{\"pipeline\":{\"id\":\"p\",\"type\":\"pipeline\"},"
	                 "\"source\":\"PipelineLineage\"}},"
	                 "{\"fromEntity\":\"c1\",\"toEntity\":\"p\"},"
	                 "{\"fromEntity\":\"t1\"}],"
	                 "\"downstreamEdges\":[{\"fromEntity\":\"p\",\"toEntity\":\"t9\"}]}");
	struct om_lineage r = {0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(om_decode_lineage(j, 0, &r, &why), 0);
	assert_true(r.known);
	assert_int_equal(r.n, 2);       /* the edge without toEntity is left out */
	assert_string_equal(r.v[0].from.id, "t1");
	assert_string_equal(r.v[0].from.type, "table");
	assert_string_equal(r.v[0].to.id, "p");
	assert_null(r.v[0].to.type);    /* the entity itself is not among the nodes */
	assert_string_equal(r.v[0].pipeline_id, "p");
	assert_string_equal(r.v[0].source, "PipelineLineage");
	assert_string_equal(r.v[1].from.type, "container");
	assert_null(r.v[1].pipeline_id);
	assert_null(r.v[1].source);
	free(r.v);
	memset(&r, 0, sizeof(r));
	assert_int_equal(om_decode_lineage(j, 1, &r, &why), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].to.id, "t9");
	assert_null(r.v[0].to.type);
	free(r.v);
	cJSON_Delete(j);
}

static void
test_lineage_malformed(void **state)
{
	cJSON *j = parse("{\"upstreamEdges\":{\"fromEntity\":\"a\"}}");
	struct om_lineage r = {0};
	const char *why = NULL;

	(void)state;
	assert_int_equal(om_decode_lineage(j, 0, &r, &why), -EINVAL);
	assert_string_equal(why, "a malformed lineage reply");
	assert_false(r.known);
	assert_null(r.v);
	cJSON_Delete(j);
	/* no edges at all: a complete answer with none */
	j = parse("{\"nodes\":[]}");
	assert_int_equal(om_decode_lineage(j, 1, &r, &why), 0);
	assert_true(r.known);
	assert_int_equal(r.n, 0);
	free(r.v);
	cJSON_Delete(j);
}

static void
test_wild_escape(void **state)
{
	char *s;

	(void)state;
	s = om_wild_escape("s3://b/a*b?c\\d");
	assert_string_equal(s, "s3://b/a\\*b\\?c\\\\d");
	free(s);
	s = om_wild_escape("");
	assert_string_equal(s, "");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_by_name),
		cmocka_unit_test(test_search_skips_deleted_hits),
		cmocka_unit_test(test_search_without_hits),
		cmocka_unit_test(test_lineage_edges),
		cmocka_unit_test(test_lineage_malformed),
		cmocka_unit_test(test_wild_escape),
	};

	return cmocka_run_group_tests_name("om_enrich", tests, NULL, NULL);
}
