/* glue — AWS Glue operations as typed calls with typed results, over
 * aws.c's client: requests are built and replies decoded here and nowhere
 * else.  A result says whether what was read is KNOWN (complete, possibly
 * empty) or UNKNOWN (the read failed): callers never take anything away
 * from OpenMetadata on an UNKNOWN. */
#ifndef GLUEMETAD_GLUE_H
#define GLUEMETAD_GLUE_H

#include <stddef.h>

struct aws_client;
struct cJSON;

/* ==== operations of the run: workflows, their graphs, their runs ==== */



/* ==== operations of enrichment: jobs, tags, connections ==== */

/* KNOWN: the read completed (what it holds may be empty); UNKNOWN: it
 * failed or was cancelled, and code/message say why (code NULL for a
 * reply of the wrong shape). */
enum glue_known {
	GLUE_UNKNOWN = 0,
	GLUE_KNOWN
};

struct glue_tag {
	const char *key, *value;
};

/* GetTags: the tags of one resource, those with a non-empty key and a
 * string value.  Everything borrowed until the callback returns. */
struct glue_tags_result {
	enum glue_known state;
	struct glue_tag *v;
	size_t n;
	const char *code, *message;
	int cancelled;
};

/* BatchGetJobs: the jobs found (Glue's Job objects, for lineage.h) and
 * the names Glue says do not exist. */
struct glue_jobs_result {
	enum glue_known state;
	const struct cJSON **jobs;
	size_t n_jobs;
	const char **missing;
	size_t n_missing;
	const char *code, *message;
	int cancelled;
};

/* GetConnection: KNOWN with found 0 when Glue says there is no such
 * connection (EntityNotFoundException); jdbc_url is its
 * JDBC_CONNECTION_URL, or NULL. */
struct glue_connection_result {
	enum glue_known state;
	int found;
	const char *jdbc_url;
	const char *code, *message;
	int cancelled;
};

typedef void (*glue_tags_cb)(const struct glue_tags_result *res, void *arg);
typedef void (*glue_jobs_cb)(const struct glue_jobs_result *res, void *arg);
typedef void (*glue_connection_cb)(const struct glue_connection_result *res, void *arg);

/* Each callback runs exactly once, also when the request cannot be made
 * (then UNKNOWN, before returning). */
void glue_get_tags(struct aws_client *glue, const char *resource_arn, glue_tags_cb cb, void *arg);
/* Up to GLUE_JOBS_BATCH names. */
#define GLUE_JOBS_BATCH 25
void glue_batch_get_jobs(struct aws_client *glue, const char *const *names, size_t n,
                         glue_jobs_cb cb, void *arg);
void glue_get_connection(struct aws_client *glue, const char *name, glue_connection_cb cb,
                         void *arg);

/* Exposed for tests: the decoding of the replies above (res->ok is
 * already known true).  0 and *ret filled (its arrays malloc'd, freed with
 * glue_*_result_clear(), borrowing from json); -EINVAL for a reply of the
 * wrong shape, -ENOMEM. */
int glue_decode_tags(const struct cJSON *json, struct glue_tags_result *ret);
int glue_decode_jobs(const struct cJSON *json, struct glue_jobs_result *ret);
void glue_decode_connection(const struct cJSON *json, struct glue_connection_result *ret);
void glue_tags_result_clear(struct glue_tags_result *r);
void glue_jobs_result_clear(struct glue_jobs_result *r);

#endif
