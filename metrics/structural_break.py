"""A structural-break test of a piece-rate pay formula, from daily sufficient statistics.

Model (one equation, all completed orders)::

    pay_i = a + b·km_i + γ_{hour(i)} + 1[day_i ≥ τ]·(δa + δb·km_i) + e_i

hour-of-day fixed effects (the first observed hour is the reference) and a
shift of the intercept and of the per-km slope from break day ``τ`` on
(Andrews 1993 "partial structural change", q = 2 shifted coefficients).

How it is computed
------------------
* **Sufficient statistics per worker, day and hour.**  Orders are reduced
  once (:class:`BreakCells`) to (worker, day, hour) cells holding n, Σkm,
  Σpay and (worker, day) rows holding Σkm², Σkm·pay, Σpay²; each day's X'X,
  X'y and y'y follow.  Cumulative sums over days give, for every candidate
  τ, the "after" blocks, so the fit at every candidate date is one small
  (k+2)×(k+2) solve — never a refit on raw rows.  The residual sums the
  clustered statistics need are linear in the same moments (the sum of e
  over a cell is Σpay − a·n − b·Σkm − γ_h·n), so no order is read twice.
* **Candidate dates.**  The days that have orders, trimmed 15 % of those days
  at each end (``trim``); a break "on day j" means days j, j+1, … follow the
  new formula.  Each side must keep ``min_side`` orders.
* **Break date.**  The least-squares date (Bai 1997): the candidate with the
  smallest unrestricted SSR, i.e. the largest homoskedastic F (reported as
  ``sup_f``, Andrews' sup-F statistic).
* **p-value.**  Pay is heteroskedastic and a worker's orders are correlated,
  so the homoskedastic sup-F over-rejects.  The p-value is that of the
  *worker-clustered* sup-LM statistic (Andrews 1993: sup-LM and sup-Wald share
  the limiting law): at each τ the score of (δa, δb) at the no-break fit,
  S(τ) = Σ_{day≥τ} (1, km)·ẽ, with its cluster-robust variance
  V(τ) = G/(G−1)·Σ_g u_g u_g',  u_g = a_g(τ) − P(τ)·(X'X)⁻¹·X_g'ẽ_g,
  (a_g the worker's own after-τ score, P(τ) the after-τ block of X'X, the
  second term accounting for the estimated no-break coefficients).  LM(τ) =
  S'V⁻¹S.  Its null distribution is **simulated from Andrews' limiting
  process** on the candidate grid: sup_j |W(λ_j) − λ_j·W(1)|² / (λ_j(1−λ_j)),
  W a 2-dimensional Brownian motion, λ_j the share of orders before candidate
  j (``reps`` draws, fixed seed, so results are reproducible).  This is
  Andrews' asymptotic distribution evaluated on the actual grid rather than
  his tabulated continuous-trim critical values; the simulated 5 % critical
  value is reported beside.
* **Rates before and after.**  The unrestricted fit at the break date with
  covariance clustered by worker (statsmodels' ``cov_type="cluster"``
  convention: G/(G−1)·(n−1)/(n−K) correction, normal quantiles).  The
  intercept reported is the pay of a 0-km order at the sample's mix of hours
  (a + Σ_h share_h·γ_h), so it does not depend on the reference hour.

Partitions
----------
Pieces of the orders holding whole workers (worker-hash partitions) each
give their :class:`BreakCells`; :meth:`BreakCells.merge` puts them in the
canonical order (worker label, day, hour) and every floating-point sum
across workers runs in that order, so the result does not depend on how
workers are split.  A cell's sums run over one worker's orders in their own
order, the same in every piece.  The hour is kept per worker-day because
the hour effects multiply each worker-day's per-hour counts and Σkm in the
clustered scores; Σkm², Σkm·pay, Σpay² enter only per worker-day.
Computed from cells rather than order by order, the figures differ from a
per-order computation in the last bits (relative 1e-16 to 1e-11).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from metrics.cluster_moments import block_take, canonical_order, cluster_codes, dense_codes, narrow_int

INVALID_TRIM = "trim must be in [0, 0.5). Got {trim!r} instead."
LENGTH_MISMATCH = "day, hour, km, pay and cluster must have the same length."
NO_CANDIDATES = "no candidate break date: too few days or orders on one side of every date"

Q = 2  # shifted coefficients: intercept and per-km slope


@dataclass
class DailyMoments:
    """X'X, X'y, y'y and n of each day (design ``[1, km, hour dummies]``)."""

    days: np.ndarray      # sorted day numbers (days since 1970-01-01) that have orders
    hours: np.ndarray     # observed hours of day; hours[0] is the reference
    xtx: np.ndarray       # (D, k, k)
    xty: np.ndarray       # (D, k)
    yty: np.ndarray       # (D,)
    n: np.ndarray         # (D,)

    @property
    def k(self) -> int:
        return self.xtx.shape[1]


@dataclass
class BreakResult:
    """The outcome of :func:`pay_break_test`.

    Attributes
    ----------
    break_day : int
        Day number (days since 1970-01-01) from which the new formula applies.
    sup_f, sup_lm : float
        Homoskedastic sup-F (its date is ``break_day``) and worker-clustered
        sup-LM (the tested statistic).
    lm_day : int
        Date that maximises the clustered LM (usually ``break_day``).
    p_value, crit_5 : float
        Simulated p-value of ``sup_lm`` and the simulated 5 % critical value.
    estimates : DataFrame
        One row per quantity (``slope_before``, ``slope_after``,
        ``slope_change``, ``intercept_before``, ``intercept_after``,
        ``intercept_change``, ``rate_change_pct``, ``mean_pay_change``):
        ``estimate, se, ci_low, ci_high``.
    scan : DataFrame
        Per candidate: ``day, n_before, lam, ssr, f, lm``.
    theta, cov : ndarray
        Coefficients ``[a, b, γ…, δa, δb]`` of the unrestricted fit at
        ``break_day`` and their clustered covariance.
    """

    break_day: int
    sup_f: float
    sup_lm: float
    lm_day: int
    p_value: float
    crit_5: float
    n: int
    n_clusters: int
    n_before: int
    n_after: int
    reps: int
    estimates: pd.DataFrame
    scan: pd.DataFrame
    theta: np.ndarray
    cov: np.ndarray
    hours: np.ndarray
    extra: dict = field(default_factory=dict)


@dataclass
class BreakCells:
    """Orders reduced to the sums the break test needs, per worker, day and hour.

    A ragged table in the order (cluster label, day, hour): cluster ``g``
    has ``days_per_cluster[g]`` (cluster, day) rows; row ``r`` has
    ``hours_per_row[r]`` (cluster, day, hour) cells.  Every sum is over one
    cluster's orders only (in the orders' own order), so pieces holding whole
    clusters merge exactly (:meth:`merge`) whatever the split.

    Attributes
    ----------
    clusters : ndarray, shape (G,)
        Cluster (worker) labels, sorted.
    days_per_cluster : ndarray of int, shape (G,)
    day : ndarray of int, shape (R,)
        Day number of each (cluster, day) row.
    hours_per_row : ndarray of int, shape (R,)
    km2, kmpay, pay2 : ndarray, shape (R,)
        Σkm², Σkm·pay, Σpay² of the row's orders.
    hour : ndarray of int, shape (C,)
        Hour of day of each (cluster, day, hour) cell.
    n : ndarray of int, shape (C,)
        Orders of the cell.
    km, pay : ndarray, shape (C,)
        Σkm and Σpay of the cell's orders.

    Notes
    -----
    The hour-of-day effects of the fitted formula multiply the per-hour
    counts and Σkm of each worker-day in the clustered scores, so the cells
    keep the hour; Σkm², Σkm·pay, Σpay² only enter per day and per worker.
    """

    clusters: np.ndarray
    days_per_cluster: np.ndarray
    day: np.ndarray
    hours_per_row: np.ndarray
    km2: np.ndarray
    kmpay: np.ndarray
    pay2: np.ndarray
    hour: np.ndarray
    n: np.ndarray
    km: np.ndarray
    pay: np.ndarray

    @property
    def n_orders(self) -> int:
        return int(np.sum(self.n, dtype=np.int64))

    @classmethod
    def from_orders(cls, day: np.ndarray, hour: np.ndarray, km: np.ndarray, pay: np.ndarray,
                    cluster: np.ndarray, *, labels: np.ndarray | None = None) -> "BreakCells":
        """The cells of some orders (a piece holding whole clusters, or all of them).

        Parameters
        ----------
        day, hour : array of int
            Day number and hour of day of each order.
        km, pay : array of float
        cluster : array
            Integer codes into ``labels`` (sorted) when given, else the
            cluster labels (integers, or any sortable values).
        labels : array, optional
        """
        day = np.asarray(day, dtype=np.int64)
        n = len(day)
        if not (len(hour) == len(km) == len(pay) == len(cluster) == n):
            raise ValueError(LENGTH_MISMATCH)
        hour = np.asarray(hour, dtype=np.int64)
        km = np.asarray(km, dtype=float)
        y = np.asarray(pay, dtype=float)
        clusters, gcode = cluster_codes(cluster, labels)
        days, dcode = dense_codes(day)
        hours, hcode = dense_codes(hour)
        G, D, H = len(clusters), len(days), len(hours)
        # two steps, each key spanning a range small enough for a presence table
        urow, row = dense_codes(gcode * D + dcode)                   # sorted: cluster, day
        ukey, cell = dense_codes(row * H + hcode)                    # sorted: cluster, day, hour
        cell_row = ukey // H
        C, R = len(ukey), len(urow)
        # bincount adds in row order, and a cell or row holds one cluster's orders only
        return cls(clusters=clusters,
                   days_per_cluster=np.bincount(urow // D, minlength=G).astype(np.int64),
                   day=days[urow % D] if R else np.zeros(0, dtype=np.int64),
                   hours_per_row=np.bincount(cell_row, minlength=R).astype(np.int64),
                   km2=np.bincount(row, weights=km * km, minlength=R),
                   kmpay=np.bincount(row, weights=km * y, minlength=R),
                   pay2=np.bincount(row, weights=y * y, minlength=R),
                   hour=hours[ukey % H] if C else np.zeros(0, dtype=np.int64),
                   n=np.bincount(cell, minlength=C).astype(np.int64),
                   km=np.bincount(cell, weights=km, minlength=C),
                   pay=np.bincount(cell, weights=y, minlength=C))

    def narrow(self) -> "BreakCells":
        """The same cells with integer columns in their narrowest dtype (smaller pickles)."""
        return replace(self, days_per_cluster=narrow_int(self.days_per_cluster),
                       day=narrow_int(self.day), hours_per_row=narrow_int(self.hours_per_row),
                       hour=narrow_int(self.hour), n=narrow_int(self.n))

    @classmethod
    def merge(cls, parts: list["BreakCells"]) -> "BreakCells":
        """The cells of pieces holding whole clusters, in canonical order (cluster label, day, hour).

        The result does not depend on the order of ``parts`` nor on how the
        clusters were split into them.  No part: the cells of no order.
        """
        if not parts:
            e = np.zeros(0)
            return cls.from_orders(e, e, e, e, np.zeros(0, dtype=np.int64))
        labels = np.concatenate([np.asarray(p.clusters) for p in parts])
        order = canonical_order(labels)
        dpc = np.concatenate([np.asarray(p.days_per_cluster, dtype=np.int64) for p in parts])
        hpr = np.concatenate([np.asarray(p.hours_per_row, dtype=np.int64) for p in parts])
        rows = block_take(dpc, order)
        cells = block_take(hpr, rows)

        def cat(name, at, dtype=None):
            return np.concatenate([np.asarray(getattr(p, name), dtype=dtype) for p in parts])[at]

        return cls(clusters=labels[order], days_per_cluster=dpc[order], day=cat("day", rows, np.int64),
                   hours_per_row=hpr[rows], km2=cat("km2", rows), kmpay=cat("kmpay", rows),
                   pay2=cat("pay2", rows), hour=cat("hour", cells, np.int64), n=cat("n", cells, np.int64),
                   km=cat("km", cells), pay=cat("pay", cells))


@dataclass
class _Layout:
    """Codes of the rows and cells of :class:`BreakCells`."""

    row_g: np.ndarray     # (R,) cluster of each row
    cell_r: np.ndarray    # (C,) row of each cell
    days: np.ndarray
    row_d: np.ndarray     # (R,) day code
    hours: np.ndarray
    cell_h: np.ndarray    # (C,) hour code

    @classmethod
    def of(cls, c: BreakCells) -> "_Layout":
        G, R = len(c.clusters), len(c.day)
        days, row_d = dense_codes(c.day)
        hours, cell_h = dense_codes(c.hour)
        return cls(np.repeat(np.arange(G), np.asarray(c.days_per_cluster, dtype=np.int64)),
                   np.repeat(np.arange(R), np.asarray(c.hours_per_row, dtype=np.int64)),
                   days, row_d, hours, cell_h)


def _daily_moments(c: BreakCells, lay: _Layout) -> DailyMoments:
    """Per-day X'X, X'y, y'y from the cells (sums over clusters in the stored order)."""
    days, hours = lay.days, lay.hours
    D, H = len(days), len(hours)
    cell = lay.row_d[lay.cell_r] * H + lay.cell_h

    def cellsum(w):
        return np.bincount(cell, weights=w, minlength=D * H).reshape(D, H)

    c_n = cellsum(np.asarray(c.n, dtype=float))
    c_x, c_y = cellsum(c.km), cellsum(c.pay)

    def daysum(w):
        return np.bincount(lay.row_d, weights=w, minlength=D)

    k = 2 + H - 1
    xtx = np.zeros((D, k, k))
    xty = np.zeros((D, k))
    n = c_n.sum(1)
    xtx[:, 0, 0] = n
    xtx[:, 0, 1] = xtx[:, 1, 0] = c_x.sum(1)
    xtx[:, 1, 1] = daysum(c.km2)
    j = np.arange(2, k)
    xtx[:, 0, j] = xtx[:, j, 0] = c_n[:, 1:]
    xtx[:, 1, j] = xtx[:, j, 1] = c_x[:, 1:]
    xtx[:, j, j] = c_n[:, 1:]
    xty[:, 0] = c_y.sum(1)
    xty[:, 1] = daysum(c.kmpay)
    xty[:, 2:] = c_y[:, 1:]
    return DailyMoments(days, hours, xtx, xty, daysum(c.pay2), n.astype(np.int64))


def daily_moments(day: np.ndarray, hour: np.ndarray, km: np.ndarray, pay: np.ndarray) -> DailyMoments:
    """Per-day X'X, X'y, y'y for the design ``[1, km, 1[hour=h] for h ≠ first hour]``.

    Built from day × hour cells, so the cost is one pass of ``bincount``
    over the orders whatever k is.
    """
    c = BreakCells.from_orders(day, hour, km, pay, np.zeros(len(day), dtype=np.int64))
    return _daily_moments(c, _Layout.of(c))


def candidate_index(n_per_day: np.ndarray, *, trim: float, min_side: int) -> np.ndarray:
    """Indices j (into the days) of candidate breaks: days j… form the "after" side."""
    if not 0 <= trim < 0.5:
        raise ValueError(INVALID_TRIM.format(trim=trim))
    D = len(n_per_day)
    lo = max(1, int(np.ceil(trim * D)))
    hi = min(D - 1, int(np.floor((1 - trim) * D)))
    j = np.arange(lo, hi + 1)
    before = np.concatenate([[0], np.cumsum(n_per_day)])[j]
    total = int(np.sum(n_per_day))
    return j[(before >= min_side) & (total - before >= min_side)]


def _full_system(m: DailyMoments, after_xtx: np.ndarray, after_xty: np.ndarray):
    """Z'Z and Z'y of the model with the (1, km) shift for each candidate."""
    k = m.k
    A, b = m.xtx.sum(0), m.xty.sum(0)
    T = after_xtx.shape[0]
    zz = np.zeros((T, k + Q, k + Q))
    zz[:, :k, :k] = A
    zz[:, :k, k:] = after_xtx[:, :, :Q]
    zz[:, k:, :k] = after_xtx[:, :Q, :]
    zz[:, k:, k:] = after_xtx[:, :Q, :Q]
    zy = np.zeros((T, k + Q))
    zy[:, :k] = b
    zy[:, k:] = after_xty[:, :Q]
    return zz, zy


def simulate_sup_pvalue(lam: np.ndarray, stat: float, *, q: int = Q, reps: int = 10_000,
                        seed: int = 20251001) -> tuple[float, float]:
    """p-value of a sup-Wald/LM statistic from Andrews' limiting process on a grid.

    Parameters
    ----------
    lam : ndarray
        Increasing sample fractions (0 < λ < 1) of the candidate break points.
    stat : float
        The observed supremum.

    Returns
    -------
    (p_value, critical_value_5pct)
        ``p = (1 + #{sim ≥ stat}) / (1 + reps)``.
    """
    lam = np.asarray(lam, dtype=float)
    rng = np.random.default_rng(seed)
    steps = np.diff(np.concatenate([[0.0], lam, [1.0]]))
    sims = np.empty(reps)
    chunk = max(1, 2_000_000 // (len(steps) * q))
    for s in range(0, reps, chunk):
        r = min(chunk, reps - s)
        w = np.cumsum(rng.standard_normal((r, len(steps), q)) * np.sqrt(steps)[None, :, None], axis=1)
        bridge = w[:, :-1, :] - lam[None, :, None] * w[:, -1:, :]
        sims[s:s + r] = ((bridge ** 2).sum(2) / (lam * (1 - lam))[None, :]).max(1)
    p = (1 + np.count_nonzero(sims >= stat)) / (1 + reps)
    return float(p), float(np.quantile(sims, 0.95))


def _lincomb(theta, cov, c, z):
    est = float(c @ theta)
    se = float(np.sqrt(max(c @ cov @ c, 0.0)))
    return est, se, est - z * se, est + z * se


def pay_break_test(day: np.ndarray, hour: np.ndarray, km: np.ndarray, pay: np.ndarray,
                   cluster: np.ndarray, *, trim: float = 0.15, min_side: int = 30,
                   ci_level: float = 0.95, reps: int = 10_000, seed: int = 20251001,
                   chunk_cells: int = 4_000_000) -> BreakResult | None:
    """Scan break dates of ``pay ~ km + hour FE`` and test for a shift of (intercept, per-km rate).

    Parameters
    ----------
    day : ndarray of int
        Day number of each order (e.g. seconds // 86400).
    hour : ndarray of int
        Hour of day (0–23) of each order.
    km, pay : ndarray of float
        Distance and pay of each order.
    cluster : ndarray of int
        Worker codes (0 … G−1 or any integers).
    trim : float
        Share of days trimmed at each end of the candidate range.
    min_side : int
        Orders needed on each side of a candidate date.
    ci_level : float
        Confidence level of the intervals.
    reps, seed : int
        Draws and seed of the simulated null distribution.
    chunk_cells : int
        Worker × day cells held at once in the clustered scan (memory bound).

    Returns
    -------
    BreakResult or None
        None when no date is a candidate (too few days or orders).
    """
    return pay_break_test_cells(BreakCells.from_orders(day, hour, km, pay, cluster), trim=trim,
                                min_side=min_side, ci_level=ci_level, reps=reps, seed=seed,
                                chunk_cells=chunk_cells)


def pay_break_test_cells(cells: BreakCells, *, trim: float = 0.15, min_side: int = 30,
                         ci_level: float = 0.95, reps: int = 10_000, seed: int = 20251001,
                         chunk_cells: int = 4_000_000) -> BreakResult | None:
    """:func:`pay_break_test` from the orders' :class:`BreakCells` (e.g. merged pieces).

    Residual sums of a cell are its moments times the coefficients
    (Σe = Σpay − a·n − b·Σkm − γ_h·n), so no order is needed; every sum
    across clusters runs in the cells' stored order.
    """
    c = cells
    lay = _Layout.of(c)
    m = _daily_moments(c, lay)
    cand = candidate_index(m.n, trim=trim, min_side=min_side)
    if len(cand) == 0:
        return None
    n = int(m.n.sum())
    k = m.k
    G, R, D, H = len(c.clusters), len(c.day), len(m.days), len(m.hours)
    row_g, cell_r, row_d, cell_h = lay.row_g, lay.cell_r, lay.row_d, lay.cell_h
    cell_g = row_g[cell_r]
    nc = np.asarray(c.n, dtype=float)
    xc, yc = np.asarray(c.km, dtype=float), np.asarray(c.pay, dtype=float)
    xr, k2r, kyr = np.bincount(cell_r, weights=xc, minlength=R), c.km2, c.kmpay

    def by_row(w):
        return np.bincount(cell_r, weights=w, minlength=R)

    def by_cluster(w):
        return np.bincount(row_g, weights=w, minlength=G)

    def by_cluster_hour(w):
        return np.bincount(cell_g * H + cell_h, weights=w, minlength=G * H).reshape(G, H)

    # suffix sums: after-blocks of X'X and X'y for each candidate day
    suf_xtx = np.cumsum(m.xtx[::-1], axis=0)[::-1][cand]
    suf_xty = np.cumsum(m.xty[::-1], axis=0)[::-1][cand]
    suf_n = np.cumsum(m.n[::-1])[::-1][cand]
    lam = 1.0 - suf_n / n

    # restricted (no break) fit
    A, Xy, yy = m.xtx.sum(0), m.xty.sum(0), m.yty.sum()
    beta = np.linalg.solve(A, Xy)
    ssr_r = yy - beta @ Xy

    # unrestricted fit at every candidate: SSR and homoskedastic F
    zz, zy = _full_system(m, suf_xtx, suf_xty)
    theta_all = np.linalg.solve(zz, zy[..., None])[..., 0]
    ssr_u = yy - np.einsum("tk,tk->t", theta_all, zy)
    f = ((ssr_r - ssr_u) / Q) / (ssr_u / (n - k - Q))

    # clustered LM at every candidate: residual sums per cell (e) and per row (km·e)
    gamma = np.concatenate([[0.0], beta[2:]])
    e_c = yc - beta[0] * nc - beta[1] * xc - gamma[cell_h] * nc
    e_r = by_row(e_c)
    ke_r = kyr - beta[0] * xr - beta[1] * k2r - by_row(gamma[cell_h] * xc)
    w = np.zeros((G, k))                         # X_g' e_g
    w[:, 0] = by_cluster(e_r)
    w[:, 1] = by_cluster(ke_r)
    w[:, 2:] = by_cluster_hour(e_c)[:, 1:]
    h = np.linalg.solve(A, w.T).T                # (G, k)
    score = np.stack([np.bincount(row_d, weights=e_r, minlength=D),
                      np.bincount(row_d, weights=ke_r, minlength=D)], axis=1)
    S = np.cumsum(score[::-1], axis=0)[::-1][cand]          # (T, 2)
    T = len(cand)
    saa = np.zeros((T, Q, Q))
    sah = np.zeros((T, Q, k))
    chunk = max(1, min(G, chunk_cells // D))
    for c0 in range(0, G, chunk):
        c1 = min(G, c0 + chunk)
        r0, r1 = np.searchsorted(row_g, [c0, c1])            # rows are in cluster order
        loc = (row_g[r0:r1] - c0) * D + row_d[r0:r1]
        cells = np.zeros(((c1 - c0) * D, Q))
        cells[loc, 0], cells[loc, 1] = e_r[r0:r1], ke_r[r0:r1]
        cells = cells.reshape(c1 - c0, D, Q)
        a = np.cumsum(cells[:, ::-1, :], axis=1)[:, ::-1, :][:, cand, :]   # (g, T, 2)
        for i in range(Q):
            for jj in range(i, Q):
                saa[:, i, jj] += np.einsum("gt,gt->t", a[:, :, i], a[:, :, jj])
        sah += (a.reshape(c1 - c0, T * Q).T @ h[c0:c1]).reshape(T, Q, k)   # one GEMM
    saa[:, 1, 0] = saa[:, 0, 1]
    shh = h.T @ h
    P = suf_xtx[:, :Q, :]                                    # (T, 2, k)
    Psh = np.einsum("tik,tjk->tij", P, sah)                  # P · Σ h a'
    V = saa - Psh - np.swapaxes(Psh, 1, 2) + np.einsum("tik,kl,tjl->tij", P, shh, P)
    V *= G / (G - 1) if G > 1 else 1.0
    lm = np.einsum("ti,ti->t", S, np.linalg.solve(V, S[..., None])[..., 0])

    best = int(np.argmin(ssr_u))
    lm_best = int(np.nanargmax(lm))
    p, crit = simulate_sup_pvalue(lam, float(lm[lm_best]), reps=reps, seed=seed)

    # clustered covariance of the unrestricted fit at the break date
    j = cand[best]
    theta = theta_all[best]
    after_r = row_d >= j
    after_c = after_r[cell_r]
    full_gamma = np.concatenate([[0.0], theta[2:k]])
    eu_c = (yc - theta[0] * nc - theta[1] * xc - full_gamma[cell_h] * nc
            - after_c * (theta[k] * nc + theta[k + 1] * xc))
    eu_r = by_row(eu_c)
    keu_r = (kyr - theta[0] * xr - theta[1] * k2r - by_row(full_gamma[cell_h] * xc)
             - after_r * (theta[k] * xr + theta[k + 1] * k2r))
    sc = np.zeros((G, k + Q))
    sc[:, 0] = by_cluster(eu_r)
    sc[:, 1] = by_cluster(keu_r)
    sc[:, 2:k] = by_cluster_hour(eu_c)[:, 1:]
    sc[:, k] = by_cluster(after_r * eu_r)
    sc[:, k + 1] = by_cluster(after_r * keu_r)
    bread = np.linalg.inv(zz[best])
    K = k + Q
    corr = (G / (G - 1) if G > 1 else 1.0) * (n - 1) / (n - K)
    cov = corr * bread @ (sc.T @ sc) @ bread

    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    hour_share = np.bincount(cell_h, weights=nc, minlength=H) / n
    cvec = {name: np.zeros(K) for name in ("slope_before", "slope_after", "slope_change",
                                           "intercept_before", "intercept_after", "intercept_change",
                                           "mean_pay_change")}
    cvec["slope_before"][1] = 1
    cvec["slope_after"][[1, k + 1]] = 1
    cvec["slope_change"][k + 1] = 1
    cvec["intercept_before"][0] = 1
    cvec["intercept_before"][2:k] = hour_share[1:]
    cvec["intercept_after"][:] = cvec["intercept_before"]
    cvec["intercept_after"][k] = 1
    cvec["intercept_change"][k] = 1
    n_after = int(np.asarray(c.n, dtype=np.int64)[after_c].sum())
    km_after = float(xc[after_c].sum() / n_after)
    cvec["mean_pay_change"][k] = 1
    cvec["mean_pay_change"][k + 1] = km_after
    rows = {name: _lincomb(theta, cov, vec, z) for name, vec in cvec.items()}
    # per-km rate change %, delta method on δb / b
    b, db = theta[1], theta[k + 1]
    pct = 100 * db / b
    grad = np.zeros(K)
    grad[1], grad[k + 1] = -100 * db / b ** 2, 100 / b
    se_pct = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    rows["rate_change_pct"] = (float(pct), se_pct, pct - z * se_pct, pct + z * se_pct)
    est = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "se", "ci_low", "ci_high"])
    scan = pd.DataFrame({"day": m.days[cand], "n_before": n - suf_n, "lam": lam, "ssr": ssr_u,
                         "f": f, "lm": lm})
    return BreakResult(
        break_day=int(m.days[j]), sup_f=float(f[best]), sup_lm=float(lm[lm_best]),
        lm_day=int(m.days[cand[lm_best]]), p_value=p, crit_5=crit, n=n, n_clusters=G,
        n_before=n - n_after, n_after=n_after, reps=reps, estimates=est, scan=scan,
        theta=theta, cov=cov, hours=m.hours, extra={"km_mean_after": km_after, "z": z},
    )


def worker_change(res: BreakResult, day: np.ndarray, hour: np.ndarray, km: np.ndarray,
                  pay: np.ndarray, cluster: np.ndarray) -> pd.DataFrame:
    """What the new formula did to each worker's pay, for the worker's own orders.

    For the orders a worker took from the break day on, the predicted pay
    under the old formula and under the new one (same orders, same hours):
    the mean change per order ``δa + δb·mean km`` with its CI (from the
    clustered covariance), and as % of the old-formula pay.  Beside it, the
    observed pay per km before and after (Σpay / Σkm) with the order counts.

    Returns
    -------
    DataFrame
        One row per cluster with orders after the break: ``cluster, n_before,
        n_after, km_mean_after, change_per_order, ci_low, ci_high,
        change_pct, change_cny, pay_per_km_before, pay_per_km_after``.
    """
    return worker_change_cells(res, BreakCells.from_orders(day, hour, km, pay, cluster))


def worker_change_cells(res: BreakResult, cells: BreakCells) -> pd.DataFrame:
    """:func:`worker_change` from the orders' :class:`BreakCells`; ``cluster`` holds their labels."""
    c = cells
    lay = _Layout.of(c)
    k = len(res.theta) - Q
    th, cov, z = res.theta, res.cov, res.extra["z"]
    nc = np.asarray(c.n, dtype=float)
    xc, yc = np.asarray(c.km, dtype=float), np.asarray(c.pay, dtype=float)
    hcode = np.searchsorted(res.hours, np.asarray(c.hour, dtype=np.int64))
    gamma = np.concatenate([[0.0], th[2:k]])
    old = th[0] * nc + th[1] * xc + gamma[hcode] * nc          # old-formula pay of the cell's orders
    after = (np.asarray(c.day, dtype=np.int64) >= res.break_day)[lay.cell_r]
    G = len(c.clusters)
    key = lay.row_g[lay.cell_r] * 2 + after

    def side(w, is_after):
        return np.bincount(key, weights=w, minlength=2 * G).reshape(G, 2)[:, int(is_after)]

    out = pd.DataFrame({"cluster": c.clusters})
    out["n_before"] = side(nc, False).astype(np.int64)
    out["n_after"] = side(nc, True).astype(np.int64)
    km_b, km_a = side(xc, False), side(xc, True)
    pay_b, pay_a = side(yc, False), side(yc, True)
    old_a = side(old, True)
    keep = (out["n_after"] > 0).to_numpy()
    out = out[keep].reset_index(drop=True)
    km_b, km_a, pay_b, pay_a, old_a = (v[keep] for v in (km_b, km_a, pay_b, pay_a, old_a))
    km_after = km_a / out["n_after"].to_numpy()
    out["km_mean_after"] = km_after
    da, db = th[k], th[k + 1]
    out["change_per_order"] = da + db * km_after
    var = cov[k, k] + 2 * km_after * cov[k, k + 1] + km_after ** 2 * cov[k + 1, k + 1]
    se = np.sqrt(np.clip(var, 0, None))
    out["ci_low"] = out["change_per_order"] - z * se
    out["ci_high"] = out["change_per_order"] + z * se
    out["change_cny"] = out["change_per_order"] * out["n_after"]
    out["change_pct"] = 100 * out["change_cny"] / old_a
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pay_per_km_before"] = np.where(km_b > 0, pay_b / km_b, np.nan)
        out["pay_per_km_after"] = np.where(km_a > 0, pay_a / km_a, np.nan)
    return out


__all__ = ["BreakCells", "BreakResult", "DailyMoments", "candidate_index", "daily_moments",
           "pay_break_test", "pay_break_test_cells", "simulate_sup_pvalue", "worker_change",
           "worker_change_cells"]
