/* enrich — see include/enrich.h.
 *
 * Each operation (one workflow's tags, one pipeline's lineage) holds a
 * count of what it has in flight and finishes when that count falls to 0;
 * every request callback first submits what follows from its reply, then
 * drops its own count. */
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

#define CLASSIFICATION "GlueTags"

struct enrich_wait {                    /* see enrich__wait() */
	struct enrich_wait *next;
	char *key;
	void (*resume)(void *arg);
	void *arg;
};

/* ---- the module ---- */

const char *
enrich__jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *
env_url(const char *specific)
{
	const char *v = getenv(specific);

	if (!v || !*v)
		v = getenv("AWS_ENDPOINT_URL");
	return v && *v ? strdup(v) : NULL;
}

struct enrich *
enrich_new(const struct enrich_ctx *ctx, struct gm_err *err)
{
	struct enrich *e = calloc(1, sizeof(*e));
	char *sts_url = env_url("AWS_ENDPOINT_URL_STS"), *s3_url = env_url("AWS_ENDPOINT_URL_S3");
	const struct wf *wf = ctx->wf;

	if (!e)
		goto oom;
	e->x = *ctx;
	if (!e->x.owner_tag)
		e->x.owner_tag = "owner";
	if (!(e->pool = http_pool_new(ctx->http, "aws-aux",
	                              ctx->s3_concurrency ? ctx->s3_concurrency : 8, NULL)))
		goto oom;
	e->sts = aws_client_new(e->pool, "sts", "", wf->aws_region, sts_url, ctx->creds, err);
	if (!e->sts)
		goto fail;
	e->s3 = aws_client_new(e->pool, "s3", "", wf->aws_region, s3_url, ctx->creds, err);
	if (!e->s3)
		goto fail;
	free(sts_url);
	free(s3_url);
	return e;
oom:
	gm_err_set(err, "out of memory");
fail:
	free(sts_url);
	free(s3_url);
	return enrich_free(e);
}

void
enrich_cancel(struct enrich *e)
{
	if (!e)
		return;
	e->cancelled = 1;
	http_pool_cancel(e->pool);
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

/* A literal for the search API's wildcard queries: '\\', '*' and '?'
 * escaped. */
char *
enrich__wild_escape(const char *s)
{
	struct buf b = {0};

	for (; s && *s; s++)
		if ((strchr("\\*?", *s) && buf_puts(&b, "\\") < 0) || buf_append(&b, s, 1) < 0) {
			buf_clear(&b);
			return NULL;
		}
	return b.data ? buf_steal(&b) : strdup("");
}

/* ---- prepare: the account id, the classification ---- */

/* The account of an access key does not change: cached for the process. */
static struct {
	char key[128];
	char account[32];
} account_cache[8];

static void
prep_settle(struct enrich *e)
{
	if (--e->prep_pending == 0)
		e->prep_cb(e->prep_arg);
}

static void
tags_off(struct enrich *e, const char *why)
{
	if (!e->cancelled) {
		/* the stored GlueTags and owners stay as they are: a partial run */
		e->x.source->errors++;
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
		e->x.sink->records++;
		log_info(e->x.lg, "created classification '%s' for Glue tags", CLASSIFICATION);
	} else if (!res->cancelled) {
		tags_off(e, res->message);
	}
	prep_settle(e);
}

static void
on_classification_get(const struct om_result *res, void *arg)
{
	struct enrich *e = arg;

	if (res->status == 404 && !e->cancelled) {
		cJSON *body = cJSON_CreateObject();

		if (body && cJSON_AddStringToObject(body, "name", CLASSIFICATION) &&
		    cJSON_AddStringToObject(body, "description",
		                            "Tags of AWS Glue workflows, as key.value") &&
		    cJSON_AddBoolToObject(body, "mutuallyExclusive", 0)) {
			e->prep_pending++;
			om_call(e->x.om, "PUT", "/v1/classifications", body, on_classification_put, e);
		} else {
			cJSON_Delete(body);
			tags_off(e, "out of memory");
		}
	} else if (!res->ok && !res->cancelled) {
		tags_off(e, res->message);
	}
	prep_settle(e);
}

static void
with_account(struct enrich *e)
{
	char path[128];

	e->tags_on = 1;                 /* GetTags works: for tags and the owner */
	if (!e->x.wf->include_tags)
		return;
	snprintf(path, sizeof(path), "/v1/classifications/name/%s", CLASSIFICATION);
	e->prep_pending++;
	om_call(e->x.om, "GET", path, NULL, on_classification_get, e);
}

static int
cache_account(struct enrich *e, int store)
{
	struct aws_creds c;
	unsigned gen;
	size_t i;

	if (e->x.creds->get(e->x.creds->ctx, (long long)time(NULL), &c, &gen) < 0 ||
	    !c.access_key || strlen(c.access_key) >= sizeof(account_cache[0].key))
		return 0;
	for (i = 0; i < sizeof(account_cache) / sizeof(*account_cache); i++) {
		if (store && !account_cache[i].key[0]) {
			snprintf(account_cache[i].key, sizeof(account_cache[i].key), "%s", c.access_key);
			snprintf(account_cache[i].account, sizeof(account_cache[i].account), "%s",
			         e->account);
			return 1;
		}
		if (!store && strcmp(account_cache[i].key, c.access_key) == 0) {
			snprintf(e->account, sizeof(e->account), "%s", account_cache[i].account);
			return 1;
		}
	}
	if (store) {            /* full: the oldest goes */
		memmove(&account_cache[0], &account_cache[1], sizeof(account_cache) - sizeof(account_cache[0]));
		i = sizeof(account_cache) / sizeof(*account_cache) - 1;
		snprintf(account_cache[i].key, sizeof(account_cache[i].key), "%s", c.access_key);
		snprintf(account_cache[i].account, sizeof(account_cache[i].account), "%s", e->account);
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
	e->prep_pending = 1;            /* held while we submit */
	if (e->x.wf->include_tags || e->x.wf->include_owners) {
		if (env && valid_account(env)) {
			snprintf(e->account, sizeof(e->account), "%s", env);
			with_account(e);
		} else if (cache_account(e, 0)) {
			with_account(e);
		} else {
			e->prep_pending++;
			aws_call_query(e->sts, "Action=GetCallerIdentity&Version=2011-06-15",
			               on_caller_identity, e);
		}
	}
	prep_settle(e);
}

/* ---- one workflow's tags and owner ---- */

struct wfop {
	struct enrich *e;
	char *name;
	struct enrich_want want;
	int tag_failed;                 /* a tag could not be looked up or made */
	int pending;
	enrich_want_cb cb;
	void *arg;
};

struct tagop {                          /* one key.value being made to exist */
	struct wfop *op;
	char *key, *value;              /* normalised */
	char *key_fqn, *fqn;
	int step;                       /* 0 the key, 1 the value */
	int absent;                     /* this step's tag was looked up: not there */
};

static int
cmp_label(const void *a, const void *b)
{
	const char *x = enrich__jstr(*(cJSON *const *)a, "tagFQN");
	const char *y = enrich__jstr(*(cJSON *const *)b, "tagFQN");

	return strcmp(x ? x : "", y ? y : "");
}

/* Labels in tagFQN order: the same tags make the same request, whatever
 * order their creation finished in. */
static void
sort_labels(cJSON *labels)
{
	int n = cJSON_GetArraySize(labels), i;
	cJSON **v;

	if (n < 2 || !(v = calloc((size_t)n, sizeof(*v))))
		return;
	for (i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(labels, 0);
	qsort(v, (size_t)n, sizeof(*v), cmp_label);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(labels, v[i]);
	free(v);
}

static void
wfop_settle(struct wfop *op)
{
	if (--op->pending)
		return;
	if (op->tag_failed)
		op->want.tags_known = ENRICH_UNKNOWN;
	sort_labels(op->want.tags);
	op->cb(&op->want, op->arg);
	enrich_want_clear(&op->want);
	free(op->name);
	free(op);
}

void
enrich_want_clear(struct enrich_want *w)
{
	cJSON_Delete(w->tags);
	cJSON_Delete(w->owner);
	w->tags = w->owner = NULL;
}

/* OpenMetadata's names hold no "::" and our FQNs no '.' or '"' inside a
 * part: those become '_'.  1 when something was changed. */
static int
normalise(char *s)
{
	int changed = 0;

	for (; *s; s++)
		if (*s == '.' || *s == '"' || *s == ':') {
			*s = '_';
			changed = 1;
		}
	return changed;
}

static void
add_label(struct wfop *op, const char *fqn)
{
	cJSON *l = cJSON_CreateObject();

	if (!op->want.tags)
		op->want.tags = cJSON_CreateArray();
	if (!l || !op->want.tags || !cJSON_AddStringToObject(l, "tagFQN", fqn) ||
	    !cJSON_AddStringToObject(l, "source", "Classification") ||
	    !cJSON_AddStringToObject(l, "labelType", "Automated") ||
	    !cJSON_AddStringToObject(l, "state", "Confirmed") ||
	    !cJSON_AddItemToArray(op->want.tags, l))
		cJSON_Delete(l);
}

static void tag_step(struct tagop *t);

static void
tagop_free(struct tagop *t)
{
	free(t->key);
	free(t->value);
	free(t->key_fqn);
	free(t->fqn);
	free(t);
}

static void
on_tag_put(const struct om_result *res, void *arg)
{
	struct tagop *t = arg;
	struct wfop *op = t->op;
	struct enrich *e = op->e;
	const char *fqn = t->step ? t->fqn : t->key_fqn;      /* this step's tag */

	if (res->ok) {
		if (t->absent)          /* created, not found */
			e->x.sink->records++;
		strmap_put(&e->tags, fqn, "");
		enrich__done(e, 'g', fqn);
		t->absent = 0;
		if (t->step == 0 && t->value) {
			t->step = 1;
			tag_step(t);
			return;
		}
		add_label(op, t->fqn);
	} else if (res->status == 404 && !t->absent) {
		t->absent = 1;          /* looked up: create it */
		tag_step(t);
		return;
	} else if (!res->cancelled) {
		e->x.sink->errors++;
		op->tag_failed = 1;
		log_err(e->x.lg, "'%s': %s tag %s failed, the pipeline keeps its tags: %s", op->name,
		        t->absent ? "creating" : "looking up", t->step ? t->fqn : t->key_fqn,
		        res->message);
	} else {
		op->tag_failed = 1;
	}
	if (!res->ok)
		enrich__done(e, 'g', fqn);
	tagop_free(t);
	wfop_settle(op);
}

static void
tag_resume(void *arg)
{
	tag_step(arg);
}

/* The key tag, then the value tag under it: each looked up, and put
 * when it is not there yet. */
static void
tag_step(struct tagop *t)
{
	struct enrich *e = t->op->e;
	cJSON *body;

	if (t->step == 0 && strmap_get(&e->tags, t->key_fqn))
		t->step = t->value ? 1 : 2;
	if (t->step == 1 && strmap_get(&e->tags, t->fqn))
		t->step = 2;
	if (t->step == 2 || e->cancelled) {
		struct wfop *op = t->op;

		if (t->step == 2) {
			add_label(op, t->fqn);
		} else {
			op->tag_failed = 1;
			if (t->absent)  /* looked up, not made: others wait on this tag */
				enrich__done(e, 'g', t->step ? t->fqn : t->key_fqn);
		}
		tagop_free(t);
		wfop_settle(op);
		return;
	}
	if (!t->absent) {
		char *path;

		if (enrich__wait(e, 'g', t->step ? t->fqn : t->key_fqn, tag_resume, t))
			return;
		path = str_urlencode_printf("/v1/tags/name/%s", t->step ? t->fqn : t->key_fqn);
		if (path) {
			om_call(e->x.om, "GET", path, NULL, on_tag_put, t);
			free(path);
			return;
		}
		t->absent = 1;
	}
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "name", t->step ? t->value : t->key) ||
	    !cJSON_AddStringToObject(body, "classification", CLASSIFICATION) ||
	    !cJSON_AddStringToObject(body, "description",
	                             t->step ? "Value of an AWS Glue tag" : "Key of an AWS Glue tag") ||
	    (t->step && !cJSON_AddStringToObject(body, "parent", t->key_fqn))) {
		struct wfop *op = t->op;

		op->tag_failed = 1;
		cJSON_Delete(body);
		enrich__done(e, 'g', t->step ? t->fqn : t->key_fqn);
		tagop_free(t);
		wfop_settle(op);
		return;
	}
	om_call(e->x.om, "PUT", "/v1/tags", body, on_tag_put, t);
}

static void
start_tag(struct wfop *op, const char *key, const char *value)
{
	struct tagop *t = calloc(1, sizeof(*t));
	struct buf b = {0};
	int changed;

	if (!t || !(t->key = strdup(key)) || (*value && !(t->value = strdup(value))))
		goto oom;
	changed = normalise(t->key) | (t->value ? normalise(t->value) : 0);
	if (buf_printf(&b, "%s.%s", CLASSIFICATION, t->key) < 0 || !(t->key_fqn = buf_steal(&b)))
		goto oom;
	if (buf_printf(&b, "%s%s%s", t->key_fqn, t->value ? "." : "", t->value ? t->value : "") < 0 ||
	    !(t->fqn = buf_steal(&b)))
		goto oom;
	if (changed) {
		op->e->x.source->warnings++;
		log_warning(op->e->x.lg, "'%s': Glue tag '%s' = '%s' holds characters an OpenMetadata "
		            "tag name cannot ('.', '\"', ':'); ingested as %s", op->name, key, value,
		            t->fqn);
	}
	t->op = op;
	op->pending++;
	tag_step(t);
	return;
oom:
	buf_clear(&b);
	op->tag_failed = 1;
	if (t)
		tagop_free(t);
}

/* ---- the owner ---- */

struct ownerop {
	struct wfop *op;
	char *value;
	int step;                       /* 0 user by name or e-mail, 1 team */
};

static void owner_step(struct ownerop *o);

static void
owner_done(struct ownerop *o, const char *id, const char *type)
{
	struct wfop *op = o->op;
	struct enrich *e = op->e;

	if (id) {
		char v[128];

		snprintf(v, sizeof(v), "%s:%s", type, id);
		strmap_put(&e->owners, o->value, v);
	} else {
		strmap_put(&e->owners, o->value, NULL);
	}
	enrich__done(e, 'o', o->value);
	if (id) {
		cJSON *ref = cJSON_CreateObject();

		if (ref && cJSON_AddStringToObject(ref, "id", id) &&
		    cJSON_AddStringToObject(ref, "type", type))
			op->want.owner = ref;
		else
			cJSON_Delete(ref);
	} else {
		e->x.source->warnings++;
		log_warning(e->x.lg, "'%s': owner '%s' (Glue tag '%s') is no user or team in "
		            "OpenMetadata", op->name, o->value, e->x.owner_tag);
	}
	free(o->value);
	free(o);
	wfop_settle(op);
}

const char *
enrich__first_hit_id(const cJSON *json)
{
	const cJSON *hits = cJSON_GetObjectItemCaseSensitive(json, "hits");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(hits, "hits"), *h;

	/* deleted=false is a filter only newer servers apply, and size is not
	 * a parameter of /search/fieldQuery: up to 10 hits come back, deleted
	 * entities among them, and the first one that is not deleted is it */
	if (!cJSON_IsArray(arr))
		return NULL;
	cJSON_ArrayForEach(h, arr) {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(h, "_source");

		if (cJSON_IsObject(src) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "deleted")) &&
		    enrich__jstr(src, "id"))
			return enrich__jstr(src, "id");
	}
	return NULL;
}

static void
on_owner(const struct om_result *res, void *arg)
{
	struct ownerop *o = arg;
	struct enrich *e = o->op->e;
	const int by_mail = strchr(o->value, '@') != NULL;
	const char *id = res->ok ? (by_mail && o->step == 0 ? enrich__first_hit_id(res->json)
	                                                    : enrich__jstr(res->json, "id")) : NULL;

	if (res->cancelled || (!res->ok && res->status != 404)) {
		if (!res->cancelled) {
			e->x.source->errors++;
			log_warning(e->x.lg, "'%s': looking up owner '%s' failed, the pipeline keeps its "
			            "owners: %s", o->op->name, o->value, res->message);
		}
		enrich__done(e, 'o', o->value);
		free(o->value);
		struct wfop *op = o->op;
		free(o);
		wfop_settle(op);
		return;
	}
	if (id) {
		owner_done(o, id, o->step == 0 ? "user" : "team");
	} else if (o->step == 0 && !by_mail) {
		o->step = 1;
		owner_step(o);
	} else {
		owner_done(o, NULL, NULL);
	}
}

static void
owner_step(struct ownerop *o)
{
	char *path = NULL;

	if (o->op->e->cancelled) {
		struct wfop *op = o->op;

		enrich__done(op->e, 'o', o->value);
		free(o->value);
		free(o);
		wfop_settle(op);
		return;
	}
	if (o->step == 0 && strchr(o->value, '@')) {
		char *lit = enrich__wild_escape(o->value);

		path = lit ? str_urlencode_printf("/v1/search/fieldQuery?fieldName=email.keyword&fieldValue=%s"
		                      "&from=0&size=1&index=user_search_index&deleted=false", lit) : NULL;
		free(lit);
	} else
		path = str_urlencode_printf(o->step == 0 ? "/v1/users/name/%s" : "/v1/teams/name/%s", o->value);
	if (!path) {
		owner_done(o, NULL, NULL);
		return;
	}
	om_call(o->op->e->x.om, "GET", path, NULL, on_owner, o);
	free(path);
}

/* An owner looked up before ("user:ID", "team:ID", or NULL: none). */
static void
owner_known(struct wfop *op, const struct strmap_entry *known)
{
	const char *colon = known->value ? strchr(known->value, ':') : NULL;

	if (colon) {
		cJSON *ref = cJSON_CreateObject();
		char type[16];

		snprintf(type, sizeof(type), "%.*s", (int)(colon - known->value), known->value);
		if (ref && cJSON_AddStringToObject(ref, "id", colon + 1) &&
		    cJSON_AddStringToObject(ref, "type", type))
			op->want.owner = ref;
		else
			cJSON_Delete(ref);
	}
}

/* The first lookup of this owner is over: its answer, or ours to ask. */
static void
owner_resume(void *arg)
{
	struct ownerop *o = arg;
	struct wfop *op = o->op;
	struct strmap_entry *known = strmap_get(&op->e->owners, o->value);

	if (known || op->e->cancelled) {
		if (known)
			owner_known(op, known);
		free(o->value);
		free(o);
		wfop_settle(op);
		return;
	}
	if (!enrich__wait(op->e, 'o', o->value, owner_resume, o))
		owner_step(o);
}

static void
start_owner(struct wfop *op, const char *value)
{
	struct strmap_entry *known = strmap_get(&op->e->owners, value);
	struct ownerop *o;

	if (known) {
		owner_known(op, known);
		return;
	}
	if (!(o = calloc(1, sizeof(*o))) || !(o->value = strdup(value))) {
		free(o);
		return;
	}
	o->op = op;
	op->pending++;
	if (!enrich__wait(op->e, 'o', o->value, owner_resume, o))
		owner_step(o);
}

static void
on_get_tags(const struct aws_result *res, void *arg)
{
	struct wfop *op = arg;
	struct enrich *e = op->e;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(res->json, "Tags"), *t;

	if (!res->ok || (tags && !cJSON_IsObject(tags))) {
		if (!res->cancelled) {
			e->x.source->errors++;
			log_warning(e->x.lg, "'%s': GetTags failed, the pipeline keeps its tags and "
			            "owners: %s%s%s", op->name, res->code ? res->code : "malformed reply",
			            res->message ? ": " : "", res->message ? res->message : "");
		}
		wfop_settle(op);
		return;
	}
	/* a complete read: the workflow's Glue tags are these (maybe none) */
	if (e->x.wf->include_tags)
		op->want.tags_known = ENRICH_KNOWN;
	cJSON_ArrayForEach(t, tags) {
		if (!t->string || !*t->string || !cJSON_IsString(t))
			continue;
		if (e->x.wf->include_tags)
			start_tag(op, t->string, t->valuestring);
		if (e->x.wf->include_owners && strcmp(t->string, e->x.owner_tag) == 0 &&
		    *t->valuestring)
			start_owner(op, t->valuestring);
	}
	wfop_settle(op);
}

void
enrich_workflow(struct enrich *e, const char *workflow, enrich_want_cb cb, void *arg)
{
	struct wfop *op = calloc(1, sizeof(*op));
	struct enrich_want none = {0};
	struct buf arn = {0};
	cJSON *in = NULL;

	if (!op || !(op->name = strdup(workflow)) || !e->tags_on || e->cancelled) {
		if (op)
			free(op->name);
		free(op);
		cb(&none, arg);
		return;
	}
	op->e = e;
	op->cb = cb;
	op->arg = arg;
	op->pending = 1;
	if (buf_printf(&arn, "arn:aws:glue:%s:%s:workflow/%s", e->x.wf->aws_region, e->account,
	               workflow) < 0 || !(in = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(in, "ResourceArn", arn.data)) {
		buf_clear(&arn);
		cJSON_Delete(in);
		wfop_settle(op);
		return;
	}
	buf_clear(&arn);
	aws_call(e->x.glue, "GetTags", in, on_get_tags, op);
}

/* ---- the patch of a written pipeline ---- */

static int
add_op(cJSON *ops, const char *kind, const char *path, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "op", kind) || !cJSON_AddStringToObject(o, "path", path) ||
	    (value && !cJSON_AddItemToObject(o, "value", value)) || !cJSON_AddItemToArray(ops, o)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return 0;
}

static int
has_label(const cJSON *labels, const char *fqn)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, labels)
		if (str_eq(enrich__jstr(l, "tagFQN"), fqn))
			return 1;
	return 0;
}

cJSON *
enrich_patch(const cJSON *entity, const struct enrich_want *want, const char *description,
             int override)
{
	const cJSON *want_tags = want ? want->tags : NULL, *want_owner = want ? want->owner : NULL;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(entity, "tags");
	const cJSON *owners = cJSON_GetObjectItemCaseSensitive(entity, "owners");
	const char *desc = enrich__jstr(entity, "description");
	cJSON *ops = cJSON_CreateArray();
	int i, n = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
	char path[32];

	if (!ops)
		return NULL;
	/* stale GlueTags.* labels, from the last index down; only from a
	 * complete read of the workflow's tags */
	for (i = (want && want->tags_known == ENRICH_KNOWN) ? n - 1 : -1; i >= 0; i--) {
		const char *fqn = enrich__jstr(cJSON_GetArrayItem(tags, i), "tagFQN");

		if (fqn && strncmp(fqn, CLASSIFICATION ".", strlen(CLASSIFICATION) + 1) == 0 &&
		    !has_label(want_tags, fqn)) {
			snprintf(path, sizeof(path), "/tags/%d", i);
			if (add_op(ops, "remove", path, NULL) < 0)
				goto fail;
		}
	}
	if (want_owner) {
		int empty = !cJSON_IsArray(owners) || cJSON_GetArraySize(owners) == 0;
		const cJSON *cur = empty ? NULL : cJSON_GetArrayItem(owners, 0);
		int same = !empty && cJSON_GetArraySize(owners) == 1 &&
		           str_eq(enrich__jstr(cur, "id"), enrich__jstr(want_owner, "id"));

		if (empty || (override && !same)) {
			cJSON *list = cJSON_CreateArray(), *ref = cJSON_Duplicate(want_owner, 1);

			if (!list || !ref || !cJSON_AddItemToArray(list, ref)) {
				cJSON_Delete(list);
				cJSON_Delete(ref);
				goto fail;
			}
			if (add_op(ops, owners ? "replace" : "add", "/owners", list) < 0)
				goto fail;
		}
	}
	if (override && description && *description && !str_eq(desc, description)) {
		cJSON *v = cJSON_CreateString(description);

		if (!v || add_op(ops, desc ? "replace" : "add", "/description", v) < 0) {
			cJSON_Delete(v);
			goto fail;
		}
	}
	if (cJSON_GetArraySize(ops) == 0)
		goto fail;
	return ops;
fail:
	cJSON_Delete(ops);
	return NULL;
}
