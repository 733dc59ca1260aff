"""art14 daily_hours, continuous_work, weekly_rest and weekly_hours: boundaries worked
out by hand, the no-sessions fallback, and a slow minute-occupancy reference."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks._common import NO_SESSIONS_NOTE
from audit.checks.art14_continuous_work import check_continuous_work
from audit.checks.art14_continuous_work import summarize as sum_blocks
from audit.checks.art14_daily_hours import check_daily_hours
from audit.checks.art14_daily_hours import summarize as sum_daily
from audit.checks.art14_weekly_hours import check_weekly_hours
from audit.checks.art14_weekly_hours import summarize as sum_hours
from audit.checks.art14_weekly_rest import check_weekly_rest
from audit.checks.art14_weekly_rest import summarize as sum_rest

# Week of Monday 2025-09-15 .. Sunday 2025-09-21 (ISO 2025-W38).
SESSIONS = [
    ("D12", "2025-09-15 06:00:00", "2025-09-15 18:00:00"),    # exactly 12 h → risk
    ("D12s", "2025-09-15 06:00:00", "2025-09-15 18:00:01"),   # 12 h + 1 s → violation
    ("D10", "2025-09-15 08:00:00", "2025-09-15 18:00:00"),    # exactly 10 h → ok
    ("D10s", "2025-09-15 08:00:00", "2025-09-15 18:00:01"),   # 10 h + 1 s → risk
    ("OV", "2025-09-16 08:00:00", "2025-09-16 14:00:00"),     # 08–14 ∪ 12–20 = 12 h, not 14
    ("OV", "2025-09-16 12:00:00", "2025-09-16 20:00:00"),
    ("MID", "2025-09-16 20:00:00", "2025-09-17 08:00:00"),    # 4 h on 09-16, 8 h on 09-17
    # one hour Mon..Sat and a single minute on Sunday → 7 days → violation
    *[("R7", f"2025-09-{d} 10:00:00", f"2025-09-{d} 11:00:00") for d in range(15, 21)],
    ("R7", "2025-09-21 23:59:00", "2025-09-22 00:00:00"),
    # Mon..Fri, then Sat 23:00 → Sun 00:30 across midnight → Sat and Sun both worked → 7 days
    *[("RX", f"2025-09-{d} 10:00:00", f"2025-09-{d} 11:00:00") for d in range(15, 20)],
    ("RX", "2025-09-20 23:00:00", "2025-09-21 00:30:00"),
    # same but the session ends exactly at Sunday 00:00 → Sunday not touched → 6 days
    *[("R6", f"2025-09-{d} 10:00:00", f"2025-09-{d} 11:00:00") for d in range(15, 20)],
    ("R6", "2025-09-20 23:00:00", "2025-09-21 00:00:00"),
    # 5 × 12 h = exactly 60 h → ok; the same + 1 s → risk
    *[("H60", f"2025-09-{d} 06:00:00", f"2025-09-{d} 18:00:00") for d in range(15, 20)],
    *[("H60s", f"2025-09-{d} 06:00:00", f"2025-09-{d} 18:00:00") for d in range(15, 19)],
    ("H60s", "2025-09-19 06:00:00", "2025-09-19 18:00:01"),
]

ORDERS = [
    # G19: gap of 19 min → one block 08:00–12:01 = 4 h 1 min → violation
    ("g19a", "G19", "2025-09-15 08:00:00", "2025-09-15 10:00:00"),
    ("g19b", "G19", "2025-09-15 10:19:00", "2025-09-15 12:01:00"),
    # G20: gap of exactly 20 min breaks the block → 2 h and 2 h 10 min → ok
    ("g20a", "G20", "2025-09-15 08:00:00", "2025-09-15 10:00:00"),
    ("g20b", "G20", "2025-09-15 10:20:00", "2025-09-15 12:30:00"),
    # NEST: the gap is measured from the latest end (11:00), not from the nested order's 09:00
    ("n1", "NEST", "2025-09-15 08:00:00", "2025-09-15 11:00:00"),
    ("n2", "NEST", "2025-09-15 08:30:00", "2025-09-15 09:00:00"),
    ("n3", "NEST", "2025-09-15 11:15:00", "2025-09-15 12:10:00"),
    # MB: block Sun 22:00 → Mon 02:30 (gap 15 min at midnight) = 4.5 h, all on Sunday
    ("m1", "MB", "2025-09-21 22:00:00", "2025-09-21 23:50:00"),
    ("m2", "MB", "2025-09-22 00:05:00", "2025-09-22 02:30:00"),
    # EX: exactly 4 h → ok
    ("x1", "EX", "2025-09-15 08:00:00", "2025-09-15 12:00:00"),
    ("c1", "EX", "2025-09-15 13:00:00", "2025-09-15 13:30:00"),
]


def _orders(rows=ORDERS):
    o = pd.DataFrame(rows, columns=["order_id", "worker_id", "accepted_at", "delivered_at"])
    o["region"] = "shijiazhuang"
    o["pay"] = 10.0
    return o


def _sessions(rows=SESSIONS):
    return pd.DataFrame(rows, columns=["worker_id", "login_at", "logout_at"])


@pytest.fixture(scope="module")
def logs():
    return audit.load_logs(orders=_orders(), sessions=_sessions())


def _row(f, worker, start):
    r = f[(f["subject"] == worker) & (f["period_start"] == start)]
    assert len(r) == 1, (worker, start, r)
    return r.iloc[0]


def test_daily_hours_boundaries(logs):
    f = check_daily_hours(logs)
    expect = {"D12": (12.0, "risk"), "D12s": (12 + 1 / 3600, "violation"), "D10": (10.0, "ok"),
              "D10s": (10 + 1 / 3600, "risk")}
    for w, (h, st) in expect.items():
        r = _row(f, w, "2025-09-15")
        assert r["hours"] == pytest.approx(h, abs=1e-12) and r["status"] == st, w
    ov = _row(f, "OV", "2025-09-16")
    assert ov["hours"] == pytest.approx(12.0) and ov["status"] == "risk"
    assert ov["n"] == 2  # two session rows are the evidence
    assert _row(f, "MID", "2025-09-16")["hours"] == pytest.approx(4.0)
    assert _row(f, "MID", "2025-09-17")["hours"] == pytest.approx(8.0)
    # R7's Sunday minute is a day of its own
    assert _row(f, "R7", "2025-09-21")["hours"] == pytest.approx(1 / 60)
    assert (f["metric"] == "online_hours").all() and not f["detail"].str.contains("no sessions").any()
    # workers with orders only (G19 …) have no session, hence no online day
    assert not f["subject"].isin(["G19", "G20", "MB"]).any()
    s = sum_daily(f)
    assert s["worker_days"] == len(f)
    # violations: D12s 09-15 and H60s 09-19; risks: D12, D10s, OV, and H60 × 5, H60s × 4
    assert (s["violations"], s["risks"], s["status"]) == (2, 12, "violation")


def test_continuous_work_gaps_nesting_and_midnight(logs):
    f = check_continuous_work(logs)
    g19 = _row(f, "G19", "2025-09-15")
    assert g19["hours"] == pytest.approx(4 + 1 / 60) and g19["status"] == "violation"
    assert g19["block_orders"] == 2 and g19["blocks"] == 1
    g20 = _row(f, "G20", "2025-09-15")
    assert g20["hours"] == pytest.approx(2 + 10 / 60) and g20["status"] == "ok" and g20["blocks"] == 2
    nest = _row(f, "NEST", "2025-09-15")
    assert nest["hours"] == pytest.approx(4 + 10 / 60) and nest["status"] == "violation"
    assert nest["n"] == 3
    mb = _row(f, "MB", "2025-09-21")
    assert mb["hours"] == pytest.approx(4.5) and mb["status"] == "violation"
    assert mb["block_end"] == pd.Timestamp("2025-09-22 02:30:00")
    assert not ((f["subject"] == "MB") & (f["period_start"] == "2025-09-22")).any()
    ex = _row(f, "EX", "2025-09-15")
    assert ex["hours"] == pytest.approx(4.0) and ex["status"] == "ok"
    assert ex["n"] == 2 and ex["blocks"] == 2 and ex["block_orders"] == 1
    assert sum_blocks(f) == {"status": "violation", "n": 5, "worker_days": 5, "violations": 3,
                             "risks": 0}


def test_continuous_work_gap_threshold_is_configurable(logs):
    f = check_continuous_work(logs, thresholds={"block_gap_minutes": 19})
    # a gap of exactly 19 min now breaks G19's block
    assert _row(f, "G19", "2025-09-15")["status"] == "ok"


def test_weekly_rest_and_hours(logs):
    rest = check_weekly_rest(logs)
    for w, days, st in [("R7", 7, "violation"), ("RX", 7, "violation"), ("R6", 6, "ok"),
                        ("H60", 5, "ok")]:
        r = _row(rest, w, "2025-09-15")
        assert (r["value"], r["status"], r["period_end"]) == (days, st, "2025-09-21"), w
    # R7's Sunday minute ends at Monday 00:00: the next week is not touched
    assert not ((rest["subject"] == "R7") & (rest["period_start"] == "2025-09-22")).any()
    assert sum_rest(rest)["violations"] == 2
    hours = check_weekly_hours(logs)
    h60 = _row(hours, "H60", "2025-09-15")
    assert h60["hours"] == pytest.approx(60.0) and h60["status"] == "ok"
    h60s = _row(hours, "H60s", "2025-09-15")
    assert h60s["hours"] == pytest.approx(60 + 1 / 3600) and h60s["status"] == "risk"
    s = sum_hours(hours)
    assert (s["worker_weeks"], s["violations"], s["risks"], s["status"]) == (len(hours), 0, 1, "risk")


def test_without_sessions_engaged_time_and_note():
    logs = audit.load_logs(orders=_orders())
    f = check_daily_hours(logs)
    # G19: 2 h + 1 h 42 min engaged
    g19 = _row(f, "G19", "2025-09-15")
    assert g19["hours"] == pytest.approx(3.7) and g19["metric"] == "engaged_hours"
    # MB: 1 h 50 on Sunday, 2 h 25 on Monday (split at midnight for hours)
    assert _row(f, "MB", "2025-09-21")["hours"] == pytest.approx(110 / 60)
    assert _row(f, "MB", "2025-09-22")["hours"] == pytest.approx(145 / 60)
    for check in (check_daily_hours, check_weekly_rest, check_weekly_hours):
        got = check(logs)
        assert len(got) and got["detail"].str.endswith(NO_SESSIONS_NOTE).all(), check
        assert (got["time_base"] == "engaged").all()
    rest = check_weekly_rest(logs)
    assert _row(rest, "MB", "2025-09-15")["value"] == 1
    # continuous work is engaged time by definition: same result, no note
    blocks = check_continuous_work(logs)
    assert not blocks["detail"].str.contains("no sessions").any()
    assert _row(blocks, "MB", "2025-09-21")["hours"] == pytest.approx(4.5)


def test_run_writes_summary_figures(tmp_path):
    res = audit.run_audit(orders=_orders(), sessions=_sessions(), checks="art14", out=tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["checks"]
    assert s["art14.weekly_rest"]["violations"] == 2
    assert s["art14.weekly_hours"]["risks"] == 1
    assert s["art14.continuous_work"]["worker_days"] == 5
    assert s["art14.daily_hours"]["worker_days"] == int((res.findings["check"] == "art14.daily_hours").sum())


# --------------------------------------------------------------------------- reference
def _random_logs(seed: int):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2025-09-15")  # a Monday
    sess, orders = [], []
    for w in range(25):
        for d in range(21):
            if rng.random() < 0.25:
                continue
            for _ in range(int(rng.integers(1, 4))):  # overlapping sessions happen
                a = d * 1440 + int(rng.integers(0, 1440))
                b = a + int(rng.choice([1, 30, 240, 480, 600, 720, 721, 780]))
                b = b if rng.random() < 0.8 else a + int(rng.integers(1, 900))
                sess.append((f"w{w:02d}", a, b))
            start = d * 1440 + int(rng.integers(0, 1440))
            for k in range(int(rng.integers(0, 14))):
                dur = int(rng.integers(1, 60))
                orders.append((f"o{w}-{d}-{k}", f"w{w:02d}", start, start + dur))
                start += dur + int(rng.choice([0, 5, 19, 20, 21, 45]))
    mins = lambda m: t0 + pd.to_timedelta(m, unit="min")  # noqa: E731
    s = pd.DataFrame(sess, columns=["worker_id", "a", "b"])
    o = pd.DataFrame(orders, columns=["order_id", "worker_id", "a", "b"])
    sessions = pd.DataFrame({"worker_id": s["worker_id"], "login_at": mins(s["a"]), "logout_at": mins(s["b"])})
    o_df = pd.DataFrame({"order_id": o["order_id"], "worker_id": o["worker_id"], "region": "shijiazhuang",
                         "accepted_at": mins(o["a"]), "delivered_at": mins(o["b"]), "pay": 5.0})
    return s, o, sessions, o_df


def _reference(s, o):
    """Minute occupancy and a plain loop over each worker's sorted orders."""
    occ = {(w, m) for w, a, b in s.itertuples(index=False) for m in range(a, b)}
    occ = pd.DataFrame(sorted(occ), columns=["w", "m"])
    occ["day"] = occ["m"] // 1440
    occ["week"] = occ["m"] // (7 * 1440)
    daily = occ.groupby(["w", "day"]).size() / 60
    ref_daily = pd.Series(np.where(daily > 12, "violation", np.where(daily > 10, "risk", "ok")),
                          index=daily.index)
    weekly = occ.groupby(["w", "week"]).size() / 60
    ref_hours = pd.Series(np.where(weekly > 60, "risk", "ok"), index=weekly.index)
    ndays = occ.groupby(["w", "week"])["day"].nunique()
    ref_rest = pd.Series(np.where(ndays == 7, "violation", "ok"), index=ndays.index)
    longest = {}
    for w, grp in o.sort_values(["worker_id", "a"]).groupby("worker_id"):
        bs = be = None
        for a, b in zip(grp["a"], grp["b"]):
            if bs is not None and a - be < 20:
                be = max(be, b)
                continue
            if bs is not None:
                longest[(w, bs // 1440)] = max(longest.get((w, bs // 1440), 0), be - bs)
            bs, be = a, b
        longest[(w, bs // 1440)] = max(longest.get((w, bs // 1440), 0), be - bs)
    blocks = pd.Series(longest)
    ref_blocks = pd.Series(np.where(blocks > 240, "violation", "ok"), index=blocks.index)
    return ref_daily, ref_blocks, ref_rest, ref_hours


def _got(f, unit_days):
    t0 = pd.Timestamp("2025-09-15")
    k = ((pd.to_datetime(f["period_start"]) - t0) / pd.Timedelta(days=unit_days)).astype(int)
    return dict(zip(zip(f["subject"], k), f["status"]))


@pytest.mark.parametrize("seed", [1, 2])
def test_independent_reference_on_random_logs(seed):
    s, o, sessions, o_df = _random_logs(seed)
    logs = audit.load_logs(orders=o_df, sessions=sessions)
    ref_daily, ref_blocks, ref_rest, ref_hours = _reference(s, o)
    assert _got(check_daily_hours(logs), 1) == ref_daily.to_dict()
    assert _got(check_continuous_work(logs), 1) == ref_blocks.to_dict()
    assert _got(check_weekly_rest(logs), 7) == ref_rest.to_dict()
    assert _got(check_weekly_hours(logs), 7) == ref_hours.to_dict()
    # the random logs do reach every verdict
    assert {"violation", "risk", "ok"} <= set(ref_daily)
    assert {"violation", "ok"} <= set(ref_blocks) and {"violation", "ok"} <= set(ref_rest)
    assert {"risk", "ok"} <= set(ref_hours)
