"""gluemetad daemon: cron schedules, overlap, control socket and
gluemetactl, SIGHUP reloads, SIGTERM, sd_notify, history across restarts,
journald records."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

import harness
# DaemonCase and Notify live in harness; importing them from here still works
from harness import BIN, CTL, DaemonCase, Notify  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))


class TestDaemon(DaemonCase):
    def test_schedules_status_manual_run_and_stop(self):
        self.config([("a", "*/3 * * * * *"), ("b", "*/3 * * * * *"), ("c", "0 0 1 1 *")])
        self.start()
        st = self.status()
        self.assertEqual(st["workflows_total"], 3)
        w = self.by_name(st)
        self.assertEqual(w["c"]["state"], "idle")
        self.assertEqual(w["a"]["schedule"], "*/3 * * * * *")
        self.assertGreater(w["c"]["next_fire"], time.time() + 86400)
        self.assertLessEqual(w["a"]["next_fire"], time.time() + 3.5)
        # scheduled runs land
        self.wait(lambda: {"svc_a", "svc_b"} <= self.services(), what="scheduled runs")
        self.wait(lambda: self.by_name()["a"].get("last"), what="history of a")
        last = self.by_name()["a"]["last"][0]
        self.assertEqual(last["result"], "success")
        self.assertEqual(last["trigger"], "schedule")
        self.assertEqual(last["pipelines"], len(self.estate["workflows"]))
        # fires on time: the start of a scheduled run is within 1.5 s of a multiple of 3 s
        self.assertLess((last["started_ms"] / 1000.0) % 3, 1.5)
        self.assertNotIn("svc_c", self.services())
        p = self.ctl("run", "c")
        self.assertIn("c: ", p.stdout)
        self.wait(lambda: "svc_c" in self.services(), timeout=15, what="manual run of c")
        hist = json.loads(self.ctl("--json", "history", "c").stdout)
        self.wait(lambda: json.loads(self.ctl("--json", "history", "c").stdout)["runs"],
                  what="history of c")
        hist = json.loads(self.ctl("--json", "history", "c").stdout)
        self.assertEqual(hist["runs"][0]["trigger"], "manual")
        human = self.ctl("status").stdout
        self.assertIn("WORKFLOW", human)
        self.assertRegex(human, r"\n  c +idle")
        self.assertEqual(self.ctl("run", "nope", ok=False).returncode, 1)
        self.assertEqual(self.ctl("history", ok=False).returncode, 2)
        self.assertIn("STATUS=3 workflows", "\n".join(self.notify.msgs))
        rc, took = self.stop()
        self.assertEqual(rc, 0)
        self.notify.wait_for("STOPPING=1")
        self.assertLess(took, 10)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "gm.sock")))
        self.assertNotIn(harness.SK, self.log())
        self.assertNotIn(harness.JWT, self.log())

    def test_each_run_reported_with_its_own_run_id(self):
        self.s.om.call("POST", "/__fake/seed", {"ingestionPipelines": ["svc_a.glue_metadata"]})
        self.write("a.yaml", harness.workflow_yaml(
            self.s, service="svc_a", extra_top="ingestionPipelineFQN: svc_a.glue_metadata"))
        self.config([("a", "0 0 1 1 *")])
        self.start()
        for n in (1, 2):
            self.ctl("run", "a")
            self.wait(lambda: len(json.loads(self.ctl("--json", "history", "a").stdout)["runs"])
                      >= n, what=f"run {n} of a")
        log = self.s.dump()["ingestionPipelineStatusLog"]
        runs = json.loads(self.ctl("--json", "history", "a").stdout)["runs"]
        ids = {r["run_id"] for r in runs}
        self.assertEqual(len(ids), 2, runs)
        for rid in ids:
            self.assertEqual([x["pipelineState"] for x in log if x["runId"] == rid],
                             ["running", "success"])
        self.assertEqual({x["runId"] for x in log}, ids)
        self.assertEqual(self.stop()[0], 0)

    def om_writes(self):
        return sum(v for k, v in self.s.dump()["counts"].items()
                   if k.split(" ")[0] in ("PUT", "POST", "PATCH", "DELETE"))

    def run_and_wait(self, name, n):
        self.ctl("run", name)
        self.wait(lambda: len(json.loads(self.ctl("--json", "history", name).stdout)["runs"])
                  >= n, what=f"run {n} of {name}")

    def test_incremental_runs_and_the_switch(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.run_and_wait("a", 1)
        first = self.om_writes()
        self.assertGreater(first, len(self.estate["workflows"]))
        memo = os.path.join(self.dir, "state", "memo-a.json")
        self.assertTrue(os.path.exists(memo))
        self.run_and_wait("a", 2)
        self.assertEqual(self.om_writes(), first, "an unchanged estate was written again")
        self.assertEqual(self.stop()[0], 0)
        # incremental: false writes everything, and forgets the memo
        self.config([("a", "0 0 1 1 *")])
        with open(os.path.join(self.dir, "gluemetad.yaml"), "a") as fh:
            fh.write("incremental: false\n")
        self.start()
        self.run_and_wait("a", 3)
        self.assertGreater(self.om_writes() - first, len(self.estate["workflows"]))
        self.assertFalse(os.path.exists(memo))
        self.assertEqual(self.stop()[0], 0)

    def test_no_overlap_when_a_run_outlasts_its_interval(self):
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 400})
        self.config([("a", "* * * * * *")])
        self.start()
        self.wait(lambda: len(json.loads(self.ctl("--json", "history", "a").stdout)["runs"]) >= 2,
                  timeout=60, what="two runs")
        runs = json.loads(self.ctl("--json", "history", "a").stdout)["runs"]
        runs.sort(key=lambda r: r["started_ms"])
        for prev, nxt in zip(runs, runs[1:]):
            self.assertGreaterEqual(nxt["started_ms"], prev["finished_ms"])
        self.assertGreater(self.by_name()["a"]["skipped"], 0)
        self.assertIn("still running from the previous fire, skipping", self.log())
        self.assertEqual(self.stop()[0], 0)

    def test_reloads(self):
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")])
        self.start()
        n = self.notify.count()
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *"), ("d", "*/2 * * * * *")])
        self.proc.send_signal(signal.SIGHUP)
        i = self.notify.wait_for("RELOADING=1", after=n)
        self.assertIn("MONOTONIC_USEC=", self.notify.msgs[i])
        self.notify.wait_for("READY=1", after=i)
        self.assertEqual(set(self.by_name()), {"a", "b", "d"})
        self.wait(lambda: "svc_d" in self.services(), what="the added workflow's run")
        # a broken workflow file: the old set stays, the error is logged
        self.write("e.yaml", "source: [unclosed\n")
        self.config([("a", "0 0 1 1 *"), ("e", "@daily")])
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: "reload failed" in self.log(), what="reload failure in the log")
        self.assertIn("e.yaml:", self.log())
        self.assertEqual(set(self.by_name()), {"a", "b", "d"})
        p = self.ctl("reload", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("reload failed", p.stderr)
        # a burst of SIGHUPs leaves it healthy
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")])
        for _ in range(50):
            self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: set(self.by_name()) == {"a", "b"}, what="reloaded set")
        self.assertIsNone(self.proc.poll())
        self.assertEqual(self.ctl("run", "b").returncode, 0)
        self.wait(lambda: "svc_b" in self.services(), what="run after the burst")
        self.assertEqual(self.stop()[0], 0)

    def test_sigterm_mid_run_and_history_survives_restart(self):
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 300})
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.ctl("run", "a")
        self.wait(lambda: self.by_name()["a"]["state"] == "running", what="running")
        # SIGTERM while Glue requests are in flight (each takes 300 ms)
        self.wait(lambda: self.s.glue_stats()["in_flight"] > 0, what="a Glue request in flight")
        rc, took = self.stop()
        self.assertEqual(rc, 0)
        self.assertLess(took, 10)
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 0})
        self.notify.msgs.clear()
        self.start()
        runs = json.loads(self.ctl("--json", "history", "a").stdout)["runs"]
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["result"], "interrupted")
        self.ctl("run", "a")
        self.wait(lambda: len(json.loads(self.ctl("--json", "history", "a").stdout)["runs"]) == 2,
                  what="second run")
        self.assertEqual(self.stop()[0], 0)
        with open(os.path.join(self.dir, "state", "history.json")) as fh:
            self.assertEqual(len(json.load(fh)["workflows"]["a"]), 2)

    def test_without_systemd_disabled_jitter_and_watchdog(self):
        self.config([("a", "0 0 1 1 *", "enabled: false"), ("b", "@hourly", "jitter: 30m",
                                                            "timezone: America/New_York")])
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        log = open(os.path.join(self.dir, "daemon.log"), "a")
        self.proc = subprocess.Popen(harness.WRAPPER + [BIN, "daemon", "--config",
                                     os.path.join(self.dir, "gluemetad.yaml")], env=env,
                                     stdout=log, stderr=log)
        self.wait(lambda: os.path.exists(os.path.join(self.dir, "gm.sock")) and
                  self.ctl("--json", "status", ok=False).returncode == 0, what="socket")
        w = self.by_name()
        self.assertEqual(w["a"]["state"], "disabled")
        self.assertNotIn("next_fire", w["a"])
        hour = (int(time.time()) // 3600 + 1) * 3600
        self.assertTrue(hour <= w["b"]["next_fire"] <= hour + 1800, w["b"])
        self.assertEqual(w["b"]["timezone"], "America/New_York")
        self.assertEqual(self.ctl("run", "a").returncode, 0)     # manual runs still work
        self.wait(lambda: "svc_a" in self.services(), what="manual run of a disabled workflow")
        self.assertEqual(self.stop()[0], 0)
        self.assertEqual(self.notify.count(), 0)
        # a NOTIFY_SOCKET nobody listens on: the daemon runs, and says so once
        env["NOTIFY_SOCKET"] = os.path.join(self.dir, "nobody.sock")
        self.proc = subprocess.Popen(harness.WRAPPER + [BIN, "daemon", "--config",
                                     os.path.join(self.dir, "gluemetad.yaml")], env=env,
                                     stdout=log, stderr=log)
        self.wait(lambda: "cannot tell the service manager READY=1" in self.log(),
                  what="the failed READY=1")
        self.assertEqual(self.ctl("--json", "status").returncode, 0)
        self.assertEqual(self.stop()[0], 0)
        self.assertEqual(self.log().count("cannot tell the service manager"), 1)
        # with a watchdog, WATCHDOG=1 comes at half the interval
        self.start(extra_env={"WATCHDOG_USEC": "600000"})
        i = self.notify.wait_for("WATCHDOG=1", timeout=5)
        self.notify.wait_for("WATCHDOG=1", timeout=5, after=i + 1)
        self.assertEqual(self.stop()[0], 0)

    def test_bad_config_and_check(self):
        self.write("gluemetad.yaml", "socket: relative.sock\nworkflows:\n  - name: a\n"
                   "    file: a.yaml\n    schedule: \"61 * * * *\"\n  - name: a\n"
                   "    file: missing.yaml\n    schedule: '@daily'\n    timezone: Mars/Base\n"
                   "    jitter: 25h\n")
        path = os.path.join(self.dir, "gluemetad.yaml")
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 2)
        for text in ("gluemetad.yaml:1:9: socket: 'relative.sock' is not an absolute path",
                     "workflows[0].schedule: minute 61 out of range 0-59",
                     "the name 'a' is used twice", "missing.yaml: No such file",
                     "workflows[1].timezone: 'Mars/Base' is not an installed IANA time zone",
                     "workflows[1].jitter: '25h' is not a duration of at most 24h"):
            self.assertIn(text, p.stderr)
        p = harness.run_gluemetad(BIN, ["daemon", "--config", path])
        self.assertEqual(p.returncode, 2)
        self.config([("a", "@hourly")])
        p = harness.run_gluemetad(BIN, ["check", "--config", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 workflows", p.stdout)

    def test_socket_that_cannot_be_bound_stops_the_start(self):
        sock = os.path.join(self.dir, "not-a-socket")
        with open(sock, "w") as fh:
            fh.write("a file the user keeps\n")
        self.write("gluemetad.yaml", f"socket: {sock}\nstate_dir: {self.dir}/state\n"
                   "workflows: []\n")
        p = harness.run_gluemetad(BIN, ["daemon", "--config",
                                        os.path.join(self.dir, "gluemetad.yaml")])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"socket {sock}: exists and is not a socket", p.stderr)
        self.assertNotIn("started:", p.stderr)
        with open(sock) as fh:
            self.assertEqual(fh.read(), "a file the user keeps\n")

    def test_socket_protocol_abuse(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        path = os.path.join(self.dir, "gm.sock")

        def raw(data, read=True):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            s.sendall(data)
            out = s.makefile("rb").read() if read else b""
            s.close()
            return out
        self.assertIn(b'"ok":false', raw(b"frobnicate\n"))
        self.assertIn(b"control characters", raw(b"status\x01\n"))
        self.assertIn(b"longer than 1024", raw(b"x" * 1024))
        try:
            raw(b"y" * 100000)          # cut off; the daemon carries on
        except (ConnectionResetError, BrokenPipeError):
            pass
        self.assertIn(b'"ok":false', raw(b"run\n"))
        idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(40)]
        for s in idle:
            s.connect(path)
        t0 = time.time()
        self.assertTrue(self.status()["ok"])     # served at once, idle clients pushed out
        self.assertLess(time.time() - t0, 2)
        for s in idle:
            s.close()
        self.assertEqual(self.stop()[0], 0)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare")
class TestJournal(DaemonCase):
    def test_structured_records(self):
        self.config([("a", "0 0 1 1 *")])
        out = os.path.join(self.dir, "journal.jsonl")
        sink = os.path.join(HERE, "journal_sink.py")
        script = ("mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
                  f"(/usr/bin/python3 {sink} /run/systemd/journal/socket {out} $$ &) && "
                  f"while [ ! -e {out}.ready ]; do sleep 0.05; done && exec \"$@\"")
        self.start(wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"])
        self.ctl("run", "a")
        self.wait(lambda: json.loads(self.ctl("--json", "history", "a").stdout)["runs"],
                  what="a run")
        self.write("broken.yaml", "source: {\n")
        self.config([("a", "0 0 1 1 *"), ("broken", "@daily")])
        self.proc.send_signal(signal.SIGHUP)

        def records():
            with open(out) as fh:
                return [json.loads(x) for x in fh if x.strip()]
        self.wait(lambda: any(r.get("MESSAGE_ID") == "a0b1c2d3e4f54a6b8c7d9e0f1a2b3c4d"
                              for r in records()), what="reload-failed record")
        self.assertEqual(self.stop()[0], 0)
        recs = records()
        for r in recs:
            self.assertEqual(r["SYSLOG_IDENTIFIER"], "gluemetad")
            self.assertIn("PRIORITY", r)
            self.assertIn("CODE_FUNC", r)
        started = [r for r in recs if r.get("MESSAGE_ID") == "6b2c1a0e4f3d4b8e9a7c5d1e2f3a4b5c"]
        finished = [r for r in recs if r.get("MESSAGE_ID") == "9d8e7f6a5b4c4d3e8f2a1b0c9d8e7f6a"]
        self.assertEqual(len(started), 1)
        self.assertEqual(len(finished), 1)
        self.assertEqual(started[0]["GLUEMETAD_WORKFLOW"], "a")
        self.assertEqual(started[0]["GLUEMETAD_RUN"], finished[0]["GLUEMETAD_RUN"])
        progress = [r for r in recs if r.get("GLUEMETAD_RUN") == started[0]["GLUEMETAD_RUN"]]
        self.assertGreaterEqual(len(progress), 3)     # started, progress, finished
        failed = [r for r in recs if r.get("MESSAGE_ID") == "a0b1c2d3e4f54a6b8c7d9e0f1a2b3c4d"]
        self.assertIn("broken.yaml", failed[0]["MESSAGE"])
        self.assertEqual(failed[0]["PRIORITY"], "3")
        self.assertFalse(any(harness.SK in r["MESSAGE"] or harness.JWT in r["MESSAGE"]
                             for r in recs))


if __name__ == "__main__":
    unittest.main()
