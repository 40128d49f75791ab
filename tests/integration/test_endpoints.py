"""Endpoint overrides as the AWS SDKs resolve them, one resolver for every
service: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the
region's endpoint.  A user who points AWS_ENDPOINT_URL at a private
endpoint gets STS AssumeRole and Secrets Manager sent there too, not to the
public ones; a service's own variable still wins, and Glue's endPointURL
from the workflow file wins over both."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from test_credentials import (BIN, BASE_AK, BASE_SK, ROLE, TEMP_AK, TEMP_SK,  # noqa: E402
                              TEMP_TOKEN, CredCase)
from test_secrets import SecretsCase, referencing_yaml  # noqa: E402

# a port nothing listens on: a request sent there fails at once
DEAD = "http://127.0.0.1:9/"


class TestAssumeRoleEndpoint(CredCase):
    workflows = 3

    def env(self, **kw):
        env = super().env(AWS_ACCESS_KEY_ID=BASE_AK, AWS_SECRET_ACCESS_KEY=BASE_SK)
        del env["AWS_ENDPOINT_URL_STS"]
        env.update(kw)
        return env

    def test_assume_role_follows_aws_endpoint_url(self):
        p = self.ingest(env=self.env(AWS_ENDPOINT_URL=self.sts.url + "/"),
                        aws_extra=[f"assumeRoleArn: {ROLE}"])
        self.assertLanded(p)
        reqs = self.sts_requests()
        self.assertEqual([(r["Action"], r["RoleArn"]) for r in reqs], [("AssumeRole", ROLE)])
        self.assertTrue(reqs[0]["ok"])
        self.assertEqual(self.rejected(), [])

    def test_service_variable_wins_over_aws_endpoint_url(self):
        p = self.ingest(env=self.env(AWS_ENDPOINT_URL=DEAD,
                                     AWS_ENDPOINT_URL_STS=self.sts.url + "/"),
                        aws_extra=[f"assumeRoleArn: {ROLE}"])
        self.assertLanded(p)
        self.assertEqual([r["Action"] for r in self.sts_requests()], ["AssumeRole"])

    def test_profile_role_follows_aws_endpoint_url(self):
        self.aws_file("credentials", f"[base]\naws_access_key_id = {BASE_AK}\n"
                                     f"aws_secret_access_key = {BASE_SK}\n")
        self.aws_file("config", f"[profile reader]\nrole_arn = {ROLE}\nsource_profile = base\n")
        env = self.env(AWS_ENDPOINT_URL=self.sts.url + "/")
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        p = self.ingest(profile="reader", env=env)
        self.assertLanded(p)
        self.assertEqual([r["Action"] for r in self.sts_requests()], ["AssumeRole"])


class TestGlueEndpoint(CredCase):
    """Glue through the same resolver when the workflow file sets no
    endPointURL."""
    workflows = 2

    def env(self, **kw):
        return super().env(AWS_ACCESS_KEY_ID=TEMP_AK, AWS_SECRET_ACCESS_KEY=TEMP_SK,
                           AWS_SESSION_TOKEN=TEMP_TOKEN, **kw)

    def ingest_without_endpoint(self, env):
        text = harness.workflow_yaml(self.s, keys=False)
        lines = [x for x in text.splitlines() if "endPointURL:" not in x]
        self.assertEqual(len(lines), len(text.splitlines()) - 1)
        path = os.path.join(self.tmp, "wf-no-endpoint.yaml")
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return harness.run_gluemetad(BIN, ["ingest", "-c", path], env=env)

    def test_glue_follows_aws_endpoint_url(self):
        p = self.ingest_without_endpoint(self.env(AWS_ENDPOINT_URL=self.s.glue.url + "/"))
        self.assertLanded(p)
        self.assertEqual(self.rejected(), [])

    def test_glue_service_variable_wins_over_aws_endpoint_url(self):
        p = self.ingest_without_endpoint(self.env(AWS_ENDPOINT_URL=DEAD,
                                                  AWS_ENDPOINT_URL_GLUE=self.s.glue.url + "/"))
        self.assertLanded(p)

    def test_endpoint_url_of_the_workflow_file_wins(self):
        p = self.ingest(env=self.env(AWS_ENDPOINT_URL=DEAD, AWS_ENDPOINT_URL_GLUE=DEAD))
        self.assertLanded(p)

    def test_glue_variable_pointing_nowhere_fails_the_run(self):
        p = self.ingest_without_endpoint(self.env(AWS_ENDPOINT_URL_GLUE=DEAD))
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.s.dump()["pipelines"], [])


class TestSecretsEndpoint(SecretsCase):
    workflows = 2

    def env(self, **kw):
        env = super().env()
        del env["AWS_ENDPOINT_URL_SECRETS_MANAGER"], env["AWS_ENDPOINT_URL_SSM"]
        env.update(kw)
        return env

    def test_secrets_manager_follows_aws_endpoint_url(self):
        # Glue keeps its endPointURL: the workflow file's URL wins
        p = self.ingest(referencing_yaml(self.s), env=self.env(AWS_ENDPOINT_URL=self.sm.url + "/"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.landed()), self.workflows)
        reqs = self.requests()
        self.assertEqual(sorted(r["id"] for r in reqs), sorted(["/glue/ak", "/glue/sk", "/om/jwt"]))
        self.assertTrue(all(r["ok"] and r["target"] == "secretsmanager.GetSecretValue"
                            for r in reqs), reqs)

    def test_ssm_follows_aws_endpoint_url(self):
        p = self.ingest(referencing_yaml(self.s, provider="aws-ssm"),
                        env=self.env(AWS_ENDPOINT_URL=self.sm.url + "/"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual({r["target"] for r in self.requests()}, {"AmazonSSM.GetParameter"})

    def test_service_variable_wins_over_aws_endpoint_url(self):
        p = self.ingest(referencing_yaml(self.s),
                        env=self.env(AWS_ENDPOINT_URL=DEAD,
                                     AWS_ENDPOINT_URL_SECRETS_MANAGER=self.sm.url + "/"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.requests()), 3)


if __name__ == "__main__":
    unittest.main()
