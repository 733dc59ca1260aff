"""A platform scorecard for article 19 (algorithms, rates and deadlines), with a readable band.

Every article-19 indicator is one row: its status and the evidence it rests
on (value, CI when the check gives one, n, and the rule that decides its
status).  The overall **band** follows one rule anyone can check by counting
the rows — there is no weighted or opaque score:

====  ==========================================  =============================
band  rule                                        标签
====  ==========================================  =============================
A     no violation and at most one risk           无违规，风险不超过一项
B     no violation, two or more risks             无违规，两项及以上风险
C     exactly one violation                       一项违规
D     two or more violations                      两项及以上违规
====  ==========================================  =============================

Indicators with ``insufficient_data`` (or not run) are listed and do not
count either way.  When no indicator could be assessed the band is
``insufficient_data`` (an A on no evidence would mislead).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from audit.findings import INSUFFICIENT, NOT_RUN, OK, RISK, VIOLATION
from audit.rules import thresholds as rule_thresholds

BAND_RULE_EN = ("A: no violation and at most one risk; B: no violation, two or more risks; "
                "C: one violation; D: two or more violations; insufficient_data and not_run "
                "indicators are listed and do not count")
BAND_RULE_ZH = ("A：无违规且风险不超过一项；B：无违规、两项及以上风险；C：一项违规；D：两项及以上违规；"
                "数据不足或未运行的指标列出但不计入")
BANDS = {
    "A": ("无违规，风险不超过一项", "no violation, at most one risk"),
    "B": ("无违规，两项及以上风险", "no violation, two or more risks"),
    "C": ("一项违规", "one violation"),
    "D": ("两项及以上违规", "two or more violations"),
    INSUFFICIENT: ("无可评估指标", "no indicator could be assessed"),
}
STATUS_ZH = {VIOLATION: "违规", RISK: "风险", OK: "合格", INSUFFICIENT: "数据不足", NOT_RUN: "未运行"}

# id, 中文, English, status rule as a template over the thresholds table
INDICATORS: tuple[tuple[str, str, str, str], ...] = (
    ("art19.late_rate", "超时率", "late-delivery rate",
     "risk when the share of late orders > {late_rate_risk:g}"),
    ("art19.deadline_percentile", "配送时限分位", "deadline percentile",
     "violation when the median percentile < {deadline_pct_violation:g}, risk < {deadline_pct_risk:g}"),
    ("art19.required_speed", "所需车速", "required speed",
     "share of e-bike orders needing > {ebike_max_kmh:g} km/h: violation > {required_speed_violation:g}, "
     "risk > {required_speed_risk:g}"),
    ("art19.deadline_ratchet", "时限收紧趋势", "deadline ratchet",
     "risk when the trend of log allowance is negative with p < {ratchet_p:g}"),
    ("art19.penalty_intensity", "罚款强度", "penalty intensity",
     "risk when a worker-week's penalties > {penalty_share_risk:g} of pay + bonus"),
    ("art19.pay_opacity", "报酬透明度", "pay opacity",
     "risk when R² < {opacity_r2_risk:g}"),
    ("art19.take_rate", "抽成比例", "take rate",
     "risk when the 90th percentile > {take_rate_cap:g}"),
    ("art19.pay_rule_change", "计价规则变更", "pay-rule change",
     "risk when the formula's break has p < {pay_rule_change_p:g} and pay falls"),
)
COLUMNS = ["indicator", "article", "label_zh", "label_en", "status", "status_zh", "value", "ci_low",
           "ci_high", "n", "threshold", "counts"]


def band(statuses: Iterable[str]) -> str:
    """The overall band (``A``–``D``, or ``insufficient_data``) of indicator statuses.

    A: no violation and at most one risk; B: no violation, two or more risks;
    C: one violation; D: two or more violations.  ``insufficient_data`` and
    ``not_run`` do not count; with nothing assessed the band is
    ``insufficient_data``.
    """
    statuses = list(statuses)
    violations = sum(s == VIOLATION for s in statuses)
    risks = sum(s == RISK for s in statuses)
    assessed = violations + risks + sum(s == OK for s in statuses)
    if assessed == 0:
        return INSUFFICIENT
    if violations >= 2:
        return "D"
    if violations == 1:
        return "C"
    return "B" if risks >= 2 else "A"


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return np.nan
    return v


def scorecard(summary_checks: dict, *, thresholds: dict | None = None) -> pd.DataFrame:
    """The article-19 scorecard of one run.

    Parameters
    ----------
    summary_checks : dict
        ``summary["checks"]`` of a run: check id → its summary dict
        (``status``, ``n``, ``value`` and, where the check gives them,
        ``ci_low``, ``ci_high``, ``threshold``).
    thresholds : dict, optional
        The threshold values the run used (``summary["thresholds"]``);
        default the rules table.  They fill the ``threshold`` column.

    Returns
    -------
    DataFrame
        One row per indicator (``indicator, article, label_zh, label_en,
        status, status_zh, value, ci_low, ci_high, n, threshold, counts``;
        ``counts`` says whether the status enters the band), then one row
        ``indicator="overall"`` whose ``status`` is the band, whose labels
        are the band's, whose ``n`` is the number of indicators assessed and
        whose ``threshold`` is the band rule in English and Chinese.  The
        band is also in ``.attrs["band"]``.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    rows = []
    for cid, zh, en, rule in INDICATORS:
        s = summary_checks.get(cid) or {}
        status = s.get("status", NOT_RUN)
        try:
            rule_text = rule.format(**{k: _num(v) for k, v in limits.items()})
        except (KeyError, ValueError):
            rule_text = rule
        n = s.get("n")
        rows.append({
            "indicator": cid, "article": 19, "label_zh": zh, "label_en": en, "status": status,
            "status_zh": STATUS_ZH.get(status, status), "value": _num(s.get("value")),
            "ci_low": _num(s.get("ci_low")), "ci_high": _num(s.get("ci_high")),
            "n": int(n) if n is not None and not pd.isna(n) else 0, "threshold": rule_text,
            "counts": status in (VIOLATION, RISK, OK),
        })
    b = band(r["status"] for r in rows)
    zh, en = BANDS[b]
    rows.append({
        "indicator": "overall", "article": 19, "label_zh": zh, "label_en": en, "status": b,
        "status_zh": b if b != INSUFFICIENT else STATUS_ZH[INSUFFICIENT], "value": np.nan,
        "ci_low": np.nan, "ci_high": np.nan, "n": sum(r["counts"] for r in rows),
        "threshold": f"{BAND_RULE_EN} | {BAND_RULE_ZH}", "counts": False,
    })
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs["band"] = b
    return out


__all__ = ["BANDS", "BAND_RULE_EN", "BAND_RULE_ZH", "INDICATORS", "band", "scorecard"]
