/* The daemon configuration (gluemetad.yaml): YAML, the keys, the cron
 * schedules and zones, and the workflow files it names (a valid one sits
 * next to it).  Checks: 0 or -EINVAL, an error names the file, a loaded
 * configuration is consistent. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "fuzz.h"
#include "util.h"
#include "wf.h"

static char dir[64], path[96];

static const char workflow[] =
	"source:\n"
	"  type: gluepipeline\n"
	"  serviceName: fuzz_glue\n"
	"  serviceConnection:\n"
	"    config:\n"
	"      type: GluePipeline\n"
	"      awsConfig:\n"
	"        awsAccessKeyId: AKIDEXAMPLE\n"
	"        awsSecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	"        awsRegion: us-east-1\n"
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
	"      jwtToken: token\n";

static char wpath[128];

/* The configuration, its workflow file and their folder go when the
 * process ends. */
static void
cleanup(void)
{
	(void)unlink(path);
	(void)unlink(wpath);
	(void)rmdir(dir);
}

static void
setup(void)
{

	snprintf(dir, sizeof(dir), "/dev/shm/gm-fuzz-cfg-%ld", (long)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		abort();
	snprintf(path, sizeof(path), "%s/gluemetad.yaml", dir);
	snprintf(wpath, sizeof(wpath), "%s/wf.yaml", dir);
	fuzz_write_file(wpath, (const uint8_t *)workflow, sizeof(workflow) - 1);
	chmod(wpath, 0600);
	/* cfg_load() refuses a configuration every user may write, whatever
	 * the umask made it; each input rewrites the file and keeps the mode */
	fuzz_write_file(path, (const uint8_t *)"", 0);
	chmod(path, 0600);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_err err = {{0}};
	struct cfg *c = NULL;
	size_t i;
	int r;

	if (!dir[0])
		setup();
	fuzz_write_file(path, data, size);
	r = cfg_load(path, &c, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r < 0) {
		FUZZ_CHECK(!c && err.msg[0]);
		/* the workflow file's secret never shows in an error (unless
		 * the configuration itself holds that text) */
		FUZZ_CHECK(!strstr(err.msg, "wJalrXUtnFEMI") ||
		           memmem(data, size, "wJalrXUtnFEMI", 13));
		return 0;
	}
	FUZZ_CHECK(c && c->socket && c->state_dir && c->max_concurrent_runs > 0);
	FUZZ_CHECK(c->n_workflows <= CFG_MAX_WORKFLOWS);
	for (i = 0; i < c->n_workflows; i++) {
		const struct cfg_workflow *w = &c->workflows[i];

		FUZZ_CHECK(w->name && w->file && w->schedule && w->wf);
		FUZZ_CHECK(cfg_find(c, w->name) == w);
	}
	cfg_unref(c);
	return 0;
}
