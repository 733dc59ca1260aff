"""Benchmark: art19.pay_rule_change's break scan and art10's gap regressions at scale.

    .venv/bin/python benchmarks/bench_pay_rule_change_disparity.py [--orders 10000000] [--workers 100000]

Prints seconds and peak memory (tracemalloc, numpy allocations) of
``metrics.structural_break.pay_break_test`` on synthetic orders (90 days,
hour FE, a rate change on day 60) and of ``metrics.disparity.group_gap`` on a
worker-week panel (13 weeks per worker, region/vehicle/hours/tenure controls).
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from metrics.disparity import control_matrix, group_gap
from metrics.structural_break import pay_break_test, worker_change


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.orders
    day = 20_000 + rng.integers(0, args.days, n)
    hour = rng.integers(0, 24, n)
    km = rng.uniform(0.3, 8.0, n)
    g = rng.integers(0, args.workers, n)
    after = day >= 20_060
    pay = (np.where(after, 5.0, 4.5) + np.where(after, 0.88, 1.1) * km) * np.exp(rng.normal(0, 0.06, n))

    tracemalloc.start()
    t = time.perf_counter()
    res = pay_break_test(day, hour, km, pay, g)
    t_scan = time.perf_counter() - t
    t = time.perf_counter()
    w = worker_change(res, day, hour, km, pay, g)
    t_workers = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"pay_break_test: {n:,} orders, {args.workers:,} workers, {args.days} days: {t_scan:.2f} s "
          f"(break day {res.break_day - 20_000}, p={res.p_value:.4f}); worker_change {t_workers:.2f} s "
          f"({len(w):,} workers); peak traced {peak / 2**20:.0f} MiB")

    # art10: one comparison on a worker-week panel
    G = args.workers
    weeks = 13
    wid = np.repeat(np.arange(G), weeks)
    female = (np.arange(G) % 4 == 0)[wid]
    hours = rng.uniform(2, 60, G * weeks)
    frame = pd.DataFrame({"hours": hours, "hours_sq": hours ** 2, "tenure": rng.uniform(0, 5, G)[wid],
                          "region": rng.choice(list("abcdefgh"), G)[wid],
                          "vehicle": rng.choice(["ebike", "car"], G)[wid]})
    y = 2.0 * np.where(female, 0.9, 1.0) + rng.normal(0, 0.5, G * weeks)
    tracemalloc.start()
    t = time.perf_counter()
    C = control_matrix(frame, numeric=["hours", "hours_sq", "tenure"], categorical=["region", "vehicle"])
    r = group_gap(y, female, wid, C)
    t_gap = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"group_gap: {G * weeks:,} worker-weeks, {C.shape[1]} controls: {t_gap:.2f} s per comparison "
          f"(adjusted gap {r['adj_pct']:.2f} %); peak traced {peak / 2**20:.0f} MiB; "
          f"a full run makes (groups − 1) × 3 outcomes comparisons")
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
