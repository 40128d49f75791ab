#!/usr/bin/python3
"""The README's benchmark tables from one `make bench` run's figures:

  bench.py ... --json figures.json && table.py figures.json

Prints Markdown: gluemetad's two runs beside the replica on the main
estate, the stand-ins' capacity, the small estate's comparison, the daemon
figures and the targets, all from that one file."""
import json
import sys


def n(v):
    return f"{v:,.0f}"


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def counts(c, keep=4):
    items = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
    short = [f"{k.replace('/api/v1', '')} {n(v)}" for k, v in items[:keep]]
    return ", ".join(short) + (", …" if len(items) > keep else "")


def main():
    r = json.load(open(sys.argv[1]))
    est, first, rerun, rep = r["estate"], r["first"], r["rerun"], r.get("replica")
    a = r["args"]
    out = []
    p = out.append
    p(f"Estate: {n(est['workflows'])} workflows × {a['jobs_per_workflow']} jobs × "
      f"{a['runs_per_workflow']} runs ({n(est['jobs'])} jobs, {n(est['workflow_runs'])} "
      f"workflow runs, {n(est['job_runs'])} job runs), {a['latency_ms']} ms per request "
      f"on both stand-ins.")
    p("")
    p("| | gluemetad first run | gluemetad unchanged re-run | replica of the connector |")
    p("|---|---|---|---|")
    rw = (f"{rep['wall_scaled_s']:,.0f} s ({rep['inner_wall_s']:.1f} s for "
          f"{rep['workflows_done']} workflows, scaled)") if rep else ""
    p(f"| wall time | {first['wall_s']:.1f} s | {rerun['wall_s']:.2f} s | {rw} |")
    p(f"| Glue requests | {n(first['glue_total'])} ({counts(first['glue'])}) | "
      f"{n(rerun['glue_total'])} ({counts(rerun['glue'])}) | "
      + (f"{n(rep['glue_total_scaled'])} |" if rep else "|"))
    p(f"| OpenMetadata requests | {n(first['om_total'])} ({counts(first['om'], 3)}) | "
      f"{n(rerun['om_total'])} ({counts(rerun['om'], 3)}) | "
      + (f"{n(rep['om_total_scaled'])} |" if rep else "|"))
    p(f"| OpenMetadata writes | {n(first['writes'])} | {n(rerun['writes'])} | "
      + (f"{n(rep['writes_scaled'])} |" if rep else "|"))
    for key, title in (("a_s", "(a) critical path"), ("b_s", "(b) requests ÷ concurrency")):
        p(f"| {title} | {first[key]:.2f} s | {rerun[key]:.2f} s | |")
    p(f"| wall ÷ max(a, b) | {first['ratio']:.2f} | {rerun['ratio']:.2f} | |")
    if r.get("floor_first"):
        p(f"| the same run at 0 ms | {r['floor_first']['wall_s']:.1f} s | "
          f"{r['floor_rerun']['wall_s']:.2f} s | |")
    p(f"| gluemetad's CPU time, peak RSS | {first['cpu_s']:.1f} s, {mb(first['maxrss_kb'])} | "
      f"{rerun['cpu_s']:.2f} s, {mb(rerun['maxrss_kb'])} | |")
    gc, oc = first["standin_cpu_s"]
    gc2, oc2 = rerun["standin_cpu_s"]
    p(f"| stand-ins' CPU time (Glue, OpenMetadata) | {gc:.1f} s, {oc:.1f} s | "
      f"{gc2:.1f} s, {oc2:.1f} s | |")
    cap = r.get("capacity")
    if cap:
        p("")
        p("| stand-in's capacity at 0 ms (8 in flight) | rate | gluemetad asked, first run | "
          "re-run |")
        p("|---|---|---|---|")
        for who, k, what in (("fake OpenMetadata", "om", "pipeline status PUT"),
                             ("fake Glue", "glue", "GetWorkflowRuns with the graph")):
            rates = [x[f"{k}_total"] / x["wall_s"] for x in (first, rerun)]
            p(f"| {who}, {what} | {n(cap[k + '_rate'])}/s | {n(rates[0])}/s "
              f"({cap[k + '_rate'] / rates[0]:.1f}× under) | {n(rates[1])}/s "
              f"({cap[k + '_rate'] / rates[1]:.1f}× under) |")
    small = r.get("small")
    if small and small.get("replica"):
        f2, r2 = small["first"], small["replica"]
        p("")
        p(f"At {n(small['estate']['workflows'])} workflows: gluemetad's first run "
          f"{f2['wall_s']:.2f} s ({f2['ratio']:.2f}× its bound of {f2['bound_s']:.2f} s, "
          f"{n(f2['om_total'])} OpenMetadata requests), the replica {r2['wall_scaled_s']:.0f} s "
          f"({r2['inner_wall_s']:.1f} s for {r2['workflows_done']} workflows, scaled): "
          f"{r2['wall_scaled_s'] / f2['wall_s']:.1f}× faster.")
    ev = r.get("events")
    if ev:
        p("")
        p(f"Event to status ({ev['n']} events, {ev['latency_ms']} ms on every side): p50 "
          f"{ev['p50']:.2f} s, p95 {ev['p95']:.2f} s.")
    for s in r.get("scale", []):
        p("")
        p(f"A daemon with {n(s['workflows'])} workflows configured: READY {s['ready_s']:.2f} s, "
          f"`gluemetactl status` {s['status_ctl_ms']:.1f} ms ({s['status_socket_ms']:.1f} ms "
          f"on the socket), RSS {mb(s['rss_kb'])}, reload {s['reload_s']:.2f} s.")
    idle = r.get("idle")
    if idle:
        p("")
        p(f"Idle ({idle['workflows']} workflows): RSS {mb(idle['rss_kb'])} "
          f"({mb(idle['anon_kb'])} anonymous), {idle['threads']} thread, "
          f"{idle['wakeups']} context switches in {idle['seconds']:g} s.")
    p("")
    p("| target | figure | |")
    p("|---|---|---|")
    for t in r["targets"]:
        p(f"| {t['target']} | {t['figure']} | {'met' if t['met'] else '**not met**'} |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
