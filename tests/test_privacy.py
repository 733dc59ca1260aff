"""Pseudonyms, small-group suppression and spreadsheet-safe CSV cells."""
from __future__ import annotations

import hashlib
import hmac
import re

import numpy as np
import pandas as pd
import pytest

import audit
from audit.privacy import (EMPTY_KEY, hide_small_groups, pseudonym, pseudonymize, pseudonymize_rejected,
                           pseudonymize_result, safe_csv)


def _expected(wid: str, key: str) -> str:
    return "w_" + hmac.new(key.encode(), wid.encode(), hashlib.sha256).hexdigest()[:16]


def test_pseudonym_is_keyed_hmac_sha256_truncated():
    assert pseudonym("W001", "k") == _expected("W001", "k")
    assert re.fullmatch(r"w_[0-9a-f]{16}", pseudonym("W001", "k"))
    assert pseudonym("W001", "k") != pseudonym("W001", "other")
    with pytest.raises(ValueError, match=re.escape(EMPTY_KEY)):
        pseudonym("W001", "")


def test_series_keeps_missing_and_maps_equal_ids_equally():
    s = pd.Series(["A", None, "B", "A"])
    out = pseudonymize(s, "k")
    assert out[0] == out[3] == _expected("A", "k") and out[2] == _expected("B", "k")
    assert pd.isna(out[1])


def test_findings_hash_worker_rows_only():
    f = pd.DataFrame({"level": ["worker-week", "platform", "group", "payout", "worker"],
                      "subject": ["W1", "platform", "gender=F", "W2", "W1"], "value": [1, 2, 3, 4, 5]})
    out = pseudonymize(f, "k")
    assert list(out["subject"]) == [_expected("W1", "k"), "platform", "gender=F", _expected("W2", "k"),
                                    _expected("W1", "k")]
    assert list(f["subject"])[0] == "W1"  # input untouched


def test_rejected_worker_id_value_and_reason():
    rej = pd.DataFrame({"file": ["o.csv", "o.csv"], "line": [2, 3], "table": "orders",
                        "column": ["worker_id", "pay"], "value": ["=cmd|W9", "-1"],
                        "reason": ["bad worker_id '=cmd|W9'", "negative pay: -1"]})
    out = pseudonymize_rejected(rej, "k")
    assert out.loc[0, "value"] == _expected("=cmd|W9", "k")
    assert "=cmd|W9" not in out.loc[0, "reason"] and _expected("=cmd|W9", "k") in out.loc[0, "reason"]
    assert out.loc[1, "value"] == "-1"


def test_safe_csv_neutralises_text_only():
    f = pd.DataFrame({"t": ["=1+1", "+x", "-y", "@z", "ok", None], "num": [-1.5, 2, -3, 4, 5, 6],
                      "s": pd.array(["-2", "a", "\tb", "c", "d", pd.NA], dtype="string")})
    out = safe_csv(f)
    assert list(out["t"][:5]) == ["'=1+1", "'+x", "'-y", "'@z", "ok"] and pd.isna(out["t"][5])
    assert out["num"].tolist() == [-1.5, 2, -3, 4, 5, 6] and out["num"].dtype == float
    assert list(out["s"][:4]) == ["'-2", "a", "'\tb", "c"]


def test_small_groups_blanked():
    f = pd.DataFrame({"level": ["group", "group", "platform"], "subject": ["a", "b", "platform"],
                      "value": [1.0, 2.0, 3.0], "ci_low": [0.5, 1.5, 2.5], "status": "ok", "n": [100, 100, 9],
                      "detail": "", "workers_group": [10, 9, np.nan], "workers_reference": [50, 50, np.nan]})
    out = hide_small_groups(f, 10)
    assert out["value"].tolist()[0] == 1.0 and np.isnan(out["value"][1]) and out["value"][2] == 3.0
    assert np.isnan(out["ci_low"][1]) and out["status"][1] == "insufficient_data"


def test_no_raw_worker_id_in_any_written_file(tmp_path):
    r = audit.run_audit("data_samples/shijiazhuang")
    from audit.privacy import known_ids

    ids = set(known_ids(r))
    p = pseudonymize_result(r, "secret")
    p.write(tmp_path)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(ids))) + r")\b")
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".md", ".html"):
            hits = pattern.findall(path.read_text(encoding="utf-8"))
            assert not hits, f"{path.name}: {hits[:3]}"
    assert set(p.findings.loc[p.findings["level"] == "worker-week", "subject"]) <= {
        _expected(w, "secret") for w in ids}
