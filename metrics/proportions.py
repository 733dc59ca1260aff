"""Shares, quantiles and their confidence intervals, with clustered data in mind.

Orders of one worker are not independent (a rider who is often late is late
again), so a share over orders gets a cluster-robust standard error and an
interval whose width reflects it:

* :func:`clustered_share` — the share Σy / Σn of per-cluster counts, its
  cluster-robust (CR1) standard error, identical to statsmodels' OLS of the
  0/1 outcome on a constant with ``cov_type="cluster"``, and a Wilson score
  interval computed on the *effective* sample size n / deff, where the design
  effect deff = cluster-robust variance ÷ binomial variance (floored at 1, so
  clustering never narrows the interval).  Wilson keeps the interval inside
  [0, 1] and behaves near 0, where late or over-speed shares live.
* :func:`wilson` — the plain Wilson score interval (vectorised).
* :func:`quantile_ci` — the distribution-free order-statistic interval of a
  quantile (binomial ranks); assumes independent observations.
* :func:`cluster_bootstrap_median` — percentile interval of a median from a
  cluster (worker) bootstrap with Poisson(1) weights per cluster.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

BAD_LEVEL = "level must lie strictly between 0 and 1; got {level!r}."
LENGTHS_DIFFER = "successes, trials and clusters must have the same length."


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(BAD_LEVEL.format(level=level))
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson(successes, trials, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials`` (arrays; NaN where trials is 0)."""
    z = _z(level)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def clustered_share(successes, trials, *, level: float = 0.95) -> dict:
    """A share over observations grouped in clusters, with a clustered interval.

    Parameters
    ----------
    successes, trials : array-like
        Per cluster (e.g. per worker): the count of events (late orders) and
        of observations (orders with a deadline).
    level : float
        Confidence level.

    Returns
    -------
    dict
        ``share``, ``n`` (Σ trials), ``clusters`` (clusters with a trial),
        ``se`` (cluster-robust, CR1: G/(G−1) × Σ_g (y_g − p n_g)² / n²),
        ``deff`` (design effect, ≥ 1), ``n_eff`` (n / deff), ``ci_low``,
        ``ci_high`` (Wilson on n_eff).  NaN figures when n is 0.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if k.shape != n.shape:
        raise ValueError(LENGTHS_DIFFER)
    keep = n > 0
    k, n = k[keep], n[keep]
    total, g = float(n.sum()), int(keep.sum())
    nan = float("nan")
    if total == 0:
        return {"share": nan, "n": 0, "clusters": 0, "se": nan, "deff": nan, "n_eff": nan,
                "ci_low": nan, "ci_high": nan}
    p = float(k.sum()) / total
    if g > 1:
        var = g / (g - 1) * float(np.sum((k - p * n) ** 2)) / total ** 2
    else:
        var = nan
    binom = p * (1 - p) / total
    deff = max(1.0, var / binom) if binom > 0 and np.isfinite(var) else 1.0
    n_eff = total / deff
    lo, hi = wilson(p * n_eff, n_eff, level=level)
    return {"share": p, "n": int(total), "clusters": g, "se": float(np.sqrt(var)), "deff": deff,
            "n_eff": n_eff, "ci_low": float(lo), "ci_high": float(hi)}


def quantile_ci(values, q: float, *, level: float = 0.95) -> dict:
    """Quantile (linear interpolation, as ``numpy.quantile``) and its order-statistic CI.

    The interval [x_(l), x_(u)] uses the ranks l, u of the Binomial(n, q)
    distribution that cover at least ``level`` (distribution-free, for
    independent observations): l = F⁻¹((1−level)/2), u = F⁻¹((1+level)/2) + 1
    (1-based ranks, clipped to 1..n).

    Returns
    -------
    dict
        ``estimate``, ``ci_low``, ``ci_high``, ``n``.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    alpha = 1 - level
    _z(level)
    lo_rank = int(max(stats.binom.ppf(alpha / 2, n, q), 1))
    hi_rank = int(min(stats.binom.ppf(1 - alpha / 2, n, q) + 1, n))
    ranks = sorted({lo_rank - 1, hi_rank - 1})
    part = np.partition(x, ranks)
    return {"estimate": float(np.quantile(x, q)), "ci_low": float(part[lo_rank - 1]),
            "ci_high": float(part[hi_rank - 1]), "n": n}


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted median of values sorted ascending (non-negative weights).

    The first value whose cumulative weight reaches half the total; where the
    cumulative weight equals exactly half, the mean of that value and the next
    one with positive weight (so integer weights give ``numpy.median``).
    """
    cum = np.cumsum(weights)
    total = cum[-1]
    if total <= 0:
        return float("nan")
    i = int(np.searchsorted(cum, 0.5 * total, side="left"))
    if cum[i] * 2 == total:
        j = int(np.searchsorted(cum, cum[i], side="right"))  # next value with weight
        return float((values[i] + values[j]) / 2)
    return float(values[i])


def cluster_bootstrap_median(values, clusters, *, reps: int = 199, seed: int = 0,
                             level: float = 0.95, batch: int = 25) -> tuple[float, float]:
    """Percentile interval of the median, resampling clusters (Poisson bootstrap).

    Each replicate draws a Poisson(1) weight per cluster (the Poisson
    bootstrap, which needs no cluster count and so merges across
    partitions) and takes the weighted median of the values (mid-point at an
    exact half, as :func:`weighted_median`).  The values are collapsed to a
    sparse cluster × distinct-value count matrix H once; a batch of
    replicates is then one sparse product W H and a cumulative sum.

    Parameters
    ----------
    values : array-like
        One value per observation (NaN are dropped).
    clusters : array-like of int
        Cluster code (0..G−1) of each observation.
    reps, seed : int
        Number of replicates and the seed (fixed, for byte-identical outputs).
    batch : int
        Replicates per sparse product (bounds memory: batch × distinct values).

    Returns
    -------
    (low, high) : tuple of float
    """
    from scipy import sparse

    v = np.asarray(values, dtype=float)
    c = np.asarray(clusters, dtype=np.int64)
    keep = ~np.isnan(v)
    v, c = v[keep], c[keep]
    if len(v) == 0:
        return float("nan"), float("nan")
    _z(level)
    vals, r = np.unique(v, return_inverse=True)
    g = int(c.max()) + 1
    H = sparse.csr_matrix((np.ones(len(v)), (c, r)), shape=(g, len(vals)))
    rng = np.random.default_rng(seed)
    meds = []
    for start in range(0, reps, batch):  # batches of replicates, not a loop over orders
        b = min(batch, reps - start)
        W = rng.poisson(1.0, size=(b, g)).astype(float)
        cum = np.cumsum(np.asarray(H.T @ W.T).T, axis=1)
        half = 0.5 * cum[:, -1:]
        i = np.minimum((cum < half).sum(axis=1), len(vals) - 1)
        j = np.minimum((cum <= half).sum(axis=1), len(vals) - 1)
        exact = cum[np.arange(b), i] == half[:, 0]
        med = np.where(exact, (vals[i] + vals[j]) / 2, vals[i])
        meds.append(np.where(half[:, 0] > 0, med, np.nan))
    alpha = 1 - level
    lo, hi = np.nanquantile(np.concatenate(meds), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


__all__ = ["cluster_bootstrap_median", "clustered_share", "quantile_ci", "weighted_median", "wilson"]
