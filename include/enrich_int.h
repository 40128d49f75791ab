/* enrich internals shared by enrich.c (tags, owners, patches) and
 * enrich_lineage.c (lineage); not for other modules. */
#ifndef GLUEMETAD_ENRICH_INT_H
#define GLUEMETAD_ENRICH_INT_H

#include <stddef.h>

#include "enrich.h"
#include "util.h"

struct aws_client;
struct cJSON;
struct http_pool;
struct enrich_wait;

struct enrich {
	struct enrich_ctx x;
	struct http_pool *pool;         /* STS and S3 */
	struct aws_client *sts, *s3;
	int cancelled;
	int tags_on;                    /* includeTags, and the account is known */
	char account[32];
	struct strmap tags;                /* tag FQNs known to exist */
	struct strmap owners;              /* owner tag value -> reference */
	struct strmap found;               /* lineage refs -> entity */
	struct strmap conns;               /* Glue connection -> database */
	struct strmap busy;                /* keys being looked up (value non-NULL) */
	struct enrich_wait *waits;         /* operations waiting for one of them */
	enrich_done_cb prep_cb;
	void *prep_arg;
	int prep_pending;
};

const char *enrich__jstr(const struct cJSON *o, const char *k);
/* A literal for the search API's wildcard queries; malloc'd. */
char *enrich__wild_escape(const char *s);
/* _source.id of the first hit of a search reply that is not deleted, or
 * NULL (older servers ignore deleted=false). */
const char *enrich__first_hit_id(const struct cJSON *json);

/* One lookup per key at a time: an operation that needs a tag, an owner or
 * a Glue connection another one is looking up waits for that answer instead
 * of asking again, so a run makes the same requests and counts the same
 * records and warnings whatever the timing.  kind keeps the key spaces
 * apart.  enrich__wait() returns 1 when key is being looked up (resume(arg)
 * is then called once enrich__done() is called for it; the answer is in the
 * cache, or not when the lookup failed), else 0 and the caller looks it up
 * (ENOMEM: 0, the caller asks itself). */
int enrich__wait(struct enrich *e, char kind, const char *key, void (*resume)(void *), void *arg);
void enrich__done(struct enrich *e, char kind, const char *key);

#endif
