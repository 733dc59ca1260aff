"""Markdown tables from ``benchmarks/run.py --json`` records.

Usage::

    python benchmarks/table.py results/1m-memory.json results/10m-memory.json ...

Prints one table of stages (rows) × runs (columns: seconds and peak MiB),
then the total and peak of each run, then each run's peers with their
ratios.  A stage a run does not have is left blank.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def load(paths: list[str]) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]


def stage_table(runs: list[dict]) -> str:
    names: list[str] = []
    for r in runs:
        for name, _, _ in r["stages"]:
            if name not in names and not name.startswith("("):
                names.append(name)
    head = "| stage | " + " | ".join(f"{r['size']} {r['engine']} s | MiB" for r in runs) + " |"
    sep = "|---|" + "---:|---:|" * len(runs)
    lines = [head, sep]
    for name in names:
        cells = []
        for r in runs:
            got = {n: (s, m) for n, s, m in r["stages"]}
            s, m = got.get(name, (None, None))
            cells.append("" if s is None else f"{s:.2f}")
            cells.append("" if m is None or m != m else f"{m:.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    tot = []
    for r in runs:
        tot += [f"**{r['total_s']:.1f}**", f"**{r['peak_mb']:.0f}**"]
    lines.append("| **total (child process wall), peak** | " + " | ".join(tot) + " |")
    return "\n".join(lines)


def peer_table(run: dict) -> str:
    lines = [f"Peers at {run['size']} (gigaudit {run['engine']} total {run['total_s']:.1f} s):", "",
             "| peer | s | peak MiB | ratio | note |", "|---|---:|---:|---|---|"]
    for name, s, m, ratio, note in run.get("peers", []):
        lines.append(f"| {name} | {s:.2f} | {m:.0f} | {ratio} | {note} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    runs = load(list(argv if argv is not None else sys.argv[1:]))
    print(stage_table(runs))
    for r in runs:
        if r.get("peers"):
            print()
            print(peer_table(r))


if __name__ == "__main__":
    main()
