"""Article 14: continuous work without a break (art14.continuous_work).

冀人社规〔2021〕5号 第十四条 (合理管控工作时长, 防止过度劳动); the 4 h / 20 min pair
comes from 道路交通安全法实施条例 art. 62(7) and the 2021 food-delivery
guideline.  Measured per worker-day (SPEC §4–5):

* engaged intervals = completed orders ``[accepted_at, delivered_at]``;
* a work block = the intervals merged wherever the gap between them is
  under ``block_gap_minutes`` (20 min); a gap of exactly 20 min breaks the
  block (the gap is measured from the latest end so far in the block);
* a block belongs to the calendar day on which it starts and is not split
  at midnight: a block from 22:00 to 02:30 is 4.5 h on the first day;
* the day's value is its longest block; violation over ``block_max_hours``
  (4 h, strictly over, compared in whole seconds), else ok.

Decisions the SPEC leaves open, taken here:

* **Rows.**  One finding per worker-day on which at least one block
  starts (a day whose only work is the tail of a block from the day before
  gets no row).
* **No sessions needed.**  Blocks are engaged time by definition, so this
  check is the same with or without a sessions table and its findings
  carry no no-sessions note.
* ``n`` is the number of completed orders in the blocks that start that
  day; ``block_orders`` those in the longest block.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.checks import _worktime as wt
from audit.findings import OK, RISK, VIOLATION, count_status, make_findings, overall_status
from audit.logs import AuditLogs
from audit.rules import thresholds as rule_thresholds
from metrics.intervals import from_seconds

CHECK = "art14.continuous_work"
EXTRA_COLUMNS = ["hours", "block_start", "block_end", "block_orders", "blocks"]


def check_continuous_work(logs: AuditLogs, *, thresholds: dict | None = None) -> pd.DataFrame:
    """The longest work block of each worker-day against the 4 h limit.

    Parameters
    ----------
    logs : AuditLogs
        Validated logs (:func:`audit.load_logs`).
    thresholds : dict, optional
        Overrides of ``block_gap_minutes`` and ``block_max_hours``.

    Returns
    -------
    DataFrame
        The findings columns (one row per worker-day on which a block
        starts; ``value`` the longest block in hours) plus ``hours``,
        ``block_start``, ``block_end`` (timestamps of the longest block),
        ``block_orders`` and ``blocks`` (blocks starting that day).
    """
    limits = {**rule_thresholds(), **(thresholds or {})}
    gap = float(limits["block_gap_minutes"]) * 60.0
    max_sec = float(limits["block_max_hours"]) * wt.HOUR
    b = wt.longest_blocks(logs, gap)
    sec = b["seconds"].to_numpy()
    status = np.where(sec > max_sec, VIOLATION, OK)
    start = from_seconds(b["block_start"].to_numpy())
    end = from_seconds(b["block_end"].to_numpy())
    detail = ("longest block " + pd.Series(start.astype(str)).str.replace("T", " ")
              + " to " + pd.Series(end.astype(str)).str.replace("T", " ")
              + " (" + wt.fmt_hours(sec) + " h, "
              + b["block_intervals"].astype(str).to_numpy() + " orders); gaps under "
              + f"{limits['block_gap_minutes']:g} min join a block; violation over "
              + f"{limits['block_max_hours']:g} h")
    day = wt.dates(b["period_start"].to_numpy())
    hours = sec / wt.HOUR
    return make_findings(
        check=CHECK, article=14, level="worker-day", subject=wt.subjects(logs, b["group"].to_numpy()),
        period_start=day, period_end=day, metric="longest_block_hours", value=np.round(hours, 4),
        threshold=float(limits["block_max_hours"]), unit="h", status=status,
        n=b["intervals"].to_numpy(), detail=detail.to_numpy(),
        hours=hours, block_start=pd.to_datetime(start), block_end=pd.to_datetime(end),
        block_orders=b["block_intervals"].to_numpy(), blocks=b["blocks"].to_numpy(),
    )


def summarize(findings: pd.DataFrame) -> dict:
    """Key figures of SPEC §6: worker-days assessed, violations and risks."""
    counts = count_status(findings["status"])
    return {"status": overall_status(findings["status"]), "n": int(len(findings)),
            "worker_days": int(len(findings)), "violations": counts[VIOLATION], "risks": counts[RISK]}
