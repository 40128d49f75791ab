"""What OpenMetadata should hold after an ingest, computed from a Glue
estate independently of gluemetad (the rules of the issue, in Python)."""
import time

JOB_STATE = {
    "SUCCEEDED": "Successful",
    "FAILED": "Failed", "ERROR": "Failed", "TIMEOUT": "Failed", "EXPIRED": "Failed",
    "STOPPED": "Failed",
    "STARTING": "Pending", "RUNNING": "Pending", "STOPPING": "Pending", "WAITING": "Pending",
}
CRAWL_STATE = {"SUCCEEDED": "Successful", "FAILED": "Failed", "CANCELLED": "Failed",
               "ERROR": "Failed", "RUNNING": "Pending", "CANCELLING": "Pending"}


def ms(x):
    return int(round(x * 1000))


def quote(name):
    return f'"{name}"' if "." in name else name


def fqn(service, name):
    return f"{quote(service)}.{quote(name)}"


def tasks(workflow):
    graph = workflow.get("Graph") or {}
    nodes = graph.get("Nodes") or []
    edges = graph.get("Edges") or []
    by_id = {n["UniqueId"]: n for n in nodes}
    out = []
    for n in nodes:
        t = {"name": n["Name"][:128], "displayName": n["Name"], "taskType": n["Type"]}
        down = [by_id[e["DestinationId"]]["Name"][:128] for e in edges
                if e["SourceId"] == n["UniqueId"] and e["DestinationId"] in by_id]
        if down:
            t["downstreamTasks"] = down
        out.append(t)
    return out


def status(run):
    task_statuses = {}
    all_ok = True
    for n in (run.get("Graph") or {}).get("Nodes") or []:
        if n["Type"] == "JOB":
            runs = (n.get("JobDetails") or {}).get("JobRuns") or []
            key, table = "JobRunState", JOB_STATE
        elif n["Type"] == "CRAWLER":
            runs = (n.get("CrawlerDetails") or {}).get("Crawls") or []
            key, table = "State", CRAWL_STATE
        else:
            continue
        if not runs:
            continue
        last = max(runs, key=lambda r: r.get("StartedOn", -1))
        st = table.get(last.get(key), "Failed")
        if st != "Successful":
            all_ok = False
        task_statuses[n["Name"][:128]] = st
    if run["Status"] in ("RUNNING", "STOPPING"):
        ex = "Pending"
    elif run["Status"] == "COMPLETED" and all_ok:
        ex = "Successful"
    else:
        ex = "Failed"
    return {"timestamp": ms(run["StartedOn"]), "executionStatus": ex, "tasks": task_statuses}


def statuses(workflow, lookback_days, now=None):
    now = time.time() if now is None else now
    cutoff = (now - lookback_days * 86400) * 1000
    return {s["timestamp"]: s for s in (status(r) for r in workflow.get("Runs", []))
            if s["timestamp"] >= cutoff}


def usage(workflow):
    """{date: count}: per UTC day, the task runs (each job's or crawler's latest
    run in a workflow run, as in its status) that started on it, in every run
    of the workflow."""
    out = {}
    for run in workflow.get("Runs", []):
        for n in (run.get("Graph") or {}).get("Nodes") or []:
            if n["Type"] == "JOB":
                runs = (n.get("JobDetails") or {}).get("JobRuns") or []
            elif n["Type"] == "CRAWLER":
                runs = (n.get("CrawlerDetails") or {}).get("Crawls") or []
            else:
                continue
            if not runs:
                continue
            last = max(runs, key=lambda r: r.get("StartedOn", -1))
            if "StartedOn" not in last:
                continue
            day = time.strftime("%Y-%m-%d", time.gmtime(ms(last["StartedOn"]) // 1000))
            out[day] = out.get(day, 0) + 1
    return out
