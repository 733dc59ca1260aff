"""What the article-19 checks of part A share: thresholds, the deadline frame, finding rows.

The *deadline frame* (:func:`deadline_frame`) holds, per completed order
with ``promised_at``, ``delivered_at`` and ``distance_km`` all present:
``allowance_s`` = promised_at − accepted_at and ``actual_s`` = delivered_at −
accepted_at in whole seconds (timestamps are truncated to the second first,
so sub-second parts never create false ties or gaps), the distance band
``floor(distance_km / distance_band_km)``, the hour of ``accepted_at``, the
region code, the worker code, and ``cell`` (an int code of
region × band × hour).  It is computed once per run and cached on the logs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._common import text_values, worker_index
from audit.findings import make_findings
from audit.logs import AuditLogs
from audit.rules import threshold_table, thresholds as rule_thresholds
from metrics.intervals import to_seconds

PLATFORM = "platform"


def limits(thresholds: dict | None) -> dict:
    """The rules table's thresholds overridden by the user's."""
    return {**rule_thresholds(), **(thresholds or {})}


def threshold_source(key: str) -> str:
    """The source text of a threshold in the rules table (for ``detail``)."""
    t = threshold_table()
    hit = t.loc[t["key"] == key, "source"]
    return str(hit.iloc[0]) if len(hit) else ""


def period(accepted: pd.Series) -> tuple[str | None, str | None]:
    """First and last acceptance day (ISO text) of the orders a figure rests on."""
    if len(accepted) == 0:
        return None, None
    return accepted.min().strftime("%Y-%m-%d"), accepted.max().strftime("%Y-%m-%d")


def span(accepted) -> dict:
    """``first`` and ``last`` acceptance of a piece's orders (None when it has none):
    what a check's partial keeps so that :func:`merged_period` gives :func:`period`
    of the whole platform."""
    if len(accepted) == 0:
        return {"first": None, "last": None}
    return {"first": accepted.min(), "last": accepted.max()}


def merged_period(parts: list[dict]) -> tuple[str | None, str | None]:
    """:func:`period` of the orders of all pieces, from the :func:`span` in their partials."""
    return period(pd.Series([t for p in parts for t in (p["first"], p["last"]) if t is not None],
                            dtype="datetime64[ns]"))


def deadline_frame(logs: AuditLogs, band_km: float) -> pd.DataFrame:
    """Completed orders with a deadline, a delivery time and a distance (see module docstring)."""
    key = ("art19.deadline_frame", float(band_km))
    if key in logs.cache:
        return logs.cache[key]
    o = logs.completed
    keep = (o["promised_at"].notna() & o["delivered_at"].notna() & o["distance_km"].notna()
            & o["region_code"].notna()).to_numpy()
    o = o[keep]
    acc = to_seconds(o["accepted_at"])
    f = pd.DataFrame({
        "worker": worker_index(logs).codes(o["worker_id"]),
        "region_code": pd.Series(text_values(o["region_code"]), dtype=object),  # no str inference
        "band": np.floor(o["distance_km"].to_numpy(dtype=float) / band_km).astype(np.int64),
        "hour": o["accepted_at"].dt.hour.to_numpy().astype(np.int64),
        "accepted_at": o["accepted_at"].to_numpy(),
        "allowance_s": to_seconds(o["promised_at"]) - acc,
        "actual_s": to_seconds(o["delivered_at"]) - acc,
        "distance_km": o["distance_km"].to_numpy(dtype=float),
    })
    region, _ = pd.factorize(f["region_code"], sort=True)
    f["cell"] = (pd.DataFrame({"r": region, "b": f["band"], "h": f["hour"]})
                 .groupby(["r", "b", "h"], sort=True).ngroup().to_numpy())
    logs.cache[key] = f
    return f


def platform_row(*, check: str, metric: str, value: float, threshold: float, unit: str,
                 status: str, n: int, detail: str, first, last, level: str = "platform",
                 subject: str = PLATFORM, **extra) -> pd.DataFrame:
    """One finding row (platform level unless told)."""
    return make_findings(check=check, article=19, level=level, subject=[subject],
                         period_start=[first], period_end=[last], metric=metric, value=[value],
                         threshold=[threshold], unit=unit, status=[status], n=[int(n)],
                         detail=[detail], **{k: [v] for k, v in extra.items()})


def fmt(x: float, digits: int = 4) -> str:
    """A number for ``detail`` text (``nan`` stays ``nan``)."""
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"
