"""The stand-ins hold themselves to the specifications: the fake Glue's
SigV4 verifier reproduces AWS's official suite and the derived vectors, it
rejects what AWS rejects, and the fake OpenMetadata rejects bodies the
official schemas reject."""
import datetime
import json
import os
import shutil
import sys
import tempfile
import unittest
import urllib.error
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
        cls.tmp = tempfile.mkdtemp(prefix="gm-sa-")
        path = os.path.join(cls.tmp, "estate.json")
        harness.gen_estate(path, 60, seed=3)
        cls.s = harness.Standins(path, tmp=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

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
        cls.tmp = tempfile.mkdtemp(prefix="gm-so-")
        path = os.path.join(cls.tmp, "estate.json")
        harness.gen_estate(path, 1)
        cls.s = harness.Standins(path, tmp=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

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


if __name__ == "__main__":
    unittest.main()
