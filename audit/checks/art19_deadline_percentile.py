"""Article 19: where the platform's deadline sits among actual delivery times.

冀人社规〔2021〕5号 第十九条 and the 2021 SAMR guideline forbid the "strictest
algorithm" (最严算法) and ask for deadlines set "from the middle" (算法取中).
This check reads that literally: a deadline that most riders need more time
than is stricter than the middle.

Method (SPEC §5):

* Orders: completed, with ``promised_at``, ``delivered_at`` and
  ``distance_km``.  allowance = promised_at − accepted_at, actual =
  delivered_at − accepted_at, both in whole seconds (timestamps truncated to
  the second).
* Comparable orders: the cell region × distance band
  ``floor(distance_km / distance_band_km)`` × hour of day of accepted_at.
  Cells with fewer than ``deadline_cell_min_orders`` (20) orders are left
  out (their orders get no percentile).
* An order's percentile = 100 × (share of the cell's actual durations
  strictly below its allowance + 0.5 × share equal to it): the **mid-rank**
  convention, over the cell *including the order itself*.  E.g. a cell of
  20 orders with actual durations 1..20 min and an allowance of exactly
  10 min: (9 + 0.5) / 20 = 47.5.
* The cell distributions are integer-second histograms
  (:mod:`metrics.histograms`), which merge exactly across partitions of the
  data; the percentiles are read from them.
* Platform value: the median of the order percentiles (``numpy.median``:
  the mean of the two middle values for an even count).  95 % CI: a
  **cluster bootstrap by worker** (Poisson(1) weight per worker, 199
  replicates, fixed seed, percentile interval) of the median, holding the
  cell distributions fixed (the reference distributions' own sampling
  error is not propagated).
* Region rows: the same per region code, so a region with tight deadlines
  shows even when the platform median is fine.

Status: violation below ``deadline_pct_violation`` (50), risk below
``deadline_pct_risk`` (60), else ok; fewer than ``premium_min_orders`` (30)
orders in assessable cells: insufficient_data.

Partitions (map/merge split, issue #8).  An order's percentile needs its
cell's actual durations over the *whole* platform, which a partition does
not see; the protocol has no second pass over the orders, and none is
needed: the percentile is a function of the order's (cell, allowance)
only.  So :func:`partial_deadline_percentile` keeps, per cell, the
integer-second histogram of actual durations and, per worker, the count of
its orders by (cell, allowance); :func:`finish_deadline_percentile` merges
the histograms (integer sums: exact in any order), ranks each distinct
(cell, allowance) pair once against its merged cell (the same mid-rank
expression, so the same float bits as a per-order lookup), and reads the
medians and counts from the pair counts.  The bootstrap resamples workers;
its per-worker statistic is the worker's histogram of order percentiles,
which the per-worker (cell, allowance) counts give exactly.  Cluster codes:
the positions of the worker ids in the sorted union of the pieces' worker
indexes (orders, sessions and workers, as
:func:`audit.checks._common.worker_index` builds in memory), i.e. the
in-memory codes, gaps of workers without a timed order included; the
Poisson draws therefore depend on the platform's ids only, and the CI is
the in-memory one whatever the partitioning.  The platform and the region
bootstraps share one stream of draws (:class:`metrics.proportions.PoissonDraws`),
as each used to draw it again from the same seed.  Size: one row per
distinct (worker, cell, allowance) (about 0.4–0.5 a timed order) of a key
code and a count in the narrowest integer types (3 bytes), a row offset and
the id per worker, and 3–6 bytes per distinct (cell, actual second) and
(cell, allowance) of the piece: about 3 bytes a timed order in all (8.5 MB
for 2.8 M orders in 5 partitions).

:func:`deadline_cells` gives the per-cell table (n, median actual and median
allowance in minutes) for the report chart "allowance against actual
duration by distance band, with the median line".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks._art19 import PLATFORM, deadline_frame, fmt, limits, merged_period, platform_row, span
from audit.checks._common import worker_index
from audit.findings import INSUFFICIENT, OK, RISK, VIOLATION, overall_status
from audit.logs import AuditLogs
from metrics.cluster_moments import narrow_int
from metrics.histograms import (IntHistogram, cell_quantiles, coded_rank_counts, group_pairs,
                                int_histogram, pair_counts, percentile_of_values)
from metrics.proportions import PoissonDraws, coded_bootstrap_median, weighted_median

CHECK = "art19.deadline_percentile"
METRIC = "median_deadline_percentile"
UNIT = "percentile (0-100)"
EXTRA = ["ci_low", "ci_high", "cells", "orders_in_small_cells"]
KEYS = ("region_code", "band", "hour")
NO_ORDERS = "no completed order has promised_at, delivered_at and distance_km"
BOOT_REPS = 199
BOOT_SEED = 19


def duration_histograms(logs: AuditLogs, *, thresholds: dict | None = None
                        ) -> tuple[IntHistogram, IntHistogram]:
    """Histograms of actual durations and of allowances (whole seconds) per cell.

    Cells are region_code × distance band × hour of acceptance.  Both merge
    exactly across partitions of the data (:func:`metrics.histograms.merge`).
    """
    f = deadline_frame(logs, float(limits(thresholds)["distance_band_km"]))
    return (int_histogram(f, KEYS, "actual_s"), int_histogram(f, KEYS, "allowance_s"))


def order_percentiles(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """The deadline frame with each order's mid-rank ``percentile`` and ``cell_n``.

    ``percentile`` is NaN for orders in cells under ``deadline_cell_min_orders``.
    """
    lim = limits(thresholds)
    f = deadline_frame(logs, float(lim["distance_band_km"]))
    actual, _ = duration_histograms(logs, thresholds=thresholds)
    pct = percentile_of_values(actual, f, "allowance_s")
    n = actual.cells().set_index(list(KEYS))["n"]
    cell_n = n.reindex(pd.MultiIndex.from_frame(f[list(KEYS)])).to_numpy()
    small = cell_n < int(lim["deadline_cell_min_orders"])
    return f.assign(cell_n=cell_n, percentile=np.where(small, np.nan, pct))


def deadline_cells(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """Per cell: n, median actual and median allowance (minutes), for the report chart.

    Returns
    -------
    DataFrame
        ``region_code, band, hour, distance_from_km, distance_to_km, n,
        median_actual_min, median_allowance_min, included`` (``included``:
        the cell has at least ``deadline_cell_min_orders`` orders).
        Medians interpolate like ``numpy.median``.
    """
    lim = limits(thresholds)
    band = float(lim["distance_band_km"])
    actual, allowance = duration_histograms(logs, thresholds=thresholds)
    a = cell_quantiles(actual, 0.5)
    b = cell_quantiles(allowance, 0.5).rename(columns={"quantile": "allow"})
    out = a.merge(b[[*KEYS, "allow"]], on=list(KEYS), how="left")
    return pd.DataFrame({
        "region_code": out["region_code"].to_numpy(), "band": out["band"].to_numpy(),
        "hour": out["hour"].to_numpy(),
        "distance_from_km": out["band"].to_numpy() * band,
        "distance_to_km": (out["band"].to_numpy() + 1) * band,
        "n": out["n"].to_numpy(),
        "median_actual_min": out["quantile"].to_numpy() / 60.0,
        "median_allowance_min": out["allow"].to_numpy() / 60.0,
        "included": out["n"].to_numpy() >= int(lim["deadline_cell_min_orders"]),
    })


def check_deadline_percentile(logs: AuditLogs, *, thresholds: dict | None = None,
                              bootstrap_reps: int = BOOT_REPS, seed: int = BOOT_SEED
                              ) -> pd.DataFrame:
    """Median percentile of the deadline among comparable actual durations.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``deadline_pct_violation``, ``deadline_pct_risk``,
        ``deadline_cell_min_orders``, ``distance_band_km``,
        ``premium_min_orders``, ``ci_level``.
    bootstrap_reps, seed : int
        Worker-cluster bootstrap replicates and seed of the CI.

    Returns
    -------
    DataFrame
        Findings: one platform row and one per region (``value`` the median
        percentile, ``n`` the orders in assessable cells) plus ``ci_low,
        ci_high, cells`` (assessable cells) and ``orders_in_small_cells``.
    """
    return finish_deadline_percentile([partial_deadline_percentile(logs, thresholds=thresholds)],
                                      logs, thresholds=thresholds, bootstrap_reps=bootstrap_reps,
                                      seed=seed)


def partial_deadline_percentile(logs: AuditLogs, *, thresholds: dict | None = None) -> dict:
    """Exact partial aggregates of a piece of the logs holding whole workers.

    Parameters
    ----------
    logs : AuditLogs
        A piece of the logs (a worker-hash partition) or the whole logs.
    thresholds : dict, optional
        Only ``distance_band_km`` (the cells) is read here.

    Returns
    -------
    dict
        ``ids``: the piece's worker ids (its worker index: orders, sessions,
        workers; sorted); ``cells``: ``region_code, band, hour`` of the
        piece's cells (row = local cell code); ``actual``: (cell, second,
        count), the histogram of actual durations per cell; ``keys``: (cell,
        allowance) of the piece's distinct pairs (row = local key code);
        ``indptr``, ``key``, ``count``: per worker (rows ``indptr[w]`` to
        ``indptr[w + 1]`` for ``ids[w]``) the count of its orders by key;
        ``first``, ``last``: the first and last acceptance (None if no order).
    """
    f = deadline_frame(logs, float(limits(thresholds)["distance_band_km"]))
    ids = worker_index(logs).ids
    cell = f["cell"].to_numpy(dtype=np.int64)
    rep = np.zeros(int(cell.max()) + 1 if len(cell) else 0, dtype=np.int64)
    rep[cell] = np.arange(len(cell))  # any row of a cell: all share its keys
    cells = pd.DataFrame({"region_code": pd.Series(f["region_code"].to_numpy(dtype=object)[rep],
                                                   dtype=object),
                          "band": f["band"].to_numpy()[rep], "hour": f["hour"].to_numpy()[rep]})
    act_cell, act_value, act_count = pair_counts(cell, f["actual_s"].to_numpy())
    key_cell, key_allow, key = group_pairs(cell, f["allowance_s"].to_numpy())
    # one row per (worker, cell, allowance): what the worker-cluster bootstrap needs,
    # since an order's percentile is a function of its (cell, allowance)
    worker, wkey, count = pair_counts(f["worker"].to_numpy(), key)
    acc = f["accepted_at"]
    return {"ids": ids, "cells": cells,
            "actual": (narrow_int(act_cell), narrow_int(act_value), narrow_int(act_count)),
            "keys": (narrow_int(key_cell), narrow_int(key_allow)),
            "indptr": np.searchsorted(worker, np.arange(len(ids) + 1)).astype(np.int64),
            "key": narrow_int(wkey), "count": narrow_int(count),
            **span(acc)}


def finish_deadline_percentile(parts: list[dict], logs: AuditLogs, *,
                               thresholds: dict | None = None, bootstrap_reps: int = BOOT_REPS,
                               seed: int = BOOT_SEED) -> pd.DataFrame:
    """The findings from the partials of :func:`partial_deadline_percentile` (any order).

    ``logs`` is not read (everything is in the partials); it is the
    protocol's argument.  Options as :func:`check_deadline_percentile`.
    """
    lim = limits(thresholds)
    viol, risk = float(lim["deadline_pct_violation"]), float(lim["deadline_pct_risk"])
    min_n, min_cell = int(lim["premium_min_orders"]), int(lim["deadline_cell_min_orders"])
    level = float(lim["ci_level"])
    parts = [p for p in parts if len(p["key"])]
    if not parts:
        return platform_row(check=CHECK, metric=METRIC, value=np.nan, threshold=viol, unit=UNIT,
                            status=INSUFFICIENT, n=0, detail=NO_ORDERS, first=None, last=None,
                            ci_low=np.nan, ci_high=np.nan, cells=0, orders_in_small_cells=0)
    first, last = merged_period(parts)
    m = _merge(parts, min_cell)
    m["draws"] = PoissonDraws(seed)  # the platform's and the regions' bootstraps: one stream
    rows = [_row(m, np.ones(len(m["kc"]), bool), PLATFORM, "platform", viol, risk, min_n, min_cell,
                 level, bootstrap_reps, seed, first, last)]
    for code, name in enumerate(m["regions"]):  # a handful of regions
        rows.append(_row(m, m["key_region"] == code, str(name), "region", viol, risk, min_n,
                         min_cell, level, bootstrap_reps, seed, first, last))
    return pd.concat(rows, ignore_index=True)


def _merge(parts: list[dict], min_cell: int) -> dict:
    """Global cells, keys, percentiles and (worker, key, count) rows from the partials.

    Cells, keys and worker codes are positions in sorted global tables, so
    nothing depends on the order of the partials; the sums are of integers.
    """
    cells = (pd.concat([p["cells"] for p in parts], ignore_index=True).drop_duplicates()
             .sort_values(list(KEYS), kind="stable").reset_index(drop=True))
    index = pd.MultiIndex.from_frame(cells)
    gcell = [index.get_indexer(pd.MultiIndex.from_frame(p["cells"])) for p in parts]
    # the actual-duration histogram of the whole platform, per cell
    hc, hv, hn = pair_counts(_cat([g[p["actual"][0]] for g, p in zip(gcell, parts)]),
                             _cat([p["actual"][1] for p in parts]),
                             _cat([p["actual"][2] for p in parts]))
    sizes = _int_sums(hc, hn, len(cells))
    # every distinct (cell, allowance) pair, ranked once against its cell's actual durations
    kc, ka, kinv = group_pairs(_cat([g[p["keys"][0]] for g, p in zip(gcell, parts)]),
                               _cat([p["keys"][1] for p in parts]))
    n, below, equal = coded_rank_counts(hc, hv, hn, kc, ka, sizes=sizes)
    nf = n.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (below + 0.5 * equal) / nf  # as metrics.histograms.percentile_of_values
    pct = np.where((n > 0) & (n >= min_cell), pct, np.nan)
    # worker codes: positions in the platform's sorted worker ids (the in-memory codes)
    ids = np.unique(np.concatenate([p["ids"] for p in parts]))
    kmap = np.split(kinv, np.cumsum([len(p["keys"][0]) for p in parts])[:-1])
    # the (worker, key, count) rows, about one per two orders: int32 to bound finish's memory
    worker = np.concatenate([np.repeat(np.searchsorted(ids, p["ids"]).astype(np.int32),
                                       np.diff(p["indptr"])) for p in parts])
    key = np.concatenate([km.astype(np.int32)[p["key"]] for km, p in zip(kmap, parts)])
    count = np.concatenate([p["count"].astype(np.int32) for p in parts])
    key_count = _int_sums(key, count, len(kc))
    regions, cell_region = np.unique(cells["region_code"].to_numpy(dtype=object),
                                     return_inverse=True)
    return {"kc": kc, "pct": pct, "key_count": key_count, "key_region": cell_region[kc],
            "regions": regions, "worker": worker, "key": key, "count": count}


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenated as int64 (the partials' narrow dtypes may differ)."""
    return np.concatenate([np.asarray(a, dtype=np.int64) for a in arrays])


def _int_sums(codes: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Sum of integer counts per code (float64 sums of integers under 2**53 are exact)."""
    return np.bincount(codes, weights=counts, minlength=size).astype(np.int64)


def _row(m: dict, sel: np.ndarray, subject: str, level_name: str, viol: float, risk: float,
         min_n: int, min_cell: int, level: float, reps: int, seed: int, first, last
         ) -> pd.DataFrame:
    """The finding of the orders whose (cell, allowance) key is selected by ``sel``."""
    pct, kcount = m["pct"], m["key_count"]
    ok = sel & ~np.isnan(pct)
    n, small = int(kcount[ok].sum()), int(kcount[sel & np.isnan(pct)].sum())
    cells = len(np.unique(m["kc"][ok]))
    vals, vrank = np.unique(pct[ok], return_inverse=True)
    vcount = _int_sums(vrank, kcount[ok], len(vals))
    if n >= min_n:
        value = weighted_median(vals, vcount)  # numpy.median of the orders' percentiles
        rank = np.full(len(pct), -1, dtype=np.int32)
        rank[ok] = vrank
        rows = ok[m["key"]]
        lo, hi = coded_bootstrap_median(vals, rank[m["key"][rows]], m["worker"][rows],
                                        counts=m["count"][rows], reps=reps, seed=seed,
                                        level=level, draws=m["draws"])
        status = VIOLATION if value < viol else RISK if value < risk else OK
        why = ""
    else:
        value, lo, hi, status = np.nan, np.nan, np.nan, INSUFFICIENT
        why = f"fewer than {min_n} orders in cells of at least {min_cell} orders; "
    below = float(vcount[vals < 50].sum() / n) if n else np.nan
    detail = (f"{why}{n} orders in {cells} cells (region x distance band x hour) of at least "
              f"{min_cell} orders, {small} orders in smaller cells left out; mid-rank percentile; "
              f"share of orders with a deadline below the cell median actual: {fmt(below)}; "
              f"95% CI [{fmt(lo, 2)}, {fmt(hi, 2)}] (worker-cluster bootstrap, {reps} replicates)")
    return platform_row(check=CHECK, metric=METRIC, value=round(value, 4) if n >= min_n else value,
                        threshold=viol, unit=UNIT, status=status, n=n, detail=detail, first=first,
                        last=last, level=level_name, subject=subject, ci_low=lo, ci_high=hi,
                        cells=cells, orders_in_small_cells=small)


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures: the platform median percentile under ``value``, its CI, regions flagged."""
    plat = findings[findings["level"] == "platform"].iloc[0]
    reg = findings[findings["level"] == "region"]

    def num(x, d=4):
        return None if pd.isna(x) else round(float(x), d)

    return {
        "status": overall_status(findings["status"]),
        "n": int(plat["n"]),
        "value": num(plat["value"]),
        "ci_low": num(plat["ci_low"]),
        "ci_high": num(plat["ci_high"]),
        "platform_status": str(plat["status"]),
        "cells": int(plat["cells"]),
        "regions_violation": sorted(reg.loc[reg["status"] == VIOLATION, "subject"].astype(str)),
        "regions_risk": sorted(reg.loc[reg["status"] == RISK, "subject"].astype(str)),
    }
