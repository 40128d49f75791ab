/* run — one ingestion; see include/run.h.
 *
 * Every request holds one count in r->pending from submission until the
 * end of its callback; a callback first submits what follows from its
 * reply, then drops its count and calls advance(), so pending reaches 0
 * only when a phase has really nothing left in flight. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "awsauth.h"
#include "enrich.h"
#include "entity.h"
#include "filter.h"
#include "http.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "run.h"
#include "secrets.h"
#include "util.h"
#include "wf.h"

#define GLUE_BATCH 25           /* BatchGetWorkflows Names, ListWorkflows MaxResults */
#define RUNS_PAGE 100           /* GetWorkflowRuns MaxResults */
#define OM_LIST_PAGE 100
#define MAX_RUN_PAGES 100
#define OM_MIN_MINOR 9          /* oldest OpenMetadata 1.x we write to */
#define OM_SCHEMA_MINOR 13      /* the schemas our bodies follow */
/* OpenMetadata requests queued or in flight beyond which no workflow's
 * runs are read: Glue answers faster than OpenMetadata takes writes, and
 * the bodies waiting would grow with the estate. */
#define OM_BACKLOG_MAX 512
/* Workflows whose runs are being read or wait to be written, at most. */
#define RUNS_ACTIVE_MAX 32

enum phase { P_START, P_SERVICE, P_MAIN, P_DELETE, P_REPORT, P_DONE };

struct item {
	struct run *run;
	char *name;
	char *fqn;
	cJSON *statuses;                /* built PipelineStatus bodies */
	cJSON *req;                     /* the pipeline request, while tags are read */
	cJSON *jobs;                    /* names of the graph's JOB nodes */
	char *description;              /* the workflow's, from Glue */
	char *id;                       /* of the written pipeline */
	char fp[33];                    /* the pipeline request's sourceHash */
	struct enrich_want want;        /* tags and owner from Glue tags */
	char *runs_token;
	unsigned runs_pages, n_runs;
	int pipeline_state;             /* 0 pending, 1 written, -1 failed */
	int runs_done, statuses_sent, failed;
	struct item *wait_next;         /* waiting to read its runs */
	char last_fp[33];               /* of the workflow's LastRun, for the memo */
	int unfinished;                 /* a run in the window is still going */
	/* Usage: runs read only for their days' counts (they started before
	 * the status window), the oldest run read, and whether the runs in
	 * reach were not all read (a failed or cut listing): then usage is
	 * not reported, or only for the days that are complete. */
	cJSON *usage_runs;
	int64_t oldest_ms;
	int runs_failed, runs_cut;
	int active;                     /* counted in r->runs_active */
};

struct batch {
	struct run *run;
	struct item **items;
	size_t n;
};

struct run {
	struct http *h;
	const struct wf *wf;
	struct run_opts o;
	struct http_pool *glue_pool, *om_pool;
	struct aws_client *glue;
	struct om_client *om;
	struct filter *filter;
	run_done_cb done;
	void *arg;

	enum phase phase;
	unsigned pending;
	int cancelled;
	struct run_stats st;
	int64_t cutoff_ms;
	int64_t usage_from_ms;          /* runs read back to here, for whole days of usage */

	struct item **items;
	size_t n_items, cap_items, batched;
	cJSON *early;                   /* ListWorkflows pages read before the main phase */
	int early_followed;             /* the last early page's NextToken was followed */
	int list_busy;                  /* a ListWorkflows request is out */
	char *list_token;
	unsigned list_pages;
	int listing_done, listing_failed;
	int service_ready, known_state; /* known_state: 0 not read, 1 reading, 2 read */
	char *om_after;
	unsigned om_pages;
	struct log_ctx lg;
	char run_id[40];                /* reported to ingestionPipelineFQN */
	struct awsauth *auth;
	struct enrich *enrich;
	const struct memo *memo;        /* what the run before wrote, or NULL */
	struct memo *next;              /* what this run wrote or found unchanged */
	struct strmap known;            /* pipeline name -> "sourceHash:id" in OpenMetadata */
	char *known_after;
	unsigned known_pages;
	struct strmap listed;           /* name -> id of every pipeline the known listing saw */
	int known_complete;             /* it read every page: markDeleted needs no other */
	unsigned long usage_written;
	unsigned long om_backlog;       /* OpenMetadata requests not completed */
	unsigned long waited;           /* items that waited for the backlog */
	unsigned runs_active;
	struct item *wait_head, *wait_tail;
	struct secrets *secrets;        /* the workflow with its secrets resolved */
	int secrets_state;              /* 0 none, 1 resolving, 2 done, -1 failed */
	char secrets_why[600];
	char *endpoint;
	int64_t started_ms;
};

static void advance(struct run *r);

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
stopping(const struct run *r)
{
	return r->cancelled || r->st.fatal;
}

static void __attribute__((format(printf, 2, 3)))
fatal(struct run *r, const char *fmt, ...)
{
	char raw[sizeof(r->st.fatal_msg)];
	va_list ap;

	if (r->st.fatal)
		return;
	r->st.fatal = 1;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* it quotes errors from outside and goes to the summary, the history
	 * and the control socket as well as the log */
	str_sanitize_buf(r->st.fatal_msg, sizeof(r->st.fatal_msg), raw);
	log_err(&r->lg, "%s", r->st.fatal_msg);
}

/* ---- Glue and OpenMetadata calls, counted in r->pending ---- */

static void
glue(struct run *r, const char *op, cJSON *in, aws_done_cb cb, void *ctx)
{
	r->pending++;
	aws_call(r->glue, op, in, cb, ctx);
}

/* The same, ahead of the queued calls: for what the rest of the run waits on. */
static void
glue_first(struct run *r, const char *op, cJSON *in, aws_done_cb cb, void *ctx)
{
	r->pending++;
	aws_call_urgent(r->glue, op, in, cb, ctx);
}

static void resume_runs(struct run *r);

struct om_hop {                         /* an OpenMetadata call, counted in the backlog */
	struct run *run;
	om_done_cb cb;
	void *ctx;
};

static void
on_om_hop(const struct om_result *res, void *arg)
{
	struct om_hop h = *(struct om_hop *)arg;

	free(arg);
	h.run->om_backlog--;
	resume_runs(h.run);
	h.cb(res, h.ctx);
}

static void
om(struct run *r, const char *method, const char *path, cJSON *body, om_done_cb cb, void *ctx)
{
	struct om_hop *h = malloc(sizeof(*h));

	r->pending++;
	if (!h) {
		om_call(r->om, method, path, body, cb, ctx);
		return;
	}
	*h = (struct om_hop){ r, cb, ctx };
	r->om_backlog++;
	om_call(r->om, method, path, body, on_om_hop, h);
}

static void
settle(struct run *r)
{
	r->pending--;
	advance(r);
}

static const char *
glue_error(const struct aws_result *res, char *out, size_t n)
{
	snprintf(out, n, "%s: %s%s%s%s", res->code ? res->code : "error",
	         res->message ? res->message : "", res->request_id ? " (request id " : "",
	         res->request_id ? res->request_id : "", res->request_id ? ")" : "");
	return out;
}

/* ---- per workflow ---- */

static void item_fail(struct item *it)
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
	resume_runs(it->run);
}

/* A write remembered in the memo once it succeeded. */
struct memo_write {
	struct item *it;
	char key[200];
	char fp[33];
};

/* The memo key of something of a written pipeline ("s", "u"), and the
 * fingerprint of its body; 1 when the run before wrote the same (then it
 * is remembered again and need not be sent). */
static int
unchanged(struct item *it, char kind, const char *sub, const cJSON *body, struct memo_write *w)
{
	struct run *r = it->run;
	char *text = cJSON_PrintUnformatted(body);

	w->it = it;
	snprintf(w->key, sizeof(w->key), "%c\x1f%s\x1f%s", kind, it->id ? it->id : "", sub);
	memo_fp(text ? text : "", w->fp);
	free(text);
	if (!r->next || !memo_same(r->memo, w->key, w->fp))
		return 0;
	memo_put(r->next, w->key, w->fp);
	return 1;
}

static struct memo_write *
memo_write_dup(const struct memo_write *w)
{
	struct memo_write *c = malloc(sizeof(*c));

	if (c)
		*c = *w;
	return c;
}

static void
on_status_put(const struct om_result *res, void *arg)
{
	struct memo_write *w = arg;
	struct item *it = w->it;
	struct run *r = it->run;

	if (res->ok) {
		r->st.sink.records++;
		r->st.statuses_written++;
		memo_put(r->next, w->key, w->fp);
	} else if (!res->cancelled) {
		r->st.sink.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': writing a pipeline status failed: %s", it->name, res->message);
	}
	free(w);
	settle(r);
}

static void
on_usage_post(const struct om_result *res, void *arg)
{
	struct memo_write *w = arg;
	struct item *it = w->it;
	struct run *r = it->run;

	if (res->ok) {
		r->st.sink.records++;
		r->usage_written++;
		memo_put(r->next, w->key, w->fp);
	} else if (!res->cancelled) {
		r->st.sink.warnings++;
		it->failed = 1;         /* its runs are read again next time */
		log_warning(&r->lg, "'%s': publishing pipeline usage failed: %s", it->name, res->message);
	}
	free(w);
	settle(r);
}

#define DAY_MS 86400000LL

/* The start (00:00 UTC) of the day of ms. */
static int64_t
day_start(int64_t ms)
{
	return ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS;
}

/* How far back runs are read: from the start of the day before the one
 * the status window begins in.  Every day from the window's first on then
 * has all its task runs, those of a run that began the evening before
 * included, and its count is Glue's whole count for that day. */
static int64_t
usage_from(int64_t cutoff_ms)
{
	return day_start(cutoff_ms) - DAY_MS;
}

/* "YYYY-MM-DD" of a UTC time in ms; "" when it has none. */
static void
day_of(int64_t ms, char out[11])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&sec, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		out[0] = '\0';
}

/* Adds the daily counts of more to days ({date, count} each). */
static void
usage_merge(cJSON *days, cJSON *more)
{
	cJSON *m, *d, *c;

	while (days && more && (m = cJSON_DetachItemFromArray(more, 0))) {
		const char *date = jstr(m, "date");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "count");

		cJSON_ArrayForEach(d, days)
			if (date && str_eq(jstr(d, "date"), date))
				break;
		c = d ? cJSON_GetObjectItemCaseSensitive(d, "count") : NULL;
		if (cJSON_IsNumber(c) && cJSON_IsNumber(n)) {
			cJSON_SetNumberValue(c, c->valuedouble + n->valuedouble);
			cJSON_Delete(m);
		} else if (d || !cJSON_AddItemToArray(days, m)) {
			cJSON_Delete(m);
		}
	}
	cJSON_Delete(more);
}

/* Daily counts of task runs, from the runs read, to the usage API: POST,
 * which replaces the day's stored count (PUT would add to it; see
 * OpenMetadata's UsageResource), so a run repeated changes nothing.  Only
 * days whose runs were all read are sent: none when reading the runs
 * failed; those from the status window's first day on (usage_from()); and
 * when the listing was cut (the per-workflow cap, the page limit) only
 * those that begin a day or more after the oldest run read.  A day not
 * sent keeps its stored count. */
static void
send_usage(struct item *it)
{
	struct run *r = it->run;
	cJSON *days, *d;
	char *path, first[11];
	int64_t from = it->runs_cut && it->n_runs ? it->oldest_ms : r->usage_from_ms;

	if (it->runs_failed) {
		r->st.source.warnings++;
		log_warning(&r->lg, "'%s': pipeline usage not reported this run, the stored counts stay "
		            "as they are: its runs were not all read", it->name);
		cJSON_Delete(it->usage_runs);
		it->usage_runs = NULL;
		return;
	}
	days = entity_usage_counts(it->statuses);
	usage_merge(days, entity_usage_counts(it->usage_runs));
	cJSON_Delete(it->usage_runs);
	it->usage_runs = NULL;
	/* the first whole day: the first to begin a day or more after from */
	day_of(day_start(from + 2 * DAY_MS - 1), first);
	path = it->id ? str_urlencode_printf("/v1/usage/pipeline/%s", it->id) : NULL;
	while (path && days && (d = cJSON_DetachItemFromArray(days, 0))) {
		struct memo_write w, *c;
		const char *date = jstr(d, "date");

		if (!date || strcmp(date, first) < 0 || unchanged(it, 'u', date, d, &w) ||
		    !(c = memo_write_dup(&w))) {
			cJSON_Delete(d);
			continue;
		}
		om(r, "POST", path, d, on_usage_post, c);
	}
	free(path);
	cJSON_Delete(days);
}

static void
maybe_send_statuses(struct item *it)
{
	struct run *r = it->run;
	cJSON *s;
	char *path;

	if (!it->runs_done || it->pipeline_state != 1 || it->statuses_sent || stopping(r))
		return;
	it->statuses_sent = 1;
	item_release(it);
	send_usage(it);
	path = str_urlencode_printf("/v1/pipelines/%s/status", it->fqn);
	if (!path) {
		r->st.sink.errors++;
		item_fail(it);
		return;
	}
	while ((s = cJSON_DetachItemFromArray(it->statuses, 0))) {
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(s, "timestamp");
		struct memo_write w, *c;
		char sub[32];

		snprintf(sub, sizeof(sub), "%.0f", cJSON_IsNumber(ts) ? ts->valuedouble : -1.0);
		if (unchanged(it, 's', sub, s, &w)) {
			r->st.statuses_unchanged++;
			cJSON_Delete(s);
			continue;
		}
		if (!(c = memo_write_dup(&w))) {
			cJSON_Delete(s);
			r->st.sink.errors++;
			continue;
		}
		om(r, "PUT", path, s, on_status_put, c);
	}
	free(path);
	log_debug(&r->lg, "'%s': %u %s read", it->name, it->n_runs, PLURAL(it->n_runs, "run", "runs"));
}

static void
on_patch(const struct om_result *res, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;

	if (res->ok) {
		r->st.sink.updated++;
	} else if (!res->cancelled) {
		r->st.sink.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': updating the pipeline's tags, owner or description failed: %s",
		        it->name, res->message);
	}
	settle(r);
}

static void
on_lineage_done(void *arg)
{
	settle(arg);
}

/* After the pipeline was written: what it owns set (PATCH), its lineage. */
static void
after_pipeline(struct item *it, const cJSON *entity, const char *id)
{
	struct run *r = it->run;
	cJSON *ops = NULL;
	char *path;

	if (!id || !(it->id = strdup(id)) || stopping(r))
		return;
	if (entity)                     /* written now, not found unchanged */
		ops = enrich_patch(entity, &it->want, it->description, r->wf->override_metadata);
	if (ops && (path = str_urlencode_printf("/v1/pipelines/%s", id))) {
		om(r, "PATCH", path, ops, on_patch, it);
		free(path);
	} else {
		cJSON_Delete(ops);
	}
	if (r->wf->include_lineage && cJSON_GetArraySize(it->jobs) > 0) {
		r->pending++;
		enrich_lineage(r->enrich, it->name, id, it->jobs, on_lineage_done, r);
	}
}

static void
on_pipeline_put(const struct om_result *res, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	const char *fqn = jstr(res->json, "fullyQualifiedName");

	if (res->ok) {
		it->pipeline_state = 1;
		after_pipeline(it, res->json, jstr(res->json, "id"));
		r->st.sink.records++;
		r->st.pipelines_written++;
		if (r->st.pipelines_written % 100 == 0)
			log_info(&r->lg, "progress: %lu pipelines and %lu statuses written, %lu "
			         "workflows listed", r->st.pipelines_written, r->st.statuses_written,
			         r->st.workflows_listed);
		if (fqn && strcmp(fqn, it->fqn) != 0) {
			char *copy = strdup(fqn);

			if (copy) {
				free(it->fqn);
				it->fqn = copy;
			}
		}
		maybe_send_statuses(it);
	} else if (!res->cancelled) {
		it->pipeline_state = -1;
		item_release(it);
		r->st.sink.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': writing the pipeline failed: %s", it->name, res->message);
	}
	settle(r);
}

static void request_runs(struct item *it);

static void
on_runs(const struct aws_result *res, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	const cJSON *runs, *run, *tok;
	int in_window = 0;
	char msg[1200];

	it->runs_pages++;
	if (!res->ok) {
		if (!res->cancelled) {
			r->st.source.errors++;
			item_fail(it);
			log_err(&r->lg, "'%s': GetWorkflowRuns failed: %s", it->name, glue_error(res, msg, sizeof(msg)));
		}
		it->runs_failed = 1;
		it->runs_done = 1;
		maybe_send_statuses(it);        /* those read, and what usage can say */
		goto out;
	}
	runs = cJSON_GetObjectItemCaseSensitive(res->json, "Runs");
	tok = cJSON_GetObjectItemCaseSensitive(res->json, "NextToken");
	if ((runs && !cJSON_IsArray(runs)) || (tok && !cJSON_IsString(tok) && !cJSON_IsNull(tok))) {
		r->st.source.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': GetWorkflowRuns returned a malformed page (request id %s)", it->name,
		        res->request_id ? res->request_id : "none");
		it->runs_failed = 1;
		it->runs_done = 1;
		maybe_send_statuses(it);
		goto out;
	}
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
		if (str_eq(jstr(status, "executionStatus"), "Pending"))
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
	free(it->runs_token);
	it->runs_token = NULL;
	if (cJSON_IsString(tok) && *tok->valuestring && in_window &&
	    it->n_runs < r->o.max_runs_per_workflow) {
		if (it->runs_pages >= MAX_RUN_PAGES) {
			r->st.source.warnings++;
			log_warning(&r->lg, "'%s': more than %d pages of runs, keeping the first %u runs", it->name,
			            MAX_RUN_PAGES, it->n_runs);
			it->runs_cut = 1;
		} else if ((it->runs_token = strdup(tok->valuestring))) {
			request_runs(it);
			goto out;
		} else {
			it->runs_failed = 1;
		}
	}
	if (it->n_runs >= r->o.max_runs_per_workflow && cJSON_IsString(tok) && in_window) {
		it->runs_cut = 1;
		log_info(&r->lg, "'%s': keeping the newest %u %s (the per-workflow cap)", it->name, it->n_runs,
		         PLURAL(it->n_runs, "run", "runs"));
	}
	it->runs_done = 1;
	maybe_send_statuses(it);
out:
	settle(r);
}

/* Reads of runs wait while OpenMetadata has a backlog; each parked item
 * holds a count in r->pending. */
static void
resume_runs(struct run *r)
{
	while (r->wait_head && r->om_backlog < OM_BACKLOG_MAX / 2 &&
	       r->runs_active < RUNS_ACTIVE_MAX) {
		struct item *it = r->wait_head;

		r->wait_head = it->wait_next;
		if (!r->wait_head)
			r->wait_tail = NULL;
		it->wait_next = NULL;
		request_runs(it);
		r->pending--;           /* the park's count; an OpenMetadata callback runs next */
	}
}

static void
request_runs(struct item *it)
{
	struct run *r = it->run;
	cJSON *in;

	if (!it->runs_token && !stopping(r) &&
	    (r->om_backlog >= OM_BACKLOG_MAX || r->runs_active >= RUNS_ACTIVE_MAX)) {
		if (r->om_backlog >= OM_BACKLOG_MAX && !r->waited++)
			log_info(&r->lg, "OpenMetadata takes writes slower than Glue answers: reading "
			         "runs waits while %d requests are queued", OM_BACKLOG_MAX);
		r->pending++;
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
	in = cJSON_CreateObject();
	if (stopping(r)) {
		cJSON_Delete(in);
		it->runs_failed = 1;
		it->runs_done = 1;
		return;
	}
	if (!in || !cJSON_AddStringToObject(in, "Name", it->name) ||
	    !cJSON_AddBoolToObject(in, "IncludeGraph", 1) ||
	    !cJSON_AddNumberToObject(in, "MaxResults", RUNS_PAGE) ||
	    (it->runs_token && !cJSON_AddStringToObject(in, "NextToken", it->runs_token))) {
		cJSON_Delete(in);
		it->runs_failed = 1;
		it->runs_done = 1;
		r->st.source.errors++;
		item_fail(it);
		maybe_send_statuses(it);
		return;
	}
	glue(r, "GetWorkflowRuns", in, on_runs, it);
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

static void
on_want(struct enrich_want *want, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	cJSON *req = it->req;

	it->req = NULL;
	it->want = *want;               /* taken */
	memset(want, 0, sizeof(*want));
	if (stopping(r)) {
		cJSON_Delete(req);
	} else {
		const struct strmap_entry *k;

		if (it->want.tags)
			cJSON_AddItemToObject(req, "tags", cJSON_Duplicate(it->want.tags, 1));
		pipeline_fp(it, req);
		k = r->next ? strmap_get(&r->known, it->name) : NULL;
		if (k && k->value && strncmp(k->value, it->fp, 32) == 0 && k->value[32] == ':') {
			/* OpenMetadata has this very pipeline: nothing to write */
			cJSON_Delete(req);
			it->pipeline_state = 1;
			r->st.pipelines_unchanged++;
			after_pipeline(it, NULL, k->value + 33);
			maybe_send_statuses(it);
		} else {
			cJSON_AddStringToObject(req, "sourceHash", it->fp);
			om(r, "PUT", "/v1/pipelines", req, on_pipeline_put, it);
		}
	}
	settle(r);
}

/* Incremental runs: when the workflow's LastRun is what it was when every
 * run in the window had ended and was written, its runs are not read
 * again; what the memo had of its statuses and usage carries over. */
static int
runs_unchanged(struct item *it, const cJSON *workflow)
{
	struct run *r = it->run;
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(workflow, "LastRun");
	const struct strmap_entry *k = r->next ? strmap_get(&r->known, it->name) : NULL;
	char *text = last ? cJSON_PrintUnformatted(last) : NULL;
	char key[128], prefix[128];

	memo_fp(text ? text : "", it->last_fp);
	free(text);
	if (!k || !k->value || strlen(k->value) < 34)
		return 0;
	snprintf(key, sizeof(key), "r\x1f%s", k->value + 33);
	if (!memo_same(r->memo, key, it->last_fp))
		return 0;
	memo_put(r->next, key, it->last_fp);
	snprintf(prefix, sizeof(prefix), "s\x1f%s\x1f", k->value + 33);
	memo_carry(r->memo, r->next, prefix);
	prefix[0] = 'u';
	memo_carry(r->memo, r->next, prefix);
	r->st.runs_unchanged++;
	return 1;
}

static void
process_workflow(struct item *it, const cJSON *workflow)
{
	struct run *r = it->run;
	struct gm_err e = {{0}};
	const char *desc = jstr(workflow, "Description");
	cJSON *req;

	if (stopping(r))
		return;
	r->st.source.records++;
	if (entity_pipeline_request(workflow, r->wf->service_name, r->wf->aws_region, &req, &e) < 0) {
		r->st.source.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': cannot build the pipeline: %s", it->name, e.msg);
		return;
	}
	it->jobs = entity_job_names(workflow);
	it->description = desc && *desc ? strdup(desc) : NULL;
	it->req = req;
	r->pending++;
	enrich_workflow(r->enrich, it->name, on_want, it);
	if (r->wf->status_lookback_days > 0 && !runs_unchanged(it, workflow))
		request_runs(it);
	else
		it->runs_done = 1;
}

static void
on_get_workflow(const struct aws_result *res, void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(res->json, "Workflow");
	char msg[1200];

	if (res->ok && cJSON_IsObject(w)) {
		process_workflow(it, w);
	} else if (res->code && strcmp(res->code, "EntityNotFoundException") == 0) {
		r->st.source.warnings++;
		log_warning(&r->lg, "'%s': the workflow disappeared while it was read, skipping", it->name);
	} else if (!res->cancelled) {
		r->st.source.errors++;
		item_fail(it);
		log_err(&r->lg, "'%s': GetWorkflow failed: %s", it->name,
		        res->ok ? "the reply has no Workflow" : glue_error(res, msg, sizeof(msg)));
	}
	settle(r);
}

static void
get_workflow(struct item *it)
{
	cJSON *in = cJSON_CreateObject();

	if (stopping(it->run) || !in || !cJSON_AddStringToObject(in, "Name", it->name) ||
	    !cJSON_AddBoolToObject(in, "IncludeGraph", 1)) {
		cJSON_Delete(in);
		if (!stopping(it->run)) {
			it->run->st.source.errors++;
			item_fail(it);
		}
		return;
	}
	glue(it->run, "GetWorkflow", in, on_get_workflow, it);
}

static struct item *
batch_find(struct batch *b, const char *name)
{
	size_t i;

	for (i = 0; name && i < b->n; i++)
		if (b->items[i] && strcmp(b->items[i]->name, name) == 0) {
			struct item *it = b->items[i];

			b->items[i] = NULL;     /* each name answered once */
			return it;
		}
	return NULL;
}

static void
on_batch(const struct aws_result *res, void *arg)
{
	struct batch *b = arg;
	struct run *r = b->run;
	const cJSON *wfs = cJSON_GetObjectItemCaseSensitive(res->json, "Workflows");
	const cJSON *missing = cJSON_GetObjectItemCaseSensitive(res->json, "MissingWorkflows");
	const cJSON *w;
	char msg[1200];
	size_t i;

	if (!res->ok || (wfs && !cJSON_IsArray(wfs)) || (missing && !cJSON_IsArray(missing))) {
		if (!res->cancelled && !stopping(r))
			log_warning(&r->lg, "BatchGetWorkflows for %zu workflows failed (%s), "
			            "reading them one by one", b->n,
			            res->ok ? "malformed reply" : glue_error(res, msg, sizeof(msg)));
		for (i = 0; i < b->n; i++)
			get_workflow(b->items[i]);
		goto out;
	}
	cJSON_ArrayForEach(w, wfs) {
		struct item *it = batch_find(b, jstr(w, "Name"));

		if (it)
			process_workflow(it, w);
	}
	cJSON_ArrayForEach(w, missing) {
		struct item *it = batch_find(b, cJSON_IsString(w) ? w->valuestring : NULL);

		if (it) {
			r->st.source.warnings++;
			log_warning(&r->lg, "'%s': the workflow disappeared while it was read, skipping", it->name);
		}
	}
	for (i = 0; i < b->n; i++)
		if (b->items[i])        /* neither returned nor missing: ask alone */
			get_workflow(b->items[i]);
out:
	free(b->items);
	free(b);
	settle(r);
}

static void
submit_batches(struct run *r, int flush)
{
	while (!stopping(r) && (r->n_items - r->batched >= GLUE_BATCH ||
	                        (flush && r->n_items > r->batched))) {
		size_t n = r->n_items - r->batched, i;
		struct batch *b = calloc(1, sizeof(*b));
		cJSON *in = cJSON_CreateObject(), *names;

		if (n > GLUE_BATCH)
			n = GLUE_BATCH;
		if (!b || !(b->items = calloc(n, sizeof(*b->items))) || !in ||
		    !(names = cJSON_AddArrayToObject(in, "Names")) ||
		    !cJSON_AddBoolToObject(in, "IncludeGraph", 1))
			goto oom;
		b->run = r;
		b->n = n;
		for (i = 0; i < n; i++) {
			b->items[i] = r->items[r->batched + i];
			if (!cJSON_AddItemToArray(names, cJSON_CreateString(b->items[i]->name)))
				goto oom;
		}
		r->batched += n;
		glue(r, "BatchGetWorkflows", in, on_batch, b);
		continue;
oom:
		if (b)
			free(b->items);
		free(b);
		cJSON_Delete(in);
		fatal(r, "out of memory");
		return;
	}
}

/* Queues a kept workflow for reading; 1 when its name cannot be used. */
static int
add_item(struct run *r, const char *name)
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

static void list_workflows(struct run *r);

/* Asks for the page after the one whose NextToken is tok. */
static void
follow_token(struct run *r, const char *tok)
{
	free(r->list_token);
	if ((r->list_token = strdup(tok)))
		list_workflows(r);
	else
		fatal(r, "out of memory");
}

/* The NextToken to follow from a well-formed page, or NULL at the end of
 * the listing or when process_page() will report why not. */
static const char *
page_token(const struct run *r, const cJSON *page)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(page, "Workflows");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(page, "NextToken");

	if ((names && !cJSON_IsArray(names)) || !cJSON_IsString(tok) || !*tok->valuestring ||
	    (r->list_token && strcmp(r->list_token, tok->valuestring) == 0) ||
	    r->list_pages >= r->o.max_list_pages)
		return NULL;
	return tok->valuestring;
}

/* One ListWorkflows page: filter, queue for reading, follow the token
 * (unless it was followed already: followed). */
static void
process_page(struct run *r, const cJSON *page, int followed)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(page, "Workflows");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(page, "NextToken");
	const cJSON *n;

	if ((names && !cJSON_IsArray(names)) || (tok && !cJSON_IsString(tok) && !cJSON_IsNull(tok))) {
		r->listing_failed = 1;
		r->st.source.errors++;
		log_err(&r->lg, "ListWorkflows returned a malformed page; the listing is incomplete");
		submit_batches(r, 1);
		return;
	}
	cJSON_ArrayForEach(n, names) {
		if (!cJSON_IsString(n) || !*n->valuestring)
			continue;
		r->st.workflows_listed++;
		if (filter_excludes(r->filter, n->valuestring)) {
			r->st.source.filtered++;
			log_debug(&r->lg, "'%s': filtered out by pipelineFilterPattern", n->valuestring);
			continue;
		}
		if (add_item(r, n->valuestring) < 0) {
			fatal(r, "out of memory");
			return;
		}
	}
	if (followed) {
		submit_batches(r, 0);
		return;
	}
	if (cJSON_IsString(tok) && *tok->valuestring) {
		if (r->list_token && strcmp(r->list_token, tok->valuestring) == 0) {
			r->listing_failed = 1;
			r->st.source.errors++;
			log_err(&r->lg, "ListWorkflows returned the same NextToken twice; the listing "
			        "is incomplete");
		} else if (r->list_pages >= r->o.max_list_pages) {
			r->listing_failed = 1;
			r->st.source.errors++;
			log_err(&r->lg, "ListWorkflows has more than %u pages; the listing is incomplete",
			        r->o.max_list_pages);
		} else {
			submit_batches(r, 0);
			follow_token(r, tok->valuestring);
			return;
		}
	} else {
		r->listing_done = 1;
	}
	if (r->list_pages % 10 == 0 || r->listing_done)
		log_info(&r->lg, "listed %lu %s in %u %s (%lu filtered out)",
		         r->st.workflows_listed, PLURAL(r->st.workflows_listed, "workflow", "workflows"),
		         r->list_pages, PLURAL(r->list_pages, "page", "pages"), r->st.source.filtered);
	submit_batches(r, 1);
}

/* While OpenMetadata is being read the listing goes on: the pages are only
 * names, kept until the main phase. */
static void
follow_early(struct run *r)
{
	const cJSON *last = r->early ? cJSON_GetArrayItem(r->early, cJSON_GetArraySize(r->early) - 1)
	                             : NULL;
	const char *tok = last ? page_token(r, last) : NULL;

	if (!tok || stopping(r) || r->list_busy)
		return;
	r->early_followed = 1;
	follow_token(r, tok);
}

static void
on_list(const struct aws_result *res, void *arg)
{
	struct run *r = arg;
	char msg[1200];

	r->list_pages++;
	r->list_busy = 0;
	if (!res->ok) {
		if (res->cancelled) {
			r->listing_failed = 1;
		} else if (r->list_pages == 1) {
			fatal(r, "cannot list Glue workflows (the connection test): %s",
			      glue_error(res, msg, sizeof(msg)));
		} else {
			r->listing_failed = 1;
			r->st.source.errors++;
			log_err(&r->lg, "ListWorkflows page %u failed: %s; the listing is incomplete",
			        r->list_pages, glue_error(res, msg, sizeof(msg)));
			if (r->phase >= P_MAIN)
				submit_batches(r, 1);
		}
	} else if (r->phase < P_MAIN) {
		cJSON *page = cJSON_Duplicate(res->json, 1);

		r->early_followed = 0;
		if (!page || (!r->early && !(r->early = cJSON_CreateArray())) ||
		    !cJSON_AddItemToArray(r->early, page)) {
			cJSON_Delete(page);
			fatal(r, "out of memory");
		} else if (r->phase == P_SERVICE) {
			follow_early(r);
		}
	} else {
		process_page(r, res->json, 0);
	}
	settle(r);
}

static void
list_workflows(struct run *r)
{
	cJSON *in = cJSON_CreateObject();

	if (!in || !cJSON_AddNumberToObject(in, "MaxResults", GLUE_BATCH) ||
	    (r->list_token && !cJSON_AddStringToObject(in, "NextToken", r->list_token))) {
		cJSON_Delete(in);
		fatal(r, "out of memory");
		return;
	}
	r->list_busy = 1;
	glue_first(r, "ListWorkflows", in, on_list, r);
}

/* ---- credentials ---- */

static void
on_prepared(void *arg)
{
	settle(arg);
}

static void
on_creds(int rc, const char *why, void *arg)
{
	struct run *r = arg;
	struct gm_err err = {{0}};

	if (rc < 0) {
		if (!r->cancelled)
			fatal(r, "%s", why ? why : "no AWS credentials");
	} else if (!stopping(r)) {
		r->glue = aws_client_new(r->glue_pool, "glue", "AWSGlue", r->wf->aws_region,
		                         r->endpoint, awsauth_source(r->auth), &err);
		if (r->glue) {
			struct enrich_ctx x = {
				.http = r->h, .glue = r->glue, .creds = awsauth_source(r->auth),
				.om = r->om, .wf = r->wf, .lg = &r->lg,
				.accounts = r->o.accounts, .owner_tag = r->o.owner_tag,
				.s3_concurrency = r->o.glue_concurrency,
				.memo = r->memo, .next = r->next,
			};

			r->enrich = enrich_new(&x, &err);
		}
		if (r->glue && r->enrich) {
			list_workflows(r);
			r->pending++;
			enrich_prepare(r->enrich, on_prepared, r);
		} else {
			fatal(r, "%s", err.msg);
		}
	}
	settle(r);
}

/* ---- service ---- */

static void
start_main(struct run *r)
{
	cJSON *early = r->early, *page;
	int n = cJSON_GetArraySize(early), i = 0;

	r->phase = P_MAIN;
	r->early = NULL;
	cJSON_ArrayForEach(page, early) {
		if (stopping(r))
			break;
		process_page(r, page, ++i < n || r->early_followed);
	}
	cJSON_Delete(early);
	/* the page followed last failed while OpenMetadata was being read */
	if (r->early_followed && !r->list_busy)
		submit_batches(r, 1);
}

/* Main begins once the service is there and, for an incremental run, the
 * service's pipelines with their sourceHash are known. */
static void
maybe_main(struct run *r)
{
	if (r->phase == P_SERVICE && r->service_ready && r->known_state != 1 && !stopping(r))
		start_main(r);
}

/* A page of the service's pipelines (extra: more query, "&fields=..."),
 * after the cursor when there is one; malloc'd, NULL without memory. */
static char *
pipelines_page(const struct run *r, const char *extra, const char *cursor)
{
	char *svc = str_urlencode(r->wf->service_name);
	char *after = cursor ? str_urlencode(cursor) : NULL;
	struct buf path = {0};

	if (svc && (!cursor || after) &&
	    buf_printf(&path, "/v1/pipelines?service=%s%s&limit=%d%s%s", svc, extra, OM_LIST_PAGE,
	               after ? "&after=" : "", after ? after : "") < 0)
		buf_clear(&path);
	free(svc);
	free(after);
	return path.data ? buf_steal(&path) : NULL;
}

static void list_known(struct run *r);

static void
before_main(struct run *r)
{
	r->service_ready = 1;
	maybe_main(r);
}

static void
on_known(const struct om_result *res, void *arg)
{
	struct run *r = arg;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(res->json, "data"), *p;
	const char *after = jstr(cJSON_GetObjectItemCaseSensitive(res->json, "paging"), "after");

	if (res->cancelled || stopping(r)) {
		r->known_state = 2;
		settle(r);
		return;
	}
	if (!res->ok || !cJSON_IsArray(data)) {
		log_warning(&r->lg, "listing the service's pipelines failed, writing every pipeline: %s",
		            res->ok ? "malformed reply" : res->message);
		strmap_clear(&r->known);
		strmap_clear(&r->listed);
		r->known_state = 2;
		maybe_main(r);
		settle(r);
		return;
	}
	cJSON_ArrayForEach(p, data) {
		const char *name = jstr(p, "name"), *id = jstr(p, "id"), *h = jstr(p, "sourceHash");
		char v[128];

		if (name && id && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "deleted")) &&
		    strmap_put(&r->listed, name, id) < 0) {
			fatal(r, "out of memory");
			break;
		}
		if (name && id && h && strlen(h) == 32 && strlen(id) < 64) {
			snprintf(v, sizeof(v), "%s:%s", h, id);
			strmap_put(&r->known, name, v);
		}
	}
	free(r->known_after);
	r->known_after = NULL;
	if (after && *after && ++r->known_pages < 100000 && (r->known_after = strdup(after))) {
		list_known(r);
	} else {
		r->known_complete = !after || !*after;
		r->known_state = 2;
		maybe_main(r);
	}
	settle(r);
}

/* Incremental runs: the service's pipelines with their sourceHash, read
 * beside the service itself, so that unchanged ones are not written again. */
static void
list_known(struct run *r)
{
	char *path = pipelines_page(r, "&fields=sourceHash", r->known_after);

	r->known_state = 1;
	if (path)
		om(r, "GET", path, NULL, on_known, r);
	else
		r->known_state = 2;
	free(path);
}

static void
on_service_put(const struct om_result *res, void *arg)
{
	struct run *r = arg;

	if (res->ok) {
		r->st.sink.records++;
		log_info(&r->lg, "created pipeline service '%s'", r->wf->service_name);
		before_main(r);
	} else if (!res->cancelled) {
		fatal(r, "cannot create pipeline service '%s': %s", r->wf->service_name, res->message);
	}
	settle(r);
}

static void
on_service_get(const struct om_result *res, void *arg)
{
	struct run *r = arg;
	const char *type = jstr(res->json, "serviceType");

	if (res->ok) {
		if (type && strcmp(type, "GluePipeline") != 0)
			fatal(r, "pipeline service '%s' exists with serviceType %s, not GluePipeline",
			      r->wf->service_name, type);
		else
			before_main(r);
	} else if (res->status == 404) {
		cJSON *body = entity_service_request(r->wf->service_name,
		                                     r->wf->store_service_connection
		                                         ? r->wf->connection_config : NULL);
		if (!body)
			fatal(r, "out of memory");
		else
			om(r, "PUT", "/v1/services/pipelineServices", body, on_service_put, r);
	} else if (!res->cancelled) {
		fatal(r, "cannot read pipeline service '%s': %s", r->wf->service_name, res->message);
	}
	settle(r);
}

static void
on_version(const struct om_result *res, void *arg)
{
	struct run *r = arg;
	const char *v = jstr(res->json, "version");
	int major = 0, minor = 0;

	if (!res->ok) {
		if (res->cancelled)
			;
		else if (res->status == 401 || res->status == 403)
			fatal(r, "OpenMetadata at %s refused the bot's JWT "
			      "(workflowConfig.openMetadataServerConfig.securityConfig.jwtToken): %s",
			      r->wf->om_host_port, res->message);
		else
			fatal(r, "cannot reach OpenMetadata at %s: %s", r->wf->om_host_port, res->message);
	} else if (!v || sscanf(v, "%d.%d", &major, &minor) != 2) {
		fatal(r, "OpenMetadata at %s did not report its version", r->wf->om_host_port);
	} else if (r->wf->enable_version_validation &&
	           (major != 1 || minor < OM_MIN_MINOR)) {
		fatal(r, "OpenMetadata %s is not supported (1.%d or newer is needed; set "
		      "enableVersionValidation: false to try anyway)", v, OM_MIN_MINOR);
	} else {
		if (major == 1 && minor > OM_SCHEMA_MINOR)
			log_notice(&r->lg, "OpenMetadata %s is newer than the 1.%d schemas gluemetad "
			           "writes", v, OM_SCHEMA_MINOR);
		log_debug(&r->lg, "OpenMetadata %s", v);
	}
	settle(r);
}

/* ---- markDeletedPipelines ---- */

static int
cmp_item_name(const void *a, const void *b)
{
	return strcmp((*(struct item *const *)a)->name, (*(struct item *const *)b)->name);
}

static int
seen(const struct run *r, const char *name)
{
	struct item key = { .name = (char *)name }, *kp = &key;

	if (!r->n_items)
		return 0;
	return bsearch(&kp, r->items, r->n_items, sizeof(*r->items), cmp_item_name) != NULL;
}

static void
on_delete(const struct om_result *res, void *arg)
{
	struct run *r = arg;

	if (res->ok) {
		r->st.sink.records++;
		r->st.pipelines_deleted++;
		log_info(&r->lg, "'%s': marked deleted: the workflow is gone from Glue or filtered "
		         "out", jstr(res->json, "name") ? jstr(res->json, "name") : "?");
	} else if (!res->cancelled) {
		r->st.sink.errors++;
		log_err(&r->lg, "marking a pipeline deleted failed: %s", res->message);
	}
	settle(r);
}

static void list_om_pipelines(struct run *r);

/* A pipeline of the service that OpenMetadata lists and Glue no longer
 * does is marked deleted. */
static void
maybe_delete(struct run *r, const char *name, const char *id)
{
	char *path;

	if (!name || !id || seen(r, name) || stopping(r))
		return;
	path = str_urlencode_printf("/v1/pipelines/%s?hardDelete=false&recursive=true", id);
	if (path)
		om(r, "DELETE", path, NULL, on_delete, r);
	free(path);
}

static void
on_om_list(const struct om_result *res, void *arg)
{
	struct run *r = arg;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(res->json, "data"), *p;
	const cJSON *paging = cJSON_GetObjectItemCaseSensitive(res->json, "paging");
	const char *after = jstr(paging, "after");

	if (!res->ok || !cJSON_IsArray(data)) {
		if (!res->cancelled) {
			r->st.sink.errors++;
			log_err(&r->lg, "listing the service's pipelines failed, not marking any deleted: %s",
			        res->ok ? "malformed reply" : res->message);
		}
		goto out;
	}
	cJSON_ArrayForEach(p, data) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "deleted")))
			maybe_delete(r, jstr(p, "name"), jstr(p, "id"));
	}
	if (after && *after && r->om_after && strcmp(after, r->om_after) == 0) {
		r->st.sink.errors++;
		log_err(&r->lg, "listing the service's pipelines returned the same 'after' cursor "
		        "twice; not reading further pages");
		after = NULL;
	}
	free(r->om_after);
	r->om_after = NULL;
	if (after && *after && ++r->om_pages < 100000 && (r->om_after = strdup(after)))
		list_om_pipelines(r);
out:
	settle(r);
}

static void
list_om_pipelines(struct run *r)
{
	char *path = pipelines_page(r, "", r->om_after);

	if (path)
		om(r, "GET", path, NULL, on_om_list, r);
	else
		r->st.sink.errors++;
	free(path);
}

static void
start_delete(struct run *r)
{
	r->phase = P_DELETE;
	if (!r->wf->mark_deleted || stopping(r))
		return;
	if (r->listing_failed || !r->listing_done) {
		r->st.deletion_skipped = 1;
		r->st.source.warnings++;
		log_warning(&r->lg, "not marking any pipeline deleted: the Glue listing did not complete");
		return;
	}
	if (r->n_items)         /* qsort and bsearch take no NULL array */
		qsort(r->items, r->n_items, sizeof(*r->items), cmp_item_name);
	if (r->known_complete) {        /* the incremental run listed them already */
		size_t i;

		for (i = 0; i < r->listed.cap; i++)
			if (r->listed.v[i].key)
				maybe_delete(r, r->listed.v[i].key, r->listed.v[i].value);
		return;
	}
	list_om_pipelines(r);
}

/* ---- ingestionPipelineFQN: the run reported as OpenMetadata's workflow does ---- */

static void
on_report(const struct om_result *res, void *arg)
{
	struct run *r = arg;

	if (!res->ok && !res->cancelled) {
		r->st.sink.warnings++;
		log_warning(&r->lg, "reporting the run to ingestion pipeline '%s' failed: %s",
		            r->wf->ingestion_pipeline_fqn, res->message);
	}
	settle(r);
}

static cJSON *
step_json(const char *name, const struct run_step *s)
{
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddStringToObject(o, "name", name) &&
	    cJSON_AddNumberToObject(o, "records", (double)s->records) &&
	    cJSON_AddNumberToObject(o, "updated_records", (double)s->updated) &&
	    cJSON_AddNumberToObject(o, "warnings", (double)s->warnings) &&
	    cJSON_AddNumberToObject(o, "errors", (double)s->errors) &&
	    cJSON_AddNumberToObject(o, "filtered", (double)s->filtered))
		return o;
	cJSON_Delete(o);
	return NULL;
}

unsigned long
run_stats_errors(const struct run_stats *st)
{
	return st->source.errors + st->sink.errors + (st->fatal ? 1 : 0);
}

double
run_stats_success_pct(const struct run_stats *st)
{
	unsigned long ok = st->source.records + st->sink.records, bad = run_stats_errors(st);

	return ok + bad ? 100.0 * (double)ok / (double)(ok + bad) : 100.0;
}

const char *
run_result(const struct run *r)
{
	if (r->cancelled)
		return "stopped";
	if (r->st.fatal)
		return "failed";
	if (!run_stats_errors(&r->st))
		return "success";
	return run_stats_success_pct(&r->st) >= (double)r->wf->success_threshold
	       ? "partialSuccess" : "failed";
}

static void
report(struct run *r, const char *state)
{
	cJSON *o = cJSON_CreateObject(), *steps;
	char *path;

	if (!r->wf->ingestion_pipeline_fqn || !o)
		goto out;
	if (!cJSON_AddStringToObject(o, "runId", r->run_id) ||
	    !cJSON_AddStringToObject(o, "pipelineState", state) ||
	    !cJSON_AddNumberToObject(o, "startDate", (double)r->started_ms) ||
	    !cJSON_AddNumberToObject(o, "timestamp", (double)r->started_ms))
		goto out;
	if (strcmp(state, "running") != 0) {
		if (!cJSON_AddNumberToObject(o, "endDate", (double)time_now_ms()) ||
		    !(steps = cJSON_AddArrayToObject(o, "status")) ||
		    !cJSON_AddItemToArray(steps, step_json("Source", &r->st.source)) ||
		    !cJSON_AddItemToArray(steps, step_json("Sink", &r->st.sink)))
			goto out;
	}
	path = str_urlencode_printf("/v1/services/ingestionPipelines/%s/pipelineStatus",
	                   r->wf->ingestion_pipeline_fqn);
	if (path) {
		om(r, "PUT", path, o, on_report, r);
		o = NULL;
	}
	free(path);
out:
	cJSON_Delete(o);
}

/* ---- usage percentiles, as OpenMetadata's sources ask at the end ---- */

static void
on_percentile(const struct om_result *res, void *arg)
{
	struct run *r = arg;

	if (!res->ok && !res->cancelled)
		log_warning(&r->lg, "asking OpenMetadata to compute usage percentiles failed: %s",
		            res->message);
	settle(r);
}

static void
compute_percentile(struct run *r)
{
	time_t now = (time_t)(time_now_ms() / 1000);
	struct tm tm;
	char date[16], path[96];

	if (!gmtime_r(&now, &tm) || strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		return;
	snprintf(path, sizeof(path), "/v1/usage/compute.percentile/pipeline/%s", date);
	om(r, "POST", path, NULL, on_percentile, r);
}

/* ---- phases ---- */

/* The LastRun of each workflow whose runs were all written and ended. */
static void
remember_runs(struct run *r)
{
	size_t i;

	for (i = 0; r->next && !r->cancelled && i < r->n_items; i++) {
		struct item *it = r->items[i];
		char key[128];

		if (it->failed || it->unfinished || !it->statuses_sent || !it->id || !it->last_fp[0])
			continue;
		snprintf(key, sizeof(key), "r\x1f%s", it->id);
		memo_put(r->next, key, it->last_fp);
	}
}

static void
finish(struct run *r)
{
	r->phase = P_DONE;
	enrich_take_counts(r->enrich, &r->st.source, &r->st.sink);
	remember_runs(r);
	if (r->glue_pool && r->om_pool) {       /* not when the secrets failed */
		r->st.glue_requests = http_pool_requests(r->glue_pool);
		r->st.om_requests = http_pool_requests(r->om_pool);
		r->st.glue_throttled = http_pool_throttled(r->glue_pool);
		r->st.om_throttled = http_pool_throttled(r->om_pool);
		r->st.glue_limit_min = http_pool_limit_min(r->glue_pool);
		r->st.om_limit_min = http_pool_limit_min(r->om_pool);
	}
	r->st.glue_limit_max = r->o.glue_concurrency;
	r->st.om_limit_max = r->o.om_concurrency;
	if (r->st.glue_throttled || r->st.om_throttled)
		log_info(&r->lg, "throttled: Glue %lu replies (concurrency down to %u of %u), "
		         "OpenMetadata %lu (down to %u of %u)", r->st.glue_throttled,
		         r->st.glue_limit_min, r->o.glue_concurrency, r->st.om_throttled,
		         r->st.om_limit_min, r->o.om_concurrency);
	if (r->cancelled)
		r->st.cancelled = 1;
	r->done(r, r->arg);
}

static void
advance(struct run *r)
{
	if (r->pending)
		return;
	switch (r->phase) {
	case P_START:
		if (stopping(r)) {
			r->phase = P_DELETE;
			advance(r);
			return;
		}
		r->phase = P_SERVICE;
		r->pending++;           /* held while we submit */
		{
			char *q = entity_quote_name(r->wf->service_name);
			char *path = q ? str_urlencode_printf("/v1/services/pipelineServices/name/%s", q) : NULL;

			if (path)
				om(r, "GET", path, NULL, on_service_get, r);
			else
				fatal(r, "the service name '%s' cannot be an OpenMetadata name",
				      r->wf->service_name);
			if (path && r->next && !r->o.full)
				list_known(r);
			if (path)
				follow_early(r);
			free(q);
			free(path);
		}
		r->pending--;
		if (r->pending)
			return;
		break;
	case P_SERVICE:
		if (stopping(r)) {
			r->phase = P_DELETE;
			advance(r);
			return;
		}
		return;         /* start_main moved on, or fatal() stopped us */
	case P_MAIN:
		r->pending++;
		start_delete(r);
		r->pending--;
		if (!r->pending)
			advance(r);     /* nothing to delete: on to the report */
		return;
	case P_DELETE:
		r->phase = P_REPORT;
		enrich_take_counts(r->enrich, &r->st.source, &r->st.sink);
		r->pending++;
		if (r->usage_written && !stopping(r))
			compute_percentile(r);
		if (r->wf->ingestion_pipeline_fqn && !r->cancelled)
			report(r, run_result(r));
		r->pending--;
		if (r->pending)
			return;
		break;
	case P_REPORT:
		break;
	case P_DONE:
		return;
	}
	finish(r);
}

static int begin(struct run *r, struct gm_err *err);

static void
on_secrets(int rc, const char *why, void *arg)
{
	struct run *r = arg;
	struct gm_err err = {{0}};

	if (r->secrets_state != 1) {    /* resolved before secrets_resolve() returned */
		r->secrets_state = rc < 0 ? -1 : 2;
		snprintf(r->secrets_why, sizeof(r->secrets_why), "%s", why ? why : "");
		return;
	}
	r->secrets_state = rc < 0 ? -1 : 2;
	if (rc < 0 || r->cancelled) {
		if (!r->cancelled)
			fatal(r, "%s: %s", r->wf->path, why ? why : "secrets cannot be resolved");
		finish(r);
		return;
	}
	r->wf = secrets_wf(r->secrets);
	if (begin(r, &err) < 0) {
		fatal(r, "%s", err.msg);
		finish(r);
	}
}

int
run_start(struct http *h, const struct wf *wf, const struct run_opts *opts, run_done_cb done,
          void *arg, struct run **ret, struct gm_err *err)
{
	struct run *r = calloc(1, sizeof(*r));
	int64_t now;

	if (!r) {
		gm_err_set(err, "out of memory");
		return -ENOMEM;
	}
	r->h = h;
	r->wf = wf;
	r->lg.workflow = opts ? opts->log_workflow : NULL;
	r->lg.run = opts ? opts->run_id : NULL;
	r->done = done;
	r->arg = arg;
	if (opts)
		r->o = *opts;
	if (r->o.memo_settings) {
		r->memo = r->o.full ? NULL : r->o.memo;
		if (!(r->next = memo_new(r->o.memo_settings))) {
			gm_err_set(err, "out of memory");
			goto fail;
		}
	}
	if (!r->o.glue_concurrency)
		r->o.glue_concurrency = 8;
	if (!r->o.om_concurrency)
		r->o.om_concurrency = 8;
	if (!r->o.max_runs_per_workflow)
		r->o.max_runs_per_workflow = 1000;
	if (!r->o.max_list_pages)
		r->o.max_list_pages = 10000;
	now = r->o.now_ms ? r->o.now_ms : time_now_ms();
	r->cutoff_ms = now - wf->status_lookback_days * 86400000LL;
	r->usage_from_ms = usage_from(r->cutoff_ms);
	r->started_ms = time_now_ms();
	if (secrets_needed(wf)) {
		r->secrets = secrets_resolve(h, wf, &r->lg, on_secrets, r);
		if (!r->secrets) {
			gm_err_set(err, "out of memory");
			goto fail;
		}
		if (r->secrets_state < 0) {
			gm_err_set(err, "%s: %s", wf->path, r->secrets_why);
			goto fail;
		}
		if (r->secrets_state == 0) {
			r->secrets_state = 1;   /* on_secrets() goes on */
			*ret = r;
			return 0;
		}
		r->wf = secrets_wf(r->secrets);
	}
	if (begin(r, err) < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	run_free(r);
	return -EINVAL;
}

/* Everything after the secrets: pools, clients, the first requests. */
static int
begin(struct run *r, struct gm_err *err)
{
	const struct wf *wf = r->wf;
	struct http *h = r->h;
	struct http_tls tls = { .verify = 1 };

	if (strcmp(wf->verify_ssl, "ignore") == 0)
		tls.verify = 0;
	if (strcmp(wf->verify_ssl, "validate") == 0) {
		tls.ca_file = wf->ca_certificate;
		tls.cert_file = wf->ssl_certificate;
		tls.key_file = wf->ssl_key;
	}
	if (filter_new(&wf->filter_includes, &wf->filter_excludes, &r->filter) < 0) {
		gm_err_set(err, "%s: pipelineFilterPattern cannot be compiled", wf->path);
		return -EINVAL;
	}
	r->glue_pool = http_pool_new(h, "glue", r->o.glue_concurrency, NULL);
	r->om_pool = http_pool_new(h, "openmetadata", r->o.om_concurrency, &tls);
	if (!r->glue_pool || !r->om_pool) {
		gm_err_set(err, "out of memory");
		return -EINVAL;
	}
	if (!(r->endpoint = wf->endpoint_url ? strdup(wf->endpoint_url)
	                                     : aws_endpoint_for("glue", wf->aws_region))) {
		gm_err_set(err, "%s: awsConfig.awsRegion '%s' is not a valid AWS region name",
		           wf->path, wf->aws_region);
		return -EINVAL;
	}
	r->om = om_client_new(r->om_pool, wf->om_host_port, wf->jwt_token);
	r->auth = awsauth_new(http_loop(h), r->glue_pool, wf, &r->lg);
	if (!r->om || !r->auth) {
		gm_err_set(err, "out of memory");
		return -EINVAL;
	}
	if (wf->pipeline_run_id)
		snprintf(r->run_id, sizeof(r->run_id), "%s", wf->pipeline_run_id);
	else if (r->o.run_id)
		snprintf(r->run_id, sizeof(r->run_id), "%s", r->o.run_id);
	else
		str_uuid4(r->run_id);
	r->pending++;
	om(r, "GET", "/v1/system/version", NULL, on_version, r);
	report(r, "running");
	r->pending++;
	awsauth_wait(r->auth, on_creds, r);
	settle(r);
	return 0;
}


void
run_cancel(struct run *r)
{
	if (r->phase == P_DONE || r->cancelled)
		return;
	r->cancelled = 1;
	if (r->secrets_state == 1)
		secrets_cancel(r->secrets);
	awsauth_cancel(r->auth);
	enrich_cancel(r->enrich);
	if (r->glue_pool)               /* none yet while secrets are resolved */
		http_pool_cancel(r->glue_pool);
	if (r->om_pool)
		http_pool_cancel(r->om_pool);
}

struct memo *
run_take_memo(struct run *r)
{
	struct memo *m = r->next;

	r->next = NULL;
	return m;
}

const struct run_stats *
run_stats(const struct run *r)
{
	return &r->st;
}

struct run *
run_free(struct run *r)
{
	size_t i;

	if (!r)
		return NULL;
	for (i = 0; i < r->n_items; i++) {
		free(r->items[i]->name);
		free(r->items[i]->fqn);
		free(r->items[i]->runs_token);
		cJSON_Delete(r->items[i]->statuses);
		cJSON_Delete(r->items[i]->usage_runs);
		cJSON_Delete(r->items[i]->req);
		cJSON_Delete(r->items[i]->jobs);
		free(r->items[i]->description);
		free(r->items[i]->id);
		enrich_want_clear(&r->items[i]->want);
		free(r->items[i]);
	}
	free(r->items);
	cJSON_Delete(r->early);
	free(r->list_token);
	free(r->om_after);
	free(r->known_after);
	strmap_clear(&r->known);
	strmap_clear(&r->listed);
	memo_free(r->next);
	filter_free(r->filter);
	free(r->endpoint);
	enrich_free(r->enrich);
	aws_client_free(r->glue);
	awsauth_free(r->auth);
	om_client_free(r->om);
	if (r->glue_pool)
		http_pool_free(r->glue_pool);
	if (r->om_pool)
		http_pool_free(r->om_pool);
	secrets_free(r->secrets);
	free(r);
	return NULL;
}
