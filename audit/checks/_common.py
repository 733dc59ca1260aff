"""Arrays that several checks share, computed once per run and cached on the logs."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from audit.logs import AuditLogs
from metrics.intervals import from_seconds, to_seconds

NO_SESSIONS_NOTE = "no sessions table: online time unknown, engaged time used"


def text_values(values: pd.Series) -> np.ndarray:
    """``values.astype(str)`` as an object array, without the copy when the
    values are already text (validated id, region and status columns).

    ``astype(str)`` turns millions of shared Python strings into an Arrow
    string column and back; here only missing cells are converted (``None`` →
    ``"None"``, NaN → ``"nan"``, as ``astype(str)`` writes them).
    """
    vals = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(vals, skipna=True) not in ("string", "empty"):
        return values.astype(str).to_numpy(dtype=object)
    miss = pd.isna(vals)
    if miss.any():
        vals = vals.copy()
        vals[miss] = [str(v) for v in vals[miss]]
    return vals


@dataclass(frozen=True)
class WorkerIndex:
    """Integer codes for worker ids across all tables."""

    ids: np.ndarray

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.ids, dtype=object)

    def codes(self, worker_ids: pd.Series) -> np.ndarray:
        """Position of each id in ``ids`` (-1 if absent or missing)."""
        # Factorize the millions of ids (shared Python strings, cached hashes),
        # then look up only the distinct ones, compared as text (``astype(str)``).
        codes, uniq = pd.factorize(worker_ids.to_numpy(dtype=object), use_na_sentinel=False)
        text = np.array([u if isinstance(u, str) else str(u) for u in uniq], dtype=object)
        return self._index.get_indexer(text)[codes] if len(codes) else np.zeros(0, dtype=np.intp)

    def names(self, codes: np.ndarray) -> np.ndarray:
        return self.ids[np.asarray(codes, dtype=np.int64)]

    @classmethod
    def of(cls, id_columns: list[pd.Series]) -> "WorkerIndex":
        """The sorted distinct ids (as text) of some id columns."""
        ids = np.sort(pd.unique(pd.concat([c.astype(str) for c in id_columns], ignore_index=True)))
        return cls(np.asarray(ids, dtype=object))


def worker_index(logs: AuditLogs) -> WorkerIndex:
    """Sorted distinct worker ids of orders, sessions and workers."""
    if "worker_index" not in logs.cache:
        tables = [logs.orders] + [logs.table(n) for n in ("sessions", "workers")]
        logs.cache["worker_index"] = WorkerIndex.of([t["worker_id"] for t in tables if t is not None])
    return logs.cache["worker_index"]


def engaged_arrays(logs: AuditLogs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker codes, accepted and delivered seconds of completed orders."""
    if "engaged" not in logs.cache:
        o = logs.completed
        idx = worker_index(logs)
        logs.cache["engaged"] = (idx.codes(o["worker_id"]), to_seconds(o["accepted_at"]),
                                 to_seconds(o["delivered_at"]))
    return logs.cache["engaged"]


def online_arrays(logs: AuditLogs) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Worker codes, login and logout seconds of sessions (None without sessions)."""
    if logs.sessions is None:
        return None
    if "online" not in logs.cache:
        s = logs.sessions
        idx = worker_index(logs)
        logs.cache["online"] = (idx.codes(s["worker_id"]), to_seconds(s["login_at"]),
                                to_seconds(s["logout_at"]))
    return logs.cache["online"]


def time_arrays(logs: AuditLogs, base: str) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], str]:
    """Intervals for a time base (``online`` or ``engaged``) and a note.

    Without a sessions table the online base falls back to engaged time and
    the note says so (SPEC §4).
    """
    if base == "online":
        arrays = online_arrays(logs)
        if arrays is not None:
            return arrays, ""
        return engaged_arrays(logs), NO_SESSIONS_NOTE
    return engaged_arrays(logs), ""


def to_dates(seconds: np.ndarray) -> np.ndarray:
    """Seconds to ``datetime64[D]``."""
    return from_seconds(seconds).astype("datetime64[D]")
