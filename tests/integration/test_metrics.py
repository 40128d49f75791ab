"""gluemetad's Prometheus metrics: `gluemetactl metrics` after a run,
checked by Prometheus' own promtool and read the way a user reads it (runs,
what was written as the stand-in received it, HTTP replies as the stand-ins
counted them); the metrics_textfile, identical to the socket's text and
rewritten after a refused reload; a workflow name the format would have to
escape, refused where it enters; the shipped alerting rules through
`promtool check rules` and `promtool test rules`."""
import os
import re
import shutil
import socket
import stat
import subprocess
import unittest

import harness
from harness import BIN, DaemonCase

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ALERTS = os.path.join(ROOT, "conf", "examples", "gluemetad-alerts.yml")
ALERTS_TEST = os.path.join(HERE, "alerts_test.yml")


def promtool():
    """promtool's path; in CI it must be there (scripts/deps.sh test
    installs the prometheus package), elsewhere the test says what is
    missing and skips."""
    path = shutil.which("promtool")
    if path:
        return path
    if os.environ.get("CI"):
        raise AssertionError("promtool is missing in CI: scripts/deps.sh test installs the "
                             "Debian package prometheus, which provides it")
    raise unittest.SkipTest("promtool not installed (Debian package prometheus); "
                            "the metrics cannot be checked against Prometheus' own parser")


SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse(text):
    """{(name, frozenset(labels)): value} of the exposition text; the HELP
    and TYPE lines as {name: (help, type)}."""
    series, families = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_ = line[7:].split(" ", 1)
            families.setdefault(name, [None, None])[0] = help_
            continue
        if line.startswith("# TYPE "):
            name, type_ = line[7:].split(" ", 1)
            families.setdefault(name, [None, None])[1] = type_
            continue
        m = SERIES.match(line)
        assert m, f"not a series line: {line!r}"
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        series[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return series, families


def value(series, name, **labels):
    return series.get((name, frozenset(labels.items())))


def total(series, name, **labels):
    """The sum of name's series that have these labels (and any others)."""
    return sum(v for (n, ls), v in series.items()
               if n == name and set(labels.items()) <= set(ls))


class TestMetrics(DaemonCase):
    def setUp(self):
        super().setUp()
        self.promtool = promtool()
        self.textdir = os.path.join(self.dir, "textfile")
        os.mkdir(self.textdir)
        self.textfile = os.path.join(self.textdir, "gluemetad.prom")

    def config_with_textfile(self, workflows):
        self.config(workflows)
        with open(os.path.join(self.dir, "gluemetad.yaml"), "a") as fh:
            fh.write(f"metrics_textfile: {self.textfile}\n")

    def metrics(self):
        p = self.ctl("metrics")
        self.assertEqual(p.stderr, "")
        return p.stdout

    def check_metrics(self, text):
        p = subprocess.run([self.promtool, "check", "metrics"], input=text, text=True,
                           capture_output=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""),
                         "promtool check metrics found problems")

    def read_textfile(self):
        with open(self.textfile) as fh:
            return fh.read()

    def test_after_a_run(self):
        self.s.glue.call("POST", "/__fake/stats/reset")
        self.config_with_textfile([("a", "0 0 1 1 *"), ("b", "0 0 1 1 *", "enabled: false")])
        # what a crash left of a textfile write goes at start; another
        # program's file in node_exporter's folder stays
        for name in (".gluemetad.prom.tmp.99999", ".node.prom.tmp.1"):
            with open(os.path.join(self.textdir, name), "w") as fh:
                fh.write("x 1\n")
        self.start()
        # written at start: the workflows at zero, no run yet
        self.wait(lambda: os.path.exists(self.textfile), what="the textfile at start")
        series, _ = parse(self.read_textfile())
        self.assertEqual(value(series, "gluemetad_runs_total", workflow="a", result="success"), 0)
        self.assertIsNone(value(series, "gluemetad_last_success_timestamp_seconds", workflow="a"))
        self.ctl("run", "a")
        self.wait(lambda: value(parse(self.metrics())[0], "gluemetad_runs_total", workflow="a",
                                result="success") == 1, what="the run counted")
        text = self.metrics()
        self.check_metrics(text)
        series, families = parse(text)
        for name, (help_, type_) in families.items():
            self.assertTrue(help_, name)
            self.assertEqual(type_ == "counter", name.endswith("_total"), name)
        self.assertEqual(value(series, "gluemetad_build_info", version=self.status()["version"]), 1)
        for result in ("partialSuccess", "failed", "interrupted"):
            self.assertEqual(value(series, "gluemetad_runs_total", workflow="a", result=result), 0)
            self.assertEqual(value(series, "gluemetad_runs_total", workflow="b", result=result), 0)
        run = self.by_name()["a"]["last"][0]
        self.assertEqual(value(series, "gluemetad_last_success_timestamp_seconds", workflow="a"),
                         run["finished_ms"] / 1000)
        self.assertEqual(value(series, "gluemetad_last_run_timestamp_seconds", workflow="a",
                               result="success"), run["finished_ms"] / 1000)
        self.assertEqual(value(series, "gluemetad_run_duration_seconds_count", workflow="a"), 1)
        self.assertEqual(value(series, "gluemetad_run_duration_seconds_bucket", workflow="a",
                               le="+Inf"), 1)
        self.assertAlmostEqual(value(series, "gluemetad_run_duration_seconds_sum", workflow="a"),
                               (run["finished_ms"] - run["started_ms"]) / 1000, places=3)
        # what was written, as OpenMetadata's stand-in holds it
        dump = self.s.dump()
        mine = [p for p in dump["pipelines"] if p["service"]["name"] == "svc_a"]
        self.assertEqual(len(mine), len(self.estate["workflows"]))
        written = {k: value(series, "gluemetad_entities_written_total", workflow="a", kind=k)
                   for k in ("pipeline", "status", "usage", "deleted")}
        self.assertEqual(written, {
            "pipeline": len(mine),
            "status": sum(len(p["statuses"]) for p in mine),
            "usage": sum(len(days) for fqn, days in dump["usage"].items()
                         if fqn.startswith("svc_a.")),
            "deleted": 0})
        self.assertGreater(written["status"], 0)
        # every request, as the stand-ins counted them
        self.assertEqual(total(series, "gluemetad_http_requests_total", endpoint="glue"),
                         self.s.glue_stats()["total"])
        self.assertEqual(total(series, "gluemetad_http_requests_total", endpoint="openmetadata"),
                         dump["total"])
        self.assertEqual(total(series, "gluemetad_http_requests_total", code="error"), 0)
        self.assertEqual(value(series, "gluemetad_http_throttled_total", endpoint="glue"), 0)
        # the schedule's interval: a year for 1 January; none for the disabled b
        self.assertIn(value(series, "gluemetad_schedule_interval_seconds", workflow="a"),
                      (365 * 86400, 366 * 86400))
        self.assertIsNone(value(series, "gluemetad_schedule_interval_seconds", workflow="b"))
        self.assertEqual(value(series, "gluemetad_running_workflows"), 0)
        self.assertEqual(value(series, "gluemetad_queued_workflows"), 0)
        self.assertEqual(value(series, "gluemetad_config_last_reload_successful"), 1)
        self.assertEqual(value(series, "gluemetad_state_write_errors_total"), 0)
        self.assertEqual(value(series, "gluemetad_skipped_fires_total", workflow="a"), 0)
        # the textfile: the same text, readable by node_exporter's user
        self.assertEqual(self.read_textfile(), text)
        self.assertEqual(stat.S_IMODE(os.stat(self.textfile).st_mode), 0o644)
        self.assertEqual(sorted(os.listdir(self.textdir)), [".node.prom.tmp.1", "gluemetad.prom"])
        # --json does not apply to text
        p = self.ctl("--json", "metrics", ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--json does not apply", p.stderr)
        self.assertEqual(self.stop()[0], 0)

    def test_reloads_and_history_across_a_restart(self):
        self.config_with_textfile([("a", "0 0 1 1 *")])
        self.start()
        self.ctl("run", "a")
        self.wait(lambda: self.by_name()["a"].get("last"), what="the run of a")
        finished = self.by_name()["a"]["last"][0]["finished_ms"] / 1000
        # a refused reload: 0 on the socket and in the textfile, the time of
        # the last good load stays
        good = value(parse(self.metrics())[0],
                     "gluemetad_config_last_reload_success_timestamp_seconds")
        self.write("gluemetad.yaml", "workflows: [unclosed\n")
        self.assertEqual(self.ctl("reload", ok=False).returncode, 1)
        text = self.metrics()
        self.check_metrics(text)
        series, _ = parse(text)
        self.assertEqual(value(series, "gluemetad_config_last_reload_successful"), 0)
        self.assertEqual(value(series, "gluemetad_config_last_reload_success_timestamp_seconds"),
                         good)
        self.assertEqual(value(parse(self.read_textfile())[0],
                               "gluemetad_config_last_reload_successful"), 0)
        # a good one, with a workflow added and one removed
        self.config_with_textfile([("c", "*/5 * * * *")])
        self.ctl("reload")
        series, _ = parse(self.read_textfile())
        self.assertEqual(value(series, "gluemetad_config_last_reload_successful"), 1)
        self.assertGreater(value(series, "gluemetad_config_last_reload_success_timestamp_seconds"),
                           good)
        self.assertEqual(value(series, "gluemetad_schedule_interval_seconds", workflow="c"), 300)
        self.assertFalse([k for k in series if ("workflow", "a") in k[1]],
                         "the removed workflow's series stayed")
        self.assertEqual(self.stop()[0], 0)
        # after a restart the counters start again, the last success is
        # still known from the run history
        self.config_with_textfile([("a", "0 0 1 1 *")])
        self.start()
        series, _ = parse(self.metrics())
        self.assertEqual(value(series, "gluemetad_runs_total", workflow="a", result="success"), 0)
        self.assertEqual(value(series, "gluemetad_last_success_timestamp_seconds", workflow="a"),
                         finished)
        self.assertEqual(self.stop()[0], 0)

    def test_a_name_the_format_would_escape_is_refused_where_it_enters(self):
        # workflow names are label values; the configuration admits only
        # letters, digits, '_', '-' and '.', so a quote or a backslash never
        # reaches the exposition (its escaping is tested in test_metrics.c)
        self.write("gluemetad.yaml", f"socket: {self.dir}/gm.sock\nworkflows:\n"
                   "  - name: 'we\"ird\\name'\n    file: a.yaml\n    schedule: '@daily'\n")
        p = harness.run_gluemetad(BIN, ["check", "-c", os.path.join(self.dir, "gluemetad.yaml")])
        self.assertEqual(p.returncode, 2)
        self.assertIn("gluemetad.yaml:3:11: workflows[0].name: 'we\"ird\\name': use 1-64 "
                      "letters, digits, '_', '-' or '.'", p.stderr)

    def test_the_socket_answers_metrics_with_the_text(self):
        # the protocol: one request line, the text as the reply (not JSON),
        # then the connection closes
        self.config([("a", "0 0 1 1 *")])
        self.start()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(30)
            c.connect(os.path.join(self.dir, "gm.sock"))
            c.sendall(b"metrics\n")
            raw = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                raw += chunk
        text = raw.decode()
        self.assertTrue(text.startswith("# HELP gluemetad_build_info "), text[:200])
        self.assertTrue(text.endswith("\n"))
        self.check_metrics(text)
        p = self.ctl("metrics", "extra", ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage:", p.stderr)
        self.assertEqual(self.stop()[0], 0)


class TestAlertRules(unittest.TestCase):
    def setUp(self):
        self.promtool = promtool()

    def test_rules_load(self):
        p = subprocess.run([self.promtool, "check", "rules", ALERTS], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS: 4 rules found", p.stdout)

    def test_each_alert_fires_when_it_should(self):
        p = subprocess.run([self.promtool, "test", "rules", ALERTS_TEST], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout + p.stderr)
        with open(ALERTS_TEST) as fh:
            tested = set(re.findall(r"alertname: (\w+)", fh.read()))
        with open(ALERTS) as fh:
            shipped = set(re.findall(r"- alert: (\w+)", fh.read()))
        self.assertEqual(tested, shipped)


if __name__ == "__main__":
    unittest.main()
