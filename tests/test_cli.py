"""The gigaudit command line: exit codes, one-line errors, outputs (SPEC §7)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from audit.cli import main


def run_cli(*args, cwd=None):
    """Run the real console entry point in a subprocess (as a user would)."""
    proc = subprocess.run([sys.executable, "-m", "audit.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def test_demo_writes_outputs_and_exits_0(tmp_path):
    code, out, err = run_cli("demo", "--out", tmp_path / "r", "--lang", "en")
    assert code == 0, err
    for name in ("findings.csv", "summary.json", "report.md", "rejected_rows.csv"):
        assert (tmp_path / "r" / name).is_file()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    mw = summary["checks"]["art12.minimum_wage"]
    assert mw["below_minimum"] > 0 and mw["status"] == "violation"
    assert "audit done" in out


def test_bad_input_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,worker_id\n1,2\n", encoding="utf-8")
    code, out, err = run_cli("run", tmp_path, "--out", tmp_path / "o", "--lang", "en")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("gigaudit: error: orders.csv: missing required column(s) region, "
                          "accepted_at, delivered_at, pay")


def test_missing_folder_and_unknown_region_exit_1(tmp_path, capsys):
    assert main(["run", str(tmp_path / "none"), "--out", str(tmp_path / "o"), "--lang", "en"]) == 1
    assert "file not found" in capsys.readouterr().err
    assert main(["rules", "--region", "shijiazhuangg", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "unknown region 'shijiazhuangg'" in err and "shijiazhuang" in err


def test_rules_prints_values_in_force_with_source(capsys):
    assert main(["rules", "--region", "shijiazhuang", "--date", "2025-10-01"]) == 0
    out = capsys.readouterr().out
    assert "22.0" in out and "MW-HB-2023-T1" in out
    assert main(["rules", "--region", "shijiazhuang", "--date", "2019-01-01", "--lang", "en"]) == 1
    assert "2019-11-01" in capsys.readouterr().err


def test_usage_error_exits_2(tmp_path):
    code, _, err = run_cli("run")  # --out is required
    assert code == 2 and "--out" in err
    code, _, err = run_cli("run", "--out", tmp_path, "--lang", "en")  # nothing to audit
    assert code == 1 and "give a folder" in err
    code, _, _ = run_cli("frobnicate")
    assert code == 2


def test_validate_lists_rejected_rows(capsys):
    from audit.cli import demo_folder

    assert main(["validate", str(demo_folder()), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "orders: orders.csv: 26,323 rows read, 5 rejected" in out
    assert "orders.csv:716: negative pay: -6.5" in out


@pytest.mark.parametrize("lang,word", [("zh", "审计完成"), ("en", "audit done")])
def test_messages_follow_lang(tmp_path, lang, word, capsys):
    from audit.cli import demo_folder

    assert main(["run", str(demo_folder()), "--out", str(tmp_path), "--lang", lang,
                 "--checks", "art12.minimum_wage", "--no-charts"]) == 0
    assert word in capsys.readouterr().out


def test_errors_are_printed_in_chinese_with_lang_zh(tmp_path, capsys):
    (tmp_path / "orders.csv").write_text("order_id,worker_id\n1,2\n", encoding="utf-8")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "o"), "--lang", "zh"]) == 1
    err = capsys.readouterr().err
    assert err == ("gigaudit: 错误: orders.csv：orders 表缺少必需的列 region, accepted_at, delivered_at, pay；"
                   "文件中的列：order_id, worker_id\n")
    assert main(["run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err == f"gigaudit: 错误: folder：找不到文件：{tmp_path / 'nope'}\n"


def test_translation_keeps_unknown_messages_and_english():
    from audit._i18n import translate

    assert translate("something new", "zh") == "something new"
    assert translate("unknown region 'x'; closest known keys: a, b", "en") == \
        "unknown region 'x'; closest known keys: a, b"
    assert translate("unknown region 'x'; closest known keys: a, b", "zh") == "未知地区 'x'；最接近的已知地区：a, b"


def test_run_chunked_engine_same_bytes_as_memory_with_pseudonyms(tmp_path):
    # the README's large-audit command, through the console entry point, with
    # pseudonyms: the same files as the in-memory engine, and no raw worker id
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "data_samples" / "shijiazhuang"
    common = ("--no-charts", "--lang", "en", "--pseudonymize", "k3y")
    code, _, err = run_cli("run", sample, "--out", tmp_path / "mem", *common)
    assert code == 0, err
    code, _, err = run_cli("run", sample, "--out", tmp_path / "chk", "--engine", "chunked",
                           "--partitions", "3", *common)
    assert code == 0, err
    for name in ("findings.csv", "summary.json", "rejected_rows.csv", "time_base.csv"):
        assert (tmp_path / "mem" / name).read_bytes() == (tmp_path / "chk" / name).read_bytes(), name
    findings = (tmp_path / "chk" / "findings.csv").read_text(encoding="utf-8")
    assert ",W001," not in findings and ",w_" in findings
