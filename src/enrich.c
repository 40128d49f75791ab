/* enrich — see include/enrich.h.  This file owns the module: its lifetime,
 * its counters, the one-lookup-per-key waits, the account cache, and
 * enrich_prepare() (the account id, the GlueTags classification).  A
 * workflow's tags and owner are in enrich_tags.c, the patch in
 * enrich_patch.c, lineage in enrich_lineage.c and enrich_override.c.
 *
 * Each operation (one workflow's tags, one pipeline's lineage) holds a
 * join of what it has in flight and finishes when it falls to 0; every
 * request callback first submits what follows from its reply, then drops
 * its own count. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "enrich.h"
#include "enrich_int.h"
#include "http.h"
#include "log.h"
#include "om.h"
#include "run.h"
#include "util.h"
#include "wf.h"

#define CLASSIFICATION ENRICH__CLASSIFICATION
#define ACCOUNTS_MAX 8

struct enrich_wait {                    /* see enrich__wait() */
	struct enrich_wait *next;
	char *key;
	void (*resume)(void *arg);
	void *arg;
};

/* The account of an access key does not change: kept for the lifetime of
 * the owner of the cache. */
struct enrich_accounts {
	struct {
		char key[128];
		char account[32];
	} v[ACCOUNTS_MAX];
};

struct enrich_accounts *
enrich_accounts_new(void)
{
	return calloc(1, sizeof(struct enrich_accounts));
}

struct enrich_accounts *
enrich_accounts_free(struct enrich_accounts *a)
{
	free(a);
	return NULL;
}

const char *
enrich__jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
enrich__glue_failed(struct enrich *e, const char *workflow, const char *what, const char *code,
                    const char *message)
{
	e->source.errors++;
	log_warning(e->x.lg, "'%s': %s: %s%s%s", workflow, what, code ? code : "malformed reply",
	            message ? ": " : "", message ? message : "");
}

struct enrich *
enrich_new(const struct enrich_ctx *ctx, struct gm_err *err)
{
	struct enrich *e = calloc(1, sizeof(*e));
	const struct wf *wf = ctx->wf;

	if (!e)
		goto oom;
	e->x = *ctx;
	if (!e->x.accounts && !(e->x.accounts = e->own_accounts = enrich_accounts_new()))
		goto oom;
	if (!e->x.owner_tag)
		e->x.owner_tag = "owner";
	if (!(e->pool = http_pool_new(ctx->http, "aws-aux",
	                              ctx->s3_concurrency ? ctx->s3_concurrency : 8, NULL)))
		goto oom;
	/* no configured URL: the client resolves AWS_ENDPOINT_URL_STS/_S3,
	 * AWS_ENDPOINT_URL, then the region's endpoint (aws_endpoint_url()) */
	e->sts = aws_client_new(e->pool, "sts", "", wf->aws_region, NULL, ctx->creds, err);
	if (!e->sts)
		goto fail;
	e->s3 = aws_client_new(e->pool, "s3", "", wf->aws_region, NULL, ctx->creds, err);
	if (!e->s3)
		goto fail;
	return e;
oom:
	gm_err_set(err, "out of memory");
fail:
	return enrich_free(e);
}

static void
step_add(struct run_step *to, struct run_step *from)
{
	to->records += from->records;
	to->updated += from->updated;
	to->filtered += from->filtered;
	to->warnings += from->warnings;
	to->errors += from->errors;
	memset(from, 0, sizeof(*from));
}

void
enrich_take_counts(struct enrich *e, struct run_step *source, struct run_step *sink)
{
	if (!e)
		return;
	step_add(source, &e->source);
	step_add(sink, &e->sink);
}

void
enrich_cancel(struct enrich *e)
{
	if (!e)
		return;
	e->cancelled = 1;
	http_pool_cancel(e->pool);
}

const struct http_pool *
enrich_pool(const struct enrich *e)
{
	return e ? e->pool : NULL;
}

struct enrich *
enrich_free(struct enrich *e)
{
	if (!e)
		return NULL;
	aws_client_free(e->sts);
	aws_client_free(e->s3);
	if (e->pool)
		http_pool_free(e->pool);
	strmap_clear(&e->tags);
	strmap_clear(&e->owners);
	strmap_clear(&e->found);
	strmap_clear(&e->conns);
	strmap_clear(&e->busy);
	enrich_accounts_free(e->own_accounts);
	while (e->waits) {              /* none when every operation finished */
		struct enrich_wait *w = e->waits;

		e->waits = w->next;
		free(w->key);
		free(w);
	}
	free(e);
	return NULL;
}

static char *
wait_key(char kind, const char *key)
{
	struct buf b = {0};

	return buf_printf(&b, "%c\x1f%s", kind, key) < 0 ? NULL : buf_steal(&b);
}

int
enrich__wait(struct enrich *e, char kind, const char *key, void (*resume)(void *), void *arg)
{
	char *k = wait_key(kind, key);
	struct strmap_entry *kv = k ? strmap_get(&e->busy, k) : NULL;
	struct enrich_wait *w, **tail;

	if (!k)
		return 0;
	if (!kv || !kv->value) {
		strmap_put(&e->busy, k, "");
		free(k);
		return 0;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		free(k);
		return 0;
	}
	w->key = k;
	w->resume = resume;
	w->arg = arg;
	for (tail = &e->waits; *tail; tail = &(*tail)->next)
		;
	*tail = w;                      /* resumed in the order they came */
	return 1;
}

void
enrich__done(struct enrich *e, char kind, const char *key)
{
	char *k = wait_key(kind, key);
	struct enrich_wait *ready = NULL, **rt = &ready, **p = &e->waits, *w;

	if (!k)
		return;
	strmap_put(&e->busy, k, NULL);
	while ((w = *p)) {              /* taken off first: resume() may wait again */
		if (strcmp(w->key, k) == 0) {
			*p = w->next;
			w->next = NULL;
			*rt = w;
			rt = &w->next;
		} else {
			p = &w->next;
		}
	}
	free(k);
	while ((w = ready)) {
		ready = w->next;
		w->resume(w->arg);
		free(w->key);
		free(w);
	}
}

static void
prep_settle(struct enrich *e)
{
	if (join_done(&e->prep))
		e->prep_cb(e->prep_arg);
}

static void
tags_off(struct enrich *e, const char *why)
{
	if (!e->cancelled) {
		/* the stored GlueTags and owners stay as they are: a partial run */
		e->source.errors++;
		log_warning(e->x.lg, "not ingesting Glue tags or owners this run, the pipelines keep "
		            "theirs: %s", why);
	}
	e->tags_on = 0;
}

static void
on_classification_put(const struct om_result *res, void *arg)
{
	struct enrich *e = arg;

	if (res->ok) {
		e->sink.records++;
		log_info(e->x.lg, "created classification '%s' for Glue tags", CLASSIFICATION);
	} else if (!res->cancelled) {
		tags_off(e, res->message);
	}
	prep_settle(e);
}

static void
on_classification_get(const struct om_lookup *res, void *arg)
{
	struct enrich *e = arg;

	if (res->state == OM_LOOKUP_ABSENT && !e->cancelled) {
		join_add(&e->prep, 1);
		om_put_classification(e->x.om, CLASSIFICATION, "Tags of AWS Glue workflows, as key.value",
		                      0, on_classification_put, e);
	} else if (res->state != OM_LOOKUP_FOUND && !res->cancelled) {
		tags_off(e, res->message);
	}
	prep_settle(e);
}

static void
with_account(struct enrich *e)
{
	e->tags_on = 1;                 /* GetTags works: for tags and the owner */
	if (!e->x.wf->include_tags)
		return;
	join_add(&e->prep, 1);
	om_get_by_name(e->x.om, OM_CLASSIFICATION, CLASSIFICATION, on_classification_get, e);
}

static int
cache_account(struct enrich *e, int store)
{
	struct enrich_accounts *a = e->x.accounts;
	struct aws_creds c;
	unsigned gen;
	size_t i;

	if (e->x.creds->get(e->x.creds->ctx, (long long)time(NULL), &c, &gen) < 0 ||
	    !c.access_key || strlen(c.access_key) >= sizeof(a->v[0].key))
		return 0;
	for (i = 0; i < ACCOUNTS_MAX; i++) {
		if (store && !a->v[i].key[0]) {
			snprintf(a->v[i].key, sizeof(a->v[i].key), "%s", c.access_key);
			snprintf(a->v[i].account, sizeof(a->v[i].account), "%s", e->account);
			return 1;
		}
		if (!store && strcmp(a->v[i].key, c.access_key) == 0) {
			snprintf(e->account, sizeof(e->account), "%s", a->v[i].account);
			return 1;
		}
	}
	if (store) {            /* full: the oldest goes */
		memmove(&a->v[0], &a->v[1], sizeof(a->v) - sizeof(a->v[0]));
		i = ACCOUNTS_MAX - 1;
		snprintf(a->v[i].key, sizeof(a->v[i].key), "%s", c.access_key);
		snprintf(a->v[i].account, sizeof(a->v[i].account), "%s", e->account);
	}
	return 0;
}

static int
valid_account(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return i == 12;
}

static void
on_caller_identity(const struct aws_result *res, void *arg)
{
	struct enrich *e = arg;
	char *acct = res->ok ? str_xml_leaf(res->body, "Account") : NULL;
	char why[600];

	if (acct && valid_account(acct)) {
		snprintf(e->account, sizeof(e->account), "%s", acct);
		cache_account(e, 1);
		log_debug(e->x.lg, "AWS account %s", e->account);
		if (!e->cancelled)
			with_account(e);
	} else if (!res->cancelled) {
		snprintf(why, sizeof(why), "the AWS account id is unknown (STS GetCallerIdentity: %s%s%s)",
		         res->ok ? "no account in the reply" : (res->code ? res->code : "error"),
		         res->ok ? "" : ": ", res->ok ? "" : (res->message ? res->message : ""));
		tags_off(e, why);
	}
	free(acct);
	prep_settle(e);
}

void
enrich_prepare(struct enrich *e, enrich_done_cb cb, void *arg)
{
	const char *env = getenv("AWS_ACCOUNT_ID");

	e->prep_cb = cb;
	e->prep_arg = arg;
	join_add(&e->prep, 1);          /* held while we submit */
	if (e->x.wf->include_tags || e->x.wf->include_owners) {
		if (env && valid_account(env)) {
			snprintf(e->account, sizeof(e->account), "%s", env);
			with_account(e);
		} else if (cache_account(e, 0)) {
			with_account(e);
		} else {
			join_add(&e->prep, 1);
			aws_call_query(e->sts, "Action=GetCallerIdentity&Version=2011-06-15",
			               on_caller_identity, e);
		}
	}
	prep_settle(e);
}
