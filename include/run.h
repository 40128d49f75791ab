/* run — one ingestion of one workflow file: reads Glue, builds entities,
 * writes OpenMetadata.  A state machine advanced by HTTP completions on the
 * caller's loop; independent requests are in flight together.
 *
 * Order: OpenMetadata version check and the first ListWorkflows page (the
 * connection test) together; then the pipeline service; then, as listing
 * pages arrive, BatchGetWorkflows per 25 kept names, a pipeline PUT and
 * GetWorkflowRuns per workflow, then its statuses; last, when the listing
 * completed and nothing failed to be read, markDeletedPipelines. */
#ifndef GLUEMETAD_RUN_H
#define GLUEMETAD_RUN_H

#include <stddef.h>
#include <stdint.h>

struct http;
struct http_pool;
struct wf;
struct gm_err;
struct run;
struct memo;
struct enrich_accounts;

struct run_opts {
	unsigned glue_concurrency;      /* default 8 */
	unsigned om_concurrency;        /* default 8 */
	unsigned max_runs_per_workflow; /* default 1000 */
	unsigned max_list_pages;        /* default 10000 */
	int64_t now_ms;                 /* 0: the clock */
	const char *log_workflow;       /* GLUEMETAD_WORKFLOW of the messages */
	const char *run_id;             /* GLUEMETAD_RUN of the messages */
	const char *owner_tag;          /* Glue tag naming the owner; NULL: "owner" */
	struct enrich_accounts *accounts; /* borrowed; NULL: the run keeps its own */
	/* Incremental runs: with memo_settings (the workflow file's text, say)
	 * the run records what it wrote (run_take_memo()), and with memo, what
	 * the run before wrote, it leaves alone what is unchanged: pipelines
	 * whose sourceHash in OpenMetadata matches, statuses, usage and
	 * lineage the memo has.  full ignores both. */
	const char *memo_settings;
	const struct memo *memo;        /* borrowed */
	int full;
	/* A targeted refresh: only these Glue workflows (n_only of them,
	 * borrowed), read by name without listing the others; nothing is
	 * marked deleted, no ingestion pipeline status is reported, and the
	 * memo of the run before is carried whole into the new one. */
	const char *const *only;
	size_t n_only;
};

struct run_step {
	unsigned long records, updated, filtered, warnings, errors;
};

struct run_stats {
	struct run_step source, sink;
	unsigned long workflows_listed, pipelines_written, statuses_written, pipelines_deleted;
	unsigned long usage_written;    /* days of pipeline usage sent */
	unsigned long pipelines_unchanged, statuses_unchanged;     /* not written again */
	unsigned long runs_unchanged;   /* workflows whose runs were not read again */
	unsigned long glue_requests, om_requests;
	unsigned long glue_throttled, om_throttled;     /* replies that said "slow down" */
	unsigned glue_limit_min, om_limit_min;          /* lowest in-flight bound reached */
	unsigned glue_limit_max, om_limit_max;          /* the configured bound */
	int fatal;                      /* the run stopped before it could finish */
	int cancelled;
	int deletion_skipped;
	char fatal_msg[1024];
};

typedef void (*run_done_cb)(struct run *r, void *arg);

/* Starts a run on the engine's loop.  wf is borrowed and must outlive the
 * run.  done is called once, from the loop, when everything has settled. */
int run_start(struct http *h, const struct wf *wf, const struct run_opts *opts,
              run_done_cb done, void *arg, struct run **ret, struct gm_err *err);
/* Stops issuing requests and cancels those in flight; done still runs. */
void run_cancel(struct run *r);
const struct run_stats *run_stats(const struct run *r);
/* The run's HTTP pools (Glue, OpenMetadata, and the secrets service's and
 * the STS/S3 one when the run made them), borrowed and valid until
 * run_free(), into ret (up to max); returns how many. */
size_t run_pools(const struct run *r, const struct http_pool **ret, size_t max);
/* Errors of a run; a fatal error counts too. */
unsigned long run_stats_errors(const struct run_stats *st);
/* Processed records over processed plus errors, in percent. */
double run_stats_success_pct(const struct run_stats *st);
/* The run's result as OpenMetadata reports it: "success", "partialSuccess"
 * (errors, but a success rate at or above successThreshold), "failed", or
 * "stopped" for a cancelled run. */
const char *run_result(const struct run *r);
/* The graphs the run read: for each Glue workflow whose graph it read,
 * each(name, jobs, n_jobs, crawlers, n_crawlers, arg) with the names of its
 * JOB and CRAWLER nodes (borrowed for the call). */
typedef void (*run_graph_cb)(const char *workflow, const char *const *jobs, size_t n_jobs,
                             const char *const *crawlers, size_t n_crawlers, void *arg);
void run_graphs(const struct run *r, run_graph_cb each, void *arg);
/* Whether the run read every workflow of the listing (a complete listing,
 * no workflow failed to be read): then run_graphs() gives all there are. */
int run_graphs_complete(const struct run *r);
/* What this run wrote, for the next run's opts.memo (NULL without
 * memo_settings); the caller frees it. */
struct memo *run_take_memo(struct run *r);
struct run *run_free(struct run *r);

#endif
