/* enrich — lineage of a written pipeline (enrich_lineage() in
 * include/enrich.h); overrideLineage's removal of earlier edges is in
 * enrich_override.c.
 *
 * Per pipeline: its jobs (BatchGetJobs), per job its refs (Visual-ETL
 * nodes, or its script from S3), the databases of JDBC refs from their
 * Glue connections, each ref resolved in OpenMetadata, then one edge per
 * source x target.  A job holds a count of what it has in flight per
 * phase; the pipeline a count of its jobs and edges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "enrich.h"
#include "enrich_int.h"
#include "entity.h"
#include "glue.h"
#include "lineage.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "util.h"
#include "wf.h"

#define MAX_JOBS 1000                   /* per workflow */

struct jobl {
	struct enrich__linop *op;
	char *name;
	struct lineage_refs refs;
	char **ids;                     /* per ref: resolved entity id, or NULL */
	const char **types;
	struct join join;
	int phase;                      /* 0 Glue connections, 1 resolution */
};

struct refop {                          /* one ref being resolved */
	struct jobl *j;
	size_t i;                       /* index in j->refs */
	size_t svc;                     /* dbServiceNames index */
	int alt;                        /* S3: the other trailing-slash form tried */
	char *key;                      /* resolution cache key */
	char *path;                     /* S3: normalised path */
	int asking;                     /* it looks key up (others may wait for it) */
	enum {                          /* a table in one of several services */
		ANY_NOT_YET,            /* one search across them comes first */
		ANY_ASKED,
		ANY_DONE,               /* then, if it was not enough, one by one */
	} any;
};

static void write_edges(struct enrich__linop *op);

/* The last job resolved: write the edges (unless the run before wrote
 * the same); the last write done: the pipeline's lineage is finished. */
void
enrich__linop_settle(struct enrich__linop *op)
{
	size_t i;

	if (!join_done(&op->join))
		return;
	if (op->phase == 0) {
		op->phase = 1;
		join_add(&op->join, 1); /* held while we submit */
		write_edges(op);
		enrich__linop_settle(op);
		return;
	}
	if (!op->failed && !op->read_failed && !op->e->cancelled)
		memo_put(op->e->x.next, op->key, op->fp);
	op->cb(op->arg);
	for (i = 0; i < op->n_jobs; i++)
		free(op->jobs[i]);
	free(op->jobs);
	free(op->workflow);
	free(op->pid);
	strmap_clear(&op->edges);
	strmap_clear(&op->stored);
	strmap_clear(&op->from_nodes);
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
	struct enrich__linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok) {
		e->sink.records++;
	} else if (!res->cancelled) {
		op->failed = 1;
		e->sink.errors++;
		log_err(e->x.lg, "'%s': writing a lineage edge failed: %s", op->workflow, res->message);
	}
	enrich__linop_settle(op);
}

/* An edge of the pipeline, written once all are known. */
static void
add_edge(struct enrich__linop *op, const char *from, const char *from_type, const char *to,
         const char *to_type)
{
	struct buf b = {0};

	if (buf_printf(&b, "%s\x1f%s\x1f%s\x1f%s", from, from_type, to, to_type) == 0)
		strmap_put(&op->edges, b.data, NULL);
	buf_clear(&b);
}

static void
put_edge(struct enrich__linop *op, const char *from, const char *from_type, const char *to,
         const char *to_type)
{
	struct om_node f = { from, from_type }, t = { to, to_type };

	join_add(&op->join, 1);
	om_put_lineage(op->e->x.om, f, t, op->pid, "PipelineLineage", on_edge, op);
}

static void start_resolve(struct jobl *j, size_t i);

/* A job's phase ended: after its connections, resolve its refs; after
 * that, every source to every target. */
static void
jobl_settle(struct jobl *j)
{
	struct enrich__linop *op = j->op;
	size_t a, b, c;

	if (!join_done(&j->join))
		return;
	if (j->phase == 0) {
		j->phase = 1;
		if ((j->ids = calloc(j->refs.n + 1, sizeof(*j->ids))) &&
		    (j->types = calloc(j->refs.n + 1, sizeof(*j->types)))) {
			join_add(&j->join, 1);  /* held while we submit */
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
			add_edge(op, j->ids[a], j->types[a], j->ids[b], j->types[b]);
		}
	}
	jobl_free(j);
	enrich__linop_settle(op);
}

static void
refop_end(struct refop *r, const char *id, const char *type, int cache)
{
	struct jobl *j = r->j;
	struct enrich *e = j->op->e;
	const struct lineage_ref *ref = &j->refs.v[r->i];

	if (cache && r->key)
		strmap_put(&e->found, r->key, id);
	if (r->asking)                  /* after the cache: the waiters read it */
		enrich__done(e, 'r', r->key);
	if (id) {
		j->ids[r->i] = strdup(id);
		j->types[r->i] = type;
	} else if (cache) {
		e->source.warnings++;
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

static const char *
ref_type(const struct lineage_ref *ref)
{
	return ref->kind == LINEAGE_S3 ? "container" : "table";
}

/* Of a search's hits across services, the id of the table that is not
 * deleted and is in the service that comes first in dbServiceNames;
 * NULL when none is in any of them. */
static const char *
first_by_service(struct enrich *e, const cJSON *hits)
{
	const struct wf_strlist *svcs = &e->x.wf->db_service_names;
	const char *best = NULL;
	size_t best_i = svcs->n, i;
	const cJSON *h;

	cJSON_ArrayForEach(h, hits) {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(h, "_source");
		const char *fqn = enrich__jstr(src, "fullyQualifiedName"), *id = enrich__jstr(src, "id");

		if (!fqn || !id || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "deleted")))
			continue;
		for (i = 0; i < best_i; i++) {
			char *q = entity_quote_name(svcs->v[i]);
			size_t n = q ? strlen(q) : 0;
			int in = q && strncmp(fqn, q, n) == 0 && fqn[n] == '.';

			free(q);
			if (in) {
				best = id;
				best_i = i;
				break;
			}
		}
	}
	return best;
}

static void
on_lookup(const struct om_lookup *res, void *arg)
{
	struct refop *r = arg;
	const struct lineage_ref *ref = &r->j->refs.v[r->i];
	const char *id = res->state == OM_LOOKUP_FOUND ? res->id : NULL;

	if (res->cancelled) {
		refop_end(r, NULL, NULL, 0);
		return;
	}
	if (res->state == OM_LOOKUP_FAILED) {
		struct enrich *e = r->j->op->e;

		e->source.errors++;
		r->j->op->read_failed = 1;
		log_warning(e->x.lg, "'%s': job '%s': looking up %s failed, no lineage through it "
		            "this run: %s", r->j->op->workflow, r->j->name,
		            ref->kind == LINEAGE_S3 ? ref->path : ref->table, res->message);
		refop_end(r, NULL, NULL, 0);
		return;
	}
	if (r->any == ANY_ASKED) {
		r->any = ANY_DONE;
		if ((id = first_by_service(r->j->op->e, res->hits))) {
			refop_end(r, id, "table", 1);
			return;
		}
		if (res->hits_complete) {
			refop_end(r, NULL, NULL, 1);
			return;
		}
		resolve_step(r);        /* more hits than came: service by service */
		return;
	}
	if (id) {
		refop_end(r, id, ref_type(ref), 1);
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

	*hold = q && wild ? om_wild_escape(q) : q;
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
			om_search_container_by_path(e->x.om, r->path, on_lookup, r);
			return;
		}
	} else {
		const char *svc = svcs->n ? (r->svc < svcs->n ? svcs->v[r->svc] : NULL)
		                          : (r->svc == 0 ? "*" : NULL);

		if (svcs->n > 1 && r->any == ANY_NOT_YET) {
			svc = "*";      /* one search for all the services */
			r->any = ANY_ASKED;
		}
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
		if (q.data) {
			if (wild)
				om_search_tables(e->x.om, q.data, on_lookup, r);
			else
				om_get_by_name(e->x.om, OM_TABLE, q.data, on_lookup, r);
			buf_clear(&q);
			return;
		}
	}
	r->j->op->read_failed = 1;      /* not looked up: not known absent */
	refop_end(r, NULL, NULL, 0);
}

/* Another job's lookup of the same ref answered: its answer is in the
 * cache, or the lookup failed (or was cancelled). */
static void
ref_resume(void *arg)
{
	struct refop *r = arg;
	struct enrich *e = r->j->op->e;
	struct strmap_entry *kv = strmap_get(&e->found, r->key);

	if (!kv && !e->cancelled)
		r->j->op->read_failed = 1;      /* not looked up: not known absent */
	refop_end(r, kv ? kv->value : NULL, ref_type(&r->j->refs.v[r->i]), 0);
}

static void
start_resolve(struct jobl *j, size_t i)
{
	struct enrich *e = j->op->e;
	struct lineage_ref *ref = &j->refs.v[i];
	struct refop *r = calloc(1, sizeof(*r));
	struct buf k = {0};
	struct strmap_entry *kv;

	if (!r) {
		j->op->read_failed = 1;
		return;
	}
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
	join_add(&j->join, 1);
	if ((kv = strmap_get(&e->found, r->key))) {
		refop_end(r, kv->value, ref_type(ref), 0);
		return;
	}
	if (enrich__wait(e, 'r', r->key, ref_resume, r))
		return;                 /* another job is looking it up */
	r->asking = 1;
	resolve_step(r);
}

struct connop {
	struct jobl *j;
	char *name;
};

/* The job's refs through connection c->name get its database db (when
 * known); c is freed. */
static void
conn_apply(struct connop *c, const char *db)
{
	struct jobl *j = c->j;
	size_t i;

	for (i = 0; i < j->refs.n; i++)
		if (j->refs.v[i].kind == LINEAGE_TABLE && !j->refs.v[i].database &&
		    str_eq(j->refs.v[i].connection, c->name) && db)
			j->refs.v[i].database = strdup(db);
	free(c->name);
	free(c);
	jobl_settle(j);
}

static void
on_connection(const struct glue_connection_result *res, void *arg)
{
	struct connop *c = arg;
	struct jobl *j = c->j;
	struct enrich *e = j->op->e;
	const int ok = res->state == GLUE_KNOWN && res->found;
	char *db = ok && res->jdbc_url ? lineage_jdbc_database(res->jdbc_url) : NULL;

	if (!res->cancelled) {
		if (res->state == GLUE_UNKNOWN) {
			e->source.errors++;          /* not read, unlike not there */
			j->op->read_failed = 1;
		} else if (!db) {
			e->source.warnings++;
		}
		if (!ok || !db) {
			log_warning(e->x.lg, "'%s': job '%s': Glue connection '%s' names no database%s%s",
			            j->op->workflow, j->name, c->name, ok ? "" : ": ",
			            ok ? "" : (res->code ? res->code : "error"));
		}
		/* only what was read is remembered: a failed read is asked again */
		if (res->state == GLUE_KNOWN)
			strmap_put(&e->conns, c->name, db);
	}
	enrich__done(e, 'c', c->name);
	conn_apply(c, db);
	free(db);
}

/* Another job's GetConnection for c->name answered (or was cancelled). */
static void
conn_resume(void *arg)
{
	struct connop *c = arg;
	struct strmap_entry *kv = strmap_get(&c->j->op->e->conns, c->name);

	if (!kv && !c->j->op->e->cancelled)
		c->j->op->read_failed = 1;      /* the read it waited for failed */
	conn_apply(c, kv ? kv->value : NULL);
}

/* Databases of JDBC refs from their Glue connections, then resolution
 * (jobl_settle() moves on when the last connection answered). */
static void
with_refs(struct jobl *j)
{
	struct enrich *e = j->op->e;
	size_t i;

	j->phase = 0;
	join_add(&j->join, 1);          /* held while we submit */
	for (i = 0; i < j->refs.n && !e->cancelled; i++) {
		struct lineage_ref *ref = &j->refs.v[i];
		struct strmap_entry *kv;
		struct connop *c;
		size_t k;

		if (ref->kind != LINEAGE_TABLE || ref->database || !ref->connection)
			continue;
		if ((kv = strmap_get(&e->conns, ref->connection))) {
			if (kv->value)
				ref->database = strdup(kv->value);
			continue;
		}
		for (k = 0; k < i; k++)         /* asked already for this job */
			if (j->refs.v[k].kind == LINEAGE_TABLE && !j->refs.v[k].database &&
			    str_eq(j->refs.v[k].connection, ref->connection))
				break;
		if (k < i)
			continue;
		if (!(c = calloc(1, sizeof(*c))) || !(c->name = strdup(ref->connection))) {
			if (c)
				free(c->name);
			free(c);
			j->op->read_failed = 1;
			continue;
		}
		c->j = j;
		join_add(&j->join, 1);
		if (enrich__wait(e, 'c', c->name, conn_resume, c))
			continue;       /* another job is asking */
		glue_get_connection(e->x.glue, c->name, on_connection, c);
	}
	jobl_settle(j);
}

static struct jobl *
jobl_new(struct enrich__linop *op, const char *name)
{
	struct jobl *j = calloc(1, sizeof(*j));

	if (!j || !(j->name = strdup(name))) {
		free(j);
		return NULL;
	}
	j->op = op;
	join_add(&op->join, 1);
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
		/* a script that is not there is known; one that could not be read is not */
		if (str_eq(res->code, "NoSuchKey") || str_eq(res->code, "NoSuchBucket")) {
			e->source.warnings++;
		} else {
			e->source.errors++;
			j->op->read_failed = 1;
		}
		log_warning(e->x.lg, "'%s': job '%s': cannot read its script from S3: %s%s%s",
		            j->op->workflow, j->name, res->code ? res->code : "error",
		            res->message ? ": " : "", res->message ? res->message : "");
	}
	with_refs(j);
}

static void
job_lineage(struct enrich__linop *op, const cJSON *job)
{
	struct enrich *e = op->e;
	const char *name = enrich__jstr(job, "Name");
	struct gm_err err = {{0}};
	struct jobl *j;
	char *bucket = NULL, *key = NULL;
	int r;

	if (!name || !(j = jobl_new(op, name))) {
		op->read_failed = 1;
		return;
	}
	r = lineage_from_job(job, &j->refs, &err);
	if (r < 0) {
		e->source.warnings++;
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
on_jobs(const struct glue_jobs_result *res, void *arg)
{
	struct enrich__linop *op = arg;
	struct enrich *e = op->e;
	size_t i;

	if (res->state == GLUE_UNKNOWN) {
		if (!res->cancelled) {
			op->read_failed = 1;
			enrich__glue_failed(e, op->workflow, "BatchGetJobs failed, no lineage from these jobs",
			                    res->code, res->message);
		}
	} else {
		for (i = 0; i < res->n_jobs; i++)
			if (!e->cancelled)
				job_lineage(op, res->jobs[i]);
		for (i = 0; i < res->n_missing; i++) {
			e->source.warnings++;
			log_warning(e->x.lg, "'%s': job '%s' of the workflow graph does not exist; no "
			            "lineage from it", op->workflow, res->missing[i]);
		}
	}
	enrich__linop_settle(op);
}

static void
read_jobs(struct enrich__linop *op)
{
	size_t i, n;

	for (i = 0; i < op->n_jobs && !op->e->cancelled; i += n) {
		n = op->n_jobs - i < GLUE_JOBS_BATCH ? op->n_jobs - i : GLUE_JOBS_BATCH;
		join_add(&op->join, 1);
		glue_batch_get_jobs(op->e->x.glue, (const char *const *)op->jobs + i, n, on_jobs, op);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The edge keys in order, for the fingerprint and the writes. */
static char **
sorted_edges(const struct enrich__linop *op)
{
	char **v = calloc(op->edges.n + 1, sizeof(*v));
	size_t i, n = 0;

	for (i = 0; v && i < op->edges.cap; i++)
		if (op->edges.v[i].key)
			v[n++] = op->edges.v[i].key;
	if (v && n)
		qsort(v, n, sizeof(*v), cmp_str);
	return v;
}

void
enrich__put_all(struct enrich__linop *op)
{
	char **v = sorted_edges(op);
	size_t i;

	for (i = 0; v && v[i] && !op->e->cancelled; i++) {
		char *f[4], *copy = strdup(v[i]), *p = copy;
		int k;

		for (k = 0; p && k < 4; k++) {
			f[k] = p;
			p = strchr(p, '\x1f');
			if (p)
				*p++ = '\0';
		}
		if (copy && k == 4)
			put_edge(op, f[0], f[1], f[2], f[3]);
		free(copy);
	}
	if (!v)
		op->failed = 1;
	free(v);
}

void
enrich_lineage(struct enrich *e, const char *workflow, const char *pipeline_id,
               const cJSON *jobs, enrich_done_cb cb, void *arg)
{
	struct enrich__linop *op = calloc(1, sizeof(*op));
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
	cJSON_ArrayForEach(j, jobs) {
		if (cJSON_IsString(j) && n < MAX_JOBS && (op->jobs[n] = strdup(j->valuestring)))
			n++;
		else if (cJSON_IsString(j))
			op->read_failed = 1;    /* a job left out: the edges are only part */
	}
	op->n_jobs = n;
	op->e = e;
	op->cb = cb;
	op->arg = arg;
	join_add(&op->join, 1);         /* held while we submit */
	snprintf(op->key, sizeof(op->key), "l\x1f%s", pipeline_id);
	read_jobs(op);
	enrich__linop_settle(op);
}

/* All edges are known: nothing to do when the run before wrote these very
 * edges; else, with overrideLineage, the pipeline's earlier edges go
 * first; then every edge. */
static void
write_edges(struct enrich__linop *op)
{
	struct enrich *e = op->e;
	char **v = sorted_edges(op);
	struct buf all = {0};
	size_t i;

	for (i = 0; v && v[i]; i++)
		if (buf_puts(&all, v[i]) < 0 || buf_puts(&all, "\n") < 0)
			break;
	memo_fp(all.data ? all.data : "", op->fp);
	buf_clear(&all);
	free(v);
	if (e->cancelled)
		return;
	if (e->x.next && memo_same(e->x.memo, op->key, op->fp)) {
		log_debug(e->x.lg, "'%s': lineage unchanged (%zu %s)", op->workflow, op->edges.n,
		          PLURAL(op->edges.n, "edge", "edges"));
		return;
	}
	if (e->x.wf->override_lineage && op->read_failed) {
		/* the edges are only part of what Glue has: add them, remove nothing */
		log_warning(e->x.lg, "'%s': its lineage could not be read completely; its earlier "
		            "edges stay this run (overrideLineage)", op->workflow);
		enrich__put_all(op);
	} else if (e->x.wf->override_lineage) {
		enrich__override(op);   /* the edges it wrote before go first */
	} else {
		enrich__put_all(op);
	}
}
