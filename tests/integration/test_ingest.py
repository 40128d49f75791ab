"""gluemetad ingest -c against the stand-ins: what lands in OpenMetadata."""
import os
import unittest

import expect
import harness
# IngestCase lives in harness; importing it from here still works
from harness import BIN, IngestCase  # noqa: F401


class TestEstate(IngestCase):
    def test_whole_estate_lands(self):
        p = self.ingest()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        names = [w["Name"] for w in self.estate["workflows"]]
        self.assertLanded(names)
        self.assertNoRejections()
        counts = self.s.glue_stats()["counts"]
        self.assertGreaterEqual(counts.get("ListWorkflows", 0), 3)   # 60 > two pages of 25
        self.assertIn("Workflow finished successfully", p.stdout)
        self.assertIn("Total errors: 0", p.stdout)
        self.assertNotIn(harness.SK, p.stdout + p.stderr)
        self.assertNotIn(harness.JWT, p.stdout + p.stderr)
        svc = self.s.dump()["services"]
        self.assertEqual([x["name"] for x in svc], ["glue_it"])
        self.assertEqual(svc[0]["serviceType"], "GluePipeline")

    def test_second_run_is_stable(self):
        self.assertEqual(self.ingest().returncode, 0)
        first = self.pipelines()
        p = self.ingest()
        self.assertEqual(p.returncode, 0, p.stderr)
        second = self.pipelines()
        self.assertEqual({n: x["id"] for n, x in first.items()},
                         {n: x["id"] for n, x in second.items()})
        self.assertNoRejections()

    def test_includes_take_precedence_case_insensitive(self):
        p = self.ingest(includes=["ETL_"], excludes=["etl_"])
        self.assertEqual(p.returncode, 0, p.stderr)
        want = [w["Name"] for w in self.estate["workflows"] if w["Name"].lower().startswith("etl_")]
        self.assertTrue(want)
        self.assertLanded(want)
        filtered = len(self.estate["workflows"]) - len(want)
        self.assertIn(f"Total filtered: {filtered}", p.stdout)

    def test_excludes(self):
        p = self.ingest(excludes=["nightly", r".*_0\d5$"])
        self.assertEqual(p.returncode, 0, p.stderr)
        import re
        want = [w["Name"] for w in self.estate["workflows"]
                if not re.match("nightly", w["Name"], re.I)
                and not re.match(r".*_0\d5$", w["Name"], re.I)]
        self.assertLess(len(want), len(self.estate["workflows"]))
        self.assertLanded(want)

    def test_mark_deleted_removes_exactly_the_vanished(self):
        self.assertEqual(self.ingest().returncode, 0)
        smaller = dict(self.estate)
        gone = [w["Name"] for w in self.estate["workflows"][3:8]]
        smaller["workflows"] = [w for w in self.estate["workflows"] if w["Name"] not in gone]
        self.s.glue.call("POST", "/__fake/estate", smaller)
        p = self.ingest()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(set(self.pipelines(deleted=True)), set(gone))
        self.assertEqual(set(self.pipelines()), {w["Name"] for w in smaller["workflows"]})
        self.assertNoRejections()

    def test_filtered_out_pipelines_are_marked_deleted(self):
        self.assertEqual(self.ingest().returncode, 0)
        p = self.ingest(excludes=["etl_"])
        self.assertEqual(p.returncode, 0, p.stderr)
        gone = {w["Name"] for w in self.estate["workflows"] if w["Name"].lower().startswith("etl_")}
        self.assertEqual(set(self.pipelines(deleted=True)), gone)

    def test_mark_deleted_false_keeps_everything(self):
        self.assertEqual(self.ingest().returncode, 0)
        p = self.ingest(excludes=["etl_"], mark_deleted=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.pipelines(deleted=True), {})

    def test_failed_listing_deletes_nothing(self):
        self.assertEqual(self.ingest().returncode, 0)
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "ListWorkflows", "page": 2, "status": 500, "error": "InternalServiceException",
             "times": -1}]})
        smaller = dict(self.estate)
        smaller["workflows"] = self.estate["workflows"][:-5]   # five vanished
        self.s.glue.call("POST", "/__fake/estate", smaller)
        p = self.ingest()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertEqual(self.pipelines(deleted=True), {})
        self.assertIn("not marking any pipeline deleted", p.stderr)

    def test_one_workflow_glue_error_others_land(self):
        bad = self.estate["workflows"][10]["Name"]
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "BatchGetWorkflows", "name": bad, "status": 500,
             "error": "InternalServiceException", "times": -1},
            {"op": "GetWorkflow", "name": bad, "status": 500,
             "error": "InternalServiceException", "times": -1}]})
        p = self.ingest()
        self.assertEqual(p.returncode, 1, p.stdout)
        names = [w["Name"] for w in self.estate["workflows"] if w["Name"] != bad]
        self.assertLanded(names)
        self.assertIn(bad, p.stderr)
        self.assertIn("InternalServiceException", p.stderr)
        self.assertIn("Total errors: 1", p.stdout)
        self.assertIn("Workflow finished with failures", p.stdout)
        # a 500 is tried 3 times (AWS's standard retry mode): the batch that
        # holds the workflow, then the workflow alone
        hits = [f["hits"] for f in self.s.glue.call("GET", "/__fake/faults")["faults"]]
        self.assertEqual(hits, [3, 3])

    def test_one_openmetadata_400_others_land(self):
        bad = self.estate["workflows"][4]["Name"]
        self.s.om.call("POST", "/__fake/config", {"faults": [
            {"method": "PUT", "path": "^/api/v1/pipelines/" + expect.fqn("glue_it", bad)
             .replace(".", r"\.") + "/status$", "status": 400, "times": -1,
             "body": {"code": 400, "message": "injected"}}]})
        p = self.ingest()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("injected", p.stderr)
        self.assertEqual(len(self.pipelines()), len(self.estate["workflows"]))

    def test_throttling_is_retried(self):
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "ListWorkflows", "status": 400, "error": "ThrottlingException", "times": 2},
            {"op": "GetWorkflowRuns", "status": 503, "error": "ServiceUnavailable", "times": 2}]})
        p = self.ingest()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertLanded([w["Name"] for w in self.estate["workflows"]])

    def test_garbage_replies_are_errors_not_crashes(self):
        names = [w["Name"] for w in self.estate["workflows"]]
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "GetWorkflowRuns", "name": names[1], "raw_body": "{\"Runs\": [tru", "times": -1},
            {"op": "GetWorkflowRuns", "name": names[2], "raw_body": "{\"Runs\": 7}", "times": -1},
            {"op": "GetWorkflowRuns", "name": names[3], "raw_body":
             "{\"Runs\": [{\"Status\": 5, \"StartedOn\": \"x\", \"Graph\": []}]}", "times": -1},
            {"op": "BatchGetWorkflows", "name": names[4],
             "raw_body": "{\"Workflows\": {\"a\": 1}}", "times": 1},
            {"op": "GetWorkflow", "name": names[4], "raw_body": "[1, 2, 3]", "times": -1}]})
        p = self.ingest()
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("Total errors: 3", p.stdout)        # runs of 1 and 2, workflow 4
        self.assertIn("skipping a workflow run", p.stderr)  # the malformed run of 3
        got = self.pipelines()
        self.assertEqual(set(got), set(names) - {names[4]})
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "ListWorkflows", "raw_body": "<html>oops</html>", "times": -1}]})
        p = self.ingest()
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot list Glue workflows", p.stderr)
        self.assertIn("not a JSON object", p.stderr)

    def test_clock_skew_is_adjusted(self):
        self.s.glue.call("POST", "/__fake/config", {"clock_offset_s": 3600})
        try:
            p = self.ingest()
        finally:
            self.s.glue.call("POST", "/__fake/config", {"clock_offset_s": 0})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertLanded([w["Name"] for w in self.estate["workflows"]])
        rejected = self.s.glue_stats()["rejected"]
        self.assertEqual(len(rejected), 1, rejected)     # only the first request
        self.assertIn("Signature expired", rejected[0]["reason"])

    def test_wrong_jwt(self):
        p = self.ingest(token="eyJ.wrong.token")
        self.assertEqual(p.returncode, 1)
        self.assertIn("JWT", p.stderr)
        self.assertNotIn("eyJ.wrong.token", p.stdout + p.stderr)
        self.assertEqual(self.s.dump()["pipelines"], [])

    def test_wrong_aws_secret(self):
        p = self.ingest(secret_key="not/the/right/secret/at/all/0000000000")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot list Glue workflows", p.stderr)
        self.assertIn("InvalidSignatureException", p.stderr)
        self.assertNotIn("not/the/right/secret", p.stdout + p.stderr)
        self.assertEqual(self.s.dump()["pipelines"], [])
        self.assertEqual(self.s.dump()["services"], [])

    def test_lookback_bounds_statuses(self):
        p = self.ingest(lookback=1)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLanded([w["Name"] for w in self.estate["workflows"]], lookback=1)

    def test_requests_run_concurrently_within_bounds(self):
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 20})
        p = self.ingest()
        self.assertEqual(p.returncode, 0, p.stderr)
        st = self.s.glue_stats()
        self.assertGreater(st["max_in_flight"], 1)
        self.assertLessEqual(st["max_in_flight"], 8)
        self.assertLessEqual(self.s.dump()["max_in_flight"], 8)


class TestReporting(IngestCase):
    workflows = 10
    RUN_ID = "0b6b1b5e-5a55-4c8a-9a55-0a0b0c0d0e0f"

    def reported(self):
        return [(x["runId"], x["pipelineState"])
                for x in self.s.dump()["ingestionPipelineStatusLog"]]

    def test_run_reported_running_then_success(self):
        self.s.om.call("POST", "/__fake/seed", {"ingestionPipelines": ["glue_it.glue_metadata"]})
        p = self.ingest(extra_top=f"ingestionPipelineFQN: glue_it.glue_metadata\n"
                                  f"pipelineRunId: {self.RUN_ID}")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.reported(), [(self.RUN_ID, "running"), (self.RUN_ID, "success")])
        final = self.s.dump()["ingestionPipelineStatuses"]["glue_it.glue_metadata"][self.RUN_ID]
        steps = {x["name"]: x for x in final["status"]}
        self.assertEqual(set(steps), {"Source", "Sink"})
        self.assertGreater(steps["Sink"]["records"], self.workflows)
        self.assertEqual(steps["Source"]["errors"], 0)
        self.assertGreaterEqual(final["endDate"], final["startDate"])
        self.assertNoRejections()

    def test_partial_success_and_thresholds(self):
        self.s.om.call("POST", "/__fake/seed", {"ingestionPipelines": ["glue_it.glue_metadata"]})
        bad = self.estate["workflows"][2]["Name"]
        faults = {"faults": [{"op": op, "name": bad, "status": 500,
                              "error": "InternalServiceException", "times": -1}
                             for op in ("BatchGetWorkflows", "GetWorkflow")]}
        self.s.glue.call("POST", "/__fake/config", faults)
        top = "ingestionPipelineFQN: glue_it.glue_metadata"
        p = self.ingest(extra_top=top)
        self.assertEqual(p.returncode, 1)                    # raiseOnError defaults to true
        self.assertEqual(self.reported()[-1][1], "partialSuccess")
        run_id = self.reported()[-1][0]
        self.assertEqual(self.reported()[-2], (run_id, "running"))
        final = self.s.dump()["ingestionPipelineStatuses"]["glue_it.glue_metadata"][run_id]
        self.assertEqual({x["name"]: x["errors"] for x in final["status"]}["Source"], 1)
        # workflowConfig.raiseOnError false: errors above successThreshold exit 0
        p = self.ingest(extra_top=top, extra_om="  raiseOnError: false")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(self.reported()[-1][1], "partialSuccess")
        # below successThreshold the run failed, whatever raiseOnError says
        p = self.ingest(extra_top=top, extra_om="  raiseOnError: false\n  successThreshold: 100")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertEqual(self.reported()[-1][1], "failed")
        self.assertNoRejections()

    def test_store_service_connection(self):
        self.assertEqual(self.ingest().returncode, 0)
        svc = self.s.dump()["services"][0]
        self.assertEqual(svc["connection"]["config"]["type"], "GluePipeline")
        self.assertEqual(svc["connection"]["config"]["awsConfig"]["awsRegion"], "eu-west-1")
        self.s.om.call("POST", "/__fake/reset")
        p = self.ingest(extra_om="    storeServiceConnection: false")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("connection", self.s.dump()["services"][0])


class TestCredentials(IngestCase):
    workflows = 4

    def env(self, **kw):
        home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(home, ".aws"), exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = home
        env["AWS_EC2_METADATA_DISABLED"] = "true"       # never the real 169.254.169.254
        env.update(kw)
        return env

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def landed(self, p):
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.pipelines()), self.workflows)
        self.assertEqual(self.s.glue_stats()["rejected"], [])

    def test_environment(self):
        self.landed(self.ingest(keys=False, env=self.env(AWS_ACCESS_KEY_ID=harness.AK,
                                                          AWS_SECRET_ACCESS_KEY=harness.SK)))

    def test_profile_name_wins_over_the_environment(self):
        creds = self.write("credentials", f"[default]\naws_access_key_id = AKIAWRONG\n"
                           f"aws_secret_access_key = wrong\n\n# the one we want\n[ci]\n"
                           f"aws_access_key_id = {harness.AK}\n"
                           f"aws_secret_access_key = {harness.SK}\n")
        self.landed(self.ingest(keys=False, profile="ci", env=self.env(
            AWS_SHARED_CREDENTIALS_FILE=creds, AWS_ACCESS_KEY_ID="AKIAWRONG",
            AWS_SECRET_ACCESS_KEY="wrong")))

    def test_config_file_profile(self):
        conf = self.write("config", f"[default]\nregion = eu-west-1\n[profile cfg]\n"
                          f"aws_access_key_id={harness.AK}\naws_secret_access_key={harness.SK}\n")
        self.landed(self.ingest(keys=False, env=self.env(
            AWS_CONFIG_FILE=conf, AWS_PROFILE="cfg",
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "none"))))

    def test_no_credentials(self):
        p = self.ingest(keys=False, env=self.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn("no AWS credentials", p.stderr)
        self.assertIn("profile 'default'", p.stderr)
        self.assertIn("AWS_EC2_METADATA_DISABLED is set", p.stderr)
        self.assertEqual(self.s.dump()["services"], [])


class TestMetadataCredentials(IngestCase):
    """Temporary credentials from the container endpoint and from IMDSv2,
    signed with their session token, checked by a fake Glue that only
    knows those credentials."""
    workflows = 4
    TEMP_AK, TEMP_SK, TEMP_TOKEN = "ASIATEMPGLUEMETAD001", "temp/secret+key/0123", "FQoGZXIvYXdzEJr//////////token=="

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-it-", cls.workflows, seed=11, access_key=cls.TEMP_AK,
                             secret_key=cls.TEMP_SK, session_token=cls.TEMP_TOKEN)
        cls.md = harness.class_server(
            cls, [harness.PY, os.path.join(harness.STANDINS, "fake_metadata.py"),
                  "--access-key", cls.TEMP_AK, "--secret-key", cls.TEMP_SK,
                  "--session-token", cls.TEMP_TOKEN,
                  "--container-token", "Bearer pod-identity-token"], "metadata")
        cls.sts = harness.class_server(cls, harness.fake_sts_argv(
            "--base-access-key", cls.BASE_AK, "--base-secret-key", cls.BASE_SK,
            "--role-arn", cls.ROLE, "--web-identity-token", "eyJ.pod.token",
            "--access-key", cls.TEMP_AK, "--secret-key", cls.TEMP_SK,
            "--session-token", cls.TEMP_TOKEN), "sts")

    def setUp(self):
        super().setUp()
        self.md.call("PUT", "/__fake/reset")
        self.sts.call("PUT", "/__fake/reset")

    BASE_AK, BASE_SK = "AKIABASEGLUEMETAD001", "base/secret/key+0123"
    ROLE = "arn:aws:iam::123456789012:role/glue-reader"

    def test_assume_role(self):
        p = self.ingest(access_key=self.BASE_AK, secret_key=self.BASE_SK,
                        aws_extra=[f"assumeRoleArn: {self.ROLE}",
                                   "assumeRoleSourceIdentity: gluemetad"],
                        env=self.env(AWS_ENDPOINT_URL_STS=self.sts.url + "/"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.pipelines()), self.workflows)
        reqs = self.sts.call("GET", "/__fake/requests")
        self.assertEqual(len(reqs), 1, reqs)
        self.assertEqual(reqs[0]["Action"], "AssumeRole")
        self.assertEqual(reqs[0]["RoleSessionName"], "OpenMetadataSession")
        self.assertEqual(reqs[0]["SourceIdentity"], "gluemetad")
        self.assertEqual(self.s.glue_stats()["rejected"], [])

    def test_assume_role_refused(self):
        p = self.ingest(access_key=self.BASE_AK, secret_key=self.BASE_SK,
                        aws_extra=["assumeRoleArn: arn:aws:iam::123456789012:role/other",
                                   "assumeRoleSessionName: nightly"],
                        env=self.env(AWS_ENDPOINT_URL_STS=self.sts.url + "/"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("STS AssumeRole arn:aws:iam::123456789012:role/other failed: AccessDenied", p.stderr)
        self.assertEqual(self.sts.call("GET", "/__fake/requests")[0]["RoleSessionName"], "nightly")
        self.assertEqual(self.s.dump()["services"], [])

    def test_web_identity(self):
        tok = os.path.join(self.tmp, "web-token")
        with open(tok, "w") as fh:
            fh.write("eyJ.pod.token\n")
        p = self.ingest(keys=False, env=self.env(
            AWS_ROLE_ARN=self.ROLE, AWS_WEB_IDENTITY_TOKEN_FILE=tok,
            AWS_ROLE_SESSION_NAME="pod-1", AWS_ENDPOINT_URL_STS=self.sts.url + "/",
            AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        reqs = self.sts.call("GET", "/__fake/requests")
        self.assertEqual([(r["Action"], r["RoleSessionName"]) for r in reqs],
                         [("AssumeRoleWithWebIdentity", "pod-1")])
        self.assertEqual(self.requests(), [])       # web identity comes before IMDS

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["HOME"] = self.tmp
        env.update(kw)
        return env

    def requests(self):
        return self.md.call("GET", "/__fake/requests")

    def test_imdsv2(self):
        p = self.ingest(keys=False, env=self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.pipelines()), self.workflows)
        reqs = self.requests()
        self.assertEqual([r["method"] for r in reqs], ["PUT", "GET", "GET"])
        self.assertTrue(all(r["ok"] for r in reqs), reqs)
        self.assertTrue(reqs[1]["token"] and reqs[2]["token"])     # v2: with the session token
        self.assertEqual(self.s.glue_stats()["rejected"], [])
        self.assertNotIn(self.TEMP_SK, p.stdout + p.stderr)
        self.assertNotIn(self.TEMP_TOKEN, p.stdout + p.stderr)

    def test_container_endpoint_before_imds(self):
        tokfile = os.path.join(self.tmp, "token")
        with open(tokfile, "w") as fh:
            fh.write("Bearer pod-identity-token\n")
        p = self.ingest(keys=False, env=self.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url + "/container/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokfile,
            AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(self.pipelines()), self.workflows)
        self.assertEqual([r["path"] for r in self.requests()], ["/container/creds"])

    def test_environment_before_metadata(self):
        p = self.ingest(keys=False, env=self.env(
            AWS_ACCESS_KEY_ID=self.TEMP_AK, AWS_SECRET_ACCESS_KEY=self.TEMP_SK,
            AWS_SESSION_TOKEN=self.TEMP_TOKEN,
            AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url + "/container/creds",
            AWS_EC2_METADATA_SERVICE_ENDPOINT=self.md.url))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.requests(), [])

    def test_container_refusals(self):
        p = self.ingest(keys=False, env=self.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI=self.md.url + "/container/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("container credentials endpoint answered HTTP 403", p.stderr)
        self.assertNotIn("Bearer wrong", p.stderr)
        # plain http to a host that is not loopback is refused before any request
        p = self.ingest(keys=False, env=self.env(
            AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.10/creds"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("must be https", p.stderr)


class TestOddNames(IngestCase):
    workflows = 12
    odd = True

    def test_odd_names_land_quoted(self):
        p = self.ingest(service="glue.odd svc")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        names = [w["Name"] for w in self.estate["workflows"]]
        self.assertTrue(any("." in n for n in names))
        self.assertTrue(any(len(n) == 255 for n in names))
        got = self.assertLanded(names, service="glue.odd svc")
        dotted = [n for n in names if "." in n][0]
        self.assertEqual(got[dotted]["fullyQualifiedName"], f'"glue.odd svc"."{dotted}"')
        self.assertNoRejections()


if __name__ == "__main__":
    unittest.main()
