"""The shape of findings (SPEC §6) and helpers every check shares."""
from __future__ import annotations

import numpy as np
import pandas as pd

FINDINGS_COLUMNS = [
    "check", "article", "level", "subject", "period_start", "period_end",
    "metric", "value", "threshold", "unit", "status", "n", "detail",
]
"""Columns of ``findings.csv``, in order.  Checks may return more columns
(the evidence an analyst wants in a notebook); only these are written."""

VIOLATION = "violation"
RISK = "risk"
OK = "ok"
INSUFFICIENT = "insufficient_data"
NOT_RUN = "not_run"
STATUSES = (VIOLATION, RISK, OK, INSUFFICIENT)
_SEVERITY = {VIOLATION: 3, RISK: 2, OK: 1, INSUFFICIENT: 0}


def empty_findings(extra: list[str] | None = None) -> pd.DataFrame:
    """A findings frame with no rows and the standard columns."""
    return pd.DataFrame(columns=FINDINGS_COLUMNS + list(extra or []))


def make_findings(*, check: str, article: int, level: str, subject, period_start, period_end,
                  metric: str, value, threshold, unit: str, status, n, detail,
                  **extra) -> pd.DataFrame:
    """Build a findings frame from aligned columns (scalars are broadcast).

    Dates become ISO strings, so the CSV is the same whatever the dtype.
    """
    frame = pd.DataFrame({
        "check": check, "article": article, "level": level, "subject": subject,
        "period_start": _iso(period_start), "period_end": _iso(period_end),
        "metric": metric, "value": value, "threshold": threshold, "unit": unit,
        "status": status, "n": n, "detail": detail, **extra,
    })
    frame["n"] = frame["n"].astype("int64")
    return frame


def _iso(values):
    if isinstance(values, (str, type(None))):
        return values
    arr = pd.to_datetime(pd.Series(np.asarray(values)))
    return arr.dt.strftime("%Y-%m-%d").to_numpy()


def sorted_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Row positions that sort ``frame`` by ``keys`` as
    ``sort_values(keys, kind="stable", na_position="first")`` does.

    Each key is replaced by the rank of its value among the sorted distinct
    values (missing first), then one ``np.lexsort`` (stable) orders the
    integers: Python compares the few distinct texts, not millions of cells.
    """
    if not len(frame):
        return np.arange(0)
    ranks = []
    for k in reversed(keys):  # lexsort: the last key is the primary one
        codes, _ = pd.factorize(frame[k], sort=True, use_na_sentinel=True)
        ranks.append(codes.astype(np.int64))  # missing values are -1: first
    return np.lexsort(ranks)


def overall_status(statuses: pd.Series) -> str:
    """A check's status: its most severe finding's (insufficient_data if none)."""
    if len(statuses) == 0:
        return INSUFFICIENT
    worst = max(statuses, key=lambda s: _SEVERITY.get(s, -1))
    return worst


def count_status(statuses: pd.Series) -> dict[str, int]:
    """Counts of each status, every status present as a key."""
    counts = pd.Series(statuses).value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def insufficient_finding(*, check: str, article: int, level: str, reason: str,
                         subject: str = "platform", metric: str = "", unit: str = "") -> pd.DataFrame:
    """One insufficient_data row saying why a check cannot run (e.g. a missing table)."""
    return make_findings(check=check, article=article, level=level, subject=[subject],
                         period_start=[None], period_end=[None], metric=metric, value=[np.nan],
                         threshold=[np.nan], unit=unit, status=[INSUFFICIENT], n=[0], detail=[reason])
