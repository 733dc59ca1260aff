"""Small exact summaries of a piece of the data that merge in any order (SPEC §8).

A platform figure computed from partitions of the data holding whole
clusters (workers) must not depend on how the clusters were split nor on
the order the pieces come in.  Two summaries for that:

* :func:`keyed_counts` / :func:`merge_keyed_counts` — per distinct
  combination of keys (e.g. worker id × region), the number of observations
  ``n`` and of flagged ones ``k``.  Integer sums, so exact in any order; the
  merge returns the combinations sorted by their key values (the canonical
  order in which a caller then reduces floats, e.g. a clustered share).
* :func:`value_counts` / :func:`merged_median` — the values of a continuous
  variable needed for an exact median: the distinct values with their
  counts when that is smaller than the values themselves, else the values.
  :func:`merged_median` equals ``numpy.median`` of all the values.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

KEY_COUNT_DIFFERS = "keyed counts to merge must have {n_keys} key columns; got {got}."
NAN_VALUES = "merged_median does not take NaN values."


def keyed_counts(keys: Sequence[np.ndarray], flag: np.ndarray) -> dict:
    """Observations and flagged observations per distinct combination of keys.

    Parameters
    ----------
    keys : sequence of arrays, each of shape (N,)
        The key columns (e.g. worker id text, region code text).
    flag : bool array, shape (N,)
        The event counted in ``k`` (e.g. late).

    Returns
    -------
    dict
        ``keys`` (list of arrays: the key values of each combination), ``k``
        and ``n`` (int64); one entry per combination present, in no
        particular order (:func:`merge_keyed_counts` sorts).
    """
    flag = np.asarray(flag, dtype=bool)
    codes, uniques = [], []
    for key in keys:
        c, u = pd.factorize(np.asarray(key), use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        uniques.append(np.asarray(u))
    dims = tuple(max(len(u), 1) for u in uniques)
    flat = np.ravel_multi_index(codes, dims) if len(flag) else np.zeros(0, dtype=np.int64)
    combo, inv = np.unique(flat, return_inverse=True)
    inv = inv.ravel()
    n = np.bincount(inv, minlength=len(combo)).astype(np.int64)
    k = np.bincount(inv[flag], minlength=len(combo)).astype(np.int64)
    where = np.unravel_index(combo, dims)
    return {"keys": [u[i] for u, i in zip(uniques, where)], "k": k, "n": n}


def merge_keyed_counts(parts: Sequence[dict], *, n_keys: int) -> dict:
    """Sum :func:`keyed_counts` of pieces (any order) into one canonical table.

    Parameters
    ----------
    parts : sequence of dict
        Outputs of :func:`keyed_counts`.
    n_keys : int
        Number of key columns (so that no parts at all still gives a table).

    Returns
    -------
    dict
        ``values`` (per key column, its sorted distinct values), ``codes``
        (per key column, the position of each combination's value in
        ``values``), ``k``, ``n`` (int64): one entry per distinct
        combination, sorted by the key values (first key first), counts of
        a combination present in several pieces added.
    """
    for p in parts:
        if len(p["keys"]) != n_keys:
            raise ValueError(KEY_COUNT_DIFFERS.format(n_keys=n_keys, got=len(p["keys"])))
    values, codes = [], []
    for j in range(n_keys):
        col = (np.concatenate([np.asarray(p["keys"][j]) for p in parts]) if parts
               else np.array([], dtype=object))
        v, c = np.unique(col, return_inverse=True)
        values.append(v)
        codes.append(c.ravel().astype(np.int64))
    k = np.concatenate([p["k"] for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64)
    n = np.concatenate([p["n"] for p in parts]).astype(np.int64) if parts else np.zeros(0, np.int64)
    dims = tuple(max(len(v), 1) for v in values)
    flat = np.ravel_multi_index(codes, dims) if len(n) else np.zeros(0, dtype=np.int64)
    combo, inv = np.unique(flat, return_inverse=True)  # sorted: lexicographic in the key ranks
    inv = inv.ravel()
    k_sum = np.zeros(len(combo), dtype=np.int64)
    n_sum = np.zeros(len(combo), dtype=np.int64)
    np.add.at(k_sum, inv, k)  # integers: exact whatever the order
    np.add.at(n_sum, inv, n)
    return {"values": values, "codes": [c.astype(np.int64) for c in np.unravel_index(combo, dims)],
            "k": k_sum, "n": n_sum}


def value_counts(values: np.ndarray) -> dict:
    """The values of a piece, as compact as exactness allows.

    Returns
    -------
    dict
        ``values`` (float64) and ``counts`` (int64, or None when each value
        stands for itself): the distinct values and their counts when that
        takes fewer bytes (16 a distinct value against 8 a value), else the
        values as they are.
    """
    x = np.asarray(values, dtype=float)
    distinct, counts = np.unique(x, return_counts=True)
    if 2 * len(distinct) < len(x):
        return {"values": distinct, "counts": counts.astype(np.int64)}
    return {"values": x.copy(), "counts": None}


def merged_median(parts: Sequence[dict]) -> float:
    """``numpy.median`` of all the values of :func:`value_counts` pieces (any order).

    The values at 0-based ranks ⌊(N−1)/2⌋ and ⌊N/2⌋ of the merged sorted
    values; their mean (as ``numpy.median`` takes it) when N is even.  NaN
    when there is no value.

    Raises
    ------
    ValueError
        A value is NaN (``numpy.median`` would give NaN; not needed here).
    """
    vals = [np.asarray(p["values"], dtype=float) for p in parts]
    cnts = [np.ones(len(v), dtype=np.int64) if p["counts"] is None
            else np.asarray(p["counts"], dtype=np.int64) for p, v in zip(parts, vals)]
    v = np.concatenate(vals) if vals else np.zeros(0)
    c = np.concatenate(cnts) if cnts else np.zeros(0, np.int64)
    if np.isnan(v).any():
        raise ValueError(NAN_VALUES)
    total = int(c.sum())
    if total == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(c[order])
    lo = v[np.searchsorted(cum, (total - 1) // 2, side="right")]
    if total % 2:
        return float(lo)
    hi = v[np.searchsorted(cum, total // 2, side="right")]
    return float((lo + hi) / 2)


__all__ = ["keyed_counts", "merge_keyed_counts", "merged_median", "value_counts"]
