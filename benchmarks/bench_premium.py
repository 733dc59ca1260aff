"""Benchmark of the art13 premium estimator (metrics.premium) at platform scale.

Generates, vectorised, N orders of G workers with known premiums (holiday
+5 %, extreme weather +12 %), log-distance elasticity 0.55, hour-of-day
effects, worker effects and worker-correlated errors, then times on the same
data, each in a fresh child process (seconds and peak RSS):

* ``PremiumStats.from_frame(...).solve()`` in memory;
* the same built from 8 worker-hash partitions and merged (the out-of-core path);
* pyfixest ``feols("y ~ holiday + weather + log_dist + C(hour) | worker",
  vcov={"CRV1": "worker"})``;
* statsmodels OLS with explicit worker dummies and cluster covariance, on
  subsets of growing worker counts (at most 10 orders per worker), until a run
  exceeds the time limit or its dense design would exceed the memory limit.

Usage::

    python benchmarks/bench_premium.py [--orders 1000000] [--workers 100000]
        [--dummies 500,1000,2000,5000,10000] [--time-limit 300] [--mem-limit-gb 12]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TRUE = {"holiday": np.log(1.05), "weather": np.log(1.12), "log_dist": 0.55}
X = ["holiday", "weather", "log_dist"]


def make_data(n_orders: int, n_workers: int, seed: int = 1) -> pd.DataFrame:
    """Synthetic orders with known premiums (vectorised, no loop over rows or workers)."""
    rng = np.random.default_rng(seed)
    worker = np.sort(rng.integers(0, n_workers, n_orders))
    day = rng.integers(0, 90, n_orders)
    hour = rng.choice(24, n_orders, p=_hour_profile())
    holiday = ((day >= 16) & (day < 24)).astype(float)            # an 8-day break
    weather = np.isin(day, [3, 4, 40, 41, 70]).astype(float)        # extreme days
    dist = rng.lognormal(0.8, 0.6, n_orders)
    hour_eff = np.where(np.isin(hour, [11, 12, 17, 18]), 0.08, np.where((hour >= 22) | (hour < 6), 0.15, 0))
    fe = rng.normal(0, 0.15, n_workers)[worker]
    u = rng.normal(0, 0.08, n_orders) + rng.normal(0, 0.03, n_workers)[worker] * weather
    y = (1.2 + TRUE["holiday"] * holiday + TRUE["weather"] * weather + TRUE["log_dist"] * np.log(dist)
         + hour_eff + fe + u)
    return pd.DataFrame({"y": y, "holiday": holiday, "weather": weather, "log_dist": np.log(dist),
                         "hour": hour, "worker": np.char.add("W", worker.astype(str))})


def _hour_profile() -> np.ndarray:
    p = np.array([1, .5, .3, .2, .2, .3, 1, 3, 5, 6, 8, 12, 12, 7, 5, 5, 6, 10, 10, 7, 5, 3, 2, 1.5])
    return p / p.sum()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(method: str, df: pd.DataFrame, queue) -> None:
    # imports first: their time (scipy.stats, numba, patsy) is not charged to the fit
    import statsmodels.api as sm

    from metrics.premium import PremiumStats
    if method == "pyfixest":
        import pyfixest as pf
    base = _peak_mb()
    t0 = time.perf_counter()
    if method == "premiumstats":
        res = PremiumStats.from_frame(df, y="y", x=X, category="hour", cluster="worker",
                                      levels=range(24)).solve().set_index("term")
        est, se = res.loc[X, "estimate"].to_numpy(), res.loc[X, "std_error"].to_numpy()
    elif method == "premiumstats_partitioned":
        part = pd.util.hash_array(df["worker"].to_numpy()) % 8
        stats = None
        for k in range(8):
            s = PremiumStats.from_frame(df[part == k], y="y", x=X, category="hour", cluster="worker",
                                        levels=range(24))
            stats = s if stats is None else stats + s
        res = stats.solve().set_index("term")
        est, se = res.loc[X, "estimate"].to_numpy(), res.loc[X, "std_error"].to_numpy()
    elif method == "pyfixest":
        # warm the numba JIT on a tiny fit so that compile time is not charged to the big one
        import warnings

        with warnings.catch_warnings():  # the tiny warm-up sample may lack holiday/weather rows
            warnings.simplefilter("ignore")
            pf.feols("y ~ holiday + weather + log_dist + C(hour) | worker", df.head(2000),
                     vcov={"CRV1": "worker"})
        base, t0 = _peak_mb(), time.perf_counter()
        fit = pf.feols("y ~ holiday + weather + log_dist + C(hour) | worker", df, vcov={"CRV1": "worker"})
        tidy = fit.tidy()
        est, se = tidy.loc[X, "Estimate"].to_numpy(), tidy.loc[X, "Std. Error"].to_numpy()
    elif method == "statsmodels_dummies":
        dummies = pd.get_dummies(df[["hour", "worker"]].astype(str), drop_first=True, dtype=float)
        exog = np.column_stack([np.ones(len(df)), df[X].to_numpy(), dummies.to_numpy()])
        groups = pd.factorize(df["worker"])[0]
        fit = sm.OLS(df["y"].to_numpy(), exog).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        est, se = fit.params[1:4], fit.bse[1:4]
    else:
        raise ValueError(method)
    queue.put({"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(), "base_mb": base,
               "estimate": [float(v) for v in est], "std_error": [float(v) for v in se]})


def timed(method: str, df: pd.DataFrame, time_limit: float) -> dict:
    ctx = mp.get_context("fork")  # the child inherits the data; its peak RSS starts near the parent's
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(method, df, queue))
    proc.start()
    proc.join(time_limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"seconds": None, "note": f"stopped after {time_limit:.0f} s"}
    if proc.exitcode != 0:
        return {"seconds": None, "note": f"failed (exit {proc.exitcode})"}
    return queue.get()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--dummies", default="500,1000,2000,5000,10000")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--mem-limit-gb", type=float, default=12.0)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    df = make_data(args.orders, args.workers)
    print(f"data: {len(df):,} orders, {df['worker'].nunique():,} workers, generated in "
          f"{time.perf_counter() - t0:.1f} s; true β: {TRUE}")
    results = {}
    for method in ("premiumstats", "premiumstats_partitioned", "pyfixest"):
        r = timed(method, df, args.time_limit)
        results[method] = r
        _print(method, len(df), df["worker"].nunique(), r)
    if results["premiumstats"].get("seconds") and results["pyfixest"].get("seconds"):
        a, b = results["premiumstats"], results["pyfixest"]
        print(f"ratio pyfixest / PremiumStats: {b['seconds'] / a['seconds']:.2f}x time; "
              f"max |Δβ| = {np.max(np.abs(np.subtract(a['estimate'], b['estimate']))):.2e}")

    print("\nstatsmodels with worker dummies, on subsets (at most 10 orders per worker):")
    rng = np.random.default_rng(2)
    workers = df["worker"].unique()
    for g in (int(v) for v in args.dummies.split(",") if v.strip()):
        sub_w = rng.choice(workers, g, replace=False)
        sub = df[df["worker"].isin(sub_w)]
        sub = sub.groupby("worker", sort=False).head(10).reset_index(drop=True)
        design_gb = len(sub) * (g + 27) * 8 / 1e9
        if design_gb * 3 > args.mem_limit_gb:  # design + pinv work arrays
            print(f"  G={g:>6,} N={len(sub):>8,}: not run, dense design {design_gb:.1f} GB "
                  f"(≈{3 * design_gb:.0f} GB with pinv work arrays > {args.mem_limit_gb:g} GB)")
            print("  statsmodels with dummies stops being feasible here.")
            break
        ours = timed("premiumstats", sub, args.time_limit)
        sm_r = timed("statsmodels_dummies", sub, args.time_limit)
        _print("  PremiumStats", len(sub), g, ours)
        _print("  statsmodels ", len(sub), g, sm_r)
        if sm_r.get("seconds") is None:
            print("  statsmodels with dummies stops being feasible here.")
            break
        diff = np.max(np.abs(np.subtract(ours["std_error"], sm_r["std_error"])) / np.abs(sm_r["std_error"]))
        print(f"  ratio statsmodels / PremiumStats: {sm_r['seconds'] / ours['seconds']:.0f}x time; "
              f"max rel. ΔSE = {diff:.1e}")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk in ("seconds", "peak_mb")}
                      for k, v in results.items()}))


def _print(name: str, n: int, g: int, r: dict) -> None:
    if r.get("seconds") is None:
        print(f"{name:<26} N={n:>9,} G={g:>7,}: {r['note']}")
        return
    est = ", ".join(f"{v:.4f}" for v in r["estimate"])
    print(f"{name:<26} N={n:>9,} G={g:>7,}: {r['seconds']:7.2f} s, peak RSS {r['peak_mb']:7.0f} MB "
          f"(+{r['peak_mb'] - r['base_mb']:.0f}); β(hol, wea, ld) = {est}")


if __name__ == "__main__":
    main()
