/* awsauth: the profile plan of the shared config and credentials files
 * (source_profile chains, credential_source, credential_process, loops and
 * errors) and the chain's order for a workflow (keys, environment, web
 * identity, profile, assumeRoleArn on top). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "awsauth.h"
#include "awsauth_int.h"
#include "util.h"
#include "wf.h"

static char dir[] = "/tmp/test_awsauth.XXXXXX";
static struct awsauth_files fl;

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
files(const char *config, const char *creds)
{
	write_file(fl.config, config);
	write_file(fl.creds, creds);
}

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(fl.config, sizeof(fl.config), "%s/config", dir);
	snprintf(fl.creds, sizeof(fl.creds), "%s/credentials", dir);
	setenv("AWS_CONFIG_FILE", fl.config, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", fl.creds, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(fl.config);
	unlink(fl.creds);
	rmdir(dir);
	return 0;
}

static int
plan(const char *profile, struct plan *p, struct gm_err *err)
{
	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	return awsauth__profile_plan(&fl, profile, 0, p, err);
}

static void
test_keys(void **state)
{
	struct plan p;
	struct gm_err err;

	(void)state;
	/* the credentials file's keys win over the config file's */
	files("[profile a]\naws_access_key_id = CFG\naws_secret_access_key = cfgsk\n",
	      "[a]\naws_access_key_id = AK\naws_secret_access_key = sk\naws_session_token = t\n");
	assert_int_equal(plan("a", &p, &err), 1);
	assert_int_equal(p.kind, BASE_STATIC);
	assert_string_equal(p.creds.access_key, "AK");
	assert_string_equal(p.creds.session_token, "t");
	assert_int_equal(p.n_roles, 0);
	awsauth__plan_clear(&p);
	/* "default" is [default] in the config file too */
	files("[default]\ncredential_process = /bin/helper --x\n", "");
	assert_int_equal(plan("default", &p, &err), 1);
	assert_int_equal(p.kind, BASE_PROCESS);
	assert_string_equal(p.process, "/bin/helper --x");
	awsauth__plan_clear(&p);
	/* no such profile: nothing, no error */
	assert_int_equal(plan("missing", &p, &err), 0);
	awsauth__plan_clear(&p);
}

static void
test_source_profile_chain(void **state)
{
	struct plan p;
	struct gm_err err;

	(void)state;
	files("[profile top]\nrole_arn = arn:top\nsource_profile = mid\nrole_session_name = s1\n"
	      "external_id = ext\n"
	      "[profile mid]\nrole_arn = arn:mid\nsource_profile = base\n",
	      "[base]\naws_access_key_id = AK\naws_secret_access_key = sk\n");
	assert_int_equal(plan("top", &p, &err), 1);
	assert_int_equal(p.kind, BASE_STATIC);
	assert_string_equal(p.creds.access_key, "AK");
	/* the innermost role first: each is assumed with what the one before gave */
	assert_int_equal(p.n_roles, 2);
	assert_string_equal(p.roles[0].arn, "arn:mid");
	assert_string_equal(p.roles[1].arn, "arn:top");
	assert_string_equal(p.roles[1].session, "s1");
	assert_string_equal(p.roles[1].external_id, "ext");
	assert_null(p.roles[0].external_id);
	assert_string_equal(p.profile, "top");
	awsauth__plan_clear(&p);
	/* a profile that is its own source uses its own keys */
	files("[profile self]\nrole_arn = arn:self\nsource_profile = self\n",
	      "[self]\naws_access_key_id = AK2\naws_secret_access_key = sk2\n");
	assert_int_equal(plan("self", &p, &err), 1);
	assert_string_equal(p.creds.access_key, "AK2");
	assert_int_equal(p.n_roles, 1);
	awsauth__plan_clear(&p);
}

static void
test_credential_source(void **state)
{
	struct plan p;
	struct gm_err err;

	(void)state;
	files("[profile e]\nrole_arn = arn:e\ncredential_source = Environment\n"
	      "[profile c]\nrole_arn = arn:c\ncredential_source = EcsContainer\n"
	      "[profile i]\nrole_arn = arn:i\ncredential_source = Ec2InstanceMetadata\n"
	      "[profile x]\nrole_arn = arn:x\ncredential_source = Elsewhere\n", "");
	assert_int_equal(plan("e", &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "credential_source Environment but AWS_ACCESS_KEY_ID"));
	awsauth__plan_clear(&p);
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsk", 1);
	assert_int_equal(plan("e", &p, &err), 1);
	assert_int_equal(p.kind, BASE_STATIC);
	assert_string_equal(p.creds.access_key, "ENVAK");
	assert_int_equal(p.n_roles, 1);
	awsauth__plan_clear(&p);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(plan("c", &p, &err), 1);
	assert_int_equal(p.kind, BASE_CONTAINER);
	awsauth__plan_clear(&p);
	assert_int_equal(plan("i", &p, &err), 1);
	assert_int_equal(p.kind, BASE_IMDS);
	assert_string_equal(p.roles[0].arn, "arn:i");
	awsauth__plan_clear(&p);
	assert_int_equal(plan("x", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "AWS profile 'x': role_arn needs source_profile or "
	                                "credential_source"));
	assert_non_null(strstr(err.msg, ", not Elsewhere"));
	awsauth__plan_clear(&p);
}

static void
test_errors(void **state)
{
	struct plan p;
	struct gm_err err;

	(void)state;
	files("[profile a]\nrole_arn = arn:a\nsource_profile = b\n"
	      "[profile b]\nrole_arn = arn:b\nsource_profile = a\n"
	      "[profile lone]\nrole_arn = arn:lone\n"
	      "[profile empty]\nrole_arn = arn:e\nsource_profile = nothing\n"
	      "[profile selfless]\nrole_arn = arn:s\nsource_profile = selfless\n", "");
	assert_int_equal(plan("a", &p, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "source_profile chain is too long or loops"));
	awsauth__plan_clear(&p);
	assert_int_equal(plan("lone", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "AWS profile 'lone': role_arn needs source_profile or "
	                                "credential_source"));
	awsauth__plan_clear(&p);
	assert_int_equal(plan("empty", &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "source_profile 'nothing' has no credentials"));
	awsauth__plan_clear(&p);
	assert_int_equal(plan("selfless", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "source_profile names itself but the profile has no keys"));
	awsauth__plan_clear(&p);
}

/* The whole synchronous chain for a workflow, in boto3's order. */
static void
test_chain_order(void **state)
{
	struct wf w = {0};
	struct plan p = {0};
	struct gm_err err = {{0}};
	char tokfile[300];

	(void)state;
	files("[profile r]\nrole_arn = arn:r\nsource_profile = k\n",
	      "[k]\naws_access_key_id = PROFAK\naws_secret_access_key = sk\n"
	      "[default]\naws_access_key_id = DEFAK\naws_secret_access_key = sk\n");
	w.aws_region = "eu-west-1";
	/* environment first when no profile is named, assumeRoleArn on top */
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsk", 1);
	w.assume_role_arn = "arn:wf";
	assert_int_equal(awsauth__make_plan(&w, &p, &err), 0);
	assert_string_equal(p.creds.access_key, "ENVAK");
	assert_int_equal(p.n_roles, 1);
	assert_string_equal(p.roles[0].session, "OpenMetadataSession");
	awsauth__plan_clear(&p);
	w.assume_role_arn = NULL;
	/* a named profile wins over the environment */
	w.profile_name = "r";
	assert_int_equal(awsauth__make_plan(&w, &p, &err), 0);
	assert_string_equal(p.creds.access_key, "PROFAK");
	assert_string_equal(p.roles[0].arn, "arn:r");
	awsauth__plan_clear(&p);
	w.profile_name = NULL;
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	/* web identity before the default profile's keys */
	snprintf(tokfile, sizeof(tokfile), "%s/token", dir);
	setenv("AWS_ROLE_ARN", "arn:web", 1);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
	assert_int_equal(awsauth__make_plan(&w, &p, &err), 0);
	assert_int_equal(p.kind, BASE_WEB_IDENTITY);
	awsauth__plan_clear(&p);
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	assert_int_equal(awsauth__make_plan(&w, &p, &err), 0);
	assert_string_equal(p.creds.access_key, "DEFAK");
	awsauth__plan_clear(&p);
	/* nothing anywhere: the asynchronous sources remain */
	files("", "");
	assert_int_equal(awsauth__make_plan(&w, &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no AWS credentials"));
	awsauth__plan_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_source_profile_chain),
		cmocka_unit_test(test_credential_source),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_chain_order),
	};

	return cmocka_run_group_tests_name("awsauth", tests, setup, teardown);
}
