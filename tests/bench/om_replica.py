#!/usr/bin/python3
"""A sequential replica of the calls OpenMetadata's own gluepipeline connector
makes (../shared/notes/openmetadata-connector.md §1.2 and §2.2), one request at
a time, against the fake Glue and fake OpenMetadata: the yardstick of
`make bench`.

It does the same work as gluemetad (every ListWorkflows page is read, where
the connector reads only the first) but in the connector's pattern:

  GET  /api/v1/system/version
  ListWorkflows {}                                   the connection test
  GET  /api/v1/services/pipelineServices/name/S      PUT the service when missing
  GET  /api/v1/pipelines?service=S&fields=sourceHash  the topology's entity cache
  ListWorkflows, page after page
  per workflow:
    GetWorkflow {Name, IncludeGraph: true}
    PUT  /api/v1/pipelines                           unless the cached sourceHash is the same
    per JOB node: GetJobRuns {JobName} (first page), and per job run
    PUT  /api/v1/pipelines/{fqn}/status              (a run without CompletedOn ends that job)
    GET  /api/v1/pipelines/name/{fqn}?fields=tasks,usageSummary, POST /api/v1/usage/pipeline/{id}
  GET  /api/v1/pipelines?service=S (all pages), DELETE the unseen   markDeletedPipelines
  POST /api/v1/usage/compute.percentile/pipeline/{today}

Glue requests are signed with SigV4 (tests/standins/sigv4_verify.py), both
sides over one keep-alive connection each, as boto3 and the client's requests
session do.  Only the HTTP pattern is replicated: the connector's own CPU time
(pydantic models, the topology runner) is not, so the replica is if anything
faster than the real thing.

--workflows N processes only the first N listed workflows; the time of the
per-workflow part and of the rest are reported apart (JSON on stdout with
--json) so the caller can scale the per-workflow part linearly."""
import argparse
import datetime
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "standins"))
import sigv4_verify  # noqa: E402

STATE_MAP = {"succeeded": "Successful", "failed": "Failed", "cancelled": "Failed",
             "incomplete": "Failed", "running": "Pending", "pending": "Pending"}


def quote_name(name):
    return f'"{name}"' if "." in name and not (name.startswith('"') and name.endswith('"')) \
        else name


class Client:
    """One keep-alive connection; counts requests and the time spent in them."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.base = u.path.rstrip("/")
        self.conn = None
        self.requests = 0
        self.busy = 0.0

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else (body if isinstance(body, bytes)
                                          else json.dumps(body).encode())
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Length"] = str(len(data))
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            t = time.monotonic()
            try:
                self.conn.request(method, self.base + path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            finally:
                self.busy += time.monotonic() - t
            self.requests += 1
            return resp.status, (json.loads(raw) if raw else None)


class Glue(Client):
    def __init__(self, url, access_key, secret_key, region):
        super().__init__(url)
        self.ak, self.sk, self.region = access_key, secret_key, region
        self.errors = 0

    def call(self, op, params):
        body = json.dumps(params).encode()
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers = [("Host", f"{self.host}:{self.port}"), ("X-Amz-Date", amz_date),
                   ("X-Amz-Target", "AWSGlue." + op),
                   ("Content-Type", "application/x-amz-json-1.1")]
        _, _, auth = sigv4_verify.sign("POST", "/", "", headers, body, self.ak, self.sk,
                                       self.region, "glue", amz_date)
        hdrs = dict(headers)
        hdrs["Authorization"] = auth
        status, out = self.request("POST", "/", body, hdrs)
        if status != 200:
            self.errors += 1
            raise RuntimeError(f"Glue {op}: {status} {out}")
        return out


class OM(Client):
    def __init__(self, url, token):
        super().__init__(url)
        self.token = token
        self.errors = 0

    def call(self, method, path, body=None, ok=(200, 201)):
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, out = self.request(method, path, body, headers)
        if status not in ok:
            self.errors += 1
        return status, out


def ms(t):
    return int(round(float(t) * 1000))


def pipeline_request(wf, service, region):
    """CreatePipelineRequest as the connector builds it (notes §1.3-1.4)."""
    graph = wf.get("Graph") or {}
    nodes, edges = graph.get("Nodes") or [], graph.get("Edges") or []
    by_id = {n["UniqueId"]: n["Name"][:128] for n in nodes}
    jobs = []
    tasks = []
    for n in nodes:
        if n["Type"] == "JOB" and n["Name"] not in jobs:
            jobs.append(n["Name"])
        down = [by_id[e["DestinationId"]] for e in edges
                if e["SourceId"] == n["UniqueId"] and e["DestinationId"] in by_id]
        tasks.append({"name": n["Name"], "displayName": n["Name"], "taskType": n["Type"],
                      "downstreamTasks": down})
    name = wf["Name"]
    req = {"name": name, "displayName": name, "service": service, "tasks": tasks,
           "sourceUrl": f"https://{region}.console.aws.amazon.com/glue/home?region={region}"
                        f"#/v2/etl-configuration/workflows/view/{name}"}
    req["sourceHash"] = hashlib.md5(json.dumps(req, sort_keys=True).encode()).hexdigest()
    return req, jobs


def list_all(om, service, extra=""):
    """GET /api/v1/pipelines?service=... page after page (limit 1000)."""
    out, after = [], None
    while True:
        q = f"service={urllib.parse.quote(service, safe='')}{extra}&limit=1000"
        if after:
            q += "&after=" + urllib.parse.quote(after, safe="")
        status, page = om.call("GET", "/v1/pipelines?" + q)
        if status != 200:
            return out
        out += page.get("data") or []
        after = (page.get("paging") or {}).get("after")
        if not after:
            return out


def run(args):
    glue = Glue(args.glue, args.access_key, args.secret_key, args.region)
    om = OM(args.om, args.token)
    today = datetime.date.today().isoformat()
    svc = args.service
    qsvc = quote_name(svc)
    t0 = time.monotonic()
    stats = {"workflows": 0, "statuses": 0, "pipelines_put": 0, "status_errors": 0,
             "deleted": 0}

    # -- connection: version, test_connection, service, entity cache --
    om.call("GET", "/v1/system/version")
    glue.call("ListWorkflows", {})
    status, _ = om.call("GET", "/v1/services/pipelineServices/name/" +
                        urllib.parse.quote(qsvc, safe=""), ok=(200, 404))
    if status == 404:
        om.call("PUT", "/v1/services/pipelineServices", {
            "name": svc, "serviceType": "GluePipeline",
            "connection": {"config": {"type": "GluePipeline", "awsConfig": {
                "awsAccessKeyId": args.access_key, "awsSecretAccessKey": args.secret_key,
                "awsRegion": args.region, "endPointURL": args.glue}}}})
    cache = {p["name"]: p.get("sourceHash") for p in list_all(om, svc, "&fields=sourceHash")}

    # -- every ListWorkflows page --
    names, token = [], None
    while True:
        page = glue.call("ListWorkflows", {"NextToken": token} if token else {})
        names += page.get("Workflows") or []
        token = page.get("NextToken")
        if not token:
            break
    fixed_before = time.monotonic() - t0

    # -- per workflow --
    todo = names[:args.workflows] if args.workflows else names
    seen = set()
    t1 = time.monotonic()
    for name in todo:
        wf = glue.call("GetWorkflow", {"Name": name, "IncludeGraph": True})["Workflow"]
        stats["workflows"] += 1
        req, jobs = pipeline_request(wf, svc, args.region)
        fqn = f"{qsvc}.{quote_name(name)}"
        if cache.get(name) != req["sourceHash"]:
            om.call("PUT", "/v1/pipelines", req)
            stats["pipelines_put"] += 1
        seen.add(name)
        path = "/v1/pipelines/" + urllib.parse.quote(fqn, safe="") + "/status"
        for job in jobs:
            runs = glue.call("GetJobRuns", {"JobName": job}).get("JobRuns") or []
            for jr in runs:
                if "CompletedOn" not in jr:       # KeyError in the connector: the job's
                    stats["status_errors"] += 1   # remaining runs are lost
                    break
                state = STATE_MAP.get(jr.get("JobRunState", "").lower(), "Pending")
                st, _ = om.call("PUT", path, {
                    "timestamp": ms(jr["StartedOn"]), "executionStatus": state,
                    "taskStatus": [{"name": jr["JobName"], "executionStatus": state,
                                    "startTime": ms(jr["StartedOn"]),
                                    "endTime": ms(jr["CompletedOn"])}]})
                stats["statuses"] += 1
        status, p = om.call("GET", "/v1/pipelines/name/" + urllib.parse.quote(fqn, safe="") +
                            "?fields=tasks,usageSummary")
        if status == 200 and p.get("tasks") and not p.get("usageSummary"):
            om.call("POST", f"/v1/usage/pipeline/{p['id']}", {"date": today, "count": 0})
    per_workflow = time.monotonic() - t1

    # -- markDeletedPipelines (the listing path), then the percentile --
    t2 = time.monotonic()
    for p in list_all(om, svc):
        if p["name"] not in seen and not p.get("deleted"):
            om.call("DELETE", f"/v1/pipelines/{p['id']}?recursive=true&hardDelete=false")
            stats["deleted"] += 1
    om.call("POST", f"/v1/usage/compute.percentile/pipeline/{today}")
    fixed_after = time.monotonic() - t2
    wall = time.monotonic() - t0
    return {"wall_s": wall, "fixed_s": fixed_before + fixed_after, "per_workflow_s": per_workflow,
            "workflows_listed": len(names), "workflows_done": len(todo),
            "glue_requests": glue.requests, "om_requests": om.requests,
            "glue_errors": glue.errors, "om_errors": om.errors, **stats}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glue", required=True, help="fake Glue URL")
    ap.add_argument("--om", required=True, help="OpenMetadata hostPort, ending in /api")
    ap.add_argument("--token", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--service", default="glue_replica")
    ap.add_argument("--workflows", type=int, default=0,
                    help="process only the first N listed workflows (0: all)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    out = run(args)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return 0 if not (out["glue_errors"] or out["om_errors"]) else 1


if __name__ == "__main__":
    sys.exit(main())
