"""The negotiation brief built from a finished run folder."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import audit  # noqa: E402
from audit.brief import NOT_A_RUN, choose_charts, write_brief  # noqa: E402
from audit.report import write_report  # noqa: E402


def test_choose_charts_puts_violations_first_and_keeps_six():
    summary = {"checks": {"art12.minimum_wage": {"status": "ok"}, "art14.daily_hours": {"status": "risk"},
                          "art14.continuous_work": {"status": "violation"},
                          "art12.payment_timeliness": {"status": "violation"}}}
    names = ["hourly_earnings", "weeks_below_minimum", "daily_hours", "work_blocks", "payment_delays",
             "premiums", "group_gaps", "unknown_chart"]
    got = choose_charts(summary, names)
    assert got[:3] == ["work_blocks", "payment_delays", "daily_hours"]
    assert len(got) == 6 and "unknown_chart" not in got


def test_not_a_run_folder(tmp_path):
    with pytest.raises(audit.AuditError, match=re.escape("summary.json is missing")):
        write_brief(tmp_path, tmp_path / "brief")
    assert "{file} is missing" in NOT_A_RUN


def test_brief_from_a_run(tmp_path):
    r = audit.run_audit("data_samples/shijiazhuang", checks="art12.minimum_wage,art12.payment_timeliness")
    run = tmp_path / "run"
    r.write(run)
    write_report(r, run, lang="en")
    paths = write_brief(run, tmp_path / "brief", lang="en")
    pngs = sorted(p.name for p in paths["charts"].glob("*.png"))
    assert pngs == ["01_hourly_earnings.png", "02_weeks_below_minimum.png", "03_payment_delays.png"]
    md = paths["md"].read_text(encoding="utf-8")
    s = r.summary["checks"]["art12.minimum_wage"]
    assert f"CNY {s['shortfall_cny']:,.2f}" in md
    assert f"{s['below_minimum']:,} worker-weeks" in md
    late = r.check("art12.payment_timeliness")
    assert f"CNY {late.loc[late['status'] == 'violation', 'net'].sum():,.2f}" in md
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "<script" not in page
