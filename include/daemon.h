/* daemon — `gluemetad daemon`: holds the workflows of the daemon config in
 * one libuv loop, fires each on its cron schedule (one uv_timer per
 * workflow), runs at most max_concurrent_runs at once, never overlaps a
 * workflow with itself, reloads on SIGHUP, stops on SIGTERM/SIGINT, speaks
 * sd_notify, answers the control socket and keeps run history in
 * state_dir. */
#ifndef GLUEMETAD_DAEMON_H
#define GLUEMETAD_DAEMON_H

/* Runs until stopped.  Returns the exit status: 0 after a clean stop, 2
 * when the configuration cannot be loaded or another daemon has its
 * state_dir (STATE_DIR/gluemetad.lock) or answers on its socket, 1 on
 * other start-up failures. */
int daemon_main(const char *config_path, int debug);

#endif
