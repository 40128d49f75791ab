"""AWS credentials that come from profiles (role_arn + source_profile,
credential_process) and temporary credentials that expire while a run is
going on: the fake STS hands out session tokens that end after a few
seconds and the fake Glue refuses them afterwards, so a run only lands
when gluemetad refreshes them in time (or, told nothing, after the
ExpiredTokenException)."""
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import DaemonCase  # noqa: E402

BIN = os.environ["GLUEMETAD_BIN"]

TEMP_AK, TEMP_SK, TEMP_TOKEN = "ASIATEMPGLUEMETAD002", "temp/secret+key/4567", "IQoJb3JpZ2luX2VjE//token=="
BASE_AK, BASE_SK = "AKIABASEGLUEMETAD002", "base/secret/key+4567"
ROLE = "arn:aws:iam::123456789012:role/glue-reader"


class CredCase(unittest.TestCase):
    workflows = 6
    latency = 0
    sts_args = ()

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-it-", cls.workflows, seed=5, latency_ms=cls.latency,
                             access_key=TEMP_AK, secret_key=TEMP_SK, session_token=TEMP_TOKEN)
        cls.sts = harness.class_server(cls, harness.fake_sts_argv(
            "--base-access-key", BASE_AK, "--base-secret-key", BASE_SK, "--role-arn", ROLE,
            "--access-key", TEMP_AK, "--secret-key", TEMP_SK,
            "--session-token", TEMP_TOKEN, *cls.sts_args), "sts")

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.glue.call("POST", "/__fake/stats/reset")
        self.sts.call("PUT", "/__fake/reset")
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        os.makedirs(os.path.join(self.home, ".aws"))

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.home
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_ENDPOINT_URL_STS"] = self.sts.url + "/"
        env.update(kw)
        return env

    def aws_file(self, name, text):
        path = os.path.join(self.home, ".aws", name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def ingest(self, args=(), env=None, **kw):
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(harness.workflow_yaml(self.s, keys=False, **kw))
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path] + list(args),
                                  env=env or self.env())
        self.assertNotIn(TEMP_SK, p.stdout + p.stderr)
        self.assertNotIn(TEMP_TOKEN, p.stdout + p.stderr)
        self.assertNotIn(BASE_SK, p.stdout + p.stderr)
        return p

    def sts_requests(self):
        return self.sts.call("GET", "/__fake/requests")

    def rejected(self):
        return self.s.glue_stats()["rejected"]

    def assertLanded(self, p):
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        names = {x["name"] for x in self.s.dump()["pipelines"]}
        self.assertEqual(names, {w["Name"] for w in self.estate["workflows"]})

    def process_script(self, expires_in=None, version=1, exit_code=0):
        """A credential_process that counts its calls in a file."""
        count = os.path.join(self.home, "calls")
        script = os.path.join(self.home, "creds helper.py")
        with open(script, "w") as fh:
            fh.write(f"""import datetime, json, sys, time
assert sys.argv[1:] == ["--role", "glue reader", "it's"], sys.argv
with open({count!r}, "a") as fh:
    fh.write("x")
out = {{"Version": {version}, "AccessKeyId": {TEMP_AK!r}, "SecretAccessKey": {TEMP_SK!r},
       "SessionToken": {TEMP_TOKEN!r}}}
if {expires_in!r} is not None:
    end = time.time() + {expires_in!r}
    out["SessionToken"] += ".exp%d" % end
    out["Expiration"] = datetime.datetime.utcfromtimestamp(end).strftime("%Y-%m-%dT%H:%M:%SZ")
print(json.dumps(out))
sys.exit({exit_code})
""")
        return f"{harness.PY} '{script}' --role \"glue reader\" it\\'s", count


class TestProfiles(CredCase):
    def test_role_arn_with_source_profile(self):
        self.aws_file("credentials", f"[base]\naws_access_key_id = {BASE_AK}\n"
                                     f"aws_secret_access_key = {BASE_SK}\n")
        self.aws_file("config", f"[profile reader]\nrole_arn = {ROLE}\nsource_profile = base\n"
                                "role_session_name = nightly-sync\nexternal_id = ext-42\n")
        p = self.ingest(profile="reader")
        self.assertLanded(p)
        reqs = self.sts_requests()
        self.assertEqual([(r["Action"], r["RoleArn"], r["RoleSessionName"], r.get("ExternalId"))
                          for r in reqs], [("AssumeRole", ROLE, "nightly-sync", "ext-42")])
        self.assertTrue(reqs[0]["ok"])          # signed with the source profile's keys
        self.assertEqual(self.rejected(), [])

    def test_role_arn_without_a_source_is_a_clear_error(self):
        self.aws_file("config", f"[profile reader]\nrole_arn = {ROLE}\n")
        p = self.ingest(profile="reader")
        self.assertEqual(p.returncode, 1)
        self.assertIn("AWS profile 'reader': role_arn needs source_profile or credential_source",
                      p.stderr)
        self.assertEqual(self.sts_requests(), [])

    def test_source_profile_loop_is_refused(self):
        self.aws_file("config", f"[profile a]\nrole_arn = {ROLE}\nsource_profile = b\n"
                                f"[profile b]\nrole_arn = {ROLE}\nsource_profile = a\n")
        p = self.ingest(profile="a")
        self.assertEqual(p.returncode, 1)
        self.assertIn("too long or loops", p.stderr)

    def test_credential_process(self):
        cmd, count = self.process_script()
        self.aws_file("config", f"[profile proc]\ncredential_process = {cmd}\n")
        p = self.ingest(profile="proc")
        self.assertLanded(p)
        with open(count) as fh:
            self.assertEqual(fh.read(), "x")
        self.assertEqual(self.rejected(), [])

    def test_credential_process_failures(self):
        cmd, _ = self.process_script(exit_code=3)
        self.aws_file("config", f"[profile proc]\ncredential_process = {cmd}\n")
        p = self.ingest(profile="proc")
        self.assertEqual(p.returncode, 1)
        self.assertIn("credential_process of profile 'proc' exited with status 3", p.stderr)
        cmd, _ = self.process_script(version=2)
        self.aws_file("config", f"[profile proc]\ncredential_process = {cmd}\n")
        p = self.ingest(profile="proc")
        self.assertEqual(p.returncode, 1)
        self.assertIn("printed no valid credentials", p.stderr)
        self.aws_file("config", "[profile proc]\ncredential_process = /nonexistent/helper\n")
        p = self.ingest(profile="proc")
        self.assertEqual(p.returncode, 1)
        self.assertIn("credential_process of profile 'proc' cannot be started", p.stderr)
        self.assertEqual(self.s.dump()["pipelines"], [])


class TestRefresh(CredCase):
    """Session tokens live 8 s; one workflow at a time at 250 ms a request
    makes a run of about 10 s, so the credentials must be renewed in the
    middle of it without Glue ever seeing an expired token."""
    workflows = 30
    latency = 250
    sts_args = ("--lifetime", "8")

    def test_assumed_role_refreshed_before_expiry(self):
        p = self.ingest(args=["--glue-concurrency", "1"], env=self.env(
            AWS_ACCESS_KEY_ID=BASE_AK, AWS_SECRET_ACCESS_KEY=BASE_SK),
            aws_extra=[f"assumeRoleArn: {ROLE}"])
        self.assertLanded(p)
        reqs = self.sts_requests()
        self.assertGreaterEqual(len(reqs), 2, p.stderr)
        self.assertTrue(all(r["ok"] and r["Action"] == "AssumeRole" for r in reqs))
        self.assertEqual(self.rejected(), [])   # no request went out with an expired token
        self.assertIn("AWS credentials refreshed", p.stderr)

    def test_credential_process_refreshed_before_expiry(self):
        cmd, count = self.process_script(expires_in=8)
        self.aws_file("config", f"[profile proc]\ncredential_process = {cmd}\n")
        p = self.ingest(args=["--glue-concurrency", "1"], profile="proc")
        self.assertLanded(p)
        with open(count) as fh:
            self.assertGreaterEqual(len(fh.read()), 2)
        self.assertEqual(self.rejected(), [])


class TestExpiredTokenRetry(CredCase):
    """The STS announces an hour but the token dies after 3 s (a revoked
    session, a wrong clock): Glue's ExpiredTokenException makes gluemetad
    fetch new credentials once and send the request again."""
    workflows = 20
    latency = 250
    sts_args = ("--lifetime", "3", "--advertised-lifetime", "3600")

    def test_expired_token_refreshes_and_retries(self):
        p = self.ingest(args=["--glue-concurrency", "1"], env=self.env(
            AWS_ACCESS_KEY_ID=BASE_AK, AWS_SECRET_ACCESS_KEY=BASE_SK),
            aws_extra=[f"assumeRoleArn: {ROLE}"])
        self.assertLanded(p)
        codes = [r["code"] for r in self.rejected()]
        self.assertTrue(codes and set(codes) == {"ExpiredTokenException"}, codes)
        self.assertGreaterEqual(len(self.sts_requests()), 2)
        self.assertIn("as expired or invalid", p.stderr)


class TestRefreshFailure(CredCase):
    """The role cannot be assumed again: the run keeps the credentials it
    has while they last (warning), then stops sending instead of sending
    expired ones."""
    workflows = 30
    latency = 250
    sts_args = ("--lifetime", "8", "--fail-after", "1")

    def test_no_request_with_expired_credentials(self):
        p = self.ingest(args=["--glue-concurrency", "1"], env=self.env(
            AWS_ACCESS_KEY_ID=BASE_AK, AWS_SECRET_ACCESS_KEY=BASE_SK),
            aws_extra=[f"assumeRoleArn: {ROLE}"])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("AWS credentials could not be refreshed", p.stderr)
        self.assertIn("AWS credentials expired and could not be refreshed", p.stderr)
        self.assertIn("AccessDenied", p.stderr)
        self.assertEqual([r["code"] for r in self.rejected()], [])
        reqs = self.sts_requests()
        self.assertTrue(reqs[0]["ok"] and len(reqs) >= 2 and not any(r["ok"] for r in reqs[1:]))


class TestDaemonRefresh(DaemonCase):
    """A daemon run longer than its assumed role's credentials live."""

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-dm-", 30, seed=6, access_key=TEMP_AK,
                             secret_key=TEMP_SK, session_token=TEMP_TOKEN)
        cls.sts = harness.class_server(cls, harness.fake_sts_argv(
            "--base-access-key", BASE_AK, "--base-secret-key", BASE_SK, "--role-arn", ROLE,
            "--access-key", TEMP_AK, "--secret-key", TEMP_SK,
            "--session-token", TEMP_TOKEN, "--lifetime", "8"), "sts")

    def test_refreshed_during_a_long_daemon_run(self):
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 250, "faults": []})
        self.s.glue.call("POST", "/__fake/stats/reset")
        self.write("a.yaml", harness.workflow_yaml(self.s, service="svc_refresh",
                                                   aws_extra=[f"assumeRoleArn: {ROLE}"]).replace(
            f"awsAccessKeyId: \"{harness.AK}\"", f"awsAccessKeyId: \"{BASE_AK}\"").replace(
            f"awsSecretAccessKey: \"{harness.SK}\"", f"awsSecretAccessKey: \"{BASE_SK}\""))
        self.write("gluemetad.yaml", f"socket: {self.dir}/gm.sock\nstate_dir: {self.dir}/state\n"
                   "glue_concurrency: 1\nworkflows:\n  - name: a\n    file: a.yaml\n"
                   "    schedule: \"0 0 1 1 *\"\n")
        self.start(extra_env={"AWS_ENDPOINT_URL_STS": self.sts.url + "/",
                              "AWS_EC2_METADATA_DISABLED": "true"})
        self.ctl("run", "a")
        last = self.wait(lambda: self.by_name()["a"].get("last"), timeout=90, what="run")[0]
        self.assertEqual(last["result"], "success", self.log())
        self.assertEqual(last["pipelines"], 30)
        self.assertGreaterEqual(len(self.sts.call("GET", "/__fake/requests")), 2)
        self.assertEqual(self.s.glue_stats()["rejected"], [])
        self.assertIn("AWS credentials refreshed", self.log())
        self.assertNotIn(TEMP_SK, self.log())
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
