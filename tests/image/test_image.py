#!/usr/bin/python3
"""The OCI image as a cluster runs it (make check-image, root with podman):
build/gluemetad.oci.tar loaded into podman, run with a read-only root
filesystem, no capabilities, --network host to reach the stand-ins on
127.0.0.1, its configuration and workflow file mounted read-only in the
layout of a Kubernetes ConfigMap, the JWT and the AWS secret key from a
mounted folder as a Kubernetes Secret gives them (CREDENTIALS_DIRECTORY),
state in a volume.  A run lands, `podman exec gluemetactl status` answers,
every log line is JSON, a swapped configuration is reloaded without a
signal, `podman stop` ends it with status 0 within 2 s, and the image is
smaller than 25 MB, runs as a non-root user and has no shell.

Usage: test_image.py VERSION; prints 'N passed, N failed'."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

ARCHIVE = os.path.join(ROOT, "build", "gluemetad.oci.tar")
UID = 10001
MAX_SIZE = 25_000_000
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
VERSION = "0.1.0"
os.environ["CONTAINERS_CONF"] = os.path.join(ROOT, "packaging", "oci", "containers.conf")


def podman(*args, check=True, timeout=120):
    p = subprocess.run(["podman"] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {p.returncode}\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


class ConfigMap:
    """A folder as the kubelet lays out a mounted ConfigMap: ..TIMESTAMP
    folders, ..data a symlink to the current one, each key a symlink
    ..data/KEY; an update is a new folder and one rename of ..data."""

    def __init__(self, path):
        self.path = path
        self.gen = 0
        os.mkdir(path)
        os.chmod(path, 0o755)

    def publish(self, files):
        self.gen += 1
        name = f"..2026_01_01_00_00_0{self.gen}.{self.gen}"
        os.mkdir(os.path.join(self.path, name))
        os.chmod(os.path.join(self.path, name), 0o755)
        for k, v in files.items():
            with open(os.path.join(self.path, name, k), "w") as fh:
                fh.write(v)
            os.chmod(os.path.join(self.path, name, k), 0o644)
        data = os.path.join(self.path, "..data")
        old = os.path.realpath(data) if os.path.islink(data) else None
        os.symlink(name, os.path.join(self.path, "..data_tmp"))
        os.rename(os.path.join(self.path, "..data_tmp"), data)
        for k in files:
            if not os.path.islink(os.path.join(self.path, k)):
                os.symlink(os.path.join("..data", k), os.path.join(self.path, k))
        if old:
            shutil.rmtree(old)


class TestImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-img-", 4, seed=3)
        out = podman("load", "-i", ARCHIVE).stdout
        cls.image = re.search(r"Loaded image(?:\(s\))?: (\S+)", out).group(1)
        cls.name = f"gluemetad-check-image-{os.getpid()}"
        cls.addClassCleanup(podman, "rm", "--force", "--time", "0", cls.name, check=False)

    def config(self, workflows):
        lines = ["log_format: json", "reload_on_change: true", "workflows:"]
        for n in workflows:
            lines += [f"  - name: {n}", f"    file: {n}.yaml", "    schedule: \"0 0 1 1 *\""]
        return "\n".join(lines) + "\n"

    def workflow(self, service):
        return harness.workflow_yaml(self.s, service=service,
                                     secret_key="${CREDENTIALS_DIRECTORY}/aws-secret-key",
                                     token="${CREDENTIALS_DIRECTORY}/om-jwt")

    def ctl(self, *args):
        return podman("exec", self.name, "gluemetactl", *args)

    def status(self):
        return json.loads(self.ctl("--json", "status").stdout)

    def test_image_runs_as_a_cluster_runs_it(self):
        info = json.loads(podman("image", "inspect", self.image).stdout)[0]
        self.assertLess(info["Size"], MAX_SIZE)
        self.assertEqual(info["Config"]["User"], f"{UID}:{UID}")
        self.assertEqual(info["Config"]["Entrypoint"], [
            "/usr/sbin/gluemetad", "daemon", "--config", "/etc/gluemetad/gluemetad.yaml"])
        labels = info["Config"]["Labels"]
        self.assertEqual(labels["org.opencontainers.image.version"], VERSION)
        self.assertEqual(labels["org.opencontainers.image.title"], "gluemetad")
        self.assertTrue(RFC3339.match(labels["org.opencontainers.image.created"][:19] + ".000Z"))
        # no shell, no package manager
        p = podman("run", "--rm", "--entrypoint", "/bin/sh", self.image, "-c", "true",
                   check=False)
        self.assertNotEqual(p.returncode, 0)

        cm = ConfigMap(os.path.join(self.tmp, "configmap"))
        cm.publish({"gluemetad.yaml": self.config(["a"]), "a.yaml": self.workflow("svc_img_a"),
                    "b.yaml": self.workflow("svc_img_b")})
        secret = os.path.join(self.tmp, "secret")
        os.mkdir(secret)
        for name, value in (("om-jwt", harness.JWT), ("aws-secret-key", harness.SK)):
            with open(os.path.join(secret, name), "w") as fh:
                fh.write(value + "\n")
            os.chown(os.path.join(secret, name), 0, UID)
            os.chmod(os.path.join(secret, name), 0o440)
        os.chmod(secret, 0o755)
        state = os.path.join(self.tmp, "state")
        run = os.path.join(self.tmp, "run")
        for d in (state, run):
            os.mkdir(d)
            os.chown(d, UID, UID)
            os.chmod(d, 0o750)
        podman("run", "--detach", "--name", self.name, "--network", "host", "--read-only",
               "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
               "--volume", f"{cm.path}:/etc/gluemetad:ro",
               "--volume", f"{secret}:/run/secrets/gluemetad:ro",
               "--env", "CREDENTIALS_DIRECTORY=/run/secrets/gluemetad",
               "--volume", f"{state}:/var/lib/gluemetad",
               "--volume", f"{run}:/run/gluemetad", self.image)
        harness.wait_until(lambda: os.path.exists(os.path.join(run, "gluemetad.sock")),
                           "the socket", timeout=60)
        st = self.status()
        self.assertEqual([w["name"] for w in st["workflows"]], ["a"])
        text = self.ctl("status").stdout
        self.assertIn("a", text)
        # a run lands, with the secrets read from the mounted folder
        self.ctl("run", "a")
        harness.wait_until(lambda: any(p["service"]["name"] == "svc_img_a"
                                       for p in self.s.dump()["pipelines"]),
                           "a's pipelines", timeout=60)
        harness.wait_until(lambda: self.status()["workflows"][0]["state"] == "idle" and
                           self.status()["workflows"][0]["runs"] == 1,
                           "the run's end", timeout=60)
        self.assertEqual(self.status()["workflows"][0]["last"][0]["result"], "success")
        self.assertEqual(os.stat(os.path.join(state, "history.json")).st_uid, UID)
        # the ConfigMap updated: reloaded without a signal
        cm.publish({"gluemetad.yaml": self.config(["a", "b"]),
                    "a.yaml": self.workflow("svc_img_a"), "b.yaml": self.workflow("svc_img_b")})
        harness.wait_until(lambda: [w["name"] for w in self.status()["workflows"]] == ["a", "b"],
                           "the reload of the swapped ConfigMap", timeout=60)
        self.assertEqual(self.status()["reloads"], 1)
        # SIGTERM: a clean stop, in time
        t0 = time.time()
        podman("stop", "--time", "10", self.name)
        secs = time.time() - t0
        self.assertLess(secs, 2.0)
        state_ = json.loads(podman("inspect", self.name).stdout)[0]["State"]
        self.assertEqual(state_["ExitCode"], 0)
        logs = podman("logs", self.name)
        lines = [x for x in (logs.stdout + logs.stderr).splitlines() if x.strip()]
        recs = [json.loads(x) for x in lines]
        for r in recs:
            self.assertTrue(RFC3339.match(r["time"]), r)
            self.assertIn(r["level"], {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"})
            self.assertNotIn(harness.JWT, r["msg"])
            self.assertNotIn(harness.SK, r["msg"])
        msgs = [r["msg"] for r in recs]
        self.assertTrue(any(m.startswith("started: 1 workflows") for m in msgs), msgs)
        self.assertIn("configuration reloaded: 2 workflows", msgs)
        self.assertEqual(msgs[-1], "stopped")
        self.assertTrue(any(r.get("workflow") == "a" and r.get("run") for r in recs))
        print(f"\n  image {info['Size'] / 1e6:.1f} MB, podman stop {secs:.2f} s", end=" ",
              file=sys.stderr)


if __name__ == "__main__":
    if os.geteuid() != 0 or not shutil.which("podman"):
        print("test_image: needs root and podman", file=sys.stderr)
        sys.exit(1)
    if len(sys.argv) > 1:
        VERSION = sys.argv.pop(1)
    result = unittest.TextTestRunner(verbosity=2).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
