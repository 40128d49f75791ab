/* om — calls to the OpenMetadata REST API: JWT bearer auth, JSON bodies,
 * retries of transport errors, 429 and 502/503/504 (every call we make is
 * idempotent), error messages from OpenMetadata's {"code","message"}. */
#ifndef GLUEMETAD_OM_H
#define GLUEMETAD_OM_H

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

/* ==== the API of the run: service, pipelines, statuses, usage, ingestion pipeline ==== */



/* ==== the API of enrichment: tags, classifications, owners, lineage, search ==== */



#endif
