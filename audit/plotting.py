"""Charts of an audit's results, in Chinese or English.

Every chart function has the signature ``f(result, ax=None, *, lang="zh")``
and returns the matplotlib Axes.  ``result`` is an :class:`audit.AuditResult`
(anything with ``summary``, ``by_check`` and, for the two art-19 charts that
show per-order distributions, ``logs``).  Charts read findings and the
summary, never raw logs, except:

* ``deadline_allowance`` uses :func:`audit.checks.art19_deadline_percentile.deadline_cells`
  (per-cell medians the check computes for this chart);
* ``required_speed`` draws the distribution of required speeds with the
  same e-bike selection as the check (:func:`~audit.checks.art19_required_speed.ebike_mask`).

A chart whose check did not run (``not_run``) or had too little data shows a
short notice instead of a plot; :func:`chart_available` says which charts
have something to show.  Each chart carries a title, the rule it measures,
the data period, n and the data source.

matplotlib is imported inside the functions; charts are drawn inside an rc
context that registers the bundled CJK font (:mod:`audit.fonts`), so the
global matplotlib state is left alone.  The palette is Okabe & Ito's
colour-blind-safe set.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from audit._messages import UNKNOWN_LANG
from audit.findings import INSUFFICIENT, NOT_RUN, OK, RISK, VIOLATION

OKABE_ITO = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#7F7F7F",
    "black": "#000000",
}
STATUS_COLOURS = {VIOLATION: OKABE_ITO["vermillion"], RISK: OKABE_ITO["orange"],
                  OK: OKABE_ITO["blue"], INSUFFICIENT: OKABE_ITO["grey"], NOT_RUN: OKABE_ITO["grey"]}
FIGSIZE = (8.0, 4.8)
FIGSIZES = {"group_gaps": (9.0, 7.0), "premiums": (8.0, 5.2)}
DPI = 200
UNKNOWN_CHART = "unknown chart {name!r}; known: {known}"
_STYLE = {
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "axes.grid.axis": "y", "grid.color": "#DDDDDD", "grid.linewidth": 0.6,
    "axes.titlesize": 12, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 8.5, "legend.frameon": False, "figure.dpi": 100, "savefig.dpi": DPI,
    "svg.hashsalt": "gigaudit",  # stable SVG ids: the same run gives the same file
}

# --- text ------------------------------------------------------------------------------------

T = {
    "zh": {
        "period": "数据期间", "log": "（10 以上为对数刻度）", "source": "数据来源", "n": "n", "not_run": "该项检查未运行（{why}）",
        "no_data": "数据不足，无法作图（{why}）", "workers": "名劳动者",
        "hourly_earnings": ("每小时收入与最低工资", "第十二条：报酬不得低于当地最低工资标准（按在线时长计）",
                            "每在线小时收入（元/小时）", "工人周数"),
        "hourly_min": "小时最低工资 {v:g} 元（{k:,} 个工人周适用）", "below": "低于最低工资", "above": "不低于最低工资",
        "n_hourly": "n = {n:,} 个工人周（{w:,} 名劳动者）；另有 {ins:,} 个工人周在线不足 {h:g} 小时，未评估",
        "weeks_below_minimum": ("每周低于最低工资的工人周比例", "第十二条：报酬不得低于当地最低工资标准；误差线为 95% 置信区间（Wilson）",
                        "周（周一）", "低于最低工资的比例（%）"),
        "n_weeks": "n = {n:,} 个工人周（每柱上方为该周 n）",
        "premiums": ("节假日与极端天气报酬溢价", "第十三条：法定节假日或极端恶劣天气下工作应支付高于正常时间的报酬；点为估计，线为 95% 置信区间",
                     "每单报酬相对正常日的溢价（%）", ""),
        "holiday": "法定节假日", "weather": "极端天气", "zero_line": "无溢价",
        "n_prem": "n = 每项估计所用订单数（见标签）；工人固定效应，按工人聚类的标准误",
        "daily_hours": ("每日在线时长", "第十四条：合理管控工作时长；超过 {r:g} 小时为风险，超过 {v:g} 小时为违规",
                        "每日在线时长（小时）", "工人日数"),
        "over": "超过 {h:g} 小时：{k:,} 天", "n_days": "n = {n:,} 个工人日（{w:,} 名劳动者）",
        "work_blocks": ("最长连续工作时段", "第十四条：明确工作时限和休息时间；间隔不足 {g:g} 分钟视为连续，超过 {v:g} 小时为违规",
                        "当日最长连续工作时段（小时）", "工人日数"),
        "deadline_allowance": ("配送时限与实际用时（算法取中）", "第十九条：不得将最严算法作为考核标准，通过“算法取中”确定考核要素",
                               "同类订单实际用时中位数（分钟）", "平台给出的时限中位数（分钟）"),
        "median_line": "算法取中线：时限 = 实际用时中位数", "band": "距离段（公里）",
        "n_cells": "n = {n:,} 单，{c:,} 个单元（区域 × {b:g} 公里距离段 × 接单小时，每单元至少 {m:g} 单）；{left:,} 单所在单元过小未计入",
        "below_line": "线下方：时限短于多数骑手的实际用时",
        "required_speed": ("按时送达所需车速", "第十九条：避免超强度劳动及安全伤害；电动自行车限速 {v:g} 公里/小时（GB 17761-2018）",
                           "取货至时限所需平均车速（公里/小时）", "订单数"),
        "speed_limit": "限速 {v:g} 公里/小时", "over_limit": "超过限速：{k:,} 单（{p:.1f}%）",
        "n_speed": "n = {n:,} 张电动自行车订单；时限在取货之前或当时的 {e:,} 单计入最右一栏",
        "group_gaps": ("不同群体的差距", "第十条：不得设置性别、年龄等歧视性条件；调整后差距显著且超过 {g:.0%} 为风险；线为 95% 置信区间",
                       "与参照组的调整后差距", ""),
        "n_groups": "n = 工人周数；劳动者数为本组/参照组；不足 {m:g} 名劳动者的群体不显示",
        "payment_delays": ("报酬支付时间", "第十二条：按时足额支付劳动报酬；结算期结束后 {d:g} 天内支付",
                           "结算期结束到支付的天数", "笔数"),
        "pay_deadline": "{d:g} 天期限", "n_payouts": "n = {n:,} 笔支付；逾期 {k:,} 笔",
    },
    "en": {
        "period": "Data period", "log": " (log scale above 10)", "source": "Source", "n": "n", "not_run": "This check did not run ({why})",
        "no_data": "Too little data for a chart ({why})", "workers": "workers",
        "hourly_earnings": ("Earnings per hour against the minimum wage",
                            "Art. 12: pay may not fall below the local minimum wage (per online hour)",
                            "Earnings per online hour (CNY/h)", "Worker-weeks"),
        "hourly_min": "hourly minimum {v:g} CNY ({k:,} worker-weeks)", "below": "below the minimum", "above": "at or above the minimum",
        "n_hourly": "n = {n:,} worker-weeks ({w:,} workers); {ins:,} more with under {h:g} online hours not assessed",
        "weeks_below_minimum": ("Share of worker-weeks below the minimum wage, by week",
                        "Art. 12: pay may not fall below the local minimum wage; bars: 95% CI (Wilson)",
                        "Week (Monday)", "Worker-weeks below the minimum (%)"),
        "n_weeks": "n = {n:,} worker-weeks (each week's n above its bar)",
        "premiums": ("Holiday and extreme-weather pay premium",
                     "Art. 13: work on public holidays or in extreme weather must be paid above normal; dot: estimate, line: 95% CI",
                     "Premium of pay per order over normal days (%)", ""),
        "holiday": "Public holidays", "weather": "Extreme weather", "zero_line": "no premium",
        "n_prem": "n = orders behind each estimate (in the labels); worker fixed effects, worker-clustered SEs",
        "daily_hours": ("Online hours per day",
                        "Art. 14: reasonable working time; over {r:g} h is a risk, over {v:g} h a violation",
                        "Online hours in the day (h)", "Worker-days"),
        "over": "over {h:g} h: {k:,} days", "n_days": "n = {n:,} worker-days ({w:,} workers)",
        "work_blocks": ("Longest continuous work block",
                        "Art. 14: set working and rest times; gaps under {g:g} min join a block; over {v:g} h is a violation",
                        "Longest block of the day (h)", "Worker-days"),
        "deadline_allowance": ("Delivery deadlines against actual times (算法取中)",
                               "Art. 19: the strictest algorithm may not be the yardstick; set it 'from the middle'",
                               "Median actual duration of comparable orders (min)", "Median allowance (min)"),
        "median_line": "the middle: allowance = median actual duration", "band": "Distance band (km)",
        "n_cells": "n = {n:,} orders in {c:,} cells (region × {b:g} km band × hour, ≥ {m:g} orders each); {left:,} orders in smaller cells left out",
        "below_line": "below the line: deadline shorter than most riders take",
        "required_speed": ("Speed needed to meet the deadline",
                           "Art. 19: avoid overwork and the safety harm it causes; e-bike limit {v:g} km/h (GB 17761-2018)",
                           "Average speed needed from pickup to deadline (km/h)", "Orders"),
        "speed_limit": "limit {v:g} km/h", "over_limit": "over the limit: {k:,} orders ({p:.1f}%)",
        "n_speed": "n = {n:,} e-bike orders; {e:,} with the deadline at or before pickup are in the last bar",
        "group_gaps": ("Gaps between groups of workers",
                       "Art. 10: no discriminatory conditions by gender or age; risk when the adjusted gap is significant and over {g:.0%}; lines: 95% CI",
                       "Adjusted gap to the reference group", ""),
        "n_groups": "n = worker-weeks; workers: group/reference; groups of fewer than {m:g} workers are not shown",
        "payment_delays": ("When pay was paid", "Art. 12: pay on time and in full; due within {d:g} days after the pay period",
                           "Days from end of pay period to payment", "Payouts"),
        "pay_deadline": "{d:g}-day limit", "n_payouts": "n = {n:,} payouts; {k:,} late",
    },
}


def _t(lang: str) -> dict:
    if lang not in T:
        raise ValueError(UNKNOWN_LANG.format(lang=lang))
    return T[lang]


# --- result access -----------------------------------------------------------------------------

def check_frame(result, check_id: str) -> pd.DataFrame:
    """One check's findings (with evidence columns when the result has them); empty if absent."""
    by = getattr(result, "by_check", None) or {}
    if check_id in by:
        return by[check_id]
    f = getattr(result, "findings", None)
    if f is None or not len(f):
        return pd.DataFrame(columns=["check", "status", "value", "n"])
    return f[f["check"] == check_id]


def check_summary(result, check_id: str) -> dict:
    """The summary object of one check (``not_run`` when it is absent)."""
    return result.summary.get("checks", {}).get(check_id, {"status": NOT_RUN, "n": 0,
                                                         "reason": "not in this run"})


def _threshold(result, key: str) -> float:
    return float(result.summary["thresholds"][key])


def period_of(frame: pd.DataFrame, result=None) -> tuple[str, str]:
    """First period_start and last period_end of findings (the run's period when none)."""
    if len(frame) and "period_start" in frame and frame["period_start"].notna().any():
        return str(frame["period_start"].dropna().min()), str(frame["period_end"].dropna().max())
    if result is not None:
        p = result.summary["period"]
        return p["start"], p["end"]
    return "", ""


def source_text(result) -> str:
    s = result.summary
    files = ", ".join(dict.fromkeys(i["file"] for i in s.get("inputs", [])))
    return f"{files} (profile {s.get('profile', '')}); gigaudit {s['gigaudit_version']}, rules {s['rules_version']}"


# --- framework -------------------------------------------------------------------------------------

CHARTS: dict[str, Callable] = {}
"""Chart name → function(result, ax=None, *, lang="zh") returning the Axes."""

CHART_CHECKS: dict[str, tuple[str, ...]] = {}
"""Chart name → the check ids it shows (the first is the one whose status matters)."""


class _NoData(Exception):
    """Raised inside a chart body when there is nothing to draw; the reason is shown instead."""


def _chart(name: str, checks: tuple[str, ...]):
    def wrap(body):
        @functools.wraps(body)
        def draw(result, ax=None, *, lang: str = "zh"):
            t = _t(lang)
            import matplotlib

            from audit.fonts import font_rc

            with matplotlib.rc_context({**_STYLE, **font_rc()}):
                if ax is None:
                    import matplotlib.pyplot as plt

                    _, ax = plt.subplots(figsize=FIGSIZE)
                why = _unavailable(result, checks)
                if why is None:
                    try:
                        body(result, ax, t, lang)
                        why = None
                    except _NoData as exc:
                        why = ("no_data", str(exc))
                if why is not None:
                    _notice(ax, t, name, *why)
                _pin_fonts(ax.figure)
            return ax

        CHARTS[name] = draw
        CHART_CHECKS[name] = checks
        return draw
    return wrap


def _pin_fonts(fig) -> None:
    """Name the font families on every text, so the figure renders outside our rc context
    (a notebook draws it later, when the generic "sans-serif" would resolve to DejaVu Sans)."""
    from matplotlib.text import Text

    families = font_families()
    for txt in fig.findobj(Text):
        txt.set_fontfamily(families)


def font_families() -> list[str]:
    from audit.fonts import font_rc

    return list(font_rc()["font.sans-serif"])


def _unavailable(result, checks) -> tuple[str, str] | None:
    s = check_summary(result, checks[0])
    if s.get("status") == NOT_RUN:
        return "not_run", str(s.get("reason", ""))
    if s.get("status") == INSUFFICIENT and not s.get("n"):
        return "no_data", str(s.get("reason", ""))
    return None


def _notice(ax, t, name, kind, why) -> None:
    ax.clear()
    ax.set_axis_off()
    title = t[name][0]
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, t[kind].format(why=why or "—"), ha="center", va="center", wrap=True,
            transform=ax.transAxes, color=OKABE_ITO["grey"], fontsize=11)


def chart_available(result, name: str) -> bool:
    """Whether a chart has data to show (its check ran with findings)."""
    if name not in CHARTS:
        raise KeyError(UNKNOWN_CHART.format(name=name, known=", ".join(CHARTS)))
    return _unavailable(result, CHART_CHECKS[name]) is None


def _frame(ax, t, result, name: str, *, fmt: dict | None = None, n_text: str, period) -> None:
    """Title, the rule line, and the footer (period, n, source)."""
    title, rule, xlabel, ylabel = t[name]
    fmt = fmt or {}
    ax.set_title(title, loc="left", pad=20)
    ax.text(0, 1.02, rule.format(**fmt), transform=ax.transAxes, fontsize=8.5, va="bottom",
            color="#333333")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (t["log"] if ax.get_yscale() == "symlog" else ""))
    foot = (f"{t['period']}: {period[0]} – {period[1]}   {n_text}\n"
            f"{t['source']}: {source_text(result)}")
    ax.annotate(foot, xy=(0, 0), xycoords="axes fraction", xytext=(0, -34),
                textcoords="offset points", va="top", ha="left", fontsize=7.5, color="#444444")


def _assessed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"].isin([OK, RISK, VIOLATION])]


def _hist_split(ax, values, limit_masks, bins, colours, labels):
    """Stacked histogram of ``values`` split by masks (drawn in order)."""
    data = [values[m] for m in limit_masks]
    ax.hist(data, bins=bins, stacked=True, color=colours, label=labels, edgecolor="white",
            linewidth=0.4)


def _bins(values: np.ndarray, width: float, hi: float | None = None) -> np.ndarray:
    top = float(np.nanmax(values)) if hi is None else hi
    return np.arange(0.0, top + width, width)


def _vline(ax, x, label, colour, style="--"):
    ax.axvline(x, color=colour, linestyle=style, linewidth=1.4, label=label)


# --- the charts -------------------------------------------------------------------------------------

@_chart("hourly_earnings", ("art12.minimum_wage",))
def hourly_earnings(result, ax, t, lang):
    """Histogram of earnings per online hour of worker-weeks, with the hourly minimum line(s)."""
    f = check_frame(result, "art12.minimum_wage")
    a = _assessed(f)
    if not len(a):
        raise _NoData("0 worker-weeks assessed")
    v = a["value"].to_numpy(dtype=float)
    hi = float(np.nanquantile(v, 0.99)) * 1.05
    bins = _bins(np.minimum(v, hi), 2.0, hi)
    below = (a["status"] == VIOLATION).to_numpy()
    _hist_split(ax, np.minimum(v, bins[-1] - 1e-9), [below, ~below], bins,
                [OKABE_ITO["vermillion"], OKABE_ITO["sky"]], [t["below"], t["above"]])
    for m, style in zip(sorted(pd.unique(a["threshold"].dropna())), ["--", ":", "-.", "-"] * 9):
        k = int((a["threshold"] == m).sum())
        _vline(ax, m, t["hourly_min"].format(v=m, k=k), OKABE_ITO["black"], style=style)
    ax.legend(loc="upper right")
    n_text = t["n_hourly"].format(n=len(a), w=a["subject"].nunique(),
                                  ins=int((f["status"] == INSUFFICIENT).sum()),
                                  h=_threshold(result, "min_online_hours_week"))
    _frame(ax, t, result, "hourly_earnings", n_text=n_text, period=period_of(f, result))


@_chart("weeks_below_minimum", ("art12.minimum_wage",))
def weeks_below_minimum(result, ax, t, lang):
    """Share of worker-weeks below the minimum, week by week, with Wilson 95 % CIs."""
    from metrics.proportions import wilson

    f = _assessed(check_frame(result, "art12.minimum_wage"))
    if not len(f):
        raise _NoData("0 worker-weeks assessed")
    g = (f.assign(b=(f["status"] == VIOLATION).astype(int)).groupby("period_start")["b"]
         .agg(["sum", "size"]).sort_index())
    share = g["sum"] / g["size"]
    lo, hi = wilson(g["sum"].to_numpy(), g["size"].to_numpy(),
                    level=float(result.summary["thresholds"].get("ci_level", 0.95)))
    x = np.arange(len(g))
    ax.bar(x, 100 * share, color=OKABE_ITO["vermillion"], width=0.6)
    ax.errorbar(x, 100 * share, yerr=[100 * (share - lo), 100 * (hi - share)], fmt="none",
                ecolor=OKABE_ITO["black"], capsize=4, linewidth=1)
    for xi, (k, n, top) in enumerate(zip(g["sum"], g["size"], 100 * hi)):
        ax.text(xi, top + 1, f"{k}/{n}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [str(p)[5:] for p in g.index])
    ax.set_ylim(0, max(10.0, float(np.nanmax(100 * hi)) * 1.2))
    _frame(ax, t, result, "weeks_below_minimum", n_text=t["n_weeks"].format(n=int(g["size"].sum())),
           period=period_of(check_frame(result, "art12.minimum_wage"), result))


def _ci_cols(frame: pd.DataFrame) -> tuple[str, str] | None:
    for lo, hi in (("ci_low_pct", "ci_high_pct"), ("ci_low", "ci_high"), ("ci_lower", "ci_upper")):
        if lo in frame.columns and hi in frame.columns:
            return lo, hi
    return None


DAY_KINDS = {
    "zh": {"National Day": "国庆节", "Mid-autumn Festival": "中秋节", "Spring Festival": "春节",
           "New Year's Day": "元旦", "Labour Day": "劳动节", "Dragon Boat Festival": "端午节",
           "Tomb-sweeping Day": "清明节", "heat": "高温", "cold": "低温", "heat warning": "高温预警",
           "rainstorm warning": "暴雨预警", "cold warning": "寒潮预警"},
    "en": {},
}


@_chart("premiums", ("art13.holiday_premium", "art13.weather_premium"))
def premiums(result, ax, t, lang):
    """Forest plot of the holiday and weather premiums (% with 95 % CI), overall and per kind of day."""
    rows = []
    for cid, key in (("art13.holiday_premium", "holiday"), ("art13.weather_premium", "weather")):
        s = check_summary(result, cid)
        if s.get("estimate_pct") is None:
            rows.append((f"{t[key]} ({_status_word(s['status'], lang)})", np.nan, np.nan, np.nan,
                         s["status"], True))
            continue
        n = int(s.get("n_orders") or s.get("n") or 0)
        rows.append((f"{t[key]} ({_status_word(s['status'], lang)})  n = {n:,}", s["estimate_pct"], s.get("ci_low_pct"),
                     s.get("ci_high_pct"), s["status"], True))
        f = check_frame(result, cid)
        if {"estimate_pct", "ci_low_pct", "ci_high_pct"} <= set(f.columns):
            sub = f[f["metric"].astype(str).str.contains(":") & f["estimate_pct"].notna()]
            for _, r in sub.iterrows():  # one row per kind of day: a handful
                kind = str(r["metric"]).split(":", 1)[1]
                rows.append((f"· {DAY_KINDS[lang].get(kind, kind)}  n = {int(r['n']):,}",
                             r["estimate_pct"], r["ci_low_pct"], r["ci_high_pct"], r["status"], False))
    if all(np.isnan(r[1]) for r in rows):
        raise _NoData("no estimate")
    y = np.arange(len(rows))[::-1]
    his = [r[3] for r in rows if not np.isnan(r[1])]
    los = [r[2] for r in rows if not np.isnan(r[1])]
    span = max(max(his), 0.0) - min(min(los), 0.0)
    for yi, (label, est, lo, hi, st, main) in zip(y, rows):
        if np.isnan(est):
            continue
        c = STATUS_COLOURS.get(st, OKABE_ITO["blue"])
        ax.errorbar([est], [yi], xerr=[[est - lo], [hi - est]], fmt="o" if main else "s", color=c,
                    capsize=4, markersize=7 if main else 5, linewidth=1.8 if main else 1.1)
        ax.text(hi + 0.02 * span, yi, f" {est:+.2f}% [{lo:+.2f}, {hi:+.2f}]", va="center",
                fontsize=8.5 if main else 7.5)
    _vline(ax, 0.0, t["zero_line"], OKABE_ITO["black"], style="-")
    ax.set_yticks(y, [r[0] for r in rows])
    for lab, r in zip(ax.get_yticklabels(), rows):
        lab.set_fontsize(9 if r[5] else 7.5)
    ax.set_xlim(min(min(los), 0.0) - 0.05 * span, max(max(his), 0.0) + 0.35 * span)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x")
    ax.legend(loc="lower right")
    frames = pd.concat([check_frame(result, c) for c in CHART_CHECKS["premiums"]], ignore_index=True)
    _frame(ax, t, result, "premiums", n_text=t["n_prem"], period=period_of(frames, result))


def _status_word(status: str, lang: str) -> str:
    from audit.report import status_word

    return status_word(status, lang)


def _hours_hist(result, ax, t, cid, name, lines, fmt, width):
    f = check_frame(result, cid)
    a = _assessed(f)
    if not len(a):
        raise _NoData("0 findings assessed")
    v = a["value"].to_numpy(dtype=float)
    bins = _bins(v, width, max(float(np.nanmax(v)), max(x for x, _ in lines)) + width)
    edges = [-np.inf] + [x for x, _ in lines] + [np.inf]
    palette = [OKABE_ITO["sky"]] + [c for _, c in lines]
    masks = [(v > edges[i]) & (v <= edges[i + 1]) for i in range(len(edges) - 1)]
    # a legend entry per line counts everything above it, as the rule reads
    labels = ["_"] + [t["over"].format(h=x, k=int((v > x).sum())) for x, _ in lines]
    _hist_split(ax, v, masks, bins, palette, labels)
    for x, colour in lines:
        _vline(ax, x, None, colour)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(bottom=0)
    from matplotlib.ticker import ScalarFormatter

    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.legend(loc="upper right")
    n_text = t["n_days"].format(n=len(a), w=a["subject"].nunique())
    _frame(ax, t, result, name, fmt=fmt, n_text=n_text, period=period_of(f, result))


@_chart("daily_hours", ("art14.daily_hours",))
def daily_hours(result, ax, t, lang):
    """Histogram of online hours per worker-day with the 10 h (risk) and 12 h (violation) lines."""
    r, v = _threshold(result, "daily_hours_risk"), _threshold(result, "daily_hours_violation")
    _hours_hist(result, ax, t, "art14.daily_hours", "daily_hours",
                [(r, OKABE_ITO["orange"]), (v, OKABE_ITO["vermillion"])], {"r": r, "v": v}, 0.5)


@_chart("work_blocks", ("art14.continuous_work",))
def work_blocks(result, ax, t, lang):
    """Histogram of the longest continuous work block per worker-day, with the 4 h line."""
    v, g = _threshold(result, "block_max_hours"), _threshold(result, "block_gap_minutes")
    _hours_hist(result, ax, t, "art14.continuous_work", "work_blocks",
                [(v, OKABE_ITO["vermillion"])], {"v": v, "g": g}, 0.25)


@_chart("deadline_allowance", ("art19.deadline_percentile",))
def deadline_allowance(result, ax, t, lang):
    """Per cell (region × distance band × hour): median allowance against median actual duration."""
    from audit.checks.art19_deadline_percentile import deadline_cells

    logs = getattr(result, "logs", None)
    if logs is None:
        raise _NoData("no logs in this result")
    cells = deadline_cells(logs, thresholds=result.summary["thresholds"])
    inc = cells[cells["included"]]
    if not len(inc):
        raise _NoData("no cell with enough orders")
    import matplotlib as mpl

    bands = inc["distance_from_km"].to_numpy(dtype=float)
    norm = mpl.colors.Normalize(vmin=float(bands.min()), vmax=float(bands.max()))
    sc = ax.scatter(inc["median_actual_min"], inc["median_allowance_min"], c=bands, cmap="cividis",
                    norm=norm, s=12 + 60 * np.sqrt(inc["n"] / inc["n"].max()), alpha=0.8,
                    edgecolors="white", linewidths=0.4)
    top = float(np.nanmax(inc[["median_actual_min", "median_allowance_min"]].to_numpy())) * 1.05
    ax.plot([0, top], [0, top], color=OKABE_ITO["black"], linestyle="--", linewidth=1.3,
            label=t["median_line"])
    ax.fill_between([0, top], [0, 0], [0, top], color=OKABE_ITO["vermillion"], alpha=0.06,
                    label=t["below_line"])
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    cb = ax.figure.colorbar(sc, ax=ax, shrink=0.8, pad=0.02)
    cb.set_label(t["band"])
    ax.legend(loc="lower right")
    th = result.summary["thresholds"]
    f = check_frame(result, "art19.deadline_percentile")
    n_text = t["n_cells"].format(n=int(inc["n"].sum()), c=len(inc), b=float(th["distance_band_km"]),
                                 m=float(th["deadline_cell_min_orders"]),
                                 left=int(cells.loc[~cells["included"], "n"].sum()))
    _frame(ax, t, result, "deadline_allowance", n_text=n_text, period=period_of(f, result))


@_chart("required_speed", ("art19.required_speed",))
def required_speed(result, ax, t, lang):
    """Histogram of the speed e-bike orders need between pickup and deadline, with the 25 km/h line."""
    from audit.checks.art19_required_speed import ebike_mask

    logs = getattr(result, "logs", None)
    if logs is None:
        raise _NoData("no logs in this result")
    o = logs.completed
    o = o[(o["distance_km"].notna() & o["picked_up_at"].notna() & o["promised_at"].notna()).to_numpy()]
    mask, note = ebike_mask(logs, o)
    if mask is None or not mask.any():
        raise _NoData(note)
    o = o[mask]
    secs = ((o["promised_at"].dt.floor("s") - o["picked_up_at"].dt.floor("s"))
            .dt.total_seconds().to_numpy())
    dist = o["distance_km"].to_numpy(dtype=float)
    early = secs <= 0
    vmax = _threshold(result, "ebike_max_kmh")
    cap = 2.4 * vmax
    kmh = np.where(early, cap, np.minimum(dist * 3600.0 / np.where(early, 1, secs), cap))
    over = early | (dist * 3600.0 > vmax * secs)
    bins = np.arange(0.0, cap + 2.5, 2.5)
    kmh = np.minimum(kmh, bins[-1] - 1e-9)
    _hist_split(ax, kmh, [~over, over], bins, [OKABE_ITO["sky"], OKABE_ITO["vermillion"]],
                ["_", t["over_limit"].format(k=int(over.sum()), p=100 * over.mean())])
    _vline(ax, vmax, t["speed_limit"].format(v=vmax), OKABE_ITO["black"])
    ax.set_yscale("symlog", linthresh=10)
    from matplotlib.ticker import ScalarFormatter

    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xticks(list(np.arange(0, cap + 1, 10)),
                  [f"{x:g}" if x < cap else f"≥{x:g}" for x in np.arange(0, cap + 1, 10)])
    ax.legend(loc="upper right")
    f = check_frame(result, "art19.required_speed")
    _frame(ax, t, result, "required_speed", fmt={"v": vmax},
           n_text=t["n_speed"].format(n=int(mask.sum()), e=int(early.sum())),
           period=period_of(f, result))


GROUP_WORKER_COLUMNS = ("workers_group", "workers", "n_workers", "group_workers")


def visible_groups(frame: pd.DataFrame, min_workers: float) -> pd.DataFrame:
    """Group rows with at least ``min_workers`` workers (other levels pass through).

    The worker count is read from a ``workers``/``n_workers`` column when the
    check gives one, else from ``n``.
    """
    if not len(frame) or "level" not in frame:
        return frame
    col = next((c for c in GROUP_WORKER_COLUMNS if c in frame.columns), "n")
    count = pd.to_numeric(frame[col], errors="coerce")
    if "workers_reference" in frame.columns:  # the comparison needs both groups large enough
        count = np.minimum(count, pd.to_numeric(frame["workers_reference"], errors="coerce"))
    hide = (frame["level"] == "group") & ~(count >= min_workers)
    return frame[~hide.to_numpy()]


OUTCOMES = {
    "zh": {"hourly_earnings": "每小时收入", "orders_per_hour": "每小时订单数", "penalty_rate": "罚款占报酬比例"},
    "en": {"hourly_earnings": "earnings per hour", "orders_per_hour": "orders per hour",
           "penalty_rate": "penalty rate"},
}
UNITS = {"zh": {"% of reference mean": "参照组均值的 %"}, "en": {}}


@_chart("group_gaps", ("art10.group_disparity",))
def group_gaps(result, ax, t, lang):
    """Forest plot of adjusted group gaps (per outcome and group) with 95 % CIs; small groups hidden."""
    f = check_frame(result, "art10.group_disparity")
    m = _threshold(result, "group_min_workers")
    f = visible_groups(f, m)
    f = f[f["value"].notna()] if len(f) else f
    cols = _ci_cols(f)
    if not len(f):
        raise _NoData(f"no group of at least {m:g} workers")
    if "outcome" in f.columns:
        f = f.sort_values(["outcome", "subject"], kind="stable")
    f = f.reset_index(drop=True)
    y = np.arange(len(f))[::-1]
    labels = []
    for yi, (_, r) in zip(y, f.iterrows()):  # a handful of rows (groups × outcomes)
        c = STATUS_COLOURS.get(r["status"], OKABE_ITO["blue"])
        if cols is not None and pd.notna(r[cols[0]]):
            ax.errorbar([r["value"]], [yi], xerr=[[r["value"] - r[cols[0]]], [r[cols[1]] - r["value"]]],
                        fmt="o", color=c, capsize=3, markersize=5)
        else:
            ax.plot([r["value"]], [yi], "o", color=c)
        what = OUTCOMES[lang].get(str(r.get("outcome", "")), str(r["metric"]))
        ref = f" vs {r['reference']}" if "reference" in f.columns and pd.notna(r.get("reference")) else ""
        who = (f"{int(r['workers_group'])}/{int(r['workers_reference'])} {t['workers']}"
               if {"workers_group", "workers_reference"} <= set(f.columns) else "")
        labels.append(f"{what}: {r['subject']}{ref}  (n = {int(r['n']):,}; {who})")
    ax.set_yticks(y, labels, fontsize=7.5)
    _vline(ax, 0.0, None, OKABE_ITO["black"], style="-")
    ax.grid(axis="x")
    units = ", ".join(UNITS[lang].get(str(u), str(u)) for u in pd.unique(f["unit"].dropna()))
    _frame(ax, t, result, "group_gaps", fmt={"g": _threshold(result, "disparity_gap_risk")},
           n_text=t["n_groups"].format(m=m), period=period_of(f, result))
    ax.set_xlabel(t["group_gaps"][2] + (f" ({units})" if units else ""))


@_chart("payment_delays", ("art12.payment_timeliness",))
def payment_delays(result, ax, t, lang):
    """Histogram of days from the end of the pay period to payment, with the 30-day line."""
    f = check_frame(result, "art12.payment_timeliness")
    a = _assessed(f)
    if not len(a):
        raise _NoData("0 payouts")
    d = _threshold(result, "payment_late_days")
    v = a["value"].to_numpy(dtype=float)
    late = (a["status"] == VIOLATION).to_numpy()
    bins = _bins(v, 1.0, max(float(np.nanmax(v)), d) + 1)
    _hist_split(ax, v, [~late, late], bins, [OKABE_ITO["sky"], OKABE_ITO["vermillion"]], ["_", "_"])
    _vline(ax, d, t["pay_deadline"].format(d=d), OKABE_ITO["black"])
    ax.set_yscale("symlog", linthresh=10)
    from matplotlib.ticker import ScalarFormatter

    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.legend(loc="upper right")
    _frame(ax, t, result, "payment_delays", fmt={"d": d},
           n_text=t["n_payouts"].format(n=len(a), k=int(late.sum())), period=period_of(f, result))


# --- saving --------------------------------------------------------------------------------------------

def figure(result, name: str, *, lang: str = "zh"):
    """A new (pyplot-free) Figure with one chart drawn on it."""
    if name not in CHARTS:
        raise KeyError(UNKNOWN_CHART.format(name=name, known=", ".join(CHARTS)))
    import matplotlib
    from matplotlib.figure import Figure

    from audit.fonts import font_rc

    with matplotlib.rc_context({**_STYLE, **font_rc()}):
        fig = Figure(figsize=FIGSIZES.get(name, FIGSIZE))
        ax = fig.add_subplot()
        CHARTS[name](result, ax, lang=lang)
    return fig


def save_chart(result, name: str, out: str | Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``<name>.png`` (200 dpi) and ``<name>.svg`` into ``out``; return the paths."""
    import matplotlib

    from audit.fonts import font_rc

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = figure(result, name, lang=lang)
    paths = {"png": out / f"{name}.png", "svg": out / f"{name}.svg"}
    with matplotlib.rc_context({**_STYLE, **font_rc()}):
        # no timestamps in the files: the same run gives the same bytes
        fig.savefig(paths["png"], dpi=DPI, metadata={"Software": None}, bbox_inches="tight")
        fig.savefig(paths["svg"], metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return paths


def save_charts(result, out: str | Path, *, lang: str = "zh",
                names: list[str] | None = None) -> dict[str, dict[str, Path]]:
    """Save every chart that has data (or ``names``); return name → {"png", "svg"} paths."""
    names = list(CHARTS) if names is None else names
    return {n: save_chart(result, n, out, lang=lang) for n in names if chart_available(result, n)}


__all__ = ["CHARTS", "CHART_CHECKS", "OKABE_ITO", "chart_available", "check_frame", "check_summary",
           "figure", "save_chart", "save_charts", "visible_groups"]
