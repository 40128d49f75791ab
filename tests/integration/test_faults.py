"""Fault injection, judged by what a user sees: OpenMetadata restarted in the
middle of a run; connections reset, stalled, cut short or answered with an
oversized body by Glue and OpenMetadata; the daemon killed with SIGKILL
while it writes its state; a storm of SIGHUPs and config rewrites during
runs; clients that hold the control socket without asking or reading.

GLUEMETAD_FAULT_SEED seeds every random choice (kill moments, rewrites), so
a failure can be replayed."""
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import expect
import harness
from harness import DaemonCase, IngestCase

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
CTL = os.path.join(os.path.dirname(BIN), "gluemetactl")
SEED = int(os.environ.get("GLUEMETAD_FAULT_SEED", "20261203"))
# Under a checker (valgrind) gluemetad is several times slower: every
# bound on it stretches by this factor.
SCALE = 4 if harness.WRAPPER else 1
CTL_MAX_CLIENTS = 32           # include/ctl.h
CTL_TIMEOUT_S = 5.0
# A daemon that waited on the attackers would answer `status` only once they
# are dropped, after CTL_TIMEOUT_S; one that does not answers well before,
# though under a sanitizer on a loaded machine the attackers' own replies
# (40 status builds a second) can take it past 2 s.
STARVED_S = CTL_TIMEOUT_S * SCALE
HIST_MAX = 50                  # src/daemon.c
RUN_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def strict_json(text):
    """json.loads that refuses duplicate keys (a history with two entries for
    one workflow is as broken as a torn one)."""
    def pairs(kv):
        keys = [k for k, _ in kv]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate keys: {sorted(k for k in keys if keys.count(k) > 1)}")
        return dict(kv)
    return json.loads(text, object_pairs_hook=pairs)


def run_bounded(test, argv, timeout, env=None):
    """Runs gluemetad; a run that outlives `timeout` fails the test as hung."""
    try:
        return harness.run_gluemetad(BIN, argv, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        test.fail(f"gluemetad {' '.join(argv)} did not finish within {timeout} s")


VOLATILE = {"id", "href", "updatedAt", "updatedBy", "changeDescription",
            "incrementalChangeDescription"}


def without_volatile(x):
    if isinstance(x, dict):
        return {k: without_volatile(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [without_volatile(v) for v in x]
    return x


def store_view(dump):
    """What a user sees in OpenMetadata: services, pipelines with their tasks
    and statuses, usage; without ids and timestamps, which differ between two
    stores built the same way."""
    return {
        "services": sorted((without_volatile(s) for s in dump["services"]),
                           key=lambda s: s["name"]),
        "pipelines": {p["fullyQualifiedName"]: without_volatile(p) for p in dump["pipelines"]},
        "usage": dump["usage"],
        "lineage": sorted(json.dumps(e, sort_keys=True) for e in dump["lineageFqn"]),
    }


# ---------------------------------------------------------------------------
# 1. OpenMetadata restarted in the middle of a run

class TestOpenMetadataRestart(unittest.TestCase):
    workflows = 40
    latency = 40            # ms per OpenMetadata request: the run lasts a few seconds
    down_s = 3.0            # longer than om.c's retries (3 attempts, backoff < 1.5 s)

    @classmethod
    def setUpClass(cls):
        harness.class_tmp(cls, "gm-ft-")
        cls.om_state = os.path.join(cls.tmp, "om.state")
        harness.class_estate(cls, None, cls.workflows, seed=11,
                             om_args=["--state-file", cls.om_state])
        cls.restarts = 0

    def om_argv(self):
        return [harness.PY, os.path.join(harness.STANDINS, "fake_om.py"), "--token", harness.JWT,
                "--latency-ms", str(self.latency), "--state-file", self.om_state]

    def crash_and_restart_om(self):
        """SIGKILL, then the same store (--state-file) on the same port."""
        port = self.s.om.port
        self.s.om.proc.kill()
        self.s.om.proc.wait()
        self.s.om.log.close()
        time.sleep(self.down_s)
        type(self).restarts += 1
        self.s.om = harness.Server(self.om_argv(), f"om-restart{self.restarts}", port, self.tmp)
        self.assertEqual(self.s.om.port, port)

    def write_workflow(self):
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(harness.workflow_yaml(self.s))
        return path

    def pipelines(self):
        return {p["fullyQualifiedName"]: p["id"] for p in self.s.dump()["pipelines"]}

    def test_restart_mid_run_then_next_run_completes_the_store(self):
        wf = self.write_workflow()
        names = [w["Name"] for w in self.estate["workflows"]]
        bound = 120 * SCALE
        # what a clean run leaves in OpenMetadata
        self.s.om.call("POST", "/__fake/config", {"latency_ms": self.latency})
        self.s.om.call("POST", "/__fake/reset")
        p = run_bounded(self, ["ingest", "-c", wf], bound)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        clean = store_view(self.s.dump())
        self.assertEqual(len(clean["pipelines"]), len(names))

        # the same, with OpenMetadata crashing and coming back mid-run
        self.s.om.call("POST", "/__fake/reset")
        memo = os.path.join(tempfile.mkdtemp(dir=self.tmp), "wf.memo")
        out = open(os.path.join(self.tmp, "run1.out"), "w+")
        err = open(os.path.join(self.tmp, "run1.err"), "w+")
        proc = subprocess.Popen(harness.WRAPPER + [BIN, "ingest", "-c", wf, "--state", memo],
                                stdout=out, stderr=err, text=True)
        try:
            deadline = time.time() + 60 * SCALE
            while len(self.pipelines()) < 8:
                self.assertIsNone(proc.poll(), "the run ended before OpenMetadata was stopped")
                self.assertLess(time.time(), deadline, "no pipeline written")
                time.sleep(0.05)
            before = self.pipelines()
            self.crash_and_restart_om()
            rc = proc.wait(bound)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        # the run went on through the outage and reports what failed
        self.assertEqual(rc, 1, stdout + stderr)
        self.assertIn("Workflow finished with failures", stdout)
        errors = int(re.search(r"Total errors: (\d+)", stdout).group(1))
        self.assertGreater(errors, 0)
        failed = [x for x in stderr.splitlines() if x.startswith("ERROR")]
        self.assertTrue(failed, stderr)
        self.assertTrue(any(re.search(r"(?i)connect|reset|empty reply|recv failure", x)
                            for x in failed), "\n".join(failed))
        # what OpenMetadata acknowledged before it crashed is still there, same ids
        after = self.pipelines()
        self.assertEqual({k: after.get(k) for k in before}, before)
        self.assertLess(len(after), len(names), "the outage should have cost some writes")

        # the next run writes what the first could not: the store is a clean run's
        p = run_bounded(self, ["ingest", "-c", wf, "--state", memo], bound)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Total errors: 0", p.stdout)
        dump = self.s.dump()
        self.assertEqual(dump["rejected"], [])
        self.assertEqual(store_view(dump), clean)
        self.assertEqual({k: v for k, v in self.pipelines().items() if k in before}, before)


# ---------------------------------------------------------------------------
# 2. Connection resets, stalls, truncated and oversized replies

class TestTransportFaults(IngestCase):
    workflows = 30           # two ListWorkflows pages of 25
    timeout_ms = 1000 * (3 if harness.WRAPPER else 1)   # GLUEMETAD_HTTP_TIMEOUT_MS

    def run_with_faults(self, glue=(), om=(), bound=90, timeout_ms=None):
        self.s.glue.call("POST", "/__fake/config", {"faults": list(glue)})
        self.s.om.call("POST", "/__fake/config", {"faults": list(om)})
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(harness.workflow_yaml(self.s))
        env = dict(os.environ, GLUEMETAD_HTTP_TIMEOUT_MS=str(timeout_ms or self.timeout_ms))
        return run_bounded(self, ["ingest", "-c", path], bound * SCALE, env=env)

    def hits(self):
        return ([f["hits"] for f in self.s.glue.call("GET", "/__fake/faults")["faults"]],
                [f["hits"] for f in self.s.om.call("GET", "/__fake/faults")["faults"]])

    def names(self):
        return [w["Name"] for w in self.estate["workflows"]]

    def status_path(self, name):
        return "^/api/v1/pipelines/" + re.escape(expect.fqn("glue_it", name)) + "/status$"

    def want_statuses(self, name):
        wf = next(w for w in self.estate["workflows"] if w["Name"] == name)
        return expect.statuses(wf, 3, time.time())

    def assertComplete(self, names):
        """These pipelines are in OpenMetadata with their tasks and every status."""
        got = self.pipelines()
        by_name = {w["Name"]: w for w in self.estate["workflows"]}
        for name in names:
            self.assertIn(name, got)
            self.assertEqual([t["name"] for t in got[name].get("tasks", [])],
                             [t["name"] for t in expect.tasks(by_name[name])], name)
            self.assertEqual({s["timestamp"] for s in got[name].get("statuses", [])},
                             set(self.want_statuses(name)), name)

    def errors_about(self, stderr, name):
        return [x for x in stderr.splitlines() if x.startswith("ERROR") and f"'{name}'" in x]

    def test_glue_resets_truncations_and_stalls_are_retried(self):
        n = self.names()
        p = self.run_with_faults(glue=[
            {"op": "ListWorkflows", "page": 1, "action": "reset", "times": 1},
            {"op": "ListWorkflows", "page": 2, "action": "truncate", "times": 1},
            {"op": "BatchGetWorkflows", "action": "stall", "times": 1},
            {"op": "GetWorkflowRuns", "name": n[1], "action": "reset", "times": 2},
            {"op": "GetWorkflowRuns", "name": n[2], "action": "truncate", "times": 2},
            {"op": "GetWorkflowRuns", "name": n[3], "action": "stall", "times": 1},
            {"op": "GetWorkflowRuns", "name": n[4], "action": "truncate", "missing": 1,
             "times": 1}])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Total errors: 0", p.stdout)
        self.assertEqual(self.hits()[0], [1, 1, 1, 2, 2, 1, 1])
        self.assertLanded(n)
        self.assertNoRejections()
        # a stall costs one timeout, not the run
        self.assertGreaterEqual(p.elapsed, self.timeout_ms / 1000.0)

    def test_openmetadata_resets_truncations_and_stalls_are_retried(self):
        n = self.names()
        p = self.run_with_faults(om=[
            {"method": "GET", "path": "^/api/v1/system/version$", "action": "reset", "times": 1},
            {"method": "PUT", "path": "^/api/v1/services/pipelineServices$", "action": "stall",
             "times": 1},
            {"method": "PUT", "path": "^/api/v1/pipelines$", "match_body": f'"name": ?"{n[5]}"',
             "action": "reset", "times": 2},
            {"method": "PUT", "path": "^/api/v1/pipelines$", "match_body": f'"name": ?"{n[6]}"',
             "action": "truncate", "times": 2},
            {"method": "PUT", "path": self.status_path(n[7]), "action": "stall", "times": 1},
            {"method": "PUT", "path": self.status_path(n[8]), "action": "truncate", "times": 2},
            {"method": "POST", "path": "^/api/v1/usage/pipeline/", "action": "reset", "times": 3}])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Total errors: 0", p.stdout)
        self.assertEqual(self.hits()[1], [1, 1, 2, 2, 1, 2, 3])
        self.assertLanded(n)
        self.assertNoRejections()

    def test_endless_stalls_time_out_and_the_rest_lands(self):
        n = self.names()
        p = self.run_with_faults(
            glue=[{"op": "GetWorkflowRuns", "name": n[2], "action": "stall", "times": -1}],
            om=[{"method": "PUT", "path": "^/api/v1/pipelines$",
                 "match_body": f'"name": ?"{n[3]}"', "action": "stall", "times": -1}])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("Total errors: 2", p.stdout)
        for name in (n[2], n[3]):
            errs = self.errors_about(p.stderr, name)
            self.assertEqual(len(errs), 1, p.stderr)
            self.assertIn("timed out", errs[0])
        glue_hits, om_hits = self.hits()
        self.assertEqual(glue_hits, [3])     # aws.c: 3 attempts for a transport error
        self.assertEqual(om_hits, [3])       # om.c: 3 attempts
        # the stalled workflows cost three timeouts each, in parallel; nothing hangs
        t = self.timeout_ms / 1000.0
        self.assertGreaterEqual(p.elapsed, 3 * t)
        self.assertLess(p.elapsed, (3 * t + 3 + 20) * SCALE)
        got = self.pipelines()
        self.assertEqual(set(got), set(n) - {n[3]})
        self.assertEqual(got[n[2]].get("statuses", []), [])
        self.assertComplete([x for x in n if x not in (n[2], n[3])])
        self.assertNoRejections()

    def test_oversized_replies_fail_only_their_request(self):
        n = self.names()
        p = self.run_with_faults(
            glue=[{"op": "GetWorkflowRuns", "name": n[1], "action": "oversize", "times": -1},
                  {"op": "GetWorkflowRuns", "name": n[2], "action": "oversize", "chunked": True,
                   "times": -1}],
            om=[{"method": "PUT", "path": "^/api/v1/pipelines$",
                 "match_body": f'"name": ?"{n[3]}"', "action": "oversize", "times": -1},
                {"method": "PUT", "path": self.status_path(n[4]), "action": "oversize",
                 "chunked": True, "times": 1}], bound=180,
            # the stand-in streams 64 MiB before the limit is reached: on a
            # loaded machine that outlasts the 1 s the stall tests use, and a
            # timeout is retried, unlike a body over the limit
            timeout_ms=30000 * SCALE)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("Total errors: 4", p.stdout)
        for name in n[1:5]:
            errs = self.errors_about(p.stderr, name)
            self.assertEqual(len(errs), 1, p.stderr)
            self.assertIn("response body larger than the limit", errs[0])
        # an oversized reply is not asked for again
        self.assertEqual(self.hits(), ([1, 1], [1, 1]))
        got = self.pipelines()
        self.assertEqual(set(got), set(n) - {n[3]})
        for name in n[1:3]:
            self.assertEqual(got[name].get("statuses", []), [], name)
        self.assertEqual(len(got[n[4]].get("statuses", [])), len(self.want_statuses(n[4])) - 1)
        self.assertComplete([x for x in n if x not in n[1:5]])
        self.assertNoRejections()


# ---------------------------------------------------------------------------
# Daemon scenarios

def next_fire(after, every):
    """The first second after `after` that "*/every * * * * *" fires at (the
    step restarts every minute)."""
    t = int(after) + 1
    while (t % 60) % every:
        t += 1
    return t


def big_config(dirname, n, long=False):
    """A daemon configuration of n workflows that never fire, all with a.yaml;
    long: with names, schedules and zones as long as they may be."""
    sched = (",".join(map(str, range(60))) + " " + ",".join(map(str, range(24))) + " 1 1 *"
             if long else "0 0 1 1 *")
    lines = [f"socket: {dirname}/gm.sock", f"state_dir: {dirname}/state", "workflows:"]
    for i in range(n):
        lines += [f"  - name: w{i:04d}{'_' + 'x' * 58 if long else ''}", "    file: a.yaml",
                  f"    schedule: \"{sched}\""]
        lines += ["    timezone: America/Argentina/ComodRivadavia"] if long else []
    return "\n".join(lines) + "\n"


class FaultDaemonCase(DaemonCase):
    def write(self, name, text):
        """Atomically: a reload never reads a file half written by the test."""
        path = os.path.join(self.dir, name)
        with open(path + ".tmp", "w") as fh:
            fh.write(text)
        os.replace(path + ".tmp", path)

    def start(self, extra_env=None, wrap=None, timeout=30):
        """DaemonCase.start, with the READY of this start awaited (and a
        timeout stretched for valgrind)."""
        with self.notify.lock:
            self.notify.msgs.clear()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.pop("JOURNAL_STREAM", None)
        env.update(extra_env or {})
        if getattr(self, "err", None):
            self.err.close()
        self.err = open(os.path.join(self.dir, "daemon.log"), "a")
        argv = harness.WRAPPER + [BIN, "daemon", "--config",
                                  os.path.join(self.dir, "gluemetad.yaml")]
        self.proc = subprocess.Popen((wrap or []) + argv, env=env, stdout=self.err,
                                     stderr=self.err)
        try:
            self.notify.wait_for("READY=1", timeout=timeout * SCALE)
        except AssertionError:
            ps = subprocess.run(["ps", "-eo", "pid,ppid,stat,etimes,args"], capture_output=True,
                                text=True).stdout
            self.fail(f"no READY from pid {self.proc.pid} (exit status {self.proc.poll()}); "
                      f"processes:\n" + "\n".join(x for x in ps.splitlines()
                                                  if "gluemetad" in x and "daemon" in x) +
                      "\nlog:\n" + self.log()[-3000:])

    def tearDown(self):
        super().tearDown()
        if getattr(self, "err", None):
            self.err.close()

    def state_file(self, name="history.json"):
        return os.path.join(self.dir, "state", name)

    def history_file(self):
        """The history as the daemon left it on disk: must parse, strictly."""
        path = self.state_file()
        if not os.path.exists(path):
            return None
        with open(path) as fh:
            text = fh.read()
        try:
            h = strict_json(text)
        except ValueError as e:
            self.fail(f"{path} does not parse ({e}): {text[:300]!r}")
        self.assertEqual(h.get("version"), 1, text[:300])
        self.assertIsInstance(h.get("workflows"), dict, text[:300])
        for name, runs in h["workflows"].items():
            self.assertIsInstance(runs, list, name)
            for r in runs:
                self.assertRegex(r.get("run_id", ""), "^" + RUN_ID + "$")
                self.assertIn(r.get("result"), ("success", "partialSuccess", "failed",
                                                "interrupted"), r)
        return h["workflows"]

    def history(self, name):
        """Oldest first, as the daemon answers it."""
        return list(reversed(json.loads(self.ctl("--json", "history", name).stdout)["runs"]))

    def assertContinues(self, old, new, what):
        """new is old plus later runs (the oldest dropped past HIST_MAX)."""
        old_ids, new_ids = [r["run_id"] for r in old], [r["run_id"] for r in new]
        for k in range(len(old_ids) + 1):
            if old_ids[k:] == new_ids[:len(old_ids) - k] and (k == 0 or len(new_ids) == HIST_MAX):
                return
        self.fail(f"{what}: history went from {old_ids} to {new_ids}")

    def started_in_log(self):
        """run id -> workflow, for every run the daemon logged as started."""
        out = {}
        for m in re.finditer(r"\[([\w.-]+)\] run (" + RUN_ID + r") started", self.log()):
            self.assertNotIn(m.group(2), out, "a run id started twice")
            out[m.group(2)] = m.group(1)
        return out


# 3. kill -9 at random moments while the daemon runs and writes its state

# Every fsync made to wait 300 ms: a state write then stays a while between
# its temporary file and the rename, and a kill can be aimed into it.
SLOW_FSYNC = ["strace", "-f", "-qq", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=fsync",
              "-e", "inject=fsync:delay_enter=300000"]
HAVE_STRACE = subprocess.run(["sh", "-c", "command -v strace"], capture_output=True).returncode == 0


class TestKill9(FaultDaemonCase):
    iterations = 12 if harness.WRAPPER else 30

    def daemon_pid(self):
        """The daemon's pid, also when it runs under strace."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
                kids = fh.read().split()
        except OSError:
            kids = []
        return int(kids[0]) if self.proc.args[0] == "strace" and kids else self.proc.pid

    def test_history_survives_kill9_at_random_moments(self):
        rng = random.Random(SEED)
        self.config([(n, "* * * * * *") for n in ("a", "b", "c")], max_runs=3)
        state = os.path.join(self.dir, "state")
        prev = {}                               # workflow -> runs, from the last file seen
        in_write = 0
        for i in range(self.iterations):
            what = f"iteration {i} (GLUEMETAD_FAULT_SEED={SEED})"
            # natively, every third time the kill lands inside a state write
            aimed = i % 3 == 2 and HAVE_STRACE and not harness.WRAPPER
            started = time.time()
            self.start(wrap=SLOW_FSYNC if aimed else None)
            # it starts fine, with the history it had
            st = self.status()
            self.assertEqual(st["workflows_total"], 3, what)
            # what an interrupted write left is cleared at start (the new
            # daemon's own writes may have a temporary file of their own)
            left = [f for f in (os.listdir(state) if os.path.isdir(state) else [])
                    if ".tmp." in f and os.stat(os.path.join(state, f)).st_mtime < started - 1]
            self.assertEqual(left, [], what)
            for name, runs in prev.items():
                self.assertContinues(runs, self.history(name), what + f", {name} after restart")
            if aimed:
                # this daemon writes a memo or the history (by turns): it has
                # the temporary file and waits in fsync
                head = ".history.json" if (i // 3) % 2 else ".memo-"
                tail = f".tmp.{self.daemon_pid()}"
                self.wait(lambda: any(f.startswith(head) and f.endswith(tail)
                                      for f in os.listdir(state))
                          if os.path.isdir(state) else False, timeout=20, what="a state write")
                in_write += 1
            elif i % 2:
                time.sleep(rng.uniform(0.3, 2.5) * SCALE)
            else:
                # runs start on the second and take 0.1 to 1 s; the history is
                # written as each ends
                time.sleep((1 - time.time() % 1) + rng.uniform(0.1, 0.7) * SCALE +
                           rng.randint(0, 1))
            pid = self.daemon_pid()
            os.kill(pid, signal.SIGKILL)
            self.proc.wait()
            self.wait(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10,
                      what=f"daemon {pid} gone after SIGKILL")
            files = self.history_file()
            if prev:
                self.assertIsNotNone(files, what + ": the history file is gone")
            for name, runs in (files or {}).items():
                self.assertContinues(prev.get(name, []), runs, what + f", {name} on disk")
            prev = files or prev
            for f in os.listdir(state) if os.path.isdir(state) else []:
                if f.startswith("memo-") and f.endswith(".json"):
                    with open(self.state_file(f)) as fh:
                        json.loads(fh.read())      # memos are written the same way
            self.assertNotIn("cannot read", self.log(), what)
        if HAVE_STRACE and not harness.WRAPPER:
            self.assertEqual(in_write, self.iterations // 3)
        recorded = sum(len(r) for r in prev.values())
        self.assertGreaterEqual(recorded, self.iterations // 3, "runs should have been recorded")
        self.start()
        self.assertEqual(self.stop()[0], 0)
        final = self.history_file()
        for name, runs in final.items():
            self.assertContinues(prev.get(name, []), runs, f"{name} after the last stop")
            # a run killed with the daemon leaves no trace; every recorded one finished
            self.assertTrue(all(r["result"] == "success" for r in runs[:-1]), runs)
            self.assertIn(runs[-1]["result"], ("success", "interrupted"))


# 4. SIGHUP storm during runs

class TestSighupStorm(FaultDaemonCase):
    storm = 200

    def setUp(self):
        super().setUp()
        self.s.om.call("POST", "/__fake/seed", {"ingestionPipelines": [
            f"svc_{n}.glue_metadata" for n in ("a", "b", "c")]})
        for n in ("a", "b", "c"):
            self.write(f"{n}.yaml", harness.workflow_yaml(
                self.s, service="svc_" + n, extra_top=f"ingestionPipelineFQN: svc_{n}.glue_metadata"))
        # a run lasts about half a second (longer under valgrind)
        self.s.om.call("POST", "/__fake/config", {"latency_ms": 40})
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 40})
        self.every = {"a": 6, "b": 10} if harness.WRAPPER else {"a": 2, "b": 3}

    def schedules(self):
        return [(n, f"*/{self.every[n]} * * * * *") for n in ("a", "b")]

    def probe_status(self, limit):
        t0 = time.time()
        st = self.status()
        took = time.time() - t0
        self.assertLess(took, limit, "status answered too slowly")
        return st

    def wait_runs(self, counts, timeout):
        self.wait(lambda: all(len(self.history(n)) >= c for n, c in counts.items()),
                  timeout=timeout, what=f"runs {counts}")

    def stop_between_runs(self):
        self.wait(lambda: self.status()["running"] == 0, timeout=30 * SCALE, what="a pause")
        rc, _ = self.stop(timeout=30 * SCALE)
        self.assertEqual(rc, 0)

    def check_runs(self, names):
        """Every run started was recorded once, finished, reported to
        OpenMetadata once, and a workflow's runs neither overlap nor skip a
        fire they were free for."""
        files = self.history_file()
        started = self.started_in_log()
        om_log = self.s.dump()["ingestionPipelineStatusLog"]
        for name in names:
            runs = files.get(name, [])
            ids = [r["run_id"] for r in runs]
            self.assertEqual(len(ids), len(set(ids)), f"{name}: a run recorded twice")
            logged = sorted(k for k, v in started.items() if v == name)
            if sorted(ids) != logged:
                odd = set(ids) ^ set(logged)
                lines = [x for x in self.log().splitlines() if any(k in x for k in odd) or
                         f"[{name}]" in x and not re.search("run " + RUN_ID, x)]
                self.fail(f"{name}: runs started {logged}, recorded {ids}; "
                          f"the log:\n" + "\n".join(lines[-40:]))
            for r in runs[:-1]:
                self.assertEqual(r["result"], "success", r)
            self.assertIn(runs[-1]["result"], ("success", "interrupted"))
            reported = {}
            for x in om_log:
                if x["fqn"] == f"svc_{name}.glue_metadata":
                    reported.setdefault(x["runId"], []).append(x["pipelineState"])
            self.assertEqual(set(reported), set(ids), f"{name}: runs reported to OpenMetadata")
            for r in runs:
                if r["result"] == "success":
                    self.assertEqual(reported[r["run_id"]], ["running", "success"], r)
            every = self.every.get(name)
            for prev, nxt in zip(runs, runs[1:]):
                self.assertGreaterEqual(nxt["started_ms"], prev["finished_ms"], "overlap")
                if every and nxt["trigger"] == prev["trigger"] == "schedule":
                    free = next_fire(prev["finished_ms"] / 1000.0, every)
                    self.assertLessEqual(nxt["started_ms"] / 1000.0, free + 0.9 * SCALE,
                                         f"{name}: the fire at {free} was lost ({prev}, {nxt})")

    def test_sighup_storm_during_runs(self):
        self.config(self.schedules())
        self.start()
        self.wait(lambda: self.status()["running"] > 0, timeout=20 * SCALE, what="a run")
        reloads = self.status()["reloads"]
        slowest = [0.0]
        stop = threading.Event()

        def storm():
            for _ in range(self.storm):
                self.proc.send_signal(signal.SIGHUP)
                time.sleep(0.01)
            stop.set()
        t = threading.Thread(target=storm)
        t.start()
        try:
            while not stop.is_set():
                t0 = time.time()
                self.probe_status(2.0 * SCALE)
                slowest[0] = max(slowest[0], time.time() - t0)
                time.sleep(0.05)
        finally:
            t.join()
        self.assertIsNone(self.proc.poll(), "the daemon died in the storm")
        st = self.probe_status(2.0 * SCALE)
        self.assertGreater(st["reloads"], reloads)
        self.assertEqual({w["name"] for w in st["workflows"]}, {"a", "b"})
        self.wait_runs({"a": 3, "b": 2}, 60 * SCALE)
        self.stop_between_runs()
        self.check_runs(["a", "b"])
        self.assertNotIn("reload failed", self.log())

    def test_storm_of_valid_and_invalid_config_rewrites(self):
        rng = random.Random(SEED)
        base = self.schedules()
        self.write("broken.yaml", "source: {unclosed\n")
        variants = {
            "ab": base,
            "abc": base + [("c", "0 0 1 1 *")],
            "bad_cron": [("a", "61 * * * *"), base[1]],
            "bad_file": base + [("broken", "@daily")],
        }
        path = os.path.join(self.dir, "gluemetad.yaml")
        self.config(base)
        self.start()
        self.wait(lambda: self.status()["running"] > 0, timeout=20 * SCALE, what="a run")
        for i in range(self.storm // 2):
            kind = rng.choice(["ab", "abc", "bad_cron", "bad_file", "bad_yaml", "torn"])
            if kind in variants:
                self.config(variants[kind])         # written atomically, see write()
            elif kind == "bad_yaml":
                self.write("gluemetad.yaml", "workflows: [\n  - name: a\n")
            else:
                # rewritten in place and read half done, cut where b's entry
                # lacks its file and schedule (a valid prefix would remove b)
                self.config(base)
                with open(path) as fh:
                    text = fh.read()
                cut = text.index("    file: b.yaml")
                with open(path, "w") as fh:
                    fh.write(text[:cut])
                    fh.flush()
                    self.proc.send_signal(signal.SIGHUP)
                    time.sleep(rng.uniform(0, 0.01))
                    fh.write(text[cut:])
            self.proc.send_signal(signal.SIGHUP)
            if i % 10 == 0:
                p = self.ctl("reload", ok=False)
                self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
                if p.returncode:
                    self.assertIn("reload failed", p.stderr)
                self.probe_status(2.0 * SCALE)
            time.sleep(rng.uniform(0, 0.04))
        self.assertIsNone(self.proc.poll(), "the daemon died in the storm")
        # the last word is a valid configuration
        self.config(base)
        self.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: {w["name"] for w in self.status()["workflows"]} == {"a", "b"},
                  timeout=10 * SCALE, what="the final configuration")
        self.assertIn("reload failed", self.log())
        self.assertIn("broken.yaml", self.log())
        n = {k: len(self.history(k)) for k in ("a", "b")}
        self.wait_runs({"a": n["a"] + 2, "b": n["b"] + 1}, 60 * SCALE)
        self.stop_between_runs()
        self.check_runs(["a", "b"])

    def test_workflow_removed_and_added_back_during_its_run(self):
        # b's run (three Glue round trips of 1.5 s) outlasts two reloads:
        # one without b, one with it again
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 1500})
        self.config([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *")])
        self.start()
        self.ctl("run", "b")
        self.wait(lambda: self.status()["running"] == 1, what="b running")
        self.config([("a", "0 0 1 1 *")])
        self.assertEqual(self.ctl("reload").returncode, 0)
        self.assertEqual({w["name"] for w in self.status()["workflows"]}, {"a"})
        self.config([("a", "0 0 1 1 *"), ("b", "*/2 * * * * *")])
        self.assertEqual(self.ctl("reload").returncode, 0)
        b = self.by_name()["b"]
        self.assertEqual(b["state"], "running", "b is back with its run in progress")
        # its schedule fires meanwhile: skipped, not a second run of b
        self.wait(lambda: self.by_name()["b"]["skipped"] > 0, timeout=10 * SCALE,
                  what="a fire of b during its run")
        self.wait(lambda: self.history("b"), timeout=30 * SCALE, what="b's run recorded")
        self.assertEqual(self.history("b")[0]["run_id"], b["run_id"])
        self.s.glue.call("POST", "/__fake/config", {"latency_ms": 0})
        self.wait(lambda: len(self.history("b")) >= 2, timeout=30 * SCALE, what="b's next run")
        self.stop_between_runs()
        self.every = {"b": 2}
        self.check_runs(["b"])

    def test_sighup_storm_with_a_large_configuration(self):
        # a reload reads every workflow file (some 0.6 s for 500 of them): the
        # SIGHUPs of a storm are not queued up as as many reloads, the socket
        # is answered between them
        self.write("gluemetad.yaml", big_config(self.dir, 40 if harness.WRAPPER else 500))
        self.start(timeout=60)
        t0 = time.time()
        self.assertEqual(self.ctl("reload").returncode, 0)
        one = time.time() - t0
        stop = threading.Event()

        def storm():
            for _ in range(self.storm // 2):
                self.proc.send_signal(signal.SIGHUP)
                time.sleep(0.01)
            stop.set()
        t = threading.Thread(target=storm)
        t.start()
        try:
            while not stop.is_set():
                self.probe_status(3 * one + 1.0 * SCALE)
        finally:
            t.join()
        self.probe_status(3 * one + 1.0 * SCALE)
        self.assertEqual(self.stop(timeout=30 * SCALE)[0], 0)

    def test_reload_moves_no_fire_time(self):
        # a reload that leaves a schedule as it is leaves its next fire alone:
        # re-rolling the jitter (or re-arming after the fire time came but
        # before the timer ran) would drop that fire
        self.config([("a", "@hourly", "jitter: 30m"), ("b", "0 0 1 1 *", "jitter: 12h")])
        self.start()
        before = {w["name"]: w["next_fire"] for w in self.status()["workflows"]}
        reloads = self.status()["reloads"]
        for _ in range(10):
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.02)
        self.assertEqual(self.ctl("reload").returncode, 0)
        st = self.status()
        self.assertGreater(st["reloads"], reloads)
        self.assertEqual({w["name"]: w["next_fire"] for w in st["workflows"]}, before)
        # a changed schedule is armed anew
        self.config([("a", "@daily", "jitter: 30m"), ("b", "0 0 1 1 *", "jitter: 12h")])
        self.assertEqual(self.ctl("reload").returncode, 0)
        after = {w["name"]: w["next_fire"] for w in self.status()["workflows"]}
        self.assertEqual(after["b"], before["b"])
        midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1)) + 86400
        self.assertTrue(midnight <= after["a"] <= midnight + 1800, after)
        self.assertEqual(self.stop()[0], 0)


# 5. Slow clients on the control socket

class TestControlSocketAbuse(FaultDaemonCase):
    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as fh:
            return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1))

    def connect(self, deadline):
        """A client connection; the listen backlog may be full for a moment."""
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(os.path.join(self.dir, "gm.sock"))
                s.setblocking(True)
                return s
            except (BlockingIOError, InterruptedError):
                s.close()
                if time.time() > deadline:
                    return None
                time.sleep(0.01)

    def dropped(self, s, timeout):
        """True once the daemon has closed this client (its reply, if any, read)."""
        s.settimeout(timeout)
        try:
            while s.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def timed_status(self):
        t0 = time.time()
        p = subprocess.run([CTL, "--socket", os.path.join(self.dir, "gm.sock"), "--json",
                            "status"], capture_output=True, text=True, timeout=30)
        return p, time.time() - t0

    def attack(self, kinds, seconds, limit):
        """Runs the attackers for `seconds` while probing status; returns their
        sockets and the most file descriptors the daemon had open."""
        stop = threading.Event()
        socks, lock = [], threading.Lock()
        most = [self.fds()]

        def attacker(kind, per_s):
            dribblers = []
            while not stop.is_set():
                s = self.connect(time.time() + 1)
                if s:
                    with lock:
                        socks.append(s)
                    try:
                        if kind == "noread":
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
                            s.sendall(b"status\n")
                        elif kind == "dribble":
                            dribblers.append(s)
                    except OSError:
                        pass
                for d in list(dribblers):
                    try:
                        d.send(b"s")            # one byte a second, never a newline
                    except OSError:
                        dribblers.remove(d)
                stop.wait(1.0 / per_s)

        threads = [threading.Thread(target=attacker, args=(k, r)) for k, r in kinds]
        for t in threads:
            t.start()
        try:
            end = time.time() + seconds
            while time.time() < end:
                p, took = self.timed_status()
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertTrue(json.loads(p.stdout)["ok"])
                self.assertLess(took, limit, "status answered too slowly under attack")
                most[0] = max(most[0], self.fds())
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join()
        return socks, most[0]

    def test_slow_loris_clients_do_not_starve_status(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        self.status()                       # the loop is up and answering
        base_fds, base_rss = self.fds(), self.rss_kb()
        socks, most = self.attack([("silent", 40), ("dribble", 10), ("noread", 10)],
                                  seconds=8, limit=STARVED_S)
        self.assertGreater(len(socks), CTL_MAX_CLIENTS * 3, "the attack should overflow the table")
        # never more than the client table (+1 being accepted) open at once
        self.assertLessEqual(most, base_fds + CTL_MAX_CLIENTS + 2)
        # every attacker is dropped by the idle timeout
        t0 = time.time()
        for s in socks:
            self.assertTrue(self.dropped(s, max(0.1, t0 + CTL_TIMEOUT_S * SCALE + 3 - time.time())),
                            "an idle client was not dropped after the timeout")
            s.close()
        self.wait(lambda: self.fds() <= base_fds, timeout=5, what="descriptors released")
        if not harness.WRAPPER:
            self.assertLess(self.rss_kb() - base_rss, 16 * 1024, "memory grew under the attack")
        self.assertEqual(self.stop()[0], 0)

    def test_clients_that_never_read_a_large_reply(self):
        # a large configuration (700 workflows): `status`
        # answers some 300 KB, more than a socket buffer holds
        self.write("gluemetad.yaml", big_config(self.dir, 700, long=True))
        self.start(timeout=60)
        p, _ = self.timed_status()
        self.assertGreater(len(p.stdout), 280000)
        base_fds = self.fds()
        socks, most = self.attack([("noread", 40)], seconds=6, limit=STARVED_S)
        self.assertGreater(len(socks), CTL_MAX_CLIENTS)
        self.assertLessEqual(most, base_fds + CTL_MAX_CLIENTS + 2)
        self.wait(lambda: self.fds() <= base_fds, timeout=CTL_TIMEOUT_S * SCALE + 5,
                  what="clients that do not read dropped after the timeout")
        for s in socks:
            s.close()
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
