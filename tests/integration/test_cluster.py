"""What a container platform needs of the daemon: JSON log lines on stderr
(log_format: json, --log-format json), and a reload when its files change
(reload_on_change), also when they are swapped the way Kubernetes updates a
mounted ConfigMap (a new folder, then the `..data` symlink renamed over)."""
import json
import os
import re
import shutil
import signal
import subprocess
import unittest

import harness
from harness import BIN, DaemonCase, workflow_yaml

RUN_STARTED = "6b2c1a0e4f3d4b8e9a7c5d1e2f3a4b5c"
RUN_FINISHED = "9d8e7f6a5b4c4d3e8f2a1b0c9d8e7f6a"
RELOAD_OK = "1f2e3d4c5b6a4978a6b5c4d3e2f1a0b9"
RELOAD_FAILED = "a0b1c2d3e4f54a6b8c7d9e0f1a2b3c4d"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEVELS = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"}


class ClusterCase(DaemonCase):
    def start_args(self, args):
        """start() with arguments after the daemon's --config."""
        seen = self.notify.count()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.pop("JOURNAL_STREAM", None)
        self.err = open(os.path.join(self.dir, "daemon.log"), "a")
        self.proc = subprocess.Popen(
            harness.WRAPPER + [BIN, "daemon", "--config",
                               os.path.join(self.dir, "gluemetad.yaml")] + list(args),
            env=env, stdout=self.err, stderr=self.err)
        self.notify.wait_for("READY=1", timeout=30, after=seen)

    def records(self):
        """Every line of the log as JSON (a line that is not fails the test)."""
        out = []
        for line in self.log().splitlines():
            if line.startswith("=="):       # a checker's report (valgrind)
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                self.fail(f"not a JSON line: {line!r}")
        return out

    def reloads(self):
        return self.status()["reloads"]


class TestJsonLogs(ClusterCase):
    def assertRecordsWellFormed(self, recs):
        self.assertTrue(recs)
        for r in recs:
            self.assertTrue(RFC3339.match(r["time"]), r)
            self.assertIn(r["level"], LEVELS, r)
            self.assertIsInstance(r["msg"], str)
            self.assertLessEqual(set(r), {"time", "level", "msg", "workflow", "run",
                                          "message_id"}, r)
            self.assertNotIn(harness.SK, r["msg"])
            self.assertNotIn(harness.JWT, r["msg"])

    def test_configuration_json_run_records_and_reload_failure(self):
        self.config([("a", "0 0 1 1 *")])
        with open(os.path.join(self.dir, "gluemetad.yaml"), "a") as fh:
            fh.write("log_format: json\n")
        with open(os.path.join(self.dir, "gluemetad.yaml")) as fh:
            good = fh.read()
        self.start()
        self.ctl("run", "a")
        self.wait(lambda: json.loads(self.ctl("--json", "history", "a").stdout)["runs"],
                  what="a run")
        # a key with a quote and a backslash: the line stays one JSON object
        self.write("gluemetad.yaml", good + '"we\\"ird\\\\key": 1\n')
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: any(r.get("message_id") == RELOAD_FAILED for r in self.records()),
                  what="the reload-failed record")
        rc, secs = self.stop()
        self.assertEqual(rc, 0)
        recs = self.records()
        self.assertRecordsWellFormed(recs)
        started = [r for r in recs if r.get("message_id") == RUN_STARTED]
        finished = [r for r in recs if r.get("message_id") == RUN_FINISHED]
        self.assertEqual(len(started), 1)
        self.assertEqual(len(finished), 1)
        self.assertEqual(started[0]["workflow"], "a")
        self.assertEqual(started[0]["level"], "NOTICE")
        self.assertEqual(started[0]["run"], finished[0]["run"])
        failed = [r for r in recs if r.get("message_id") == RELOAD_FAILED][0]
        self.assertEqual(failed["level"], "ERROR")
        self.assertIn('we"ird\\key', failed["msg"])
        self.assertIn("gluemetad.yaml:", failed["msg"])
        self.assertTrue(any(r["msg"].startswith("started: 1 workflows") for r in recs))
        self.assertEqual(recs[-1]["msg"], "stopped")

    def test_command_line_wins_over_configuration(self):
        self.config([("a", "0 0 1 1 *")])
        with open(os.path.join(self.dir, "gluemetad.yaml"), "a") as fh:
            fh.write("log_format: human\n")
        self.start_args(["--log-format", "json"])
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: any(r.get("message_id") == RELOAD_OK for r in self.records()),
                  what="the reload record")
        self.assertEqual(self.stop()[0], 0)
        self.assertRecordsWellFormed(self.records())

    def test_human_stays_the_default(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.assertEqual(self.stop()[0], 0)
        self.assertRegex(self.log(), r"(?m)^NOTICE started: 1 workflows")
        self.assertNotIn("{", self.log())

    def test_ingest_json_on_stderr_summary_on_stdout(self):
        path = os.path.join(self.dir, "a.yaml")
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path, "--log-format", "json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Workflow finished successfully", p.stdout)
        recs = [json.loads(x) for x in p.stderr.splitlines() if not x.startswith("==")]
        self.assertRecordsWellFormed(recs)
        self.assertTrue(any("ingesting Glue workflows into service 'svc_a'" in r["msg"]
                            for r in recs))

    def test_bad_values_are_named(self):
        self.config([("a", "0 0 1 1 *")])
        with open(os.path.join(self.dir, "gluemetad.yaml"), "a") as fh:
            fh.write("log_format: xml\nreload_on_change: maybe\n")
        cfg = os.path.join(self.dir, "gluemetad.yaml")
        p = harness.run_gluemetad(BIN, ["check", "--config", cfg])
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{cfg}:8:13: log_format: 'xml': expected human or json", p.stderr)
        self.assertIn(f"{cfg}:9:19: reload_on_change: expected true or false", p.stderr)
        p = harness.run_gluemetad(BIN, ["daemon", "--config", cfg, "--log-format", "xml"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--log-format 'xml': expected human or json", p.stderr)
        # a configuration the daemon refuses, told in JSON lines only
        p = harness.run_gluemetad(BIN, ["daemon", "--config", cfg, "--log-format", "json"],
                                  env={k: v for k, v in os.environ.items()
                                       if k != "JOURNAL_STREAM"})
        self.assertEqual(p.returncode, 2)
        recs = [json.loads(x) for x in p.stderr.splitlines() if not x.startswith("==")]
        self.assertEqual(len(recs), 1, p.stderr)
        self.assertEqual(recs[0]["level"], "ERROR")
        self.assertIn("cannot start: ", recs[0]["msg"])
        self.assertIn("log_format: 'xml': expected human or json; ", recs[0]["msg"])


class TestReloadOnChange(ClusterCase):
    def config_text(self, workflows, extra=("reload_on_change: true",)):
        lines = [f"socket: {self.dir}/gm.sock", f"state_dir: {self.dir}/state"] + \
            list(extra) + ["workflows:"]
        for name, sched in workflows:
            lines += [f"  - name: {name}", f"    file: {name}.yaml", f"    schedule: \"{sched}\""]
        return "\n".join(lines) + "\n"

    def names(self):
        return sorted(w["name"] for w in self.status()["workflows"])

    def test_an_edit_is_reloaded_without_a_signal(self):
        self.write("gluemetad.yaml", self.config_text([("a", "0 0 1 1 *")]))
        self.start()
        self.assertEqual(self.names(), ["a"])
        self.assertIn("reload_on_change: watching the configuration and 1 workflow files",
                      self.log())
        # an editor's save: a new file renamed over the old one
        tmp = os.path.join(self.dir, ".gluemetad.yaml.swp")
        with open(tmp, "w") as fh:
            fh.write(self.config_text([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")]))
        os.rename(tmp, os.path.join(self.dir, "gluemetad.yaml"))
        self.wait(lambda: self.names() == ["a", "b"], what="b added by the watch")
        self.assertEqual(self.reloads(), 1)
        # a workflow file written in place, newly named by the reload
        n = self.notify.count()
        self.write("b.yaml", workflow_yaml(self.s, service="svc_b2"))
        self.notify.wait_for("READY=1", after=n)
        self.wait(lambda: self.reloads() == 2, what="the second reload")
        self.ctl("run", "b")
        self.wait(lambda: "svc_b2" in self.services(), what="b's run into svc_b2")
        # a broken file: refused, the running set stays; fixed: applied
        self.write("gluemetad.yaml", self.config_text([("a", "0 0 1 1 *"), ("c", "bad")]))
        self.wait(lambda: self.status().get("reload", {}).get("ok") is False,
                  what="the failed reload")
        self.assertEqual(self.names(), ["a", "b"])
        self.assertIn("schedule", self.status()["reload"]["error"])
        self.write("gluemetad.yaml", self.config_text([("a", "0 0 1 1 *")]))
        self.wait(lambda: self.names() == ["a"], what="the fixed file applied")
        self.assertIs(self.status()["reload"]["ok"], True)
        self.assertNotIn("Traceback", self.log())
        self.assertIn("the configuration or a workflow file changed (reload_on_change), "
                      "reloading", self.log())
        rc, secs = self.stop()
        self.assertEqual(rc, 0)

    def test_a_configmap_swap(self):
        """The kubelet's atomic update: ..TIMESTAMP folders, ..data -> one of
        them, and each key a symlink ..data/KEY in the mount's root."""
        mount = os.path.join(self.dir, "cm")
        os.mkdir(mount)
        gen = [0]

        def publish(files):
            gen[0] += 1
            name = f"..2026_01_0{gen[0]}_00_00_00.{gen[0]}"
            os.mkdir(os.path.join(mount, name))
            for k, v in files.items():
                with open(os.path.join(mount, name, k), "w") as fh:
                    fh.write(v)
            old = os.path.realpath(os.path.join(mount, "..data")) \
                if os.path.islink(os.path.join(mount, "..data")) else None
            os.symlink(name, os.path.join(mount, "..data_tmp"))
            os.rename(os.path.join(mount, "..data_tmp"), os.path.join(mount, "..data"))
            for k in files:
                if not os.path.islink(os.path.join(mount, k)):
                    os.symlink(os.path.join("..data", k), os.path.join(mount, k))
            if old:
                shutil.rmtree(old)

        a = workflow_yaml(self.s, service="svc_a")
        publish({"gluemetad.yaml": self.config_text([("a", "0 0 1 1 *")]), "a.yaml": a,
                 "b.yaml": workflow_yaml(self.s, service="svc_b")})
        argv = harness.WRAPPER + [BIN, "daemon", "--config", os.path.join(mount, "gluemetad.yaml")]
        seen = self.notify.count()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.pop("JOURNAL_STREAM", None)
        self.err = open(os.path.join(self.dir, "daemon.log"), "a")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.err, stderr=self.err)
        self.notify.wait_for("READY=1", timeout=30, after=seen)
        self.assertEqual(self.names(), ["a"])
        # a new workflow in the configuration
        publish({"gluemetad.yaml": self.config_text([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")]),
                 "a.yaml": a, "b.yaml": workflow_yaml(self.s, service="svc_b")})
        self.wait(lambda: self.names() == ["a", "b"], what="b added by the swap")
        n = self.reloads()
        # only a workflow file changes
        publish({"gluemetad.yaml": self.config_text([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")]),
                 "a.yaml": workflow_yaml(self.s, service="svc_a2"),
                 "b.yaml": workflow_yaml(self.s, service="svc_b")})
        self.wait(lambda: self.reloads() > n, what="the reload of a's new file")
        self.ctl("run", "a")
        self.wait(lambda: "svc_a2" in self.services(), what="a's run into svc_a2")
        self.assertEqual(self.stop()[0], 0)

    def test_turned_on_and_off_by_reload(self):
        self.write("gluemetad.yaml", self.config_text([("a", "0 0 1 1 *")], extra=()))
        self.start()
        self.assertNotIn("reload_on_change", self.log())
        self.write("gluemetad.yaml", self.config_text([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")]))
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: self.names() == ["a", "b"], what="the SIGHUP reload")
        self.write("gluemetad.yaml", self.config_text(
            [("a", "0 0 1 1 *"), ("b", "0 0 1 1 *"), ("c", "0 0 1 1 *")],
            extra=("reload_on_change: false",)))
        self.wait(lambda: self.names() == ["a", "b", "c"], what="the watched reload")
        self.assertIn("reload_on_change is off: the files are no longer watched", self.log())
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
