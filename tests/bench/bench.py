#!/usr/bin/python3
"""`make bench`: gluemetad against the stand-ins with injected latency, beside
a sequential replica of OpenMetadata's own connector, and the daemon.
Prints figures and the targets they are held to; it passes or fails nothing.

  bench.py --binary build/gluemetad --shared ../shared     5,000 x 8 x 20 at 20 ms
  bench.py ... --workflows 200 --scale '' --events 0       a quick look

What is measured:
- gluemetad `ingest --state FILE` on an empty OpenMetadata, then the same run
  again with nothing changed in Glue and the memo the first run left in FILE
  (the incremental run; --no-state runs both without a memo): wall time,
  requests by endpoint as the stand-ins counted them, OpenMetadata writes
  (PUT/POST/PATCH/DELETE), CPU time and peak RSS (ru_maxrss from wait4();
  gluemetad is started by a small shell and reaped by this process as a
  subreaper, so the figure is gluemetad's own and not that of the Python
  process that forked it), and the ratio to two lower bounds: (a) the
  longest chain of requests that depend on each other, times the latency;
  (b) each side's requests times the latency over that side's concurrency.
- The same two runs with 0 ms injected first, (c): what the stand-ins and
  gluemetad themselves cost, which the bounds (a) and (b) take as nothing.
- The stand-ins run in bench mode (--bench: no signature, model or schema
  check per request, a Glue reply made once served again as made; the tests
  run them with every check on).  Their CPU time during each run, and their
  capacity: the rate each serves at 0 ms with gluemetad's concurrency in
  flight (curl --parallel), beside the rate gluemetad asked of it.
- tests/bench/om_replica.py: OpenMetadata's connector's call pattern, one
  request at a time, on a subset of the workflows (--replica-workflows),
  scaled linearly to the whole estate; on the main estate and on a small one
  (--compare-workflows, gluemetad's first run only).
- Event to status through the event consumer; daemons with 1,000 and 5,000
  workflows configured (READY, status, RSS, reload); the idle daemon with
  schedules months away: RSS and context switches (all threads)."""
import argparse
import ctypes
import datetime
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
STANDINS = os.path.join(TESTS, "standins")
sys.path.insert(0, os.path.join(TESTS, "integration"))
import harness  # noqa: E402

PY = "/usr/bin/python3"
PR_SET_CHILD_SUBREAPER = 36
WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")
GLUE_PAGE = 25          # ListWorkflows page size (AWS's maximum, the fake's default)

# Routes of the replica that are made once per workflow (scaled with the subset).
PER_WORKFLOW = {"GetWorkflow", "GetJobRuns", "PUT /api/v1/pipelines",
                "PUT /api/v1/pipelines/{fqn}/status", "GET /api/v1/pipelines/name/{fqn}",
                "POST /api/v1/usage/pipeline/{id}"}

TARGETS = {"speedup": 25.0, "speedup_small": 20.0, "bound_first": 1.25, "bound_rerun": 1.5,
           "peak_mb": 48.0, "idle_mb": 12.0, "standin": 3.0}
GLUE_CONCURRENCY = 8    # gluemetad's defaults (--glue-concurrency, --om-concurrency)
OM_CONCURRENCY = 8


def log(msg=""):
    print(msg, flush=True)


def fmt_n(n):
    return f"{n:,.0f}" if isinstance(n, (int, float)) else str(n)


def mb(kb):
    return kb / 1024.0


# ---- estate ----

def make_estate(path, args, workflows):
    argv = [PY, os.path.join(STANDINS, "gen_estate.py"), "--workflows", str(workflows),
            "--jobs-per-workflow", str(args.jobs_per_workflow),
            "--runs-per-workflow", str(args.runs_per_workflow), "--seed", str(args.seed)]
    with open(path, "w") as fh:
        subprocess.run(argv, stdout=fh, check=True)
    with open(path) as fh:
        estate = json.load(fh)
    now = time.time()
    wf_runs = job_runs = 0
    oldest = now
    for w in estate["workflows"]:
        for r in w.get("Runs", []):
            wf_runs += 1
            oldest = min(oldest, r["StartedOn"])
            for n in r.get("Graph", {}).get("Nodes", []):
                job_runs += len((n.get("JobDetails") or {}).get("JobRuns", []))
    return {"workflows": len(estate["workflows"]), "jobs": len(estate["jobs"]),
            "workflow_runs": wf_runs, "job_runs": job_runs,
            "lookback_days": int((now - oldest) / 86400) + 2}


# ---- stand-ins ----

class Standins:
    """The fake Glue and the fake OpenMetadata in bench mode (--bench): no
    signature, model or schema check per request, and a Glue reply made once
    is served again as it was made (the tests run them with every check
    on)."""

    def __init__(self, estate, tmp, shared):
        def script(name):
            return [PY, os.path.join(STANDINS, name), "--bench"]

        self.glue = harness.Server(
            script("fake_glue.py") + ["--estate", estate, "--access-key", harness.AK,
                                      "--secret-key", harness.SK, "--region", harness.REGION,
                                      "--models", os.path.join(shared, "aws-models")],
            "glue", 0, tmp, wait_s=600)
        try:
            self.om = harness.Server(
                script("fake_om.py") + ["--token", harness.JWT,
                                        "--spec-dir", os.path.join(shared, "openmetadata-spec")],
                "om", 0, tmp)
        except Exception:
            self.glue.stop()
            raise

    def cpu_s(self):
        """CPU seconds each stand-in process has used so far (glue, om)."""
        return tuple(proc_cpu_s(x.proc.pid) for x in (self.glue, self.om))

    def latency(self, ms):
        self.glue.call("POST", "/__fake/config", {"latency_ms": ms})
        self.om.call("POST", "/__fake/config", {"latency_ms": ms})

    def reset(self):
        self.om.call("POST", "/__fake/reset")
        self.glue.call("POST", "/__fake/stats/reset")

    def glue_stats(self):
        return self.glue.call("GET", "/__fake/stats")

    def om_stats(self):
        return self.om.call("GET", "/__fake/stats")

    def stop(self):
        self.glue.stop()
        self.om.stop()


# ---- running gluemetad with its own rusage ----

def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def clean_env():
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS"):
        env.pop(k, None)
    return env


def run_measured(argv, out_path, err_path):
    """Runs argv to completion; returns (exit code, wall s, rusage).

    A process forked from this one carries this Python's RSS into its
    ru_maxrss through exec, so argv is started by a shell that puts it in
    the background and exits: argv is then a fresh fork of a small process,
    reparented to us (a subreaper) and reaped here with wait4()."""
    t0 = time.monotonic()
    sh = subprocess.run(["/bin/sh", "-c", 'o=$1 e=$2; shift 2; "$@" <"/dev/null" >"$o" 2>"$e" &'
                         ' echo $!', "sh", out_path, err_path] + argv,
                        capture_output=True, text=True, env=clean_env(), check=True)
    pid = int(sh.stdout.strip())
    _, status, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), time.monotonic() - t0, ru


# ---- figures ----

def om_delta(before, after):
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) - before.get(k, 0)}


def writes_of(counts):
    return sum(n for k, n in counts.items() if k.split(" ", 1)[0] in WRITE_METHODS)


def critical_path(glue, om, est):
    """Round trips on the longest chain of requests that depend on each other,
    given the requests that were made (a run that writes no status has no
    status step).  The version check goes with the first ListWorkflows page;
    the service must exist before a pipeline is written; a workflow is read
    after the listing page naming it, its runs after it is read; its statuses
    after its runs were read and its pipeline written; markDeletedPipelines
    after the whole Glue listing and OpenMetadata's listing."""
    W = est["workflows"]
    P = max(1, math.ceil(W / GLUE_PAGE))
    S = 1 + (1 if om.get("PUT /api/v1/services/pipelineServices") else 0)
    read = 1 if glue.get("BatchGetWorkflows") or glue.get("GetWorkflow") else 0
    R = 0
    if glue.get("GetWorkflowRuns"):
        R = max(R, math.ceil(glue["GetWorkflowRuns"] / W))
    if glue.get("GetJobRuns"):
        R = max(R, math.ceil(glue["GetJobRuns"] / max(1, est["jobs"])))
    pre = sum(1 for k in ("GET /api/v1/pipelines/name/{fqn}", "GET /api/v1/pipelines/{id}")
              if om.get(k))
    w = 1 if om.get("PUT /api/v1/pipelines") or om.get("PATCH /api/v1/pipelines/{id}") else 0
    s = 1 if any(om.get(k) for k in ("PUT /api/v1/pipelines/{fqn}/status",
                                       "PUT /api/v1/usage/pipeline/{id}",
                                       "POST /api/v1/usage/pipeline/{id}")) else 0
    L = om.get("GET /api/v1/pipelines", 0)
    d = 1 if om.get("DELETE /api/v1/pipelines/{id}") else 0
    t_read = P + read
    t_pipe = max(t_read, 1 + S + pre) + w
    t_runs = t_read + R
    t_status = max(t_pipe, t_runs) + s
    t_del = max(1 + 1 + L, P) + d
    chain = (f"{P} ListWorkflows pages, then read {read}, runs {R}, pipeline write {w}, "
             f"status/usage write {s}; service {S}, version 1, per-pipeline reads {pre}, "
             f"OpenMetadata listing {L}, delete {d}")
    return max(t_status, t_del), chain


def bounds(glue_n, om_n, glue_counts, om_counts, est, lat_s, conc):
    rt, chain = critical_path(glue_counts, om_counts, est)
    a = rt * lat_s
    b = max(glue_n / conc[0], om_n / conc[1]) * lat_s
    return {"round_trips": rt, "chain": chain, "a_s": a, "b_s": b, "bound_s": max(a, b)}


def print_counts(title, counts):
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    log(f"  {title}:" + (" none" if not items else ""))
    for k, n in items:
        log(f"    {fmt_n(n):>9}  {k}")


def gluemetad_run(label, s, binary, wf, tmp, est, lat_ms, conc, extra, first_run=False):
    """One ingest; the OpenMetadata counts are a difference of dumps (the store
    is kept between a first run and its re-run)."""
    s.glue.call("POST", "/__fake/stats/reset")
    before = s.om_stats()
    n = len(os.listdir(tmp))
    out, err = os.path.join(tmp, f"gm{n}.out"), os.path.join(tmp, f"gm{n}.err")
    cpu0 = s.cpu_s()
    rc, wall, ru = run_measured([binary, "ingest", "-c", wf] + extra, out, err)
    cpu1 = s.cpu_s()
    g = s.glue_stats()
    after = s.om_stats()
    om = om_delta(before["counts"], after["counts"])
    res = {"label": label, "exit": rc, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
           "maxrss_kb": ru.ru_maxrss, "glue": g["counts"], "glue_total": sum(g["counts"].values()),
           "om": om, "om_total": sum(om.values()), "writes": writes_of(om),
           "glue_max_in_flight": g.get("max_in_flight"),
           "om_max_in_flight": after.get("max_in_flight") if first_run else None,
           "rejected": len(g.get("rejected", [])) + after["rejected"] - before["rejected"],
           "pipelines": after["pipelines"], "statuses": after["statuses"],
           "standin_cpu_s": [b - a for a, b in zip(cpu0, cpu1)]}
    with open(out) as fh:
        res["summary"] = [ln for ln in fh.read().splitlines()
                          if ln.startswith(("Requests:", "Glue workflows listed", "Throttled"))]
    if lat_ms:
        res.update(bounds(res["glue_total"], res["om_total"], g["counts"], om, est,
                          lat_ms / 1000.0, conc))
        res["ratio"] = wall / res["bound_s"] if res["bound_s"] else float("nan")
    if rc != 0:
        with open(err) as fh:
            res["stderr_tail"] = fh.read()[-2000:]
    return res


def show_run(r, lat_ms, conc):
    log(f"== gluemetad, {r['label']}")
    log(f"  wall {r['wall_s']:.2f} s   exit {r['exit']}   CPU {r['cpu_s']:.2f} s   "
        f"peak RSS {mb(r['maxrss_kb']):.1f} MB")
    log(f"  requests: Glue {fmt_n(r['glue_total'])}, OpenMetadata {fmt_n(r['om_total'])}; "
        f"OpenMetadata writes {fmt_n(r['writes'])}; rejected by the stand-ins {r['rejected']}")
    log(f"  OpenMetadata now holds {fmt_n(r['pipelines'])} pipelines, "
        f"{fmt_n(r['statuses'])} statuses")
    for ln in r["summary"]:
        log(f"  gluemetad: {ln}")
    print_counts("Glue requests", r["glue"])
    print_counts("OpenMetadata requests", r["om"])
    if "bound_s" in r:
        log(f"  lower bound (a) critical path: {r['round_trips']} round trips x {lat_ms} ms = "
            f"{r['a_s']:.2f} s")
        log(f"      [{r['chain']}]")
        log(f"  lower bound (b) requests x latency / concurrency: max(Glue "
            f"{fmt_n(r['glue_total'])}/{conc[0]}, OpenMetadata {fmt_n(r['om_total'])}/{conc[1]})"
            f" x {lat_ms} ms = {r['b_s']:.2f} s")
        log(f"  wall / max(a, b) = {r['ratio']:.2f}")
        if r.get("floor_s"):
            c = max(r["bound_s"], r["floor_s"])
            log(f"  (c) the same run with 0 ms injected: {r['floor_s']:.2f} s; "
                f"wall / max(a, b, c) = {r['wall_s'] / c:.2f}")
    gc, oc = r["standin_cpu_s"]
    log(f"  gluemetad asked: Glue {r['glue_total'] / r['wall_s']:,.0f}/s, OpenMetadata "
        f"{r['om_total'] / r['wall_s']:,.0f}/s; the stand-ins used {gc:.1f} s (Glue) and "
        f"{oc:.1f} s (OpenMetadata) of CPU, {100 * gc / r['wall_s']:.0f}% and "
        f"{100 * oc / r['wall_s']:.0f}% of the wall time")
    if r.get("om_max_in_flight") is not None:
        log(f"  most requests in flight at once: Glue {r['glue_max_in_flight']}, "
            f"OpenMetadata {r['om_max_in_flight']}")
    if r.get("stderr_tail"):
        log("  stderr (tail):")
        for ln in r["stderr_tail"].splitlines()[-15:]:
            log("    " + ln)
    log()


# ---- the stand-ins' capacity ----

def curl_parallel(entries, tmp, name, conc):
    """Makes the requests (curl config entries) with curl, conc at a time on
    reused connections; returns (requests per second, HTTP codes)."""
    cfg = os.path.join(tmp, name + ".curl")
    with open(cfg, "w") as fh:      # "next" between entries: one after the last is an error
        fh.write("next\n".join(e + 'output = "/dev/null"\nwrite-out = "%{http_code}\\n"\n'
                               for e in entries))
    t0 = time.monotonic()
    p = subprocess.run(["curl", "--silent", "--parallel", "--parallel-max", str(conc),
                        "--config", cfg], capture_output=True, text=True)
    wall = time.monotonic() - t0
    codes = {}
    for c in p.stdout.split():
        codes[c] = codes.get(c, 0) + 1
    return len(entries) / wall, codes


def capacity(s, tmp, service, conc, n_om=4000, n_glue=1000):
    """Each stand-in's rate at 0 ms with conc requests in flight, on the
    request gluemetad makes most of it: a pipeline status PUT (the fake
    OpenMetadata answers with the whole pipeline, as the server does) and
    GetWorkflowRuns with the graph (the fake Glue's largest reply)."""
    sys.path.insert(0, STANDINS)
    import sigv4_verify
    s.latency(0)
    try:
        page = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{s.om.url}/api/v1/pipelines?service={service}&limit=1&fields=tasks",
            headers={"Authorization": f"Bearer {harness.JWT}"}), timeout=30).read())
        pipe = page["data"][0]
        body = {"timestamp": 1700000000000, "executionStatus": "Successful",
                "taskStatus": [{"name": t["name"], "executionStatus": "Successful"}
                               for t in pipe.get("tasks", [])]}
        with open(os.path.join(tmp, "status.json"), "w") as fh:
            json.dump(body, fh)
        fqn = urllib.parse.quote(pipe["fullyQualifiedName"], safe="")
        om_entry = (f'url = "{s.om.url}/api/v1/pipelines/{fqn}/status"\nrequest = "PUT"\n'
                    f'header = "Authorization: Bearer {harness.JWT}"\n'
                    f'header = "Content-Type: application/json"\n'
                    f'data-binary = "@{tmp}/status.json"\n')
        om_rate, om_codes = curl_parallel([om_entry] * n_om, tmp, "om", conc[1])

        # the same pipeline's Glue workflow (its name is the workflow's)
        req = json.dumps({"Name": pipe["name"], "IncludeGraph": True}).encode()
        with open(os.path.join(tmp, "runs.json"), "wb") as fh:
            fh.write(req)
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        host = s.glue.url.split("//", 1)[1]
        hdrs = [("Host", host), ("X-Amz-Date", amz_date),
                ("X-Amz-Target", "AWSGlue.GetWorkflowRuns"),
                ("Content-Type", "application/x-amz-json-1.1")]
        _, _, auth = sigv4_verify.sign("POST", "/", "", hdrs, req, harness.AK, harness.SK,
                                       harness.REGION, "glue", amz_date)
        glue_entry = (f'url = "{s.glue.url}/"\nrequest = "POST"\n' +
                      "".join(f'header = "{k}: {v}"\n' for k, v in hdrs[1:]) +
                      f'header = "Authorization: {auth}"\n'
                      f'data-binary = "@{tmp}/runs.json"\n')
        glue_rate, glue_codes = curl_parallel([glue_entry] * n_glue, tmp, "glue", conc[0])
    finally:
        s.latency(0)
    return {"om_rate": om_rate, "om_codes": om_codes, "om_n": n_om,
            "glue_rate": glue_rate, "glue_codes": glue_codes, "glue_n": n_glue}


def show_capacity(c, runs, conc):
    log(f"== the stand-ins' capacity at 0 ms ({conc[0]} Glue and {conc[1]} OpenMetadata "
        f"requests in flight, curl --parallel)")
    log(f"  fake OpenMetadata, pipeline status PUT: {c['om_rate']:,.0f}/s "
        f"({fmt_n(c['om_n'])} requests, answers {c['om_codes']})")
    log(f"  fake Glue, GetWorkflowRuns with the graph: {c['glue_rate']:,.0f}/s "
        f"({fmt_n(c['glue_n'])} requests, answers {c['glue_codes']})")
    for r in runs:
        log(f"  gluemetad asked, {r['label']}: OpenMetadata {r['om_total'] / r['wall_s']:,.0f}/s"
            f" ({c['om_rate'] / max(1e-9, r['om_total'] / r['wall_s']):.1f}x under capacity), "
            f"Glue {r['glue_total'] / r['wall_s']:,.0f}/s "
            f"({c['glue_rate'] / max(1e-9, r['glue_total'] / r['wall_s']):.1f}x under)")
    log()


# ---- the replica ----

def replica_run(s, est, args, tmp):
    s.reset()
    n = args.replica_workflows
    if n <= 0 or n > est["workflows"]:
        n = est["workflows"]
    argv = [PY, os.path.join(HERE, "om_replica.py"), "--glue", s.glue.url,
            "--om", s.om.url + "/api", "--token", harness.JWT, "--access-key", harness.AK,
            "--secret-key", harness.SK, "--region", harness.REGION, "--service", "glue_replica",
            "--workflows", str(n), "--json"]
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=clean_env())
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1) or not p.stdout.strip():
        raise RuntimeError(f"om_replica.py failed ({p.returncode}): {p.stderr[-2000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    g = s.glue_stats()
    om = s.om_stats()
    scale = est["workflows"] / n
    glue_counts, om_counts = g["counts"], dict(om["counts"])
    scaled = {}
    for k, v in list(glue_counts.items()) + list(om_counts.items()):
        scaled[k] = v * scale if k in PER_WORKFLOW else v
    res = {"workflows_done": n, "scale": scale, "wall_s": wall, "inner_wall_s": out["wall_s"],
           "fixed_s": out["fixed_s"], "per_workflow_s": out["per_workflow_s"],
           "wall_scaled_s": out["fixed_s"] + out["per_workflow_s"] * scale,
           "glue": glue_counts, "om": om_counts,
           "glue_total": sum(glue_counts.values()), "om_total": sum(om_counts.values()),
           "writes": writes_of(om_counts), "scaled": scaled,
           "glue_total_scaled": sum(v for k, v in scaled.items() if k in glue_counts),
           "om_total_scaled": sum(v for k, v in scaled.items() if k in om_counts),
           "writes_scaled": sum(v for k, v in scaled.items()
                                if k in om_counts and k.split(" ", 1)[0] in WRITE_METHODS),
           "errors": out["glue_errors"] + out["om_errors"],
           "rejected": len(g.get("rejected", [])) + om["rejected"],
           "statuses": out["statuses"], "status_errors": out["status_errors"]}
    return res


def show_replica(r, est):
    partial = r["workflows_done"] < est["workflows"]
    log("== replica of OpenMetadata's connector (tests/bench/om_replica.py), first run, "
        "one request at a time")
    if partial:
        log(f"  run on the first {r['workflows_done']} of {est['workflows']} workflows "
            f"(the listing whole); the per-workflow part scaled x{r['scale']:.2f}, linearly")
    log(f"  wall {r['inner_wall_s']:.2f} s measured (listing, service, deletion check "
        f"{r['fixed_s']:.2f} s; workflows {r['per_workflow_s']:.2f} s)"
        + (f" -> {r['wall_scaled_s']:.1f} s for the whole estate (scaled)" if partial else ""))
    log(f"  requests measured: Glue {fmt_n(r['glue_total'])}, OpenMetadata "
        f"{fmt_n(r['om_total'])}, OpenMetadata writes {fmt_n(r['writes'])}; "
        f"errors {r['errors']}, rejected by the stand-ins {r['rejected']}")
    if partial:
        log(f"  requests scaled: Glue {fmt_n(r['glue_total_scaled'])}, OpenMetadata "
            f"{fmt_n(r['om_total_scaled'])}, OpenMetadata writes {fmt_n(r['writes_scaled'])}")
    log(f"  statuses written {fmt_n(r['statuses'])} (one per job run); jobs whose run list "
        f"stopped at a run still going: {r['status_errors']}")
    if partial:
        for title, counts in (("Glue requests (measured -> scaled)", r["glue"]),
                              ("OpenMetadata requests (measured -> scaled)", r["om"])):
            log(f"  {title}:")
            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                log(f"    {fmt_n(n):>9} -> {fmt_n(r['scaled'][k]):>9}  {k}")
    else:
        print_counts("Glue requests", r["glue"])
        print_counts("OpenMetadata requests", r["om"])
    log()


# ---- the idle daemon ----

def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    tot = {"ctxt": 0, "vol": 0, "nonvol": 0, "slices": 0, "threads": 0}
    with open(f"/proc/{pid}/status") as fh:
        st = dict(ln.split(":", 1) for ln in fh.read().splitlines() if ":" in ln)
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as fh:
                ts = dict(ln.split(":", 1) for ln in fh.read().splitlines() if ":" in ln)
            with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                tot["slices"] += int(fh.read().split()[2])
        except FileNotFoundError:
            continue
        tot["vol"] += int(ts["voluntary_ctxt_switches"])
        tot["nonvol"] += int(ts["nonvoluntary_ctxt_switches"])
        tot["threads"] += 1
    tot["ctxt"] = tot["vol"] + tot["nonvol"]
    tot["rss_kb"] = int(st["VmRSS"].split()[0])
    tot["hwm_kb"] = int(st["VmHWM"].split()[0])
    tot["anon_kb"] = int(st.get("RssAnon", "0 kB").split()[0])
    return tot


def idle_daemon(binary, s, tmp, est, args):
    d = os.path.join(tmp, "daemon")
    os.makedirs(d)
    wf = os.path.join(d, "wf.yaml")
    with open(wf, "w") as fh:
        fh.write(harness.workflow_yaml(s, service="bench_idle", lookback=est["lookback_days"]))
    month = (datetime.date.today().month + 5) % 12 + 1        # 5 to 7 months ahead
    lines = [f"socket: {d}/gm.sock", f"state_dir: {d}/state", "max_concurrent_runs: 4",
             "workflows:"]
    for i in range(args.idle_workflows):
        lines += [f"  - name: w{i}", "    file: wf.yaml", f"    schedule: \"0 3 1 {month} *\""]
    cfg = os.path.join(d, "gluemetad.yaml")
    with open(cfg, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    ctl = os.path.join(os.path.dirname(binary), "gluemetactl")
    logf = open(os.path.join(d, "daemon.log"), "w")
    proc = subprocess.Popen([binary, "daemon", "--config", cfg], stdout=logf, stderr=logf,
                            stdin=subprocess.DEVNULL, env=clean_env(), cwd=d)
    try:
        deadline = time.time() + 30
        st = None
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {proc.returncode}; see {d}/daemon.log")
            p = subprocess.run([ctl, "--socket", f"{d}/gm.sock", "--json", "status"],
                               capture_output=True, text=True)
            if p.returncode == 0:
                st = json.loads(p.stdout)
                if all(w.get("state") in ("idle", "disabled") for w in st.get("workflows", [])):
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the daemon did not become idle within 30 s")
        time.sleep(args.idle_settle)
        a = proc_status(proc.pid)
        time.sleep(args.idle_seconds)
        b = proc_status(proc.pid)
        next_fire = min((w.get("next_fire") for w in st["workflows"] if w.get("next_fire")),
                        default=None)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
    return {"rss_kb": b["rss_kb"], "hwm_kb": b["hwm_kb"], "anon_kb": b["anon_kb"],
            "threads": b["threads"], "wakeups": b["ctxt"] - a["ctxt"],
            "vol": b["vol"] - a["vol"], "nonvol": b["nonvol"] - a["nonvol"],
            "slices": b["slices"] - a["slices"], "seconds": args.idle_seconds,
            "workflows": args.idle_workflows, "next_fire": next_fire, "exit": rc}


def show_idle(r):
    nf = (datetime.datetime.fromtimestamp(r["next_fire"]).strftime("%Y-%m-%d %H:%M")
          if r["next_fire"] else "?")
    log(f"== gluemetad daemon, idle ({r['workflows']} workflows, next fire {nf})")
    log(f"  RSS {mb(r['rss_kb']):.1f} MB (anonymous {mb(r['anon_kb']):.1f} MB, peak "
        f"{mb(r['hwm_kb']):.1f} MB), {r['threads']} thread{'s' if r['threads'] != 1 else ''}")
    log(f"  over {r['seconds']:g} s: {r['wakeups']} context switches (voluntary {r['vol']}, "
        f"involuntary {r['nonvol']}; all threads), {r['slices']} times scheduled; "
        f"SIGTERM exit {r['exit']}")
    log()


# ---- events ----

def event_latency(binary, shared, tmp, args):
    """Event to status: a daemon with three workflows and an event
    consumer, stand-ins at the bench's latency; args.events times a new run
    is added to one Glue workflow and its job's event put on the queue, and
    the time until the new status is in OpenMetadata is measured."""
    d = os.path.join(tmp, "events")
    os.makedirs(d)
    est_path = os.path.join(d, "estate.json")
    est = harness.gen_estate(est_path, 3, seed=11)
    os.environ.setdefault("GLUEMETAD_SHARED", shared)
    s = harness.Standins(est_path, tmp=d, sqs=True, latency_ms=args.latency_ms)
    proc = None
    ctl = os.path.join(os.path.dirname(binary), "gluemetactl")

    def ctl_json(*a):
        p = subprocess.run([ctl, "--socket", f"{d}/gm.sock", "--json"] + list(a),
                           capture_output=True, text=True)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def wait(cond, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.02)
        raise RuntimeError(f"timed out waiting for {what}; see {d}/daemon.log")

    def statuses(wf):
        for p in s.dump()["pipelines"]:
            if p["fullyQualifiedName"] == f"bench_ev.{wf}":
                return len(p["statuses"])
        return 0

    try:
        names = [w["Name"] for w in est["workflows"]]
        lines = [f"socket: {d}/gm.sock", f"state_dir: {d}/state", "workflows:"]
        for i, name in enumerate(names):
            with open(os.path.join(d, f"w{i}.yaml"), "w") as fh:
                fh.write(harness.workflow_yaml(s, service="bench_ev", includes=[f"^{name}$"],
                                               mark_deleted=False))
            os.chmod(os.path.join(d, f"w{i}.yaml"), 0o600)
            lines += [f"  - name: w{i}", f"    file: w{i}.yaml", "    schedule: \"0 0 1 1 *\""]
        lines += ["events:", f"  queue_url: {s.queue_url()}", "  debounce: 0",
                  "  awsConfig:", f"    awsAccessKeyId: {harness.AK}",
                  f"    awsSecretAccessKey: {harness.SK}"]
        cfg = os.path.join(d, "gluemetad.yaml")
        with open(cfg, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(cfg, 0o600)
        logf = open(os.path.join(d, "daemon.log"), "w")
        env = dict(clean_env(), AWS_ENDPOINT_URL_SQS=s.sqs.url)
        proc = subprocess.Popen([binary, "daemon", "--config", cfg], stdout=logf, stderr=logf,
                                stdin=subprocess.DEVNULL, env=env, cwd=d)
        wait(lambda: ctl_json("status"), "the daemon")
        subprocess.run([ctl, "--socket", f"{d}/gm.sock", "run", "w0"], capture_output=True)
        wait(lambda: (ctl_json("history", "w0") or {}).get("runs"), "the first run")
        job = [n["Name"] for n in est["workflows"][0]["Graph"]["Nodes"] if n["Type"] == "JOB"][0]
        lat = []
        for _ in range(args.events):
            wait(lambda: all(w["state"] == "idle" for w in ctl_json("status")["workflows"]),
                 "an idle daemon")
            before = statuses(names[0])
            s.glue.call("POST", "/__fake/add_run", {"workflow": names[0]})
            t0 = time.monotonic()
            s.send_event(harness.glue_job_event(job, s.account, harness.REGION))
            wait(lambda: statuses(names[0]) > before, "the new status")
            lat.append(time.monotonic() - t0)
        lat.sort()
        return {"n": len(lat), "p50": statistics.median(lat),
                "p95": lat[max(0, int(round(0.95 * len(lat))) - 1)], "max": lat[-1],
                "latency_ms": args.latency_ms}
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        s.stop()


def show_events(r):
    log(f"== events: a Glue job's event to its run's status in OpenMetadata "
        f"({r['n']} events, {r['latency_ms']} ms injected on every side, debounce 0)")
    log(f"  p50 {r['p50']:.2f} s, p95 {r['p95']:.2f} s, max {r['max']:.2f} s")
    log()


# ---- a daemon with many workflows configured ----

def config_scale(binary, s, tmp, n):
    """A daemon with n workflows on distinct schedules in four zones (one
    workflow file, empty state_dir): time to READY, `status` on the socket
    and through gluemetactl (median of 20), RSS, and a SIGHUP reload."""
    d = os.path.join(tmp, f"scale-{n}")
    os.makedirs(d)
    with open(os.path.join(d, "wf.yaml"), "w") as fh:
        fh.write(harness.workflow_yaml(s, service="bench_scale"))
    os.chmod(os.path.join(d, "wf.yaml"), 0o600)
    zones = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kathmandu"]
    lines = [f"socket: {d}/gm.sock", f"state_dir: {d}/state", "workflows:"]
    for i in range(n):
        lines += [f"  - name: w{i}", "    file: wf.yaml",
                  f"    schedule: \"{i % 60} {(i // 60) % 24} 1 {1 + (i % 12)} *\"",
                  f"    timezone: {zones[i % 4]}"]
    cfg = os.path.join(d, "gluemetad.yaml")
    with open(cfg, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(cfg, 0o600)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(d, "notify.sock"))
    notify.settimeout(120)
    ctl = os.path.join(os.path.dirname(binary), "gluemetactl")
    logf = open(os.path.join(d, "daemon.log"), "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "daemon", "--config", cfg], stdout=logf, stderr=logf,
                            stdin=subprocess.DEVNULL, cwd=d,
                            env=dict(clean_env(), NOTIFY_SOCKET=os.path.join(d, "notify.sock")))

    def until(word):
        while word not in notify.recv(4096).decode():
            pass

    try:
        until("READY=1")
        ready = time.monotonic() - t0
        sock, via_ctl = [], []
        for _ in range(20):
            a = time.monotonic()
            c = socket.socket(socket.AF_UNIX)
            c.connect(f"{d}/gm.sock")
            c.sendall(b"status\n")
            while c.recv(65536):
                pass
            c.close()
            sock.append(time.monotonic() - a)
            a = time.monotonic()
            subprocess.run([ctl, "--socket", f"{d}/gm.sock", "status"], capture_output=True)
            via_ctl.append(time.monotonic() - a)
        rss = proc_status(proc.pid)["rss_kb"]
        a = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        until("READY=1")
        reload_s = time.monotonic() - a
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
        notify.close()
    return {"workflows": n, "ready_s": ready, "status_socket_ms": statistics.median(sock) * 1000,
            "status_ctl_ms": statistics.median(via_ctl) * 1000, "rss_kb": rss,
            "reload_s": reload_s, "exit": rc}


def show_scale(r):
    log(f"== gluemetad daemon, {fmt_n(r['workflows'])} workflows configured (distinct schedules, "
        f"four zones, empty state_dir)")
    log(f"  READY {r['ready_s']:.2f} s, status {r['status_ctl_ms']:.1f} ms with gluemetactl "
        f"({r['status_socket_ms']:.1f} ms on the socket), RSS {mb(r['rss_kb']):.1f} MB, "
        f"reload {r['reload_s']:.2f} s; SIGTERM exit {r['exit']}")
    log()


# ---- main ----

def verdict(ok):
    return "met" if ok else "NOT met"


def estate_suite(args, workflows, tmp, binary, shared, conc, extra, full):
    """gluemetad's runs on one estate, with the stand-ins started for it; a
    full suite also has the runs at 0 ms and the stand-ins' capacity.
    Returns (figures, the stand-ins, still running)."""
    lat = args.latency_ms
    os.makedirs(tmp)
    est = make_estate(os.path.join(tmp, "estate.json"), args, workflows)
    res = {"estate": est}
    log(f"==== {est['workflows']:,} workflows x {args.jobs_per_workflow} jobs x "
        f"{args.runs_per_workflow} runs, {lat} ms per request on both stand-ins, concurrency "
        f"{conc[0]} Glue + {conc[1]} OpenMetadata; {os.cpu_count()} CPUs")
    log(f"estate: {fmt_n(est['jobs'])} jobs, {fmt_n(est['workflow_runs'])} workflow runs, "
        f"{fmt_n(est['job_runs'])} job runs; statusLookbackDays {est['lookback_days']} "
        f"(every run); lineage, tags, owners off")
    log("gluemetad: ingest " + ("without --state (no memo)" if args.no_state else
                                "--state FILE (incremental: the re-run reads the memo)"))
    log()
    s = Standins(os.path.join(tmp, "estate.json"), tmp, shared)
    try:
        wf = os.path.join(tmp, "bench.yaml")
        with open(wf, "w") as fh:
            fh.write(harness.workflow_yaml(s, service="bench", lookback=est["lookback_days"]))

        def state(name):
            return [] if args.no_state else ["--state", os.path.join(tmp, name)]

        floor = [None, None]
        if full and not args.no_floor:
            s.latency(0)
            s.reset()
            for i, what in enumerate(("first run", "re-run")):
                r = gluemetad_run(what + " at 0 ms", s, binary, wf, tmp, est, 0, conc,
                                  extra + state("floor.memo"))
                floor[i] = r["wall_s"]
                res["floor_" + ("first" if i == 0 else "rerun")] = r
                log(f"== gluemetad, {what} with 0 ms injected (what the stand-ins and gluemetad "
                    f"cost themselves): wall {r['wall_s']:.2f} s, exit {r['exit']}, "
                    f"{fmt_n(r['glue_total'] + r['om_total'])} requests")
            log()
        s.latency(lat)
        s.reset()
        first = gluemetad_run("first run (empty OpenMetadata" +
                              (")" if args.no_state else ", no memo)"), s, binary, wf, tmp,
                              est, lat, conc, extra + state("bench.memo"), first_run=True)
        first["floor_s"] = floor[0]
        res["first"] = first
        show_run(first, lat, conc)
        if full:
            rerun = gluemetad_run("unchanged re-run" + ("" if args.no_state else
                                                         " (with the first run's memo)"),
                                  s, binary, wf, tmp, est, lat, conc,
                                  extra + state("bench.memo"))
            rerun["floor_s"] = floor[1]
            res["rerun"] = rerun
            show_run(rerun, lat, conc)
            res["capacity"] = capacity(s, tmp, "bench", conc)
            show_capacity(res["capacity"], [first, rerun], conc)
            s.latency(lat)
        if not args.no_replica:
            res["replica"] = replica_run(s, est, args, tmp)
            show_replica(res["replica"], est)
    except BaseException:
        s.stop()
        raise
    return res, s


def speedup_row(res, target):
    rep, first = res.get("replica"), res["first"]
    if not rep:
        return None
    sp = rep["wall_scaled_s"] / first["wall_s"]
    return (f"{res['estate']['workflows']:,} workflows: >= {target:g}x faster than the "
            f"replica (first runs)",
            f"{sp:.1f}x ({rep['wall_scaled_s']:.1f} s vs {first['wall_s']:.2f} s"
            + (", replica scaled)" if rep["scale"] > 1 else ")"), sp >= target)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--workflows", type=int, default=5000,
                    help="the estate's workflows (default 5,000: ten times the first "
                         "benchmark's 500)")
    ap.add_argument("--compare-workflows", type=int, default=100,
                    help="a second, small estate: gluemetad's first run and the replica "
                         "(0: none)")
    ap.add_argument("--jobs-per-workflow", type=int, default=8)
    ap.add_argument("--runs-per-workflow", type=int, default=20)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--scale", type=lambda v: [int(x) for x in v.split(",") if x],
                    default=[1000, 5000],
                    help="daemons with this many workflows configured (comma-separated; '' none)")
    ap.add_argument("--events", type=int, default=20,
                    help="events for the event-to-status latency (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=0,
                    help="pass --glue-concurrency/--om-concurrency N (default: gluemetad's)")
    ap.add_argument("--replica-workflows", type=int, default=25,
                    help="workflows the replica processes, the rest scaled (0: all)")
    ap.add_argument("--no-replica", action="store_true")
    ap.add_argument("--no-floor", action="store_true", help="skip the runs at 0 ms")
    ap.add_argument("--no-idle", action="store_true")
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--idle-settle", type=float, default=2.0)
    ap.add_argument("--idle-workflows", type=int, default=4)
    ap.add_argument("--no-state", action="store_true",
                    help="run gluemetad without --state (no memo: the re-run is a full run)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    shared = os.path.abspath(args.shared)
    conc = (args.concurrency or GLUE_CONCURRENCY, args.concurrency or OM_CONCURRENCY)
    extra = ["--glue-concurrency", str(conc[0]), "--om-concurrency", str(conc[1])] \
        if args.concurrency else []
    become_subreaper()
    tmp = tempfile.mkdtemp(prefix="gm-bench-")
    t_start = time.monotonic()
    results = {"args": vars(args)}
    s = None
    try:
        small = None
        if args.compare_workflows:
            small, s_small = estate_suite(args, args.compare_workflows, os.path.join(tmp, "small"),
                                          binary, shared, conc, extra, full=False)
            s_small.stop()
            results["small"] = small
        big, s = estate_suite(args, args.workflows, os.path.join(tmp, "big"), binary, shared,
                              conc, extra, full=True)
        results.update(big)
        first, rerun, cap = big["first"], big["rerun"], big["capacity"]

        ev = None
        if args.events:
            ev = event_latency(binary, shared, tmp, args)
            results["events"] = ev
            show_events(ev)

        scale = []
        for n in args.scale:
            scale.append(config_scale(binary, s, tmp, n))
            show_scale(scale[-1])
        results["scale"] = scale

        idle = None
        if not args.no_idle:
            idle = idle_daemon(binary, s, tmp, big["estate"], args)
            results["idle"] = idle
            show_idle(idle)

        # -- targets --
        rows = [r for r in (speedup_row(big, TARGETS["speedup"]),
                            speedup_row(small, TARGETS["speedup_small"]) if small else None) if r]
        for r, t in ((first, TARGETS["bound_first"]), (rerun, TARGETS["bound_rerun"])):
            if "ratio" not in r:        # --latency-ms 0: no bound
                continue
            c = f"; {r['wall_s'] / r['floor_s']:.2f}x the 0 ms run" if r.get("floor_s") else ""
            rows.append((f"within {t:g}x of the lower bound ({r['label'].split(' (')[0]})",
                         f"{r['ratio']:.2f}x ({r['wall_s']:.2f} s vs {r['bound_s']:.2f} s{c})",
                         r["ratio"] <= t))
        rows.append(("no OpenMetadata writes on the unchanged re-run",
                     f"{fmt_n(rerun['writes'])} (first run {fmt_n(first['writes'])})",
                     rerun["writes"] == 0))
        peak = max(first["maxrss_kb"], rerun["maxrss_kb"])
        rows.append((f"peak RSS < {TARGETS['peak_mb']:g} MB", f"{mb(peak):.1f} MB",
                     mb(peak) < TARGETS["peak_mb"]))
        for who, rate_key in (("OpenMetadata", "om"), ("Glue", "glue")):
            asked = max(r[f"{rate_key}_total"] / r["wall_s"] for r in (first, rerun))
            rows.append((f"fake {who} serves >= {TARGETS['standin']:g}x gluemetad's rate",
                         f"{cap[rate_key + '_rate'] / asked:.1f}x ({cap[rate_key + '_rate']:,.0f}/s"
                         f" vs {asked:,.0f}/s)", cap[rate_key + "_rate"] >= TARGETS["standin"] *
                         asked))
        for r in scale:
            if r["workflows"] == 1000:
                rows.append(("1,000 workflows: READY < 0.5 s", f"{r['ready_s']:.2f} s",
                             r["ready_s"] < 0.5))
                rows.append(("1,000 workflows: status < 10 ms", f"{r['status_ctl_ms']:.1f} ms "
                             f"with gluemetactl", r["status_ctl_ms"] < 10))
                rows.append(("1,000 workflows: RSS < 24 MB", f"{mb(r['rss_kb']):.1f} MB",
                             mb(r["rss_kb"]) < 24))
        if ev:
            rows.append(("event to status within 5 s (p95)", f"{ev['p95']:.2f} s (p50 "
                         f"{ev['p50']:.2f} s)", ev["p95"] < 5.0))
        if idle:
            rows.append((f"idle RSS < {TARGETS['idle_mb']:g} MB", f"{mb(idle['rss_kb']):.1f} MB",
                         mb(idle["rss_kb"]) < TARGETS["idle_mb"]))
            rows.append(("no periodic wake-ups when idle",
                         f"{idle['wakeups']} context switches in {idle['seconds']:g} s",
                         idle["wakeups"] == 0))
        results["targets"] = [{"target": a, "figure": b, "met": c} for a, b, c in rows]
        w = max(len(a) for a, _, _ in rows)
        log("== targets")
        for a, b, c in rows:
            log(f"  {a:<{w}}  {b:<52}  {verdict(c)}")
        log()
        log(f"bench took {time.monotonic() - t_start:.0f} s")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1, default=str)
    finally:
        if s:
            s.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
