/* enrich internals shared by the files of the module: enrich.c (the
 * module, the account, the classification), enrich_tags.c (a workflow's
 * tags and owner), enrich_patch.c (the patch of a pipeline),
 * enrich_lineage.c (a pipeline's lineage) and enrich_override.c
 * (overrideLineage); not for other modules. */
#ifndef GLUEMETAD_ENRICH_INT_H
#define GLUEMETAD_ENRICH_INT_H

#include <stddef.h>

#include "enrich.h"
#include "run.h"
#include "util.h"

struct aws_client;
struct cJSON;
struct http_pool;
struct enrich_wait;

#define ENRICH__CLASSIFICATION "GlueTags"

struct enrich {
	struct enrich_ctx x;
	struct enrich_accounts *own_accounts;   /* when x.accounts was NULL */
	struct http_pool *pool;         /* STS and S3 */
	struct aws_client *sts, *s3;
	int cancelled;
	int tags_on;                    /* includeTags, and the account is known */
	char account[32];
	/* what enrichment counted, for enrich_take_counts() */
	struct run_step source, sink;
	struct strmap tags;                /* tag FQNs known to exist */
	struct strmap owners;              /* owner tag value -> reference */
	struct strmap found;               /* lineage refs -> entity */
	struct strmap conns;               /* Glue connection -> database */
	struct strmap busy;                /* keys being looked up (value non-NULL) */
	struct enrich_wait *waits;         /* operations waiting for one of them */
	enrich_done_cb prep_cb;
	void *prep_arg;
	struct join prep;
};

const char *enrich__jstr(const struct cJSON *o, const char *k);
/* A Glue read for workflow failed (not cancelled): a source error, logged
 * as "'workflow': what: code: message". */
void enrich__glue_failed(struct enrich *e, const char *workflow, const char *what,
                         const char *code, const char *message);

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

/* One pipeline's lineage, shared by enrich_lineage.c (reading Glue,
 * resolving, writing) and enrich_override.c (overrideLineage). */
struct enrich__linop {
	struct enrich *e;
	char *workflow, *pid;
	char **jobs;
	size_t n_jobs;
	struct join join;
	int phase;                      /* 0 reading and resolving, 1 writing */
	int failed;                     /* a write failed: not remembered */
	int read_failed;                /* a read failed: the edges are only part of them */
	struct strmap edges;            /* "from\x1ffrom type\x1fto\x1fto type" */
	char key[96], fp[33];           /* in the memo */
	/* overrideLineage: the pipeline's stored edges read back (see
	 * enrich_override.c) */
	struct strmap stored;           /* edge keys this connector wrote before */
	struct strmap from_nodes;       /* entity ids whose edges were asked for */
	struct join reads;              /* lineage reads not answered */
	int read_err;                   /* one failed: nothing is removed */
	char read_why[300];
	enrich_done_cb cb;
	void *arg;
};

/* One of the linop's joins is over: the next phase, or the end. */
void enrich__linop_settle(struct enrich__linop *op);
/* Writes every edge of op->edges (each holding op's join). */
void enrich__put_all(struct enrich__linop *op);
/* overrideLineage: reads the pipeline's stored edges back, removes those
 * this run does not write (none when a read failed), then puts op's
 * edges; holds op's join meanwhile. */
void enrich__override(struct enrich__linop *op);

#endif
