"""art10.group_disparity and metrics.disparity, on worker panels with known gaps."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.oaxaca import OaxacaBlinder

import audit
from audit.checks.art10_group_disparity import (SMALL_GROUP, check_group_disparity, summarize,
                                               worker_week_panel)
from metrics.disparity import age_band, control_matrix, group_gap

MONDAY = np.datetime64("2025-03-03T00:00:00")


def _platform(*, seed, n_m=40, n_f=30, f_rate=0.85, weeks=6, young_f=None):
    """Workers online from 10:00 for 4–8 h five days a week; F take ``f_rate`` × the orders per hour of M.

    ``young_f`` (an int) makes that many of the F workers under 30 and every
    other worker 35.
    """
    rng = np.random.default_rng(seed)
    n = n_m + n_f
    ids = np.array([f"W{i:03d}" for i in range(n)])
    gender = np.array(["M"] * n_m + ["F"] * n_f)
    birth = np.full(n, 1990)
    if young_f is not None:
        birth[n_m:n_m + young_f] = 2000
    workers = pd.DataFrame({"worker_id": ids, "gender": gender, "birth_year": birth,
                            "region": rng.choice(["shijiazhuang", "正定县"], n),
                            "vehicle": rng.choice(["ebike", "car"], n, p=[0.8, 0.2]),
                            "joined_on": (np.datetime64("2024-01-01") + rng.integers(0, 400, n)
                                          .astype("timedelta64[D]")).astype(str)})
    w = np.repeat(np.arange(n), weeks * 5)
    day = np.tile(np.concatenate([np.arange(5) + 7 * k for k in range(weeks)]), n)
    login = MONDAY + day.astype("timedelta64[D]") + np.timedelta64(10, "h")
    length = rng.integers(4 * 3600, 8 * 3600, len(w))
    sessions = pd.DataFrame({"worker_id": ids[w], "login_at": login.astype(str),
                             "logout_at": (login + length.astype("timedelta64[s]")).astype(str)})
    skill = rng.normal(1.0, 0.1, n)  # worker effects: observations of a worker are correlated
    rate = 2.0 * skill * np.where(gender == "F", f_rate, 1.0)
    k = rng.poisson(rate[w] * (length - 900) / 3600)
    ow = np.repeat(w, k)
    start = np.repeat(login, k) + rng.integers(0, np.repeat(length - 900, k)).astype("timedelta64[s]")
    km = rng.uniform(0.5, 5.0, k.sum())
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(k.sum())], "worker_id": ids[ow],
        "region": workers["region"].to_numpy()[ow], "accepted_at": start.astype(str),
        "delivered_at": (start + np.timedelta64(900, "s")).astype(str),
        "pay": np.round(4 + 1.1 * km, 2), "distance_km": km,
        "penalty": np.where(rng.random(k.sum()) < 0.05, 2.0, 0.0)})
    return audit.load_logs(orders=orders, sessions=sessions, workers=workers)


def test_age_bands_by_hand():
    assert age_band([18, 29, 30, 44, 45, 70, np.nan]).tolist() == ["<30", "<30", "30-44", "30-44",
                                                                   "45+", "45+", None]


def test_injected_gender_gap_in_orders_per_hour_is_found():
    logs = _platform(seed=1, f_rate=0.85)
    f = check_group_disparity(logs)
    r = f[(f["subject"] == "gender=F") & (f["outcome"] == "orders_per_hour")].iloc[0]
    assert r["reference"] == "gender=M"  # the larger group
    # F take 15 % fewer orders per hour by construction
    assert r["value"] < 0 and r["ci_high"] < 0
    assert r["ci_low"] < -15 < r["ci_high"]
    assert r["status"] == "risk" and r["workers_group"] == 30 and r["workers_reference"] == 40
    assert r["n"] == 70 * 6  # worker-weeks
    # pay per order is gender-neutral, so earnings per hour show the same gap
    e = f[(f["subject"] == "gender=F") & (f["outcome"] == "hourly_earnings")].iloc[0]
    assert e["ci_high"] < 0


def test_no_gap_is_ok():
    f = check_group_disparity(_platform(seed=2, f_rate=1.0))
    r = f[(f["subject"] == "gender=F") & (f["outcome"] == "orders_per_hour")].iloc[0]
    assert r["status"] == "ok" and r["ci_low"] < 0 < r["ci_high"]


def test_group_of_nine_workers_is_insufficient_and_shows_nothing():
    logs = _platform(seed=3, young_f=9)
    f = check_group_disparity(logs)
    small = f[f["subject"] == "gender=F&age=<30"]
    assert len(small) == 3 and (small["status"] == "insufficient_data").all()
    assert small["value"].isna().all() and (small["n"] == 0).all()
    for c in ("group_mean", "raw_gap_pct", "ci_low", "ci_high", "workers_group", "explained_pct"):
        assert small[c].isna().all()
    assert (small["detail"] == SMALL_GROUP.format(k=10)).all()
    assert not small["detail"].str.contains("9").any()
    # the 21 other F workers are 30-44: a group of 21 is assessed
    ok = f[f["subject"] == "gender=F&age=30-44"]
    assert (ok["status"] != "insufficient_data").all() and (ok["workers_group"] == 21).all()
    s = summarize(f)
    assert s["insufficient"] >= 3


def test_adjusted_gap_equals_statsmodels_formula_regression():
    logs = _platform(seed=4)
    f = check_group_disparity(logs)
    wk, _ = worker_week_panel(logs, min_hours=2.0)
    wk = wk.assign(female=(wk["gender"] == "F").astype(float), vehicle=wk["vehicle"].astype(str),
                   region=wk["region"].astype(str))
    fit = smf.ols("orders_per_hour ~ female + C(region) + hours + I(hours**2) + C(vehicle) + tenure_years",
                  data=wk).fit(cov_type="cluster", cov_kwds={"groups": wk["group"]})
    ref = wk.loc[wk["female"] == 0, "orders_per_hour"].mean()
    r = f[(f["subject"] == "gender=F") & (f["outcome"] == "orders_per_hour")].iloc[0]
    assert r["value"] == pytest.approx(100 * fit.params["female"] / ref, rel=1e-6)
    lo, hi = fit.conf_int().loc["female"]
    assert r["ci_low"] == pytest.approx(100 * lo / ref, rel=1e-6)
    assert r["ci_high"] == pytest.approx(100 * hi / ref, rel=1e-6)
    assert r["p_value"] == pytest.approx(fit.pvalues["female"], rel=1e-6)
    raw = smf.ols("orders_per_hour ~ female", data=wk).fit(cov_type="cluster",
                                                           cov_kwds={"groups": wk["group"]})
    assert r["raw_ci_high"] == pytest.approx(100 * raw.conf_int().loc["female", 1] / ref, rel=1e-6)


def test_oaxaca_parts_add_up_and_match_statsmodels():
    rng = np.random.default_rng(5)
    n = 400
    cluster = np.repeat(np.arange(80), 5)
    grp = (cluster % 2 == 0)
    x1 = rng.normal(0, 1, n) + 0.8 * grp
    region = rng.choice(["a", "b", "c"], n)
    y = 10 + 1.5 * x1 + np.where(region == "b", 2.0, 0.0) - 1.0 * grp + rng.normal(0, 1, n)
    frame = pd.DataFrame({"x1": x1, "region": region})
    C = control_matrix(frame, numeric=["x1"], categorical=["region"])
    res = group_gap(y, grp, cluster, C)
    raw = y[grp].mean() - y[~grp].mean()
    assert res["raw_gap"] == pytest.approx(raw, abs=1e-12)
    assert res["explained"] + res["unexplained"] == pytest.approx(raw, abs=1e-12)
    assert res["explained_pct"] + res["unexplained_pct"] == pytest.approx(res["raw_pct"], abs=1e-9)
    # statsmodels' pooled twofold (pooled model with the group dummy); its first group is the
    # smaller dummy value (0 = reference), so its gap and parts have the opposite sign
    exog = np.column_stack([np.ones(n), grp.astype(float), C.to_numpy()])
    ob = OaxacaBlinder(y, exog, bifurcate=1, hasconst=True, swap=False).two_fold(two_fold_type="pooled")
    unexplained, explained, gap = ob.params
    assert gap == pytest.approx(-raw)
    assert explained == pytest.approx(-res["explained"], rel=1e-9)
    assert unexplained == pytest.approx(-res["unexplained"], rel=1e-9)
    # with the dummy in the pooled model the unexplained part is its coefficient
    assert res["unexplained"] == pytest.approx(res["adj_gap"], rel=1e-9)


def test_sample_female_riders_take_fewer_orders_per_hour():
    f = check_group_disparity(audit.load_logs("data_samples/shijiazhuang"))
    r = f[(f["subject"] == "gender=F") & (f["outcome"] == "orders_per_hour")].iloc[0]
    # manifest: F/M order-intensity ratio 0.90
    assert r["reference"] == "gender=M" and r["ci_high"] < 0 and r["ci_low"] < -10 < r["ci_high"]
    assert r["status"] == "risk"
    assert set(f["level"]) == {"group"}
