"""Incremental runs: with --state FILE (the daemon keeps one per workflow
in state_dir) a run on an unchanged estate writes nothing to OpenMetadata;
a changed graph, a new run, a lost state, a switch or an OpenMetadata that
lost its data are each handled as a user would expect."""
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
WRITES = ("PUT ", "POST ", "PATCH ", "DELETE ")


class TestIncremental(unittest.TestCase):
    workflows = 10

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-it-", cls.workflows, seed=31, extra=["--lineage"])
        cls.s3 = harness.class_server(cls, harness.fake_s3_argv(cls.estate_path), "s3")

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        self.state = os.path.join(tempfile.mkdtemp(dir=self.tmp), "wf.memo")

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_EC2_METADATA_DISABLED="true", HOME=self.tmp,
                   AWS_ACCOUNT_ID=self.estate["account"], AWS_ENDPOINT_URL_S3=self.s3.url)
        return env

    def ingest(self, glue=None, extra=(), override_lineage=False, lookback=3):
        services = json.dumps(self.estate["lineage_db_service_names"])
        block = (f"      lineageInformation:\n        dbServiceNames: {services}" +
                 ("\n      overrideLineage: true" if override_lineage else ""))
        old = self.s.glue
        if glue:
            self.s.glue = glue
        try:
            text = harness.workflow_yaml(self.s, lookback=lookback, lineage=True, tags=True,
                                         owners=True, extra_source=block)
        finally:
            self.s.glue = old
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        before = self.writes()
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path, "--state", self.state] +
                                  list(extra), env=self.env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p.writes = self.writes() - before
        self.assertEqual(self.s.dump()["rejected"], [])
        return p

    def writes(self):
        counts = self.s.dump()["counts"]
        return sum(v for k, v in counts.items() if k.startswith(WRITES))

    def landed(self):
        d = self.s.dump()
        pipes = {p["name"]: (p["tasks"], sorted(t["tagFQN"] for t in p.get("tags") or []),
                             [o["name"] for o in p.get("owners") or []],
                             [json.dumps(s, sort_keys=True) for s in p["statuses"]])
                 for p in d["pipelines"] if not p["deleted"]}
        edges = sorted((e["from"], e["to"], e["pipeline"]) for e in d["lineageFqn"])
        return pipes, edges, d["usage"]

    def glue_with(self, change):
        estate = json.loads(json.dumps(self.estate))
        change(estate)
        path = os.path.join(tempfile.mkdtemp(dir=self.tmp), "estate.json")
        with open(path, "w") as fh:
            json.dump(estate, fh)
        g = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_glue.py"),
                            "--estate", path, "--access-key", harness.AK,
                            "--secret-key", harness.SK, "--region", harness.REGION],
                           "glue-changed", 0, os.path.dirname(path))   # its own port file
        self.addCleanup(g.stop)
        return g

    def test_unchanged_estate_writes_nothing(self):
        first = self.ingest()
        self.assertGreater(first.writes, 100)
        self.assertTrue(os.path.exists(self.state))
        want = self.landed()
        again = self.ingest()
        self.assertEqual(again.writes, 0, again.stdout)
        self.assertIn(f"Unchanged since the last run, not written again: {self.workflows} "
                      f"pipelines", again.stdout)
        # the runs of workflows whose every run had ended were not even read
        finished = sum(1 for w in self.estate["workflows"]
                       if all(r.get("Status") not in ("RUNNING", "STOPPING")
                              for r in w["Runs"]))
        self.assertIn(f"(runs of {finished} workflows not read again)", again.stdout)
        self.assertEqual(self.landed(), want)

    def test_changed_graph_and_new_run_are_written(self):
        self.ingest()
        name = self.estate["workflows"][3]["Name"]

        def change(estate):
            w = estate["workflows"][3]
            trig = next(n for n in w["Graph"]["Nodes"] if n["Type"] == "TRIGGER")
            trig["Name"] = trig["Name"] + "_renamed"
            for r in w["Runs"]:
                for n in r["Graph"]["Nodes"]:
                    if n["UniqueId"] == trig["UniqueId"]:
                        n["Name"] = trig["Name"]
            w5 = estate["workflows"][5]
            newest = json.loads(json.dumps(w5["Runs"][0]))
            newest["WorkflowRunId"] += "_new"
            newest["StartedOn"] += 60
            if "CompletedOn" in newest:
                newest["CompletedOn"] += 60
            w5["Runs"].insert(0, newest)
        p = self.ingest(glue=self.glue_with(change))
        counts = self.s.dump()["counts"]
        self.assertIn(f"pipelines written: 1;", p.stdout)
        self.assertGreaterEqual(counts.get("PUT /api/v1/pipelines/{fqn}/status", 0), 1)
        tasks = {p["name"]: [t["name"] for t in p["tasks"]] for p in self.s.dump()["pipelines"]}
        self.assertTrue(any(t.endswith("_renamed") for t in tasks[name]))

    def test_lost_or_foreign_state_means_a_full_run(self):
        self.ingest()
        want = self.landed()
        os.unlink(self.state)
        p = self.ingest()
        self.assertIn("full run: no usable record of the last run", p.stderr)
        self.assertGreater(p.writes, 0)
        with open(self.state, "w") as fh:
            fh.write('{"memo": 1, "settings": "x", "entries": {"a": 1}')     # torn
        p = self.ingest()
        self.assertIn("full run", p.stderr)
        self.assertEqual(self.landed(), want)
        # a changed workflow file (here the lookback) is a full run too
        p = self.ingest(lookback=4)
        self.assertIn("the workflow file changed since", p.stderr)

    def test_full_switch(self):
        self.ingest()
        p = self.ingest(extra=["--full"])
        self.assertGreater(p.writes, 100)
        self.assertNotIn("Unchanged since", p.stdout)

    def test_openmetadata_that_lost_its_data_gets_everything_again(self):
        self.ingest()
        want = self.landed()
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        self.ingest()
        got = self.landed()
        self.assertEqual({k: v[3] for k, v in got[0].items()}, {k: v[3] for k, v in want[0].items()})
        self.assertEqual(got[1], want[1])
        self.assertEqual(got[2], want[2])

    def test_vanished_workflow_marked_deleted_from_one_listing(self):
        self.ingest()
        gone = self.estate["workflows"][2]["Name"]

        def change(estate):
            del estate["workflows"][2]
        before = self.s.dump()["counts"]
        p = self.ingest(glue=self.glue_with(change))
        after = self.s.dump()["counts"]

        def delta(k):
            return after.get(k, 0) - before.get(k, 0)
        self.assertIn("pipelines marked deleted: 1", p.stdout)
        self.assertEqual(delta("DELETE /api/v1/pipelines/{id}"), 1)
        deleted = [x["name"] for x in self.s.dump()["pipelines"] if x["deleted"]]
        self.assertEqual(deleted, [gone])
        # the listing read for sourceHash served markDeletedPipelines too
        self.assertEqual(delta("GET /api/v1/pipelines"), 1)
        self.assertIn("pipelines written: 0;", p.stdout)

    def test_override_lineage_unchanged_deletes_nothing(self):
        self.ingest(override_lineage=True)
        p = self.ingest(override_lineage=True)
        self.assertEqual(p.writes, 0, p.stdout)


if __name__ == "__main__":
    unittest.main()
