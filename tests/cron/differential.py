#!/usr/bin/python3
"""Differential test of gluemetad's cron against croniter (Debian's
python3-croniter 1.3.5, /usr/lib/python3/dist-packages/croniter/croniter.py).

Random expressions (fixed seed), several start instants each in five zones
(random instants, instants around spring-forward gaps, inside fall-back
overlaps, and in the day before transitions, all computed from the zone
data), the next 5 fire times from croniter (one croniter object per
sequence, get_next(datetime) called repeatedly, start a pytz-localized
datetime as croniter's README shows) and from ONE `gluemetad calendar
--batch` process, compared as UTC instants.

Every step that differs is explained or it is a bug.  A step is the fire
time croniter gives from its previous one (or from the start); gluemetad is
asked the same question (the next time after croniter's previous one), so
each step is judged on its own.  The explanation replays croniter's
algorithm (croniter_model) and then removes, one at a time, each mechanism
in which croniter deliberately differs from cronie:

  croniter_lag_correction   _get_next()'s DST "lag" correction
  croniter_fixed_offset     _calc() walks the wall clock in the UTC offset
                            of the search start (pytz)
  day_field_star            which day field counts as '*'
  max_years_between_matches croniter searches 50 years, cronie/we 8
  dst_gap, dst_overlap      cronie's handling of skipped / repeated times

The step is excluded under the rules whose removal changed the answer, and
only when the replay reproduces croniter's time exactly AND the last model
(cronie's semantics, computed here independently) reproduces gluemetad's
time exactly.  Anything else is printed and the run fails.
"""
import argparse
import bisect
import calendar
import collections
import datetime as dt
import multiprocessing
import os
import random
import shlex
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytz
from croniter import croniter, CroniterBadDateError
from croniter.croniter import CroniterError

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
KINDS = ["random", "gap", "overlap", "before"]
SEQ_PER_EXPR = 8
FIRES = 5
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)
RANDOM_FROM = int(dt.datetime(2020, 1, 1, tzinfo=UTC).timestamp())
RANDOM_TO = int(dt.datetime(2036, 1, 1, tzinfo=UTC).timestamp())
OUR_LIMIT_DAYS = 8 * 366          # src/cron.c walk(): nothing within 8 years
CRONITER_YEARS = 50               # croniter __init__: max_years_between_matches=50

# ---------------------------------------------------------------- zones

_offset_cache = {}


def offset(zone, t):
    """UTC offset in seconds of zone at instant t."""
    key = (zone, t)
    v = _offset_cache.get(key)
    if v is None:
        v = int(dt.datetime.fromtimestamp(t, ZoneInfo(zone)).utcoffset().total_seconds())
        if len(_offset_cache) > 200000:
            _offset_cache.clear()
        _offset_cache[key] = v
    return v


_pytz_cache = {}


def offset_pytz(zone, t):
    """The UTC offset pytz gives croniter (its tzfile reader uses the
    transition table only, which ends in 2037)."""
    key = (zone, t)
    v = _pytz_cache.get(key)
    if v is None:
        v = int(dt.datetime.fromtimestamp(t, pytz.timezone(zone)).utcoffset().total_seconds())
        if len(_pytz_cache) > 200000:
            _pytz_cache.clear()
        _pytz_cache[key] = v
    return v


def transitions(zone, y0=1984, y1=2037):
    """[(instant, offset before, offset after)] from the zone data."""
    out = []
    t = int(dt.datetime(y0, 1, 1, tzinfo=UTC).timestamp())
    end = int(dt.datetime(y1, 1, 1, tzinfo=UTC).timestamp())
    prev = offset(zone, t)
    while t < end:
        n = t + 6 * 3600
        o = offset(zone, n)
        if o != prev:
            lo, hi = t, n
            while hi - lo > 1:
                m = (lo + hi) // 2
                if offset(zone, m) == prev:
                    lo = m
                else:
                    hi = m
            out.append((hi, prev, o))
            prev = o
        t = n
    return out


TRANSITIONS = {z: transitions(z) for z in ZONES}
TRANS_TIMES = {z: [t for t, _, _ in TRANSITIONS[z]] for z in ZONES}


def wall(zone, t):
    """Naive wall time (seconds on a UTC-like scale) of instant t."""
    return t + offset(zone, t)


def wall_kind(zone, w):
    """('gap', gap end instant) | ('overlap', first, second) | ('one', t)."""
    offs = {offset(zone, w - 86400), offset(zone, w + 86400),
            offset(zone, w - 14 * 3600), offset(zone, w + 14 * 3600)}
    inst = sorted(w - o for o in offs if offset(zone, w - o) == o)
    if len(inst) == 1:
        return ("one", inst[0])
    if len(inst) == 2:
        return ("overlap", inst[0], inst[1])
    # a gap: the first instant whose wall time is past w
    lo, hi = w - max(offs), w - min(offs)
    while hi - lo > 1:
        m = (lo + hi) // 2
        if wall(zone, m) >= w:
            hi = m
        else:
            lo = m
    return ("gap", hi, w - offset(zone, lo))     # end of gap, w read in the offset before


def near_transition(zone, a, b):
    """A transition of zone in [a, b]?"""
    ts = TRANS_TIMES[zone]
    i = bisect.bisect_left(ts, a)
    return i < len(ts) and ts[i] <= b


# ---------------------------------------------------------------- expressions

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]


def casing(r, s):
    k = r.random()
    if k < 0.4:
        return s
    if k < 0.6:
        return s.lower()
    if k < 0.8:
        return s.title()
    return "".join(c.upper() if r.random() < 0.5 else c.lower() for c in s)


def gen_field(r, lo, hi, names, star_p, six=False, dow=False):
    """One field.  In the day-of-week field of a 6-field expression no value
    7: croniter 1.3.5 maps 7 to Sunday only in 5-field expressions (_expand,
    the LOWMAP test `(i in [3, 4] and len(expressions) == 6)`), a
    limitation of croniter we do not test."""
    top = 6 if (dow and six) else hi

    def val(v):
        if names and v - lo < len(names) and r.random() < 0.35:
            return casing(r, names[v - lo])
        return str(v)

    if r.random() < star_p:
        return "*"
    items = []
    for _ in range(r.choice([1, 1, 1, 2, 2, 3])):
        k = r.random()
        span = top - lo + 1
        if k < 0.35:
            items.append(val(r.randint(lo, top)))
        elif k < 0.55:
            a = r.randint(lo, top)
            b = r.randint(a, top)
            if dow and b == 7 and r.random() < 0.5:
                b = 7
            items.append("%s-%s" % (val(a), val(b) if b != 7 else "7"))
        elif k < 0.7:
            a = r.randint(lo, top)
            b = r.randint(a, top)
            items.append("%s-%s/%d" % (val(a), val(b) if b != 7 else "7",
                                       r.randint(1, max(1, min(hi, span)))))
        elif k < 0.85:
            step = r.randint(1, max(1, min(hi, span // 2 + 1)))
            items.append("*/%d" % step)
        elif not (dow and six):
            a = r.randint(lo, hi)
            items.append("%s/%d" % (val(a) if a != 7 else "7",
                                    r.randint(1, max(1, min(hi, span)))))
        else:
            items.append(val(r.randint(lo, top)))
    return ",".join(items)


def gen_expr(r):
    """An expression in our syntax (seconds first when 6 fields)."""
    k = r.random()
    if k < 0.05:
        return r.choice(MACROS)
    if k < 0.09:        # rare schedules
        m, h = r.randint(0, 59), r.randint(0, 23)
        return r.choice([
            "%d %d 29 2 *", "%d %d 29 FEB *", "%d %d 31 4,6,9,11 *", "%d %d 30 2 *",
            "%d %d 29 2 1", "%d %d 13 * FRI", "%d %d 29 2 */7", "%d %d 31 * */3",
            "%d %d 1 1 MON", "%d %d 25 12 *", "%d %d 31 DEC SUN",
        ]) % (m, h)
    six = r.random() < 0.25
    both_days = r.random() < 0.3
    sec = ""
    if six:
        sec = gen_field(r, 0, 59, None, 0.1) + " "
    minute = gen_field(r, 0, 59, None, 0.15)
    hour = gen_field(r, 0, 23, None, 0.4)
    dom = gen_field(r, 1, 31, None, 0.0 if both_days else 0.6)
    month = gen_field(r, 1, 12, MONTHS, 0.7)
    dow = gen_field(r, 0, 7, DAYS, 0.0 if both_days else 0.6, six=six, dow=True)
    return sec + " ".join([minute, hour, dom, month, dow])


def to_croniter(expr):
    """croniter 1.3.5 puts the seconds last."""
    f = expr.split()
    return " ".join(f[1:] + f[:1]) if len(f) == 6 else expr


# ---------------------------------------------------------------- start instants

def gen_start(r, zone, kind):
    tr = TRANSITIONS[zone]
    if kind == "random" or not tr:
        return r.randrange(RANDOM_FROM, RANDOM_TO)
    if kind == "gap":
        c = [x for x in tr if x[2] > x[1]]
        t, a, b = r.choice(c)
        d = b - a
        return t + r.randint(-d, d)            # around the skipped wall times
    if kind == "overlap":
        c = [x for x in tr if x[2] < x[1]]
        t, a, b = r.choice(c)
        d = a - b
        return t + r.randint(-d, d - 1)        # inside either pass of the repeated times
    t, a, b = r.choice(tr)                     # "before": just before a transition
    return t - r.choice([1, 60, r.randint(1, 3600), r.randint(1, 26 * 3600)])


def kinds_for(zone):
    tr = TRANSITIONS[zone]
    k = ["random"]
    if any(b > a for _, a, b in tr):
        k.append("gap")
    if any(b < a for _, a, b in tr):
        k.append("overlap")
    if tr:
        k.append("before")
    return k


def plan(seed, count):
    r = random.Random(seed)
    exprs, seqs = [], []
    for i in range(count):
        e = gen_expr(r)
        exprs.append(e)
        for _ in range(SEQ_PER_EXPR):
            z = r.choice(ZONES)
            kinds = kinds_for(z)
            # mostly transitions where a zone has them
            kind = kinds[0] if len(kinds) == 1 or r.random() < 0.3 else r.choice(kinds[1:])
            seqs.append((i, z, kind, gen_start(r, z, kind)))
    return exprs, seqs


# ---------------------------------------------------------------- croniter side

def croniter_run(job):
    """croniter's next FIRES times, as a user calls it; also its DST state
    (dst_start_time) before each call, for the replay."""
    expr, zone, start = job
    tz = pytz.timezone(zone)
    try:
        c = croniter(to_croniter(expr), dt.datetime.fromtimestamp(start, tz))
    except CroniterError:
        return ("reject", [])
    out = []
    for _ in range(FIRES):
        state = c.dst_start_time
        try:
            v = c.get_next(dt.datetime)
        except CroniterBadDateError:
            out.append((None, state))
            break
        out.append((int(v.timestamp()), state))
    return ("ok", out)


def croniter_chunk(jobs):
    return [croniter_run(j) for j in jobs]


# ---------------------------------------------------------------- wall-clock matching

class Spec:
    """The value sets of an expression (croniter's expansion; the same sets
    as cronie's entry.c for what we generate) and both notions of a '*'
    day field."""

    def __init__(self, expr):
        ours = expr.split()
        if expr.startswith("@"):
            ours = {
                "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@hourly": "0 * * * *"}[expr].split()
        self.six = len(ours) == 6
        exp = croniter.expand(to_croniter(expr))[0]
        full = [range(0, 60), range(0, 24), range(1, 32), range(1, 13), range(0, 7), range(0, 60)]
        sets = [sorted(set(full[i]) if e == ["*"] else {int(x) for x in e}) for i, e in enumerate(exp)]
        self.min, self.hour, self.dom, self.mon, self.dow = sets[:5]
        self.sec = sets[5] if self.six else [0]
        self.dow = sorted({0 if d == 7 else d for d in self.dow})
        # croniter _get_next(): the OR rule when neither expanded day field is ['*']
        self.croniter_or = exp[2][0] != "*" and exp[4][0] != "*"
        self.dom_restricted = exp[2][0] != "*"
        self.dow_restricted = exp[4][0] != "*"
        # cronie entry.c: DOM_STAR / DOW_STAR when the field starts with '*'
        f = ours[1:] if self.six else ours
        self.cronie_or = not f[2].startswith("*") and not f[4].startswith("*")
        self.wild = any(x.startswith("*") for x in (ours[:3] if self.six else ours[:2]))

    def day_ok(self, d, use_or):
        dom = d.day in self.dom
        dow = (d.isoweekday() % 7) in self.dow
        return (dom or dow) if use_or else (dom and dow)

    def next_wall(self, w, use_or, limit_days):
        """The first matching wall time >= w (naive seconds), or None within
        limit_days."""
        d0 = EPOCH + dt.timedelta(seconds=w)
        day = d0.date()
        h0, m0, s0 = d0.hour, d0.minute, d0.second
        for i in range(limit_days + 1):
            if day.month in self.mon and self.day_ok(day, use_or):
                hms = self._first_hms(h0, m0, s0) if i == 0 else \
                    (self.hour[0], self.min[0], self.sec[0])
                if hms:
                    h, m, s = hms
                    return int((dt.datetime(day.year, day.month, day.day, h, m, s) - EPOCH)
                               .total_seconds())
            day += dt.timedelta(days=1)
        return None

    def next_wall_croniter(self, w, limit_days, strict_or=True):
        """next_wall() as croniter's _calc() walks: a day-of-month step is
        relativedelta(days=listed day - today) (proc_day_of_month, lines
        363-384), which past the month's last day runs into the next month
        ("30" from February 28 lands on March 2, skipping March 1).  The
        OR rule as _get_next(): the earlier of a walk on the day of the
        month alone and one on the day of the week alone."""
        if self.croniter_or:
            a = self._walk_croniter(w, limit_days, True, False)
            b = self._walk_croniter(w, limit_days, False, True)
            if strict_or and (a is None or b is None):
                return None     # _calc() raises for the branch that never matches
            return min(x for x in (a, b, None) if x is not None) if (a or b) else None
        return self._walk_croniter(w, limit_days, self.dom_restricted, self.dow_restricted)

    def _walk_croniter(self, w, limit_days, use_dom, use_dow):
        d0 = EPOCH + dt.timedelta(seconds=w)
        day = d0.date()
        end = day + dt.timedelta(days=limit_days)
        first = True
        while day <= end:
            if day.month not in self.mon:
                nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
                day, first = nxt, False
                continue
            if use_dom and day.day not in self.dom:
                mdays = calendar.monthrange(day.year, day.month)[1]
                later = [v for v in self.dom if v >= day.day]
                diff = later[0] - day.day if later else self.dom[0] - day.day + mdays
                day, first = day + dt.timedelta(days=diff), False
                continue
            if use_dow and (day.isoweekday() % 7) not in self.dow:
                day, first = day + dt.timedelta(days=1), False
                continue
            hms = self._first_hms(d0.hour, d0.minute, d0.second) if first else \
                (self.hour[0], self.min[0], self.sec[0])
            if hms:
                h, m, sec = hms
                return int((dt.datetime(day.year, day.month, day.day, h, m, sec) - EPOCH)
                           .total_seconds())
            day, first = day + dt.timedelta(days=1), False
        return None

    def _first_hms(self, h0, m0, s0):
        for h in self.hour:
            if h < h0:
                continue
            if h > h0:
                return h, self.min[0], self.sec[0]
            for m in self.min:
                if m < m0:
                    continue
                if m > m0:
                    return h, m, self.sec[0]
                for s in self.sec:
                    if s >= s0:
                        return h, m, s
        return None


def croniter_model(spec, zone, p, dst_start, lag=True, fixed=True, cronie_days=False,
                   years8=False, pytz_offsets=False, overflow=False, strict_or=True):
    """croniter's next time after p, replayed (croniter.py _calc and
    _get_next), with its mechanisms switchable.  Returns (instant or None,
    the wall time found)."""
    off = offset_pytz if pytz_offsets else offset
    delta = 1 if spec.six else 60                    # _calc: offset = 1 or 60
    s = p + delta
    o_s = off(zone, s)                            # pytz tzinfo of the start
    w0 = s + o_s
    if not spec.six:
        w0 -= w0 % 60                                # proc_second: second=0
    limit = OUR_LIMIT_DAYS if years8 else CRONITER_YEARS * 366
    if overflow:
        w = spec.next_wall_croniter(w0, limit, strict_or)
    else:
        w = spec.next_wall(w0, spec.cronie_or if cronie_days else spec.croniter_or, limit)
    if w is not None and years8 and w >= wall(zone, p) + 1 + OUR_LIMIT_DAYS * 86400:
        w = None                                     # src/cron.c walk()'s limit
    if w is None:
        return None, None
    if fixed:
        raw = w - o_s
    else:
        # the wall time in the offset of the start when that reading is
        # valid, else in the zone's own offset (a skipped time: in the
        # offset before the gap, as zoneinfo's fold=0)
        if off(zone, w - o_s) == o_s:
            raw = w - o_s
        else:
            k = wall_kind(zone, w)
            raw = k[1] if k[0] != "gap" else k[2]
    if not lag:
        return raw, w
    o_d = off(zone, dst_start)
    o_r = off(zone, raw)
    if o_r != o_d:
        lagv = o_r - o_d
        lag_hours = (raw - dst_start) / 3600
        hbm = 24 - (dt.datetime.utcfromtimestamp(dst_start + o_d)).hour
        if (lagv > 0 and abs(lag_hours) >= hbm) or \
           (lagv < 0 and 3600 * abs(lag_hours) + abs(lagv) >= hbm * 3600):
            return raw - lagv, w
    return raw, w


def cronie_model(spec, zone, p):
    """The next fire time after p as the semantics of include/cron.h state
    them (cronie's): a skipped wall time at the end of the gap, a repeated
    one once (fixed-time schedule) or in both passes (wildcard schedule);
    nothing within 8 years: None."""
    w = wall(zone, p) - 3 * 3600
    end = wall(zone, p) + 1 + OUR_LIMIT_DAYS * 86400
    best = best_w = None
    while True:
        w = spec.next_wall(w, spec.cronie_or, max(0, (end - w) // 86400))
        if w is None or w >= end:
            return best, best_w
        k = wall_kind(zone, w)
        if k[0] == "gap":
            cands = [k[1]]
        elif k[0] == "overlap":
            cands = [k[1], k[2]] if spec.wild else [k[1]]
        else:
            cands = [k[1]]
        for c in cands:
            if c > p and (best is None or c < best):
                best, best_w = c, w
        if best is not None and w - 15 * 3600 > best:
            return best, best_w
        w += 1


RULES = {
    "croniter_or_needs_both_branches":
        "a croniter defect: for the OR rule _get_next() (lines 240-252) calls _calc() "
        "once with the day of the week as '*' and once with the day of the month as '*'; "
        "when one of them never matches (day 31 in September) _calc() raises "
        "CroniterBadDateError (lines 505-508) and the other's answer is lost; cronie fires "
        "on the days that match either field",
    "croniter_day_of_month_overflow":
        "a croniter defect, not a design choice: proc_day_of_month() in _calc() (lines "
        "363-384) moves to the next listed day of the month with relativedelta(days=...) "
        "without checking the month's length, so a listed day the month lacks (30 in "
        "February) runs into the next month and skips its first matching days; cronie "
        "(entry.c bitsets, cron.c day by day) does not",
    "pytz_no_transitions_after_2037":
        "croniter takes the offsets from the tzinfo it is given (_timestamp_to_datetime, "
        "lines 204-212); pytz reads only the transition table of the zone file, which ends "
        "in 2037, so after 2037 it has no daylight saving time; cronie (glibc) follows the "
        "zone file's rule for later years",
    "croniter_lag_correction":
        "croniter _get_next() (croniter.py lines 254-276): when the result's UTC offset "
        "differs from that of dst_start_time and the result lies at least 24-hour(start) hours "
        "after it, croniter shifts the result by the offset difference and restarts "
        "dst_start_time there; cronie has no such correction",
    "croniter_fixed_offset":
        "croniter _calc() (lines 312-320, 390-470): the search starts from "
        "_timestamp_to_datetime(now+1|60), a pytz datetime with the start's fixed UTC offset, "
        "and walks it with relativedelta, so a wall time across a transition is read in the "
        "start's offset; cronie reads each wall time in the zone's offset at that time",
    "day_field_star":
        "croniter _get_next() (lines 240-252) applies the day OR rule when neither "
        "expanded day field is ['*'] (_expand, lines 689-693: a field listing every value "
        "becomes '*', '*/2' does not); cronie entry.c sets DOM_STAR/DOW_STAR when the "
        "field starts with '*' ('*/2' is '*', '1-31' and 'SUN-SAT' are not)",
    "max_years_between_matches":
        "croniter __init__ (lines 143-147) searches 50 years for a match "
        "(max_years_between_matches=50); gluemetad gives up after 8 years (include/cron.h)",
    "dst_gap":
        "croniter reads a skipped wall time in the offset before the gap (pytz fixed "
        "offset: 02:30 becomes 03:30 after a 1-hour gap); cronie runs it once at the end "
        "of the gap (03:00)",
    "dst_overlap":
        "croniter walks the wall clock forward from the start and reads a repeated wall "
        "time in the start's offset: it fires a fixed-time job in the second pass when "
        "asked from inside the repeat, and a wildcard job skips the repeated times it has "
        "walked past; cronie fires a fixed-time job once (first pass) and a wildcard job "
        "in both passes",
}


def explain(spec, zone, p, dst_start, c_val, o_val):
    """The rules that turn croniter's answer c_val into ours o_val for the
    step from p, or (None, why) when they do not."""
    ao, _ = croniter_model(spec, zone, p, dst_start, pytz_offsets=True, overflow=True)
    if ao != c_val:
        return None, "croniter replay gives %s" % iso(zone, ao)
    ab, _ = croniter_model(spec, zone, p, dst_start, pytz_offsets=True, overflow=True,
                           strict_or=False)
    a, _ = croniter_model(spec, zone, p, dst_start, pytz_offsets=True)
    a0, _ = croniter_model(spec, zone, p, dst_start)
    a1, _ = croniter_model(spec, zone, p, dst_start, lag=False)
    a2, _ = croniter_model(spec, zone, p, dst_start, lag=False, fixed=False)
    a3, w3 = croniter_model(spec, zone, p, dst_start, lag=False, fixed=False, cronie_days=True)
    a4, w4 = croniter_model(spec, zone, p, dst_start, lag=False, fixed=False, cronie_days=True,
                            years8=True)
    d, wd = cronie_model(spec, zone, p)
    if d != o_val:
        return None, "cronie semantics give %s" % iso(zone, d)
    rules = []
    if ao != ab:
        rules.append("croniter_or_needs_both_branches")
    if ab != a:
        rules.append("croniter_day_of_month_overflow")
    if a != a0:
        rules.append("pytz_no_transitions_after_2037")
    if a0 != a1:
        rules.append("croniter_lag_correction")
    if a1 != a2:
        rules.append("croniter_fixed_offset")
    if a2 != a3:
        rules.append("day_field_star")
    if a3 != a4:
        rules.append("max_years_between_matches")
    if a4 != d:
        kinds = set()
        for w in (w4, wd):
            if w is not None:
                kinds.add(wall_kind(zone, w)[0])
        if a4 is not None:
            kinds.add(wall_kind(zone, wall(zone, a4))[0])
        if "gap" in kinds or (a4 is not None and w4 is not None and wall(zone, a4) != w4):
            rules.append("dst_gap")
        elif "overlap" in kinds or wall_kind(zone, wall(zone, p))[0] == "overlap":
            rules.append("dst_overlap")
        else:
            return None, "croniter without its DST mechanisms gives %s, cronie %s" % (
                iso(zone, a4), iso(zone, d))
    return rules, None


# ---------------------------------------------------------------- output

def iso(zone, t):
    if t is None:
        return "none"
    return dt.datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat()


def parse_ours(line):
    if line.startswith("error:"):
        return []
    return [int(dt.datetime.fromisoformat(x).timestamp()) for x in line.split()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default="build/gluemetad")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20260329)
    ap.add_argument("--wrapper", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=0, help="print N examples per rule")
    args = ap.parse_args()
    t0 = time.time()

    exprs, seqs = plan(args.seed, args.count)
    jobs = [(exprs[i], z, s) for i, z, _, s in seqs]
    chunks = [jobs[i:i + 400] for i in range(0, len(jobs), 400)]
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            cres = [x for c in pool.map(croniter_chunk, chunks) for x in c]
    else:
        cres = [x for c in chunks for x in croniter_chunk(c)]
    t1 = time.time()

    # one gluemetad process: per sequence the 5 times after the start, then
    # the next time after each of croniter's times but its last
    lines, index = [], []
    for (i, z, _, s), (status, cr) in zip(seqs, cres):
        index.append(len(lines))
        lines.append("%s\t@%d\t%d\t%s\n" % (z, s, FIRES, exprs[i]))
        for v, _ in cr[:-1]:
            if v is not None:
                lines.append("%s\t@%d\t1\t%s\n" % (z, v, exprs[i]))
    cmd = shlex.split(args.wrapper) + [args.binary, "calendar", "--batch"]
    proc = subprocess.run(cmd, input="".join(lines), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        print("FAIL: %s exited %d" % (" ".join(cmd), proc.returncode))
        return 1
    out = proc.stdout.split("\n")
    if len(out) < len(lines):
        print("FAIL: %d answers to %d questions" % (len(out) - 1, len(lines)))
        return 1
    t2 = time.time()

    n = collections.Counter()
    rule_count = collections.Counter()
    combo_count = collections.Counter()
    examples = collections.defaultdict(list)
    kind_cov = collections.Counter()
    zone_cov = collections.Counter()
    bugs = 0
    specs = {}
    for k, ((i, z, kind, s), (status, cr)) in enumerate(zip(seqs, cres)):
        expr = exprs[i]
        n["sequences"] += 1
        kind_cov[kind] += 1
        zone_cov[z] += 1
        first = out[index[k]]
        ours5 = parse_ours(first)
        if status == "reject":
            if first.startswith("error:"):
                n["rejected by both"] += 1
                continue
            print("BUG: croniter rejects %r, gluemetad answers %s" % (expr, first))
            bugs += 1
            continue
        if first.startswith("error:") and "does not fire" not in first:
            print("BUG: gluemetad rejects %r (%s), croniter accepts it" % (expr, first))
            bugs += 1
            continue
        cvals = [v for v, _ in cr if v is not None]
        if ours5 == cvals:
            n["sequences agreeing"] += 1
        step_ours = [ours5[0] if ours5 else None]
        j = index[k] + 1
        for v, _ in cr[:-1]:
            r = parse_ours(out[j])
            step_ours.append(r[0] if r else None)
            j += 1
        prev = s
        for step, ((cv, state), ov) in enumerate(zip(cr, step_ours)):
            n["fire times"] += 1
            if cv == ov:
                n["agreements"] += 1
            else:
                if expr not in specs:
                    specs[expr] = Spec(expr)
                rules, why = explain(specs[expr], z, prev, state, cv, ov)
                if rules is None:
                    bugs += 1
                    print("BUG: %r in %s from %s (step %d, from %s): croniter %s, gluemetad %s; %s"
                          % (expr, z, iso(z, s), step + 1, iso(z, prev), iso(z, cv),
                             iso(z, ov), why))
                    print("     croniter:  %s" % " ".join(iso(z, v) for v in cvals))
                    print("     gluemetad: %s" % " ".join(iso(z, v) for v in ours5))
                else:
                    n["excluded"] += 1
                    for rr in rules:
                        rule_count[rr] += 1
                        if len(examples[rr]) < max(1, args.show):
                            examples[rr].append((expr, z, prev, cv, ov))
                    combo_count["+".join(rules)] += 1
            if cv is None:
                break
            prev = cv
    t3 = time.time()

    print("expressions compared:      %d (%d sequences rejected by both)"
          % (len(exprs), n["rejected by both"]))
    print("start instants compared:   %d" % len(seqs))
    print("sequences compared:        %d (expression x zone x instant), %d agree in full"
          % (n["sequences"], n["sequences agreeing"]))
    print("  per zone: %s" % ", ".join("%s %d" % (z, zone_cov[z]) for z in ZONES))
    print("  per instant kind: %s" % ", ".join("%s %d" % (x, kind_cov[x]) for x in KINDS))
    print("fire times compared:       %d" % n["fire times"])
    print("agreements:                %d" % n["agreements"])
    print("excluded (known differences): %d" % n["excluded"])
    for rr in RULES:
        print("  %-26s %d" % (rr, rule_count[rr]))
        for expr, z, p, cv, ov in examples[rr]:
            print("      e.g. %r in %s after %s: croniter %s, gluemetad %s"
                  % (expr, z, iso(z, p), iso(z, cv), iso(z, ov)))
    if len(combo_count) > 1:
        print("  by combination: %s" % ", ".join("%s %d" % kv for kv in combo_count.most_common()))
    print("unexplained disagreements: %d" % bugs)
    print("time: croniter %.1fs, gluemetad %.1fs (%d questions), comparison %.1fs, total %.1fs"
          % (t1 - t0, t2 - t1, len(lines), t3 - t2, t3 - t0))
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
