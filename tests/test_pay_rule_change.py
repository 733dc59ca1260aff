"""art19.pay_rule_change and metrics.structural_break, on pay series with a known rule change."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import audit
from audit.checks.art19_pay_rule_change import check_pay_rule_change, summarize
from metrics.structural_break import (INVALID_TRIM, candidate_index, daily_moments, pay_break_test,
                                      simulate_sup_pvalue)

START = np.datetime64("2025-03-03")  # a Monday


def _orders(*, seed, days=40, workers=30, per_day=60, break_day=25, before=(4.0, 1.2),
            after=(5.0, 0.9), noise=0.5, worker_sd=0.0, multiplicative=False):
    """Orders whose pay follows ``a + b·km + hour effect`` with (a, b) changing on ``break_day``."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    d = np.repeat(np.arange(days), per_day)
    hour = rng.integers(8, 22, n)
    km = rng.uniform(0.5, 6.0, n)
    w = rng.integers(0, workers, n)
    a = np.where(d >= break_day, after[0], before[0])
    b = np.where(d >= break_day, after[1], before[1])
    hour_pay = np.where(np.isin(hour, [11, 12, 17, 18]), 1.0, 0.0)
    mean = a + b * km + hour_pay + rng.normal(0, worker_sd, workers)[w] if worker_sd else a + b * km + hour_pay
    pay = mean * np.exp(rng.normal(0, noise, n)) if multiplicative else mean + rng.normal(0, noise, n)
    acc = (START + d.astype("timedelta64[D]")).astype("datetime64[s]") + (hour * 3600 + rng.integers(0, 3600, n)
                                                                      ).astype("timedelta64[s]")
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)], "worker_id": [f"W{x:03d}" for x in w],
        "region": "shijiazhuang", "accepted_at": pd.to_datetime(acc).strftime("%Y-%m-%d %H:%M:%S"),
        "delivered_at": pd.to_datetime(acc + np.timedelta64(1200, "s")).strftime("%Y-%m-%d %H:%M:%S"),
        "pay": np.round(pay.clip(0.01), 4), "distance_km": np.round(km, 4),
    })


def _arrays(df):
    acc = pd.to_datetime(df["accepted_at"]).to_numpy().astype("datetime64[s]").astype(np.int64)
    return (acc // 86400, (acc % 86400) // 3600, df["distance_km"].to_numpy(float),
            df["pay"].to_numpy(float), pd.factorize(df["worker_id"])[0])


def test_known_rate_change_is_dated_exactly_with_its_rates():
    df = _orders(seed=1, noise=0.02)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=2000)
    assert np.datetime64(r.break_day, "D") == START + np.timedelta64(25, "D")
    e = r.estimates["estimate"]
    assert e["slope_before"] == pytest.approx(1.2, abs=0.005)
    assert e["slope_after"] == pytest.approx(0.9, abs=0.005)
    assert e["intercept_change"] == pytest.approx(1.0, abs=0.01)
    # -25 % per km, by hand: (0.9 - 1.2) / 1.2
    assert e["rate_change_pct"] == pytest.approx(-25.0, abs=0.5)
    assert r.p_value < 0.001 and r.sup_lm > r.crit_5


def test_noisy_change_is_dated_within_a_week_and_significant():
    # 15 % multiplicative noise and worker effects, as in the sample; the date found is 03-29
    df = _orders(seed=7, noise=0.15, multiplicative=True, worker_sd=0.5, per_day=60)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=2000)
    true = START + np.timedelta64(25, "D")
    assert abs(np.datetime64(r.break_day, "D") - true) <= np.timedelta64(7, "D")
    assert r.p_value < 0.05
    lo, hi = r.estimates.loc["rate_change_pct", ["ci_low", "ci_high"]]
    assert lo < -25.0 < hi


@pytest.mark.parametrize("seed", [3, 4])
def test_no_break_is_not_significant(seed):
    df = _orders(seed=seed, before=(4.0, 1.2), after=(4.0, 1.2), noise=0.3, multiplicative=True,
                 worker_sd=0.8)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=2000)
    assert r.p_value >= 0.05


def test_scan_equals_refitting_every_candidate_on_raw_rows():
    df = _orders(seed=11, days=20, per_day=25, noise=0.4)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=200, trim=0.15, min_side=30)
    H = pd.get_dummies(hour, drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([np.ones(len(pay)), km, H])
    ssr_r = sm.OLS(pay, X).fit().ssr
    for _, row in r.scan.iterrows():
        after = (day >= row["day"]).astype(float)
        fit = sm.OLS(pay, np.column_stack([X, after, after * km])).fit()
        assert row["ssr"] == pytest.approx(fit.ssr, rel=1e-9)
        f = ((ssr_r - fit.ssr) / 2) / (fit.ssr / (len(pay) - X.shape[1] - 2))
        assert row["f"] == pytest.approx(f, rel=1e-7)


def test_clustered_lm_equals_brute_force_score_test():
    df = _orders(seed=12, days=20, per_day=25, noise=0.4, workers=15)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=200)
    H = pd.get_dummies(hour, drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([np.ones(len(pay)), km, H])
    e = sm.OLS(pay, X).fit().resid
    G = len(np.unique(g))
    for _, row in r.scan.iloc[[0, len(r.scan) // 2, -1]].iterrows():
        after = (day >= row["day"]).astype(float)
        Z = np.column_stack([after, after * km])
        # score of the shift at the no-break fit, with Z partialled on X
        Zt = Z - X @ np.linalg.solve(X.T @ X, X.T @ Z)
        S = Zt.T @ e
        U = np.stack([(Zt[g == c] * e[g == c, None]).sum(0) for c in range(G)])
        V = G / (G - 1) * U.T @ U
        assert row["lm"] == pytest.approx(S @ np.linalg.solve(V, S), rel=1e-8)


def test_rates_and_clustered_errors_equal_statsmodels_at_the_break():
    df = _orders(seed=13, days=30, per_day=30, noise=0.3, multiplicative=True, worker_sd=0.5, workers=20)
    day, hour, km, pay, g = _arrays(df)
    r = pay_break_test(day, hour, km, pay, g, reps=200)
    after = (day >= r.break_day).astype(float)
    H = pd.get_dummies(hour, drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([np.ones(len(pay)), km, H, after, after * km])
    fit = sm.OLS(pay, X).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(r.theta, fit.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(r.cov)), fit.bse, rtol=1e-7)
    k = X.shape[1] - 2
    est = r.estimates
    assert est.loc["slope_after", "estimate"] == pytest.approx(fit.params[1] + fit.params[k + 1])
    c = np.zeros(X.shape[1]); c[[1, k + 1]] = 1
    assert est.loc["slope_after", "se"] == pytest.approx(np.sqrt(c @ fit.cov_params() @ c), rel=1e-7)


def test_simulated_null_is_chi2_with_one_candidate_and_andrews_on_a_fine_grid():
    # one candidate: sup-LM is a chi²(2); its 5 % point is 5.991
    p, crit = simulate_sup_pvalue(np.array([0.5]), stats.chi2.ppf(0.95, 2), reps=40_000, seed=1)
    assert p == pytest.approx(0.05, abs=0.005)
    assert crit == pytest.approx(5.991, abs=0.15)
    # fine grid over [0.15, 0.85]: Andrews' (1993) 5 % critical value for 2 restrictions is about 11.7
    _, crit = simulate_sup_pvalue(np.linspace(0.15, 0.85, 400), 0.0, reps=4000, seed=2)
    assert 10.8 < crit < 12.2


def test_candidates_trim_days_and_keep_enough_orders():
    n = np.full(20, 10)
    # 20 days: ceil(3) .. floor(17)
    assert candidate_index(n, trim=0.15, min_side=1).tolist() == list(range(3, 18))
    assert candidate_index(n, trim=0.15, min_side=60).tolist() == list(range(6, 15))
    with pytest.raises(ValueError) as exc:
        candidate_index(n, trim=0.5, min_side=1)
    assert str(exc.value) == INVALID_TRIM.format(trim=0.5)


def test_daily_moments_equal_the_design_cross_products():
    df = _orders(seed=5, days=3, per_day=40)
    day, hour, km, pay, _ = _arrays(df)
    m = daily_moments(day, hour, km, pay)
    H = pd.get_dummies(hour, drop_first=True, dtype=float).to_numpy()
    X = np.column_stack([np.ones(len(pay)), km, H])
    for i, dd in enumerate(m.days):
        s = day == dd
        np.testing.assert_allclose(m.xtx[i], X[s].T @ X[s])
        np.testing.assert_allclose(m.xty[i], X[s].T @ pay[s])


def test_check_reports_platform_risk_and_the_workers_who_lose():
    df = _orders(seed=21, noise=0.15, multiplicative=True, before=(4.0, 1.2), after=(4.6, 0.9))
    logs = audit.load_logs(orders=df)
    f = check_pay_rule_change(logs, reps=2000)
    plat = f[f["level"] == "platform"].iloc[0]
    assert plat["status"] == "risk" and plat["break_date"] == "2025-03-28"
    assert plat["ci_low"] < -25.0 < plat["ci_high"] and plat["value"] < -15
    assert plat["n"] == len(df)
    w = f[f["level"] == "worker"]
    # a 2 km order is paid the same (4 + 1.2·2 = 4.6 + 0.9·2): workers with longer orders after the
    # break lose; every listed worker's CI lies below 0
    assert len(w) > 0 and (w["status"] == "risk").all() and (w["ci_high"] < 0).all()
    acc = pd.to_datetime(df["accepted_at"])
    post = df[acc >= "2025-03-28"].groupby("worker_id")["distance_km"].mean()
    assert set(w["subject"]) <= set(post[post > 2.0].index)
    s = summarize(f)
    assert s["status"] == "risk" and s["workers_losing"] == len(w) and s["break_date"] == "2025-03-28"


def test_check_without_change_is_ok_without_worker_rows():
    df = _orders(seed=22, after=(4.0, 1.2), noise=0.2, multiplicative=True)
    f = check_pay_rule_change(audit.load_logs(orders=df), reps=2000)
    assert list(f["level"]) == ["platform"] and f["status"].iloc[0] == "ok"


def test_check_with_too_few_orders_is_insufficient():
    df = _orders(seed=23, days=10, per_day=4)
    f = check_pay_rule_change(audit.load_logs(orders=df), reps=200)
    assert f["status"].tolist() == ["insufficient_data"] and np.isnan(f["value"].iloc[0])


def test_sample_rate_drop_is_found_on_its_date():
    logs = audit.load_logs("data_samples/shijiazhuang")
    f = check_pay_rule_change(logs)
    plat = f[f["level"] == "platform"].iloc[0]
    # manifest: 1.10 → 0.88 CNY/km (−20 %) from 2025-10-13, no notice
    assert plat["break_date"] == "2025-10-13" and plat["status"] == "risk"
    assert plat["rate_after"] < plat["rate_before"] and -25 < plat["value"] < -15
