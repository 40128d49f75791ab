"""Connector parity and beyond: lineage from Visual-ETL nodes and from job
scripts in S3, Glue tags and owners, overrideMetadata/overrideLineage and
usage, against a seeded estate (gen_estate.py --lineage) whose expected
lineage the generator computed from what it put in.  The fake
OpenMetadata validates every body against the 1.13 schemas, refuses
unknown tags, owners and lineage ends; fake Glue, STS and S3 verify SigV4
and the service models."""
import collections
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
SERVICE = "glue_it"


def lineage_block(services, override=False, override_metadata=False):
    lines = ["      lineageInformation:",
             "        dbServiceNames: " + json.dumps(services),
             "        storageServiceNames: [\"s3_prod\"]"]
    if override:
        lines.append("      overrideLineage: true")
    if override_metadata:
        lines.append("      overrideMetadata: true")
    return "\n".join(lines)


class ParityCase(unittest.TestCase):
    workflows = 12

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gm-it-")
        cls.estate_path = os.path.join(cls.tmp, "estate.json")
        cls.estate = harness.gen_estate(cls.estate_path, cls.workflows, seed=21,
                                        extra=["--lineage"])
        # a tag OpenMetadata cannot name as it is
        cls.estate["workflows"][0]["Tags"]["cost.center"] = "eu:west"
        with open(cls.estate_path, "w") as fh:
            json.dump(cls.estate, fh)
        cls.s = harness.Standins(cls.estate_path, tmp=cls.tmp)
        cls.sts = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_sts.py"),
                                  "--region", harness.REGION, "--base-access-key", harness.AK,
                                  "--base-secret-key", harness.SK,
                                  "--role-arn", "arn:aws:iam::123456789012:role/unused",
                                  "--access-key", "ASIAUNUSEDUNUSED0001", "--secret-key", "x",
                                  "--session-token", "y",
                                  "--account", cls.estate["account"]], "sts", 0, cls.tmp)
        cls.s3 = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_s3.py"),
                                 "--estate", cls.estate_path, "--region", harness.REGION,
                                 "--access-key", harness.AK, "--secret-key", harness.SK],
                                "s3", 0, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.s3.stop()
        cls.sts.stop()
        cls.s.stop()

    def setUp(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        self.sts.call("PUT", "/__fake/reset")
        self.s3.call("POST", "/__fake/reset")

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_EC2_METADATA_DISABLED="true", HOME=self.tmp,
                   AWS_ENDPOINT_URL_STS=self.sts.url + "/", AWS_ENDPOINT_URL_S3=self.s3.url)
        env.update(kw)
        return env

    def ingest(self, services=None, override=False, override_metadata=False, lineage=True,
               tags=True, owners=True, env=None, name="wf.yaml"):
        services = self.estate["lineage_db_service_names"] if services is None else services
        text = harness.workflow_yaml(self.s, service=SERVICE, lookback=3, lineage=lineage,
                                     tags=tags, owners=owners,
                                     extra_source=lineage_block(services, override,
                                                                override_metadata))
        path = os.path.join(self.tmp, name)
        with open(path, "w") as fh:
            fh.write(text)
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path], env=env or self.env())
        self.assertNotIn("AddressSanitizer", p.stderr)
        return p

    def dump(self):
        d = self.s.dump()
        self.assertEqual(d["rejected"], [], "the fake OpenMetadata refused requests")
        return d

    def edges(self, d):
        return {(e["from"], e["to"], e["pipeline"]) for e in d["lineageFqn"]}

    def expected(self, key="lineage_expected"):
        """The generator's expectation (OpenMetadata's connector), with one
        documented difference: the database of a JDBC connector node is
        read from its Glue connection's JDBC URL (the connector leaves it
        unknown and takes the first service holding a table of that name)."""
        order = self.estate["lineage_db_service_names"]
        if key.endswith("_reversed"):
            order = order[::-1]
        tables = [t if isinstance(t, str) else t["fqn"] for t in self.estate["om_seed"]["tables"]]
        conn_db = {}
        for name, c in self.estate.get("connections", {}).items():
            url = c.get("ConnectionProperties", {}).get("JDBC_CONNECTION_URL", "")
            conn_db[name] = url.rsplit("/", 1)[-1].split("?")[0] if "/" in url else None
        fix = {}
        for jname, job in self.estate["jobs"].items():
            for node in (job.get("CodeGenConfigurationNodes") or {}).values():
                for kind, body in node.items():
                    if not kind.startswith("JDBCConnector") or not conn_db.get(
                            body.get("ConnectionName")):
                        continue
                    db, t = conn_db[body["ConnectionName"]], body["ConnectionTable"]
                    schema = body.get("SchemaName")
                    for svc in order:
                        hit = [x for x in tables if x.split(".")[:2] == [svc, db] and
                               x.split(".")[3] == t and (not schema or x.split(".")[2] == schema)]
                        if hit:
                            fix[(jname, t)] = hit[0]
                            break
        out = set()
        for e in self.estate[key]:
            ends = []
            for end in ("from_fqn", "to_fqn"):
                v = e[end]
                if e[end.replace("fqn", "type")] == "table":
                    v = fix.get((e["job"], v.split(".")[-1]), v)
                ends.append(v)
            out.add((ends[0], ends[1], f"{SERVICE}.{e['workflow']}"))
        return out


class TestLineage(ParityCase):
    def test_edges_from_nodes_and_scripts(self):
        p = self.ingest(tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        got, want = self.edges(d), self.expected()
        self.assertTrue(want, "the estate has lineage")
        self.assertEqual(got - want, set(), "edges nobody asked for")
        self.assertEqual(want - got, set(), "expected edges missing")
        for e in d["lineageFqn"]:
            self.assertEqual(e["source"], "PipelineLineage")
        # both kinds of ends, both kinds of material
        self.assertEqual({e["fromType"] for e in d["lineageFqn"]} |
                         {e["toType"] for e in d["lineageFqn"]}, {"table", "container"})
        # what cannot be resolved is a warning naming it, not an error
        self.assertIn("Total errors: 0", p.stdout + p.stderr)
        unresolved = self.estate["lineage_unresolved"]
        self.assertTrue(unresolved)
        text = p.stdout + p.stderr
        for u in unresolved:
            ref = u["ref"]
            name = ref.get("table") or ref.get("paths", [""])[0]
            self.assertIn(name.rstrip("/"), text)
        # scripts were fetched signed from S3, connections from Glue
        s3 = self.s3.call("GET", "/__fake/requests")
        self.assertTrue(any(r.get("ok") for r in s3), s3)
        self.assertFalse([r for r in s3 if r.get("code") in ("SignatureDoesNotMatch",
                                                            "AccessDenied")], s3)
        g = self.s.glue_stats()
        self.assertGreater(g["counts"].get("GetConnection", 0), 0)
        self.assertGreater(g["counts"].get("BatchGetJobs", 0), 0)
        self.assertEqual(g["rejected"], [])

    def test_db_service_names_are_tried_in_order(self):
        p = self.ingest(services=self.estate["lineage_db_service_names"][::-1],
                        tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.edges(self.dump()), self.expected("lineage_expected_reversed"))
        self.assertNotEqual(self.expected("lineage_expected_reversed"), self.expected())

    def test_override_lineage(self):
        first, second = self.estate["lineage_db_service_names"], \
            self.estate["lineage_db_service_names"][::-1]
        self.assertEqual(self.ingest(services=first, tags=False, owners=False).returncode, 0)
        # without override, edges of the earlier run stay beside the new ones
        self.assertEqual(self.ingest(services=second, tags=False, owners=False).returncode, 0)
        self.assertEqual(self.edges(self.dump()),
                         self.expected() | self.expected("lineage_expected_reversed"))
        # with override, the pipelines' lineage is exactly this run's
        p = self.ingest(services=second, override=True, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.edges(self.dump()), self.expected("lineage_expected_reversed"))

    def test_lineage_off(self):
        p = self.ingest(lineage=False, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.dump()["lineageFqn"], [])
        self.assertEqual(self.s3.call("GET", "/__fake/requests"), [])


class TestTagsOwners(ParityCase):
    def pipelines(self, d):
        return {p["name"]: p for p in d["pipelines"]}

    def test_tags_and_owners(self):
        p = self.ingest(lineage=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        pipes = self.pipelines(d)
        users = {u["name"]: u for u in d["users"]}
        for w in self.estate["workflows"]:
            got = {t["tagFQN"] for t in pipes[w["Name"]].get("tags", [])}
            want = set()
            for k, v in w["Tags"].items():
                want.add(f"GlueTags.{k.replace('.', '_')}.{v.replace(':', '_')}"
                         if v else f"GlueTags.{k}")
            self.assertEqual(got, want, w["Name"])
            owner = w["Tags"].get("owner")
            owners = pipes[w["Name"]].get("owners") or []
            if owner in users:
                self.assertEqual([(o["type"], o["name"]) for o in owners], [("user", owner)])
            else:
                self.assertEqual(owners, [], w["Name"])
        self.assertIn("GlueTags", [c["name"] for c in d["classifications"]])
        # the odd tag was renamed predictably, and said so
        self.assertIn("cost.center", p.stderr)
        self.assertIn("GlueTags.cost_center.eu_west", p.stderr)
        # one GetCallerIdentity for the whole run
        calls = [r for r in self.sts.call("GET", "/__fake/requests")
                 if r.get("Action") == "GetCallerIdentity"]
        self.assertEqual(len(calls), 1, calls)

    def test_account_from_the_environment(self):
        p = self.ingest(lineage=False, env=self.env(AWS_ACCOUNT_ID=self.estate["account"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.sts.call("GET", "/__fake/requests"), [])
        self.assertTrue(all(p.get("tags") for p in self.dump()["pipelines"]))

    def test_no_account_means_no_tags_but_the_run_goes_on(self):
        p = self.ingest(lineage=False, env=self.env(AWS_ENDPOINT_URL_STS="http://127.0.0.1:9/"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("not ingesting Glue tags", p.stderr)
        d = self.dump()
        self.assertEqual(len(d["pipelines"]), len(self.estate["workflows"]))
        self.assertFalse(any(p.get("tags") for p in d["pipelines"]))

    def test_owner_by_email_and_team_and_unknown(self):
        estate = json.loads(json.dumps(self.estate))
        wf = estate["workflows"]
        d0 = self.dump()
        user = d0["users"][0]
        team = [t for t in d0["teams"] if t.get("teamType", "Group") == "Group"][0]
        wf[0]["Tags"]["owner"] = user["email"]
        wf[1]["Tags"]["owner"] = team["name"]
        wf[2]["Tags"]["owner"] = "nobody_at_all"
        path = os.path.join(self.tmp, "estate-owners.json")
        with open(path, "w") as fh:
            json.dump(estate, fh)
        g = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_glue.py"),
                            "--estate", path, "--access-key", harness.AK,
                            "--secret-key", harness.SK, "--region", harness.REGION],
                           "glue-owners", 0, self.tmp)
        self.addCleanup(g.stop)
        old = self.s.glue
        self.s.glue = g
        try:
            p = self.ingest(lineage=False, tags=False)
        finally:
            self.s.glue = old
        self.assertEqual(p.returncode, 0, p.stderr)
        pipes = self.pipelines(self.dump())
        self.assertEqual([(o["type"], o["name"]) for o in pipes[wf[0]["Name"]]["owners"]],
                         [("user", user["name"])])
        self.assertEqual([(o["type"], o["name"]) for o in pipes[wf[1]["Name"]]["owners"]],
                         [("team", team["name"])])
        self.assertFalse(pipes[wf[2]["Name"]].get("owners"))
        self.assertIn("nobody_at_all", p.stderr)


class TestOverrideMetadata(ParityCase):
    def test_a_persons_edits_survive_unless_overridden(self):
        self.assertEqual(self.ingest(lineage=False).returncode, 0)
        d = self.dump()
        target = d["pipelines"][0]
        fqn = target["fullyQualifiedName"]
        wf = next(w for w in self.estate["workflows"] if w["Name"] == target["name"])
        person = next(u for u in d["users"] if u["name"] != wf["Tags"].get("owner"))
        self.s.om.call("POST", "/__fake/edit", {
            "fqn": fqn, "description": "Curated by a person",
            "owners": [{"type": "user", "name": person["name"]}]})
        # overrideMetadata false: the person's description and owner stay
        p = self.ingest(lineage=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        now = next(x for x in self.dump()["pipelines"] if x["fullyQualifiedName"] == fqn)
        self.assertEqual(now["description"], "Curated by a person")
        self.assertEqual([o["name"] for o in now["owners"]], [person["name"]])
        self.assertTrue({t["tagFQN"] for t in now["tags"]} >=
                        {f"GlueTags.team.{wf['Tags']['team']}"})
        # overrideMetadata true: the source wins
        p = self.ingest(lineage=False, override_metadata=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        now = next(x for x in self.dump()["pipelines"] if x["fullyQualifiedName"] == fqn)
        self.assertEqual(now["description"], wf["Description"])
        self.assertEqual([o["name"] for o in now["owners"]], [wf["Tags"]["owner"]])

    def test_a_glue_tag_removed_leaves_and_other_tags_stay(self):
        self.assertEqual(self.ingest(lineage=False).returncode, 0)
        d = self.dump()
        target = d["pipelines"][0]
        fqn = target["fullyQualifiedName"]
        seeded = [t["fullyQualifiedName"] for t in d["tags"]
                  if not t["fullyQualifiedName"].startswith("GlueTags.")]
        self.assertTrue(seeded, "the seed has tags of other classifications")
        kept = [t["tagFQN"] for t in target["tags"]] + [seeded[0]]
        self.s.om.call("POST", "/__fake/edit", {"fqn": fqn, "tags": kept})
        wf = next(w for w in self.estate["workflows"] if w["Name"] == target["name"])
        estate = json.loads(json.dumps(self.estate))
        w2 = next(w for w in estate["workflows"] if w["Name"] == target["name"])
        del w2["Tags"]["team"]
        path = os.path.join(self.tmp, "estate-untagged.json")
        with open(path, "w") as fh:
            json.dump(estate, fh)
        g = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_glue.py"),
                            "--estate", path, "--access-key", harness.AK,
                            "--secret-key", harness.SK, "--region", harness.REGION],
                           "glue-untagged", 0, self.tmp)
        self.addCleanup(g.stop)
        old = self.s.glue
        self.s.glue = g
        try:
            p = self.ingest(lineage=False)
        finally:
            self.s.glue = old
        self.assertEqual(p.returncode, 0, p.stderr)
        now = next(x for x in self.dump()["pipelines"] if x["fullyQualifiedName"] == fqn)
        tags = {t["tagFQN"] for t in now["tags"]}
        self.assertNotIn(f"GlueTags.team.{wf['Tags']['team']}", tags)
        self.assertIn(seeded[0], tags)
        self.assertIn(f"GlueTags.owner.{wf['Tags']['owner']}", tags)


class TestUsage(ParityCase):
    def test_daily_task_runs(self):
        p = self.ingest(lineage=False, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        import datetime
        for pipe in d["pipelines"]:
            want = collections.Counter()
            for st in pipe["statuses"]:
                for t in st.get("taskStatus") or []:
                    if "startTime" in t:
                        day = datetime.datetime.fromtimestamp(
                            t["startTime"] / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")
                        want[day] += 1
            self.assertEqual(d["usage"].get(pipe["fullyQualifiedName"], {}), dict(want),
                             pipe["name"])
        self.assertTrue(any(d["usage"].values()))
        # and the percentiles are computed once, at the end, as OpenMetadata's sources ask
        self.assertEqual(len(d["percentileRuns"]), 1, d["percentileRuns"])
        # a second run reports the same counts, not twice them
        self.assertEqual(self.ingest(lineage=False, tags=False, owners=False).returncode, 0)
        self.assertEqual(self.dump()["usage"], d["usage"])


if __name__ == "__main__":
    unittest.main()
