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
#include "entity.h"
#include "http.h"
#include "lineage.h"
#include "log.h"
#include "om.h"
#include "run.h"
#include "util.h"
#include "wf.h"

#define CLASSIFICATION "GlueTags"
#define JOBS_BATCH 25
#define MAX_JOBS 1000                   /* per workflow */

/* ---- a small string map: resolutions, connections, tags known to exist ---- */

struct kv {
	char *key;
	char *id;                       /* NULL: looked up, not found */
	char type[16];
};

struct map {
	struct kv *v;
	size_t cap, n;
};

static size_t
hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct kv *
map_get(const struct map *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->v[i].key, key) == 0)
			return &m->v[i];
	return NULL;
}

static int
map_put(struct map *m, const char *key, const char *id, const char *type)
{
	struct kv *kv;
	size_t i;

	if ((kv = map_get(m, key)))
		return 0;
	if ((m->n + 1) * 2 > m->cap) {
		struct map bigger = { .cap = m->cap ? m->cap * 2 : 64 };

		if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v))))
			return -ENOMEM;
		for (i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->v[i].key)
				continue;
			for (j = hash(m->v[i].key) & (bigger.cap - 1); bigger.v[j].key;
			     j = (j + 1) & (bigger.cap - 1))
				;
			bigger.v[j] = m->v[i];
		}
		bigger.n = m->n;
		free(m->v);
		*m = bigger;
	}
	for (i = hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
		;
	if (!(m->v[i].key = strdup(key)) || (id && !(m->v[i].id = strdup(id)))) {
		free(m->v[i].key);
		m->v[i].key = NULL;
		return -ENOMEM;
	}
	snprintf(m->v[i].type, sizeof(m->v[i].type), "%s", type ? type : "");
	m->n++;
	return 0;
}

static void
map_clear(struct map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		free(m->v[i].key);
		free(m->v[i].id);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- the module ---- */

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

static const char *
jstr(const cJSON *o, const char *k)
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
	map_clear(&e->tags);
	map_clear(&e->owners);
	map_clear(&e->found);
	map_clear(&e->conns);
	free(e);
	return NULL;
}

static char *
path_enc(const char *fmt, const char *raw)
{
	char *enc = str_urlencode(raw);
	struct buf b = {0};

	if (!enc || buf_printf(&b, fmt, enc) < 0) {
		free(enc);
		buf_clear(&b);
		return NULL;
	}
	free(enc);
	return buf_steal(&b);
}

/* A literal for the search API's wildcard queries: '\\', '*' and '?'
 * escaped. */
static char *
wild_escape(const char *s)
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
		e->x.source->warnings++;
		log_warning(e->x.lg, "not ingesting Glue tags this run: %s", why);
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

	e->tags_on = 1;
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
	int pending;
	enrich_want_cb cb;
	void *arg;
};

struct tagop {                          /* one key.value being made to exist */
	struct wfop *op;
	char *key, *value;              /* normalised */
	char *key_fqn, *fqn;
	int step;                       /* 0 the key, 1 the value */
};

static void
wfop_settle(struct wfop *op)
{
	if (--op->pending)
		return;
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

	if (res->ok) {
		e->x.sink->records++;
		map_put(&e->tags, t->step ? t->fqn : t->key_fqn, "", "tag");
		if (t->step == 0 && t->value) {
			t->step = 1;
			tag_step(t);
			return;
		}
		add_label(op, t->fqn);
	} else if (!res->cancelled) {
		e->x.sink->errors++;
		log_err(e->x.lg, "'%s': creating tag %s failed: %s", op->name,
		        t->step ? t->fqn : t->key_fqn, res->message);
	}
	tagop_free(t);
	wfop_settle(op);
}

/* Puts the key tag, then the value tag under it, skipping what exists. */
static void
tag_step(struct tagop *t)
{
	struct enrich *e = t->op->e;
	cJSON *body;

	if (t->step == 0 && map_get(&e->tags, t->key_fqn))
		t->step = t->value ? 1 : 2;
	if (t->step == 1 && map_get(&e->tags, t->fqn))
		t->step = 2;
	if (t->step == 2 || e->cancelled) {
		struct wfop *op = t->op;

		if (t->step == 2)
			add_label(op, t->fqn);
		tagop_free(t);
		wfop_settle(op);
		return;
	}
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "name", t->step ? t->value : t->key) ||
	    !cJSON_AddStringToObject(body, "classification", CLASSIFICATION) ||
	    !cJSON_AddStringToObject(body, "description",
	                             t->step ? "Value of an AWS Glue tag" : "Key of an AWS Glue tag") ||
	    (t->step && !cJSON_AddStringToObject(body, "parent", t->key_fqn))) {
		struct wfop *op = t->op;

		cJSON_Delete(body);
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

	map_put(&e->owners, o->value, id, type);
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

static const char *
first_hit_id(const cJSON *json)
{
	const cJSON *hits = cJSON_GetObjectItemCaseSensitive(json, "hits");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(hits, "hits");
	const cJSON *h = cJSON_IsArray(arr) ? cJSON_GetArrayItem(arr, 0) : NULL;

	return jstr(cJSON_GetObjectItemCaseSensitive(h, "_source"), "id");
}

static void
on_owner(const struct om_result *res, void *arg)
{
	struct ownerop *o = arg;
	struct enrich *e = o->op->e;
	const int by_mail = strchr(o->value, '@') != NULL;
	const char *id = res->ok ? (by_mail && o->step == 0 ? first_hit_id(res->json)
	                                                    : jstr(res->json, "id")) : NULL;

	if (res->cancelled || (!res->ok && res->status != 404)) {
		if (!res->cancelled) {
			e->x.source->warnings++;
			log_warning(e->x.lg, "'%s': looking up owner '%s' failed: %s", o->op->name,
			            o->value, res->message);
		}
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

		free(o->value);
		free(o);
		wfop_settle(op);
		return;
	}
	if (o->step == 0 && strchr(o->value, '@')) {
		char *lit = wild_escape(o->value);

		path = lit ? path_enc("/v1/search/fieldQuery?fieldName=email.keyword&fieldValue=%s"
		                      "&from=0&size=1&index=user_search_index&deleted=false", lit) : NULL;
		free(lit);
	} else
		path = path_enc(o->step == 0 ? "/v1/users/name/%s" : "/v1/teams/name/%s", o->value);
	if (!path) {
		owner_done(o, NULL, NULL);
		return;
	}
	om_call(o->op->e->x.om, "GET", path, NULL, on_owner, o);
	free(path);
}

static void
start_owner(struct wfop *op, const char *value)
{
	struct kv *known = map_get(&op->e->owners, value);
	struct ownerop *o;

	if (known) {
		if (known->id) {
			cJSON *ref = cJSON_CreateObject();

			if (ref && cJSON_AddStringToObject(ref, "id", known->id) &&
			    cJSON_AddStringToObject(ref, "type", known->type))
				op->want.owner = ref;
			else
				cJSON_Delete(ref);
		}
		return;
	}
	if (!(o = calloc(1, sizeof(*o))) || !(o->value = strdup(value))) {
		free(o);
		return;
	}
	o->op = op;
	op->pending++;
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
			e->x.source->warnings++;
			log_warning(e->x.lg, "'%s': GetTags failed, the pipeline keeps its tags: %s%s%s",
			            op->name, res->code ? res->code : "malformed reply",
			            res->message ? ": " : "", res->message ? res->message : "");
		}
		wfop_settle(op);
		return;
	}
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
		if (str_eq(jstr(l, "tagFQN"), fqn))
			return 1;
	return 0;
}

cJSON *
enrich_patch(const cJSON *entity, const cJSON *want_tags, const cJSON *want_owner,
             const char *description, int override)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(entity, "tags");
	const cJSON *owners = cJSON_GetObjectItemCaseSensitive(entity, "owners");
	const char *desc = jstr(entity, "description");
	cJSON *ops = cJSON_CreateArray();
	int i, n = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
	char path[32];

	if (!ops)
		return NULL;
	/* stale GlueTags.* labels, from the last index down */
	for (i = n - 1; i >= 0; i--) {
		const char *fqn = jstr(cJSON_GetArrayItem(tags, i), "tagFQN");

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
		           str_eq(jstr(cur, "id"), jstr(want_owner, "id"));

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

/* ---- lineage ---- */

struct linop;

struct jobl {
	struct linop *op;
	char *name;
	struct lineage_refs refs;
	char **ids;                     /* per ref: resolved entity id, or NULL */
	const char **types;
	int pending;
	int phase;                      /* 0 Glue connections, 1 resolution */
};

struct linop {
	struct enrich *e;
	char *workflow, *pid;
	char **jobs;
	size_t n_jobs;
	int pending;
	enrich_done_cb cb;
	void *arg;
};

struct refop {                          /* one ref being resolved */
	struct jobl *j;
	size_t i;                       /* index in j->refs */
	size_t svc;                     /* dbServiceNames index */
	int alt;                        /* S3: the other trailing-slash form tried */
	char *key;                      /* resolution cache key */
	char *path;                     /* S3: normalised path */
};

static void
linop_settle(struct linop *op)
{
	size_t i;

	if (--op->pending)
		return;
	op->cb(op->arg);
	for (i = 0; i < op->n_jobs; i++)
		free(op->jobs[i]);
	free(op->jobs);
	free(op->workflow);
	free(op->pid);
	free(op);
}

static void
jobl_free(struct jobl *j)
{
	size_t i;

	for (i = 0; i < j->refs.n; i++)
		free(j->ids[i]);
	free(j->ids);
	free(j->types);
	lineage_refs_clear(&j->refs);
	free(j->name);
	free(j);
}

static void
on_edge(const struct om_result *res, void *arg)
{
	struct linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok) {
		e->x.sink->records++;
	} else if (!res->cancelled) {
		e->x.sink->errors++;
		log_err(e->x.lg, "'%s': writing a lineage edge failed: %s", op->workflow, res->message);
	}
	linop_settle(op);
}

static cJSON *
ref_json(const char *id, const char *type)
{
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddStringToObject(o, "id", id) && cJSON_AddStringToObject(o, "type", type))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static void
put_edge(struct linop *op, const char *from, const char *from_type, const char *to,
         const char *to_type)
{
	cJSON *body = cJSON_CreateObject(), *edge, *det;

	if (!body || !(edge = cJSON_AddObjectToObject(body, "edge")) ||
	    !cJSON_AddItemToObject(edge, "fromEntity", ref_json(from, from_type)) ||
	    !cJSON_AddItemToObject(edge, "toEntity", ref_json(to, to_type)) ||
	    !(det = cJSON_AddObjectToObject(edge, "lineageDetails")) ||
	    !cJSON_AddItemToObject(det, "pipeline", ref_json(op->pid, "pipeline")) ||
	    !cJSON_AddStringToObject(det, "source", "PipelineLineage")) {
		cJSON_Delete(body);
		return;
	}
	op->pending++;
	om_call(op->e->x.om, "PUT", "/v1/lineage", body, on_edge, op);
}

static void start_resolve(struct jobl *j, size_t i);

/* A job's phase ended: after its connections, resolve its refs; after
 * that, every source to every target. */
static void
jobl_settle(struct jobl *j)
{
	struct linop *op = j->op;
	size_t a, b, c;

	if (--j->pending)
		return;
	if (j->phase == 0) {
		j->phase = 1;
		if ((j->ids = calloc(j->refs.n + 1, sizeof(*j->ids))) &&
		    (j->types = calloc(j->refs.n + 1, sizeof(*j->types)))) {
			j->pending = 1;         /* held while we submit */
			for (a = 0; a < j->refs.n && !op->e->cancelled; a++)
				start_resolve(j, a);
			jobl_settle(j);
			return;
		}
	}
	for (a = 0; j->ids && a < j->refs.n && !op->e->cancelled; a++) {
		if (j->refs.v[a].is_target || !j->ids[a])
			continue;
		for (c = 0; c < a; c++)         /* each source once */
			if (!j->refs.v[c].is_target && j->ids[c] && strcmp(j->ids[c], j->ids[a]) == 0)
				break;
		if (c < a)
			continue;
		for (b = 0; b < j->refs.n; b++) {
			if (!j->refs.v[b].is_target || !j->ids[b] || strcmp(j->ids[a], j->ids[b]) == 0)
				continue;
			for (c = 0; c < b; c++)         /* each target once */
				if (j->refs.v[c].is_target && j->ids[c] && strcmp(j->ids[c], j->ids[b]) == 0)
					break;
			if (c < b)
				continue;
			put_edge(op, j->ids[a], j->types[a], j->ids[b], j->types[b]);
		}
	}
	jobl_free(j);
	linop_settle(op);
}

static void
refop_end(struct refop *r, const char *id, const char *type, int cache)
{
	struct jobl *j = r->j;
	struct enrich *e = j->op->e;
	const struct lineage_ref *ref = &j->refs.v[r->i];

	if (cache && r->key)
		map_put(&e->found, r->key, id, type);
	if (id) {
		j->ids[r->i] = strdup(id);
		j->types[r->i] = type;
	} else if (cache) {
		e->x.source->warnings++;
		if (ref->kind == LINEAGE_S3)
			log_warning(e->x.lg, "'%s': job '%s': no container in OpenMetadata has the path "
			            "%s; no lineage through it", j->op->workflow, j->name, ref->path);
		else
			log_warning(e->x.lg, "'%s': job '%s': table %s%s%s%s%s not found in "
			            "OpenMetadata; no lineage through it", j->op->workflow, j->name,
			            ref->database ? ref->database : "", ref->database ? "." : "",
			            ref->schema ? ref->schema : "", ref->schema ? "." : "", ref->table);
	}
	free(r->key);
	free(r->path);
	free(r);
	jobl_settle(j);
}

static void resolve_step(struct refop *r);

static void
on_lookup(const struct om_result *res, void *arg)
{
	struct refop *r = arg;
	const struct lineage_ref *ref = &r->j->refs.v[r->i];
	const char *id;

	if (res->cancelled) {
		refop_end(r, NULL, NULL, 0);
		return;
	}
	if (!res->ok && res->status != 404) {
		struct enrich *e = r->j->op->e;

		e->x.source->warnings++;
		log_warning(e->x.lg, "'%s': job '%s': looking up %s failed: %s", r->j->op->workflow,
		            r->j->name, ref->kind == LINEAGE_S3 ? ref->path : ref->table, res->message);
		refop_end(r, NULL, NULL, 0);
		return;
	}
	id = !res->ok ? NULL : cJSON_GetObjectItemCaseSensitive(res->json, "hits")
	                       ? first_hit_id(res->json) : jstr(res->json, "id");
	if (id) {
		refop_end(r, id, ref->kind == LINEAGE_S3 ? "container" : "table", 1);
		return;
	}
	if (ref->kind == LINEAGE_S3)
		r->alt++;
	else
		r->svc++;
	resolve_step(r);
}

/* One FQN part, quoted as OpenMetadata quotes it, or "*" when unknown;
 * escaped for a wildcard query when wild. */
static const char *
part(const char *s, int wild, char **hold)
{
	char *q = s ? entity_quote_name(s) : NULL;

	*hold = q && wild ? wild_escape(q) : q;
	if (q && wild)
		free(q);
	return *hold ? *hold : "*";
}

static void
resolve_step(struct refop *r)
{
	struct jobl *j = r->j;
	struct enrich *e = j->op->e;
	const struct lineage_ref *ref = &j->refs.v[r->i];
	const struct wf_strlist *svcs = &e->x.wf->db_service_names;
	struct buf q = {0};
	char *path = NULL;

	if (e->cancelled) {
		refop_end(r, NULL, NULL, 0);
		return;
	}
	if (ref->kind == LINEAGE_S3) {
		size_t n = strlen(r->path);

		if (r->alt > 1) {
			refop_end(r, NULL, NULL, 1);
			return;
		}
		if (r->alt == 1 && r->path[n - 1] == '/')
			r->path[n - 1] = '\0';
		else if (r->alt == 1 && buf_printf(&q, "%s/", r->path) == 0) {
			free(r->path);
			r->path = buf_steal(&q);
		}
		if (r->path) {
			char *lit = wild_escape(r->path);

			path = lit ? path_enc("/v1/search/fieldQuery?fieldName=fullPath&fieldValue=%s"
			                      "&from=0&size=1&index=container_search_index&deleted=false",
			                      lit) : NULL;
			free(lit);
		}
	} else {
		const char *svc = svcs->n ? (r->svc < svcs->n ? svcs->v[r->svc] : NULL)
		                          : (r->svc == 0 ? "*" : NULL);
		char *h1, *h2, *h3, *h4;

		if (!svc) {
			refop_end(r, NULL, NULL, 1);
			return;
		}
		int wild = !strcmp(svc, "*") || !ref->database || !ref->schema;

		if (buf_printf(&q, "%s.%s.%s.%s", strcmp(svc, "*") ? part(svc, wild, &h1) : (h1 = NULL, "*"),
		               part(ref->database, wild, &h2), part(ref->schema, wild, &h3),
		               part(ref->table, wild, &h4)) < 0)
			buf_clear(&q);
		free(h1);
		free(h2);
		free(h3);
		free(h4);
		if (q.data && wild)
			path = path_enc("/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=%s"
			                "&from=0&size=1&index=table_search_index&deleted=false", q.data);
		else if (q.data)
			path = path_enc("/v1/tables/name/%s", q.data);
		buf_clear(&q);
	}
	if (!path) {
		refop_end(r, NULL, NULL, 0);
		return;
	}
	om_call(e->x.om, "GET", path, NULL, on_lookup, r);
	free(path);
}

static void
start_resolve(struct jobl *j, size_t i)
{
	struct enrich *e = j->op->e;
	struct lineage_ref *ref = &j->refs.v[i];
	struct refop *r = calloc(1, sizeof(*r));
	struct buf k = {0};
	struct kv *kv;

	if (!r)
		return;
	r->j = j;
	r->i = i;
	if (ref->kind == LINEAGE_S3) {
		const char *p = ref->path;

		if (strncmp(p, "s3a://", 6) == 0 || strncmp(p, "s3n://", 6) == 0)
			p += 6;
		else if (strncmp(p, "s3://", 5) == 0)
			p += 5;
		if (buf_printf(&k, "s3://%s", p) == 0)
			r->path = strdup(k.data);
		buf_clear(&k);
		if (!r->path || buf_printf(&k, "s\x1f%s", r->path) < 0) {
			free(r->path);
			free(r);
			buf_clear(&k);
			return;
		}
	} else if (buf_printf(&k, "t\x1f%s\x1f%s\x1f%s", ref->database ? ref->database : "",
	                      ref->schema ? ref->schema : "", ref->table) < 0) {
		free(r);
		return;
	}
	r->key = buf_steal(&k);
	j->pending++;
	if ((kv = map_get(&e->found, r->key))) {
		const char *type = ref->kind == LINEAGE_S3 ? "container" : "table";

		refop_end(r, kv->id, type, 0);
		return;
	}
	resolve_step(r);
}

struct connop {
	struct jobl *j;
	char *name;
};

static void
on_connection(const struct aws_result *res, void *arg)
{
	struct connop *c = arg;
	struct jobl *j = c->j;
	struct enrich *e = j->op->e;
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(res->json, "Connection");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(conn, "ConnectionProperties");
	const char *url = jstr(props, "JDBC_CONNECTION_URL");
	char *db = url ? lineage_jdbc_database(url) : NULL;
	size_t i;

	if (!res->cancelled) {
		if (!res->ok || !db) {
			e->x.source->warnings++;
			log_warning(e->x.lg, "'%s': job '%s': Glue connection '%s' names no database%s%s",
			            j->op->workflow, j->name, c->name, res->ok ? "" : ": ",
			            res->ok ? "" : (res->code ? res->code : "error"));
		}
		map_put(&e->conns, c->name, db, "db");
	}
	for (i = 0; i < j->refs.n; i++)
		if (j->refs.v[i].kind == LINEAGE_TABLE && !j->refs.v[i].database &&
		    str_eq(j->refs.v[i].connection, c->name) && db)
			j->refs.v[i].database = strdup(db);
	free(db);
	free(c->name);
	free(c);
	jobl_settle(j);
}

/* Databases of JDBC refs from their Glue connections, then resolution
 * (jobl_settle() moves on when the last connection answered). */
static void
with_refs(struct jobl *j)
{
	struct enrich *e = j->op->e;
	size_t i;

	j->phase = 0;
	j->pending = 1;                 /* held while we submit */
	for (i = 0; i < j->refs.n && !e->cancelled; i++) {
		struct lineage_ref *ref = &j->refs.v[i];
		struct kv *kv;
		struct connop *c;
		cJSON *in = NULL;
		size_t k;

		if (ref->kind != LINEAGE_TABLE || ref->database || !ref->connection)
			continue;
		if ((kv = map_get(&e->conns, ref->connection))) {
			if (kv->id)
				ref->database = strdup(kv->id);
			continue;
		}
		for (k = 0; k < i; k++)         /* asked already for this job */
			if (j->refs.v[k].kind == LINEAGE_TABLE && !j->refs.v[k].database &&
			    str_eq(j->refs.v[k].connection, ref->connection))
				break;
		if (k < i)
			continue;
		if (!(c = calloc(1, sizeof(*c))) || !(c->name = strdup(ref->connection)) ||
		    !(in = cJSON_CreateObject()) || !cJSON_AddStringToObject(in, "Name", c->name) ||
		    !cJSON_AddBoolToObject(in, "HidePassword", 1)) {
			cJSON_Delete(in);
			if (c)
				free(c->name);
			free(c);
			continue;
		}
		c->j = j;
		j->pending++;
		aws_call(e->x.glue, "GetConnection", in, on_connection, c);
	}
	jobl_settle(j);
}

static struct jobl *
jobl_new(struct linop *op, const char *name)
{
	struct jobl *j = calloc(1, sizeof(*j));

	if (!j || !(j->name = strdup(name))) {
		free(j);
		return NULL;
	}
	j->op = op;
	op->pending++;
	return j;
}

static void
on_script(const struct aws_result *res, void *arg)
{
	struct jobl *j = arg;
	struct enrich *e = j->op->e;

	if (res->ok) {
		lineage_from_script(res->body, res->body_len, &j->refs);
		log_debug(e->x.lg, "'%s': job '%s': %zu lineage references in its script",
		          j->op->workflow, j->name, j->refs.n);
	} else if (!res->cancelled) {
		e->x.source->warnings++;
		log_warning(e->x.lg, "'%s': job '%s': cannot read its script from S3: %s%s%s",
		            j->op->workflow, j->name, res->code ? res->code : "error",
		            res->message ? ": " : "", res->message ? res->message : "");
	}
	with_refs(j);
}

static void
job_lineage(struct linop *op, const cJSON *job)
{
	struct enrich *e = op->e;
	const char *name = jstr(job, "Name");
	struct gm_err err = {{0}};
	struct jobl *j;
	char *bucket = NULL, *key = NULL;
	int r;

	if (!name || !(j = jobl_new(op, name)))
		return;
	r = lineage_from_job(job, &j->refs, &err);
	if (r < 0) {
		e->x.source->warnings++;
		log_warning(e->x.lg, "'%s': job '%s': no lineage from its Visual-ETL nodes: %s",
		            op->workflow, name, err.msg[0] ? err.msg : "out of memory");
		lineage_refs_clear(&j->refs);
		with_refs(j);
		return;
	}
	if (r == 0 && lineage_script_location(job, &bucket, &key) == 0) {
		aws_get_object(e->s3, bucket, key, on_script, j);
		free(bucket);
		free(key);
		return;
	}
	with_refs(j);
}

static void
on_jobs(const struct aws_result *res, void *arg)
{
	struct linop *op = arg;
	struct enrich *e = op->e;
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(res->json, "Jobs");
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(res->json, "JobsNotFound"), *j;

	if (!res->ok || (jobs && !cJSON_IsArray(jobs))) {
		if (!res->cancelled) {
			e->x.source->warnings++;
			log_warning(e->x.lg, "'%s': BatchGetJobs failed, no lineage from these jobs: %s%s%s",
			            op->workflow, res->code ? res->code : "malformed reply",
			            res->message ? ": " : "", res->message ? res->message : "");
		}
	} else {
		cJSON_ArrayForEach(j, jobs)
			if (!e->cancelled)
				job_lineage(op, j);
		cJSON_ArrayForEach(j, missing)
			if (cJSON_IsString(j)) {
				e->x.source->warnings++;
				log_warning(e->x.lg, "'%s': job '%s' of the workflow graph does not exist; no "
				            "lineage from it", op->workflow, j->valuestring);
			}
	}
	linop_settle(op);
}

static void
read_jobs(struct linop *op)
{
	size_t i = 0, k;

	while (i < op->n_jobs && !op->e->cancelled) {
		cJSON *in = cJSON_CreateObject(), *names = in ? cJSON_AddArrayToObject(in, "JobNames") : NULL;

		for (k = 0; names && k < JOBS_BATCH && i < op->n_jobs; k++, i++)
			cJSON_AddItemToArray(names, cJSON_CreateString(op->jobs[i]));
		if (!names) {
			cJSON_Delete(in);
			return;
		}
		op->pending++;
		aws_call(op->e->x.glue, "BatchGetJobs", in, on_jobs, op);
	}
}

static void
on_lineage_deleted(const struct om_result *res, void *arg)
{
	struct linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok || res->status == 404) {
		read_jobs(op);
	} else if (!res->cancelled) {
		e->x.sink->errors++;
		log_err(e->x.lg, "'%s': removing the pipeline's lineage (overrideLineage) failed, "
		        "lineage left as it was: %s", op->workflow, res->message);
	}
	linop_settle(op);
}

void
enrich_lineage(struct enrich *e, const char *workflow, const char *pipeline_id,
               const cJSON *jobs, enrich_done_cb cb, void *arg)
{
	struct linop *op = calloc(1, sizeof(*op));
	const cJSON *j;
	size_t n = 0;

	if (!op || e->cancelled || !(op->workflow = strdup(workflow)) ||
	    !(op->pid = strdup(pipeline_id)) ||
	    !(op->jobs = calloc((size_t)cJSON_GetArraySize(jobs) + 1, sizeof(*op->jobs)))) {
		if (op) {
			free(op->workflow);
			free(op->pid);
		}
		free(op);
		cb(arg);
		return;
	}
	cJSON_ArrayForEach(j, jobs)
		if (cJSON_IsString(j) && n < MAX_JOBS && (op->jobs[n] = strdup(j->valuestring)))
			n++;
	op->n_jobs = n;
	op->e = e;
	op->cb = cb;
	op->arg = arg;
	op->pending = 1;                /* held while we submit */
	if (e->x.wf->override_lineage) {
		char *path = path_enc("/v1/lineage/pipeline/%s/type/PipelineLineage", pipeline_id);

		if (path) {
			op->pending++;
			om_call(e->x.om, "DELETE", path, NULL, on_lineage_deleted, op);
			free(path);
		}
	} else {
		read_jobs(op);
	}
	linop_settle(op);
}
