"""The Markdown and HTML report: articles, plain sentences, n, CIs, audit trail, money, offline HTML."""
from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import audit  # noqa: E402
from audit.report import money_figures, render_html, render_markdown, sentence, write_report  # noqa: E402

CHECKS = "art12.minimum_wage,art12.payment_timeliness,art14.daily_hours"


@pytest.fixture(scope="module")
def result():
    return audit.run_audit("data_samples/shijiazhuang", checks=CHECKS)


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result.write(out)
    write_report(result, out, lang="zh", generated="2026-01-01T00:00:00+08:00")
    return out


def test_sentence_uses_the_summary_figures():
    s = {"status": "violation", "n": 10, "worker_periods": 10, "below_minimum": 3, "share_below": 0.3,
         "shortfall_cny": 123.4}
    assert sentence("art12.minimum_wage", s, "en") == (
        "Of 10 worker-weeks assessed, 3 (30.0%) earned less per online hour than the local hourly minimum; "
        "bringing them up to the minimum takes CNY 123.40.")
    assert "3 个" in sentence("art12.minimum_wage", s, "zh") and "123.40 元" in sentence("art12.minimum_wage", s, "zh")
    assert sentence("art13.holiday_premium", {"status": "not_run", "n": 0, "reason": "x"}, "en") == "Not run: x."


def test_markdown_has_articles_n_thresholds_and_trail(result):
    md = render_markdown(result, lang="en", generated="T0")
    assert "## Article 12" in md and "## Article 14" in md
    assert "对按照签订的书面协议提供正常劳动的劳动者支付报酬不得低于当地最低工资标准" in md  # quoted Chinese
    s = result.summary["checks"]["art12.minimum_wage"]
    assert f"- n: {s['n']:,} worker-weeks" in md
    assert "daily_hours_risk = 10" in md and "daily_hours_violation = 12" in md
    for i in result.summary["inputs"]:
        assert i["sha256"] in md
    assert f"gigaudit {audit.__version__}" in md and result.summary["rules_version"] in md
    assert "Report generated: T0" in md
    # unselected checks are in the summary as not run? only selected ones are listed
    assert "art13.holiday_premium" not in md
    zh = render_markdown(result, lang="zh", generated="T0")
    assert "## 第十二条" in zh and "样本量 n" in zh


def test_report_shows_no_worker_id(result):
    ids = set(result.logs.workers["worker_id"])
    text = render_markdown(result, lang="zh") + render_html(result, lang="en", embed_fonts=False)
    assert not set(re.findall(r"\bW\d{3}\b", text)) & ids


def test_html_is_self_contained(written):
    page = (written / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["']?(https?:|//|charts/)""", page)
    assert page.count("data:image/png;base64,") == 4  # hourly, weekly share, payments, daily hours
    assert "@font-face" in page and "data:font/woff;base64," in page


def test_written_files_and_chart_links(written):
    md = (written / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert sorted(links) == ["charts/daily_hours.png", "charts/hourly_earnings.png",
                             "charts/payment_delays.png", "charts/weeks_below_minimum.png"]
    for link in links:
        assert (written / link).is_file() and (written / link).with_suffix(".svg").is_file()


def test_money_figures_match_the_evidence(result, written):
    f = result.check("art12.payment_timeliness")
    late = f[f["status"] == "violation"]
    m = money_figures(result)
    assert m["late_pay"]["payouts"] == len(late)
    assert m["late_pay"]["cny"] == pytest.approx(late["net"].sum(), abs=0.005)
    mw = result.check("art12.minimum_wage")
    assert m["minimum_wage_shortfall"]["cny"] == pytest.approx(mw["shortfall_cny"].sum(), abs=0.005)
    assert m["minimum_wage_shortfall"]["workers"] == mw.loc[mw["status"] == "violation", "subject"].nunique()
    assert m["pay_rule_loss"] is None  # check not selected
    saved = json.loads((written / "report_figures.json").read_text(encoding="utf-8"))
    assert saved["money"]["late_pay"]["payouts"] == len(late)


def test_findings_and_summary_unchanged_by_the_report(result, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    result.write(a)
    write_report(result, a, lang="en", charts=False)
    result.write(b)
    for name in ("findings.csv", "summary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_unknown_language_is_refused(result):
    with pytest.raises(audit.AuditError):
        render_markdown(result, lang="fr")
