/* enrich — one workflow's Glue tags and owner (see enrich_workflow() in
 * include/enrich.h): GetTags, each tag made to exist in OpenMetadata
 * (GlueTags.key, then GlueTags.key.value), the owner looked up as a user
 * or a team. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "enrich.h"
#include "enrich_int.h"
#include "glue.h"
#include "log.h"
#include "om.h"
#include "util.h"
#include "wf.h"

#define CLASSIFICATION ENRICH__CLASSIFICATION

struct wfop {
	struct enrich *e;
	char *name;
	struct enrich_want want;
	int tag_failed;                 /* a tag could not be looked up or made */
	struct join join;
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
	if (!join_done(&op->join))
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

/* The answer about this step's tag: there (ok), not there (absent, a
 * lookup's 404) or not known (message). */
static void
tag_answer(struct tagop *t, int ok, int absent, int cancelled, const char *message)
{
	struct wfop *op = t->op;
	struct enrich *e = op->e;
	const char *fqn = t->step ? t->fqn : t->key_fqn;      /* this step's tag */

	if (ok) {
		if (t->absent)          /* created, not found */
			e->sink.records++;
		strmap_put(&e->tags, fqn, "");
		enrich__done(e, 'g', fqn);
		t->absent = 0;
		if (t->step == 0 && t->value) {
			t->step = 1;
			tag_step(t);
			return;
		}
		add_label(op, t->fqn);
	} else if (absent && !t->absent) {
		t->absent = 1;          /* looked up: create it */
		tag_step(t);
		return;
	} else if (!cancelled) {
		e->sink.errors++;
		op->tag_failed = 1;
		log_err(e->x.lg, "'%s': %s tag %s failed, the pipeline keeps its tags: %s", op->name,
		        t->absent ? "creating" : "looking up", t->step ? t->fqn : t->key_fqn,
		        message);
	} else {
		op->tag_failed = 1;
	}
	if (!ok)
		enrich__done(e, 'g', fqn);
	tagop_free(t);
	wfop_settle(op);
}

static void
on_tag_get(const struct om_lookup *res, void *arg)
{
	tag_answer(arg, res->state == OM_LOOKUP_FOUND, res->state == OM_LOOKUP_ABSENT,
	           res->cancelled, res->message);
}

static void
on_tag_put(const struct om_result *res, void *arg)
{
	tag_answer(arg, res->ok, 0, res->cancelled, res->message);
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
		if (enrich__wait(e, 'g', t->step ? t->fqn : t->key_fqn, tag_resume, t))
			return;
		om_get_by_name(e->x.om, OM_TAG, t->step ? t->fqn : t->key_fqn, on_tag_get, t);
		return;
	}
	om_put_tag(e->x.om, t->step ? t->value : t->key, CLASSIFICATION, t->step ? t->key_fqn : NULL,
	           t->step ? "Value of an AWS Glue tag" : "Key of an AWS Glue tag", on_tag_put, t);
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
		op->e->source.warnings++;
		log_warning(op->e->x.lg, "'%s': Glue tag '%s' = '%s' holds characters an OpenMetadata "
		            "tag name cannot ('.', '\"', ':'); ingested as %s", op->name, key, value,
		            t->fqn);
	}
	t->op = op;
	join_add(&op->join, 1);
	tag_step(t);
	return;
oom:
	buf_clear(&b);
	op->tag_failed = 1;
	if (t)
		tagop_free(t);
}

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
		e->source.warnings++;
		log_warning(e->x.lg, "'%s': owner '%s' (Glue tag '%s') is no user or team in "
		            "OpenMetadata", op->name, o->value, e->x.owner_tag);
	}
	free(o->value);
	free(o);
	wfop_settle(op);
}

static void
on_owner(const struct om_lookup *res, void *arg)
{
	struct ownerop *o = arg;
	struct wfop *op = o->op;
	struct enrich *e = op->e;
	const int by_mail = strchr(o->value, '@') != NULL;
	const char *id = res->state == OM_LOOKUP_FOUND ? res->id : NULL;

	if (res->state == OM_LOOKUP_FAILED) {
		if (!res->cancelled) {
			e->source.errors++;
			log_warning(e->x.lg, "'%s': looking up owner '%s' failed, the pipeline keeps its "
			            "owners: %s", op->name, o->value, res->message);
		}
		enrich__done(e, 'o', o->value);
		free(o->value);
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
	if (o->op->e->cancelled) {
		struct wfop *op = o->op;

		enrich__done(op->e, 'o', o->value);
		free(o->value);
		free(o);
		wfop_settle(op);
		return;
	}
	if (o->step == 0 && strchr(o->value, '@'))
		om_search_user_by_email(o->op->e->x.om, o->value, on_owner, o);
	else
		om_get_by_name(o->op->e->x.om, o->step == 0 ? OM_USER : OM_TEAM, o->value, on_owner, o);
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
	join_add(&op->join, 1);
	if (!enrich__wait(op->e, 'o', o->value, owner_resume, o))
		owner_step(o);
}

static void
on_get_tags(const struct glue_tags_result *res, void *arg)
{
	struct wfop *op = arg;
	struct enrich *e = op->e;
	size_t i;

	if (res->state == GLUE_UNKNOWN) {
		if (!res->cancelled)
			enrich__glue_failed(e, op->name, "GetTags failed, the pipeline keeps its tags and owners",
			                    res->code, res->message);
		wfop_settle(op);
		return;
	}
	/* a complete read: the workflow's Glue tags are these (maybe none) */
	if (e->x.wf->include_tags)
		op->want.tags_known = ENRICH_KNOWN;
	for (i = 0; i < res->n; i++) {
		const struct glue_tag *t = &res->v[i];

		if (e->x.wf->include_tags)
			start_tag(op, t->key, t->value);
		if (e->x.wf->include_owners && strcmp(t->key, e->x.owner_tag) == 0 && *t->value)
			start_owner(op, t->value);
	}
	wfop_settle(op);
}

void
enrich_workflow(struct enrich *e, const char *workflow, enrich_want_cb cb, void *arg)
{
	struct wfop *op = calloc(1, sizeof(*op));
	struct enrich_want none = {0};
	struct buf arn = {0};

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
	join_add(&op->join, 1);
	if (buf_printf(&arn, "arn:aws:glue:%s:%s:workflow/%s", e->x.wf->aws_region, e->account,
	               workflow) < 0) {
		buf_clear(&arn);
		wfop_settle(op);
		return;
	}
	glue_get_tags(e->x.glue, arn.data, on_get_tags, op);
	buf_clear(&arn);
}
