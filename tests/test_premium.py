"""art13 premiums: the fixed-effects estimator (metrics.premium) and the check.

References are independent: statsmodels OLS with explicit worker dummies and
cluster-robust covariance, pyfixest's feols, and flags recomputed here from
chinesecalendar and the weather rows.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import chinese_calendar
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import audit
from audit.checks.art13_premium import ERR_KIND, check_premium, summarize
from metrics.premium import ERR_DF_CORRECTION, ERR_MISSING_COLUMN, ERR_NOT_FINITE, PremiumStats

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data_samples" / "shijiazhuang"
X = ["holiday", "weather", "log_dist"]
FORMULA = "y ~ holiday + weather + log_dist + C(hour) + C(worker)"


def _panel(seed: int = 3, n: int = 1200, n_workers: int = 35, singletons: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, n_workers, n)
    hour = rng.choice(np.arange(7, 23), n)
    hol = (rng.random(n) < 0.2).astype(float)
    wea = (rng.random(n) < 0.15).astype(float)
    ld = np.log(rng.uniform(0.3, 8, n))
    fe = rng.normal(0, 0.3, n_workers)[w]
    # heteroskedastic, worker-correlated errors: clustering matters
    u = rng.normal(0, 0.1, n) * (1 + w / n_workers) + rng.normal(0, 0.05, n_workers)[w] * hol
    y = 1.5 + 0.05 * hol + 0.14 * wea + 0.5 * ld + 0.03 * (hour >= 18) + fe + u
    df = pd.DataFrame({"y": y, "holiday": hol, "weather": wea, "log_dist": ld, "hour": hour,
                       "worker": np.char.add("w", w.astype(str))})
    if singletons:
        extra = df.sample(singletons, random_state=seed).assign(
            worker=[f"s{i}" for i in range(singletons)])
        df = pd.concat([df, extra], ignore_index=True)
    return df


def _stats(df: pd.DataFrame, **kw) -> PremiumStats:
    return PremiumStats.from_frame(df, y="y", x=X, category="hour", cluster="worker", **kw)


def _statsmodels(df: pd.DataFrame):
    groups = pd.factorize(df["worker"])[0]
    return smf.ols(FORMULA, df).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)


# ----------------------------------------------------------------------------- estimator
def test_matches_statsmodels_with_worker_dummies():
    df = _panel(singletons=3)
    got = _stats(df).solve().set_index("term")
    ref = _statsmodels(df)
    ci = ref.conf_int()
    for term in X:
        assert got.loc[term, "estimate"] == pytest.approx(ref.params[term], rel=1e-6)
        assert got.loc[term, "std_error"] == pytest.approx(ref.bse[term], rel=1e-6)
        assert got.loc[term, "ci_low"] == pytest.approx(ci.loc[term, 0], rel=1e-6)
        assert got.loc[term, "ci_high"] == pytest.approx(ci.loc[term, 1], rel=1e-6)
        assert got.loc[term, "p_value"] == pytest.approx(ref.pvalues[term], rel=1e-6)
    # hour effects too: C(hour)[T.h] ↔ hour[h], reference = first observed hour (7)
    for h in range(8, 23):
        assert got.loc[f"hour[{h}]", "estimate"] == pytest.approx(ref.params[f"C(hour)[T.{h}]"], rel=1e-6)
        assert got.loc[f"hour[{h}]", "std_error"] == pytest.approx(ref.bse[f"C(hour)[T.{h}]"], rel=1e-6)
    assert "hour[7]" not in got.index
    assert (got["n_obs"] == len(df)).all() and (got["n_clusters"] == df["worker"].nunique()).all()


def test_matches_pyfixest_under_its_nested_convention():
    import pyfixest as pf
    df = _panel(seed=11, singletons=4)
    fit = pf.feols("y ~ holiday + weather + log_dist + C(hour) | worker", df, vcov={"CRV1": "worker"})
    ref = fit.tidy()
    got = _stats(df).solve(df_correction="nested").set_index("term")
    for term in X:
        assert got.loc[term, "estimate"] == pytest.approx(ref.loc[term, "Estimate"], rel=1e-6)
        assert got.loc[term, "std_error"] == pytest.approx(ref.loc[term, "Std. Error"], rel=1e-6)
        assert got.loc[term, "ci_low"] == pytest.approx(ref.loc[term, "2.5%"], rel=1e-6)
    # pyfixest drops the 4 singleton workers; so does the nested convention
    assert got["n_obs"].iloc[0] == fit._N == len(df) - 4
    # the two conventions differ only by the factor (N-1)/(N-K): dummies counts every worker
    dummies = _stats(df).solve().set_index("term")
    n, g, k = len(df), df["worker"].nunique(), len(got)
    ratio_expected = np.sqrt(((n - 1) / (n - k - g) * g / (g - 1))
                             / ((n - 5) / (n - 4 - k - 1) * (g - 4) / (g - 5)))
    assert dummies.loc["holiday", "std_error"] / got.loc["holiday", "std_error"] == pytest.approx(ratio_expected)


def test_merge_is_exact_for_worker_partitions_and_for_any_split():
    df = _panel(seed=5)
    whole = _stats(df).solve()
    by_worker = [_stats(d) for _, d in df.groupby(df["worker"].map(hash) % 3)]
    by_row = [_stats(d) for _, d in df.groupby(np.arange(len(df)) % 4)]  # workers split across parts
    for parts in (by_worker, by_row):
        merged = parts[0]
        for p in parts[1:]:
            merged = merged + p
        got = merged.solve()
        assert list(got["term"]) == list(whole["term"])
        np.testing.assert_allclose(got[["estimate", "std_error", "p_value"]].to_numpy(),
                                   whole[["estimate", "std_error", "p_value"]].to_numpy(), rtol=1e-9)
        assert got["n_clusters"].iloc[0] == whole["n_clusters"].iloc[0]


def test_merge_with_different_observed_levels_takes_their_union():
    df = _panel(seed=6)
    early, late = df[df["hour"] < 15], df[df["hour"] >= 15]
    merged = _stats(early) + _stats(late)
    np.testing.assert_allclose(merged.solve()["estimate"], _stats(df).solve()["estimate"], rtol=1e-9)
    same = _stats(early, levels=range(24)) + _stats(late, levels=range(24))
    np.testing.assert_allclose(same.solve()["estimate"], _stats(df).solve()["estimate"], rtol=1e-9)


def test_unidentified_terms_are_nan_not_numbers():
    df = _panel(seed=8)
    # holiday constant within each worker: absorbed by the worker effect
    df["holiday"] = (df["worker"].str[1:].astype(int) % 2).astype(float)
    got = _stats(df).solve().set_index("term")
    assert np.isnan(got.loc["holiday", "estimate"]) and np.isnan(got.loc["holiday", "std_error"])
    groups = pd.factorize(df["worker"])[0]
    ref = smf.ols(FORMULA.replace("holiday + ", ""), df).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                            use_t=True)
    assert got.loc["weather", "estimate"] == pytest.approx(ref.params["weather"], rel=1e-6)
    assert got.loc["weather", "std_error"] == pytest.approx(ref.bse["weather"], rel=1e-6)


def test_collinear_flags_leave_one_unidentified():
    df = _panel(seed=9)
    df["weather"] = df["holiday"]  # the same days: the data cannot tell the two premiums apart
    got = _stats(df).solve().set_index("term")
    assert np.isnan(got.loc["weather", "estimate"])
    groups = pd.factorize(df["worker"])[0]
    ref = smf.ols(FORMULA.replace("weather + ", ""), df).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                            use_t=True)
    assert got.loc["holiday", "estimate"] == pytest.approx(ref.params["holiday"], rel=1e-6)
    assert got.loc["holiday", "std_error"] == pytest.approx(ref.bse["holiday"], rel=1e-6)


def test_argument_errors():
    df = _panel()
    with pytest.raises(ValueError) as e:
        _stats(df).solve(df_correction="stata")
    assert str(e.value) == ERR_DF_CORRECTION.format(value="stata")
    with pytest.raises(ValueError) as e:
        PremiumStats.from_frame(df, y="y", x=["nope"], category="hour", cluster="worker")
    assert str(e.value) == ERR_MISSING_COLUMN.format(column="nope")
    with pytest.raises(ValueError) as e:
        _stats(df.assign(log_dist=np.where(np.arange(len(df)) == 3, np.nan, df["log_dist"])))
    assert str(e.value) == ERR_NOT_FINITE.format(column="log_dist")


# ----------------------------------------------------------------------------- the check
def _reference_fit(orders: pd.DataFrame, weather: pd.DataFrame) -> tuple:
    """Flags recomputed here (chinesecalendar, raw weather rows) and a statsmodels dummies fit."""
    o = orders[orders["status"].fillna("completed") == "completed"].copy()
    o["accepted_at"] = pd.to_datetime(o["accepted_at"], errors="coerce")
    o = o[o["accepted_at"].notna() & (o["pay"] > 0) & (o["distance_km"] > 0)
          & (o["distance_km"] <= 300)].drop_duplicates("order_id", keep="first")
    deliv = pd.to_datetime(o["delivered_at"], errors="coerce")
    o = o[deliv >= o["accepted_at"]]
    day = o["accepted_at"].dt.normalize()
    # a day inside an official break: is_holiday with a name (named 调休 workdays are not)
    detail = {d: chinese_calendar.get_holiday_detail(d.date()) for d in day.unique()}
    o["holiday"] = day.map(lambda d: detail[d][0] and detail[d][1] is not None).astype(float)
    w = weather.copy()
    w["date"] = pd.to_datetime(w["date"])
    w["ext"] = (w["t_max_c"] >= 35) | (w["t_min_c"] <= -10) | w["warning"].fillna("").str.contains(
        "orange|red")
    ext = o[["region"]].assign(date=day).merge(w[["region", "date", "ext"]], on=["region", "date"],
                                                how="left")["ext"]
    o["weather"] = ext.fillna(False).to_numpy(dtype=float)
    o["y"] = np.log(o["pay"])
    o["log_dist"] = np.log(o["distance_km"])
    o["hour"] = o["accepted_at"].dt.hour
    o["worker"] = o["worker_id"]
    return o, _statsmodels(o)


@pytest.fixture(scope="module")
def heldout():
    sys.path.insert(0, str(ROOT))
    from data_samples.generate import generate_platform

    tables = generate_platform(seed=424242, n_workers=60)
    return tables, audit.load_logs(**tables)


def test_heldout_logs_agree_with_statsmodels_and_cover_the_truth(heldout):
    tables, logs = heldout
    truth = tables["orders"].attrs["manifest"]["injected"]
    frame, ref = _reference_fit(tables["orders"], tables["weather"])
    ci = ref.conf_int()
    for kind, flag, true_pct in (("holiday", "holiday", truth["holiday_premium"]["true_premium_pct"]),
                                 ("weather", "weather", truth["weather_premium"]["true_premium_pct"])):
        f = check_premium(logs, kind=kind)
        main = f[f["metric"] == "premium_pct"].iloc[0]
        ref_pct = 100 * np.expm1(ref.params[flag])
        lo, hi = 100 * np.expm1(ci.loc[flag, 0]), 100 * np.expm1(ci.loc[flag, 1])
        assert abs(main["value"] - ref_pct) < 0.05
        assert main["ci_low_pct"] == pytest.approx(lo, abs=1e-6)
        assert main["ci_high_pct"] == pytest.approx(hi, abs=1e-6)
        assert main["p_value"] == pytest.approx(ref.pvalues[flag], rel=1e-6, abs=1e-300)
        assert main["n"] == int(frame[flag].sum()) and main["n_obs"] == len(frame)
        assert main["status"] == ("ok" if lo > 0 else "violation")
        assert main["ci_low_pct"] <= true_pct <= main["ci_high_pct"]


def test_sample_finds_no_holiday_premium_and_the_weather_premium():
    logs = audit.load_logs(SAMPLE)
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))["injected"]
    hol = check_premium(logs, kind="holiday")
    s = summarize(hol)
    assert s["status"] == "violation"  # a true premium of 0 %: the CI includes 0
    assert s["ci_low_pct"] <= manifest["holiday_premium"]["true_premium_pct"] <= s["ci_high_pct"]
    assert s["n_orders"] == manifest["holiday_premium"]["holiday_orders"]
    assert s["allowance_share"] == 0.0
    assert set(hol["metric"]) >= {"premium_pct", "premium_pct:National Day", "premium_pct:Mid-autumn Festival"}

    wea = check_premium(logs, kind="weather")
    s = summarize(wea)
    assert s["status"] == "ok"
    assert s["ci_low_pct"] <= manifest["weather_premium"]["true_premium_pct"] <= s["ci_high_pct"]
    assert s["n_orders"] == manifest["weather_premium"]["extreme_orders"]
    # allowances by hand from the manifest: 2 CNY per heat-day order, 3 per rainstorm-day order
    fl = wea.set_index("metric")
    n_heat, n_rain = fl.loc["premium_pct:heat", "n"], fl.loc["premium_pct:rainstorm warning", "n"]
    assert n_heat + n_rain == s["n_orders"]
    assert s["allowance_share"] == 1.0
    assert s["allowance_mean_cny"] == pytest.approx((2 * n_heat + 3 * n_rain) / (n_heat + n_rain), abs=1e-4)


def _synthetic_logs(holiday_effect: float, n_holiday_workers: int = 40, seed: int = 2):
    """Orders around National Day 2025 (01–08 Oct) with a known holiday premium and none for weather."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-09-20", "2025-10-15")
    n = 6000
    w = rng.integers(0, 50, n)
    d = days[rng.integers(0, len(days), n)]
    hol_worker = w < n_holiday_workers
    d = np.where(~hol_worker & (d >= "2025-10-01") & (d <= "2025-10-08"), days[0], d)
    acc = pd.DatetimeIndex(d) + pd.to_timedelta(rng.integers(7 * 60, 23 * 60, n), unit="min")
    dist = rng.uniform(0.5, 7, n)
    region = np.where(rng.random(n) < 0.8, "shijiazhuang", "正定县")
    is_hol = (acc.normalize() >= "2025-10-01") & (acc.normalize() <= "2025-10-08")
    pay = 4 * dist ** 0.6 * np.exp(holiday_effect * is_hol + rng.normal(0, 0.08, n))
    pay[:3] = 0.0  # left out of the log model
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "worker_id": [f"w{i}" for i in w],
                           "region": region, "accepted_at": acc, "delivered_at": acc + pd.Timedelta(minutes=25),
                           "pay": pay.round(4), "distance_km": dist.round(4),
                           "allowance": np.where(is_hol & (rng.random(n) < 0.25), 5.0, 0.0)})
    # weather rows for the city only: 正定县 has none of its own and takes its prefecture's
    weather = pd.DataFrame({"region": "shijiazhuang", "date": days.strftime("%Y-%m-%d"),
                            "t_max_c": np.where(days.day % 5 == 0, 36.0, 28.0), "t_min_c": 15.0, "warning": ""})
    return orders, weather


def test_synthetic_holiday_premium_breakdown_and_exclusions():
    orders, weather = _synthetic_logs(np.log(1.08))
    logs = audit.load_logs(orders=orders, weather=weather)
    f = check_premium(logs, kind="holiday")
    main = f[f["metric"] == "premium_pct"].iloc[0]
    assert main["status"] == "ok" and main["ci_low_pct"] < 8.0 < main["ci_high_pct"]
    assert "left out: 3 orders with pay <= 0" in main["detail"]
    hol = (orders["accepted_at"].dt.normalize().between("2025-10-01", "2025-10-08")) & (orders["pay"] > 0)
    assert main["n"] == int(hol.sum())
    # allowance lens by hand over all completed holiday orders
    all_hol = orders["accepted_at"].dt.normalize().between("2025-10-01", "2025-10-08")
    a = orders.loc[all_hol, "allowance"]
    assert main["allowance_share"] == pytest.approx((a > 0).mean())
    assert main["allowance_mean_cny"] == pytest.approx(a.mean())
    # breakdown: 2025-10-06 is Mid-autumn inside the National Day break
    labels = set(f["metric"]) - {"premium_pct"}
    assert labels == {"premium_pct:National Day", "premium_pct:Mid-autumn Festival"}
    # weather: no true premium → the CI covers 0 and the status is violation
    wf = check_premium(logs, kind="weather")
    wm = wf[wf["metric"] == "premium_pct"].iloc[0]
    assert wm["status"] == "violation" and wm["ci_low_pct"] < 0 < wm["ci_high_pct"]
    assert list(wf["metric"]) == ["premium_pct", "premium_pct:heat"]


def test_orders_in_regions_without_weather_rows_are_left_out():
    orders, weather = _synthetic_logs(0.0)
    far = orders.index % 10 == 0
    orders.loc[far, "region"] = "baoding"  # a city with no weather rows at all
    f = check_premium(audit.load_logs(orders=orders, weather=weather), kind="weather")
    main = f.iloc[0]
    n_far = int((far & (orders["pay"] > 0)).sum())
    assert f"{n_far} in regions without weather rows" in main["detail"]
    assert main["n_obs"] == len(orders) - 3 - n_far


def test_too_few_relevant_orders_is_insufficient_and_no_weather_table():
    orders, _ = _synthetic_logs(0.1)
    orders = orders[orders["pay"] > 0].reset_index(drop=True)
    hol = orders["accepted_at"].dt.normalize().between("2025-10-01", "2025-10-08")
    keep = ~hol | (np.cumsum(hol) <= 20)  # only 20 holiday orders
    logs = audit.load_logs(orders=orders[keep].reset_index(drop=True))
    f = check_premium(logs, kind="holiday")
    assert f.iloc[0]["status"] == "insufficient_data" and f.iloc[0]["n"] == 20
    assert "fewer than 30 relevant orders" in f.iloc[0]["detail"]
    assert "no weather table: model without the extreme-weather control" in f.iloc[0]["detail"]
    w = check_premium(logs, kind="weather")
    assert list(w["status"]) == ["insufficient_data"]
    with pytest.raises(ValueError) as e:
        check_premium(logs, kind="heat")
    assert str(e.value) == ERR_KIND.format(kind="heat")


def test_threshold_override_changes_min_orders():
    orders, weather = _synthetic_logs(0.1)
    logs = audit.load_logs(orders=orders, weather=weather)
    n = check_premium(logs, kind="holiday").iloc[0]["n"]
    f = check_premium(logs, kind="holiday", thresholds={"premium_min_orders": n + 1})
    assert f.iloc[0]["status"] == "insufficient_data"


def test_run_audit_summary_has_the_premium_figures(tmp_path):
    audit.run_audit(SAMPLE, checks="art13", out=tmp_path)
    checks = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["checks"]
    for cid, status in (("art13.holiday_premium", "violation"), ("art13.weather_premium", "ok")):
        s = checks[cid]
        assert s["status"] == status
        assert {"estimate_pct", "ci_low_pct", "ci_high_pct", "p_value", "n_orders", "n"} <= set(s)
        assert s["ci_low_pct"] < s["estimate_pct"] < s["ci_high_pct"]
    written = pd.read_csv(tmp_path / "findings.csv")
    assert list(written.columns) == audit.FINDINGS_COLUMNS
    assert "premium_pct:National Day" in set(written["metric"])
