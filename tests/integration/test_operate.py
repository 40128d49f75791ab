"""Safe to operate: one daemon per state_dir (STATE_DIR/gluemetad.lock) and
per control socket, a stale socket replaced only when nothing answers on
it, socket paths checked before binding, and a strict control protocol."""
import json
import os
import re
import signal
import socket
import stat
import subprocess

import harness
from harness import BIN, DaemonCase

RUN_STARTED = re.compile(r"\[a\] run ([\w.-]+) started")


class OperateCase(DaemonCase):
    def conf_path(self, name="gluemetad.yaml"):
        return os.path.join(self.dir, name)

    def sock(self):
        return os.path.join(self.dir, "gm.sock")

    def second_daemon(self, name="gluemetad.yaml"):
        """Another `gluemetad daemon` beside the one running, logging to
        stderr (-d); it must give up by itself (the generous timeout only
        guards a hang)."""
        return harness.run_gluemetad(BIN, ["daemon", "-d", "--config", self.conf_path(name)],
                                     timeout=60)

    def runs(self, name):
        return json.loads(self.ctl("--json", "history", name).stdout)["runs"]

    def raw(self, data, shut=False):
        """data sent on a connection of its own (then our side shut down
        when shut); everything the daemon answers before it closes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.sock())
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
            return s.makefile("rb").read()


class TestOneInstance(OperateCase):
    def test_second_daemon_on_the_same_config_exits_and_the_first_carries_on(self):
        self.config([("a", "* * * * * *")])
        self.start()
        first = self.proc.pid
        self.wait(lambda: self.runs("a"), what="a first run")
        with open(os.path.join(self.dir, "state", "gluemetad.lock")) as fh:
            self.assertEqual(fh.read(), f"{first}\n")
        sock_ino = os.stat(self.sock()).st_ino
        p = self.second_daemon()
        self.assertEqual(p.returncode, 2, p.stderr)
        msg = f"another gluemetad (pid {first}) is running with {self.dir}/state"
        self.assertIn(f"gluemetad: {msg}\n", p.stderr)
        self.assertIn(f"cannot start: {msg}", p.stderr)         # the log record
        self.assertNotIn("started:", p.stderr)
        # the first keeps its socket and answers on it
        self.assertEqual(os.stat(self.sock()).st_ino, sock_ino)
        self.assertEqual(self.status()["pid"], first)
        # and keeps running its workflow after the second is gone
        seen = {r["run_id"] for r in self.runs("a")}
        self.wait(lambda: {r["run_id"] for r in self.runs("a")} - seen,
                  what="a run of the first daemon after the second exited")
        self.assertEqual(self.stop()[0], 0)
        # every run on record is one the first daemon started
        with open(os.path.join(self.dir, "state", "history.json")) as fh:
            recorded = {r["run_id"] for r in json.load(fh)["workflows"]["a"]}
        self.assertTrue(recorded)
        self.assertLessEqual(recorded, set(RUN_STARTED.findall(self.log())))
        self.assertIsNone(RUN_STARTED.search(p.stderr))

    def test_second_daemon_on_the_same_socket_exits(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        first = self.proc.pid
        sock_ino = os.stat(self.sock()).st_ino
        self.write("other.yaml", f"socket: {self.sock()}\nstate_dir: {self.dir}/state2\n"
                   "workflows:\n  - name: a\n    file: a.yaml\n    schedule: '* * * * * *'\n")
        p = self.second_daemon("other.yaml")
        self.assertEqual(p.returncode, 2, p.stderr)
        msg = f"another gluemetad is answering on {self.sock()}"
        self.assertIn(f"gluemetad: {msg}\n", p.stderr)
        self.assertIn(f"cannot start: {msg}", p.stderr)
        self.assertNotIn("started:", p.stderr)
        self.assertEqual(os.stat(self.sock()).st_ino, sock_ino)
        self.assertEqual(self.status()["pid"], first)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "state2", "history.json")))
        self.assertEqual(self.stop()[0], 0)

    def test_stale_socket_of_a_killed_daemon_is_replaced(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        # what the killed daemon left: its socket file and its pid in the lock
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.sock()).st_mode))
        self.start()
        self.assertEqual(self.status()["pid"], self.proc.pid)
        with open(os.path.join(self.dir, "state", "gluemetad.lock")) as fh:
            self.assertEqual(fh.read(), f"{self.proc.pid}\n")
        self.assertEqual(self.stop()[0], 0)
        self.assertFalse(os.path.exists(self.sock()))


class TestSocketPath(OperateCase):
    def test_socket_path_too_long_for_bind(self):
        # 108 bytes: bind() would listen on the first 107
        long_path = self.dir + "/" + "s" * (107 - len(self.dir))
        self.assertEqual(len(long_path.encode()), 108)
        self.write("gluemetad.yaml", f"state_dir: {self.dir}/state\nsocket: {long_path}\n"
                   "workflows: []\n")
        want = (f"{self.conf_path()}:2:9: socket: '{long_path}' is 108 bytes long; "
                "a unix socket path has at most 107")
        p = harness.run_gluemetad(BIN, ["check", "--config", self.conf_path()])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(want, p.stderr)
        p = harness.run_gluemetad(BIN, ["daemon", "--config", self.conf_path()], timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(want, p.stderr)
        self.assertFalse(os.path.exists(long_path[:107]))
        # 107 bytes are fine
        self.write("gluemetad.yaml", f"state_dir: {self.dir}/state\nsocket: {long_path[:107]}\n"
                   "workflows: []\n")
        p = harness.run_gluemetad(BIN, ["check", "--config", self.conf_path()])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_socket_in_a_missing_directory(self):
        sock = os.path.join(self.dir, "missing", "gm.sock")
        self.write("gluemetad.yaml", f"socket: {sock}\nstate_dir: {self.dir}/state\n"
                   "workflows: []\n")
        p = harness.run_gluemetad(BIN, ["daemon", "--config", self.conf_path()], timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"socket {sock}: directory {self.dir}/missing: no such file or directory",
                      p.stderr)
        self.assertNotIn("permission denied", p.stderr)
        self.assertNotIn("started:", p.stderr)


class TestStrictProtocol(OperateCase):
    def test_arguments_and_eof(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        for req, cmd in ((b"status extra\n", "status"), (b"reload now\n", "reload"),
                         (b"list all\n", "list")):
            reply = json.loads(self.raw(req))
            self.assertEqual(reply, {"ok": False, "error": f"{cmd} takes no argument"}, req)
        self.assertEqual(self.status()["reloads"], 0)      # `reload now` did not reload
        # a request ended by EOF is answered as one ended by a newline
        reply = json.loads(self.raw(b"status", shut=True))
        self.assertTrue(reply["ok"])
        self.assertEqual(reply["pid"], self.proc.pid)
        self.assertEqual(json.loads(self.raw(b"status extra", shut=True))["error"],
                         "status takes no argument")
        self.assertEqual(self.raw(b"", shut=True), b"")    # nothing asked, nothing answered
        self.assertEqual(self.stop()[0], 0)

    def test_refused_manual_run_is_not_a_skipped_fire(self):
        # Glue never answers: a's run stays running until the daemon stops
        self.s.glue.call("POST", "/__fake/config",
                         {"faults": [{"action": "stall", "seconds": 600}]})
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")], max_runs=1)
        self.start()
        self.ctl("run", "a")
        self.wait(lambda: self.by_name()["a"]["state"] == "running", what="a running")
        p = self.ctl("run", "a", ok=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("already running: 'a' has a run in progress", p.stderr)
        # b waits for the one run slot; asked again, it is refused the same way
        self.assertIn("b: queued", self.ctl("run", "b").stdout)
        p = self.ctl("run", "b", ok=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("already running: 'b' is queued", p.stderr)
        w = self.by_name()
        self.assertEqual((w["a"]["state"], w["b"]["state"]), ("running", "queued"))
        self.assertEqual((w["a"]["skipped"], w["b"]["skipped"]), (0, 0))
        self.assertNotIn("skipping this one", self.log())
        self.assertEqual(self.stop()[0], 0)
