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

struct gm_err;
struct wf;

#define CFG_DEFAULT_PATH "/etc/gluemetad/gluemetad.yaml"
#define CFG_DEFAULT_SOCKET "/run/gluemetad/gluemetad.sock"
#define CFG_DEFAULT_STATE_DIR "/var/lib/gluemetad"
#define CFG_MAX_WORKFLOWS 1000
#define CFG_MAX_PATH 1024           /* metrics_textfile */

struct cfg_workflow {
	char *name;
	char *file;                 /* absolute or relative to the config's folder */
	char *schedule;
	struct cron_spec cron;
	char *timezone;             /* NULL: the system zone */
	int enabled;
	unsigned jitter_s;          /* random delay 0..jitter_s added to each fire */
	struct wf *wf;
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
	struct cfg_workflow *workflows;
	size_t n_workflows;
	int refs;
};

int cfg_load(const char *path, struct cfg **ret, struct gm_err *err);
struct cfg *cfg_ref(struct cfg *c);
void cfg_unref(struct cfg *c);
const struct cfg_workflow *cfg_find(const struct cfg *c, const char *name);

#endif
