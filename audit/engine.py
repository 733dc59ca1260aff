"""Out-of-core (``chunked``) and distributed (``dask``) audits with the in-memory results.

The in-memory engine (:func:`audit.run.run_audit`) holds every table at once.
This module runs the same check functions on pieces of the logs so that a
city's quarter fits an ordinary machine and a province a cluster, and gives
the same ``findings.csv`` and ``summary.json`` bytes.

How
---
1. **Ingest, once.**  :func:`partition_logs` reads each input in chunks
   (CSV through pandas ``chunksize`` with the encoding
   :func:`audit.ingest.detect_encoding` finds, Parquet by row batches),
   validates each chunk with :func:`audit.ingest.validate_table` (line
   numbers offset by the rows before the chunk), rejects duplicates of a
   unique key across chunks (``order_id``; ``worker_id`` of workers;
   ``region/date`` of weather) naming the first line as the in-memory run
   does, and appends the valid rows to ``P`` Parquet files per table,
   ``part = hash(worker_id) mod P`` (:func:`pandas.util.hash_array`, stable
   across runs and machines).  Orders, sessions and payouts are partitioned;
   workers and weather are small and kept whole.  Every row keeps its file
   line in ``_row``.  Region keys are collected and resolved once at the end
   (:func:`audit.rules.resolve_regions` on the distinct keys, so an unknown
   key raises the same error as in memory); ``region_code`` is added when a
   partition is loaded.  The folder is reused when the inputs' SHA-256, the
   profile and ``P`` are unchanged (a ``manifest.json`` records them).
2. **Per-worker checks** (``level`` worker-week, worker-day, worker-month,
   payout) run partition by partition on an :class:`AuditLogs` holding the
   partition's workers: all their orders, sessions and payouts, their rows
   of the workers table and the whole weather table.  Memory is one
   partition at a time.  Each check's partition findings are concatenated,
   put in worker order (a stable sort on ``subject``, which is the order a
   check produces on the whole table, since worker codes are sorted ids),
   and summarised with the check's own ``summarize``.
3. **Platform-level checks** (``level`` platform, group) merge exact partial
   aggregates (``CheckSpec.split``, see :mod:`audit.checks`): in the same
   pass over each partition as the per-worker checks, each computes its
   ``partial`` (per-worker or per-(worker, cell) sums, integer counts and
   histograms, keyed by worker id; a single float column per order only
   where an exact quantile of a continuous value needs it), and after the
   last partition its ``finish`` puts the partials in worker-id order and
   computes the findings.  The in-memory run calls the same ``finish`` on
   one partial of the whole logs, so the bytes are the same by construction
   (``tests/test_mergeable.py`` checks every split check for P = 1, 2, 5).
   Memory is one partition plus the partials (a few hundred MB at 26 M
   orders).  A platform check without a split (a new one) falls back to a
   *projection*: every partition's completed orders, put back in file order
   by ``_row`` and converted column by column from Arrow, the sessions, the
   whole workers and weather tables, and the worker index of every order;
   its memory grows with the orders.
4. The findings are put in order check by check (:func:`audit.run._check_frames`,
   as in memory) and the summary built by :func:`audit.run.build_summary`, so
   the bytes written by :meth:`AuditResult.write` are those of the in-memory
   engine.  ``findings.csv`` is written check by check; the wide
   ``result.findings`` frame is only built when asked for.

``engine="dask"`` maps the same partition kernel over the partitions with
``distributed.Client.map`` (a ``LocalCluster(n_workers=2,
threads_per_worker=1, processes=True)`` unless ``scheduler`` names one) and
submits the platform checks as tasks too; every task reads its partition
from the shared Parquet folder, so the workers need that folder on a shared
file system.

Decisions
---------
* ``P`` defaults to ``ceil(input bytes / 64 MiB)`` bounded to 1–512, a
  Parquet byte counting as :data:`PARQUET_WEIGHT` (4, its usual
  compression over CSV): about 250 000–600 000 orders a partition;
  ``"auto"`` engine choice: chunked when the orders file exceeds
  :data:`AUTO_CHUNKED_BYTES` (1 GiB of CSV, about 6 M orders; 256 MiB of
  Parquet, about 10 M orders).
* Duplicate keys across chunks are found by a 64-bit hash confirmed by a
  second, independently keyed 64-bit hash (a false match would need both
  to collide: about 1e-24 at 30 M orders).
* The result's ``logs`` is a light :class:`AuditLogs`: its ``orders`` holds
  only the distinct worker ids (for pseudonymisation), ``workers`` and
  ``weather`` are whole, ``rejected`` and ``sources`` are complete and
  ``time_base`` (computed per partition) is in its cache.  Charts that need
  the raw orders are not drawn from it.
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from audit import _messages as msg
from audit.checks import select_checks
from audit.findings import sorted_order
from audit.exceptions import InputError
from audit.ingest import (REJECTED_COLUMNS, SourceFile, detect_encoding, read_raw, sha256_file,
                          text_objects, validate_table)
from audit.logs import TABLE_NAMES, AuditLogs, find_table_file, resolve_inputs
from audit.profiles import Profile, load_profile
from audit.schema import TABLES

ENGINES = ("memory", "chunked", "dask")
WORKER_LEVELS = ("worker-week", "worker-day", "worker-month", "payout")
PARTITIONED = ("orders", "sessions", "payouts")
AUTO_CHUNKED_BYTES = 1 << 30
PART_BYTES = 64 << 20
PARQUET_WEIGHT = 4
MAX_PARTS = 512
DEFAULT_CHUNK_ROWS = 1_000_000
ROW = "_row"
_HASH_KEY2 = "gigaudit-dupkey2"  # 16 bytes: the second, independent key hash
_LAYOUT = 1  # bump when the partition layout changes (invalidates reuse)

ERR_ENGINE = "unknown engine {engine!r}; expected one of memory, chunked, dask"
ERR_NO_DASK = "engine='dask' needs dask[distributed]: pip install 'dask[distributed]>=2024.1'"



# ---------------------------------------------------------------------------
# logs of a piece of the platform
# ---------------------------------------------------------------------------


@dataclass(repr=False)
class PieceLogs(AuditLogs):
    """:class:`AuditLogs` of a partition or projection that answers ``lacks`` and
    ``period`` for the whole platform, so a check sees what it would in memory."""

    present: dict = field(default_factory=dict)
    whole_period: tuple = (None, None)

    def lacks(self, need: str) -> str | None:
        if need == "worker_ids":
            return None if self.profile.worker_ids else "the export has no worker id"
        table, _, column = need.partition(".")
        cols = self.present.get(table)
        if cols is None:
            return f"no {table} table"
        if column and column not in cols:
            return f"no {table}.{column} values"
        return None

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.whole_period


@dataclass
class PartitionedLogs:
    """A platform's validated logs as ``P`` worker-hash partitions on disk.

    Attributes
    ----------
    root : Path
        Folder holding ``<table>/part-00000.parquet`` … and ``manifest.json``.
    n_parts : int
        Number of partitions ``P``.
    dtypes : dict
        Per table, the pandas dtype of each column after validation (restored
        on loading, so a partition's frames equal the in-memory rows).
    region_codes : dict
        Per table with a region, ``{key: region code}``.
    present : dict
        Per table given, the columns holding at least one value (``None``
        for a table not given): the answer of ``AuditLogs.lacks``.
    period : tuple of Timestamp
        First and last day with an accepted order.
    workers, weather : DataFrame or None
        The small tables, whole.
    rejected : DataFrame
        Every rejected row, in file order.
    sources : list of SourceFile
    profile : Profile
    holiday_overrides : path or DataFrame, optional
    """

    root: Path
    n_parts: int
    dtypes: dict
    region_codes: dict
    present: dict
    period: tuple
    workers: pd.DataFrame | None
    weather: pd.DataFrame | None
    rejected: pd.DataFrame
    sources: list
    profile: Profile
    holiday_overrides: object = None
    worker_ids: np.ndarray | None = None

    def light(self) -> "PartitionedLogs":
        """A copy without the rejected rows and sources (what a task needs)."""
        return replace(self, rejected=pd.DataFrame(columns=REJECTED_COLUMNS), sources=[],
                       worker_ids=None)

    # -- loading -----------------------------------------------------------
    def _path(self, table: str, p: int) -> Path:
        return self.root / table / f"part-{p:05d}.parquet"

    def read(self, table: str, p: int, columns: list[str] | None = None) -> pd.DataFrame | None:
        """One partition of a table with the in-memory dtypes (``_row`` kept)."""
        if self.present.get(table) is None:
            return None
        return self._frame(table, [self._arrow(table, p, columns)], sort=False)

    def _arrow(self, table: str, p: int, columns: list[str] | None):
        import pyarrow as pa
        import pyarrow.parquet as pq

        dtypes = self.dtypes[table]
        want = [c for c in dtypes if c != "region_code" and (columns is None or c in columns)] + [ROW]
        path = self._path(table, p)
        if path.exists():
            return pq.read_table(path, columns=want)
        return pa.table({c: pa.array([], type=pa.int64() if c == ROW else pa.string()) for c in want})

    def _frame(self, table: str, pieces: list, *, sort: bool) -> pd.DataFrame:
        """Arrow pieces of a table as one frame with the in-memory dtypes.

        Converted column by column (each Arrow column freed once converted),
        so the peak is the frame plus one column; with ``sort`` the rows are
        put back in file order (by ``_row``).
        """
        import pyarrow as pa

        # an absent partition file reads as empty text columns: leave it out
        kept = [t for t in pieces if t.num_rows] or pieces[:1]
        at = pa.concat_tables(kept, promote_options="permissive") if len(kept) > 1 else kept[0]
        del kept
        del pieces[:]
        order = np.argsort(at.column(ROW).to_numpy(), kind="stable") if sort else None
        dtypes, codes = self.dtypes[table], self.region_codes.get(table)
        out = {}

        def put_in_order(series: pd.Series) -> pd.Series:
            # converted first, reordered after: a gather of numbers or of
            # shared object pointers, not of Arrow strings
            return series if order is None else series.take(order).reset_index(drop=True)

        for c in list(at.column_names):
            col = at.column(c)
            at = at.drop_columns([c])
            if c == ROW:
                out[c] = put_in_order(pd.Series(col.to_numpy().astype(np.int64, copy=False)))
            elif dtypes[c] == "object":
                out[c] = put_in_order(text_objects(col))
                if c == "region" and codes is not None:
                    out["region_code"] = put_in_order(text_objects(col, lambda v: codes.get(str(v))))
            else:
                s = col.to_pandas()
                out[c] = put_in_order(s if str(s.dtype) == dtypes[c] else s.astype(dtypes[c]))
            del col
        df = pd.DataFrame(out, copy=False)
        if codes is not None and "region" in df.columns:
            df = df[[c for c in df.columns if c != "region_code"] + ["region_code"]]
        return df

    def _workers_of(self, p: int) -> pd.DataFrame | None:
        w = self.workers
        if w is None:
            return None
        keep = partition_of(w["worker_id"], self.n_parts) == p
        return w[keep].reset_index(drop=True)

    def _logs(self, tables: dict, cache: dict | None = None) -> PieceLogs:
        return PieceLogs(rejected=pd.DataFrame(columns=REJECTED_COLUMNS), sources=[],
                         profile=self.profile, holiday_overrides=self.holiday_overrides,
                         present=self.present, whole_period=self.period, **tables)

    def part(self, p: int) -> PieceLogs:
        """The logs of partition ``p``: its workers' rows of every table, all weather."""
        tables = {}
        for name in PARTITIONED:
            t = self.read(name, p)
            tables[name] = None if t is None else t.drop(columns=ROW)
        tables["workers"] = self._workers_of(p)
        tables["weather"] = self.weather
        return self._logs(tables)

    def projection(self) -> PieceLogs:
        """The whole platform's completed orders (file order), sessions, workers and
        weather: the logs of a platform check without a map/merge split.

        Platform checks count completed orders only (SPEC §3), so the others
        are left out here and ``logs.completed`` is the orders frame itself
        (no second copy); the worker index still counts every order's worker,
        as :func:`audit.checks._common.worker_index` does in memory.
        """
        from audit.checks._common import WorkerIndex

        order_ids: list = []
        orders = self._gather("orders", completed_only=True, ids=order_ids)
        sessions = self._gather("sessions")
        logs = self._logs({"orders": orders, "sessions": sessions, "payouts": None,
                           "workers": self.workers, "weather": self.weather})
        logs.cache["completed"] = orders
        logs.cache["worker_index"] = WorkerIndex.of(
            [pd.Series(order_ids, dtype=object)]
            + [t["worker_id"] for t in (sessions, self.workers) if t is not None])
        return logs

    def _gather(self, table: str, *, completed_only: bool = False,
                ids: list | None = None) -> pd.DataFrame | None:
        """All partitions of a table in file order; ``completed_only`` keeps the
        completed orders and puts every row's distinct worker ids in ``ids``."""
        if self.present.get(table) is None:
            return None
        import pyarrow.compute as pc

        pieces = []
        for p in range(self.n_parts):
            piece = self._arrow(table, p, None)
            if completed_only:
                if ids is not None:
                    ids.extend(pc.unique(piece.column("worker_id")).drop_null().to_pylist())
                piece = piece.filter(pc.fill_null(pc.equal(piece.column("status"), "completed"), False))
            pieces.append(piece)
        return self._frame(table, pieces, sort=True).drop(columns=ROW)

    def meta_logs(self) -> PieceLogs:
        """The light logs an :class:`AuditResult` of a partitioned run holds."""
        ids = self.worker_ids if self.worker_ids is not None else np.array([], dtype=object)
        sessions = pd.DataFrame({"worker_id": pd.Series([], dtype=object)}) \
            if self.present.get("sessions") is not None else None
        logs = self._logs({"orders": pd.DataFrame({"worker_id": pd.Series(ids, dtype=object)}),
                           "sessions": sessions, "payouts": None, "workers": self.workers,
                           "weather": self.weather})
        logs.rejected = self.rejected
        logs.sources = list(self.sources)
        return logs


def partition_of(worker_id: pd.Series, n_parts: int) -> np.ndarray:
    """Partition of each worker id: a stable 64-bit hash of the id text modulo ``n_parts``."""
    if n_parts <= 1:
        return np.zeros(len(worker_id), dtype=np.int64)
    vals = worker_id.astype(str).to_numpy(dtype=object)
    return (pd.util.hash_array(vals, categorize=True) % np.uint64(n_parts)).astype(np.int64)


# ---------------------------------------------------------------------------
# ingest
# ---------------------------------------------------------------------------


def _raw_chunks(src, name: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The raw table in chunks of ``chunk_rows`` rows, as :func:`read_raw` reads it."""
    if isinstance(src, pd.DataFrame):
        for i in range(0, max(len(src), 1), chunk_rows):
            yield src.iloc[i:i + chunk_rows]
        return
    path = Path(src)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):  # Excel: small by nature, read whole
        yield read_raw(path, table=name)
        return
    if not path.is_file():
        raise InputError(msg.FILE_NOT_FOUND.format(table=name, path=path))
    try:
        if suffix == ".csv":
            enc = detect_encoding(path)
            reader = pd.read_csv(path, dtype=str, encoding=enc, skipinitialspace=True,
                                 chunksize=chunk_rows)
            it = iter(reader)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            it = (pa.Table.from_batches([b]).to_pandas() for b in pf.iter_batches(batch_size=chunk_rows))
        first = True
        while True:
            try:
                df = next(it)
            except StopIteration:
                break
            df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
            first = False
            yield df
        if first:  # no data rows: the in-memory reader decides what that means
            yield read_raw(path, table=name)
    except InputError:
        raise
    except Exception as exc:  # any parser error becomes one clear line, as read_raw says it
        kind = suffix.lstrip(".").upper()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(msg.UNREADABLE_FILE.format(path=path, kind=kind, error=first_line)) from None


class _SeenKeys:
    """Unique keys of earlier chunks: (hash1 sorted, hash2, first line) per chunk."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    @staticmethod
    def hashes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (pd.util.hash_array(labels, categorize=False),
                pd.util.hash_array(labels, hash_key=_HASH_KEY2, categorize=False))

    def first_lines(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """The first line of each key seen before, or -1."""
        out = np.full(h1.size, -1, dtype=np.int64)
        for s1, s2, lines in self.parts:
            if not s1.size:
                continue
            pos = np.minimum(np.searchsorted(s1, h1), s1.size - 1)
            hit = (s1[pos] == h1) & (s2[pos] == h2) & (out < 0)
            out[hit] = lines[pos[hit]]
        return out

    def add(self, h1: np.ndarray, h2: np.ndarray, lines: np.ndarray) -> None:
        order = np.argsort(h1, kind="stable")
        self.parts.append((h1[order], h2[order], lines[order]))


def _key_labels(table: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    label = table[keys[0]].astype("string").fillna("")
    for k in keys[1:]:
        label = label + "/" + table[k].astype("string").fillna("")
    return label


def _arrow_schema(df: pd.DataFrame):
    import pyarrow as pa

    fields = []
    for c, dt in df.dtypes.items():
        if c == ROW or pd.api.types.is_integer_dtype(dt):
            t = pa.int64()
        elif pd.api.types.is_bool_dtype(dt):
            t = pa.bool_()
        elif pd.api.types.is_float_dtype(dt):
            t = pa.float64()
        elif pd.api.types.is_datetime64_dtype(dt):
            t = pa.timestamp(np.datetime_data(dt)[0])
        else:
            t = pa.string()
        fields.append(pa.field(str(c), t))
    return pa.schema(fields)


def default_parts(sources: list) -> int:
    """``P`` for inputs of this many bytes (about 64 MiB of CSV text a partition;
    a Parquet byte counts as four, about its compression over CSV)."""
    size = 0
    for s in sources:
        if s is not None and not isinstance(s, pd.DataFrame) and Path(s).is_file():
            size += Path(s).stat().st_size * (PARQUET_WEIGHT if Path(s).suffix == ".parquet" else 1)
        elif isinstance(s, pd.DataFrame):
            size += int(s.memory_usage(deep=False).sum())
    return int(min(MAX_PARTS, max(1, math.ceil(size / PART_BYTES))))


def partition_logs(folder: str | Path | None = None, *, out: str | Path | None = None,
                   n_parts: int | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                   orders=None, sessions=None, workers=None, payouts=None, weather=None,
                   profile: str | Path | Profile | None = None, region: str | None = None,
                   holidays=None, reuse: bool = True,
                   timings: dict | None = None) -> PartitionedLogs:
    """Read, validate and partition a platform's logs by worker, in bounded memory.

    Parameters
    ----------
    folder : path, optional
        A folder of canonical files, as for :func:`audit.load_logs`.
    out : path, optional
        Folder for the partitions (a temporary folder by default).
    n_parts : int, optional
        Number of partitions (default :func:`default_parts`).
    chunk_rows : int
        Rows read and validated at a time.
    orders, sessions, workers, payouts, weather, profile, region, holidays
        As for :func:`audit.load_logs`.
    reuse : bool
        Reuse ``out`` when its manifest matches the inputs (same SHA-256,
        profile, ``P`` and layout).
    timings : dict, optional
        Filled with seconds spent reading+validating and writing.

    Returns
    -------
    PartitionedLogs

    Raises
    ------
    InputError, RuleError
        As :func:`audit.load_logs` (same messages, same rows rejected).
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if region:
        prof.region = region
    given = resolve_inputs(folder, {"orders": orders, "sessions": sessions, "workers": workers,
                             "payouts": payouts, "weather": weather}, prof)
    P = int(n_parts) if n_parts else default_parts(list(given.values()))
    root = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="gigaudit-parts-"))
    digests = {n: ("" if s is None or isinstance(s, pd.DataFrame) else sha256_file(Path(s)))
               for n, s in given.items()}
    key = {"layout": _LAYOUT, "n_parts": P, "digests": digests, "profile": repr(prof),
           "files": {n: (None if s is None else (str(Path(s).resolve()) if not isinstance(
               s, pd.DataFrame) else "<DataFrame>")) for n, s in given.items()}}
    can_reuse = reuse and not any(isinstance(s, pd.DataFrame) for s in given.values())
    pickle_path = root / "logs.pkl"
    if can_reuse and (root / "manifest.json").exists() and pickle_path.exists():
        try:
            if json.loads((root / "manifest.json").read_text()) == key:
                got = pd.read_pickle(pickle_path)
                got.root = root
                got.holiday_overrides = holidays
                return got
        except Exception:  # a stale or broken cache is rebuilt
            pass
    if root.exists():
        for name in TABLE_NAMES:
            shutil.rmtree(root / name, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)

    import pyarrow as pa
    import pyarrow.parquet as pq

    t_read = t_write = 0.0
    dtypes: dict = {}
    present: dict = {}
    keys_by_table: dict = {}
    whole: dict = {}
    rejected: list[pd.DataFrame] = []
    sources: list[SourceFile] = []
    period = [None, None]
    ids: set = set()
    for name in TABLE_NAMES:
        src = given[name]
        if src is None:
            present[name] = None
            continue
        spec = TABLES[name]
        if isinstance(src, pd.DataFrame):
            label, first = f"<{name} DataFrame>", 2
        else:
            label, first = Path(src).name, (1 if Path(src).suffix.lower() == ".parquet" else 2)
        writers: dict[int, object] = {}
        schema = None
        seen = _SeenKeys() if spec.unique else None
        n_read = n_rej = 0
        first_rej = None
        cols_with_values: set = set()
        region_keys: set = set()
        small: list[pd.DataFrame] = []
        t0 = time.perf_counter()
        for raw in _raw_chunks(src, name, chunk_rows):
            if name == "orders" and n_read == 0 and len(raw) == 0:
                raise InputError(msg.EMPTY_TABLE.format(path=label, table=name))
            table, rej = validate_table(raw, name, profile=prof, file=label, first_line=first + n_read)
            lines = np.arange(first + n_read, first + n_read + len(raw), dtype=np.int64)
            good_lines = np.setdiff1d(lines, rej["line"].to_numpy(dtype=np.int64)) if len(rej) else lines
            n_read += len(raw)
            del raw
            if seen is not None and len(table):
                labels = _key_labels(table, spec.unique)
                h1, h2 = seen.hashes(labels.to_numpy(dtype=object))
                firsts = seen.first_lines(h1, h2)
                dup = firsts >= 0
                if dup.any():
                    template = msg.REJECT_DUPLICATE_ORDER if name == "orders" else msg.REJECT_DUPLICATE_KEY
                    vals = labels.to_numpy(dtype=object)[dup]
                    extra = pd.DataFrame({
                        "file": label, "line": good_lines[dup], "table": name,
                        "column": "/".join(spec.unique), "value": vals,
                        "reason": [template.format(table=name, value=v, first=f)
                                   for v, f in zip(vals, firsts[dup])]})
                    rej = pd.concat([rej, extra], ignore_index=True) if len(rej) else extra
                    table = table[~dup].reset_index(drop=True)
                    good_lines, h1, h2 = good_lines[~dup], h1[~dup], h2[~dup]
                seen.add(h1, h2, good_lines)
            if len(rej):
                rejected.append(rej)
                n_rej += len(rej)
                if first_rej is None:
                    first_rej = rej.sort_values("line", kind="stable").iloc[0]
            if not len(table):
                continue
            cols_with_values.update(c for c in table.columns if table[c].notna().any())
            if "region" in table.columns and name in ("orders", "workers", "weather"):
                region_keys.update(table["region"].dropna().astype(str).unique().tolist())
            if name == "orders":
                acc = table["accepted_at"]
                lo, hi = acc.min(), acc.max()
                if pd.notna(lo):
                    period[0] = lo if period[0] is None else min(period[0], lo)
                    period[1] = hi if period[1] is None else max(period[1], hi)
            if "worker_id" in table.columns:
                ids.update(table["worker_id"].dropna().astype(str).unique().tolist())
            if name not in dtypes:
                dtypes[name] = {c: str(t) for c, t in table.dtypes.items()}
            if name not in PARTITIONED:
                small.append(table)
                continue
            table[ROW] = good_lines
            t1 = time.perf_counter()
            part = partition_of(table["worker_id"], P)
            if schema is None:
                schema = _arrow_schema(table)
                (root / name).mkdir(parents=True, exist_ok=True)
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(P + 1))
            arrow = pa.Table.from_pandas(table, schema=schema, preserve_index=False)
            arrow = arrow.take(pa.array(order))
            for p in range(P):
                a, b = bounds[p], bounds[p + 1]
                if a == b:
                    continue
                if p not in writers:
                    writers[p] = pq.ParquetWriter(root / name / f"part-{p:05d}.parquet", schema,
                                                  compression="lz4")
                writers[p].write_table(arrow.slice(a, b - a))
            del arrow, table
            t_write += time.perf_counter() - t1
        for w in writers.values():
            w.close()
        t_read += time.perf_counter() - t0
        if n_read and n_rej == n_read:
            raise InputError(msg.NO_ROWS_LEFT.format(path=label, table=name, line=first_rej["line"],
                                                     reason=first_rej["reason"]))
        if name not in dtypes:  # every row rejected or no rows: keep the column layout
            dtypes[name] = {c.name: "object" for c in spec.columns}
        present[name] = cols_with_values
        keys_by_table[name] = region_keys
        if name not in PARTITIONED:
            whole[name] = (pd.concat(small, ignore_index=True) if len(small) > 1 else
                           small[0] if small else pd.DataFrame({c: pd.Series([], dtype=object)
                                                                for c in dtypes[name]}))
        sources.append(SourceFile(name, Path(label), digests[name], n_read, n_rej))

    # regions: resolved once, in the order and with the errors of load_logs
    from audit.rules import resolve_regions

    region_codes: dict = {}
    for name in ("orders", "workers", "weather"):
        if present.get(name) is None or "region" not in dtypes.get(name, {}):
            continue
        keys = sorted(keys_by_table.get(name, ()))
        codes = resolve_regions(pd.Series(keys, dtype=object)) if keys else pd.Series([], dtype=object)
        region_codes[name] = dict(zip(keys, codes.to_numpy()))
        if "region_code" not in dtypes[name]:
            dtypes[name]["region_code"] = "object"
    for name, t in whole.items():
        codes = region_codes.get(name)
        if codes is not None:
            has = t["region"].notna().to_numpy()
            rc = pd.Series(None, index=t.index, dtype=object)
            if has.any():
                rc[has] = t.loc[has, "region"].astype(str).map(codes).to_numpy()
            t["region_code"] = rc
    for name in ("orders", "workers", "weather"):
        if present.get(name) is not None and name in region_codes:
            has_any = any(v is not None for v in region_codes[name].values())
            if has_any:
                present[name] = set(present[name]) | {"region_code"}

    rej_all = pd.concat([r for r in rejected if len(r)], ignore_index=True) if rejected \
        else pd.DataFrame(columns=REJECTED_COLUMNS)
    if len(rej_all):
        order = {n: i for i, n in enumerate(TABLE_NAMES)}
        rej_all = (rej_all.assign(_t=rej_all["table"].map(order))
                   .sort_values(["_t", "file", "line"], kind="stable").drop(columns="_t")
                   .reset_index(drop=True))
    lo, hi = period
    result = PartitionedLogs(
        root=root, n_parts=P, dtypes=dtypes, region_codes=region_codes, present=present,
        period=(pd.Timestamp(lo).normalize(), pd.Timestamp(hi).normalize()),
        workers=whole.get("workers"), weather=whole.get("weather"), rejected=rej_all,
        sources=sources, profile=prof, holiday_overrides=holidays,
        worker_ids=np.array(sorted(ids), dtype=object))
    if timings is not None:
        timings["read_validate"] = t_read - t_write
        timings["write_partitions"] = t_write
        _mark_peak(timings, "read_validate+write_partitions")
    if can_reuse:
        keep = result.holiday_overrides
        result.holiday_overrides = None
        pd.to_pickle(result, pickle_path)
        result.holiday_overrides = keep
        (root / "manifest.json").write_text(json.dumps(key, indent=1, sort_keys=True))
    return result


# ---------------------------------------------------------------------------
# kernels (module level so that Dask can ship them)
# ---------------------------------------------------------------------------


def run_partition(plogs: PartitionedLogs, p: int, check_ids: list[str], limits: dict, *,
                  partial_ids: tuple[str, ...] | list[str] = (), time_base: bool = True,
                  timings: dict | None = None) -> dict:
    """Run the per-worker checks, and the partial aggregates of the mergeable
    platform checks, on partition ``p``.

    Returns
    -------
    dict
        ``{check id: findings}``, ``{("partial", check id): partial}`` and, with
        ``time_base``, ``"_time_base"``.
    """
    from audit.run import _run_one

    wanted = list(check_ids) + list(partial_ids)
    specs = {s.id: s for s in select_checks(wanted)} if wanted else {}
    logs = plogs.part(p)
    out = {}

    def timed(stage, func):
        t0 = time.perf_counter()
        value = func()
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
            _mark_peak(timings, stage)
        return value

    for cid in check_ids:
        out[cid] = timed(cid, lambda: _run_one(specs[cid], logs, limits))
    for cid in partial_ids:
        spec = specs[cid]
        out[("partial", cid)] = timed(cid, lambda: spec.partial(logs, thresholds=limits,
                                                                 **spec.options))
    if time_base:
        from audit.time_base import time_base_table

        out["_time_base"] = timed("time_base", lambda: time_base_table(logs))
    return out


def finish_check(spec, parts: list, logs: AuditLogs, limits: dict) -> pd.DataFrame:
    """Findings of a mergeable platform check from its partials (see ``audit.checks``)."""
    from audit.run import checked_findings

    return checked_findings(spec, spec.finish(parts, logs, thresholds=limits, **spec.options))


def run_platform_check(plogs: PartitionedLogs, check_id: str, limits: dict, *,
                       shared: dict | None = None) -> pd.DataFrame:
    """Run a platform-level check without a map/merge split on the projection of
    every completed order (the fallback for a check that has no split yet).

    ``shared`` keeps the projection (and its cache) for the next such check,
    as the in-memory run shares one cache.
    """
    from audit.run import _run_one

    spec = select_checks([check_id])[0]
    if shared is not None and "logs" in shared:
        logs = shared["logs"]
    else:
        logs = plogs.projection()
        if shared is not None:
            shared["logs"] = logs
    return _run_one(spec, logs, limits)


def _run_partition_task(plogs, p, check_ids, limits, time_base, partial_ids=()):
    return run_partition(plogs, p, check_ids, limits, partial_ids=partial_ids, time_base=time_base)


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------


def _merge_worker_findings(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Partition findings of one check in the order the check gives on the whole table."""
    nonempty = [f for f in frames if len(f)]
    if not nonempty:
        return frames[0]
    if len(nonempty) == 1:
        return nonempty[0].reset_index(drop=True)
    allf = pd.concat(nonempty, ignore_index=True, sort=False)
    return allf.take(sorted_order(allf, ["subject"])).reset_index(drop=True)


def run_partitioned(source: str | Path | PartitionedLogs | None = None, *, engine: str = "chunked",
                    orders=None, sessions=None, workers=None, payouts=None, weather=None,
                    profile=None, region: str | None = None, holidays=None,
                    checks: str | list[str] | None = None, thresholds: dict | None = None,
                    lang: str = "zh", out: str | Path | None = None, progress: bool | None = None,
                    pseudonymize: str | None = None, charts: bool = False,
                    n_parts: int | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                    workdir: str | Path | None = None, scheduler: str | None = None,
                    n_workers: int = 2, timings: dict | None = None):
    """Audit one platform's logs partition by partition (``chunked``) or on Dask (``dask``).

    Parameters are those of :func:`audit.run.run_audit`, plus:

    engine : {"chunked", "dask"}
        ``chunked`` runs the partitions one after the other in this process;
        ``dask`` maps them over a Dask cluster.
    n_parts : int, optional
        Partitions (default: about 64 MiB of input each).
    chunk_rows : int
        Rows read and validated at a time.
    workdir : path, optional
        Where the partitions are written and reused (a temporary folder,
        removed afterwards, by default).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); a local
        cluster of ``n_workers`` processes by default.
    timings : dict, optional
        Filled with seconds per stage (``read_validate``,
        ``write_partitions``, each check, ``time_base``, ``combine``).

    Returns
    -------
    AuditResult
        With the findings and summary of :func:`audit.run.run_audit`.
    """
    from audit.rules import thresholds as rule_thresholds
    from audit.run import AuditResult, build_summary, record_skip

    if engine not in ("chunked", "dask"):
        raise ValueError(ERR_ENGINE.format(engine=engine))
    timings = {} if timings is None else timings
    tmp = None
    if isinstance(source, PartitionedLogs):
        plogs = source
    else:
        if workdir is None:
            tmp = tempfile.mkdtemp(prefix="gigaudit-parts-")
        plogs = partition_logs(source, out=workdir or tmp, n_parts=n_parts, chunk_rows=chunk_rows,
                               orders=orders, sessions=sessions, workers=workers, payouts=payouts,
                               weather=weather, profile=profile, region=region, holidays=holidays,
                               timings=timings, reuse=workdir is not None)
    try:
        specs = select_checks(checks)
        limits = {**rule_thresholds(), **(thresholds or {})}
        meta = plogs.meta_logs()
        by_check: dict[str, pd.DataFrame] = {}
        summaries: dict[str, dict] = {}
        worker_ids, split_ids, platform_ids = [], [], []
        for spec in specs:
            if record_skip(spec, meta, by_check, summaries):
                continue
            if spec.level in WORKER_LEVELS:
                worker_ids.append(spec.id)
            elif spec.mergeable:
                split_ids.append(spec.id)
            else:
                platform_ids.append(spec.id)

        light = plogs.light()
        if engine == "chunked":
            parts, platform = _run_local(light, worker_ids, split_ids, platform_ids, limits,
                                         timings, progress)
        else:
            parts, platform = _run_dask(light, worker_ids, split_ids, platform_ids, limits,
                                        timings, scheduler=scheduler, n_workers=n_workers)
        spec_of = {s.id: s for s in specs}
        for cid in split_ids:  # merge the partial aggregates (freed as merged)
            t0 = time.perf_counter()
            found = finish_check(spec_of[cid], [r.pop(("partial", cid)) for r in parts], meta, limits)
            by_check[cid] = found
            summaries[cid] = spec_of[cid].summarize(found)
            timings[cid] = timings.get(cid, 0.0) + time.perf_counter() - t0
            _mark_peak(timings, cid)
        t0 = time.perf_counter()
        for cid in worker_ids:
            found = _merge_worker_findings([r.pop(cid) for r in parts])  # free the parts as merged
            by_check[cid] = found
            summaries[cid] = spec_of[cid].summarize(found)
        for cid in platform_ids:
            by_check[cid] = platform[cid]
            summaries[cid] = spec_of[cid].summarize(platform[cid])
        tb = [r.pop("_time_base") for r in parts if "_time_base" in r]
        if tb:
            nonempty = [x for x in tb if len(x)] or tb[:1]
            tb_all = pd.concat(nonempty, ignore_index=True)
            meta.cache["time_base"] = (tb_all.take(sorted_order(tb_all, ["worker_id", "week_start"]))
                                       .reset_index(drop=True))
        del parts
        summary = build_summary(meta, summaries, limits)
        # keep the check order of the in-memory run in summary["checks"]
        summary["checks"] = {s.id: summary["checks"][s.id] for s in specs if s.id in summary["checks"]}
        result = AuditResult(None, summary, meta, by_check, lang, order=[s.id for s in specs])
        timings["combine"] = time.perf_counter() - t0
        _mark_peak(timings, "combine")
        if pseudonymize:
            from audit.privacy import pseudonymize_result

            result = pseudonymize_result(result, pseudonymize)
        if out is not None:
            t0 = time.perf_counter()
            result.write(out, charts=charts)
            timings["report"] = time.perf_counter() - t0
            _mark_peak(timings, "report")
        return result
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def peak_rss_mib(reset: bool = False) -> float | None:
    """This process's peak resident memory (MiB) since start or the last reset.

    Linux only (``VmHWM`` of ``/proc/self/status``; writing 5 to
    ``/proc/self/clear_refs`` resets it); None elsewhere.
    """
    try:
        with open("/proc/self/status") as fh:
            kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
        if reset:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        return kib / 1024.0
    except (OSError, StopIteration, ValueError):
        return None


def _mark_peak(timings: dict, stage: str) -> None:
    """Record the peak RSS of the stage just ended (the largest over partitions) in
    ``timings["peak_mib"]`` and start the next stage's count."""
    peak = peak_rss_mib(reset=True)
    if peak is not None:
        peaks = timings.setdefault("peak_mib", {})
        peaks[stage] = max(peaks.get(stage, 0.0), peak)


def _run_local(plogs, worker_ids, split_ids, platform_ids, limits, timings, progress):
    parts = []
    rng = range(plogs.n_parts)
    if progress:
        try:
            from tqdm import tqdm

            rng = tqdm(rng, unit="part", leave=False)
        except ImportError:  # pragma: no cover
            pass
    for p in rng:
        parts.append(run_partition(plogs, p, worker_ids, limits, partial_ids=split_ids,
                                   timings=timings))
    platform = {}
    shared: dict = {}
    for cid in platform_ids:
        t0 = time.perf_counter()
        platform[cid] = run_platform_check(plogs, cid, limits, shared=shared)
        timings[cid] = time.perf_counter() - t0
        _mark_peak(timings, cid)
    shared.clear()
    return parts, platform


def _run_dask(plogs, worker_ids, split_ids, platform_ids, limits, timings, *, scheduler,
              n_workers):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(ERR_NO_DASK) from None
    t0 = time.perf_counter()
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        timings["dask_start"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        shared = client.scatter(plogs, broadcast=True)
        # platform checks first: they are the longest tasks, so they start early
        fut_plat = {cid: client.submit(run_platform_check, shared, cid, limits, pure=False,
                                       priority=10) for cid in platform_ids}
        fut_parts = client.map(_run_partition_task, [shared] * plogs.n_parts, range(plogs.n_parts),
                               check_ids=list(worker_ids), limits=limits, time_base=True,
                               partial_ids=list(split_ids), pure=False)
        parts = client.gather(fut_parts)
        platform = {cid: f.result() for cid, f in fut_plat.items()}
        timings["dask_compute"] = time.perf_counter() - t0
        return parts, platform
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def choose_engine(engine: str, orders_source=None, folder=None) -> str:
    """``auto`` → ``chunked`` when the orders file exceeds :data:`AUTO_CHUNKED_BYTES`
    (a Parquet byte counting as :data:`PARQUET_WEIGHT`)."""
    if engine != "auto":
        if engine not in ENGINES:
            raise ValueError(ERR_ENGINE.format(engine=engine))
        return engine
    path = orders_source
    if path is None and folder is not None and Path(folder).is_dir():
        path = find_table_file(Path(folder), "orders")
    if path is not None and not isinstance(path, pd.DataFrame) and Path(path).is_file():
        size = Path(path).stat().st_size * (PARQUET_WEIGHT if Path(path).suffix == ".parquet" else 1)
        if size > AUTO_CHUNKED_BYTES:
            return "chunked"
    return "memory"


__all__ = ["ENGINES", "PartitionedLogs", "PieceLogs", "choose_engine",
           "partition_logs", "partition_of", "run_partition", "run_partitioned",
           "run_platform_check", "finish_check"]
