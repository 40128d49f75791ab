"""gluemetactl's tables as a person reads them: counts with their plural,
columns that stay aligned (a 64-character name shortened with an
ellipsis), and times in each workflow's own zone with its abbreviation,
absolute and relative.  --json stays the daemon's reply."""
import datetime
import re
import time
import unittest
import zoneinfo

import harness
from harness import DaemonCase

TITLES = ["WORKFLOW", "STATE", "SCHEDULE", "NEXT", "LAST RUN"]
LONG = "nightly_sales_ingest_from_the_eu_west_glue_catalog_into_metadata"   # 64, the most
SPAN = re.compile(r"^(?:(\d+)d)? ?(?:(\d+)h)? ?(?:(\d+)m)? ?(?:(\d+)s)?$")


def wall(epoch, tz):
    """What the table should show for epoch in zone tz (None: local)."""
    zone = zoneinfo.ZoneInfo(tz) if tz else None
    t = datetime.datetime.fromtimestamp(epoch, zone) if zone else \
        datetime.datetime.fromtimestamp(epoch).astimezone()
    return t.strftime("%Y-%m-%d %H:%M:%S %Z" if t.second else "%Y-%m-%d %H:%M %Z")


def seconds(span):
    """'5h 12m' as seconds, and the seconds of its smallest unit."""
    m = SPAN.match(span)
    assert m and span, span
    units = (86400, 3600, 60, 1)
    total = sum(int(v) * u for v, u in zip(m.groups(), units) if v)
    smallest = min(u for v, u in zip(m.groups(), units) if v)
    return total, smallest


class TestReadableStatus(DaemonCase):
    maxDiff = None

    def table(self, cmd):
        """The header line, the column starts and the rows of `gluemetactl
        cmd`, as text (columns count code points, as Python's str does)."""
        lines = self.ctl(cmd).stdout.rstrip("\n").split("\n")
        starts = [lines[1].index(t) for t in TITLES]
        self.assertEqual(lines[1][:starts[0]], "  ")
        # the table's rows are indented; what follows it (the last reload,
        # a state error) is not
        rows = []
        for line in lines[2:]:
            if not line.startswith("  "):
                break
            rows.append(line)
        return lines[0], starts, rows

    def assertRow(self, row, starts, cells):
        """Each cell starts at its column, after at least one space."""
        for i, (col, text) in enumerate(zip(starts, cells)):
            self.assertEqual(row[col - 1], " ", f"column {TITLES[i]} of {row!r}")
            self.assertTrue(row[col:].startswith(text),
                            f"column {TITLES[i]} of {row!r} should start with {text!r}")

    def next_cell(self, row, starts, w):
        """Checks NEXT of workflow w (its zone, the time it fires, how long
        until then) and returns the cell."""
        cell = row[starts[3]:starts[4]].rstrip()
        at = wall(w["next_fire"], w.get("timezone"))
        m = re.fullmatch(re.escape(at) + r" \(in (.+)\)", cell)
        self.assertIsNotNone(m, f"{cell!r} should be {at!r} (in ...)")
        shown, unit = seconds(m.group(1))
        left = w["next_fire"] - time.time()
        # the span is cut to two units: what is left lies within the
        # smallest one shown (plus the time since gluemetactl asked)
        self.assertLessEqual(shown, left + 30, cell)
        self.assertLess(left, shown + unit + 30, cell)
        return cell

    def test_one_then_several_workflows(self):
        self.assertEqual(len(LONG), 64)
        self.config([("a", "0 3 * * *", "timezone: Europe/Berlin")])
        self.start()
        st = self.status()
        for cmd in ("status", "list"):
            head, starts, rows = self.table(cmd)
            self.assertRegex(head, r"^gluemetad \S+ \(pid \d+\): 1 workflow, 0 running, "
                                   r"0 queued$")
            self.assertEqual(len(rows), 1)
            self.assertRow(rows[0], starts, ["a", "idle", "0 3 * * *", "", "-"])
            cell = self.next_cell(rows[0], starts, st["workflows"][0])
            self.assertRegex(cell, r" 03:00 CES?T \(in ")

        # several: a long name, zones of different abbreviations, one disabled
        self.write(f"{LONG}.yaml", harness.workflow_yaml(self.s, service="svc_long"))
        self.config([("a", "0 3 * * *", "timezone: Europe/Berlin"),
                     (LONG, "*/30 * * * *"),
                     ("ny", "@hourly", "timezone: America/New_York"),
                     ("b", "0 0 1 1 *", "enabled: false"),
                     ("c", "15 4 * * 1-5", "timezone: UTC")])
        self.write("ny.yaml", harness.workflow_yaml(self.s, service="svc_ny"))
        self.assertEqual(self.ctl("reload").stdout, "reloaded: 5 workflows\n")
        self.ctl("run", LONG)
        self.wait(lambda: self.by_name()[LONG].get("last") and
                  self.by_name()[LONG]["state"] == "idle", what=f"the run of {LONG}")
        st = self.status()
        self.assertEqual([w["name"] for w in st["workflows"]], ["a", LONG, "ny", "b", "c"])
        shortened = LONG[:31] + "\u2026"
        for cmd in ("status", "list"):
            head, starts, rows = self.table(cmd)
            self.assertRegex(head, r": 5 workflows, 0 running, 0 queued$")
            self.assertEqual(len(rows), 5, rows)
            want = [["a", "idle", "0 3 * * *"], [shortened, "idle", "*/30 * * * *"],
                    ["ny", "idle", "@hourly"], ["b", "disabled", "0 0 1 1 *", "-", "-"],
                    ["c", "idle", "15 4 * * 1-5"]]
            for row, cells, w in zip(rows, want, st["workflows"]):
                self.assertRow(row, starts, cells)
                if w["enabled"]:
                    self.next_cell(row, starts, w)
            self.assertNotIn(LONG, "\n".join(rows))
            self.assertRegex(rows[0], r" 03:00 CES?T \(in ")
            self.assertRegex(rows[2], r":00 E[SD]T \(in ")
            self.assertRegex(rows[4], r" 04:15 UTC \(in ")
            # the last run: its result, when it ended in the zone, how long ago
            last = st["workflows"][1]["last"][0]
            ended = wall(last["finished_ms"] / 1000, None)
            self.assertRegex(rows[1][starts[4]:], "^success, " + re.escape(ended) +
                             r" \((\d+s|\d+m( \d+s)?) ago\)$")
            self.assertEqual(rows[0][starts[4]:], "-")
        # --json keeps the daemon's reply: the whole name, numbers as numbers
        self.assertEqual(st["workflows"][1]["name"], LONG)
        self.assertEqual(st["workflows_total"], 5)
        hist = self.ctl("history", LONG).stdout.split("\n")
        self.assertEqual(hist[0], f"{LONG}: 1 run")
        n = len(self.estate["workflows"])
        self.assertIn(f" {n} pipelines, ", hist[1])
        self.assertIn(", 0 errors ", hist[1])
        self.assertEqual(self.stop()[0], 0)


if __name__ == "__main__":
    unittest.main()
