/* Bad input never crashes or leaks: seeded random mutations of valid
 * inputs fed to every parser (YAML, workflow files, cron, Glue JSON through
 * the entity builders, AWS error bodies).  Run under ASan/UBSan and valgrind
 * by `make check`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "aws.h"
#include "cron.h"
#include "entity.h"
#include "util.h"
#include "wf.h"
#include "ytree.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)seed;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* A copy of in with a few random edits: flips, deletions, insertions of
 * syntax characters, truncation. */
static char *
mutate(const char *in, size_t len, size_t *out_len)
{
	static const char syntax[] = "{}[]:,\"'\n -&*!|>#%@\\\t0123456789.eE";
	char *b = malloc(len * 2 + 64);
	size_t n = len, edits = 1 + rnd() % 6, i;

	memcpy(b, in, len);
	for (i = 0; i < edits && n; i++) {
		size_t at = rnd() % n;

		switch (rnd() % 4) {
		case 0: b[at] = (char)(rnd() & 0xff); break;
		case 1: memmove(b + at, b + at + 1, n - at - 1); n--; break;
		case 2:
			memmove(b + at + 1, b + at, n - at);
			b[at] = syntax[rnd() % (sizeof(syntax) - 1)];
			n++;
			break;
		case 3: n = at; break;
		}
	}
	b[n] = '\0';
	*out_len = n;
	return b;
}

static void
test_yaml_and_workflow_files(void **state)
{
	size_t len, mlen, i;
	char *base = slurp(SHARED_DIR "/openmetadata-spec/examples/gluepipeline.yaml", &len);
	char path[] = "/tmp/gm-robust-XXXXXX";
	int fd = mkstemp(path), ok = 0, bad = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < 1500; i++) {
		char *m = mutate(base, len, &mlen);
		struct ynode *root = NULL;
		struct gm_err err = {{0}};
		struct wf *w = NULL;
		FILE *f;
		int r;

		r = ytree_load_string("fuzz.yaml", m, mlen, &root, &err);
		assert_true(r == 0 || r == -EINVAL);
		if (r < 0)
			assert_true(strncmp(err.msg, "fuzz.yaml:", 10) == 0);
		ytree_free(root);
		f = fopen(path, "wb");
		fwrite(m, 1, mlen, f);
		fclose(f);
		memset(&err, 0, sizeof(err));
		r = wf_load(path, &w, &err);
		assert_true(r == 0 || r == -EINVAL);
		if (r < 0) {
			assert_true(strstr(err.msg, path) != NULL);
			/* the secrets of the file never show in an error */
			assert_null(strstr(err.msg, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
			bad++;
		} else {
			ok++;
		}
		wf_free(w);
		free(m);
	}
	assert_true(bad > 500);     /* the mutations did reach the checks */
	assert_true(ok > 0);
	unlink(path);
	free(base);
}

static void
test_cron_expressions(void **state)
{
	static const char *const seeds[] = { "*/3 * * * * *", "0 9 * * MON-FRI", "0 0 13 * FRI",
		"@hourly", "5-10/5 4 1,15 jan-jun *", "0 0 29 2 *", "59 23 31 12 7" };
	size_t i, mlen;
	int ok = 0, bad = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		const char *base = seeds[rnd() % (sizeof(seeds) / sizeof(*seeds))];
		char *expr = mutate(base, strlen(base), &mlen);
		struct cron_spec c;
		char why[160] = "";
		time_t t;

		if (cron_parse(expr, &c, why, sizeof(why)) == 0) {
			int r = cron_next(&c, "UTC", 1795000000, &t);

			assert_true(r == 0 || r == -ERANGE);
			if (r == 0)
				assert_true(t > 1795000000);
			ok++;
		} else {
			assert_true(why[0] != '\0');
			bad++;
		}
		free(expr);
	}
	assert_true(ok > 100);
	assert_true(bad > 100);
}

static const char *RUN =
	"{\"Name\":\"w\",\"WorkflowRunId\":\"wr_1\",\"Status\":\"COMPLETED\",\"StartedOn\":1.7e9,"
	"\"CompletedOn\":1700000100.5,\"Graph\":{\"Nodes\":[{\"Type\":\"TRIGGER\",\"Name\":\"t\","
	"\"UniqueId\":\"n0\"},{\"Type\":\"JOB\",\"Name\":\"j\",\"UniqueId\":\"n1\",\"JobDetails\":"
	"{\"JobRuns\":[{\"Id\":\"jr\",\"JobRunState\":\"SUCCEEDED\",\"StartedOn\":1700000000.25,"
	"\"CompletedOn\":1700000050}]}},{\"Type\":\"CRAWLER\",\"Name\":\"c\",\"UniqueId\":\"n2\","
	"\"CrawlerDetails\":{\"Crawls\":[{\"State\":\"FAILED\",\"StartedOn\":1700000060}]}}],"
	"\"Edges\":[{\"SourceId\":\"n0\",\"DestinationId\":\"n1\"},{\"SourceId\":\"n1\","
	"\"DestinationId\":\"n2\"}]}}";

static void
test_glue_json_through_entities(void **state)
{
	size_t len = strlen(RUN), mlen, i;
	int parsed = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		char *m = mutate(RUN, len, &mlen);
		cJSON *j = cJSON_ParseWithLength(m, mlen), *out = NULL;
		struct gm_err err = {{0}};
		char code[64], msg[128];

		if (j) {
			parsed++;
			if (entity_pipeline_request(j, "svc", "eu-west-1", &out, &err) == 0)
				cJSON_Delete(out);
			out = NULL;
			if (entity_pipeline_status(j, &out, &err) == 0)
				cJSON_Delete(out);
			cJSON_Delete(j);
		}
		aws_parse_error(400, m, (rnd() & 1) ? m : NULL, code, sizeof(code), msg, sizeof(msg));
		assert_true(code[0] != '\0');
		free(m);
	}
	assert_true(parsed > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_and_workflow_files),
		cmocka_unit_test(test_cron_expressions),
		cmocka_unit_test(test_glue_json_through_entities),
	};

	return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
