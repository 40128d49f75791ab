/* daemon_watch — reload_on_change: the daemon's side of filewatch.  Keeps
 * one filewatch on the configuration file and every workflow file the
 * running configuration names, made when reload_on_change is turned on and
 * freed when it is turned off, and turns a change into the reload SIGHUP
 * makes (daemon__reload_soon()): a configuration with an error is refused
 * and the running one stays. */
#include <stdlib.h>

#include "cfg.h"
#include "daemon_int.h"
#include "filewatch.h"
#include "log.h"
#include "util.h"

static void
on_files_changed(void *arg)
{
	struct daemon *d = arg;

	if (d->stopping)
		return;
	log_notice(NULL, "the configuration or a workflow file changed (reload_on_change), "
	           "reloading");
	daemon__reload_soon(d);
}

void
daemon__watch_update(struct daemon *d)
{
	const struct cfg *c = d->cfg;
	struct gm_err err = {{0}};
	const char **paths;
	size_t i, n = 0;
	int made = 0;

	if (!c->reload_on_change || d->stopping) {
		if (d->filewatch)
			log_notice(NULL, "reload_on_change is off: the files are no longer watched");
		daemon__watch_close(d);
		return;
	}
	if (!d->filewatch) {
		if (!(d->filewatch = filewatch_new(&d->loop, on_files_changed, d))) {
			log_warning(NULL, "reload_on_change: out of memory, the files are not watched");
			return;
		}
		made = 1;
	}
	if (!(paths = calloc(c->n_workflows + 1, sizeof(*paths)))) {
		log_warning(NULL, "reload_on_change: out of memory, the watched files stay as they "
		            "were");
		return;
	}
	paths[n++] = d->cfg_path;
	for (i = 0; i < c->n_workflows; i++)
		paths[n++] = c->workflows[i].file;
	if (filewatch_set(d->filewatch, paths, n, &err) < 0)
		log_warning(NULL, "reload_on_change: %s; a change there is not seen, SIGHUP "
		            "still reloads", err.msg);
	else if (made)
		log_notice(NULL, "reload_on_change: watching the configuration and %zu workflow "
		           "files", c->n_workflows);
	free(paths);
}

void
daemon__watch_close(struct daemon *d)
{
	filewatch_free(d->filewatch);
	d->filewatch = NULL;
}
