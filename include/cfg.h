/* cfg — the daemon configuration (/etc/gluemetad/gluemetad.yaml): socket,
 * state_dir, concurrency, and the workflows with their OpenMetadata
 * workflow files, cron schedules and zones, and where the metrics go for
 * node_exporter's textfile collector.  Loading validates everything,
 * the referenced workflow files included, and reports every problem at once
 * as file:line:column: key: problem.  A loaded cfg is immutable and
 * reference-counted: a run holds the cfg it started with across reloads. */
#ifndef GLUEMETAD_CFG_H
#define GLUEMETAD_CFG_H

#include <stddef.h>
#include <sys/types.h>

#include "cron.h"
#include "log.h"

struct gm_err;
struct wf;

#define CFG_DEFAULT_PATH "/etc/gluemetad/gluemetad.yaml"
#define CFG_DEFAULT_SOCKET "/run/gluemetad/gluemetad.sock"
#define CFG_DEFAULT_STATE_DIR "/var/lib/gluemetad"
#define CFG_MAX_WORKFLOWS 10000
#define CFG_MAX_PATH 1024           /* metrics_textfile */
/* A schedule must fire within this long from the load (5 years). */
#define CFG_FIRE_HORIZON ((long long)(5 * 365 + 2) * 86400)

struct cfg_workflow {
	char *name;
	char *file;                 /* absolute or relative to the config's folder */
	char *schedule;
	struct cron_spec cron;
	char *timezone;             /* NULL: the system zone */
	int enabled;
	unsigned jitter_s;          /* random delay 0..jitter_s added to each fire */
	int catch_up;               /* fire once at start for a fire missed while down */
	struct wf *wf;
};

/* events: where Glue's events arrive (an SQS queue EventBridge sends to). */
struct cfg_events {
	char *queue_url;
	char *region;               /* the queue URL's, else awsConfig.awsRegion */
	struct wf *aws;             /* awsConfig, as a workflow file's, for awsauth */
	unsigned debounce_ms;       /* default 1000 */
	char *fingerprint;          /* the block as loaded: a reload that changes it restarts */
};

struct cfg {
	char *path;
	char *socket;
	char *state_dir;
	unsigned max_concurrent_runs;
	unsigned glue_concurrency, om_concurrency;
	char *owner_tag;            /* Glue tag naming a pipeline's owner; NULL: "owner" */
	int incremental;            /* remember what runs wrote (default on) */
	char *metrics_textfile;     /* NULL: none; absolute, ends in ".prom" */
	char *control_group;        /* NULL: none; its members may run and reload */
	gid_t control_gid;          /* control_group's, looked up at load */
	struct cfg_events *events;      /* NULL: no event consumer */
	enum log_format log_format; /* lines on stderr: human (default) or json */
	int reload_on_change;       /* watch the files, reload when they change */
	struct cfg_workflow *workflows;
	size_t n_workflows;
	/* What the load accepts but an operator should hear of, one a line
	 * without "warning: " (a file its group may write); `check` prints
	 * them, the daemon logs them. */
	char **warnings;
	size_t n_warnings;
	int refs;
};

/* Loads and validates path and every workflow file it names: the keys,
 * each schedule firing within CFG_FIRE_HORIZON, each workflow file
 * readable and valid (wf_load()), and file modes as sshd's StrictModes:
 * the configuration or a workflow file that every user may write is
 * refused, one its group may write gets a warning.  0 with *ret, or
 * -EINVAL with every problem in err, or another -errno when path cannot
 * be read.  Reads files, writes none. */
int cfg_load(const char *path, struct cfg **ret, struct gm_err *err);
/* cfg_load() and what running with the configuration needs of the
 * system: state_dir exists or can be made, and the running user can write
 * a file in it (a probe file, written and removed; a state_dir it made for
 * the probe goes again).  Problems of both kinds come together, each as
 * file:line:column: key.  `check`, the daemon's start and its reload all
 * load through this one function, so what `check` accepts starts. */
int cfg_load_checked(const char *path, struct cfg **ret, struct gm_err *err);
struct cfg *cfg_ref(struct cfg *c);
void cfg_unref(struct cfg *c);
const struct cfg_workflow *cfg_find(const struct cfg *c, const char *name);

#endif
