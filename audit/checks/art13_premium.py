"""Article 13: more pay for work on public holidays and in extreme weather.

冀人社规〔2021〕5号 第十三条 asks that work on statutory holidays and in
extreme heat, cold or other severe weather be paid more than normal work.
Platforms rarely show a separate premium, so it is estimated from the orders
(SPEC §5 premium model): OLS of log(pay per order) on the holiday flag, the
extreme-weather flag, log(distance_km), hour-of-day effects and worker fixed
effects (within transformation), standard errors clustered by worker
(:class:`metrics.premium.PremiumStats`).  Premium % = 100 × (exp β − 1); its
interval is the transformed interval of β.

Status (main row, metric ``premium_pct``): ``ok`` when the lower bound of the
``ci_level`` (95 %) interval is above 0, else ``violation``;
``insufficient_data`` with fewer than ``premium_min_orders`` (30) relevant
orders (holiday, or extreme-weather, orders in the model) or when the data
cannot identify the premium (no worker has both kinds of day).

Decisions the SPEC leaves open, taken here:

* **Pay** is the ``pay`` column (base pay per order).  Bonus, tip and the
  explicit ``allowance`` are not in it: the allowance is reported beside, as
  its own lens (share of relevant orders with ``allowance > 0``, mean
  allowance over them, n), on the main row and in the summary.
* **One model for both checks.**  The holiday and weather premiums are the two
  flags of one fit (cached on the logs), so they control for each other.
* **Rows left out** (counted in ``detail``): orders with pay ≤ 0 or a missing
  pay, and orders with distance ≤ 0 or missing (log undefined).  Without any
  distance values the model runs without log distance and says so; without a
  weather table the holiday model runs without the weather flag and says so
  (the weather check itself is then insufficient_data via the registry).
* **Unknown weather.**  An order whose region (or its prefecture, as
  :func:`audit.checks._flags.order_flags` matches) has rows in the weather
  table but not for that day is taken as a normal-weather order (the table
  covers the region; a missing day is an ordinary day).  Orders in regions the
  table does not cover at all are left out of the model: calling them normal
  would pull the weather premium towards zero.
* **Degrees of freedom.**  Default ``df_correction="dummies"`` (statsmodels'
  convention with worker dummies, named by SPEC §5; the conservative one);
  ``"nested"`` gives pyfixest's.  Intervals use t with G − 1 df.
* **Breakdowns** are extra finding rows, metric ``premium_pct:<label>``: one
  per named holiday (``National Day``, ``Mid-autumn Festival``, …) and one per
  kind of extreme weather (``heat`` and ``cold`` from the temperature rules,
  ``<type> warning`` for each warning type at a qualifying level).  Each is its
  own fit of the same model on the orders of that label against normal days
  (orders of other holidays, or of other extreme days, left out), with the same
  status rule.  A day can have several weather kinds; it counts in each.  The
  check's overall status is the main row's.
* Without worker ids there is no worker effect and no clustering: the check
  is insufficient_data.
* **Breakdown order**: largest number of relevant orders first, ties by label.

Partitions
----------
``partial_premium`` (a piece holding whole workers) returns the model's rows
as :class:`~metrics.premium.PremiumStats` (per worker and per (worker, hour)
raw sums) of each *row group* — (normal day | named holiday | holiday without
a name) × (normal weather | the set of weather labels of an extreme day) —
with the group's row count, the first and last model day, and the integer
counts of rows left out.  The groups split the rows, so every fit is a union
of groups: the main fit all of them, a holiday's fit the normal-day groups
and that holiday's, a weather label's the normal-weather groups and every
extreme group whose label set holds it (a day with several kinds counts in
each).  The model part is the same object for both checks (cached on the
logs).  Size: O(groups × the workers' (worker, hour) cells), about 1.2–1.3
KB a worker (about 4–8 bytes an order) on the generator's data; no per-order
array.  The allowance lens keeps integer counts and one float per worker
(the sum of its allowances, in row order).

``finish_premium`` sorts the group keys and merges with
:meth:`PremiumStats.concat`, which orders clusters by worker id and cells by
(worker, hour): a worker's group sums are added in key order and every
reduction across workers runs in worker-id order, so the bits do not depend
on the partitioning.  Adding a worker's group sums rounds differently from
one pass over its rows: against the former one-pass fit in first-appearance
order the in-memory figures moved by at most ~5e-15 on β and ~5e-13
percentage points on the premium % (the texts did not change).
The allowance mean is ``math.fsum`` of the per-worker sums (correctly
rounded, so order-free) over the count.  A piece with no distance value at
all fits without log distance; when another piece has distances the whole
model uses them and that piece's rows count as left out for their distance
(as in memory).  The main fit is cached on the finishing logs for the other
check when it gets the same partials.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from audit.checks._common import text_values
from audit.checks._flags import order_flags
from audit.findings import INSUFFICIENT, OK, VIOLATION, insufficient_finding, make_findings
from audit.logs import AuditLogs
from audit.rules import region_table, thresholds as rule_thresholds
from metrics.premium import PremiumStats

CHECKS = {"holiday": "art13.holiday_premium", "weather": "art13.weather_premium"}
ARTICLE = 13
LEVEL = "platform"
METRIC = "premium_pct"
UNIT = "%"
WEATHER_KEYS = ("heat_tmax_c", "cold_tmin_c", "warning_levels")
HOURS = tuple(range(24))
EXTRA_COLUMNS = ["estimate_pct", "ci_low_pct", "ci_high_pct", "p_value", "beta", "std_error",
                 "n_obs", "n_clusters", "allowance_share", "allowance_mean_cny", "allowance_orders"]

ERR_KIND = ("The 'kind' parameter of check_premium must be a str among {{'holiday', 'weather'}}. "
            "Got {kind!r} instead.")
ERR_DF = ("The 'df_correction' parameter of check_premium must be a str among "
          "{{'dummies', 'nested', 'none'}}. Got {value!r} instead.")
NO_WORKER_IDS = "the export has no worker id: no worker effects or clustering possible"
NO_ORDERS = "no completed order with positive pay (and distance) to fit the premium model"
NO_DISTANCE_NOTE = "no distance_km values: model without log distance"
NO_WEATHER = "no weather table: extreme-weather days unknown"
NO_WEATHER_NOTE = "no weather table: model without the extreme-weather control"
UNIDENTIFIED = "premium not identified: no worker has orders on both kinds of day"
TOO_FEW = "fewer than {min:g} relevant orders in the model"


def check_premium(logs: AuditLogs, *, kind: Literal["holiday", "weather"], thresholds: dict | None = None,
                  df_correction: Literal["dummies", "nested", "none"] = "dummies") -> pd.DataFrame:
    """Estimate the holiday or extreme-weather premium of pay per order.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    kind : {"holiday", "weather"}
        ``holiday`` is art13.holiday_premium, ``weather`` art13.weather_premium.
    thresholds : dict, optional
        Overrides of the rules table (``premium_min_orders``, ``ci_level`` and
        the weather rules ``heat_tmax_c``, ``cold_tmin_c``, ``warning_levels``).
    df_correction : {"dummies", "nested", "none"}
        Small-sample convention of the clustered covariance
        (:mod:`metrics.premium`); ``dummies`` matches statsmodels with worker
        dummies.

    Returns
    -------
    DataFrame
        The findings columns: the main row (metric ``premium_pct``; ``value``
        the premium %, ``threshold`` 0, ``n`` the relevant orders) then one row
        per breakdown label (metric ``premium_pct:<label>``), plus
        ``estimate_pct, ci_low_pct, ci_high_pct, p_value, beta, std_error,
        n_obs, n_clusters`` and, on the main row, ``allowance_share,
        allowance_mean_cny, allowance_orders``.
    """
    _check_options(kind, df_correction)
    return finish_premium([partial_premium(logs, kind=kind, thresholds=thresholds,
                                           df_correction=df_correction)],
                          logs, kind=kind, thresholds=thresholds, df_correction=df_correction)


def partial_premium(logs: AuditLogs, *, kind: Literal["holiday", "weather"], thresholds: dict | None = None,
                    df_correction: Literal["dummies", "nested", "none"] = "dummies") -> dict | None:
    """The premium model's exact partial aggregates of a piece of the logs holding whole workers.

    Returns
    -------
    dict or None
        ``model``: the piece's model rows as :class:`~metrics.premium.PremiumStats`
        per row group (holiday name × set of weather kinds), their row counts,
        the first and last model day and the counts of rows left out (the same
        object for both kinds, cached on the logs); ``allowance``: the counts
        and per-worker allowance sums of this kind's relevant orders.  None
        when the check is insufficient_data whatever the rows (no worker ids;
        no weather table for ``weather``).
    """
    _check_options(kind, df_correction)
    if logs.lacks("worker_ids"):
        return None
    if kind == "weather" and (logs.weather is None or not len(logs.weather)):
        return None
    limits = {**rule_thresholds(), **(thresholds or {})}
    model = _model_part(logs, limits)
    flags = order_flags(logs, thresholds=_weather_thresholds(limits))
    return {"model": model, "allowance": _allowance_part(logs, flags, kind)}


def finish_premium(parts: list, logs: AuditLogs, *, kind: Literal["holiday", "weather"],
                   thresholds: dict | None = None,
                   df_correction: Literal["dummies", "nested", "none"] = "dummies") -> pd.DataFrame:
    """The findings from the partials of :func:`partial_premium` (in any order).

    ``logs`` needs only ``lacks``, ``weather`` and ``cache`` (the platform's
    light logs do); orders are not read.
    """
    _check_options(kind, df_correction)
    check = CHECKS[kind]
    limits = {**rule_thresholds(), **(thresholds or {})}
    if logs.lacks("worker_ids"):
        return _insufficient(check, NO_WORKER_IDS)
    if kind == "weather" and (logs.weather is None or not len(logs.weather)):
        return _insufficient(check, NO_WEATHER)
    models = [p["model"] for p in parts if p is not None]
    has_weather = logs.weather is not None and len(logs.weather) > 0
    # a piece without any distance value fits without log distance; when
    # another piece has distances, the whole model has them and that piece's
    # rows are all left out for their missing distance
    has_dist = any(m["has_dist"] for m in models)
    live = [m for m in models if m["has_dist"] == has_dist]
    notes = ([] if has_weather else [NO_WEATHER_NOTE]) + ([] if has_dist else [NO_DISTANCE_NOTE])
    bad_dist = sum(m["bad_dist"] if m["has_dist"] == has_dist else m["ok_pay"] for m in models)
    excluded = (f"left out: {sum(m['bad_pay'] for m in models)} orders with pay <= 0 or missing, "
                f"{bad_dist} with distance <= 0 or missing, "
                f"{sum(m['uncovered'] for m in live)} in regions without weather rows")
    groups: dict[tuple, list] = {}
    sizes: dict[tuple, int] = {}
    for m in live:
        for key, stats in m["groups"].items():
            groups.setdefault(key, []).append(stats)
            sizes[key] = sizes.get(key, 0) + m["rows"][key]
    if not groups:
        return _insufficient(check, NO_ORDERS)
    min_orders = float(limits["premium_min_orders"])
    ci_level = float(limits["ci_level"])
    flag = "holiday" if kind == "holiday" else "weather"
    keys = sorted(groups)  # the canonical group order: per cluster, sums added in this order

    def fit(select) -> pd.DataFrame:
        stats = PremiumStats.concat([s for k in keys if select(k) for s in groups[k]])
        return stats.solve(df_correction=df_correction, ci_level=ci_level).set_index("term")

    relevant = (lambda k: k[0][0] > 0) if kind == "holiday" else (lambda k: k[1][0] > 0)
    main = _row_figures(_main_fit(logs, models, fit, df_correction, ci_level), flag,
                        sum(sizes[k] for k in keys if relevant(k)), min_orders)
    main["label"] = None

    rows = [main]
    for label, select, n_rel in _breakdowns(keys, sizes, kind):
        r = _row_figures(fit(select), flag, n_rel, min_orders)
        r["label"] = label
        rows.append(r)

    allowance = _allowance_lens([p["allowance"] for p in parts if p is not None])
    notes = "; ".join(notes)
    what = "holiday" if kind == "holiday" else "extreme-weather"
    details = []
    for r in rows:
        scope = f"{what} orders" if r["label"] is None else f"{r['label']} orders against normal days"
        d = (f"{r['why']}premium of base pay on {scope}: {_fmt(r['estimate_pct'])} % "
             f"({ci_level:.0%} CI {_fmt(r['ci_low_pct'])} to {_fmt(r['ci_high_pct'])} %, "
             f"p={_fmt(r['p_value'], 4, 'g')}); beta={_fmt(r['beta'], 6)}, SE={_fmt(r['std_error'], 6)} "
             f"clustered by worker ({r['n_clusters']} workers, df={df_correction}); "
             f"{r['n_obs']} orders in the model, {r['n']} relevant; "
             "log pay on holiday and extreme-weather flags, log distance, hour of day, worker effects")
        if r["label"] is None:
            d += f"; {excluded}"
            if allowance["n"]:
                d += (f"; explicit allowance > 0 on {allowance['share']:.1%} of {allowance['n']} {what} "
                      f"orders, mean {allowance['mean']:.2f} CNY (not in pay)")
        if notes:
            d += f"; {notes}"
        details.append(d)

    first = min(m["first"] for m in live if m["first"] is not None)
    last = max(m["last"] for m in live if m["last"] is not None)
    n_rows = len(rows)
    return make_findings(
        check=check, article=ARTICLE, level=LEVEL, subject=["platform"] * n_rows,
        period_start=[first] * n_rows, period_end=[last] * n_rows,
        metric=[METRIC if r["label"] is None else f"{METRIC}:{r['label']}" for r in rows],
        value=[r["estimate_pct"] for r in rows], threshold=[0.0] * n_rows, unit=UNIT,
        status=[r["status"] for r in rows], n=[r["n"] for r in rows], detail=details,
        estimate_pct=[r["estimate_pct"] for r in rows], ci_low_pct=[r["ci_low_pct"] for r in rows],
        ci_high_pct=[r["ci_high_pct"] for r in rows], p_value=[r["p_value"] for r in rows],
        beta=[r["beta"] for r in rows], std_error=[r["std_error"] for r in rows],
        n_obs=[r["n_obs"] for r in rows], n_clusters=[r["n_clusters"] for r in rows],
        allowance_share=[allowance["share"]] + [np.nan] * (n_rows - 1),
        allowance_mean_cny=[allowance["mean"]] + [np.nan] * (n_rows - 1),
        allowance_orders=[allowance["n"]] + [0] * (n_rows - 1),
    )


def _check_options(kind: str, df_correction: str) -> None:
    if kind not in CHECKS:
        raise ValueError(ERR_KIND.format(kind=kind))
    if df_correction not in ("dummies", "nested", "none"):
        raise ValueError(ERR_DF.format(value=df_correction))


def _main_fit(logs: AuditLogs, models: list, fit, df_correction: str, ci_level: float) -> pd.DataFrame:
    """The fit on all model rows, shared by the two checks when they get the same partials."""
    key = ("art13_premium_fit", df_correction, ci_level)
    ident = sorted(id(m) for m in models)
    hit = logs.cache.get(key)
    if hit is not None and hit[0] == ident:
        return hit[2]
    table = fit(lambda k: True)
    # the partials are kept with their ids, so an id cannot be reused by another object
    logs.cache[key] = (ident, list(models), table)
    return table


def _insufficient(check: str, reason: str) -> pd.DataFrame:
    f = insufficient_finding(check=check, article=ARTICLE, level=LEVEL, reason=reason, metric=METRIC,
                             unit=UNIT)
    for c in EXTRA_COLUMNS:
        f[c] = 0 if c in ("n_obs", "n_clusters", "allowance_orders") else np.nan
    return f


def _fmt(v, digits: int = 2, kind: str = "f") -> str:
    return "NA" if v is None or not np.isfinite(v) else f"{v:.{digits}{kind}}"


def _weather_thresholds(limits: dict) -> dict | None:
    """Weather rule overrides for order_flags, None when they are the defaults (shares its cache)."""
    base = rule_thresholds()
    changed = {k: limits[k] for k in WEATHER_KEYS if k in limits and limits[k] != base.get(k)}
    return changed or None


def _model_frame(logs: AuditLogs, limits: dict) -> dict:
    """The rows, columns and exclusion counts of the premium model on these logs (not cached)."""
    wthr = _weather_thresholds(limits)
    o = logs.completed
    flags = order_flags(logs, thresholds=wthr)
    pay = o["pay"].to_numpy(dtype=float)
    ok_pay = np.isfinite(pay) & (pay > 0)
    x = ["holiday"]
    has_weather = logs.weather is not None and len(logs.weather) > 0
    if has_weather:
        x.append("weather")
        covered = _weather_covered(logs, o)
    else:
        covered = np.ones(len(o), bool)
    # the piece's own answer; finish_premium reconciles pieces that differ
    has_dist = "distance_km" in o.columns and bool(o["distance_km"].notna().any())
    if has_dist:
        dist = o["distance_km"].to_numpy(dtype=float)
        ok_dist = np.isfinite(dist) & (dist > 0)
        x.append("log_dist")
    else:
        ok_dist = np.ones(len(o), bool)
    use = ok_pay & ok_dist & covered
    counts = {"bad_pay": int((~ok_pay).sum()), "ok_pay": int(ok_pay.sum()),
              "bad_dist": int((ok_pay & ~ok_dist).sum()),
              "uncovered": int((ok_pay & ok_dist & ~covered).sum())}
    pos = np.flatnonzero(use)
    # texts are taken as they are (Arrow text stays Arrow, ids stay shared
    # Python objects): no conversion of millions of strings either way
    frame = pd.DataFrame({
        "y": np.log(pay[use]),
        "holiday": flags["is_holiday"].to_numpy()[use].astype(float),
        "weather": flags["is_extreme"].to_numpy()[use].astype(float),
        "hour": o["accepted_at"].dt.hour.to_numpy()[use],
        "worker": pd.Series(text_values(o["worker_id"])[use], dtype=object),
        "date": flags["date"].to_numpy()[use],
        "holiday_name": flags["holiday"].take(pos).reset_index(drop=True),
        "weather_kind": flags["weather_kind"].take(pos).reset_index(drop=True),
    })
    if has_dist:
        frame["log_dist"] = np.log(dist[use])
    return {"frame": frame, "x": x, "has_dist": has_dist, "counts": counts, "flags": flags}


def _model_part(logs: AuditLogs, limits: dict) -> dict:
    """The model part of the partial, cached on the logs (both checks share it)."""
    wthr = _weather_thresholds(limits)
    key = ("art13_premium_part", tuple(sorted(wthr.items())) if wthr else None)
    if key in logs.cache:
        return logs.cache[key]
    model = _model_frame(logs, limits)
    frame = model["frame"]
    groups, rows = _group_stats(frame, model["x"])
    dates = frame["date"]
    part = {"x": tuple(model["x"]), "has_dist": model["has_dist"], "groups": groups, "rows": rows,
            "first": dates.min() if len(dates) else None, "last": dates.max() if len(dates) else None,
            **model["counts"]}
    logs.cache[key] = part
    return part


def _group_stats(frame: pd.DataFrame, x: list[str]) -> tuple[dict, dict]:
    """PremiumStats and row count of each row group of the model.

    A group is a key ``(holiday, weather)``: ``holiday`` is ``(0, "")`` for a
    normal day, ``(1, name)`` for a named holiday and ``(2, "")`` for a
    holiday without a name; ``weather`` is ``(0, ())`` for a normal-weather
    order and ``(1, labels)`` for an extreme-weather one, ``labels`` the
    sorted breakdown labels of its day.  The groups split the rows, so every
    fit (main, per holiday, per weather label) is a union of groups.
    """
    if frame.empty:
        return {}, {}
    hol = frame["holiday"].to_numpy() > 0
    hcode, hnames = pd.factorize(frame["holiday_name"])
    hidx = np.where(~hol, 0, np.where(hcode < 0, 1, hcode + 2))
    hkeys = [(0, ""), (2, "")] + [(1, str(v)) for v in hnames]
    ext = frame["weather"].to_numpy() > 0
    wcode, wkinds = pd.factorize(frame["weather_kind"], use_na_sentinel=False)
    widx = np.where(~ext, 0, wcode + 1)
    wkeys = [(0, ())] + [(1, tuple(sorted(_kind_labels(v)))) for v in wkinds]
    # few distinct (holiday, weather) pairs: name them, and merge pairs with the same key
    pair, upairs = pd.factorize(hidx.astype(np.int64) * len(wkeys) + widx)
    index: dict[tuple, int] = {}
    gmap = np.array([index.setdefault((hkeys[u // len(wkeys)], wkeys[u % len(wkeys)]), len(index))
                     for u in upairs], dtype=np.int64)
    group = gmap[pair]
    # stable: each group's rows keep their order, so a worker's sums run in row order
    order = np.argsort(group, kind="stable")
    sub = frame[["y", *x, "hour", "worker"]].take(order).reset_index(drop=True)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(index)))])
    stats, rows = {}, {}
    for key, j in index.items():
        piece = sub.iloc[bounds[j]:bounds[j + 1]]
        stats[key] = PremiumStats.from_frame(piece, y="y", x=x, category="hour", cluster="worker",
                                             levels=HOURS)
        rows[key] = int(bounds[j + 1] - bounds[j])
    return stats, rows


def _weather_covered(logs: AuditLogs, o: pd.DataFrame) -> np.ndarray:
    """Orders whose region, or its prefecture, has any row in the weather table."""
    have = set(logs.weather["region_code"].dropna().astype(str))
    codes, own = pd.factorize(text_values(o["region_code"]))  # a few regions, many orders
    own = pd.Series(own, dtype=object)
    parent = own.map(region_table().set_index("code")["parent_code"].astype(str))
    return (own.isin(have) | parent.isin(have)).to_numpy()[codes]


def _kind_labels(value) -> list[str]:
    """Breakdown labels of one ``weather_kind`` string (``heat``, ``<type> warning``)."""
    labels = []
    for item in str(value).split(";"):
        item = item.strip()
        if not item:
            continue
        label = item if ":" not in item else f"{item.split(':')[0]} warning"
        if label not in labels:
            labels.append(label)
    return labels


def _row_figures(table: pd.DataFrame, flag: str, n_rel: int, min_orders: float) -> dict:
    r = table.loc[flag]
    beta, lo, hi = float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])
    pct = lambda b: 100.0 * np.expm1(b)  # noqa: E731
    identified = np.isfinite(beta) and np.isfinite(lo)
    if n_rel < min_orders:
        status, why = INSUFFICIENT, TOO_FEW.format(min=min_orders) + "; "
    elif not identified:
        status, why = INSUFFICIENT, UNIDENTIFIED + "; "
    else:
        status, why = (OK if pct(lo) > 0 else VIOLATION), ""
    return {"estimate_pct": pct(beta), "ci_low_pct": pct(lo), "ci_high_pct": pct(hi),
            "p_value": float(r["p_value"]), "beta": beta, "std_error": float(r["std_error"]),
            "n_obs": int(r["n_obs"]), "n_clusters": int(r["n_clusters"]), "n": int(n_rel),
            "status": status, "why": why}


def _breakdowns(keys: list[tuple], sizes: dict, kind: str):
    """(label, group selector, relevant orders) per named holiday or weather kind.

    Largest first, ties by label.  A holiday's fit is its orders and every
    non-holiday order; a weather label's is the extreme-weather orders of
    days with that label (a day can have several) and every normal-weather
    order.
    """
    counts: dict[str, int] = {}
    for (hol, wea) in keys:
        if kind == "holiday" and hol[0] == 1:
            counts[hol[1]] = counts.get(hol[1], 0) + sizes[(hol, wea)]
        elif kind == "weather" and wea[0] == 1:
            for label in wea[1]:
                counts[label] = counts.get(label, 0) + sizes[(hol, wea)]
    for label, n_rel in sorted(counts.items(), key=lambda t: (-t[1], t[0])):
        if kind == "holiday":
            select = (lambda lab: lambda k: k[0][0] == 0 or k[0] == (1, lab))(label)
        else:
            select = (lambda lab: lambda k: k[1][0] == 0 or lab in k[1][1])(label)
        yield label, select, n_rel


def _allowance_part(logs: AuditLogs, flags: pd.DataFrame, kind: str) -> dict:
    """Counts and per-worker allowance sums of this piece's relevant completed orders.

    Summed per worker here (each worker's orders in row order) and across
    workers in finish with :func:`math.fsum`, which does not depend on the
    order: 8 bytes per worker with such orders.
    """
    rel = (flags["is_holiday"] if kind == "holiday" else flags["is_extreme"]).to_numpy(dtype=bool)
    o = logs.completed
    out = {"n": int(rel.sum()), "has_column": "allowance" in o.columns, "n_finite": 0,
           "n_positive": 0, "worker_sums": np.zeros(0)}
    if not out["has_column"] or not out["n"]:
        return out
    a = o["allowance"].to_numpy(dtype=float)[rel]
    fin = np.isfinite(a)
    a = a[fin]
    codes, ids = pd.factorize(o["worker_id"].to_numpy(dtype=object)[rel][fin], use_na_sentinel=False)
    out.update(n_finite=int(len(a)), n_positive=int((a > 0).sum()),
               worker_sums=np.bincount(codes, weights=a, minlength=len(ids)))
    return out


def _allowance_lens(parts: list[dict]) -> dict:
    """Share of holiday (extreme-day) orders with an explicit allowance, and its mean."""
    n = sum(p["n"] for p in parts)
    if not any(p["has_column"] for p in parts) or not n:
        return {"share": np.nan, "mean": np.nan, "n": n}
    n_fin = sum(p["n_finite"] for p in parts)
    if not n_fin:
        return {"share": np.nan, "mean": np.nan, "n": 0}
    # fsum is correctly rounded: the same bits whatever the order of the workers' sums
    total = math.fsum(np.concatenate([p["worker_sums"] for p in parts]).tolist())
    return {"share": sum(p["n_positive"] for p in parts) / n_fin, "mean": total / n_fin, "n": n_fin}


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6 for the premiums (from the main row)."""
    main = findings[findings["metric"] == METRIC]
    if main.empty:
        main = findings.iloc[:1]
    r = main.iloc[0]

    def num(v, digits=6):
        v = float(v)
        return round(v, digits) if np.isfinite(v) else None

    def sig(v):  # p-values can be tiny: keep significant digits, not decimals
        v = float(v)
        return float(f"{v:.6g}") if np.isfinite(v) else None

    n_orders = int(r["n"])
    return {
        "status": str(r["status"]),
        "n": n_orders,
        "estimate_pct": num(r.get("estimate_pct", np.nan), 4),
        "ci_low_pct": num(r.get("ci_low_pct", np.nan), 4),
        "ci_high_pct": num(r.get("ci_high_pct", np.nan), 4),
        "p_value": sig(r.get("p_value", np.nan)),
        "n_orders": n_orders,
        "n_model_orders": int(r.get("n_obs", 0)),
        "allowance_share": num(r.get("allowance_share", np.nan)),
        "allowance_mean_cny": num(r.get("allowance_mean_cny", np.nan), 4),
    }
