"""Values that name a secret instead of holding it: "secret:ID" resolved
from a fake Secrets Manager / SSM Parameter Store (which verifies SigV4 and
the services' models) and systemd credentials from CREDENTIALS_DIRECTORY;
and no secret in anything a user sees: the output of `ingest`, the
daemon's log, the control socket's answers and the history."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import DaemonCase  # noqa: E402

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
SM_AK, SM_SK = "AKIASECRETSREADER001", "secrets/reader+key/0123"
SECRETS = {"/glue/ak": harness.AK, "/glue/sk": harness.SK, "/om/jwt": harness.JWT}


def start_fake_secrets(tmp, latency_ms=0, name="secrets"):
    path = os.path.join(tmp, "secrets.json")
    with open(path, "w") as fh:
        json.dump(SECRETS, fh)
    return harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_secrets.py"),
                           "--region", harness.REGION, "--access-key", SM_AK,
                           "--secret-key", SM_SK, "--secrets", path,
                           "--latency-ms", str(latency_ms)], name, 0, tmp)


def referencing_yaml(s, provider="aws", jwt="secret:/om/jwt", sk="secret:/glue/sk",
                     service="glue_it"):
    return harness.workflow_yaml(
        s, service=service, access_key="secret:/glue/ak", secret_key=sk, token=jwt,
        extra_om=f"    secretsManagerProvider: {provider}\n    secretsManagerLoader: env")


class SecretsCase(unittest.TestCase):
    workflows = 4

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-it-", cls.workflows, seed=9)
        cls.sm = start_fake_secrets(cls.tmp)
        cls.addClassCleanup(cls.sm.stop)

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.sm.call("PUT", "/__fake/reset")

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.pop("CREDENTIALS_DIRECTORY", None)
        env.update(HOME=self.tmp, AWS_EC2_METADATA_DISABLED="true", AWS_REGION=harness.REGION,
                   AWS_ACCESS_KEY_ID=SM_AK, AWS_SECRET_ACCESS_KEY=SM_SK,
                   AWS_ENDPOINT_URL_SECRETS_MANAGER=self.sm.url + "/",
                   AWS_ENDPOINT_URL_SSM=self.sm.url + "/")
        env.update(kw)
        return env

    def ingest(self, text, env=None):
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path], env=env or self.env())
        self.assertNoSecrets(p.stdout + p.stderr)
        return p

    def assertNoSecrets(self, text):
        for v in list(SECRETS.values()) + [SM_SK]:
            self.assertNotIn(v, text)

    def requests(self):
        return self.sm.call("GET", "/__fake/requests")

    def landed(self):
        return {p["name"] for p in self.s.dump()["pipelines"]}


class TestSecretReferences(SecretsCase):
    def test_secrets_manager(self):
        p = self.ingest(referencing_yaml(self.s))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)
        reqs = self.requests()
        self.assertEqual(sorted(r["id"] for r in reqs), sorted(SECRETS))
        self.assertTrue(all(r["ok"] and r["target"] == "secretsmanager.GetSecretValue"
                            for r in reqs), reqs)

    def test_ssm_parameter_store(self):
        p = self.ingest(referencing_yaml(self.s, provider="aws-ssm"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)
        self.assertEqual({r["target"] for r in self.requests()}, {"AmazonSSM.GetParameter"})

    def test_missing_secret_is_named_without_its_value(self):
        p = self.ingest(referencing_yaml(self.s, sk="secret:/glue/nope"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("awsConfig.awsSecretAccessKey", p.stderr)
        self.assertIn("ResourceNotFoundException", p.stderr)
        self.assertEqual(self.landed(), set())

    def test_default_provider_keeps_values_as_written(self):
        p = self.ingest(referencing_yaml(self.s, provider="db"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.requests(), [])       # never asked
        self.assertEqual(self.landed(), set())

    def test_systemd_credential(self):
        creds = tempfile.mkdtemp(prefix="creds-", dir=self.tmp)
        with open(os.path.join(creds, "om-jwt"), "w") as fh:
            fh.write(harness.JWT + "\n")
        text = harness.workflow_yaml(self.s, token="${CREDENTIALS_DIRECTORY}/om-jwt")
        p = self.ingest(text, env=self.env(CREDENTIALS_DIRECTORY=creds))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)
        p = self.ingest(text)
        self.assertEqual(p.returncode, 2)
        self.assertIn("securityConfig.jwtToken names the systemd credential 'om-jwt', but "
                      "CREDENTIALS_DIRECTORY is not set", p.stderr)


class TestCheck(SecretsCase):
    def test_references_are_not_secrets_to_hide(self):
        path = os.path.join(self.tmp, "refs.yaml")
        with open(path, "w") as fh:
            fh.write(referencing_yaml(self.s, jwt="${CREDENTIALS_DIRECTORY}/om-jwt"))
        os.chmod(path, 0o644)
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("readable by other users", p.stderr)
        with open(path, "w") as fh:
            fh.write(referencing_yaml(self.s, sk=harness.SK))     # one literal secret
        p = harness.run_gluemetad(BIN, ["check", "-c", path])
        self.assertIn("holds secrets and is readable by other users", p.stderr)
        self.assertNoSecrets(p.stdout + p.stderr)


class TestInterruptWhileResolving(SecretsCase):
    def test_sigterm_while_secrets_are_read(self):
        slow = start_fake_secrets(self.tmp, latency_ms=3000, name="slow-secrets")
        self.addCleanup(slow.stop)
        path = os.path.join(self.tmp, "wf-slow.yaml")
        with open(path, "w") as fh:
            fh.write(referencing_yaml(self.s))
        env = self.env(AWS_ENDPOINT_URL_SECRETS_MANAGER=slow.url + "/")
        p = subprocess.Popen(harness.WRAPPER + [BIN, "ingest", "-c", path], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Signal only once a request is in flight: the run is then really
        # reading its secrets (a fixed sleep races a slow start, e.g. valgrind).
        deadline = time.monotonic() + 60
        while slow.call("GET", "/__fake/arrived")["arrived"] == 0:
            self.assertIsNone(p.poll(), "gluemetad ended before asking for a secret")
            self.assertLess(time.monotonic(), deadline, "no secret was asked for")
            time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
        self.assertIn(p.returncode, (1, 130, 143), out + err)
        self.assertEqual(self.landed(), set())
        self.assertNoSecrets(out + err)


class TestNoSecretsShown(DaemonCase):
    """A daemon whose workflows take every secret from the secrets
    manager, run by hand: its log, every control-socket answer and the
    history on disk hold none of them."""

    def test_daemon_output_holds_no_secret(self):
        self.sm = start_fake_secrets(self.dir)
        self.addCleanup(self.sm.stop)
        self.write("a.yaml", referencing_yaml(self.s, service="svc_secret"))
        self.config([("a", "0 0 1 1 *")])
        env = {k: None for k in os.environ if k.startswith("AWS_")}
        env.update(AWS_EC2_METADATA_DISABLED="true", AWS_REGION=harness.REGION,
                   AWS_ACCESS_KEY_ID=SM_AK, AWS_SECRET_ACCESS_KEY=SM_SK,
                   AWS_ENDPOINT_URL_SECRETS_MANAGER=self.sm.url + "/")
        self.start(extra_env={k: v for k, v in env.items() if v is not None})
        self.ctl("run", "a")
        self.wait(lambda: self.by_name()["a"].get("last"), what="run")
        self.assertEqual(self.by_name()["a"]["last"][0]["result"], "success")
        shown = [self.ctl(*a).stdout for a in (["status"], ["--json", "status"], ["list"],
                                              ["--json", "list"], ["history", "a"],
                                              ["--json", "history", "a"])]
        rc, _ = self.stop()
        self.assertEqual(rc, 0)
        state = ""
        for root, _, files in os.walk(os.path.join(self.dir, "state")):
            for f in files:
                with open(os.path.join(root, f), errors="replace") as fh:
                    state += fh.read()
        self.assertIn("svc_secret", {p["service"]["name"] for p in self.s.dump()["pipelines"]})
        for text in shown + [self.log(), state]:
            for v in list(SECRETS.values()) + [SM_SK]:
                self.assertNotIn(v, text)


if __name__ == "__main__":
    unittest.main()
