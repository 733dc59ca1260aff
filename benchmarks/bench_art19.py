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


from _harness import clear_cache, load, parse, print_peak_rss, time_checks  # noqa: E402,F401

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


def main(argv=None) -> None:
    args = parse(__doc__.splitlines()[0], "/tmp/bench_art19", argv)
    logs = load(args)
    time_checks(logs, CHECKS)
    print_peak_rss()


if __name__ == "__main__":
    main()
