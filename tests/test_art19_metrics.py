"""metrics.histograms, metrics.proportions and metrics.suffstats against hand values and statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from metrics.histograms import (KEYS_DIFFER, cell_quantiles, int_histogram, merge,
                                percentile_of_values, rank_counts)
from metrics.proportions import cluster_bootstrap_median, clustered_share, quantile_ci, wilson
from metrics.suffstats import (fit_trend, merge_trend_stats, ols_stats, r2_interval,
                               trend_stats)


# -- histograms -----------------------------------------------------------------------------
def _cells_frame(rng, n=3000):
    return pd.DataFrame({"r": rng.choice(["a", "b", "c"], n), "band": rng.integers(0, 4, n),
                         "v": rng.integers(60, 400, n)})


def test_mid_rank_percentile_by_hand():
    # one cell: values 1..20 (minutes), plus a second cell with a tie
    f = pd.DataFrame({"k": ["x"] * 20 + ["y"] * 4, "v": list(range(1, 21)) + [5, 5, 5, 9]})
    h = int_histogram(f, ["k"], "v")
    q = pd.DataFrame({"k": ["x", "x", "x", "x", "y", "y", "z"], "v": [10, 0, 21, 1, 5, 7, 3]},
                     index=[10, 11, 12, 13, 14, 15, 16])
    r = rank_counts(h, q, "v")
    assert r.index.tolist() == q.index.tolist()
    assert r["below"].tolist() == [9, 0, 20, 0, 0, 3, 0]
    assert r["equal"].tolist() == [1, 0, 0, 1, 3, 0, 0]
    assert r["n"].tolist() == [20, 20, 20, 20, 4, 4, 0]
    pct = percentile_of_values(h, q, "v")
    # 10 in 1..20: (9 + 0.5)/20 = 47.5; 5 among {5,5,5,9}: (0 + 1.5)/4 = 37.5; unknown cell: NaN
    np.testing.assert_allclose(pct[:6], [47.5, 0.0, 100.0, 2.5, 37.5, 75.0])
    assert np.isnan(pct[6])


def test_histogram_merge_is_exact_and_percentiles_match_brute_force():
    rng = np.random.default_rng(3)
    f = _cells_frame(rng)
    whole = int_histogram(f, ["r", "band"], "v")
    parts = merge(int_histogram(f.iloc[:1000], ["r", "band"], "v"),
                  int_histogram(f.iloc[1000:2500], ["r", "band"], "v"),
                  int_histogram(f.iloc[2500:], ["r", "band"], "v"))
    pd.testing.assert_frame_equal(whole.table, parts.table)
    q = _cells_frame(rng, 200)
    got = percentile_of_values(parts, q, "v")
    ref = [100 * ((g["v"] < v).sum() + 0.5 * (g["v"] == v).sum()) / len(g)
           for (r, b, v) in q[["r", "band", "v"]].itertuples(index=False)
           for g in [f[(f["r"] == r) & (f["band"] == b)]]]
    np.testing.assert_allclose(got, ref)


def test_cell_quantiles_match_numpy():
    rng = np.random.default_rng(4)
    f = _cells_frame(rng, 800)
    h = int_histogram(f, ["r", "band"], "v")
    for q in (0.0, 0.5, 0.9, 1.0):
        got = cell_quantiles(h, q).set_index(["r", "band"])["quantile"]
        ref = f.groupby(["r", "band"])["v"].quantile(q)
        np.testing.assert_allclose(got.sort_index().to_numpy(), ref.sort_index().to_numpy())


def test_merge_refuses_different_keys():
    f = pd.DataFrame({"a": [1], "b": [1], "v": [1]})
    with pytest.raises(ValueError) as e:
        merge(int_histogram(f, ["a"], "v"), int_histogram(f, ["b"], "v"))
    assert str(e.value) == KEYS_DIFFER.format(a=("a",), b=("b",))


# -- proportions ----------------------------------------------------------------------------
def test_wilson_by_hand():
    # 0 of 10: upper bound z²/(n + z²)
    z2 = stats.norm.ppf(0.975) ** 2
    lo, hi = wilson([0], [10])
    assert lo[0] == 0 and hi[0] == pytest.approx(z2 / (10 + z2))


def test_clustered_share_se_equals_statsmodels_cluster_robust():
    rng = np.random.default_rng(5)
    w = rng.integers(0, 30, 900)
    p = rng.uniform(0.02, 0.4, 30)[w]
    y = (rng.random(900) < p).astype(float)
    per = pd.DataFrame({"w": w, "y": y}).groupby("w")["y"]
    s = clustered_share(per.sum().to_numpy(), per.size().to_numpy())
    m = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": w})
    assert s["share"] == pytest.approx(y.mean())
    assert s["se"] == pytest.approx(m.bse[0], rel=1e-10)
    assert s["deff"] == pytest.approx(s["se"] ** 2 / (y.mean() * (1 - y.mean()) / 900))
    assert s["ci_low"] < s["share"] < s["ci_high"]
    # wider than the independent Wilson interval whenever deff > 1
    lo, hi = wilson(y.sum(), 900)
    assert s["deff"] > 1 and s["ci_high"] - s["ci_low"] > hi - lo


def test_quantile_ci_ranks_cover_the_level():
    x = np.arange(1, 101, dtype=float)
    r = quantile_ci(x, 0.9)
    assert r["estimate"] == pytest.approx(np.quantile(x, 0.9))
    lo, hi = int(r["ci_low"]), int(r["ci_high"])  # ranks, since x = 1..100
    cover = stats.binom.cdf(hi - 1, 100, 0.9) - stats.binom.cdf(lo - 1, 100, 0.9)
    assert cover >= 0.95 and lo <= 90 <= hi


def test_cluster_bootstrap_median_is_seeded_and_brackets_the_median():
    rng = np.random.default_rng(6)
    v = rng.normal(50, 10, 2000)
    c = rng.integers(0, 100, 2000)
    a = cluster_bootstrap_median(v, c, reps=99, seed=1)
    assert a == cluster_bootstrap_median(v, c, reps=99, seed=1)
    assert a[0] < np.median(v) < a[1]


# -- sufficient statistics ------------------------------------------------------------------
def test_r2_from_merged_sufficient_statistics_equals_statsmodels():
    rng = np.random.default_rng(8)
    n = 500
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n), np.zeros(n)])
    y = X[:, :3] @ [1.0, 0.5, -0.3] + rng.normal(0, 0.7, n)
    st = ols_stats(X[:200], y[:200], ["c", "x", "d", "z"]) + ols_stats(X[200:], y[200:],
                                                                       ["c", "x", "d", "z"])
    fit = st.fit()
    m = sm.OLS(y, X[:, :3]).fit()
    assert fit["r2"] == pytest.approx(m.rsquared, abs=1e-10)  # the zero column changes nothing
    assert fit["rank"] == 3
    np.testing.assert_allclose(fit["coef"].to_numpy()[:3], m.params, rtol=1e-8)
    se, lo, hi = r2_interval(fit["r2"], n, 2)
    r2 = fit["r2"]
    assert se == pytest.approx(np.sqrt(4 * r2 * (1 - r2) ** 2 * (n - 3) ** 2 / ((n * n - 1) * (n + 3))))


def test_within_trend_equals_statsmodels_dummies_cluster():
    rng = np.random.default_rng(9)
    n = 700
    df = pd.DataFrame({"cluster": rng.integers(0, 30, n), "cell": rng.integers(0, 9, n),
                       "t": rng.uniform(0, 3, n)})
    df["y"] = 0.2 * df["cell"] - 0.04 * df["t"] + rng.normal(0, 0.2, n)
    r = fit_trend(merge_trend_stats(trend_stats(df.iloc[:350]), trend_stats(df.iloc[350:])))
    m = smf.ols("y ~ t + C(cell)", df).fit(cov_type="cluster", cov_kwds={"groups": df["cluster"]},
                                           use_t=True)
    assert r["slope"] == pytest.approx(m.params["t"], rel=1e-9)
    assert r["se"] == pytest.approx(m.bse["t"], rel=1e-9)
    assert r["p_value"] == pytest.approx(m.pvalues["t"], rel=1e-7)
    np.testing.assert_allclose([r["ci_low"], r["ci_high"]], m.conf_int().loc["t"], rtol=1e-8)


def test_weighted_median_with_integer_weights_is_numpy_median():
    from metrics.proportions import weighted_median

    rng = np.random.default_rng(10)
    for n in (1, 2, 5, 8, 31):
        v = np.sort(rng.integers(0, 6, n).astype(float))
        w = rng.integers(0, 3, n).astype(float)
        if w.sum() == 0:
            continue
        assert weighted_median(v, w) == pytest.approx(np.median(np.repeat(v, w.astype(int))))


def test_grouped_ols_stats_equal_the_dense_design():
    from metrics.suffstats import grouped_ols_stats

    rng = np.random.default_rng(13)
    n, g = 300, 6
    codes = rng.integers(0, g, n)
    Z = np.column_stack([np.ones(g), np.eye(g)[:, 1:3], rng.normal(size=g)])
    u = rng.normal(size=(n, 2))
    y = rng.normal(size=n)
    names = ["c", "d1", "d2", "z", "u1", "u2"]
    a = grouped_ols_stats(codes, Z, u, y, names)
    b = ols_stats(np.column_stack([Z[codes], u]), y, names)
    np.testing.assert_allclose(a.xtx, b.xtx, atol=1e-9)
    np.testing.assert_allclose(a.xty, b.xty, atol=1e-9)
    assert (a.yty, a.sy, a.n) == pytest.approx((b.yty, b.sy, b.n))


def test_cluster_bootstrap_replicate_is_the_weighted_median():
    # one replicate, reproduced with the same Poisson draw and the slow weighted median
    from metrics.proportions import weighted_median

    rng = np.random.default_rng(14)
    v = rng.integers(0, 30, 400).astype(float)
    c = rng.integers(0, 12, 400)
    w = np.random.default_rng(5).poisson(1.0, size=(1, 12)).astype(float)[0]
    order = np.argsort(v, kind="stable")
    ref = weighted_median(v[order], w[c][order])
    lo, hi = cluster_bootstrap_median(v, c, reps=1, seed=5)
    assert lo == hi == pytest.approx(ref)
