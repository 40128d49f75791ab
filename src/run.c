/* run — one ingestion; see include/run.h.  This file owns the run's
 * phases and their one transition function, the pipeline service, the
 * deletions and the report; include/run_int.h says what the other files
 * of the run own. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "awsauth.h"
#include "enrich.h"
#include "filter.h"
#include "glue.h"
#include "http.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "run.h"
#include "run_int.h"
#include "secrets.h"
#include "util.h"
#include "wf.h"

#define OM_MIN_MINOR 9          /* oldest OpenMetadata 1.x we write to */
#define OM_SCHEMA_MINOR 13      /* the schemas our bodies follow */

static void advance(struct run *r);

const char *
run__jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
run__stopping(const struct run *r)
{
	return r->cancelled || r->st.fatal;
}

void
run__fatal(struct run *r, const char *fmt, ...)
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

void
run__settle(struct run *r)
{
	if (join_done(&r->join))
		advance(r);
}

struct run *
run__om_sent(struct run *r)
{
	join_add(&r->join, 1);
	r->om_backlog++;
	return r;
}

void
run__om_landed(struct run *r)
{
	r->om_backlog--;
	run__resume_runs(r);
}

static void
on_prepared(void *arg)
{
	run__settle(arg);
}

static void
on_creds(int rc, const char *why, void *arg)
{
	struct run *r = arg;
	struct gm_err err = {{0}};

	if (rc < 0) {
		if (!r->cancelled)
			run__fatal(r, "%s", why ? why : "no AWS credentials");
	} else if (!run__stopping(r)) {
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
			r->lister = glue_lister_new(r->glue, r->o.max_list_pages);
			if (!r->lister)
				gm_err_set(&err, "out of memory");
		}
		if (r->glue && r->enrich && r->lister) {
			if (r->o.n_only)
				run__list_only(r);
			else
				run__list_next(r);
			join_add(&r->join, 1);
			enrich_prepare(r->enrich, on_prepared, r);
		} else {
			run__fatal(r, "%s", err.msg);
		}
	}
	run__settle(r);
}

static void transition(struct run *r, enum run_phase to);

/* Main begins once the service is there and, for an incremental run, the
 * service's pipelines with their sourceHash are known. */
static void
maybe_main(struct run *r)
{
	if (r->phase == PHASE_SERVICE && r->service_ready && r->known_state != KNOWN_READING &&
	    !run__stopping(r))
		transition(r, PHASE_MAIN);
}

/* The service is there (or was created): the main phase may begin. */
static void
service_ready(struct run *r)
{
	r->service_ready = 1;
	maybe_main(r);
}

/* A run that skips what the memo says OpenMetadata has. */
static int
incremental(const struct run *r)
{
	return r->next && !r->o.full;
}

/* Asks the run's lister for its next page of the service's pipelines. */
static void
list_pipelines(struct run *r, om_pipelines_cb cb)
{
	om_lister_next(run__om_sent(r)->om_lister, cb, r);
}

/* The service's pipelines, read beside the service itself: with their
 * sourceHash on an incremental run, so that unchanged ones are not written
 * again; which ones exist, so that a new pipeline gets its owner in its PUT;
 * and kept for the deletions. */
static void
on_known(const struct om_pipelines *page, void *arg)
{
	struct run *r = arg;
	size_t i;

	run__om_landed(r);
	if (page->res->cancelled || run__stopping(r)) {
		r->known_state = KNOWN_READ;
		run__settle(r);
		return;
	}
	if (!page->res->ok || page->malformed) {
		log_warning(&r->lg, "listing the service's pipelines failed, writing every pipeline: %s",
		            page->res->ok ? "malformed reply" : page->res->message);
		strmap_clear(&r->known);
		strmap_clear(&r->listed);
		strmap_clear(&r->present);
		r->known_state = KNOWN_READ;
		maybe_main(r);
		run__settle(r);
		return;
	}
	for (i = 0; i < page->n; i++) {
		const struct om_pipeline_entry *e = &page->v[i];
		char v[128];

		if ((!e->deleted && strmap_put(&r->listed, e->name, e->id) < 0) ||
		    strmap_put(&r->present, e->name, NULL) < 0) {
			run__fatal(r, "out of memory");
			break;
		}
		if (incremental(r) && !e->deleted && e->source_hash && strlen(e->id) < 64 &&
		    memo_pipeline_value(e->source_hash, e->id, v, sizeof(v)) == 0)
			strmap_put(&r->known, e->name, v);
	}
	if (page->end == OM_PAGE_MORE) {
		list_pipelines(r, on_known);
	} else {
		r->known_complete = page->end == OM_PAGE_LAST;
		r->known_state = KNOWN_READ;
		maybe_main(r);
	}
	run__settle(r);
}

static void
on_service_put(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;

	run__om_landed(r);
	if (rep->res->ok) {
		r->st.sink.records++;
		log_info(&r->lg, "created pipeline service '%s'", r->wf->service_name);
		service_ready(r);
	} else if (!rep->res->cancelled) {
		run__fatal(r, "cannot create pipeline service '%s': %s", r->wf->service_name,
		           rep->res->message);
	}
	run__settle(r);
}

static void
on_service_get(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;
	const char *type = rep->service_type;

	run__om_landed(r);
	if (rep->res->ok) {
		if (type && strcmp(type, "GluePipeline") != 0)
			run__fatal(r, "pipeline service '%s' exists with serviceType %s, not GluePipeline",
			           r->wf->service_name, type);
		else
			service_ready(r);
	} else if (rep->res->status == 404) {
		om_put_service(run__om_sent(r)->om, r->wf->service_name,
		               r->wf->store_service_connection ? r->wf->connection_config : NULL,
		               on_service_put, r);
	} else if (!rep->res->cancelled) {
		run__fatal(r, "cannot read pipeline service '%s': %s", r->wf->service_name,
		           rep->res->message);
	}
	run__settle(r);
}

/* The service, the known pipelines of an incremental run, and the
 * listing read ahead; -EINVAL when the service name cannot be used. */
static int
start_service(struct run *r)
{
	run__om_sent(r);
	if (om_get_service(r->om, r->wf->service_name, on_service_get, r) < 0) {
		run__om_landed(r);
		(void)join_done(&r->join);
		run__fatal(r, "the service name '%s' cannot be an OpenMetadata name",
		           r->wf->service_name);
		return -EINVAL;
	}
	if (incremental(r) || (r->wf->include_owners && !r->o.n_only)) {
		r->known_state = KNOWN_READING;
		if ((r->om_lister = om_lister_new(r->om, r->wf->service_name, 1)))
			list_pipelines(r, on_known);
		else
			r->known_state = KNOWN_READ;
	}
	run__list_follow_early(r);
	return 0;
}

static void
on_version(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;
	const struct om_result *res = rep->res;

	run__om_landed(r);
	if (!res->ok) {
		if (res->cancelled)
			;
		else if (res->status == 401 || res->status == 403)
			run__fatal(r, "OpenMetadata at %s refused the bot's JWT "
			           "(workflowConfig.openMetadataServerConfig.securityConfig.jwtToken): %s",
			           r->wf->om_host_port, res->message);
		else
			run__fatal(r, "cannot reach OpenMetadata at %s: %s", r->wf->om_host_port,
			           res->message);
	} else if (!rep->version || (rep->major == -1 && rep->minor == -1)) {
		run__fatal(r, "OpenMetadata at %s did not report its version", r->wf->om_host_port);
	} else if (r->wf->enable_version_validation &&
	           (rep->major != 1 || rep->minor < OM_MIN_MINOR)) {
		run__fatal(r, "OpenMetadata %s is not supported (1.%d or newer is needed; set "
		           "enableVersionValidation: false to try anyway)", rep->version, OM_MIN_MINOR);
	} else {
		if (rep->major == 1 && rep->minor > OM_SCHEMA_MINOR)
			log_notice(&r->lg, "OpenMetadata %s is newer than the 1.%d schemas gluemetad "
			           "writes", rep->version, OM_SCHEMA_MINOR);
		log_debug(&r->lg, "OpenMetadata %s", rep->version);
	}
	run__settle(r);
}

static int
cmp_item_name(const void *a, const void *b)
{
	return strcmp((*(struct item *const *)a)->name, (*(struct item *const *)b)->name);
}

/* Whether Glue listed (and the filter kept) name; the items are sorted. */
static int
seen(const struct run *r, const char *name)
{
	size_t lo = 0, hi = r->n_items;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, r->items[mid]->name);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static void
on_delete(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;

	run__om_landed(r);
	if (rep->res->ok) {
		r->st.sink.records++;
		r->st.pipelines_deleted++;
		log_info(&r->lg, "'%s': marked deleted: the workflow is gone from Glue or filtered "
		         "out", rep->name ? rep->name : "?");
	} else if (!rep->res->cancelled) {
		r->st.sink.errors++;
		log_err(&r->lg, "marking a pipeline deleted failed: %s", rep->res->message);
	}
	run__settle(r);
}

/* A pipeline of the service that OpenMetadata lists and Glue no longer
 * does is marked deleted. */
static void
maybe_delete(struct run *r, const char *name, const char *id)
{
	if (!name || !id || seen(r, name) || run__stopping(r))
		return;
	om_delete_pipeline(run__om_sent(r)->om, id, on_delete, r);
}

static void
on_listed(const struct om_pipelines *page, void *arg)
{
	struct run *r = arg;
	size_t i;

	run__om_landed(r);
	if (!page->res->ok || page->malformed) {
		if (!page->res->cancelled) {
			r->st.sink.errors++;
			log_err(&r->lg, "listing the service's pipelines failed, not marking any deleted: %s",
			        page->res->ok ? "malformed reply" : page->res->message);
		}
		goto out;
	}
	for (i = 0; i < page->n; i++)
		if (!page->v[i].deleted)
			maybe_delete(r, page->v[i].name, page->v[i].id);
	if (page->end == OM_PAGE_REPEATED) {
		r->st.sink.errors++;
		log_err(&r->lg, "listing the service's pipelines returned the same 'after' cursor "
		        "twice; not reading further pages");
	} else if (page->end == OM_PAGE_MORE) {
		list_pipelines(r, on_listed);
	}
out:
	run__settle(r);
}

static void
start_delete(struct run *r)
{
	size_t i;

	if (!r->wf->mark_deleted || r->o.n_only || run__stopping(r))
		return;
	if (r->listing != LISTING_DONE) {
		r->st.deletion_skipped = 1;
		r->st.source.warnings++;
		log_warning(&r->lg, "not marking any pipeline deleted: the Glue listing did not complete");
		return;
	}
	if (r->n_items)         /* qsort takes no NULL array */
		qsort(r->items, r->n_items, sizeof(*r->items), cmp_item_name);
	if (r->known_complete) {        /* the incremental run listed them already */
		for (i = 0; i < r->listed.cap; i++)
			if (r->listed.v[i].key)
				maybe_delete(r, r->listed.v[i].key, r->listed.v[i].value);
		return;
	}
	r->om_lister = om_lister_free(r->om_lister);
	if (!(r->om_lister = om_lister_new(r->om, r->wf->service_name, 0))) {
		r->st.sink.errors++;
		return;
	}
	list_pipelines(r, on_listed);
}

static void
on_report(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;

	run__om_landed(r);
	if (!rep->res->ok && !rep->res->cancelled) {
		r->st.sink.warnings++;
		log_warning(&r->lg, "reporting the run to ingestion pipeline '%s' failed: %s",
		            r->wf->ingestion_pipeline_fqn, rep->res->message);
	}
	run__settle(r);
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

/* The run reported to ingestionPipelineFQN as OpenMetadata's workflow does. */
static void
report(struct run *r, const char *state)
{
	const struct run_step *src = &r->st.source, *snk = &r->st.sink;
	struct om_step steps[2] = {
		{ "Source", src->records, src->updated, src->warnings, src->errors, src->filtered },
		{ "Sink", snk->records, snk->updated, snk->warnings, snk->errors, snk->filtered },
	};
	struct om_ingestion_run run = {
		.run_id = r->run_id, .state = state, .start_ms = r->started_ms,
		.end_ms = time_now_ms(), .steps = steps, .n_steps = 2,
	};

	if (r->wf->ingestion_pipeline_fqn)
		om_put_ingestion_status(run__om_sent(r)->om, r->wf->ingestion_pipeline_fqn, &run,
		                        on_report, r);
}

static void
on_percentile(const struct om_reply *rep, void *arg)
{
	struct run *r = arg;

	run__om_landed(r);
	if (!rep->res->ok && !rep->res->cancelled)
		log_warning(&r->lg, "asking OpenMetadata to compute usage percentiles failed: %s",
		            rep->res->message);
	run__settle(r);
}

/* Usage percentiles, as OpenMetadata's sources ask at the end. */
static void
compute_percentile(struct run *r)
{
	char date[11];

	run__day_of(time_now_ms(), date);
	if (date[0])
		om_compute_percentile(run__om_sent(r)->om, date, on_percentile, r);
}

/* The LastRun of each workflow whose runs were all written and ended. */
static void
remember_runs(struct run *r)
{
	size_t i;

	for (i = 0; r->next && !r->cancelled && i < r->n_items; i++) {
		struct item *it = r->items[i];
		char key[128];

		if (it->failed || it->unfinished || it->runs != RUNS_SENT || !it->id ||
		    !it->last_fp[0] || memo_key(MEMO_RUNS, it->id, NULL, key, sizeof(key)) < 0)
			continue;
		memo_put(r->next, key, it->last_fp);
	}
}

static void
finish(struct run *r)
{
	enrich_take_counts(r->enrich, &r->st.source, &r->st.sink);
	remember_runs(r);
	if (r->glue_pool && r->om_pool) {       /* not when the secrets failed */
		const struct http_pool_view *g = http_pool_view(r->glue_pool);
		const struct http_pool_view *o = http_pool_view(r->om_pool);

		r->st.glue_requests = g->requests;
		r->st.om_requests = o->requests;
		r->st.glue_throttled = g->throttled;
		r->st.om_throttled = o->throttled;
		r->st.glue_limit_min = g->limit_min;
		r->st.om_limit_min = o->limit_min;
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

/* The only writer of r->phase: enters phase to and submits what it begins
 * with, holding a count of the join meanwhile so that a callback run at
 * once cannot end the phase early. */
static void
transition(struct run *r, enum run_phase to)
{
	r->phase = to;
	if (to == PHASE_DONE) {
		finish(r);              /* r may be gone */
		return;
	}
	join_add(&r->join, 1);
	switch (to) {
	case PHASE_SERVICE:
		if (start_service(r) < 0) {
			/* nothing was asked for: the run ends without a report */
			(void)join_done(&r->join);
			transition(r, PHASE_DONE);
			return;
		}
		break;
	case PHASE_MAIN:
		run__list_main(r);
		break;
	case PHASE_DELETE:
		start_delete(r);
		break;
	case PHASE_REPORT:
		enrich_take_counts(r->enrich, &r->st.source, &r->st.sink);
		if (r->st.usage_written && !run__stopping(r))
			compute_percentile(r);
		if (r->wf->ingestion_pipeline_fqn && !r->cancelled && !r->o.n_only)
			report(r, run_result(r));
		break;
	case PHASE_START:
	case PHASE_DONE:
		break;
	}
	run__settle(r);
}

/* Nothing is in flight: the phase is over (or waits, PHASE_SERVICE, for
 * maybe_main()). */
static void
advance(struct run *r)
{
	if (r->join.pending)
		return;
	switch (r->phase) {
	case PHASE_START:
		transition(r, run__stopping(r) ? PHASE_DELETE : PHASE_SERVICE);
		break;
	case PHASE_SERVICE:
		if (run__stopping(r))
			transition(r, PHASE_DELETE);
		break;
	case PHASE_MAIN:
		transition(r, PHASE_DELETE);
		break;
	case PHASE_DELETE:
		transition(r, PHASE_REPORT);
		break;
	case PHASE_REPORT:
		transition(r, PHASE_DONE);
		break;
	case PHASE_DONE:
		break;
	}
}

static int begin(struct run *r, struct gm_err *err);

static void
on_secrets(int rc, const char *why, void *arg)
{
	struct run *r = arg;
	struct gm_err err = {{0}};

	if (r->secrets_state != SECRETS_RESOLVING) {    /* before secrets_resolve() returned */
		r->secrets_state = rc < 0 ? SECRETS_FAILED : SECRETS_DONE;
		snprintf(r->secrets_why, sizeof(r->secrets_why), "%s", why ? why : "");
		return;
	}
	r->secrets_state = rc < 0 ? SECRETS_FAILED : SECRETS_DONE;
	if (rc < 0 || r->cancelled) {
		if (!r->cancelled)
			run__fatal(r, "%s: %s", r->wf->path, why ? why : "secrets cannot be resolved");
		transition(r, PHASE_DONE);
		return;
	}
	r->wf = secrets_wf(r->secrets);
	if (begin(r, &err) < 0) {
		run__fatal(r, "%s", err.msg);
		transition(r, PHASE_DONE);
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
		if (!(r->next = memo_new(r->o.memo_settings)) ||
		    (r->o.n_only && r->memo && memo_carry(r->memo, r->next, "") < 0)) {
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
	r->usage_from_ms = run__usage_from(r->cutoff_ms);
	r->started_ms = time_now_ms();
	if (secrets_needed(wf)) {
		r->secrets = secrets_resolve(h, wf, &r->lg, on_secrets, r);
		if (!r->secrets) {
			gm_err_set(err, "out of memory");
			goto fail;
		}
		if (r->secrets_state == SECRETS_FAILED) {
			gm_err_set(err, "%s: %s", wf->path, r->secrets_why);
			goto fail;
		}
		if (r->secrets_state == SECRETS_NONE) {
			r->secrets_state = SECRETS_RESOLVING;   /* on_secrets() goes on */
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
	if (!(r->endpoint = aws_endpoint_url("Glue", wf->aws_region, wf->endpoint_url))) {
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
	join_add(&r->join, 1);          /* held while we submit */
	om_get_version(run__om_sent(r)->om, on_version, r);
	report(r, "running");
	join_add(&r->join, 1);
	awsauth_wait(r->auth, on_creds, r);
	run__settle(r);
	return 0;
}


void
run_cancel(struct run *r)
{
	if (r->phase == PHASE_DONE || r->cancelled)
		return;
	r->cancelled = 1;
	if (r->secrets_state == SECRETS_RESOLVING)
		secrets_cancel(r->secrets);
	awsauth_cancel(r->auth);
	enrich_cancel(r->enrich);
	if (r->glue_pool)               /* none yet while secrets are resolved */
		http_pool_cancel(r->glue_pool);
	if (r->om_pool)
		http_pool_cancel(r->om_pool);
}

int
run_graphs_complete(const struct run *r)
{
	size_t i;

	if (r->listing != LISTING_DONE || r->o.n_only || r->cancelled || r->st.fatal)
		return 0;
	for (i = 0; i < r->n_items; i++)
		if (!r->items[i]->jobs)         /* not read */
			return 0;
	return 1;
}

void
run_graphs(const struct run *r, run_graph_cb each, void *arg)
{
	const char *jobs[256], *crawlers[256];
	size_t i;

	for (i = 0; i < r->n_items; i++) {
		const struct item *it = r->items[i];

		if (!it->jobs)                  /* not read */
			continue;
		each(it->name, jobs, json_strings(it->jobs, jobs, 256), crawlers,
		     json_strings(it->crawlers, crawlers, 256), arg);
	}
}

struct memo *
run_take_memo(struct run *r)
{
	struct memo *m = r->next;

	r->next = NULL;
	return m;
}

size_t
run_pools(const struct run *r, const struct http_pool **ret, size_t max)
{
	const struct http_pool *all[] = {
		r->glue_pool, r->om_pool, secrets_pool(r->secrets), enrich_pool(r->enrich),
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]) && n < max; i++)
		if (all[i])
			ret[n++] = all[i];
	return n;
}

const struct run_stats *
run_stats(const struct run *r)
{
	return &r->st;
}

struct run *
run_free(struct run *r)
{
	if (!r)
		return NULL;
	run__items_free(r);
	run__list_free(r);
	om_lister_free(r->om_lister);
	strmap_clear(&r->known);
	strmap_clear(&r->listed);
	strmap_clear(&r->present);
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
