"""Article 19: deadlines that can only be met by riding faster than an e-bike may.

冀人社规〔2021〕5号 第十九条 asks platforms to avoid 超强度劳动 and the safety
harm it causes; GB 17761-2018 limits an electric bicycle to 25 km/h.  A
deadline that needs more than that between pickup and the deadline pushes
the rider to speed (or to a non-compliant vehicle).

Definition (SPEC §5): among completed *e-bike* orders with ``distance_km``,
``picked_up_at`` and ``promised_at``, the share whose required speed
``distance_km ÷ hours(promised_at − picked_up_at)`` exceeds ``ebike_max_kmh``
(25, strictly: exactly 25 km/h is allowed).  A deadline at or before pickup
counts as exceeding.  The comparison is made as ``distance_km × 3600 >
limit × seconds`` (no division, so the boundary is exact).

Which orders are e-bike orders:

* with a workers table whose ``vehicle`` column has values: orders of workers
  whose vehicle is ``ebike``.  Orders of workers with no known vehicle are
  left out (counted in ``detail``), unless ``assume_ebike=True``;
* without a workers table or vehicle values: every order is taken as an
  e-bike order only when ``assume_ebike=True`` or the mapping profile says
  the platform is a delivery platform (``kind = "delivery"``); otherwise the
  check is insufficient_data (a ride-hailing export must not be judged by an
  e-bike limit).

The share has a 95 % interval clustered by worker (Wilson on n / deff, see
:func:`metrics.proportions.clustered_share`).  Status: violation over
``required_speed_violation`` (5 %), risk over ``required_speed_risk`` (1 %),
else ok; fewer than ``premium_min_orders`` (30) e-bike orders:
insufficient_data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import fmt, limits, period, platform_row, threshold_source
from audit.checks._common import worker_index
from audit.findings import INSUFFICIENT, OK, RISK, VIOLATION, overall_status
from audit.logs import AuditLogs
from metrics.proportions import clustered_share

CHECK = "art19.required_speed"
METRIC = "share_over_ebike_limit"
UNIT = "share of e-bike orders"
NO_VEHICLE = ("no workers.vehicle values: cannot tell e-bike orders; pass assume_ebike=True or a "
              "profile with kind = \"delivery\" to treat every order as an e-bike order")
NO_EBIKE = "no completed e-bike order with distance_km, picked_up_at and promised_at"


def ebike_mask(logs: AuditLogs, orders: pd.DataFrame, *, assume_ebike: bool | None = None
               ) -> tuple[np.ndarray | None, str]:
    """Which of ``orders`` are e-bike orders, and a note on how that was decided.

    Returns ``(None, reason)`` when it cannot be decided (see module docstring).
    """
    delivery = assume_ebike is True or (
        assume_ebike is None and str(getattr(logs.profile, "kind", "") or "") == "delivery")
    w = logs.workers
    if w is None or "vehicle" not in w.columns or w["vehicle"].isna().all():
        if delivery:
            return np.ones(len(orders), bool), "no vehicle data: every order taken as an e-bike order"
        return None, NO_VEHICLE
    # vehicle per worker code, then per order by its worker's code (-1: no row, None)
    known = w.dropna(subset=["vehicle"])
    idx = worker_index(logs)
    by_code = np.full(len(idx.ids) + 1, None, dtype=object)
    kc = idx.codes(known["worker_id"])
    by_code[kc[kc >= 0]] = known["vehicle"].to_numpy(dtype=object)[kc >= 0]
    v = by_code[idx.codes(orders["worker_id"])]
    unknown = pd.isna(v)
    mask = v == "ebike"
    if delivery:
        mask |= unknown
        note = (f"vehicle from the workers table; {int(unknown.sum())} orders of workers without "
                "one taken as e-bike")
    else:
        note = (f"vehicle from the workers table; {int(unknown.sum())} orders of workers without "
                "one left out")
    return mask, note


def check_required_speed(logs: AuditLogs, *, thresholds: dict | None = None,
                         assume_ebike: bool | None = None) -> pd.DataFrame:
    """Share of e-bike orders whose deadline needs more than the e-bike speed limit.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``ebike_max_kmh``, ``required_speed_violation``,
        ``required_speed_risk``, ``premium_min_orders``, ``ci_level``.
    assume_ebike : bool, optional
        True: orders without a known vehicle are e-bike orders; False: they
        are left out; None (default): True when the profile's ``kind`` is
        ``delivery``.

    Returns
    -------
    DataFrame
        One platform finding (``value`` the share, ``n`` the e-bike orders)
        plus ``exceeding_orders, at_or_before_pickup, ci_low, ci_high, se,
        deff, median_required_kmh``.
    """
    lim = limits(thresholds)
    vmax = float(lim["ebike_max_kmh"])
    viol, risk = float(lim["required_speed_violation"]), float(lim["required_speed_risk"])
    min_n, level = int(lim["premium_min_orders"]), float(lim["ci_level"])
    o = logs.completed
    o = o[(o["distance_km"].notna() & o["picked_up_at"].notna() & o["promised_at"].notna())
          .to_numpy()]
    mask, note = ebike_mask(logs, o, assume_ebike=assume_ebike)
    empty = dict(exceeding_orders=0, at_or_before_pickup=0, ci_low=np.nan, ci_high=np.nan,
                 se=np.nan, deff=np.nan, median_required_kmh=np.nan)
    if mask is None or not mask.any():
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=viol, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_VEHICLE if mask is None else NO_EBIKE,
                            first=None, last=None, **empty)
    o = o[mask]
    secs = (o["promised_at"] - o["picked_up_at"]).dt.total_seconds().to_numpy(dtype=float)
    dist = o["distance_km"].to_numpy(dtype=float)
    early = secs <= 0
    exceed = early | (dist * 3600.0 > vmax * secs)
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(early, np.inf, dist * 3600.0 / np.where(early, 1, secs))
    w = worker_index(logs).codes(o["worker_id"])
    per = pd.DataFrame({"w": w, "x": exceed.astype(np.int64)}).groupby("w")["x"]
    s = clustered_share(per.sum().to_numpy(), per.size().to_numpy(), level=level)
    first, last = period(o["accepted_at"])
    if s["n"] < min_n:
        status, why = INSUFFICIENT, f"fewer than {min_n} e-bike orders; "
    else:
        share = s["share"]
        status, why = (VIOLATION if share > viol else RISK if share > risk else OK), ""
    detail = (f"{why}{int(exceed.sum())} of {s['n']} e-bike orders need over {vmax:g} km/h "
              f"({int(early.sum())} with the deadline at or before pickup); risk over {risk:g}, "
              f"violation over {viol:g}; 95% CI [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}] "
              f"(Wilson on n/deff, deff={fmt(s['deff'], 2)}, worker-clustered); {note}; "
              f"limit: {threshold_source('ebike_max_kmh')}")
    return platform_row(check=CHECK, metric=METRIC, value=round(s["share"], 6), threshold=viol,
                        unit=UNIT, status=status, n=s["n"], detail=detail, first=first, last=last,
                        exceeding_orders=int(exceed.sum()), at_or_before_pickup=int(early.sum()),
                        ci_low=s["ci_low"], ci_high=s["ci_high"], se=s["se"], deff=s["deff"],
                        median_required_kmh=float(np.median(kmh)))


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the share over the limit under ``value``, its CI and counts."""
    r = findings.iloc[0]

    def num(x, d=6):
        return None if pd.isna(x) else round(float(x), d)

    return {"status": overall_status(findings["status"]), "n": int(r["n"]), "value": num(r["value"]),
            "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]),
            "exceeding_orders": int(r["exceeding_orders"]),
            "at_or_before_pickup": int(r["at_or_before_pickup"])}
