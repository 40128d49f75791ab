/* awsauth_int — what the files of the credential chain share: the plan
 * (awsprofile.c), one fetch of the chain (awsauth.c) and the sources that
 * run on the loop: credential_process (awsprocess.c), container and
 * instance metadata (awsmeta.c), STS (awssts.c).  Not for other modules.
 *
 * A source started on a fetch ends it exactly once: with credentials in
 * f->ret through awsauth__base_ready(), which assumes the plan's roles and
 * then ends the fetch, or through awsauth__fetch_end() with an error. */
#ifndef GLUEMETAD_AWSAUTH_INT_H
#define GLUEMETAD_AWSAUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "awsauth.h"
#include "util.h"

struct aws_client;
struct gm_err;
struct http_pool;
struct wf;

#define MAX_ROLES 6                     /* role_arn chain through source_profile */

/* Where the base credentials come from; roles are assumed on top of them
 * in order, each signed with what the step before gave. */
enum base_kind { BASE_NONE, BASE_STATIC, BASE_PROCESS, BASE_WEB_IDENTITY, BASE_CONTAINER,
	BASE_IMDS };

struct role {
	char *arn, *session, *external_id, *source_identity;
};

struct plan {
	enum base_kind kind;
	struct awsauth_creds creds;     /* BASE_STATIC */
	char *process;                  /* BASE_PROCESS: credential_process */
	char profile[96];               /* the profile it came from, for messages */
	struct role roles[MAX_ROLES + 1];
	size_t n_roles;
};

struct awsauth_files {
	char creds[1024], config[1024];
};

/* The shared files' paths from AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE, else under $HOME/.aws. */
void awsauth__files_init(struct awsauth_files *fl);
/* Exposed for tests: one profile's plan (see awsprofile.c).  1 with *p
 * filled, 0 when the profile has no credentials, -errno with err set;
 * depth 0 for the profile asked for.  *p is freed with awsauth__plan_clear()
 * whatever it returns. */
int awsauth__profile_plan(const struct awsauth_files *fl, const char *profile, int depth,
                          struct plan *p, struct gm_err *err);
/* The whole synchronous chain for w: 0 with *p filled, -ENOENT when the
 * asynchronous sources (container, instance metadata) remain, -errno. */
int awsauth__make_plan(const struct wf *w, struct plan *p, struct gm_err *err);
int awsauth__plan_role(struct plan *p, const char *arn, const char *session,
                       const char *external_id, const char *source_identity);
void awsauth__plan_clear(struct plan *p);
/* Copies the keys into *c (tok may be NULL or empty); 0 or -ENOMEM. */
int awsauth__take(struct awsauth_creds *c, const char *ak, const char *sk, const char *tok,
                  const char *src);

/* One fetch of the whole chain, through the engine and maybe a process;
 * owned by awsauth.c, which frees it after it ended (and after the
 * process's handles closed). */
struct fetch {
	const struct wf *w;
	uv_loop_t *loop;
	struct http_pool *pool;
	struct awsauth_creds *ret;
	awsauth_done_cb cb;
	void *arg;
	struct plan plan;
	size_t role_i;                  /* next role to assume */
	char imds[512];                 /* IMDS endpoint without a trailing '/' */
	char *token;                    /* IMDSv2 session token */
	char static_why[1024];
	int sts_action;                 /* 1 AssumeRole, 2 AssumeRoleWithWebIdentity */
	struct aws_client *sts;         /* the STS call in flight */
	struct awsauth_creds base;      /* AssumeRole's source credentials */
	/* credential_process */
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	struct buf output;
	int handles, exited, timed_out;
	struct join ended;              /* the process's exit and its output's end */
	int64_t exit_status;
	int term_signal;
	struct fetch **slot;            /* cleared when the fetch ends */
};

void awsauth__fetch_free(struct fetch *f);
/* Ends the fetch: the callback runs, and f is freed once its process
 * handles (if any) are closed. */
void awsauth__fetch_end(struct fetch *f, int r, const char *why);
/* The base credentials are in f->ret: the next role, or the end. */
void awsauth__base_ready(struct fetch *f);
/* {"AccessKeyId", "SecretAccessKey", "Token"/"SessionToken", "Expiration"}
 * into f->ret; 0 or -EINVAL/-ENOMEM. */
int awsauth__take_json(struct fetch *f, const char *body, size_t len, const char *src);
/* "true", "TRUE" or "1". */
int awsauth__env_true(const char *name);

/* credential_process of the plan (awsprocess.c). */
void awsauth__start_process(struct fetch *f);
/* 0 when no container endpoint is set; else 1, and the fetch goes on
 * (awsmeta.c). */
int awsauth__start_container(struct fetch *f);
void awsauth__start_imds(struct fetch *f);
/* STS: action 1 assumes the next role of the plan with f->base, 2 is web
 * identity (awssts.c). */
void awsauth__sts_call(struct fetch *f, int action);

#endif
