/* secrets: what needs no network: which values are references ("secret:ID"
 * with an AWS provider, ${CREDENTIALS_DIRECTORY}/NAME), and systemd
 * credentials read from CREDENTIALS_DIRECTORY, with their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets.h"
#include "wf.h"

static char dir[] = "/tmp/test_secrets.XXXXXX";

struct outcome {
	int calls, r;
	char why[600];
};

static void
done(int r, const char *why, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->r = r;
	snprintf(o->why, sizeof(o->why), "%s", why ? why : "");
}

static void
test_references(void **state)
{
	struct wf w = {0};

	(void)state;
	w.secrets_provider = "db";
	assert_false(secrets_is_reference(&w, "secret:/glue/ak"));    /* kept as written */
	assert_true(secrets_is_reference(&w, "${CREDENTIALS_DIRECTORY}/jwt"));
	assert_true(secrets_is_reference(&w, "$CREDENTIALS_DIRECTORY/jwt"));
	assert_false(secrets_is_reference(&w, "AKIAPLAIN"));
	assert_false(secrets_is_reference(&w, NULL));
	w.secrets_provider = "aws";
	assert_true(secrets_is_reference(&w, "secret:/glue/ak"));
	assert_false(secrets_is_reference(&w, "Secret:/glue/ak"));
	w.secrets_provider = "managed-aws-ssm";
	assert_true(secrets_is_reference(&w, "secret:/glue/ak"));
	w.secrets_provider = "aws";
	assert_false(secrets_needed(&w));
	w.jwt_token = "secret:/om/jwt";
	assert_true(secrets_needed(&w));
	w.jwt_token = "plain";
	w.aws_session_token = "${CREDENTIALS_DIRECTORY}/tok";
	assert_true(secrets_needed(&w));
}

static void
test_systemd_credentials(void **state)
{
	struct wf w = {0};
	struct outcome o = {0};
	struct secrets *s;
	char path[300];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/jwt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("eyJhbGciOi.secret\r\n\n", f);
	fclose(f);
	w.secrets_provider = "db";
	w.jwt_token = "${CREDENTIALS_DIRECTORY}/jwt";
	w.aws_access_key_id = "AKIAPLAIN";
	/* the directory is not set: a clear error, no value */
	unsetenv("CREDENTIALS_DIRECTORY");
	s = secrets_resolve(NULL, &w, NULL, done, &o);
	assert_int_equal(o.calls, 1);
	assert_true(o.r < 0);
	assert_non_null(strstr(o.why, "CREDENTIALS_DIRECTORY is not set"));
	secrets_free(s);
	/* read without the trailing line breaks; other values stay */
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	memset(&o, 0, sizeof(o));
	s = secrets_resolve(NULL, &w, NULL, done, &o);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.r, 0);
	assert_string_equal(secrets_wf(s)->jwt_token, "eyJhbGciOi.secret");
	assert_string_equal(secrets_wf(s)->aws_access_key_id, "AKIAPLAIN");
	assert_string_equal(w.jwt_token, "${CREDENTIALS_DIRECTORY}/jwt");   /* not touched */
	secrets_free(s);
	/* a name with a slash, and one that does not exist */
	w.jwt_token = "$CREDENTIALS_DIRECTORY/../jwt";
	memset(&o, 0, sizeof(o));
	s = secrets_resolve(NULL, &w, NULL, done, &o);
	assert_true(o.r < 0);
	assert_non_null(strstr(o.why, "securityConfig.jwtToken: '../jwt' is not a credential name"));
	secrets_free(s);
	w.jwt_token = "${CREDENTIALS_DIRECTORY}/nope";
	memset(&o, 0, sizeof(o));
	s = secrets_resolve(NULL, &w, NULL, done, &o);
	assert_true(o.r < 0);
	assert_non_null(strstr(o.why, "cannot read the systemd credential 'nope'"));
	secrets_free(s);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_systemd_credentials),
	};

	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
