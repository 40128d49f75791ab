/* gluemetad — command line: ingest, check, version. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <uv.h>

#include "calendar.h"
#include "cfg.h"
#include "cron.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "memo.h"
#include "run.h"
#include "secrets.h"
#include "util.h"
#include "wf.h"
#include "ytree.h"

#ifndef GLUEMETAD_VERSION
#define GLUEMETAD_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: gluemetad ingest -c FILE [--glue-concurrency N] [--om-concurrency N]\n"
	        "                        [--state FILE [--full]] [--only NAME]...\n"
	        "                        [--log-format human|json] [-d]\n"
	        "       gluemetad check -c FILE | --config PATH\n"
	        "       gluemetad daemon [--config PATH] [--log-format human|json] [-d]\n"
	        "       gluemetad calendar EXPR [--tz ZONE] [--from TIME] [--count N]\n"
	        "       gluemetad version\n"
	        "\n"
	        "  ingest   run one OpenMetadata workflow file once, like `metadata ingest -c`\n"
	        "  check    validate a workflow file (-c) or the daemon configuration (--config)\n"
	        "  daemon   run the scheduler (default config " CFG_DEFAULT_PATH ")\n"
	        "  calendar the next fire times of a schedule, as the daemon computes them\n"
	        "\n"
	        "Exit status: 0 success, 1 the run finished with failures, 2 usage or\n"
	        "configuration error.\n");
}

struct ingest {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct http *http;
	struct run *run;
	int done;
	uint64_t started_ms;
};

static void
on_run_done(struct run *r, void *arg)
{
	struct ingest *in = arg;

	(void)r;
	in->done = 1;
	uv_signal_stop(&in->sigint);
	uv_signal_stop(&in->sigterm);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct ingest *in = s->data;

	log_notice(NULL, "%s received, stopping the run", strsignal(signum));
	if (in->run && !in->done)
		run_cancel(in->run);
}

static void
print_summary(const struct wf *w, const struct run_stats *st, double secs)
{
	unsigned long errors = run_stats_errors(st);

	printf("Workflow Summary:\n");
	printf("  %-8s %9s %9s %9s %9s\n", "Step", "Records", "Filtered", "Warnings", "Errors");
	printf("  %-8s %9lu %9lu %9lu %9lu\n", "Source", st->source.records, st->source.filtered,
	       st->source.warnings, st->source.errors);
	printf("  %-8s %9lu %9lu %9lu %9lu\n", "Sink", st->sink.records, st->sink.filtered,
	       st->sink.warnings, st->sink.errors);
	printf("Glue workflows listed: %lu; pipelines written: %lu; statuses written: %lu; "
	       "pipelines marked deleted: %lu%s\n", st->workflows_listed, st->pipelines_written,
	       st->statuses_written, st->pipelines_deleted,
	       st->deletion_skipped ? " (skipped: the Glue listing did not complete)" : "");
	if (st->pipelines_unchanged || st->statuses_unchanged || st->runs_unchanged)
		printf("Unchanged since the last run, not written again: %lu pipelines, %lu statuses "
		       "(runs of %lu workflows not read again)\n", st->pipelines_unchanged,
		       st->statuses_unchanged, st->runs_unchanged);
	printf("Requests: Glue %lu, OpenMetadata %lu\n", st->glue_requests, st->om_requests);
	if (st->glue_throttled || st->om_throttled)
		printf("Throttled replies: Glue %lu (concurrency down to %u of %u), "
		       "OpenMetadata %lu (down to %u of %u)\n", st->glue_throttled,
		       st->glue_limit_min, st->glue_limit_max, st->om_throttled, st->om_limit_min,
		       st->om_limit_max);
	printf("Total processed records: %lu\n", st->source.records + st->sink.records);
	printf("Total warnings: %lu\n", st->source.warnings + st->sink.warnings);
	printf("Total filtered: %lu\n", st->source.filtered);
	printf("Total errors: %lu\n", errors);
	printf("Success %%: %.1f\n", run_stats_success_pct(st));
	printf("Workflow finished in time: %.2fs\n", secs);
	if (st->fatal)
		printf("Workflow failed: %s\n", st->fatal_msg);
	else if (st->cancelled)
		printf("Workflow interrupted\n");
	else if (errors)
		printf("Workflow finished with failures (service '%s')\n", w->service_name);
	else
		printf("Workflow finished successfully\n");
	fflush(stdout);
}

/* 0 for success, and for partialSuccess when raiseOnError is off. */
static int
exit_status(const struct wf *w, const struct run *r)
{
	const char *res = run_result(r);

	if (strcmp(res, "success") == 0 ||
	    (strcmp(res, "partialSuccess") == 0 && !w->raise_on_error))
		return EXIT_OK;
	return EXIT_FAILED;
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* --state FILE: the memo of the run before, for an incremental run. */
static struct memo *
load_memo(const char *state, const char *wf_path, struct run_opts *o, char **ret_settings,
          char *dir, char *base, size_t n)
{
	const char *slash = strrchr(state, '/');
	char why[256];
	struct memo *m;

	snprintf(dir, n, "%.*s", slash ? (int)(slash - state) : 1, slash ? state : ".");
	if (!*dir)
		snprintf(dir, n, "/");
	snprintf(base, n, "%s", slash ? slash + 1 : state);
	if (!(m = memo_open(dir, base, wf_path, ret_settings, why, sizeof(why))))
		return NULL;
	if (memo_size(m))
		log_info(NULL, "incremental run: %zu records of the last run in %s", memo_size(m),
		         state);
	else if (!o->full)
		log_info(NULL, "full run: no usable record of the last run in %s (%s)", state, why);
	o->memo = m;
	o->memo_settings = *ret_settings;
	return m;
}

static int
cmd_ingest(const char *path, const struct run_opts *opts_in, const char *state, int debug)
{
	struct run_opts o = *opts_in, *opts = &o;
	struct gm_err err = {{0}};
	struct ingest in = {0};
	struct wf *w = NULL;
	struct memo *memo = NULL, *next;
	char *settings = NULL, dir[4096], base[1024];
	int rc = EXIT_FAILED;

	if (wf_load(path, &w, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_USAGE;
	}
	log_setup(debug ? LOG_DEBUG : log_priority_from_name(w->logger_level), LOG_TARGET_STDERR);
	if (state && !(memo = load_memo(state, path, &o, &settings, dir, base, sizeof(base)))) {
		fprintf(stderr, "gluemetad: cannot read %s: %s\n", path, strerror(errno));
		wf_free(w);
		return EXIT_USAGE;
	}
	if (uv_loop_init(&in.loop) < 0 || !(in.http = http_new(&in.loop))) {
		fprintf(stderr, "gluemetad: cannot set up the event loop\n");
		goto out;
	}
	uv_signal_init(&in.loop, &in.sigint);
	uv_signal_init(&in.loop, &in.sigterm);
	in.sigint.data = in.sigterm.data = &in;
	uv_signal_start(&in.sigint, on_signal, SIGINT);
	uv_signal_start(&in.sigterm, on_signal, SIGTERM);
	in.started_ms = time_mono_ms();
	log_info(NULL, "ingesting Glue workflows into service '%s' (%s)", w->service_name, path);
	if (run_start(in.http, w, opts, on_run_done, &in, &in.run, &err) < 0) {
		fprintf(stderr, "gluemetad: %s\n", err.msg);
		rc = EXIT_USAGE;
		uv_close((uv_handle_t *)&in.sigint, NULL);
		uv_close((uv_handle_t *)&in.sigterm, NULL);
		http_close(in.http);
		in.http = NULL;
		uv_run(&in.loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	while (!in.done)
		uv_run(&in.loop, UV_RUN_ONCE);
	print_summary(w, run_stats(in.run), (double)(time_mono_ms() - in.started_ms) / 1000.0);
	rc = exit_status(w, in.run);
	if (state && !run_stats(in.run)->cancelled && (next = run_take_memo(in.run))) {
		int r = memo_save(dir, base, next);

		if (r < 0)
			fprintf(stderr, "gluemetad: cannot write %s: %s\n", state, strerror(-r));
		memo_free(next);
	}
	in.run = run_free(in.run);
	uv_close((uv_handle_t *)&in.sigint, NULL);
	uv_close((uv_handle_t *)&in.sigterm, NULL);
	http_close(in.http);
	in.http = NULL;
	uv_run(&in.loop, UV_RUN_DEFAULT);
out_loop:
	if (uv_loop_close(&in.loop) == UV_EBUSY) {
		uv_walk(&in.loop, close_walk, NULL);
		uv_run(&in.loop, UV_RUN_DEFAULT);
		(void)uv_loop_close(&in.loop);
	}
out:
	memo_free(memo);
	free(settings);
	wf_free(w);
	return rc;
}

/* A workflow file holding secrets (AWS keys, a session token, the JWT, a
 * TLS key) should not be readable by everyone. */
static void
warn_if_exposed(const struct wf *w)
{
	const char *const vals[] = { w->aws_secret_access_key, w->aws_session_token, w->jwt_token };
	int literal = w->ssl_key != NULL;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(*vals); i++)
		literal |= vals[i] && !secrets_is_reference(w, vals[i]);
	if (!literal)
		return;     /* only names of secrets kept elsewhere */
	if (stat(w->path, &st) == 0 && (st.st_mode & S_IROTH))
		fprintf(stderr, "warning: %s holds secrets and is readable by other users "
		        "(chmod o-r %s)\n", w->path, w->path);
}

static int
cmd_check(const char *path)
{
	struct gm_err err = {{0}};
	struct wf *w = NULL;

	if (wf_load(path, &w, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_USAGE;
	}
	printf("%s: OK (gluepipeline source, service '%s', region %s, OpenMetadata %s)\n", path,
	       w->service_name, w->aws_region, w->om_host_port);
	warn_if_exposed(w);
	wf_free(w);
	return EXIT_OK;
}

static int
cmd_check_config(const char *path)
{
	char at[32], next_line[96];
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	size_t i;

	/* the daemon's start and reload load through the same function */
	if (cfg_load_checked(path, &c, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_USAGE;
	}
	printf("%s: OK (%zu workflows, socket %s, state_dir %s)\n", path, c->n_workflows,
	       c->socket, c->state_dir);
	for (i = 0; i < c->n_warnings; i++)
		fprintf(stderr, "warning: %s\n", c->warnings[i]);
	if (c->events)
		printf("  events: %s (region %s, debounce %u ms)\n", c->events->queue_url,
		       c->events->region, c->events->debounce_ms);
	for (i = 0; i < c->n_workflows; i++) {
		const struct cfg_workflow *w = &c->workflows[i];
		time_t next;

		next_line[0] = '\0';
		if (w->enabled && cron_next(&w->cron, w->timezone, time(NULL), &next) == 0 &&
		    calendar_iso(next, w->timezone, at, sizeof(at)) == 0)
			snprintf(next_line, sizeof(next_line), "; next %s%s%s", at,
			         w->catch_up ? ", catch_up" : "", w->jitter_s ? " plus jitter" : "");
		printf("  %s: '%s'%s%s from %s%s%s\n", w->name, w->schedule,
		       w->timezone ? " in " : "", w->timezone ? w->timezone : "", w->file,
		       w->enabled ? "" : " (disabled)", next_line);
		warn_if_exposed(w->wf);
	}
	cfg_unref(c);
	return EXIT_OK;
}

/* A file without a top-level `source` but with `workflows` is a daemon
 * configuration; anything else is checked as a workflow file. */
static int
is_daemon_config(const char *path)
{
	struct gm_err err = {{0}};
	struct ynode *root = NULL;
	int r;

	if (ytree_load_file(path, &root, &err) < 0)
		return 0;
	r = !ytree_get(root, "source") && (ytree_get(root, "workflows") || ytree_get(root, "socket"));
	ytree_free(root);
	return r;
}

static int
parse_count(const char *opt, const char *s, unsigned *ret)
{
	const char *why;
	int64_t v;

	if (num_parse_i64(s, 1, 256, &v, &why) < 0) {
		fprintf(stderr, "gluemetad: %s '%s': %s (1..256)\n", opt, s, why);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "glue-concurrency", required_argument, NULL, 'G' },
		{ "om-concurrency", required_argument, NULL, 'O' },
		{ "state", required_argument, NULL, 'S' },
		{ "full", no_argument, NULL, 'F' },
		{ "only", required_argument, NULL, 'o' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts opts = {0};
	const char *only[256];
	size_t n_only = 0;
	const char *cmd, *config = NULL, *daemon_config = NULL, *state = NULL;
	enum log_format format;
	int c, rc, debug = 0;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("gluemetad %s\n", GLUEMETAD_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "calendar") == 0)
		return calendar_main(argc - 1, argv + 1);
	optind = 2;
	while ((c = getopt_long(argc, argv, "c:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': daemon_config = optarg; break;
		case 'd': debug = 1; break;
		case 'G':
			if (parse_count("--glue-concurrency", optarg, &opts.glue_concurrency) < 0)
				return EXIT_USAGE;
			break;
		case 'O':
			if (parse_count("--om-concurrency", optarg, &opts.om_concurrency) < 0)
				return EXIT_USAGE;
			break;
		case 'S': state = optarg; break;
		case 'F': opts.full = 1; break;
		case 'o':
			if (n_only == sizeof(only) / sizeof(*only)) {
				fprintf(stderr, "gluemetad: at most %zu --only names\n",
				        sizeof(only) / sizeof(*only));
				return EXIT_USAGE;
			}
			if (!*optarg) {
				fprintf(stderr, "gluemetad: --only needs a Glue workflow name\n");
				return EXIT_USAGE;
			}
			only[n_only++] = optarg;
			break;
		case 'L':
			if (log_format_parse(optarg, &format) < 0) {
				fprintf(stderr, "gluemetad: --log-format '%s': expected human or json\n",
				        optarg);
				return EXIT_USAGE;
			}
			log_set_format(format, LOG_FORMAT_FROM_COMMAND_LINE);
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gluemetad: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
#ifdef M_MXFAST
	/* No fastbins: a run frees trees of small cJSON nodes between large
	 * reply buffers, and each large free then consolidated the fastbins
	 * (an unchanged re-run of 5,000 workflows spent a sixth of its CPU
	 * there); tcache still serves the small sizes. */
	(void)mallopt(M_MXFAST, 0);
#endif
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	/* The top 2 MiB of a freed heap stay with the process, and pieces up
	 * to 1 MiB come from the heap rather than their own mapping: a reply
	 * to `status` for 1,000 workflows (a tree of some 20,000 nodes, freed
	 * at once) was otherwise handed back to the kernel and faulted in
	 * again page by page at the next call, 6.6 ms of its 6.8 (now 2.9). */
	(void)mallopt(M_TRIM_THRESHOLD, 2 << 20);
	(void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	if (strcmp(cmd, "daemon") == 0) {
		if (config) {
			fprintf(stderr, "gluemetad daemon: use --config PATH for the daemon configuration\n");
			return EXIT_USAGE;
		}
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return EXIT_FAILED;
		rc = daemon_main(daemon_config ? daemon_config : CFG_DEFAULT_PATH, debug);
		curl_global_cleanup();
		return rc;
	}
	if (strcmp(cmd, "check") == 0 && daemon_config && !config)
		return cmd_check_config(daemon_config);
	if (strcmp(cmd, "ingest") != 0 && strcmp(cmd, "check") != 0) {
		fprintf(stderr, "gluemetad: unknown command '%s'\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!config) {
		fprintf(stderr, "gluemetad %s: -c FILE is required\n", cmd);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "check") == 0)
		return is_daemon_config(config) ? cmd_check_config(config) : cmd_check(config);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "gluemetad: cannot initialise libcurl\n");
		return EXIT_FAILED;
	}
	opts.only = only;
	opts.n_only = n_only;
	rc = cmd_ingest(config, &opts, state, debug);
	curl_global_cleanup();
	return rc;
}
