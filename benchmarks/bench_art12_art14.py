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

import time

from _harness import clear_cache, load, parse, print_peak_rss, time_checks  # noqa: E402,F401

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


def main(argv=None) -> None:
    args = parse(__doc__.splitlines()[0], "/tmp/bench_art12_art14", argv)
    logs = load(args)
    time_checks(logs, CHECKS)
    clear_cache(logs)
    t = time.perf_counter()
    for name, fn in CHECKS.items():
        if name != "time_base_table":
            fn(logs)
    print(f"{'all six, shared cache':28s} {'':9s} {time.perf_counter() - t:8.2f}")
    print_peak_rss()


if __name__ == "__main__":
    main()
