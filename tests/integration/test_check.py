"""`gluemetad check --config`, the daemon's start and its reload check the
same things, through one function: state_dir exists or can be made and the
running user can write in it (a probe file), each workflow file is there
and readable (named at the configuration's line) and valid as `ingest`
validates it (the region's form included), each schedule fires within 5
years, and no configuration or workflow file is writable by every user
(sshd's StrictModes; writable by the group: a warning)."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import types
import unittest

import harness
from harness import BIN, DaemonCase

# check -c and ingest need no server: nothing is contacted before the file
# is found valid
NOWHERE = types.SimpleNamespace(glue=types.SimpleNamespace(url="http://127.0.0.1:9"),
                                om=types.SimpleNamespace(url="http://127.0.0.1:9"))
BAD_REGION = "x@127.0.0.1:9/y"


def conf_text(state_dir, sock, file="a.yaml", schedule="@daily"):
    # the lines the tests name: state_dir 2:12, file 5:11, schedule 6:15
    return (f"socket: {sock}\n"
            f"state_dir: {state_dir}\n"
            "workflows:\n"
            "  - name: a\n"
            f"    file: {file}\n"
            f"    schedule: \"{schedule}\"\n")


class TestCheckConfig(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-chk-")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="c-", dir=self.tmp)
        self.wf = self.write("a.yaml", harness.workflow_yaml(NOWHERE), 0o640)

    def write(self, name, text, mode=0o640):
        path = os.path.join(self.dir, name)
        with open(path, "w") as fh:
            fh.write(text)
        os.chmod(path, mode)
        return path

    def conf(self, **kw):
        kw.setdefault("state_dir", os.path.join(self.dir, "state"))
        kw.setdefault("sock", os.path.join(self.dir, "gm.sock"))
        return self.write("gluemetad.yaml", conf_text(**kw))

    def check(self, cfg):
        return harness.run_gluemetad(BIN, ["check", "--config", cfg])

    def assertRefused(self, cfg, want, daemon=True):
        """check refuses cfg with exactly the error want (exit 2), and so
        does the daemon's start, before it binds its socket."""
        p = self.check(cfg)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stderr, want + "\n")
        self.assertNotIn("OK", p.stdout)
        if daemon:
            p = harness.run_gluemetad(BIN, ["daemon", "-d", "--config", cfg], timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(want + "\n", p.stderr)
            self.assertNotIn("started:", p.stderr)

    def test_state_dir_under_proc(self):
        cfg = self.conf(state_dir="/proc/x")
        self.assertRefused(cfg, f"{cfg}:2:12: state_dir: /proc/x: No such file or directory")

    def test_state_dir_under_a_regular_file(self):
        cfg = self.conf(state_dir=self.wf + "/state")
        self.assertRefused(cfg, f"{cfg}:2:12: state_dir: {self.wf}/state: Not a directory")

    def test_state_dir_that_can_be_made_is_fine_and_not_left_behind(self):
        state = os.path.join(self.dir, "state")
        p = self.check(self.conf(state_dir=state))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"state_dir {state})", p.stdout)
        self.assertFalse(os.path.exists(state))
        os.mkdir(state)
        p = self.check(self.conf(state_dir=state))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(state), [])         # the probe file went again

    def test_missing_workflow_file_named_at_the_configuration(self):
        cfg = self.conf(file="missing.yaml")
        self.assertRefused(cfg, f"{cfg}:5:11: workflows[0].file: {self.dir}/missing.yaml: "
                                "No such file or directory")

    def test_bad_region_refused_by_check_as_by_ingest(self):
        text = harness.workflow_yaml(NOWHERE).replace(f"awsRegion: {harness.REGION}",
                                                      f"awsRegion: {BAD_REGION}")
        line = text.splitlines().index(f"        awsRegion: {BAD_REGION}") + 1
        wf = self.write("a.yaml", text)
        want = (f"{wf}:{line}:20: source.serviceConnection.config.awsConfig.awsRegion: "
                f"'{BAD_REGION}' is not a valid AWS region name")
        self.assertRefused(self.conf(), want)
        for cmd in ("check", "ingest"):
            p = harness.run_gluemetad(BIN, [cmd, "-c", wf], timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertEqual(p.stderr, want + "\n", cmd)

    def test_schedule_that_never_fires(self):
        cfg = self.conf(schedule="0 0 30 2 *")
        self.assertRefused(cfg, f"{cfg}:6:15: workflows[0].schedule: '0 0 30 2 *' does not "
                                "fire in the next 5 years")
        # February 29th comes within 5 years
        p = self.check(self.conf(schedule="0 0 29 2 *"))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_world_writable_refused_group_writable_warned(self):
        cfg = self.conf()
        os.chmod(self.wf, 0o666)
        self.assertRefused(cfg, f"{cfg}:5:11: workflows[0].file: {self.wf}: mode 0666 lets "
                                f"every user change it, refused (chmod o-w {self.wf})")
        os.chmod(self.wf, 0o664)
        p = self.check(cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{cfg}: OK", p.stdout)
        self.assertIn(f"warning: {self.wf}: mode 0664 lets its group change it "
                      f"(chmod g-w {self.wf} unless that is meant)\n", p.stderr)
        os.chmod(self.wf, 0o640)
        p = self.check(cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("lets its group", p.stderr)
        # the configuration itself
        os.chmod(cfg, 0o666)
        self.assertRefused(cfg, f"{cfg}: mode 0666 lets every user change it, refused "
                                f"(chmod o-w {cfg})")
        os.chmod(cfg, 0o620)
        p = self.check(cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"warning: {cfg}: mode 0620 lets its group change it", p.stderr)


class TestCheckAsAnotherUser(unittest.TestCase):
    """A state_dir root owns (0755) is refused when check runs as the
    daemon's unprivileged user, and accepted when that user owns it."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("running the binary as another user needs root")
        cls.user = pwd.getpwnam("nobody")
        # outside the run's 0700 temporary folders, so that nobody reaches it
        cls.base = tempfile.mkdtemp(prefix="gm-chk-user-", dir="/tmp")
        cls.addClassCleanup(shutil.rmtree, cls.base, ignore_errors=True)
        os.chmod(cls.base, 0o755)
        cls.bin = os.path.join(cls.base, "gluemetad")
        shutil.copy(BIN, cls.bin)
        os.chmod(cls.bin, 0o755)
        with open(os.path.join(cls.base, "a.yaml"), "w") as fh:
            fh.write(harness.workflow_yaml(NOWHERE))
        os.chmod(os.path.join(cls.base, "a.yaml"), 0o644)

    def drop(self):
        os.setgroups([])
        os.setgid(self.user.pw_gid)
        os.setuid(self.user.pw_uid)

    def check(self, state_dir, as_user=True):
        cfg = os.path.join(self.base, "gluemetad.yaml")
        with open(cfg, "w") as fh:
            fh.write(conf_text(state_dir, os.path.join(self.base, "gm.sock")))
        os.chmod(cfg, 0o644)
        p = subprocess.run(harness.WRAPPER + [self.bin, "check", "--config", cfg],
                           capture_output=True, text=True, timeout=600,
                           preexec_fn=self.drop if as_user else None)
        return cfg, p

    def test_root_owned_state_dir(self):
        root_only = os.path.join(self.base, "root-only")
        os.mkdir(root_only)
        os.chmod(root_only, 0o755)
        self.assertEqual(os.stat(root_only).st_uid, 0)
        for state in (root_only, root_only + "/state"):
            with self.subTest(state=state):
                cfg, p = self.check(state)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertEqual(p.stderr, f"{cfg}:2:12: state_dir: {state}: Permission denied\n")
                # the same folder is fine for its owner
                cfg, p = self.check(state, as_user=False)
                self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(root_only), [])
        # and for the unprivileged user once it owns the folder
        mine = os.path.join(self.base, "mine")
        os.mkdir(mine, 0o750)
        os.chown(mine, self.user.pw_uid, self.user.pw_gid)
        cfg, p = self.check(mine)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{cfg}: OK", p.stdout)
        self.assertEqual(os.listdir(mine), [])


class TestCheckDaemon(DaemonCase):
    def conf_path(self):
        return os.path.join(self.dir, "gluemetad.yaml")

    def test_group_writable_warned_in_the_log_world_writable_refused(self):
        self.config([("a", "0 0 1 1 *")])
        wf = os.path.join(self.dir, "a.yaml")
        os.chmod(wf, 0o664)
        self.start()
        self.assertIn(f"{wf}: mode 0664 lets its group change it", self.log())
        self.assertEqual(self.stop()[0], 0)
        os.chmod(wf, 0o666)
        p = harness.run_gluemetad(BIN, ["daemon", "-d", "--config", self.conf_path()],
                                  timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"workflows[0].file: {wf}: mode 0666 lets every user change it, refused",
                      p.stderr)
        self.assertNotIn("started:", p.stderr)

    def test_reload_failing_the_checks_keeps_the_running_configuration(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        bad_state = os.path.join(self.dir, "a.yaml", "state")
        text = (f"socket: {self.dir}/gm.sock\nstate_dir: {bad_state}\nworkflows:\n"
                "  - name: a\n    file: a.yaml\n    schedule: '0 0 1 1 *'\n"
                "  - name: b\n    file: b.yaml\n    schedule: '0 0 1 1 *'\n")
        self.write("gluemetad.yaml", text)
        want = f"{self.conf_path()}:2:12: state_dir: {bad_state}: Not a directory"
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: "reload failed" in self.log(), what="reload failure in the log")
        self.assertIn(want, self.log())
        self.assertEqual(set(self.by_name()), {"a"})
        p = self.ctl("reload", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("reload failed", p.stdout + p.stderr)
        self.assertIn(want, p.stdout + p.stderr)
        # a world-writable workflow file is refused the same way
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")])
        os.chmod(os.path.join(self.dir, "b.yaml"), 0o666)
        p = self.ctl("reload", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("b.yaml: mode 0666 lets every user change it, refused", p.stdout + p.stderr)
        self.assertEqual(set(self.by_name()), {"a"})
        # the running configuration goes on: a run, recorded in its state_dir
        self.assertEqual(self.ctl("run", "a").returncode, 0)
        self.wait(lambda: os.path.exists(os.path.join(self.dir, "state", "history.json")),
                  what="the run's history in the running state_dir")
        # and once fixed, the reload goes through
        os.chmod(os.path.join(self.dir, "b.yaml"), 0o640)
        self.assertEqual(self.ctl("reload").returncode, 0)
        self.assertEqual(set(self.by_name()), {"a", "b"})
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
