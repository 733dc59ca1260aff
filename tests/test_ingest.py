"""Reading, mapping and validating input files (SPEC §3)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import audit
from audit import _messages as msg
from audit.exceptions import InputError, RuleError
from audit.ingest import detect_encoding, parse_time, read_raw, validate_table
from audit.profiles import load_profile

GOOD = ("order_id,worker_id,region,accepted_at,delivered_at,pay\n"
        "o1,w1,石家庄,2025-10-01 08:00:00,2025-10-01 08:30:00,8.5\n"
        "o2,w1,正定县,2025-10-01 09:00:00,2025-10-01 09:20:00,7\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_recognised_without_being_told(tmp_path, encoding):
    p = tmp_path / "orders.csv"
    p.write_bytes(GOOD.encode(encoding))
    expected = "gb18030" if encoding == "gb18030" else "utf-8-sig"
    assert detect_encoding(p) == expected
    logs = audit.load_logs(orders=p)
    assert logs.orders["region"].tolist() == ["石家庄", "正定县"]
    assert logs.orders["region_code"].tolist() == ["130100", "130123"]
    assert list(logs.orders.columns[:3]) == ["order_id", "worker_id", "region"]  # BOM stripped


def test_parquet_and_excel_read_like_csv(tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str)
    df.to_parquet(tmp_path / "orders.parquet")
    df.to_excel(tmp_path / "o.xlsx", index=False)
    for path in (tmp_path / "orders.parquet", tmp_path / "o.xlsx"):
        logs = audit.load_logs(orders=path)
        assert logs.orders["pay"].tolist() == [8.5, 7.0]
        assert logs.orders["accepted_at"].iloc[0] == pd.Timestamp("2025-10-01 08:00:00")


def test_time_zones_are_converted_to_china_standard_time():
    raw = pd.Series(["2025-10-01T00:00:00Z", "2025-10-01 08:00:00+08:00", "2025-10-01 08:00:00",
                     "2025/10/01 08:00"])
    out = parse_time(raw)
    assert (out == pd.Timestamp("2025-10-01 08:00:00")).all()
    # naive New York time in July (EDT, UTC−4): 20:00 → 08:00 next day in Beijing
    ny = parse_time(pd.Series(["2025-07-01 20:00:00", "2025-01-15 20:00:00"]), tz="America/New_York")
    assert ny.tolist() == [pd.Timestamp("2025-07-02 08:00:00"), pd.Timestamp("2025-01-16 09:00:00")]


def test_mapping_profile_renames_and_converts_units(tmp_path):
    profile = tmp_path / "p.toml"
    profile.write_text("""
name = "example"
year = 2025
region = "shijiazhuang"
[orders.columns]
order_id = "订单号"
worker_id = "骑手"
accepted_at = "接单时间"
delivered_at = "送达时间"
picked_up_at = "取餐"
pay = "收入(分)"
distance_km = "里程(英里)"
[orders.units]
pay = "fen"
accepted_at = "epoch_s"
delivered_at = "epoch_s"
picked_up_at = "mmdd"
distance_km = "miles"
[orders.values.status]
"已完成" = "completed"
[orders.columns_extra]
""", encoding="utf-8")
    # 1759276800 = 2025-10-01 00:00:00 UTC = 08:00 in Beijing
    raw = pd.DataFrame({"订单号": ["a"], "骑手": ["r1"], "接单时间": ["1759276800"],
                        "送达时间": ["1759278600"], "取餐": ["10-01 08:10"], "收入(分)": ["850"],
                        "里程(英里)": ["2"]})
    t, rej = validate_table(raw, "orders", profile=load_profile(profile))
    assert rej.empty
    row = t.iloc[0]
    assert row["pay"] == 8.5
    assert row["distance_km"] == pytest.approx(3.218688)
    assert row["accepted_at"] == pd.Timestamp("2025-10-01 08:00:00")
    assert row["delivered_at"] == pd.Timestamp("2025-10-01 08:30:00")
    assert row["picked_up_at"] == pd.Timestamp("2025-10-01 08:10:00")
    assert row["region"] == "shijiazhuang"


def test_profile_with_unknown_unit_is_one_clear_error(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[orders.units]\npay = "dollars"\n', encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_profile(p)
    assert str(e.value) == msg.PROFILE_UNKNOWN_UNIT.format(
        path=p, unit="dollars", table="orders", column="pay",
        known=", ".join(__import__("audit.profiles", fromlist=["KNOWN_UNITS"]).KNOWN_UNITS))


BAD = """order_id,worker_id,region,accepted_at,delivered_at,pay,distance_km,status,picked_up_at
ok1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,5,2,completed,
t1,w1,shijiazhuang,2025-09-31 08:00:00,2025-10-01 08:30:00,5,2,completed,
n1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,-1,2,completed,
x1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,abc,2,completed,
d1,w1,shijiazhuang,2025-10-01 09:00:00,2025-10-01 08:30:00,5,2,completed,
ok1,w1,shijiazhuang,2025-10-01 10:00:00,2025-10-01 10:30:00,5,2,completed,
k1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,5,301,completed,
s1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,5,2,lost,
m1,,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,5,2,completed,
p1,w1,shijiazhuang,2025-10-01 08:00:00,2025-10-01 08:30:00,5,2,completed,2025-10-01 07:00:00
"""
SESSIONS_BAD = """worker_id,login_at,logout_at
w1,2025-10-01 08:00:00,2025-10-01 12:00:00
w1,2025-10-01 08:00:00,2025-10-02 08:00:01
w1,2025-10-01 08:00:00,2025-10-01 07:00:00
"""


def test_every_rejection_reason_with_file_and_line(tmp_path):
    (tmp_path / "orders.csv").write_text(BAD, encoding="utf-8")
    (tmp_path / "sessions.csv").write_text(SESSIONS_BAD, encoding="utf-8")
    logs = audit.load_logs(tmp_path)
    rej = logs.rejected
    got = dict(zip(zip(rej["file"], rej["line"]), rej["reason"]))
    assert got == {
        ("orders.csv", 3): "unparseable time in accepted_at: '2025-09-31 08:00:00'",
        ("orders.csv", 4): "negative pay: -1.0",
        ("orders.csv", 5): "not a number in pay: 'abc'",
        ("orders.csv", 6): "delivered_at before accepted_at",
        ("orders.csv", 7): "duplicate order_id ok1 (first seen on line 2)",
        ("orders.csv", 8): "distance_km over 300 km: 301.0",
        ("orders.csv", 9): "invalid status 'lost'; expected one of completed/cancelled",
        ("orders.csv", 10): "missing worker_id",
        ("orders.csv", 11): "picked_up_at outside [accepted_at, delivered_at]",
        ("sessions.csv", 3): "session over 24 h: 24.0 h",
        ("sessions.csv", 4): "logout_at before login_at",
    }
    assert logs.orders["order_id"].tolist() == ["ok1"]
    assert [s.rows_rejected for s in logs.sources] == [9, 2]


def test_missing_column_is_one_clear_line(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("order_id,worker_id,region,accepted_at\n1,2,shijiazhuang,2025-10-01 08:00\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        audit.load_logs(orders=p)
    assert str(e.value) == msg.MISSING_COLUMNS.format(
        path="orders.csv", columns="delivered_at, pay", table="orders",
        found="order_id, worker_id, region, accepted_at")


def test_missing_file_and_unknown_region(tmp_path):
    with pytest.raises(InputError) as e:
        audit.load_logs(orders=tmp_path / "nope.csv")
    assert str(e.value) == msg.FILE_NOT_FOUND.format(table="orders", path=tmp_path / "nope.csv")
    p = tmp_path / "orders.csv"
    p.write_text(GOOD.replace("正定县", "atlantis"), encoding="utf-8")
    with pytest.raises(RuleError, match="unknown region 'atlantis'"):
        audit.load_logs(orders=p)


def test_read_raw_rejects_unknown_types(tmp_path):
    p = tmp_path / "orders.json"
    p.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_raw(p)
    assert str(e.value) == msg.UNSUPPORTED_FORMAT.format(path=p, suffix=".json")


def test_sample_rejections_match_the_manifest():
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "data_samples" / "shijiazhuang"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    logs = audit.load_logs(folder)
    got = sorted(zip(logs.rejected["file"], logs.rejected["line"].astype(int)))
    want = sorted((b["file"], int(b["line"])) for b in manifest["bad_rows"])
    assert got == want
    assert np.isfinite(logs.orders["pay"]).all()


def test_empty_or_wholly_rejected_orders_are_one_clear_error(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("order_id,worker_id,region,accepted_at,delivered_at,pay\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        audit.load_logs(orders=p)
    assert str(e.value) == msg.EMPTY_TABLE.format(path="orders.csv", table="orders")
    p.write_text("order_id,worker_id,region,accepted_at,delivered_at,pay\n"
                 "1,w,shijiazhuang,2025-10-01 08:00,2025-10-01 09:00,-3\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        audit.load_logs(orders=p)
    assert str(e.value) == msg.NO_ROWS_LEFT.format(path="orders.csv", table="orders", line=2,
                                                   reason="negative pay: -3.0")


def test_payout_weather_and_worker_rejections(tmp_path):
    (tmp_path / "orders.csv").write_text(GOOD, encoding="utf-8")
    (tmp_path / "payouts.csv").write_text(
        "worker_id,period_start,period_end,gross,deductions,net,paid_at\n"
        "w1,2025-10-01,2025-10-07,100,0,100,2025-10-10 10:00:00\n"
        "w1,2025-10-08,2025-10-01,100,0,100,2025-10-10 10:00:00\n", encoding="utf-8")
    (tmp_path / "weather.csv").write_text(
        "region,date,t_max_c,t_min_c,warning\n"
        "shijiazhuang,2025-10-01,30,15,heat:orange;rainstorm:yellow\n"
        "shijiazhuang,2025-10-01,31,15,\n"
        "shijiazhuang,2025-10-02,30,15,heat:purple\n", encoding="utf-8")
    (tmp_path / "workers.csv").write_text(
        "worker_id,employment_form,vehicle\nw1,independent,ebike\nw2,freelance,ebike\nw1,independent,car\n",
        encoding="utf-8")
    rej = audit.load_logs(tmp_path).rejected
    got = dict(zip(zip(rej["file"], rej["line"]), rej["reason"]))
    assert got == {
        ("workers.csv", 3): "invalid employment_form 'freelance'; expected one of "
                            "labor_contract/written_agreement/independent",
        ("workers.csv", 4): "duplicate workers row for w1 (first seen on line 2)",
        ("payouts.csv", 3): "period_end before period_start",
        ("weather.csv", 3): "duplicate weather row for shijiazhuang/2025-10-01 (first seen on line 2)",
        ("weather.csv", 4): "invalid warning 'heat:purple'; expected type:level items with level blue, "
                            "yellow, orange or red",
    }
