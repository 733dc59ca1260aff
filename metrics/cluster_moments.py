"""Per-cluster sums that merge exactly across pieces holding whole clusters.

A platform statistic computed piece by piece (a worker-hash partition of the
logs) must not depend on how the clusters (workers) are split.  Integer
counts may be added in any order; floating-point sums may not (the order of
the additions changes the last bits).  So each piece reduces its rows only
**within** a cluster (in the rows' own order, which is the same in every
piece holding that cluster), and the reductions **across** clusters are made
after :func:`canonical_order` has put the clusters of all pieces in the order
of their labels.

* :func:`block_take` reorders a ragged table (blocks of rows, one block per
  cluster or per (cluster, day)) by a permutation of its blocks.
* :class:`GroupMoments` holds, per (cluster, group), the sums of an OLS whose
  regressors are partly constant within groups (as
  :func:`metrics.suffstats.grouped_ols_stats`) and, per cluster, the
  cross-products of the per-row regressors; :meth:`GroupMoments.merge`
  concatenates pieces in canonical order and :meth:`GroupMoments.ols_stats`
  gives the :class:`metrics.suffstats.OLSStats`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.suffstats import OLSStats, assemble_grouped

DUPLICATE_CLUSTERS = "a cluster is in more than one piece (e.g. {label!r}); pieces must hold whole clusters."
NO_PIECES = "no piece to merge."
BAD_GROUP = "group codes must lie in 0 … {m}; got {lo} … {hi}."


def dense_codes(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct integers and the code of each element.

    ``numpy.unique(v, return_inverse=True)``, without the sort of ``v`` when
    the values span a small range (a presence table and a cumulative sum).
    """
    v = np.asarray(v, dtype=np.int64)
    if v.size == 0:
        return v, v
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > 4 * v.size + 1_000_000:
        return np.unique(v, return_inverse=True)
    present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
    lookup = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, lookup[v - lo]


def narrow_int(a: np.ndarray) -> np.ndarray:
    """Integers in the narrowest dtype holding them (to keep partials small)."""
    a = np.asarray(a)
    if a.size == 0:
        return a.astype(np.int8)
    dt = np.result_type(np.min_scalar_type(int(a.min())), np.min_scalar_type(int(a.max())))
    return a.astype(dt)


def block_take(lengths: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Row indices that put the blocks of a ragged table in ``order``.

    Parameters
    ----------
    lengths : array of int, shape (B,)
        Rows of each block, blocks stored one after the other.
    order : array of int, shape (B,)
        The blocks in their new order.

    Returns
    -------
    ndarray of int64
        ``concatenate([arange(start[b], start[b] + lengths[b]) for b in order])``
        without a Python loop.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.asarray(order, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    took = lengths[order]
    ends = np.cumsum(took)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts[order] - (ends - took), took) + np.arange(total, dtype=np.int64)


def canonical_order(labels: np.ndarray) -> np.ndarray:
    """Positions that sort cluster labels; each label must occur once.

    Raises
    ------
    ValueError
        A label occurs twice (a cluster split across pieces).
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    s = labels[order]
    if len(s) > 1:
        dup = np.flatnonzero(s[1:] == s[:-1])
        if len(dup):
            raise ValueError(DUPLICATE_CLUSTERS.format(label=s[dup[0]]))
    return order


def cluster_codes(cluster: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the clusters present (sorted) and the code of each row.

    ``cluster`` holds integer codes into sorted ``labels`` when given, else
    the labels themselves (integers, or anything pandas can sort).
    """
    cluster = np.asarray(cluster)
    if labels is not None or np.issubdtype(cluster.dtype, np.integer):
        present, code = dense_codes(cluster)
        return (np.asarray(labels)[present] if labels is not None else present), code
    code, uniq = pd.factorize(cluster, sort=True)
    return np.asarray(uniq), code.astype(np.int64)


@dataclass
class GroupMoments:
    """Sums of an OLS with group-level and row-level regressors, per cluster.

    Row i of cluster c in group g has regressors ``[Z[g], u_i]`` and response
    ``y_i``.  Stored in the order (cluster label, group):

    Attributes
    ----------
    clusters : ndarray, shape (G,)
        Cluster labels, sorted.
    groups_per_cluster : ndarray of int, shape (G,)
        Number of (cluster, group) cells of each cluster.
    group : ndarray of int, shape (C,)
        Group of each cell (cells of a cluster in increasing group).
    su : ndarray, shape (C, p)
        Σ u over the rows of the cell.
    sy : ndarray, shape (C,)
        Σ y over the rows of the cell.
    suu : ndarray, shape (G, p, p)
        Σ u u' over the rows of the cluster.
    suy : ndarray, shape (G, p)
        Σ u y over the rows of the cluster.
    syy : ndarray, shape (G,)
        Σ y² over the rows of the cluster.
    n_group : ndarray of int64, shape (m,)
        Rows of each group (integers: summed across clusters in any order).
    """

    clusters: np.ndarray
    groups_per_cluster: np.ndarray
    group: np.ndarray
    su: np.ndarray
    sy: np.ndarray
    suu: np.ndarray
    suy: np.ndarray
    syy: np.ndarray
    n_group: np.ndarray

    @property
    def n(self) -> int:
        return int(self.n_group.sum())

    @classmethod
    def from_rows(cls, cluster: np.ndarray, group: np.ndarray, u: np.ndarray, y: np.ndarray, *,
                  n_groups: int, labels: np.ndarray | None = None) -> "GroupMoments":
        """Sums of the rows of a piece holding whole clusters.

        Parameters
        ----------
        cluster : array, shape (N,)
            Integer codes into ``labels`` (sorted labels) when given, else
            the cluster labels.
        group : array of int, shape (N,)
            Group of each row, 0 … n_groups − 1.
        u : array, shape (N,) or (N, p)
            Row-level regressors.
        y : array, shape (N,)
        n_groups : int
        labels : array, optional
            Sorted labels the codes of ``cluster`` point to.
        """
        group = np.asarray(group, dtype=np.int64)
        y = np.asarray(y, dtype=float)
        u = np.asarray(u, dtype=float)
        u = u[:, None] if u.ndim == 1 else u
        m, p = int(n_groups), u.shape[1]
        if len(group) and (group.min() < 0 or group.max() >= m):
            raise ValueError(BAD_GROUP.format(m=m - 1, lo=group.min(), hi=group.max()))
        clusters, ccode = cluster_codes(cluster, labels)
        G = len(clusters)
        cells, cell = dense_codes(ccode * m + group)
        C = len(cells)
        # bincount adds in row order: a cluster's sums do not depend on the other clusters
        su = np.column_stack([np.bincount(cell, weights=u[:, j], minlength=C) for j in range(p)]) \
            if p else np.zeros((C, 0))
        suu = np.zeros((G, p, p))
        for a in range(p):
            for b in range(a, p):
                suu[:, a, b] = suu[:, b, a] = np.bincount(ccode, weights=u[:, a] * u[:, b], minlength=G)
        suy = np.column_stack([np.bincount(ccode, weights=u[:, j] * y, minlength=G) for j in range(p)]) \
            if p else np.zeros((G, 0))
        return cls(clusters=clusters,
                   groups_per_cluster=np.bincount(cells // m, minlength=G).astype(np.int64),
                   group=cells % m,
                   su=su.reshape(C, p),
                   sy=np.bincount(cell, weights=y, minlength=C),
                   suu=suu, suy=suy.reshape(G, p),
                   syy=np.bincount(ccode, weights=y * y, minlength=G),
                   n_group=np.bincount(group, minlength=m).astype(np.int64))

    def narrow(self) -> "GroupMoments":
        """The same sums with the integer columns in their narrowest dtype."""
        return GroupMoments(self.clusters, narrow_int(self.groups_per_cluster), narrow_int(self.group),
                            self.su, self.sy, self.suu, self.suy, self.syy, self.n_group)

    @classmethod
    def merge(cls, parts: list["GroupMoments"]) -> "GroupMoments":
        """The pieces' sums in canonical order (by cluster label, then group).

        The result does not depend on the order of ``parts`` nor on how the
        clusters were split into them.
        """
        if not parts:
            raise ValueError(NO_PIECES)
        labels = np.concatenate([np.asarray(p.clusters) for p in parts])
        order = canonical_order(labels)
        gpc = np.concatenate([np.asarray(p.groups_per_cluster, dtype=np.int64) for p in parts])
        cells = block_take(gpc, order)
        p_ = parts[0].su.shape[1]
        return cls(clusters=labels[order], groups_per_cluster=gpc[order],
                   group=np.concatenate([np.asarray(p.group, dtype=np.int64) for p in parts])[cells],
                   su=np.concatenate([p.su for p in parts]).reshape(-1, p_)[cells],
                   sy=np.concatenate([p.sy for p in parts])[cells],
                   suu=np.concatenate([p.suu for p in parts])[order],
                   suy=np.concatenate([p.suy for p in parts])[order],
                   syy=np.concatenate([p.syy for p in parts])[order],
                   n_group=np.sum([p.n_group for p in parts], axis=0).astype(np.int64))

    def ols_stats(self, Z: np.ndarray, names: tuple[str, ...] | list[str]) -> OLSStats:
        """X'X, X'y, y'y, Σy and n of the regression of y on ``[Z[group], u]``.

        Assembled by :func:`metrics.suffstats.assemble_grouped`, as
        :func:`metrics.suffstats.grouped_ols_stats` is; every sum across clusters runs in the stored (canonical) order, so
        call it on the output of :meth:`merge`.
        """
        Z = np.asarray(Z, dtype=float)
        m, p = Z.shape[0], self.su.shape[1]
        group = np.asarray(self.group, dtype=np.int64)
        n_g = self.n_group.astype(float)
        su = np.column_stack([np.bincount(group, weights=self.su[:, j], minlength=m) for j in range(p)]) \
            if p else np.zeros((m, 0))
        sy = np.bincount(group, weights=self.sy, minlength=m)
        return assemble_grouped(Z, n_g, su, sy, self.suu.sum(0), self.suy.sum(0),
                                float(self.syy.sum()), float(self.sy.sum()), self.n, names)


__all__ = ["GroupMoments", "block_take", "canonical_order", "cluster_codes", "dense_codes", "narrow_int"]
