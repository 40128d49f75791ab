/* cfg — see include/cfg.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "cfg.h"
#include "cron.h"
#include "sqs.h"
#include "util.h"
#include "wf.h"
#include "ytree.h"

#define MAX_PROBLEMS 30
/* What a unix socket's sun_path holds, without its terminating NUL. */
#define CFG_MAX_SOCKET_PATH (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static void __attribute__((format(printf, 4, 5)))
problem(struct yproblems *l, const struct ynode *n, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ytree_vproblem(l, n, key, fmt, ap);
	va_end(ap);
}

/* A warning for whoever loads c (`check` prints it, the daemon logs it);
 * without memory it is lost, and the load goes on. */
static void __attribute__((format(printf, 2, 3)))
add_warning(struct cfg *c, const char *fmt, ...)
{
	char line[1024], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*v));
	if (!v)
		return;
	c->warnings = v;
	v[c->n_warnings] = strdup(line);
	if (v[c->n_warnings])
		c->n_warnings++;
}

/* sshd's StrictModes for the files the daemon acts on: a file every user
 * may write lets anyone choose what runs with the daemon's credentials,
 * and is refused; one its group may write is let through with a warning.
 * The refusal is named at node `at` and key, or, for the configuration
 * itself (key NULL), by the file alone.  0, or -EPERM when refused. */
static int
check_mode(struct yproblems *l, struct cfg *c, const struct ynode *at, const char *key,
           const char *file, mode_t mode)
{
	unsigned perm = (unsigned)(mode & 07777);

	if (mode & S_IWOTH) {
		if (key)
			problem(l, at, key, "%s: mode %04o lets every user change it, refused "
			        "(chmod o-w %s)", file, perm, file);
		else if (++l->n <= l->max)
			(void)buf_printf(&l->out, "%s%s: mode %04o lets every user change it, refused "
			                 "(chmod o-w %s)", l->out.len ? "\n" : "", file, perm, file);
		return -EPERM;
	}
	if (mode & S_IWGRP)
		add_warning(c, "%s: mode %04o lets its group change it (chmod g-w %s unless "
		            "that is meant)", file, perm, file);
	return 0;
}

/* Whether a schedule fires within CFG_FIRE_HORIZON from now: one that
 * names a day that never comes ("0 0 30 2 *") is a mistake to report at
 * load, not a timer that never goes off. */
static int
fires_soon(const struct cron_spec *spec, const char *tz)
{
	time_t now = time(NULL), next;

	return cron_next(spec, tz, now, &next) == 0 && (long long)(next - now) <= CFG_FIRE_HORIZON;
}

/* Whether the daemon can keep its files in dir as the running user: dir
 * exists or can be made (one level, as state_lock() makes it), and a file
 * can be made in it and removed.  A real write, not access(2), which
 * answers for the real uid and knows nothing of read-only mounts or /proc.
 * A dir made for the probe goes again; the probe's name is one
 * state_sweep() removes, should the process die before it does.  0 or a
 * negative errno. */
static int
probe_dir(const char *dir)
{
	char path[4096];
	int fd, made, r = 0;

	made = mkdir(dir, 0750) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(path, sizeof(path), "%s/.gluemetad-probe.tmp.%ld", dir,
	                     (long)getpid()) >= sizeof(path))
		r = -ENAMETOOLONG;
	fd = r ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (!r && fd < 0)
		r = -errno;
	if (fd >= 0) {
		(void)close(fd);
		if (unlink(path) < 0)
			r = -errno;
	}
	if (made)
		(void)rmdir(dir);
	return r;
}

static const char *
str_of(struct yproblems *l, const struct ynode *n, const char *key)
{
	if (n->kind != YNODE_SCALAR || ytree_scalar_type(n) != YS_STR) {
		problem(l, n, key, "expected a string, found %s", ytree_kind_name(n));
		return NULL;
	}
	return n->str;
}

static int
uint_of(struct yproblems *l, const struct ynode *n, const char *key, int64_t min, int64_t max,
        unsigned *ret)
{
	const char *why;
	int64_t v;

	if (n->kind != YNODE_SCALAR || ytree_scalar_type(n) != YS_INT ||
	    num_parse_i64(n->str, min, max, &v, &why) < 0) {
		problem(l, n, key, "expected an integer %lld..%lld, found '%s'", (long long)min,
		        (long long)max, n->kind == YNODE_SCALAR ? n->str : ytree_kind_name(n));
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* "30", "30s", "5m", "1h" */
static int
duration_of(struct yproblems *l, const struct ynode *n, const char *key, unsigned *ret)
{
	char num[32];
	const char *why, *s = n->kind == YNODE_SCALAR ? n->str : "";
	size_t len = strlen(s);
	int64_t v, mult = 1;

	if (len && (s[len - 1] == 's' || s[len - 1] == 'm' || s[len - 1] == 'h')) {
		mult = s[len - 1] == 'h' ? 3600 : s[len - 1] == 'm' ? 60 : 1;
		len--;
	}
	if (n->kind != YNODE_SCALAR || len == 0 || len >= sizeof(num)) {
		problem(l, n, key, "expected a duration like 30, 45s, 5m or 1h");
		return -EINVAL;
	}
	memcpy(num, s, len);
	num[len] = '\0';
	if (num_parse_i64(num, 0, 86400, &v, &why) < 0 || v * mult > 86400) {
		problem(l, n, key, "'%s' is not a duration of at most 24h", s);
		return -EINVAL;
	}
	*ret = (unsigned)(v * mult);
	return 0;
}

static char *
resolve(const char *cfg_path, const char *file)
{
	struct buf b = {0};
	char *copy, *dir;

	if (file[0] == '/')
		return strdup(file);
	copy = strdup(cfg_path);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	if (buf_printf(&b, "%s/%s", dir, file) < 0) {
		free(copy);
		return NULL;
	}
	free(copy);
	return buf_steal(&b);
}

static int
valid_name(const char *s)
{
	size_t i;

	if (!*s || strlen(s) > 64)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* An absolute path to a file NAME.prom: node_exporter's textfile
 * collector reads only files ending in .prom, so another name would be
 * written and never read. */
static int
valid_textfile(const char *s)
{
	const char *base = strrchr(s, '/');
	size_t len = strlen(s);

	return s[0] == '/' && len <= CFG_MAX_PATH && len > 5 && strcmp(s + len - 5, ".prom") == 0 &&
	       strlen(base + 1) > 5;
}

/* The gid of the group named name, from the group database: 0, -ENOENT
 * when there is no such group, or another negative errno (the database
 * could not be read). */
static int
group_gid(const char *name, gid_t *ret)
{
	struct group gr, *found = NULL;
	size_t cap = 1024;
	char *buf = NULL, *bigger;
	int r;

	for (;;) {
		if (!(bigger = realloc(buf, cap))) {
			free(buf);
			return -ENOMEM;
		}
		buf = bigger;
		r = getgrnam_r(name, &gr, buf, cap, &found);
		if (r != ERANGE || cap >= 1 << 20)
			break;
		cap *= 2;
	}
	if (r == 0 && found)
		*ret = gr.gr_gid;
	free(buf);
	return r ? -r : found ? 0 : -ENOENT;
}

static void
load_workflow(struct yproblems *l, struct cfg *c, const struct ynode *n, size_t idx)
{
	struct cfg_workflow *w = &c->workflows[c->n_workflows];
	const struct ynode *v;
	char key[96], why[256];
	size_t i;

	snprintf(key, sizeof(key), "workflows[%zu]", idx);
	if (n->kind != YNODE_MAP) {
		problem(l, n, key, "expected a mapping with name, file and schedule");
		return;
	}
	memset(w, 0, sizeof(*w));
	w->enabled = 1;
	for (i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str, *s;

		v = n->items[i];
		snprintf(key, sizeof(key), "workflows[%zu].%s", idx, k);
		if (strcmp(k, "name") == 0) {
			if ((s = str_of(l, v, key)) && !valid_name(s))
				problem(l, v, key, "'%s': use 1-64 letters, digits, '_', '-' or '.'", s);
			else if (s)
				w->name = strdup(s);
		} else if (strcmp(k, "file") == 0) {
			if ((s = str_of(l, v, key)))
				w->file = resolve(c->path, s);
		} else if (strcmp(k, "schedule") == 0) {
			if ((s = str_of(l, v, key))) {
				if (cron_parse(s, &w->cron, why, sizeof(why)) < 0)
					problem(l, v, key, "%s", why);
				else
					w->schedule = strdup(s);
			}
		} else if (strcmp(k, "timezone") == 0) {
			if ((s = str_of(l, v, key))) {
				if (tz_check(s) < 0)
					problem(l, v, key, "'%s' is not an installed IANA time zone", s);
				else
					w->timezone = strdup(s);
			}
		} else if (strcmp(k, "enabled") == 0 || strcmp(k, "catch_up") == 0) {
			if (v->kind != YNODE_SCALAR || ytree_scalar_type(v) != YS_BOOL)
				problem(l, v, key, "expected true or false");
			else
				*(strcmp(k, "enabled") == 0 ? &w->enabled : &w->catch_up) = ytree_bool(v);
		} else if (strcmp(k, "jitter") == 0) {
			(void)duration_of(l, v, key, &w->jitter_s);
		} else {
			problem(l, n->keys[i], key, "unknown key");
		}
	}
	snprintf(key, sizeof(key), "workflows[%zu]", idx);
	if (!ytree_get(n, "name"))
		problem(l, n, key, "'name' is missing");
	if (!ytree_get(n, "file"))
		problem(l, n, key, "'file' is missing");
	if (!ytree_get(n, "schedule"))
		problem(l, n, key, "'schedule' is missing");
	for (i = 0; w->name && i < c->n_workflows; i++)
		if (c->workflows[i].name && strcmp(c->workflows[i].name, w->name) == 0)
			problem(l, ytree_get(n, "name"), key, "the name '%s' is used twice", w->name);
	snprintf(key, sizeof(key), "workflows[%zu].schedule", idx);
	if (w->schedule && (w->timezone || !ytree_get(n, "timezone")) &&
	    !fires_soon(&w->cron, w->timezone))
		problem(l, ytree_get(n, "schedule"), key, "'%s' does not fire in the next 5 years",
		        w->schedule);
	if (w->file) {
		const struct ynode *at = ytree_get(n, "file");
		struct gm_err e = {{0}};
		struct stat st;
		int r;

		/* the configuration's place: an operator edits that line */
		snprintf(key, sizeof(key), "workflows[%zu].file", idx);
		if (stat(w->file, &st) < 0) {
			problem(l, at, key, "%s: %s", w->file, strerror(errno));
		} else if (check_mode(l, c, at, key, w->file, st.st_mode) == 0) {
			r = wf_load(w->file, &w->wf, &e);
			if (r == -EINVAL) {
				/* its own problems, each naming its file and line */
				l->n++;
				(void)buf_printf(&l->out, "%s%s", l->out.len ? "\n" : "", e.msg);
			} else if (r < 0) {
				problem(l, at, key, "%s", e.msg);
			}
		}
	}
	c->n_workflows++;
}

static void
workflow_clear(struct cfg_workflow *w)
{
	free(w->name);
	free(w->file);
	free(w->schedule);
	free(w->timezone);
	wf_free(w->wf);
}

static void
cfg_events_free(struct cfg_events *e)
{
	if (!e)
		return;
	free(e->queue_url);
	free(e->region);
	wf_free(e->aws);
	free(e->fingerprint);
	free(e);
}

static void
cfg_free(struct cfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_workflows; i++)
		workflow_clear(&c->workflows[i]);
	free(c->workflows);
	for (i = 0; i < c->n_warnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	free(c->path);
	free(c->socket);
	free(c->owner_tag);
	free(c->state_dir);
	free(c->metrics_textfile);
	free(c->control_group);
	cfg_events_free(c->events);
	free(c);
}

/* cfg_load(), and with probe cfg_load_checked(): one pass, one list of
 * problems. */
/* events.awsConfig: the keys of a workflow file's awsConfig that say
 * where credentials come from, into e->aws. */
static void
load_events_aws(struct yproblems *l, struct cfg_events *e, const struct ynode *n)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "awsAccessKeyId", offsetof(struct wf, aws_access_key_id) },
		{ "awsSecretAccessKey", offsetof(struct wf, aws_secret_access_key) },
		{ "awsSessionToken", offsetof(struct wf, aws_session_token) },
		{ "awsRegion", offsetof(struct wf, aws_region) },
		{ "endPointURL", offsetof(struct wf, endpoint_url) },
		{ "profileName", offsetof(struct wf, profile_name) },
		{ "assumeRoleArn", offsetof(struct wf, assume_role_arn) },
		{ "assumeRoleSessionName", offsetof(struct wf, assume_role_session_name) },
		{ "assumeRoleSourceIdentity", offsetof(struct wf, assume_role_source_identity) },
	};
	char key[96];
	size_t i, k;

	if (n->kind != YNODE_MAP) {
		problem(l, n, "events.awsConfig", "expected a mapping");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const char *name = n->keys[i]->str, *s;

		snprintf(key, sizeof(key), "events.awsConfig.%s", name);
		for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
			if (strcmp(name, keys[k].key) == 0)
				break;
		if (k == sizeof(keys) / sizeof(*keys)) {
			problem(l, n->keys[i], key, "unknown key");
			continue;
		}
		if (!(s = str_of(l, n->items[i], key)))
			continue;
		if (k == 3 && !aws_region_valid(s)) {
			problem(l, n->items[i], key, "'%s' is not an AWS region name", s);
			continue;
		}
		*(char **)((char *)e->aws + keys[k].off) = strdup(s);
	}
}

/* What tells two events blocks apart (secrets included: a new key must
 * restart the consumer; the text is compared, never shown). */
static char *
events_fingerprint(const struct cfg_events *e)
{
	const struct wf *a = e->aws;
	const char *f[] = { e->queue_url, e->region, a->aws_access_key_id,
		a->aws_secret_access_key, a->aws_session_token, a->aws_region, a->endpoint_url,
		a->profile_name, a->assume_role_arn, a->assume_role_session_name,
		a->assume_role_source_identity };
	struct buf b = {0};
	size_t i;

	(void)buf_printf(&b, "%u", e->debounce_ms);
	for (i = 0; i < sizeof(f) / sizeof(*f); i++)
		(void)buf_printf(&b, "\x1f%s", f[i] ? f[i] : "\x1e");
	return buf_steal(&b);
}

/* events: queue_url, awsConfig, debounce. */
static void
load_events(struct yproblems *l, struct cfg *c, const struct ynode *n)
{
	struct cfg_events *e = calloc(1, sizeof(*e));
	const struct ynode *url = NULL, *v;
	char region[64];
	unsigned debounce_s;
	size_t i;
	int r;

	if (!e || !(e->aws = calloc(1, sizeof(*e->aws)))) {
		free(e);
		problem(l, n, "events", "out of memory");
		return;
	}
	c->events = e;
	e->debounce_ms = 1000;
	if (n->kind != YNODE_MAP) {
		problem(l, n, "events", "expected a mapping with queue_url");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str, *s;
		char key[64];

		v = n->items[i];
		snprintf(key, sizeof(key), "events.%s", k);
		if (strcmp(k, "queue_url") == 0) {
			if ((s = str_of(l, v, key))) {
				url = v;
				e->queue_url = strdup(s);
			}
		} else if (strcmp(k, "awsConfig") == 0) {
			load_events_aws(l, e, v);
		} else if (strcmp(k, "debounce") == 0) {
			if (duration_of(l, v, key, &debounce_s) == 0) {
				if (debounce_s > 300)
					problem(l, v, key, "at most 5m");
				e->debounce_ms = debounce_s * 1000;
			}
		} else {
			problem(l, n->keys[i], key, "unknown key");
		}
	}
	if (!url) {
		problem(l, n, "events.queue_url", "'queue_url' is missing");
		return;
	}
	r = sqs_queue_region(e->queue_url, region, sizeof(region));
	if (r == -EINVAL)
		problem(l, url, "events.queue_url", "'%s' is not a queue URL "
		        "(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", e->queue_url);
	else if (r == 0)
		e->region = strdup(region);
	else if (e->aws->aws_region)
		e->region = strdup(e->aws->aws_region);
	else
		problem(l, url, "events.queue_url", "'%s' names no region: set "
		        "events.awsConfig.awsRegion", e->queue_url);
	if (e->region && e->aws && !e->aws->aws_region)
		e->aws->aws_region = strdup(e->region);
	e->fingerprint = events_fingerprint(e);
}

static int
load(const char *path, int probe, struct cfg **ret, struct gm_err *err)
{
	struct yproblems l = { .file = path, .max = MAX_PROBLEMS };
	struct ynode *root = NULL;
	struct cfg *c = NULL;
	const struct ynode *wfs = NULL, *sd;
	struct stat st;
	size_t i;
	int r, state_dir_ok = 0;

	if ((r = ytree_load_file(path, &root, err)) < 0)
		return r == -EINVAL ? -EINVAL : r;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		r = -ENOMEM;
		gm_err_set(err, "out of memory");
		goto out;
	}
	c->refs = 1;
	c->max_concurrent_runs = 4;
	c->incremental = 1;
	if (stat(path, &st) == 0)
		(void)check_mode(&l, c, NULL, NULL, path, st.st_mode);
	if (root->kind != YNODE_MAP)
		problem(&l, root, "(document)", "expected a mapping");
	for (i = 0; root->kind == YNODE_MAP && i < root->n; i++) {
		const char *k = root->keys[i]->str, *s;
		const struct ynode *v = root->items[i];

		if (strcmp(k, "socket") == 0) {
			if ((s = str_of(&l, v, k)) && s[0] != '/')
				problem(&l, v, k, "'%s' is not an absolute path", s);
			else if (s && strlen(s) > CFG_MAX_SOCKET_PATH)
				/* bind() would cut it and listen on another path */
				problem(&l, v, k, "'%s' is %zu bytes long; a unix socket path has "
				        "at most %zu", s, strlen(s), CFG_MAX_SOCKET_PATH);
			else if (s)
				c->socket = strdup(s);
		} else if (strcmp(k, "state_dir") == 0) {
			if ((s = str_of(&l, v, k)) && s[0] != '/')
				problem(&l, v, k, "'%s' is not an absolute path", s);
			else if (s) {
				c->state_dir = strdup(s);
				state_dir_ok = c->state_dir != NULL;
			}
		} else if (strcmp(k, "max_concurrent_runs") == 0) {
			(void)uint_of(&l, v, k, 1, 64, &c->max_concurrent_runs);
		} else if (strcmp(k, "glue_concurrency") == 0) {
			(void)uint_of(&l, v, k, 1, 256, &c->glue_concurrency);
		} else if (strcmp(k, "om_concurrency") == 0) {
			(void)uint_of(&l, v, k, 1, 256, &c->om_concurrency);
		} else if (strcmp(k, "incremental") == 0 || strcmp(k, "reload_on_change") == 0) {
			if (v->kind != YNODE_SCALAR || ytree_scalar_type(v) != YS_BOOL)
				problem(&l, v, k, "expected true or false");
			else
				*(strcmp(k, "incremental") == 0 ? &c->incremental
				  : &c->reload_on_change) = ytree_bool(v);
		} else if (strcmp(k, "log_format") == 0) {
			if ((s = str_of(&l, v, k)) && log_format_parse(s, &c->log_format) < 0)
				problem(&l, v, k, "'%s': expected human or json", s);
		} else if (strcmp(k, "owner_tag") == 0) {
			if ((s = str_of(&l, v, k)) && (!*s || strlen(s) > 128))
				problem(&l, v, k, "a Glue tag key has 1 to 128 characters");
			else if (s)
				c->owner_tag = strdup(s);
		} else if (strcmp(k, "metrics_textfile") == 0) {
			if ((s = str_of(&l, v, k)) && !valid_textfile(s))
				problem(&l, v, k, "'%s': expected an absolute path of at most %d "
				        "characters ending in '.prom' (node_exporter's textfile "
				        "collector reads only *.prom files)", s, CFG_MAX_PATH);
			else if (s)
				c->metrics_textfile = strdup(s);
		} else if (strcmp(k, "control_group") == 0) {
			if ((s = str_of(&l, v, k)) && !*s)
				problem(&l, v, k, "expected a group name");
			else if (s && (r = group_gid(s, &c->control_gid)) == -ENOENT)
				problem(&l, v, k, "no group named '%s'", s);
			else if (s && r < 0)
				problem(&l, v, k, "cannot look up group '%s': %s", s, strerror(-r));
			else if (s)
				c->control_group = strdup(s);
		} else if (strcmp(k, "events") == 0) {
			load_events(&l, c, v);
		} else if (strcmp(k, "workflows") == 0) {
			if (v->kind != YNODE_SEQ)
				problem(&l, v, k, "expected a list of workflows");
			else if (v->n > CFG_MAX_WORKFLOWS)
				problem(&l, v, k, "more than %d workflows", CFG_MAX_WORKFLOWS);
			else
				wfs = v;
		} else {
			problem(&l, root->keys[i], k, "unknown key");
		}
	}
	if (!c->socket)
		c->socket = strdup(CFG_DEFAULT_SOCKET);
	if (!c->state_dir)
		c->state_dir = strdup(CFG_DEFAULT_STATE_DIR);
	/* the state_dir the file names, or the default when it names none
	 * (not the default in place of one it names wrongly) */
	sd = ytree_get(root, "state_dir");
	r = probe && c->state_dir && (state_dir_ok || !sd) ? probe_dir(c->state_dir) : 0;
	if (r < 0)
		problem(&l, sd, "state_dir", "%s%s: %s", c->state_dir, sd ? "" : " (the default)",
		        strerror(-r));
	if (wfs && wfs->n) {
		c->workflows = calloc(wfs->n, sizeof(*c->workflows));
		if (!c->workflows) {
			r = -ENOMEM;
			gm_err_set(err, "out of memory");
			goto out;
		}
		for (i = 0; i < wfs->n; i++)
			load_workflow(&l, c, wfs->items[i], i);
	}
	if (!c->socket || !c->state_dir) {
		r = -ENOMEM;
		gm_err_set(err, "out of memory");
		goto out;
	}
	if ((r = ytree_problems_err(&l, err)) < 0)
		goto out;
	*ret = c;
	c = NULL;
	r = 0;
out:
	buf_clear(&l.out);
	cfg_free(c);
	ytree_free(root);
	return r;
}

int
cfg_load(const char *path, struct cfg **ret, struct gm_err *err)
{
	return load(path, 0, ret, err);
}

int
cfg_load_checked(const char *path, struct cfg **ret, struct gm_err *err)
{
	return load(path, 1, ret, err);
}

struct cfg *
cfg_ref(struct cfg *c)
{
	if (c)
		c->refs++;
	return c;
}

void
cfg_unref(struct cfg *c)
{
	if (c && --c->refs == 0)
		cfg_free(c);
}

const struct cfg_workflow *
cfg_find(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; c && i < c->n_workflows; i++)
		if (strcmp(c->workflows[i].name, name) == 0)
			return &c->workflows[i];
	return NULL;
}
