"""The time-base table and the worker profile, on logs worked out by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit
from audit.checks._common import NO_SESSIONS_NOTE
from audit.checks.art14_daily_hours import check_daily_hours
from audit.checks.art14_weekly_rest import check_weekly_rest
from audit.time_base import TIME_BASE_COLUMNS, time_base_table
from audit.worker_profile import (DAY_COLUMNS, ERR_UNKNOWN_WORKER, WEEK_COLUMNS, UnknownWorkerError,
                                  worker_profile)

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "shijiazhuang"

ORDERS = pd.DataFrame([
    # A, week of Mon 2025-09-15: 2 engaged hours in a 4 h session
    ("a1", "A", "2025-09-15 08:00:00", "2025-09-15 09:00:00", 20.0, 5.0, 3.0, 1.0),
    ("a2", "A", "2025-09-15 10:00:00", "2025-09-15 11:00:00", 30.0, 0.0, 0.0, 0.0),
    # A, week of 2025-09-22: an order outside any session
    ("a3", "A", "2025-09-22 10:00:00", "2025-09-22 10:30:00", 8.0, 0.0, 0.0, 0.0),
    # B: 5 h of orders in one block on Tuesday
    ("b1", "B", "2025-09-16 07:00:00", "2025-09-16 12:00:00", 150.0, 0.0, 0.0, 0.0),
], columns=["order_id", "worker_id", "accepted_at", "delivered_at", "pay", "bonus", "tip", "penalty"])
ORDERS["region"] = "shijiazhuang"
SESSIONS = pd.DataFrame([
    ("A", "2025-09-15 08:00:00", "2025-09-15 12:00:00"),
    ("B", "2025-09-16 06:00:00", "2025-09-16 19:00:00"),   # 13 h
], columns=["worker_id", "login_at", "logout_at"])


@pytest.fixture(scope="module")
def logs():
    return audit.load_logs(orders=ORDERS, sessions=SESSIONS)


def test_time_base_table_by_hand(logs):
    t = time_base_table(logs)
    assert list(t.columns) == TIME_BASE_COLUMNS
    assert t[["worker_id", "week_start"]].astype(str).values.tolist() == [
        ["A", "2025-09-15"], ["A", "2025-09-22"], ["B", "2025-09-15"]]
    a = t.iloc[0]
    assert (a["online_h"], a["engaged_h"], a["waiting_share"]) == (4.0, 2.0, 0.5)
    # tips excluded, penalty subtracted: 20 + 5 − 1 + 30
    assert (a["orders"], a["earnings"]) == (2, 54.0)
    assert (a["earnings_per_online_h"], a["earnings_per_engaged_h"]) == (13.5, 27.0)
    assert a["week_end"] == pd.Timestamp("2025-09-21")
    a2 = t.iloc[1]
    assert a2["online_h"] == 0 and np.isnan(a2["waiting_share"]) and np.isnan(a2["earnings_per_online_h"])
    assert a2["earnings_per_engaged_h"] == 16.0
    b = t.iloc[2]
    assert b["waiting_share"] == pytest.approx(1 - 5 / 13)


def test_time_base_without_sessions_has_no_online_hours():
    t = time_base_table(audit.load_logs(orders=ORDERS))
    assert t["online_h"].isna().all() and t["waiting_share"].isna().all()
    assert t["engaged_h"].tolist() == [2.0, 0.5, 5.0]


def test_worker_profile_by_hand(logs):
    p = worker_profile(logs, "B")
    assert list(p.days.columns) == DAY_COLUMNS and list(p.weeks.columns) == WEEK_COLUMNS
    d = p.days.iloc[0]
    assert len(p.days) == 1 and d["date"] == pd.Timestamp("2025-09-16")
    assert (d["online_h"], d["engaged_h"], d["longest_block_h"], d["orders"], d["earnings"]) == \
        (13.0, 5.0, 5.0, 1, 150.0)
    assert (d["daily_hours_status"], d["continuous_work_status"]) == ("violation", "violation")
    w = p.weeks.iloc[0]
    assert (w["days_worked"], w["weekly_rest_status"], w["weekly_hours_status"]) == (1, "ok", "ok")
    # 150 CNY over 13 online hours = 11.5/h < 22; over 5 engaged hours = 30/h ≥ 22
    assert (w["hourly_minimum"], w["minimum_wage_status"], w["minimum_wage_engaged_status"]) == \
        (22.0, "violation", "ok")
    html = p._repr_html_()
    assert "Worker B" in html and html.count("<table") == 2
    a = worker_profile(logs, "A")
    # the week with an order but no session: online 0, no online-time statuses
    w2 = a.weeks.iloc[1]
    assert w2["online_h"] == 0 and pd.isna(w2["weekly_rest_status"]) and w2["days_worked"] == 0


def test_unknown_worker_is_a_clear_error(logs):
    with pytest.raises(UnknownWorkerError) as err:
        worker_profile(logs, "AA")
    assert str(err.value) == ERR_UNKNOWN_WORKER.format(worker_id="AA", close="A")


def test_profile_without_sessions_says_so():
    p = worker_profile(audit.load_logs(orders=ORDERS), "B")
    assert p.note == NO_SESSIONS_NOTE and p.days["online_h"].isna().all()
    assert p.days["daily_hours_status"].tolist() == ["ok"]  # 5 engaged hours


def test_profile_verdicts_are_the_full_runs():
    logs = audit.load_logs(SAMPLE)
    for wid in ("W015", "W027"):
        p = worker_profile(logs, wid)
        full = check_daily_hours(logs)
        full = full[full["subject"] == wid]
        got = p.days.dropna(subset=["daily_hours_status"])
        assert got["date"].dt.strftime("%Y-%m-%d").tolist() == full["period_start"].tolist()
        assert got["daily_hours_status"].tolist() == full["status"].tolist()
        rest = check_weekly_rest(logs)
        rest = rest[rest["subject"] == wid]
        assert p.weeks["weekly_rest_status"].tolist() == rest["status"].tolist()
        tb = time_base_table(logs)
        tb = tb[tb["worker_id"] == wid].reset_index(drop=True)
        assert np.allclose(p.weeks["online_h"], tb["online_h"])
    assert "violation" in worker_profile(logs, "W015").days["daily_hours_status"].tolist()


def test_profile_of_a_worker_without_orders_or_sessions():
    w = pd.DataFrame({"worker_id": ["A", "B", "Z"], "employment_form": ["independent"] * 3})
    p = worker_profile(audit.load_logs(orders=ORDERS, sessions=SESSIONS, workers=w), "Z")
    assert p.days.empty and p.weeks.empty and list(p.weeks.columns) == WEEK_COLUMNS
