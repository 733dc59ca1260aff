"""Benchmark: the art12 payout checks and the art14 working-time checks on ~1 M orders.

Usage::

    .venv/bin/python benchmarks/bench_art12_art14.py [--orders 1000000] [--data /tmp/bench_1m]

Generates the data with ``data_samples.generate.generate_scaled`` (Parquet)
unless ``--data`` already holds it, loads it once, then runs each check on a
fresh cache (its stand-alone cost: the shared interval tables are rebuilt) and
prints wall seconds and the peak memory the check allocated (tracemalloc, a
second pass, so tracing does not slow the timed one).  The time-base table
and the six checks on one shared cache (as in a run) are timed too.
No assertion: figures only.
"""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import audit  # noqa: E402
from audit.checks.art12_deductions import check_deductions  # noqa: E402
from audit.checks.art12_payment_timeliness import check_payment_timeliness  # noqa: E402
from audit.checks.art14_continuous_work import check_continuous_work  # noqa: E402
from audit.checks.art14_daily_hours import check_daily_hours  # noqa: E402
from audit.checks.art14_weekly_hours import check_weekly_hours  # noqa: E402
from audit.checks.art14_weekly_rest import check_weekly_rest  # noqa: E402
from audit.time_base import time_base_table  # noqa: E402

CHECKS = {
    "art12.payment_timeliness": check_payment_timeliness,
    "art12.deductions": check_deductions,
    "art14.daily_hours": check_daily_hours,
    "art14.continuous_work": check_continuous_work,
    "art14.weekly_rest": check_weekly_rest,
    "art14.weekly_hours": check_weekly_hours,
    "time_base_table": time_base_table,
}


def _clear(logs) -> None:
    # keep only what the loader put there (completed orders): every interval table is rebuilt
    for k in [k for k in logs.cache if k != "completed"]:
        del logs.cache[k]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--data", default="/tmp/bench_art12_art14")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    data = Path(a.data)
    if not (data / "orders.parquet").exists():
        from data_samples.generate import generate_scaled

        t = time.perf_counter()
        generate_scaled(str(data), orders=a.orders, seed=a.seed)
        print(f"generated {data} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    logs = audit.load_logs(data)
    print(f"load_logs: {time.perf_counter() - t:.1f} s; {logs!r}")
    logs.completed  # noqa: B018  (cached by the loader's first use)

    print(f"{'check':28s} {'rows':>9s} {'seconds':>8s} {'peak MiB':>9s}")
    for name, fn in CHECKS.items():
        _clear(logs)
        gc.collect()
        t = time.perf_counter()
        out = fn(logs)
        sec = time.perf_counter() - t
        _clear(logs)
        gc.collect()
        tracemalloc.start()
        fn(logs)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{name:28s} {len(out):9,d} {sec:8.2f} {peak:9.1f}")

    _clear(logs)
    gc.collect()
    t = time.perf_counter()
    for name, fn in CHECKS.items():
        if name != "time_base_table":
            fn(logs)
    print(f"{'all six, shared cache':28s} {'':9s} {time.perf_counter() - t:8.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
