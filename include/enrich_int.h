/* enrich internals shared by enrich.c (tags, owners, patches) and
 * enrich_lineage.c (lineage); not for other modules. */
#ifndef GLUEMETAD_ENRICH_INT_H
#define GLUEMETAD_ENRICH_INT_H

#include <stddef.h>

#include "enrich.h"

struct aws_client;
struct cJSON;
struct http_pool;

/* A small string map (open addressing): lookups already made. */
struct kv {
	char *key;
	char *id;                       /* NULL: looked up, not found */
	char type[16];
};

struct map {
	struct kv *v;
	size_t cap, n;
};

struct enrich {
	struct enrich_ctx x;
	struct http_pool *pool;         /* STS and S3 */
	struct aws_client *sts, *s3;
	int cancelled;
	int tags_on;                    /* includeTags, and the account is known */
	char account[32];
	struct map tags;                /* tag FQNs known to exist */
	struct map owners;              /* owner tag value -> reference */
	struct map found;               /* lineage refs -> entity */
	struct map conns;               /* Glue connection -> database */
	enrich_done_cb prep_cb;
	void *prep_arg;
	int prep_pending;
};

struct kv *enrich__map_get(const struct map *m, const char *key);
/* Adds key (once) with id (NULL: looked up, not found) and type. */
int enrich__map_put(struct map *m, const char *key, const char *id, const char *type);
const char *enrich__jstr(const struct cJSON *o, const char *k);
/* fmt with one %s, given raw percent-encoded; malloc'd. */
char *enrich__path_enc(const char *fmt, const char *raw);
/* A literal for the search API's wildcard queries; malloc'd. */
char *enrich__wild_escape(const char *s);
/* _source.id of the first hit of a search reply, or NULL. */
const char *enrich__first_hit_id(const struct cJSON *json);

#endif
