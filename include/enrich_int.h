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
	enrich_done_cb prep_cb;
	void *prep_arg;
	int prep_pending;
};

const char *enrich__jstr(const struct cJSON *o, const char *k);
/* A literal for the search API's wildcard queries; malloc'd. */
char *enrich__wild_escape(const char *s);
/* _source.id of the first hit of a search reply, or NULL. */
const char *enrich__first_hit_id(const struct cJSON *json);

#endif
