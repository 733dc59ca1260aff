"""Shared harness of the per-article benchmarks: make or reuse data, load once,
time each check on a fresh cache, then trace its peak allocation in a second
pass (so tracing does not slow the timed one).  Figures only, no assertions."""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def clear_cache(logs) -> None:
    """Keep only what the loader put there (completed orders): every derived table is rebuilt."""
    for k in [k for k in logs.cache if k != "completed"]:
        del logs.cache[k]


def parse(description: str, default_data: str, argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--data", default=default_data)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args(argv)


def load(args: argparse.Namespace):
    """Generate the data (Parquet) unless it is there, then load it once."""
    import audit

    data = Path(args.data)
    if not (data / "orders.parquet").exists():
        from data_samples.generate import generate_scaled

        t = time.perf_counter()
        generate_scaled(str(data), orders=args.orders, seed=args.seed)
        print(f"generated {data} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    logs = audit.load_logs(data)
    print(f"load_logs: {time.perf_counter() - t:.1f} s; {logs!r}")
    logs.completed  # noqa: B018  (cached by the first use)
    return logs


def time_checks(logs, checks: dict[str, Callable]) -> None:
    """Print rows, seconds and traced peak MiB of each check alone."""
    print(f"{'check':28s} {'rows':>9s} {'seconds':>8s} {'peak MiB':>9s}")
    for name, fn in checks.items():
        clear_cache(logs)
        gc.collect()
        t = time.perf_counter()
        out = fn(logs)
        sec = time.perf_counter() - t
        clear_cache(logs)
        gc.collect()
        tracemalloc.start()
        fn(logs)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{name:28s} {len(out):9,d} {sec:8.2f} {peak:9.1f}")


def print_peak_rss() -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS: {rss:.0f} MiB")
