"""Time a whole audit per stage on benchmark logs, with peers on the same data.

Usage::

    python benchmarks/run.py 1m|10m|30m [--engine memory|chunked|dask] [--charts]
        [--parts P] [--peers] [--peer-workers 2000] [--json out.json]

Prints one line per stage: seconds and the peak RSS of the process during
that stage (Linux ``VmHWM``, reset between stages; the run's peak is the
largest figure).  Stages: ``read`` and
``validate`` (memory engine; ``read_validate`` and ``write_partitions`` for
the chunked one, which reads, validates and partitions in one streamed
pass), each check, ``time_base``, ``combine`` and ``report`` (findings.csv,
summary.json, time_base.csv, rejected_rows.csv, the report; charts only with
``--charts``).  The load average of the machine is printed with the figures.

``--peers`` runs, each in a fresh child process on the same Parquet files:

* DuckDB: one aggregation pass (per worker-day count, sum of pay, min
  accepted_at, max delivered_at over completed orders): the reference for
  "one pass over the data";
* pandas as an analyst writes the hours checks: ``groupby('worker_id').apply``
  merging each worker's order intervals in Python, per day; on the orders of
  ``--peer-workers`` workers, extrapolated linearly to all orders (said in
  the output);
* fairlearn ``MetricFrame`` of weekly earnings by gender (group earnings);
* with ``--premium``, the art13 premium model on the same orders: the model
  frame that ``art13.holiday_premium`` builds from these logs (log pay on
  holiday, weather, log distance, hour of day, worker effects) fitted by
  :class:`metrics.premium.PremiumStats`, by pyfixest ``feols(... | worker,
  CRV1)`` and, on the orders of ``--dummy-workers`` workers (at most 10
  each: a dense dummy design beyond that does not fit), by statsmodels OLS
  with worker dummies and cluster covariance beside PremiumStats on the same
  subset.  Each fit in a fresh child process (``bench_premium.timed``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def rss_mb() -> float:
    """Peak RSS of this process since the last call, MiB (Linux ``VmHWM``, reset
    after reading, so each stage shows its own peak; ``ru_maxrss`` elsewhere)."""
    from audit.engine import peak_rss_mib

    peak = peak_rss_mib(reset=True)
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child(fn, args, q):
    t0 = time.perf_counter()
    try:
        out = fn(*args)
        q.put(("ok", out, time.perf_counter() - t0, rss_mb()))
    except Exception as exc:  # report, don't hang
        q.put(("error", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0, rss_mb()))


def fresh(fn, *args):
    """Run ``fn(*args)`` in a fresh process: (result, seconds, peak RSS MiB)."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    res = q.get()
    p.join()
    if res[0] == "error":
        print(f"   peer failed: {res[1]}")
    return res[1], res[2], res[3]


# ---------------------------------------------------------------------------
# gigaudit
# ---------------------------------------------------------------------------


def audit_memory(folder: Path, out: Path, charts: bool) -> list[tuple[str, float, float]]:
    from audit.ingest import read_raw
    from audit.logs import find_table_file, load_logs
    from audit.run import AuditResult, _run_one, build_summary
    from audit.checks import CHECKS
    from audit.rules import thresholds

    rows = []
    t0 = time.perf_counter()
    raw = {}
    for name in ("orders", "sessions", "workers", "payouts", "weather"):
        f = find_table_file(folder, name)
        if f is not None:
            raw[name] = read_raw(f, table=name)
    rows.append(("read", time.perf_counter() - t0, rss_mb()))
    t0 = time.perf_counter()
    logs = load_logs(**raw)
    del raw
    rows.append(("validate", time.perf_counter() - t0, rss_mb()))
    limits = thresholds()
    by_check, summaries = {}, {}
    for spec in CHECKS:
        if not spec.available or any(logs.lacks(n) for n in spec.needs):
            continue
        t0 = time.perf_counter()
        by_check[spec.id] = _run_one(spec, logs, limits)
        summaries[spec.id] = spec.summarize(by_check[spec.id])
        rows.append((spec.id, time.perf_counter() - t0, rss_mb()))
    t0 = time.perf_counter()
    result = AuditResult(None, build_summary(logs, summaries, limits), logs,
                         by_check)
    _ = result.time_base
    rows.append(("combine+time_base", time.perf_counter() - t0, rss_mb()))
    t0 = time.perf_counter()
    result.write(out, charts=charts)
    rows.append(("report", time.perf_counter() - t0, rss_mb()))
    return rows


def audit_partitioned(folder: Path, out: Path, charts: bool, engine: str, parts: int | None,
                      work: Path) -> list[tuple[str, float, float]]:
    from audit.engine import partition_logs, run_partitioned

    tm: dict = {}
    rows = []
    plogs = partition_logs(folder, out=work, n_parts=parts, timings=tm, reuse=False)
    rows.append(("read_validate", tm["read_validate"], rss_mb()))
    rows.append(("write_partitions", tm["write_partitions"], rss_mb()))
    tm2: dict = {}
    run_partitioned(plogs, engine=engine, out=out, charts=charts, timings=tm2)
    peaks = {**tm.get("peak_mib", {}), **tm2.pop("peak_mib", {})}
    rows = [(name, s, peaks.get("read_validate+write_partitions", 0.0)) for name, s, _ in rows]
    for k, v in tm2.items():
        rows.append((k, v, peaks.get(k, float("nan"))))
    rows.append((f"(P = {plogs.n_parts}; MiB = peak RSS during the stage)", 0.0, rss_mb()))
    return rows


# ---------------------------------------------------------------------------
# peers
# ---------------------------------------------------------------------------


def peer_duckdb(folder: Path):
    import duckdb

    con = duckdb.connect()
    con.execute("PRAGMA threads=2")
    q = f"""
        SELECT worker_id, CAST(a AS DATE) AS day, count(*) AS n, sum(pay) AS pay,
               min(a) AS first, max(d) AS last
        FROM (SELECT worker_id, pay, TRY_CAST(accepted_at AS TIMESTAMP) AS a,
                     TRY_CAST(delivered_at AS TIMESTAMP) AS d
              FROM read_parquet('{folder / "orders.parquet"}') WHERE status = 'completed')
        WHERE a IS NOT NULL
        GROUP BY ALL"""
    return len(con.execute(q).fetchdf())


def peer_pandas_hours(folder: Path, n_workers: int):
    """Daily engaged hours and longest block as an analyst writes them (groupby-apply)."""
    import pandas as pd

    o = pd.read_parquet(folder / "orders.parquet",
                        columns=["worker_id", "accepted_at", "delivered_at", "status"])
    total = int((o["status"] == "completed").sum())
    keep = o["worker_id"].drop_duplicates().iloc[:n_workers]
    o = o[o["worker_id"].isin(keep) & (o["status"] == "completed")].copy()
    o["accepted_at"] = pd.to_datetime(o["accepted_at"], errors="coerce", format="ISO8601")
    o["delivered_at"] = pd.to_datetime(o["delivered_at"], errors="coerce", format="ISO8601")
    o = o.dropna(subset=["accepted_at", "delivered_at"])
    o["day"] = o["accepted_at"].dt.date
    t0 = time.perf_counter()

    def per_worker_day(g):
        g = g.sort_values("accepted_at")
        total_s, cur_s, cur_e, longest = 0.0, None, None, 0.0
        for s, e in zip(g["accepted_at"], g["delivered_at"]):
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    total_s += (cur_e - cur_s).total_seconds()
                    longest = max(longest, (cur_e - cur_s).total_seconds())
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        total_s += (cur_e - cur_s).total_seconds()
        longest = max(longest, (cur_e - cur_s).total_seconds())
        return pd.Series({"hours": total_s / 3600, "longest_h": longest / 3600})

    res = o.groupby(["worker_id", "day"]).apply(per_worker_day)
    secs = time.perf_counter() - t0
    return {"orders_sub": len(o), "orders_all": total, "seconds_sub": secs, "rows": len(res)}


def peer_fairlearn(folder: Path):
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    o = pd.read_parquet(folder / "orders.parquet", columns=["worker_id", "accepted_at", "pay",
                                                             "bonus", "status"])
    w = pd.read_parquet(folder / "workers.parquet", columns=["worker_id", "gender"])
    o = o[o["status"] == "completed"]
    o["week"] = pd.to_datetime(o["accepted_at"], errors="coerce", format="ISO8601").dt.to_period("W")
    wk = (o.assign(e=o["pay"].astype(float) + o["bonus"].astype(float))
          .groupby(["worker_id", "week"])["e"].sum().reset_index().merge(w, on="worker_id"))
    mf = MetricFrame(metrics={"mean": lambda y_true, y_pred: float(y_pred.mean())},
                     y_true=wk["e"], y_pred=wk["e"], sensitive_features=wk["gender"].fillna("?"))
    return mf.by_group.to_dict()


def _premium_frame(folder: Path, queue) -> None:
    from audit.checks.art13_premium import _model_frame
    from audit.logs import load_logs
    from audit.rules import thresholds

    frame = _model_frame(load_logs(folder), thresholds())["frame"]
    queue.put(frame[["y", "holiday", "weather", "log_dist", "hour", "worker"]])


def peer_premium(folder: Path, dummy_workers: int) -> list[tuple[str, float, float, str]]:
    """The premium model on these logs' model frame: PremiumStats, pyfixest, statsmodels dummies."""
    import numpy as np
    from bench_premium import timed

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_premium_frame, args=(folder, q))
    proc.start()
    df = q.get()
    proc.join()
    g_all = df["worker"].nunique()
    out = []
    for method in ("premiumstats", "pyfixest"):
        r = timed(method, df, 1800)
        out.append((f"premium: {method}", r.get("seconds") or float("nan"), r.get("peak_mb", 0.0),
                    f"N={len(df):,} G={g_all:,}; " + (r.get("note") or
                    "β(hol, wea, ld) = " + ", ".join(f"{v:.5f}" for v in r["estimate"]))))
    rng = np.random.default_rng(2)
    keep = rng.choice(df["worker"].unique(), min(dummy_workers, g_all), replace=False)
    sub = df[df["worker"].isin(keep)].groupby("worker", sort=False).head(10).reset_index(drop=True)
    for method in ("premiumstats", "statsmodels_dummies"):
        r = timed(method, sub, 1800)
        out.append((f"premium subset: {method}", r.get("seconds") or float("nan"), r.get("peak_mb", 0.0),
                    f"N={len(sub):,} G={len(keep):,} (≤10 orders a worker); " + (r.get("note") or
                    "β(hol, wea, ld) = " + ", ".join(f"{v:.5f}" for v in r["estimate"]))))
    return out


def peers(folder: Path, n_workers: int, n_orders: int, premium: bool,
          dummy_workers: int = 1000) -> list[tuple[str, float, float, str]]:
    out = []
    r, s, m = fresh(peer_duckdb, folder)
    out.append(("duckdb one aggregation pass", s, m, f"{r} worker-days"))
    r, s, m = fresh(peer_pandas_hours, folder, n_workers)
    if isinstance(r, dict):
        est = r["seconds_sub"] * r["orders_all"] / max(r["orders_sub"], 1)
        out.append(("pandas groupby-apply hours (extrapolated)", est, m,
                    f"measured {r['seconds_sub']:.1f} s on {r['orders_sub']:,} of "
                    f"{r['orders_all']:,} completed orders ({n_workers} workers), x linear"))
    r, s, m = fresh(peer_fairlearn, folder)
    out.append(("fairlearn MetricFrame group earnings", s, m, "incl. reading + weekly sums"))
    if premium:
        out.extend(peer_premium(folder, dummy_workers))
    return out


# ---------------------------------------------------------------------------


def main(argv=None) -> None:
    from make_data import data_dir, make

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size")
    ap.add_argument("--engine", default="memory", choices=("memory", "chunked", "dask"))
    ap.add_argument("--charts", action="store_true")
    ap.add_argument("--parts", type=int, default=None)
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--premium", action="store_true", help="with --peers: run bench_premium.py too")
    ap.add_argument("--peer-workers", type=int, default=2000)
    ap.add_argument("--dummy-workers", type=int, default=1000,
                    help="with --premium: workers in the statsmodels-dummies subset")
    ap.add_argument("--json", default=None, help="record file (default benchmarks/results/<size>-<engine>.json)")
    a = ap.parse_args(argv)
    folder = make(a.size) if not data_dir(a.size).exists() else data_dir(a.size)
    out = ROOT / "benchmarks" / "results" / f"{a.size}-{a.engine}"
    work = ROOT / "benchmarks" / "data" / f"{a.size}-parts"
    print(f"# {a.size} ({folder}), engine={a.engine}, charts={a.charts}, "
          f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    if a.engine == "memory":
        rows, secs, peak = fresh(audit_memory, folder, out, a.charts)
    else:
        rows, secs, peak = fresh(audit_partitioned, folder, out, a.charts, a.engine, a.parts, work)
    if isinstance(rows, str):
        sys.exit(rows)
    peak = max([peak] + [m for _, _, m in rows if m == m])
    print(f"{'stage':45s} {'seconds':>9s} {'peak MiB':>12s}")
    for name, s, m in rows:
        print(f"{name:45s} {s:9.2f} {m:12.0f}")
    print(f"{'TOTAL (child process wall)':45s} {secs:9.2f} {peak:12.0f}")
    print(f"# load average after: {os.getloadavg()}")
    record = {"size": a.size, "engine": a.engine, "stages": rows, "total_s": secs, "peak_mb": peak,
              "load": os.getloadavg()}
    if a.peers:
        import pandas as pd

        n_orders = len(pd.read_parquet(folder / "orders.parquet", columns=["status"]))
        print(f"\n{'peer':45s} {'seconds':>9s} {'peak MiB':>12s}  ratio")
        prs = peers(folder, a.peer_workers, n_orders, a.premium, a.dummy_workers)
        fits = {name: s for name, s, _, _ in prs if name.startswith("premium")}
        stage = {name: s for name, s, _ in rows}
        hours = stage.get("art14.daily_hours", 0.0) + stage.get("art14.continuous_work", 0.0)
        record["peers"] = []
        for name, s, m, note in prs:
            # each peer beside the gigaudit figure that does the same work
            if name.startswith("premium"):
                ref = fits[name.rsplit(":", 1)[0] + ": premiumstats"]
                ratio = f"{s / ref:.1f}x PremiumStats on the same rows"
            elif name.startswith("pandas"):
                ratio = f"{s / hours:.1f}x gigaudit art14.daily_hours + continuous_work ({hours:.2f} s)"
            elif name.startswith("fairlearn"):
                ref = stage.get("art10.group_disparity", float("nan"))
                ratio = f"art10.group_disparity: {ref:.2f} s, {ref / s:.1f}x this (adds controls, CIs)"
            else:
                ratio = f"gigaudit total = {secs / s:.1f}x this pass"
            print(f"{name:45s} {s:9.2f} {m:12.0f}  {ratio}  {note}")
            record["peers"].append((name, s, m, ratio, note))
    target = Path(a.json) if a.json else out.with_suffix(".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, indent=1, default=str))
    print(f"# record: {target}")


if __name__ == "__main__":
    main()
