#!/usr/bin/python3
"""Prints a seeded Glue estate (JSON) for the fake Glue: workflows with
their graphs (a start trigger, jobs and crawlers joined by conditional
triggers), jobs, and workflow runs with their job runs and crawls in every
state Glue has, spread over the last days.  Deterministic for a seed and a
--now.

--lineage adds lineage material (see lineage() below): jobs with Glue Studio
CodeGenConfigurationNodes of every family OpenMetadata's gluepipeline
connector reads, job scripts in S3 using each pattern of its script parser,
Glue connections for the JDBC ones, the OpenMetadata seed (tables,
containers, users, teams, tags) and the lineage OpenMetadata's connector
would derive from all that, computed here from what was generated."""
import argparse
import json
import random
import re
import sys
import time

PREFIXES = ["etl_sales", "etl_orders", "nightly_load", "ml_train", "reporting",
            "ingest_raw", "cdc_sync", "dq_checks"]
ODD = ["etl.sales.daily", "daily load", "tägliche_ladung_ü", "集計ワークフロー",
       "long_" + "w" * 250]


def uid(rng):
    return "wnode_" + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def graph_for(rng, wi, jobs_per, odd):
    """Nodes and edges: start trigger -> job 0 -> (cond trigger) -> jobs ...,
    with a crawler at the end of some workflows."""
    nodes, edges = [], []

    def node(type_, name, **details):
        n = {"Type": type_, "Name": name, "UniqueId": uid(rng)}
        n.update(details)
        nodes.append(n)
        return n

    start = node("TRIGGER", f"start_{wi:03d}", TriggerDetails={"Trigger": {
        "Name": f"start_{wi:03d}", "Type": "SCHEDULED", "State": "ACTIVATED",
        "Schedule": "cron(0 2 * * ? *)",
        "Actions": [{"JobName": f"job_{wi:03d}_0"}]}})
    jobs = []
    prev = start
    i = 0
    while i < jobs_per:
        name = f"job_{wi:03d}_{i}"
        if odd and i == 1:
            name = f"job_{wi:03d}_" + "very_long_job_name_" * 8     # > 128 characters
        j = node("JOB", name, JobDetails={})
        jobs.append(j)
        edges.append({"SourceId": prev["UniqueId"], "DestinationId": j["UniqueId"]})
        if i + 1 < jobs_per:
            fan = rng.random() < 0.3 and i + 2 < jobs_per
            trig = node("TRIGGER", f"after_{wi:03d}_{i}", TriggerDetails={"Trigger": {
                "Name": f"after_{wi:03d}_{i}", "Type": "CONDITIONAL", "State": "ACTIVATED",
                "Predicate": {"Logical": "AND", "Conditions": [
                    {"LogicalOperator": "EQUALS", "JobName": name, "State": "SUCCEEDED"}]}}})
            edges.append({"SourceId": j["UniqueId"], "DestinationId": trig["UniqueId"]})
            if fan:     # one trigger starts two jobs
                name2 = f"job_{wi:03d}_{i + 1}"
                j2 = node("JOB", name2, JobDetails={})
                jobs.append(j2)
                edges.append({"SourceId": trig["UniqueId"], "DestinationId": j2["UniqueId"]})
                i += 1
            prev = trig
        i += 1
    crawler = None
    if wi % 3 == 0:
        crawler = node("CRAWLER", f"crawl_{wi:03d}", CrawlerDetails={})
        edges.append({"SourceId": jobs[-1]["UniqueId"], "DestinationId": crawler["UniqueId"]})
    return nodes, edges, jobs, crawler


def job_object(name, now):
    return {"Name": name, "Role": "arn:aws:iam::123456789012:role/glue-etl",
            "CreatedOn": now - 90 * 86400, "LastModifiedOn": now - 10 * 86400,
            "Command": {"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name[:60]}.py",
                        "PythonVersion": "3"},
            "GlueVersion": "4.0", "WorkerType": "G.1X", "NumberOfWorkers": 2, "Timeout": 60}


TERMINAL_BAD = ["FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED"]
RUNNING_STATES = ["RUNNING", "STARTING", "WAITING"]


def make_run(rng, wf_name, wi, k, nodes, jobs, crawler, started, kind):
    """kind: ok, failed, running, stopped, error, stopping."""
    run_id = f"wr_{wi:03d}_{k:03d}_" + "".join(rng.choice("0123456789abcdef") for _ in range(8))
    gnodes = []
    t = started + 5
    stats = {"TotalActions": 0, "TimeoutActions": 0, "FailedActions": 0, "StoppedActions": 0,
             "SucceededActions": 0, "RunningActions": 0, "ErroredActions": 0,
             "WaitingActions": 0}
    bad_at = rng.randrange(len(jobs)) if kind in ("failed", "stopped", "error") else -1
    run_at = rng.randrange(len(jobs)) if kind in ("running", "stopping") else -1
    stop = False
    job_states = {}
    for j in jobs:
        idx = jobs.index(j)
        if stop:
            continue
        runs = []
        if kind == "ok" or idx < max(bad_at, run_at):
            if rng.random() < 0.15:      # a failed attempt, retried
                runs.append({"Id": f"jr_{run_id}_{idx}_0", "Attempt": 0, "JobName": j["Name"],
                             "StartedOn": t, "CompletedOn": t + 60, "JobRunState": "FAILED",
                             "ErrorMessage": "transient failure", "ExecutionTime": 60})
                t += 70
            runs.append({"Id": f"jr_{run_id}_{idx}_1", "Attempt": len(runs), "JobName": j["Name"],
                         "StartedOn": t, "CompletedOn": t + 300, "JobRunState": "SUCCEEDED",
                         "ExecutionTime": 300})
            t += 320
            stats["SucceededActions"] += 1
        elif idx == bad_at:
            st = {"failed": rng.choice(["FAILED", "TIMEOUT", "ERROR", "EXPIRED"]),
                  "stopped": "STOPPED", "error": "ERROR"}[kind]
            runs.append({"Id": f"jr_{run_id}_{idx}_0", "Attempt": 0, "JobName": j["Name"],
                         "StartedOn": t, "CompletedOn": t + 120, "JobRunState": st,
                         "ErrorMessage": f"job ended {st}", "ExecutionTime": 120})
            key = {"TIMEOUT": "TimeoutActions", "STOPPED": "StoppedActions",
                   "ERROR": "ErroredActions"}.get(st, "FailedActions")
            stats[key] += 1
            stop = True
        elif idx == run_at:
            st = "STOPPING" if kind == "stopping" else rng.choice(RUNNING_STATES)
            runs.append({"Id": f"jr_{run_id}_{idx}_0", "Attempt": 0, "JobName": j["Name"],
                         "StartedOn": t, "JobRunState": st})
            stats["RunningActions" if st != "WAITING" else "WaitingActions"] += 1
            stop = True
        if runs:
            job_states[j["UniqueId"]] = runs
            stats["TotalActions"] += 1
    for n in nodes:
        g = {"Type": n["Type"], "Name": n["Name"], "UniqueId": n["UniqueId"]}
        if n["Type"] == "TRIGGER":
            g["TriggerDetails"] = n["TriggerDetails"]
        elif n["Type"] == "JOB":
            g["JobDetails"] = {"JobRuns": job_states[n["UniqueId"]]} \
                if n["UniqueId"] in job_states else {}
        else:
            if kind == "ok":
                g["CrawlerDetails"] = {"Crawls": [{"State": "SUCCEEDED", "StartedOn": t,
                                                   "CompletedOn": t + 90, "LogGroup": "/aws-glue/crawlers"}]}
                stats["SucceededActions"] += 1
                stats["TotalActions"] += 1
            else:
                g["CrawlerDetails"] = {}
        gnodes.append(g)
    status = {"ok": "COMPLETED", "failed": "COMPLETED", "running": "RUNNING",
              "stopped": "STOPPED", "error": "ERROR", "stopping": "STOPPING"}[kind]
    run = {"Name": wf_name, "WorkflowRunId": run_id, "StartedOn": started, "Status": status,
           "Statistics": stats, "WorkflowRunProperties": {"run": str(k)}}
    if status not in ("RUNNING", "STOPPING"):
        run["CompletedOn"] = t + 100
    if status == "ERROR":
        run["ErrorMessage"] = "workflow run failed"
    run["Graph"] = {"Nodes": gnodes, "Edges": []}
    return run


def generate(n, seed=1, jobs_per=3, runs_per=4, odd=False, now=None):
    rng = random.Random(seed)
    now = float(int(time.time() if now is None else now))
    names = []
    for i in range(n):
        names.append(f"{PREFIXES[i % len(PREFIXES)]}_{i:03d}")
    if odd:
        names += ODD
    workflows, jobs_all = [], {}
    kinds = ["ok", "ok", "failed", "running", "ok", "stopped", "error", "ok", "stopping"]
    for wi, name in enumerate(names):
        nodes, edges, jobs, crawler = graph_for(rng, wi, jobs_per, odd and name in ODD)
        for j in jobs:
            jobs_all[j["Name"]] = job_object(j["Name"], now)
        runs = []
        for k in range(runs_per):
            started = now - k * 17 * 3600 - rng.randrange(60, 3000) + rng.random()
            kind = kinds[(wi + k) % len(kinds)] if k == 0 or rng.random() < 0.5 else "ok"
            if k > 0 and kind in ("running", "stopping"):
                kind = "ok"          # only the newest run can still be going
            run = make_run(rng, name, wi, k, nodes, jobs, crawler, round(started, 3), kind)
            run["Graph"]["Edges"] = edges
            runs.append(run)
        wf = {"Name": name, "Description": f"Glue workflow {name}",
              "CreatedOn": now - 200 * 86400 + wi, "LastModifiedOn": now - 5 * 86400 + wi,
              "MaxConcurrentRuns": 1,
              "DefaultRunProperties": {"env": "test"},
              "Graph": {"Nodes": nodes, "Edges": edges},
              "Runs": runs, "Tags": {"team": f"team_{wi % 4}", "owner": f"user{wi % 5}"}}
        workflows.append(wf)
    return {"account": "123456789012", "workflows": workflows, "jobs": jobs_all}


# ---------------------------------------------------------------------------------------------
# Lineage material.  The expected lineage is what OpenMetadata's gluepipeline source
# (ingestion/src/metadata/ingestion/source/pipeline/gluepipeline/metadata.py, models.py,
# script_parser.py) derives, modelled here on its own terms:
#   - a job with CodeGenConfigurationNodes is read from those nodes only (its script is
#     ignored); otherwise its Command.ScriptLocation is fetched from S3 and parsed;
#   - a table reference (database, schema, table; any may be unknown) is resolved for each
#     name in dbServiceNames in order, by an Elasticsearch wildcard search of
#     "service.(database|*).(schema|*).table" on the table index; the first service with a
#     hit wins;
#   - an S3 path is resolved by an exact search of the container index on fullPath, with and
#     without one trailing '/'; of a Glue Studio source node's Paths only the first path
#     that resolves is used;
#   - a JDBC reference takes its database from the Glue connection's JDBC_CONNECTION_URL
#     (GetConnection with HidePassword) or from the URL in the script;
#   - the edges of a job are its resolved sources x its resolved targets.
DB_SERVICES = ["redshift_prod", "pg_prod"]
STORAGE_SERVICE = "s3_prod"
DATA_BUCKET = "lake"
CONNECTIONS = {
    "pg-sales": "jdbc:postgresql://db.example:5432/salesdb",
    "redshift-dw": "jdbc:redshift://dw.example:5439/dw",
}


def _wild(pattern, value):
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(rx, value.lower(), re.DOTALL) is not None


def _quote(name):
    return f'"{name}"' if "." in name else name


class Material:
    """Collects seed entities, Glue nodes/scripts and the references each job makes."""

    def __init__(self):
        self.tables = []          # FQN strings, seed order (= search hit order)
        self.containers = []      # {"fqn", "fullPath"}
        self.refs = {}            # job -> {"sources": [...], "targets": [...]}

    def table(self, *parts):
        fqn = ".".join(_quote(p) for p in parts)
        if fqn not in self.tables:
            self.tables.append(fqn)
        return fqn

    def container(self, name, path):
        fqn = f"{STORAGE_SERVICE}.{DATA_BUCKET}.{name}"
        if not any(c["fqn"] == fqn for c in self.containers):
            self.containers.append({"fqn": fqn, "fullPath": path})
        return path

    def ref(self, job, direction, kind, **what):
        self.refs.setdefault(job, {"sources": [], "targets": []})[direction].append(
            dict(what, kind=kind))

    # -- resolution, as OpenMetadata's connector does it --
    def resolve_table(self, database, schema, table, order):
        for svc in order:
            pattern = ".".join(_quote(p) for p in (svc, database or "*", schema or "*", table))
            hits = [t for t in self.tables if _wild(pattern, t)]
            if len(hits) > 1:
                raise ValueError(f"ambiguous lineage material: {pattern} -> {hits}")
            if hits:
                return hits[0]
        return None

    def resolve_path(self, path, script):
        if script:
            path = path.rstrip("/")
        alt = path[:-1] if path.endswith("/") else path + "/"
        for c in self.containers:
            if c["fullPath"] in (path, alt):
                return c
        return None

    def resolve(self, r, order):
        """-> ("table", fqn) / ("container", fqn, fullPath) / None for one reference, or a
        list of them for a Glue Studio S3 source node (its first resolvable path)."""
        if r["kind"] == "table":
            fqn = self.resolve_table(r.get("database"), r.get("schema"), r["table"], order)
            return ("table", fqn, fqn) if fqn else None
        if r["kind"] == "paths":          # Glue Studio S3 node: first resolvable path only
            for p in r["paths"]:
                c = self.resolve_path(p, False)
                if c:
                    return ("container", c["fqn"], c["fullPath"])
            return None
        c = self.resolve_path(r["path"], True)
        return ("container", c["fqn"], c["fullPath"]) if c else None

    def expected(self, job_wf, order):
        edges, unresolved = [], []
        for job, refs in self.refs.items():
            side = {}
            for d in ("sources", "targets"):
                side[d] = []
                for r in refs[d]:
                    got = self.resolve(r, order)
                    if got:
                        if got not in side[d]:
                            side[d].append(got)
                    else:
                        unresolved.append({"job": job, "workflow": job_wf[job],
                                           "direction": d[:-1],
                                           "ref": {k: v for k, v in r.items()}})
            for f in side["sources"]:
                for t in side["targets"]:
                    edges.append({"workflow": job_wf[job], "job": job,
                                  "from": f[2], "from_type": f[0], "from_fqn": f[1],
                                  "to": t[2], "to_type": t[0], "to_fqn": t[1]})
        edges.sort(key=lambda e: (e["workflow"], e["job"], e["from_fqn"], e["to_fqn"]))
        return edges, unresolved


def _node(nodes, k, fam, body, job, mat, direction=None, ref=None):
    nid = f"node-{k}-{len(nodes) + 1}"
    nodes[nid] = {fam: dict({"Name": f"{fam} {k}"}, **body)}
    if direction:
        mat.ref(job, direction, **ref)
    return nid


def _s3(k, name):
    return f"s3://{DATA_BUCKET}/{name}_{k}"


# Each recipe fills one job: Glue Studio nodes (returns the nodes) or a script (returns
# the script text); it seeds what should resolve and leaves out what should not.
def r_catalog(k, job, mat, rng):
    n = {}
    # orders_k exists in both database services: which one wins is dbServiceNames' order
    mat.table("redshift_prod", "salesdb", "public", f"orders_{k}")
    mat.table("pg_prod", "salesdb", "public", f"orders_{k}")
    mat.table("redshift_prod", "dw", "public", f"fact_orders_{k}")
    src = _node(n, k, "CatalogSource", {"Database": "salesdb", "Table": f"orders_{k}"}, job, mat,
                "sources", {"kind": "table", "database": "salesdb", "table": f"orders_{k}"})
    sel = _node(n, k, "SelectFields", {"Inputs": [src], "Paths": [["id"], ["amount"]]}, job, mat)
    _node(n, k, "CatalogTarget", {"Inputs": [sel], "Database": "dw",
                                  "Table": f"fact_orders_{k}"}, job, mat,
          "targets", {"kind": "table", "database": "dw", "table": f"fact_orders_{k}"})
    return n


def r_catalog_families(k, job, mat, rng):
    n = {}
    mat.table("pg_prod", "salesdb", "sales", f"customers_{k}")
    mat.table("pg_prod", "crm", "public", f"accounts_{k}")
    mat.table("pg_prod", "crm", "public", f"leads_{k}")
    mat.table("redshift_prod", "dw", "public", f"dim_customers_{k}")
    mat.table("redshift_prod", "dw", "public", f"dim_accounts_{k}")
    mat.table("pg_prod", "crm", "public", f"leads_copy_{k}")
    srcs = []
    for fam, db, t in (("S3CatalogSource", "salesdb", f"customers_{k}"),
                       ("GovernedCatalogSource", "crm", f"accounts_{k}"),
                       ("PostgreSQLCatalogSource", "crm", f"leads_{k}"),
                       ("DynamoDBCatalogSource", "ddb", f"sessions_ddb_{k}")):   # not seeded
        srcs.append(_node(n, k, fam, {"Database": db, "Table": t}, job, mat, "sources",
                          {"kind": "table", "database": db, "table": t}))
    for fam, db, t, extra in (("S3CatalogTarget", "dw", f"dim_customers_{k}", {}),
                              ("GovernedCatalogTarget", "dw", f"dim_accounts_{k}", {}),
                              ("MySQLCatalogTarget", "crm", f"leads_copy_{k}", {})):
        _node(n, k, fam, dict({"Inputs": [srcs[0]], "Database": db, "Table": t}, **extra), job,
              mat, "targets", {"kind": "table", "database": db, "table": t})
    return n


def r_catalog_lakehouse(k, job, mat, rng):
    n = {}
    mat.table("redshift_prod", "lake", "public", f"events_delta_{k}")
    mat.table("redshift_prod", "lake", "public", f"clicks_kafka_{k}")
    mat.table("redshift_prod", "lake", "public", f"events_iceberg_{k}")
    a = _node(n, k, "S3CatalogDeltaSource", {"Database": "lake", "Table": f"events_delta_{k}"},
              job, mat, "sources", {"kind": "table", "database": "lake",
                                    "table": f"events_delta_{k}"})
    _node(n, k, "CatalogKafkaSource", {"Database": "lake", "Table": f"clicks_kafka_{k}"}, job,
          mat, "sources", {"kind": "table", "database": "lake", "table": f"clicks_kafka_{k}"})
    _node(n, k, "S3IcebergCatalogTarget", {"Inputs": [a], "Database": "lake",
                                           "Table": f"events_iceberg_{k}"}, job, mat,
          "targets", {"kind": "table", "database": "lake", "table": f"events_iceberg_{k}"})
    return n


def r_redshift(k, job, mat, rng):
    n = {}
    mat.table("redshift_prod", "dw", "public", f"events_{k}")
    mat.table("redshift_prod", "dw", "analytics", f"sessions_{k}")
    mat.table("redshift_prod", "dw", "public", f"raw_clicks_{k}")
    mat.table("redshift_prod", "dw", "public", f"clicks_{k}")

    def data(schema, table):
        return {"AccessType": "connection", "SourceType": "table",
                "Connection": {"Value": "redshift-dw", "Label": "redshift-dw"},
                "Schema": {"Value": schema, "Label": schema},
                "Table": {"Value": table, "Label": table}}
    a = _node(n, k, "AmazonRedshiftSource", {"Data": data("public", f"events_{k}")}, job, mat,
              "sources", {"kind": "table", "schema": "public", "table": f"events_{k}"})
    b = _node(n, k, "RedshiftSource", {"Database": "dw", "Table": f"raw_clicks_{k}",
                                       "RedshiftTmpDir": "s3://tmp/redshift/"}, job, mat,
              "sources", {"kind": "table", "database": "dw", "table": f"raw_clicks_{k}"})
    _node(n, k, "AmazonRedshiftTarget", {"Data": data("analytics", f"sessions_{k}"),
                                         "Inputs": [a]}, job, mat,
          "targets", {"kind": "table", "schema": "analytics", "table": f"sessions_{k}"})
    _node(n, k, "RedshiftTarget", {"Inputs": [b], "Database": "dw", "Table": f"clicks_{k}",
                                   "RedshiftTmpDir": "s3://tmp/redshift/"}, job, mat,
          "targets", {"kind": "table", "database": "dw", "table": f"clicks_{k}"})
    return n


def r_jdbc(k, job, mat, rng):
    n = {}
    # payments_k in both services under different databases: order decides
    mat.table("pg_prod", "salesdb", "public", f"payments_{k}")
    mat.table("redshift_prod", "dw", "public", f"payments_{k}")
    mat.table("redshift_prod", "salesdb", "sales", f"invoices_{k}")
    mat.table("pg_prod", "crm", "public", f"contacts_{k}")
    mat.table("pg_prod", "salesdb", "public", f"payments_copy_{k}")
    a = _node(n, k, "JDBCConnectorSource", {"ConnectionName": "pg-sales",
                                            "ConnectorName": "postgresql-connector",
                                            "ConnectionType": "custom.jdbc",
                                            "ConnectionTable": f"payments_{k}"}, job, mat,
              "sources", {"kind": "table", "table": f"payments_{k}"})
    _node(n, k, "AthenaConnectorSource", {"ConnectionName": "athena-conn",
                                          "ConnectorName": "athena-connector",
                                          "ConnectionType": "marketplace.athena",
                                          "SchemaName": "sales",
                                          "ConnectionTable": f"invoices_{k}"}, job, mat,
          "sources", {"kind": "table", "schema": "sales", "table": f"invoices_{k}"})
    _node(n, k, "DirectJDBCSource", {"Database": "crm", "Table": f"contacts_{k}",
                                     "ConnectionName": "pg-sales",
                                     "ConnectionType": "postgresql"}, job, mat,
          "sources", {"kind": "table", "database": "crm", "table": f"contacts_{k}"})
    _node(n, k, "JDBCConnectorTarget", {"Inputs": [a], "ConnectionName": "pg-sales",
                                        "ConnectionTable": f"payments_copy_{k}",
                                        "ConnectorName": "postgresql-connector",
                                        "ConnectionType": "custom.jdbc"}, job, mat,
          "targets", {"kind": "table", "table": f"payments_copy_{k}"})
    return n


def r_s3_text(k, job, mat, rng):
    n = {}
    orders = mat.container(f"raw_orders_{k}", _s3(k, "raw/orders") + "/")
    events = mat.container(f"raw_events_{k}", _s3(k, "raw/events"))
    out = mat.container(f"curated_orders_{k}", _s3(k, "curated/orders") + "/")
    a = _node(n, k, "S3CsvSource", {"Paths": [orders[:-1]], "Separator": "comma",
                                    "QuoteChar": "quote", "WithHeader": True}, job, mat,
              "sources", {"kind": "paths", "paths": [orders[:-1]]})
    # the first path is not seeded, the second resolves, the third is never looked at
    paths = [_s3(k, "raw/nothing") + "/", events + "/", orders]
    _node(n, k, "S3JsonSource", {"Paths": paths}, job, mat, "sources",
          {"kind": "paths", "paths": paths})
    _node(n, k, "S3DirectTarget", {"Inputs": [a], "Path": out, "Format": "parquet",
                                   "Compression": "snappy"}, job, mat,
          "targets", {"kind": "paths", "paths": [out]})
    ghost = _s3(k, "curated/ghost") + "/"                   # not seeded
    _node(n, k, "S3GlueParquetTarget", {"Inputs": [a], "Path": ghost, "Compression": "snappy"},
          job, mat, "targets", {"kind": "paths", "paths": [ghost]})
    return n


def r_s3_lakehouse(k, job, mat, rng):
    n = {}
    pq = mat.container(f"raw_parquet_{k}", _s3(k, "raw/parquet"))
    hudi = mat.container(f"raw_hudi_{k}", _s3(k, "raw/hudi") + "/")
    delta = mat.container(f"raw_delta_{k}", _s3(k, "raw/delta"))
    tdelta = mat.container(f"curated_delta_{k}", _s3(k, "curated/delta") + "/")
    thudi = mat.container(f"curated_hudi_{k}", _s3(k, "curated/hudi"))
    a = _node(n, k, "S3ParquetSource", {"Paths": [pq + "/"]}, job, mat, "sources",
              {"kind": "paths", "paths": [pq + "/"]})
    _node(n, k, "S3HudiSource", {"Paths": [hudi]}, job, mat, "sources",
          {"kind": "paths", "paths": [hudi]})
    _node(n, k, "S3DeltaSource", {"Paths": [delta]}, job, mat, "sources",
          {"kind": "paths", "paths": [delta]})
    _node(n, k, "S3DeltaDirectTarget", {"Inputs": [a], "Path": tdelta, "Compression": "snappy",
                                        "Format": "delta"}, job, mat, "targets",
          {"kind": "paths", "paths": [tdelta]})
    _node(n, k, "S3HudiDirectTarget", {"Inputs": [a], "Path": thudi + "/", "Compression": "gzip",
                                       "Format": "hudi",
                                       "AdditionalOptions": {"hoodie.table.name": f"h_{k}"}},
          job, mat, "targets", {"kind": "paths", "paths": [thudi + "/"]})
    return n


def r_table_to_s3(k, job, mat, rng):
    n = {}
    mat.table("pg_prod", "crm", "public", f"tickets_{k}")
    out = mat.container(f"export_tickets_{k}", _s3(k, "export/tickets"))
    a = _node(n, k, "RelationalCatalogSource", {"Database": "crm", "Table": f"tickets_{k}"}, job,
              mat, "sources", {"kind": "table", "database": "crm", "table": f"tickets_{k}"})
    _node(n, k, "S3DirectTarget", {"Inputs": [a], "Path": out, "Format": "json"}, job, mat,
          "targets", {"kind": "paths", "paths": [out]})
    return n


def r_dangling(k, job, mat, rng):
    """Only unresolvable sources: no edge at all."""
    n = {}
    mat.table("redshift_prod", "dw", "public", f"fact_dangling_{k}")
    a = _node(n, k, "CatalogSource", {"Database": "ghostdb", "Table": f"ghost_{k}"}, job, mat,
              "sources", {"kind": "table", "database": "ghostdb", "table": f"ghost_{k}"})
    _node(n, k, "CatalogTarget", {"Inputs": [a], "Database": "dw",
                                  "Table": f"fact_dangling_{k}"}, job, mat,
          "targets", {"kind": "table", "database": "dw", "table": f"fact_dangling_{k}"})
    return n


def s_gluecontext(k, job, mat, rng):
    mat.table("redshift_prod", "salesdb", "public", f"sorders_{k}")
    mat.table("pg_prod", "salesdb", "public", f"sorders_{k}")
    mat.table("pg_prod", "salesdb", "public", f"scustomers_{k}")
    mat.table("redshift_prod", "dw", "public", f"sfact_{k}")
    mat.table("redshift_prod", "dw", "public", f"sagg_{k}")
    mat.table("redshift_prod", "dw", "public", f"sstaging_{k}")
    mat.table("pg_prod", "crm", "public", f"slegacy_{k}")
    clicks = mat.container(f"raw_sclicks_{k}", _s3(k, "raw/sclicks"))
    curated = mat.container(f"curated_sfact_{k}", _s3(k, "curated/sfact") + "/")
    for d, r in (("sources", {"kind": "table", "database": "salesdb", "table": f"sorders_{k}"}),
                 ("sources", {"kind": "path", "path": clicks + "/"}),
                 ("sources", {"kind": "table", "database": "salesdb",
                              "table": f"scustomers_{k}"}),
                 ("sources", {"kind": "table", "table": f"slegacy_{k}"}),
                 ("targets", {"kind": "table", "database": "dw", "table": f"sfact_{k}"}),
                 ("targets", {"kind": "path", "path": curated}),
                 ("targets", {"kind": "table", "database": "dw", "table": f"sagg_{k}"}),
                 ("targets", {"kind": "table", "database": "dw", "table": f"sstaging_{k}"})):
        mat.ref(job, d, **r)
    return f'''import sys
from awsglue.context import GlueContext
from awsglue.transforms import ApplyMapping
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
orders = glueContext.create_dynamic_frame.from_catalog(database="salesdb", table_name="sorders_{k}", transformation_ctx="orders")
clicks = glueContext.create_dynamic_frame.from_options(connection_type="s3", connection_options={{"paths": ["{clicks}/"], "recurse": True}}, format="json")
customers = glueContext.create_dynamic_frame.from_options(connection_type="postgresql", connection_options={{"dbtable": "scustomers_{k}", "useConnectionProperties": "true"}}, catalog_connection="pg-sales")
legacy = glueContext.create_dynamic_frame.from_options(connection_type="mysql", connection_options={{"dbtable": "slegacy_{k}"}}, catalog_connection="mysql-legacy")
joined = orders.join(["customer_id"], ["id"], customers)
glueContext.write_dynamic_frame.from_catalog(frame=joined, database="dw", table_name="sfact_{k}")
glueContext.write_dynamic_frame.from_options(frame=joined, connection_type="s3", connection_options={{"path": "{curated}"}}, format="parquet")
glueContext.write_dynamic_frame.from_jdbc_conf(frame=joined, catalog_connection="redshift-dw", connection_options={{"dbtable": "sagg_{k}", "database": "dw"}}, redshift_tmp_dir="/tmp/redshift")
glueContext.purge_table(database="dw", table_name="sstaging_{k}", options={{"retentionPeriod": 1}})
'''


def s_spark_read(k, job, mat, rng):
    a = mat.container(f"raw_spq_{k}", _s3(k, "raw/spq"))
    b = mat.container(f"raw_scsv_{k}", _s3(k, "raw/scsv") + "/")
    c = mat.container(f"raw_sjson_{k}", _s3(k, "raw/sjson"))
    out = mat.container(f"out_sparquet_{k}", _s3(k, "out/sparquet"))
    mat.table("redshift_prod", "salesdb", "public", f"sorders2_{k}")
    mat.table("redshift_prod", "dw", "public", f"ssummary_{k}")
    for d, r in (("sources", {"kind": "path", "path": a + "/"}),
                 ("sources", {"kind": "path", "path": b}),
                 ("sources", {"kind": "path", "path": c}),
                 ("sources", {"kind": "table", "database": "salesdb", "table": f"sorders2_{k}"}),
                 ("targets", {"kind": "path", "path": out + "/"}),
                 ("targets", {"kind": "table", "database": "dw", "table": f"ssummary_{k}"})):
        mat.ref(job, d, **r)
    return f'''from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
pq = spark.read.parquet("{a}/")
csv = spark.read.csv("{b}")
js = spark.read.json("{c}")
orders = spark.read.table("salesdb.sorders2_{k}")
df = pq.unionByName(csv).unionByName(js).join(orders, "id")
df.write.parquet("{out}/")
df.write.saveAsTable("dw.ssummary_{k}")
'''


def s_spark_more(k, job, mat, rng):
    a = mat.container(f"raw_sload_{k}", _s3(k, "raw/sload"))
    b = mat.container(f"raw_sorc_{k}", _s3(k, "raw/sorc") + "/")
    j = mat.container(f"out_sjson_{k}", _s3(k, "out/sjson"))
    c = mat.container(f"out_scsv_{k}", _s3(k, "out/scsv"))
    d = mat.container(f"out_sdelta_{k}", _s3(k, "out/sdelta") + "/")
    mat.table("pg_prod", "crm", "public", f"scontacts_{k}")
    mat.table("pg_prod", "salesdb", "public", f"spayments_{k}")
    mat.table("redshift_prod", "dw", "public", f"shistory_{k}")
    mat.table("redshift_prod", "dw", "public", f"sjdbc_out_{k}")
    for dd, r in (("sources", {"kind": "path", "path": a}),
                  ("sources", {"kind": "path", "path": b}),
                  ("sources", {"kind": "table", "database": "crm", "table": f"scontacts_{k}"}),
                  ("sources", {"kind": "table", "database": "default",       # not seeded
                               "table": f"sevents_{k}"}),
                  ("sources", {"kind": "table", "database": "salesdb",
                               "table": f"spayments_{k}"}),
                  ("targets", {"kind": "path", "path": j}),
                  ("targets", {"kind": "path", "path": c}),
                  ("targets", {"kind": "path", "path": d}),
                  ("targets", {"kind": "table", "database": "dw", "table": f"shistory_{k}"}),
                  ("targets", {"kind": "table", "database": "dw", "table": f"sjdbc_out_{k}"})):
        mat.ref(job, dd, **r)
    return f'''from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
props = {{"user": "etl", "driver": "org.postgresql.Driver"}}
loaded = spark.read.load("{a}")
orc = spark.read.format("orc").load("{b}")
contacts = spark.table("crm.scontacts_{k}")
events = spark.table("sevents_{k}")
payments = spark.read.jdbc("jdbc:postgresql://db.example:5432/salesdb", "spayments_{k}", properties=props)
df = loaded.unionByName(orc).join(contacts, "id").join(events, "id").join(payments, "id")
df.write.json("{j}")
df.write.csv("{c}")
df.write.format("delta").mode("overwrite").save("{d}")
df.write.insertInto("dw.shistory_{k}")
df.write.jdbc("jdbc:redshift://dw.example:5439/dw", "sjdbc_out_{k}", properties=props)
'''


def s_nothing(k, job, mat, rng):
    return f'''import sys
print("job {k} computes nothing that has lineage", sys.argv)
'''


VISUAL = [r_catalog, r_catalog_families, r_catalog_lakehouse, r_redshift, r_jdbc, r_s3_text,
          r_s3_lakehouse, r_table_to_s3, r_dangling]
SCRIPTED = [s_gluecontext, s_spark_read, s_spark_more, s_nothing, None]   # None: no script


def lineage(estate, seed, now):
    """Adds CodeGenConfigurationNodes / scripts / connections to the estate, and
    om_seed, lineage_expected(_reversed), lineage_unresolved."""
    rng = random.Random(seed * 1000003 + 17)
    mat = Material()
    job_wf = {}
    for w in estate["workflows"]:
        for n in w["Graph"]["Nodes"]:
            if n["Type"] == "JOB":
                job_wf.setdefault(n["Name"], w["Name"])
    order = VISUAL + SCRIPTED
    scripts = {}
    for k, (name, job) in enumerate(estate["jobs"].items()):
        recipe = order[(k + rng.randrange(2)) % len(order)] if k >= len(order) else order[k]
        loc = job["Command"]["ScriptLocation"]
        if recipe is None:                # the script is missing: NoSuchKey, no lineage
            continue
        made = recipe(k, name, mat, rng)
        if isinstance(made, dict):
            job["CodeGenConfigurationNodes"] = made
            # a decoy script: read it and you find lineage the job does not have
            decoy_in = mat.container(f"decoy_in_{k}", _s3(k, "decoy/in"))
            decoy_out = mat.container(f"decoy_out_{k}", _s3(k, "decoy/out"))
            scripts[loc] = (f"from pyspark.sql import SparkSession\n"
                            f"spark = SparkSession.builder.getOrCreate()\n"
                            f"df = spark.read.parquet(\"{decoy_in}\")\n"
                            f"df.write.parquet(\"{decoy_out}\")\n")
        else:
            scripts[loc] = made
    estate["scripts"] = scripts
    estate["connections"] = {
        name: {"Name": name, "ConnectionType": "JDBC",
               "ConnectionProperties": {"JDBC_CONNECTION_URL": url, "USERNAME": "etl",
                                        "PASSWORD": f"secret-{name}"},
               "CreationTime": now - 300 * 86400, "LastUpdatedTime": now - 30 * 86400}
        for name, url in CONNECTIONS.items()}
    users = [{"name": f"user{i}", "email": f"user{i}@example.com"} for i in range(5)]
    estate["om_seed"] = {
        "tables": mat.tables, "containers": [
            {"fqn": f"{STORAGE_SERVICE}.{DATA_BUCKET}", "fullPath": f"s3://{DATA_BUCKET}"}] +
        mat.containers,
        "users": users, "teams": [f"team_{i}" for i in range(4)],
        "classifications": ["Tier", "PII"], "tags": ["Tier.Tier1", "Tier.Tier2", "PII.Sensitive"]}
    estate["lineage_db_service_names"] = list(DB_SERVICES)
    estate["lineage_storage_service"] = STORAGE_SERVICE
    estate["lineage_expected"], estate["lineage_unresolved"] = mat.expected(job_wf, DB_SERVICES)
    estate["lineage_expected_reversed"], _ = mat.expected(job_wf, DB_SERVICES[::-1])
    return estate


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workflows", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs-per-workflow", type=int, default=3)
    ap.add_argument("--runs-per-workflow", type=int, default=4)
    ap.add_argument("--odd-names", action="store_true")
    ap.add_argument("--now", type=float, default=None)
    ap.add_argument("--lineage", action="store_true",
                    help="add lineage material, the OpenMetadata seed and the expected lineage")
    a = ap.parse_args()
    estate = generate(a.workflows, a.seed, max(1, a.jobs_per_workflow), a.runs_per_workflow,
                      a.odd_names, a.now)
    if a.lineage:
        now = float(int(time.time() if a.now is None else a.now))
        lineage(estate, a.seed, now)
    # dumps, not dump: only the one-shot encoder is the C one (20x faster)
    sys.stdout.write(json.dumps(estate, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
