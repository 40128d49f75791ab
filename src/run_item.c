/* run_item — one workflow of a run: the pipeline written from it (or found
 * unchanged), its runs read from Glue page by page while OpenMetadata
 * keeps up (backpressure), then its statuses and usage.  See
 * include/run_int.h for how the run's files share the work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "enrich.h"
#include "entity.h"
#include "glue.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "run_int.h"
#include "util.h"
#include "wf.h"

#define RUNS_PAGE 100           /* GetWorkflowRuns MaxResults */
#define MAX_RUN_PAGES 100
/* OpenMetadata requests queued or in flight beyond which no workflow's
 * runs are read: Glue answers faster than OpenMetadata takes writes, and
 * the bodies waiting would grow with the estate. */
#define OM_BACKLOG_MAX 512
/* Workflows whose runs are being read or wait to be written, at most. */
#define RUNS_ACTIVE_MAX 32

void
run__item_fail(struct item *it)
{
	it->failed = 1;
}

/* The item's runs are handed to OpenMetadata (or will never be): another
 * workflow's may be read. */
static void
item_release(struct item *it)
{
	if (!it->active)
		return;
	it->active = 0;
	it->run->runs_active--;
	run__resume_runs(it->run);
}

/* Reading the runs ended (completely or not). */
static void
runs_read(struct item *it)
{
	if (it->runs == RUNS_READING)
		it->runs = RUNS_READ;
}

int
run__unchanged(struct item *it, char kind, const char *sub, const cJSON *body,
               struct memo_write *w)
{
	struct run *r = it->run;
	char *text = cJSON_PrintUnformatted(body);

	w->it = it;
	w->kind = kind;
	(void)memo_key(kind, it->id, sub, w->key, sizeof(w->key));
	memo_fp(text ? text : "", w->fp);
	free(text);
	if (!r->next || !memo_same(r->memo, w->key, w->fp))
		return 0;
	memo_put(r->next, w->key, w->fp);
	return 1;
}

struct memo_write *
run__memo_write_dup(const struct memo_write *w)
{
	struct memo_write *c = malloc(sizeof(*c));

	if (c)
		*c = *w;
	return c;
}

/* A write of the item to OpenMetadata failed (and was not cancelled): a
 * sink error (a warning when warn), the item failed, what logged. */
static void
item_write_failed(struct item *it, int warn, const char *what, const char *why)
{
	struct run *r = it->run;

	if (warn)
		r->st.sink.warnings++;
	else
		r->st.sink.errors++;
	run__item_fail(it);
	log_at(warn ? LOG_WARNING : LOG_ERR, &r->lg, "'%s': %s failed: %s", it->name, what, why);
}

/* The reply to a write of the item landed (run__om_landed()): 1 when the
 * write succeeded, else 0, and item_write_failed() unless cancelled. */
static int
item_write_landed(struct item *it, const struct om_reply *rep, int warn, const char *what)
{
	run__om_landed(it->run);
	if (rep->res->ok)
		return 1;
	if (!rep->res->cancelled)
		item_write_failed(it, warn, what, rep->res->message);
	return 0;
}

void
run__on_memo_write(const struct om_reply *rep, void *arg)
{
	struct memo_write *w = arg;
	struct item *it = w->it;
	struct run *r = it->run;
	int usage = w->kind == MEMO_USAGE;

	/* a status not written is an error, a day's usage a warning */
	if (item_write_landed(it, rep, usage, usage ? "publishing pipeline usage"
	                                            : "writing a pipeline status")) {
		r->st.sink.records++;
		if (usage)
			r->st.usage_written++;
		else
			r->st.statuses_written++;
		memo_put(r->next, w->key, w->fp);
	}
	free(w);
	run__settle(r);
}

static void
maybe_send_statuses(struct item *it)
{
	struct run *r = it->run;
	cJSON *s;

	if (it->runs != RUNS_READ || it->pipeline != PIPE_WRITTEN || run__stopping(r))
		return;
	it->runs = RUNS_SENT;
	item_release(it);
	run__send_usage(it);
	while ((s = cJSON_DetachItemFromArray(it->statuses, 0))) {
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(s, "timestamp");
		struct memo_write w, *c;
		char sub[32];

		snprintf(sub, sizeof(sub), "%.0f", cJSON_IsNumber(ts) ? ts->valuedouble : -1.0);
		if (run__unchanged(it, MEMO_STATUS, sub, s, &w)) {
			r->st.statuses_unchanged++;
			cJSON_Delete(s);
			continue;
		}
		if (!(c = run__memo_write_dup(&w))) {
			cJSON_Delete(s);
			r->st.sink.errors++;
			continue;
		}
		om_put_pipeline_status(run__om_sent(r)->om, it->fqn, s, run__on_memo_write, c);
	}
	log_debug(&r->lg, "'%s': %u %s read", it->name, it->n_runs, PLURAL(it->n_runs, "run", "runs"));
}

static void
on_patch(const struct om_reply *rep, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;

	if (item_write_landed(it, rep, 0, "updating the pipeline's tags, owner or description"))
		r->st.sink.updated++;
	run__settle(r);
}

static void
on_lineage_done(void *arg)
{
	run__settle(arg);
}

/* After the pipeline was written: what it owns set (PATCH), its lineage. */
static void
after_pipeline(struct item *it, const cJSON *entity, const char *id)
{
	struct run *r = it->run;
	cJSON *ops = NULL;

	if (!id || !(it->id = strdup(id)) || run__stopping(r))
		return;
	if (entity)                     /* written now, not found unchanged */
		ops = enrich_patch(entity, &it->want, it->description, r->wf->override_metadata);
	if (ops)
		om_patch_pipeline(run__om_sent(r)->om, id, ops, on_patch, it);
	if (r->wf->include_lineage && cJSON_GetArraySize(it->jobs) > 0) {
		join_add(&r->join, 1);
		enrich_lineage(r->enrich, it->name, id, it->jobs, on_lineage_done, r);
	}
}

static void
on_pipeline_put(const struct om_reply *rep, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;

	run__om_landed(r);
	if (rep->res->ok) {
		it->pipeline = PIPE_WRITTEN;
		after_pipeline(it, rep->entity, rep->id);
		r->st.sink.records++;
		r->st.pipelines_written++;
		if (r->st.pipelines_written % 100 == 0)
			log_info(&r->lg, "progress: %lu pipelines and %lu statuses written, %lu "
			         "workflows listed", r->st.pipelines_written, r->st.statuses_written,
			         r->st.workflows_listed);
		if (rep->fqn && strcmp(rep->fqn, it->fqn) != 0) {
			char *copy = strdup(rep->fqn);

			if (copy) {
				free(it->fqn);
				it->fqn = copy;
			}
		}
		maybe_send_statuses(it);
	} else if (!rep->res->cancelled) {
		it->pipeline = PIPE_FAILED;
		item_release(it);
		item_write_failed(it, 0, "writing the pipeline", rep->res->message);
	}
	run__settle(r);
}

static void request_runs(struct item *it);

/* The runs of one page: statuses in the window, usage before it. */
static int
take_runs(struct item *it, const cJSON *runs)
{
	struct run *r = it->run;
	const cJSON *run;
	int in_window = 0;

	cJSON_ArrayForEach(run, runs) {
		int64_t started = entity_run_started_ms(run);
		struct gm_err e = {{0}};
		cJSON *status;

		if (started >= 0 && started < r->usage_from_ms)
			continue;
		in_window = 1;
		if (it->n_runs >= r->o.max_runs_per_workflow) {
			it->runs_cut = 1;
			break;
		}
		if (entity_pipeline_status(run, &status, &e) < 0) {
			r->st.source.warnings++;
			log_warning(&r->lg, "'%s': skipping a workflow run: %s", it->name, e.msg);
			it->runs_failed = 1;    /* a day without it would replace a whole count */
			continue;
		}
		if (str_eq(run__jstr(status, "executionStatus"), "Pending"))
			it->unfinished = 1;
		if (started >= 0 && (!it->n_runs || started < it->oldest_ms))
			it->oldest_ms = started;
		it->n_runs++;
		if (started >= 0 && started < r->cutoff_ms) {  /* before the status window: usage only */
			if (!it->usage_runs)
				it->usage_runs = cJSON_CreateArray();
			if (!cJSON_AddItemToArray(it->usage_runs, status)) {
				cJSON_Delete(status);
				it->runs_failed = 1;
			}
			continue;
		}
		cJSON_AddItemToArray(it->statuses, status);
		r->st.source.records++;
	}
	return in_window;
}

static void
on_runs(const struct glue_runs *page, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	const char *tok = page->next_token;
	int in_window;

	it->runs_pages++;
	if (page->st.state == GLUE_UNKNOWN) {
		if (page->st.fail == GLUE_FAIL_MALFORMED) {
			r->st.source.errors++;
			run__item_fail(it);
			log_err(&r->lg, "'%s': GetWorkflowRuns returned a malformed page (request id %s)",
			        it->name, page->st.request_id[0] ? page->st.request_id : "none");
		} else if (page->st.fail != GLUE_FAIL_CANCELLED) {
			r->st.source.errors++;
			run__item_fail(it);
			log_err(&r->lg, "'%s': GetWorkflowRuns failed: %s", it->name, page->st.why);
		}
		it->runs_failed = 1;
		runs_read(it);
		maybe_send_statuses(it);        /* those read, and what usage can say */
		goto out;
	}
	in_window = take_runs(it, page->runs);
	free(it->runs_token);
	it->runs_token = NULL;
	if (tok && *tok && in_window && it->n_runs < r->o.max_runs_per_workflow) {
		if (it->runs_pages >= MAX_RUN_PAGES) {
			r->st.source.warnings++;
			log_warning(&r->lg, "'%s': more than %d pages of runs, keeping the first %u runs", it->name,
			            MAX_RUN_PAGES, it->n_runs);
			it->runs_cut = 1;
		} else if ((it->runs_token = strdup(tok))) {
			request_runs(it);
			goto out;
		} else {
			it->runs_failed = 1;
		}
	}
	if (it->n_runs >= r->o.max_runs_per_workflow && tok && in_window) {
		it->runs_cut = 1;
		log_info(&r->lg, "'%s': keeping the newest %u %s (the per-workflow cap)", it->name, it->n_runs,
		         PLURAL(it->n_runs, "run", "runs"));
	}
	runs_read(it);
	maybe_send_statuses(it);
out:
	run__settle(r);
}

/* Reads of runs wait while OpenMetadata has a backlog; each parked item
 * holds a count in r->join. */
void
run__resume_runs(struct run *r)
{
	while (r->wait_head && r->om_backlog < OM_BACKLOG_MAX / 2 &&
	       r->runs_active < RUNS_ACTIVE_MAX) {
		struct item *it = r->wait_head;

		r->wait_head = it->wait_next;
		if (!r->wait_head)
			r->wait_tail = NULL;
		it->wait_next = NULL;
		request_runs(it);
		/* the park's count; the callback that resumed us holds another */
		(void)join_done(&r->join);
	}
}

static void
request_runs(struct item *it)
{
	struct run *r = it->run;

	if (!it->runs_token && !run__stopping(r) &&
	    (r->om_backlog >= OM_BACKLOG_MAX || r->runs_active >= RUNS_ACTIVE_MAX)) {
		if (r->om_backlog >= OM_BACKLOG_MAX && !r->waited++)
			log_info(&r->lg, "OpenMetadata takes writes slower than Glue answers: reading "
			         "runs waits while %d requests are queued", OM_BACKLOG_MAX);
		join_add(&r->join, 1);
		if (r->wait_tail)
			r->wait_tail->wait_next = it;
		else
			r->wait_head = it;
		r->wait_tail = it;
		return;
	}
	if (!it->active) {
		it->active = 1;
		r->runs_active++;
	}
	if (run__stopping(r)) {
		it->runs_failed = 1;
		runs_read(it);
		return;
	}
	join_add(&r->join, 1);
	glue_get_runs(r->glue, it->name, it->runs_token, RUNS_PAGE, on_runs, it);
}

/* The fingerprint of what the pipeline request and its patch would set. */
static void
pipeline_fp(struct item *it, const cJSON *req)
{
	char *a = cJSON_PrintUnformatted(req);
	char *b = it->want.owner ? cJSON_PrintUnformatted(it->want.owner) : NULL;
	struct buf all = {0};

	/* tags_known: a pipeline written from a failed tag read never looks
	 * like one written from a complete read, whose patch removes stale tags */
	if (buf_printf(&all, "%s\x1f%s\x1f%s\x1f%d\x1f%d", a ? a : "", b ? b : "",
	               it->description ? it->description : "", it->run->wf->override_metadata,
	               (int)it->want.tags_known) == 0)
		memo_fp(all.data, it->fp);
	else
		memo_fp("", it->fp);
	buf_clear(&all);
	free(a);
	free(b);
}

/* Whether OpenMetadata has no pipeline of the item's name, soft-deleted or
 * not: only a listing that read every page says so. */
static int
known_absent(const struct item *it)
{
	const struct run *r = it->run;

	return r->known_complete && !strmap_get(&r->present, it->name);
}

/* A pipeline being created gets its owner in the PUT, saving the PATCH
 * that would add it (a PUT with owners replaces them: never on a pipeline
 * that may exist and have a person's).  The fingerprint is taken before,
 * so it is the same whether the owner came by PUT or PATCH. */
static void
owner_in_put(struct item *it, cJSON *req)
{
	cJSON *list, *ref;

	if (!it->want.owner || !known_absent(it))
		return;
	list = cJSON_CreateArray();
	ref = cJSON_Duplicate(it->want.owner, 1);
	if (!list || !ref || !cJSON_AddItemToArray(list, ref)) {
		cJSON_Delete(list);
		cJSON_Delete(ref);
		return;                 /* the PATCH adds it */
	}
	if (!cJSON_AddItemToObject(req, "owners", list))
		cJSON_Delete(list);
}

/* The id of the pipeline OpenMetadata has for the item and its sourceHash
 * (incremental runs), or NULL. */
static const char *
known_id(const struct item *it, char hash[33])
{
	const struct run *r = it->run;
	const struct strmap_entry *k = r->next ? strmap_get(&r->known, it->name) : NULL;

	return k ? memo_pipeline_parse(k->value, hash) : NULL;
}

static void
on_want(struct enrich_want *want, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	cJSON *req = it->req;
	const char *id;
	char hash[33];

	it->req = NULL;
	it->want = *want;               /* taken */
	memset(want, 0, sizeof(*want));
	if (run__stopping(r)) {
		cJSON_Delete(req);
	} else {
		if (it->want.tags)
			cJSON_AddItemToObject(req, "tags", cJSON_Duplicate(it->want.tags, 1));
		pipeline_fp(it, req);
		id = known_id(it, hash);
		if (id && strcmp(hash, it->fp) == 0) {
			/* OpenMetadata has this very pipeline: nothing to write */
			cJSON_Delete(req);
			it->pipeline = PIPE_WRITTEN;
			r->st.pipelines_unchanged++;
			after_pipeline(it, NULL, id);
			maybe_send_statuses(it);
		} else {
			owner_in_put(it, req);
			om_put_pipeline(run__om_sent(r)->om, req, it->fp, on_pipeline_put, it);
		}
	}
	run__settle(r);
}

/* Incremental runs: when the workflow's LastRun is what it was when every
 * run in the window had ended and was written, its runs are not read
 * again; what the memo had of its statuses and usage carries over. */
static int
runs_unchanged(struct item *it, const cJSON *workflow)
{
	struct run *r = it->run;
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(workflow, "LastRun");
	char *text = last ? cJSON_PrintUnformatted(last) : NULL;
	char key[128], prefix[128], hash[33];
	const char *id = known_id(it, hash);

	memo_fp(text ? text : "", it->last_fp);
	free(text);
	if (!id || !*id || memo_key(MEMO_RUNS, id, NULL, key, sizeof(key)) < 0 ||
	    !memo_same(r->memo, key, it->last_fp))
		return 0;
	memo_put(r->next, key, it->last_fp);
	if (memo_key(MEMO_STATUS, id, "", prefix, sizeof(prefix)) == 0)
		memo_carry(r->memo, r->next, prefix);
	if (memo_key(MEMO_USAGE, id, "", prefix, sizeof(prefix)) == 0)
		memo_carry(r->memo, r->next, prefix);
	r->st.runs_unchanged++;
	return 1;
}

void
run__item_workflow(struct item *it, const cJSON *workflow)
{
	struct run *r = it->run;
	struct gm_err e = {{0}};
	const char *desc = run__jstr(workflow, "Description");
	cJSON *req;

	if (run__stopping(r))
		return;
	r->st.source.records++;
	if (entity_pipeline_request(workflow, r->wf->service_name, r->wf->aws_region, &req, &e) < 0) {
		r->st.source.errors++;
		run__item_fail(it);
		log_err(&r->lg, "'%s': cannot build the pipeline: %s", it->name, e.msg);
		return;
	}
	it->jobs = entity_job_names(workflow);
	it->crawlers = entity_node_names(workflow, "CRAWLER");
	it->description = desc && *desc ? strdup(desc) : NULL;
	it->req = req;
	join_add(&r->join, 1);
	enrich_workflow(r->enrich, it->name, on_want, it);
	if (r->wf->status_lookback_days > 0 && !runs_unchanged(it, workflow))
		request_runs(it);
	else
		runs_read(it);
}

int
run__item_add(struct run *r, const char *name)
{
	struct item *it;
	char *fqn = entity_fqn2(r->wf->service_name, name);

	if (!fqn) {
		r->st.source.errors++;
		log_err(&r->lg, "'%s': the workflow name contains a double quote, which an "
		        "OpenMetadata name cannot, skipping", name);
		return 1;
	}
	if (r->n_items == r->cap_items) {
		size_t cap = r->cap_items ? r->cap_items * 2 : 64;
		struct item **v = realloc(r->items, cap * sizeof(*v));

		if (!v)
			goto oom;
		r->items = v;
		r->cap_items = cap;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		goto oom;
	it->run = r;
	it->fqn = fqn;
	it->name = strdup(name);
	it->statuses = cJSON_CreateArray();
	if (!it->name || !it->statuses) {
		free(it->name);
		cJSON_Delete(it->statuses);
		free(it);
		goto oom;
	}
	r->items[r->n_items++] = it;
	return 0;
oom:
	free(fqn);
	return -ENOMEM;
}

void
run__items_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n_items; i++) {
		struct item *it = r->items[i];

		free(it->name);
		free(it->fqn);
		free(it->runs_token);
		cJSON_Delete(it->statuses);
		cJSON_Delete(it->usage_runs);
		cJSON_Delete(it->req);
		cJSON_Delete(it->jobs);
		cJSON_Delete(it->crawlers);
		free(it->description);
		free(it->id);
		enrich_want_clear(&it->want);
		free(it);
	}
	free(r->items);
	r->items = NULL;
	r->n_items = 0;
}
