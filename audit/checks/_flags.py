"""Holiday and extreme-weather flags of each completed order (SPEC §4).

An order belongs to the day on which it was accepted.  Weather rows are
matched on the order's region code; an order in a county without its own
weather row takes its prefecture city's (the weather table often has one row
per city), via the regions table's ``parent_code``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.calendar import extreme_weather_days, holiday_days
from audit.logs import AuditLogs
from audit.rules import region_table


def order_flags(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Flags aligned with ``logs.completed`` (same row order).

    Returns
    -------
    DataFrame
        ``date`` (datetime64, the acceptance day), ``is_holiday`` (bool),
        ``holiday`` (English name or missing), ``holiday_zh``,
        ``weather_known`` (a weather row covers the order's region and day),
        ``is_extreme`` (bool; False where weather is unknown), ``weather_kind``
        (what made the day extreme, e.g. ``heat`` or ``rainstorm:orange``).

    Raises
    ------
    CalendarError
        A year of the data is not covered by the holiday calendar or overrides.
    """
    key = ("order_flags", tuple(sorted((thresholds or {}).items())) if thresholds else None)
    if key in logs.cache:
        return logs.cache[key]
    o = logs.completed
    day = o["accepted_at"].dt.normalize()
    # Flags depend on (region, day) only: work on the few distinct pairs and
    # broadcast them to the orders (millions of orders, thousands of pairs).
    region = o["region_code"].astype(object) if "region_code" in o.columns else \
        pd.Series(None, index=o.index, dtype=object)
    rcode, rvals = pd.factorize(region, use_na_sentinel=False)
    dcode, dvals = pd.factorize(day, use_na_sentinel=False)
    n_days = max(len(dvals), 1)
    pair, pairs = pd.factorize(rcode.astype(np.int64) * n_days + dcode, sort=False)
    u_region = pd.Series(np.asarray(rvals, dtype=object)[pairs // n_days], dtype=object)
    u_day = pd.Series(np.asarray(dvals)[pairs % n_days]).astype(day.dtype)
    flags = _pair_flags(logs, u_region, u_day, thresholds)
    out = pd.DataFrame({"date": day.to_numpy()})
    for col in ("is_holiday", "holiday", "holiday_zh", "weather_known", "is_extreme", "weather_kind"):
        # Series.take keeps the dtype: Arrow text is taken in Arrow, not as
        # millions of Python strings converted back
        out[col] = flags[col].take(pair).reset_index(drop=True)
    logs.cache[key] = out
    return out


def _pair_flags(logs: AuditLogs, region: pd.Series, day: pd.Series,
                thresholds: dict | None) -> pd.DataFrame:
    """The flags of each (region code, day) pair."""
    hol = holiday_days(day, overrides=logs.holiday_overrides)
    hol = hol.reset_index(drop=True).set_index("date")
    out = pd.DataFrame({"date": day.to_numpy()})
    out["is_holiday"] = hol["is_holiday"].reindex(day.to_numpy()).fillna(False).to_numpy(dtype=bool)
    out["holiday"] = hol["holiday"].reindex(day.to_numpy()).to_numpy()
    out["holiday_zh"] = hol["holiday_zh"].reindex(day.to_numpy()).to_numpy()
    out["weather_known"] = False
    out["is_extreme"] = False
    out["weather_kind"] = ""
    w = logs.weather
    if w is not None and len(w):
        ext = extreme_weather_days(w.assign(region=w["region_code"]), thresholds=thresholds)
        ext = ext.reset_index(drop=True)
        ext["date"] = pd.to_datetime(ext["date"]).dt.normalize()
        lookup = ext.set_index(["region", "date"])
        parents = region_table().set_index("code")["parent_code"]
        own = region.astype(str)
        parent = own.map(parents).astype(object)
        for codes in (own, parent):  # own region first, then the prefecture's
            need = ~out["weather_known"].to_numpy()
            if not need.any():
                break
            idx = pd.MultiIndex.from_arrays([codes.to_numpy()[need], day.to_numpy()[need]])
            hit = lookup.reindex(idx)
            found = hit["is_extreme"].notna().to_numpy()
            pos = np.flatnonzero(need)[found]
            out.loc[pos, "weather_known"] = True
            out.loc[pos, "is_extreme"] = hit["is_extreme"].to_numpy()[found].astype(bool)
            out.loc[pos, "weather_kind"] = hit["kind"].fillna("").to_numpy()[found]
    return out
