"""Fixed-effects premium model from mergeable sufficient statistics (SPEC §5, §8).

The model (art13 premium model of SPEC §5) is

    y_i = x_i'β_x + γ_{h(i)} + α_{g(i)} + u_i

with ``y`` log pay per order, ``x`` a few numeric regressors (holiday flag,
extreme-weather flag, log distance), ``γ`` the effects of one categorical
variable (hour of day; its first observed level is the reference) and ``α``
worker fixed effects, absorbed by the within transformation.  Standard errors
are clustered by worker.

Sufficient statistics
---------------------
:class:`PremiumStats` holds *raw* (not yet demeaned) sums, so that it merges
by addition, whatever way the rows were split:

* per cluster g: ``n_g``, ``Σy``, ``Σy²``, ``Σx`` (p), ``Σxx'`` (p×p), ``Σxy`` (p);
* per cell (g, level a) that holds rows: ``n_ga``, ``Σx`` (p), ``Σy``.

With ``Z = [x, D]`` (D: one dummy per level, all levels kept), every cluster's
raw cross-products follow from these because the dummies are exclusive:
``Z_g'Z_g = [[Σxx', Σ_ga x], [·, diag(n_ga)]]``, ``Z_g'1 = m_g = [Σx, n_g·]``,
``Z_g'y = [Σxy, Σ_ga y]``.  The within transformation is applied at solve time:
``A_g = Z̃_g'Z̃_g = Z_g'Z_g − m_g m_g'/n_g`` and ``b_g = Z̃_g'ỹ_g = Z_g'y − m_g Σy/n_g``.
Then

* ``β = (Σ_g A_g)⁻¹ Σ_g b_g`` (reference level and unidentified columns dropped:
  a column that is a combination of earlier ones gets NaN, so the flags of
  interest, listed first, are kept in preference);
* the cluster score ``s_g = Z̃_g'ũ_g = b_g − A_g β`` is evaluated exactly for
  the final β from the same per-cluster and per-cell sums (``α_g = (Σy −
  m_g'β)/n_g``; ``s_g = Z_g'y − Z_g'Z_g β − m_g α_g``), so no second pass over
  the rows is needed;
* ``meat = Σ_g s_g s_g'``, ``V = c · B⁻¹ meat B⁻¹`` with ``B = Σ_g A_g``.

Everything is O(rows) to build and O(cells · k) to solve, with no per-row or
per-worker Python loop.  Storage is O(cells + clusters), never O(clusters·k²).

**Partitions.**  Merging (``a + b``) concatenates the tables and adds the
sums of any cluster (or cell) present in both parts, so the merge is exact
for *any* split of the rows.  When partitions are made by a hash of the
worker id (each worker's rows in one partition, SPEC §8) no cluster repeats
and the merge is a pure concatenation; that is the intended and cheap use.
Demeaning inside each partition before merging would need exactly that
requirement; keeping raw sums removes it.  :meth:`PremiumStats.concat`
merges many parts at once and puts clusters in label order and cells in
(cluster, level) order: :meth:`~PremiumStats.solve` reduces across clusters
in array order, so this canonical order makes the bits independent of how
the workers were split and of the order of the parts.  (Raw sums lose a few digits
against two-pass demeaning when a regressor's mean is large relative to its
within-worker spread; for flags, log distance and log pay this is far below
1e-10 relative.)

Degrees of freedom
------------------
``df_correction`` chooses the small-sample factor ``c``:

* ``"dummies"`` (default): ``G/(G−1) · (N−1)/(N−K)`` with ``K = k + G``, the
  parameter count of OLS with one dummy per worker.  This is statsmodels'
  default small-sample correction for ``OLS(...).fit(cov_type="cluster")``
  with worker dummies, the reference that SPEC §5 names, and the conservative
  choice: wider intervals, so an ``ok`` premium verdict is never owed to the
  convention (the SEs are ``≈ √(N/(N−G))`` larger than ``nested``: 5 % at 10
  orders per worker, 0.5 % at 100).  Singleton workers count in N and G, as in
  statsmodels.
* ``"nested"``: ``G/(G−1) · (N−1)/(N−k−1)``: worker effects nested in the
  worker clusters are not counted (Cameron & Miller 2015; Stata ``xtreg, fe``;
  fixest/pyfixest's default ``k_fixef="nonnested"``, which adds one for the
  absorbed intercept).  Singleton workers are left out of N and G, as
  pyfixest's default ``fixef_rm="singleton"`` does.
* ``"none"``: no factor (the plain sandwich).

Here ``k`` is the number of identified, non-absorbed coefficients.  Intervals
and p-values use Student's t with ``G − 1`` degrees of freedom under every
convention: pyfixest's CRV inference, and statsmodels' ``df_resid_inference``
for cluster covariances when ``use_t=True`` (statsmodels' own default for a
cluster covariance is the normal distribution, which understates the
uncertainty when workers are few).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

DfCorrection = Literal["dummies", "nested", "none"]

ERR_MISSING_COLUMN = "PremiumStats.from_frame: column {column!r} is not in the frame."
ERR_NOT_FINITE = "PremiumStats.from_frame: column {column!r} has missing or infinite values."
ERR_UNKNOWN_LEVEL = "PremiumStats.from_frame: column {column!r} has values outside the given levels."
ERR_MERGE_SPEC = ("PremiumStats.merge: the parts have different regressors, category or cluster "
                  "columns ({left} vs {right}).")
ERR_CONCAT_EMPTY = "PremiumStats.concat: no part to concatenate."
ERR_DF_CORRECTION = ("The 'df_correction' parameter of PremiumStats.solve must be a str among "
                     "{{'dummies', 'nested', 'none'}}. Got {value!r} instead.")
ERR_CI_LEVEL = ("The 'ci_level' parameter of PremiumStats.solve must be a float in the range "
                "(0, 1). Got {value!r} instead.")

TIDY_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n_obs", "n_clusters"]

# a column whose variance is explained by the earlier ones up to this share is
# (numerically) a combination of them: its coefficient is not identified
_RANK_TOL = 1e-10


@dataclass(frozen=True)
class PremiumStats:
    """Mergeable sufficient statistics of the worker fixed-effects premium model.

    Build with :meth:`from_frame`, combine parts with :meth:`merge` or ``+``
    (or many at once, in canonical order, with :meth:`concat`), and estimate
    with :meth:`solve`.  See the module docstring for the
    scheme, the partition requirement and the degrees-of-freedom conventions.

    Attributes
    ----------
    x_names : tuple of str
        Numeric regressors, in order.
    category : str
        Name of the categorical regressor (its levels become dummies).
    levels : ndarray
        The category's levels (sorted); the first one observed is the reference.
    clusters : ndarray
        Cluster labels (G,).
    cl_n, cl_sy, cl_syy : ndarray
        Per cluster: rows, Σy, Σy² (G,).
    cl_sx, cl_sxy : ndarray
        Per cluster: Σx and Σxy (G, p).
    cl_sxx : ndarray
        Per cluster: Σxx' (G, p, p).
    cell_g, cell_a : ndarray
        Cluster and level index of each non-empty cell (C,).
    cell_n, cell_sy : ndarray
        Per cell: rows and Σy (C,).
    cell_sx : ndarray
        Per cell: Σx (C, p).
    """

    x_names: tuple[str, ...]
    category: str
    levels: np.ndarray
    clusters: np.ndarray
    cl_n: np.ndarray
    cl_sy: np.ndarray
    cl_syy: np.ndarray
    cl_sx: np.ndarray
    cl_sxx: np.ndarray
    cl_sxy: np.ndarray
    cell_g: np.ndarray
    cell_a: np.ndarray
    cell_n: np.ndarray
    cell_sy: np.ndarray
    cell_sx: np.ndarray

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, y: str, x: Sequence[str], category: str,
                   cluster: str, levels: Sequence | None = None) -> "PremiumStats":
        """Sufficient statistics of one part of the data.

        Parameters
        ----------
        frame : DataFrame
            One row per observation.
        y : str
            Dependent variable (e.g. log pay).
        x : sequence of str
            Numeric regressors (e.g. holiday flag, weather flag, log distance).
        category : str
            Categorical regressor (e.g. hour of day) entered as dummies.
        cluster : str
            Fixed-effect and cluster variable (e.g. worker id).
        levels : sequence, optional
            All levels the category can take (e.g. ``range(24)``); give the
            same levels to every partition.  Default: the levels observed.

        Returns
        -------
        PremiumStats

        Raises
        ------
        ValueError
            A column is missing, a value is missing or infinite, or a
            category value is not among ``levels``.
        """
        x = tuple(x)
        for column in (y, *x, category, cluster):
            if column not in frame.columns:
                raise ValueError(ERR_MISSING_COLUMN.format(column=column))
        yv = frame[y].to_numpy(dtype=float)
        xv = frame[list(x)].to_numpy(dtype=float).reshape(len(frame), len(x))
        for column, values in ((y, yv), *((c, xv[:, j]) for j, c in enumerate(x))):
            if not np.isfinite(values).all():
                raise ValueError(ERR_NOT_FINITE.format(column=column))
        cat = frame[category]
        if cat.isna().any() or frame[cluster].isna().any():
            raise ValueError(ERR_NOT_FINITE.format(column=category if cat.isna().any() else cluster))
        if levels is None:
            lev = np.sort(pd.unique(cat.to_numpy()))
        else:
            lev = np.sort(np.asarray(list(levels)))
        a = pd.Index(lev).get_indexer(cat.to_numpy())
        if (a < 0).any():
            raise ValueError(ERR_UNKNOWN_LEVEL.format(column=category))
        g, labels = pd.factorize(frame[cluster], sort=False)
        return cls._from_arrays(yv, xv, a.astype(np.int64), g.astype(np.int64),
                                np.asarray(labels, dtype=object), x, category, lev)

    @classmethod
    def _from_arrays(cls, yv, xv, a, g, labels, x_names, category, lev) -> "PremiumStats":
        n_cl, p, n_lev = len(labels), xv.shape[1], len(lev)

        def csum(w, idx=g, size=n_cl):
            return np.bincount(idx, weights=w, minlength=size)

        cl_n = np.bincount(g, minlength=n_cl).astype(float)
        cl_sy = csum(yv)
        cl_syy = csum(yv * yv)
        cl_sx = np.empty((n_cl, p))
        cl_sxy = np.empty((n_cl, p))
        cl_sxx = np.empty((n_cl, p, p))
        for j in range(p):  # p is small (a few regressors): loop over columns, not rows
            cl_sx[:, j] = csum(xv[:, j])
            cl_sxy[:, j] = csum(xv[:, j] * yv)
            for m in range(j, p):
                cl_sxx[:, j, m] = cl_sxx[:, m, j] = csum(xv[:, j] * xv[:, m])
        key = g * n_lev + a
        cells, inv = np.unique(key, return_inverse=True)
        n_cells = len(cells)
        cell_n = np.bincount(inv, minlength=n_cells).astype(float)
        cell_sy = csum(yv, inv, n_cells)
        cell_sx = np.column_stack([csum(xv[:, j], inv, n_cells) for j in range(p)]).reshape(n_cells, p)
        return cls(tuple(x_names), category, np.asarray(lev), labels, cl_n, cl_sy, cl_syy, cl_sx,
                   cl_sxx, cl_sxy, cells // n_lev, cells % n_lev, cell_n, cell_sy, cell_sx)

    # ------------------------------------------------------------------ merge
    def merge(self, other: "PremiumStats") -> "PremiumStats":
        """Statistics of the union of two parts (exact for any split of the rows).

        Clusters present in both parts have their sums added; with partitions
        by worker (the intended use) there are none and this is a concatenation.
        """
        if (self.x_names, self.category) != (other.x_names, other.category):
            raise ValueError(ERR_MERGE_SPEC.format(left=(self.x_names, self.category),
                                                   right=(other.x_names, other.category)))
        lev = np.union1d(self.levels, other.levels)
        a1 = np.searchsorted(lev, self.levels)[self.cell_a]
        a2 = np.searchsorted(lev, other.levels)[other.cell_a]
        labels = np.concatenate([self.clusters, other.clusters])
        g_all, uniq = pd.factorize(pd.Series(labels, dtype=object), sort=False)
        g1, g2 = g_all[:len(self.clusters)], g_all[len(self.clusters):]
        n_cl, n_lev = len(uniq), len(lev)

        def agg_cl(v1, v2):
            v = np.concatenate([v1, v2])
            if n_cl == len(labels):  # disjoint clusters: plain concatenation
                return v
            out = np.zeros((n_cl,) + v.shape[1:])
            np.add.at(out, g_all, v)
            return out

        key = np.concatenate([g1[self.cell_g] * n_lev + a1, g2[other.cell_g] * n_lev + a2])
        if n_cl == len(labels):  # disjoint clusters: the cells are distinct, no aggregation
            cells = key

            def agg_cell(v1, v2):
                return np.concatenate([v1, v2])
        else:
            cells, inv = np.unique(key, return_inverse=True)

            def agg_cell(v1, v2):
                v = np.concatenate([v1, v2])
                out = np.zeros((len(cells),) + v.shape[1:])
                np.add.at(out, inv, v)
                return out

        return PremiumStats(
            self.x_names, self.category, lev, np.asarray(uniq, dtype=object),
            agg_cl(self.cl_n, other.cl_n), agg_cl(self.cl_sy, other.cl_sy),
            agg_cl(self.cl_syy, other.cl_syy), agg_cl(self.cl_sx, other.cl_sx),
            agg_cl(self.cl_sxx, other.cl_sxx), agg_cl(self.cl_sxy, other.cl_sxy),
            cells // n_lev, cells % n_lev, agg_cell(self.cell_n, other.cell_n),
            agg_cell(self.cell_sy, other.cell_sy), agg_cell(self.cell_sx, other.cell_sx))

    def __add__(self, other: "PremiumStats") -> "PremiumStats":
        return self.merge(other)

    @classmethod
    def concat(cls, parts: Sequence["PremiumStats"]) -> "PremiumStats":
        """Statistics of the union of many parts, in canonical order.

        Clusters come out sorted by label and cells by (cluster, level), so
        :meth:`solve`, which reduces across clusters in array order, gives
        the same bits whatever the order of disjoint-cluster parts (worker
        partitions) and whatever the order of the rows inside each part.

        A cluster (or cell) present in several parts has its sums added in
        the order of ``parts``, one part after the other; give such parts in
        a fixed order.  With disjoint clusters nothing is added: the tables
        are concatenated and permuted.

        Parameters
        ----------
        parts : sequence of PremiumStats
            At least one part; all with the same regressors and category.

        Returns
        -------
        PremiumStats

        Raises
        ------
        ValueError
            No part, or parts with different regressors or category.
        """
        parts = list(parts)
        if not parts:
            raise ValueError(ERR_CONCAT_EMPTY)
        spec = (parts[0].x_names, parts[0].category)
        for q in parts[1:]:
            if (q.x_names, q.category) != spec:
                raise ValueError(ERR_MERGE_SPEC.format(left=spec, right=(q.x_names, q.category)))
        lev = parts[0].levels
        for q in parts[1:]:
            if not np.array_equal(q.levels, lev):
                lev = np.union1d(lev, q.levels)
        labels = np.concatenate([np.asarray(q.clusters, dtype=object) for q in parts])
        # sorted labels: the canonical cluster order
        g_all, uniq = pd.factorize(labels, sort=True)
        n_cl, n_lev = len(uniq), len(lev)
        offsets = np.cumsum([0] + [len(q.clusters) for q in parts])
        a_all = np.concatenate([np.searchsorted(lev, q.levels)[q.cell_a] for q in parts]).astype(np.int64)
        g_cell = np.concatenate([g_all[offsets[i] + q.cell_g] for i, q in enumerate(parts)]).astype(np.int64)
        cells, c_inv = np.unique(g_cell * n_lev + a_all, return_inverse=True)

        def gather(index, size, arrays):
            v = np.concatenate(arrays)
            if size == len(v):  # each label once: a permutation, no arithmetic
                out = np.empty_like(v)
                out[index] = v
                return out
            # np.bincount adds the weights in array order: part after part
            flat = v.reshape(len(v), -1)
            out = np.column_stack([np.bincount(index, weights=flat[:, j], minlength=size)
                                   for j in range(flat.shape[1])])
            return out.reshape((size,) + v.shape[1:])

        def cl(name):
            return gather(g_all, n_cl, [getattr(q, name) for q in parts])

        def cell(name):
            return gather(c_inv, len(cells), [getattr(q, name) for q in parts])

        return cls(spec[0], spec[1], np.asarray(lev), np.asarray(uniq, dtype=object),
                   cl("cl_n"), cl("cl_sy"), cl("cl_syy"), cl("cl_sx"), cl("cl_sxx"), cl("cl_sxy"),
                   cells // n_lev, cells % n_lev, cell("cell_n"), cell("cell_sy"), cell("cell_sx"))

    def canonical(self) -> "PremiumStats":
        """The same statistics with clusters sorted by label and cells by (cluster, level)."""
        return PremiumStats.concat([self])

    @property
    def n_obs(self) -> int:
        """Rows summarised."""
        return int(self.cl_n.sum())

    # ------------------------------------------------------------------ solve
    def _normal_equations(self) -> tuple[np.ndarray, np.ndarray]:
        """Within-transformed ``B = Σ A_g`` and ``c = Σ b_g`` over all p + L columns."""
        p, n_lev = len(self.x_names), len(self.levels)
        inv_n = 1.0 / self.cl_n
        xx = self.cl_sxx.sum(axis=0) - np.einsum("gj,gm,g->jm", self.cl_sx, self.cl_sx, inv_n)
        share = self.cell_n * inv_n[self.cell_g]  # n_ga / n_g
        xd = np.stack([np.bincount(self.cell_a, weights=self.cell_sx[:, j]
                                   - self.cl_sx[self.cell_g, j] * share, minlength=n_lev)
                       for j in range(p)]).reshape(p, n_lev)
        c_mat = sp.csr_matrix((self.cell_n * np.sqrt(inv_n[self.cell_g]), (self.cell_g, self.cell_a)),
                              shape=(len(self.clusters), n_lev))
        dd = np.diag(np.bincount(self.cell_a, weights=self.cell_n, minlength=n_lev)) \
            - (c_mat.T @ c_mat).toarray()
        big_b = np.block([[xx, xd], [xd.T, dd]])
        cx = self.cl_sxy.sum(axis=0) - (self.cl_sx * (self.cl_sy * inv_n)[:, None]).sum(axis=0)
        cd = np.bincount(self.cell_a, weights=self.cell_sy - self.cl_sy[self.cell_g] * share,
                         minlength=n_lev)
        return big_b, np.concatenate([cx, cd])

    def _scores(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cluster scores ``s_g = b_g − A_g β``: the x part (G, p) and the per-cell level part (C,)."""
        p = len(self.x_names)
        bx, bd = beta[:p], beta[p:]
        bd_cell = bd[self.cell_a]
        n_cl = len(self.clusters)
        alpha = (self.cl_sy - self.cl_sx @ bx
                 - np.bincount(self.cell_g, weights=self.cell_n * bd_cell, minlength=n_cl)) / self.cl_n
        sx_d = np.stack([np.bincount(self.cell_g, weights=self.cell_sx[:, j] * bd_cell, minlength=n_cl)
                         for j in range(p)], axis=1).reshape(n_cl, p)
        s_x = self.cl_sxy - np.einsum("gjm,m->gj", self.cl_sxx, bx) - sx_d - self.cl_sx * alpha[:, None]
        s_cell = (self.cell_sy - self.cell_sx @ bx - self.cell_n * bd_cell
                  - self.cell_n * alpha[self.cell_g])
        return s_x, s_cell

    def _meat(self, s_x: np.ndarray, s_cell: np.ndarray) -> np.ndarray:
        p, n_lev = len(self.x_names), len(self.levels)
        xx = s_x.T @ s_x
        xd = np.stack([np.bincount(self.cell_a, weights=s_x[self.cell_g, j] * s_cell, minlength=n_lev)
                       for j in range(p)]).reshape(p, n_lev)
        s_mat = sp.csr_matrix((s_cell, (self.cell_g, self.cell_a)), shape=(len(self.clusters), n_lev))
        dd = (s_mat.T @ s_mat).toarray()
        return np.block([[xx, xd], [xd.T, dd]])

    def term_names(self) -> list[str]:
        """Names of all p + L columns: the regressors, then ``category[level]``."""
        return list(self.x_names) + [f"{self.category}[{lev}]" for lev in self.levels]

    def fit(self, *, df_correction: DfCorrection = "dummies") -> dict:
        """Coefficients and cluster-robust covariance of the identified terms.

        Returns
        -------
        dict
            ``terms`` (names of the non-reference columns), ``beta`` (NaN when
            not identified), ``vcov`` (NaN rows/columns where not identified),
            ``n_obs``, ``n_clusters``, ``df_t`` (G − 1) and ``factor`` (the
            small-sample factor used).
        """
        if df_correction not in ("dummies", "nested", "none"):
            raise ValueError(ERR_DF_CORRECTION.format(value=df_correction))
        p = len(self.x_names)
        big_b, c = self._normal_equations()
        n_cols = len(c)
        lev_n = np.bincount(self.cell_a, weights=self.cell_n, minlength=len(self.levels))
        observed = np.concatenate([np.ones(p, bool), lev_n > 0])
        ref = p + int(np.flatnonzero(lev_n > 0)[0]) if (lev_n > 0).any() else None
        report = observed.copy()
        if ref is not None:
            report[ref] = False  # the reference level is absorbed with the worker effects
        cand = np.flatnonzero(report)
        keep = _identified(big_b[np.ix_(cand, cand)])
        kept = cand[keep]
        beta = np.zeros(n_cols)
        vcov = np.full((n_cols, n_cols), np.nan)
        multiple = self.cl_n > 1
        if df_correction == "nested":  # singletons dropped, as pyfixest's fixef_rm="singleton"
            n_obs, n_clusters = int(self.cl_n[multiple].sum()), int(multiple.sum())
        else:
            n_obs, n_clusters = self.n_obs, len(self.clusters)
        factor = np.nan
        if len(kept):
            b_inv = np.linalg.inv(big_b[np.ix_(kept, kept)])
            b_inv = (b_inv + b_inv.T) / 2
            beta[kept] = b_inv @ c[kept]
            s_x, s_cell = self._scores(beta)
            meat = self._meat(s_x, s_cell)[np.ix_(kept, kept)]
            k = len(kept)
            g_adj = n_clusters / (n_clusters - 1) if n_clusters > 1 else np.nan
            # no residual degree of freedom left (tiny data): no factor, NaN errors
            if df_correction == "dummies":
                dof = n_obs - k - len(self.clusters)
                factor = g_adj * (n_obs - 1) / dof if dof > 0 else np.nan
            elif df_correction == "nested":
                dof = n_obs - k - 1
                factor = g_adj * (n_obs - 1) / dof if dof > 0 else np.nan
            else:
                factor = 1.0
            if not np.isfinite(factor) or factor <= 0:
                factor = np.nan
            vcov[np.ix_(kept, kept)] = factor * (b_inv @ meat @ b_inv)
        beta_out = np.full(n_cols, np.nan)
        beta_out[kept] = beta[kept]
        names = np.array(self.term_names(), dtype=object)
        return {"terms": list(names[report]), "beta": beta_out[report],
                "vcov": vcov[np.ix_(report, report)], "n_obs": n_obs, "n_clusters": n_clusters,
                "df_t": n_clusters - 1, "factor": factor}

    def solve(self, *, df_correction: DfCorrection = "dummies", ci_level: float = 0.95) -> pd.DataFrame:
        """Tidy coefficient table.

        Parameters
        ----------
        df_correction : {"dummies", "nested", "none"}
            Small-sample convention (module docstring): ``dummies`` matches
            statsmodels with worker dummies, ``nested`` matches pyfixest's
            CRV1 default.
        ci_level : float
            Confidence level of the intervals (t with G − 1 df).

        Returns
        -------
        DataFrame
            One row per term (the regressors, then ``category[level]`` for
            each observed non-reference level): ``term, estimate, std_error,
            ci_low, ci_high, p_value, n_obs, n_clusters``.  A term that the
            data cannot identify (e.g. a flag with no variation within any
            worker) has NaN figures.
        """
        if not (isinstance(ci_level, (int, float)) and 0 < ci_level < 1):
            raise ValueError(ERR_CI_LEVEL.format(value=ci_level))
        res = self.fit(df_correction=df_correction)
        se = np.sqrt(np.diag(res["vcov"]))
        df_t = res["df_t"]
        if df_t >= 1:
            q = stats.t.ppf(0.5 + ci_level / 2, df_t)
            p_value = 2 * stats.t.sf(np.abs(res["beta"] / se), df_t)
        else:
            q, p_value = np.nan, np.full(len(se), np.nan)
        return pd.DataFrame({
            "term": res["terms"], "estimate": res["beta"], "std_error": se,
            "ci_low": res["beta"] - q * se, "ci_high": res["beta"] + q * se, "p_value": p_value,
            "n_obs": res["n_obs"], "n_clusters": res["n_clusters"],
        }, columns=TIDY_COLUMNS)


def _identified(mat: np.ndarray) -> np.ndarray:
    """Which columns of a PSD cross-product matrix are linearly independent of the earlier ones.

    Columns are taken in order (so the regressors of interest, listed first,
    are kept in preference to hour effects); a column is dropped when its
    share of variance not explained by the kept columns is under
    ``_RANK_TOL``.  The loop is over the k (~30) columns, never over rows.
    """
    k = mat.shape[0]
    out = np.zeros(k, bool)
    d = np.diag(mat)
    scale = np.max(np.abs(d)) if k else 0.0
    kept: list[int] = []
    for j in range(k):
        if d[j] <= _RANK_TOL * max(scale, np.finfo(float).tiny):
            continue
        if kept:
            sub = mat[np.ix_(kept, kept)]
            v = mat[kept, j]
            resid = d[j] - v @ np.linalg.solve(sub, v)
        else:
            resid = d[j]
        if resid > _RANK_TOL * d[j]:
            kept.append(j)
            out[j] = True
    return out


__all__ = ["PremiumStats", "TIDY_COLUMNS", "DfCorrection"]
