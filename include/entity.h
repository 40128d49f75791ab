/* entity — OpenMetadata request bodies built from Glue data by pure
 * functions (no I/O, no clock).  Every input member is type-checked before
 * use; a malformed Glue object is an error naming what is wrong. */
#ifndef GLUEMETAD_ENTITY_H
#define GLUEMETAD_ENTITY_H

#include <stdint.h>

struct cJSON;
struct gm_err;

#define ENTITY_TASK_NAME_MAX 128        /* characters */

/* OpenMetadata's quoteName: a name with a '.' is wrapped in double quotes;
 * a name containing '"' is rejected (NULL with errno EINVAL). */
char *entity_quote_name(const char *name);
/* "service.pipeline" with both parts quoted; NULL on an invalid name. */
char *entity_fqn2(const char *a, const char *b);
/* At most max UTF-8 characters of s, malloc'd. */
char *entity_utf8_prefix(const char *s, size_t max);

/* CreatePipelineServiceRequest; connection_config (borrowed) may be NULL
 * for a bare service. */
struct cJSON *entity_service_request(const char *service, const struct cJSON *connection_config);

/* CreatePipelineRequest from a Glue Workflow (GetWorkflow/BatchGetWorkflows
 * with IncludeGraph). */
int entity_pipeline_request(const struct cJSON *workflow, const char *service,
                            const char *region, struct cJSON **ret, struct gm_err *err);

/* PipelineStatus from a Glue WorkflowRun with its Graph. */
int entity_pipeline_status(const struct cJSON *run, struct cJSON **ret, struct gm_err *err);

/* Names of the JOB nodes of a workflow's graph (an array of strings, each
 * once); an empty array when it has none. */
struct cJSON *entity_job_names(const struct cJSON *workflow);
/* The names of the graph's nodes of a type ("JOB", "CRAWLER"), each once,
 * as a cJSON array of strings (NULL without memory). */
struct cJSON *entity_node_names(const struct cJSON *workflow, const char *type);

/* Usage requests ({date "YYYY-MM-DD", count}) from PipelineStatus bodies:
 * per UTC day, the task runs that started on it; an empty array when none. */
struct cJSON *entity_usage_counts(const struct cJSON *statuses);

/* StartedOn of a WorkflowRun in epoch ms; -1 when absent or malformed. */
int64_t entity_run_started_ms(const struct cJSON *run);

#endif
