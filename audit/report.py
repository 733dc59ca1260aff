"""A plain Markdown report of a run, in Chinese or English.

Text only: numbers come from the summary and findings, every figure with its
n.  Charts and the HTML report build on this (see the reports issue).
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from audit import _messages as msg
from audit.exceptions import AuditError

ARTICLES = {
    10: ("第十条", "Article 10", "招聘、用工不得歧视", "no discrimination in hiring and dispatch"),
    12: ("第十二条", "Article 12",
         "对按照签订的书面协议提供正常劳动的劳动者支付报酬不得低于当地最低工资标准。企业应当按时足额支付劳动报酬，不得违法克扣或者无故拖欠。",
         "pay for normal work under a written agreement may not fall below the local minimum wage; "
         "pay on time and in full, without unlawful deductions or arrears"),
    13: ("第十三条", "Article 13",
         "在法定节假日或高温低温等极端恶劣天气下工作的，企业应当支付高于正常工作时间标准的劳动报酬或给予劳动者额外补偿。",
         "work on public holidays or in extreme heat, cold or other severe weather is paid above "
         "normal-time pay or compensated extra"),
    14: ("第十四条", "Article 14",
         "合理管控劳动者工作时长，明确工作时限和休息时间。",
         "keep working time within reasonable limits, with set working and rest times"),
    19: ("第十九条", "Article 19",
         "不得将最严算法作为考核标准。通过“算法取中”等方式……合理确定考核和奖惩要素。",
         "the strictest algorithm may not be the yardstick; set assessment factors 'from the middle'"),
}

TEXT = {
    "zh": {
        "title": "gigaudit 审计报告", "period": "数据期间", "inputs": "输入文件",
        "rows": "读取 {read} 行，拒收 {rejected} 行（见 rejected_rows.csv）",
        "status": "结论", "n": "样本量 n", "figures": "关键数字", "generated": "生成时间",
        "version": "版本", "rules": "规则表版本", "no_sessions": "无在线会话表：在线时间未知，按接单时间（engaged time）计算。",
        "statuses": {"violation": "违规", "risk": "风险", "ok": "合规", "insufficient_data": "数据不足",
                     "not_run": "未运行"},
    },
    "en": {
        "title": "gigaudit audit report", "period": "Data period", "inputs": "Input files",
        "rows": "{read} rows read, {rejected} rejected (see rejected_rows.csv)",
        "status": "Status", "n": "n", "figures": "Key figures", "generated": "Generated",
        "version": "Version", "rules": "Rules tables version",
        "no_sessions": "No sessions table: online time is unknown; engaged time is used.",
        "statuses": {"violation": "violation", "risk": "risk", "ok": "ok",
                     "insufficient_data": "insufficient data", "not_run": "not run"},
    },
}


def _text(lang: str) -> dict:
    if lang not in TEXT:
        raise AuditError(msg.UNKNOWN_LANG.format(lang=lang))
    return TEXT[lang]


def render_markdown(result, *, lang: str = "zh") -> str:
    """The report as Markdown text (the run time appears here only)."""
    t = _text(lang)
    s = result.summary
    lines = [f"# {t['title']}", ""]
    lines.append(f"- {t['period']}: {s['period']['start']} – {s['period']['end']}")
    lines.append(f"- {t['rows'].format(read=s['rows']['read'], rejected=s['rows']['rejected'])}")
    lines.append(f"- {t['version']}: gigaudit {s['gigaudit_version']}; {t['rules']}: {s['rules_version']}")
    lines.append(f"- {t['generated']}: {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    if result.logs.sessions is None:
        lines.append(f"- {t['no_sessions']}")
    lines += ["", f"## {t['inputs']}", "", "| table | file | SHA-256 | rows | rejected |", "|---|---|---|---|---|"]
    for i in s["inputs"]:
        lines.append(f"| {i['table']} | {i['file']} | `{i['sha256'][:16]}…` | {i['rows_read']} | "
                     f"{i['rows_rejected']} |")
    by_article: dict[int, list[tuple[str, dict]]] = {}
    for cid, c in s["checks"].items():
        art = int(cid.split(".")[0].removeprefix("art"))
        by_article.setdefault(art, []).append((cid, c))
    for art in sorted(by_article):
        zh, en, zh_text, en_text = ARTICLES.get(art, (f"第{art}条", f"Article {art}", "", ""))
        head, words = (zh, zh_text) if lang == "zh" else (en, en_text)
        lines += ["", f"## {head}", "", f"> {words}", ""]
        lines += [f"| check | {t['status']} | {t['n']} | {t['figures']} |", "|---|---|---|---|"]
        for cid, c in by_article[art]:
            figs = "; ".join(f"{k}={v}" for k, v in c.items() if k not in ("status", "n"))
            lines.append(f"| {cid} | {t['statuses'].get(c['status'], c['status'])} | {c.get('n', '')} | {figs} |")
    return "\n".join(lines) + "\n"


def write_report_md(result, path: Path, *, lang: str = "zh") -> None:
    Path(path).write_text(render_markdown(result, lang=lang), encoding="utf-8")
