"""Text from outside and text in filters (issue 13, items 3 and 4).

Hygiene: whatever bytes a control request, an OpenMetadata error body or a
history file holds, what reaches stderr, the journal, the history, the
control socket and gluemetactl's output is valid UTF-8 without control
characters (C0, DEL, C1) other than the newline that ends a record, and a
newline in a message cannot forge a record of its own.

Case folding: filter patterns ignore case past ASCII as OpenMetadata's
connector does; the expected answers are Python's own re.match(pattern,
name, re.IGNORECASE), computed here, not written down by us."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

import harness

BIN = os.environ.get("GLUEMETAD_BIN", "build/gluemetad")
CTL = os.path.join(os.path.dirname(BIN), "gluemetactl")
HERE = os.path.dirname(os.path.abspath(__file__))

# An error message as the issue saw it: clear the screen, set the window
# title, ring the bell, then a newline and a record that looks like ours.
EVIL = "\x1b[2J\x1b]0;pwned\x07\x07bell\nNOTICE [good] run FAKE success"
EVIL_SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07\\x07bell\\x0aNOTICE [good] run FAKE success"
LEVELS = re.compile(r"(ERROR|WARN|NOTICE|INFO|DEBUG) ")


def controls(text):
    """The C0, DEL and C1 characters in text."""
    return [c for c in text if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f]


def strings(obj):
    """Every string of a decoded JSON value, object names included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


class Hygiene:
    """Assertions on what a user sees."""

    def assertTerminalSafe(self, data, what):
        """data (bytes): strict UTF-8, lines without control characters."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(f"{what} is not UTF-8: {e}: {data!r}")
        for line in text.split("\n"):
            self.assertEqual(controls(line), [], f"{what}: {line!r}")
        return text

    def assertCleanJson(self, value, what):
        for s in strings(value):
            self.assertEqual(controls(s), [], f"{what}: {s!r}")

    def assertLogRecords(self, data, what):
        """stderr in the LEVEL [workflow] message format: every line is a
        record, none of them the forged one."""
        text = self.assertTerminalSafe(data, what)
        lines = [x for x in text.split("\n") if x and not x.startswith("==")]  # valgrind
        for line in lines:
            self.assertRegex(line, LEVELS, f"{what}: a line that is not a record")
            self.assertFalse(line.startswith("NOTICE [good] run FAKE"), f"{what}: forged record")
        return text


def fault(message):
    """OpenMetadata refuses to create the pipeline service with message."""
    return {"faults": [{"method": "PUT", "path": "^/api/v1/services/pipelineServices$",
                        "status": 500, "body": {"code": 500, "message": message}}]}


class TestOutsideText(Hygiene, harness.DaemonCase):
    def raw(self, data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(os.path.join(self.dir, "gm.sock"))
        s.sendall(data)
        out = s.makefile("rb").read()
        s.close()
        return out

    def test_any_request_gets_a_valid_utf8_json_reply(self):
        self.config([("a", "0 0 1 1 *")])
        self.start()
        rng = random.Random(13)
        pool = list(range(0x20, 0x7f)) * 2 + list(range(0x7f, 0x100)) * 3 + [0x1b, 0x07, 0x09]
        reqs = [b"run \xff\xfe", b"history \xff\xfe", b"\xff\xfe", b"run a\x7f",
                b"run \xc2\x9b2J", b"run \x1b[2J", b"status \xed\xa0\x80", b"\xc0\xaf \xe2\x82",
                b"run " + "données\u0085".encode(), b"history \xf4\x90\x80\x80",
                b"reload \xe2\x80\xae"]
        for _ in range(200):
            body = bytes(rng.choice(pool) for _ in range(rng.randint(1, 60)))
            reqs.append(rng.choice([b"", b"run ", b"history ", b"status "]) + body)
        for req in reqs:
            raw = self.raw(req + b"\n")
            self.assertTrue(raw.endswith(b"\n"), (req, raw))
            try:
                reply = json.loads(raw[:-1].decode("utf-8"))
            except ValueError as e:
                self.fail(f"reply to {req!r} is not UTF-8 JSON: {e}: {raw!r}")
            self.assertNotIn(b"\n", raw[:-1])
            self.assertFalse(any(b < 0x20 for b in raw[:-1]), raw)
            self.assertCleanJson(reply, f"reply to {req!r}")
            self.assertIn("ok", reply)
        # what the user is told
        self.assertEqual(json.loads(self.raw(b"run \xff\xfe\n"))["error"],
                         "no workflow named '\ufffd\ufffd'")
        self.assertEqual(json.loads(self.raw(b"history a\x7f\xc2\x9b\n"))["error"],
                         "no workflow named 'a\\x7f\\x9b'")
        self.assertTrue(self.status()["ok"])
        self.assertEqual(self.stop()[0], 0)
        self.assertLogRecords(self.log().encode(), "stderr")

    def test_an_error_body_cannot_forge_a_record_or_drive_a_terminal(self):
        self.write("good.yaml", harness.workflow_yaml(self.s, service="svc_good"))
        self.s.om.call("POST", "/__fake/config", fault(EVIL))
        self.config([("good", "0 0 1 1 *")])
        self.start()
        self.ctl("run", "good")
        self.wait(lambda: json.loads(self.ctl("--json", "history", "good").stdout)["runs"],
                  what="the failed run")
        p = subprocess.run([CTL, "--socket", os.path.join(self.dir, "gm.sock"), "--json",
                            "history", "good"], capture_output=True, timeout=30)
        text = self.assertTerminalSafe(p.stdout, "gluemetactl --json history")
        runs = json.loads(text)["runs"]
        self.assertEqual(runs[0]["result"], "failed")
        self.assertIn(EVIL_SHOWN, runs[0]["message"])
        self.assertCleanJson(runs, "gluemetactl --json history")
        p = subprocess.run([CTL, "--socket", os.path.join(self.dir, "gm.sock"), "history",
                            "good"], capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = self.assertTerminalSafe(p.stdout, "gluemetactl history")
        self.assertIn(EVIL_SHOWN, text)
        self.assertFalse(any(x.startswith("NOTICE") for x in text.split("\n")), text)
        self.assertEqual(self.stop()[0], 0)
        log = self.assertLogRecords(self.log().encode(), "stderr")
        self.assertIn("ERROR  [good] cannot create pipeline service 'svc_good': HTTP 500: " +
                      EVIL_SHOWN, log)
        with open(os.path.join(self.dir, "state", "history.json"), "rb") as fh:
            hist = json.loads(fh.read().decode("utf-8"))
        self.assertCleanJson(hist, "history.json")
        self.assertIn(EVIL_SHOWN, hist["workflows"]["good"][0]["message"])

    def test_ingest_summary_and_log_show_the_error_escaped(self):
        self.s.om.call("POST", "/__fake/config", fault(EVIL))
        p = subprocess.run(harness.WRAPPER + [BIN, "ingest", "-c",
                                              os.path.join(self.dir, "a.yaml")],
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        out = self.assertTerminalSafe(p.stdout, "ingest's summary")
        self.assertIn("Workflow failed: cannot create pipeline service 'svc_a': HTTP 500: " +
                      EVIL_SHOWN + "\n", out)
        err = self.assertLogRecords(p.stderr, "ingest's stderr")
        self.assertIn(EVIL_SHOWN, err)

    def test_a_history_an_older_version_wrote_is_shown_escaped(self):
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        run = {"run_id": "r-old", "trigger": "manual", "result": "failed\x1b[5m",
               "started_ms": 1700000000000, "finished_ms": 1700000001000, "message": EVIL}
        data = json.dumps({"version": 1, "workflows": {"a": [run]}}).encode()
        data = data.replace(b"pwned", b"pw\xff\xfened")      # raw bytes, not UTF-8
        with open(os.path.join(state, "history.json"), "wb") as fh:
            fh.write(data)
        self.config([("a", "0 0 1 1 *")])
        self.start()
        for args in (["history", "a"], ["--json", "history", "a"], ["status"],
                     ["--json", "status"]):
            p = subprocess.run([CTL, "--socket", os.path.join(self.dir, "gm.sock")] + args,
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            text = self.assertTerminalSafe(p.stdout, "gluemetactl " + " ".join(args))
            self.assertFalse(any(x.startswith("NOTICE") for x in text.split("\n")), text)
            if args == ["history", "a"]:
                self.assertIn("pw\ufffd\ufffdned", text)
                self.assertIn("failed\\x1b[5m", text)
        self.assertEqual(self.stop()[0], 0)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare")
    def test_journal_fields_hold_no_control_characters(self):
        self.write("good.yaml", harness.workflow_yaml(self.s, service="svc_good"))
        self.s.om.call("POST", "/__fake/config", fault(EVIL))
        self.config([("good", "0 0 1 1 *")])
        out = os.path.join(self.dir, "journal.jsonl")
        sink = os.path.join(HERE, "journal_sink.py")
        script = ("mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
                  f"(/usr/bin/python3 {sink} /run/systemd/journal/socket {out} $$ &) && "
                  f"while [ ! -e {out}.ready ]; do sleep 0.05; done && exec \"$@\"")
        self.start(wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"])
        self.ctl("run", "good")
        self.wait(lambda: json.loads(self.ctl("--json", "history", "good").stdout)["runs"],
                  what="the failed run")
        self.assertEqual(self.stop()[0], 0)
        with open(out) as fh:
            recs = [json.loads(x) for x in fh if x.strip()]
        failed = [r for r in recs if "cannot create pipeline service" in r.get("MESSAGE", "")]
        self.assertTrue(failed, recs)
        self.assertIn(EVIL_SHOWN, failed[0]["MESSAGE"])
        for r in recs:
            self.assertCleanJson(r, "journal record")
        self.assertFalse([r for r in recs if r["MESSAGE"].startswith("NOTICE [good] run FAKE")])


class TestGluemetactlOutput(Hygiene, unittest.TestCase):
    """gluemetactl against a socket that answers what an older or broken
    daemon might: JSON whose strings hold raw C1 and DEL, escaped C0 and
    bytes that are not UTF-8."""

    REPLY = (b'{"ok":true,"version":"0\x7f","pid":1,"workflows_total":1,"running":0,'
             b'"queued":0,"name":"a\\u001b[31m","workflows":[{"name":"w\xc2\x9b2J",'
             b'"state":"idle\\u0007","schedule":"@daily\\nNOTICE [w] forged","last":'
             b'[{"result":"failed\\u001b]0;t\\u0007"}]}],"state":"queued\\r",'
             b'"runs":[{"run_id":"r\xff1","result":"failed","trigger":"manual",'
             b'"message":"' + json.dumps(EVIL)[1:-1].encode() + b'"}]}\n')
    ERROR = b'{"ok":false,"error":"\\u001b]0;title\\u0007\\nNOTICE [good] run FAKE success"}\n'

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gm-ctl-")
        self.path = os.path.join(self.dir, "fake.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(8)
        self.answer = self.REPLY
        threading.Thread(target=self.serve, daemon=True).start()

    def tearDown(self):
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            with c:
                c.makefile("rb").readline()
                c.sendall(self.answer)

    def ctl(self, *args):
        return subprocess.run([CTL, "--socket", self.path] + list(args), capture_output=True,
                              timeout=30)

    def test_replies_are_printed_escaped(self):
        for args in (["status"], ["history", "a"], ["run", "a"], ["--json", "status"],
                     ["--json", "history", "a"]):
            p = self.ctl(*args)
            self.assertEqual(p.returncode, 0, p.stderr)
            text = self.assertTerminalSafe(p.stdout, "gluemetactl " + " ".join(args))
            self.assertFalse(any(x.startswith("NOTICE") for x in text.split("\n")), text)
            if args[0] == "--json":
                self.assertCleanJson(json.loads(text), "gluemetactl " + " ".join(args))
        self.assertIn(EVIL_SHOWN, self.ctl("history", "a").stdout.decode())
        self.assertIn("w\\x9b2J", self.ctl("status").stdout.decode())
        self.answer = self.ERROR
        p = self.ctl("run", "a")
        self.assertEqual(p.returncode, 1)
        text = self.assertTerminalSafe(p.stderr, "gluemetactl's error")
        self.assertEqual(text, "gluemetactl: \\x1b]0;title\\x07\\x0aNOTICE [good] run FAKE "
                               "success\n")


# Names with letters of several scripts, and the characters whose case
# Python folds in ways towupper() alone does not (Kelvin, Ohm and Angstrom
# signs, capital sharp s, theta symbol, dotted and dotless i).
NAMES = ["données_été_日本", "DONNÉES_BRUTES", "Donnees_sans_accent", "σίσυφος_φόρτωση",
         "ΣΊΣΥΦΟΣ_νύχτα", "данные_ночь", "ДАННЫЕ_день", "ДАННЫЙ", "straße_load",
         "STRASSE_load", "ẞ_gross", "\u212aelvin_load", "kelvin_small", "İstanbul_etl",
         "istanbul_lower", "Isparta_etl", "ǆemal", "\u212bngstrom", "åsa", "\u2126hm", "ωmega",
         "θeta", "ϴeta_sym", "ÉTÉ_2024", "été_2024", "Ünïcödé_ÿ", "etl_sales_000",
         "集計ワークフロー", "Ǆungla"]
PATTERNS = ["DONNÉES", "données", "DONN.ES_", "ΣΊΣΥΦΟΣ", "σίσυφος", "ДАННЫЕ", "данные_",
            "k", "\u212a", "i", "ı", "ǅ", "ß", "straße", "Ω", "θ", "ϴ", "Å", "[à-ÿ]+_2024",
            "[A-é]+_", "[À-Þ]", "É", "[^é]", r"\w+_2024$", "ü", "集計", "ETL_", r"[Z-a]"]


class TestFilterCaseFolding(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        def rename(estate):
            for w, name in zip(estate["workflows"], NAMES):
                w["Name"] = name
                for r in w.get("Runs", []):
                    r["Name"] = name

        harness.class_estate(cls, "gm-fold-", len(NAMES), seed=11,
                             extra=["--jobs-per-workflow", "1", "--runs-per-workflow", "1"],
                             edit=rename)

    def landed(self, includes=None, excludes=None):
        """The pipelines one run writes, or the run's complaint."""
        self.s.om.call("POST", "/__fake/reset")
        path = os.path.join(self.tmp, "wf.yaml")
        with open(path, "w") as fh:
            fh.write(harness.workflow_yaml(self.s, includes=includes, excludes=excludes,
                                           mark_deleted=False))
        p = harness.run_gluemetad(BIN, ["ingest", "-c", path])
        if p.returncode != 0:
            return p.stderr.strip().split("\n")[-1]
        return {x["name"] for x in self.s.dump()["pipelines"] if not x.get("deleted")}

    def test_includes_match_as_python_does(self):
        differ = []
        for pat in PATTERNS:
            want = {n for n in NAMES if re.match(pat, n, re.IGNORECASE)}
            got = self.landed(includes=[pat])
            if isinstance(got, str):
                differ.append(f"{pat!r}: {got}")
            elif got != want:
                differ.append(f"{pat!r}: Python keeps {sorted(want - got)} too, "
                              f"gluemetad {sorted(got - want)} too")
        self.assertEqual(differ, [], f"{len(differ)} of {len(PATTERNS)} patterns differ")

    def test_excludes_match_as_python_does(self):
        pats = ["données", "ς", "\u212a", "[à-ÿ]"]
        want = {n for n in NAMES if not any(re.match(p, n, re.IGNORECASE) for p in pats)}
        self.assertEqual(self.landed(excludes=pats), want)


if __name__ == "__main__":
    unittest.main()
