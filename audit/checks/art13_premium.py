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
"""
from __future__ import annotations

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
    if kind not in CHECKS:
        raise ValueError(ERR_KIND.format(kind=kind))
    if df_correction not in ("dummies", "nested", "none"):
        raise ValueError(ERR_DF.format(value=df_correction))
    check = CHECKS[kind]
    limits = {**rule_thresholds(), **(thresholds or {})}
    if logs.lacks("worker_ids"):
        return _insufficient(check, NO_WORKER_IDS)
    if kind == "weather" and (logs.weather is None or not len(logs.weather)):
        return _insufficient(check, NO_WEATHER)
    model = _model_frame(logs, limits)
    if model["frame"].empty:
        return _insufficient(check, NO_ORDERS)
    min_orders = float(limits["premium_min_orders"])
    ci_level = float(limits["ci_level"])
    frame = model["frame"]
    flag = "holiday" if kind == "holiday" else "weather"
    key = ("art13_premium_fit", model["key"], df_correction, ci_level)
    if key not in logs.cache:
        logs.cache[key] = _fit(frame, model["x"], df_correction, ci_level)
    main = _row_figures(logs.cache[key], flag, int(frame[flag].sum()), min_orders)
    main["label"] = None

    rows = [main]
    for label, sub, n_rel in _breakdowns(frame, kind, model["kinds"]):
        res = _fit(sub, model["x"], df_correction, ci_level)
        r = _row_figures(res, flag, n_rel, min_orders)
        r["label"] = label
        rows.append(r)

    allowance = _allowance_lens(logs, model["flags"], kind)
    notes = "; ".join(model["notes"])
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
            d += f"; {model['excluded']}"
            if allowance["n"]:
                d += (f"; explicit allowance > 0 on {allowance['share']:.1%} of {allowance['n']} {what} "
                      f"orders, mean {allowance['mean']:.2f} CNY (not in pay)")
        if notes:
            d += f"; {notes}"
        details.append(d)

    period = frame["date"]
    n_rows = len(rows)
    return make_findings(
        check=check, article=ARTICLE, level=LEVEL, subject=["platform"] * n_rows,
        period_start=[period.min()] * n_rows, period_end=[period.max()] * n_rows,
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
    """The rows, columns and notes of the premium model, cached on the logs."""
    wthr = _weather_thresholds(limits)
    key = ("art13_premium_frame", tuple(sorted(wthr.items())) if wthr else None)
    if key in logs.cache:
        return logs.cache[key]
    o = logs.completed
    flags = order_flags(logs, thresholds=wthr)
    pay = o["pay"].to_numpy(dtype=float)
    ok_pay = np.isfinite(pay) & (pay > 0)
    notes: list[str] = []
    x = ["holiday"]
    has_weather = logs.weather is not None and len(logs.weather) > 0
    if has_weather:
        x.append("weather")
        covered = _weather_covered(logs, o)
    else:
        notes.append(NO_WEATHER_NOTE)
        covered = np.ones(len(o), bool)
    has_dist = "distance_km" in o.columns and o["distance_km"].notna().any()
    if has_dist:
        dist = o["distance_km"].to_numpy(dtype=float)
        ok_dist = np.isfinite(dist) & (dist > 0)
        x.append("log_dist")
    else:
        notes.append(NO_DISTANCE_NOTE)
        ok_dist = np.ones(len(o), bool)
    use = ok_pay & ok_dist & covered
    excluded = (f"left out: {int((~ok_pay).sum())} orders with pay <= 0 or missing, "
                f"{int((ok_pay & ~ok_dist).sum())} with distance <= 0 or missing, "
                f"{int((ok_pay & ok_dist & ~covered).sum())} in regions without weather rows")
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
    out = {"frame": frame, "x": x, "notes": notes, "excluded": excluded, "flags": flags, "key": key,
           "kinds": _kind_labels(frame["weather_kind"])}
    logs.cache[key] = out
    return out


def _weather_covered(logs: AuditLogs, o: pd.DataFrame) -> np.ndarray:
    """Orders whose region, or its prefecture, has any row in the weather table."""
    have = set(logs.weather["region_code"].dropna().astype(str))
    codes, own = pd.factorize(text_values(o["region_code"]))  # a few regions, many orders
    own = pd.Series(own, dtype=object)
    parent = own.map(region_table().set_index("code")["parent_code"].astype(str))
    return (own.isin(have) | parent.isin(have)).to_numpy()[codes]


def _kind_labels(weather_kind: pd.Series) -> dict[str, list[str]]:
    """Breakdown labels of each distinct ``weather_kind`` string (few distinct values)."""
    out: dict[str, list[str]] = {}
    for value in pd.unique(weather_kind):
        labels = []
        for item in str(value).split(";"):
            item = item.strip()
            if not item:
                continue
            label = item if ":" not in item else f"{item.split(':')[0]} warning"
            if label not in labels:
                labels.append(label)
        out[value] = labels
    return out


def _fit(frame: pd.DataFrame, x: list[str], df_correction: str, ci_level: float) -> pd.DataFrame:
    stats = PremiumStats.from_frame(frame, y="y", x=x, category="hour", cluster="worker", levels=HOURS)
    return stats.solve(df_correction=df_correction, ci_level=ci_level).set_index("term")


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


def _breakdowns(frame: pd.DataFrame, kind: str, kinds: dict[str, list[str]]):
    """(label, model rows, relevant orders) per named holiday or weather kind, largest first."""
    if kind == "holiday":
        names = frame["holiday_name"]
        counts = names[frame["holiday"] > 0].value_counts()
        for label, n_rel in counts.items():
            keep = (frame["holiday"] == 0) | (names == label)
            yield str(label), frame[keep.to_numpy()], int(n_rel)
        return
    ext = frame["weather"] > 0
    labels = sorted({lab for labs in kinds.values() for lab in labs})
    # membership per distinct weather_kind, broadcast to the rows by code
    codes, uniq = pd.factorize(frame["weather_kind"], use_na_sentinel=False)
    member = {lab: pd.Series(np.array([lab in kinds[k] if k in kinds else True for k in uniq],
                                      dtype=bool)[codes], index=frame.index)
              for lab in labels}
    counts = sorted(((int((member[lab] & ext).sum()), lab) for lab in labels), key=lambda t: (-t[0], t[1]))
    for n_rel, label in counts:
        if n_rel == 0:
            continue
        keep = ~ext | member[label]
        sub = frame[keep.to_numpy()].copy()
        sub["weather"] = (sub["weather"] > 0).astype(float)
        yield label, sub, n_rel


def _allowance_lens(logs: AuditLogs, flags: pd.DataFrame, kind: str) -> dict:
    """Share of holiday (extreme-day) orders with an explicit allowance, and its mean."""
    rel = (flags["is_holiday"] if kind == "holiday" else flags["is_extreme"]).to_numpy(dtype=bool)
    o = logs.completed
    n = int(rel.sum())
    if "allowance" not in o.columns or not n:
        return {"share": np.nan, "mean": np.nan, "n": n}
    a = o["allowance"].to_numpy(dtype=float)[rel]
    a = a[np.isfinite(a)]
    if not len(a):
        return {"share": np.nan, "mean": np.nan, "n": 0}
    return {"share": float((a > 0).mean()), "mean": float(a.mean()), "n": int(len(a))}


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
