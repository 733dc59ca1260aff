"""Article 10: no discrimination by sex or age in pay and work.

冀人社规〔2021〕5号 第十条 forbids discriminatory conditions (by sex,
ethnicity, age, …) for platform workers.  A platform's rules can
discriminate without naming a group: fewer orders dispatched per online
hour, lower earnings per hour, heavier fines.  This check measures those
gaps between groups of workers (statistics in :mod:`metrics.disparity`).

Decisions
---------
* **Unit of analysis: the worker-week** (ISO week).  Online hours are the
  union of the worker's sessions in the week (engaged time when there is no
  sessions table, said in ``detail``); weeks under ``min_online_hours_week``
  (2 h) are left out, as for article 12.
* **Outcomes** per worker-week: ``hourly_earnings`` = (pay + bonus − penalty)
  of the week's completed orders ÷ online hours (the article 12 earnings:
  tips and allowances excluded); ``orders_per_hour`` = completed orders ÷
  online hours; ``penalty_rate`` = penalties ÷ (pay + bonus), weeks with no
  pay left out.  Orders belong to the week in which they were accepted.
* **Groups.**  ``gender`` as given in the workers table; ``age`` band
  ``<30``, ``30-44``, ``45+`` with age = year of the data (the year of the
  first accepted order) − ``birth_year``; and each gender × age cell.
  Workers with the attribute missing are left out of that comparison.  The
  **reference group** of an attribute is its group with the most workers
  (ties: first label), or the one given in ``reference``.
* **Gaps** are level differences ÷ the reference group's mean, in % (not
  log points; zeros are common in these outcomes), raw and adjusted for the
  week's region (where most of its orders were accepted, else the workers
  table's region), online hours in the week (linear and squared), vehicle
  and tenure in years at the week's Monday (``workers.joined_on``) where
  the workers table has them (a missing value is its own category / a
  missing-flag).  Each group is compared with the reference group alone
  (the regression sample is the two groups).  95 % CIs clustered by worker.
  The raw gap is split (Oaxaca–Blinder, twofold, pooled coefficients of the
  adjusted regression) into an explained part (different regions, hours,
  vehicles, tenure) and an unexplained part.
* **Status**: ``risk`` when the adjusted gap's CI excludes 0 and its size is
  over ``disparity_gap_risk`` (5 %) of the reference mean, in either
  direction (a disparity is a question for the platform whichever group it
  favours); ``ok`` otherwise.  A group or reference group with fewer than
  ``group_min_workers`` (10) workers is ``insufficient_data``: no value, no
  mean and no count is shown for it (``n`` = 0, ``detail`` says "<10").
  Complementary suppression (a small cell's count recovered by subtracting
  shown counts) is not done; worker counts are shown only for groups of at
  least 10, which is the k-anonymity level the rules table asks for.

Partitions
----------
The map/merge split (:func:`partial_group_disparity`,
:func:`finish_group_disparity`) works on the unit of analysis, the
worker-week.  A piece of the logs holds all orders and sessions of each of
its workers, so the partial is the piece's per-worker-week table: online
hours, completed orders, the sums of earnings, penalty and paid, and the
week's region, keyed by worker **id** (``ids``, sorted; the table's
``worker`` is the position in it), weeks under ``min_online_hours_week``
already left out: 49 bytes a worker-week (about 56 pickled) plus one id a
worker, nothing per order.

* Floats are reduced per worker-week only, each week's orders in file
  order with Kahan compensation
  (:func:`metrics.earnings.sum_by_period`): pandas'
  ``groupby().sum()`` arithmetic, which pandas 3.1 itself swaps for an
  uncompensated ``numpy.add.reduceat`` when a frame's rows happen to be
  sorted by group (a partition of one worker), so pandas is not used for it.
* The finish concatenates the tables, numbers the workers by their sorted
  ids (the in-memory worker order) and sorts by (worker, week) before
  anything is computed across workers; it joins the whole workers table
  (attributes, the worker's region, tenure) and runs the comparisons as
  before.
* The worker clusters of the CIs are recoded 0..G−1 per comparison
  (:func:`metrics.disparity.group_gap`): statsmodels sums the cluster
  scores with a bincount over the labels as given, so numbering gaps
  (workers outside the comparison or of other partitions) moved the last
  bits.
* Whether engaged time replaced online time (no sessions table) travels
  with the partial.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._common import WorkerIndex, engaged_arrays, text_values, time_arrays, worker_index
from audit.findings import INSUFFICIENT, OK, RISK, count_status, insufficient_finding, make_findings, \
    overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds
from metrics.disparity import age_band, control_matrix, group_gap
from metrics.earnings import sum_by_period, hours_by_period
from metrics.intervals import WEEK, period_bound, period_index

CHECK = "art10.group_disparity"
ARTICLE = 10
OUTCOMES = ("hourly_earnings", "orders_per_hour", "penalty_rate")
OUTCOME_UNITS = {"hourly_earnings": "CNY/h", "orders_per_hour": "orders/h", "penalty_rate": "share"}
SMALL_GROUP = "group has fewer than {k} workers (<{k}): not shown"
SMALL_REFERENCE = "reference group {ref} has fewer than {k} workers (<{k}): not shown"
ZERO_REFERENCE = "reference group mean is 0: a % gap is undefined"
NO_ATTRIBUTES = "the workers table has no gender or birth_year values"
NO_WORKERS = "no workers table: gender and age unknown"
NO_WEEKS = "no worker-week with enough online hours and a known group"
EXTRA_COLUMNS = ["attribute", "group", "reference", "outcome", "outcome_unit", "group_mean",
                 "reference_mean", "raw_gap_pct", "raw_ci_low", "raw_ci_high", "ci_low", "ci_high",
                 "p_value", "explained_pct", "unexplained_pct", "workers_group", "workers_reference",
                 "controls", "time_base"]


#: Columns of the partial's per-worker-week table and their dtypes.
WEEK_COLUMNS = {"worker": np.int32, "period_start": np.int64, "hours": np.float64, "orders": np.int32,
                "earnings": np.float64, "penalty": np.float64, "paid": np.float64}


def worker_weeks(logs: AuditLogs, *, min_hours: float) -> tuple[np.ndarray, pd.DataFrame, str]:
    """The sums per worker-week of a piece of the logs holding whole workers.

    Returns
    -------
    (ids, DataFrame, note)
        ``ids``: the sorted worker ids (text) with at least one kept week;
        the frame: ``worker`` (position in ``ids``), ``period_start``
        (seconds), ``hours`` (online), ``orders``, ``earnings``, ``penalty``,
        ``paid`` (sums of the week's completed orders) and ``region`` (where
        most of them were accepted; categorical, missing without orders), one
        row per worker-week with at least ``min_hours`` hours, in no
        particular order; the note says when engaged time replaced online
        time.
    """
    (tg, ts, te), note = time_arrays(logs, "online")
    o = logs.completed
    og, oacc, _ = engaged_arrays(logs)
    pay, bonus, pen = (o[c].to_numpy(float) for c in ("pay", "bonus", "penalty"))
    # sums per (worker, week) only, each of its orders in file order with Kahan compensation
    # (pandas' groupby sum, whose arithmetic changes when a piece's rows happen to be sorted)
    earn = sum_by_period(og, oacc, {"earnings": pay + bonus - pen, "penalty": pen,
                                                "paid": pay + bonus}, "week")
    hours = hours_by_period(tg, ts, te, "week")
    wk = earn.merge(hours, on=["group", "period_start"], how="outer")
    for c in ("earnings", "penalty", "paid"):
        wk[c] = wk[c].fillna(0.0)
    wk["orders"] = wk.pop("n").fillna(0).astype(np.int64)
    wk["hours"] = wk["hours"].fillna(0.0)
    wk = wk[wk["hours"] >= min_hours]

    # region of the week: where most of its orders were accepted (the worker's own is joined in finish)
    week = period_bound(period_index(oacc, "week"), "week")
    top = (pd.DataFrame({"group": og, "period_start": week, "region": text_values(o["region_code"])})
           .value_counts().reset_index()
           .sort_values(["group", "period_start", "count", "region"], ascending=[True, True, False, True],
                        kind="stable").drop_duplicates(["group", "period_start"]))
    wk = wk.merge(top[["group", "period_start", "region"]], on=["group", "period_start"], how="left")

    # keyed by worker id: the piece's worker codes are local to it
    used, local = np.unique(wk["group"].to_numpy(np.int64), return_inverse=True)
    ids = worker_index(logs).names(used)
    table = pd.DataFrame({"worker": local.reshape(-1), **{c: wk[c].to_numpy() for c in WEEK_COLUMNS
                                                        if c != "worker"}})
    table = table.astype(WEEK_COLUMNS)
    table["region"] = pd.Categorical(wk["region"].to_numpy(dtype=object))
    return ids, table, note


def assemble_panel(pieces: list[tuple[np.ndarray, pd.DataFrame]], workers: pd.DataFrame | None
                   ) -> pd.DataFrame:
    """Outcomes and controls per worker-week from the :func:`worker_weeks` of pieces.

    The pieces hold disjoint workers, in any order: the workers are numbered
    by their sorted ids (``group``, the in-memory worker order) and the rows
    sorted by (worker, week) before any computation across workers.
    """
    ids = np.concatenate([i for i, _ in pieces]) if pieces else np.array([], dtype=object)
    uniq, code = np.unique(ids.astype(object), return_inverse=True)
    code = code.reshape(-1)
    frames, offset = [], 0
    for i, t in pieces:
        frames.append(t.assign(worker=code[offset + t["worker"].to_numpy(np.int64)]))
        offset += len(i)
    if frames:
        wk = pd.concat(frames, ignore_index=True)
    else:
        wk = pd.DataFrame({c: np.zeros(0, d) for c, d in WEEK_COLUMNS.items()})
        wk["region"] = pd.Categorical([])
    wk = wk.rename(columns={"worker": "group"})
    wk["group"] = wk["group"].astype(np.int64)
    wk["orders"] = wk["orders"].astype(np.int64)
    wk["region"] = wk["region"].astype(object)
    wk = wk.sort_values(["group", "period_start"], kind="stable").reset_index(drop=True)
    wk.insert(0, "worker_id", uniq[wk["group"].to_numpy()])
    wk["hourly_earnings"] = wk["earnings"] / wk["hours"]
    wk["orders_per_hour"] = wk["orders"] / wk["hours"]
    with np.errstate(divide="ignore", invalid="ignore"):
        wk["penalty_rate"] = np.where(wk["paid"] > 0, wk["penalty"] / wk["paid"].where(wk["paid"] > 0),
                                      np.nan)
    if workers is None:
        wk["region"] = wk["region"].fillna("unknown").astype(str)
        return wk

    w = workers
    attrs = pd.DataFrame({"group": WorkerIndex(uniq).codes(w["worker_id"])})
    for c in ("gender", "birth_year", "vehicle", "joined_on", "region_code"):
        if c in w.columns:
            attrs[c] = w[c].to_numpy()
    attrs = attrs[attrs["group"] >= 0].drop_duplicates("group")
    wk = wk.merge(attrs, on="group", how="left")
    if "region_code" in wk.columns:
        wk["region"] = wk["region"].fillna(wk["region_code"].astype(object))
        wk = wk.drop(columns="region_code")
    wk["region"] = wk["region"].fillna("unknown").astype(str)
    if "joined_on" in wk.columns:
        monday = pd.to_datetime(wk["period_start"].to_numpy().astype("datetime64[s]"))
        joined = pd.to_datetime(wk["joined_on"])
        wk["tenure_years"] = ((monday - joined).dt.days / 365.25).clip(lower=0)
        wk = wk.drop(columns="joined_on")
    return wk


def worker_week_panel(logs: AuditLogs, *, min_hours: float) -> tuple[pd.DataFrame, str]:
    """Outcomes and controls per worker-week (see the module docstring).

    Returns
    -------
    (DataFrame, note)
        Columns ``worker_id``, ``group`` (worker code: position among the
        sorted ids of the panel's workers), ``period_start`` (seconds),
        ``hours``, ``orders``, ``earnings``, ``penalty``, ``paid``, the three
        outcomes, ``region`` and, where the workers table has them,
        ``gender``, ``birth_year``, ``vehicle``, ``tenure_years``; the note
        says when engaged time replaced online time.
    """
    ids, table, note = worker_weeks(logs, min_hours=min_hours)
    return assemble_panel([(ids, table)], logs.workers), note


def _controls(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = ["hours", "hours_sq"]
    f = frame.assign(hours_sq=frame["hours"] ** 2)
    categorical = ["region"]
    if "vehicle" in f.columns and f["vehicle"].notna().any():
        f["vehicle"] = f["vehicle"].fillna("unknown").astype(str)
        categorical.append("vehicle")
    if "tenure_years" in f.columns and f["tenure_years"].notna().any():
        miss = f["tenure_years"].isna()
        f["tenure_years"] = f["tenure_years"].fillna(0.0)
        numeric.append("tenure_years")
        if miss.any():
            f["tenure_missing"] = miss.astype(float)
            numeric.append("tenure_missing")
    return control_matrix(f, numeric=numeric, categorical=categorical)


def check_group_disparity(logs: AuditLogs, *, thresholds: dict | None = None,
                          reference: dict | None = None) -> pd.DataFrame:
    """Gaps between groups of workers by gender, age band and both.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs with a workers table (``gender``, ``birth_year``).
    thresholds : dict, optional
        Overrides of ``group_min_workers``, ``disparity_gap_risk``,
        ``min_online_hours_week``, ``ci_level``.
    reference : dict, optional
        Reference group per attribute, e.g. ``{"gender": "M", "age": "30-44",
        "gender&age": "M&30-44"}``; default: the group with the most workers.

    Returns
    -------
    DataFrame
        One row per (attribute, group vs reference, outcome), level
        ``group``, subject the group label (``gender=F``, ``age=45+``,
        ``gender=F&age=<30``); ``value`` = adjusted gap in % of the
        reference mean; extra columns ``attribute, group, reference,
        outcome, outcome_unit, group_mean, reference_mean, raw_gap_pct,
        raw_ci_low, raw_ci_high, ci_low, ci_high`` (adjusted, %),
        ``p_value, explained_pct, unexplained_pct, workers_group,
        workers_reference, controls, time_base``.
    """
    return finish_group_disparity([partial_group_disparity(logs, thresholds=thresholds)], logs,
                                  thresholds=thresholds, reference=reference)


def partial_group_disparity(logs: AuditLogs, *, thresholds: dict | None = None,
                            reference: dict | None = None) -> dict | None:
    """The per-worker-week sums of a piece of the logs holding whole workers.

    Returns
    -------
    dict or None
        ``ids`` (sorted worker ids), ``weeks`` (:func:`worker_weeks`: 49
        bytes a worker-week, nothing per order) and ``note``; None
        without a workers table (the check then says so and needs nothing).
    """
    if logs.workers is None:
        return None
    limits = {**rule_thresholds(), **(thresholds or {})}
    ids, table, note = worker_weeks(logs, min_hours=float(limits["min_online_hours_week"]))
    return {"ids": ids, "weeks": table, "note": note}


def finish_group_disparity(parts: list, logs: AuditLogs, *, thresholds: dict | None = None,
                           reference: dict | None = None) -> pd.DataFrame:
    """The findings from the partials of :func:`partial_group_disparity` (any order).

    ``logs`` gives the whole workers table and the period; its orders and
    sessions are not read.
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    k_min = int(limits["group_min_workers"])
    gap_risk = 100.0 * float(limits["disparity_gap_risk"])
    ci_level = float(limits["ci_level"])
    reference = reference or {}
    if logs.workers is None:
        return _empty(insufficient_finding(check=CHECK, article=ARTICLE, level="group",
                                           reason=NO_WORKERS))
    parts = [p for p in parts if p is not None]
    wk = assemble_panel([(p["ids"], p["weeks"]) for p in parts], logs.workers)
    note = next((p["note"] for p in parts if p["note"]), "")
    year = int(logs.period[0].year)
    labels: dict[str, pd.Series] = {}
    if "gender" in wk.columns and wk["gender"].notna().any():
        labels["gender"] = wk["gender"].astype(object).where(wk["gender"].notna()).map(
            lambda v: None if v is None or pd.isna(v) else str(v).strip())
    if "birth_year" in wk.columns and wk["birth_year"].notna().any():
        labels["age"] = pd.Series(age_band(year - wk["birth_year"].to_numpy(float)), index=wk.index)
    if len(labels) == 2:
        both = labels["gender"].notna() & labels["age"].notna()
        labels["gender&age"] = (labels["gender"] + "&" + labels["age"]).where(both)
    if not labels:
        return _empty(insufficient_finding(check=CHECK, article=ARTICLE, level="group",
                                           reason=NO_ATTRIBUTES))
    if wk.empty:
        return _empty(insufficient_finding(check=CHECK, article=ARTICLE, level="group", reason=NO_WEEKS))

    period_start = np.datetime64(int(wk["period_start"].min()), "s").astype("datetime64[D]")
    period_end = (np.datetime64(int(wk["period_start"].max()) + WEEK, "s").astype("datetime64[D]")
                  - np.timedelta64(1, "D"))
    controls_all = _controls(wk)
    base = "engaged" if note else "online"
    rows: list[dict] = []
    for attr, lab in labels.items():
        known = lab.notna().to_numpy()
        counts = (pd.DataFrame({"label": lab[known], "group": wk.loc[known, "group"]})
                  .drop_duplicates().groupby("label").size())
        ranked = sorted(counts.index, key=lambda g: (-counts[g], g))
        ref = reference.get(attr, ranked[0] if ranked else None)
        for grp in sorted(g for g in counts.index if g != ref):
            for outcome in OUTCOMES:
                rows.append(_compare(wk, lab, attr, grp, ref, outcome, controls_all, k_min=k_min,
                                     gap_risk=gap_risk, ci_level=ci_level))
    f = pd.DataFrame(rows)
    if f.empty:
        return _empty(insufficient_finding(check=CHECK, article=ARTICLE, level="group", reason=NO_WEEKS))
    detail = f["detail"]
    if note:
        detail = detail + "; " + note
    return make_findings(
        check=CHECK, article=ARTICLE, level="group", subject=f["subject"].to_numpy(),
        period_start=np.full(len(f), period_start), period_end=np.full(len(f), period_end),
        metric=("adjusted_gap_pct_" + f["outcome"]).to_numpy(), value=f["value"].to_numpy(float),
        threshold=gap_risk, unit="% of reference mean", status=f["status"].to_numpy(),
        n=f["n"].to_numpy(), detail=detail.to_numpy(),
        **{c: f[c].to_numpy() for c in EXTRA_COLUMNS if c != "time_base"}, time_base=base,
    )


def _label(attr: str, grp: str) -> str:
    if attr == "gender&age":
        g, a = grp.split("&", 1)
        return f"gender={g}&age={a}"
    return f"{attr}={grp}"


def _compare(wk, lab, attr, grp, ref, outcome, controls_all, *, k_min, gap_risk, ci_level) -> dict:
    row = {"subject": _label(attr, grp), "attribute": attr, "group": grp, "reference": _label(attr, ref),
           "outcome": outcome, "outcome_unit": OUTCOME_UNITS[outcome], "value": np.nan,
           "status": INSUFFICIENT, "n": 0, "controls": ""}
    for c in ("group_mean", "reference_mean", "raw_gap_pct", "raw_ci_low", "raw_ci_high", "ci_low",
              "ci_high", "p_value", "explained_pct", "unexplained_pct", "workers_group",
              "workers_reference"):
        row[c] = np.nan
    sel = (lab.isin([grp, ref]) & wk[outcome].notna()).to_numpy()
    sub = wk.loc[sel]
    in_group = (lab[sel] == grp).to_numpy()
    n_grp = sub.loc[in_group, "group"].nunique()
    n_ref = sub.loc[~in_group, "group"].nunique()
    if n_ref < k_min:
        row["detail"] = SMALL_REFERENCE.format(ref=_label(attr, ref), k=k_min)
        return row
    if n_grp < k_min:
        row["detail"] = SMALL_GROUP.format(k=k_min)
        return row
    res = group_gap(sub[outcome].to_numpy(float), in_group, sub["group"].to_numpy(),
                    controls_all.loc[sel].reset_index(drop=True), ci_level=ci_level)
    row.update(n=res["n"], workers_group=n_grp, workers_reference=n_ref,
               group_mean=res["group_mean"], reference_mean=res["reference_mean"],
               controls=";".join(res["controls"]))
    if res["reference_mean"] == 0:
        row["detail"] = ZERO_REFERENCE
        return row
    row.update(value=round(res["adj_pct"], 4), raw_gap_pct=res["raw_pct"],
               raw_ci_low=res["raw_ci_low_pct"], raw_ci_high=res["raw_ci_high_pct"],
               ci_low=res["adj_ci_low_pct"], ci_high=res["adj_ci_high_pct"], p_value=res["adj_p"],
               explained_pct=res["explained_pct"], unexplained_pct=res["unexplained_pct"])
    significant = res["adj_ci_low_pct"] > 0 or res["adj_ci_high_pct"] < 0
    row["status"] = RISK if significant and abs(res["adj_pct"]) > gap_risk else OK
    row["detail"] = (f"{outcome} per worker-week: {_label(attr, grp)} {res['group_mean']:.4g} vs "
                     f"{_label(attr, ref)} {res['reference_mean']:.4g} ({n_grp} vs {n_ref} workers, "
                     f"{res['n']} worker-weeks); raw gap {res['raw_pct']:+.2f}% "
                     f"[{res['raw_ci_low_pct']:.2f}, {res['raw_ci_high_pct']:.2f}]; adjusted "
                     f"{res['adj_pct']:+.2f}% [{res['adj_ci_low_pct']:.2f}, {res['adj_ci_high_pct']:.2f}], "
                     f"p={res['adj_p']:.4f}; Oaxaca: explained {res['explained_pct']:+.2f}%, "
                     f"unexplained {res['unexplained_pct']:+.2f}% (of the reference mean)")
    return row


def _empty(f: pd.DataFrame) -> pd.DataFrame:
    for c in EXTRA_COLUMNS:
        f[c] = np.nan
    return f


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: comparisons assessed, risks, and the largest significant adjusted gap."""
    counts = count_status(findings["status"])
    assessed = findings[findings["status"].isin([OK, RISK])]
    risky = findings[findings["status"] == RISK]
    top = risky.loc[risky["value"].abs().idxmax()] if len(risky) else None
    return {
        "status": overall_status(findings["status"]),
        "n": int(len(assessed)),
        "comparisons": int(len(assessed)),
        "risks": int(counts[RISK]),
        "insufficient": int(counts[INSUFFICIENT]),
        "value": None if top is None else round(float(top["value"]), 4),
        "largest_gap": None if top is None else f"{top['subject']} {top['outcome']}",
    }
