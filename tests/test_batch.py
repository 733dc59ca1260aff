"""Batch audits (audit/batch.py): the sample manifest, reuse, broken submissions, the summary."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from audit import _messages as msg
from audit import batch
from audit.exceptions import AuditError
from audit.rules import ERR_UNKNOWN_REGION

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data_samples"
MANIFEST = SAMPLES / "batch_manifest.toml"
GOOD = ["kuaisong-shijiazhuang", "jisong-baoding", "xingche-tangshan"]
BROKEN = "broken-platform"
FAST_CHECKS = ["art12.minimum_wage", "art14.daily_hours"]  # keeps the tmp batches quick


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _tangshan_copy(tmp: Path) -> Path:
    dst = tmp / "ts"
    shutil.copytree(SAMPLES / "tangshan_ridehail", dst)
    return dst


# ------------------------------------------------------------------ the sample manifest
@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "out"
    first = batch.run_batch(MANIFEST, out, jobs=2, lang="en", progress=False)
    return out, first, _snapshot(out)


def test_sample_batch_audits_good_and_reports_broken(sample_run):
    out, res, _ = sample_run
    status = {o.platform: o.status for o in res.outcomes}
    assert status == {**{p: "audited" for p in GOOD}, BROKEN: "failed"}
    assert res.exit_code == 1
    reason = res.failed[BROKEN]
    assert reason.startswith("orders.csv: missing required column(s) delivered_at for the orders table")
    assert "\n" not in reason and str(SAMPLES) not in reason  # one line, no machine-specific path
    for p in GOOD:
        for f in ("findings.csv", "summary.json", "report.md", "inputs.json"):
            assert (out / p / f).is_file(), (p, f)
    assert (out / BROKEN / "error.txt").read_text(encoding="utf-8").strip() == reason


def test_ride_hailing_profile_and_region_applied(sample_run):
    out, _, _ = sample_run
    s = json.loads((out / "xingche-tangshan" / "summary.json").read_text(encoding="utf-8"))
    assert s["profile"] == "xingche_trips"
    assert s["rows"]["orders_read"] == 2110 and s["rows"]["rejected"] == 0
    # no deadline column in the export: every deadline check lacks its input
    for cid in ("art19.late_rate", "art19.deadline_percentile"):
        assert s["checks"][cid]["status"] == "insufficient_data"
    f = pd.read_csv(out / "xingche-tangshan" / "findings.csv", usecols=["check", "subject"])
    assert (f["check"] == "art12.minimum_wage").any()


def test_summary_ranking_and_links(sample_run):
    out, res, _ = sample_run
    table = pd.read_csv(out / "summary.csv", dtype={"reason": str})
    assert list(table["platform"])[-1] == BROKEN
    assert table["status"].tolist()[-1] == "failed" and pd.isna(table["rank"].iloc[-1])
    assert table["reason"].iloc[-1] == res.failed[BROKEN]
    # ranking recomputed independently from each platform's own outputs
    expect = []
    for p in GOOD:
        s = json.loads((out / p / "summary.json").read_text(encoding="utf-8"))
        n_checks = sum(c["status"] == "violation" for c in s["checks"].values())
        f = pd.read_csv(out / p / "findings.csv", usecols=["status"])
        n_find = int((f["status"] == "violation").sum())
        expect.append((-n_checks, -n_find, p, n_checks, n_find))
        row = table.set_index("platform").loc[p]
        assert (row["checks_violation"], row["violation_findings"]) == (n_checks, n_find)
        assert row["orders"] == s["rows"]["orders_read"]
        for cid, c in s["checks"].items():
            assert row[cid] == c["status"]
    expect.sort()
    assert table["platform"].tolist()[:3] == [e[2] for e in expect]
    assert table["rank"].tolist()[:3] == [1, 2, 3]
    # the clean ride-hailing platform is the least bad of the three by construction
    assert table["platform"].iloc[2] == "xingche-tangshan"
    assert table.set_index("platform").loc["kuaisong-shijiazhuang", "art12.minimum_wage:share_below"] > 0.05
    page = (out / "summary.html").read_text(encoding="utf-8")
    for p in GOOD:
        link = next(f"{p}/{f}" for f in ("report.html", "report.md") if (out / p / f).is_file())
        assert f'href="{link}"' in page
    assert f'href="{BROKEN}/' not in page
    assert "<script src" not in page and "http://" not in page and "https://" not in page
    assert "addEventListener" in page and page.count("<tr>") == 1 + 4


def test_rerun_reuses_unchanged_submissions(sample_run, capsys):
    out, _, before = sample_run
    code = batch.batch_main(MANIFEST, out, jobs=2, lang="en", progress=False)
    assert code == 1
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gigaudit: {BROKEN}: audit failed: orders.csv: missing")
    for p in GOOD:
        assert f"gigaudit: {p}: inputs and options unchanged, previous results reused" in cap.out
    assert "3 platforms done (3 reused), 1 failed" in cap.out
    after = _snapshot(out)
    for name, (data, mtime) in before.items():
        if name.startswith(BROKEN) or name.startswith("summary."):
            assert after[name][0] == data, name          # rewritten, same bytes
        else:
            assert after[name] == (data, mtime), name    # not touched at all


# ------------------------------------------------------------------ reuse is keyed on inputs and options
def test_changed_input_or_option_is_audited_again(tmp_path):
    ts = _tangshan_copy(tmp_path)
    manifest = _write(tmp_path / "m.toml", f"""
[defaults]
checks = {json.dumps(FAST_CHECKS)}
[[submission]]
platform = "ts"
folder = "ts"
profile = "ts/xingche_trips.toml"
region = "tangshan"
""")
    out = tmp_path / "out"
    assert [o.status for o in batch.run_batch(manifest, out, progress=False).outcomes] == ["audited"]
    assert batch.run_batch(manifest, out, progress=False).reused == ["ts"]
    # one byte of one input file
    w = ts / "weather.csv"
    w.write_text(w.read_text(encoding="utf-8").replace("\n", "\r\n", 1), encoding="utf-8")
    assert batch.run_batch(manifest, out, progress=False).outcomes[0].status == "audited"
    assert batch.run_batch(manifest, out, progress=False).reused == ["ts"]
    # an option: the region
    _write(manifest, manifest.read_text(encoding="utf-8").replace('"tangshan"', '"唐山市"'))
    assert batch.run_batch(manifest, out, progress=False).outcomes[0].status == "audited"
    # the profile's content
    prof = ts / "xingche_trips.toml"
    prof.write_text(prof.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert batch.run_batch(manifest, out, progress=False).outcomes[0].status == "audited"
    # the language of the report, and force
    assert batch.run_batch(manifest, out, lang="en", progress=False).outcomes[0].status == "audited"
    assert batch.run_batch(manifest, out, lang="en", force=True, progress=False).outcomes[0].status == "audited"
    fp = json.loads((out / "ts" / "inputs.json").read_text(encoding="utf-8"))
    assert fp["inputs"]["orders"]["file"] == "trips.csv" and len(fp["inputs"]) == 5
    assert fp["region"] == "唐山市" and fp["checks"] == FAST_CHECKS and fp["lang"] == "en"


# ------------------------------------------------------------------ broken submissions of other kinds
def test_held_out_broken_submissions_each_one_line(tmp_path, capsys):
    ts = _tangshan_copy(tmp_path)
    _write(tmp_path / "bad.toml", "name = 'x'\n[orders.columns\n")
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "orders.parquet").write_bytes(b"\x00\x01not parquet at all" * 50)
    common = f'profile = "ts/xingche_trips.toml"\nchecks = {json.dumps(FAST_CHECKS)}'
    manifest = _write(tmp_path / "m.toml", f"""
[[submission]]
platform = "good"
folder = "ts"
region = "tangshan"
{common}

[[submission]]
platform = "unknown-region"
folder = "ts"
region = "atlantis"
{common}

[[submission]]
platform = "bad-profile"
folder = "ts"
region = "tangshan"
profile = "bad.toml"

[[submission]]
platform = "unreadable"
folder = "garbage"

[[submission]]
platform = "no-folder"
folder = "does_not_exist"

[[submission]]
platform = "unknown-check"
folder = "ts"
region = "tangshan"
profile = "ts/xingche_trips.toml"
checks = "art99"

[[submission]]
platform = "typo"
folder = "ts"
regoin = "tangshan"

[[submission]]
platform = "GOOD"
folder = "ts"

[[submission]]
platform = "../escape"
folder = "ts"
""")
    out = tmp_path / "out"
    code = batch.batch_main(manifest, out, jobs=2, lang="en", progress=False)
    assert code == 1
    res = batch.run_batch(manifest, out, jobs=2, lang="en", progress=False)  # reuses "good"
    assert [o.status for o in res.outcomes] == ["reused"] + ["failed"] * 8
    r = res.failed
    assert r["unknown-region"].startswith(ERR_UNKNOWN_REGION.split("{close}")[0].format(key="atlantis"))
    assert r["bad-profile"].startswith("mapping profile bad.toml: ")
    assert r["unreadable"].startswith("garbage/orders.parquet: cannot be read as ")
    assert r["no-folder"] == msg.FILE_NOT_FOUND.format(table="folder", path="does_not_exist")
    assert r["unknown-check"].startswith("unknown check 'art99'; known checks: art12.minimum_wage")
    assert r["typo"] == batch.SUB_UNKNOWN_KEY.format(key="regoin", known=", ".join(batch.SUBMISSION_KEYS))
    assert r["GOOD"] == batch.SUB_DUPLICATE.format(name="GOOD", first=1)
    assert r["../escape"] == batch.SUB_BAD_PLATFORM.format(name="../escape")
    assert all("\n" not in v and str(tmp_path) not in v for v in r.values())
    assert not (tmp_path / "escape").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 8 and all(re.match(r"gigaudit: \S+: audit failed: \S", line) for line in err)
    table = pd.read_csv(out / "summary.csv", dtype={"reason": str})
    assert table["platform"].iloc[0] == "good" and (table["status"].iloc[1:] == "failed").all()


def _crash_or_audit(sub, out, *, lang="zh", force=False):
    """A worker whose process dies on one submission (as a segfault or OOM kill would)."""
    if sub.platform == "crash":
        os._exit(3)
    return batch.audit_submission(sub, out, lang=lang, force=force)


def test_worker_crash_does_not_stop_the_others(tmp_path):
    _tangshan_copy(tmp_path)
    entry = 'folder = "ts"\nprofile = "ts/xingche_trips.toml"\nregion = "tangshan"\nchecks = "art12.minimum_wage"'
    manifest = _write(tmp_path / "m.toml", "\n".join(
        f'[[submission]]\nplatform = "{p}"\n{entry}\n' for p in ("a", "crash", "b")))
    res = batch.run_batch(manifest, tmp_path / "out", jobs=2, progress=False, _worker=_crash_or_audit)
    assert [o.status for o in res.outcomes] == ["audited", "failed", "audited"]
    assert res.failed == {"crash": batch.WORKER_CRASHED.format(error="the process exited abnormally")}


# ------------------------------------------------------------------ manifest errors stop the batch
def test_manifest_errors(tmp_path):
    with pytest.raises(AuditError, match="batch manifest not found"):
        batch.run_batch(tmp_path / "nope.toml", tmp_path / "out")
    bad = _write(tmp_path / "bad.toml", "[[submission]\nplatform = 1\n")
    with pytest.raises(AuditError) as e:
        batch.read_manifest(bad)
    assert str(e.value).startswith(f"batch manifest {bad}: ") and "\n" not in str(e.value)
    empty = _write(tmp_path / "empty.toml", 'title = "x"\n')
    with pytest.raises(AuditError, match=re.escape(batch.MANIFEST_NO_SUBMISSIONS.format(path=empty))):
        batch.read_manifest(empty)
    top = _write(tmp_path / "top.toml", '[[submissions]]\nplatform = "a"\nfolder = "x"\n')
    with pytest.raises(AuditError, match="unknown key 'submissions'"):
        batch.read_manifest(top)
    with pytest.raises(AuditError, match="--jobs must be"):
        batch.run_batch(MANIFEST, tmp_path / "out", jobs=-1)


def test_manifest_paths_defaults_and_profiles(tmp_path):
    m = _write(tmp_path / "m.toml", """
[defaults]
region = "shijiazhuang"
checks = "art12, art14.daily_hours"
[[submission]]
platform = "石家庄-甲"
folder = "d"
sessions = "/abs/s.csv"
profile = "lade_d"
[[submission]]
platform = "b"
orders = "o.csv"
region = "baoding"
checks = ["art19"]
""")
    subs, title = batch.read_manifest(m)
    assert title == ""
    a, b = subs
    assert a.error is None and a.folder == str(tmp_path / "d") and a.files == {"sessions": "/abs/s.csv"}
    assert a.profile == "lade_d" and a.region == "shijiazhuang" and a.checks == ["art12", "art14.daily_hours"]
    assert b.folder is None and b.files == {"orders": str(tmp_path / "o.csv")}
    assert b.region == "baoding" and b.checks == ["art19"]


# ------------------------------------------------------------------ the summary from hand-made outputs
def _fake_platform(out: Path, name: str, checks: dict[str, dict], statuses: list[tuple[str, str]],
                   report: str = "report.md") -> None:
    d = out / name
    d.mkdir(parents=True)
    summary = {"rows": {"orders_read": 100, "rejected": 1}, "period": {"start": "2025-01-06", "end": "2025-01-12"},
               "checks": checks}
    (d / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    f = pd.DataFrame(statuses, columns=["check", "status"]).assign(subject="x")
    f.to_csv(d / "findings.csv", index=False)
    (d / report).write_text("r", encoding="utf-8")


def test_summary_table_ranks_by_violating_checks_then_findings(tmp_path):
    v, o = {"status": "violation", "n": 5}, {"status": "ok", "n": 5}
    mw = "art12.minimum_wage"
    _fake_platform(tmp_path, "A", {mw: {**v, "share_below": 0.5}, "art14.daily_hours": {**v, "violations": 3},
                                   "art19.late_rate": {**o, "value": 0.02}},
                   [(mw, "violation"), ("art14.daily_hours", "violation")] * 1 + [("art14.daily_hours", "violation")])
    _fake_platform(tmp_path, "B", {mw: {**v, "share_below": 0.1}, "art14.daily_hours": {**v, "violations": 9}},
                   [(mw, "violation")] * 4 + [("art14.daily_hours", "violation")] * 6 + [(mw, "ok")] * 7)
    _fake_platform(tmp_path, "C", {mw: {**v, "share_below": 0.2}, "art14.daily_hours": {**v, "violations": 1},
                                   "art19.late_rate": {**v, "value": 0.4}},
                   [(mw, "violation"), ("art14.daily_hours", "ok"), ("art19.late_rate", "violation")],
                   report="report.html")
    _fake_platform(tmp_path, "D", {mw: {**o, "share_below": 0.0}}, [(mw, "ok")])
    outcomes = [batch.Outcome(p, "audited") for p in "ABD"] + [batch.Outcome("E", "failed", reason="boom"),
                                                               batch.Outcome("C", "reused")]
    t = batch.write_summary(outcomes, tmp_path, lang="zh")
    # C: 3 violating checks; B and A: 2 each, B has 10 violation findings vs A's 3; D: 0; E failed
    assert t["platform"].tolist() == ["C", "B", "A", "D", "E"]
    assert t["rank"].tolist()[:4] == [1, 2, 3, 4] and pd.isna(t["rank"].iloc[4])
    assert t["checks_violation"].tolist()[:4] == [3, 2, 2, 0]
    assert t["violation_findings"].tolist()[:4] == [2, 10, 3, 0]
    assert t["status"].tolist() == ["audited"] * 4 + ["failed"]
    assert t["report"].tolist()[:4] == ["C/report.html", "B/report.md", "A/report.md", "D/report.md"]
    assert t.loc[t["platform"] == "B", "art12.minimum_wage:share_below"].item() == 0.1
    assert t.loc[t["platform"] == "A", "art19.late_rate:value"].item() == 0.02
    assert pd.isna(t.loc[t["platform"] == "B", "art19.late_rate"].item())
    assert t.loc[t["platform"] == "E", "reason"].item() == "boom"
    csv = pd.read_csv(tmp_path / "summary.csv")
    assert csv["platform"].tolist() == ["C", "B", "A", "D", "E"]
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert 'href="C/report.html"' in page and "违规" in page and "失败" in page
    # byte-identical when written again
    first = (tmp_path / "summary.csv").read_bytes(), page
    batch.write_summary(outcomes, tmp_path, lang="zh")
    assert ((tmp_path / "summary.csv").read_bytes(), (tmp_path / "summary.html").read_text(encoding="utf-8")) == first
