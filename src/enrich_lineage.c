/* enrich — lineage of a written pipeline; see include/enrich.h.
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
#include "lineage.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "run.h"
#include "util.h"
#include "wf.h"

#define JOBS_BATCH 25
#define MAX_JOBS 1000                   /* per workflow */

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
	int phase;                      /* 0 reading and resolving, 1 writing */
	int failed;                     /* a write failed: not remembered */
	int read_failed;                /* a read failed: the edges are only part of them */
	struct strmap edges;            /* "from\x1ffrom type\x1fto\x1fto type" */
	char key[96], fp[33];           /* in the memo */
	/* overrideLineage: the pipeline's stored edges read back (see
	 * read_stored()) */
	struct strmap stored;           /* edge keys this connector wrote before */
	struct strmap from_nodes;       /* entity ids whose edges were asked for */
	unsigned reads;                 /* lineage reads not answered */
	int read_err;                   /* one failed: nothing is removed */
	char read_why[300];
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

static void write_edges(struct linop *op);

/* The last job resolved: write the edges (unless the run before wrote
 * the same); the last write done: the pipeline's lineage is finished. */
static void
linop_settle(struct linop *op)
{
	size_t i;

	if (--op->pending)
		return;
	if (op->phase == 0) {
		op->phase = 1;
		op->pending = 1;        /* held while we submit */
		write_edges(op);
		linop_settle(op);
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
	struct linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok) {
		e->x.sink->records++;
	} else if (!res->cancelled) {
		op->failed = 1;
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

/* An edge of the pipeline, written once all are known. */
static void
add_edge(struct linop *op, const char *from, const char *from_type, const char *to,
         const char *to_type)
{
	struct buf b = {0};

	if (buf_printf(&b, "%s\x1f%s\x1f%s\x1f%s", from, from_type, to, to_type) == 0)
		strmap_put(&op->edges, b.data, NULL);
	buf_clear(&b);
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
			add_edge(op, j->ids[a], j->types[a], j->ids[b], j->types[b]);
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
		strmap_put(&e->found, r->key, id);
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

		e->x.source->errors++;
		r->j->op->read_failed = 1;
		log_warning(e->x.lg, "'%s': job '%s': looking up %s failed, no lineage through it "
		            "this run: %s", r->j->op->workflow, r->j->name,
		            ref->kind == LINEAGE_S3 ? ref->path : ref->table, res->message);
		refop_end(r, NULL, NULL, 0);
		return;
	}
	id = !res->ok ? NULL : cJSON_GetObjectItemCaseSensitive(res->json, "hits")
	                       ? enrich__first_hit_id(res->json) : enrich__jstr(res->json, "id");
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

	*hold = q && wild ? enrich__wild_escape(q) : q;
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
			char *lit = enrich__wild_escape(r->path);

			path = lit ? str_urlencode_printf("/v1/search/fieldQuery?fieldName=fullPath&fieldValue=%s"
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
			path = str_urlencode_printf("/v1/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=%s"
			                "&from=0&size=1&index=table_search_index&deleted=false", q.data);
		else if (q.data)
			path = str_urlencode_printf("/v1/tables/name/%s", q.data);
		buf_clear(&q);
	}
	if (!path) {
		r->j->op->read_failed = 1;      /* not looked up: not known absent */
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
	j->pending++;
	if ((kv = strmap_get(&e->found, r->key))) {
		const char *type = ref->kind == LINEAGE_S3 ? "container" : "table";

		refop_end(r, kv->value, type, 0);
		return;
	}
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
on_connection(const struct aws_result *res, void *arg)
{
	struct connop *c = arg;
	struct jobl *j = c->j;
	struct enrich *e = j->op->e;
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(res->json, "Connection");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(conn, "ConnectionProperties");
	const char *url = enrich__jstr(props, "JDBC_CONNECTION_URL");
	char *db = url ? lineage_jdbc_database(url) : NULL;

	if (!res->cancelled) {
		if (!res->ok && !str_eq(res->code, "EntityNotFoundException")) {
			e->x.source->errors++;          /* not read, unlike not there */
			j->op->read_failed = 1;
		} else if (!db) {
			e->x.source->warnings++;
		}
		if (!res->ok || !db) {
			log_warning(e->x.lg, "'%s': job '%s': Glue connection '%s' names no database%s%s",
			            j->op->workflow, j->name, c->name, res->ok ? "" : ": ",
			            res->ok ? "" : (res->code ? res->code : "error"));
		}
		/* only what was read is remembered: a failed read is asked again */
		if (res->ok || str_eq(res->code, "EntityNotFoundException"))
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
	j->pending = 1;                 /* held while we submit */
	for (i = 0; i < j->refs.n && !e->cancelled; i++) {
		struct lineage_ref *ref = &j->refs.v[i];
		struct strmap_entry *kv;
		struct connop *c;
		cJSON *in = NULL;
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
		if (!(c = calloc(1, sizeof(*c))) || !(c->name = strdup(ref->connection)) ||
		    !(in = cJSON_CreateObject()) || !cJSON_AddStringToObject(in, "Name", c->name) ||
		    !cJSON_AddBoolToObject(in, "HidePassword", 1)) {
			cJSON_Delete(in);
			if (c)
				free(c->name);
			free(c);
			j->op->read_failed = 1;
			continue;
		}
		c->j = j;
		j->pending++;
		if (enrich__wait(e, 'c', c->name, conn_resume, c)) {
			cJSON_Delete(in);       /* another job is asking */
			continue;
		}
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
		/* a script that is not there is known; one that could not be read is not */
		if (str_eq(res->code, "NoSuchKey") || str_eq(res->code, "NoSuchBucket")) {
			e->x.source->warnings++;
		} else {
			e->x.source->errors++;
			j->op->read_failed = 1;
		}
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
			e->x.source->errors++;
			op->read_failed = 1;
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
			op->read_failed = 1;    /* the other jobs are not read */
			return;
		}
		op->pending++;
		aws_call(op->e->x.glue, "BatchGetJobs", in, on_jobs, op);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The edge keys in order, for the fingerprint and the writes. */
static char **
sorted_edges(const struct linop *op)
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

static void
put_all(struct linop *op)
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

/* ---- overrideLineage ----
 *
 * OpenMetadata's own "remove a pipeline's lineage of one source",
 * DELETE /v1/lineage/pipeline/{id}/type/PipelineLineage, cannot be used:
 * its SQL (EntityRelationshipDAO.deleteLineageBySourcePipeline in the
 * server's CollectionDAO.java) reads "json->'pipeline'->>'id' = :id OR
 * toId = :id AND relation = :relation AND json->>'source' = :source", and
 * AND binds tighter than OR: it removes every edge whose lineageDetails
 * name the pipeline, whatever its source, a person's Manual edge
 * included.  Instead the pipeline's stored edges are read back from the
 * lineage API, which answers from the database: GET /v1/lineage/pipeline/
 * {id} gives the rows that name the pipeline, each as "from-node ->
 * pipeline" only (LineageRepository.getUpstreamLineage, findFromPipeline),
 * so each from-node's own edges are read next (GET /v1/lineage/{type}/{id},
 * downstream), and the edges of source PipelineLineage that name this
 * pipeline and that this run does not write again are deleted one by one
 * (DELETE /v1/lineage/{fromType}/{fromId}/{toType}/{toId}).  When a read
 * fails, nothing is deleted: the run adds its edges, warns and ends
 * partialSuccess, and the next run tries again. */

struct lread {
	struct linop *op;
	char *id, *type;                /* the from-node read; NULL: the pipeline */
};

static void read_done(struct linop *op);

/* id -> type of the nodes of a lineage answer; 0 or -ENOMEM. */
static int
node_types(const cJSON *lineage, struct strmap *types)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(lineage, "nodes")) {
		const char *id = enrich__jstr(n, "id"), *type = enrich__jstr(n, "type");

		if (id && type && strmap_put(types, id, type) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* 1 when an edge of a lineage answer is one this connector writes for the
 * pipeline. */
static int
ours(const struct linop *op, const cJSON *edge)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(edge, "lineageDetails");

	return str_eq(enrich__jstr(cJSON_GetObjectItemCaseSensitive(d, "pipeline"), "id"), op->pid) &&
	       str_eq(enrich__jstr(d, "source"), "PipelineLineage");
}

static void
read_fail(struct linop *op, const char *why)
{
	if (!op->read_err)
		snprintf(op->read_why, sizeof(op->read_why), "%s", why);
	op->read_err = 1;
}

static void read_lineage(struct linop *op, const char *id, const char *type);

/* "/v1/lineage/" and the n parts, each percent-encoded, joined by '/',
 * then query; malloc'd. */
static char *
lineage_path(const char *const *part, size_t n, const char *query)
{
	struct buf b = {0};
	size_t i;

	if (buf_puts(&b, "/v1/lineage") < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		char *enc = str_urlencode(part[i]);

		if (!enc || buf_puts(&b, "/") < 0 || buf_puts(&b, enc) < 0) {
			free(enc);
			buf_clear(&b);
			return NULL;
		}
		free(enc);
	}
	if (query && buf_puts(&b, query) < 0) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static void
on_lineage_read(const struct om_result *res, void *arg)
{
	struct lread *lr = arg;
	struct linop *op = lr->op;
	struct strmap types = {0};
	const cJSON *edges, *edge;

	if (!res->ok) {
		read_fail(op, res->cancelled ? "cancelled" : res->message);
		goto out;
	}
	edges = cJSON_GetObjectItemCaseSensitive(res->json, lr->id ? "downstreamEdges"
	                                                            : "upstreamEdges");
	if (edges && !cJSON_IsArray(edges)) {
		read_fail(op, "a malformed lineage reply");
		goto out;
	}
	if (node_types(res->json, &types) < 0) {
		read_fail(op, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(edge, edges) {
		const char *from = enrich__jstr(edge, "fromEntity"), *to = enrich__jstr(edge, "toEntity");
		const struct strmap_entry *t;
		const char *type;
		struct buf b = {0};

		if (!from || !to || !ours(op, edge) || (lr->id && !str_eq(from, lr->id)))
			continue;
		if (!(t = strmap_get(&types, lr->id ? to : from)) || !(type = t->value)) {
			read_fail(op, "a lineage reply without the type of a node");
			break;
		}
		if (!lr->id) {                  /* the pipeline: one of its edges starts at from */
			if (!strmap_get(&op->from_nodes, from) && strmap_put(&op->from_nodes, from, "") == 0)
				read_lineage(op, from, type);
		} else if (buf_printf(&b, "%s\x1f%s\x1f%s\x1f%s", lr->id, lr->type, to, type) < 0 ||
		           strmap_put(&op->stored, b.data, NULL) < 0) {
			read_fail(op, "out of memory");
		}
		buf_clear(&b);
	}
out:
	strmap_clear(&types);
	free(lr->id);
	free(lr->type);
	free(lr);
	if (--op->reads == 0)
		read_done(op);
}

/* The lineage of the pipeline (id NULL: the rows that name it), or the
 * edges out of one entity. */
static void
read_lineage(struct linop *op, const char *id, const char *type)
{
	struct lread *lr = calloc(1, sizeof(*lr));
	const char *node[2] = { type, id }, *pipe[2] = { "pipeline", op->pid };
	char *path = id ? lineage_path(node, 2, "?upstreamDepth=0&downstreamDepth=1")
	                : lineage_path(pipe, 2, "?upstreamDepth=1&downstreamDepth=0");

	if (!lr || !path || (id && (!(lr->id = strdup(id)) || !(lr->type = strdup(type))))) {
		read_fail(op, "out of memory");
		if (lr) {
			free(lr->id);
			free(lr->type);
		}
		free(lr);
		free(path);
		return;
	}
	lr->op = op;
	op->reads++;
	om_call(op->e->x.om, "GET", path, NULL, on_lineage_read, lr);
	free(path);
}

static void
on_stale_deleted(const struct om_result *res, void *arg)
{
	struct linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok || res->status == 404) {        /* 404: gone already */
		e->x.sink->records++;
	} else if (!res->cancelled) {
		op->failed = 1;
		e->x.sink->errors++;
		log_err(e->x.lg, "'%s': removing a lineage edge it no longer has (overrideLineage) "
		        "failed: %s", op->workflow, res->message);
	}
	linop_settle(op);
}

/* Every read answered: remove the stored edges this run does not write
 * (none when a read failed), write this run's. */
static void
read_done(struct linop *op)
{
	struct enrich *e = op->e;
	size_t i, n = 0;

	if (e->cancelled) {
		linop_settle(op);       /* the hold of write_edges() */
		return;
	}
	if (op->read_err) {
		op->failed = 1;         /* not remembered: the next run tries again */
		e->x.source->errors++;
		log_warning(e->x.lg, "'%s': reading its lineage in OpenMetadata failed, no earlier edge "
		            "is removed this run (overrideLineage): %s", op->workflow, op->read_why);
	}
	for (i = 0; !op->read_err && i < op->stored.cap; i++) {
		const char *key = op->stored.v[i].key;
		char *f[4], *copy, *p;
		int k;

		if (!key || strmap_get(&op->edges, key) || !(copy = strdup(key)))
			continue;
		for (p = copy, k = 0; p && k < 4; k++) {
			f[k] = p;
			if ((p = strchr(p, '\x1f')))
				*p++ = '\0';
		}
		if (k == 4) {
			const char *part[4] = { f[1], f[0], f[3], f[2] };

			p = lineage_path(part, 4, NULL);
		} else {
			p = NULL;
		}
		if (p) {
			op->pending++;
			n++;
			om_call(e->x.om, "DELETE", p, NULL, on_stale_deleted, op);
		} else {
			op->failed = 1;
		}
		free(p);
		free(copy);
	}
	if (n)
		log_info(e->x.lg, "'%s': removing %zu lineage %s it no longer has (overrideLineage)",
		         op->workflow, n, PLURAL(n, "edge", "edges"));
	put_all(op);
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
	op->pending = 1;                /* held while we submit */
	snprintf(op->key, sizeof(op->key), "l\x1f%s", pipeline_id);
	read_jobs(op);
	linop_settle(op);
}

/* All edges are known: nothing to do when the run before wrote these very
 * edges; else, with overrideLineage, the pipeline's earlier edges go
 * first; then every edge. */
static void
write_edges(struct linop *op)
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
		put_all(op);
	} else if (e->x.wf->override_lineage) {
		/* the edges it wrote before, read back; read_done() goes on */
		op->pending++;
		op->reads = 1;          /* held while the first read is made */
		read_lineage(op, NULL, NULL);
		if (--op->reads == 0)
			read_done(op);
	} else {
		put_all(op);
	}
}
