"""Canonical benchmark logs at 1 M, 10 M and 30 M orders, with sessions, as Parquet.

Usage::

    python benchmarks/make_data.py 1m|10m|30m|<N> [--force] [--text-times]

Writes ``benchmarks/data/<size>/`` (git-ignored) with
:func:`data_samples.generate.generate_scaled` (seed 7; workers generated in
chunks of 20 000, so memory stays bounded; about 30 s per million orders on
one core).  An existing folder is reused unless ``--force``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "benchmarks" / "data"


def parse_size(text: str) -> int:
    t = text.lower().strip()
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if t[-1:] in "km" else t) * mult)


def data_dir(size: str) -> Path:
    return DATA / size.lower()


def make(size: str, *, force: bool = False, text_times: bool = False) -> Path:
    """The folder of ``size`` logs, generated when missing.

    Times are Parquet timestamps (as a platform's Parquet export holds them)
    unless ``text_times``: then ISO text, which validation has to parse
    (``<size>-text``)."""
    from data_samples.generate import generate_scaled

    out = data_dir(size + ("-text" if text_times else ""))
    if (out / "orders.parquet").exists() and not force:
        return out
    if out.exists():
        shutil.rmtree(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    generate_scaled(tmp, orders=parse_size(size), seed=7, native_times=not text_times)
    tmp.rename(out)
    print(f"generated {out} in {time.perf_counter() - t0:.1f} s")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", help="1m, 10m, 30m or a number of orders")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--text-times", action="store_true", help="times as ISO text (<size>-text/)")
    a = ap.parse_args(argv)
    print(make(a.size, force=a.force, text_times=a.text_times))


if __name__ == "__main__":
    main()
