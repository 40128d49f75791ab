"""Schedules: `gluemetad calendar`, `check --config`'s next fire times,
catch_up after downtime (systemd's Persistent=), and steps of the wall
clock.  The daemon's wall clock is moved with libfaketime (Debian package
faketime): an offset in a file the test rewrites, the monotonic clock left
real, as when an operator or NTP steps the clock of a running machine."""
import datetime
import glob
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import BIN, DaemonCase

FAKETIME_LIB = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") or [None])[0]
HERE = os.path.dirname(os.path.abspath(__file__))
# a workflow file check accepts (the calendar tests read only the schedule)
EXAMPLE = os.path.join(HERE, "..", "..", "conf", "examples", "demo.yaml")


def calendar(*args):
    return subprocess.run([BIN, "calendar"] + list(args), capture_output=True, text=True,
                          timeout=30)


def instants(text):
    return [datetime.datetime.fromisoformat(x).timestamp() for x in text.split()]


class TestCalendar(unittest.TestCase):
    def test_next_times_in_a_zone_with_its_offset(self):
        # Berlin springs forward at 02:00 on 2026-03-29: 02:30 does not exist
        # that night and fires once, at 03:00 CEST
        p = calendar("30 2 * * *", "--tz", "Europe/Berlin", "--from",
                     "2026-03-27T12:00:00+01:00", "--count", "4")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), [
            "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"])
        # Kathmandu is +05:45; a Unix time as --from; default count 5
        p = calendar("0 9 * * MON-FRI", "--tz", "Asia/Kathmandu", "--from", "@1790000000")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.split()
        self.assertEqual(len(lines), 5)
        self.assertTrue(all(x.endswith("T09:00:00+05:45") for x in lines), lines)
        days = [datetime.datetime.fromisoformat(x).weekday() for x in lines]
        self.assertTrue(all(d < 5 for d in days), days)
        self.assertGreater(instants(lines[0])[0], 1790000000)

    def test_repeated_hour(self):
        # New York falls back at 02:00 EDT on 2026-11-01: 01:30 is there
        # twice.  A fixed time fires once; an hourly schedule every hour.
        p = calendar("30 1 * * *", "--tz", "America/New_York", "--from",
                     "2026-11-01T00:00:00-04:00", "--count", "2")
        self.assertEqual(p.stdout.split(), ["2026-11-01T01:30:00-04:00",
                                            "2026-11-02T01:30:00-05:00"])
        p = calendar("@hourly", "--tz", "America/New_York", "--from",
                     "2026-11-01T00:30:00-04:00", "--count", "3")
        self.assertEqual(p.stdout.split(), ["2026-11-01T01:00:00-04:00",
                                            "2026-11-01T01:00:00-05:00",
                                            "2026-11-01T02:00:00-05:00"])

    def test_without_from_counts_from_now(self):
        before = time.time()
        p = calendar("*/10 * * * * *", "--tz", "UTC", "--count", "3")
        t = instants(p.stdout)
        self.assertEqual(len(t), 3)
        self.assertGreater(t[0], before - 1)
        self.assertLessEqual(t[0], time.time() + 10)
        self.assertEqual([b - a for a, b in zip(t, t[1:])], [10, 10])

    def test_bad_input_says_what_check_says(self):
        d = self.tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cal-{os.getpid()}")
        os.makedirs(d, mode=0o700, exist_ok=True)
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        shutil.copy(EXAMPLE, os.path.join(d, "w.yaml"))
        os.chmod(os.path.join(d, "w.yaml"), 0o600)
        for key, value, args in (("schedule", "0 25 * * *", ["0 25 * * *"]),
                                 ("timezone", "Mars/Olympus", ["0 2 * * *", "--tz",
                                                               "Mars/Olympus"])):
            with open(os.path.join(d, "g.yaml"), "w") as fh:
                fields = {"schedule": "0 2 * * *", key: value}
                fh.write(f"socket: {d}/s.sock\nstate_dir: {d}\nworkflows:\n"
                         f"  - name: w\n    file: w.yaml\n" +
                         "".join(f"    {k}: '{v}'\n" for k, v in fields.items()))
            chk = subprocess.run([BIN, "check", "--config", os.path.join(d, "g.yaml")],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(chk.returncode, 2)
            p = calendar(*args)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stdout, "")
            # check: "FILE:LINE: workflows[0].KEY: WHY"; calendar: the same WHY
            why = [ln for ln in chk.stderr.splitlines() if f".{key}:" in ln][0]
            why = why.split(f".{key}: ", 1)[1]
            self.assertIn(why, p.stderr)
        for args, text in ((["0 2 * * *", "--from", "yesterday"], "--from 'yesterday'"),
                           (["0 2 * * *", "--from", "2026-01-01T00:00:00"], "offset"),
                           (["0 2 * * *", "--count", "0"], "--count '0'"),
                           (["0 0 30 2 *"], "does not fire"),
                           ([], "expected one expression")):
            p = calendar(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(text, p.stderr)

    def test_check_prints_each_next_fire(self):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"calc-{os.getpid()}")
        os.makedirs(d, mode=0o700, exist_ok=True)
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        shutil.copy(EXAMPLE, os.path.join(d, "w.yaml"))
        os.chmod(os.path.join(d, "w.yaml"), 0o600)
        with open(os.path.join(d, "g.yaml"), "w") as fh:
            fh.write(f"socket: {d}/s.sock\nstate_dir: {d}\nworkflows:\n"
                     "  - {name: a, file: w.yaml, schedule: '15 3 * * *', "
                     "timezone: Australia/Lord_Howe, catch_up: true}\n"
                     "  - {name: b, file: w.yaml, schedule: '@hourly', enabled: false}\n")
        before = int(time.time())
        chk = subprocess.run([BIN, "check", "--config", os.path.join(d, "g.yaml")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(chk.returncode, 0, chk.stderr)
        want = calendar("15 3 * * *", "--tz", "Australia/Lord_Howe", "--from",
                        f"@{before}", "--count", "1").stdout.strip()
        a = [ln for ln in chk.stdout.splitlines() if ln.strip().startswith("a:")][0]
        self.assertIn(f"; next {want}, catch_up", a)
        b = [ln for ln in chk.stdout.splitlines() if ln.strip().startswith("b:")][0]
        self.assertIn("(disabled)", b)
        self.assertNotIn("next", b)

    def test_batch(self):
        p = subprocess.run([BIN, "calendar", "--batch"], input="UTC\t@0\t2\t0 0 1 1 *\n"
                           "Mars/Olympus\t@0\t1\t* * * * *\nnot a line\n", capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.splitlines(), [
            "1971-01-01T00:00:00+00:00 1972-01-01T00:00:00+00:00",
            "error: 'Mars/Olympus' is not an installed IANA time zone",
            "error: expected ZONE<TAB>FROM<TAB>COUNT<TAB>EXPR"])


@unittest.skipUnless(FAKETIME_LIB, "libfaketime is not installed (Debian package faketime)")
class FakeClockCase(DaemonCase):
    """A daemon whose wall clock is real time plus the offset in a file."""

    def setUp(self):
        super().setUp()
        self.clock = os.path.join(self.dir, "faketime")
        self.set_offset(0)

    def set_offset(self, seconds):
        with open(self.clock + ".tmp", "w") as fh:
            fh.write(f"{seconds:+d}\n")
        os.replace(self.clock + ".tmp", self.clock)

    def start_faked(self):
        env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": self.clock,
               "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
               "FAKETIME_DONT_RESET": "1"}
        if "ASAN_OPTIONS" in os.environ:
            # libfaketime comes first in LD_PRELOAD, before ASan's runtime
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":verify_asan_link_order=0"
        self.start(extra_env=env)

    def hourly_far_from_now(self):
        """An hourly schedule whose next real fire is about 30 minutes away
        (nothing fires by itself while the test runs), and that fire."""
        now = time.time()
        minute = (time.gmtime(now).tm_min + 30) % 60
        fire = int(now // 3600 * 3600 + minute * 60)
        while fire <= now:
            fire += 3600
        return f"{minute} * * * *", fire

    def history(self, name):
        return json.loads(self.ctl("--json", "history", name).stdout)["runs"]

    def runs_done(self, name, n):
        self.wait(lambda: len(self.history(name)) >= n and self.by_name()[name]["state"] == "idle",
                  timeout=60, what=f"{n} finished runs of {name}")
        return self.history(name)


class TestCatchUp(FakeClockCase):
    def test_fires_once_after_downtime_only_when_asked(self):
        sched, fire = self.hourly_far_from_now()
        self.config([("a", sched, "catch_up: true"), ("b", sched)])
        self.start_faked()
        # first start: no history, nothing to catch up (fires are decided
        # before READY)
        w = self.by_name()
        self.assertEqual((w["a"]["state"], w["a"]["runs"]), ("idle", 0))
        self.assertTrue(w["a"]["catch_up"])
        self.assertFalse(w["b"]["catch_up"])
        self.ctl("run", "a")
        self.ctl("run", "b")
        self.runs_done("a", 1)
        self.runs_done("b", 1)
        self.assertEqual(self.stop()[0], 0)

        # down for three hours: three fire times passed
        self.set_offset(3 * 3600)
        self.start_faked()
        runs = self.runs_done("a", 2)           # newest first
        self.assertEqual([r["trigger"] for r in runs], ["catch-up", "manual"])
        self.assertIn("catching up once: the fire at", self.log())
        w = self.by_name()
        self.assertEqual(w["a"]["runs"], 2)     # once, not three times
        self.assertEqual(w["b"]["runs"], 1)     # not asked
        self.assertEqual(w["b"]["state"], "idle")
        self.assertEqual(w["a"]["next_fire"], fire + 3 * 3600)

        # a reload that enables it for b catches b up, once
        self.config([("a", sched, "catch_up: true"), ("b", sched, "catch_up: true")])
        self.ctl("reload")
        runs = self.runs_done("b", 2)
        self.assertEqual([r["trigger"] for r in runs], ["catch-up", "manual"])
        # and a reload that leaves it on does not catch up again
        self.ctl("reload")
        self.assertEqual(len(self.history("a")), 2)
        self.assertEqual(len(self.history("b")), 2)
        self.assertEqual(self.stop()[0], 0)

    def test_waiting_catch_up_is_shown(self):
        sched, _ = self.hourly_far_from_now()
        self.config([("a", sched, "catch_up: true"), ("b", sched, "catch_up: true")],
                    max_runs=1)
        self.start_faked()
        self.ctl("run", "a")
        self.runs_done("a", 1)
        self.ctl("run", "b")
        self.runs_done("b", 1)
        self.assertEqual(self.stop()[0], 0)
        self.set_offset(2 * 3600)
        # slow OpenMetadata: the first catch-up still runs when status asks
        self.s.om.call("POST", "/__fake/config", {"latency_ms": 1000, "faults": []})
        self.start_faked()
        w = self.by_name()
        states = sorted(w[n]["state"] for n in ("a", "b"))
        self.assertEqual(states, ["running (catch-up)", "waiting (catch-up)"])
        waiting = [n for n in ("a", "b") if w[n]["state"] == "waiting (catch-up)"][0]
        self.assertTrue(w[waiting]["catch_up_waiting"])
        text = self.ctl("status").stdout
        self.assertIn("waiting (catch-up)", text)
        self.s.om.call("POST", "/__fake/config", {"latency_ms": 0, "faults": []})
        self.runs_done("a", 2)
        self.runs_done("b", 2)
        self.assertEqual(self.stop()[0], 0)


class TestClockSteps(FakeClockCase):
    def test_step_forward_fires_once_and_step_back_repeats_nothing(self):
        sched, fire = self.hourly_far_from_now()
        self.config([("a", sched)])
        self.start_faked()
        self.assertEqual(self.by_name()["a"]["next_fire"], fire)

        # forward 2 h: the fires at `fire` and `fire + 1 h` were passed over
        self.set_offset(2 * 3600)
        runs = self.runs_done("a", 1)           # each status call wakes the loop
        self.assertEqual([r["trigger"] for r in runs], ["schedule"])
        self.assertIn("the wall clock was stepped forward 7200 s", self.log())
        w = self.by_name()
        self.assertEqual(w["a"]["next_fire"], fire + 2 * 3600)
        self.assertEqual((w["a"]["runs"], w["a"]["skipped"]), (1, 0))

        # back 1 h: between the two fires done; nothing runs again
        self.set_offset(3600)
        self.wait(lambda: self.by_name() and "stepped back 3600 s" in self.log(),
                  what="the step back seen")
        w = self.by_name()
        self.assertEqual(w["a"]["next_fire"], fire + 2 * 3600)
        self.assertEqual((w["a"]["state"], w["a"]["runs"], w["a"]["skipped"]), ("idle", 1, 0))
        self.assertEqual(len(self.history("a")), 1)
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
