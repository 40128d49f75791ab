#!/usr/bin/python3
"""A fake OpenMetadata REST API on 127.0.0.1.  Every /api request must carry
the bot's JWT; every request body is validated against OpenMetadata's
official JSON schemas (../shared/openmetadata-spec, with its validate.py)
before it touches the in-memory store; the entities it keeps are validated
against the entity schemas too.  See README.md for the control API."""
import argparse
import base64
import copy
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serve  # noqa: E402
DEFAULT_SPEC = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared",
                                             "openmetadata-spec"))

SCHEMAS = {
    "service": "api/services/createPipelineService.json",
    "pipeline": "api/data/createPipeline.json",
    "status": "entity/data/pipeline.json#/definitions/pipelineStatus",
    "entity": "entity/data/pipeline.json",
    "service_entity": "entity/services/pipelineService.json",
    "lineage": "api/lineage/addLineage.json",
    "ingestion_status": "entity/services/ingestionPipelines/ingestionPipeline.json"
                        "#/definitions/pipelineStatus",
}


class OMError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def quote_name(name):
    """OpenMetadata's FullyQualifiedName.quoteName."""
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        return name
    if '"' in name:
        raise OMError(400, f"Invalid name {name}")
    return f'"{name}"' if "." in name else name


def now_ms():
    return int(time.time() * 1000)


class Store:
    def __init__(self, args):
        self.args = args
        sys.path.insert(0, args.spec_dir)
        import validate  # the spec's own validator (file-relative $refs)
        root = os.path.join(args.spec_dir, "json", "schema")
        self.validators = {}
        for key, rel in SCHEMAS.items():
            path, _, ptr = rel.partition("#")
            self.validators[key] = validate.make_validator(os.path.join(root, path), ptr)
        self.lock = threading.Lock()
        self.latency_ms = args.latency_ms
        self.faults = []
        self.in_flight = 0
        self.reset()

    def reset(self):
        self.services = {}        # fqn -> entity
        self.pipelines = {}       # fqn -> entity (with "statuses" kept aside)
        self.statuses = {}        # fqn -> {timestamp: status}
        self.lineage = {}         # (from id, to id) -> edge
        self.tables = {}
        self.containers = {}
        self.ingestion = {}       # fqn -> {runId: status}
        self.ingestion_log = []   # every status PUT, in order
        self.counts = {}
        self.total = 0
        self.rejected = []
        self.max_in_flight = 0

    def check(self, key, body, method, path):
        errs = sorted(self.validators[key].iter_errors(body), key=lambda e: list(e.absolute_path))
        if errs:
            msgs = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}"
                    for e in errs[:5]]
            self.rejected.append({"method": method, "path": path, "errors": msgs})
            raise OMError(400, "; ".join(msgs))


def changed(old, new, keys):
    return any(old.get(k) != new.get(k) for k in keys)


def bump(entity):
    entity["version"] = round(entity.get("version", 0.1) + 0.1, 1)
    entity["updatedAt"] = now_ms()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openmetadata/1"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.store

    def reply(self, status, obj):
        data = b"" if obj is None else json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.path.startswith("/__fake/"):
            status, obj = self.control(method, raw)
            self.reply(status, obj)
            return
        st = self.st
        with st.lock:
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            if st.latency_ms:
                time.sleep(st.latency_ms / 1000.0)
            status, obj = self.api(method, raw)
        except OMError as e:
            status, obj = e.status, {"code": e.status, "message": e.message}
        finally:
            with st.lock:
                st.in_flight -= 1
        self.reply(status, obj)

    def control(self, method, raw):
        st = self.st
        with st.lock:
            if method == "GET" and self.path == "/__fake/dump":
                pipelines = []
                for fqn, p in st.pipelines.items():
                    e = copy.deepcopy(p)
                    e["statuses"] = [st.statuses[fqn][k] for k in sorted(st.statuses.get(fqn, {}))]
                    pipelines.append(e)
                return 200, {"services": list(st.services.values()), "pipelines": pipelines,
                             "lineage": list(st.lineage.values()),
                             "ingestionPipelineStatuses": st.ingestion,
                             "ingestionPipelineStatusLog": st.ingestion_log, "counts": st.counts,
                             "total": st.total, "rejected": st.rejected,
                             "max_in_flight": st.max_in_flight}
            if method == "POST" and self.path == "/__fake/reset":
                st.reset()
                return 200, {}
            if method == "POST" and self.path == "/__fake/seed":
                seed = json.loads(raw or b"{}")
                for fqn in seed.get("ingestionPipelines", []):
                    st.ingestion.setdefault(fqn, {})
                return 200, {}
            if method == "POST" and self.path == "/__fake/config":
                cfg = json.loads(raw or b"{}")
                if "latency_ms" in cfg:
                    st.latency_ms = int(cfg["latency_ms"])
                if "faults" in cfg:
                    st.faults = [dict(f) for f in cfg["faults"]]
                return 200, {}
        return 404, {"message": "unknown control path"}

    def count(self, route):
        with self.st.lock:
            self.st.counts[route] = self.st.counts.get(route, 0) + 1
            self.st.total += 1

    def api(self, method, raw):
        st = self.st
        parsed = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parsed.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        route, handler, args = self.route(method, parsed.path)
        self.count(f"{method} {route}")
        if self.headers.get("Authorization") != f"Bearer {st.args.token}":
            return 401, {"code": 401, "message": "Not Authorized! Token verification failed"}
        with st.lock:
            for f in st.faults:
                if f.get("times", -1) == 0:
                    continue
                if f.get("method", method) == method and re.search(f.get("path", ""), path):
                    if f.get("times", -1) > 0:
                        f["times"] -= 1
                    return int(f.get("status", 500)), f.get("body", {
                        "code": int(f.get("status", 500)), "message": "injected fault"})
        if handler is None:
            return 404, {"code": 404, "message": "HTTP 404 Not Found"}
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise OMError(400, "Unable to process JSON")
        with st.lock:
            return handler(method, path, query, body, *args)

    ROUTES = [
        ("GET", r"/api/v1/system/version", "/api/v1/system/version", "version"),
        ("GET", r"/api/v1/services/pipelineServices/name/([^/]+)",
         "/api/v1/services/pipelineServices/name/{fqn}", "get_service"),
        ("PUT", r"/api/v1/services/pipelineServices", "/api/v1/services/pipelineServices",
         "put_service"),
        ("PUT", r"/api/v1/pipelines", "/api/v1/pipelines", "put_pipeline"),
        ("GET", r"/api/v1/pipelines", "/api/v1/pipelines", "list_pipelines"),
        ("GET", r"/api/v1/pipelines/name/([^/]+)", "/api/v1/pipelines/name/{fqn}",
         "get_pipeline_by_name"),
        ("PUT", r"/api/v1/pipelines/([^/]+)/status", "/api/v1/pipelines/{fqn}/status",
         "put_status"),
        ("GET", r"/api/v1/pipelines/([^/]+)/status", "/api/v1/pipelines/{fqn}/status",
         "list_status"),
        ("GET", r"/api/v1/pipelines/([0-9a-f-]{36})", "/api/v1/pipelines/{id}", "get_pipeline"),
        ("DELETE", r"/api/v1/pipelines/([0-9a-f-]{36})", "/api/v1/pipelines/{id}",
         "delete_pipeline"),
        ("PATCH", r"/api/v1/pipelines/([0-9a-f-]{36})", "/api/v1/pipelines/{id}",
         "patch_pipeline"),
        ("PUT", r"/api/v1/lineage", "/api/v1/lineage", "put_lineage"),
        ("DELETE", r"/api/v1/lineage/pipeline/([0-9a-f-]{36})/type/([^/]+)",
         "/api/v1/lineage/pipeline/{id}/type/{source}", "delete_lineage_by_source"),
        ("PUT", r"/api/v1/services/ingestionPipelines/([^/]+)/pipelineStatus",
         "/api/v1/services/ingestionPipelines/{fqn}/pipelineStatus", "put_ingestion_status"),
    ]

    def route(self, method, raw_path):
        for m, rx, tmpl, name in self.ROUTES:
            if m != method:
                continue
            mt = re.fullmatch(rx, raw_path)
            if mt:
                return tmpl, getattr(self, "h_" + name), [urllib.parse.unquote(g)
                                                          for g in mt.groups()]
        return raw_path, None, []

    # -- handlers (called with the store lock held) --
    def h_version(self, method, path, q, body):
        return 200, {"version": self.st.args.version, "revision": "fake",
                     "timestamp": now_ms()}

    def h_get_service(self, method, path, q, body, fqn):
        s = self.st.services.get(fqn)
        if not s:
            return 404, {"code": 404, "message": f"pipelineService instance for {fqn} not found"}
        return 200, s

    def h_put_service(self, method, path, q, body):
        st = self.st
        st.check("service", body, method, path)
        fqn = quote_name(body["name"])
        old = st.services.get(fqn)
        if old:
            new = dict(old)
            for k in ("description", "connection", "displayName"):
                if k in body:
                    new[k] = body[k]
            if changed(old, new, ("description", "connection", "displayName")):
                bump(new)
            st.services[fqn] = new
            return 200, new
        ent = {"id": str(uuid.uuid4()), "name": body["name"], "fullyQualifiedName": fqn,
               "serviceType": body["serviceType"], "version": 0.1, "updatedAt": now_ms(),
               "updatedBy": "ingestion-bot", "deleted": False,
               "href": "http://localhost/api/v1/services/pipelineServices/" + urllib.parse.quote(fqn, safe="")}
        for k in ("description", "connection", "displayName", "tags", "owners"):
            if k in body:
                ent[k] = body[k]
        st.check("service_entity", ent, method, path + " (stored entity)")
        st.services[fqn] = ent
        return 201, ent

    def pipeline_entity(self, body, svc, old):
        fqn = f"{svc['fullyQualifiedName']}.{quote_name(body['name'])}"
        tasks = []
        for t in body.get("tasks") or []:
            t = dict(t)
            t["fullyQualifiedName"] = f"{fqn}.{quote_name(t['name'])}"
            tasks.append(t)
        ent = dict(old) if old else {"id": str(uuid.uuid4()), "version": 0.1,
                                     "updatedAt": now_ms(), "updatedBy": "ingestion-bot"}
        ent.update({"name": body["name"], "fullyQualifiedName": fqn,
                    "service": {"id": svc["id"], "type": "pipelineService", "name": svc["name"],
                                "fullyQualifiedName": svc["fullyQualifiedName"]},
                    "serviceType": svc["serviceType"], "tasks": tasks, "deleted": False})
        for k in ("displayName", "description", "sourceUrl", "tags", "owners", "sourceHash",
                  "concurrency", "pipelineLocation", "startDate", "scheduleInterval", "state"):
            if k in body:
                if k == "description" and old and old.get("description") and \
                        old.get("descriptionByUser"):
                    continue    # a person's description survives a bot's PUT
                ent[k] = body[k]
        return fqn, ent

    def h_put_pipeline(self, method, path, q, body):
        st = self.st
        st.check("pipeline", body, method, path)
        svc = st.services.get(quote_name(body["service"])) or \
            st.services.get(body["service"])
        if not svc:
            raise OMError(404, f"pipelineService instance for {body['service']} not found")
        fqn = f"{svc['fullyQualifiedName']}.{quote_name(body['name'])}"
        old = st.pipelines.get(fqn)
        fqn, ent = self.pipeline_entity(body, svc, old)
        st.check("entity", ent, method, path + " (stored entity)")
        if old:
            if ent != old:
                bump(ent)
            st.pipelines[fqn] = ent
            return 200, ent
        st.pipelines[fqn] = ent
        return 201, ent

    def h_list_pipelines(self, method, path, q, body):
        st = self.st
        try:
            limit = int(q.get("limit", "10"))
        except ValueError:
            raise OMError(400, "limit must be an integer")
        if not 0 <= limit <= 1000000:
            raise OMError(400, "[query param limit must be less than or equal to 1000000]")
        include = q.get("include", "non-deleted")
        items = [p for p in st.pipelines.values()
                 if ("service" not in q or p["service"]["name"] == q["service"]) and
                 (include == "all" or p["deleted"] == (include == "deleted"))]
        items.sort(key=lambda p: p["fullyQualifiedName"])
        start = 0
        if q.get("after"):
            try:
                after = base64.b64decode(q["after"]).decode()
            except Exception:
                raise OMError(400, "invalid cursor")
            start = next((i for i, p in enumerate(items) if p["fullyQualifiedName"] > after),
                         len(items))
        page = items[start:start + limit]
        paging = {"total": len(items)}
        if start + limit < len(items) and page:
            paging["after"] = base64.b64encode(page[-1]["fullyQualifiedName"].encode()).decode()
        return 200, {"data": page, "paging": paging}

    def find_by_id(self, pid):
        for p in self.st.pipelines.values():
            if p["id"] == pid:
                return p
        raise OMError(404, f"pipeline instance for {pid} not found")

    def h_get_pipeline(self, method, path, q, body, pid):
        return 200, self.find_by_id(pid)

    def h_get_pipeline_by_name(self, method, path, q, body, fqn):
        p = self.st.pipelines.get(fqn)
        if not p or (p["deleted"] and q.get("include", "non-deleted") == "non-deleted"):
            raise OMError(404, f"pipeline instance for {fqn} not found")
        return 200, p

    def h_put_status(self, method, path, q, body, fqn):
        st = self.st
        st.check("status", body, method, path)
        p = st.pipelines.get(fqn)
        if not p or p["deleted"]:
            raise OMError(404, f"pipeline instance for {fqn} not found")
        names = {t["name"] for t in p.get("tasks", [])}
        for t in body.get("taskStatus") or []:
            if t["name"] not in names:
                st.rejected.append({"method": method, "path": path,
                                    "errors": [f"Invalid task name {t['name']}"]})
                raise OMError(400, f"Invalid task name {t['name']}")
        st.statuses.setdefault(fqn, {})[body["timestamp"]] = body
        out = dict(p)
        out["pipelineStatus"] = body
        return 200, out

    def h_list_status(self, method, path, q, body, fqn):
        st = self.st
        if fqn not in st.pipelines:
            raise OMError(404, f"pipeline instance for {fqn} not found")
        lo, hi = int(q.get("startTs", 0)), int(q.get("endTs", 2 ** 62))
        data = [s for ts, s in sorted(st.statuses.get(fqn, {}).items()) if lo <= ts <= hi]
        return 200, {"data": data, "paging": {"total": len(data)}}

    def h_delete_pipeline(self, method, path, q, body, pid):
        st = self.st
        p = self.find_by_id(pid)
        if q.get("hardDelete") == "true":
            del st.pipelines[p["fullyQualifiedName"]]
            st.statuses.pop(p["fullyQualifiedName"], None)
            return 200, p
        if p["deleted"]:
            raise OMError(404, f"pipeline instance for {pid} not found")
        p["deleted"] = True
        bump(p)
        return 200, p

    def h_patch_pipeline(self, method, path, q, body, pid):
        st = self.st
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json-patch+json":
            raise OMError(415, "PATCH needs Content-Type application/json-patch+json")
        p = self.find_by_id(pid)
        doc = copy.deepcopy(p)
        for op in body if isinstance(body, list) else []:
            ptr = op.get("path", "")
            parts = [x.replace("~1", "/").replace("~0", "~") for x in ptr.split("/")[1:]]
            if not parts or parts[0] in ("id", "fullyQualifiedName", "service", "name"):
                raise OMError(400, f"cannot patch {ptr}")
            parent = doc
            for part in parts[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            last = parts[-1]
            kind = op.get("op")
            if kind in ("add", "replace"):
                if isinstance(parent, list):
                    idx = len(parent) if last == "-" else int(last)
                    if kind == "add":
                        parent.insert(idx, op["value"])
                    else:
                        parent[idx] = op["value"]
                else:
                    parent[last] = op["value"]
            elif kind == "remove":
                if isinstance(parent, list):
                    parent.pop(int(last))
                else:
                    parent.pop(last, None)
            elif kind == "test":
                cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
                if cur != op.get("value"):
                    raise OMError(400, f"test failed at {ptr}")
            else:
                raise OMError(400, f"unsupported patch op {kind}")
        st.check("entity", doc, method, path + " (patched entity)")
        if doc != p:
            bump(doc)
        st.pipelines[p["fullyQualifiedName"]] = doc
        return 200, doc

    def h_put_lineage(self, method, path, q, body):
        st = self.st
        st.check("lineage", body, method, path)
        e = body["edge"]
        ids = {p["id"] for p in st.pipelines.values()} | set(st.tables.values()) | \
            set(st.containers.values())
        for end in (e["fromEntity"], e["toEntity"]):
            if end["id"] not in ids:
                raise OMError(404, f"{end['type']} instance for {end['id']} not found")
        st.lineage[(e["fromEntity"]["id"], e["toEntity"]["id"])] = e
        return 200, None

    def h_delete_lineage_by_source(self, method, path, q, body, pid, source):
        st = self.st
        for k in [k for k, e in st.lineage.items()
                  if (e.get("lineageDetails") or {}).get("pipeline", {}).get("id") == pid and
                  (e.get("lineageDetails") or {}).get("source") == source]:
            del st.lineage[k]
        return 200, None

    def h_put_ingestion_status(self, method, path, q, body, fqn):
        st = self.st
        st.check("ingestion_status", body, method, path)
        if fqn not in st.ingestion:
            raise OMError(404, f"ingestionPipeline instance for {fqn} not found")
        st.ingestion[fqn][body["runId"]] = body
        st.ingestion_log.append({"fqn": fqn, "runId": body["runId"],
                                 "pipelineState": body.get("pipelineState")})
        return 200, None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--token", required=True)
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-client-ca", help="require a client certificate signed by this CA")
    ap.add_argument("--version", default="1.13.2")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--spec-dir", default=DEFAULT_SPEC)
    args = ap.parse_args()
    store = Store(args)
    return serve.serve(Handler, args.port, args.port_file, tls_cert=args.tls_cert,
                       tls_key=args.tls_key, tls_client_ca=args.tls_client_ca, store=store)


if __name__ == "__main__":
    sys.exit(main())
