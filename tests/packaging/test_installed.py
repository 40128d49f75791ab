#!/usr/bin/python3
"""The packages as a user gets them: lint of the man pages and the unit,
the unit's security exposure, then the .deb installed on this machine, the
daemon started the way the unit starts it (as its own user, with its
runtime and state folders), one workflow from the packaged example run
against the stand-ins, a reload, queries, a stop, and the package purged.

Needs root (it installs a package); prints 'N passed, N failed'."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

DEMO_AK = "AKIADEMOGLUEMETAD000"
DEMO_SK = "demo/secret/for/the/local/stand-in/only"
DEMO_JWT = "demo.jwt.token-for-the-local-stand-in"


def sh(*argv, check=True, **kw):
    p = subprocess.run(list(argv), capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{argv}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


class TestLint(unittest.TestCase):
    def test_man_pages_lint_clean(self):
        for page in glob.glob(os.path.join(ROOT, "man", "*.[158]")):
            p = sh("mandoc", "-Tlint", "-W", "warning", page, check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_unit_exposure(self):
        p = sh("systemd-analyze", "security", "--offline=true",
               os.path.join(ROOT, "systemd", "gluemetad.service"), check=False)
        m = re.search(r"Overall exposure level for gluemetad.service: ([0-9.]+)", p.stdout)
        self.assertTrue(m, p.stdout + p.stderr)
        print(f"\nsystemd-analyze security: exposure {m.group(1)}", file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0)

    def test_packages_exist(self):
        self.assertTrue(glob.glob(os.path.join(ROOT, "build", "deb", "gluemetad_*.deb")))
        self.assertTrue(glob.glob(os.path.join(ROOT, "build", "rpm", "RPMS", "*", "gluemetad-*.rpm")))


class TestInstalled(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        deb = glob.glob(os.path.join(ROOT, "build", "deb", "gluemetad_*_*.deb"))
        deb = [d for d in deb if "dbgsym" not in d][0]
        sh("dpkg", "--purge", "gluemetad", check=False)
        sh("dpkg", "-i", deb)
        cls.tmp = tempfile.mkdtemp(prefix="gm-pkg-")
        os.chmod(cls.tmp, 0o755)

    @classmethod
    def tearDownClass(cls):
        sh("dpkg", "--purge", "gluemetad", check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_installed_layout(self):
        self.assertEqual(sh("id", "-u", "gluemetad").returncode, 0)
        st = os.stat("/etc/gluemetad")
        self.assertEqual(oct(st.st_mode & 0o777), "0o750")
        for path in ("/usr/sbin/gluemetad", "/usr/bin/gluemetactl",
                     "/lib/systemd/system/gluemetad.service", "/usr/share/man/man8/gluemetad.8.gz",
                     "/usr/share/man/man5/gluemetad.yaml.5.gz",
                     "/usr/share/man/man1/gluemetactl.1.gz",
                     "/usr/share/bash-completion/completions/gluemetactl",
                     "/usr/share/doc/gluemetad/examples/demo.yaml"):
            self.assertTrue(os.path.exists(path), path)
        self.assertIn("/etc/gluemetad/gluemetad.yaml",
                      sh("dpkg-query", "--showformat=${Conffiles}", "--show", "gluemetad").stdout)
        p = sh("systemd-analyze", "verify", "--man=no", "/lib/systemd/system/gluemetad.service",
               check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual((p.stdout + p.stderr).strip(), "")

    def test_daemon_runs_the_packaged_example(self):
        estate = os.path.join(self.tmp, "estate.json")
        est = harness.gen_estate(estate, 5, seed=9)
        s = harness.Standins(estate, tmp=self.tmp,
                             access_key=DEMO_AK, secret_key=DEMO_SK, token=DEMO_JWT)
        # STS tells the account for the Glue tags, S3 holds the job scripts
        aux = []
        proc = None
        try:
            aux.append(harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_sts.py"),
                                       "--region", "eu-west-1", "--base-access-key", DEMO_AK,
                                       "--base-secret-key", DEMO_SK,
                                       "--role-arn", "arn:aws:iam::123456789012:role/demo",
                                       "--access-key", "ASIADEMOUNUSED000000",
                                       "--secret-key", "unused", "--session-token", "unused",
                                       "--account", est["account"]], "sts", 0, self.tmp))
            aux.append(harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_s3.py"),
                                       "--estate", estate, "--region", "eu-west-1",
                                       "--access-key", DEMO_AK, "--secret-key", DEMO_SK],
                                      "s3", 0, self.tmp))
            # the unit's folders: RuntimeDirectory, StateDirectory, ConfigurationDirectory
            for d in ("/run/gluemetad", "/var/lib/gluemetad"):
                shutil.rmtree(d, ignore_errors=True)     # as on a fresh machine
                os.makedirs(d, exist_ok=True)
                shutil.chown(d, "gluemetad", "gluemetad")
                os.chmod(d, 0o750)
            wfdir = "/etc/gluemetad/workflows"
            # the packaged example, pointed at the stand-ins' ports
            with open("/usr/share/doc/gluemetad/examples/demo.yaml") as fh:
                text = fh.read().replace("http://127.0.0.1:4566", s.glue.url) \
                    .replace("http://127.0.0.1:8585", s.om.url)
            with open(wfdir + "/demo.yaml", "w") as fh:
                fh.write(text)
            shutil.chown(wfdir + "/demo.yaml", "root", "gluemetad")
            os.chmod(wfdir + "/demo.yaml", 0o640)
            cfg = os.path.join(self.tmp, "gluemetad.yaml")
            with open("/etc/gluemetad/gluemetad.yaml") as fh:
                packaged = fh.read()
            head = packaged.split("\nworkflows:")[0]
            with open(cfg, "w") as fh:
                fh.write(head + "\nworkflows:\n  - name: demo\n    file: " + wfdir +
                         "/demo.yaml\n    schedule: \"0 0 1 1 *\"\n")
            os.chmod(cfg, 0o644)
            notify = os.path.join(self.tmp, "notify.sock")
            ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            ns.bind(notify)
            os.chmod(notify, 0o666)
            ns.settimeout(20)
            sh("setpriv", "--reuid", "gluemetad", "--regid", "gluemetad", "--init-groups",
               "/usr/sbin/gluemetad", "check", "-c", cfg)
            log = open(os.path.join(self.tmp, "daemon.log"), "w")
            proc = subprocess.Popen(
                ["setpriv", "--reuid", "gluemetad", "--regid", "gluemetad", "--init-groups",
                 "--no-new-privs", "/usr/sbin/gluemetad", "daemon", "--config", cfg],
                env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify,
                     "AWS_ENDPOINT_URL_STS": aux[0].url + "/", "AWS_ENDPOINT_URL_S3": aux[1].url,
                     "AWS_EC2_METADATA_DISABLED": "true"}, stdout=log, stderr=log)
            msgs = []
            while not any("READY=1" in m for m in msgs):
                msgs.append(ns.recv(4096).decode())
            ctl = ["/usr/bin/gluemetactl"]
            run_id = json.loads(sh(*ctl, "--json", "run", "demo").stdout)["run_id"]
            deadline = time.time() + 60
            runs = []
            while time.time() < deadline and not runs:
                runs = [r for r in json.loads(sh(*ctl, "--json", "history", "demo").stdout)["runs"]
                        if r["run_id"] == run_id]
                time.sleep(0.2)
            self.assertTrue(runs, open(os.path.join(self.tmp, "daemon.log")).read())
            self.assertEqual(runs[0]["result"], "success",
                             f"{runs[0]}\n" + open(os.path.join(self.tmp, "daemon.log")).read())
            landed = {p["name"] for p in s.dump()["pipelines"]}
            self.assertEqual(len(landed), 5)
            proc.send_signal(signal.SIGHUP)
            while not any("RELOADING=1" in m for m in msgs):
                msgs.append(ns.recv(4096).decode())
            st = json.loads(sh(*ctl, "--json", "status").stdout)
            self.assertEqual([w["name"] for w in st["workflows"]], ["demo"])
            self.assertTrue(os.path.exists("/var/lib/gluemetad/history.json"))
            self.assertEqual(os.stat("/var/lib/gluemetad/history.json").st_uid,
                             int(sh("id", "-u", "gluemetad").stdout))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
            proc = None
        finally:
            if proc:
                proc.kill()
            for x in aux:
                x.stop()
            s.stop()
            for f in ("/etc/gluemetad/workflows/demo.yaml",):
                if os.path.exists(f):
                    os.unlink(f)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_installed: needs root to install the package", file=sys.stderr)
        sys.exit(1)
    result = unittest.TextTestRunner(verbosity=2).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
