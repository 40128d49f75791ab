"""Two levels on the control socket: whoever can connect (the socket is
0660, its owner and group) may use status, list, history and metrics; run
and reload need root, the daemon's own user or control_group.  Played with
real users made for the class (so it needs root): gm-reader and gm-operator,
both in gm-sock (the socket's group, through a setgid directory), and
gm-operator also in gm-ops, the control_group.  The daemon runs as root,
which is then also the daemon's user."""
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import BIN, CTL, DaemonCase, run_gluemetad

USERS = ("gm-reader", "gm-operator")
GROUPS = ("gm-sock", "gm-ops")


def _quiet(argv):
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def remove_accounts():
    """The users and groups of this class, whatever is left of them (also
    those a killed earlier run left behind)."""
    for user in USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        _quiet(["userdel", user])
    for group in GROUPS:
        try:
            grp.getgrnam(group)
        except KeyError:
            continue
        _quiet(["groupdel", group])


def create_accounts():
    for group in GROUPS:
        subprocess.run(["groupadd", "--system", group], check=True, capture_output=True)
    common = ["useradd", "--system", "--no-create-home", "--no-user-group", "--gid", "gm-sock",
              "--shell", "/usr/sbin/nologin", "--home-dir", "/nonexistent"]
    subprocess.run(common + ["gm-reader"], check=True, capture_output=True)
    subprocess.run(common + ["--groups", "gm-ops", "gm-operator"], check=True,
                   capture_output=True)


class AccessCase(DaemonCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root: creates the users gm-reader and gm-operator "
                                    "and the groups gm-sock and gm-ops")
        # registered first: the accounts go even when setUpClass fails later
        cls.addClassCleanup(remove_accounts)
        remove_accounts()
        create_accounts()
        super().setUpClass()
        # the test's own directories are root's alone (0700); the socket
        # lives in one the users can reach, setgid so that the socket gets
        # its group, with a copy of gluemetactl they may run
        cls.sockdir = tempfile.mkdtemp(prefix="gm-access-", dir="/tmp")
        cls.addClassCleanup(shutil.rmtree, cls.sockdir, ignore_errors=True)
        os.chown(cls.sockdir, 0, grp.getgrnam("gm-sock").gr_gid)
        os.chmod(cls.sockdir, 0o2750)
        cls.ctl_bin = os.path.join(cls.sockdir, "gluemetactl")
        shutil.copy(CTL, cls.ctl_bin)
        os.chmod(cls.ctl_bin, 0o755)
        cls.sock = os.path.join(cls.sockdir, "gm.sock")

    def setUp(self):
        super().setUp()
        # a socket file a daemon of a failed test left (killed in tearDown)
        if os.path.lexists(self.sock):
            os.unlink(self.sock)

    def ctl(self, *args, ok=True):
        """gluemetactl as root."""
        p = subprocess.run([self.ctl_bin, "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def as_user(self, user, *args, group=None, groups=None):
        """gluemetactl as user: its primary group (or group), and the
        supplementary groups the database gives it (or groups).  Returns
        the process, its output read."""
        pw = pwd.getpwnam(user)
        gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
        if groups is None:
            extra = os.getgrouplist(user, gid)
        else:
            extra = [grp.getgrnam(g).gr_gid for g in groups]
        # never empty: subprocess keeps root's own groups for an empty list
        extra = extra or [gid]
        p = subprocess.Popen([self.ctl_bin, "--socket", self.sock] + list(args),
                             user=pw.pw_uid, group=gid, extra_groups=extra, cwd=self.sockdir,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.out, p.err = p.communicate(timeout=30)
        return p

    def config_access(self, control_group="gm-ops", workflows=("a",)):
        lines = [f"socket: {self.sock}", f"state_dir: {self.dir}/state"]
        if control_group:
            lines.append(f"control_group: {control_group}")
        lines.append("workflows:")
        for name in workflows:
            lines += [f"  - name: {name}", f"    file: {name}.yaml",
                      "    schedule: \"0 0 1 1 *\""]
        self.write("gluemetad.yaml", "\n".join(lines) + "\n")

    def uid(self, user):
        return pwd.getpwnam(user).pw_uid

    def refusal(self, cmd, user, group="gm-ops"):
        who = f"uid {self.uid(user)} is not root, the daemon's user"
        if group:
            return f"{cmd} needs control access: {who} or in control_group '{group}'"
        return (f"{cmd} needs control access: uid {self.uid(user)} is not root or the "
                "daemon's user, and no control_group is set")

    def assertRefused(self, p, cmd, user, group="gm-ops"):
        self.assertEqual(p.returncode, 1, p.out + p.err)
        self.assertEqual(p.err, f"gluemetactl: {self.refusal(cmd, user, group)}\n")
        pw = pwd.getpwnam(user)
        self.assertIn(f"refused {cmd} from uid {pw.pw_uid} gid {pw.pw_gid} pid {p.pid}: "
                      "no control access", self.log())

    def runs(self, name):
        return json.loads(self.ctl("--json", "history", name).stdout)["runs"]


class TestAccessLevels(AccessCase):
    def test_reader_reads_and_is_refused_run_and_reload(self):
        self.config_access()
        self.start()
        st = os.stat(self.sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, grp.getgrnam("gm-sock").gr_gid)
        # the read-only commands
        p = self.as_user("gm-reader", "--json", "status")
        self.assertEqual(p.returncode, 0, p.err)
        self.assertEqual([w["name"] for w in json.loads(p.out)["workflows"]], ["a"])
        p = self.as_user("gm-reader", "list")
        self.assertEqual(p.returncode, 0, p.err)
        self.assertRegex(p.out, r"\n  a +idle")
        p = self.as_user("gm-reader", "--json", "history", "a")
        self.assertEqual((p.returncode, json.loads(p.out)["runs"]), (0, []), p.err)
        p = self.as_user("gm-reader", "metrics")
        self.assertEqual(p.returncode, 0, p.err)
        self.assertIn("gluemetad_config_last_reload_successful 1", p.out)
        # run: refused, with the reply as JSON too, and nothing started
        p = self.as_user("gm-reader", "run", "a")
        self.assertRefused(p, "run", "gm-reader")
        p = self.as_user("gm-reader", "--json", "run", "a")
        self.assertEqual(p.returncode, 1, p.err)
        self.assertEqual(json.loads(p.out),
                         {"ok": False, "error": self.refusal("run", "gm-reader")})
        # before the argument is looked at: no telling which workflows exist
        self.assertRefused(self.as_user("gm-reader", "run", "nope"), "run", "gm-reader")
        w = self.by_name()["a"]
        self.assertEqual((w["state"], w["runs"]), ("idle", 0))
        self.assertEqual(self.runs("a"), [])
        self.assertNotIn("svc_a", self.services())
        # reload: refused, the new configuration is not read
        self.config_access(workflows=("a", "b"))
        self.assertRefused(self.as_user("gm-reader", "reload"), "reload", "gm-reader")
        st = self.status()
        self.assertEqual((st["reloads"], st["workflows_total"]), (0, 1))
        # the reader's refusals are the only ones logged, none of root's
        self.assertEqual(self.log().count("no control access"), 4)
        self.ctl("reload")
        self.assertEqual(self.status()["workflows_total"], 2)
        self.assertEqual(self.stop()[0], 0)

    def test_operator_in_control_group_and_root_may_run_and_reload(self):
        self.config_access()
        self.start()
        p = self.as_user("gm-operator", "run", "a")
        self.assertEqual(p.returncode, 0, p.err)
        self.assertIn("a: ", p.out)
        self.wait(lambda: self.runs("a"), what="the operator's run of a")
        self.assertEqual(self.runs("a")[0]["trigger"], "manual")
        self.assertIn("svc_a", self.services())
        self.config_access(workflows=("a", "b"))
        p = self.as_user("gm-operator", "--json", "reload")
        self.assertEqual((p.returncode, json.loads(p.out)), (0, {"ok": True, "workflows": 2}),
                         p.err)
        # membership is the group database's, not the client process's
        # groups: the operator without gm-ops among them still may
        p = self.as_user("gm-operator", "--json", "run", "b", groups=["gm-sock"])
        self.assertEqual(p.returncode, 0, p.out + p.err)
        self.wait(lambda: self.runs("b"), what="the operator's run of b")
        # and a primary group counts: the reader running with gm-ops as its gid
        p = self.as_user("gm-reader", "--json", "reload", group="gm-ops", groups=["gm-sock"])
        self.assertEqual(p.returncode, 0, p.out + p.err)
        # root may do everything
        for args in (("status",), ("list",), ("history", "a"), ("metrics",), ("reload",)):
            self.ctl(*args)
        self.ctl("run", "a")
        self.wait(lambda: len(self.runs("a")) == 2, what="root's run of a")
        self.assertEqual(self.status()["reloads"], 3)
        self.assertNotIn("no control access", self.log())
        self.assertEqual(self.stop()[0], 0)

    def test_without_control_group_only_root_and_the_daemon_user(self):
        self.config_access(control_group=None)
        self.start()
        p = self.as_user("gm-operator", "run", "a")
        self.assertRefused(p, "run", "gm-operator", group=None)
        self.assertEqual(self.runs("a"), [])
        # a reload by root that sets control_group applies it at once
        self.config_access()
        self.ctl("reload")
        p = self.as_user("gm-operator", "run", "a")
        self.assertEqual(p.returncode, 0, p.err)
        self.wait(lambda: self.runs("a"), what="the operator's run of a")
        self.assertEqual(self.stop()[0], 0)

    def test_unknown_control_group_is_a_configuration_error(self):
        self.config_access(control_group="gm-no-such-group")
        conf = os.path.join(self.dir, "gluemetad.yaml")
        want = f"{conf}:3:16: control_group: no group named 'gm-no-such-group'"
        p = run_gluemetad(BIN, ["check", "--config", conf])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(want, p.stderr)
        p = run_gluemetad(BIN, ["daemon", "--config", conf], timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(want, p.stderr)
        self.assertFalse(os.path.exists(self.sock))
