"""A structural-break test of a piece-rate pay formula, from daily sufficient statistics.

Model (one equation, all completed orders)::

    pay_i = a + b·km_i + γ_{hour(i)} + 1[day_i ≥ τ]·(δa + δb·km_i) + e_i

hour-of-day fixed effects (the first observed hour is the reference) and a
shift of the intercept and of the per-km slope from break day ``τ`` on
(Andrews 1993 "partial structural change", q = 2 shifted coefficients).

How it is computed
------------------
* **Sufficient statistics per day.**  Orders are reduced once to cells
  (day × hour) holding n, Σkm, Σkm², Σpay, Σkm·pay, Σpay²; each day's X'X,
  X'y and y'y follow.  Cumulative sums over days give, for every candidate
  τ, the "after" blocks, so the fit at every candidate date is one small
  (k+2)×(k+2) solve — never a refit on raw rows.
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
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

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


def daily_moments(day: np.ndarray, hour: np.ndarray, km: np.ndarray, pay: np.ndarray) -> DailyMoments:
    """Per-day X'X, X'y, y'y for the design ``[1, km, 1[hour=h] for h ≠ first hour]``.

    Built from day × hour cells, so the cost is one pass of ``bincount``
    over the orders whatever k is.
    """
    day = np.asarray(day, dtype=np.int64)
    hour = np.asarray(hour, dtype=np.int64)
    km = np.asarray(km, dtype=float)
    y = np.asarray(pay, dtype=float)
    days, dcode = _codes(day)
    hours, hcode = _codes(hour)
    D, H = len(days), len(hours)
    cell = dcode * H + hcode

    def cellsum(w):
        return np.bincount(cell, weights=w, minlength=D * H).reshape(D, H)

    c_n = cellsum(None)
    c_x, c_xx = cellsum(km), cellsum(km * km)
    c_y, c_xy = cellsum(y), cellsum(km * y)
    yty = np.bincount(dcode, weights=y * y, minlength=D)
    k = 2 + H - 1
    xtx = np.zeros((D, k, k))
    xty = np.zeros((D, k))
    n = c_n.sum(1)
    xtx[:, 0, 0] = n
    xtx[:, 0, 1] = xtx[:, 1, 0] = c_x.sum(1)
    xtx[:, 1, 1] = c_xx.sum(1)
    j = np.arange(2, k)
    xtx[:, 0, j] = xtx[:, j, 0] = c_n[:, 1:]
    xtx[:, 1, j] = xtx[:, j, 1] = c_x[:, 1:]
    xtx[:, j, j] = c_n[:, 1:]
    xty[:, 0] = c_y.sum(1)
    xty[:, 1] = c_xy.sum(1)
    xty[:, 2:] = c_y[:, 1:]
    return DailyMoments(days, hours, xtx, xty, yty, n.astype(np.int64))


def _codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and the code of each element (``np.unique`` without a sort
    when the values span a small integer range, as days and hours do)."""
    v = np.asarray(v, dtype=np.int64)
    if v.size == 0:
        return v, v
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > 4 * v.size + 1_000_000:
        return np.unique(v, return_inverse=True)
    present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
    lookup = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, lookup[v - lo]


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
    day = np.asarray(day, dtype=np.int64)
    n = len(day)
    if not (len(hour) == len(km) == len(pay) == len(cluster) == n):
        raise ValueError(LENGTH_MISMATCH)
    m = daily_moments(day, hour, km, pay)
    cand = candidate_index(m.n, trim=trim, min_side=min_side)
    if len(cand) == 0:
        return None
    km = np.asarray(km, dtype=float)
    y = np.asarray(pay, dtype=float)
    k = m.k
    _, dcode = _codes(day)
    _, hcode = _codes(hour)
    gcode, gid = pd.factorize(np.asarray(cluster), sort=False)  # hashing: no sort of n rows
    G = len(gid)

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

    # clustered LM at every candidate
    gamma = np.concatenate([[0.0], beta[2:]])
    e = y - beta[0] - beta[1] * km - gamma[hcode]
    H = len(m.hours)
    w = np.zeros((G, k))                         # X_g' e_g
    w[:, 0] = np.bincount(gcode, weights=e, minlength=G)
    w[:, 1] = np.bincount(gcode, weights=km * e, minlength=G)
    w[:, 2:] = np.bincount(gcode * H + hcode, weights=e, minlength=G * H).reshape(G, H)[:, 1:]
    h = np.linalg.solve(A, w.T).T                # (G, k)
    D = len(m.days)
    score = np.stack([np.bincount(dcode, weights=e, minlength=D),
                      np.bincount(dcode, weights=km * e, minlength=D)], axis=1)
    S = np.cumsum(score[::-1], axis=0)[::-1][cand]          # (T, 2)
    T = len(cand)
    saa = np.zeros((T, Q, Q))
    sah = np.zeros((T, Q, k))
    chunk = max(1, min(G, chunk_cells // D))
    for c0 in range(0, G, chunk):
        c1 = min(G, c0 + chunk)
        rows = slice(None) if chunk >= G else np.flatnonzero((gcode >= c0) & (gcode < c1))
        loc = (gcode[rows] - c0) * D + dcode[rows]
        cells = np.stack([np.bincount(loc, weights=e[rows], minlength=(c1 - c0) * D),
                          np.bincount(loc, weights=km[rows] * e[rows], minlength=(c1 - c0) * D)],
                         axis=1).reshape(c1 - c0, D, Q)
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
    after = dcode >= j
    full_gamma = np.concatenate([[0.0], theta[2:k]])
    shift = after * (theta[k] + theta[k + 1] * km)
    eu = y - theta[0] - theta[1] * km - full_gamma[hcode] - shift
    sc = np.zeros((G, k + Q))
    sc[:, 0] = np.bincount(gcode, weights=eu, minlength=G)
    sc[:, 1] = np.bincount(gcode, weights=km * eu, minlength=G)
    sc[:, 2:k] = np.bincount(gcode * H + hcode, weights=eu, minlength=G * H).reshape(G, H)[:, 1:]
    sc[:, k] = np.bincount(gcode, weights=after * eu, minlength=G)
    sc[:, k + 1] = np.bincount(gcode, weights=after * km * eu, minlength=G)
    bread = np.linalg.inv(zz[best])
    K = k + Q
    corr = (G / (G - 1) if G > 1 else 1.0) * (n - 1) / (n - K)
    cov = corr * bread @ (sc.T @ sc) @ bread

    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    hour_share = np.bincount(hcode, minlength=H) / n
    c = {name: np.zeros(K) for name in ("slope_before", "slope_after", "slope_change",
                                        "intercept_before", "intercept_after", "intercept_change",
                                        "mean_pay_change")}
    c["slope_before"][1] = 1
    c["slope_after"][[1, k + 1]] = 1
    c["slope_change"][k + 1] = 1
    c["intercept_before"][0] = 1
    c["intercept_before"][2:k] = hour_share[1:]
    c["intercept_after"][:] = c["intercept_before"]
    c["intercept_after"][k] = 1
    c["intercept_change"][k] = 1
    km_after = float(km[after].mean())
    c["mean_pay_change"][k] = 1
    c["mean_pay_change"][k + 1] = km_after
    rows = {name: _lincomb(theta, cov, vec, z) for name, vec in c.items()}
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
    n_after = int(after.sum())
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
    day = np.asarray(day, dtype=np.int64)
    km = np.asarray(km, dtype=float)
    y = np.asarray(pay, dtype=float)
    k = len(res.theta) - Q
    th, cov, z = res.theta, res.cov, res.extra["z"]
    hcode = np.searchsorted(res.hours, np.asarray(hour, dtype=np.int64))
    gamma = np.concatenate([[0.0], th[2:k]])
    old = th[0] + th[1] * km + gamma[hcode]
    after = day >= res.break_day
    gcode, gid = pd.factorize(np.asarray(cluster), sort=True)
    G = len(gid)
    cell = gcode * 2 + after

    def side(w, is_after):
        return np.bincount(cell, weights=w, minlength=2 * G).reshape(G, 2)[:, int(is_after)]

    out = pd.DataFrame({"cluster": gid})
    out["n_before"] = side(None, False).astype(np.int64)
    out["n_after"] = side(None, True).astype(np.int64)
    km_b, km_a = side(km, False), side(km, True)
    pay_b, pay_a = side(y, False), side(y, True)
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


__all__ = ["BreakResult", "DailyMoments", "candidate_index", "daily_moments", "pay_break_test",
           "simulate_sup_pvalue", "worker_change"]
