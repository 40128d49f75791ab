#!/usr/bin/python3
"""A fake OpenMetadata REST API on 127.0.0.1.  Every /api request must carry
the bot's JWT; every request body is validated against OpenMetadata's
official JSON schemas (../shared/openmetadata-spec, with its validate.py)
before it touches the in-memory store; the entities it keeps are validated
against the entity schemas too.  Besides pipelines it keeps what lineage and
ownership need: tables, containers, users, teams, classifications and tags
(seeded or created), a search API that answers like Elasticsearch behind
OpenMetadata's /search/fieldQuery, usage.  See README.md for the control
API."""
import argparse
import base64
import copy
import datetime
import json
import os
import pickle
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import aws_model  # noqa: E402  (the specification folder)
import serve  # noqa: E402
DEFAULT_SPEC = os.path.join(aws_model.shared_dir(), "openmetadata-spec")

SCHEMAS = {
    "service": "api/services/createPipelineService.json",
    "pipeline": "api/data/createPipeline.json",
    "status": "entity/data/pipeline.json#/definitions/pipelineStatus",
    "entity": "entity/data/pipeline.json",
    "service_entity": "entity/services/pipelineService.json",
    "lineage": "api/lineage/addLineage.json",
    "entity_lineage": "type/entityLineage.json",
    "ingestion_status": "entity/services/ingestionPipelines/ingestionPipeline.json"
                        "#/definitions/pipelineStatus",
    "table_entity": "entity/data/table.json",
    "container_entity": "entity/data/container.json",
    "user_entity": "entity/teams/user.json",
    "team_entity": "entity/teams/team.json",
    "classification": "api/classification/createClassification.json",
    "classification_entity": "entity/classification/classification.json",
    "tag": "api/classification/createTag.json",
    "tag_entity": "entity/classification/tag.json",
    "usage": "type/usageRequest.json",
    "entity_usage": "type/entityUsage.json",
}

# What Elasticsearch's mapping makes of each field the search API is asked about
# (openmetadata-spec/src/main/resources/elasticsearch/en/*_index_mapping.json):
#   kw   keyword, exact and case-sensitive
#   kwl  keyword with lowercase_normalizer (case-insensitive)
#   std  text, standard analyzer (a term matches, not the whole value)
#   om   text, om_analyzer (standard tokenizer, lowercase, word_delimiter)
# The int is ignore_above (longer values are not indexed), 0 = none.
INDEX_FIELDS = {
    "table_search_index": {
        "fullyQualifiedName": ("kwl", 0), "name": ("om", 0), "name.keyword": ("kwl", 256),
        "displayName": ("om", 0), "displayName.keyword": ("kwl", 256), "id": ("std", 0),
        "id.keyword": ("kw", 256)},
    "container_search_index": {
        "fullPath": ("kw", 0), "fullyQualifiedName": ("kwl", 0), "name": ("om", 0),
        "name.keyword": ("kwl", 256), "displayName": ("om", 0),
        "displayName.keyword": ("kwl", 256), "id": ("kw", 0)},
    "user_search_index": {
        "email": ("std", 0), "email.keyword": ("kw", 256), "name": ("std", 0),
        "name.keyword": ("kwl", 256), "fullyQualifiedName": ("std", 0),
        "fullyQualifiedName.keyword": ("kwl", 0), "displayName": ("om", 0),
        "displayName.keyword": ("kwl", 256), "id": ("std", 0), "id.keyword": ("kw", 256)},
    "team_search_index": {
        "name": ("om", 0), "name.keyword": ("kwl", 256), "email": ("std", 0),
        "email.keyword": ("kw", 256), "fullyQualifiedName": ("std", 0),
        "fullyQualifiedName.keyword": ("kwl", 0), "displayName": ("om", 0),
        "displayName.keyword": ("kwl", 256), "id": ("std", 0)},
}
INDEX_STORE = {"table_search_index": ("table", "tables"),
               "container_search_index": ("container", "containers"),
               "user_search_index": ("user", "users"), "team_search_index": ("team", "teams")}
ES_DEFAULT_SIZE = 10          # /search/fieldQuery has no size parameter: ES's default applies


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


def unquote_name(name):
    return name[1:-1] if len(name) >= 2 and name[0] == '"' and name[-1] == '"' else name


def fqn_split(fqn):
    """OpenMetadata's FullyQualifiedName.split: '.' separates parts except inside
    double quotes; the quotes are dropped."""
    parts, cur, quoted = [], "", False
    for ch in fqn:
        if ch == '"':
            quoted = not quoted
            cur += ch
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    if quoted or any(p == "" for p in parts):
        raise OMError(400, f"Invalid fully qualified name {fqn}")
    return [unquote_name(p) for p in parts]


def fqn_build(*parts):
    return ".".join(quote_name(p) for p in parts)


def std_tokens(text):
    """An approximation of Lucene's standard tokenizer (UAX#29 word breaks) plus
    the lowercase filter: letters, digits and '_' make words, a single '.' or
    apostrophe between two of them does not break ('example.com' is one term,
    'alice@example.com' two)."""
    return [t.lower() for t in re.findall(r"\w+(?:[.'’]\w+)*", text)]


def om_tokens(text):
    """om_analyzer: standard tokenizer, lowercase, word_delimiter with
    preserve_original (parts split at non-alphanumerics and letter/digit
    changes).  kstem is not applied."""
    out = []
    for t in std_tokens(text):
        out.append(t)
        parts = re.findall(r"[^\W\d_]+|\d+", t)
        if len(parts) > 1 or (parts and parts[0] != t):
            out += parts
    return out


def wildcard_rx(pattern):
    """Elasticsearch wildcard syntax: * any run of characters (dots included),
    ? one character, backslash escapes."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def field_value(doc, field):
    base = field[:-len(".keyword")] if field.endswith(".keyword") else field
    v = doc.get(base)
    return v if isinstance(v, str) else None


def es_match(kind, limit, value, pattern):
    """Does a wildcard query with `pattern` match a document whose field holds
    `value`, given the field's mapping?"""
    if value is None or (limit and len(value) > limit):
        return False
    if kind == "kw":
        return wildcard_rx(pattern).fullmatch(value) is not None
    if kind == "kwl":
        return wildcard_rx(pattern.lower()).fullmatch(value.lower()) is not None
    rx = wildcard_rx(pattern.lower())
    terms = std_tokens(value) if kind == "std" else om_tokens(value)
    return any(rx.fullmatch(t) for t in terms)


def now_ms():
    return int(time.time() * 1000)


def stable_id(*parts):
    """A UUID derived from names, so a seeded service keeps its id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-om:" + "/".join(parts)))


class Store:
    def __init__(self, args):
        self.args = args
        self.validators = None          # GLUEMETAD_VALIDATE=off or --bench: nothing checked
        if aws_model.validating() and not args.bench:
            if not os.path.isfile(os.path.join(args.spec_dir, "validate.py")):
                aws_model.missing("validate.py and json/schema/", os.path.abspath(args.spec_dir))
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
        # an older server: /search/fieldQuery has no deleted filter (see h_search_field)
        self.search_ignores_deleted = False
        self.in_flight = 0
        before = set(vars(self))
        self.reset()
        # what reset() sets is the store: what --state-file keeps across restarts
        self.state_keys = sorted(set(vars(self)) - before)
        self.state_file = args.state_file
        if self.state_file and os.path.exists(self.state_file):
            with open(self.state_file, "rb") as fh:
                for k, v in pickle.load(fh).items():
                    if k in self.state_keys:
                        setattr(self, k, v)

    def persist(self):
        """Writes the store to --state-file (temp file + rename, so a reader or
        a restart sees the old or the new store, never a torn one).  Called
        with the lock held after every change and before its reply is sent:
        a write that was answered survives the process being killed."""
        if not self.state_file:
            return
        tmp = f"{self.state_file}.tmp.{os.getpid()}"
        with open(tmp, "wb") as fh:
            pickle.dump({k: getattr(self, k) for k in self.state_keys}, fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.state_file)

    def reset(self):
        self.services = {}        # fqn -> entity
        self.pipelines = {}       # fqn -> entity (with "statuses" kept aside)
        self.statuses = {}        # fqn -> {timestamp: status}
        self.lineage = {}         # (from id, to id) -> edge
        self.tables = {}          # fqn -> table entity
        self.containers = {}      # fqn -> container entity
        self.users = {}           # name -> user entity
        self.teams = {}           # name -> team entity
        self.classifications = {}  # fqn -> classification entity
        self.tags = {}            # fqn -> tag entity
        self.usage = {}           # pipeline id -> {date: count}
        self.percentile_runs = []  # [{"entity": "pipeline", "date": ...}]
        self.person_edits = {}    # pipeline fqn -> {"description": True, ...} (UI edits)
        self.ingestion = {}       # fqn -> {runId: status}
        self.ingestion_log = []   # every status PUT, in order
        self.id_index = {}        # entity type -> {id: key in its store} (see by_id)
        self.counts = {}
        self.total = 0
        self.rejected = []
        self.max_in_flight = 0

    def check(self, key, body, method, path):
        if self.validators is None:
            return
        errs = sorted((e for e in self.validators[key].iter_errors(body)
                       if not float_multiple(e)), key=lambda e: list(e.absolute_path))
        if errs:
            msgs = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}"
                    for e in errs[:5]]
            self.rejected.append({"method": method, "path": path, "errors": msgs})
            raise OMError(400, "; ".join(msgs))

    def refuse(self, status, message, method, path):
        """A request the real server refuses for what it refers to (an unknown tag,
        owner, lineage end...): recorded like a schema failure."""
        self.rejected.append({"method": method, "path": path, "errors": [message]})
        raise OMError(status, message)

    # -- entities by type --
    def store_of(self, etype):
        return {"table": self.tables, "container": self.containers, "user": self.users,
                "team": self.teams, "pipeline": self.pipelines, "tag": self.tags,
                "classification": self.classifications}.get(etype)

    def by_id(self, etype, eid):
        """The entity of a type with this id: through an index of id -> key,
        checked against the store and rebuilt on a miss (entities are replaced
        whole, under their key, so an index entry may be stale, never wrong)."""
        store = self.store_of(etype) or {}
        index = self.id_index.setdefault(etype, {})
        e = store.get(index.get(eid))
        if e is not None and e["id"] == eid:
            return e
        index.clear()
        index.update((x["id"], k) for k, x in store.items())
        e = store.get(index.get(eid))
        return e if e is not None and e["id"] == eid else None

    @staticmethod
    def ref(entity, etype):
        r = {"id": entity["id"], "type": etype, "name": entity["name"],
             "fullyQualifiedName": entity.get("fullyQualifiedName", entity["name"]),
             "deleted": entity.get("deleted", False)}
        if entity.get("displayName"):
            r["displayName"] = entity["displayName"]
        return r

    def base_entity(self, etype, name, fqn, href_path):
        return {"id": stable_id(etype, fqn), "name": name, "fullyQualifiedName": fqn,
                "version": 0.1, "updatedAt": now_ms(), "updatedBy": "admin", "deleted": False,
                "href": "http://localhost/api/v1/" + href_path + "/" + stable_id(etype, fqn)}

    # -- seeding (the control API; trusted input, still validated) --
    def seed(self, seed):
        for item in seed.get("tables", []):
            item = {"fqn": item} if isinstance(item, str) else dict(item)
            parts = fqn_split(item["fqn"])
            if len(parts) != 4:
                raise OMError(400, f"a table FQN has 4 parts: {item['fqn']}")
            fqn = fqn_build(*parts)
            svc = {"id": stable_id("databaseService", parts[0]), "type": "databaseService",
                   "name": parts[0], "fullyQualifiedName": fqn_build(parts[0])}
            db = {"id": stable_id("database", *parts[:2]), "type": "database", "name": parts[1],
                  "fullyQualifiedName": fqn_build(*parts[:2])}
            sch = {"id": stable_id("databaseSchema", *parts[:3]), "type": "databaseSchema",
                   "name": parts[2], "fullyQualifiedName": fqn_build(*parts[:3])}
            ent = self.base_entity("table", parts[3], fqn, "tables")
            ent.update({"tableType": "Regular", "columns": item.get("columns", []),
                        "service": svc, "database": db, "databaseSchema": sch,
                        "deleted": bool(item.get("deleted", False))})
            self.check("table_entity", ent, "SEED", "tables")
            self.tables[fqn] = ent
        for item in seed.get("containers", []):
            parts = fqn_split(item["fqn"])
            if len(parts) < 2:
                raise OMError(400, f"a container FQN has a service and a name: {item['fqn']}")
            fqn = fqn_build(*parts)
            ent = self.base_entity("container", parts[-1], fqn, "containers")
            ent["service"] = {"id": stable_id("storageService", parts[0]),
                              "type": "storageService", "name": parts[0],
                              "fullyQualifiedName": fqn_build(parts[0])}
            parent = self.containers.get(fqn_build(*parts[:-1]))
            if parent:
                ent["parent"] = self.ref(parent, "container")
            if item.get("fullPath"):
                ent["fullPath"] = item["fullPath"]
            ent["deleted"] = bool(item.get("deleted", False))
            self.check("container_entity", ent, "SEED", "containers")
            self.containers[fqn] = ent
        for item in seed.get("users", []):
            ent = self.base_entity("user", item["name"], quote_name(item["name"]), "users")
            ent.update({"email": item["email"], "isBot": bool(item.get("isBot", False)),
                        "isAdmin": False, "deleted": bool(item.get("deleted", False))})
            if item.get("displayName"):
                ent["displayName"] = item["displayName"]
            self.check("user_entity", ent, "SEED", "users")
            self.users[item["name"]] = ent
        for item in seed.get("teams", []):
            item = {"name": item} if isinstance(item, str) else dict(item)
            ent = self.base_entity("team", item["name"], quote_name(item["name"]), "teams")
            ent["teamType"] = item.get("teamType", "Group")
            for k in ("email", "displayName"):
                if item.get(k):
                    ent[k] = item[k]
            self.check("team_entity", ent, "SEED", "teams")
            self.teams[item["name"]] = ent
        for item in seed.get("classifications", []):
            item = {"name": item} if isinstance(item, str) else dict(item)
            self.put_classification({"description": f"{item['name']} tags", **item})
        for item in seed.get("tags", []):
            item = {"fqn": item} if isinstance(item, str) else dict(item)
            parts = fqn_split(item["fqn"])
            if len(parts) < 2:
                raise OMError(400, f"a tag FQN is classification.tag: {item['fqn']}")
            if fqn_build(parts[0]) not in self.classifications:
                self.put_classification({"name": parts[0], "description": f"{parts[0]} tags"})
            for i in range(2, len(parts) + 1):
                if fqn_build(*parts[:i]) in self.tags:
                    continue
                req = {"name": parts[i - 1], "classification": fqn_build(parts[0]),
                       "description": item.get("description", f"{parts[i - 1]} tag")}
                if i > 2:
                    req["parent"] = fqn_build(*parts[:i - 1])
                self.put_tag(req)
        for item in seed.get("lineage", []):    # edges a person drew, by FQN
            ends = []
            for k in ("from", "to"):
                etype = item.get(k + "Type", "table")
                ent = (self.store_of(etype) or {}).get(item[k])
                if not ent:
                    raise OMError(404, f"{etype} instance for {item[k]} not found")
                ends.append({"id": ent["id"], "type": etype})
            details = {"source": item.get("source", "Manual")}
            if item.get("pipeline"):
                p = self.pipelines.get(item["pipeline"])
                if not p:
                    raise OMError(404, f"pipeline instance for {item['pipeline']} not found")
                details["pipeline"] = {"id": p["id"], "type": "pipeline"}
            edge = {"fromEntity": ends[0], "toEntity": ends[1], "lineageDetails": details}
            self.check("lineage", {"edge": edge}, "SEED", "lineage")
            self.lineage[(ends[0]["id"], ends[1]["id"])] = edge

    def put_classification(self, body):
        fqn = quote_name(body["name"])
        old = self.classifications.get(fqn)
        ent = dict(old) if old else self.base_entity("classification", body["name"], fqn,
                                                      "classifications")
        for k in ("description", "displayName", "provider", "mutuallyExclusive"):
            if k in body:
                ent[k] = body[k]
        ent.setdefault("mutuallyExclusive", False)
        self.check("classification_entity", ent, "PUT", "/api/v1/classifications (stored)")
        if old and ent != old:
            bump(ent)
        self.classifications[fqn] = ent
        return (200 if old else 201), ent

    def put_tag(self, body, method="PUT", path="/api/v1/tags"):
        parent = None
        if body.get("parent"):
            parent = self.tags.get(body["parent"])
            if not parent or parent.get("deleted"):
                self.refuse(404, f"tag instance for {body['parent']} not found", method, path)
        cname = body.get("classification")
        if not cname:
            if not parent:
                self.refuse(400, "classification must not be null", method, path)
            cname = parent["classification"]["fullyQualifiedName"]
        cls = self.classifications.get(cname) or self.classifications.get(quote_name(cname))
        if not cls or cls.get("deleted"):
            self.refuse(404, f"classification instance for {cname} not found", method, path)
        if parent and parent["classification"]["id"] != cls["id"]:
            self.refuse(400, f"tag {body['parent']} is not in classification {cname}",
                        method, path)
        fqn = (parent["fullyQualifiedName"] if parent else cls["fullyQualifiedName"]) + \
            "." + quote_name(body["name"])
        old = self.tags.get(fqn)
        ent = dict(old) if old else self.base_entity("tag", body["name"], fqn, "tags")
        ent["classification"] = self.ref(cls, "classification")
        if parent:
            ent["parent"] = self.ref(parent, "tag")
        for k in ("description", "displayName", "style", "provider", "mutuallyExclusive"):
            if k in body:
                ent[k] = body[k]
        self.check("tag_entity", ent, method, path + " (stored entity)")
        if old and ent != old:
            bump(ent)
        self.tags[fqn] = ent
        return (200 if old else 201), ent

    # -- what a pipeline refers to --
    def labels(self, tags, method, path):
        """TagLabels as the server stores them, each tag looked up (an unknown tag is
        refused as the real server refuses it)."""
        out = []
        for t in tags or []:
            fqn = t["tagFQN"]
            if t.get("source", "Classification") == "Glossary":
                self.refuse(404, f"glossaryTerm instance for {fqn} not found", method, path)
            tag = self.tags.get(fqn)
            if not tag or tag.get("deleted"):
                self.refuse(404, f"tag instance for {fqn} not found", method, path)
            label = dict(t)
            label["name"] = tag["name"]
            label.setdefault("description", tag.get("description", ""))
            out.append(label)
        return out

    def owners(self, owners, method, path):
        out = []
        for o in owners or []:
            if o.get("type") not in ("user", "team"):
                self.refuse(400, f"Invalid ownerType {o.get('type')}", method, path)
            ent = self.by_id(o["type"], o["id"])
            if not ent or ent.get("deleted"):
                self.refuse(404, f"{o['type']} instance for {o['id']} not found", method, path)
            if o["type"] == "team" and ent.get("teamType", "Group") != "Group":
                self.refuse(400, f"Team of type {ent['teamType']} can't own entities. Only Team "
                            "of type Group can own entities.", method, path)
            out.append(self.ref(ent, o["type"]))
        return out


def float_multiple(err):
    """jsonschema checks multipleOf with binary floats (0.3 / 0.1 != 3); the server
    (Java, BigDecimal) does not fail entity versions such as 0.3 that way."""
    if err.validator != "multipleOf" or not isinstance(err.instance, (int, float)):
        return False
    q = err.instance / err.validator_value
    return abs(q - round(q)) < 1e-9


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
        except serve.Misbehave as m:
            serve.misbehave(self, m.fault)
            return
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
                    e["editedByPerson"] = dict(st.person_edits.get(fqn, {}))
                    pipelines.append(e)
                fqn_of = {}
                for etype in ("pipeline", "table", "container"):
                    for e in st.store_of(etype).values():
                        fqn_of[e["id"]] = e["fullyQualifiedName"]
                usage = {fqn_of.get(pid, pid): dict(sorted(days.items()))
                         for pid, days in st.usage.items()}
                lineage_fqn = []
                for e in st.lineage.values():
                    d = e.get("lineageDetails") or {}
                    lineage_fqn.append({
                        "from": fqn_of.get(e["fromEntity"]["id"]),
                        "fromType": e["fromEntity"]["type"],
                        "to": fqn_of.get(e["toEntity"]["id"]), "toType": e["toEntity"]["type"],
                        "pipeline": fqn_of.get((d.get("pipeline") or {}).get("id")),
                        "source": d.get("source")})
                return 200, {"services": list(st.services.values()), "pipelines": pipelines,
                             "lineage": list(st.lineage.values()), "lineageFqn": lineage_fqn,
                             "tables": list(st.tables.values()),
                             "containers": list(st.containers.values()),
                             "users": list(st.users.values()), "teams": list(st.teams.values()),
                             "classifications": list(st.classifications.values()),
                             "tags": list(st.tags.values()), "usage": usage,
                             "percentileRuns": st.percentile_runs,
                             "ingestionPipelineStatuses": st.ingestion,
                             "ingestionPipelineStatusLog": st.ingestion_log, "counts": st.counts,
                             "total": st.total, "rejected": st.rejected,
                             "max_in_flight": st.max_in_flight}
            if method == "GET" and self.path == "/__fake/stats":
                # what the bench reads around each run: the dump's counts, cheaply
                return 200, {"counts": st.counts, "total": st.total,
                             "rejected": len(st.rejected), "max_in_flight": st.max_in_flight,
                             "pipelines": len(st.pipelines),
                             "statuses": sum(len(v) for v in st.statuses.values())}
            if method == "POST" and self.path == "/__fake/snapshot":
                # the whole store, kept aside to be put back by /__fake/restore
                st.snapshot = copy.deepcopy({k: getattr(st, k) for k in st.state_keys})
                return 200, {}
            if method == "POST" and self.path == "/__fake/restore":
                if getattr(st, "snapshot", None) is None:
                    return 409, {"message": "no snapshot"}
                for k, v in copy.deepcopy(st.snapshot).items():
                    setattr(st, k, v)
                st.persist()
                return 200, {}
            if method == "POST" and self.path == "/__fake/reset":
                st.reset()
                st.persist()
                return 200, {}
            if method == "POST" and self.path == "/__fake/seed":
                seed = json.loads(raw or b"{}")
                for fqn in seed.get("ingestionPipelines", []):
                    st.ingestion.setdefault(fqn, {})
                try:
                    st.seed(seed)
                except OMError as e:
                    return e.status, {"code": e.status, "message": e.message}
                finally:
                    st.persist()
                return 200, {}
            if method == "POST" and self.path == "/__fake/edit":
                try:
                    return 200, self.person_edit(json.loads(raw or b"{}"))
                except OMError as e:
                    return e.status, {"code": e.status, "message": e.message}
                finally:
                    st.persist()
            if method == "POST" and self.path == "/__fake/config":
                cfg = json.loads(raw or b"{}")
                if "faults" in cfg:
                    try:
                        serve.check_faults(cfg["faults"])
                    except ValueError as e:
                        return 400, {"message": str(e)}
                    st.faults = [dict(f, hits=0) for f in cfg["faults"]]
                if "latency_ms" in cfg:
                    st.latency_ms = int(cfg["latency_ms"])
                if "search_ignores_deleted" in cfg:
                    st.search_ignores_deleted = bool(cfg["search_ignores_deleted"])
                return 200, {}
            if method == "GET" and self.path == "/__fake/faults":
                return 200, {"faults": st.faults}
        return 404, {"message": "unknown control path"}

    def person_edit(self, edit):
        """What a person does in the UI: set a pipeline's description, owners (by
        user/team name) or tags (by FQN).  Recorded as edits by a person."""
        st = self.st
        fqn = edit.get("fqn", "")
        p = st.pipelines.get(fqn)
        if not p:
            raise OMError(404, f"pipeline instance for {fqn} not found")
        doc = copy.deepcopy(p)
        marks = st.person_edits.setdefault(fqn, {})
        if "description" in edit:
            doc["description"] = edit["description"]
            marks["description"] = True
        if "owners" in edit:
            refs = []
            for o in edit["owners"]:
                store = st.users if o.get("type", "user") == "user" else st.teams
                ent = store.get(o["name"])
                if not ent:
                    raise OMError(404, f"{o.get('type', 'user')} instance for {o['name']} "
                                       "not found")
                refs.append(st.ref(ent, o.get("type", "user")))
            doc["owners"] = refs
            marks["owners"] = True
        if "tags" in edit:
            labels = []
            for t in edit["tags"]:
                tag = st.tags.get(t)
                if not tag:
                    raise OMError(404, f"tag instance for {t} not found")
                labels.append({"tagFQN": t, "name": tag["name"],
                               "description": tag.get("description", ""),
                               "source": "Classification", "labelType": "Manual",
                               "state": "Confirmed"})
            doc["tags"] = sorted(labels, key=lambda x: x["tagFQN"])
            marks["tags"] = True
        doc["updatedBy"] = "admin"
        st.check("entity", doc, "EDIT", fqn)
        if doc != p:
            bump(doc)
        st.pipelines[fqn] = doc
        return doc

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
                if f.get("method", method) == method and re.search(f.get("path", ""), path) \
                        and re.search(f.get("match_body", ""), raw.decode("utf-8", "replace")):
                    if f.get("times", -1) > 0:
                        f["times"] -= 1
                    f["hits"] = f.get("hits", 0) + 1
                    if "action" in f:       # a transport-level fault, see serve.misbehave
                        raise serve.Misbehave(f)
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
            try:
                return handler(method, path, query, body, *args)
            finally:
                if method != "GET":
                    st.persist()

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
        ("DELETE", r"/api/v1/lineage/([a-zA-Z]+)/([0-9a-f-]{36})/([a-zA-Z]+)/([0-9a-f-]{36})",
         "/api/v1/lineage/{fromEntity}/{fromId}/{toEntity}/{toId}", "delete_lineage_edge"),
        ("GET", r"/api/v1/lineage/([a-zA-Z]+)/([0-9a-f-]{36})", "/api/v1/lineage/{entity}/{id}",
         "get_lineage"),
        ("PUT", r"/api/v1/services/ingestionPipelines/([^/]+)/pipelineStatus",
         "/api/v1/services/ingestionPipelines/{fqn}/pipelineStatus", "put_ingestion_status"),
        ("GET", r"/api/v1/tables/name/([^/]+)", "/api/v1/tables/name/{fqn}", "get_table_by_name"),
        ("GET", r"/api/v1/tables/([0-9a-f-]{36})", "/api/v1/tables/{id}", "get_table"),
        ("GET", r"/api/v1/containers/name/([^/]+)", "/api/v1/containers/name/{fqn}",
         "get_container_by_name"),
        ("GET", r"/api/v1/containers/([0-9a-f-]{36})", "/api/v1/containers/{id}",
         "get_container"),
        ("GET", r"/api/v1/users/name/([^/]+)", "/api/v1/users/name/{name}", "get_user_by_name"),
        ("GET", r"/api/v1/users/([0-9a-f-]{36})", "/api/v1/users/{id}", "get_user"),
        ("GET", r"/api/v1/teams/name/([^/]+)", "/api/v1/teams/name/{name}", "get_team_by_name"),
        ("GET", r"/api/v1/teams/([0-9a-f-]{36})", "/api/v1/teams/{id}", "get_team"),
        ("GET", r"/api/v1/search/fieldQuery", "/api/v1/search/fieldQuery", "search_field"),
        ("GET", r"/api/v1/search/query", "/api/v1/search/query", "search_query"),
        ("GET", r"/api/v1/classifications/name/([^/]+)", "/api/v1/classifications/name/{name}",
         "get_classification"),
        ("PUT", r"/api/v1/classifications", "/api/v1/classifications", "put_classification"),
        ("GET", r"/api/v1/tags/name/([^/]+)", "/api/v1/tags/name/{fqn}", "get_tag"),
        ("PUT", r"/api/v1/tags", "/api/v1/tags", "put_tag"),
        ("POST", r"/api/v1/usage/pipeline/([0-9a-f-]{36})", "/api/v1/usage/pipeline/{id}",
         "usage"),
        ("PUT", r"/api/v1/usage/pipeline/([0-9a-f-]{36})", "/api/v1/usage/pipeline/{id}",
         "usage"),
        ("POST", r"/api/v1/usage/compute\.percentile/pipeline/([^/]+)",
         "/api/v1/usage/compute.percentile/pipeline/{date}", "compute_percentile"),
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

    def pipeline_entity(self, body, svc, old, method, path):
        """The entity a PUT makes, with OpenMetadata's PUT-by-a-bot rules
        (EntityRepository.EntityUpdater): a non-empty stored description or
        displayName is kept, the request's tags are merged with the stored ones
        (union by tagFQN, sorted), and a request without owners keeps the stored
        owners (PUT cannot remove ownership); non-empty owners replace them."""
        st = self.st
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
        for k in ("sourceUrl", "sourceHash", "concurrency", "pipelineLocation", "startDate",
                  "scheduleInterval", "state"):
            if k in body:
                ent[k] = body[k]
        for k in ("description", "displayName"):
            if k in body and not (old and old.get(k)):
                ent[k] = body[k]
        labels = st.labels(body.get("tags"), method, path)
        merged = {t["tagFQN"]: t for t in (old or {}).get("tags") or []}
        merged.update((t["tagFQN"], t) for t in labels)
        if merged:
            ent["tags"] = [merged[k] for k in sorted(merged)]
        owners = st.owners(body.get("owners"), method, path)
        if owners:
            ent["owners"] = owners
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
        fqn, ent = self.pipeline_entity(body, svc, old, method, path)
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
        # PipelineRepository.clearFields (openmetadata-service, jdbi3): a
        # pipeline's tasks are in a listing only when `fields` asks for them
        fields = {f.strip() for f in q.get("fields", "").split(",")}
        if "tasks" not in fields:
            page = [{k: v for k, v in p.items() if k != "tasks"} for p in page]
        return 200, {"data": page, "paging": paging}

    def find_by_id(self, pid):
        p = self.st.by_id("pipeline", pid)
        if p is not None:
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
        if doc.get("tags"):
            doc["tags"] = st.labels(doc["tags"], method, path)
        if doc.get("owners"):
            doc["owners"] = st.owners(doc["owners"], method, path)
        if doc != p:
            bump(doc)
        st.pipelines[p["fullyQualifiedName"]] = doc
        return 200, doc

    def h_put_lineage(self, method, path, q, body):
        st = self.st
        st.check("lineage", body, method, path)
        e = body["edge"]
        ends = [e["fromEntity"], e["toEntity"]]
        pipe = (e.get("lineageDetails") or {}).get("pipeline")
        if pipe:
            ends.append(pipe)
        for end in ends:
            ent = st.by_id(end["type"], end["id"]) if end["type"] in (
                "pipeline", "table", "container") else None
            if not ent or ent.get("deleted"):
                st.refuse(404, f"{end['type']} instance for {end['id']} not found", method, path)
        if e["fromEntity"]["id"] == e["toEntity"]["id"]:
            st.refuse(400, "Lineage edge from an entity to itself", method, path)
        st.lineage[(e["fromEntity"]["id"], e["toEntity"]["id"])] = e
        return 200, None

    def h_delete_lineage_by_source(self, method, path, q, body, pid, source):
        """DELETE /lineage/{entityType}/{entityId}/type/{lineageSource}, as the
        server runs it (open-metadata/OpenMetadata, openmetadata-service/.../
        jdbi3/LineageRepository.java deleteLineageBySource): for PipelineLineage
        (and OpenLineage) it calls EntityRelationshipDAO.deleteLineageBySourcePipeline
        (.../jdbi3/CollectionDAO.java), whose SQL is
          DELETE FROM entity_relationship WHERE json->'pipeline'->>'id' = :toId
            OR toId = :toId AND relation = :relation AND json->>'source' = :source
        AND binds tighter than OR, so every edge whose lineageDetails name the
        pipeline goes, whatever its source -- a person's Manual edge included --
        plus the edges into the entity with that source.  Other sources go through
        deleteLineageBySource: source = :source AND toId = :toId AND toEntity =
        :toEntity.  (Older servers pass toEntity where the source belongs, which
        leaves only the first condition: the same edges go.)"""
        st = self.st

        def details(e):
            return e.get("lineageDetails") or {}
        if source in ("PipelineLineage", "OpenLineage"):
            doomed = [k for k, e in st.lineage.items()
                      if (details(e).get("pipeline") or {}).get("id") == pid or
                      (e["toEntity"]["id"] == pid and details(e).get("source") == source)]
        else:
            doomed = [k for k, e in st.lineage.items()
                      if e["toEntity"]["id"] == pid and e["toEntity"]["type"] == "pipeline" and
                      details(e).get("source", "Manual") == source]
        for k in doomed:
            del st.lineage[k]
        return 200, None

    def h_delete_lineage_edge(self, method, path, q, body, from_type, from_id, to_type, to_id):
        """DELETE /lineage/{fromEntity}/{fromId}/{toEntity}/{toId}: LineageResource
        .deleteLineage -> LineageRepository.deleteLineage: both ends must exist
        (Include.ALL), then the one edge between them goes; none: 404 "Lineage
        edge not found"."""
        st = self.st
        for etype, eid in ((from_type, from_id), (to_type, to_id)):
            if not st.by_id(etype, eid):
                raise OMError(404, f"{etype} instance for {eid} not found")
        if (from_id, to_id) not in st.lineage:
            raise OMError(404, "Lineage edge not found")
        del st.lineage[(from_id, to_id)]
        return 200, None

    def h_get_lineage(self, method, path, q, body, etype, eid):
        """GET /lineage/{entity}/{id}?upstreamDepth=&downstreamDepth= (default 1,
        0..3), from the database as LineageRepository.computeLineage does it: for a
        pipeline, the upstream edges are the rows whose lineageDetails name it
        (findFromPipeline), each reported as {fromEntity: the row's from, toEntity:
        the pipeline} -- the row's own downstream end is not in the answer -- and
        the downstream edges likewise (findToPipeline); for any other entity, the
        edges into it (findFrom) and out of it (findTo).  Nodes are the entities
        met (deleted ones included)."""
        st = self.st
        primary = st.by_id(etype, eid)
        if not primary or primary.get("deleted"):
            raise OMError(404, f"{etype} instance for {eid} not found")
        depth = {}
        for k in ("upstreamDepth", "downstreamDepth"):
            try:
                depth[k] = int(q.get(k, "1"))
            except ValueError:
                st.refuse(400, f"query param {k} must be a number", method, path)
            if not 0 <= depth[k] <= 3:
                st.refuse(400, f"query param {k} must be between 0 and 3", method, path)
        nodes, up, down = [], [], []

        def names(e, nid):
            return (e.get("lineageDetails") or {}).get("pipeline", {}).get("id") == nid

        def walk(nid, ntype, d, upstream):
            if d == 0:
                return
            far = "fromEntity" if upstream else "toEntity"
            near = "toEntity" if upstream else "fromEntity"
            if ntype == "pipeline":
                rows = [e for e in st.lineage.values() if names(e, nid) or e[near]["id"] == nid]
            else:
                rows = [e for e in st.lineage.values()
                        if e[near]["id"] == nid and e[near]["type"] == ntype]
            refs = []
            for e in sorted(rows, key=lambda e: e[far]["id"]):
                ent = st.by_id(e[far]["type"], e[far]["id"])
                if not ent:
                    continue
                ref = st.ref(ent, e[far]["type"])
                out = {"fromEntity": ref["id"] if upstream else nid,
                       "toEntity": nid if upstream else ref["id"]}
                if e.get("lineageDetails") is not None:
                    out["lineageDetails"] = copy.deepcopy(e["lineageDetails"])
                (up if upstream else down).append(out)
                refs.append(ref)
            nodes.extend(refs)
            for ref in refs:
                walk(ref["id"], ref["type"], d - 1, upstream)
        walk(eid, etype, depth["upstreamDepth"], True)
        walk(eid, etype, depth["downstreamDepth"], False)
        seen, distinct = set(), []
        for n in nodes:
            if n["id"] not in seen:
                seen.add(n["id"])
                distinct.append(n)
        out = {"entity": st.ref(primary, etype), "nodes": distinct, "upstreamEdges": up,
               "downstreamEdges": down}
        st.check("entity_lineage", out, method, path + " (reply)")
        return 200, out

    # -- tables, containers, users, teams --
    def get_named(self, etype, key, q):
        ent = self.st.store_of(etype).get(key)
        include = q.get("include", "non-deleted")
        if not ent or (include != "all" and ent.get("deleted") != (include == "deleted")):
            raise OMError(404, f"{etype} instance for {key} not found")
        return 200, ent

    def get_by_id(self, etype, eid, q):
        ent = self.st.by_id(etype, eid)
        include = q.get("include", "non-deleted")
        if not ent or (include != "all" and ent.get("deleted") != (include == "deleted")):
            raise OMError(404, f"{etype} instance for {eid} not found")
        return 200, ent

    def h_get_table_by_name(self, method, path, q, body, fqn):
        return self.get_named("table", fqn, q)

    def h_get_table(self, method, path, q, body, eid):
        return self.get_by_id("table", eid, q)

    def h_get_container_by_name(self, method, path, q, body, fqn):
        return self.get_named("container", fqn, q)

    def h_get_container(self, method, path, q, body, eid):
        return self.get_by_id("container", eid, q)

    def h_get_user_by_name(self, method, path, q, body, name):
        return self.get_named("user", name, q)

    def h_get_user(self, method, path, q, body, eid):
        return self.get_by_id("user", eid, q)

    def h_get_team_by_name(self, method, path, q, body, name):
        return self.get_named("team", name, q)

    def h_get_team(self, method, path, q, body, eid):
        return self.get_by_id("team", eid, q)

    # -- search, as OpenMetadata's SearchResource answers it from Elasticsearch --
    def es_reply(self, index, docs, start, size):
        etype = INDEX_STORE[index][0]
        hits = []
        for d in docs[start:start + size]:
            src = copy.deepcopy(d)
            src["entityType"] = etype
            hits.append({"_index": index, "_id": d["id"], "_score": 1.0, "_source": src})
        return 200, {"took": 1, "timed_out": False,
                     "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(docs), "relation": "eq"},
                              "max_score": 1.0 if docs else None, "hits": hits}}

    def search_docs(self, index, field, pattern, deleted, method, path):
        st = self.st
        if index not in INDEX_STORE:
            st.refuse(400, f"no such index [{index}]", method, path)
        kind = INDEX_FIELDS[index].get(field)
        store = getattr(st, INDEX_STORE[index][1])
        if kind is None:            # a wildcard query on an unmapped field finds nothing
            return []
        return [d for d in store.values()
                if (deleted is None or bool(d.get("deleted")) == deleted) and
                es_match(kind[0], kind[1], field_value(d, field), pattern)]

    def h_search_field(self, method, path, q, body):
        """GET /search/fieldQuery?fieldName=&fieldValue=&index=&deleted= : a wildcard
        query on one field plus a term filter on `deleted`.  The endpoint has no
        from/size parameters (a client may send them; they are ignored), so at most
        Elasticsearch's default 10 hits come back, with the full total.

        With the control switch search_ignores_deleted, as an older server: its
        searchByField(fieldName, fieldValue, index) (open-metadata/OpenMetadata,
        openmetadata-service/.../search/elasticsearch/ElasticSearchClient.java and
        .../opensearch/OpenSearchClient.java) ran only wildcardQuery(fieldName,
        fieldValue), without the .filter(termQuery("deleted", deleted)) newer
        ones add: deleted entities come back among the hits, in index order."""
        st = self.st
        if not q.get("fieldName") or "fieldValue" not in q:
            st.refuse(400, "fieldName and fieldValue are required", method, path)
        index = q.get("index", "table_search_index")
        deleted = q.get("deleted", "false").lower() == "true"
        if st.search_ignores_deleted:
            deleted = None
        docs = self.search_docs(index, q["fieldName"], q["fieldValue"], deleted, method, path)
        return self.es_reply(index, docs, 0, ES_DEFAULT_SIZE)

    def h_search_query(self, method, path, q, body):
        """GET /search/query, only as far as the Python client's lookups use it:
        q=FIELD:VALUE (VALUE may be quoted; wildcards as in a wildcard query) or q=*,
        with index, from, size and deleted."""
        st = self.st
        for k in ("query_filter", "post_filter", "sort_field"):
            if q.get(k):
                st.refuse(400, f"the stand-in's /search/query does not implement {k}",
                          method, path)
        index = q.get("index", "table_search_index")
        deleted = q.get("deleted", "false").lower() == "true"
        try:
            start, size = int(q.get("from", "0")), int(q.get("size", "10"))
        except ValueError:
            st.refuse(400, "from and size must be integers", method, path)
        text = q.get("q", "") or "*"
        if text == "*":
            if index not in INDEX_STORE:
                st.refuse(400, f"no such index [{index}]", method, path)
            docs = [d for d in getattr(st, INDEX_STORE[index][1]).values()
                    if bool(d.get("deleted")) == deleted]
        else:
            m = re.fullmatch(r'([A-Za-z_.]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))', text)
            if not m:
                st.refuse(400, f"the stand-in's /search/query only takes q=FIELD:VALUE "
                               f"(got {text!r})", method, path)
            value = m.group(2) if m.group(2) is not None else m.group(3)
            value = re.sub(r"\\(.)", r"\1", value) if m.group(2) is not None else value
            docs = self.search_docs(index, m.group(1), value, deleted, method, path)
        return self.es_reply(index, docs, start, size)

    # -- classifications and tags --
    def h_get_classification(self, method, path, q, body, name):
        ent = self.st.classifications.get(name) or self.st.classifications.get(quote_name(name))
        if not ent:
            raise OMError(404, f"classification instance for {name} not found")
        return 200, ent

    def h_put_classification(self, method, path, q, body):
        self.st.check("classification", body, method, path)
        return self.st.put_classification(body)

    def h_get_tag(self, method, path, q, body, fqn):
        ent = self.st.tags.get(fqn)
        if not ent:
            raise OMError(404, f"tag instance for {fqn} not found")
        return 200, ent

    def h_put_tag(self, method, path, q, body):
        self.st.check("tag", body, method, path)
        return self.st.put_tag(body, method, path)

    # -- usage --
    def h_usage(self, method, path, q, body, pid):
        st = self.st
        st.check("usage", body, method, path)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", body["date"]):
            st.refuse(400, f"Invalid date {body['date']}: expected yyyy-MM-dd", method, path)
        try:
            datetime.date.fromisoformat(body["date"])
        except ValueError:
            st.refuse(400, f"Invalid date {body['date']}", method, path)
        if body["count"] < 0:
            st.refuse(400, "count must be greater than or equal to 0", method, path)
        p = st.by_id("pipeline", pid)
        if not p or p["deleted"]:
            raise OMError(404, f"pipeline instance for {pid} not found")
        # As OpenMetadata's server does (open-metadata/OpenMetadata,
        # openmetadata-service/.../resources/usage/UsageResource.java and
        # .../jdbi3/UsageRepository.java insertToUsageRepository): POST is
        # create() -> UsageDAO.insertOrReplaceCount, "ON DUPLICATE KEY UPDATE ...
        # count1 = :count1" -- the day's count is replaced; PUT is createOrUpdate()
        # -> UsageDAO.insertOrUpdateCount, "ON DUPLICATE KEY UPDATE count1 = count1
        # + :count1" -- the count is ADDED to the stored one (the DAO is in
        # .../jdbi3/CollectionDAO.java, interface UsageDAO).  Both answer 201
        # (RestUtil.PutResponse with Response.Status.CREATED).
        days = st.usage.setdefault(pid, {})
        if method == "PUT":
            days[body["date"]] = days.get(body["date"], 0) + body["count"]
        else:
            days[body["date"]] = body["count"]
        out = {"entity": st.ref(p, "pipeline"),
               "usage": [{"date": body["date"], "dailyStats": {"count": days[body["date"]],
                                                                "percentileRank": 0.0}}]}
        st.check("entity_usage", out, method, path + " (reply)")
        return 201, out

    def h_compute_percentile(self, method, path, q, body, date):
        st = self.st
        try:
            datetime.date.fromisoformat(date)
        except ValueError:
            st.refuse(400, f"Invalid date {date}", method, path)
        st.percentile_runs.append({"entity": "pipeline", "date": date})
        return 201, None        # UsageResource.computePercentile: Response.Status.CREATED

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
    ap.add_argument("--spec-dir", default=None)
    aws_model.add_shared_option(ap)
    ap.add_argument("--state-file", help="keep the store in this file across restarts")
    ap.add_argument("--bench", action="store_true",
                    help="validate nothing (make bench: the tests prove the request shapes)")
    args = aws_model.use_shared(ap.parse_args())
    args.spec_dir = args.spec_dir or os.path.join(aws_model.shared_dir(), "openmetadata-spec")
    store = Store(args)
    return serve.serve(Handler, args.port, args.port_file, tls_cert=args.tls_cert,
                       tls_key=args.tls_key, tls_client_ca=args.tls_client_ca, store=store)


if __name__ == "__main__":
    sys.exit(main())
