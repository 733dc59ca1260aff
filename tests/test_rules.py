"""Tests of the rules tables and their loader (audit.rules).

Expected values are read off the sources by hand (rules-facts.md §1,
hebei-minimum-wage-areas.md), not from the code's output.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from audit import rules
from audit.exceptions import RuleError

URBAN_KEYS = ["shijiazhuang", "石家庄", "130100", "长安区", "changan", "石家庄市区", " ShiJiaZhuang "]


# ---- region keys --------------------------------------------------------------------
@pytest.mark.parametrize("key", URBAN_KEYS)
def test_urban_keys_share_the_shiqu_wage_area(key):
    code = rules.resolve_region(key)
    assert code in {"130100", "130102"}
    reg = rules.region_table().set_index("code")
    assert reg.at[code, "wage_area"] == "130100"


@pytest.mark.parametrize(
    "key, code",
    [
        ("130100", "130100"),
        ("石家庄", "130100"),
        ("shijiazhuang", "130100"),
        ("长安区", "130102"),
        ("长安", "130102"),
        ("changan", "130102"),
        ("正定县", "130123"),
        ("正定", "130123"),
        ("zhengding", "130123"),
        ("shijiazhuang-qiaoxi", "130104"),
        ("zhangjiakou-qiaoxi", "130703"),
        ("石家庄桥西区", "130104"),
        ("张家口市桥西区", "130703"),
        ("承德", "130800"),  # the city, not 承德县
        ("承德县", "130821"),
        ("chengdexian", "130821"),
        ("滦县", "130284"),  # renamed 滦州市 in 2018
        ("任县", "130505"),
        ("雄安", "139001"),
        ("zhaoxian", "130133"),
        ("Beijing", "110000"),
        ("海淀区", "110108"),
        ("shenzhen-longhua", "440309"),
        ("chengde-longhua", "130825"),
    ],
)
def test_resolve_region(key, code):
    assert rules.resolve_region(key) == code


def test_pinyin_keys_unique_and_clean():
    reg = rules.region_table()
    assert reg["pinyin"].is_unique
    assert reg["code"].is_unique
    assert reg["pinyin"].str.fullmatch(r"[a-z]+(-[a-z]+)?").all()
    assert (reg["code"].str.len() == 6).all()


def test_every_hebei_county_in_codes_file_is_a_region():
    reg = rules.region_table().set_index("code")
    # a sample of county-level codes across cities (codes file of 2024)
    for code in ["130102", "130107", "130129", "130181", "130284", "130505", "130682", "131182", "130929"]:
        assert code in reg.index
    # the districts of Shijiazhuang's 市区 share the wage area; 井陉矿区 does not
    for code in ["130102", "130104", "130105", "130108", "130109", "130110", "130111"]:
        assert reg.at[code, "wage_area"] == "130100"
    assert reg.at["130107", "wage_area"] == "130107"


def test_ambiguous_name_lists_candidates():
    with pytest.raises(RuleError) as info:
        rules.resolve_region("桥西区")
    msg = str(info.value)
    assert "130104" in msg and "130703" in msg
    assert "\n" not in msg


def test_unknown_key_lists_near_matches():
    with pytest.raises(RuleError) as info:
        rules.resolve_region("shijiazhaung")
    msg = str(info.value)
    assert msg.startswith("unknown region 'shijiazhaung'; closest known keys: ")
    assert "shijiazhuang" in msg
    assert "\n" not in msg


def test_resolve_regions_vectorised_keeps_index_and_missing():
    keys = pd.Series(["changan", "长安区", None, "beijing"], index=[10, 11, 12, 13])
    out = rules.resolve_regions(keys)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.loc[10] == out.loc[11] == "130102"
    assert pd.isna(out.loc[12])
    assert out.loc[13] == "110000"


# ---- minimum wages ---------------------------------------------------------------------
@pytest.mark.parametrize("key", URBAN_KEYS)
@pytest.mark.parametrize("day, hourly", [("2024-06-01", 22.0), ("2020-01-01", 19.0), ("2026-01-01", 24.0)])
def test_shijiazhuang_shiqu_hourly(key, day, hourly):
    out = rules.minimum_wage(pd.Series([key]), pd.Series([day]))
    assert out["hourly_minimum"].iloc[0] == hourly
    assert out["tier"].iloc[0] == 1


def test_zhengding_tiers():
    out = rules.minimum_wage(pd.Series(["正定县", "正定县"]), pd.Series(["2020-01-01", "2024-06-01"]))
    assert out["tier"].tolist() == [2, 1]
    assert out["hourly_minimum"].tolist() == [18.0, 22.0]
    assert out["monthly_minimum"].tolist() == [1790.0, 2200.0]


def test_zanhuang_tier4_in_2020_unverified():
    out = rules.minimum_wage(pd.Series(["赞皇县"]), pd.Series(["2020-01-01"]))
    assert out["tier"].iloc[0] == 4
    assert out["hourly_minimum"].iloc[0] == 16.0
    assert out["status"].iloc[0] == "U"  # named only as an example (gkcyc.com)


def test_standard_boundaries():
    out = rules.minimum_wage(
        pd.Series(["130100"] * 4), pd.Series(["2022-12-31", "2023-01-01", "2025-11-30", "2025-12-01"])
    )
    assert out["hourly_minimum"].tolist() == [19.0, 22.0, 22.0, 24.0]
    assert out["status"].tolist() == ["S", "S", "S", "U"]  # 2025 area assignment carried over


def test_aligned_to_input_index_and_timezones():
    idx = pd.Index(["x", "y", "z"])
    regions = pd.Series(["changan", "正定县", "changan"], index=idx)
    # 2022-12-31 17:00 UTC is 2023-01-01 01:00 in China
    dates = pd.Series(pd.to_datetime(["2022-12-31 17:00", "2020-01-01 12:00", "2022-12-31 15:59"], utc=True), index=idx)
    out = rules.minimum_wage(regions, dates)
    assert list(out.index) == ["x", "y", "z"]
    assert out["hourly_minimum"].tolist() == [22.0, 18.0, 19.0]
    assert list(out.columns[:6]) == ["hourly_minimum", "monthly_minimum", "tier", "rule_id", "source", "status"]
    assert out["source"].str.len().gt(0).all()


def test_before_first_standard_message():
    with pytest.raises(RuleError) as info:
        rules.minimum_wage(pd.Series(["changan"]), pd.Series(["2019-10-31"]))
    assert str(info.value) == rules.ERR_BEFORE_FIRST_STANDARD.format(
        region="长安区 (130102)", date="2019-10-31", jurisdiction="Hebei", first="2019-11-01"
    )


def test_beijing_2025():
    out = rules.minimum_wage(pd.Series(["beijing", "海淀区"]), pd.Series(["2025-10-01", "2025-08-31"]))
    assert out["hourly_minimum"].tolist() == [27.7, 26.4]
    assert out["monthly_minimum"].tolist() == [2540.0, 2420.0]


def test_shanghai_shenzhen():
    out = rules.minimum_wage(pd.Series(["shanghai", "shenzhen", "福田区"]), pd.Series(["2025-07-01", "2022-07-01", "2025-02-28"]))
    assert out["hourly_minimum"].tolist() == [25.0, 22.2, 22.2]


@pytest.mark.parametrize(
    "key, day, standard",
    [
        ("峰峰矿区", "2024-03-01", "2023-01-01"),  # not stated whether 峰峰矿区 is in 邯郸市区
        ("涞水县", "2020-01-01", "2019-11-01"),  # 2019 tier 4 only by elimination
        ("临城县", "2024-03-01", "2023-01-01"),  # 2023 table cut off at "邢台市:临"
    ],
)
def test_unsourced_tier_raises(key, day, standard):
    code = rules.resolve_region(key)
    name = rules.region_table().set_index("code").at[code, "name_zh"]
    with pytest.raises(RuleError) as info:
        rules.minimum_wage(pd.Series([key]), pd.Series([day]))
    assert str(info.value) == rules.ERR_TIER_UNKNOWN.format(
        region=f"{name} ({code})", date=day, jurisdiction="Hebei", standard=standard
    )
    assert str(info.value).startswith(f"tier unknown for {name} ({code}) on {day}")


def test_unknown_region_in_minimum_wage():
    with pytest.raises(RuleError, match="unknown region"):
        rules.minimum_wage(pd.Series(["atlantis"]), pd.Series(["2024-01-01"]))


def test_every_hebei_row_has_source_and_tier_amounts():
    w = rules.minimum_wage_table()
    assert w["source"].str.len().gt(0).all()
    assert w["status"].isin(["V", "S", "U"]).all()
    assert not w.duplicated(["wage_area", "effective_from"]).any()
    hb = w[w["jurisdiction"] == "hebei"]
    expected = {
        ("2019-11-01", 1): (19, 1900), ("2019-11-01", 2): (18, 1790),
        ("2019-11-01", 3): (17, 1680), ("2019-11-01", 4): (16, 1580),
        ("2023-01-01", 1): (22, 2200), ("2023-01-01", 2): (20, 2000), ("2023-01-01", 3): (18, 1800),
        ("2025-12-01", 1): (24, 2380), ("2025-12-01", 2): (22, 2230), ("2025-12-01", 3): (20, 2080),
    }
    for row in hb.itertuples():
        key = (row.effective_from.date().isoformat(), row.tier)
        assert (row.hourly_cny, row.monthly_cny) == expected[key]
    assert (hb.loc[hb["effective_from"] == "2025-12-01", "status"] == "U").all()
    regions = set(rules.region_table()["wage_area"])
    assert set(w["wage_area"]) <= regions


# ---- thresholds and versions ---------------------------------------------------------------
def test_thresholds_values():
    t = rules.thresholds()
    expected = {
        "min_online_hours_week": 2, "payment_late_days": 30, "deduction_share_max": 0.20,
        "daily_hours_risk": 10, "daily_hours_violation": 12, "block_gap_minutes": 20,
        "block_max_hours": 4, "weekly_rest_days": 7, "weekly_hours_risk": 60,
        "late_rate_risk": 0.10, "deadline_pct_violation": 50, "deadline_pct_risk": 60,
        "deadline_cell_min_orders": 20, "distance_band_km": 1, "ebike_max_kmh": 25,
        "required_speed_violation": 0.05, "required_speed_risk": 0.01, "ratchet_p": 0.05,
        "penalty_share_risk": 0.10, "opacity_r2_risk": 0.5, "take_rate_cap": 0.30,
        "premium_min_orders": 30, "group_min_workers": 10, "disparity_gap_risk": 0.05,
        "ci_level": 0.95, "heat_tmax_c": 35, "cold_tmin_c": -10, "max_distance_km": 300,
        "max_session_hours": 24,
    }
    for key, value in expected.items():
        assert t[key] == pytest.approx(value), key
    assert t["warning_levels"] == "orange;red"
    table = rules.threshold_table()
    assert list(table.columns) == ["key", "value", "unit", "check", "description", "source", "status"]
    assert table["source"].str.len().gt(0).all()
    assert table.loc[table["key"] == "take_rate_cap", "status"].item() == "S"


def test_versions():
    tables = rules.rule_tables()
    assert set(tables) == {"regions", "minimum_wage", "thresholds"}
    assert rules.rules_version() == max(tables.values())


def test_rules_in_force_region():
    df = rules.rules_in_force("正定", on=dt.date(2024, 6, 1))
    mw = df[df["table"] == "minimum_wage"].set_index("key")
    assert mw.at["minimum_wage.hourly", "value"] == 22.0
    assert mw.at["minimum_wage.monthly", "value"] == 2200.0
    assert (df["source"].str.len() > 0).all()
    assert set(df.loc[df["table"] == "thresholds", "key"]) == set(rules.thresholds())


def test_rules_in_force_all_areas():
    df = rules.rules_in_force(on=dt.date(2024, 6, 1))
    hourly = df[df["key"] == "minimum_wage.hourly"].set_index("region")["value"]
    assert hourly["石家庄市区 (130100)"] == 22.0
    assert hourly["北京市 (110000)"] == 26.4
    assert pd.isna(hourly["峰峰矿区 (130406)"])
