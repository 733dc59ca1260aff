"""Tests of audit.calendar: holiday days, overrides, weather warnings, extreme days.

Expected values come from the State Council notices for 2025 as summarised in
rules-facts.md §2 (National Day 10-01..03, Mid-autumn 10-06, swapped rest days
10-07 and 10-08, make-up working day 10-11).
"""
from __future__ import annotations

import pandas as pd
import pytest

from audit import calendar as cal
from audit.exceptions import CalendarError, InputError


def _day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ---- holiday days ------------------------------------------------------------------------
def test_national_day_2025_break():
    days = pd.Series(pd.date_range("2025-09-30", "2025-10-11"))
    out = cal.holiday_days(days)
    assert list(out.columns[:5]) == ["date", "is_holiday", "holiday", "holiday_zh", "statutory"]
    hol = out.set_index("date")
    for d in pd.date_range("2025-10-01", "2025-10-08"):
        assert hol.at[d, "is_holiday"], d
        assert hol.at[d, "holiday"] in {"National Day", "Mid-autumn Festival"}
    assert hol.at[_day("2025-10-06"), "holiday"] == "Mid-autumn Festival"
    assert hol.at[_day("2025-10-06"), "holiday_zh"] == "中秋"
    assert hol.at[_day("2025-10-01"), "holiday_zh"] == "国庆节"
    assert not hol.at[_day("2025-10-09"), "is_holiday"]
    assert pd.isna(hol.at[_day("2025-10-09"), "holiday"])
    assert not hol.at[_day("2025-09-30"), "is_holiday"]
    # 2025-10-11 is a Saturday make-up working day: not a holiday day
    assert not hol.at[_day("2025-10-11"), "is_holiday"]


def test_statutory_vs_swapped():
    out = cal.holiday_days(["2025-10-01", "2025-10-03", "2025-10-04", "2025-10-06", "2025-10-07", "2025-10-08"])
    statutory = dict(zip(out["date"].dt.strftime("%m-%d"), out["statutory"]))
    assert statutory == {"10-01": True, "10-03": True, "10-04": False, "10-06": True, "10-07": False, "10-08": False}


def test_ordinary_weekend_is_not_a_holiday_day():
    out = cal.holiday_days(["2025-10-18"])  # a Saturday
    assert not out["is_holiday"].iloc[0]
    assert not out["statutory"].iloc[0]


def test_unique_sorted_days_from_timestamps():
    ts = pd.Series(pd.to_datetime(["2025-10-02 23:00", "2025-10-02 08:00", "2025-10-01 10:00"]))
    out = cal.holiday_days(ts)
    assert out["date"].tolist() == [_day("2025-10-01"), _day("2025-10-02")]
    assert list(out.index) == [_day("2025-10-01"), _day("2025-10-02")]
    # 2025-09-30 17:00 UTC is 2025-10-01 01:00 in China
    utc = pd.Series(pd.to_datetime(["2025-09-30 17:00"], utc=True))
    assert cal.holiday_days(utc)["date"].tolist() == [_day("2025-10-01")]


def test_uncovered_year_raises():
    with pytest.raises(CalendarError) as info:
        cal.holiday_days(["2027-01-01"])
    assert str(info.value) == cal.ERR_YEAR_NOT_COVERED.format(year=2027)
    assert str(info.value) == "holiday calendar does not cover 2027; give an override file with --holidays"


def test_override_dataframe_covers_year():
    ov = pd.DataFrame({"date": ["2027-10-01"], "is_holiday": [True], "name": ["National Day"]})
    out = cal.holiday_days(["2027-10-01", "2027-10-09"], overrides=ov).set_index("date")
    assert out.at[_day("2027-10-01"), "is_holiday"]
    assert out.at[_day("2027-10-01"), "holiday"] == "National Day"
    assert not out.at[_day("2027-10-09"), "is_holiday"]  # covered year, not listed
    assert out.at[_day("2027-10-01"), "statutory"]  # holidays package computes 2027


def test_override_adds_and_removes_days(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("date,is_holiday,name\n2025-10-09,true,Extra day\n2025-10-08,false,\n", encoding="utf-8")
    out = cal.holiday_days(["2025-10-08", "2025-10-09", "2025-10-10"], overrides=path).set_index("date")
    assert out.at[_day("2025-10-09"), "is_holiday"]
    assert out.at[_day("2025-10-09"), "holiday"] == "Extra day"
    assert not out.at[_day("2025-10-08"), "is_holiday"]
    assert not out.at[_day("2025-10-10"), "is_holiday"]


def test_override_toml(tmp_path):
    path = tmp_path / "holidays.toml"
    path.write_text(
        '[[holiday]]\ndate = 2027-01-01\nis_holiday = true\nname = "元旦"\n', encoding="utf-8"
    )
    ov = cal.read_holiday_overrides(path)
    assert ov["date"].tolist() == [_day("2027-01-01")]
    out = cal.holiday_days(["2027-01-01"], overrides=str(path))
    assert out["is_holiday"].iloc[0]
    assert out["holiday_zh"].iloc[0] == "元旦"


def test_override_gbk_csv(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_bytes("date,is_holiday,name\n2027-02-06,是,春节\n".encode("gb18030"))
    ov = cal.read_holiday_overrides(path)
    assert ov["is_holiday"].tolist() == [True]
    assert ov["name"].tolist() == ["春节"]


def test_override_bad_files(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        cal.read_holiday_overrides(missing)
    assert str(info.value) == cal.ERR_OVERRIDE_MISSING.format(path=missing)

    no_date = tmp_path / "a.csv"
    no_date.write_text("day,is_holiday\n2027-01-01,true\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        cal.read_holiday_overrides(no_date)
    assert str(info.value) == cal.ERR_OVERRIDE_COLUMN.format(path=no_date, column="date")

    bad_date = tmp_path / "b.csv"
    bad_date.write_text("date,is_holiday,name\n2027-01-01,true,x\n2027-13-01,true,y\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        cal.read_holiday_overrides(bad_date)
    assert str(info.value) == cal.ERR_OVERRIDE_DATE.format(path=bad_date, where="line 3", value="2027-13-01")

    bad_flag = tmp_path / "c.csv"
    bad_flag.write_text("date,is_holiday\n2027-01-01,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="is_holiday must be true or false"):
        cal.read_holiday_overrides(bad_flag)

    conflict = tmp_path / "d.csv"
    conflict.write_text("date,is_holiday\n2027-01-01,true\n2027-01-01,false\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than once"):
        cal.read_holiday_overrides(conflict)

    bad_toml = tmp_path / "e.toml"
    bad_toml.write_text("holiday = 3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        cal.read_holiday_overrides(bad_toml)
    assert str(info.value) == cal.ERR_OVERRIDE_TOML.format(path=bad_toml)


# ---- warnings and extreme weather -----------------------------------------------------------
def test_parse_warnings():
    s = pd.Series(["heat:orange;rainstorm:yellow", "", None, " Rainstorm : RED "], index=[5, 6, 7, 8])
    out = cal.parse_warnings(s)
    assert list(out.columns) == ["type", "level"]
    assert list(out.index) == [5, 5, 8]
    assert out["type"].tolist() == ["heat", "rainstorm", "rainstorm"]
    assert out["level"].tolist() == ["orange", "yellow", "red"]


def test_parse_warnings_bad_item():
    with pytest.raises(InputError) as info:
        cal.parse_warnings(pd.Series(["heat:purple"]))
    assert str(info.value) == cal.ERR_WARNING_ITEM.format(item="heat:purple")
    assert cal.parse_warnings(pd.Series(["heat:purple;cold_wave:red"]), errors="ignore")["type"].tolist() == [
        "cold_wave"
    ]


def test_extreme_weather_days_thresholds_inclusive():
    weather = pd.DataFrame(
        {
            "region": ["130100"] * 6,
            "date": pd.date_range("2025-07-01", periods=6).astype(str),
            "t_max_c": [35.0, 34.9, 20.0, 20.0, 20.0, 36.0],
            "t_min_c": [20.0, 20.0, -10.0, -9.9, 5.0, 20.0],
            "warning": ["", "", "", "", "rainstorm:yellow", "heat:orange"],
        }
    )
    out = cal.extreme_weather_days(weather)
    assert list(out.columns) == ["region", "date", "is_extreme", "heat", "cold", "warning", "kind"]
    assert out["heat"].tolist() == [True, False, False, False, False, True]
    assert out["cold"].tolist() == [False, False, True, False, False, False]
    assert out["warning"].tolist() == ["", "", "", "", "", "heat:orange"]
    assert out["is_extreme"].tolist() == [True, False, True, False, False, True]
    assert out["kind"].tolist() == ["heat", "", "cold", "", "", "heat;heat:orange"]


def test_extreme_weather_warning_only_and_custom_thresholds():
    weather = pd.DataFrame(
        {"region": ["a", "a"], "date": ["2025-07-01", "2025-07-01"], "t_max_c": [30.0, 31.0],
         "t_min_c": [20.0, 20.0], "warning": ["rainstorm:orange", "rainstorm:yellow;gale:red"]}
    )
    out = cal.extreme_weather_days(weather)
    assert len(out) == 1
    assert out["warning"].iloc[0] == "rainstorm:orange;gale:red"
    assert out["is_extreme"].iloc[0]
    custom = cal.extreme_weather_days(weather, thresholds={"heat_tmax_c": 31, "warning_levels": "red"})
    assert custom["heat"].iloc[0]
    assert custom["kind"].iloc[0] == "heat;gale:red"


def test_extreme_weather_missing_column():
    with pytest.raises(InputError) as info:
        cal.extreme_weather_days(pd.DataFrame({"region": ["a"], "t_max_c": [40.0]}))
    assert str(info.value) == cal.ERR_WEATHER_COLUMN.format(column="date")
