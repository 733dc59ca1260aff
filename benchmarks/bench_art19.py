"""Benchmark: the article-19 strictest-algorithm checks (part A) on ~1 M orders.

Usage::

    .venv/bin/python benchmarks/bench_art19.py [--orders 1000000] [--data /tmp/bench_art19]

Generates the data with ``data_samples.generate.generate_scaled`` (Parquet)
unless ``--data`` already holds it, loads it once, then runs each check on a
fresh cache (its stand-alone cost) and prints wall seconds and the peak memory
the check allocated (tracemalloc, a second pass, so tracing does not slow the
timed one).  The order flags of pay_opacity (holiday calendar and weather) are
part of its cost.  No assertion: figures only.
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
from audit.checks.art19_deadline_percentile import check_deadline_percentile, deadline_cells  # noqa: E402
from audit.checks.art19_deadline_ratchet import check_deadline_ratchet  # noqa: E402
from audit.checks.art19_late_rate import check_late_rate  # noqa: E402
from audit.checks.art19_pay_opacity import check_pay_opacity  # noqa: E402
from audit.checks.art19_penalty_intensity import check_penalty_intensity  # noqa: E402
from audit.checks.art19_required_speed import check_required_speed  # noqa: E402
from audit.checks.art19_take_rate import check_take_rate  # noqa: E402

CHECKS = {
    "art19.late_rate": check_late_rate,
    "art19.deadline_percentile": check_deadline_percentile,
    "deadline_cells": deadline_cells,
    "art19.required_speed": check_required_speed,
    "art19.deadline_ratchet": check_deadline_ratchet,
    "art19.penalty_intensity": check_penalty_intensity,
    "art19.pay_opacity": check_pay_opacity,
    "art19.take_rate": check_take_rate,
}


def _clear(logs) -> None:
    for k in [k for k in logs.cache if k != "completed"]:
        del logs.cache[k]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--data", default="/tmp/bench_art19")
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
    logs.completed  # noqa: B018

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
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
