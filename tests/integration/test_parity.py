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
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import expect  # noqa: E402
import harness  # noqa: E402
# ParityCase lives in harness; importing it from here still works
from harness import BIN, SERVICE, ParityCase, lineage_block  # noqa: E402,F401


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

    def test_a_table_past_the_first_ten_hits_is_found(self):
        """A table in one of several dbServiceNames is searched for once
        across them all; when more tables match than the ten hits a search
        returns (here twelve in services not named, indexed first), it is
        searched for service by service, and found."""
        want = self.expected()
        table = next(e[0] for e in sorted(want) if e[0].count(".") == 3 and '"' not in e[0])
        rest = table.split(".", 1)[1]
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed",
                       {"tables": [f"zz_other_{k:02d}.{rest}" for k in range(12)]})
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        p = self.ingest(tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.edges(self.dump())
        self.assertEqual(got, want)
        self.assertTrue(any(table in (a, b) for a, b, _ in got))
        self.assertFalse(any("zz_other_" in a + b for a, b, _ in got))

    def test_override_lineage(self):
        first, second = self.estate["lineage_db_service_names"], \
            self.estate["lineage_db_service_names"][::-1]
        self.assertEqual(self.ingest(services=first, tags=False, owners=False).returncode, 0)
        # without override, edges of the earlier run stay beside the new ones
        self.assertEqual(self.ingest(services=second, tags=False, owners=False).returncode, 0)
        self.assertEqual(self.edges(self.dump()),
                         self.expected() | self.expected("lineage_expected_reversed"))
        # a person's own edges: one whose lineageDetails name a pipeline of the
        # connector (OpenMetadata's delete-by-source endpoint would remove it), one
        # without a pipeline
        manual = self.seed_manual_edges()
        # with override, the pipelines' lineage is exactly this run's; the
        # person's edges stay as they were
        p = self.ingest(services=second, override=True, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        self.assertEqual(self.edges(d), self.expected("lineage_expected_reversed") |
                         {(f, t, pipe) for f, t, pipe, _ in manual})
        self.assertEqual({(e["from"], e["to"], e["pipeline"], e["source"])
                          for e in d["lineageFqn"] if e["source"] == "Manual"}, set(manual))
        # the stale edges went one by one, never by source
        self.assertGreater(d["counts"].get(
            "DELETE /api/v1/lineage/{fromEntity}/{fromId}/{toEntity}/{toId}", 0), 0)
        self.assertNotIn("DELETE /api/v1/lineage/pipeline/{id}/type/{source}", d["counts"])
        self.assertIn("lineage edges it no longer has (overrideLineage)", p.stderr)
        # once in step, another override run removes nothing
        before = d["counts"].get("DELETE /api/v1/lineage/{fromEntity}/{fromId}/{toEntity}/{toId}")
        p = self.ingest(services=second, override=True, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        self.assertEqual(d["counts"].get(
            "DELETE /api/v1/lineage/{fromEntity}/{fromId}/{toEntity}/{toId}"), before)
        self.assertEqual(self.edges(d), self.expected("lineage_expected_reversed") |
                         {(f, t, pipe) for f, t, pipe, _ in manual})

    def seed_manual_edges(self):
        """Two edges between tables no edge joins yet, as a person draws them in
        the UI (source Manual): the first names a pipeline that has lineage."""
        d = self.dump()
        taken = {(e["from"], e["to"]) for e in d["lineageFqn"]} | \
            {(e["to"], e["from"]) for e in d["lineageFqn"]}
        pipe = sorted({e["pipeline"] for e in d["lineageFqn"] if e["pipeline"]})[0]
        tables = sorted(t if isinstance(t, str) else t["fqn"]
                        for t in self.estate["om_seed"]["tables"]
                        if isinstance(t, str) or not t.get("deleted"))
        pairs = [(a, b) for a in tables for b in tables if a != b and (a, b) not in taken]
        manual = [(pairs[0][0], pairs[0][1], pipe, "Manual"),
                  (pairs[-1][0], pairs[-1][1], None, "Manual")]
        self.s.om.call("POST", "/__fake/seed", {"lineage": [
            {"from": f, "to": t, "pipeline": pipe, "source": src} for f, t, pipe, src in manual]})
        self.assertEqual({(e["from"], e["to"], e["pipeline"], e["source"])
                          for e in self.dump()["lineageFqn"] if e["source"] == "Manual"},
                         set(manual))
        return manual

    def test_override_lineage_after_a_failed_read_removes_nothing(self):
        first, second = self.estate["lineage_db_service_names"], \
            self.estate["lineage_db_service_names"][::-1]
        self.assertEqual(self.ingest(services=first, tags=False, owners=False).returncode, 0)
        manual = self.seed_manual_edges()
        both = self.expected() | self.expected("lineage_expected_reversed") | \
            {(f, t, pipe) for f, t, pipe, _ in manual}
        # OpenMetadata cannot answer lineage reads: nothing is removed, the new
        # edges are added, the run warns and ends partialSuccess (exit 1)
        self.s.om.call("POST", "/__fake/config", {"faults": [
            {"method": "GET", "path": "^/api/v1/lineage/", "status": 500,
             "body": {"code": 500, "message": "lineage store unavailable"}, "times": -1}]})
        self.addCleanup(self.s.om.call, "POST", "/__fake/config", {"faults": []})
        p = self.ingest(services=second, override=True, tags=False, owners=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("reading its lineage in OpenMetadata failed, no earlier edge is removed "
                      "this run (overrideLineage): HTTP 500: lineage store unavailable", p.stderr)
        d = self.dump()
        self.assertEqual(self.edges(d), both)
        self.assertFalse([k for k in d["counts"] if k.startswith("DELETE /api/v1/lineage")])
        # once OpenMetadata answers again, the next run does the override
        self.s.om.call("POST", "/__fake/config", {"faults": []})
        p = self.ingest(services=second, override=True, tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.edges(self.dump()), self.expected("lineage_expected_reversed") |
                         {(f, t, pipe) for f, t, pipe, _ in manual})

    def test_an_older_servers_deleted_search_hits_are_skipped(self):
        """An older OpenMetadata ignores deleted=false on /search/fieldQuery (and
        size: up to 10 hits).  Every container then has a deleted twin with the same
        fullPath, and every table one in another database of its service, found
        first by the same queries: the lineage is what a current server gives."""
        seed = json.loads(json.dumps(self.estate["om_seed"]))
        twins = {"tables": [], "containers": []}
        for t in seed["tables"]:
            parts = (t if isinstance(t, str) else t["fqn"]).split(".")
            if len(parts) == 4 and '"' not in "".join(parts):
                twins["tables"].append({"fqn": f"{parts[0]}.{parts[1]}_gone.{parts[2]}."
                                               f"{parts[3]}", "deleted": True})
        for c in seed["containers"]:
            if c.get("fullPath") and '"' not in c["fqn"]:
                twins["containers"].append({"fqn": "s3_gone." + c["fqn"].split(".", 1)[1],
                                            "fullPath": c["fullPath"], "deleted": True})
        for k in twins:
            seed[k] = twins[k] + seed[k]        # found first: the index's order
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", seed)
        self.s.om.call("POST", "/__fake/config", {"search_ignores_deleted": True})
        self.addCleanup(self.s.om.call, "POST", "/__fake/config",
                        {"search_ignores_deleted": False})
        p = self.ingest(tags=False, owners=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        d = self.dump()
        self.assertEqual(self.edges(d), self.expected())
        gone = {e["id"] for k in ("tables", "containers") for e in d[k] if e["deleted"]}
        self.assertTrue(gone)
        self.assertFalse([e for e in d["lineage"] if e["fromEntity"]["id"] in gone or
                          e["toEntity"]["id"] in gone])

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

    def owners_by_pipeline(self):
        return {p["name"]: [(o["type"], o["name"]) for o in p.get("owners") or []]
                for p in self.dump()["pipelines"]}

    def test_a_new_pipeline_gets_its_owner_in_its_put(self):
        """The service's pipelines are listed first: a pipeline OpenMetadata
        does not have is created with its owner, and no PATCH follows the
        PUT.  When that listing fails, which pipelines exist is unknown: PUT
        then PATCH, and the same owners land."""
        users = {u["name"] for u in self.dump()["users"]}
        owned = [w["Name"] for w in self.estate["workflows"] if w["Tags"].get("owner") in users]
        self.assertTrue(owned)
        before = dict(self.dump()["counts"])
        p = self.ingest(lineage=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = self.dump()
        self.assertEqual(d["counts"].get("PATCH /api/v1/pipelines/{id}", 0) -
                         before.get("PATCH /api/v1/pipelines/{id}", 0), 0)
        with_put = self.owners_by_pipeline()
        self.assertEqual({n for n, o in with_put.items() if o}, set(owned))
        # the first listing fails (the one for markDeletedPipelines does not)
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        self.s.om.call("POST", "/__fake/config", {"faults": [
            {"method": "GET", "path": "^/api/v1/pipelines$", "status": 400, "times": 1}]})
        self.addCleanup(self.s.om.call, "POST", "/__fake/config", {"faults": []})
        p = self.ingest(lineage=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("listing the service's pipelines failed", p.stderr)
        self.assertEqual(self.dump()["counts"].get("PATCH /api/v1/pipelines/{id}", 0), len(owned))
        self.assertEqual(self.owners_by_pipeline(), with_put)

    def test_a_soft_deleted_pipeline_keeps_a_persons_owner(self):
        """A pipeline OpenMetadata holds soft-deleted is not new: the PUT
        that restores it carries no owner (a PUT's owners replace), so a
        person's owner stays, as with overrideMetadata false anywhere."""
        memo = os.path.join(self.tmp, "deleted.memo")
        self.assertEqual(self.ingest(lineage=False, args=["--state", memo]).returncode, 0)
        d = self.dump()
        wf = next(w for w in self.estate["workflows"]
                  if w["Tags"].get("owner") in {u["name"] for u in d["users"]})
        target = next(p for p in d["pipelines"] if p["name"] == wf["Name"])
        person = next(u for u in d["users"] if u["name"] != wf["Tags"]["owner"])
        self.s.om.call("POST", "/__fake/edit", {
            "fqn": target["fullyQualifiedName"],
            "owners": [{"type": "user", "name": person["name"]}]})
        req = urllib.request.Request(f"{self.s.om.url}/api/v1/pipelines/{target['id']}",
                                     method="DELETE",
                                     headers={"Authorization": f"Bearer {harness.JWT}"})
        urllib.request.urlopen(req, timeout=30).read()
        os.unlink(memo)                 # a run with no memo: it writes every pipeline
        p = self.ingest(lineage=False, args=["--state", memo])
        self.assertEqual(p.returncode, 0, p.stderr)
        now = next(x for x in self.dump()["pipelines"] if x["id"] == target["id"])
        self.assertFalse(now["deleted"])
        self.assertEqual([o["name"] for o in now["owners"]], [person["name"]])

    def test_account_from_the_environment(self):
        p = self.ingest(lineage=False, env=self.env(AWS_ACCOUNT_ID=self.estate["account"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.sts.call("GET", "/__fake/requests"), [])
        self.assertTrue(all(p.get("tags") for p in self.dump()["pipelines"]))

    def test_no_account_means_no_tags_but_the_run_goes_on(self):
        p = self.ingest(lineage=False, env=self.env(AWS_ENDPOINT_URL_STS="http://127.0.0.1:9/"))
        # the tags could not be read: a partial run, which says why
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("not ingesting Glue tags", p.stderr)
        self.assertIn("the AWS account id is unknown", p.stderr)
        d = self.dump()
        self.assertEqual(len(d["pipelines"]), len(self.estate["workflows"]))
        self.assertFalse(any(p.get("tags") for p in d["pipelines"]))

    def test_owner_by_email_and_team_and_unknown(self):
        self.owners_case()

    def test_owner_by_email_on_an_older_server_skips_a_deleted_user(self):
        """An older OpenMetadata's /search/fieldQuery ignores deleted=false: a
        deleted user with the same e-mail, found first, is not the owner."""
        seed = json.loads(json.dumps(self.estate["om_seed"]))
        u = seed["users"][0]
        seed["users"].insert(0, dict(u, name=u["name"] + "_gone", deleted=True))
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", seed)
        self.s.om.call("POST", "/__fake/config", {"search_ignores_deleted": True})
        self.addCleanup(self.s.om.call, "POST", "/__fake/config",
                        {"search_ignores_deleted": False})
        self.owners_case(users=[x for x in self.dump()["users"] if not x["deleted"]])

    def owners_case(self, users=None):
        estate = json.loads(json.dumps(self.estate))
        wf = estate["workflows"]
        d0 = self.dump()
        user = (users or d0["users"])[0]
        team = [t for t in d0["teams"] if t.get("teamType", "Group") == "Group"][0]
        wf[0]["Tags"]["owner"] = user["email"]
        wf[1]["Tags"]["owner"] = team["name"]
        wf[2]["Tags"]["owner"] = "nobody_at_all"
        tmp = tempfile.mkdtemp(dir=self.tmp)     # its own port file
        path = os.path.join(tmp, "estate-owners.json")
        with open(path, "w") as fh:
            json.dump(estate, fh)
        g = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_glue.py"),
                            "--estate", path, "--access-key", harness.AK,
                            "--secret-key", harness.SK, "--region", harness.REGION],
                           "glue-owners", 0, tmp)
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
    """Pipeline usage: per day, the task runs that started on it.  OpenMetadata's
    usage API adds a PUT's count to the day's stored count and replaces it with a
    POST's (the fake OpenMetadata does as the server does), so whatever runs are
    repeated or grow, what is stored must be Glue's count."""

    def glue_usage(self, estate=None):
        """What Glue says, computed from the estate (expect.usage)."""
        out = {}
        for w in (estate or self.estate)["workflows"]:
            days = expect.usage(w)
            if days:
                out[expect.fqn(SERVICE, w["Name"])] = days
        return out

    def stored(self):
        return {k: v for k, v in self.dump()["usage"].items() if v}

    def run_ok(self, **kw):
        p = self.ingest(lineage=False, tags=False, owners=False, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def use_estate(self, estate):
        """Glue holds estate until the test ends."""
        self.s.glue.call("POST", "/__fake/estate", estate)
        self.addCleanup(self.s.glue.call, "POST", "/__fake/estate", self.estate)

    def fresh_store(self):
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])

    def state_args(self, memo, name):
        return ["--state", os.path.join(tempfile.mkdtemp(dir=self.tmp), name)] if memo else []

    def test_daily_task_runs(self):
        self.run_ok()
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
        self.assertEqual(self.stored(), self.glue_usage())
        # and the percentiles are computed once, at the end, as OpenMetadata's sources ask
        self.assertEqual(len(d["percentileRuns"]), 1, d["percentileRuns"])
        self.assertEqual(d["counts"].get("POST /api/v1/usage/compute.percentile/pipeline/{date}"),
                         1)
        # usage is reported with POST (replace), never PUT (add)
        self.assertNotIn("PUT /api/v1/usage/pipeline/{id}", d["counts"])

    def test_repeated_runs_leave_glues_counts(self):
        for memo in (False, True):
            with self.subTest(memo=memo):
                self.fresh_store()
                args = self.state_args(memo, "repeat.memo")
                for _ in range(3):
                    self.run_ok(args=args)
                    self.assertEqual(self.stored(), self.glue_usage())

    def test_a_day_that_grew_is_replaced_not_added(self):
        # one more run of a workflow on the day of its newest run: that day's
        # count grows by the run's tasks
        grown = json.loads(json.dumps(self.estate))
        w = next(w for w in grown["workflows"] if expect.usage(w))
        newest = max(w["Runs"], key=lambda r: r["StartedOn"])
        again = json.loads(json.dumps(newest))
        again["WorkflowRunId"] += "_again"
        again["StartedOn"] += 0.001
        for n in again["Graph"]["Nodes"]:
            for jr in ((n.get("JobDetails") or {}).get("JobRuns") or []) + \
                    ((n.get("CrawlerDetails") or {}).get("Crawls") or []):
                for k in ("StartedOn", "CompletedOn"):
                    if k in jr:
                        jr[k] += 0.001
                if "Id" in jr:
                    jr["Id"] += "_again"
        w["Runs"].append(again)
        before, after = self.glue_usage(), self.glue_usage(grown)
        fqn = expect.fqn(SERVICE, w["Name"])
        self.assertTrue(any(after[fqn][day] > n for day, n in before[fqn].items()))
        for memo in (False, True):
            with self.subTest(memo=memo):
                self.fresh_store()
                self.s.glue.call("POST", "/__fake/estate", self.estate)
                args = self.state_args(memo, "grown.memo")
                self.run_ok(args=args)
                self.assertEqual(self.stored(), before)
                self.use_estate(grown)
                self.run_ok(args=args)
                self.assertEqual(self.stored(), after)
                self.run_ok(args=args)
                self.assertEqual(self.stored(), after)

    def test_the_oldest_day_of_the_window_keeps_its_whole_count(self):
        """statusLookbackDays 1 starts the window in the middle of a day: runs
        before the window's start on that day still count for it, and a later
        run with a shorter window does not replace the day's count with part
        of it."""
        now = time.time()
        cutoff = now - 86400
        midnight = cutoff - cutoff % 86400
        if cutoff - midnight < 1800 or midnight + 86400 - cutoff < 1800:
            self.skipTest("the window starts within 30 minutes of midnight UTC")
        est = json.loads(json.dumps(self.estate))
        w = next(w for w in est["workflows"] if expect.usage(w))
        template = max(w["Runs"], key=lambda r: r["StartedOn"])
        for i, t in enumerate((cutoff - 900, cutoff + 900)):     # either side of the start
            r = json.loads(json.dumps(template))
            r["WorkflowRunId"] += f"_edge{i}"
            shift = t - r["StartedOn"]
            r["StartedOn"] = t
            for n in r["Graph"]["Nodes"]:
                for jr in ((n.get("JobDetails") or {}).get("JobRuns") or []) + \
                        ((n.get("CrawlerDetails") or {}).get("Crawls") or []):
                    for k in ("StartedOn", "CompletedOn"):
                        if k in jr:
                            jr[k] = min(jr[k] + shift, t + 600)
                    if "Id" in jr:
                        jr["Id"] += f"_edge{i}"
            w["Runs"].append(r)
        self.use_estate(est)
        want = self.glue_usage(est)
        self.run_ok(lookback=3)
        self.assertEqual(self.stored(), want)
        p = self.run_ok(lookback=1)
        self.assertEqual(self.stored(), want)
        self.assertNotIn("usage not reported", p.stderr)
        # on a store that has no counts yet, the short window alone gives the
        # day its whole count too, and its statuses keep to the window
        self.fresh_store()
        self.run_ok(lookback=1)
        day = time.strftime("%Y-%m-%d", time.gmtime(cutoff))
        fqn = expect.fqn(SERVICE, w["Name"])
        self.assertEqual(self.stored()[fqn][day], want[fqn][day])
        pipe = next(x for x in self.dump()["pipelines"] if x["name"] == w["Name"])
        stamps = [s["timestamp"] for s in pipe["statuses"]]
        self.assertIn(int(round((cutoff + 900) * 1000)), stamps)
        self.assertNotIn(int(round((cutoff - 900) * 1000)), stamps)

    def test_runs_past_the_cap_leave_the_days_they_reach(self):
        """The newest 1000 runs of a workflow are read (the per-workflow cap):
        only the days from one day after the oldest run read on are whole and
        reported; the days before keep what they had (here: nothing)."""
        est = json.loads(json.dumps(self.estate))
        w = next(w for w in est["workflows"] if expect.usage(w))
        newest = max(w["Runs"], key=lambda r: r["StartedOn"])
        w["Runs"] = []
        for k in range(1010):                   # every 4 minutes, about 67 hours
            r = json.loads(json.dumps(newest))
            r["WorkflowRunId"] += f"_{k}"
            r["StartedOn"] -= k * 240
            for n in r["Graph"]["Nodes"]:
                for jr in ((n.get("JobDetails") or {}).get("JobRuns") or []) + \
                        ((n.get("CrawlerDetails") or {}).get("Crawls") or []):
                    for key in ("StartedOn", "CompletedOn"):
                        if key in jr:
                            jr[key] -= k * 240
                    if "Id" in jr:
                        jr["Id"] += f"_{k}"
            w["Runs"].append(r)
        self.use_estate(est)
        p = self.run_ok()
        self.assertIn(f"'{w['Name']}': keeping the newest 1000 runs", p.stderr)
        oldest = newest["StartedOn"] - 999 * 240
        first = time.strftime("%Y-%m-%d", time.gmtime(-(-(oldest + 86400) // 86400) * 86400))
        fqn = expect.fqn(SERVICE, w["Name"])
        want = self.glue_usage(est)
        want[fqn] = {d: n for d, n in want[fqn].items() if d >= first}
        self.assertTrue(want[fqn])
        self.assertEqual(self.stored(), want)

    def test_runs_not_all_read_replace_no_count(self):
        """A workflow whose runs take two pages; when the second page cannot be
        read, its stored counts stay as they were (the first page's runs alone
        would give smaller counts), the run says so and ends partialSuccess."""
        est = json.loads(json.dumps(self.estate))
        w = next(w for w in est["workflows"] if expect.usage(w))
        newest = max(w["Runs"], key=lambda r: r["StartedOn"])
        for k in range(1, 131):                 # every 10 minutes for a day before it
            r = json.loads(json.dumps(newest))
            r["WorkflowRunId"] += f"_{k}"
            r["StartedOn"] -= k * 600
            for n in r["Graph"]["Nodes"]:
                for jr in ((n.get("JobDetails") or {}).get("JobRuns") or []) + \
                        ((n.get("CrawlerDetails") or {}).get("Crawls") or []):
                    for key in ("StartedOn", "CompletedOn"):
                        if key in jr:
                            jr[key] -= k * 600
                    if "Id" in jr:
                        jr["Id"] += f"_{k}"
            w["Runs"].append(r)
        self.use_estate(est)
        self.run_ok()
        full = self.stored()
        self.assertEqual(full, self.glue_usage(est))
        fqn = expect.fqn(SERVICE, w["Name"])
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "GetWorkflowRuns", "name": w["Name"], "page": 2, "status": 400,
             "error": "AccessDeniedException", "message": "not allowed", "times": -1}]})
        self.addCleanup(self.s.glue.call, "POST", "/__fake/config", {"faults": []})
        self.s.om.call("POST", "/__fake/reset")
        self.s.om.call("POST", "/__fake/seed", self.estate["om_seed"])
        p = self.ingest(lineage=False, tags=False, owners=False)
        got = self.stored()
        self.assertNotIn(fqn, got)                      # nothing from part of the runs
        self.assertEqual(got, {k: v for k, v in full.items() if k != fqn})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(f"'{w['Name']}': pipeline usage not reported this run", p.stderr)
        self.assertIn("AccessDeniedException", p.stderr)
        # and over a store that has the counts, they stay
        self.s.glue.call("POST", "/__fake/config", {"faults": []})
        self.run_ok()
        self.assertEqual(self.stored(), full)
        self.s.glue.call("POST", "/__fake/config", {"faults": [
            {"op": "GetWorkflowRuns", "name": w["Name"], "page": 2, "status": 400,
             "error": "AccessDeniedException", "message": "not allowed", "times": -1}]})
        p = self.ingest(lineage=False, tags=False, owners=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(self.stored(), full)


if __name__ == "__main__":
    unittest.main()
