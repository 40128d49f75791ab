/* om — calls to the OpenMetadata REST API: JWT bearer auth, JSON bodies,
 * retries of transport errors, 429 and 502/503/504 (every call we make is
 * idempotent), error messages from OpenMetadata's {"code","message"}. */
#ifndef GLUEMETAD_OM_H
#define GLUEMETAD_OM_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct http_pool;
struct om_client;

struct om_result {
	int ok;                     /* 2xx */
	long status;                /* 0 on transport errors */
	const char *message;        /* error text when !ok */
	const struct cJSON *json;   /* parsed body (may be NULL); borrowed */
	int cancelled;
};

typedef void (*om_done_cb)(const struct om_result *res, void *arg);

/* The retry budget of a call (backoff.h): transport errors, 429 and
 * 502/503/504 are retried, 3 attempts in all. */
struct backoff;
extern const struct backoff om_backoff;

/* base is hostPort, e.g. "http://localhost:8585/api".  The JWT is copied
 * and never printed. */
struct om_client *om_client_new(struct http_pool *pool, const char *base, const char *jwt);
struct om_client *om_client_free(struct om_client *c);

/* path starts with "/v1/".  body (taken; may be NULL).  The callback runs
 * exactly once, also when the request cannot be submitted. */
void om_call(struct om_client *c, const char *method, const char *path, struct cJSON *body,
             om_done_cb cb, void *arg);

/* The API of the run: service, pipelines, statuses, usage, ingestion pipeline. */

/* The reply of one of the run's calls, decoded: res says how it went
 * (res->ok false with a message for a failed call); the other members are
 * those of the call that returns them, NULL otherwise, all borrowed for
 * the callback. */
struct om_reply {
	const struct om_result *res;
	const char *version;            /* om_get_version(): "1.13.2" */
	int major, minor;               /* of version; -1 when it has none */
	const char *service_type;       /* om_get_service() */
	const char *id, *fqn;           /* om_put_pipeline() */
	const struct cJSON *entity;     /* om_put_pipeline(): the pipeline */
	const char *name;               /* om_delete_pipeline(): the pipeline's */
};

typedef void (*om_reply_cb)(const struct om_reply *rep, void *arg);

/* Each call below runs cb exactly once, also when the request cannot be
 * built or submitted (res->ok false, "out of memory").  Bodies passed in
 * are taken. */

/* GET /v1/system/version. */
void om_get_version(struct om_client *c, om_reply_cb cb, void *arg);
/* The pipeline service named service (404 when there is none).  -EINVAL
 * without calling cb when service cannot be an OpenMetadata name. */
int om_get_service(struct om_client *c, const char *service, om_reply_cb cb, void *arg);
/* Creates (or updates) the GluePipeline service; connection_config
 * (borrowed) may be NULL for a bare service. */
void om_put_service(struct om_client *c, const char *service,
                    const struct cJSON *connection_config, om_reply_cb cb, void *arg);
/* Creates or updates a pipeline from a CreatePipelineRequest, with
 * source_hash as its sourceHash. */
void om_put_pipeline(struct om_client *c, struct cJSON *request, const char *source_hash,
                     om_reply_cb cb, void *arg);
/* A JSON patch of the pipeline with id id. */
void om_patch_pipeline(struct om_client *c, const char *id, struct cJSON *ops, om_reply_cb cb,
                       void *arg);
/* Adds or replaces one PipelineStatus of the pipeline fqn. */
void om_put_pipeline_status(struct om_client *c, const char *fqn, struct cJSON *status,
                            om_reply_cb cb, void *arg);
/* A day's usage count ({date, count}) of the pipeline with id id: POST,
 * which replaces the day's count (PUT would add to it; see OpenMetadata's
 * UsageResource). */
void om_post_usage(struct om_client *c, const char *id, struct cJSON *day, om_reply_cb cb,
                   void *arg);
/* Asks OpenMetadata to compute the pipelines' usage percentiles of date
 * ("YYYY-MM-DD"). */
void om_compute_percentile(struct om_client *c, const char *date, om_reply_cb cb, void *arg);
/* Soft-deletes (markDeleted) the pipeline with id id, recursively. */
void om_delete_pipeline(struct om_client *c, const char *id, om_reply_cb cb, void *arg);

/* One step of a run as ingestion pipelines report it. */
struct om_step {
	const char *name;               /* "Source", "Sink" */
	unsigned long records, updated, warnings, errors, filtered;
};

struct om_ingestion_run {
	const char *run_id;
	const char *state;              /* "running", "success", "failed", ... */
	int64_t start_ms;
	int64_t end_ms;                 /* with the steps; not for "running" */
	const struct om_step *steps;
	size_t n_steps;
};

/* The pipelineStatus of the ingestion pipeline fqn. */
void om_put_ingestion_status(struct om_client *c, const char *fqn,
                             const struct om_ingestion_run *run, om_reply_cb cb, void *arg);

/* The pipelines of a service, page by page: the lister keeps the 'after'
 * cursor and counts the pages, and is where a page's cursor is judged. */
#define OM_LIST_PAGE 1000
#define OM_LIST_MAX_PAGES 100000

enum om_page_end {
	OM_PAGE_MORE,                   /* a next page follows */
	OM_PAGE_LAST,                   /* the listing is complete */
	OM_PAGE_REPEATED,               /* the cursor that asked for this page */
	OM_PAGE_CAPPED,                 /* more than OM_LIST_MAX_PAGES pages */
};

struct om_pipeline_entry {
	const char *name, *id;
	const char *source_hash;        /* NULL when not asked for or absent */
	int deleted;
};

struct om_pipelines {
	const struct om_result *res;    /* res->ok false: failed */
	int malformed;                  /* a 2xx reply without its data array */
	struct om_pipeline_entry *v;    /* entries with a name and an id */
	size_t n;
	enum om_page_end end;           /* of a page read */
};

typedef void (*om_pipelines_cb)(const struct om_pipelines *page, void *arg);

struct om_lister;

/* A lister of service's pipelines, with their sourceHash when with_hash. */
struct om_lister *om_lister_new(struct om_client *c, const char *service, int with_hash);
struct om_lister *om_lister_free(struct om_lister *l);
/* Asks for the first page, or the page after the last OM_PAGE_MORE one;
 * cb runs once, also on failure to submit. */
void om_lister_next(struct om_lister *l, om_pipelines_cb cb, void *arg);

/* Exposed for tests: decodes a page of GET /v1/pipelines asked for with
 * cursor (NULL for the first), page number page, into out (entries
 * borrowed from reply; free out->v).  0, or -ENOMEM. */
int om_pipelines_decode(const struct cJSON *reply, const char *cursor, unsigned page,
                        struct om_pipelines *out);
/* The page's next cursor: paging.after, NULL at the end. */
const char *om_pipelines_after(const struct cJSON *reply);


/* The API of enrichment: tags, classifications, owners, lineage, search. */

/* What a lookup by name or a search found.  FOUND: the entity is there
 * (id, borrowed until the callback returns; a reply by name without an id
 * is still FOUND with id NULL); ABSENT: a complete answer without it (HTTP
 * 404, or a search without a hit that is not deleted); FAILED: not known
 * (message, cancelled). */
enum om_lookup_state {
	OM_LOOKUP_FAILED = 0,
	OM_LOOKUP_ABSENT,
	OM_LOOKUP_FOUND
};

struct om_lookup {
	enum om_lookup_state state;
	const char *id;
	/* a search's hits (the reply's hits.hits, for the callback's time),
	 * and whether they are all there are (hits.total) */
	const struct cJSON *hits;
	int hits_complete;
	long status;
	const char *message;
	int cancelled;
};

typedef void (*om_lookup_cb)(const struct om_lookup *res, void *arg);

/* The kinds of entity om_get_by_name() looks up. */
enum om_entity {
	OM_CLASSIFICATION,
	OM_TAG,                         /* by FQN */
	OM_USER,
	OM_TEAM,
	OM_TABLE,                       /* by FQN */
};

/* The entity of kind by name or FQN, percent-encoded here. */
void om_get_by_name(struct om_client *c, enum om_entity kind, const char *name, om_lookup_cb cb,
                    void *arg);

/* Searches by one field: a user by e-mail and a container by fullPath
 * match the literal value; tables match fqn_pattern, a wildcard query
 * whose literal parts the caller escaped with om_wild_escape(). */
void om_search_user_by_email(struct om_client *c, const char *email, om_lookup_cb cb, void *arg);
void om_search_container_by_path(struct om_client *c, const char *path, om_lookup_cb cb,
                                 void *arg);
void om_search_tables(struct om_client *c, const char *fqn_pattern, om_lookup_cb cb, void *arg);
/* A literal for the search API's wildcard queries: '\\', '*' and '?'
 * escaped; malloc'd, NULL on OOM. */
char *om_wild_escape(const char *s);

/* Creates (or leaves as it is) a classification, a tag under a
 * classification (parent: the FQN of the parent tag, or NULL). */
void om_put_classification(struct om_client *c, const char *name, const char *description,
                           int mutually_exclusive, om_done_cb cb, void *arg);
void om_put_tag(struct om_client *c, const char *name, const char *classification,
                const char *parent, const char *description, om_done_cb cb, void *arg);

/* One entity of an edge: its id and entity type. */
struct om_node {
	const char *id, *type;
};

/* PUT /v1/lineage: from -> to with the pipeline in lineageDetails and
 * source as its lineage source ("PipelineLineage"). */
void om_put_lineage(struct om_client *c, struct om_node from, struct om_node to,
                    const char *pipeline_id, const char *source, om_done_cb cb, void *arg);
/* Removes the edge from -> to whatever its details (HTTP 404: gone). */
void om_delete_lineage(struct om_client *c, struct om_node from, struct om_node to,
                       om_done_cb cb, void *arg);

/* One edge of a lineage reply: the ids of its ends, their types from the
 * reply's nodes (NULL when the reply does not say), and its lineageDetails
 * (pipeline id and source, NULL when absent).  All borrowed. */
struct om_lineage_edge {
	struct om_node from, to;
	const char *pipeline_id, *source;
};

/* A lineage read: KNOWN with the upstream or downstream edges asked for,
 * or not (message, cancelled). */
struct om_lineage {
	int known;
	struct om_lineage_edge *v;
	size_t n;
	const char *message;
	int cancelled;
};

typedef void (*om_lineage_cb)(const struct om_lineage *res, void *arg);

/* The lineage of an entity, one level upstream (downstream 0) or one
 * level downstream (downstream 1). */
void om_get_lineage(struct om_client *c, struct om_node of, int downstream, om_lineage_cb cb,
                    void *arg);

/* Exposed for tests.  The decoding of the replies above: the id of a
 * reply by name (search 0) or of the first hit that is not deleted (search
 * 1) into ret (ABSENT or FOUND); a lineage reply's edges into ret (v
 * malloc'd, borrowing from json), 0, or -EINVAL (*reterr says why) or
 * -ENOMEM. */
void om_decode_lookup(const struct cJSON *json, int search, struct om_lookup *ret);
int om_decode_lineage(const struct cJSON *json, int downstream, struct om_lineage *ret,
                      const char **reterr);

#endif
