"""The chunked and Dask engines give the in-memory engine's output bytes."""
from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import load_logs
from audit.engine import (PartitionedLogs, partition_logs, partition_of, run_partitioned)
from audit.exceptions import RuleError
from audit.run import run_audit

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "shijiazhuang"
OUTPUTS = ("findings.csv", "summary.json", "rejected_rows.csv", "time_base.csv")


@pytest.fixture(scope="module")
def memory_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory")
    run_audit(SAMPLE, out=out, charts=False, progress=False)
    return out


def _same_bytes(a: Path, b: Path) -> list[str]:
    return [f for f in OUTPUTS if not filecmp.cmp(a / f, b / f, shallow=False)]


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> PartitionedLogs:
    # 997-row chunks: the duplicate order_id of the sample (lines 13571/13572)
    # falls inside one chunk, other rules straddle chunk edges; 5 partitions
    return partition_logs(SAMPLE, out=tmp_path_factory.mktemp("parts"), n_parts=5, chunk_rows=997)


def test_chunked_same_bytes(memory_out, parts, tmp_path):
    run_partitioned(parts, engine="chunked", out=tmp_path, charts=False)
    assert _same_bytes(memory_out, tmp_path) == []


def test_partitions_hold_whole_workers(parts):
    logs = load_logs(SAMPLE)
    seen = []
    for p in range(parts.n_parts):
        piece = parts.part(p)
        ids = set(piece.orders["worker_id"])
        seen.append(ids)
        # every order of a worker of this partition is in it, and only those
        whole = logs.orders[logs.orders["worker_id"].isin(ids)]
        assert len(piece.orders) == len(whole)
        assert piece.sessions["worker_id"].isin(ids).all()
    assert sum(len(s) for s in seen) == logs.orders["worker_id"].nunique()
    # the projection is the in-memory completed orders, same values and dtypes,
    # and its worker index still counts the workers of every order
    proj = parts.projection()
    pd.testing.assert_frame_equal(proj.orders, logs.completed)
    assert len(proj.orders) < len(logs.orders)  # the sample has cancelled orders
    from audit.checks._common import worker_index
    assert list(worker_index(proj).ids) == list(worker_index(logs).ids)


def test_partition_hash_is_stable():
    ids = pd.Series(["W0001", "W0002", "骑手7"])
    first = partition_of(ids, 7)
    # same ids in another order and process-independent (no Python hash())
    assert (partition_of(ids[::-1].reset_index(drop=True), 7) == first[::-1]).all()
    assert ((first >= 0) & (first < 7)).all()
    assert (partition_of(ids, 1) == 0).all()


def _orders(n: int) -> pd.DataFrame:
    acc = pd.Timestamp("2025-10-08 09:00") + pd.to_timedelta(np.arange(n) * 7, unit="min")
    return pd.DataFrame({
        "order_id": [f"O{i:04d}" for i in range(n)],
        "worker_id": [f"W{i % 5}" for i in range(n)],
        "region": "shijiazhuang",
        "accepted_at": acc.strftime("%Y-%m-%d %H:%M:%S"),
        "delivered_at": (acc + pd.Timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M:%S"),
        "pay": "6.5",
    })


def test_duplicates_across_chunks_rejected_as_in_memory():
    raw = _orders(40)
    raw.loc[33, "order_id"] = "O0003"   # a later chunk repeats an earlier chunk's id
    raw.loc[35, "order_id"] = "O0034"   # repeats an id of its own chunk
    raw.loc[3, "pay"] = "-1"            # …but the first O0003 is itself rejected,
    raw.loc[20, "order_id"] = "O0003"   # so line 22 is the first live O0003
    mem = load_logs(orders=raw)
    chunked = partition_logs(orders=raw, n_parts=3, chunk_rows=10)
    pd.testing.assert_frame_equal(chunked.rejected, mem.rejected)
    reasons = set(mem.rejected["reason"])
    assert "duplicate order_id O0003 (first seen on line 22)" in reasons
    assert len(chunked.projection().orders) == len(mem.orders) == 40 - 3
    assert [s.as_dict() for s in chunked.sources] == [s.as_dict() for s in mem.sources]


def test_unknown_region_same_error():
    raw = _orders(30)
    raw.loc[25, "region"] = "atlantis"
    with pytest.raises(RuleError) as mem_err:
        load_logs(orders=raw)
    with pytest.raises(RuleError) as chunk_err:
        partition_logs(orders=raw, n_parts=2, chunk_rows=10)
    assert str(chunk_err.value) == str(mem_err.value)


def test_reuse_and_checks_subset(memory_out, tmp_path):
    work = tmp_path / "work"
    a = run_partitioned(SAMPLE, engine="chunked", workdir=work, n_parts=3, checks="art14")
    stamp = (work / "orders" / "part-00000.parquet").stat().st_mtime_ns
    b = run_partitioned(SAMPLE, engine="chunked", workdir=work, n_parts=3, checks="art14")
    assert (work / "orders" / "part-00000.parquet").stat().st_mtime_ns == stamp  # reused
    mem = run_audit(SAMPLE, checks="art14", progress=False)
    pd.testing.assert_frame_equal(a.findings, mem.findings)
    pd.testing.assert_frame_equal(b.findings, mem.findings)
    assert a.summary == mem.summary


def test_dask_same_bytes(memory_out, parts, tmp_path):
    pytest.importorskip("distributed")
    run_partitioned(parts, engine="dask", out=tmp_path, charts=False)
    assert _same_bytes(memory_out, tmp_path) == []


def test_platform_check_without_split_falls_back_to_projection(memory_out, parts, tmp_path,
                                                               monkeypatch):
    # a platform check with no map/merge split (a new check) runs on the
    # projection of every completed order and still gives the same bytes
    import dataclasses

    import audit.checks as registry

    plain = tuple(dataclasses.replace(c, split=None) if c.id in ("art19.take_rate", "art13.holiday_premium")
                  else c for c in registry.CHECKS)
    monkeypatch.setattr(registry, "CHECKS", plain)
    assert [c.id for c in plain if c.level == "platform" and not c.mergeable] == \
        ["art13.holiday_premium", "art19.take_rate"]
    run_partitioned(parts, engine="chunked", out=tmp_path, charts=False)
    assert _same_bytes(memory_out, tmp_path) == []


def test_auto_engine_weighs_parquet_bytes(tmp_path, monkeypatch):
    import audit.engine as eng

    frame = pd.DataFrame({"order_id": [f"O{i}" for i in range(200)], "pay": np.arange(200.0)})
    frame.to_parquet(tmp_path / "orders.parquet")
    size = (tmp_path / "orders.parquet").stat().st_size
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "orders.csv").write_bytes(b"x" * (2 * size))
    # a threshold between 2x and 4x the Parquet size: the CSV of twice the bytes
    # stays in memory, the Parquet (counted x4) goes to the chunked engine
    monkeypatch.setattr(eng, "AUTO_CHUNKED_BYTES", 3 * size)
    assert eng.choose_engine("auto", folder=tmp_path) == "chunked"
    assert eng.choose_engine("auto", folder=tmp_path / "csv") == "memory"
    assert eng.choose_engine("memory", folder=tmp_path) == "memory"


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux peak-RSS reset only")
def test_stage_peak_memory_resets_between_stages():
    from audit.engine import peak_rss_mib

    base = peak_rss_mib(reset=True)
    block = np.ones(40_000_000)  # 305 MiB, every page touched
    high = peak_rss_mib(reset=False)
    del block
    peak_rss_mib(reset=True)  # the next stage starts from the current RSS
    after = peak_rss_mib(reset=False)
    assert high - base > 250
    assert high - after > 250
