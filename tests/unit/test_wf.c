/* wf: an OpenMetadata workflow file (`metadata ingest -c`) for the
 * gluepipeline source, as OpenMetadata documents it: the sample from the
 * connector docs loads with every value, unset keys take OpenMetadata's
 * defaults, and a file that workflow.json or gluemetad refuses fails with
 * every problem at file:line:column: key.path. */
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

#include "util.h"
#include "wf.h"

/* OpenMetadata's sample for the Glue pipeline connector. */
static const char *const SAMPLE =
	"source:\n"                                                     /* 1 */
	"  type: gluepipeline\n"
	"  serviceName: local_glue_pipeline\n"
	"  serviceConnection:\n"
	"    config:\n"                                                 /* 5 */
	"      type: GluePipeline\n"
	"      awsConfig:\n"
	"        awsAccessKeyId: AKIAIOSFODNN7EXAMPLE\n"
	"        awsSecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	"        awsRegion: us-east-2\n"                                /* 10 */
	"        endPointURL: https://glue.us-east-2.amazonaws.com/\n"
	"  sourceConfig:\n"
	"    config:\n"
	"      type: PipelineMetadata\n"
	"      markDeletedPipelines: true\n"                            /* 15 */
	"      includeTags: true\n"
	"      includeLineage: true\n"
	"      includeOwners: false\n"
	"      overrideMetadata: false\n"
	"      overrideLineage: true\n"                                 /* 20 */
	"      includeUnDeployedPipelines: true\n"
	"      statusLookbackDays: 7\n"
	"      lineageInformation:\n"
	"        dbServiceNames:\n"
	"          - redshift_prod\n"                                   /* 25 */
	"          - mysql_prod\n"
	"        storageServiceNames:\n"
	"          - s3_prod\n"
	"      pipelineFilterPattern:\n"
	"        includes:\n"                                           /* 30 */
	"          - ^etl_.*\n"
	"        excludes:\n"
	"          - .*_test$\n"
	"sink:\n"
	"  type: metadata-rest\n"                                       /* 35 */
	"  config: {}\n"
	"workflowConfig:\n"
	"  loggerLevel: DEBUG\n"
	"  raiseOnError: false\n"
	"  successThreshold: 75\n"                                      /* 40 */
	"  openMetadataServerConfig:\n"
	"    hostPort: http://localhost:8585/api\n"
	"    authProvider: openmetadata\n"
	"    securityConfig:\n"
	"      jwtToken: \"eyJraWQi.placeholder.signature\"\n";       /* 45 */

static char dir[256], path[320];

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/gm-wf-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/wf.yaml", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

static void
put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* SAMPLE with its first `old` replaced by `new` (malloc'd). */
static char *
edit(const char *old, const char *new)
{
	const char *at = strstr(SAMPLE, old);
	struct buf b = {0};

	if (!at)
		fail_msg("'%s' is not in the sample", old);
	assert_int_equal(buf_append(&b, SAMPLE, (size_t)(at - SAMPLE)), 0);
	assert_int_equal(buf_puts(&b, new), 0);
	assert_int_equal(buf_puts(&b, at + strlen(old)), 0);
	return buf_steal(&b);
}

static struct wf *
load_ok(const char *text)
{
	struct gm_err err = {{0}};
	struct wf *w = NULL;

	put(text);
	if (wf_load(path, &w, &err) != 0)
		fail_msg("did not load: %s", err.msg);
	assert_non_null(w);
	return w;
}

/* Loading text fails with -EINVAL; returns the message (static). */
static const char *
load_error(const char *text)
{
	static struct gm_err err;
	struct wf *w = NULL;

	memset(&err, 0, sizeof(err));
	put(text);
	assert_int_equal(wf_load(path, &w, &err), -EINVAL);
	assert_null(w);
	return err.msg;
}

/* SAMPLE edited must fail with exactly "<path>:<want>". */
static void
expect_only(const char *old, const char *new, const char *want)
{
	char *text = edit(old, new), full[1024];
	const char *msg = load_error(text);

	snprintf(full, sizeof(full), "%s:%s", path, want);
	/* a want ending in ": " leaves the rest (regerror's words) open */
	if (strlen(want) >= 2 && strcmp(want + strlen(want) - 2, ": ") == 0 ?
	    strncmp(msg, full, strlen(full)) != 0 : strcmp(msg, full) != 0)
		fail_msg("'%s' -> '%s':\n got '%s'\nwant '%s'", old, new, msg, full);
	free(text);
}

static void
test_sample_loads_every_value(void **state)
{
	struct wf *w = load_ok(SAMPLE);
	cJSON *aws;

	(void)state;
	assert_string_equal(w->path, path);
	assert_string_equal(w->source_type, "gluepipeline");
	assert_string_equal(w->service_name, "local_glue_pipeline");
	assert_string_equal(w->aws_access_key_id, "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(w->aws_secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_null(w->aws_session_token);
	assert_string_equal(w->aws_region, "us-east-2");
	assert_string_equal(w->endpoint_url, "https://glue.us-east-2.amazonaws.com/");
	assert_true(w->mark_deleted);
	assert_true(w->include_tags);
	assert_true(w->include_lineage);
	assert_false(w->include_owners);
	assert_false(w->override_metadata);
	assert_true(w->override_lineage);
	assert_int_equal(w->status_lookback_days, 7);
	assert_int_equal(w->db_service_names.n, 2);
	assert_string_equal(w->db_service_names.v[1], "mysql_prod");
	assert_int_equal(w->storage_service_names.n, 1);
	assert_string_equal(w->storage_service_names.v[0], "s3_prod");
	assert_int_equal(w->filter_includes.n, 1);
	assert_string_equal(w->filter_includes.v[0], "^etl_.*");
	assert_string_equal(w->filter_excludes.v[0], ".*_test$");
	assert_string_equal(w->logger_level, "DEBUG");
	assert_false(w->raise_on_error);
	assert_int_equal(w->success_threshold, 75);
	assert_string_equal(w->om_host_port, "http://localhost:8585/api");
	assert_string_equal(w->auth_provider, "openmetadata");
	assert_string_equal(w->jwt_token, "eyJraWQi.placeholder.signature");
	/* serviceConnection.config as JSON, for CreatePipelineServiceRequest */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(w->connection_config, "type")),
	                    "GluePipeline");
	aws = cJSON_GetObjectItem(w->connection_config, "awsConfig");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(aws, "awsRegion")),
	                    "us-east-2");
	wf_free(w);
	assert_null(wf_free(NULL));
}

static void
test_defaults_as_openmetadata(void **state)
{
	/* sourceConfig.config with its type only, no loggerLevel ... */
	static const char *const minimal =
		"source:\n"
		"  type: gluepipeline\n"
		"  serviceName: glue\n"
		"  serviceConnection:\n"
		"    config:\n"
		"      awsConfig:\n"
		"        awsRegion: eu-west-1\n"
		"        profileName:\n"                /* a key with no value is unset */
		"  sourceConfig:\n"
		"    config:\n"
		"      type: PipelineMetadata\n"
		"workflowConfig:\n"
		"  openMetadataServerConfig:\n"
		"    hostPort: https://om.example/api\n"
		"    securityConfig:\n"
		"      jwtToken: t\n";
	struct wf *w;

	(void)state;
	w = load_ok(minimal);
	assert_null(w->profile_name);
	assert_null(w->aws_access_key_id);
	assert_null(w->endpoint_url);
	assert_string_equal(w->assume_role_session_name, "OpenMetadataSession");
	assert_true(w->mark_deleted);
	assert_true(w->include_tags);
	assert_true(w->include_lineage);
	assert_true(w->include_owners);
	assert_true(w->include_undeployed);
	assert_false(w->override_metadata);
	assert_false(w->override_lineage);
	assert_int_equal(w->status_lookback_days, 1);
	assert_int_equal(w->db_service_names.n, 0);
	assert_null(w->filter_includes.v);
	assert_string_equal(w->logger_level, "INFO");
	assert_true(w->raise_on_error);
	assert_int_equal(w->success_threshold, 90);
	assert_string_equal(w->auth_provider, "basic");        /* the schema's default */
	assert_string_equal(w->verify_ssl, "no-ssl");
	assert_string_equal(w->secrets_provider, "db");
	assert_string_equal(w->secrets_loader, "noop");
	assert_true(w->enable_version_validation);
	assert_true(w->store_service_connection);
	assert_false(w->force_entity_overwriting);
	/* the connection's type, left out, is the Glue pipeline one */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(w->connection_config, "type")),
	                    "GluePipeline");
	wf_free(w);
}

static void
test_schema_errors(void **state)
{
	(void)state;
	expect_only("  serviceName: local_glue_pipeline\n",
	            "  serviceName: local_glue_pipeline\n  bogus: 1\n",
	            "4:3: source.bogus: unknown key");
	expect_only("        awsRegion: us-east-2\n", "        awsRegion: 2\n",
	            "10:20: source.serviceConnection.config.awsConfig.awsRegion: "
	            "expected a string, found an integer (quote the value)");
	expect_only("      includeTags: true\n", "      includeTags: \"true\"\n",
	            "16:20: source.sourceConfig.config.includeTags: "
	            "expected true or false, found a string");
	expect_only("      statusLookbackDays: 7\n", "      statusLookbackDays: 7.5\n",
	            "22:27: source.sourceConfig.config.statusLookbackDays: "
	            "expected a decimal integer, found a number '7.5'");
	expect_only("  successThreshold: 75\n", "  successThreshold: 101\n",
	            "40:21: workflowConfig.successThreshold: 101 is out of range 0..100");
	expect_only("  loggerLevel: DEBUG\n", "  loggerLevel: TRACE\n",
	            "38:16: workflowConfig.loggerLevel: 'TRACE' is not one of: "
	            "DEBUG, INFO, WARN, ERROR");
	expect_only("          - s3_prod\n", "          - 5\n",
	            "28:13: source.sourceConfig.config.lineageInformation.storageServiceNames[0]: "
	            "expected a string, found an integer");
	expect_only("      type: GluePipeline\n", "      type: Glue\n",
	            "6:13: source.serviceConnection.config.type: "
	            "'Glue' is not one of: GluePipeline");
	expect_only("  config: {}\n", "  config: []\n",
	            "36:11: sink.config: expected a mapping, found a list");
	expect_only("sink:\n", "pipelineRunId: 1234\nsink:\n",
	            "34:16: pipelineRunId: expected a string, found an integer (quote the value)");
	expect_only("sink:\n", "pipelineRunId: \"not-a-uuid\"\nsink:\n",
	            "34:16: pipelineRunId: 'not-a-uuid' is not a UUID");
	/* a required key missing is named at the key of the mapping that lacks it */
	expect_only("        awsRegion: us-east-2\n", "",
	            "7:7: source.serviceConnection.config.awsConfig.awsRegion: "
	            "required key is missing");
	expect_only("      jwtToken: \"eyJraWQi.placeholder.signature\"\n", "      jwtToken:\n",
	            "45:16: workflowConfig.openMetadataServerConfig.securityConfig.jwtToken: "
	            "required key is missing");
}

static void
test_what_gluemetad_refuses(void **state)
{
	(void)state;
	expect_only("  type: gluepipeline\n", "  type: mysql\n",
	            "2:9: source.type: 'mysql' is not supported: gluemetad runs the "
	            "'gluepipeline' source");
	expect_only("  type: metadata-rest\n", "  type: file\n",
	            "35:9: sink.type: 'file' is not supported: gluemetad writes with "
	            "'metadata-rest'");
	expect_only("    authProvider: openmetadata\n", "    authProvider: basic\n",
	            "43:19: workflowConfig.openMetadataServerConfig.authProvider: 'basic' is not "
	            "supported: use 'openmetadata' with a bot's JWT");
	expect_only("    hostPort: http://localhost:8585/api\n", "    hostPort: localhost:8585\n",
	            "42:15: workflowConfig.openMetadataServerConfig.hostPort: 'localhost:8585' "
	            "is not an http:// or https:// URL");
	expect_only("        endPointURL: https://glue.us-east-2.amazonaws.com/\n",
	            "        endPointURL: glue.local\n",
	            "11:22: source.serviceConnection.config.awsConfig.endPointURL: 'glue.local' "
	            "is not an http:// or https:// URL");
	expect_only("      statusLookbackDays: 7\n", "      statusLookbackDays: -1\n",
	            "22:27: source.sourceConfig.config.statusLookbackDays: must not be negative");
	/* the region's form, as the endpoint resolver requires it, even with
	 * endPointURL set (the region still signs the requests) */
	expect_only("        awsRegion: us-east-2\n", "        awsRegion: x@127.0.0.1:9/y\n",
	            "10:20: source.serviceConnection.config.awsConfig.awsRegion: "
	            "'x@127.0.0.1:9/y' is not a valid AWS region name");
	expect_only("        awsRegion: us-east-2\n", "        awsRegion: US-EAST-2\n",
	            "10:20: source.serviceConnection.config.awsConfig.awsRegion: "
	            "'US-EAST-2' is not a valid AWS region name");
	expect_only("          - ^etl_.*\n", "          - ^etl_(\n",
	            "31:13: source.sourceConfig.config.pipelineFilterPattern.includes[0]: "
	            "'^etl_(' is not a valid regular expression: ");
	expect_only("  serviceName: local_glue_pipeline\n", "",
	            "2:3: source.serviceName: required key is missing");
	expect_only("    securityConfig:\n      jwtToken: \"eyJraWQi.placeholder.signature\"\n", "",
	            "42:5: workflowConfig.openMetadataServerConfig.securityConfig.jwtToken: "
	            "required key is missing (authProvider openmetadata needs a JWT)");
}

static void
test_all_errors_in_one_pass(void **state)
{
	char *a = edit("  type: gluepipeline\n", "  type: gluepipeline\n  extra: x\n"), *b;
	const char *msg;
	char want[600];

	(void)state;
	b = strstr(a, "  loggerLevel: DEBUG\n");
	memcpy(b, "  loggerLevel: LOUD!", 20);
	msg = load_error(a);
	free(a);
	snprintf(want, sizeof(want), "%s:3:3: source.extra: unknown key\n"
	         "%s:39:16: workflowConfig.loggerLevel: 'LOUD!' is not one of: "
	         "DEBUG, INFO, WARN, ERROR", path, path);
	assert_string_equal(msg, want);
	/* semantic checks wait for a file the schema accepts */
	assert_null(strstr(msg, "not supported"));
}

static void
test_error_count_is_bounded(void **state)
{
	struct buf b = {0};
	const char *msg;
	char want[400];
	int i;

	(void)state;
	assert_int_equal(buf_puts(&b, SAMPLE), 0);
	for (i = 0; i < 25; i++)
		assert_int_equal(buf_printf(&b, "x%d: 1\n", i), 0);
	msg = load_error(b.data);
	buf_clear(&b);
	snprintf(want, sizeof(want), "%s:65:1: x19: unknown key\n%s: 5 more problems not shown",
	         path, path);
	assert_non_null(strstr(msg, want));
	assert_null(strstr(msg, "x20:"));
}

static void
test_not_a_workflow(void **state)
{
	struct gm_err err = {{0}};
	struct wf *w = NULL;
	char want[400], missing[400];

	(void)state;
	snprintf(want, sizeof(want), "%s:1:1: (document): expected a mapping, found a list", path);
	assert_string_equal(load_error("- a\n"), want);
	snprintf(want, sizeof(want), "%s:1:1: source: required key is missing", path);
	assert_non_null(strstr(load_error("sink: {type: metadata-rest}\n"), want));
	snprintf(missing, sizeof(missing), "%s/none.yaml", dir);
	assert_int_equal(wf_load(missing, &w, &err), -ENOENT);
	assert_null(w);
	assert_non_null(strstr(err.msg, "none.yaml: No such file or directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_loads_every_value),
		cmocka_unit_test(test_defaults_as_openmetadata),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_what_gluemetad_refuses),
		cmocka_unit_test(test_all_errors_in_one_pass),
		cmocka_unit_test(test_error_count_is_bounded),
		cmocka_unit_test(test_not_a_workflow),
	};

	return cmocka_run_group_tests_name("wf", tests, setup, teardown);
}
