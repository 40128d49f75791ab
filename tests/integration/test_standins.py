"""The stand-ins hold themselves to the specifications: the fake Glue's
SigV4 verifier reproduces AWS's official suite and the derived vectors, it
rejects what AWS rejects, and the fake OpenMetadata rejects bodies the
official schemas reject.  Likewise for the catalog side of the fake
OpenMetadata (search, tags, owners, usage, lineage), Glue's GetConnection,
STS's GetCallerIdentity, the fake S3, the lineage estate, the fake SQS
and the fake Glue's add_run."""
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness

SHARED = os.environ.get("GLUEMETAD_SHARED", "../shared")
sys.path.insert(0, harness.STANDINS)
import sigv4_verify  # noqa: E402


def read_req(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    first = lines[0]
    method, rest = first.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    path_, _, query = target.partition("?")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        else:
            k, _, v = line.partition(":")
            headers.append((k, v))
    return method, path_, query, headers, body


def cases(root):
    for d, _, files in os.walk(root):
        name = os.path.basename(d)
        if name + ".req" in files:
            yield d, name


class TestSigV4Verifier(unittest.TestCase):
    def check(self, root, derived):
        n = 0
        for d, name in sorted(cases(root)):
            method, path, query, headers, body = read_req(os.path.join(d, name + ".req"))
            region, service = "us-east-1", "service"
            ak, sk = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            if derived:
                with open(os.path.join(d, name + ".json")) as fh:
                    meta = json.load(fh)
                region, service, ak, sk = (meta["region"], meta["service"], meta["access_key"],
                                           meta["secret_key"])
            elif name == "get-vanilla-with-session-token":
                with open(os.path.join(d, name + ".creq")) as fh:
                    tok = [x for x in fh.read().split("\n")
                           if x.startswith("x-amz-security-token:")][0].split(":", 1)[1]
                headers.append(("X-Amz-Security-Token", tok))
            date = dict((k.lower(), v) for k, v in headers)["x-amz-date"]
            creq, sts, auth = sigv4_verify.sign(method, path, query, headers, body, ak, sk,
                                                region, service, date)
            for ext, got in (("creq", creq), ("sts", sts), ("authz", auth)):
                with open(os.path.join(d, f"{name}.{ext}"), encoding="utf-8") as fh:
                    self.assertEqual(got, fh.read(), f"{name}.{ext}")
            n += 1
        return n

    def test_official_suite(self):
        self.assertEqual(self.check(os.path.join(SHARED, "aws-sigv4-testsuite"), False), 34)

    def test_derived_vectors(self):
        self.assertEqual(self.check(os.path.join(SHARED, "aws-sigv4-derived"), True), 13)


class TestFakeGlueRejects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-sa-", 60, seed=3)

    def call(self, op, body, secret=harness.SK, key=harness.AK, date=None, ctype=None,
             sign_target=True, region=harness.REGION):
        data = json.dumps(body).encode()
        date = date or datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        host = f"127.0.0.1:{self.s.glue.port}"
        headers = [("Host", host), ("X-Amz-Date", date),
                   ("Content-Type", ctype or "application/x-amz-json-1.1"),
                   ("X-Amz-Target", "AWSGlue." + op)]
        signed = None if sign_target else {"host", "x-amz-date", "content-type"}
        _, _, auth = sigv4_verify.sign("POST", "/", "", headers, data, key, secret, region,
                                       "glue", date, signed)
        req = urllib.request.Request(self.s.glue.url + "/", data=data, method="POST")
        for k, v in headers[1:]:
            req.add_header(k, v)
        req.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_accepts_signed_request_and_pages(self):
        seen, token, pages = [], None, 0
        while True:
            body = {"MaxResults": 25}
            if token:
                body["NextToken"] = token
            status, out = self.call("ListWorkflows", body)
            self.assertEqual(status, 200, out)
            seen += out["Workflows"]
            pages += 1
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), 60)
        self.assertEqual(len(set(seen)), 60)

    def test_rejections(self):
        old = (datetime.datetime.utcnow() - datetime.timedelta(minutes=20)).strftime(
            "%Y%m%dT%H%M%SZ")
        for what, kw, body, code in [
            ("wrong secret", {"secret": "nope"}, {}, "InvalidSignatureException"),
            ("unknown key", {"key": "AKIAUNKNOWN"}, {}, "UnrecognizedClientException"),
            ("stale date", {"date": old}, {}, "InvalidSignatureException"),
            ("wrong region", {"region": "us-east-1"}, {}, "InvalidSignatureException"),
            ("target not signed", {"sign_target": False}, {}, "InvalidSignatureException"),
            ("wrong content type", {"ctype": "application/json"}, {}, "SerializationException"),
            ("unknown member", {}, {"MaxResult": 5}, "ValidationException"),
            ("MaxResults 26", {}, {"MaxResults": 26}, "ValidationException"),
            ("MaxResults string", {}, {"MaxResults": "5"}, "ValidationException"),
            ("forged token", {}, {"NextToken": "AAAA"}, "InvalidInputException"),
        ]:
            with self.subTest(what):
                status, out = self.call("ListWorkflows", body, **kw)
                self.assertEqual(status, 400, out)
                self.assertEqual(out["__type"], code, out)
        status, out = self.call("BatchGetWorkflows", {"Names": [f"n{i}" for i in range(26)]})
        self.assertEqual(out["__type"], "ValidationException")
        status, out = self.call("GetWorkflow", {"IncludeGraph": True})
        self.assertEqual(out["__type"], "ValidationException")


class TestFakeOpenMetadataRejects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-so-", 1)

    def put(self, path, body, token=harness.JWT):
        req = urllib.request.Request(self.s.om.url + path, data=json.dumps(body).encode(),
                                     method="PUT", headers={"Content-Type": "application/json",
                                                            "Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def test_schema_and_auth(self):
        st, _ = self.put("/api/v1/services/pipelineServices",
                         {"name": "s", "serviceType": "GluePipeline"}, token="x")
        self.assertEqual(st, 401)
        st, _ = self.put("/api/v1/services/pipelineServices",
                         {"name": "s", "serviceType": "NotAType"})
        self.assertEqual(st, 400)
        st, _ = self.put("/api/v1/services/pipelineServices",
                         {"name": "s", "serviceType": "GluePipeline"})
        self.assertEqual(st, 201)
        st, _ = self.put("/api/v1/pipelines", {"service": "s"})
        self.assertEqual(st, 400)
        st, _ = self.put("/api/v1/pipelines", {"name": "p.q", "service": "s", "bogus": 1})
        self.assertEqual(st, 400)
        st, p = self.put("/api/v1/pipelines", {"name": "p.q", "service": "s",
                                               "tasks": [{"name": "t"}]})
        self.assertEqual(st, 201)
        self.assertEqual(p["fullyQualifiedName"], 's."p.q"')
        st, _ = self.put('/api/v1/pipelines/s.%22p.q%22/status',
                         {"timestamp": 1, "executionStatus": "Done"})
        self.assertEqual(st, 400)
        st, _ = self.put('/api/v1/pipelines/s.%22p.q%22/status',
                         {"timestamp": 1, "executionStatus": "Failed",
                          "taskStatus": [{"name": "nope", "executionStatus": "Failed"}]})
        self.assertEqual(st, 400)
        st, _ = self.put('/api/v1/pipelines/s.%22p.q%22/status',
                         {"timestamp": 1, "executionStatus": "Failed",
                          "taskStatus": [{"name": "t", "executionStatus": "Failed"}]})
        self.assertEqual(st, 200)
        d = self.s.dump()
        self.assertEqual(len(d["rejected"]), 5)


def http(url, method="GET", body=None, headers=(), raw=False):
    """(status, parsed JSON or raw bytes, headers) for a request to a stand-in."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in headers:
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, out, hdrs = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, out, hdrs = e.code, e.read(), e.headers
    if raw:
        return status, out, hdrs
    return status, (json.loads(out) if out else None), hdrs


def amz_now():
    return datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")


class TestFakeOpenMetadataCatalog(unittest.TestCase):
    """Tables, containers, users, teams, search, classifications and tags, owners
    and tags on pipelines, usage, lineage between tables/containers."""

    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-sc-")
        cls.om = harness.class_server(cls, [harness.PY, os.path.join(harness.STANDINS, "fake_om.py"),
                                            "--token", harness.JWT], "om")

    def setUp(self):
        self.om.call("POST", "/__fake/reset")
        self.om.call("POST", "/__fake/seed", {
            "tables": ["redshift_prod.salesdb.public.orders", "pg_prod.salesdb.public.orders",
                       "pg_prod.crm.public.Contacts", 'pg_prod.dw."odd.schema".t1',
                       {"fqn": "pg_prod.crm.public.gone", "deleted": True}],
            "containers": [{"fqn": "s3_prod.lake", "fullPath": "s3://lake"},
                           {"fqn": "s3_prod.lake.raw", "fullPath": "s3://lake/raw/"}],
            "users": [{"name": "alice", "email": "alice@example.com"}],
            "teams": ["data_eng", {"name": "Org", "teamType": "Organization"}],
            "tags": ["PII.Sensitive", "Tier.Tier1"]})

    def api(self, method, path, body=None, ctype="application/json"):
        st, out, _ = http(self.om.url + path, method, body,
                          [("Authorization", "Bearer " + harness.JWT), ("Content-Type", ctype)])
        return st, out

    def rejected(self):
        return self.om.call("GET", "/__fake/dump")["rejected"]

    def search(self, index, field, value, deleted="false"):
        q = urllib.parse.urlencode({"fieldName": field, "fieldValue": value, "from": 0,
                                    "size": 10, "index": index, "deleted": deleted})
        st, out = self.api("GET", "/api/v1/search/fieldQuery?" + q)
        self.assertEqual(st, 200, out)
        return [h["_source"] for h in out["hits"]["hits"]], out["hits"]["total"]["value"]

    def test_lookups_by_name_and_id(self):
        st, t = self.api("GET", "/api/v1/tables/name/" +
                         urllib.parse.quote('pg_prod.dw."odd.schema".t1', safe=""))
        self.assertEqual(st, 200, t)
        self.assertEqual(t["databaseSchema"]["name"], "odd.schema")
        self.assertEqual(self.api("GET", f"/api/v1/tables/{t['id']}")[1]["name"], "t1")
        st, e = self.api("GET", "/api/v1/tables/name/pg_prod.salesdb.public.nope")
        self.assertEqual((st, e), (404, {"code": 404, "message": "table instance for "
                                         "pg_prod.salesdb.public.nope not found"}))
        self.assertEqual(self.api("GET", "/api/v1/tables/name/pg_prod.crm.public.gone")[0], 404)
        self.assertEqual(self.api("GET", "/api/v1/tables/name/pg_prod.crm.public.gone"
                                         "?include=all")[0], 200)
        self.assertEqual(self.api("GET", "/api/v1/users/name/alice")[1]["email"],
                         "alice@example.com")
        self.assertEqual(self.api("GET", "/api/v1/users/name/bob")[0], 404)
        self.assertEqual(self.api("GET", "/api/v1/teams/name/data_eng")[1]["teamType"], "Group")
        self.assertEqual(self.api("GET", "/api/v1/teams/name/nobody")[0], 404)
        self.assertEqual(self.api("GET", "/api/v1/containers/name/s3_prod.lake.raw")[1]
                         ["fullPath"], "s3://lake/raw/")

    def test_search_like_elasticsearch(self):
        fqns = [h["fullyQualifiedName"] for h in
                self.search("table_search_index", "fullyQualifiedName",
                            "*.salesdb.public.orders")[0]]
        self.assertEqual(fqns, ["redshift_prod.salesdb.public.orders",
                                "pg_prod.salesdb.public.orders"])
        self.assertEqual(self.search("table_search_index", "fullyQualifiedName",
                                     "pg_prod.*.*.orders")[1], 1)
        # the keyword is lowercase-normalised; * spans dots as on a keyword
        self.assertEqual(self.search("table_search_index", "fullyQualifiedName",
                                     "PG_PROD.CRM.*.contacts")[1], 1)
        self.assertEqual(self.search("table_search_index", "fullyQualifiedName", "pg_prod*")[1], 3)
        self.assertEqual(self.search("table_search_index", "fullyQualifiedName",
                                     "pg_prod.crm.public.gone")[1], 0)
        self.assertEqual(self.search("table_search_index", "fullyQualifiedName",
                                     "pg_prod.crm.public.gone", deleted="true")[1], 1)
        # fullPath is a plain keyword: exact, case-sensitive, trailing '/' matters
        hits, n = self.search("container_search_index", "fullPath", "s3://lake/raw/")
        self.assertEqual((n, hits[0]["fullyQualifiedName"], hits[0]["entityType"]),
                         (1, "s3_prod.lake.raw", "container"))
        self.assertEqual(self.search("container_search_index", "fullPath", "s3://lake/raw")[1], 0)
        # email is analysed text: a whole address is not one term; email.keyword is
        self.assertEqual(self.search("user_search_index", "email", "alice@example.com")[1], 0)
        self.assertEqual(self.search("user_search_index", "email.keyword",
                                     "alice@example.com")[1], 1)
        self.assertEqual(self.search("user_search_index", "email", "alice")[1], 1)
        self.assertEqual(self.search("team_search_index", "name", "data_eng")[1], 1)
        self.assertEqual(self.search("team_search_index", "name.keyword", "DATA_ENG")[1], 1)
        st, out = self.api("GET", "/api/v1/search/fieldQuery?fieldName=name&fieldValue=x"
                                  "&index=nope_index")
        self.assertEqual(st, 400, out)
        st, out = self.api("GET", "/api/v1/search/query?q=email.keyword:alice@example.com"
                                  "&index=user_search_index&from=0&size=1")
        self.assertEqual(out["hits"]["hits"][0]["_source"]["name"], "alice")
        self.assertEqual(len(self.rejected()), 1)

    def test_classifications_and_tags(self):
        st, c = self.api("PUT", "/api/v1/classifications", {"name": "Domain",
                                                            "description": "Domains"})
        self.assertEqual((st, c["fullyQualifiedName"]), (201, "Domain"))
        self.assertEqual(self.api("PUT", "/api/v1/classifications", {"name": "NoDesc"})[0], 400)
        self.assertEqual(self.api("PUT", "/api/v1/classifications",
                                  {"name": "X", "description": "d", "bogus": 1})[0], 400)
        self.assertEqual(self.api("GET", "/api/v1/classifications/name/Domain")[0], 200)
        self.assertEqual(self.api("GET", "/api/v1/classifications/name/Nope")[0], 404)
        st, t = self.api("PUT", "/api/v1/tags", {"name": "v1.2", "description": "d",
                                                 "classification": "Domain"})
        self.assertEqual((st, t["fullyQualifiedName"]), (201, 'Domain."v1.2"'))
        st, t = self.api("PUT", "/api/v1/tags", {"name": "child", "description": "d",
                                                 "classification": "Domain",
                                                 "parent": 'Domain."v1.2"'})
        self.assertEqual((st, t["fullyQualifiedName"]), (201, 'Domain."v1.2".child'))
        self.assertEqual(self.api("GET", "/api/v1/tags/name/" +
                                  urllib.parse.quote('Domain."v1.2".child', safe=""))[0], 200)
        self.assertEqual(self.api("PUT", "/api/v1/tags", {"name": "t", "description": "d",
                                                          "classification": "Nope"})[0], 404)
        self.assertEqual(self.api("PUT", "/api/v1/tags", {"name": "t", "description": "d",
                                                          "classification": "Domain",
                                                          "parent": "Domain.nope"})[0], 404)
        self.assertEqual(self.api("PUT", "/api/v1/tags", {"name": "t",
                                                          "classification": "Domain"})[0], 400)
        self.assertEqual(len(self.rejected()), 5)

    def pipeline(self, **extra):
        self.api("PUT", "/api/v1/services/pipelineServices",
                 {"name": "glue", "serviceType": "GluePipeline"})
        return self.api("PUT", "/api/v1/pipelines", dict({"name": "wf", "service": "glue",
                                                          "tasks": [{"name": "t"}]}, **extra))

    def test_pipeline_tags_and_owners(self):
        alice = self.api("GET", "/api/v1/users/name/alice")[1]
        team = self.api("GET", "/api/v1/teams/name/data_eng")[1]
        org = self.api("GET", "/api/v1/teams/name/Org")[1]
        tier = {"tagFQN": "Tier.Tier1", "source": "Classification", "labelType": "Automated",
                "state": "Confirmed"}
        st, p = self.pipeline(description="from Glue", tags=[tier],
                              owners=[{"id": alice["id"], "type": "user"}])
        self.assertEqual(st, 201, p)
        self.assertEqual(p["owners"][0]["name"], "alice")
        for bad, code in (({"tags": [dict(tier, tagFQN="Tier.Nope")]}, 404),
                          ({"tags": [dict(tier, tagFQN="G.t", source="Glossary")]}, 404),
                          ({"owners": [{"id": team["id"], "type": "user"}]}, 404),
                          ({"owners": [{"id": alice["id"], "type": "pipeline"}]}, 400),
                          ({"owners": [{"id": org["id"], "type": "team"}]}, 400)):
            with self.subTest(bad):
                st, out = self.pipeline(**bad)
                self.assertEqual(st, code, out)
        self.assertEqual(len(self.rejected()), 5)
        # PUT merges tags and keeps owners and a non-empty description
        pii = dict(tier, tagFQN="PII.Sensitive")
        st, p = self.pipeline(description="changed in Glue", tags=[pii])
        self.assertEqual(st, 200, p)
        self.assertEqual([t["tagFQN"] for t in p["tags"]], ["PII.Sensitive", "Tier.Tier1"])
        self.assertEqual([o["name"] for o in p["owners"]], ["alice"])
        self.assertEqual(p["description"], "from Glue")
        st, p = self.pipeline(owners=[{"id": team["id"], "type": "team"}])
        self.assertEqual([o["name"] for o in p["owners"]], ["data_eng"])
        # a person's edit in the UI, then the bot again
        d = self.om.call("POST", "/__fake/edit", {"fqn": "glue.wf", "description": "by hand",
                                                  "owners": [{"type": "user", "name": "alice"}],
                                                  "tags": ["PII.Sensitive"]})
        self.assertEqual(d["description"], "by hand")
        st, p = self.pipeline(description="from Glue")
        self.assertEqual((p["description"], [t["tagFQN"] for t in p["tags"]]),
                         ("by hand", ["PII.Sensitive"]))
        self.assertEqual(self.om.call("GET", "/__fake/dump")["pipelines"][0]["editedByPerson"],
                         {"description": True, "owners": True, "tags": True})
        # PATCH may not add an unknown tag either
        st, out = self.api("PATCH", f"/api/v1/pipelines/{p['id']}",
                           [{"op": "add", "path": "/tags/0",
                             "value": dict(tier, tagFQN="Tier.Ghost")}],
                           ctype="application/json-patch+json")
        self.assertEqual(st, 404, out)

    def test_usage(self):
        st, p = self.pipeline()
        self.assertEqual(st, 201)
        path = f"/api/v1/usage/pipeline/{p['id']}"
        st, out = self.api("POST", path, {"date": "2025-01-02", "count": 3})
        self.assertEqual(st, 201, out)
        self.assertEqual(out["usage"][0]["dailyStats"]["count"], 3)
        # as the server: PUT adds to the day's count, POST replaces it
        st, out = self.api("PUT", path, {"date": "2025-01-02", "count": 5})
        self.assertEqual((st, out["usage"][0]["dailyStats"]["count"]), (201, 8))
        st, out = self.api("POST", path, {"date": "2025-01-02", "count": 5})
        self.assertEqual((st, out["usage"][0]["dailyStats"]["count"]), (201, 5))
        self.assertEqual(self.api("PUT", path, {"date": "2025-01-04", "count": 2})[0], 201)
        self.assertEqual(self.api("POST", path, {"date": "2025-01-03", "count": 0})[0], 201)
        for bad in ({"date": "2025-01-02"}, {"date": "2025-01-02", "count": "3"},
                    {"date": "02/01/2025", "count": 1}, {"date": "2025-01-02", "count": 1,
                                                         "x": 1}):
            with self.subTest(bad):
                self.assertEqual(self.api("POST", path, bad)[0], 400)
        self.assertEqual(self.api("POST", "/api/v1/usage/pipeline/" + "0" * 8 + "-0000-0000-"
                                          "0000-" + "0" * 12, {"date": "2025-01-02",
                                                               "count": 1})[0], 404)
        self.assertEqual(self.api("POST", "/api/v1/usage/compute.percentile/pipeline/"
                                          "2025-01-03")[0], 201)
        d = self.om.call("GET", "/__fake/dump")
        self.assertEqual(d["usage"], {"glue.wf": {"2025-01-02": 5, "2025-01-03": 0,
                                                  "2025-01-04": 2}})
        self.assertEqual(d["percentileRuns"], [{"entity": "pipeline", "date": "2025-01-03"}])

    def test_lineage_between_tables_and_containers(self):
        st, p = self.pipeline()
        t = self.api("GET", "/api/v1/tables/name/pg_prod.salesdb.public.orders")[1]
        c = self.api("GET", "/api/v1/containers/name/s3_prod.lake.raw")[1]
        details = {"pipeline": {"id": p["id"], "type": "pipeline"}, "source": "PipelineLineage"}

        def edge(f, to, d=details):
            return self.api("PUT", "/api/v1/lineage", {"edge": {"fromEntity": f, "toEntity": to,
                                                                "lineageDetails": d}})
        st, out = edge({"id": t["id"], "type": "table"}, {"id": c["id"], "type": "container"})
        self.assertEqual(st, 200, out)
        self.assertEqual(edge({"id": t["id"], "type": "container"},
                              {"id": c["id"], "type": "container"})[0], 404)
        self.assertEqual(edge({"id": p["id"], "type": "table"},
                              {"id": c["id"], "type": "container"})[0], 404)
        self.assertEqual(edge({"id": t["id"], "type": "table"},
                              {"id": c["id"], "type": "container"},
                              {"pipeline": {"id": t["id"], "type": "pipeline"},
                               "source": "PipelineLineage"})[0], 404)
        d = self.om.call("GET", "/__fake/dump")
        self.assertEqual(d["lineageFqn"], [{"from": "pg_prod.salesdb.public.orders",
                                            "fromType": "table", "to": "s3_prod.lake.raw",
                                            "toType": "container", "pipeline": "glue.wf",
                                            "source": "PipelineLineage"}])
        self.assertEqual(len(d["rejected"]), 3)
        st, _ = self.api("DELETE", f"/api/v1/lineage/pipeline/{p['id']}/type/PipelineLineage")
        self.assertEqual(self.om.call("GET", "/__fake/dump")["lineage"], [])

    def test_lineage_reads_and_deletes_as_the_server(self):
        st, p = self.pipeline()
        ids = {n: self.api("GET", f"/api/v1/tables/name/{n}")[1]["id"] for n in
               ("redshift_prod.salesdb.public.orders", "pg_prod.salesdb.public.orders",
                "pg_prod.crm.public.Contacts")}
        red, pg, crm = ids.values()
        c = self.api("GET", "/api/v1/containers/name/s3_prod.lake.raw")[1]["id"]

        def edge(f, ft, to, tt, **d):
            st, out = self.api("PUT", "/api/v1/lineage", {"edge": {
                "fromEntity": {"id": f, "type": ft}, "toEntity": {"id": to, "type": tt},
                "lineageDetails": d}})
            self.assertEqual(st, 200, out)
        pipe = {"id": p["id"], "type": "pipeline"}
        edge(red, "table", c, "container", pipeline=pipe, source="PipelineLineage")
        edge(pg, "table", c, "container", pipeline=pipe, source="PipelineLineage")
        edge(red, "table", crm, "table", pipeline=pipe, source="Manual")   # a person's
        edge(pg, "table", crm, "table", source="Manual")
        # the pipeline's lineage: the rows naming it, each as from-node -> pipeline
        st, out = self.api("GET", f"/api/v1/lineage/pipeline/{p['id']}?upstreamDepth=1"
                                  "&downstreamDepth=0")
        self.assertEqual(st, 200, out)
        self.assertEqual(sorted((e["fromEntity"], e["toEntity"], e["lineageDetails"]["source"])
                                for e in out["upstreamEdges"]),
                         sorted([(red, p["id"], "PipelineLineage"), (pg, p["id"], "PipelineLineage"),
                                 (red, p["id"], "Manual")]))
        self.assertEqual(out["downstreamEdges"], [])
        self.assertEqual({n["id"]: n["type"] for n in out["nodes"]},
                         {red: "table", pg: "table"})
        # a table's: the edges out of it, with their other ends
        st, out = self.api("GET", f"/api/v1/lineage/table/{red}?upstreamDepth=0&downstreamDepth=1")
        self.assertEqual(sorted((e["fromEntity"], e["toEntity"]) for e in out["downstreamEdges"]),
                         sorted([(red, c), (red, crm)]))
        self.assertEqual({n["id"]: n["type"] for n in out["nodes"]},
                         {c: "container", crm: "table"})
        self.assertEqual(self.api("GET", f"/api/v1/lineage/table/{red}?upstreamDepth=4")[0], 400)
        self.assertEqual(self.api("GET", f"/api/v1/lineage/table/{p['id']}")[0], 404)
        # one edge by its ends; again: 404
        path = f"/api/v1/lineage/table/{pg}/container/{c}"
        self.assertEqual(self.api("DELETE", path)[0], 200)
        self.assertEqual(self.api("DELETE", path)[0], 404)
        # the server's delete-by-source removes the person's edge naming the pipeline
        # too (its SQL's OR), and only the edge without a pipeline stays
        st, _ = self.api("DELETE", f"/api/v1/lineage/pipeline/{p['id']}/type/PipelineLineage")
        self.assertEqual(st, 200)
        self.assertEqual([(e["from"], e["to"], e["source"]) for e in
                          self.om.call("GET", "/__fake/dump")["lineageFqn"]],
                         [("pg_prod.salesdb.public.orders", "pg_prod.crm.public.Contacts",
                           "Manual")])
        self.assertEqual(len(self.rejected()), 1)          # the depth of 4

    def test_search_of_an_older_server_ignores_deleted(self):
        hits = self.search("table_search_index", "fullyQualifiedName", "pg_prod.crm.*")[0]
        self.assertEqual([h["fullyQualifiedName"] for h in hits], ["pg_prod.crm.public.Contacts"])
        self.om.call("POST", "/__fake/config", {"search_ignores_deleted": True})
        try:
            hits = self.search("table_search_index", "fullyQualifiedName", "pg_prod.crm.*")[0]
        finally:
            self.om.call("POST", "/__fake/config", {"search_ignores_deleted": False})
        self.assertEqual([(h["fullyQualifiedName"], h["deleted"]) for h in hits],
                         [("pg_prod.crm.public.Contacts", False), ("pg_prod.crm.public.gone", True)])


class TestLineageEstate(unittest.TestCase):
    """gen_estate.py --lineage: valid against Glue's model, the default estate unchanged,
    every node family present, and its expected lineage resolvable through the fake
    OpenMetadata's search the way OpenMetadata's connector resolves it."""

    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-sl-")
        cls.path = os.path.join(cls.tmp, "estate.json")
        cls.estate = harness.gen_estate(cls.path, 8, seed=4, extra=["--lineage"])

    def test_valid_and_default_unchanged(self):
        import subprocess
        p = subprocess.run([harness.PY, os.path.join(harness.STANDINS, "fake_glue.py"),
                            "--estate", self.path, "--selfcheck-estate"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout)
        plain = harness.gen_estate(os.path.join(self.tmp, "plain.json"), 8, seed=4)
        self.assertNotIn("scripts", plain)
        self.assertEqual([w["Name"] for w in plain["workflows"]],
                         [w["Name"] for w in self.estate["workflows"]])

    def test_families_and_order(self):
        fams = {k for j in self.estate["jobs"].values()
                for n in (j.get("CodeGenConfigurationNodes") or {}).values() for k in n}
        for f in ("CatalogSource", "CatalogTarget", "S3CatalogSource", "GovernedCatalogTarget",
                  "AmazonRedshiftSource", "AmazonRedshiftTarget", "RedshiftSource",
                  "RedshiftTarget", "JDBCConnectorSource", "JDBCConnectorTarget",
                  "DirectJDBCSource", "AthenaConnectorSource", "S3CsvSource", "S3JsonSource",
                  "S3ParquetSource", "S3HudiSource", "S3DeltaSource", "S3DirectTarget",
                  "S3DeltaDirectTarget", "S3GlueParquetTarget", "S3HudiDirectTarget"):
            self.assertIn(f, fams)
        pairs = {(e["from_fqn"], e["to_fqn"]) for e in self.estate["lineage_expected"]}
        rev = {(e["from_fqn"], e["to_fqn"]) for e in self.estate["lineage_expected_reversed"]}
        self.assertTrue(pairs and pairs != rev)
        self.assertTrue(self.estate["lineage_unresolved"])
        text = "\n".join(self.estate["scripts"].values())
        for pat in ("create_dynamic_frame.from_catalog(", "create_dynamic_frame.from_options(",
                    "write_dynamic_frame.from_catalog(", "write_dynamic_frame.from_options(",
                    "write_dynamic_frame.from_jdbc_conf(", "purge_table(", "spark.read.parquet(",
                    "spark.read.format(", "spark.read.table(", "spark.table(", "read.jdbc(",
                    ".write.parquet(", ".write.saveAsTable(", ".write.insertInto(",
                    ".write.jdbc(", ".write.format("):
            self.assertIn(pat, text)

    def test_expected_ends_resolve_in_fake_om(self):
        tmp = tempfile.mkdtemp(dir=self.tmp)
        om = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_om.py"),
                             "--token", harness.JWT], "om", 0, tmp)
        try:
            om.call("POST", "/__fake/seed", self.estate["om_seed"])
            auth = [("Authorization", "Bearer " + harness.JWT)]
            for e in self.estate["lineage_expected"]:
                for end, kind in ((e["from"], e["from_type"]), (e["to"], e["to_type"])):
                    if kind == "table":
                        q = {"fieldName": "fullyQualifiedName", "fieldValue": end,
                             "index": "table_search_index"}
                    else:
                        q = {"fieldName": "fullPath", "fieldValue": end,
                             "index": "container_search_index"}
                    st, out, _ = http(om.url + "/api/v1/search/fieldQuery?" +
                                      urllib.parse.urlencode(q), headers=auth)
                    self.assertEqual((st, out["hits"]["total"]["value"]), (200, 1), end)
            self.assertEqual(om.call("GET", "/__fake/dump")["rejected"], [])
        finally:
            om.stop()


class TestFakeGlueConnections(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-sg-", 5, seed=2, extra=["--lineage"])

    def call(self, op, body):
        return TestFakeGlueRejects.call(self, op, body)

    def test_get_connection(self):
        st, out = self.call("GetConnection", {"Name": "pg-sales", "HidePassword": True})
        self.assertEqual(st, 200, out)
        props = out["Connection"]["ConnectionProperties"]
        self.assertEqual(props["JDBC_CONNECTION_URL"], "jdbc:postgresql://db.example:5432/salesdb")
        self.assertNotIn("PASSWORD", props)
        st, out = self.call("GetConnection", {"Name": "pg-sales"})
        self.assertIn("PASSWORD", out["Connection"]["ConnectionProperties"])
        st, out = self.call("GetConnection", {"Name": "nope", "HidePassword": True})
        self.assertEqual((st, out["__type"]), (400, "EntityNotFoundException"))
        st, out = self.call("GetConnection", {"Name": "pg-sales", "Hide": True})
        self.assertEqual((st, out["__type"]), (400, "ValidationException"))
        st, out = self.call("GetConnection", {"HidePassword": True})
        self.assertEqual((st, out["__type"]), (400, "ValidationException"))

    def test_jobs_carry_their_nodes(self):
        visual = [n for n, j in self.estate["jobs"].items() if j.get("CodeGenConfigurationNodes")]
        st, out = self.call("GetJob", {"JobName": visual[0]})
        self.assertEqual(out["Job"]["CodeGenConfigurationNodes"],
                         self.estate["jobs"][visual[0]]["CodeGenConfigurationNodes"])
        st, out = self.call("BatchGetJobs", {"JobNames": visual[:3]})
        self.assertTrue(all(j["CodeGenConfigurationNodes"] for j in out["Jobs"]))
        self.assertFalse([r for r in self.s.glue_stats()["rejected"] if r["op"] != "GetConnection"])


STS_BASE = ("AKIABASEKEYFORSTS001", "base/secret/for/sts")
STS_TEMP = ("ASIATEMPKEYFORSTS001", "temp/secret/for/sts", "temp-session-token")


class TestFakeSTSCallerIdentity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gm-ss-")
        cls.sts = harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_sts.py"),
                                  "--region", harness.REGION, "--base-access-key", STS_BASE[0],
                                  "--base-secret-key", STS_BASE[1], "--role-arn",
                                  "arn:aws:iam::123456789012:role/glue-reader",
                                  "--access-key", STS_TEMP[0], "--secret-key", STS_TEMP[1],
                                  "--session-token", STS_TEMP[2], "--account", "210987654321"],
                                 "sts", 0, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.sts.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def gci(self, key, secret, token=None, region=harness.REGION, tamper=False):
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        date = amz_now()
        headers = [("Host", f"127.0.0.1:{self.sts.port}"), ("X-Amz-Date", date),
                   ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        if token:
            headers.append(("X-Amz-Security-Token", token))
        _, _, auth = sigv4_verify.sign("POST", "/", "", headers, body, key, secret, region, "sts",
                                       date)
        if tamper:
            body = b"Action=GetCallerIdentity&Version=2011-06-15&x=1"
        st, out, _ = http(self.sts.url + "/", "POST", body, headers[1:] +
                          [("Authorization", auth)], raw=True)
        return st, out.decode()

    def test_caller_identity(self):
        self.sts.call("PUT", "/__fake/reset")
        st, xml = self.gci(*STS_BASE)
        self.assertEqual(st, 200, xml)
        self.assertIn("<Account>210987654321</Account>", xml)
        self.assertIn("<Arn>arn:aws:iam::210987654321:user/", xml)
        self.assertTrue(xml.startswith('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.'
                                       'com/doc/2011-06-15/"><GetCallerIdentityResult>'))
        st, xml = self.gci(*STS_TEMP)
        self.assertIn("assumed-role/glue-reader/", xml)
        self.assertEqual(self.gci(STS_TEMP[0], STS_TEMP[1])[0], 403)       # no token
        self.assertEqual(self.gci(STS_BASE[0], "wrong")[0], 403)
        self.assertEqual(self.gci(*STS_BASE, tamper=True)[0], 403)
        self.assertEqual(self.gci(*STS_BASE, region="us-east-1")[0], 403)
        self.assertEqual(self.gci("AKIAUNKNOWN000000000", "x")[0], 403)
        reqs = self.sts.call("GET", "/__fake/requests")
        self.assertEqual([(r["Action"], r["ok"]) for r in reqs],
                         [("GetCallerIdentity", True)] * 2 + [("GetCallerIdentity", False)] * 5)


S3_KEYS = ("AKIAS3TESTKEY0000001", "s3/secret/key/for/the/fake+0123")


class TestFakeS3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gm-s3-")
        objects = os.path.join(cls.tmp, "objects.json")
        with open(objects, "w") as fh:
            json.dump({"s3://scripts/jobs/etl job ü.py": "print('hello')\n",
                       "s3://scripts/a+b=c.py": "x = 1\n", "buckets": ["empty-bucket"]}, fh)
        cls.s3 = cls.start(objects, [])
        cls.s3t = cls.start(objects, ["--session-token", "tok"])

    @classmethod
    def start(cls, objects, extra):
        return harness.Server([harness.PY, os.path.join(harness.STANDINS, "fake_s3.py"),
                               "--objects", objects, "--access-key", S3_KEYS[0],
                               "--secret-key", S3_KEYS[1], "--region", harness.REGION] + extra,
                              "s3" + str(len(extra)), 0, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.s3.stop()
        cls.s3t.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, bucket, key, server=None, sha=None, token=None, sign_path=None,
            signed=None, region=harness.REGION, secret=S3_KEYS[1], drop=()):
        server = server or self.s3
        wire = "/" + urllib.parse.quote(bucket, safe="") + "/" + urllib.parse.quote(key, safe="/")
        date = amz_now()
        headers = [("Host", f"127.0.0.1:{server.port}"), ("X-Amz-Date", date),
                   ("x-amz-content-sha256", sha or hashlib.sha256(b"").hexdigest())]
        if token:
            headers.append(("X-Amz-Security-Token", token))
        _, _, auth = sigv4_verify.sign(
            "GET", sign_path or urllib.parse.unquote(wire), "", headers, b"", S3_KEYS[0], secret,
            region, "s3", date, signed, normalize=False, payload_hash=headers[2][1])
        hdrs = [h for h in headers[1:] if h[0] not in drop] + [("Authorization", auth)]
        st, body, _ = http(server.url + wire, "GET", None, hdrs, raw=True)
        return st, body.decode()

    def code(self, xml):
        import re
        m = re.search(r"<Code>([^<]+)</Code>", xml)
        return m.group(1) if m else None

    def test_get_object_and_errors(self):
        self.s3.call("POST", "/__fake/reset")
        self.assertEqual(self.get("scripts", "jobs/etl job ü.py"), (200, "print('hello')\n"))
        self.assertEqual(self.get("scripts", "a+b=c.py", sha="UNSIGNED-PAYLOAD"), (200, "x = 1\n"))
        st, xml = self.get("scripts", "jobs/missing.py")
        self.assertEqual((st, self.code(xml)), (404, "NoSuchKey"))
        self.assertIn("<Key>jobs/missing.py</Key>", xml)
        st, xml = self.get("empty-bucket", "x.py")
        self.assertEqual((st, self.code(xml)), (404, "NoSuchKey"))
        st, xml = self.get("nobucket", "x.py")
        self.assertEqual((st, self.code(xml)), (404, "NoSuchBucket"))
        self.s3.call("POST", "/__fake/config", {"deny": ["s3://scripts/jobs/"]})
        st, xml = self.get("scripts", "jobs/etl job ü.py")
        self.assertEqual((st, self.code(xml)), (403, "AccessDenied"))
        self.s3.call("POST", "/__fake/config", {"deny": []})
        self.assertEqual(len(self.s3.call("GET", "/__fake/stats")["rejected"]), 0)

    def test_signature_rules(self):
        self.s3.call("POST", "/__fake/reset")
        double = "/scripts/" + urllib.parse.quote("jobs/etl job ü.py", safe="/")
        for what, kw, code in [
            ("double-encoded path", {"sign_path": double}, "SignatureDoesNotMatch"),
            ("wrong secret", {"secret": "nope"}, "SignatureDoesNotMatch"),
            ("content sha not signed", {"signed": {"host", "x-amz-date"}}, "AccessDenied"),
            ("content sha missing", {"drop": ("x-amz-content-sha256",),
                                     "signed": {"host", "x-amz-date"}}, "InvalidRequest"),
            ("content sha wrong", {"sha": "0" * 64}, "XAmzContentSHA256Mismatch"),
            ("wrong region", {"region": "us-east-1"}, "AuthorizationHeaderMalformed"),
        ]:
            with self.subTest(what):
                st, xml = self.get("scripts", "jobs/etl job ü.py", **kw)
                self.assertEqual(self.code(xml), code, xml)
                self.assertIn(st, (400, 403))
        self.assertEqual(len(self.s3.call("GET", "/__fake/stats")["rejected"]), 6)
        # with a session token configured it must be sent, and signed
        self.assertEqual(self.get("scripts", "a+b=c.py", server=self.s3t, token="tok")[0], 200)
        self.assertEqual(self.code(self.get("scripts", "a+b=c.py", server=self.s3t)[1]),
                         "InvalidAccessKeyId")
        self.assertEqual(self.code(self.get("scripts", "a+b=c.py", server=self.s3t,
                                            token="other")[1]), "InvalidToken")
        self.assertEqual(self.code(self.get("scripts", "a+b=c.py", server=self.s3t, token="tok",
                                            signed={"host", "x-amz-date",
                                                    "x-amz-content-sha256"})[1]), "AccessDenied")


class TestFakeSqs(unittest.TestCase):
    """The fake SQS: JSON 1.0, SigV4 with service sqs, standard-queue
    semantics (visibility timeout, a new receipt handle per receive, long
    polling woken by a send), the batch delete's partial failures, and the
    errors SQS gives."""
    QUEUE = "glue-events"

    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-sq-")
        cls.sqs = harness.class_server(cls, harness.fake_sqs_argv(
            "--queue", cls.QUEUE, "--queue", "other", "--account", "123456789012"), "sqs")
        # the real-looking URL: the fake goes by its path, not its host
        cls.url = f"https://sqs.{harness.REGION}.amazonaws.com/123456789012/{cls.QUEUE}"

    def setUp(self):
        self.sqs.call("POST", "/__fake/reset")

    def call(self, op, body, secret=harness.SK, ctype="application/x-amz-json-1.0"):
        """(status, reply, headers) of a signed SQS request."""
        data = json.dumps(body).encode()
        date = amz_now()
        headers = [("Host", f"127.0.0.1:{self.sqs.port}"), ("X-Amz-Date", date),
                   ("Content-Type", ctype), ("X-Amz-Target", "AmazonSQS." + op)]
        _, _, auth = sigv4_verify.sign("POST", "/", "", headers, data, harness.AK, secret,
                                       harness.REGION, "sqs", date)
        return http(self.sqs.url + "/", "POST", data, headers[1:] + [("Authorization", auth)])

    def ok(self, op, body):
        st, out, _ = self.call(op, body)
        self.assertEqual(st, 200, out)
        return out

    def receive(self, **kw):
        return self.ok("ReceiveMessage", dict({"QueueUrl": self.url,
                                               "MessageSystemAttributeNames": [
                                                   "ApproximateReceiveCount", "SentTimestamp"]},
                                              **kw)).get("Messages", [])

    def queue(self):
        return self.sqs.call("GET", "/__fake/queue?name=" + self.QUEUE)

    def test_round_trip(self):
        body = harness.glue_job_event("job_000_0", "123456789012", harness.REGION)
        sent = self.ok("SendMessage", {"QueueUrl": self.url, "MessageBody": body})
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5(body.encode()).hexdigest())
        self.assertEqual(self.ok("GetQueueUrl", {"QueueName": self.QUEUE})["QueueUrl"], self.url)
        msgs = self.receive(MaxNumberOfMessages=10)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual((m["MessageId"], m["Body"]), (sent["MessageId"], body))
        self.assertEqual(m["MD5OfBody"], hashlib.md5(body.encode()).hexdigest())
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertAlmostEqual(int(m["Attributes"]["SentTimestamp"]) / 1000, time.time(), delta=30)
        event = json.loads(m["Body"])
        self.assertEqual((event["source"], event["detail-type"], event["detail"]["jobName"]),
                         ("aws.glue", "Glue Job State Change", "job_000_0"))
        attrs = self.ok("GetQueueAttributes", {"QueueUrl": self.url, "AttributeNames": [
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]})
        self.assertEqual(attrs["Attributes"], {"ApproximateNumberOfMessages": "0",
                                               "ApproximateNumberOfMessagesNotVisible": "1"})
        self.assertEqual(self.receive(), [])       # in flight: nothing to receive
        self.assertEqual(self.ok("DeleteMessage", {"QueueUrl": self.url,
                                                   "ReceiptHandle": m["ReceiptHandle"]}), {})
        q = self.queue()
        self.assertEqual([(x["state"], x["receive_count"], x["delete_count"])
                          for x in q["messages"]], [("deleted", 1, 1)])
        stats = self.sqs.call("GET", "/__fake/stats")
        self.assertEqual(stats["rejected"], [])
        self.assertEqual(stats["counts"]["ReceiveMessage"], 2)

    def test_long_poll(self):
        t0 = time.time()
        self.assertEqual(self.receive(WaitTimeSeconds=1), [])
        self.assertGreaterEqual(time.time() - t0, 0.95)
        timer = threading.Timer(0.5, self.sqs.call, ("POST", "/__fake/send",
                                                     {"queue": self.QUEUE, "body": "late"}))
        timer.start()
        try:
            t0 = time.time()
            msgs = self.receive(WaitTimeSeconds=10)
            waited = time.time() - t0
        finally:
            timer.join()
        self.assertEqual([m["Body"] for m in msgs], ["late"])
        self.assertLess(waited, 3, "the long poll was not woken by the send")
        self.assertGreaterEqual(waited, 0.4)
        self.assertEqual(self.sqs.call("GET", "/__fake/stats")["max_long_polls"], 1)

    def test_visibility_timeout_redelivers(self):
        self.sqs.call("POST", "/__fake/send", {"body": "again"})
        first = self.receive(VisibilityTimeout=1)[0]
        self.assertEqual(self.receive(), [])
        t0 = time.time()
        again = self.receive(WaitTimeSeconds=5, VisibilityTimeout=30)
        self.assertLess(time.time() - t0, 3)
        self.assertEqual(len(again), 1)
        second = again[0]
        self.assertEqual(second["MessageId"], first["MessageId"])
        self.assertNotEqual(second["ReceiptHandle"], first["ReceiptHandle"])
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        # the superseded handle: the request succeeds and deletes nothing (as the
        # DeleteMessage reference says); the latest one deletes
        out = self.ok("DeleteMessageBatch", {"QueueUrl": self.url, "Entries": [
            {"Id": "old", "ReceiptHandle": first["ReceiptHandle"]}]})
        self.assertEqual((out["Successful"], out["Failed"]), ([{"Id": "old"}], []))
        self.assertEqual(self.queue()["messages"][0]["state"], "in_flight")
        self.assertEqual(self.queue()["messages"][0]["stale_deletes"], 1)
        self.sqs.call("POST", "/__fake/config", {"stale_receipt": "invalid"})
        out = self.ok("DeleteMessageBatch", {"QueueUrl": self.url, "Entries": [
            {"Id": "old", "ReceiptHandle": first["ReceiptHandle"]},
            {"Id": "new", "ReceiptHandle": second["ReceiptHandle"]}]})
        self.assertEqual(out["Successful"], [{"Id": "new"}])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]],
                         [("old", "ReceiptHandleIsInvalid", True)])
        self.assertEqual(self.queue()["messages"][0]["state"], "deleted")

    def test_delete_batch_failures(self):
        for i in range(3):
            self.sqs.call("POST", "/__fake/send", {"body": f"m{i}"})
        msgs = self.receive(MaxNumberOfMessages=10)
        self.assertEqual(len(msgs), 3)
        # a handle this queue never gave out fails its entry, the rest goes through
        other = self.sqs.call("POST", "/__fake/send", {"queue": "other", "body": "x"})
        self.assertTrue(other["MessageId"])
        foreign = self.ok("ReceiveMessage", {"QueueUrl": self.url.replace(self.QUEUE, "other")})
        self.sqs.call("POST", "/__fake/config", {"fail_deletes": 1})
        entries = [{"Id": f"e{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in
                   enumerate(msgs)]
        entries.append({"Id": "foreign",
                        "ReceiptHandle": foreign["Messages"][0]["ReceiptHandle"]})
        entries.append({"Id": "made-up", "ReceiptHandle": "AQEBnotahandle=="})
        out = self.ok("DeleteMessageBatch", {"QueueUrl": self.url, "Entries": entries})
        self.assertEqual([s["Id"] for s in out["Successful"]], ["e1", "e2"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]],
                         [("e0", "InternalError", False),
                          ("foreign", "ReceiptHandleIsInvalid", True),
                          ("made-up", "ReceiptHandleIsInvalid", True)])
        states = {m["Body"]: m["state"] for m in self.queue()["messages"]}
        self.assertEqual(states, {"m0": "in_flight", "m1": "deleted", "m2": "deleted"})
        # the entry that failed is deleted on retry
        out = self.ok("DeleteMessageBatch", {"QueueUrl": self.url, "Entries": entries[:1]})
        self.assertEqual(out, {"Successful": [{"Id": "e0"}], "Failed": []})
        # a single DeleteMessage with an unknown handle is the whole request's error
        st, err, hdrs = self.call("DeleteMessage", {"QueueUrl": self.url,
                                                    "ReceiptHandle": "AQEBnotahandle=="})
        self.assertEqual((st, err["__type"], hdrs["x-amzn-query-error"]),
                         (404, "com.amazonaws.sqs#ReceiptHandleIsInvalid",
                          "ReceiptHandleIsInvalid;Sender"))
        # batch-level errors
        for what, ents, code in [
            ("duplicate ids", [entries[1], dict(entries[2], Id="e1")],
             "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
            ("empty", [], "AWS.SimpleQueueService.EmptyBatchRequest"),
            ("eleven", [dict(entries[1], Id=f"i{i}") for i in range(11)],
             "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
            ("bad id", [dict(entries[1], Id="has space")],
             "AWS.SimpleQueueService.InvalidBatchEntryId"),
        ]:
            with self.subTest(what):
                st, err, hdrs = self.call("DeleteMessageBatch", {"QueueUrl": self.url,
                                                                 "Entries": ents})
                self.assertEqual((st, hdrs["x-amzn-query-error"]), (400, code + ";Sender"), err)

    def test_rejections(self):
        for what, kw, body, status, query, typ in [
            ("wrong secret", {"secret": "nope"}, {"QueueUrl": self.url}, 403,
             "SignatureDoesNotMatch", "InvalidSignatureException"),
            ("wrong content type", {"ctype": "application/x-amz-json-1.1"},
             {"QueueUrl": self.url}, 400, "SerializationException", "SerializationException"),
            ("MaxNumberOfMessages 11", {}, {"QueueUrl": self.url, "MaxNumberOfMessages": 11},
             400, "InvalidParameterValue", "InvalidParameterValue"),
            ("WaitTimeSeconds 21", {}, {"QueueUrl": self.url, "WaitTimeSeconds": 21},
             400, "InvalidParameterValue", "InvalidParameterValue"),
            ("unknown member", {}, {"QueueUrl": self.url, "MaxMessages": 1},
             400, "ValidationError", "ValidationException"),
            ("no QueueUrl", {}, {}, 400, "ValidationError", "ValidationException"),
        ]:
            with self.subTest(what):
                st, err, hdrs = self.call("ReceiveMessage", body, **kw)
                self.assertEqual(st, status, err)
                self.assertEqual(hdrs["x-amzn-query-error"], query + ";Sender")
                self.assertTrue(err["__type"].endswith("#" + typ), err)
        st, err, _ = self.call("GetQueueAttributes", {"QueueUrl": self.url,
                                                      "AttributeNames": ["Nope"]})
        self.assertEqual((st, err["__type"]), (400, "com.amazonaws.sqs#InvalidAttributeName"))
        rejected = self.sqs.call("GET", "/__fake/stats")["rejected"]
        self.assertEqual(len(rejected), 7)
        self.assertIn("MaxNumberOfMessages", rejected[2]["reason"])

    def test_unknown_queue(self):
        for op, body in [
            ("ReceiveMessage", {"QueueUrl": self.url.replace(self.QUEUE, "nope")}),
            ("ReceiveMessage", {"QueueUrl": self.url.replace("123456789012", "210987654321")}),
            ("SendMessage", {"QueueUrl": self.url.replace(self.QUEUE, "nope"),
                             "MessageBody": "x"}),
            ("GetQueueUrl", {"QueueName": "nope"}),
        ]:
            with self.subTest(op=op, body=body):
                st, err, hdrs = self.call(op, body)
                self.assertEqual(st, 400)
                self.assertEqual(err, {"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                                       "message": "The specified queue does not exist."})
                self.assertEqual(hdrs["x-amzn-query-error"],
                                 "AWS.SimpleQueueService.NonExistentQueue;Sender")
                self.assertEqual(hdrs["Content-Type"], "application/x-amz-json-1.0")

    def test_faults(self):
        self.sqs.call("POST", "/__fake/config", {"faults": [
            {"op": "ReceiveMessage", "error": "RequestThrottled", "times": 1}]})
        st, err, hdrs = self.call("ReceiveMessage", {"QueueUrl": self.url})
        self.assertEqual((st, err["__type"], hdrs["x-amzn-query-error"]),
                         (403, "com.amazonaws.sqs#RequestThrottled", "RequestThrottled;Sender"))
        self.assertEqual(self.call("ReceiveMessage", {"QueueUrl": self.url})[0], 200)
        self.sqs.call("POST", "/__fake/config", {"faults": [
            {"op": "ReceiveMessage", "status": 500, "error": "InternalError", "times": 1}]})
        st, err, hdrs = self.call("ReceiveMessage", {"QueueUrl": self.url})
        self.assertEqual((st, hdrs["x-amzn-query-error"]), (500, "InternalError;Receiver"))
        self.sqs.call("POST", "/__fake/config", {"faults": [
            {"op": "ReceiveMessage", "action": "reset", "times": 1}]})
        with self.assertRaises((ConnectionError, urllib.error.URLError)):
            self.call("ReceiveMessage", {"QueueUrl": self.url})
        self.assertEqual(self.sqs.call("GET", "/__fake/faults")["faults"][0]["hits"], 1)


class TestFakeGlueAddRun(unittest.TestCase):
    """fake_glue's add_run: a new newest run, as GetWorkflowRuns and the
    workflow's LastRun show it; and the requests counted per workflow."""

    @classmethod
    def setUpClass(cls):
        harness.class_estate(cls, "gm-sr-", 4, seed=4, sqs=True)

    def call(self, op, body):
        return TestFakeGlueRejects.call(self, op, body)

    def test_standins_with_sqs(self):
        """Standins(sqs=True): the fake SQS takes the fake Glue's credentials;
        an event put on the queue comes back by the queue's real-looking URL."""
        self.s.sqs.call("POST", "/__fake/reset")
        job = next(iter(self.estate["jobs"]))
        body = harness.glue_job_event(job, self.estate["account"], harness.REGION, "FAILED")
        crawl = harness.glue_crawler_event("crawl_000", self.estate["account"], harness.REGION)
        self.s.send_event(body)
        self.s.send_event(crawl)
        sqs = TestFakeSqs.call.__get__(self)
        self.sqs = self.s.sqs
        st, out, _ = sqs("ReceiveMessage", {"QueueUrl": self.s.queue_url(),
                                            "MaxNumberOfMessages": 10})
        self.assertEqual(st, 200, out)
        events = [json.loads(m["Body"]) for m in out["Messages"]]
        self.assertEqual([(e["detail-type"], e["detail"]["state"]) for e in events],
                         [("Glue Job State Change", "FAILED"),
                          ("Glue Crawler State Change", "Succeeded")])
        self.assertEqual(events[0]["detail"]["jobName"], job)
        self.assertEqual(events[0]["detail"]["severity"], "ERROR")
        self.assertEqual(events[1]["detail"]["crawlerName"], "crawl_000")
        self.assertEqual({e["account"] for e in events}, {self.estate["account"]})
        self.assertEqual(self.s.sqs.call("GET", "/__fake/stats")["rejected"], [])

    def test_add_run(self):
        wf = self.estate["workflows"][1]
        name = wf["Name"]
        self.s.glue.call("POST", "/__fake/stats/reset")
        added = self.s.glue.call("POST", "/__fake/add_run", {"workflow": name})
        rid = added["WorkflowRunId"]
        self.assertNotIn(rid, [r["WorkflowRunId"] for r in wf["Runs"]])
        self.assertLessEqual(added["CompletedOn"], time.time() + 1)
        st, out = self.call("GetWorkflowRuns", {"Name": name, "IncludeGraph": True})
        self.assertEqual(st, 200, out)
        runs = out["Runs"]
        self.assertEqual(len(runs), len(wf["Runs"]) + 1)
        new = runs[0]
        self.assertEqual((new["WorkflowRunId"], new["Status"]), (rid, "COMPLETED"))
        self.assertGreater(new["StartedOn"], max(r["StartedOn"] for r in wf["Runs"]))
        jobs = [n for n in new["Graph"]["Nodes"] if n["Type"] == "JOB"]
        self.assertEqual({n["Name"] for n in jobs},
                         {n["Name"] for n in wf["Graph"]["Nodes"] if n["Type"] == "JOB"})
        self.assertTrue(all(n["JobDetails"]["JobRuns"][-1]["JobRunState"] == "SUCCEEDED"
                            for n in jobs))
        self.assertEqual(new["Statistics"]["FailedActions"], 0)
        st, out = self.call("GetWorkflow", {"Name": name})
        self.assertEqual(out["Workflow"]["LastRun"]["WorkflowRunId"], rid)
        st, out = self.call("BatchGetWorkflows", {"Names": [name, self.estate["workflows"][0]
                                                            ["Name"]]})
        self.assertEqual(out["Workflows"][0]["LastRun"]["WorkflowRunId"], rid)
        self.assertNotEqual(out["Workflows"][1]["LastRun"]["WorkflowRunId"], rid)
        st, out = self.call("GetJobRuns", {"JobName": jobs[0]["Name"]})
        self.assertEqual(out["JobRuns"][0]["Id"], jobs[0]["JobDetails"]["JobRuns"][-1]["Id"])
        # a failed one, newer still
        failed = self.s.glue.call("POST", "/__fake/add_run", {"workflow": name,
                                                              "status": "FAILED"})
        st, out = self.call("GetWorkflowRuns", {"Name": name, "MaxResults": 1})
        self.assertEqual(out["Runs"][0]["WorkflowRunId"], failed["WorkflowRunId"])
        self.assertEqual(out["Runs"][0]["Status"], "COMPLETED")
        self.assertEqual(sum(v for k, v in out["Runs"][0]["Statistics"].items()
                             if k in ("FailedActions", "TimeoutActions", "ErroredActions")), 1)
        stats = self.s.glue_stats()
        self.assertEqual(stats["rejected"], [])
        other = self.estate["workflows"][0]["Name"]
        self.assertEqual(stats["by_workflow"][name], {"GetWorkflowRuns": 2, "GetWorkflow": 1,
                                                      "BatchGetWorkflows": 1})
        self.assertEqual(stats["by_workflow"][other], {"BatchGetWorkflows": 1})
        self.assertEqual(stats["by_job"], {jobs[0]["Name"]: {"GetJobRuns": 1}})
        st, out, _ = http(self.s.glue.url + "/__fake/add_run", "POST", {"workflow": "nope"})
        self.assertEqual(st, 404)
        st, out, _ = http(self.s.glue.url + "/__fake/add_run", "POST",
                          {"workflow": name, "status": "DONE"})
        self.assertEqual(st, 400)
        self.s.glue.call("POST", "/__fake/estate", self.estate)


if __name__ == "__main__":
    unittest.main()
