/* enrich — what a pipeline gets beyond its tasks and statuses: tags and an
 * owner from its Glue workflow's tags, lineage from its jobs, usage.  It
 * reads Glue, STS and S3 and reads and writes OpenMetadata through the
 * run's clients; every operation ends in exactly one callback.
 *
 * Tags: GetTags on arn:aws:glue:REGION:ACCOUNT:workflow/NAME (the account
 * from AWS_ACCOUNT_ID or STS GetCallerIdentity, cached per access key in
 * a struct enrich_accounts);
 * each Glue tag key=value becomes the OpenMetadata tag GlueTags.key.value
 * (classification GlueTags, tag key, child tag value; created when
 * missing).  A name OpenMetadata cannot hold ('.', '"', ':') has those
 * characters replaced by '_', with a warning.
 *
 * Owner: the value of the Glue tag named by the owner tag (default
 * "owner"): a user by name, a user by e-mail, or a team by name.
 *
 * Lineage: for each job of the workflow (BatchGetJobs), its Visual-ETL
 * nodes, or else its script from S3; tables resolved through
 * lineageInformation.dbServiceNames in order (by FQN when the database and
 * schema are known, else by search), S3 paths through OpenMetadata's
 * container search by fullPath; every source x target becomes an edge with
 * the pipeline in lineageDetails.  What cannot be resolved is a warning. */
#ifndef GLUEMETAD_ENRICH_H
#define GLUEMETAD_ENRICH_H

struct cJSON;
struct aws_client;
struct aws_creds_source;
struct gm_err;
struct http;
struct http_pool;
struct log_ctx;
struct memo;
struct om_client;
struct run_step;
struct wf;
struct enrich;
struct enrich_accounts;

struct enrich_ctx {                     /* all borrowed; must outlive the enrich */
	struct http *http;
	struct aws_client *glue;
	const struct aws_creds_source *creds;
	struct om_client *om;
	const struct wf *wf;
	const struct log_ctx *lg;
	/* The accounts of access keys, kept as long as its owner keeps it
	 * (the daemon: the process), or NULL: the enrich keeps its own. */
	struct enrich_accounts *accounts;
	const char *owner_tag;              /* NULL: "owner" */
	unsigned s3_concurrency;            /* default 8 */
	const struct memo *memo;            /* lineage the run before wrote, or NULL */
	struct memo *next;                  /* lineage this run wrote, or NULL */
};

/* Whether what a run read of something is known.  Only a read that
 * completed in this run is KNOWN (possibly empty); a read that failed, or
 * was not made, is UNKNOWN, and UNKNOWN never removes or replaces anything
 * stored in OpenMetadata. */
enum enrich_known {
	ENRICH_UNKNOWN = 0,
	ENRICH_KNOWN
};

/* What a workflow's tags ask for: tag labels for the pipeline request and
 * the owner reference ({id, type}), either may be NULL.  tags_known says
 * whether tags is the workflow's whole set of Glue tags (GetTags and every
 * tag lookup completed) or only part of it; an owner that could not be
 * resolved is NULL and leaves the stored owners as they are. */
struct enrich_want {
	struct cJSON *tags;                 /* array of TagLabel */
	struct cJSON *owner;                /* EntityReference */
	enum enrich_known tags_known;
};

typedef void (*enrich_done_cb)(void *arg);
typedef void (*enrich_want_cb)(struct enrich_want *want, void *arg);

/* The AWS account of each access key, looked up once (STS
 * GetCallerIdentity) for as long as this lives.  NULL on OOM. */
struct enrich_accounts *enrich_accounts_new(void);
struct enrich_accounts *enrich_accounts_free(struct enrich_accounts *a);

struct enrich *enrich_new(const struct enrich_ctx *ctx, struct gm_err *err);
/* Once, before any workflow: the account id and the GlueTags
 * classification when tags are wanted.  A failure turns tags off for the
 * run with a warning; cb runs once. */
void enrich_prepare(struct enrich *e, enrich_done_cb cb, void *arg);
/* The tags and owner of one workflow; want is the callee's to keep (its
 * members are taken with cJSON_Detach or freed by enrich_want_clear()). */
void enrich_workflow(struct enrich *e, const char *workflow, enrich_want_cb cb, void *arg);
void enrich_want_clear(struct enrich_want *w);
/* JSON Patch operations that bring a stored pipeline entity to what the
 * source owns: with override, description and owner as Glue says; without,
 * only an empty owner is filled.  GlueTags.* tags no longer on the
 * workflow are removed either way, but only when want->tags_known: tags
 * from a failed read remove nothing; people's other tags always stay.
 * NULL when nothing is to change.  Pure. */
struct cJSON *enrich_patch(const struct cJSON *entity, const struct enrich_want *want,
                           const char *description, int override);
/* Lineage of a written pipeline from its jobs (an array of job names). */
void enrich_lineage(struct enrich *e, const char *workflow, const char *pipeline_id,
                    const struct cJSON *jobs, enrich_done_cb cb, void *arg);
/* Adds what enrichment counted since the last call (records, warnings,
 * errors of the run's Source and Sink steps) to source and sink.  e may
 * be NULL. */
void enrich_take_counts(struct enrich *e, struct run_step *source, struct run_step *sink);
/* Cancels what is in flight; callbacks still run. */
void enrich_cancel(struct enrich *e);
struct enrich *enrich_free(struct enrich *e);
/* The pool of the STS and S3 requests (borrowed, valid until
 * enrich_free()); NULL for a NULL e. */
const struct http_pool *enrich_pool(const struct enrich *e);

#endif
