/* om — calls to the OpenMetadata REST API: JWT bearer auth, JSON bodies,
 * retries of transport errors, 429 and 502/503/504 (every call we make is
 * idempotent), error messages from OpenMetadata's {"code","message"}. */
#ifndef GLUEMETAD_OM_H
#define GLUEMETAD_OM_H

#include <stddef.h>

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

/* base is hostPort, e.g. "http://localhost:8585/api".  The JWT is copied
 * and never printed. */
struct om_client *om_client_new(struct http_pool *pool, const char *base, const char *jwt);
struct om_client *om_client_free(struct om_client *c);

/* path starts with "/v1/".  body (taken; may be NULL).  The callback runs
 * exactly once, also when the request cannot be submitted. */
void om_call(struct om_client *c, const char *method, const char *path, struct cJSON *body,
             om_done_cb cb, void *arg);

/* ==== the API of the run: service, pipelines, statuses, usage, ingestion pipeline ==== */



/* ==== the API of enrichment: tags, classifications, owners, lineage, search ==== */

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
	long status;
	const char *message;
	int cancelled;
};

typedef void (*om_lookup_cb)(const struct om_lookup *res, void *arg);

/* By name or FQN, each part of the path percent-encoded here. */
void om_get_classification(struct om_client *c, const char *name, om_lookup_cb cb, void *arg);
void om_get_tag(struct om_client *c, const char *fqn, om_lookup_cb cb, void *arg);
void om_get_user(struct om_client *c, const char *name, om_lookup_cb cb, void *arg);
void om_get_team(struct om_client *c, const char *name, om_lookup_cb cb, void *arg);
void om_get_table(struct om_client *c, const char *fqn, om_lookup_cb cb, void *arg);

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
