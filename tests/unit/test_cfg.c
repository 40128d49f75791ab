/* cfg: the daemon configuration.  A good file with every key, the
 * defaults, workflow files resolved beside the configuration, and errors:
 * each one names file:line:column and the key, and a file with many
 * mistakes reports all of them in one pass (at most 30, then a count). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "util.h"
#include "wf.h"

static char dir[256];

static const char *const WORKFLOW =
	"source:\n"
	"  type: gluepipeline\n"
	"  serviceName: glue_prod\n"
	"  serviceConnection:\n"
	"    config:\n"
	"      type: GluePipeline\n"
	"      awsConfig:\n"
	"        awsRegion: eu-west-1\n"
	"  sourceConfig:\n"
	"    config:\n"
	"      type: PipelineMetadata\n"
	"sink:\n"
	"  type: metadata-rest\n"
	"  config: {}\n"
	"workflowConfig:\n"
	"  openMetadataServerConfig:\n"
	"    hostPort: http://localhost:8585/api\n"
	"    authProvider: openmetadata\n"
	"    securityConfig:\n"
	"      jwtToken: a.b.c\n";

static const char *
path_of(const char *name)
{
	static char p[4][320];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static const char *
put(const char *name, const char *text)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	/* whatever the umask (or a test before) left: the modes tests set
	 * their own */
	assert_int_equal(chmod(p, 0640), 0);
	return p;
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/gm-cfg-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	put("wf.yaml", WORKFLOW);
	return 0;
}

static int
teardown(void **state)
{
	static const char *const names[] = { "wf.yaml", "gm.yaml", "bad_wf.yaml", NULL };
	size_t i;

	(void)state;
	for (i = 0; names[i]; i++)
		(void)unlink(path_of(names[i]));
	return rmdir(dir);
}

/* cfg_load on text must fail; returns the message (static). */
static const char *
load_error(const char *text)
{
	static struct gm_err err;
	struct cfg *c = NULL;

	memset(&err, 0, sizeof(err));
	assert_int_equal(cfg_load(put("gm.yaml", text), &c, &err), -EINVAL);
	assert_null(c);
	return err.msg;
}

/* The message holds the line "<dir>/gm.yaml:<want>" (want starting with
 * line:column: key:). */
static void
assert_has_line(const char *msg, const char *want)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s/gm.yaml:%s", dir, want);
	if (!strstr(msg, line))
		fail_msg("no line '%s' in:\n%s", line, msg);
}

static size_t
count_lines(const char *s)
{
	size_t n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_good_file(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	const struct cfg_workflow *w;
	char text[2048];
	const char *path;

	(void)state;
	/* the second workflow names its file by an absolute path */
	snprintf(text, sizeof(text),
		"socket: /run/gm/ctl.sock\n"
		"state_dir: /var/lib/gm\n"
		"max_concurrent_runs: 64\n"
		"glue_concurrency: 1\n"
		"om_concurrency: 256\n"
		"incremental: false\n"
		"owner_tag: team\n"
		"metrics_textfile: /var/lib/node-exporter/gluemetad.prom\n"
		"workflows:\n"
		"  - name: nightly.etl-1\n"
		"    file: wf.yaml\n"
		"    schedule: \"*/5 * * * *\"\n"
		"    timezone: Europe/Berlin\n"
		"    enabled: no\n"
		"    jitter: 5m\n"
		"  - name: hourly\n"
		"    file: %s\n"
		"    schedule: \"@hourly\"\n"
		"    jitter: 90\n", path_of("wf.yaml"));
	path = put("gm.yaml", text);
	assert_int_equal(cfg_load(path, &c, &err), 0);
	assert_string_equal(c->path, path);
	assert_string_equal(c->socket, "/run/gm/ctl.sock");
	assert_string_equal(c->state_dir, "/var/lib/gm");
	assert_int_equal(c->max_concurrent_runs, 64);
	assert_int_equal(c->glue_concurrency, 1);
	assert_int_equal(c->om_concurrency, 256);
	assert_false(c->incremental);
	assert_string_equal(c->owner_tag, "team");
	assert_string_equal(c->metrics_textfile, "/var/lib/node-exporter/gluemetad.prom");
	assert_int_equal(c->n_workflows, 2);
	w = cfg_find(c, "nightly.etl-1");
	assert_ptr_equal(w, &c->workflows[0]);
	assert_string_equal(w->file, path_of("wf.yaml"));      /* beside the config */
	assert_string_equal(w->schedule, "*/5 * * * *");
	assert_string_equal(w->timezone, "Europe/Berlin");
	assert_false(w->enabled);
	assert_int_equal(w->jitter_s, 300);
	assert_non_null(w->wf);                                 /* the workflow file, loaded */
	assert_string_equal(w->wf->service_name, "glue_prod");
	w = cfg_find(c, "hourly");
	assert_non_null(w);
	assert_string_equal(w->file, path_of("wf.yaml"));
	assert_null(w->timezone);
	assert_true(w->enabled);
	assert_int_equal(w->jitter_s, 90);
	assert_null(cfg_find(c, "Hourly"));
	/* a run keeps its generation alive across a reload */
	assert_ptr_equal(cfg_ref(c), c);
	assert_int_equal(c->refs, 2);
	cfg_unref(c);
	assert_int_equal(c->refs, 1);
	cfg_unref(c);
	cfg_unref(NULL);
	assert_null(cfg_ref(NULL));
}

static void
test_defaults(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;

	(void)state;
	assert_int_equal(cfg_load(put("gm.yaml", "workflows: []\n"), &c, &err), 0);
	assert_string_equal(c->socket, CFG_DEFAULT_SOCKET);
	assert_string_equal(c->state_dir, CFG_DEFAULT_STATE_DIR);
	assert_int_equal(c->max_concurrent_runs, 4);
	assert_int_equal(c->glue_concurrency, 0);
	assert_int_equal(c->om_concurrency, 0);
	assert_true(c->incremental);
	assert_null(c->owner_tag);
	assert_null(c->metrics_textfile);
	assert_int_equal(c->n_workflows, 0);
	assert_null(cfg_find(c, "x"));
	cfg_unref(c);
	/* an empty mapping and no workflows key at all are fine too */
	assert_int_equal(cfg_load(put("gm.yaml", "{}\n"), &c, &err), 0);
	cfg_unref(c);
}

static void
test_each_error_names_file_line_key(void **state)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "socket: run/gm.sock\n", "1:9: socket: 'run/gm.sock' is not an absolute path" },
		{ "state_dir: 5\n", "1:12: state_dir: expected a string, found an integer" },
		{ "max_concurrent_runs: 0\n",
		  "1:22: max_concurrent_runs: expected an integer 1..64, found '0'" },
		{ "max_concurrent_runs: 65\n",
		  "1:22: max_concurrent_runs: expected an integer 1..64, found '65'" },
		{ "glue_concurrency: 0x10\n",
		  "1:19: glue_concurrency: expected an integer 1..256, found '0x10'" },
		{ "om_concurrency: [1]\n",
		  "1:17: om_concurrency: expected an integer 1..256, found 'a list'" },
		{ "incremental: maybe\n", "1:14: incremental: expected true or false" },
		{ "owner_tag: \"\"\n", "1:12: owner_tag: a Glue tag key has 1 to 128 characters" },
		{ "metrics_textfile: gluemetad.prom\n",
		  "1:19: metrics_textfile: 'gluemetad.prom': expected an absolute path of at most "
		  "1024 characters ending in '.prom' (node_exporter's textfile collector reads "
		  "only *.prom files)" },
		{ "metrics_textfile: /var/lib/node-exporter/gluemetad.txt\n",
		  "1:19: metrics_textfile: '/var/lib/node-exporter/gluemetad.txt': expected an "
		  "absolute path of at most 1024 characters ending in '.prom' (node_exporter's "
		  "textfile collector reads only *.prom files)" },
		{ "metrics_textfile: /var/lib/node-exporter/.prom\n",
		  "1:19: metrics_textfile: '/var/lib/node-exporter/.prom': expected an absolute "
		  "path of at most 1024 characters ending in '.prom' (node_exporter's textfile "
		  "collector reads only *.prom files)" },
		{ "metrics_textfile: [a]\n", "1:19: metrics_textfile: expected a string, found a list" },
		{ "colour: blue\n", "1:1: colour: unknown key" },
		{ "workflows: {a: 1}\n", "1:12: workflows: expected a list of workflows" },
		{ "- a\n", "1:1: (document): expected a mapping" },
		{ "workflows:\n  - just a string\n",
		  "2:5: workflows[0]: expected a mapping with name, file and schedule" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n",
		  "2:5: workflows[0]: 'schedule' is missing" },
		{ "workflows:\n  - file: wf.yaml\n    schedule: '* * * * *'\n",
		  "2:5: workflows[0]: 'name' is missing" },
		{ "workflows:\n  - name: a\n    schedule: '* * * * *'\n",
		  "2:5: workflows[0]: 'file' is missing" },
		{ "workflows:\n  - name: 'a b'\n    file: wf.yaml\n    schedule: '* * * * *'\n",
		  "2:11: workflows[0].name: 'a b': use 1-64 letters, digits, '_', '-' or '.'" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '61 * * * *'\n",
		  "4:15: workflows[0].schedule: minute 61 out of range 0-59" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    timezone: Mars/Olympus\n",
		  "5:15: workflows[0].timezone: 'Mars/Olympus' is not an installed IANA time zone" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    enabled: 1\n",
		  "5:14: workflows[0].enabled: expected true or false" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    jitter: 25h\n",
		  "5:13: workflows[0].jitter: '25h' is not a duration of at most 24h" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    jitter: soon\n",
		  "5:13: workflows[0].jitter: 'soon' is not a duration of at most 24h" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    jitter: s\n",
		  "5:13: workflows[0].jitter: expected a duration like 30, 45s, 5m or 1h" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "    retries: 3\n",
		  "5:5: workflows[0].retries: unknown key" },
		{ "workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n"
		  "  - name: a\n    file: wf.yaml\n    schedule: '* * * * *'\n",
		  "5:11: workflows[1]: the name 'a' is used twice" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *msg = load_error(t[i].text);
		char want[1024];

		snprintf(want, sizeof(want), "%s/gm.yaml:%s", dir, t[i].want);
		if (strcmp(msg, want) != 0)
			fail_msg("case %zu:\n got '%s'\nwant '%s'", i, msg, want);
	}
}

/* A socket path bind() would cut is refused, naming file, line and key;
 * 107 bytes are the most sun_path holds. */
static void
test_socket_path_length(void **state)
{
	char path[160], text[256], want[512];
	struct gm_err err = {{0}};
	struct cfg *c = NULL;

	(void)state;
	memset(path, 's', 108);
	path[0] = '/';
	path[108] = '\0';
	snprintf(text, sizeof(text), "state_dir: /tmp\nsocket: %s\n", path);
	snprintf(want, sizeof(want), "2:9: socket: '%s' is 108 bytes long; a unix socket path "
	         "has at most 107", path);
	assert_has_line(load_error(text), want);
	path[107] = '\0';
	snprintf(text, sizeof(text), "socket: %s\n", path);
	assert_int_equal(cfg_load(put("gm.yaml", text), &c, &err), 0);
	assert_int_equal(strlen(c->socket), 107);
	cfg_unref(c);
}

/* control_group names a group of the database, whose gid is kept; none by
 * default; an unknown name or an empty one is refused naming file, line
 * and key. */
static void
test_control_group(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;

	(void)state;
	assert_int_equal(cfg_load(put("gm.yaml", "workflows: []\n"), &c, &err), 0);
	assert_null(c->control_group);
	cfg_unref(c);
	/* root is the one group every system has */
	assert_int_equal(cfg_load(put("gm.yaml", "control_group: root\n"), &c, &err), 0);
	assert_string_equal(c->control_group, "root");
	assert_int_equal(c->control_gid, 0);
	cfg_unref(c);
	assert_has_line(load_error("socket: /run/gm.sock\ncontrol_group: no-such-group-gm\n"),
	                "2:16: control_group: no group named 'no-such-group-gm'");
	assert_has_line(load_error("control_group: ''\n"),
	                "1:16: control_group: expected a group name");
	assert_has_line(load_error("control_group: [ops]\n"),
	                "1:16: control_group: expected a string, found a list");
}

static void
test_all_errors_in_one_pass(void **state)
{
	const char *msg;

	(void)state;
	msg = load_error("socket: relative\n"
	                 "max_concurrent_runs: 100\n"
	                 "colour: blue\n"
	                 "workflows:\n"
	                 "  - name: ok\n"
	                 "    file: wf.yaml\n"
	                 "    schedule: '0 3 * * *'\n"
	                 "  - name: 'bad name'\n"
	                 "    file: wf.yaml\n"
	                 "    schedule: '0 25 * * *'\n"
	                 "  - name: ok\n"
	                 "    file: bad_wf.yaml\n"
	                 "    schedule: '@daily'\n"
	                 "incremental: 2\n");
	/* bad_wf.yaml does not exist: its own error comes through, named */
	assert_has_line(msg, "1:9: socket: 'relative' is not an absolute path");
	assert_has_line(msg, "2:22: max_concurrent_runs: expected an integer 1..64, found '100'");
	assert_has_line(msg, "3:1: colour: unknown key");
	assert_has_line(msg, "14:14: incremental: expected true or false");
	assert_has_line(msg, "8:11: workflows[1].name: 'bad name': use 1-64 letters");
	assert_has_line(msg, "10:15: workflows[1].schedule: hour 25 out of range 0-23");
	assert_has_line(msg, "11:11: workflows[2]: the name 'ok' is used twice");
	assert_non_null(strstr(msg, "bad_wf.yaml: No such file or directory"));
	assert_int_equal(count_lines(msg), 8);
	/* in the order of the file for the top level, then the workflows */
	assert_true(strstr(msg, "socket:") < strstr(msg, "colour:"));
	assert_true(strstr(msg, "colour:") < strstr(msg, "incremental:"));
}

static void
test_workflow_file_errors_come_through(void **state)
{
	const char *msg;
	char want[600];

	(void)state;
	put("bad_wf.yaml", "source:\n  type: gluepipeline\n  bogus: 1\n");
	msg = load_error("workflows:\n  - name: a\n    file: bad_wf.yaml\n    schedule: '* * * * *'\n");
	snprintf(want, sizeof(want), "%s:3:3: source.bogus: unknown key", path_of("bad_wf.yaml"));
	if (!strstr(msg, want))
		fail_msg("no '%s' in:\n%s", want, msg);
}

static void
test_error_count_is_bounded(void **state)
{
	struct buf b = {0};
	const char *msg;
	char want[400];
	int i;

	(void)state;
	for (i = 0; i < 35; i++)
		assert_int_equal(buf_printf(&b, "unknown_%d: 1\n", i), 0);
	msg = load_error(b.data);
	buf_clear(&b);
	assert_int_equal(count_lines(msg), 31);
	assert_has_line(msg, "30:1: unknown_29: unknown key");
	assert_null(strstr(msg, "unknown_30"));
	snprintf(want, sizeof(want), "\n%s/gm.yaml: 5 more problems not shown", dir);
	assert_non_null(strstr(msg, want));
}

/* A workflow file that cannot be read is named at the configuration's
 * place, with the system's reason. */
static void
test_workflow_file_named_at_its_key(void **state)
{
	char want[1024];
	const char *msg;

	(void)state;
	msg = load_error("workflows:\n  - name: a\n    file: missing.yaml\n"
	                 "    schedule: '* * * * *'\n");
	snprintf(want, sizeof(want), "%s/gm.yaml:3:11: workflows[0].file: %s: "
	         "No such file or directory", dir, path_of("missing.yaml"));
	assert_string_equal(msg, want);
	msg = load_error("workflows:\n  - name: a\n    file: '.'\n    schedule: '* * * * *'\n");
	snprintf(want, sizeof(want), "%s/gm.yaml:3:11: workflows[0].file: %s: Is a directory",
	         dir, path_of("."));
	assert_string_equal(msg, want);
}

/* A schedule that names a day that never comes is an error at load; one
 * that fires rarely, but within 5 years, is not. */
static void
test_schedule_must_fire_within_5_years(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	char want[512];

	(void)state;
	snprintf(want, sizeof(want), "%s/gm.yaml:4:15: workflows[0].schedule: '0 0 30 2 *' "
	         "does not fire in the next 5 years", dir);
	assert_string_equal(load_error("workflows:\n  - name: a\n    file: wf.yaml\n"
	                               "    schedule: '0 0 30 2 *'\n"), want);
	snprintf(want, sizeof(want), "%s/gm.yaml:4:15: workflows[0].schedule: '0 12 31 4,6 *' "
	         "does not fire in the next 5 years", dir);
	assert_string_equal(load_error("workflows:\n  - name: a\n    file: wf.yaml\n"
	                               "    schedule: '0 12 31 4,6 *'\n"
	                               "    timezone: Europe/Berlin\n"), want);
	/* February 29th comes every 4 years */
	assert_int_equal(cfg_load(put("gm.yaml", "workflows:\n  - name: a\n    file: wf.yaml\n"
	                              "    schedule: '0 0 29 2 *'\n"), &c, &err), 0);
	cfg_unref(c);
}

/* sshd's StrictModes: a file every user may write is refused, naming the
 * file and its mode; one its group may write loads with a warning. */
static void
test_world_writable_refused_group_writable_warned(void **state)
{
	static const char text[] =
		"workflows:\n  - name: a\n    file: wf.yaml\n    schedule: '@daily'\n";
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	char cfg[320], wf[320], want[1024];

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s", put("gm.yaml", text));
	snprintf(wf, sizeof(wf), "%s", path_of("wf.yaml"));
	assert_int_equal(cfg_load(cfg, &c, &err), 0);
	assert_int_equal(c->n_warnings, 0);
	cfg_unref(c);

	assert_int_equal(chmod(wf, 0666), 0);
	snprintf(want, sizeof(want), "%s:3:11: workflows[0].file: %s: mode 0666 lets every user "
	         "change it, refused (chmod o-w %s)", cfg, wf, wf);
	assert_string_equal(load_error(text), want);

	assert_int_equal(chmod(wf, 0664), 0);
	assert_int_equal(cfg_load(cfg, &c, &err), 0);
	assert_int_equal(c->n_warnings, 1);
	snprintf(want, sizeof(want), "%s: mode 0664 lets its group change it (chmod g-w %s "
	         "unless that is meant)", wf, wf);
	assert_string_equal(c->warnings[0], want);
	cfg_unref(c);
	assert_int_equal(chmod(wf, 0640), 0);

	/* the configuration itself, with its other problems in the same pass */
	put("gm.yaml", "colour: blue\n");
	assert_int_equal(chmod(cfg, 0602), 0);
	memset(&err, 0, sizeof(err));
	c = NULL;
	assert_int_equal(cfg_load(cfg, &c, &err), -EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want), "%s: mode 0602 lets every user change it, refused "
	         "(chmod o-w %s)\n%s:1:1: colour: unknown key", cfg, cfg, cfg);
	assert_string_equal(err.msg, want);
	put("gm.yaml", "{}\n");
	assert_int_equal(chmod(cfg, 0620), 0);
	assert_int_equal(cfg_load(cfg, &c, &err), 0);
	assert_int_equal(c->n_warnings, 1);
	snprintf(want, sizeof(want), "%s: mode 0620 lets its group change it (chmod g-w %s "
	         "unless that is meant)", cfg, cfg);
	assert_string_equal(c->warnings[0], want);
	cfg_unref(c);
	assert_int_equal(chmod(cfg, 0640), 0);
}

/* cfg_load_checked(): state_dir must exist or be creatable and take a
 * file, as the running user; the real errno, at state_dir's place. */
static void
test_state_dir_probe(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	char text[600], want[1024], cfg[320], sd[320];
	struct stat st;

	(void)state;
	/* cfg_load() alone reads the file only */
	snprintf(cfg, sizeof(cfg), "%s", put("gm.yaml", "state_dir: /proc/x\n"));
	assert_int_equal(cfg_load(cfg, &c, &err), 0);
	cfg_unref(c);
	c = NULL;
	assert_int_equal(cfg_load_checked(cfg, &c, &err), -EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:1:12: state_dir: /proc/x: No such file or directory", cfg);
	assert_string_equal(err.msg, want);

	/* under a regular file, reported with the rest in one pass */
	snprintf(text, sizeof(text), "socket: relative\nstate_dir: %s/state\n", path_of("wf.yaml"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(cfg_load_checked(put("gm.yaml", text), &c, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:1:9: socket: 'relative' is not an absolute path\n"
	         "%s:2:12: state_dir: %s/state: Not a directory", cfg, cfg, path_of("wf.yaml"));
	assert_string_equal(err.msg, want);

	/* a folder that is not there yet but can be made: accepted, and not
	 * left behind */
	snprintf(sd, sizeof(sd), "%s", path_of("state"));
	snprintf(text, sizeof(text), "state_dir: %s\n", sd);
	assert_int_equal(cfg_load_checked(put("gm.yaml", text), &c, &err), 0);
	cfg_unref(c);
	assert_int_equal(stat(sd, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* one that is there: accepted, and the probe file is gone again */
	assert_int_equal(mkdir(sd, 0750), 0);
	assert_int_equal(cfg_load_checked(cfg, &c, &err), 0);
	assert_string_equal(c->state_dir, sd);
	cfg_unref(c);
	assert_int_equal(rmdir(sd), 0);                         /* empty */

	/* a state_dir written wrongly is reported as such, not probed as
	 * the default in its place */
	memset(&err, 0, sizeof(err));
	assert_int_equal(cfg_load_checked(put("gm.yaml", "state_dir: var/lib\n"), &c, &err),
	                 -EINVAL);
	snprintf(want, sizeof(want), "%s:1:12: state_dir: 'var/lib' is not an absolute path", cfg);
	assert_string_equal(err.msg, want);
}

static void
test_unreadable_and_invalid_yaml(void **state)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	const char *msg;

	(void)state;
	assert_int_equal(cfg_load(path_of("none.yaml"), &c, &err), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err.msg, "none.yaml: No such file or directory"));
	msg = load_error("socket: [unclosed\n");
	assert_has_line(msg, "2:1: ");
	msg = load_error("socket: /a\nsocket: /b\n");
	assert_has_line(msg, "2:1: socket: duplicate key (first at line 1)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_each_error_names_file_line_key),
		cmocka_unit_test(test_socket_path_length),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_all_errors_in_one_pass),
		cmocka_unit_test(test_workflow_file_errors_come_through),
		cmocka_unit_test(test_error_count_is_bounded),
		cmocka_unit_test(test_unreadable_and_invalid_yaml),
		cmocka_unit_test(test_workflow_file_named_at_its_key),
		cmocka_unit_test(test_schedule_must_fire_within_5_years),
		cmocka_unit_test(test_world_writable_refused_group_writable_warned),
		cmocka_unit_test(test_state_dir_probe),
	};

	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
