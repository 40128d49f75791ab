/* evindex — see include/evindex.h.  Each owner keeps a map from Glue
 * workflow to its nodes, one string: "\x1fj:JOB\x1fc:CRAWLER\x1f", so that
 * a lookup is a search in each string (Glue names hold no control
 * characters). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "evindex.h"
#include "state.h"
#include "util.h"

#define SEP "\x1f"

struct owner {
	struct owner *next;
	char *name;
	char *region;
	struct strmap graphs;           /* Glue workflow -> its nodes */
};

struct evindex {
	struct owner *owners;
	struct owner *cur;              /* being updated */
	struct strmap fresh;            /* what the update set, when it replaces */
	int replace, changed;
};

struct evindex *
evindex_new(void)
{
	return calloc(1, sizeof(struct evindex));
}

static void
owner_free(struct owner *o)
{
	free(o->name);
	free(o->region);
	strmap_clear(&o->graphs);
	free(o);
}

void
evindex_free(struct evindex *x)
{
	if (!x)
		return;
	while (x->owners) {
		struct owner *o = x->owners;

		x->owners = o->next;
		owner_free(o);
	}
	strmap_clear(&x->fresh);
	free(x);
}

static struct owner *
owner_find(const struct evindex *x, const char *name)
{
	struct owner *o;

	for (o = x->owners; o; o = o->next)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

int
evindex_begin(struct evindex *x, const char *owner, const char *region, int replace)
{
	struct owner *o = owner_find(x, owner);

	if (!o) {
		if (!(o = calloc(1, sizeof(*o))) || !(o->name = strdup(owner))) {
			free(o);
			return -ENOMEM;
		}
		o->next = x->owners;
		x->owners = o;
		x->changed = 1;
	}
	if (!str_eq(o->region, region)) {
		free(o->region);
		o->region = str_dup(region);
		x->changed = 1;
	}
	x->cur = o;
	x->replace = replace;
	strmap_clear(&x->fresh);
	return 0;
}

static int
add_nodes(struct buf *b, const char *tag, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf_printf(b, "%s:%s" SEP, tag, names[i]) < 0)
			return -ENOMEM;
	return 0;
}

int
evindex_set(struct evindex *x, const char *wf, const char *const *jobs, size_t n_jobs,
            const char *const *crawlers, size_t n_crawlers)
{
	struct buf b = {0};
	const struct strmap_entry *e;
	int r = -ENOMEM;

	if (!x->cur)
		return -EINVAL;
	if (buf_puts(&b, SEP) < 0 || add_nodes(&b, "j", jobs, n_jobs) < 0 ||
	    add_nodes(&b, "c", crawlers, n_crawlers) < 0)
		goto out;
	e = strmap_get(&x->cur->graphs, wf);
	if (!e || !str_eq(e->value, b.data)) {
		if (strmap_put(&x->cur->graphs, wf, b.data) < 0)
			goto out;
		x->changed = 1;
	}
	r = x->replace ? strmap_put(&x->fresh, wf, NULL) : 0;
out:
	buf_clear(&b);
	return r;
}

int
evindex_end(struct evindex *x)
{
	struct owner *o = x->cur;
	int changed;

	if (o && x->replace) {
		struct strmap kept = {0};
		size_t i;

		for (i = 0; i < o->graphs.cap; i++) {
			struct strmap_entry *e = &o->graphs.v[i];

			if (!e->key)
				continue;
			if (!strmap_get(&x->fresh, e->key)) {
				x->changed = 1;         /* gone from Glue */
				continue;
			}
			if (strmap_put(&kept, e->key, e->value) < 0) {
				strmap_clear(&kept);    /* keep all rather than lose some */
				goto out;
			}
		}
		strmap_clear(&o->graphs);
		o->graphs = kept;
	}
out:
	strmap_clear(&x->fresh);
	x->cur = NULL;
	changed = x->changed;
	x->changed = 0;
	return changed;
}

void
evindex_forget(struct evindex *x, const char *owner)
{
	struct owner **pp, *o;

	for (pp = &x->owners; (o = *pp); pp = &o->next)
		if (strcmp(o->name, owner) == 0) {
			*pp = o->next;
			if (x->cur == o)
				x->cur = NULL;
			owner_free(o);
			return;
		}
}

size_t
evindex_find(const struct evindex *x, enum evindex_kind kind, const char *region,
             const char *name, evindex_cb each, void *arg)
{
	const struct owner *o;
	char *needle;
	size_t i, n = 0;

	if (!name || !*name || asprintf(&needle, SEP "%s:%s" SEP,
	                                kind == EVINDEX_JOB ? "j" : "c", name) < 0)
		return 0;
	for (o = x->owners; o; o = o->next) {
		if (region && o->region && strcmp(region, o->region) != 0)
			continue;
		for (i = 0; i < o->graphs.cap; i++) {
			const struct strmap_entry *e = &o->graphs.v[i];

			if (e->key && e->value && strstr(e->value, needle)) {
				each(o->name, e->key, arg);
				n++;
			}
		}
	}
	free(needle);
	return n;
}

size_t
evindex_count(const struct evindex *x, const char *owner)
{
	const struct owner *o;
	size_t n = 0;

	for (o = x->owners; o; o = o->next)
		if (!owner || strcmp(o->name, owner) == 0)
			n += o->graphs.n;
	return n;
}

/* The nodes string of a graph as {"jobs": [...], "crawlers": [...]}. */
static cJSON *
graph_json(const char *nodes)
{
	cJSON *g = cJSON_CreateObject(), *jobs, *crawlers;
	const char *p = nodes;

	jobs = cJSON_AddArrayToObject(g, "jobs");
	crawlers = cJSON_AddArrayToObject(g, "crawlers");
	if (!jobs || !crawlers) {
		cJSON_Delete(g);
		return NULL;
	}
	while (p && *p) {
		const char *end;
		char *name;

		p += strspn(p, SEP);
		if (!*p)
			break;
		end = p + strcspn(p, SEP);
		if (end - p > 2 && (name = strndup(p + 2, (size_t)(end - p - 2)))) {
			cJSON_AddItemToArray(p[0] == 'j' ? jobs : crawlers, cJSON_CreateString(name));
			free(name);
		}
		p = end;
	}
	return g;
}

int
evindex_save(const struct evindex *x, const char *dir)
{
	cJSON *root = cJSON_CreateObject(), *ows;
	const struct owner *o;
	char *text = NULL;
	size_t i;
	int r = -ENOMEM;

	if (!root || !cJSON_AddNumberToObject(root, "version", 1) ||
	    !(ows = cJSON_AddObjectToObject(root, "workflows")))
		goto out;
	for (o = x->owners; o; o = o->next) {
		cJSON *oj = cJSON_AddObjectToObject(ows, o->name), *gs;

		if (!oj || (o->region && !cJSON_AddStringToObject(oj, "region", o->region)) ||
		    !(gs = cJSON_AddObjectToObject(oj, "graphs")))
			goto out;
		for (i = 0; i < o->graphs.cap; i++) {
			const struct strmap_entry *e = &o->graphs.v[i];
			cJSON *g;

			if (!e->key)
				continue;
			if (!(g = graph_json(e->value ? e->value : "")))
				goto out;
			cJSON_AddItemToObject(gs, e->key, g);
		}
	}
	if ((text = cJSON_PrintUnformatted(root)))
		r = state_write(dir, EVINDEX_FILE, text, strlen(text));
out:
	free(text);
	cJSON_Delete(root);
	return r;
}

int
evindex_load(struct evindex *x, const char *dir)
{
	char *text;
	const cJSON *ows, *oj, *g;
	const char *jobs[256], *crawlers[256];
	cJSON *root;
	int r = 0;

	if (!(text = state_read(dir, EVINDEX_FILE)))
		return errno == ENOENT ? 0 : -errno;
	root = cJSON_Parse(text);
	free(text);
	ows = cJSON_GetObjectItemCaseSensitive(root, "workflows");
	if (!cJSON_IsObject(ows)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	cJSON_ArrayForEach(oj, ows) {
		const cJSON *region = cJSON_GetObjectItemCaseSensitive(oj, "region");

		if (!oj->string || evindex_begin(x, oj->string, cJSON_IsString(region) ?
		                                 region->valuestring : NULL, 0) < 0) {
			r = -ENOMEM;
			break;
		}
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(oj, "graphs"))
			if (g->string && evindex_set(x, g->string, jobs,
			    json_strings(cJSON_GetObjectItemCaseSensitive(g, "jobs"), jobs, 256), crawlers,
			    json_strings(cJSON_GetObjectItemCaseSensitive(g, "crawlers"), crawlers,
			               256)) < 0)
				r = -ENOMEM;
		(void)evindex_end(x);
	}
	cJSON_Delete(root);
	return r;
}
