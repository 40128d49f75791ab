/* run_int — what the files of the run share: the run and its items, and
 * the functions one file of the run calls in another (prefix run__).
 *
 *   run.c        phases, the service, deletions, the report, start and end
 *   run_list.c   the Glue listing and the batches of workflows it feeds
 *   run_item.c   one workflow: its pipeline, its runs, its statuses
 *   run_usage.c  a workflow's daily usage counts
 *
 * Every request holds one count in r->join from submission until the end
 * of its callback; a callback first submits what follows from its reply,
 * then calls run__settle(), so the join empties only when a phase has
 * really nothing left in flight. */
#ifndef GLUEMETAD_RUN_INT_H
#define GLUEMETAD_RUN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "enrich.h"
#include "log.h"
#include "run.h"
#include "util.h"

struct aws_client;
struct awsauth;
struct cJSON;
struct filter;
struct glue_lister;
struct glue_names;
struct http_pool;
struct memo;
struct om_client;
struct om_lister;
struct om_reply;
struct secrets;

#define DAY_MS 86400000LL

/* The phases of a run, in order; run__transition() is the only writer. */
enum run_phase {
	PHASE_START,                    /* the version check, credentials */
	PHASE_SERVICE,                  /* the service, known pipelines; listing goes on */
	PHASE_MAIN,                     /* workflows read and written */
	PHASE_DELETE,                   /* markDeletedPipelines */
	PHASE_REPORT,                   /* usage percentiles, the ingestion pipeline */
	PHASE_DONE,
};

/* Incremental runs: the service's pipelines with their sourceHash. */
enum known_state {
	KNOWN_UNREAD,                   /* not asked for (a full run) */
	KNOWN_READING,
	KNOWN_READ,                     /* read, or given up on */
};

enum secrets_state {
	SECRETS_NONE,                   /* none to resolve, or not yet asked */
	SECRETS_RESOLVING,
	SECRETS_DONE,
	SECRETS_FAILED,
};

/* The Glue listing as a whole. */
enum listing_state {
	LISTING_GOING,
	LISTING_DONE,                   /* every page was read */
	LISTING_FAILED,                 /* a page was not: nothing is marked deleted */
};

/* The last ListWorkflows page read before the main phase. */
enum early_follow {
	EARLY_HELD,                     /* its NextToken is judged when it is processed */
	EARLY_FOLLOWED,                 /* its NextToken was followed already */
};

enum pipe_state {
	PIPE_PENDING,
	PIPE_WRITTEN,                   /* or found unchanged */
	PIPE_FAILED,
};

enum runs_state {
	RUNS_READING,                   /* or not asked for yet */
	RUNS_READ,                      /* all read, or as many as will be */
	RUNS_SENT,                      /* the statuses and usage were sent */
};

struct item {
	struct run *run;
	char *name;
	char *fqn;
	struct cJSON *statuses;         /* built PipelineStatus bodies */
	struct cJSON *req;              /* the pipeline request, while tags are read */
	struct cJSON *jobs;             /* names of the graph's JOB nodes */
	struct cJSON *crawlers;         /* and of its CRAWLER nodes */
	char *description;              /* the workflow's, from Glue */
	char *id;                       /* of the written pipeline */
	char fp[33];                    /* the pipeline request's sourceHash */
	struct enrich_want want;        /* tags and owner from Glue tags */
	char *runs_token;
	unsigned runs_pages, n_runs;
	enum pipe_state pipeline;
	enum runs_state runs;
	int failed;
	struct item *wait_next;         /* waiting to read its runs */
	char last_fp[33];               /* of the workflow's LastRun, for the memo */
	int unfinished;                 /* a run in the window is still going */
	/* Usage: runs read only for their days' counts (they started before
	 * the status window), the oldest run read, and whether the runs in
	 * reach were not all read (a failed or cut listing): then usage is
	 * not reported, or only for the days that are complete. */
	struct cJSON *usage_runs;
	int64_t oldest_ms;
	int runs_failed, runs_cut;
	int active;                     /* counted in r->runs_active */
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

	enum run_phase phase;
	struct join join;
	int cancelled;
	struct run_stats st;
	int64_t cutoff_ms;
	int64_t usage_from_ms;          /* runs read back to here, for whole days of usage */

	struct item **items;
	size_t n_items, cap_items, batched;
	struct glue_lister *lister;
	struct glue_names **early;      /* ListWorkflows pages read before the main phase */
	size_t n_early;
	enum early_follow early_follow;
	enum listing_state listing;
	int service_ready;
	enum known_state known_state;
	struct om_lister *om_lister;    /* the service's pipelines */
	struct log_ctx lg;
	char run_id[40];                /* reported to ingestionPipelineFQN */
	struct awsauth *auth;
	struct enrich *enrich;
	const struct memo *memo;        /* what the run before wrote, or NULL */
	struct memo *next;              /* what this run wrote or found unchanged */
	struct strmap known;            /* pipeline name -> "sourceHash:id" in OpenMetadata */
	struct strmap listed;           /* name -> id of every pipeline the known listing saw */
	struct strmap present;          /* name of every pipeline it saw, soft-deleted too */
	int known_complete;             /* it read every page: markDeleted needs no other */
	unsigned long om_backlog;       /* OpenMetadata requests not completed */
	unsigned long waited;           /* items that waited for the backlog */
	unsigned runs_active;
	struct item *wait_head, *wait_tail;
	struct secrets *secrets;        /* the workflow with its secrets resolved */
	enum secrets_state secrets_state;
	char secrets_why[600];
	char *endpoint;
	int64_t started_ms;
};

/* A write remembered in the memo once it succeeded. */
struct memo_write {
	struct item *it;
	char kind;                      /* MEMO_STATUS, MEMO_USAGE */
	char key[200];
	char fp[33];
};

/* run.c */
const char *run__jstr(const struct cJSON *o, const char *k);
int run__stopping(const struct run *r);
void run__fatal(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops a count of r->join; the last one moves the run on. */
void run__settle(struct run *r);
/* Before an OpenMetadata call: counted in the join and the backlog until
 * its callback calls run__om_landed() (first) and run__settle() (last). */
struct run *run__om_sent(struct run *r);
void run__om_landed(struct run *r);

/* run_list.c */
void run__list_next(struct run *r);
/* The listing of a targeted refresh (run_opts.only): one page of those. */
void run__list_only(struct run *r);
/* While OpenMetadata is being read the listing goes on (PHASE_SERVICE). */
void run__list_follow_early(struct run *r);
/* The main phase begins: the pages read so far are processed. */
void run__list_main(struct run *r);
void run__list_free(struct run *r);

/* run_item.c */
/* Queues a kept workflow for reading; 1 when its name cannot be used. */
int run__item_add(struct run *r, const char *name);
void run__item_fail(struct item *it);
void run__item_workflow(struct item *it, const struct cJSON *workflow);
/* Reads of runs that waited for the OpenMetadata backlog go on. */
void run__resume_runs(struct run *r);
/* The memo key of something of a written pipeline (MEMO_STATUS,
 * MEMO_USAGE) and the fingerprint of its body into w; 1 when the run
 * before wrote the same (then it is remembered again). */
int run__unchanged(struct item *it, char kind, const char *sub, const struct cJSON *body,
                   struct memo_write *w);
struct memo_write *run__memo_write_dup(const struct memo_write *w);
/* The reply to the write of a run__memo_write_dup() copy (arg, freed
 * here): counted and remembered in the memo, or (unless cancelled) the
 * item failed, its runs read again next time. */
void run__on_memo_write(const struct om_reply *rep, void *arg);
void run__items_free(struct run *r);

/* run_usage.c */
/* How far back runs are read for whole days of usage. */
int64_t run__usage_from(int64_t cutoff_ms);
/* "YYYY-MM-DD" of a UTC time in ms; "" when it has none. */
void run__day_of(int64_t ms, char out[11]);
void run__send_usage(struct item *it);

#endif
