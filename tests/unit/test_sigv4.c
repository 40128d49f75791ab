/* sigv4: AWS's official SigV4 test suite (../shared/aws-sigv4-testsuite, 34
 * cases) and the derived vectors for our own requests
 * (../shared/aws-sigv4-derived, 13 cases), read from disk: canonical
 * request, string to sign and Authorization must match exactly. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sigv4.h"

#define SUITE SHARED_DIR "/aws-sigv4-testsuite"
#define DERIVED SHARED_DIR "/aws-sigv4-derived"
#define MAX_HEADERS 32

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = calloc(1, (size_t)n + 1)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

struct parsed {
	char *method, *path, *query, *body;
	char *names[MAX_HEADERS], *values[MAX_HEADERS];
	size_t n;
};

static void
parsed_free(struct parsed *p)
{
	size_t i;

	free(p->method);
	free(p->path);
	free(p->query);
	free(p->body);
	for (i = 0; i < p->n; i++) {
		free(p->names[i]);
		free(p->values[i]);
	}
}

/* Request line split on the first and the last space (a path may hold a
 * space); headers "Name:value" with obsolete folding; blank line; body. */
static void
parse_req(char *text, struct parsed *p)
{
	char *line = text, *next, *sp1, *sp2, *q;

	memset(p, 0, sizeof(*p));
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	sp1 = strchr(line, ' ');
	sp2 = strrchr(line, ' ');
	assert_non_null(sp1);
	assert_true(sp2 > sp1);
	p->method = strndup(line, (size_t)(sp1 - line));
	*sp2 = '\0';
	q = strchr(sp1 + 1, '?');
	if (q) {
		p->path = strndup(sp1 + 1, (size_t)(q - sp1 - 1));
		p->query = strdup(q + 1);
	} else {
		p->path = strdup(sp1 + 1);
	}
	while ((line = next)) {
		char *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line) {
			p->body = strdup(next ? next : "");
			return;
		}
		if ((*line == ' ' || *line == '\t') && p->n) {
			char *joined;

			assert_true(asprintf(&joined, "%s\n%s", p->values[p->n - 1], line) > 0);
			free(p->values[p->n - 1]);
			p->values[p->n - 1] = joined;
			continue;
		}
		colon = strchr(line, ':');
		assert_non_null(colon);
		assert_true(p->n < MAX_HEADERS);
		p->names[p->n] = strndup(line, (size_t)(colon - line));
		p->values[p->n++] = strdup(colon + 1);
	}
	p->body = strdup("");
}

static const char *
header(const struct parsed *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

struct creds {
	const char *region, *service, *access_key, *secret_key, *token;
};

static int failures;

static void
expect_file(const char *dir, const char *name, const char *ext, const char *got)
{
	char path[1024];
	char *want;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	want = slurp(path);
	assert_non_null(want);
	if (strcmp(want, got) != 0) {
		print_error("%s.%s differs\n--- expected\n%s\n--- got\n%s\n", name, ext, want, got);
		failures++;
	}
	free(want);
}

static void
run_case(const char *dir, const char *name, const struct creds *c)
{
	char path[1024];
	char *text;
	struct parsed p;
	struct sigv4_header hs[MAX_HEADERS + 1];
	struct sigv4_result r = {0};
	size_t i, n = 0;

	snprintf(path, sizeof(path), "%s/%s.req", dir, name);
	text = slurp(path);
	assert_non_null(text);
	parse_req(text, &p);
	for (i = 0; i < p.n; i++)
		hs[n++] = (struct sigv4_header){ p.names[i], p.values[i] };
	if (c->token && !header(&p, "X-Amz-Security-Token"))
		hs[n++] = (struct sigv4_header){ "X-Amz-Security-Token", c->token };
	struct sigv4_input in = {
		.method = p.method, .path = p.path, .query = p.query, .headers = hs,
		.n_headers = n, .body = p.body, .body_len = strlen(p.body), .region = c->region,
		.service = c->service, .access_key = c->access_key, .secret_key = c->secret_key,
		.amz_date = header(&p, "X-Amz-Date"), .normalize_path = 1,
	};
	assert_non_null(in.amz_date);
	assert_int_equal(sigv4_sign(&in, &r), 0);
	expect_file(dir, name, "creq", r.canonical_request);
	expect_file(dir, name, "sts", r.string_to_sign);
	expect_file(dir, name, "authz", r.authorization);
	sigv4_result_clear(&r);
	parsed_free(&p);
	free(text);
}

/* The token of get-vanilla-with-session-token is the one its .creq shows. */
static char *
token_from_creq(const char *dir, const char *name)
{
	char path[1024], *text, *line, *end, *tok = NULL;

	snprintf(path, sizeof(path), "%s/%s.creq", dir, name);
	text = slurp(path);
	assert_non_null(text);
	line = strstr(text, "\nx-amz-security-token:");
	if (line) {
		line += strlen("\nx-amz-security-token:");
		end = strchr(line, '\n');
		tok = strndup(line, end ? (size_t)(end - line) : strlen(line));
	}
	free(text);
	return tok;
}

/* Walks a suite: every directory holding NAME.req is a case. */
static int
walk(const char *dir, int derived)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	const char *base = strrchr(dir, '/') + 1;
	char path[1024];
	int cases = 0;

	assert_non_null(d);
	snprintf(path, sizeof(path), "%s/%s.req", dir, base);
	if (access(path, R_OK) == 0) {
		struct creds c = { "us-east-1", "service", "AKIDEXAMPLE",
		                   "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
		char *json_text = NULL, *tok = NULL;
		cJSON *j = NULL;

		if (derived) {
			snprintf(path, sizeof(path), "%s/%s.json", dir, base);
			json_text = slurp(path);
			assert_non_null(json_text);
			j = cJSON_Parse(json_text);
			assert_non_null(j);
			c.region = cJSON_GetObjectItem(j, "region")->valuestring;
			c.service = cJSON_GetObjectItem(j, "service")->valuestring;
			c.access_key = cJSON_GetObjectItem(j, "access_key")->valuestring;
			c.secret_key = cJSON_GetObjectItem(j, "secret_key")->valuestring;
			if (cJSON_IsString(cJSON_GetObjectItem(j, "session_token")))
				c.token = cJSON_GetObjectItem(j, "session_token")->valuestring;
		} else if (strcmp(base, "get-vanilla-with-session-token") == 0) {
			c.token = tok = token_from_creq(dir, base);
			assert_non_null(tok);
		}
		run_case(dir, base, &c);
		cJSON_Delete(j);
		free(json_text);
		free(tok);
		cases++;
	}
	while ((e = readdir(d))) {
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			cases += walk(path, derived);
	}
	closedir(d);
	return cases;
}

static void
test_official_suite(void **state)
{
	(void)state;
	failures = 0;
	assert_int_equal(walk(SUITE, 0), 34);
	assert_int_equal(failures, 0);
}

static void
test_derived_vectors(void **state)
{
	(void)state;
	failures = 0;
	assert_int_equal(walk(DERIVED, 1), 13);
	assert_int_equal(failures, 0);
}

static void
test_helpers_and_bad_input(void **state)
{
	char hex[65], date[17];
	struct sigv4_result r = {0};
	struct sigv4_input in = {0};

	(void)state;
	sigv4_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sigv4_amz_date(1440938160, date);
	assert_string_equal(date, "20150830T123600Z");
	assert_int_equal(sigv4_sign(NULL, &r), -22);
	assert_int_equal(sigv4_sign(&in, &r), -22);
	in = (struct sigv4_input){ .method = "GET", .path = "/", .region = "us-east-1",
	                           .service = "glue", .access_key = "AK", .secret_key = "SK",
	                           .amz_date = "2015" };
	assert_int_equal(sigv4_sign(&in, &r), -22);     /* malformed date */
	assert_null(r.authorization);
	sigv4_result_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_suite),
		cmocka_unit_test(test_derived_vectors),
		cmocka_unit_test(test_helpers_and_bad_input),
	};

	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
