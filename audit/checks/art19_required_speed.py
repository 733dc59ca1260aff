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

Partitions (map/merge split, SPEC §8): :func:`partial_required_speed` gives,
for a piece of the logs holding whole workers, the e-bike orders and those
over the limit per worker id (integers), the counts of deadlines at or
before pickup and of orders of workers without a vehicle, the first and
last acceptance, and the required speeds for the exact median
(:func:`metrics.mergeable.value_counts`: distinct values with their counts
when that is smaller, else one float64 an e-bike order, since an exact
median needs the values).  :func:`finish_required_speed` sorts the workers
by id before the clustered share (float sums across workers).  Whether
vehicles are known at all is decided for the whole platform
(``logs.lacks("workers.vehicle")``, which a partition answers for the whole
workers table, where its own rows might all lack one); the vehicle of an
order comes from its worker's row, which is in the same partition.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import fmt, limits, merged_period, platform_row, span, threshold_source
from audit.checks._common import text_values, worker_index
from audit.findings import INSUFFICIENT, OK, RISK, VIOLATION, overall_status
from audit.logs import AuditLogs
from metrics.mergeable import keyed_counts, merge_keyed_counts, merged_median, value_counts
from metrics.proportions import clustered_share

CHECK = "art19.required_speed"
METRIC = "share_over_ebike_limit"
UNIT = "share of e-bike orders"
NO_VEHICLE = ("no workers.vehicle values: cannot tell e-bike orders; pass assume_ebike=True or a "
              "profile with kind = \"delivery\" to treat every order as an e-bike order")
NO_EBIKE = "no completed e-bike order with distance_km, picked_up_at and promised_at"


def _ebike_rule(logs: AuditLogs, assume_ebike: bool | None) -> tuple[bool, bool]:
    """``(delivery, vehicles)``: orders of workers without a known vehicle count as e-bike
    orders; the workers table has vehicle values (platform-wide, also in a piece)."""
    delivery = assume_ebike is True or (
        assume_ebike is None and str(getattr(logs.profile, "kind", "") or "") == "delivery")
    # lacks() answers for the whole platform (in a partition too), where the
    # piece's own workers rows might all lack a vehicle
    return delivery, logs.lacks("workers.vehicle") is None


def _ebike_orders(logs: AuditLogs, orders: pd.DataFrame, *, assume_ebike: bool | None
                  ) -> tuple[np.ndarray | None, int]:
    """Which of ``orders`` are e-bike orders, and how many have a worker without a vehicle.

    ``(None, 0)`` when it cannot be decided (see module docstring).
    """
    delivery, vehicles = _ebike_rule(logs, assume_ebike)
    if not vehicles:
        return (np.ones(len(orders), bool) if delivery else None), 0
    # vehicle per worker code, then per order by its worker's code (-1: no row, None);
    # a worker's row is in the same piece as its orders
    w = logs.workers
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
    return mask, int(unknown.sum())


def _ebike_note(delivery: bool, vehicles: bool, unknown: int) -> str:
    """How e-bike orders were told (for ``detail``)."""
    if not vehicles:
        return "no vehicle data: every order taken as an e-bike order"
    return (f"vehicle from the workers table; {unknown} orders of workers without one "
            + ("taken as e-bike" if delivery else "left out"))


def ebike_mask(logs: AuditLogs, orders: pd.DataFrame, *, assume_ebike: bool | None = None
               ) -> tuple[np.ndarray | None, str]:
    """Which of ``orders`` are e-bike orders, and a note on how that was decided.

    Returns ``(None, reason)`` when it cannot be decided (see module docstring).
    """
    mask, unknown = _ebike_orders(logs, orders, assume_ebike=assume_ebike)
    if mask is None:
        return None, NO_VEHICLE
    return mask, _ebike_note(*_ebike_rule(logs, assume_ebike), unknown)


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
    return finish_required_speed(
        [partial_required_speed(logs, thresholds=thresholds, assume_ebike=assume_ebike)], logs,
        thresholds=thresholds, assume_ebike=assume_ebike)


def partial_required_speed(logs: AuditLogs, *, thresholds: dict | None = None,
                           assume_ebike: bool | None = None) -> dict:
    """Counts of a piece of the logs: per worker id, e-bike orders and those over the limit.

    Returns
    -------
    dict
        ``keys`` ([worker id text]), ``k`` (orders over the limit), ``n``
        (e-bike orders) per worker (:func:`metrics.mergeable.keyed_counts`,
        int64); ``early`` (deadline at or before pickup) and ``unknown``
        (orders of workers without a vehicle) counts; ``kmh`` the required
        speeds (:func:`metrics.mergeable.value_counts`: the exact median
        needs the values, 8 bytes an e-bike order at most); ``first``,
        ``last`` (``accepted_at`` of the e-bike orders, None without).
    """
    vmax = float(limits(thresholds)["ebike_max_kmh"])
    o = logs.completed
    o = o[(o["distance_km"].notna() & o["picked_up_at"].notna() & o["promised_at"].notna())
          .to_numpy()]
    mask, unknown = _ebike_orders(logs, o, assume_ebike=assume_ebike)
    if mask is None:  # undecidable: the same in every piece, finish says so
        mask = np.zeros(len(o), bool)
    o = o[mask]
    secs = (o["promised_at"] - o["picked_up_at"]).dt.total_seconds().to_numpy(dtype=float)
    dist = o["distance_km"].to_numpy(dtype=float)
    early = secs <= 0
    exceed = early | (dist * 3600.0 > vmax * secs)
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = np.where(early, np.inf, dist * 3600.0 / np.where(early, 1, secs))
    acc = o["accepted_at"]
    return {**keyed_counts([text_values(o["worker_id"])], exceed), "early": int(early.sum()),
            "unknown": unknown, "kmh": value_counts(kmh),
            **span(acc)}


def finish_required_speed(parts: list[dict], logs: AuditLogs, *, thresholds: dict | None = None,
                          assume_ebike: bool | None = None) -> pd.DataFrame:
    """The finding from the partials of :func:`partial_required_speed` (any order).

    Reads only the profile and ``lacks`` of ``logs`` (whether vehicles are known).
    """
    lim = limits(thresholds)
    vmax = float(lim["ebike_max_kmh"])
    viol, risk = float(lim["required_speed_violation"]), float(lim["required_speed_risk"])
    min_n, level = int(lim["premium_min_orders"]), float(lim["ci_level"])
    delivery, vehicles = _ebike_rule(logs, assume_ebike)
    m = merge_keyed_counts(parts, n_keys=1)  # per worker, sorted by id (the in-memory code order)
    empty = dict(exceeding_orders=0, at_or_before_pickup=0, ci_low=np.nan, ci_high=np.nan,
                 se=np.nan, deff=np.nan, median_required_kmh=np.nan)
    if (not vehicles and not delivery) or int(m["n"].sum()) == 0:
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=viol, unit=UNIT,
                            status=INSUFFICIENT, n=0,
                            detail=NO_EBIKE if vehicles or delivery else NO_VEHICLE,
                            first=None, last=None, **empty)
    s = clustered_share(m["k"], m["n"], level=level)
    exceeding, early = int(m["k"].sum()), sum(int(p["early"]) for p in parts)
    note = _ebike_note(delivery, vehicles, sum(int(p["unknown"]) for p in parts))
    first, last = merged_period(parts)
    if s["n"] < min_n:
        status, why = INSUFFICIENT, f"fewer than {min_n} e-bike orders; "
    else:
        share = s["share"]
        status, why = (VIOLATION if share > viol else RISK if share > risk else OK), ""
    detail = (f"{why}{exceeding} of {s['n']} e-bike orders need over {vmax:g} km/h "
              f"({early} with the deadline at or before pickup); risk over {risk:g}, "
              f"violation over {viol:g}; 95% CI [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}] "
              f"(Wilson on n/deff, deff={fmt(s['deff'], 2)}, worker-clustered); {note}; "
              f"limit: {threshold_source('ebike_max_kmh')}")
    return platform_row(check=CHECK, metric=METRIC, value=round(s["share"], 6), threshold=viol,
                        unit=UNIT, status=status, n=s["n"], detail=detail, first=first, last=last,
                        exceeding_orders=exceeding, at_or_before_pickup=early,
                        ci_low=s["ci_low"], ci_high=s["ci_high"], se=s["se"], deff=s["deff"],
                        median_required_kmh=merged_median([p["kmh"] for p in parts]))


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the share over the limit under ``value``, its CI and counts."""
    r = findings.iloc[0]

    def num(x, d=6):
        return None if pd.isna(x) else round(float(x), d)

    return {"status": overall_status(findings["status"]), "n": int(r["n"]), "value": num(r["value"]),
            "ci_low": num(r["ci_low"]), "ci_high": num(r["ci_high"]),
            "exceeding_orders": int(r["exceeding_orders"]),
            "at_or_before_pickup": int(r["at_or_before_pickup"])}
