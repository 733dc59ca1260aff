"""A negotiation brief from a finished run folder: six charts and a one-page summary.

``gigaudit brief OUT --lang zh`` reads a run folder (``summary.json``,
``findings.csv``, ``charts/`` and, when there, ``report_figures.json``) and
writes a folder a union can attach as it is:

* ``brief.md`` and ``brief.html`` (one page; the HTML embeds its charts and
  opens offline): the violations with their counts and n, and the money
  owed (minimum-wage shortfall, late pay, excess deductions, loss from a
  pay-rule change);
* ``charts/``: the six most telling charts (PNG and SVG), numbered.

Which charts: those whose check found a violation first, then risks, then
the rest, each group in :data:`PRIORITY` order; charts not drawn in the run
are skipped.  The brief shows no worker id.  The charts keep the language
of the run that drew them (``report_figures.json`` says which); the text
follows ``lang``.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
import shutil
from pathlib import Path

from audit.exceptions import AuditError
from audit.findings import INSUFFICIENT, NOT_RUN, OK, RISK, VIOLATION

PRIORITY = ("hourly_earnings", "weeks_below_minimum", "daily_hours", "work_blocks", "premiums",
            "required_speed", "deadline_allowance", "group_gaps", "payment_delays")
MAX_CHARTS = 6
NOT_A_RUN = "{path} is not a finished run folder: {file} is missing (run `gigaudit run … --out {path}` first)"
COUNT_KEYS = ("below_minimum", "late", "violations", "exceeding_orders", "risks", "workers_at_risk")

TEXT = {
    "zh": {"title": "平台劳动者权益审计：要点", "period": "数据期间", "what": "发现的问题",
           "check": "检查项", "status": "结论", "finding": "发现", "money": "涉及金额",
           "charts": "图表", "source": "数据与方法", "full": "完整报告（含每项的阈值、置信区间和未计入数据）见 report.html；逐条结果见 findings.csv。",
           "clean": "未发现违规或风险的检查项", "none": "无",
           "source_line": "gigaudit {v}，规则表 {r}；输入文件 {files}；读取 {read:,} 行，拒收 {rej:,} 行。",
           "generated": "生成时间"},
    "en": {"title": "Platform workers' rights audit: key points", "period": "Data period",
           "what": "What the audit found", "check": "Check", "status": "Status", "finding": "Finding",
           "money": "Money involved", "charts": "Charts", "source": "Data and method",
           "full": "The full report (thresholds, CIs and the data left out, for every check) is report.html; "
                   "row-level results are in findings.csv.",
           "clean": "Checks with no violation or risk", "none": "none",
           "source_line": "gigaudit {v}, rules {r}; input files {files}; {read:,} rows read, {rej:,} rejected.",
           "generated": "Generated"},
}


def _read_run(run_dir: Path) -> tuple[dict, dict]:
    for name in ("summary.json", "findings.csv"):
        if not (run_dir / name).is_file():
            raise AuditError(NOT_A_RUN.format(path=run_dir, file=name))
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    fig_path = run_dir / "report_figures.json"
    figures = json.loads(fig_path.read_text(encoding="utf-8")) if fig_path.is_file() else {}
    return summary, figures


def choose_charts(summary: dict, available: list[str], *, limit: int = MAX_CHARTS) -> list[str]:
    """The most telling charts: violations first, then risks, then the rest (PRIORITY order)."""
    from audit.plotting import CHART_CHECKS

    rank = {VIOLATION: 0, RISK: 1, OK: 2, INSUFFICIENT: 3, NOT_RUN: 4}

    def key(name: str):
        cid = CHART_CHECKS.get(name, ("",))[0]
        status = summary.get("checks", {}).get(cid, {}).get("status", NOT_RUN)
        pos = PRIORITY.index(name) if name in PRIORITY else len(PRIORITY)
        return rank.get(status, 5), pos

    return sorted((n for n in available if n in CHART_CHECKS), key=key)[:limit]


def write_brief(run_dir: str | Path, out: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``brief.md``, ``brief.html`` and ``charts/`` (six charts) into ``out``.

    Parameters
    ----------
    run_dir : path
        A finished run folder (``gigaudit run … --out run_dir``).
    out : path
        The brief folder (created).
    lang : {"zh", "en"}

    Returns
    -------
    dict
        ``{"md", "html", "charts"}`` paths.

    Raises
    ------
    AuditError
        When ``run_dir`` lacks summary.json or findings.csv.
    """
    from audit.report import _text as _report_text, check_name, embed_font, money_lines, sentence, status_word

    _report_text(lang)
    t = TEXT[lang]
    run_dir, out = Path(run_dir), Path(out)
    summary, figures = _read_run(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "charts").mkdir(exist_ok=True)
    available = sorted(p.stem for p in (run_dir / "charts").glob("*.png")) if (run_dir / "charts").is_dir() else []
    chosen = choose_charts(summary, available)
    copied = []
    for i, name in enumerate(chosen, start=1):
        for ext in ("png", "svg"):
            src = run_dir / "charts" / f"{name}.{ext}"
            if src.is_file():
                shutil.copyfile(src, out / "charts" / f"{i:02d}_{name}.{ext}")
        copied.append((name, out / "charts" / f"{i:02d}_{name}.png"))

    checks = summary.get("checks", {})
    bad = [(cid, s) for cid, s in checks.items() if s.get("status") in (VIOLATION, RISK)]
    bad.sort(key=lambda x: (x[1]["status"] != VIOLATION,))
    clean = [cid for cid, s in checks.items() if s.get("status") == OK]
    money = money_lines(figures.get("money") or _money_from_summary(summary), lang)
    files = ", ".join(dict.fromkeys(i["file"] for i in summary.get("inputs", [])))
    source = t["source_line"].format(v=summary["gigaudit_version"], r=summary["rules_version"], files=files,
                                     read=summary["rows"]["read"], rej=summary["rows"]["rejected"])
    now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    period = f"{summary['period']['start']} – {summary['period']['end']}"
    titles = {c["name"]: c.get("title", c["name"]) for c in figures.get("charts", [])}

    md = [f"# {t['title']}", "", f"{t['period']}: {period}", "", f"## {t['what']}", "",
          f"| {t['check']} | {t['status']} | {t['finding']} |", "|---|---|---|"]
    md += [f"| {check_name(cid, lang)} | {status_word(s['status'], lang)} | "
           f"{sentence(cid, s, lang).replace('|', '/')} |" for cid, s in bad]
    if money:
        md += ["", f"## {t['money']}", ""] + [f"- **{a}**: {b} ({c})" for a, b, c in money]
    md += ["", f"{t['clean']}: " + (", ".join(check_name(c, lang) for c in clean) or t["none"])]
    md += ["", f"## {t['charts']}", ""]
    md += [f"![{titles.get(n, n)}](charts/{p.name})" for n, p in copied]
    md += ["", f"## {t['source']}", "", source, "", t["full"], "", f"{t['generated']}: {now}"]
    (out / "brief.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    e = _html.escape
    h = [f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
         f"<title>{e(t['title'])}</title><style>{_CSS}</style></head><body>",
         f"<h1>{e(t['title'])}</h1><p>{e(t['period'])}: {e(period)}</p>",
         f"<h2>{e(t['what'])}</h2><table><tr><th>{e(t['check'])}</th><th>{e(t['status'])}</th>"
         f"<th>{e(t['finding'])}</th></tr>"]
    h += [f'<tr><td>{e(check_name(cid, lang))}</td><td><span class="badge {e(s["status"])}">'
          f"{e(status_word(s['status'], lang))}</span></td><td>{e(sentence(cid, s, lang))}</td></tr>"
          for cid, s in bad]
    h.append("</table>")
    if money:
        h.append(f'<h2>{e(t["money"])}</h2><table class="money">')
        h += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in money]
        h.append("</table>")
    h.append(f"<p class=\"note\">{e(t['clean'])}: "
             f"{e(', '.join(check_name(c, lang) for c in clean) or t['none'])}</p>")
    h.append(f"<h2>{e(t['charts'])}</h2><div class=\"grid\">")
    for n, p in copied:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        h.append(f'<img alt="{e(titles.get(n, n))}" src="data:image/png;base64,{data}">')
    h.append(f"</div><h2>{e(t['source'])}</h2><p class=\"note\">{e(source)}<br>{e(t['full'])}<br>"
             f"{e(t['generated'])}: {e(now)}</p></body></html>")
    (out / "brief.html").write_text(embed_font("\n".join(h) + "\n"), encoding="utf-8")
    return {"md": out / "brief.md", "html": out / "brief.html", "charts": out / "charts"}


def _money_from_summary(summary: dict) -> dict:
    """Money figures when the run folder has no report_figures.json (summary only)."""
    s = summary.get("checks", {}).get("art12.minimum_wage", {})
    out: dict = {}
    if s.get("shortfall_cny") is not None:
        out["minimum_wage_shortfall"] = {"cny": s["shortfall_cny"], "worker_weeks": s.get("below_minimum", 0)}
    p = summary.get("checks", {}).get("art19.pay_rule_change", {})
    if p.get("loss_cny") is not None:
        out["pay_rule_loss"] = {"cny": p["loss_cny"], "workers": p.get("workers_losing", 0),
                                "since": p.get("break_date")}
    return out


_CSS = """
body{font-family:"gigaudit CJK","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;max-width:1100px;
margin:1.5em auto;padding:0 1em;color:#222;line-height:1.5}h1{font-size:1.5em}h2{font-size:1.15em;
border-bottom:2px solid #0072B2;padding-bottom:.15em}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #DDD;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#F2F2F2}
.badge{display:inline-block;padding:.05em .5em;border-radius:.7em;color:#fff;font-size:.85em;white-space:nowrap}
.violation{background:#D55E00}.risk{background:#B07800}.money td:nth-child(2){text-align:right;font-weight:600;
white-space:nowrap}.grid{display:grid;grid-template-columns:1fr 1fr;gap:.6em}.grid img{width:100%;
border:1px solid #EEE}.note{color:#555;font-size:.88em}
@media print{.grid{grid-template-columns:1fr 1fr}body{margin:0}}
"""

__all__ = ["write_brief", "choose_charts", "PRIORITY", "NOT_A_RUN"]
