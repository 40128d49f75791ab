#!/usr/bin/python3
"""A fake AWS Glue (JSON 1.1 protocol) on 127.0.0.1 that holds itself to
AWS's specifications: every request's SigV4 signature is verified with an
independent implementation (sigv4_verify.py), every request body is
validated against the operation's input shape in Glue's service model
(../shared/aws-models), every reply against its output shape.  Pages like
AWS with opaque NextTokens.  See README.md for the control API."""
import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import json
import os
import random
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402
import gen_estate  # noqa: E402
import serve  # noqa: E402
import sigv4_verify  # noqa: E402

TIMELINE_MAX = 200000
OPS = ["ListWorkflows", "GetWorkflow", "BatchGetWorkflows", "GetWorkflowRuns", "GetWorkflowRun",
       "GetJob", "BatchGetJobs", "GetJobRuns", "GetTags", "GetConnection"]


class GlueError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RawReply(Exception):
    def __init__(self, status, body):
        super().__init__(body)
        self.status, self.body = status, body


class State:
    def __init__(self, args):
        self.args = args
        self.model = aws_model.model("glue", args.models)
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.token_key = os.urandom(16)
        self.latency_ms = args.latency_ms
        self.clock_offset_s = 0       # this service's clock runs ahead by this much
        self.throttle_percent = 0
        self.error_percent = 0
        self.errored = set()          # requests refused with a random server error
        self.faults = []
        self.replies_valid = set()    # (operation, sha256 of a reply that passed the model)
        self.bench = args.bench       # make bench: nothing checked, replies prepared
        self.prepared = {}            # --bench: (operation, request body) -> reply bytes
        self.in_flight = 0
        self.reset_stats()
        with open(args.estate) as fh:
            self.set_estate(json.load(fh))

    def reset_stats(self):
        self.counts = {}
        self.total = 0
        self.rejected = []
        self.max_in_flight = 0
        self.tcp_accepted = 0         # TCP connections accepted
        self.t0 = time.monotonic()
        self.timeline = []            # [seconds since reset, in flight on arrival, op, outcome]
        self.by_workflow = {}         # workflow name -> {op: accepted requests naming it}
        self.by_job = {}              # job name -> {op: accepted requests naming it}

    def set_estate(self, estate):
        self.prepared = {}
        self.estate = estate
        self.account = estate.get("account", "123456789012")
        self.workflows = {w["Name"]: w for w in estate.get("workflows", [])}
        self.order = [w["Name"] for w in estate.get("workflows", [])]
        self.jobs = estate.get("jobs", {})
        self.connections = estate.get("connections", {})
        self.job_runs = {}
        for w in estate.get("workflows", []):
            for r in w.get("Runs", []):
                for n in (r.get("Graph") or {}).get("Nodes", []):
                    for jr in (n.get("JobDetails") or {}).get("JobRuns", []):
                        self.job_runs.setdefault(jr["JobName"], []).append(jr)
        for runs in self.job_runs.values():
            runs.sort(key=lambda r: -r.get("StartedOn", 0))

    # -- opaque pagination tokens: nonce, page, offset, MAC --
    def make_token(self, op, key, page, offset):
        body = os.urandom(6) + page.to_bytes(4, "big") + offset.to_bytes(4, "big")
        mac = hmac.new(self.token_key, op.encode() + key.encode() + body, hashlib.sha256).digest()
        return base64.b64encode(body + mac[:9]).decode()

    def read_token(self, op, key, token):
        try:
            raw = base64.b64decode(token, validate=True)
        except Exception:
            raw = b""
        if len(raw) == 23:
            body, mac = raw[:14], raw[14:]
            want = hmac.new(self.token_key, op.encode() + key.encode() + body,
                            hashlib.sha256).digest()[:9]
            if hmac.compare_digest(mac, want):
                return int.from_bytes(body[6:10], "big"), int.from_bytes(body[10:14], "big")
        raise GlueError(400, "InvalidInputException", "Invalid pagination token")


def now_epoch(state=None):
    return time.time() + (state.clock_offset_s if state else 0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-glue/1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()         # once per connection, before its requests
        with self.st.lock:
            self.st.tcp_accepted += 1

    def date_time_string(self, timestamp=None):
        return super().date_time_string(now_epoch(self.server.state) if timestamp is None
                                        else timestamp)

    @property
    def st(self):
        return self.server.state

    def send_json(self, status, obj, headers=(), data=None):
        if data is None:
            data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, e):
        self.send_json(e.status, {"__type": e.code, "message": e.message},
                       [("X-Amzn-ErrorType", e.code)])

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # -- control API --
    def control(self, method, body):
        st = self.st
        path = self.path
        with st.lock:
            if method == "GET" and path == "/__fake/stats":
                return 200, {"counts": st.counts, "total": st.total, "rejected": st.rejected,
                             "max_in_flight": st.max_in_flight, "in_flight": st.in_flight,
                             "tcp_connections": st.tcp_accepted,
                             "by_workflow": st.by_workflow, "by_job": st.by_job}
            if method == "GET" and path == "/__fake/timeline":
                return 200, {"timeline": st.timeline}
            if method == "POST" and path == "/__fake/stats/reset":
                st.reset_stats()
                return 200, {}
            if method == "POST" and path == "/__fake/config":
                cfg = json.loads(body or b"{}")
                if "latency_ms" in cfg:
                    st.latency_ms = int(cfg["latency_ms"])
                if "throttle_percent" in cfg:
                    st.throttle_percent = int(cfg["throttle_percent"])
                if "error_percent" in cfg:
                    st.error_percent = int(cfg["error_percent"])
                if "seed" in cfg:
                    st.rng = random.Random(int(cfg["seed"]))
                if "clock_offset_s" in cfg:
                    st.clock_offset_s = int(cfg["clock_offset_s"])
                if "faults" in cfg:
                    try:
                        serve.check_faults(cfg["faults"])
                    except ValueError as e:
                        return 400, {"message": str(e)}
                    st.faults = [dict(f, hits=0) for f in cfg["faults"]]
                return 200, {}
            if method == "GET" and path == "/__fake/faults":
                return 200, {"faults": st.faults}
            if method == "POST" and path == "/__fake/estate":
                st.set_estate(json.loads(body))
                return 200, {}
            if method == "POST" and path == "/__fake/add_run":
                return add_run(st, json.loads(body or b"{}"))
        return 404, {"message": "unknown control path"}

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        body = self.read_body()
        if self.path.startswith("/__fake/"):
            status, obj = self.control(method, body)
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        st = self.st
        with st.lock:
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            entry = [round(time.monotonic() - st.t0, 4), st.in_flight, "?", "ok"]
            if len(st.timeline) < TIMELINE_MAX:
                st.timeline.append(entry)
        self.entry = entry
        try:
            if st.latency_ms:
                time.sleep(st.latency_ms / 1000.0)
            self.api(method, body)
        finally:
            with st.lock:
                st.in_flight -= 1

    def reject(self, op, e):
        with self.st.lock:
            self.st.rejected.append({"op": op, "code": e.code, "reason": e.message})
        self.send_error_json(e)

    def check_credential(self):
        """--bench: the request names our access key (its signature is not
        computed again; the tests verify it on every request)."""
        auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
        if not auth or auth["access_key"] != self.st.args.access_key:
            raise GlueError(400, "UnrecognizedClientException",
                            "The security token included in the request is invalid.")

    def verify_signature(self, method, body):
        st = self.st
        auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
        if not auth:
            raise GlueError(400, "IncompleteSignature",
                            "Authorization header requires Credential, SignedHeaders, Signature")
        if auth["access_key"] != st.args.access_key:
            raise GlueError(400, "UnrecognizedClientException",
                            "The security token included in the request is invalid.")
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise GlueError(400, "IncompleteSignature", "X-Amz-Date is missing or malformed")
        if abs(when - now_epoch(st)) > 15 * 60:
            raise GlueError(400, "InvalidSignatureException",
                            "Signature expired: " + amz_date + " is now earlier or later than "
                            "the allowed 15 minutes")
        if auth["date"] != amz_date[:8] or auth["region"] != st.args.region or \
                auth["service"] != "glue":
            raise GlueError(400, "InvalidSignatureException",
                            f"Credential should be scoped to a valid region and service: "
                            f"{auth['date']}/{auth['region']}/{auth['service']}")
        need = {"host", "x-amz-date", "x-amz-target", "content-type"}
        if st.args.session_token:
            need.add("x-amz-security-token")
            tok = self.headers.get("X-Amz-Security-Token") or ""
            base, _, exp = tok.rpartition(".exp")
            if tok != st.args.session_token and \
                    not (base == st.args.session_token and exp.isdigit()):
                raise GlueError(400, "UnrecognizedClientException",
                                "The security token included in the request is invalid.")
            # tokens from the fake STS carry their end: "<token>.exp<epoch>"
            if tok != st.args.session_token and time.time() >= int(exp):
                raise GlueError(400, "ExpiredTokenException",
                                "The security token included in the request is expired")
        missing = need - set(auth["signed"])
        if missing:
            raise GlueError(400, "InvalidSignatureException",
                            f"headers not signed: {', '.join(sorted(missing))}")
        path, _, query = self.path.partition("?")
        headers = [(k, v) for k, v in self.headers.items()]
        _, _, want = sigv4_verify.sign(method, path, query, headers, body, st.args.access_key,
                                       st.args.secret_key, st.args.region, "glue", amz_date,
                                       set(auth["signed"]))
        if sigv4_verify.parse_authorization(want)["signature"] != auth["signature"]:
            raise GlueError(400, "InvalidSignatureException",
                            "The request signature we calculated does not match the signature "
                            "you provided.")

    def api(self, method, body):
        st = self.st
        target = self.headers.get("X-Amz-Target", "")
        op = target[len("AWSGlue."):] if target.startswith("AWSGlue.") else target or "?"
        with st.lock:
            st.counts[op] = st.counts.get(op, 0) + 1
            st.total += 1
            self.entry[2] = op
        try:
            if method != "POST" or self.path != "/":
                raise GlueError(400, "UnknownOperationException", "only POST / is served")
            if st.bench:
                self.check_credential()
            else:
                self.verify_signature(method, body)
            if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
                raise GlueError(400, "SerializationException",
                                "Content-Type must be application/x-amz-json-1.1")
            if not target.startswith("AWSGlue.") or op not in OPS:
                raise GlueError(400, "UnknownOperationException", f"unknown operation {target}")
            try:
                req = json.loads(body)
            except ValueError:
                raise GlueError(400, "SerializationException", "the body is not JSON")
            errs = [] if st.bench else st.model.validate(st.model.input_shape(op), req)
            if errs:
                raise GlueError(400, "ValidationException",
                                f"{len(errs)} validation error{'s' if len(errs) > 1 else ''} "
                                f"detected: " + "; ".join(errs))
        except GlueError as e:
            self.reject(op, e)
            return
        self.count_names(op, req)
        try:
            self.inject(op, req)
            if st.bench:
                data = st.prepared.get((op, body))
                if data is None:
                    data = json.dumps(getattr(self, "op_" + op)(req),
                                      ensure_ascii=False).encode()
                    with st.lock:
                        st.prepared[(op, body)] = data
                self.send_json(200, None, data=data)
                return
            out = getattr(self, "op_" + op)(req)
        except serve.Misbehave as m:
            serve.misbehave(self, m.fault, "application/x-amz-json-1.1")
            return
        except GlueError as e:
            self.send_error_json(e)
            return
        except RawReply as r:
            data = r.body.encode()
            self.send_response(r.status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        # a reply identical to one already checked is not checked again
        data = json.dumps(out, ensure_ascii=False).encode()
        digest = (op, hashlib.sha256(data).digest())
        with st.lock:
            known = digest in st.replies_valid
        errs = [] if known else st.model.validate(st.model.output_shape(op), out)
        if not errs and not known:
            with st.lock:
                if len(st.replies_valid) < 100000:
                    st.replies_valid.add(digest)
        if errs:
            with st.lock:
                st.rejected.append({"op": op, "code": "InvalidResponse",
                                    "reason": "the stand-in's own reply: " + "; ".join(errs[:5])})
            self.send_error_json(GlueError(500, "InternalServiceException",
                                           "stand-in reply failed validation"))
            return
        self.send_json(200, out, data=data)

    def count_names(self, op, req):
        """Counts an accepted request against each workflow (Name, Names, a
        workflow ARN for GetTags) and job (JobName, JobNames) it names."""
        st = self.st
        wfs = [req["Name"]] if op != "GetConnection" and "Name" in req else []
        wfs += list(req.get("Names") or [])
        prefix = f"arn:aws:glue:{st.args.region}:{st.account}:workflow/"
        if req.get("ResourceArn", "").startswith(prefix):
            wfs.append(req["ResourceArn"][len(prefix):])
        jobs = ([req["JobName"]] if "JobName" in req else []) + list(req.get("JobNames") or [])
        with st.lock:
            for table, names in ((st.by_workflow, wfs), (st.by_job, jobs)):
                for n in names:
                    ops = table.setdefault(n, {})
                    ops[op] = ops.get(op, 0) + 1

    def inject(self, op, req):
        st = self.st
        with st.lock:
            page = 1
            if op in ("ListWorkflows", "GetWorkflowRuns", "GetJobRuns") and req.get("NextToken"):
                key = req.get("Name") or req.get("JobName") or ""
                try:
                    page = st.read_token(op, key, req["NextToken"])[0]
                except GlueError:
                    page = -1
            names = [req.get("Name"), req.get("JobName")] + list(req.get("Names") or [])
            for f in st.faults:
                if f.get("op") not in (None, op) or f.get("times", -1) == 0:
                    continue
                if "name" in f and f["name"] not in names:
                    continue
                if "page" in f and f["page"] != page:
                    continue
                if f.get("times", -1) > 0:
                    f["times"] -= 1
                f["hits"] = f.get("hits", 0) + 1
                if "action" in f:           # a transport-level fault, see serve.misbehave
                    self.entry[3] = f["action"]
                    raise serve.Misbehave(f)
                if "raw_body" in f:         # a broken reply, sent as it is
                    raise RawReply(int(f.get("status", 200)), f["raw_body"])
                raise GlueError(int(f.get("status", 500)), f.get("error", "InternalServiceException"),
                                f.get("message", "injected fault"))
            roll = st.rng.random() * 100
            if roll < st.throttle_percent:
                self.entry[3] = "throttled"
                raise GlueError(400, "ThrottlingException", "Rate exceeded")
            # A random server error is transient: a request that drew one is
            # not refused with one again (retries of 5xx are bounded at 3
            # attempts, as in AWS's standard retry mode, while throttling
            # may be retried more often).
            seen = op + "\x1f" + json.dumps(req, sort_keys=True)
            if roll < st.throttle_percent + st.error_percent and seen not in st.errored:
                st.errored.add(seen)
                self.entry[3] = "error"
                raise GlueError(500, "InternalServiceException", "Internal service error")

    # -- operations --
    def page(self, op, key, items, req, default, maximum):
        st = self.st
        size = req.get("MaxResults") or default
        size = min(size, maximum)
        page, offset = 1, 0
        if req.get("NextToken"):
            page, offset = st.read_token(op, key, req["NextToken"])
        chunk = items[offset:offset + size]
        out = {"items": chunk}
        if offset + size < len(items):
            out["NextToken"] = st.make_token(op, key, page + 1, offset + size)
        return out

    def workflow_view(self, w, graph):
        # Views share the estate's objects (copying cost more than the rest of
        # a reply): replies are only serialized, and a new estate replaces the
        # old one whole, so nothing changes them.
        v = {k: x for k, x in w.items() if k not in ("Runs", "Tags", "Graph")}
        if graph and "Graph" in w:
            v["Graph"] = w["Graph"]
        runs = w.get("Runs") or []
        if runs:
            last = max(runs, key=lambda r: r.get("StartedOn", 0))
            v["LastRun"] = {k: x for k, x in last.items() if k != "Graph"}
        return v

    def find(self, name):
        w = self.st.workflows.get(name)
        if not w:
            raise GlueError(400, "EntityNotFoundException", f"Workflow {name} not found")
        return w

    def op_ListWorkflows(self, req):
        with self.st.lock:
            order = list(self.st.order)
        p = self.page("ListWorkflows", "", order, req, self.st.args.page_size, 25)
        out = {"Workflows": p["items"]}
        if "NextToken" in p:
            out["NextToken"] = p["NextToken"]
        return out

    def op_GetWorkflow(self, req):
        return {"Workflow": self.workflow_view(self.find(req["Name"]), req.get("IncludeGraph"))}

    def op_BatchGetWorkflows(self, req):
        found, missing = [], []
        for n in req["Names"]:
            w = self.st.workflows.get(n)
            if w:
                found.append(self.workflow_view(w, req.get("IncludeGraph")))
            else:
                missing.append(n)
        out = {"Workflows": found}
        if missing:
            out["MissingWorkflows"] = missing
        return out

    def run_view(self, r, graph):
        return {k: v for k, v in r.items() if graph or k != "Graph"}

    def op_GetWorkflowRuns(self, req):
        w = self.find(req["Name"])
        runs = sorted(w.get("Runs") or [], key=lambda r: -r.get("StartedOn", 0))
        p = self.page("GetWorkflowRuns", req["Name"], runs, req, 100, 1000)
        out = {"Runs": [self.run_view(r, req.get("IncludeGraph")) for r in p["items"]]}
        if "NextToken" in p:
            out["NextToken"] = p["NextToken"]
        return out

    def op_GetWorkflowRun(self, req):
        w = self.find(req["Name"])
        for r in w.get("Runs") or []:
            if r["WorkflowRunId"] == req["RunId"]:
                return {"Run": self.run_view(r, req.get("IncludeGraph"))}
        raise GlueError(400, "EntityNotFoundException", f"Workflow run {req['RunId']} not found")

    def op_GetJob(self, req):
        j = self.st.jobs.get(req["JobName"])
        if not j:
            raise GlueError(400, "EntityNotFoundException", f"Job {req['JobName']} not found")
        return {"Job": j}

    def op_BatchGetJobs(self, req):
        jobs = [self.st.jobs[n] for n in req["JobNames"] if n in self.st.jobs]
        out = {"Jobs": jobs}
        missing = [n for n in req["JobNames"] if n not in self.st.jobs]
        if missing:
            out["JobsNotFound"] = missing
        return out

    def op_GetJobRuns(self, req):
        if req["JobName"] not in self.st.jobs:
            raise GlueError(400, "EntityNotFoundException", f"Job {req['JobName']} not found")
        runs = self.st.job_runs.get(req["JobName"], [])
        p = self.page("GetJobRuns", req["JobName"], runs, req, 100, 200)
        out = {"JobRuns": list(p["items"])}
        if "NextToken" in p:
            out["NextToken"] = p["NextToken"]
        return out

    def op_GetConnection(self, req):
        if req.get("CatalogId") not in (None, self.st.account):
            raise GlueError(400, "EntityNotFoundException",
                            f"Catalog {req['CatalogId']} not found")
        c = self.st.connections.get(req["Name"])
        if not c:
            raise GlueError(400, "EntityNotFoundException", f"Connection {req['Name']} not found")
        c = copy.deepcopy(c)
        if req.get("HidePassword"):
            props = c.get("ConnectionProperties") or {}
            for k in ("PASSWORD", "ENCRYPTED_PASSWORD"):
                props.pop(k, None)
        return {"Connection": c}

    def op_GetTags(self, req):
        arn = req["ResourceArn"]
        prefix = f"arn:aws:glue:{self.st.args.region}:{self.st.account}:workflow/"
        if not arn.startswith(prefix):
            raise GlueError(400, "EntityNotFoundException", f"resource {arn} not found")
        return {"Tags": dict(self.find(arn[len(prefix):]).get("Tags") or {})}


# add_run's "status": the WorkflowRun Status it ends with, and FAILED for a
# run whose job failed (Glue reports such a run COMPLETED, with FailedActions).
ADD_RUN_KINDS = {"COMPLETED": "ok", "FAILED": "failed", "RUNNING": "running",
                 "STOPPED": "stopped", "ERROR": "error", "STOPPING": "stopping"}


def add_run(st, req):
    """POST /__fake/add_run {"workflow": NAME, "status"?: ...}: a new run,
    made by gen_estate.make_run from the workflow's graph as the estate's runs
    are (job runs on its JOB nodes, statistics, the graph's edges), timed to
    end now and start after every run the workflow has, so that it is the
    newest (first in GetWorkflowRuns) and the workflow's LastRun.  Called
    with the lock held."""
    name = req.get("workflow")
    w = st.workflows.get(name)
    if w is None:
        return 404, {"message": f"no workflow {name!r}"}
    status = req.get("status", "COMPLETED")
    if status not in ADD_RUN_KINDS:
        return 400, {"message": f"status: one of {', '.join(ADD_RUN_KINDS)}"}
    graph = w.get("Graph") or {"Nodes": [], "Edges": []}
    nodes = graph.get("Nodes") or []
    jobs = [n for n in nodes if n["Type"] == "JOB"]
    if not jobs and ADD_RUN_KINDS[status] != "ok":
        return 400, {"message": f"workflow {name!r} has no job to fail or run"}
    crawler = next((n for n in nodes if n["Type"] == "CRAWLER"), None)
    runs = w.get("Runs") or []
    rng = random.Random(os.urandom(8))
    wi = st.order.index(name)
    run = gen_estate.make_run(rng, name, wi, len(runs), nodes, jobs, crawler, 0.0,
                              ADD_RUN_KINDS[status])
    run["Graph"]["Edges"] = graph.get("Edges") or []
    # gen_estate times the run from 0; squeeze it into (newest start, now]
    now = round(time.time(), 3)
    newest = max((r.get("StartedOn", 0) for r in runs), default=0)
    start = max(now - 60, newest + 0.5)
    if start >= now:            # runs added within the last half second
        start = newest + 0.001
    end = max(now, start + 0.01)
    stamps = [run.get("CompletedOn", 0)]
    for n in run["Graph"]["Nodes"]:
        for jr in (n.get("JobDetails") or {}).get("JobRuns", []):
            stamps += [jr.get("StartedOn", 0), jr.get("CompletedOn", 0)]
        for c in (n.get("CrawlerDetails") or {}).get("Crawls", []):
            stamps += [c.get("StartedOn", 0), c.get("CompletedOn", 0)]
    span = max(stamps) or 1.0

    def at(t):
        return round(start + (end - start) * t / span, 3)
    run["StartedOn"] = at(0)
    if "CompletedOn" in run:
        run["CompletedOn"] = at(run["CompletedOn"])
    for n in run["Graph"]["Nodes"]:
        for jr in (n.get("JobDetails") or {}).get("JobRuns", []):
            jr["StartedOn"] = at(jr["StartedOn"])
            if "CompletedOn" in jr:
                jr["CompletedOn"] = at(jr["CompletedOn"])
                jr["ExecutionTime"] = max(1, int(jr["CompletedOn"] - jr["StartedOn"]))
            st.job_runs.setdefault(jr["JobName"], []).insert(0, jr)
        for c in (n.get("CrawlerDetails") or {}).get("Crawls", []):
            c["StartedOn"], c["CompletedOn"] = at(c["StartedOn"]), at(c["CompletedOn"])
    for jrs in st.job_runs.values():
        jrs.sort(key=lambda r: -r.get("StartedOn", 0))
    errs = st.model.validate("WorkflowRun", run)
    if errs:
        return 500, {"message": "the new run fails the model: " + "; ".join(errs[:5])}
    # a new list: replies being serialized keep the one they hold
    w["Runs"] = [run] + list(runs)
    st.prepared = {}
    return 200, {"WorkflowRunId": run["WorkflowRunId"], "Status": run["Status"],
                 "StartedOn": run["StartedOn"], "CompletedOn": run.get("CompletedOn")}


def check_estate(state):
    """Validates every reply the estate can produce against the model."""
    errors = []
    m = state.model
    for name in state.order:
        w = state.workflows[name]
        view = Handler.workflow_view(None, w, True)
        errors += [f"{name}: {e}" for e in m.validate("Workflow", view)]
        for r in w.get("Runs") or []:
            errors += [f"{name} run: {e}" for e in m.validate("WorkflowRun", r)]
        errors += [f"{name} tags: {e}" for e in m.validate("TagsMap", w.get("Tags") or {})]
    for jn, j in state.jobs.items():
        errors += [f"job {jn}: {e}" for e in m.validate("Job", j)]
    for cn, c in state.connections.items():
        errors += [f"connection {cn}: {e}" for e in m.validate("Connection", c)]
        if c.get("Name") != cn:
            errors.append(f"connection {cn}: its Name is {c.get('Name')!r}")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--estate", required=True)
    ap.add_argument("--access-key", default="AKIDEXAMPLE")
    ap.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--page-size", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--models", default=None)
    aws_model.add_shared_option(ap)
    ap.add_argument("--selfcheck-estate", action="store_true")
    ap.add_argument("--bench", action="store_true",
                    help="check no signature and no model, and answer a request made before "
                         "from the reply prepared then (make bench; the tests check all)")
    args = aws_model.use_shared(ap.parse_args())
    state = State(args)
    if args.selfcheck_estate:
        errs = check_estate(state)
        for e in errs[:50]:
            print(e)
        print("estate OK" if not errs else f"{len(errs)} problems")
        return 1 if errs else 0
    return serve.serve(Handler, args.port, args.port_file, state=state)


if __name__ == "__main__":
    sys.exit(main())
