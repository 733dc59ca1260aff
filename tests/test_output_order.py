"""Output helpers: audit.csvout.write_csv writes what to_csv writes; sorted_order sorts as sort_values."""
import numpy as np
import pandas as pd
import pytest

from audit.csvout import write_csv


def _pandas_bytes(frame, tmp_path):
    p = tmp_path / "pandas.csv"
    frame.to_csv(p, index=False, float_format="%.10g", lineterminator="\n")
    return p.read_bytes()


@pytest.mark.parametrize("text_dtype", [object, "string", "str"])
def test_same_bytes_as_pandas(tmp_path, text_dtype):
    rng = np.random.default_rng(3)
    n = 500
    vals = rng.normal(0, 1e3, n)
    vals[::7] = np.nan
    vals[1] = 1e-7
    vals[2] = 1.234567890123e12
    vals[3] = -0.0
    vals[4] = np.inf
    text = rng.choice(["plain", "a,b", 'say "hi"', "line\nbreak", "中文; 区域=130102", "", None], n)
    frame = pd.DataFrame({
        "check": "art12.minimum_wage", "article": rng.integers(10, 20, n),
        "value": vals, "threshold": np.round(rng.uniform(0, 30, n), 2),
        "detail": pd.Series(text, dtype=text_dtype), "flag": rng.random(n) < 0.5,
    })
    out = tmp_path / "fast.csv"
    write_csv(frame, out)
    assert out.read_bytes() == _pandas_bytes(frame, tmp_path)


def test_header_with_comma_and_empty_frame(tmp_path):
    frame = pd.DataFrame({"a,b": [1.5], "c": ["x"]})
    write_csv(frame, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text() == '"a,b",c\n1.5,x\n'
    empty = pd.DataFrame(columns=["a", "b"])
    write_csv(empty, tmp_path / "e.csv")
    assert (tmp_path / "e.csv").read_bytes() == _pandas_bytes(empty, tmp_path)


def test_mixed_objects_fall_back_to_pandas(tmp_path):
    frame = pd.DataFrame({"x": pd.Series(["a", 1, 2.5, None], dtype=object),
                          "d": pd.to_datetime(["2025-10-01"] * 4)})
    write_csv(frame, tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_bytes() == _pandas_bytes(frame, tmp_path)


def test_sorted_order_matches_stable_sort_values():
    from audit.findings import sorted_order

    rng = np.random.default_rng(11)
    n = 2000
    frame = pd.DataFrame({
        "_o": rng.integers(0, 4, n).astype(float),
        "subject": pd.Series(rng.choice(["W10", "W2", "W1", "骑手", "platform", None], n), dtype=object),
        "period_start": pd.Series(rng.choice(["2025-10-01", "2025-09-29", None], n), dtype=object),
        "metric": rng.choice(["a", "b"], n),
        "row": np.arange(n),  # ties keep their order: the row numbers show it
    })
    frame.loc[::97, "_o"] = np.nan
    keys = ["_o", "subject", "period_start", "metric"]
    want = frame.sort_values(keys, kind="stable", na_position="first")["row"].to_numpy()
    got = frame["row"].to_numpy()[sorted_order(frame, keys)]
    assert (got == want).all()
    assert len(sorted_order(frame.iloc[:0], keys)) == 0


def test_findings_written_check_by_check_equal_the_combined_frame(tmp_path):
    # the stream must give the combined frame's bytes: rows sorted within each
    # check, checks in the given order, an int ``value`` written as the float
    # the concatenation makes of it (12345678901 -> 1.23456789e+10 at %.10g),
    # and formula-like texts neutralised as safe_csv does
    from audit.findings import FINDINGS_COLUMNS, make_findings
    from audit.privacy import safe_csv
    from audit.run import _combine, write_findings_csv, write_findings_stream

    a = make_findings(check="a", article=12, level="worker-week", subject=["w2", "w1", "w1"],
                      period_start=["2025-01-06", "2025-01-13", "2025-01-06"],
                      period_end=["2025-01-12"] * 3, metric="m", value=[12345678901, 2, 3],
                      threshold=1.5, unit="CNY", status="ok", n=[1, 2, 3],
                      detail=["=HYPERLINK(1)", "x", "y"], extra_a=[1.0, 2.0, 3.0])
    b = make_findings(check="b", article=19, level="platform", subject=["platform"],
                      period_start=[None], period_end=[None], metric="p", value=[0.25],
                      threshold=0.3, unit="share", status="risk", n=[7], detail=["a,b"],
                      extra_b=["t"])
    empty = a.iloc[:0]
    by_check = {"b": b, "empty": empty, "a": a}
    order = ["a", "empty", "b"]
    write_findings_stream(by_check, order, tmp_path / "stream.csv")
    write_findings_csv(safe_csv(_combine(by_check, order)[FINDINGS_COLUMNS]), tmp_path / "wide.csv")
    text = (tmp_path / "stream.csv").read_text()
    assert text == (tmp_path / "wide.csv").read_text()
    lines = text.splitlines()
    assert [ln.split(",")[3] for ln in lines[1:]] == ["w1", "w1", "w2", "platform"]
    assert lines[3].split(",")[7] == "1.23456789e+10" and lines[3].split(",")[12] == "'=HYPERLINK(1)"
