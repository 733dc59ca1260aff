"""Sparse integer histograms per cell that merge exactly (SPEC §8).

A duration distribution kept as counts of integer seconds per cell (e.g.
region × distance band × hour) can be built on each partition of the data
(a Parquet file, a Dask partition) and the partial histograms summed:
:func:`merge` gives exactly the histogram of the whole data, so percentiles,
ranks and quantiles read from it are exact too, with no approximation
(unlike t-digest or binned sketches).

The table is ``keys..., value, count``: one row per cell and distinct integer
value with a positive count, sorted by the keys and then the value.

For compact partial aggregates the same histogram can be kept as integer
arrays with the cell as a code: :func:`pair_counts` (distinct (cell, value)
pairs and their counts; merging is counting the concatenated rows again),
:func:`group_pairs` (distinct pairs and each element's pair index) and
:func:`coded_rank_counts` (:func:`rank_counts` on such arrays).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

KEYS_DIFFER = "Histograms to merge must have the same cell keys; got {a} and {b}."
MISSING_KEYS = "The queries lack the cell key column(s) {missing} of the histogram."
BAD_QUANTILE = "q must lie in [0, 1]; got {q!r}."
NO_KEYS = "A histogram needs at least one cell key column."
VALUE_COL = "value"
COUNT_COL = "count"


@dataclass(frozen=True)
class IntHistogram:
    """Counts of integer values per cell.

    Attributes
    ----------
    keys : tuple of str
        The cell key columns.
    table : DataFrame
        ``*keys, value, count`` sorted by keys then value, one row per
        (cell, value), counts positive, index 0..len-1.
    """

    keys: tuple[str, ...]
    table: pd.DataFrame

    @property
    def total(self) -> int:
        """Number of observations counted."""
        return int(self.table[COUNT_COL].sum())

    def cells(self) -> pd.DataFrame:
        """One row per cell: the keys and ``n``, the cell's count."""
        return (self.table.groupby(list(self.keys), sort=True, observed=True)[COUNT_COL].sum()
                .rename("n").reset_index())


def _canonical(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    grouped = (table.groupby([*keys, VALUE_COL], sort=True, observed=True)[COUNT_COL].sum()
               .reset_index())
    grouped = grouped[grouped[COUNT_COL] > 0].reset_index(drop=True)
    grouped[VALUE_COL] = grouped[VALUE_COL].astype(np.int64)
    grouped[COUNT_COL] = grouped[COUNT_COL].astype(np.int64)
    return grouped


def int_histogram(frame: pd.DataFrame, keys: Sequence[str], value: str) -> IntHistogram:
    """Histogram of an integer column of ``frame`` per cell of ``keys``.

    Parameters
    ----------
    frame : DataFrame
        The observations; rows with a missing key or value are not counted.
    keys : sequence of str
        Cell key columns.
    value : str
        Column of integer values (e.g. durations in whole seconds).

    Returns
    -------
    IntHistogram
    """
    keys = tuple(keys)
    if not keys:
        raise ValueError(NO_KEYS)
    sub = frame[[*keys, value]].dropna()
    t = sub.rename(columns={value: VALUE_COL}).assign(**{COUNT_COL: np.int64(1)})
    return IntHistogram(keys, _canonical(t, keys))


def merge(*hists: IntHistogram) -> IntHistogram:
    """The histogram of the union of the data behind ``hists`` (exact)."""
    if not hists:
        raise ValueError(NO_KEYS)
    keys = hists[0].keys
    for h in hists[1:]:
        if h.keys != keys:
            raise ValueError(KEYS_DIFFER.format(a=keys, b=h.keys))
    return IntHistogram(keys, _canonical(pd.concat([h.table for h in hists], ignore_index=True),
                                         keys))


def _codes(h: IntHistogram, queries: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell code of each histogram row and query (-1: cell not in the histogram), cell sizes."""
    missing = [k for k in h.keys if k not in queries.columns]
    if missing:
        raise KeyError(MISSING_KEYS.format(missing=", ".join(missing)))
    t = h.table
    cells = t[list(h.keys)].drop_duplicates().reset_index(drop=True)
    index = pd.MultiIndex.from_frame(cells)
    row_code = index.get_indexer(pd.MultiIndex.from_frame(t[list(h.keys)]))
    q_code = index.get_indexer(pd.MultiIndex.from_frame(queries[list(h.keys)]))
    sizes = np.bincount(row_code, weights=t[COUNT_COL].to_numpy(), minlength=len(cells))
    return row_code, q_code, sizes.astype(np.int64)


def rank_counts(h: IntHistogram, queries: pd.DataFrame, value: str) -> pd.DataFrame:
    """For each query, its cell's size and the counts below and equal to its value.

    Parameters
    ----------
    h : IntHistogram
    queries : DataFrame
        The cell key columns of ``h`` and an integer column ``value``.
    value : str
        The column of ``queries`` holding the values to rank.

    Returns
    -------
    DataFrame
        ``n`` (the cell's count; 0 when the cell is not in the histogram),
        ``below`` (values strictly less), ``equal`` (values equal), aligned
        with ``queries`` (same index).
    """
    row_code, q_code, sizes = _codes(h, queries)
    vals = h.table[VALUE_COL].to_numpy(dtype=np.int64)
    counts = h.table[COUNT_COL].to_numpy(dtype=np.int64)
    qv = queries[value].to_numpy(dtype=np.int64) if len(queries) else np.zeros(0, np.int64)
    n, below, equal = coded_rank_counts(row_code, vals, counts, q_code, qv, sizes=sizes)
    return pd.DataFrame({"n": n, "below": below, "equal": equal}, index=queries.index)


def coded_rank_counts(cell: np.ndarray, values: np.ndarray, counts: np.ndarray,
                      q_cell: np.ndarray, q_values: np.ndarray, *, sizes: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`rank_counts` on a histogram whose cells are integer codes.

    Parameters
    ----------
    cell, values, counts : ndarray of int
        The histogram: one row per (cell code, value), sorted by cell then
        value, counts positive (as :func:`pair_counts` gives).
    q_cell, q_values : ndarray of int
        The queries: cell code (−1 or a code without rows: not in the
        histogram) and value.
    sizes : ndarray of int, optional
        Each cell's count (computed from the rows if not given).

    Returns
    -------
    (n, below, equal) : tuple of int64 ndarray
        Per query: its cell's count, the counts strictly below and equal to
        its value (all 0 for a cell not in the histogram).
    """
    row_code = np.asarray(cell, dtype=np.int64)
    vals = np.asarray(values, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    q_code = np.asarray(q_cell, dtype=np.int64)
    qv = np.asarray(q_values, dtype=np.int64)
    if sizes is None:
        ncell = int(max(row_code.max(initial=-1), q_code.max(initial=-1))) + 1
        sizes = np.bincount(row_code, weights=counts, minlength=ncell).astype(np.int64)
    zeros = np.zeros(len(qv), np.int64)
    if len(vals) == 0 or len(qv) == 0:
        return zeros, zeros.copy(), zeros.copy()
    found = (q_code >= 0) & (q_code < len(sizes))
    q_code = np.where(found, q_code, -1)
    # One sorted composite key code × span + value: a single searchsorted ranks every query.
    lo, hi = int(vals.min()), int(vals.max())
    off = lo - 1
    span = hi - lo + 3
    hkey = row_code * span + (vals - off)
    qkey = q_code * span + (np.clip(qv, lo - 1, hi + 1) - off)
    cum = np.concatenate([[0], np.cumsum(counts)])  # cum[i] = count of rows before i
    cell_start = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    pos = np.searchsorted(hkey, qkey, side="left")
    below = cum[pos] - cell_start[np.maximum(q_code, 0)]
    hit = (pos < len(hkey)) & (hkey[np.minimum(pos, len(hkey) - 1)] == qkey)
    equal = np.where(hit, counts[np.minimum(pos, len(counts) - 1)], 0)
    n = np.where(found, sizes[np.maximum(q_code, 0)], 0)
    return n, np.where(found, below, 0), np.where(found, equal, 0)


def _composite(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, int, int, int, int]:
    """One int64 key per pair, ``(a − a_min) × b_range + (b − b_min)``, if it cannot overflow.

    Returns the key (None when too wide), its range, a_min, b_min and b_range.
    """
    alo, blo = int(a.min()), int(b.min())
    arange, brange = int(a.max()) - alo + 1, int(b.max()) - blo + 1
    if arange * brange >= 2 ** 62:  # Python ints: no overflow in the test itself
        return None, 0, alo, blo, brange
    return (a - alo) * brange + (b - blo), arange * brange, alo, blo, brange


def _dense(key_range: int, n: int) -> bool:
    """Count by direct addressing (bincount over the key range) rather than hashing."""
    return key_range <= max(4 * n, 1 << 16)


def group_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pairs (a, b) of two integer arrays, sorted by a then b, and each pair's index.

    Returns
    -------
    (ua, ub, inverse) : tuple of int64 ndarray
        ``ua[inverse] == a`` and ``ub[inverse] == b``.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if len(a) == 0:
        e = np.zeros(0, np.int64)
        return e, e.copy(), e.copy()
    key, key_range, alo, blo, brange = _composite(a, b)
    if key is None:  # too wide for one key: sort the pairs
        order = np.lexsort((b, a))
        sa, sb = a[order], b[order]
        first = np.concatenate([[True], (sa[1:] != sa[:-1]) | (sb[1:] != sb[:-1])])
        inverse = np.empty(len(a), np.int64)
        inverse[order] = np.cumsum(first) - 1
        return sa[first], sb[first], inverse
    if _dense(key_range, len(a)):
        present = np.bincount(key, minlength=key_range) > 0
        keys = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[key]
    else:
        order = np.argsort(key)  # equal keys are equal pairs: stability is not needed
        ks = key[order]
        first = np.concatenate([[True], ks[1:] != ks[:-1]])
        inverse = np.empty(len(a), np.int64)
        inverse[order] = np.cumsum(first) - 1
        keys = ks[first]
    return keys // brange + alo, keys % brange + blo, inverse


def pair_counts(a: np.ndarray, b: np.ndarray, counts: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer histogram of pairs: the distinct (a, b), sorted, and how often each occurs.

    Parameters
    ----------
    a, b : ndarray of int
        E.g. a cell code and a duration in whole seconds.
    counts : ndarray of int, optional
        The multiplicity of each element (default 1).  The sums are of
        integers (float64 sums of integers below 2**53 are exact), so
        merging histograms (concatenating their rows and counting again) is
        exact in any order.

    Returns
    -------
    (ua, ub, n) : tuple of int64 ndarray
        The pairs with a positive total only.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    w = None if counts is None else np.asarray(counts, dtype=np.int64)
    if len(a) == 0:
        e = np.zeros(0, np.int64)
        return e, e.copy(), e.copy()
    key, key_range, alo, blo, brange = _composite(a, b)
    if key is not None and _dense(key_range, len(a)):
        n = np.bincount(key, weights=w, minlength=key_range).astype(np.int64)
        keys = np.flatnonzero(n > 0)
        return keys // brange + alo, keys % brange + blo, n[keys]
    if key is not None and w is None:  # a plain sort is the fastest way to count
        ks = np.sort(key)
        start = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
        keys = ks[start]
        n = np.diff(np.append(start, len(ks))).astype(np.int64)
        return keys // brange + alo, keys % brange + blo, n
    ua, ub, inv = group_pairs(a, b)
    n = np.bincount(inv, weights=w, minlength=len(ua)).astype(np.int64)
    keep = n > 0
    return ua[keep], ub[keep], n[keep]


def percentile_of_values(h: IntHistogram, queries: pd.DataFrame, value: str) -> np.ndarray:
    """Mid-rank percentile of each query value in its cell, 0–100.

    ``100 × (below + 0.5 × equal) / n``: the share of the cell's values
    strictly below the query plus half the share equal to it (the mid-rank,
    or "mid-distribution function", convention). NaN where the cell is not
    in the histogram.
    """
    r = rank_counts(h, queries, value)
    n = r["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * (r["below"].to_numpy() + 0.5 * r["equal"].to_numpy()) / n
    return np.where(n > 0, pct, np.nan)


def cell_quantiles(h: IntHistogram, q: float) -> pd.DataFrame:
    """The ``q`` quantile of each cell, interpolated linearly like ``numpy.quantile``.

    Returns
    -------
    DataFrame
        The keys, ``n`` and ``quantile`` (float), one row per cell.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(BAD_QUANTILE.format(q=q))
    t = h.table
    cells = h.cells()
    if cells.empty:
        return cells.assign(quantile=np.zeros(0))
    vals = t[VALUE_COL].to_numpy(dtype=float)
    cum = np.cumsum(t[COUNT_COL].to_numpy())
    n = cells["n"].to_numpy()
    start = np.concatenate([[0], np.cumsum(n)])[:-1]
    pos = q * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    # the value of 0-based global rank r is the first row whose cumulative count exceeds r
    v_lo = vals[np.searchsorted(cum, start + lo, side="right")]
    v_hi = vals[np.searchsorted(cum, start + hi, side="right")]
    return cells.assign(quantile=v_lo + (pos - lo) * (v_hi - v_lo))


__all__ = ["IntHistogram", "cell_quantiles", "coded_rank_counts", "group_pairs", "int_histogram",
           "merge", "pair_counts", "percentile_of_values", "rank_counts"]
