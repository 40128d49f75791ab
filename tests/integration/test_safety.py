"""A failed read never takes anything away.

Starting from a store written by a good run plus a person's edits (a
description, an owner, a tag of their own, lineage of their own), every read
a run makes is made to fail in each way it can (access denied, a server
error that outlasts the retries, a stall past the timeout, a garbage body,
a dropped connection), one at a time; the store afterwards must hold
everything it held before, and the run must say it did not fully succeed.
Then a seeded property test: runs with random reads failing at random
moments; the store never shrinks, and a run that reports success left the
store complete."""
import json
import os
import random
import unittest
import urllib.request

import harness
from harness import BIN, SERVICE, ParityCase

# A request that stalls is given up after this long (each of its attempts).
STALL_TIMEOUT_MS = "4000" if harness.WRAPPER else "1000"

GLUE_FAULTS = {
    "denied": {"status": 400, "error": "AccessDeniedException",
               "message": "User is not authorized to perform this operation"},
    "error500": {"status": 500, "error": "InternalServiceException"},
    "stall": {"action": "stall"},
    "garbage": {"status": 200, "raw_body": "<html><body>502 Bad Gateway</body></html>"},
    "reset": {"action": "reset"},
}
OM_FAULTS = {
    "denied": {"status": 403, "body": {"code": 403, "message": "Principal is not authorized"}},
    "error500": {"status": 500},
    "stall": {"action": "stall"},
    "garbage": {"status": 200, "body": "<html><body>502 Bad Gateway</body></html>"},
    "reset": {"action": "reset"},
}
STS_FAULTS = {
    "denied": {"status": 403, "code": "AccessDenied", "message": "not authorized"},
    "error500": {"status": 500, "code": "InternalFailure"},
    "stall": {"fault": "stall"},
    "garbage": {"status": 200, "raw_body": "<html>502 Bad Gateway</html>"},
    "reset": {"fault": "reset"},
}
S3_FAULTS = {
    "denied": {"status": 403, "code": "AccessDenied", "message": "Access Denied"},
    "error500": {"status": 500, "code": "InternalError"},
    "stall": {"action": "stall"},
    # any body of a 200 is an object's content: the broken reply is one cut short
    "garbage": {"action": "truncate"},
    "reset": {"action": "reset"},
}
KINDS = list(GLUE_FAULTS)

# Glue reads: (name, [fault selectors]); a workflow-specific read names the
# workflow its selector picks (index into the estate's workflows).
GLUE_READS = {
    "ListWorkflows": [{"op": "ListWorkflows"}],
    "BatchGetWorkflows": [{"op": "BatchGetWorkflows"}],
    "GetWorkflow": [{"op": "BatchGetWorkflows", "name": 1}, {"op": "GetWorkflow", "name": 1}],
    "GetWorkflowRuns": [{"op": "GetWorkflowRuns", "name": 2}],
    "BatchGetJobs": [{"op": "BatchGetJobs"}],
    "GetTags": [{"op": "GetTags"}],
    "GetConnection": [{"op": "GetConnection"}],
}
# A failed BatchGetWorkflows is read again workflow by workflow (GetWorkflow):
# the read completes, and the run may say success.
RECOVERED = {"BatchGetWorkflows": "GetWorkflow"}
# OpenMetadata reads: GET paths (regular expressions)
OM_READS = {
    "service": r"^/api/v1/services/pipelineServices/name/",
    "pipeline listing": r"^/api/v1/pipelines$",
    "table lookup": r"^/api/v1/tables/name/",
    "container lookup": r"^/api/v1/containers/name/",
    "search": r"^/api/v1/search/",
    "user lookup": r"^/api/v1/users/name/",
    "team lookup": r"^/api/v1/teams/name/",
    "classification lookup": r"^/api/v1/classifications/name/",
    "tag lookup": r"^/api/v1/tags/name/",
    "lineage read": r"^/api/v1/lineage/",
}


def labels(p):
    return {t["tagFQN"] for t in p.get("tags") or []}


def owners(p):
    return sorted((o["type"], o["id"]) for o in p.get("owners") or [])


class SafetyCase(ParityCase):
    """A store from a good run plus a person's edits, kept as a snapshot
    that every case starts from."""
    workflows = 8
    override = False            # overrideLineage in every run of the class
    one_service = False         # every run with the estate's first dbServiceName only

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.services = cls.estate["lineage_db_service_names"][:1] if cls.one_service else None
        cls.names = [w["Name"] for w in cls.estate["workflows"]]
        om = cls.s.om
        om.call("POST", "/__fake/reset")
        om.call("POST", "/__fake/seed", cls.estate["om_seed"])
        self = cls("setUp")
        p = self.ingest(override=cls.override, services=cls.services)
        if p.returncode != 0:
            raise RuntimeError("the good run failed:\n" + p.stdout + p.stderr)
        fq = lambda i: f"{SERVICE}.{cls.names[i]}"          # noqa: E731
        om.call("POST", "/__fake/edit", {"fqn": fq(0), "description": "written by a person"})
        om.call("POST", "/__fake/edit", {"fqn": fq(1), "owners": [{"name": "team_1",
                                                                    "type": "team"}]})
        d = om.call("GET", "/__fake/dump")
        pipe3 = {p["fullyQualifiedName"]: p for p in d["pipelines"]}[fq(3)]
        om.call("POST", "/__fake/edit", {"fqn": fq(3), "tags": sorted(labels(pipe3)) +
                                         ["Tier.Tier1"]})
        # lineage of a person's own: two tables, with the pipeline in its details
        tables = d["tables"]
        used = {(e["from"], e["to"]) for e in d["lineageFqn"]}
        pair = next((a, b) for a in tables for b in tables
                    if a["id"] != b["id"] and (a["fullyQualifiedName"], b["fullyQualifiedName"])
                    not in used)
        edge = {"edge": {
            "fromEntity": {"id": pair[0]["id"], "type": "table"},
            "toEntity": {"id": pair[1]["id"], "type": "table"},
            "lineageDetails": {"pipeline": {"id": pipe3["id"], "type": "pipeline"},
                               "source": "Manual", "description": "drawn by a person"}}}
        req = urllib.request.Request(om.url + "/api/v1/lineage", method="PUT",
                                     data=json.dumps(edge).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + harness.JWT})
        urllib.request.urlopen(req, timeout=30).read()
        om.call("POST", "/__fake/snapshot")
        cls.before = om.call("GET", "/__fake/dump")

    def setUp(self):
        self.s.om.call("POST", "/__fake/restore")
        self.s.om.call("POST", "/__fake/config", {"faults": []})
        self.s.glue.call("POST", "/__fake/config", {"faults": []})
        self.s.glue.call("POST", "/__fake/stats/reset")
        self.sts.call("PUT", "/__fake/reset")
        self.s3.call("POST", "/__fake/reset")
        self.s3.call("POST", "/__fake/config", {"faults": []})

    def run_faulty(self, env=None):
        env = self.env(GLUEMETAD_HTTP_TIMEOUT_MS=STALL_TIMEOUT_MS, **(env or {}))
        return self.ingest(env=env, override=self.override, services=self.services)

    def assertKept(self, before, after, what):
        """Everything before holds is still in after (statuses and versions
        aside); the person's edits are as they were."""
        b = {p["fullyQualifiedName"]: p for p in before["pipelines"]}
        a = {p["fullyQualifiedName"]: p for p in after["pipelines"]}
        for fqn, pb in b.items():
            self.assertIn(fqn, a, f"{what}: pipeline {fqn} is gone")
            pa = a[fqn]
            self.assertEqual(pa.get("deleted", False), pb.get("deleted", False),
                             f"{what}: {fqn} was marked deleted")
            self.assertLessEqual(labels(pb), labels(pa), f"{what}: {fqn} lost tags")
            if pb.get("owners"):
                self.assertEqual(owners(pa), owners(pb), f"{what}: {fqn}'s owners changed")
            if pb.get("description"):
                self.assertEqual(pa.get("description"), pb["description"],
                                 f"{what}: {fqn}'s description changed")
            self.assertEqual(len(pa.get("tasks") or []) >= len(pb.get("tasks") or []), True,
                             f"{what}: {fqn} lost tasks")
        edges = lambda d: {(e["from"], e["to"], e["pipeline"], e["source"])  # noqa: E731
                           for e in d["lineageFqn"]}
        self.assertLessEqual(edges(before), edges(after), f"{what}: lineage edges were removed")
        for ent, days in before["usage"].items():
            for day, u in days.items():
                got = after["usage"].get(ent, {}).get(day)
                self.assertIsNotNone(got, f"{what}: usage of {ent} on {day} is gone")
        self.assertEqual(after["rejected"], [], f"{what}: OpenMetadata refused requests")

    def assertReported(self, p, what):
        """The run says it did not fully succeed, and why."""
        self.assertEqual(p.returncode, 1, f"{what}: the run should end partial or failed:\n"
                         + p.stdout + p.stderr[-3000:])
        self.assertRegex(p.stdout, r"Workflow finished with failures|Total errors: [1-9]",
                         f"{what}: the summary hides the failure")


class GlueFaults(SafetyCase):
    def glue_faults(self, read, kind):
        out = []
        for sel in GLUE_READS[read]:
            f = dict(sel, **GLUE_FAULTS[kind], times=-1)
            if "name" in sel:
                f["name"] = self.names[sel["name"]]
            out.append(f)
        return out


class TestGlueReadFailures(GlueFaults):
    reads = list(GLUE_READS)[:4]

    def test_each_glue_read_failing_each_way(self):
        kinds = KINDS if not harness.WRAPPER else None
        for i, read in enumerate(self.reads):
            for kind in (kinds or [KINDS[i % len(KINDS)]]):
                with self.subTest(read=read, kind=kind):
                    self.setUp()
                    self.s.glue.call("POST", "/__fake/config",
                                     {"faults": self.glue_faults(read, kind)})
                    p = self.run_faulty()
                    what = f"{read} {kind}"
                    hits = [f["hits"] for f in
                            self.s.glue.call("GET", "/__fake/faults")["faults"]]
                    self.assertTrue(any(hits), f"{what}: the read was never made")
                    self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), what)
                    if read in RECOVERED:
                        counts = self.s.glue_stats()["counts"]
                        self.assertGreaterEqual(counts.get(RECOVERED[read], 0), len(self.names),
                                                f"{what}: no fallback")
                        self.assertEqual(p.returncode, 0, what + "\n" + p.stderr[-2000:])
                    else:
                        self.assertReported(p, what)

    def test_glue_unreachable(self):
        # nothing listens on port 9 of loopback: every Glue request is refused
        d = self.tmp
        text = harness.workflow_yaml(self.s, service=SERVICE, lineage=True, tags=True,
                                     owners=True).replace(self.s.glue.url, "http://127.0.0.1:9")
        path = os.path.join(d, "unreachable.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path], env=self.env())
        self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), "Glue unreachable")
        self.assertNotEqual(p.returncode, 0)


class TestGlueReadFailures2(TestGlueReadFailures):
    reads = list(GLUE_READS)[4:]
    test_glue_unreachable = None

    def test_gettags_denied_keeps_tags_owners_descriptions_and_says_why(self):
        self.s.glue.call("POST", "/__fake/config", {"faults": [dict(
            GLUE_FAULTS["denied"], op="GetTags", times=-1)]})
        p = self.ingest()
        after = self.s.om.call("GET", "/__fake/dump")
        b = {x["fullyQualifiedName"]: x for x in self.before["pipelines"]}
        for x in after["pipelines"]:
            fqn = x["fullyQualifiedName"]
            self.assertEqual(labels(x), labels(b[fqn]), fqn)
            self.assertEqual(owners(x), owners(b[fqn]), fqn)
            self.assertEqual(x.get("description"), b[fqn].get("description"), fqn)
        self.assertTrue(any(labels(x) for x in after["pipelines"]), "the store had tags")
        self.assertEqual(p.returncode, 1)
        self.assertIn("GetTags failed, the pipeline keeps its tags", p.stderr)
        self.assertIn("AccessDeniedException", p.stderr)


class TestLineageReadFailuresOverride(GlueFaults):
    """With overrideLineage, a lineage read that fails must not let the
    pipeline's earlier edges be deleted: not its own, nor those of other
    workflows that wait for, or reuse, the same answer."""
    override = True

    def test_lineage_reads_failing_with_override_lineage(self):
        cases = [("glue", "BatchGetJobs"), ("glue", "GetConnection"), ("s3", None),
                 ("om", "table lookup"), ("om", "container lookup"), ("om", "search")]
        for i, (where, read) in enumerate(cases):
            kinds = ["error500", "garbage"] if not harness.WRAPPER else [
                ["error500", "garbage"][i % 2]]
            for kind in kinds:
                with self.subTest(where=where, read=read, kind=kind):
                    self.setUp()
                    if where == "glue":
                        self.s.glue.call("POST", "/__fake/config",
                                         {"faults": self.glue_faults(read, kind)})
                    elif where == "s3":
                        self.s3.call("POST", "/__fake/config",
                                     {"faults": [dict(S3_FAULTS[kind], uri="s3://")]})
                    else:
                        self.s.om.call("POST", "/__fake/config", {"faults": [
                            dict(OM_FAULTS[kind], method="GET", path=OM_READS[read], times=-1)]})
                    p = self.run_faulty()
                    if where == "om" and not self.s.om.call("GET", "/__fake/faults")[
                            "faults"][0]["hits"]:
                        continue            # this estate's lineage makes no such read
                    self.s.om.call("POST", "/__fake/config", {"faults": []})
                    what = f"overrideLineage, {where} {read} {kind}"
                    self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), what)
                    self.assertReported(p, what)


class TestIncrementalAfterAFailedTagRead(SafetyCase):
    """An incremental run (--state) after one whose GetTags failed still
    removes a Glue tag that is gone: the failed run's pipeline must not look
    written and complete."""

    def test_stale_glue_tag_removed_after_a_failed_read(self):
        memo = os.path.join(self.tmp, "tags.memo")
        if os.path.exists(memo):
            os.unlink(memo)
        estate = json.loads(json.dumps(self.estate))
        w = next(x for x in estate["workflows"] if x.get("Tags"))
        fqn = f"{SERVICE}.{w['Name']}"
        try:
            self.assertEqual(self.ingest(args=["--state", memo]).returncode, 0)
            w["Tags"] = {}
            self.s.glue.call("POST", "/__fake/estate", estate)
            self.s.glue.call("POST", "/__fake/config", {"faults": [dict(
                GLUE_FAULTS["denied"], op="GetTags", times=-1)]})
            p = self.ingest(args=["--state", memo])
            self.assertEqual(p.returncode, 1)
            pipes = {x["fullyQualifiedName"]: x for x in self.s.dump()["pipelines"]}
            self.assertTrue(any(t.startswith("GlueTags.") for t in labels(pipes[fqn])))
            self.s.glue.call("POST", "/__fake/config", {"faults": []})
            p = self.ingest(args=["--state", memo])
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            pipes = {x["fullyQualifiedName"]: x for x in self.s.dump()["pipelines"]}
            self.assertEqual({t for t in labels(pipes[fqn]) if t.startswith("GlueTags.")}, set(),
                             "the tag gone from Glue stayed")
        finally:
            self.s.glue.call("POST", "/__fake/estate", self.estate)


class TestAwsReadFailures(SafetyCase):
    def test_sts_and_s3_failing_each_way(self):
        for i, kind in enumerate(KINDS):
            if harness.WRAPPER and i % 2:
                continue
            with self.subTest(read="GetCallerIdentity", kind=kind):
                self.setUp()
                self.sts.call("PUT", "/__fake/faults",
                              [dict(STS_FAULTS[kind], action="GetCallerIdentity")])
                p = self.run_faulty()
                what = f"STS GetCallerIdentity {kind}"
                self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), what)
                self.assertReported(p, what)
                self.assertIn("GetCallerIdentity", p.stderr)
            with self.subTest(read="S3 GetObject", kind=kind):
                self.setUp()
                self.s3.call("POST", "/__fake/config",
                             {"faults": [dict(S3_FAULTS[kind], uri="s3://")]})
                p = self.run_faulty()
                what = f"S3 GetObject {kind}"
                self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), what)
                self.assertReported(p, what)

    def test_sts_unreachable_keeps_every_tag(self):
        p = self.ingest(env=self.env(AWS_ENDPOINT_URL_STS="http://127.0.0.1:9/"))
        self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), "STS unreachable")
        self.assertReported(p, "STS unreachable")
        self.assertIn("the AWS account id is unknown", p.stderr)


class OpenMetadataReadFailures(SafetyCase):
    reads = {}
    # the reads a run with lineage, tags and owners makes (with several
    # dbServiceNames a table is searched for across them, not read by name)
    must_hit = {"service", "search", "user lookup", "tag lookup"}

    def each_openmetadata_read_failing_each_way(self):
        hit_any = set()
        for i, (read, path) in enumerate(self.reads.items()):
            for kind in (KINDS if not harness.WRAPPER else [KINDS[i % len(KINDS)]]):
                with self.subTest(read=read, kind=kind):
                    self.setUp()
                    self.s.om.call("POST", "/__fake/config", {"faults": [
                        dict(OM_FAULTS[kind], method="GET", path=path, times=-1)]})
                    p = self.run_faulty()
                    what = f"OpenMetadata {read} {kind}"
                    hits = self.s.om.call("GET", "/__fake/faults")["faults"][0]["hits"]
                    if not hits:
                        continue            # this run does not make that read
                    hit_any.add(read)
                    self.s.om.call("POST", "/__fake/config", {"faults": []})
                    self.assertKept(self.before, self.s.om.call("GET", "/__fake/dump"), what)
                    self.assertReported(p, what)
        self.assertLessEqual(self.must_hit & set(self.reads), hit_any)


class TestOpenMetadataReadFailures1(OpenMetadataReadFailures):
    reads = dict(list(OM_READS.items())[:5])

    def test_each_openmetadata_read_failing_each_way(self):
        self.each_openmetadata_read_failing_each_way()


class TestOpenMetadataReadFailuresOneService(OpenMetadataReadFailures):
    """With one dbServiceName a table whose database and schema are known
    is read by name: that read failing each way takes nothing away."""
    one_service = True
    reads = {"table lookup": OM_READS["table lookup"]}
    must_hit = {"table lookup"}

    def test_each_openmetadata_read_failing_each_way(self):
        self.each_openmetadata_read_failing_each_way()


class TestOpenMetadataReadFailures2(OpenMetadataReadFailures):
    reads = dict(list(OM_READS.items())[5:])

    def test_each_openmetadata_read_failing_each_way(self):
        self.each_openmetadata_read_failing_each_way()


class TestRandomFailures(GlueFaults):
    """Each run: a random subset of reads failing, each from a random moment
    (after a random number of good answers) for a random number of times."""
    seeds = range(0)

    def random_faults(self, rng):
        glue, om, sts, s3 = [], [], [], []
        # a stall costs the timeout on each attempt: rarer than the others
        kinds = [k for k in KINDS if k != "stall"] * 3 + ["stall"]
        for read in GLUE_READS:
            if rng.random() < 0.25:
                kind = rng.choice(kinds)
                for f in self.glue_faults(read, kind):
                    f["times"] = rng.choice([1, 2, 3, -1])
                    glue.append(f)
        for read, path in OM_READS.items():
            if rng.random() < 0.2:
                om.append(dict(OM_FAULTS[rng.choice(kinds)], method="GET", path=path,
                               times=rng.choice([1, 2, 3, -1])))
        if rng.random() < 0.15:
            sts.append(dict(STS_FAULTS[rng.choice(kinds)], action="GetCallerIdentity",
                            times=rng.choice([1, 3, -1])))
        if rng.random() < 0.2:
            s3.append(dict(S3_FAULTS[rng.choice(kinds)], uri="s3://", times=rng.choice([1, 3, -1])))
        return glue, om, sts, s3

    def run_seeds(self):
        complete = self.before
        prev = self.before
        for seed in self.seeds:
            rng = random.Random(seed)
            glue, om, sts, s3 = self.random_faults(rng)
            self.s.glue.call("POST", "/__fake/config", {"faults": glue})
            self.s.om.call("POST", "/__fake/config", {"faults": om})
            self.sts.call("PUT", "/__fake/faults", sts)
            self.s3.call("POST", "/__fake/config", {"faults": s3})
            p = self.run_faulty()
            self.s.om.call("POST", "/__fake/config", {"faults": []})
            after = self.s.om.call("GET", "/__fake/dump")
            what = f"seed {seed} (glue {json.dumps(glue)}, om {json.dumps(om)}, sts {sts}, s3 {s3})"
            self.assertKept(prev, after, what)
            if p.returncode == 0:
                # a run that says success did everything a clean run does
                self.assertKept(complete, after, what + " reported success")
            prev = after


def _property_class(name, first, count):
    n = count if not harness.WRAPPER else max(1, count // 10)

    def test(self):
        self.run_seeds()
    test.__name__ = f"test_random_read_failures_seeds_{first}_to_{first + n - 1}"
    return type(name, (TestRandomFailures,), {"seeds": range(first, first + n), test.__name__: test})


# 200 seeded runs in four classes, which run side by side
TestRandomFailures1 = _property_class("TestRandomFailures1", 0, 50)
TestRandomFailures2 = _property_class("TestRandomFailures2", 50, 50)
TestRandomFailures3 = _property_class("TestRandomFailures3", 100, 50)
TestRandomFailures4 = _property_class("TestRandomFailures4", 150, 50)
del TestRandomFailures

if __name__ == "__main__":
    unittest.main()
