#!/usr/bin/python3
"""Runs the integration suite: the unittest classes of the modules test_*.py
beside this file, against the built binary and the local stand-ins.

Classes are independent (each starts its own stand-ins on ports the kernel
chooses), and they mostly wait on sockets and timers, so they run in JOBS
worker processes at once, longest first.  Each class runs in a session of
its own with TMPDIR set to a directory of its own below one directory of
this run (--tmp, default $TMPDIR/gluemetad-tests.XXXXXX).  When a class
ends, a process still alive in its session fails the class and is killed;
its directory is removed (a process gets 3 s to go).  A class's output is printed in one piece when it
ends.  At the end: the ten slowest classes, then 'N passed, N failed'.

  run.py --binary B --shared S [-k TEXT] [--classes A,B] [--jobs N]
    -k TEXT        only tests whose id contains TEXT
    --classes A,B  only these classes (module.Class)
    --jobs N       worker processes (default: JOBS from the environment,
                   else twice the CPUs, at least 2)
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DURATIONS = os.path.join(HERE, "durations.json")


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def discover(pattern=None, classes=None):
    """{'module.Class': [test ids]} in discovery order."""
    sys.path.insert(0, HERE)
    found = {}
    for t in flatten(unittest.defaultTestLoader.discover(HERE, pattern="test_*.py")):
        if isinstance(t, unittest.loader._FailedTest):
            raise SystemExit(f"cannot load {t.id()}: {t._exception}")
        tid = t.id()
        cls = tid.rsplit(".", 1)[0]
        if pattern and pattern not in tid:
            continue
        if classes and cls not in classes:
            continue
        found.setdefault(cls, []).append(tid)
    return found


def worker(args):
    """Runs the given test ids in this process; writes a JSON summary."""
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(args.worker)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    summary = {"run": max(result.testsRun, failed), "failed": failed,
               "skipped": len(result.skipped)}
    with open(args.result, "w") as fh:
        json.dump(summary, fh)
    return 0


def session_processes(sid):
    """Processes of session sid, as (pid, command line)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            with open(f"/proc/{d}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            out.append((int(d), cmd))
        except (OSError, ValueError, IndexError):
            continue
    return out


class Job:
    def __init__(self, cls, tests, root, index):
        self.cls, self.tests = cls, tests
        self.tmp = os.path.join(root, f"c{index:02d}")
        os.mkdir(self.tmp)
        self.out_path = os.path.join(root, f"c{index:02d}.out")
        self.result_path = os.path.join(root, f"c{index:02d}.json")
        env = dict(os.environ, TMPDIR=self.tmp, PYTHONDONTWRITEBYTECODE="1")
        self.out = open(self.out_path, "w")
        self.t0 = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", *tests,
             "--result", self.result_path],
            stdout=self.out, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd(),
            start_new_session=True)

    def finish(self):
        self.elapsed = time.time() - self.t0
        self.out.close()
        problems = []
        # what a test stopped may take a moment to go (a journal sink polls
        # for its daemon); whatever is still there after 3 s was left behind
        deadline = time.time() + 3
        while True:
            left = [p for p in session_processes(self.proc.pid) if p[0] != self.proc.pid]
            if not left or time.time() > deadline:
                break
            time.sleep(0.05)
        for pid, cmd in left:
            problems.append(f"left a process running: {pid} {cmd}")
        if left:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.time() + 10
            while session_processes(self.proc.pid) and time.time() < deadline:
                time.sleep(0.05)
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            with open(self.result_path) as fh:
                self.summary = json.load(fh)
        except (OSError, ValueError):
            self.summary = {"run": len(self.tests), "failed": len(self.tests), "skipped": 0}
            problems.append(f"the worker exited with {self.proc.returncode} without a result")
        if problems and not self.summary["failed"]:
            self.summary["failed"] = 1
        self.problems = problems
        with open(self.out_path) as fh:
            self.text = fh.read()


def load_durations():
    try:
        with open(DURATIONS) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary")
    ap.add_argument("--shared")
    ap.add_argument("-k", dest="pattern", default=None, help="only tests whose id contains this")
    ap.add_argument("--classes", default=None, help="only these classes, comma-separated")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--tmp", default=None, help="directory for this run's temporary files")
    ap.add_argument("--label", default="integration")
    ap.add_argument("--write-durations", action="store_true",
                    help="record each class's time in durations.json (scheduling order)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if not args.binary or not args.shared:
        ap.error("--binary and --shared are required")
    os.environ["GLUEMETAD_BIN"] = os.path.abspath(args.binary)
    os.environ["GLUEMETAD_SHARED"] = os.path.abspath(args.shared)
    jobs = args.jobs or int(os.environ.get("JOBS") or 0) or 2 * (os.cpu_count() or 1)
    jobs = max(1, jobs)
    classes = set(args.classes.split(",")) if args.classes else None
    found = discover(args.pattern, classes)
    if classes and classes - set(found):
        print(f"no such class: {', '.join(sorted(classes - set(found)))}", file=sys.stderr)
        return 1
    if not found:
        print("no test ran", file=sys.stderr)
        return 1
    durations = load_durations()
    order = sorted(found, key=lambda c: -durations.get(c, 30.0))
    if args.tmp:
        os.makedirs(args.tmp, exist_ok=True)
    root = tempfile.mkdtemp(prefix="gluemetad-tests.", dir=args.tmp)
    print(f"{args.label}: {sum(map(len, found.values()))} tests in {len(found)} classes, "
          f"{jobs} at a time, temporary files in {root}", flush=True)
    t0 = time.time()
    running, done, index = [], [], 0
    try:
        while order or running:
            while order and len(running) < jobs:
                cls = order.pop(0)
                index += 1
                running.append(Job(cls, found[cls], root, index))
            time.sleep(0.05)
            for job in [j for j in running if j.proc.poll() is not None]:
                running.remove(job)
                job.finish()
                done.append(job)
                s = job.summary
                verdict = "ok" if not s["failed"] else "FAILED"
                print(f"---- {job.cls}: {verdict}, {s['run']} tests in {job.elapsed:.1f}s", flush=True)
                if s["failed"] or os.environ.get("VERBOSE"):
                    sys.stdout.write(job.text)
                else:
                    for line in job.text.splitlines():
                        if line.endswith(" ... ok") or line.endswith(" ... skipped") or \
                                " ... skipped " in line:
                            print("  " + line)
                for p in job.problems:
                    print(f"  {job.cls}: {p}")
                sys.stdout.flush()
    finally:
        for job in running:
            try:
                os.killpg(job.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
    wall = time.time() - t0
    run = sum(j.summary["run"] for j in done)
    failed = sum(j.summary["failed"] for j in done)
    skipped = sum(j.summary["skipped"] for j in done)
    busy = sum(j.elapsed for j in done)
    summary = [f"{args.label}: {wall:.0f}s wall, {busy:.0f}s of class time, {jobs} jobs; "
               "the ten slowest classes:"]
    summary += [f"  {j.elapsed:7.1f}s  {j.cls}" for j in sorted(done, key=lambda j: -j.elapsed)[:10]]
    print("\n" + "\n".join(summary))
    if os.environ.get("GLUEMETAD_SUMMARY"):         # tests/check.sh prints it at the end
        with open(os.environ["GLUEMETAD_SUMMARY"], "a") as fh:
            fh.write("\n".join(summary) + "\n")
    for j in done:
        if j.summary["failed"]:
            print(f"FAILED: {j.cls}")
    if args.write_durations:
        durations.update({j.cls: round(j.elapsed, 1) for j in done})
        with open(DURATIONS, "w") as fh:
            json.dump(dict(sorted(durations.items())), fh, indent=1)
            fh.write("\n")
    print(f"{run - failed - skipped} passed, {failed} failed" +
          (f", {skipped} skipped" if skipped else ""))
    if run == 0:
        print("no test ran", file=sys.stderr)
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
