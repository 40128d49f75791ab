#!/usr/bin/python3
"""make demo: start the local stand-ins of AWS Glue, OpenMetadata, STS and S3
on ports the kernel chooses, seeded with a sample estate, run
`gluemetad ingest -c` on a temporary copy of conf/examples/demo.yaml that
names those ports, and show what landed in OpenMetadata.

The estate is generated from a fixed seed and a fixed time of day (today's
00:00 UTC), so every run reads the same runs and prints the same counts.
Without the specification folder (--shared, default ../shared) the stand-ins
run without checking requests against AWS's models and OpenMetadata's
schemas, and the demo says so.  Temporary files are removed at the end
(--keep keeps them)."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "conf", "examples", "demo.yaml")
# the endpoints demo.yaml names, replaced with the stand-ins' own
GLUE_URL = "http://127.0.0.1:4566"
OM_URL = "http://127.0.0.1:8585"
AK = "AKIADEMOGLUEMETAD000"
SK = "demo/secret/for/the/local/stand-in/only"
JWT = "demo.jwt.token-for-the-local-stand-in"


def standin_errors(tmp):
    """The last line each stand-in wrote to its log (its own error, when it
    stopped)."""
    out = []
    for name in sorted(os.listdir(tmp)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(tmp, name), errors="replace") as fh:
            lines = [x.rstrip() for x in fh if x.strip()]
        if lines:
            out.append(f"  {name[:-4]}: {lines[-1]}")
    return out


def workflow_file(tmp, glue_url, om_url):
    """conf/examples/demo.yaml with the stand-ins' ports, in tmp."""
    with open(DEMO) as fh:
        text = fh.read()
    if text.count(GLUE_URL) != 1 or text.count(OM_URL) != 1:
        raise SystemExit(f"demo: {DEMO} no longer names {GLUE_URL} and {OM_URL} once each")
    path = os.path.join(tmp, "demo.yaml")
    with open(path, "w") as fh:
        fh.write(text.replace(GLUE_URL, glue_url).replace(OM_URL, om_url))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "gluemetad"))
    ap.add_argument("--shared", default=os.environ.get("GLUEMETAD_SHARED") or
                    os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--workflows", type=int, default=40)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = ap.parse_args()

    shared = os.path.abspath(args.shared)
    checked = all(os.path.isdir(os.path.join(shared, d))
                  for d in ("aws-models", "openmetadata-spec"))
    if checked:
        os.environ["GLUEMETAD_SHARED"] = shared      # the stand-ins read it
        os.environ.pop("GLUEMETAD_VALIDATE", None)
    else:
        os.environ["GLUEMETAD_VALIDATE"] = "off"
        print(f"== no specification folder at {shared} (SHARED=): the stand-ins do not check "
              f"requests against AWS's models and OpenMetadata's schemas")

    tmp = tempfile.mkdtemp(prefix="gluemetad-demo-")
    try:
        return demo(args, tmp, checked)
    finally:
        if args.keep:
            print(f"\n(temporary files kept in {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def demo(args, tmp, checked):
    # runs are spread over the days before `now`; a fixed time of day makes
    # them fall on the same dates (usage is counted per day) every run
    now = int(time.time()) // 86400 * 86400
    estate = os.path.join(tmp, "estate.json")
    est = harness.gen_estate(estate, args.workflows, seed=42, odd=True,
                             extra=["--lineage", "--now", str(now)])
    servers = []
    try:
        try:
            s = harness.Standins(estate, latency_ms=args.latency_ms, tmp=tmp, access_key=AK,
                                 secret_key=SK, token=JWT)
            servers.append(s)
            # STS tells the account (for the workflows' Glue tags), S3 holds job scripts
            servers.append(harness.Server([harness.PY, os.path.join(HERE, "fake_sts.py"),
                                           "--region", "eu-west-1",
                                           "--base-access-key", AK, "--base-secret-key", SK,
                                           "--role-arn", "arn:aws:iam::123456789012:role/demo",
                                           "--access-key", "ASIADEMOUNUSED000000",
                                           "--secret-key", "unused", "--session-token", "unused",
                                           "--account", est["account"]], "sts", 0, tmp))
            servers.append(harness.Server([harness.PY, os.path.join(HERE, "fake_s3.py"),
                                           "--estate", estate, "--region", "eu-west-1",
                                           "--access-key", AK, "--secret-key", SK], "s3", 0, tmp))
        except RuntimeError as e:
            print(f"demo: cannot start the stand-ins: {e}", file=sys.stderr)
            for line in standin_errors(tmp):
                print(line, file=sys.stderr)
            return 1
        sts, s3 = servers[1], servers[2]
        s.om.call("POST", "/__fake/seed", est["om_seed"])
        conf = workflow_file(tmp, s.glue.url, s.om.url)
        env = dict(os.environ, AWS_ENDPOINT_URL_STS=sts.url + "/", AWS_ENDPOINT_URL_S3=s3.url,
                   AWS_EC2_METADATA_DISABLED="true")
        print(f"== local stand-ins: fake Glue on {s.glue.url}, fake OpenMetadata on {s.om.url}, "
              f"STS on {sts.url}, S3 on {s3.url} ({args.workflows}+ workflows, "
              f"{args.latency_ms} ms latency{'' if checked else ', unchecked'})")
        print(f"== {args.binary} ingest -c {conf}\n   ({os.path.relpath(DEMO, os.getcwd())} "
              f"with the stand-ins' ports)")
        print("== the demo estate contains, on purpose, jobs whose scripts are missing, a Glue "
              "connection that does not exist and tables and S3 paths OpenMetadata does not "
              "know, to show how they are reported: the warnings below are expected\n",
              flush=True)
        p = subprocess.run([args.binary, "ingest", "-c", conf], env=env)
        print(f"\n(exit status {p.returncode})\n")
        print("== what landed in OpenMetadata")
        sys.stdout.flush()
        subprocess.run([harness.PY, os.path.join(HERE, "om_show.py"),
                        "--port-file", s.om.port_file])
        g = s.glue_stats()
        d = s.dump()
        print("\n== requests seen by the stand-ins")
        print("  Glue:", ", ".join(f"{k} {v}" for k, v in sorted(g["counts"].items())),
              f"(at most {g['max_in_flight']} in flight)")
        print("  OpenMetadata:", ", ".join(f"{k} {v}" for k, v in sorted(d["counts"].items())),
              f"(at most {d['max_in_flight']} in flight)")
        if checked:
            print(f"  rejected as invalid: Glue {len(g['rejected'])}, "
                  f"OpenMetadata {len(d['rejected'])}")
        return p.returncode
    finally:
        for x in reversed(servers):
            x.stop()


if __name__ == "__main__":
    sys.exit(main())
