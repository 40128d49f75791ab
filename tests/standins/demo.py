#!/usr/bin/python3
"""make demo: start the local Glue and OpenMetadata stand-ins on the ports
conf/examples/demo.yaml names, seeded with a sample estate, run
`gluemetad ingest -c conf/examples/demo.yaml` against them, and show what
landed in OpenMetadata."""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(ROOT, "conf", "examples", "demo.yaml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "gluemetad"))
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--workflows", type=int, default=40)
    ap.add_argument("--latency-ms", type=int, default=20)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="gluemetad-demo-")
    estate = os.path.join(tmp, "estate.json")
    est = harness.gen_estate(estate, args.workflows, seed=42, odd=True, extra=["--lineage"])
    print(f"== local stand-ins: fake Glue on 127.0.0.1:4566, fake OpenMetadata on "
          f"127.0.0.1:8585 ({args.workflows}+ workflows, {args.latency_ms} ms latency)")
    try:
        s = harness.Standins(estate, latency_ms=args.latency_ms, glue_port=4566, om_port=8585,
                             tmp=tmp, access_key="AKIADEMOGLUEMETAD000",
                             secret_key="demo/secret/for/the/local/stand-in/only",
                             token="demo.jwt.token-for-the-local-stand-in")
    except Exception as e:
        print(f"demo: cannot start the stand-ins ({e}); is something else listening on "
              f"127.0.0.1:4566 or :8585? Their logs are in {tmp}", file=sys.stderr)
        return 1
    aux = []
    try:
        # STS tells the account (for the workflows' Glue tags), S3 holds job scripts
        aux.append(harness.Server([harness.PY, os.path.join(HERE, "fake_sts.py"),
                                   "--region", "eu-west-1",
                                   "--base-access-key", "AKIADEMOGLUEMETAD000",
                                   "--base-secret-key", "demo/secret/for/the/local/stand-in/only",
                                   "--role-arn", "arn:aws:iam::123456789012:role/demo",
                                   "--access-key", "ASIADEMOUNUSED000000", "--secret-key", "unused",
                                   "--session-token", "unused", "--account", est["account"]],
                                  "sts", 0, tmp))
        aux.append(harness.Server([harness.PY, os.path.join(HERE, "fake_s3.py"),
                                   "--estate", estate, "--region", "eu-west-1",
                                   "--access-key", "AKIADEMOGLUEMETAD000",
                                   "--secret-key", "demo/secret/for/the/local/stand-in/only"],
                                  "s3", 0, tmp))
        s.om.call("POST", "/__fake/seed", est["om_seed"])
        env = dict(os.environ, AWS_ENDPOINT_URL_STS=aux[0].url + "/",
                   AWS_ENDPOINT_URL_S3=aux[1].url, AWS_EC2_METADATA_DISABLED="true")
        print(f"== {args.binary} ingest -c {os.path.relpath(DEMO, os.getcwd())}\n", flush=True)
        p = subprocess.run([args.binary, "ingest", "-c", DEMO], env=env)
        print(f"\n(exit status {p.returncode})\n")
        print("== what landed in OpenMetadata")
        sys.stdout.flush()
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "om_show.py"),
                        "--port-file", s.om.port_file])
        g = s.glue_stats()
        d = s.dump()
        print("\n== requests seen by the stand-ins")
        print("  Glue:", ", ".join(f"{k} {v}" for k, v in sorted(g["counts"].items())),
              f"(at most {g['max_in_flight']} in flight)")
        print("  OpenMetadata:", ", ".join(f"{k} {v}" for k, v in sorted(d["counts"].items())),
              f"(at most {d['max_in_flight']} in flight)")
        print(f"  rejected as invalid: Glue {len(g['rejected'])}, OpenMetadata {len(d['rejected'])}")
        return p.returncode
    finally:
        for x in aux:
            x.stop()
        s.stop()


if __name__ == "__main__":
    sys.exit(main())
