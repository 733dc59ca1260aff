"""Batch audits for regulators: many platforms' submissions, one command (SPEC §1, §7).

``gigaudit batch MANIFEST.toml --out OUT [--jobs N]`` reads a manifest of
submissions, audits each in its own process with :func:`audit.run_audit`
(outputs in ``OUT/<platform>/``) and writes a cross-platform comparison
``OUT/summary.csv`` and ``OUT/summary.html``.

The manifest (TOML; paths relative to the manifest's folder)::

    title = "石家庄、保定、唐山 平台季度审计"      # optional, heads summary.html

    [defaults]                      # optional: applies to every submission
    region = "shijiazhuang"

    [[submission]]
    platform = "kuaisong"           # the name of OUT/<platform>/ and of the summary row
    folder = "shijiazhuang"         # orders.* [+ sessions.*, workers.*, payouts.*, weather.*]

    [[submission]]
    platform = "xingche"
    orders = "tangshan_ridehail/trips.csv"   # files one by one (override the folder's)
    sessions = "tangshan_ridehail/sessions.csv"
    profile = "tangshan_ridehail/xingche_trips.toml"   # a path, or a built-in profile name
    region = "tangshan"             # default region for orders without one
    checks = ["art12", "art14"]     # optional: ids or article prefixes (all by default)
    holidays = "holidays.csv"       # optional holiday override file

Decisions
---------
* A broken submission (unreadable or missing file, missing column, unknown
  region, bad profile, unknown check, an invalid manifest entry, a bug, a
  worker process that dies) becomes a ``failed`` row with a one-line reason;
  the others complete.  A manifest that cannot be read at all is an
  :class:`~audit.exceptions.AuditError` (nothing to audit).
* ``jobs`` defaults to 1: an audit of a city's quarter holds tens of millions
  of orders in memory, so running several at once is the user's choice
  (``--jobs N``; ``--jobs 0`` = one per CPU).  Each submission runs in a fresh
  process (``max_tasks_per_child=1``) forked from a server that has imported
  gigaudit and its checks once (``forkserver`` with ``audit._batch_preload``;
  ``spawn`` where there is no fork).  A process
  that dies breaks a ``ProcessPoolExecutor``; the submissions it took with it
  are then run again one per pool, so only the one that crashes fails.
* Reuse: after a successful audit ``OUT/<platform>/inputs.json`` records the
  fingerprint of the run: SHA-256 of every input file, of the profile and of
  the holiday file, the region, the checks, the language, the gigaudit
  version, the rules version and a SHA-256 of the rule tables, and the checks
  this installation implements.  A rerun whose fingerprint is the same, with
  ``findings.csv`` and ``summary.json`` still there, reuses the outputs
  without touching them.  Failed submissions are always tried again.
* The summary is built from the files on disk only (``summary.json``,
  ``findings.csv``), so a rerun that reuses every submission writes the same
  bytes; it holds no time stamp and no absolute path.  Platforms are ranked
  by the number of checks whose status is ``violation``, then by the number
  of violation findings, then by name; failed submissions come last, unranked.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import math
import multiprocessing
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pandas as pd

from audit import __version__
from audit.exceptions import AuditError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TABLES = ("orders", "sessions", "workers", "payouts", "weather")
SUBMISSION_KEYS = ("platform", "folder", *TABLES, "profile", "region", "checks", "holidays", "note")
DEFAULT_KEYS = ("profile", "region", "checks", "holidays")
TOP_KEYS = ("title", "defaults", "submission")
FINGERPRINT_FILE = "inputs.json"
ERROR_FILE = "error.txt"
WARNINGS_FILE = "warnings.txt"
FINGERPRINT_VERSION = 1
RUN_OUTPUTS = ("findings.csv", "summary.json", "rejected_rows.csv", "report.md", "report.html")
REQUIRED_OUTPUTS = ("findings.csv", "summary.json")
SUMMARY_CSV = "summary.csv"
SUMMARY_HTML = "summary.html"

AUDITED, REUSED, FAILED = "audited", "reused", "failed"

# --- messages (one line each; tests compare them) ---------------------------------
MANIFEST_NOT_FOUND = "batch manifest not found: {path}"
MANIFEST_INVALID = "batch manifest {path}: {error}"
MANIFEST_UNKNOWN_TOP = "batch manifest {path}: unknown key '{key}'; expected {known}"
MANIFEST_NO_SUBMISSIONS = "batch manifest {path}: no [[submission]] entries"
MANIFEST_BAD_DEFAULTS = "batch manifest {path}: [defaults] may only set {known}"
SUB_NOT_TABLE = "submission #{i} is not a table"
SUB_NO_PLATFORM = "submission #{i} has no platform name"
SUB_BAD_PLATFORM = ("platform name {name!r} cannot name a folder: use letters, digits, '-', '_', "
                    "'.' or Chinese, without '/' or '\\'")
SUB_DUPLICATE = "platform {name!r} appears twice in the manifest (first as submission #{first})"
SUB_UNKNOWN_KEY = "unknown key '{key}' in the manifest entry; known: {known}"
SUB_NO_INPUT = "the manifest entry gives neither a folder nor an orders file"
SUB_NOT_TEXT = "'{key}' must be text in the manifest entry, not {value!r}"
SUB_BAD_CHECKS = "'checks' must be a list of check ids or a comma-separated string, not {value!r}"
WORKER_CRASHED = "the audit process died ({error}); the other submissions were not affected"
INTERNAL = "internal error ({kind}: {error})"
BAD_JOBS = "--jobs must be 0 (one per CPU) or more, not {jobs}"

_TEXT = {
    "zh": {
        "failed": "gigaudit: {platform}: 审计失败：{reason}",
        "reused": "gigaudit: {platform}: 输入与选项未变，沿用上次结果",
        "audited": "gigaudit: {platform}: 审计完成（{seconds:.1f} 秒）",
        "done": "批量审计：{ok} 个平台完成（其中 {reused} 个沿用上次结果），{failed} 个失败 → {html}",
        "title": "gigaudit 跨平台审计汇总",
        "intro": ("每行一个平台，每列一项检查（结论与关键数字）。按“违规”检查项数排序，"
                  "同数时按违规条目总数；点击表头可重新排序。失败的提交列于最后并写明原因。"),
        "cols": {"rank": "排名", "platform": "平台", "status": "状态", "checks_violation": "违规检查项",
                 "checks_risk": "风险检查项", "violation_findings": "违规条目", "orders": "订单数",
                 "rejected_rows": "拒收行", "period": "数据期间", "report": "报告", "reason": "原因"},
        "statuses": {"violation": "违规", "risk": "风险", "ok": "合规", "insufficient_data": "数据不足",
                     "not_run": "未运行", "failed": "失败", "audited": "已审计"},
        "footer": "gigaudit {version}，规则表版本 {rules}。",
    },
    "en": {
        "failed": "gigaudit: {platform}: audit failed: {reason}",
        "reused": "gigaudit: {platform}: inputs and options unchanged, previous results reused",
        "audited": "gigaudit: {platform}: audited ({seconds:.1f} s)",
        "done": "batch: {ok} platforms done ({reused} reused), {failed} failed → {html}",
        "title": "gigaudit cross-platform summary",
        "intro": ("One row per platform, one column per check (status and key figure). Ranked by the "
                  "number of checks in violation, then by the number of violation findings; click a "
                  "header to sort. Failed submissions come last with their reason."),
        "cols": {"rank": "rank", "platform": "platform", "status": "status",
                 "checks_violation": "checks in violation", "checks_risk": "checks at risk",
                 "violation_findings": "violation findings", "orders": "orders",
                 "rejected_rows": "rejected rows", "period": "period", "report": "report",
                 "reason": "reason"},
        "statuses": {"violation": "violation", "risk": "risk", "ok": "ok",
                     "insufficient_data": "insufficient data", "not_run": "not run", "failed": "failed",
                     "audited": "audited"},
        "footer": "gigaudit {version}, rules version {rules}.",
    },
}

# Key figure of each check in the summary (SPEC §6); by id, then by article prefix.
KEY_FIGURES = {
    "art12.minimum_wage": "share_below", "art12.minimum_wage_engaged": "share_below",
    "art12.payment_timeliness": "late", "art12.deductions": "violations",
    "art13": "estimate_pct", "art14": "violations", "art19": "value", "art10": "value",
}
_SEVERITY = {"violation": 0, "risk": 1, "ok": 2, "insufficient_data": 3, "not_run": 4}
_BASE_COLUMNS = ["rank", "platform", "status", "checks_violation", "checks_risk", "violation_findings",
                 "orders", "rejected_rows", "period_start", "period_end", "report", "reason"]


# ======================================================================== manifest
@dataclass
class Submission:
    """One platform's submission, with paths resolved against the manifest's folder.

    ``error`` is set when the manifest entry itself is invalid; such a
    submission is reported as failed without being run.
    """

    index: int
    platform: str
    folder: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    region: str | None = None
    checks: list[str] | None = None
    holidays: str | None = None
    error: str | None = None


@dataclass
class Outcome:
    """What happened to one submission: ``audited``, ``reused`` or ``failed`` (with ``reason``)."""

    platform: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    out: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`.

    Attributes
    ----------
    outcomes : list of Outcome
        One per submission, in manifest order.
    table : DataFrame
        The cross-platform summary (the content of ``summary.csv``), ranked.
    out : Path
        The output folder.
    """

    outcomes: list[Outcome]
    table: pd.DataFrame
    out: Path

    @property
    def exit_code(self) -> int:
        """0 when every submission was audited (or reused), 1 when any failed."""
        return 1 if any(o.status == FAILED for o in self.outcomes) else 0

    @property
    def failed(self) -> dict[str, str]:
        """Failed submissions: platform → reason."""
        return {o.platform: o.reason for o in self.outcomes if o.status == FAILED}

    @property
    def reused(self) -> list[str]:
        """Platforms whose previous outputs were reused."""
        return [o.platform for o in self.outcomes if o.status == REUSED]

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, na_rep="")


def read_manifest(path: str | Path) -> tuple[list[Submission], str]:
    """Read a batch manifest.

    Parameters
    ----------
    path : path
        The manifest (TOML).  Relative paths inside it are relative to its folder.

    Returns
    -------
    submissions : list of Submission
        In manifest order; an invalid entry carries its reason in ``error``.
    title : str
        The manifest's ``title`` (empty when none).

    Raises
    ------
    AuditError
        The manifest is missing, is not valid TOML or has no submissions.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditError(MANIFEST_NOT_FOUND.format(path=path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuditError(MANIFEST_INVALID.format(path=path, error=_one_line(exc))) from None
    for key in data:
        if key not in TOP_KEYS:
            raise AuditError(MANIFEST_UNKNOWN_TOP.format(path=path, key=key, known=", ".join(TOP_KEYS)))
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or any(k not in DEFAULT_KEYS for k in defaults):
        raise AuditError(MANIFEST_BAD_DEFAULTS.format(path=path, known=", ".join(DEFAULT_KEYS)))
    entries = data.get("submission", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise AuditError(MANIFEST_NO_SUBMISSIONS.format(path=path))
    base = path.resolve().parent
    subs: list[Submission] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, start=1):
        sub = _submission(i, entry, defaults, base)
        if sub.error is None:
            key = sub.platform.casefold()  # case-insensitive file systems
            if key in seen:
                sub.error = SUB_DUPLICATE.format(name=sub.platform, first=seen[key])
            else:
                seen[key] = i
        subs.append(sub)
    return subs, str(data.get("title", "") or "")


def _submission(i: int, entry, defaults: dict, base: Path) -> Submission:
    if not isinstance(entry, dict):
        return Submission(i, f"#{i}", error=SUB_NOT_TABLE.format(i=i))
    name = entry.get("platform")
    if name is None or (isinstance(name, str) and not name.strip()):
        return Submission(i, f"#{i}", error=SUB_NO_PLATFORM.format(i=i))
    name = str(name).strip()
    sub = Submission(i, name)
    if not _safe_name(name):
        sub.error = SUB_BAD_PLATFORM.format(name=name)
        return sub
    unknown = [k for k in entry if k not in SUBMISSION_KEYS]
    if unknown:
        sub.error = SUB_UNKNOWN_KEY.format(key=unknown[0], known=", ".join(SUBMISSION_KEYS))
        return sub
    merged = {**defaults, **entry}
    for key in ("folder", *TABLES, "profile", "region", "holidays"):
        value = merged.get(key)
        if value is not None and not isinstance(value, str):
            sub.error = SUB_NOT_TEXT.format(key=key, value=value)
            return sub
    if merged.get("folder") is None and merged.get("orders") is None:
        sub.error = SUB_NO_INPUT
        return sub
    sub.folder = _resolve(base, merged.get("folder"))
    sub.files = {t: _resolve(base, merged[t]) for t in TABLES if merged.get(t) is not None}
    sub.holidays = _resolve(base, merged.get("holidays"))
    prof = merged.get("profile")
    if prof is not None:  # a path relative to the manifest, else a built-in name
        sub.profile = _resolve(base, prof) if (base / prof).is_file() else prof
    sub.region = merged.get("region")
    checks = merged.get("checks")
    if isinstance(checks, str):
        checks = [c.strip() for c in checks.split(",") if c.strip()]
    if checks is not None and not (isinstance(checks, list) and all(isinstance(c, str) for c in checks)):
        sub.error = SUB_BAD_CHECKS.format(value=merged.get("checks"))
        return sub
    sub.checks = checks
    return sub


def _safe_name(name: str) -> bool:
    return (len(name) <= 100 and name not in (".", "..") and not name.startswith(".")
            and not any(c in name for c in '/\\:*?"<>|') and all(c.isprintable() for c in name))


def _resolve(base: Path, value: str | None) -> str | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


# ======================================================================== worker
def fingerprint(sub: Submission, *, lang: str = "zh") -> dict:
    """What a submission's audit depends on: input and option hashes and versions.

    Files that cannot be found or read are recorded as ``None``, so a
    fingerprint never matches a successful run's and the audit reports the
    error itself.
    """
    from audit.checks import CHECKS
    from audit.logs import find_table_file
    from audit.profiles import builtin_profiles, load_profile
    from audit.rules import rules_version

    files: dict[str, str] = dict(sub.files)
    if sub.folder is not None and Path(sub.folder).is_dir():
        try:
            stems = load_profile(sub.profile).files
        except AuditError:
            stems = {}
        for t in TABLES:
            if t not in files:
                found = find_table_file(Path(sub.folder), stems.get(t, t))
                if found is not None:
                    files[t] = str(found)
    profile_path = None
    if sub.profile is not None:
        profile_path = sub.profile if Path(sub.profile).is_file() else builtin_profiles().get(sub.profile)
    return {
        "fingerprint_version": FINGERPRINT_VERSION,
        "gigaudit_version": __version__,
        "rules_version": rules_version(),
        "rule_tables_sha256": _rule_tables_digest(),
        "implemented_checks": [c.id for c in CHECKS if c.available],
        "inputs": {t: {"file": Path(p).name, "sha256": _sha256_or_none(p)} for t, p in sorted(files.items())},
        "profile": {"name": sub.profile, "sha256": _sha256_or_none(profile_path)},
        "holidays": {"name": Path(sub.holidays).name if sub.holidays else None,
                     "sha256": _sha256_or_none(sub.holidays)},
        "region": sub.region,
        "checks": sub.checks,
        "lang": lang,
    }


def _sha256_or_none(path) -> str | None:
    if path is None:
        return None
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def _rule_tables_digest() -> str:
    from importlib import resources

    h = hashlib.sha256()
    root = resources.files("audit.rules")
    for p in sorted((p for p in root.iterdir() if p.name.endswith((".csv", ".toml"))), key=lambda p: p.name):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def audit_submission(sub: Submission, out: str | Path, *, lang: str = "zh", force: bool = False) -> Outcome:
    """Audit one submission into ``out`` (or reuse its previous outputs); never raises.

    Runs in a worker process of :func:`run_batch`; usable alone too.
    """
    out = Path(out)
    t0 = time.perf_counter()
    try:
        fp = fingerprint(sub, lang=lang)
        if not force and _reusable(out, fp):
            return Outcome(sub.platform, REUSED, out=str(out))
        out.mkdir(parents=True, exist_ok=True)
        for name in (FINGERPRINT_FILE, ERROR_FILE, WARNINGS_FILE, *RUN_OUTPUTS):
            (out / name).unlink(missing_ok=True)  # never leave a stale result beside a new one
        from audit.run import run_audit

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run_audit(sub.folder, **sub.files, profile=sub.profile, region=sub.region,
                      holidays=sub.holidays, checks=sub.checks, lang=lang, out=out, progress=False)
        notes = list(dict.fromkeys(_one_line(w.message) for w in caught))
        if notes:
            (out / WARNINGS_FILE).write_text("\n".join(notes) + "\n", encoding="utf-8")
        (out / FINGERPRINT_FILE).write_text(
            json.dumps(fp, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return Outcome(sub.platform, AUDITED, seconds=time.perf_counter() - t0, out=str(out),
                       warnings=notes)
    except AuditError as exc:
        reason = _one_line(exc)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - one bad submission never stops a batch
        reason = INTERNAL.format(kind=type(exc).__name__, error=_one_line(exc))
    _record_failure(out, reason)
    return Outcome(sub.platform, FAILED, reason=reason, seconds=time.perf_counter() - t0)


def _reusable(out: Path, fp: dict) -> bool:
    try:
        old = json.loads((out / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return old == fp and all((out / f).is_file() for f in REQUIRED_OUTPUTS)


def _record_failure(out: Path, reason: str) -> None:
    try:
        if out.is_dir():
            for name in (FINGERPRINT_FILE, WARNINGS_FILE, *RUN_OUTPUTS):
                (out / name).unlink(missing_ok=True)
            (out / ERROR_FILE).write_text(reason + "\n", encoding="utf-8")
    except OSError:
        pass


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())  # newlines and runs of blanks → one space
    return text or type(exc).__name__


# ======================================================================== batch
def run_batch(manifest: str | Path, out: str | Path, *, jobs: int = 1, lang: str = "zh",
              progress: bool | None = None, force: bool = False,
              log: Callable[[str, bool], None] | None = None,
              _worker: Callable = audit_submission) -> BatchResult:
    """Audit every submission of a manifest and write the cross-platform summary.

    Parameters
    ----------
    manifest : path
        The batch manifest (TOML; see the module docstring).
    out : path
        Output folder: ``OUT/<platform>/`` per submission, ``summary.csv`` and
        ``summary.html``.
    jobs : int
        Processes run at once (default 1; 0 = one per CPU).
    lang : {"zh", "en"}
        Language of the reports and of the summary.
    progress : bool, optional
        Progress bar on stderr (default: only on a terminal).
    force : bool
        Audit again even where the inputs and options are unchanged.
    log : callable, optional
        ``log(line, is_error)`` receives one line per submission as it ends.

    Returns
    -------
    BatchResult

    Raises
    ------
    AuditError
        The manifest cannot be read (a bad submission never raises).
    """
    if lang not in _TEXT:
        from audit import _messages as msg

        raise AuditError(msg.UNKNOWN_LANG.format(lang=lang))
    if jobs is None or jobs < 0:
        raise AuditError(BAD_JOBS.format(jobs=jobs))
    jobs = jobs or os.cpu_count() or 1
    manifest = Path(manifest)
    subs, title = read_manifest(manifest)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = _TEXT[lang]
    scrub = _scrubber(manifest.resolve().parent, out.resolve())
    show = sys.stderr.isatty() if progress is None else progress
    bar = _bar(len(subs), show)
    results: dict[int, Outcome] = {}

    def done(i: int, outcome: Outcome) -> None:
        outcome.reason = scrub(outcome.reason)
        results[i] = outcome
        if log is not None:
            line = text[outcome.status].format(platform=outcome.platform, reason=outcome.reason,
                                               seconds=outcome.seconds)
            if bar is not None:
                bar.clear()
            log(line, outcome.status == FAILED)
            if bar is not None:
                bar.refresh()
        if bar is not None:
            bar.set_postfix_str(outcome.platform)
            bar.update(1)

    todo = []
    for s in subs:
        if s.error is not None:
            done(s.index, Outcome(s.platform, FAILED, reason=s.error))
        else:
            todo.append(s)
    try:
        broken = _run_pool(todo, out, lang, force, min(jobs, max(len(todo), 1)), _worker, done)
        for s in broken:  # the pool died: run each survivor alone to find the one that crashes
            again = _run_pool([s], out, lang, force, 1, _worker, done)
            if again:
                done(s.index, Outcome(s.platform, FAILED, reason=WORKER_CRASHED.format(
                    error="the process exited abnormally")))
    finally:
        if bar is not None:
            bar.close()
    outcomes = [results[s.index] for s in subs]
    table = write_summary(outcomes, out, lang=lang, title=title)
    return BatchResult(outcomes, table, out)


def _run_pool(subs: list[Submission], out: Path, lang: str, force: bool, jobs: int,
              worker: Callable, done: Callable) -> list[Submission]:
    """Run submissions in a process pool; return those lost to a dead process."""
    if not subs:
        return []
    broken: list[Submission] = []
    kwargs = {"max_workers": jobs, "mp_context": _context()}
    if sys.version_info >= (3, 11):
        kwargs["max_tasks_per_child"] = 1  # a fresh process per submission: memory goes back
    with ProcessPoolExecutor(**kwargs) as pool:
        futures = {pool.submit(worker, s, out / s.platform, lang=lang, force=force): s for s in subs}
        try:
            for fut in as_completed(futures):
                s = futures[fut]
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken.append(s)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                    outcome = Outcome(s.platform, FAILED, reason=INTERNAL.format(
                        kind=type(exc).__name__, error=_one_line(exc)))
                done(s.index, outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return sorted(broken, key=lambda s: s.index)


_CTX = None


def _context():
    global _CTX
    if _CTX is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            _CTX = multiprocessing.get_context("forkserver")
            _CTX.set_forkserver_preload(["audit._batch_preload"])
        else:  # pragma: no cover - Windows
            _CTX = multiprocessing.get_context("spawn")
    return _CTX


def _bar(total: int, show: bool):
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, unit="platform", file=sys.stderr, leave=False)


def _scrubber(*roots: Path) -> Callable[[str], str]:
    """Make reasons machine-independent: paths under the manifest or OUT folder become relative."""
    prefixes = sorted({str(r) + os.sep for r in roots}, key=len, reverse=True)

    def scrub(text: str) -> str:
        for p in prefixes:
            text = text.replace(p, "")
        return text
    return scrub


# ======================================================================== summary
def summary_table(outcomes: list[Outcome], out: str | Path) -> pd.DataFrame:
    """The cross-platform comparison, ranked, from the outputs on disk.

    One row per submission; columns :data:`_BASE_COLUMNS`, then per check
    ``<check>`` (its status) and ``<check>:<key figure>``.
    """
    from audit.checks import CHECK_IDS

    out = Path(out)
    rows, checks_seen = [], set()
    for o in outcomes:
        row = {"platform": o.platform, "status": FAILED if o.status == FAILED else AUDITED,
               "reason": o.reason}
        folder = out / o.platform
        if o.status != FAILED:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            statuses = pd.read_csv(folder / "findings.csv", usecols=["check", "status"],
                                   dtype=str, keep_default_na=False)
            viol = statuses.loc[statuses["status"] == "violation", "check"].value_counts()
            checks = summary.get("checks", {})
            row.update(
                checks_violation=sum(s.get("status") == "violation" for s in checks.values()),
                checks_risk=sum(s.get("status") == "risk" for s in checks.values()),
                violation_findings=int(viol.sum()),
                orders=summary.get("rows", {}).get("orders_read"),
                rejected_rows=summary.get("rows", {}).get("rejected"),
                period_start=summary.get("period", {}).get("start"),
                period_end=summary.get("period", {}).get("end"),
                report=next((f"{o.platform}/{f}" for f in ("report.html", "report.md")
                             if (folder / f).is_file()), ""))
            for cid, s in checks.items():
                checks_seen.add(cid)
                key = _key_figure(cid, s)
                row[cid] = s.get("status")
                row[f"{cid}:{key}" if key else f"{cid}:figure"] = s.get(key) if key else None
        rows.append(row)
    order = {c: i for i, c in enumerate(CHECK_IDS)}
    check_cols = []
    for cid in sorted(checks_seen, key=lambda c: (order.get(c, len(order)), c)):
        check_cols.append(cid)
        check_cols.extend(sorted({k for r in rows for k in r if k.startswith(cid + ":")}))
    table = pd.DataFrame(rows, columns=[c for c in _BASE_COLUMNS if c != "rank"] + check_cols)
    for c in ("checks_violation", "checks_risk", "violation_findings", "orders", "rejected_rows"):
        table[c] = table[c].astype("Int64")
    failed = table["status"] == FAILED
    table = (table.assign(_f=failed, _v=-table["checks_violation"].fillna(0),
                          _n=-table["violation_findings"].fillna(0))
             .sort_values(["_f", "_v", "_n", "platform"], kind="stable")
             .drop(columns=["_f", "_v", "_n"]).reset_index(drop=True))
    ranked = table["status"] != FAILED
    table.insert(0, "rank", pd.array([i + 1 if r else None for i, r in enumerate(ranked)], dtype="Int64"))
    return table


def _key_figure(cid: str, s: dict) -> str | None:
    key = KEY_FIGURES.get(cid) or KEY_FIGURES.get(cid.split(".")[0])
    if key and key in s:
        return key
    for k, v in s.items():  # a check without a declared key figure: its first number
        if k not in ("status", "n") and isinstance(v, (int, float)) and not isinstance(v, bool):
            return k
    return None


def write_summary(outcomes: list[Outcome], out: str | Path, *, lang: str = "zh", title: str = "") -> pd.DataFrame:
    """Write ``summary.csv`` and ``summary.html`` into ``out``; return the table."""
    out = Path(out)
    table = summary_table(outcomes, out)
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g", quoting=csv.QUOTE_MINIMAL)
    (out / SUMMARY_CSV).write_text(buf.getvalue(), encoding="utf-8")
    (out / SUMMARY_HTML).write_text(summary_html(table, lang=lang, title=title), encoding="utf-8")
    return table


_CSS = """body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;position:sticky;top:0}th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.num{text-align:right}.violation{background:#f8d0d0}.risk{background:#fde8c4}.ok{background:#d8f0d8}
.insufficient_data{background:#eee;color:#666}.not_run{color:#999}.failed{background:#e8b0b0;font-weight:bold}
small{color:#555}"""
_JS = """document.querySelectorAll("th").forEach(function(th,i){th.addEventListener("click",function(){
var tb=th.closest("table").tBodies[0],rows=Array.from(tb.rows),asc=!th.classList.contains("asc");
th.parentNode.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc")});
th.classList.add(asc?"asc":"desc");function key(r){var c=r.cells[i],v=c.getAttribute("data-v");
if(v===null)v=c.textContent;var x=parseFloat(v);return v!==""&&isFinite(v)?x:v}
rows.sort(function(a,b){var x=key(a),y=key(b),e=(x==="")-(y==="");if(e)return e;
var d=(typeof x==="number"&&typeof y==="number")?x-y:String(x).localeCompare(String(y));return asc?d:-d});
rows.forEach(function(r){tb.appendChild(r)})})});"""


def summary_html(table: pd.DataFrame, *, lang: str = "zh", title: str = "") -> str:
    """A self-contained, click-to-sort HTML page of the summary table (no network)."""
    from audit.rules import rules_version

    text = _TEXT[lang]
    cols, stat = text["cols"], text["statuses"]
    checks = [c for c in table.columns if c not in _BASE_COLUMNS and ":" not in c]
    head = ["rank", "platform", "status", "checks_violation", "checks_risk", "violation_findings"]
    tail = ["orders", "rejected_rows", "period", "report", "reason"]
    th = [f"<th>{html.escape(cols[c])}</th>" for c in head]
    th += [f"<th>{html.escape(c)}</th>" for c in checks]
    th += [f"<th>{html.escape(cols[c])}</th>" for c in tail]
    body = []
    for _, r in table.iterrows():
        tds = []
        for c in head:
            v = r[c]
            if c == "status":
                tds.append(f'<td class="{v}" data-v="{v}">{html.escape(stat.get(v, v))}</td>')
            elif c == "platform":
                tds.append(f"<td>{html.escape(str(v))}</td>")
            else:
                tds.append(_num_td(v))
        for c in checks:
            v = r[c]
            if _missing(v):
                tds.append('<td data-v=""></td>')
                continue
            fig_col = next((k for k in table.columns if k.startswith(c + ":")), None)
            fig = r[fig_col] if fig_col is not None else None
            label = html.escape(stat.get(v, str(v)))
            small = "" if _missing(fig) else f"<br><small>{html.escape(fig_col.split(':', 1)[1])} = {_fmt(fig)}</small>"
            tds.append(f'<td class="{html.escape(str(v))}" data-v="{_SEVERITY.get(v, 9)}">{label}{small}</td>')
        period = "" if _missing(r["period_start"]) else f"{r['period_start']} – {r['period_end']}"
        tds += [_num_td(r["orders"]), _num_td(r["rejected_rows"]), f"<td>{period}</td>"]
        link = r["report"]
        if _missing(link) or not link:
            tds.append('<td data-v=""></td>')
        else:
            plat, _, fname = str(link).rpartition("/")
            tds.append(f'<td><a href="{quote(plat)}/{quote(fname)}">{html.escape(fname)}</a></td>')
        tds.append(f"<td>{html.escape('' if _missing(r['reason']) else str(r['reason']))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    heading = html.escape(title or text["title"])
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{heading}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n<h1>{heading}</h1>\n"
            f"<p>{html.escape(text['intro'])}</p>\n<table>\n<thead><tr>{''.join(th)}</tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody>\n</table>\n"
            f"<p><small>{html.escape(text['footer'].format(version=__version__, rules=rules_version()))}"
            f"</small></p>\n<script>\n{_JS}\n</script>\n</body>\n</html>\n")


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _num_td(v) -> str:
    if _missing(v):
        return '<td class="num" data-v=""></td>'
    return f'<td class="num" data-v="{v}">{_fmt(v) if not isinstance(v, (int,)) else f"{v:,}"}</td>'


# ======================================================================== command line
def batch_main(manifest: str | Path, out: str | Path, *, jobs: int = 1, lang: str = "zh",
               progress: bool | None = None, force: bool = False) -> int:
    """``gigaudit batch``: run the batch, one line per submission, and return the exit code.

    Failed submissions are written to stderr (one line each), the rest to
    stdout.  Returns 0 when every submission was audited, 1 when any failed.
    A manifest that cannot be read raises :class:`AuditError` (the CLI
    prints it as one line and exits 1).
    """
    def log(line: str, is_error: bool) -> None:
        print(line, file=sys.stderr if is_error else sys.stdout, flush=True)

    result = run_batch(manifest, out, jobs=jobs, lang=lang, progress=progress, force=force, log=log)
    n_failed = sum(o.status == FAILED for o in result.outcomes)
    print(_TEXT[lang]["done"].format(ok=len(result.outcomes) - n_failed, reused=len(result.reused),
                                     failed=n_failed, html=Path(out) / SUMMARY_HTML))
    return result.exit_code


__all__ = ["run_batch", "batch_main", "read_manifest", "audit_submission", "fingerprint",
           "summary_table", "write_summary", "summary_html", "BatchResult", "Outcome", "Submission"]
