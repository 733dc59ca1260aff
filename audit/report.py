"""The audit report (Markdown and one self-contained HTML file), in Chinese or English.

One section per article of 冀人社规〔2021〕5号 (10, 12, 13, 14, 19): the
article's words (Chinese, with an English rendering), then per check a plain
sentence, its chart, the threshold, n, the 95 % CI, the data period and
what was left out.  Numbers come only from ``result.summary`` and the
findings; every figure carries its n.  The report shows no worker id: it
aggregates (worker-level rows stay in ``findings.csv``).

Decisions:

* The run time appears in the report only (``generated``), never in
  findings.csv or summary.json.
* The HTML embeds charts as base64 PNG and has no external CSS, JS or fonts;
  it opens offline.  The Markdown links ``charts/<name>.png``.
* ``report_figures.json`` (written beside the report) holds the money
  figures (minimum-wage shortfall, late pay, excess deductions, loss from a
  pay-rule change) and the chart list, so :mod:`audit.brief` can work from a
  finished run folder without the logs.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from audit import _messages as msg
from audit.exceptions import AuditError
from audit.findings import INSUFFICIENT, NOT_RUN, OK, RISK, VIOLATION

LANGS = ("zh", "en")
FIGURES_FILE = "report_figures.json"

# The articles' words, from 冀人社规〔2021〕5号 (reference/measures-hebei-2021-shijiazhuang-2022.txt).
ARTICLES = {
    10: ("第十条", "Article 10",
         "平台企业在拟定招聘计划、发布招聘信息、招用人员过程中，不得违法设置性别、民族、年龄等歧视性条件，"
         "不得以缴纳保证金、押金或其他名义向劳动者收取财物，不得违法限制劳动者在多平台就业。",
         "In planning recruitment, publishing vacancies and taking on workers, platform enterprises may not "
         "unlawfully set discriminatory conditions of sex, ethnicity, age or the like, may not collect deposits "
         "or other payments from workers, and may not unlawfully stop workers from working on several platforms."),
    12: ("第十二条", "Article 12",
         "企业要严格落实最低工资标准制度，推动将不完全符合确立劳动关系情形的新就业形态劳动者纳入制度保障范围。"
         "对按照签订的书面协议提供正常劳动的劳动者支付报酬不得低于当地最低工资标准。"
         "企业应当按时足额支付劳动报酬，不得违法克扣或者无故拖欠。",
         "Enterprises shall strictly apply the minimum-wage system and bring new-form workers whose situation does "
         "not fully establish an employment relationship under its protection. Pay to a worker who provides normal "
         "work under a signed written agreement may not be lower than the local minimum wage. Enterprises shall pay "
         "on time and in full, and may not unlawfully deduct from or withhold pay without cause."),
    13: ("第十三条", "Article 13",
         "不完全符合确立劳动关系情形的，在法定节假日或高温低温等极端恶劣天气下工作的，"
         "企业应当支付高于正常工作时间标准的劳动报酬或给予劳动者额外补偿。",
         "Where an employment relationship is not fully established, for work on statutory holidays or in "
         "extreme weather such as high or low temperatures, the enterprise shall pay more than the normal-time "
         "rate or give the worker extra compensation."),
    14: ("第十四条", "Article 14",
         "企业要与劳动者协商一致，明确工时和休息休假办法。应当发挥平台技术优势，根据劳动者工作量、劳动强度和身体状况，"
         "合理管控劳动者工作时长，明确工作时限和休息时间。",
         "Enterprises shall agree with workers on working hours, rest and leave. They shall use the platform's "
         "technology to keep working time within reasonable limits according to workload, intensity and health, "
         "and set working-time limits and rest times."),
    19: ("第十九条", "Article 19",
         "……就行业订单分配、计件单价、抽成比例、报酬构成及支付、工作时间、奖惩制度等开展协商，不得将最严算法作为考核标准。"
         "通过“算法取中”等方式，兼顾企业良性发展和劳动者正当权益，合理确定考核和奖惩要素，"
         "避免劳动者超强度劳动或由此造成的安全伤害。",
         "… negotiate order dispatch, piece rates, commission, pay and its payment, working time, rewards and "
         "penalties; the strictest algorithm may not be used as the assessment standard. Through 'setting the "
         "algorithm from the middle' (算法取中) and similar means, balancing the enterprise's development and the "
         "workers' legitimate rights, set assessment, reward and penalty factors reasonably, and avoid "
         "overwork and the safety harm it causes."),
}

CHECK_NAMES = {
    "art12.minimum_wage": ("最低工资（按在线时长）", "Minimum wage (online hours)"),
    "art12.minimum_wage_engaged": ("最低工资（按接单时长，宽松口径）", "Minimum wage (engaged hours, lenient)"),
    "art12.payment_timeliness": ("按时支付", "Paid on time"),
    "art12.deductions": ("克扣", "Deductions"),
    "art13.holiday_premium": ("节假日报酬溢价", "Holiday pay premium"),
    "art13.weather_premium": ("极端天气报酬溢价", "Extreme-weather pay premium"),
    "art14.daily_hours": ("每日工作时长", "Daily hours"),
    "art14.continuous_work": ("连续工作时长", "Continuous work"),
    "art14.weekly_rest": ("每周休息日", "Weekly rest day"),
    "art14.weekly_hours": ("每周工作时长", "Weekly hours"),
    "art19.late_rate": ("超时率", "Late-delivery rate"),
    "art19.deadline_percentile": ("配送时限（算法取中）", "Deadlines from the middle (算法取中)"),
    "art19.required_speed": ("所需车速", "Required speed"),
    "art19.deadline_ratchet": ("时限逐步收紧", "Deadline ratchet"),
    "art19.penalty_intensity": ("罚款强度", "Penalty intensity"),
    "art19.pay_opacity": ("报酬规则透明度", "Pay opacity"),
    "art19.take_rate": ("平台抽成", "Take rate"),
    "art19.pay_rule_change": ("计价规则变化", "Pay-rule change"),
    "art10.group_disparity": ("群体差距", "Group disparity"),
}

# rule-table thresholds each check applies (values come from summary["thresholds"])
CHECK_THRESHOLDS = {
    "art12.minimum_wage": ("min_online_hours_week",),
    "art12.minimum_wage_engaged": ("min_online_hours_week",),
    "art12.payment_timeliness": ("payment_late_days",),
    "art12.deductions": ("deduction_share_max",),
    "art13.holiday_premium": ("premium_min_orders", "ci_level"),
    "art13.weather_premium": ("premium_min_orders", "ci_level", "heat_tmax_c", "cold_tmin_c",
                              "warning_levels"),
    "art14.daily_hours": ("daily_hours_risk", "daily_hours_violation"),
    "art14.continuous_work": ("block_max_hours", "block_gap_minutes"),
    "art14.weekly_rest": ("weekly_rest_days",),
    "art14.weekly_hours": ("weekly_hours_risk",),
    "art19.late_rate": ("late_rate_risk", "late_rate_min_orders"),
    "art19.deadline_percentile": ("deadline_pct_violation", "deadline_pct_risk",
                                  "deadline_cell_min_orders", "distance_band_km"),
    "art19.required_speed": ("ebike_max_kmh", "required_speed_risk", "required_speed_violation"),
    "art19.deadline_ratchet": ("ratchet_p",),
    "art19.penalty_intensity": ("penalty_share_risk",),
    "art19.pay_opacity": ("opacity_r2_risk",),
    "art19.take_rate": ("take_rate_cap",),
    "art19.pay_rule_change": ("ratchet_p",),
    "art10.group_disparity": ("disparity_gap_risk", "group_min_workers", "ci_level"),
}

# which charts belong to which check (first check listed in plotting.CHART_CHECKS)
N_UNITS = {
    "zh": {"worker-week": "个工人周", "worker-day": "个工人日", "payout": "笔支付", "worker-month": "个工人月",
           "platform": "单", "group": "项比较"},
    "en": {"worker-week": "worker-weeks", "worker-day": "worker-days", "payout": "payouts",
           "worker-month": "worker-months", "platform": "orders", "group": "comparisons"},
}

TEXT = {
    "zh": {
        "title": "平台劳动者权益审计报告", "subtitle": "依据《关于维护新就业形态劳动者劳动保障权益的实施办法（暂行）》（冀人社规〔2021〕5号）",
        "overview": "概览", "period": "数据期间", "check": "检查项", "status": "结论", "n": "样本量 n",
        "finding": "发现", "threshold": "阈值", "ci": "95% 置信区间", "left_out": "未计入",
        "english": "英文译文", "trail": "审计记录", "inputs": "输入文件", "file": "文件", "table": "表",
        "rows_read": "读取行数", "rejected": "拒收行数", "thresholds": "所用阈值", "key": "参数",
        "value": "取值", "unit": "单位", "version": "软件版本", "rules": "规则表版本",
        "generated": "报告生成时间", "time_base": "时间口径", "profile": "映射配置",
        "rejected_by": "拒收原因（按表和字段）", "reason": "原因", "count": "行数",
        "none": "无", "not_shown": "本报告不显示任何劳动者编号；逐人明细见 findings.csv。",
        "rows_line": "共读取 {read:,} 行，拒收 {rejected:,} 行（见 rejected_rows.csv）",
        "no_sessions": "无在线会话表：在线时间未知，按接单时间（engaged time）计算。",
        "insufficient_rows": "{k:,} {unit}数据不足", "reason_line": "原因：{why}",
        "chart_missing": "（该检查未运行或数据不足，无图）",
        "money": "涉及金额", "statuses": {VIOLATION: "违规", RISK: "风险", OK: "合规",
                                        INSUFFICIENT: "数据不足", NOT_RUN: "未运行"},
    },
    "en": {
        "title": "Platform workers' rights audit report",
        "subtitle": "Against Hebei's implementing measures for new-form workers' labour rights (冀人社规〔2021〕5号)",
        "overview": "Overview", "period": "Data period", "check": "Check", "status": "Status", "n": "n",
        "finding": "Finding", "threshold": "Threshold", "ci": "95% CI", "left_out": "Left out",
        "english": "English rendering", "trail": "Audit trail", "inputs": "Input files", "file": "File",
        "table": "Table", "rows_read": "Rows read", "rejected": "Rows rejected", "thresholds": "Thresholds used",
        "key": "Key", "value": "Value", "unit": "Unit", "version": "Software version",
        "rules": "Rules tables version", "generated": "Report generated", "time_base": "Time base",
        "profile": "Mapping profile", "rejected_by": "Rejected rows (by table and column)", "reason": "Reason",
        "count": "Rows", "none": "none",
        "not_shown": "This report shows no worker id; per-worker rows are in findings.csv.",
        "rows_line": "{read:,} rows read, {rejected:,} rejected (see rejected_rows.csv)",
        "no_sessions": "No sessions table: online time is unknown; engaged time is used.",
        "insufficient_rows": "{k:,} {unit} with too little data", "reason_line": "reason: {why}",
        "chart_missing": "(no chart: the check did not run or had too little data)",
        "money": "Money involved", "statuses": {VIOLATION: "violation", RISK: "risk", OK: "ok",
                                                INSUFFICIENT: "insufficient data", NOT_RUN: "not run"},
    },
}


def _text(lang: str) -> dict:
    if lang not in TEXT:
        raise AuditError(msg.UNKNOWN_LANG.format(lang=lang))
    return TEXT[lang]


def status_word(status: str, lang: str = "zh") -> str:
    """A status in words (``violation`` → 违规)."""
    return _text(lang)["statuses"].get(status, status)


def check_name(cid: str, lang: str = "zh") -> str:
    zh, en = CHECK_NAMES.get(cid, (cid, cid))
    return zh if lang == "zh" else en


def _level(cid: str) -> str:
    from audit.checks import CHECKS

    return next((c.level for c in CHECKS if c.id == cid), "platform")


def _num(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return f"{float(x):,.{digits}f}"


def _pct(x, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * float(x):.{digits}f}%"


# --- plain sentences -------------------------------------------------------------------------------

def sentence(cid: str, s: dict, lang: str = "zh") -> str:
    """The finding of one check in a plain sentence, every number with its n."""
    zh = lang == "zh"
    st = s.get("status")
    if st == NOT_RUN:
        return (f"该项检查未运行：{s.get('reason', '')}。" if zh else f"Not run: {s.get('reason', '')}.")
    if st == INSUFFICIENT and not s.get("n"):
        return (f"数据不足，无法判断：{s.get('reason', '')}。" if zh
                else f"Too little data to judge: {s.get('reason', '')}.")
    g = s.get
    if cid.startswith("art12.minimum_wage"):
        base = "在线" if cid == "art12.minimum_wage" else "接单"
        base_en = "online" if cid == "art12.minimum_wage" else "engaged"
        if zh:
            return (f"在 {g('worker_periods', 0):,} 个评估的工人周中，有 {g('below_minimum', 0):,} 个"
                    f"（{_pct(g('share_below'))}）按{base}时长计的每小时收入低于当地小时最低工资；"
                    f"补足到最低工资共差 {_num(g('shortfall_cny'))} 元。")
        return (f"Of {g('worker_periods', 0):,} worker-weeks assessed, {g('below_minimum', 0):,} "
                f"({_pct(g('share_below'))}) earned less per {base_en} hour than the local hourly minimum; "
                f"bringing them up to the minimum takes CNY {_num(g('shortfall_cny'))}.")
    if cid == "art12.payment_timeliness":
        return (f"{g('payouts', g('n', 0)):,} 笔支付中有 {g('late', 0):,} 笔晚于结算期结束后的期限支付。" if zh
                else f"{g('late', 0):,} of {g('payouts', g('n', 0)):,} payouts were paid after the deadline.")
    if cid == "art12.deductions":
        return (f"{g('worker_months', g('n', 0)):,} 个工人月中有 {g('violations', 0):,} 个存在违规扣款"
                f"（扣款超过应发报酬 20%，或劳动合同工扣款后低于月最低工资）。" if zh else
                f"{g('violations', 0):,} of {g('worker_months', g('n', 0)):,} worker-months had unlawful deductions "
                f"(over 20% of gross, or a labour-contract worker's net below the monthly minimum).")
    if cid.startswith("art13."):
        kind = ("法定节假日" if "holiday" in cid else "极端天气") if zh else \
            ("public holidays" if "holiday" in cid else "extreme-weather days")
        est, lo, hi = g("estimate_pct"), g("ci_low_pct"), g("ci_high_pct")
        if est is None:
            return (f"数据不足（n = {g('n', 0):,}）。" if zh else f"Too little data (n = {g('n', 0):,}).")
        if zh:
            verdict = "置信区间下限高于 0，说明有溢价。" if st == OK else "置信区间包含 0 或低于 0，不能认定支付了更高报酬。"
            return (f"{kind}的每单报酬比正常日高 {est:+.2f}%（95% 置信区间 {lo:+.2f}% 至 {hi:+.2f}%，"
                    f"{kind} {g('n_orders', g('n', 0)):,} 单）。{verdict}")
        verdict = ("The CI's lower bound is above 0: a premium is paid." if st == OK else
                   "The CI reaches 0 or below: higher pay is not shown.")
        return (f"Pay per order on {kind} was {est:+.2f}% against normal days (95% CI {lo:+.2f}% to {hi:+.2f}%, "
                f"{g('n_orders', g('n', 0)):,} orders). {verdict}")
    if cid.startswith("art14."):
        unit = "worker_days" if g("worker_days") is not None else "worker_weeks"
        n = g(unit, g("n", 0))
        what = {"art14.daily_hours": ("每日在线时长", "daily online hours"),
                "art14.continuous_work": ("连续工作时段", "continuous work blocks"),
                "art14.weekly_rest": ("每周休息日", "weekly rest"),
                "art14.weekly_hours": ("每周在线时长", "weekly online hours")}.get(cid, (cid, cid))
        u = N_UNITS[lang]["worker-day" if unit == "worker_days" else "worker-week"]
        if zh:
            return (f"{what[0]}：{n:,} {u}中有 {g('violations', 0):,} 个违规、{g('risks', 0):,} 个存在风险。")
        return (f"{what[1].capitalize()}: of {n:,} {u}, {g('violations', 0):,} violations and "
                f"{g('risks', 0):,} at risk.")
    if cid == "art19.late_rate":
        return (f"已完成订单的超时率为 {_pct(g('value'))}（95% 置信区间 {_pct(g('ci_low'))}–{_pct(g('ci_high'))}，"
                f"n = {g('n', 0):,} 单）；{g('workers_at_risk', 0):,} 名劳动者（共评估 {g('workers_assessed', 0):,} 名）超时率超过阈值。"
                if zh else
                f"{_pct(g('value'))} of completed orders were late (95% CI {_pct(g('ci_low'))}–{_pct(g('ci_high'))}, "
                f"n = {g('n', 0):,} orders); {g('workers_at_risk', 0):,} of {g('workers_assessed', 0):,} workers "
                f"assessed were over the threshold.")
    if cid == "art19.deadline_percentile":
        regions = ", ".join(g("regions_violation") or []) or ("无" if zh else "none")
        return (f"平台给出的时限在同类订单实际用时中的位置（中位数）为第 {_num(g('value'), 1)} 百分位"
                f"（95% 置信区间 {_num(g('ci_low'), 1)}–{_num(g('ci_high'), 1)}，n = {g('n', 0):,} 单）；"
                f"低于第 50 百分位（严于多数骑手实际用时）的区域：{regions}。" if zh else
                f"The median deadline sits at percentile {_num(g('value'), 1)} of comparable actual durations "
                f"(95% CI {_num(g('ci_low'), 1)}–{_num(g('ci_high'), 1)}, n = {g('n', 0):,} orders); regions "
                f"below the 50th percentile (stricter than most riders manage): {regions}.")
    if cid == "art19.required_speed":
        return (f"{_pct(g('value'))} 的电动自行车订单需要超过限速才能按时送达（{g('exceeding_orders', 0):,} 单，"
                f"n = {g('n', 0):,}；95% 置信区间 {_pct(g('ci_low'))}–{_pct(g('ci_high'))}）。" if zh else
                f"{_pct(g('value'))} of e-bike orders needed more than the speed limit to arrive on time "
                f"({g('exceeding_orders', 0):,} orders, n = {g('n', 0):,}; 95% CI {_pct(g('ci_low'))}–{_pct(g('ci_high'))}).")
    if cid == "art19.pay_rule_change" and g("break_date"):
        return (f"计价规则在 {g('break_date')} 前后发生显著变化（p = {_num(g('p_value'), 4)}）：每公里单价变化 "
                f"{_num(g('value'))}%（95% 置信区间 {_num(g('ci_low'))}% 至 {_num(g('ci_high'))}%，n = {g('n', 0):,} 单）；"
                f"{g('workers_losing', 0):,} 名劳动者因此少收入共 {_num(g('loss_cny'))} 元。" if zh else
                f"The pay formula changed around {g('break_date')} (p = {_num(g('p_value'), 4)}): the per-km rate "
                f"moved {_num(g('value'))}% (95% CI {_num(g('ci_low'))}% to {_num(g('ci_high'))}%, n = {g('n', 0):,} orders); "
                f"{g('workers_losing', 0):,} workers lost CNY {_num(g('loss_cny'))} in all.")
    if cid == "art19.deadline_ratchet":
        return (f"时限每 30 天变化 {_num(g('pct_per_30d', g('value')), 2)}%（95% 置信区间 {_num(g('pct_ci_low'), 2)}% 至 "
                f"{_num(g('pct_ci_high'), 2)}%，p = {_num(g('p_value'), 3)}，n = {g('n', 0):,} 单）。" if zh else
                f"Deadlines changed {_num(g('pct_per_30d', g('value')), 2)}% per 30 days (95% CI {_num(g('pct_ci_low'), 2)}% "
                f"to {_num(g('pct_ci_high'), 2)}%, p = {_num(g('p_value'), 3)}, n = {g('n', 0):,} orders).")
    if cid == "art19.penalty_intensity":
        return (f"{g('worker_weeks', g('n', 0)):,} 个工人周中有 {g('risks', 0):,} 个罚款超过报酬的阈值比例；"
                f"平台整体罚款占报酬 {_pct(g('platform_ratio'))}，罚款共 {_num(g('penalty_cny'))} 元。" if zh else
                f"{g('risks', 0):,} of {g('worker_weeks', g('n', 0)):,} worker-weeks had penalties over the threshold share "
                f"of pay; penalties were {_pct(g('platform_ratio'))} of pay overall, CNY {_num(g('penalty_cny'))} in all.")
    if cid == "art19.pay_opacity":
        return (f"距离、时段、节假日和天气能解释的报酬差异 R² = {_num(g('value'), 3)}（95% 置信区间 "
                f"{_num(g('ci_low'), 3)}–{_num(g('ci_high'), 3)}，n = {g('n', 0):,} 单）。" if zh else
                f"Distance, hour, holiday and weather explain R² = {_num(g('value'), 3)} of pay (95% CI "
                f"{_num(g('ci_low'), 3)}–{_num(g('ci_high'), 3)}, n = {g('n', 0):,} orders).")
    if cid == "art19.take_rate":
        return (f"平台抽成中位数 {_pct(g('median'))}，第 90 百分位 {_pct(g('value'))}（95% 置信区间 "
                f"{_pct(g('ci_low'))}–{_pct(g('ci_high'))}，n = {g('n', 0):,} 单）。" if zh else
                f"Median take rate {_pct(g('median'))}, 90th percentile {_pct(g('value'))} (95% CI "
                f"{_pct(g('ci_low'))}–{_pct(g('ci_high'))}, n = {g('n', 0):,} orders).")
    if cid == "art10.group_disparity":
        return (f"共 {g('comparisons', g('n', 0)):,} 项群体比较，{g('risks', 0):,} 项的调整后差距显著且超过阈值；"
                f"{g('insufficient', 0):,} 项因群体不足 10 人未比较。" if zh else
                f"{g('comparisons', g('n', 0)):,} group comparisons; {g('risks', 0):,} show a significant adjusted gap "
                f"over the threshold; {g('insufficient', 0):,} not made (groups under 10 workers).")
    figs = "; ".join(f"{k} = {v}" for k, v in s.items() if k not in ("status", "n", "reason"))
    return (f"结论：{status_word(st, lang)}（n = {g('n', 0):,}）。{figs}" if zh
            else f"Status: {status_word(st, lang)} (n = {g('n', 0):,}). {figs}")


# --- per-check facts ---------------------------------------------------------------------------------

def check_facts(result, cid: str, *, lang: str = "zh") -> dict:
    """Status, n, sentence, threshold, CI, period and what was left out, for one check."""
    from audit.plotting import check_frame, check_summary, period_of

    t = _text(lang)
    s = check_summary(result, cid)
    f = check_frame(result, cid)
    th = result.summary.get("thresholds", {})
    units = _threshold_units()
    thr = "; ".join(f"{k} = {th[k]}{(' ' + units[k]) if units.get(k) else ''}"
                    for k in CHECK_THRESHOLDS.get(cid, ()) if k in th)
    lo = s.get("ci_low_pct", s.get("ci_low"))
    hi = s.get("ci_high_pct", s.get("ci_high"))
    ci = "—" if lo is None or hi is None else f"[{_num(lo, 4)}, {_num(hi, 4)}]"
    if s["status"] == NOT_RUN:
        period = ("—", "—")
    else:
        period = period_of(f, result)
    left = []
    k = int((f["status"] == INSUFFICIENT).sum()) if len(f) and "status" in f else 0
    if k:
        left.append(t["insufficient_rows"].format(k=k, unit=N_UNITS[lang].get(_level(cid), "")))
    if len(f) and "orders_in_small_cells" in f.columns:
        small = f.loc[f["subject"] == "platform", "orders_in_small_cells"]
        if len(small) and pd.notna(small.iloc[0]):
            left.append(("单元不足 20 单的订单 {k:,} 单" if lang == "zh" else "{k:,} orders in cells under 20")
                        .format(k=int(small.iloc[0])))
    if s.get("reason"):
        left.append(t["reason_line"].format(why=s["reason"]))
    return {"check": cid, "name": check_name(cid, lang), "status": s["status"],
            "status_word": status_word(s["status"], lang), "n": int(s.get("n") or 0),
            "n_unit": N_UNITS[lang].get(_level(cid), ""), "sentence": sentence(cid, s, lang),
            "threshold": thr or "—", "ci": ci, "period": f"{period[0]} – {period[1]}",
            "left_out": "; ".join(left) or t["none"]}


def _threshold_units() -> dict:
    from audit.rules import threshold_table

    tt = threshold_table()
    return dict(zip(tt["key"], tt["unit"].fillna("").astype(str)))


def _articles(result) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for cid in result.summary["checks"]:
        out.setdefault(int(cid.split(".")[0].removeprefix("art")), []).append(cid)
    return dict(sorted(out.items()))


def _charts_for(cid: str) -> list[str]:
    from audit.plotting import CHART_CHECKS

    return [name for name, checks in CHART_CHECKS.items() if checks[0] == cid]


# --- money ---------------------------------------------------------------------------------------------

_SCORECARD_TITLE = {"zh": "第十九条记分卡（算法取中）", "en": "Article 19 scorecard (算法取中)"}
_SCORECARD_HEAD = {"zh": ("指标", "结论", "数值", "95% 置信区间", "样本量 n"),
                   "en": ("indicator", "status", "value", "95 % CI", "n")}
_BAND = {"zh": "总评：{band}（{label}）。规则：{rule}", "en": "Overall band: {band} ({label}). Rule: {rule}"}


def scorecard_rows(result, lang: str = "zh") -> tuple[list[tuple[str, ...]], str]:
    """The article-19 scorecard as table rows and the band sentence (see :mod:`audit.scorecard`)."""
    from audit.scorecard import scorecard

    card = scorecard(result.summary["checks"], thresholds=result.summary["thresholds"])
    rows, band = [], ""
    for r in card.itertuples():
        if r.indicator == "overall":
            rule = r.threshold.split(" | ")[1 if lang == "zh" and " | " in r.threshold else 0]
            band = _BAND[lang].format(band=r.status, label=r.label_zh if lang == "zh" else r.label_en,
                                      rule=rule)
            continue
        ci = "—" if pd.isna(r.ci_low) else f"{_num(r.ci_low, 4)} – {_num(r.ci_high, 4)}"
        rows.append((r.label_zh if lang == "zh" else r.label_en, status_word(r.status, lang),
                     "—" if pd.isna(r.value) else _num(r.value, 4), ci, f"{int(r.n):,}"))
    return rows, band


def money_figures(result) -> dict:
    """Money the findings put a figure on (CNY), each with its count.

    ``minimum_wage_shortfall`` (art12.minimum_wage), ``late_pay`` (net pay of
    late payouts), ``excess_deductions`` (deductions above the cap share of
    gross, worker-months over the cap), ``pay_rule_loss`` (art19.pay_rule_change).
    A figure is None when its check did not run or lacks the evidence column.
    """
    from audit.plotting import check_frame, check_summary

    out: dict[str, dict | None] = {}
    s = check_summary(result, "art12.minimum_wage")
    f = check_frame(result, "art12.minimum_wage")
    if s.get("shortfall_cny") is not None:
        v = f[f["status"] == VIOLATION] if len(f) else f
        out["minimum_wage_shortfall"] = {"cny": round(float(s["shortfall_cny"]), 2),
                                         "worker_weeks": int(s.get("below_minimum", 0)),
                                         "workers": int(v["subject"].nunique()) if len(v) else 0}
    else:
        out["minimum_wage_shortfall"] = None
    f = check_frame(result, "art12.payment_timeliness")
    if len(f) and "net" in f.columns:
        late = f[f["status"] == VIOLATION]
        out["late_pay"] = {"cny": round(float(late["net"].sum()), 2), "payouts": int(len(late)),
                           "workers": int(late["subject"].nunique()),
                           "max_days_late": (round(float(late["days_late"].max()), 1)
                                             if len(late) and "days_late" in late else None)}
    else:
        out["late_pay"] = None
    f = check_frame(result, "art12.deductions")
    if len(f) and {"deductions", "gross", "share_over"} <= set(f.columns):
        cap = float(result.summary["thresholds"]["deduction_share_max"])
        over = f[f["share_over"].fillna(False).astype(bool)]
        out["excess_deductions"] = {
            "cny": round(float((over["deductions"] - cap * over["gross"]).clip(lower=0).sum()), 2),
            "worker_months": int(len(over)),
            "violations": int((f["status"] == VIOLATION).sum())}
    else:
        out["excess_deductions"] = None
    s = check_summary(result, "art19.pay_rule_change")
    out["pay_rule_loss"] = ({"cny": round(float(s["loss_cny"]), 2), "workers": int(s.get("workers_losing", 0)),
                             "since": s.get("break_date")} if s.get("loss_cny") is not None else None)
    return out


MONEY_LABELS = {
    "zh": {"minimum_wage_shortfall": "最低工资差额", "late_pay": "逾期支付的报酬",
           "excess_deductions": "超出 20% 上限的扣款", "pay_rule_loss": "计价规则变化造成的收入减少"},
    "en": {"minimum_wage_shortfall": "Minimum-wage shortfall", "late_pay": "Pay paid late",
           "excess_deductions": "Deductions above the 20% cap", "pay_rule_loss": "Loss from the pay-rule change"},
}


def money_lines(money: dict, lang: str = "zh") -> list[tuple[str, str, str]]:
    """(label, amount, counts) rows for the money figures that exist."""
    rows = []
    words = {"zh": {"worker_weeks": "个工人周", "workers": "名劳动者", "payouts": "笔", "worker_months": "个工人月",
                    "violations": "个违规工人月", "max_days_late": "最长逾期天数", "since": "自"},
             "en": {"worker_weeks": "worker-weeks", "workers": "workers", "payouts": "payouts",
                    "worker_months": "worker-months", "violations": "violating worker-months",
                    "max_days_late": "max days late", "since": "since"}}[lang]
    for key, label in MONEY_LABELS[lang].items():
        m = money.get(key)
        if not m:
            continue
        amount = (f"{m['cny']:,.2f} 元" if lang == "zh" else f"CNY {m['cny']:,.2f}")
        counts = "; ".join(
            (f"{words[k]} {v}" if k in ("max_days_late", "since") else f"{v:,} {words[k]}")
            for k, v in m.items() if k != "cny" and v is not None)
        rows.append((label, amount, counts))
    return rows


# --- Markdown --------------------------------------------------------------------------------------------

def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _md_escape(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def render_markdown(result, *, lang: str = "zh", charts: dict | None = None,
                    generated: str | None = None) -> str:
    """The report as Markdown.

    Parameters
    ----------
    result : AuditResult
    lang : {"zh", "en"}
    charts : dict, optional
        Chart name → path (relative to the report) of its PNG; charts not in
        it are not linked.  None links none.
    generated : str, optional
        The run time to print (default: now).  Only the report carries it.
    """
    t = _text(lang)
    s = result.summary
    charts = charts or {}
    L = [f"# {t['title']}", "", f"*{t['subtitle']}*", ""]
    L.append(f"- {t['period']}: {s['period']['start']} – {s['period']['end']}")
    L.append(f"- {t['rows_line'].format(read=s['rows']['read'], rejected=s['rows']['rejected'])}")
    L.append(f"- {t['time_base']}: {s.get('time_base', '')}")
    if str(s.get("time_base", "")).startswith("engaged"):
        L.append(f"- {t['no_sessions']}")
    L.append(f"- {t['not_shown']}")
    L += ["", f"## {t['overview']}", "", f"| {t['check']} | {t['status']} | {t['n']} | {t['finding']} |",
          "|---|---|---|---|"]
    facts = {cid: check_facts(result, cid, lang=lang) for cid in s["checks"]}
    for cid, fa in facts.items():
        L.append(f"| {fa['name']} (`{cid}`) | {fa['status_word']} | {fa['n']:,} {fa['n_unit']} | "
                 f"{_md_escape(fa['sentence'])} |")
    money = money_lines(money_figures(result), lang)
    if money:
        L += ["", f"### {t['money']}", ""] + [f"- **{a}**: {b} ({c})" for a, b, c in money]
    card, band = scorecard_rows(result, lang)
    if card:
        head = _SCORECARD_HEAD[lang]
        L += ["", f"### {_SCORECARD_TITLE[lang]}", "", "| " + " | ".join(head) + " |",
              "|" + "---|" * len(head)]
        L += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in card]
        L += ["", band]
    for art, cids in _articles(result).items():
        zh, en, quote_zh, quote_en = ARTICLES.get(art, (f"第{art}条", f"Article {art}", "", ""))
        L += ["", f"## {zh if lang == 'zh' else en}", "", f"> {quote_zh}", ">",
              f"> *{t['english']}*: {quote_en}"]
        for cid in cids:
            fa = facts[cid]
            L += ["", f"### {fa['name']} — {fa['status_word']}", "", fa["sentence"], ""]
            for name in _charts_for(cid):
                if name in charts:
                    L += [f"![{name}]({charts[name]})", ""]
            L += [f"- {t['n']}: {fa['n']:,} {fa['n_unit']}", f"- {t['threshold']}: {fa['threshold']}",
                  f"- {t['ci']}: {fa['ci']}", f"- {t['period']}: {fa['period']}",
                  f"- {t['left_out']}: {fa['left_out']}", f"- id: `{cid}`"]
    L += ["", f"## {t['trail']}", ""] + [f"- {a}: {b}" for a, b in _trail_items(result, lang, generated)]
    L += ["", f"### {t['inputs']}", "",
          f"| {t['table']} | {t['file']} | SHA-256 | {t['rows_read']} | {t['rejected']} |", "|---|---|---|---|---|"]
    for i in s["inputs"]:
        L.append(f"| {i['table']} | {_md_escape(i['file'])} | `{i['sha256']}` | {i['rows_read']:,} | "
                 f"{i['rows_rejected']:,} |")
    rej = _rejected_counts(result)
    if len(rej):
        L += ["", f"### {t['rejected_by']}", "", f"| {t['table']} | column | {t['count']} |", "|---|---|---|"]
        L += [f"| {r.table} | {r.column} | {r.count:,} |" for r in rej.itertuples()]
    L += ["", f"### {t['thresholds']}", "", f"| {t['key']} | {t['value']} | {t['unit']} |", "|---|---|---|"]
    units = _threshold_units()
    L += [f"| {k} | {v} | {units.get(k, '')} |" for k, v in s["thresholds"].items()]
    return "\n".join(L) + "\n"


def _trail_items(result, lang, generated) -> list[tuple[str, str]]:
    t = _text(lang)
    s = result.summary
    tables = ", ".join(f"{k} {v}" for k, v in s.get("rule_tables", {}).items())
    return [(t["version"], f"gigaudit {s['gigaudit_version']}"),
            (t["rules"], f"{s['rules_version']} ({tables})"),
            (t["profile"], str(s.get("profile", ""))),
            (t["time_base"], str(s.get("time_base", ""))),
            (t["generated"], generated or _now())]


def _rejected_counts(result) -> pd.DataFrame:
    """Rejected rows counted by table and column (values are not shown: they may identify a worker)."""
    logs = getattr(result, "logs", None)
    rej = getattr(logs, "rejected", None)
    if rej is None or not len(rej):
        return pd.DataFrame(columns=["table", "column", "count"])
    return (rej.groupby(["table", "column"], dropna=False).size().rename("count").reset_index()
            .sort_values(["table", "column"], kind="stable"))


# --- HTML ---------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"gigaudit CJK","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
max-width:1000px;margin:2em auto;padding:0 1.2em;color:#222;line-height:1.55}
h1{font-size:1.7em;margin-bottom:.1em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}.sub{color:#555;margin-top:0}
blockquote{margin:1em 0;padding:.6em 1em;background:#F4F8FB;border-left:4px solid #0072B2}
blockquote .en{color:#555;font-size:.92em;margin-top:.5em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em;width:100%}
th,td{border:1px solid #DDD;padding:.35em .6em;text-align:left;vertical-align:top}th{background:#F2F2F2}
td.num{text-align:right;white-space:nowrap}code{font-size:.85em;word-break:break-all}
.badge{display:inline-block;padding:.05em .55em;border-radius:.7em;color:#fff;font-size:.85em;white-space:nowrap}
.violation{background:#D55E00}.risk{background:#B07800}.ok{background:#0072B2}
.insufficient_data,.not_run{background:#7F7F7F}
img{max-width:100%;border:1px solid #EEE;margin:.6em 0}dl.facts{display:grid;grid-template-columns:10em 1fr;
gap:.2em .8em;font-size:.92em}dl.facts dt{color:#555}dl.facts dd{margin:0}
.note{color:#666;font-size:.9em}.money td:nth-child(2){text-align:right;font-weight:600;white-space:nowrap}
"""


def _e(x) -> str:
    return _html.escape(str(x))


def _badge(status: str, lang: str) -> str:
    return f'<span class="badge {_e(status)}">{_e(status_word(status, lang))}</span>'


def _img_src(chart) -> str:
    data = chart if isinstance(chart, (bytes, bytearray)) else Path(chart).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(result, *, lang: str = "zh", charts: dict | None = None,
                generated: str | None = None, embed_fonts: bool = True) -> str:
    """The report as one self-contained HTML page (charts embedded as base64 PNG).

    Parameters
    ----------
    result : AuditResult
    lang : {"zh", "en"}
    charts : dict, optional
        Chart name → PNG path or PNG bytes.  Charts not given are left out.
    generated : str, optional
        The run time to print (default: now).
    embed_fonts : bool
        Embed the CJK font, cut down to the page's characters (about 100 kB),
        so Chinese shows on machines without CJK fonts.
    """
    t = _text(lang)
    s = result.summary
    charts = charts or {}
    H = [f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
         f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(t["title"])}</title>',
         f"<style>{_CSS}</style></head><body>", f"<h1>{_e(t['title'])}</h1>", f'<p class="sub">{_e(t["subtitle"])}</p>']
    H.append("<ul>")
    H.append(f"<li>{_e(t['period'])}: {_e(s['period']['start'])} – {_e(s['period']['end'])}</li>")
    H.append(f"<li>{_e(t['rows_line'].format(read=s['rows']['read'], rejected=s['rows']['rejected']))}</li>")
    H.append(f"<li>{_e(t['time_base'])}: {_e(s.get('time_base', ''))}</li>")
    if str(s.get("time_base", "")).startswith("engaged"):
        H.append(f"<li>{_e(t['no_sessions'])}</li>")
    H.append(f"<li>{_e(t['not_shown'])}</li></ul>")
    facts = {cid: check_facts(result, cid, lang=lang) for cid in s["checks"]}
    H.append(f"<h2>{_e(t['overview'])}</h2><table><tr><th>{_e(t['check'])}</th><th>{_e(t['status'])}</th>"
             f"<th>{_e(t['n'])}</th><th>{_e(t['finding'])}</th></tr>")
    for cid, fa in facts.items():
        H.append(f'<tr><td><a href="#{_e(cid)}">{_e(fa["name"])}</a></td><td>{_badge(fa["status"], lang)}</td>'
                 f'<td class="num">{fa["n"]:,} {_e(fa["n_unit"])}</td><td>{_e(fa["sentence"])}</td></tr>')
    H.append("</table>")
    money = money_lines(money_figures(result), lang)
    if money:
        H.append(f'<h3>{_e(t["money"])}</h3><table class="money">')
        H += [f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_e(c)}</td></tr>" for a, b, c in money]
        H.append("</table>")
    card, band = scorecard_rows(result, lang)
    if card:
        H.append(f"<h3>{_e(_SCORECARD_TITLE[lang])}</h3><table><tr>"
                 + "".join(f"<th>{_e(h)}</th>" for h in _SCORECARD_HEAD[lang]) + "</tr>")
        H += ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in card]
        H.append(f"</table><p>{_e(band)}</p>")
    for art, cids in _articles(result).items():
        zh, en, quote_zh, quote_en = ARTICLES.get(art, (f"第{art}条", f"Article {art}", "", ""))
        H.append(f'<h2 id="art{art}">{_e(zh if lang == "zh" else en)}</h2>')
        H.append(f'<blockquote lang="zh-CN">{_e(quote_zh)}<div class="en" lang="en">'
                 f'<i>{_e(t["english"])}</i>: {_e(quote_en)}</div></blockquote>')
        for cid in cids:
            fa = facts[cid]
            H.append(f'<h3 id="{_e(cid)}">{_e(fa["name"])} {_badge(fa["status"], lang)}</h3>')
            H.append(f"<p>{_e(fa['sentence'])}</p>")
            for name in _charts_for(cid):
                if name in charts:
                    H.append(f'<img alt="{_e(name)}" src="{_img_src(charts[name])}">')
            H.append('<dl class="facts">')
            for label, value in ((t["n"], f"{fa['n']:,} {fa['n_unit']}"), (t["threshold"], fa["threshold"]),
                                 (t["ci"], fa["ci"]), (t["period"], fa["period"]),
                                 (t["left_out"], fa["left_out"]), ("id", cid)):
                H.append(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>")
            H.append("</dl>")
    H.append(f'<h2 id="trail">{_e(t["trail"])}</h2><dl class="facts">')
    H += [f"<dt>{_e(a)}</dt><dd>{_e(b)}</dd>" for a, b in _trail_items(result, lang, generated)]
    H.append(f"</dl><h3>{_e(t['inputs'])}</h3><table><tr><th>{_e(t['table'])}</th><th>{_e(t['file'])}</th>"
             f"<th>SHA-256</th><th>{_e(t['rows_read'])}</th><th>{_e(t['rejected'])}</th></tr>")
    for i in s["inputs"]:
        H.append(f"<tr><td>{_e(i['table'])}</td><td>{_e(i['file'])}</td><td><code>{_e(i['sha256'])}</code></td>"
                 f'<td class="num">{i["rows_read"]:,}</td><td class="num">{i["rows_rejected"]:,}</td></tr>')
    H.append("</table>")
    rej = _rejected_counts(result)
    if len(rej):
        H.append(f"<h3>{_e(t['rejected_by'])}</h3><table><tr><th>{_e(t['table'])}</th><th>column</th>"
                 f"<th>{_e(t['count'])}</th></tr>")
        H += [f'<tr><td>{_e(r.table)}</td><td>{_e(r.column)}</td><td class="num">{r.count:,}</td></tr>'
              for r in rej.itertuples()]
        H.append("</table>")
    units = _threshold_units()
    H.append(f"<h3>{_e(t['thresholds'])}</h3><table><tr><th>{_e(t['key'])}</th><th>{_e(t['value'])}</th>"
             f"<th>{_e(t['unit'])}</th></tr>")
    H += [f"<tr><td>{_e(k)}</td><td>{_e(v)}</td><td>{_e(units.get(k, ''))}</td></tr>"
          for k, v in s["thresholds"].items()]
    H.append("</table></body></html>")
    page = "\n".join(H) + "\n"
    return embed_font(page) if embed_fonts else page


def embed_font(page: str) -> str:
    """Add an @font-face with the CJK font cut to the page's characters (renders without CJK fonts)."""
    from audit.fonts import subset_font_base64

    chars = "".join(sorted({c for c in page if ord(c) > 0x7E}))
    face = ('@font-face{font-family:"gigaudit CJK";src:url(data:font/woff;base64,'
            + subset_font_base64(chars) + ') format("woff");}\n')
    return page.replace("<style>", "<style>" + face, 1)


# --- writing -------------------------------------------------------------------------------------------------

def write_report(result, out: str | Path, *, lang: str = "zh", charts: bool = True,
                 generated: str | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``charts/`` and ``report_figures.json`` into ``out``.

    Parameters
    ----------
    result : AuditResult
    out : path
        The run folder.
    lang : {"zh", "en"}
    charts : bool
        Draw the charts (PNG at 200 dpi and SVG); False writes text only.
    generated : str, optional
        The run time printed in the report (default: now).

    Returns
    -------
    dict
        ``{"md", "html", "figures", "charts"}`` paths (charts: the folder).
    """
    _text(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    generated = generated or _now()
    saved: dict[str, dict[str, Path]] = {}
    if charts:
        from audit.plotting import save_charts

        saved = save_charts(result, out / "charts", lang=lang)
    pngs = {n: p["png"] for n, p in saved.items()}
    rel = {n: f"charts/{p.name}" for n, p in pngs.items()}
    (out / "report.md").write_text(render_markdown(result, lang=lang, charts=rel, generated=generated),
                                   encoding="utf-8")
    (out / "report.html").write_text(render_html(result, lang=lang, charts=pngs, generated=generated),
                                     encoding="utf-8")
    figures = {"lang": lang, "money": money_figures(result), "charts": chart_index(result, saved, lang=lang)}
    (out / FIGURES_FILE).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"md": out / "report.md", "html": out / "report.html", "figures": out / FIGURES_FILE,
            "charts": out / "charts"}


def chart_index(result, saved: dict, *, lang: str = "zh") -> list[dict]:
    """One entry per chart written: name, title, check, its status and n, files."""
    from audit.plotting import CHART_CHECKS, T, check_summary

    rows = []
    for name, paths in saved.items():
        cid = CHART_CHECKS[name][0]
        s = check_summary(result, cid)
        rows.append({"name": name, "title": T[lang][name][0], "check": cid,
                     "status": s.get("status"), "n": s.get("n"),
                     "png": f"charts/{paths['png'].name}", "svg": f"charts/{paths['svg'].name}"})
    return rows


__all__ = ["render_markdown", "render_html", "write_report", "money_figures",
           "check_facts", "sentence", "status_word", "ARTICLES", "CHECK_NAMES"]
