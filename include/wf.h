/* wf — an OpenMetadata workflow file (`metadata ingest -c` YAML) for the
 * gluepipeline source, validated against the parts of
 * metadataIngestion/workflow.json that apply and loaded into an immutable
 * struct.  Errors name file:line:column: key.path. */
#ifndef GLUEMETAD_WF_H
#define GLUEMETAD_WF_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct gm_err;
struct cJSON;

/* The lists below are struct strlist (util.h); the old name still
 * compiles for callers written against it. */
#define wf_strlist strlist

struct wf {
	char *path;
	char *source_type;              /* "gluepipeline" */
	char *service_name;

	/* serviceConnection.config.awsConfig */
	char *aws_access_key_id;
	char *aws_secret_access_key;    /* secret */
	char *aws_session_token;        /* secret */
	char *aws_region;
	char *endpoint_url;
	char *profile_name;
	char *assume_role_arn;
	char *assume_role_session_name;
	char *assume_role_source_identity;

	/* sourceConfig.config (PipelineMetadata) */
	int mark_deleted;
	int include_tags;
	int include_lineage;
	int include_owners;
	int include_undeployed;
	int override_metadata;
	int override_lineage;
	int64_t status_lookback_days;
	struct strlist db_service_names;
	struct strlist storage_service_names;
	struct strlist filter_includes;
	struct strlist filter_excludes;

	/* workflowConfig */
	char *logger_level;
	int raise_on_error;
	int64_t success_threshold;
	char *om_host_port;             /* ends in /api */
	char *auth_provider;
	char *jwt_token;                /* secret */
	char *verify_ssl;               /* no-ssl | ignore | validate */
	char *ca_certificate;
	char *ssl_certificate;
	char *ssl_key;
	int enable_version_validation;
	int store_service_connection;
	int force_entity_overwriting;
	char *secrets_provider;         /* secretsManagerProvider, default "db" */
	char *secrets_loader;           /* secretsManagerLoader, default "noop" */

	char *ingestion_pipeline_fqn;
	char *pipeline_run_id;

	/* serviceConnection.config as JSON, for CreatePipelineServiceRequest */
	struct cJSON *connection_config;
};

/* Loads and validates a workflow file.  All problems found are reported
 * at once in err (one per line).  Returns 0, or -EINVAL (invalid file),
 * or another -errno (cannot read). */
int wf_load(const char *path, struct wf **ret, struct gm_err *err);
struct wf *wf_free(struct wf *w);

#endif
