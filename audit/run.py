"""Run the checks on a platform's logs and write the outputs (SPEC §6)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from audit import __version__
from audit.checks import CheckSpec, select_checks
from audit.findings import (FINDINGS_COLUMNS, INSUFFICIENT, NOT_RUN, empty_findings, sorted_order,
                            insufficient_finding)
from audit.ingest import REJECTED_COLUMNS
from audit.logs import AuditLogs, load_logs
from audit.rules import rule_tables, rules_version, thresholds as rule_thresholds

NOT_IMPLEMENTED = "not implemented in gigaudit {version}"


class AuditResult:
    """What an audit produced: findings, summary and the logs it read.

    Attributes
    ----------
    findings : DataFrame
        Every check's findings with the SPEC §6 columns first, then each
        check's evidence columns (NaN where a check has none).  Built from
        ``by_check`` on first access (pass ``findings=None``): the wide frame
        costs about 1 kB a row, so a large audit that only writes its
        outputs never builds it.
    summary : dict
        The content of ``summary.json``.
    logs : AuditLogs
        The validated inputs (``logs.rejected`` are the rejected rows).
    by_check : dict of DataFrame
        Each check's own findings frame, with its evidence columns.
    lang : str
    order : list of str
        Check ids in output order (default: the order of ``by_check``).
    """

    def __init__(self, findings: pd.DataFrame | None, summary: dict, logs: AuditLogs,
                 by_check: dict[str, pd.DataFrame] | None = None, lang: str = "zh", *,
                 order: list[str] | None = None):
        self._findings = findings
        self.summary = summary
        self.logs = logs
        self.by_check = {} if by_check is None else by_check
        self.lang = lang
        self.order = list(self.by_check) if order is None else list(order)

    @property
    def findings(self) -> pd.DataFrame:
        if self._findings is None:
            self._findings = _combine(self.by_check, self.order)
        return self._findings

    @findings.setter
    def findings(self, value: pd.DataFrame) -> None:
        self._findings = value

    def replace(self, **changes) -> "AuditResult":
        """A copy with some attributes replaced (``findings=None``: rebuilt from ``by_check``)."""
        kw = {"findings": self._findings, "summary": self.summary, "logs": self.logs,
              "by_check": self.by_check, "lang": self.lang, "order": self.order, **changes}
        findings = kw.pop("findings")
        return AuditResult(findings, kw.pop("summary"), kw.pop("logs"), **kw)

    @property
    def time_base(self) -> pd.DataFrame:
        """Per worker-week online and engaged hours and earnings on each base."""
        if "time_base" not in self.logs.cache:
            from audit.time_base import time_base_table

            self.logs.cache["time_base"] = time_base_table(self.logs)
        return self.logs.cache["time_base"]

    def chart(self, name: str, ax=None, *, lang: str | None = None):
        """Draw one chart (see :data:`charts`) and return its Axes."""
        from audit.plotting import CHARTS

        return CHARTS[name](self, ax, lang=lang or self.lang)

    @property
    def charts(self) -> tuple[str, ...]:
        """Names of the charts :meth:`chart` draws."""
        from audit.plotting import CHARTS

        return tuple(CHARTS)

    def check(self, check_id: str) -> pd.DataFrame:
        """One check's findings with its evidence columns."""
        return self.by_check[check_id]

    def summary_table(self) -> pd.DataFrame:
        """One row per check: status, n and its key figures."""
        rows = []
        for cid, s in self.summary["checks"].items():
            figures = {k: v for k, v in s.items() if k not in ("status", "n")}
            rows.append({"check": cid, "status": s["status"], "n": s.get("n"),
                         "figures": "; ".join(f"{k}={v}" for k, v in figures.items())})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        head = (f"<p><b>gigaudit {self.summary['gigaudit_version']}</b> — "
                f"{self.summary['rows']['orders_read']:,} orders read, "
                f"{self.summary['rows']['rejected']:,} rows rejected</p>")
        return head + self.summary_table().to_html(index=False)

    def write(self, out: str | Path, *, charts: bool = True) -> Path:
        """Write findings.csv, summary.json, time_base.csv, rejected_rows.csv and the report."""
        from audit.privacy import safe_csv
        from audit.report import write_report

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if self._findings is not None:
            write_findings_csv(safe_csv(self._findings[FINDINGS_COLUMNS]), out / "findings.csv")
        else:  # check by check, never building the wide frame
            write_findings_stream(self.by_check, self.order, out / "findings.csv")
        (out / "summary.json").write_text(dumps_summary(self.summary), encoding="utf-8")
        rej = self.logs.rejected if len(self.logs.rejected) else pd.DataFrame(columns=REJECTED_COLUMNS)
        safe_csv(rej).to_csv(out / "rejected_rows.csv", index=False, lineterminator="\n")
        safe_csv(self.time_base).to_csv(out / "time_base.csv", index=False, float_format="%.10g",
                              lineterminator="\n", date_format="%Y-%m-%d")
        write_report(self, out, lang=self.lang, charts=charts)
        return out


def run_audit(source: str | Path | AuditLogs | None = None, *, orders=None, sessions=None,
              workers=None, payouts=None, weather=None, profile=None, region: str | None = None,
              holidays=None, checks: str | list[str] | None = None, thresholds: dict | None = None,
              lang: str = "zh", out: str | Path | None = None, progress: bool | None = None,
              pseudonymize: str | None = None, charts: bool = True, engine: str = "memory",
              n_parts: int | None = None, workdir=None, scheduler: str | None = None) -> AuditResult:
    """Audit one platform's logs.

    Parameters
    ----------
    source : folder, AuditLogs, optional
        A folder of canonical files (SPEC §7) or logs already loaded.
    orders, sessions, workers, payouts, weather : path or DataFrame, optional
        Tables given one by one (see :func:`audit.load_logs`).
    profile : path or name, optional
        Mapping profile of the export.
    region : str, optional
        Default region for orders without one.
    holidays : path or DataFrame, optional
        Holiday override file (see :func:`audit.calendar.holiday_days`).
    checks : str or list of str, optional
        Check ids or article prefixes (``"art12,art14.daily_hours"``); all by default.
    thresholds : dict, optional
        Overrides of the rules table's default thresholds (recorded in the summary).
    lang : {"zh", "en"}
        Language of the report.
    out : path, optional
        Write the outputs there.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).
    pseudonymize : str, optional
        A key: every worker id in every output becomes ``w_`` + 16 hex digits
        of HMAC-SHA256(key, id), the same for the same key.
    charts : bool
        Draw the charts into ``out/charts`` and the report (about 2 s a chart).
    engine : {"memory", "chunked", "dask", "auto"}
        ``chunked`` converts the inputs once to Parquet partitioned by a hash
        of worker_id and runs every check partition by partition (platform
        checks as exact partial aggregates merged at the end);
        ``dask`` runs the same kernels on a Dask cluster; ``auto`` picks
        chunked above 1 GiB of orders.  All give the same bytes
        (:mod:`audit.engine`).
    n_parts, workdir, scheduler
        Partitions, the folder kept for the partitioned Parquet, and a Dask
        scheduler address (default: a local cluster).

    Returns
    -------
    AuditResult
    """
    if engine != "memory" and not isinstance(source, AuditLogs):
        from audit.engine import choose_engine, run_partitioned

        engine = choose_engine(engine, orders, source)
        if engine != "memory":
            return run_partitioned(source, engine=engine, orders=orders, sessions=sessions,
                                   workers=workers, payouts=payouts, weather=weather, profile=profile,
                                   region=region, holidays=holidays, checks=checks,
                                   thresholds=thresholds, lang=lang, out=out, progress=progress,
                                   pseudonymize=pseudonymize, charts=charts, n_parts=n_parts,
                                   workdir=workdir, scheduler=scheduler)
    logs = source if isinstance(source, AuditLogs) else load_logs(
        source, orders=orders, sessions=sessions, workers=workers, payouts=payouts,
        weather=weather, profile=profile, region=region, holidays=holidays)
    specs = select_checks(checks)
    limits = {**rule_thresholds(), **(thresholds or {})}
    by_check: dict[str, pd.DataFrame] = {}
    summaries: dict[str, dict] = {}
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress(specs, show)
    for spec in bar:
        if hasattr(bar, "set_description"):
            bar.set_description(spec.id)
        if record_skip(spec, logs, by_check, summaries):
            continue
        found = _run_one(spec, logs, limits)
        by_check[spec.id] = found
        summaries[spec.id] = spec.summarize(found)
    summary = build_summary(logs, summaries, limits)
    result = AuditResult(None, summary, logs, by_check, lang, order=[s.id for s in specs])
    if pseudonymize:
        from audit.privacy import pseudonymize_result

        result = pseudonymize_result(result, pseudonymize)
    if out is not None:
        result.write(out, charts=charts)
    return result


def skip_outcome(spec: CheckSpec, logs: AuditLogs) -> tuple[pd.DataFrame | None, dict] | None:
    """Findings and summary of a check that does not run, or None when it runs.

    A check not implemented in this version is ``not_run`` (no findings); a
    check whose needs are unmet is one insufficient_data row naming them.
    """
    if not spec.available:
        return None, {"status": NOT_RUN, "n": 0, "reason": NOT_IMPLEMENTED.format(version=__version__)}
    unmet = [why for need in spec.needs if (why := logs.lacks(need))]
    if not unmet:
        return None
    reason = "cannot run: " + "; ".join(unmet)
    return (insufficient_finding(check=spec.id, article=spec.article, level=spec.level, reason=reason),
            {"status": INSUFFICIENT, "n": 0, "reason": reason})


def record_skip(spec: CheckSpec, logs: AuditLogs, by_check: dict, summaries: dict) -> bool:
    """Record the outcome of a check that does not run (see :func:`skip_outcome`);
    False when it runs."""
    skipped = skip_outcome(spec, logs)
    if skipped is None:
        return False
    found, summaries[spec.id] = skipped
    if found is not None:
        by_check[spec.id] = found
    return True


def _run_one(spec: CheckSpec, logs: AuditLogs, limits: dict) -> pd.DataFrame:
    return checked_findings(spec, spec.func(logs, thresholds=limits, **spec.options))


def checked_findings(spec: CheckSpec, found: pd.DataFrame) -> pd.DataFrame:
    """The findings of a check, after making sure they hold every findings column."""
    missing = [c for c in FINDINGS_COLUMNS if c not in found.columns]
    if missing:  # a programming error in a check, not a user error
        raise RuntimeError(f"{spec.id} returned findings without {missing}")
    return found


def _progress(items, show: bool):
    if not show:
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return items
    return tqdm(items, unit="check", leave=False)


def _check_frames(by_check: dict[str, pd.DataFrame], order) -> list[pd.DataFrame]:
    """Each check's non-empty findings in output order: checks in ``order``, then
    subject, period and metric (a stable sort, check by check; most frames are
    already in order and are not copied)."""
    frames = [by_check[c] for c in order if c in by_check and len(by_check[c])]
    keys = ["subject", "period_start", "metric"]
    for i, f in enumerate(frames):
        rank = sorted_order(f, keys)
        if not (rank == np.arange(len(f))).all():
            frames[i] = f.take(rank)
    return frames


def _combine(by_check: dict[str, pd.DataFrame], order) -> pd.DataFrame:
    frames = _check_frames(by_check, order)
    if not frames:
        return empty_findings()
    allf = pd.concat(frames, ignore_index=True, sort=False)
    rest = [c for c in allf.columns if c not in FINDINGS_COLUMNS]
    return allf[FINDINGS_COLUMNS + rest]


def build_summary(logs: AuditLogs, checks: dict[str, dict], limits: dict) -> dict:
    """The content of summary.json: run metadata and one object per check."""
    start, end = logs.period
    rows_read = {s.table: 0 for s in logs.sources}
    for s in logs.sources:
        rows_read[s.table] += s.rows_read
    return {
        "gigaudit_version": __version__,
        "rules_version": rules_version(),
        "rule_tables": rule_tables(),
        "thresholds": {k: _plain(v) for k, v in sorted(limits.items())},
        "profile": logs.profile.name,
        "inputs": [s.as_dict() for s in logs.sources],
        "rows": {"orders_read": int(rows_read.get("orders", 0)),
                 "read": int(sum(rows_read.values())),
                 "rejected": int(len(logs.rejected))},
        "period": {"start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d")},
        "time_base": "online" if logs.sessions is not None else "engaged (no sessions table)",
        "checks": {k: {kk: _plain(vv) for kk, vv in v.items()} for k, v in checks.items()},
    }


def _plain(v):
    """JSON-safe scalars: numpy → Python, NaN → None."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) else v
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def dumps_summary(summary: dict) -> str:
    return json.dumps(_plain(summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_findings_csv(findings: pd.DataFrame, path: Path) -> None:
    """findings.csv: the SPEC §6 columns only, floats to 10 significant digits."""
    from audit.csvout import write_csv

    write_csv(findings[FINDINGS_COLUMNS], path)


def write_findings_stream(by_check: dict[str, pd.DataFrame], order, path: Path) -> None:
    """findings.csv written check by check: the bytes of
    ``write_findings_csv(safe_csv(_combine(by_check, order)))`` without the
    combined frame (tested).  Each piece takes the dtypes the concatenation
    would give its columns (an int ``value`` of one check is a float there)."""
    from audit.csvout import write_csv
    from audit.privacy import safe_csv

    frames = [f[FINDINGS_COLUMNS] for f in _check_frames(by_check, order)]
    if not frames:
        write_findings_csv(empty_findings(), path)
        return
    dtypes = pd.concat([f.head(1) for f in frames], ignore_index=True).dtypes
    for i, f in enumerate(frames):
        differ = {c: dtypes[c] for c in FINDINGS_COLUMNS if f[c].dtype != dtypes[c]}
        write_csv(safe_csv(f.astype(differ) if differ else f), path, append=i > 0)
