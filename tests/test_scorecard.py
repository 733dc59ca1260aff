"""The article-19 scorecard and its band, on hand-made summaries."""
from __future__ import annotations

import numpy as np
import pytest

from audit.scorecard import BAND_RULE_EN, INDICATORS, band, scorecard

IDS = [i[0] for i in INDICATORS]


def _summary(**statuses):
    """Every indicator ok with value 1 and n 100, except those named (``late_rate="risk"``)."""
    out = {}
    for cid in IDS:
        short = cid.split(".", 1)[1]
        out[cid] = {"status": statuses.get(short, "ok"), "n": 100, "value": 1.0}
    return out


@pytest.mark.parametrize("statuses, expected", [
    ({}, "A"),
    ({"late_rate": "risk"}, "A"),
    ({"late_rate": "risk", "take_rate": "risk"}, "B"),
    ({"late_rate": "risk", "take_rate": "risk", "pay_opacity": "risk", "deadline_ratchet": "risk"}, "B"),
    ({"required_speed": "violation"}, "C"),
    ({"required_speed": "violation", "late_rate": "risk", "take_rate": "risk"}, "C"),
    ({"required_speed": "violation", "deadline_percentile": "violation"}, "D"),
    # insufficient_data does not count: one violation left → C, not D
    ({"required_speed": "violation", "deadline_percentile": "insufficient_data"}, "C"),
    ({"late_rate": "risk", "take_rate": "insufficient_data"}, "A"),
])
def test_bands_by_hand(statuses, expected):
    card = scorecard(_summary(**statuses))
    assert card.attrs["band"] == expected
    overall = card.iloc[-1]
    assert overall["indicator"] == "overall" and overall["status"] == expected
    assert overall["n"] == 8 - sum(s == "insufficient_data" for s in statuses.values())
    assert BAND_RULE_EN in overall["threshold"]


def test_band_function_counts_only_assessed_statuses():
    assert band(["ok", "risk", "not_run", "insufficient_data"]) == "A"
    assert band(["violation", "violation", "violation"]) == "D"
    assert band(["insufficient_data", "not_run"]) == "insufficient_data"
    assert band([]) == "insufficient_data"


def test_rows_carry_the_evidence_and_labels():
    s = _summary(pay_rule_change="risk")
    s["art19.pay_rule_change"].update(value=-21.5, ci_low=-22.3, ci_high=-20.7, n=25830)
    del s["art19.take_rate"]
    card = scorecard(s, thresholds={"take_rate_cap": 0.25})
    assert card["indicator"].tolist() == IDS + ["overall"]
    prc = card.set_index("indicator").loc["art19.pay_rule_change"]
    assert (prc["value"], prc["ci_low"], prc["ci_high"], prc["n"]) == (-21.5, -22.3, -20.7, 25830)
    assert prc["label_zh"] == "计价规则变更" and prc["status_zh"] == "风险"
    assert "p < 0.05" in prc["threshold"]
    take = card.set_index("indicator").loc["art19.take_rate"]
    assert take["status"] == "not_run" and not take["counts"] and np.isnan(take["value"])
    assert "> 0.25" in take["threshold"]
    late = card.set_index("indicator").loc["art19.late_rate"]
    assert np.isnan(late["ci_low"]) and "> 0.1" in late["threshold"]
    overall = card.iloc[-1]
    assert overall["status"] == "A" and overall["label_en"] == "no violation, at most one risk"
    assert overall["label_zh"] == "无违规，风险不超过一项"


def test_nothing_assessed_is_not_an_a():
    card = scorecard({})
    assert card.attrs["band"] == "insufficient_data"
    assert (card["status"].iloc[:-1] == "not_run").all()
