#!/usr/bin/python3
"""Prints a seeded Glue estate (JSON) for the fake Glue: workflows with
their graphs (a start trigger, jobs and crawlers joined by conditional
triggers), jobs, and workflow runs with their job runs and crawls in every
state Glue has, spread over the last days.  Deterministic for a seed and a
--now."""
import argparse
import json
import random
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workflows", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs-per-workflow", type=int, default=3)
    ap.add_argument("--runs-per-workflow", type=int, default=4)
    ap.add_argument("--odd-names", action="store_true")
    ap.add_argument("--now", type=float, default=None)
    a = ap.parse_args()
    json.dump(generate(a.workflows, a.seed, max(1, a.jobs_per_workflow), a.runs_per_workflow,
                       a.odd_names, a.now), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
