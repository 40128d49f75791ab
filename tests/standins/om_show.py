#!/usr/bin/python3
"""Prints what the fake OpenMetadata holds: services, pipelines with their
tasks and edges, tags, owners and newest statuses, and the lineage edges."""
import argparse
import json
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--url")
    ap.add_argument("--max-edges", type=int, default=25)
    a = ap.parse_args()
    url = a.url or f"http://127.0.0.1:{open(a.port_file).read().strip()}"
    with urllib.request.urlopen(url + "/__fake/dump", timeout=30) as r:
        d = json.load(r)
    for s in d["services"]:
        pipes = sorted((p for p in d["pipelines"] if p["service"]["id"] == s["id"]),
                       key=lambda p: p["fullyQualifiedName"])
        live = [p for p in pipes if not p.get("deleted")]
        print(f"service {s['fullyQualifiedName']} ({s['serviceType']}): {len(live)} pipelines"
              f"{', %d marked deleted' % (len(pipes) - len(live)) if len(pipes) > len(live) else ''}")
        for p in pipes:
            sts = p.get("statuses", [])
            tag = " [deleted]" if p.get("deleted") else ""
            newest = sts[-1] if sts else None
            print(f"  pipeline {p['fullyQualifiedName']}{tag}: {len(p.get('tasks', []))} tasks, "
                  f"{len(sts)} statuses" +
                  (f", newest {newest['executionStatus']}" if newest else ""))
            if p.get("tags") or p.get("owners"):
                print("      tags: " + (", ".join(t["tagFQN"] for t in p.get("tags") or []) or "-") +
                      "; owners: " + (", ".join(f"{o.get('name', o['id'])} ({o['type']})"
                                               for o in p.get("owners") or []) or "-"))
            for t in p.get("tasks", []):
                down = t.get("downstreamTasks") or []
                name = t["name"] if len(t["name"]) <= 60 else t["name"][:57] + "..."
                print(f"      {t.get('taskType', '?'):8} {name}" +
                      (f" -> {', '.join(x if len(x) <= 40 else x[:37] + '...' for x in down)}"
                       if down else ""))
            if newest and newest.get("taskStatus"):
                print("      last run: " + ", ".join(
                    f"{x['name'][:30]}={x['executionStatus']}" for x in newest["taskStatus"]))
    edges = d.get("lineageFqn") or []
    if edges:
        print(f"lineage: {len(edges)} edges")
        edges = sorted(edges, key=lambda e: (e["pipeline"], e["from"], e["to"]))
        for e in edges[:a.max_edges]:
            print(f"  {e['from']} ({e['fromType']}) -> {e['to']} ({e['toType']})  "
                  f"via {e['pipeline']}")
        if len(edges) > a.max_edges:
            print(f"  ... and {len(edges) - a.max_edges} more")


if __name__ == "__main__":
    main()
