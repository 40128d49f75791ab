/* enrich — overrideLineage: the earlier edges of a pipeline that this run
 * does not write again are removed before its edges are written.
 *
 * OpenMetadata's own "remove a pipeline's lineage of one source" (DELETE
 * lineage/pipeline/{id}/type/PipelineLineage) cannot be used: its SQL
 * (EntityRelationshipDAO.deleteLineageBySourcePipeline in the server's
 * CollectionDAO.java) reads "json->'pipeline'->>'id' = :id OR toId = :id
 * AND relation = :relation AND json->>'source' = :source", and AND binds
 * tighter than OR: it removes every edge whose lineageDetails name the
 * pipeline, whatever its source, a person's Manual edge included.  Instead
 * the pipeline's stored edges are read back from the lineage API, which
 * answers from the database: the pipeline's lineage (om_get_lineage(),
 * upstream) gives the rows that name the pipeline, each as "from-node ->
 * pipeline" only (LineageRepository.getUpstreamLineage, findFromPipeline),
 * so each from-node's own edges are read next (downstream), and the edges
 * of source PipelineLineage that name this pipeline and that this run does
 * not write again are deleted one by one (om_delete_lineage()).  When a
 * read fails, nothing is deleted: the run adds its edges, warns and ends
 * partialSuccess, and the next run tries again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"
#include "enrich_int.h"
#include "log.h"
#include "om.h"
#include "util.h"

struct lread {
	struct enrich__linop *op;
	char *id, *type;                /* the from-node read; NULL: the pipeline */
};

static void read_done(struct enrich__linop *op);
static void read_lineage(struct enrich__linop *op, const char *id, const char *type);

/* 1 when an edge of a lineage answer is one this connector writes for the
 * pipeline. */
static int
ours(const struct enrich__linop *op, const struct om_lineage_edge *edge)
{
	return str_eq(edge->pipeline_id, op->pid) && str_eq(edge->source, "PipelineLineage");
}

static void
read_fail(struct enrich__linop *op, const char *why)
{
	if (!op->read_err)
		snprintf(op->read_why, sizeof(op->read_why), "%s", why);
	op->read_err = 1;
}

static void
on_lineage_read(const struct om_lineage *res, void *arg)
{
	struct lread *lr = arg;
	struct enrich__linop *op = lr->op;
	size_t i;

	if (!res->known) {
		read_fail(op, res->message ? res->message : "error");
		goto out;
	}
	for (i = 0; i < res->n; i++) {
		const struct om_lineage_edge *edge = &res->v[i];
		const char *from = edge->from.id, *to = edge->to.id;
		const char *type = lr->id ? edge->to.type : edge->from.type;
		struct buf b = {0};

		if (!ours(op, edge) || (lr->id && !str_eq(from, lr->id)))
			continue;
		if (!type) {
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
	free(lr->id);
	free(lr->type);
	free(lr);
	if (join_done(&op->reads))
		read_done(op);
}

/* The lineage of the pipeline (id NULL: the rows that name it), or the
 * edges out of one entity. */
static void
read_lineage(struct enrich__linop *op, const char *id, const char *type)
{
	struct lread *lr = calloc(1, sizeof(*lr));
	struct om_node node = { id, type }, pipe = { op->pid, "pipeline" };

	if (!lr || (id && (!(lr->id = strdup(id)) || !(lr->type = strdup(type))))) {
		read_fail(op, "out of memory");
		if (lr) {
			free(lr->id);
			free(lr->type);
		}
		free(lr);
		return;
	}
	lr->op = op;
	join_add(&op->reads, 1);
	om_get_lineage(op->e->x.om, id ? node : pipe, id != NULL, on_lineage_read, lr);
}

static void
on_stale_deleted(const struct om_result *res, void *arg)
{
	struct enrich__linop *op = arg;
	struct enrich *e = op->e;

	if (res->ok || res->status == 404) {        /* 404: gone already */
		e->sink.records++;
	} else if (!res->cancelled) {
		op->failed = 1;
		e->sink.errors++;
		log_err(e->x.lg, "'%s': removing a lineage edge it no longer has (overrideLineage) "
		        "failed: %s", op->workflow, res->message);
	}
	enrich__linop_settle(op);
}

/* Every read answered: remove the stored edges this run does not write
 * (none when a read failed), write this run's. */
static void
read_done(struct enrich__linop *op)
{
	struct enrich *e = op->e;
	size_t i, n = 0;

	if (e->cancelled) {
		enrich__linop_settle(op);       /* the hold of enrich__override() */
		return;
	}
	if (op->read_err) {
		op->failed = 1;         /* not remembered: the next run tries again */
		e->source.errors++;
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
			struct om_node from = { f[0], f[1] }, to = { f[2], f[3] };

			join_add(&op->join, 1);
			n++;
			om_delete_lineage(e->x.om, from, to, on_stale_deleted, op);
		} else {
			op->failed = 1;
		}
		free(copy);
	}
	if (n)
		log_info(e->x.lg, "'%s': removing %zu lineage %s it no longer has (overrideLineage)",
		         op->workflow, n, PLURAL(n, "edge", "edges"));
	enrich__put_all(op);
	enrich__linop_settle(op);
}

void
enrich__override(struct enrich__linop *op)
{
	join_add(&op->join, 1);         /* released by read_done() */
	join_add(&op->reads, 1);        /* held while the first read is made */
	read_lineage(op, NULL, NULL);
	if (join_done(&op->reads))
		read_done(op);
}
