"""Regressions from sufficient statistics that merge exactly across partitions.

Two estimators used by the article-19 checks, each computed from sums that can
be taken per partition of the data and added (SPEC §8):

* :class:`OLSStats` — X'X, X'y, y'y, Σy and n of an ordinary least-squares
  regression; :meth:`OLSStats.fit` gives the coefficients and R²
  (``1 − SSR/SST``, SST about the mean, so an intercept is expected in X).
  :func:`r2_interval` is the Olkin–Finn large-sample interval of R², which
  assumes independent observations.
* :func:`trend_stats` / :func:`fit_trend` — the slope of y on t with fixed
  effects of a cell (the within estimator: y and t demeaned per cell) and
  cluster-robust (CR1) standard errors, from per (cluster, cell) sums
  ``n, Σt, Σy, Σt², Σty``.  It equals statsmodels' OLS of y on t and cell
  dummies with ``cov_type="cluster"`` (small-sample factor
  G/(G−1) × (N−1)/(N−K), K = cells + 1) and t(G−1) inference.
  :func:`keyed_trend_stats` / :func:`merge_keyed_trend_stats` name the
  clusters and cells of a partition by keys (worker id, cell key columns)
  and merge partitions into one table in canonical (cluster, cell) order,
  so the fit's floating-point sums do not depend on the partitioning.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

SHAPES_DIFFER = "X must be 2-D with one row per y value; got X {x} and y {y}."
NAMES_DIFFER = "OLSStats to merge must have the same columns; got {a} and {b}."
TREND_COLUMNS = ("cluster", "cell", "t", "y")
TREND_SUMS = ["n", "st", "sy", "stt", "sty", "syy"]
TREND_FIT_SUMS = ["n", "st", "sy", "stt", "sty"]  # what fit_trend reads


@dataclass(frozen=True)
class OLSStats:
    """Sufficient statistics of an OLS regression."""

    names: tuple[str, ...]
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    sy: float
    n: int

    def __add__(self, other: "OLSStats") -> "OLSStats":
        if self.names != other.names:
            raise ValueError(NAMES_DIFFER.format(a=self.names, b=other.names))
        return OLSStats(self.names, self.xtx + other.xtx, self.xty + other.xty,
                        self.yty + other.yty, self.sy + other.sy, self.n + other.n)

    def fit(self) -> dict:
        """Coefficients (least-norm where X is rank-deficient) and fit figures.

        Returns
        -------
        dict
            ``coef`` (Series by column name), ``r2``, ``ssr``, ``sst``,
            ``n``, ``rank`` (of X'X; a constant column such as a holiday flag
            never set does not count).
        """
        beta = np.linalg.pinv(self.xtx, hermitian=True) @ self.xty
        ssr = float(self.yty - 2 * beta @ self.xty + beta @ self.xtx @ beta)
        sst = float(self.yty - self.sy ** 2 / self.n) if self.n else float("nan")
        r2 = 1 - ssr / sst if sst > 0 else float("nan")
        rank = int(np.linalg.matrix_rank(self.xtx, hermitian=True)) if self.n else 0
        return {"coef": pd.Series(beta, index=list(self.names)), "r2": r2, "ssr": ssr, "sst": sst,
                "n": self.n, "rank": rank}


def ols_stats(X: np.ndarray, y: np.ndarray, names: tuple[str, ...] | list[str]) -> OLSStats:
    """Sufficient statistics of one partition (X includes the intercept column)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise ValueError(SHAPES_DIFFER.format(x=X.shape, y=y.shape))
    return OLSStats(tuple(names), X.T @ X, X.T @ y, float(y @ y), float(y.sum()), int(len(y)))


def grouped_ols_stats(codes: np.ndarray, Z: np.ndarray, u: np.ndarray, y: np.ndarray,
                      names: tuple[str, ...] | list[str]) -> OLSStats:
    """Sufficient statistics when most regressors are constant within groups.

    Observation i has regressors ``x_i = [Z[codes[i]], u[i]]``: the rows of
    ``Z`` (one per group: intercept, dummies, flags) and the per-observation
    columns ``u`` (e.g. log distance).  X'X and X'y are assembled from
    per-group moments taken with ``numpy.bincount`` (O(N) and no N × K
    matrix), so this equals :func:`ols_stats` on the dense design.

    Parameters
    ----------
    codes : array of int, shape (N,)
        Group of each observation, 0..G−1.
    Z : array, shape (G, q)
        Group-level regressors.
    u : array, shape (N, p)
        Observation-level regressors.
    y : array, shape (N,)
    names : sequence of str
        q + p column names, Z's first.
    """
    codes = np.asarray(codes, dtype=np.int64)
    Z = np.asarray(Z, dtype=float)
    u = np.asarray(u, dtype=float).reshape(len(codes), -1)
    y = np.asarray(y, dtype=float)
    g, p = Z.shape[0], u.shape[1]

    def gsum(w=None):
        return np.bincount(codes, weights=w, minlength=g).astype(float)

    n_g = gsum()
    su = np.column_stack([gsum(u[:, j]) for j in range(p)])
    suu = np.array([[float(u[:, a] @ u[:, b]) for b in range(p)] for a in range(p)])
    sy = gsum(y)
    suy = np.array([float(u[:, j] @ y) for j in range(p)])
    return assemble_grouped(Z, n_g, su, sy, suu, suy, float(y @ y), float(y.sum()), int(len(y)), names)


def assemble_grouped(Z: np.ndarray, n_g: np.ndarray, su: np.ndarray, sy: np.ndarray, suu: np.ndarray,
                     suy: np.ndarray, yty: float, sy_total: float, n: int,
                     names: tuple[str, ...] | list[str]) -> OLSStats:
    """X'X and X'y of the design ``[Z[group], u]`` from per-group and total moments.

    ``n_g``, ``su`` (m, p) and ``sy`` are the rows, Σu and Σy of each group;
    ``suu`` (p, p) and ``suy`` (p,) the totals Σuu' and Σuy.  Shared by
    :func:`grouped_ols_stats` and :meth:`metrics.cluster_moments.GroupMoments.ols_stats`.
    """
    zz = (Z * n_g[:, None]).T @ Z
    zu = Z.T @ su
    xtx = np.block([[zz, zu], [zu.T, suu]])
    xty = np.concatenate([Z.T @ sy, suy])
    return OLSStats(tuple(names), xtx, xty, yty, sy_total, n)


def r2_interval(r2: float, n: int, k: int, *, level: float = 0.95) -> tuple[float, float, float]:
    """Olkin–Finn standard error and normal interval of R² (independent observations).

    SE² = 4 R² (1 − R²)² (n − k − 1)² / ((n² − 1)(n + 3)), k predictors
    besides the intercept; the interval is clipped to [0, 1].

    Returns
    -------
    (se, low, high)
    """
    if n <= k + 1 or not np.isfinite(r2):
        return float("nan"), float("nan"), float("nan")
    se = float(np.sqrt(4 * r2 * (1 - r2) ** 2 * (n - k - 1) ** 2 / ((n * n - 1) * (n + 3))))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return se, max(0.0, r2 - z * se), min(1.0, r2 + z * se)


def trend_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (cluster, cell) sums for :func:`fit_trend`; concatenate partitions and re-sum to merge.

    Parameters
    ----------
    frame : DataFrame
        ``cluster`` (int code), ``cell`` (int code), ``t`` and ``y`` (float).

    Returns
    -------
    DataFrame
        ``cluster, cell, n, st, sy, stt, sty, syy``.
    """
    t = frame["t"].to_numpy(dtype=float)
    y = frame["y"].to_numpy(dtype=float)
    z = pd.DataFrame({"cluster": frame["cluster"].to_numpy(), "cell": frame["cell"].to_numpy(),
                      "n": 1, "st": t, "sy": y, "stt": t * t, "sty": t * y, "syy": y * y})
    return z.groupby(["cluster", "cell"], sort=True).sum().reset_index()


def merge_trend_stats(*parts: pd.DataFrame) -> pd.DataFrame:
    """Sum partial :func:`trend_stats` tables (exact)."""
    return (pd.concat(parts, ignore_index=True).groupby(["cluster", "cell"], sort=True)[TREND_SUMS]
            .sum().reset_index())


def keyed_trend_stats(cluster: np.ndarray, cell: np.ndarray, t: np.ndarray, y: np.ndarray, *,
                      cluster_keys: np.ndarray, cell_keys: Sequence[np.ndarray]) -> dict:
    """:func:`trend_stats` of a piece of the data with clusters and cells named by keys.

    The int codes of a piece (a partition) are its own; the keys (e.g. a
    worker id, a region × band × hour) are the same in every piece, so
    :func:`merge_keyed_trend_stats` can put the blocks of all pieces in one
    canonical order.  Each block's sums are taken over its observations in
    their order, as :func:`trend_stats` does, so they do not depend on the
    rest of the piece.

    Parameters
    ----------
    cluster, cell : int arrays, shape (N,)
        Codes of each observation's cluster and cell (local to the piece).
    t, y : float arrays, shape (N,)
    cluster_keys : array
        ``cluster_keys[c]`` names cluster code ``c`` (e.g. the worker id).
    cell_keys : sequence of arrays, shape (N,) each
        Per observation, the columns naming its cell (constant within a cell
        code), e.g. region, distance band, hour.

    Returns
    -------
    dict
        ``clusters`` (the keys of the piece's clusters), ``blocks`` (int32:
        each cluster's number of blocks), ``cells`` (list of arrays: the key
        columns of the piece's cells), and per (cluster, cell) block, sorted
        by cluster, ``c`` (position in ``cells``, uint16 when that holds
        it), ``n`` (int32) and ``st, sy, stt, sty`` (float64): 38 bytes a
        block.
    """
    cell = np.asarray(cell)
    s = trend_stats(pd.DataFrame({"cluster": np.asarray(cluster), "cell": cell, "t": t, "y": y}))
    used_w, blocks = np.unique(s["cluster"].to_numpy(), return_counts=True)  # s sorted by cluster
    used_c, first = np.unique(cell, return_index=True)
    return {"clusters": np.asarray(cluster_keys)[used_w], "blocks": blocks.astype(np.int32),
            "cells": [np.asarray(k)[first] for k in cell_keys],
            "c": np.searchsorted(used_c, s["cell"].to_numpy()).astype(
                np.uint16 if len(used_c) <= np.iinfo(np.uint16).max else np.int32),
            "n": s["n"].to_numpy().astype(np.int32),  # a piece has < 2**31 orders
            **{c: s[c].to_numpy(dtype=float) for c in TREND_FIT_SUMS if c != "n"}}


def merge_keyed_trend_stats(parts: Sequence[dict]) -> pd.DataFrame:
    """The :func:`trend_stats` table of the union of pieces, in canonical order.

    Clusters are coded by the rank of their key and cells by the rank of
    their key tuple (lexicographic, first column first), and the blocks are
    sorted by (cluster, cell): :func:`fit_trend` sums floats across blocks
    in row order, so this order makes its result independent of how the
    data were split and of the order of ``parts``.

    Parameters
    ----------
    parts : sequence of dict
        Outputs of :func:`keyed_trend_stats` (any order; a cluster's blocks
        in one piece).

    Returns
    -------
    DataFrame
        ``cluster, cell, n, st, sy, stt, sty`` (no ``syy``, which
        :func:`fit_trend` does not use), index 0..len−1.
    """
    parts = [p for p in parts if len(p["n"])]
    if not parts:
        return pd.DataFrame({"cluster": np.zeros(0, np.int64), "cell": np.zeros(0, np.int64),
                             **{c: np.zeros(0, np.int64 if c == "n" else float)
                                for c in TREND_FIT_SUMS}})
    ids, wcode = np.unique(np.concatenate([p["clusters"] for p in parts]), return_inverse=True)
    ranks = [np.unique(np.concatenate([p["cells"][j] for p in parts]), return_inverse=True)[1].ravel()
             for j in range(len(parts[0]["cells"]))]
    _, ccode = np.unique(np.column_stack(ranks), axis=0, return_inverse=True)
    wcode, ccode = wcode.ravel(), ccode.ravel()
    w_off = np.cumsum([0] + [len(p["clusters"]) for p in parts])
    c_off = np.cumsum([0] + [len(p["cells"][0]) for p in parts])
    s = pd.DataFrame({
        "cluster": np.concatenate([np.repeat(wcode[w_off[i]:w_off[i + 1]], p["blocks"])
                                   for i, p in enumerate(parts)]).astype(np.int64),
        "cell": np.concatenate([ccode[c_off[i]:c_off[i + 1]][p["c"]]
                                for i, p in enumerate(parts)]).astype(np.int64),
        **{c: np.concatenate([p[c] for p in parts]).astype(np.int64 if c == "n" else float)
           for c in TREND_FIT_SUMS}})
    order = np.lexsort((s["cell"].to_numpy(), s["cluster"].to_numpy()))
    return s.take(order).reset_index(drop=True)


def fit_trend(s: pd.DataFrame, *, level: float = 0.95) -> dict:
    """Within-cell slope of y on t with cluster-robust inference.

    Parameters
    ----------
    s : DataFrame
        Output of :func:`trend_stats` (or merged partials), rows sorted by
        (cluster, cell): the float sums across blocks follow the row order
        (:func:`merge_keyed_trend_stats` gives that order).
    level : float
        Confidence level.

    Returns
    -------
    dict
        ``slope, se, t, p_value, ci_low, ci_high, n, clusters, cells, df``;
        NaN figures when t does not vary within cells or there are fewer
        than 2 clusters.
    """
    cell = s.groupby("cell", sort=True)[["n", "st", "sy"]].sum()
    tbar = (cell["st"] / cell["n"]).reindex(s["cell"]).to_numpy()
    ybar = (cell["sy"] / cell["n"]).reindex(s["cell"]).to_numpy()
    n, st, sy = (s[c].to_numpy(dtype=float) for c in ("n", "st", "sy"))
    stt, sty = s["stt"].to_numpy(dtype=float), s["sty"].to_numpy(dtype=float)
    # demeaned cross-products of each (cluster, cell) block
    txy = sty - tbar * sy - ybar * st + n * tbar * ybar
    txx = stt - 2 * tbar * st + n * tbar ** 2
    sxx, sxy = float(txx.sum()), float(txy.sum())
    big_n, n_cells = int(n.sum()), len(cell)
    g = int(s["cluster"].nunique())
    nan = float("nan")
    out = {"slope": nan, "se": nan, "t": nan, "p_value": nan, "ci_low": nan, "ci_high": nan,
           "n": big_n, "clusters": g, "cells": n_cells, "df": g - 1}
    k = n_cells + 1
    if sxx <= 1e-12 * max(1.0, float(stt.sum())) or g < 2 or big_n <= k:
        return out
    b = sxy / sxx
    score = pd.Series(txy - b * txx).groupby(s["cluster"].to_numpy()).sum().to_numpy()
    c = g / (g - 1) * (big_n - 1) / (big_n - k)
    se = float(np.sqrt(c * np.sum(score ** 2)) / sxx)
    tval = b / se if se > 0 else nan
    q = float(stats.t.ppf(0.5 + level / 2, g - 1))
    out.update(slope=b, se=se, t=tval, p_value=float(2 * stats.t.sf(abs(tval), g - 1)),
               ci_low=b - q * se, ci_high=b + q * se)
    return out


__all__ = ["OLSStats", "assemble_grouped", "fit_trend", "grouped_ols_stats", "keyed_trend_stats",
           "merge_keyed_trend_stats", "merge_trend_stats", "ols_stats", "r2_interval", "trend_stats"]
