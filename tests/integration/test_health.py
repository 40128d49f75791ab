"""What the daemon says about itself when something beside the runs goes
wrong.  A run whose state (the history, its memo) could not be written is
shown as `success (state not saved: REASON)` in status, history and the
run-finished log line; status carries the last state-write error until a
run's state is saved again, the log says it once per distinct error, and
gluemetad_state_write_errors_total counts every failed write.  The last
reload's time, result and error are in status, in systemd's STATUS= and in
`gluemetactl status` until a good reload, and the reload gauges agree."""
import json
import os
import re
import signal
import time

from harness import DaemonCase
from test_metrics import parse, value


class HealthCase(DaemonCase):
    def state(self, name=""):
        return os.path.join(self.dir, "state", name) if name else os.path.join(self.dir, "state")

    def runs(self, name="a"):
        return json.loads(self.ctl("--json", "history", name).stdout)["runs"]

    def run_a(self):
        """One manual run of a, waited for until it is in the history."""
        before = len(self.runs())
        self.ctl("run", "a")
        self.wait(lambda: len(self.runs()) > before, what="a's run in the history")
        return self.runs()[0]

    def metrics(self):
        return parse(self.ctl("metrics").stdout)[0]

    def block(self, name):
        """state_dir/name made a directory: the rename that ends a state
        write fails with EISDIR, whoever runs the daemon (root included)."""
        path = self.state(name)
        if os.path.exists(path):
            os.remove(path)
        os.mkdir(path)
        return path


class TestStateNotSaved(HealthCase):
    def test_history_that_cannot_be_written(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.assertEqual(self.run_a()["result"], "success")
        hist = self.block("history.json")
        err = f"cannot write {hist}: Is a directory"
        want = "success (state not saved: history.json: Is a directory)"
        t0 = time.time()
        first, second = self.run_a(), self.run_a()
        for r in (first, second):
            self.assertEqual(r["result"], want)
            self.assertEqual(r["state_error"], "history.json: Is a directory")
        st = self.status()
        self.assertEqual(self.by_name(st)["a"]["last"][0]["result"], want)
        self.assertEqual(st["state_error"]["error"], err)
        self.assertGreaterEqual(st["state_error"]["at"], second["finished_ms"] / 1000 - 0.001)
        self.assertLessEqual(st["state_error"]["at"], time.time())
        self.assertGreater(st["state_error"]["at"], t0)
        out = self.ctl("status").stdout
        self.assertIn(f"\nstate not saved: {err} (last at ", out)
        self.assertIn(want, out)
        self.assertEqual(self.ctl("history", "a").stdout.count(want), 2)
        # every run says it; the error itself is logged once
        log = self.log()
        finished = re.findall(r"run [0-9a-f-]+ (.*) in [0-9.]+s: ", log)
        self.assertEqual(finished, ["success", want, want], log[-3000:])
        self.assertEqual(log.count(err), 1, log[-3000:])
        self.assertEqual(value(self.metrics(), "gluemetad_state_write_errors_total"), 2)
        # repaired: the next run's state is saved, the error leaves status,
        # the file has the runs it missed, with what happened to them
        os.rmdir(hist)
        self.assertEqual(self.run_a()["result"], "success")
        st = self.status()
        self.assertNotIn("state_error", st)
        self.assertNotIn("state not saved", self.ctl("status").stdout)
        self.assertIn(f"state saved again in {self.state()}", self.log())
        with open(hist) as fh:
            recorded = json.load(fh)["workflows"]["a"]
        self.assertEqual([r["result"] for r in recorded], ["success", want, want, "success"])
        self.assertEqual(value(self.metrics(), "gluemetad_state_write_errors_total"), 2)
        # broken again after a success: logged again
        self.block("history.json")
        self.assertEqual(self.run_a()["result"], want)
        self.assertEqual(self.log().count(err), 2)
        self.assertEqual(self.status()["state_error"]["error"], err)
        self.assertEqual(value(self.metrics(), "gluemetad_state_write_errors_total"), 3)
        self.assertEqual(self.stop()[0], 0)

    def test_memo_that_cannot_be_written_is_recorded_across_a_restart(self):
        self.config([("a", "0 0 1 1 *")])
        os.makedirs(self.state())
        memo = self.block("memo-a.json")
        err = f"cannot write {memo}: Is a directory"
        want = "success (state not saved: memo-a.json: Is a directory)"
        self.start()
        self.assertEqual([self.run_a()["result"] for _ in range(2)], [want, want])
        self.assertEqual(self.status()["state_error"]["error"], err)
        self.assertEqual(self.log().count(err), 1)
        self.assertEqual(value(self.metrics(), "gluemetad_state_write_errors_total"), 2)
        self.assertEqual(self.stop()[0], 0)
        # the history was written: a new daemon shows what happened
        self.start()
        self.assertEqual([r["result"] for r in self.runs()], [want, want])
        self.assertEqual(self.runs()[0]["state_error"], "memo-a.json: Is a directory")
        self.assertNotIn("state_error", self.status())    # nothing failed in this process
        series = self.metrics()
        self.assertEqual(value(series, "gluemetad_state_write_errors_total"), 0)
        self.assertIsNotNone(value(series, "gluemetad_last_success_timestamp_seconds",
                                   workflow="a"))
        self.assertEqual(self.stop()[0], 0)


class TestReloadResult(HealthCase):
    def status_line(self, after):
        """The last STATUS= the daemon sent after message number after."""
        with self.notify.lock:
            msgs = list(self.notify.msgs[after:])
        lines = [x for m in msgs for x in m.split("\n") if x.startswith("STATUS=")]
        return lines[-1] if lines else None

    def test_failed_reload_is_shown_until_a_good_one(self):
        self.config([("a", "0 0 1 1 *")])
        with open(os.path.join(self.dir, "gluemetad.yaml")) as fh:
            good = fh.read()
        self.start()
        self.assertNotIn("reload", self.status())
        self.assertNotIn("last reload", self.ctl("status").stdout)
        start_ok = value(self.metrics(), "gluemetad_config_last_reload_success_timestamp_seconds")
        # a broken configuration, by SIGHUP
        self.write("gluemetad.yaml", good + "no_such_key: 1\n")
        n = self.notify.count()
        self.proc.send_signal(signal.SIGHUP)
        line = self.wait(lambda: (lambda x: x if x and "reload failed" in x else None)(
            self.status_line(n)), what="STATUS= with the failed reload")
        rl = self.status()["reload"]
        self.assertEqual(set(rl), {"at", "ok", "error"})
        self.assertIs(rl["ok"], False)
        self.assertIn("gluemetad.yaml:", rl["error"])
        self.assertIn("no_such_key", rl["error"])
        self.assertIn(rl["error"], self.log())
        at = time.localtime(rl["at"])
        self.assertTrue(line.startswith("STATUS=1 workflow, 0 running"), line)
        self.assertTrue(line.endswith(f", reload failed at {time.strftime('%H:%M', at)}: "
                                      f"{rl['error']}"), line)
        self.assertIn(f"\nlast reload: {time.strftime('%Y-%m-%d %H:%M:%S', at)}, failed "
                      f"(the previous configuration runs): {rl['error']}\n",
                      self.ctl("status").stdout)
        series = self.metrics()
        self.assertEqual(value(series, "gluemetad_config_last_reload_successful"), 0)
        self.assertEqual(value(series, "gluemetad_config_last_reload_success_timestamp_seconds"),
                         start_ok)
        self.assertLess(start_ok, rl["at"])
        # gluemetactl reload: refused with the same error, status follows
        p = self.ctl("reload", ok=False)
        self.assertEqual(p.returncode, 1)
        rl2 = self.status()["reload"]
        self.assertEqual(p.stderr, f"gluemetactl: reload failed: {rl2['error']}\n")
        self.assertGreaterEqual(rl2["at"], rl["at"])
        # the STATUS= of what happens next (a run) still says it
        n = self.notify.count()
        self.run_a()
        self.wait(lambda: (self.status_line(n) or "").startswith("STATUS=1 workflow, 0 running"),
                  what="STATUS= after the run")
        self.assertIn(", reload failed at ", self.status_line(n))
        # a good reload clears it everywhere
        self.write("gluemetad.yaml", good)
        n = self.notify.count()
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: self.status()["reload"]["ok"], what="the good reload")
        rl = self.status()["reload"]
        self.assertEqual(set(rl), {"at", "ok"})
        self.wait(lambda: self.status_line(n), what="STATUS= after the good reload")
        self.assertNotIn("reload failed", self.status_line(n))
        self.assertIn(f"\nlast reload: "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(rl['at']))}, applied\n",
                      self.ctl("status").stdout)
        series = self.metrics()
        self.assertEqual(value(series, "gluemetad_config_last_reload_successful"), 1)
        self.assertAlmostEqual(
            value(series, "gluemetad_config_last_reload_success_timestamp_seconds"), rl["at"],
            delta=0.0015)
        self.assertEqual(self.stop()[0], 0)
