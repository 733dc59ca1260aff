"""Charts: CJK text without missing glyphs, graceful notices, values drawn as computed by hand."""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from audit import fonts, plotting  # noqa: E402
from audit.rules import thresholds  # noqa: E402


def _mw_frame():
    # week 1: 1 of 4 below; week 2: 2 of 2 below; one insufficient row
    rows = [("A", "2025-09-15", 30.0, "ok"), ("B", "2025-09-15", 25.0, "ok"),
            ("C", "2025-09-15", 12.0, "violation"), ("D", "2025-09-15", 40.0, "ok"),
            ("A", "2025-09-22", 10.0, "violation"), ("B", "2025-09-22", 15.0, "violation"),
            ("C", "2025-09-22", 50.0, "insufficient_data")]
    f = pd.DataFrame(rows, columns=["subject", "period_start", "value", "status"])
    f["period_end"] = (pd.to_datetime(f["period_start"]) + pd.Timedelta(days=6)).dt.strftime("%Y-%m-%d")
    f["check"], f["level"], f["threshold"], f["n"], f["unit"] = "art12.minimum_wage", "worker-week", 22.0, 5, "CNY/h"
    f["metric"] = "earnings_per_online_hour"
    return f


def _groups_frame():
    # two groups large enough, one with 4 workers (must not be shown)
    return pd.DataFrame({
        "check": "art10.group_disparity", "level": "group", "subject": ["gender=F", "age=<30", "age=45+"],
        "period_start": "2025-09-15", "period_end": "2025-10-26",
        "metric": "adjusted_gap_pct_hourly_earnings", "value": [-9.0, -3.0, -20.0], "threshold": 5.0,
        "unit": "% of reference mean", "status": ["risk", "ok", "ok"], "n": [500, 400, 30],
        "outcome": "hourly_earnings", "reference": ["gender=M", "age=30-44", "age=30-44"],
        "ci_low": [-16.0, -10.0, -40.0], "ci_high": [-1.0, 3.0, 0.0],
        "workers_group": [36, 45, 4], "workers_reference": [114, 96, 96]})


def fake_result(**status):
    checks = {
        "art12.minimum_wage": {"status": "violation", "n": 6, "below_minimum": 3, "share_below": 0.5,
                               "shortfall_cny": 100.0, "insufficient": 1, "worker_periods": 6},
        "art13.holiday_premium": {"status": "violation", "n": 500, "estimate_pct": 0.2, "ci_low_pct": -0.1,
                                  "ci_high_pct": 0.5, "p_value": 0.2, "n_orders": 500},
        "art13.weather_premium": {"status": "not_run", "n": 0, "reason": "not implemented"},
        "art10.group_disparity": {"status": "risk", "n": 3},
        "art14.daily_hours": {"status": "not_run", "n": 0, "reason": "not implemented"},
    }
    for k, v in status.items():
        checks[k.replace("__", ".")]["status"] = v
    by_check = {"art12.minimum_wage": _mw_frame(), "art10.group_disparity": _groups_frame()}
    summary = {"gigaudit_version": "0.1.0", "rules_version": "test", "profile": "canonical",
               "thresholds": thresholds(), "inputs": [{"file": "orders.csv"}],
               "period": {"start": "2025-09-15", "end": "2025-10-26"}, "checks": checks}
    return SimpleNamespace(summary=summary, by_check=by_check, findings=None, logs=None)


def test_font_ships_with_a_registry_package():
    path = fonts.cjk_font_path()
    assert path.is_file() and "mplfonts" in str(path)
    assert fonts.register_cjk_font() == "Noto Sans CJK SC"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_renders_without_missing_glyphs(lang):
    """Fails on matplotlib's 'Glyph … missing from font(s)' warning (warnings are errors here)."""
    import matplotlib.pyplot as plt

    result = fake_result()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in plotting.CHARTS:
            # the notebook path: drawn later, outside the package's rc context, so the
            # families pinned on each text must carry the CJK font by themselves
            ax = plotting.CHARTS[name](result, lang=lang)
            ax.figure.set_dpi(40)
            ax.figure.canvas.draw()
            plt.close(ax.figure)
        ax = plotting.CHARTS["hourly_earnings"](result, lang="zh")
        ax.set_title("中文标题：最低工资（元/小时）—第十二条")
        ax.figure.canvas.draw()
        plt.close(ax.figure)


def test_glyph_test_would_catch_a_font_without_cjk():
    """The guard above is real: DejaVu Sans alone warns on Chinese text."""
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(), matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        warnings.simplefilter("error")
        fig, ax = plt.subplots()
        ax.set_title("最低工资")
        with pytest.raises(UserWarning, match="missing from font"):
            fig.canvas.draw()
        plt.close(fig)


def test_chart_takes_an_axes_and_returns_it():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plotting.CHARTS["weeks_below_minimum"](fake_result(), ax, lang="en") is ax
    plt.close(fig)


def test_weekly_shares_are_drawn_as_computed_by_hand():
    import matplotlib.pyplot as plt

    ax = plotting.CHARTS["weeks_below_minimum"](fake_result(), lang="en")
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [25.0, 100.0]  # 1 of 4, then 2 of 2 (the insufficient week row is not counted)
    labels = {t.get_text() for t in ax.texts}
    assert {"1/4", "2/2"} <= labels
    plt.close(ax.figure)


def test_not_run_check_gives_a_notice_not_a_plot():
    import matplotlib.pyplot as plt

    r = fake_result()
    assert not plotting.chart_available(r, "daily_hours")
    assert plotting.chart_available(r, "hourly_earnings")
    ax = plotting.CHARTS["daily_hours"](r, lang="en")
    assert any("did not run" in t.get_text() for t in ax.texts)
    assert not ax.patches
    plt.close(ax.figure)


def test_groups_under_ten_workers_are_never_drawn():
    import matplotlib.pyplot as plt

    ax = plotting.CHARTS["group_gaps"](fake_result(), lang="en")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 2
    assert not any("45+" in lb for lb in labels)
    plt.close(ax.figure)


def test_premium_forest_plot_shows_estimate_and_ci():
    import matplotlib.pyplot as plt

    ax = plotting.CHARTS["premiums"](fake_result(), lang="en")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "+0.20% [-0.10, +0.50]" in texts
    ticks = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "n = 500" in ticks and "not run" in ticks
    plt.close(ax.figure)


def test_saved_files_are_png_svg_and_reproducible(tmp_path):
    r = fake_result()
    a = plotting.save_chart(r, "hourly_earnings", tmp_path / "a", lang="zh")
    b = plotting.save_chart(r, "hourly_earnings", tmp_path / "b", lang="zh")
    assert a["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a["svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert a["png"].read_bytes() == b["png"].read_bytes()
    assert a["svg"].read_bytes() == b["svg"].read_bytes()
    # 200 dpi: the PNG's pHYs chunk holds 200 / 0.0254 pixels per metre
    data = a["png"].read_bytes()
    i = data.index(b"pHYs")
    assert int.from_bytes(data[i + 4:i + 8], "big") == round(200 / 0.0254)
    saved = plotting.save_charts(r, tmp_path / "all", lang="en")
    assert "daily_hours" not in saved and "hourly_earnings" in saved
