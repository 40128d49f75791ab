/* Workflow files (`metadata ingest -c` YAML): YAML parsing, the tree, and
 * the validation of every key wf_load does.  Checks: the result is 0 or
 * -EINVAL, an error names the file, a success has the required members. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "wf.h"
#include "ytree.h"

static char path[64];

/* The input file goes when the process ends. */
static void
cleanup(void)
{
	(void)unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gm_err err = {{0}};
	struct ynode *root = NULL;
	struct wf *w = NULL;
	int r;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/dev/shm/gm-fuzz-wf-%ld.yaml", (long)getpid());
		atexit(cleanup);
	}
	r = ytree_load_string("fuzz.yaml", (const char *)data, size, &root, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 || strncmp(err.msg, "fuzz.yaml:", 10) == 0);
	ytree_free(root);

	fuzz_write_file(path, data, size);
	memset(&err, 0, sizeof(err));
	r = wf_load(path, &w, &err);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		FUZZ_CHECK(w && w->service_name && w->source_type && w->om_host_port);
		wf_free(w);
	} else {
		FUZZ_CHECK(!w && strstr(err.msg, path));
	}
	return 0;
}
