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
  cluster (worker) bootstrap with Poisson(1) weights per cluster; takes
  (cluster, value, count) rows as well as observations, multiplies only
  the values near the median, and can share one stream of draws
  (:class:`PoissonDraws`) between calls, all without changing a bit.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

BAD_LEVEL = "level must lie strictly between 0 and 1; got {level!r}."
LENGTHS_DIFFER = "successes, trials and clusters must have the same length."
BOOT_LENGTHS_DIFFER = "values, clusters and counts must have the same length."
BAD_WINDOW = "window must lie in (0, 0.5]; got {window!r}."
DRAWS_SEED = "the shared draws are of seed {draws!r}, not of seed {seed!r}."
WINDOW = 0.05  # share of observations each side of the median multiplied for every replicate


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
                             level: float = 0.95, batch: int = 25, counts=None,
                             window: float = WINDOW, draws: "PoissonDraws | None" = None
                             ) -> tuple[float, float]:
    """Percentile interval of the median, resampling clusters (Poisson bootstrap).

    Each replicate draws a Poisson(1) weight per cluster (the Poisson
    bootstrap, which needs no cluster count and so merges across
    partitions) and takes the weighted median of the values (mid-point at an
    exact half, as :func:`weighted_median`).  The values are collapsed to a
    sparse cluster × distinct-value count matrix H once; a batch of
    replicates is then one sparse product W H and a cumulative sum.

    Only the columns of H near the median are multiplied: per replicate, the
    weight below and within a window of values holding the middle
    ``2 × window`` of the observations comes from per-cluster totals (one
    dot product each), and the cumulative sum is taken inside the window.  A
    replicate whose median falls outside the window (or whose next value
    with weight does, at an exact half) is recomputed on all of H.  Every
    sum is of integer counts times integer weights, exact in float64, so the
    result equals the plain computation bit for bit; ``window`` changes
    only the time.

    Parameters
    ----------
    values : array-like
        One value per observation (NaN are dropped).
    clusters : array-like of int
        Cluster code (0..G−1) of each observation.  A replicate draws G =
        max code + 1 weights, in code order, so the draws depend on the codes
        only: give canonical codes (e.g. ranks of sorted ids) for results
        that do not depend on how the data were split.
    reps, seed : int
        Number of replicates and the seed (fixed, for byte-identical outputs).
        The weights are the first reps × G Poisson(1) draws of
        ``numpy.random.default_rng(seed)``, replicate by replicate.
    level : float
        Confidence level of the percentile interval.
    batch : int
        Replicates per sparse product (bounds memory: batch × distinct values).
        The draws are consumed in order, so it does not change the result.
    counts : array-like of int, optional
        Multiplicity of each observation (non-negative integers): a row
        counts as ``counts`` observations of its value in its cluster, e.g.
        one row per (cluster, value) instead of one per observation.  None:
        every row once.
    window : float
        Half-width, as a share of the observations, of the window of values
        around the median multiplied for every replicate (0 < window ≤ 0.5).
    draws : PoissonDraws, optional
        The draws of ``seed``, shared by several calls (e.g. a platform and
        its regions, each drawing the same stream from its start) so that
        they are drawn once; the result is the same as without.

    Returns
    -------
    (low, high) : tuple of float
    """
    v = np.asarray(values, dtype=float)
    c = np.asarray(clusters)
    w = None if counts is None else np.asarray(counts)
    if v.shape != c.shape or (w is not None and w.shape != v.shape):
        raise ValueError(BOOT_LENGTHS_DIFFER)
    keep = ~np.isnan(v)
    if not keep.all():
        v, c, w = v[keep], c[keep], (None if w is None else w[keep])
    vals, r = np.unique(v, return_inverse=True)
    return coded_bootstrap_median(vals, r, c, counts=w, reps=reps, seed=seed, level=level,
                                  batch=batch, window=window, draws=draws)


def coded_bootstrap_median(sorted_values, codes, clusters, *, counts=None, reps: int = 199,
                           seed: int = 0, level: float = 0.95, batch: int = 25,
                           window: float = WINDOW, draws: "PoissonDraws | None" = None
                           ) -> tuple[float, float]:
    """:func:`cluster_bootstrap_median` of values given as codes into their sorted distinct values.

    Parameters
    ----------
    sorted_values : ndarray of float
        The distinct values, ascending (no NaN).
    codes : array-like of int
        Per row, the index of its value in ``sorted_values``.
    clusters, counts, reps, seed, level, batch, window, draws
        As :func:`cluster_bootstrap_median` (the rows with a zero count are
        ignored).

    Returns
    -------
    (low, high) : tuple of float
        The same interval as :func:`cluster_bootstrap_median` of
        ``sorted_values[codes]``, without sorting the rows again.
    """
    from scipy import sparse

    vals = np.asarray(sorted_values, dtype=float)
    r = np.asarray(codes)
    c = np.asarray(clusters)
    w = np.ones(len(r)) if counts is None else np.asarray(counts, dtype=float)
    if not (r.shape == c.shape == w.shape):
        raise ValueError(BOOT_LENGTHS_DIFFER)
    if not 0.0 < window <= 0.5:
        raise ValueError(BAD_WINDOW.format(window=window))
    if draws is not None and draws.seed != seed:
        raise ValueError(DRAWS_SEED.format(draws=draws.seed, seed=seed))
    if not (w > 0).all():
        r, c, w = r[w > 0], c[w > 0], w[w > 0]
    if len(r) == 0:
        return float("nan"), float("nan")
    _z(level)
    g = int(c.max()) + 1
    H = sparse.csc_matrix((w, (c, r)), shape=(g, len(vals)))  # duplicates summed
    H.sum_duplicates()
    del r, c, w
    present = np.asarray(H.sum(axis=0)).ravel() > 0
    if not present.all():  # values without weight (codes need not cover them all)
        H, vals = H[:, present], vals[present]
    lo_i, hi_i = _median_window(np.asarray(H.sum(axis=0)).ravel(), window)
    below = np.asarray(H[:, :lo_i].sum(axis=1)).ravel()   # per cluster, values under the window
    inner = H[:, lo_i:hi_i].T.tocsr()                       # window values × clusters
    within = np.asarray(inner.sum(axis=0)).ravel()
    full = H.T.tocsr()
    del H
    total = np.asarray(full.sum(axis=0)).ravel()
    weights = (draws or PoissonDraws(seed)).first(reps * g).reshape(reps, g)
    meds = []
    for start in range(0, reps, batch):  # batches of replicates, not a loop over orders
        b = min(batch, reps - start)
        W = weights[start:start + b].astype(float)
        med = np.empty(b)
        half = 0.5 * (W @ total)
        low = W @ below
        fits = (low < half) & (low + W @ within > half)
        if fits.any():
            cum = low[fits, None] + np.cumsum(np.asarray(inner @ W[fits].T).T, axis=1)
            h = half[fits, None]
            i = lo_i + (cum < h).sum(axis=1)
            j = lo_i + (cum <= h).sum(axis=1)
            exact = cum[np.arange(len(i)), i - lo_i] == h[:, 0]
            med[fits] = np.where(exact, (vals[i] + vals[j]) / 2, vals[i])
        if not fits.all():
            med[~fits] = _replicate_medians(full, W[~fits], vals)
        meds.append(med)
    alpha = 1 - level
    lo, hi = np.nanquantile(np.concatenate(meds), [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


class PoissonDraws:
    """The Poisson(1) draws of ``numpy.random.default_rng(seed)``, in order, kept for reuse.

    ``first(n)`` gives the first n draws of the stream, drawing more when
    needed.  numpy's Poisson sampler consumes the bit generator draw by
    draw, so the stream does not depend on how it is cut into calls: the
    first n draws are those of ``default_rng(seed).poisson(1.0, n)``.
    Stored as uint8 (a Poisson(1) draw above 255 has probability under
    1e-500; a larger one would widen the dtype).
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._drawn = np.zeros(0, dtype=np.uint8)

    def first(self, n: int) -> np.ndarray:
        """The first ``n`` draws (a read-only view)."""
        if n > len(self._drawn):
            more = self._rng.poisson(1.0, size=n - len(self._drawn))
            dtype = np.uint8 if more.max(initial=0) <= 255 else np.int64
            self._drawn = np.concatenate([self._drawn, more.astype(dtype)])
        view = self._drawn[:n]
        view.flags.writeable = False
        return view


def _median_window(weights: np.ndarray, window: float) -> tuple[int, int]:
    """Value positions [lo, hi) holding the observations ranked within ±window of the median."""
    cum = np.cumsum(weights)
    total = cum[-1]
    lo = int(np.searchsorted(cum, (0.5 - window) * total, side="left"))
    hi = int(np.searchsorted(cum, (0.5 + window) * total, side="right")) + 1
    return max(0, min(lo, len(cum) - 1)), min(hi, len(cum))


def _replicate_medians(full, W: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Weighted median of each weight row of W over all values (``full``: values × clusters)."""
    cum = np.cumsum(np.asarray(full @ W.T).T, axis=1)
    half = 0.5 * cum[:, -1:]
    i = np.minimum((cum < half).sum(axis=1), len(vals) - 1)
    j = np.minimum((cum <= half).sum(axis=1), len(vals) - 1)
    exact = cum[np.arange(len(W)), i] == half[:, 0]
    med = np.where(exact, (vals[i] + vals[j]) / 2, vals[i])
    return np.where(half[:, 0] > 0, med, np.nan)


__all__ = ["PoissonDraws", "cluster_bootstrap_median", "clustered_share", "coded_bootstrap_median",
           "quantile_ci", "weighted_median", "wilson"]
