"""Gaps between two groups of workers: raw, adjusted, and an Oaxaca–Blinder split.

All gaps are **level differences divided by the reference group's mean**
(not log points): outcomes such as a penalty rate or orders per hour can be
0 in a worker-week, where a log is undefined, and a level decomposition adds
up exactly.  For a comparison of group g with reference group r on outcome y:

* raw gap = ȳ_g − ȳ_r, the coefficient of the group dummy in ``y ~ 1 + D``;
* adjusted gap = the coefficient of D in ``y ~ 1 + D + controls``;
* both with 95 % CIs clustered by worker (statsmodels OLS,
  ``cov_type="cluster"``, its default small-sample correction, normal
  quantiles) and as % of ȳ_r (the CI divided by ȳ_r, which is treated as
  known — its sampling error is second order next to the gap's);
* Oaxaca–Blinder twofold split of the raw gap with the reference coefficients
  of the **pooled regression that includes the group dummy** (Fortin 2006,
  Jann 2008; statsmodels' ``OaxacaBlinder.two_fold(two_fold_type="pooled")``):
  explained = (x̄_g − x̄_r)'β*, unexplained = raw − explained.  The pooled
  regression is the adjusted-gap regression, so the unexplained part equals
  the adjusted gap exactly (OLS with an intercept and the dummy fits each
  group's mean), and explained + unexplained = raw by construction.

Pure computation: no thresholds, no law.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

AGE_BANDS = ("<30", "30-44", "45+")
LENGTH_MISMATCH = "y, in_group, cluster and controls must have the same number of rows."


def age_band(age) -> np.ndarray:
    """Age band labels ``<30``, ``30-44``, ``45+`` (None where the age is missing)."""
    a = np.asarray(age, dtype=float)
    out = np.where(a < 30, AGE_BANDS[0], np.where(a < 45, AGE_BANDS[1], AGE_BANDS[2])).astype(object)
    out[np.isnan(a)] = None
    return out


def control_matrix(frame: pd.DataFrame, *, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Float design columns of the controls (no constant).

    Numeric columns enter as they are; categorical ones as dummies with the
    first (sorted) level dropped.  Missing numeric values must be handled by
    the caller (e.g. filled and flagged).
    """
    parts = [frame[numeric].astype(float)] if numeric else []
    for c in categorical:
        d = pd.get_dummies(frame[c].astype(str), prefix=c, drop_first=True, dtype=float)
        parts.append(d)
    if not parts:
        return pd.DataFrame(index=frame.index)
    return pd.concat(parts, axis=1)


def _cluster_fit(y: np.ndarray, X: np.ndarray, cluster: np.ndarray):
    return sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cluster})


def group_gap(y, in_group, cluster, controls: pd.DataFrame | None = None, *,
              ci_level: float = 0.95) -> dict:
    """Raw and adjusted gap of ``in_group`` rows against the other rows, with Oaxaca split.

    Parameters
    ----------
    y : array
        Outcome per observation (e.g. worker-week).
    in_group : bool array
        True for the compared group, False for the reference group.
    cluster : array
        Worker id (or code) of each observation: SEs are clustered on it.
        Only the partition into clusters and the sorted order of the labels
        matter (the labels are recoded 0..G-1), not their values.
    controls : DataFrame, optional
        Control columns (:func:`control_matrix`); columns constant within
        the sample are dropped.
    ci_level : float
        Confidence level.

    Returns
    -------
    dict
        ``reference_mean, group_mean, raw_gap, raw_se, raw_ci_low, raw_ci_high,
        adj_gap, adj_se, adj_ci_low, adj_ci_high, adj_p, explained,
        unexplained`` (levels), the same gaps as % of the reference mean
        (``raw_pct, raw_ci_low_pct, raw_ci_high_pct, adj_pct, adj_ci_low_pct,
        adj_ci_high_pct, explained_pct, unexplained_pct``; NaN when the
        reference mean is 0), ``n`` observations, ``clusters``, and
        ``controls`` (the columns used).
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(in_group, dtype=float)
    # dense codes 0..G-1 in sorted-label order: statsmodels sums the scores per cluster with a
    # bincount over the codes as given (and relabels them by first appearance when they are sparse),
    # so the result would depend on how the labels were numbered, not only on the clusters
    cluster = np.unique(np.asarray(cluster), return_inverse=True)[1].reshape(-1).astype(np.int64)
    C = controls if controls is not None else pd.DataFrame(index=range(len(y)))
    if not (len(d) == len(y) == len(cluster) == len(C)):
        raise ValueError(LENGTH_MISMATCH)
    Cv = C.to_numpy(dtype=float)
    keep = np.ptp(Cv, axis=0) > 0 if Cv.shape[1] else np.zeros(0, bool)
    Cv, names = Cv[:, keep], list(C.columns[keep])
    ones = np.ones((len(y), 1))
    z = float(stats.norm.ppf(0.5 + ci_level / 2))

    raw = _cluster_fit(y, np.column_stack([ones, d]), cluster)
    adj = _cluster_fit(y, np.column_stack([ones, d, Cv]), cluster)
    ref_mean = float(y[d == 0].mean())
    grp_mean = float(y[d == 1].mean())
    raw_gap = grp_mean - ref_mean
    beta_star = adj.params[2:]
    explained = float((Cv[d == 1].mean(0) - Cv[d == 0].mean(0)) @ beta_star) if Cv.shape[1] else 0.0
    out = {
        "reference_mean": ref_mean, "group_mean": grp_mean,
        "raw_gap": raw_gap, "raw_se": float(raw.bse[1]),
        "raw_ci_low": float(raw.params[1] - z * raw.bse[1]),
        "raw_ci_high": float(raw.params[1] + z * raw.bse[1]),
        "adj_gap": float(adj.params[1]), "adj_se": float(adj.bse[1]),
        "adj_ci_low": float(adj.params[1] - z * adj.bse[1]),
        "adj_ci_high": float(adj.params[1] + z * adj.bse[1]),
        "adj_p": float(adj.pvalues[1]),
        "explained": explained, "unexplained": raw_gap - explained,
        "n": int(len(y)), "clusters": int(len(np.unique(cluster))), "controls": names,
    }
    scale = 100.0 / ref_mean if ref_mean != 0 else np.nan
    for src, dst in (("raw_gap", "raw_pct"), ("raw_ci_low", "raw_ci_low_pct"),
                     ("raw_ci_high", "raw_ci_high_pct"), ("adj_gap", "adj_pct"),
                     ("adj_ci_low", "adj_ci_low_pct"), ("adj_ci_high", "adj_ci_high_pct"),
                     ("explained", "explained_pct"), ("unexplained", "unexplained_pct")):
        out[dst] = out[src] * scale
    if ref_mean < 0:  # keep low ≤ high after dividing by a negative mean
        for a, b in (("raw_ci_low_pct", "raw_ci_high_pct"), ("adj_ci_low_pct", "adj_ci_high_pct")):
            out[a], out[b] = out[b], out[a]
    return out


__all__ = ["AGE_BANDS", "age_band", "control_matrix", "group_gap"]
