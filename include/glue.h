/* glue — AWS Glue operations as typed calls with typed results, over
 * aws.c's client: requests are built and replies decoded here and nowhere
 * else.  A result says whether what was read is KNOWN (complete, possibly
 * empty) or UNKNOWN (the read failed): callers never take anything away
 * from OpenMetadata on an UNKNOWN. */
#ifndef GLUEMETAD_GLUE_H
#define GLUEMETAD_GLUE_H

#include <stddef.h>

struct aws_client;
struct cJSON;

/* Operations of the run: workflows, their graphs, their runs. */

/* Every result of this module says which: zero, what a result not yet
 * filled in holds, is unknown. */
enum glue_read {
	GLUE_UNKNOWN = 0,               /* not read: nothing may be concluded */
	GLUE_KNOWN,                     /* read completely; possibly empty */
};

enum glue_fail {
	GLUE_FAIL_NONE,
	GLUE_FAIL_CALL,                 /* Glue answered an error, or no answer */
	GLUE_FAIL_MALFORMED,            /* a 2xx reply that is not what Glue sends */
	GLUE_FAIL_CANCELLED,            /* the pool was cancelled: say nothing */
	GLUE_FAIL_NOMEM,
};

/* How a read went; why and request_id are set when it failed. */
struct glue_status {
	enum glue_read state;
	enum glue_fail fail;
	char why[1200];                 /* "Code: message (request id ...)" */
	char request_id[128];           /* "" when Glue gave none */
};

/* ListWorkflows, page by page: the lister keeps the NextToken and counts
 * the pages, and is where a page's token is judged. */
enum glue_page_end {
	GLUE_PAGE_MORE,                 /* a next page follows */
	GLUE_PAGE_LAST,                 /* the listing is complete */
	GLUE_PAGE_REPEATED,             /* the NextToken that asked for this page */
	GLUE_PAGE_CAPPED,               /* more pages than the lister may read */
};

struct glue_names {
	struct glue_status st;
	enum glue_page_end end;         /* when st.state is GLUE_KNOWN */
	unsigned page;                  /* 1 for the first */
	char **names;                   /* non-empty names, n of them */
	size_t n;
};

/* The callback takes ownership of page (glue_names_free()); page is NULL
 * when memory ran out (glue_lister_pages() counts it). */
typedef void (*glue_names_cb)(struct glue_names *page, void *arg);

struct glue_lister;

/* A lister over c (borrowed) that reads at most max_pages pages. */
struct glue_lister *glue_lister_new(struct aws_client *c, unsigned max_pages);
struct glue_lister *glue_lister_free(struct glue_lister *l);
/* Asks for the first page, or the page after the last GLUE_PAGE_MORE one,
 * ahead of other queued calls.  cb runs once, also on failure to submit. */
void glue_lister_next(struct glue_lister *l, glue_names_cb cb, void *arg);
/* 1 while a page is asked for. */
int glue_lister_busy(const struct glue_lister *l);
/* Pages answered (or failed) so far. */
unsigned glue_lister_pages(const struct glue_lister *l);
struct glue_names *glue_names_free(struct glue_names *page);

/* Exposed for tests: decodes a ListWorkflows reply that was asked for
 * with token (NULL for the first page) and is page number page of at most
 * max_pages.  0, or -ENOMEM; out->st says whether the reply was malformed. */
int glue_names_decode(const struct cJSON *reply, const char *token, unsigned page,
                      unsigned max_pages, struct glue_names *out);

/* BatchGetWorkflows of up to 25 names, with the graph; a failed batch, or
 * a name it neither returned nor called missing, is read alone with
 * GetWorkflow. */
struct glue_workflow {
	void *item;                     /* as given */
	const char *name;
	struct glue_status st;
	/* GLUE_KNOWN: the workflow (borrowed for the callback), or NULL when
	 * it is gone (MissingWorkflows, EntityNotFoundException). */
	const struct cJSON *workflow;
};

struct glue_batch_ops {
	/* Once per workflow, unless fallback() said 0 for it. */
	void (*workflow)(const struct glue_workflow *w, void *arg);
	/* Before workflows are read one by one: n of them, st the failed
	 * batch's status (NULL when the batch only left them out).  0 drops
	 * them without answer. */
	int (*fallback)(size_t n, const struct glue_status *st, void *arg);
	/* Once, after the last answer. */
	void (*done)(void *arg);
};

/* names and items: n each, copied; the names themselves are borrowed
 * until done().  The callbacks may run before this returns. */
void glue_get_workflows(struct aws_client *c, const char *const *names, void *const *items,
                        size_t n, const struct glue_batch_ops *ops, void *arg);

/* Exposed for tests: the workflow of BatchGetWorkflows' reply named name,
 * NULL when absent; *ret_missing 1 when MissingWorkflows names it.  -EINVAL
 * for a malformed reply. */
int glue_batch_find(const struct cJSON *reply, const char *name, const struct cJSON **ret_wf,
                    int *ret_missing);

/* One page of GetWorkflowRuns (with the graph): runs newest first. */
struct glue_runs {
	struct glue_status st;
	const struct cJSON *runs;       /* an array or NULL; borrowed for the callback */
	const char *next_token;         /* NULL when none; may be "" */
};

typedef void (*glue_runs_cb)(const struct glue_runs *page, void *arg);

/* The page of runs of workflow name after token (NULL: the first); at
 * most max runs.  cb runs once, also on failure to submit. */
void glue_get_runs(struct aws_client *c, const char *name, const char *token, unsigned max,
                   glue_runs_cb cb, void *arg);
/* Exposed for tests: a GetWorkflowRuns reply into out (borrowing from it). */
void glue_runs_decode(const struct cJSON *reply, struct glue_runs *out);


/* Operations of enrichment: jobs, tags, connections. */

/* The results below: state GLUE_KNOWN when the read completed (what it
 * holds may be empty); GLUE_UNKNOWN when it failed or was cancelled, and
 * code/message say why (code NULL for a reply of the wrong shape). */

struct glue_tag {
	const char *key, *value;
};

/* GetTags: the tags of one resource, those with a non-empty key and a
 * string value.  Everything borrowed until the callback returns. */
struct glue_tags_result {
	enum glue_read state;
	struct glue_tag *v;
	size_t n;
	const char *code, *message;
	int cancelled;
};

/* BatchGetJobs: the jobs found (Glue's Job objects, for lineage.h) and
 * the names Glue says do not exist. */
struct glue_jobs_result {
	enum glue_read state;
	const struct cJSON **jobs;
	size_t n_jobs;
	const char **missing;
	size_t n_missing;
	const char *code, *message;
	int cancelled;
};

/* GetConnection: KNOWN with found 0 when Glue says there is no such
 * connection (EntityNotFoundException); jdbc_url is its
 * JDBC_CONNECTION_URL, or NULL. */
struct glue_connection_result {
	enum glue_read state;
	int found;
	const char *jdbc_url;
	const char *code, *message;
	int cancelled;
};

typedef void (*glue_tags_cb)(const struct glue_tags_result *res, void *arg);
typedef void (*glue_jobs_cb)(const struct glue_jobs_result *res, void *arg);
typedef void (*glue_connection_cb)(const struct glue_connection_result *res, void *arg);

/* Each callback runs exactly once, also when the request cannot be made
 * (then UNKNOWN, before returning). */
void glue_get_tags(struct aws_client *glue, const char *resource_arn, glue_tags_cb cb, void *arg);
/* Up to GLUE_JOBS_BATCH names. */
#define GLUE_JOBS_BATCH 25
void glue_batch_get_jobs(struct aws_client *glue, const char *const *names, size_t n,
                         glue_jobs_cb cb, void *arg);
void glue_get_connection(struct aws_client *glue, const char *name, glue_connection_cb cb,
                         void *arg);

/* Exposed for tests: the decoding of the replies above (res->ok is
 * already known true).  0 and *ret filled (its arrays malloc'd, freed with
 * glue_*_result_clear(), borrowing from json); -EINVAL for a reply of the
 * wrong shape, -ENOMEM. */
int glue_decode_tags(const struct cJSON *json, struct glue_tags_result *ret);
int glue_decode_jobs(const struct cJSON *json, struct glue_jobs_result *ret);
void glue_decode_connection(const struct cJSON *json, struct glue_connection_result *ret);
void glue_tags_result_clear(struct glue_tags_result *r);
void glue_jobs_result_clear(struct glue_jobs_result *r);

#endif
