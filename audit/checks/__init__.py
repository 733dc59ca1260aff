"""The registry of checks (SPEC §5), as data.

Each entry names the module and function that computes a check, so adding a
check is adding a module ``audit/checks/<id>.py`` with one public function
``check_…(logs, *, thresholds=None, **options) -> DataFrame`` (the findings)
and a ``summarize(findings) -> dict`` giving the key figures of
``summary.json``.  A check whose module is not there yet is reported as
``not_run`` in the summary, never silently dropped.

A platform-level check may also expose a **map/merge split** (SPEC §8) as two
module functions named by ``split``:

* ``partial(logs, *, thresholds=None, **options) -> object``: the exact
  partial aggregates of a piece of the logs holding *whole workers* (all
  their orders, sessions and payouts: a worker-hash partition, or the whole
  platform), keyed by worker id where they are per worker;
* ``finish(parts, logs, *, thresholds=None, **options) -> DataFrame``: the
  findings from the list of partials, in any partition order; ``logs`` is
  the platform's (whole ``workers``, ``weather``, ``period`` and ``lacks``;
  its orders need not be there).

The check function itself is ``finish([partial(logs)], logs)``, so the
in-memory and partitioned runs execute the same code, and ``finish`` puts
the partials in a canonical order (worker id) before any floating-point
reduction across workers: the bytes do not depend on the partitioning.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from audit import _messages as msg
from audit.exceptions import AuditError


@dataclass(frozen=True)
class CheckSpec:
    """One check: its id, article, level, where its code lives and what it needs.

    ``needs`` lists tables, columns (``"orders.pay"``) or ``"worker_ids"``;
    when one is unmet the run reports insufficient_data and says which,
    without calling the check (never a zero or a guess, SPEC §3).
    """

    id: str
    article: int
    level: str
    module: str
    function: str
    options: dict = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    split: tuple[str, str] | None = None

    def _module(self):
        try:
            return importlib.import_module(f"audit.checks.{self.module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"audit.checks.{self.module}":
                return None
            raise

    @property
    def available(self) -> bool:
        mod = self._module()
        return mod is not None and hasattr(mod, self.function)

    @property
    def func(self) -> Callable:
        return getattr(self._module(), self.function)

    @property
    def summarize(self) -> Callable:
        return getattr(self._module(), "summarize")

    @property
    def mergeable(self) -> bool:
        """True when the module exposes the map/merge split named by ``split``."""
        mod = self._module()
        return self.split is not None and mod is not None and all(hasattr(mod, f) for f in self.split)

    @property
    def partial(self) -> Callable:
        return getattr(self._module(), self.split[0])

    @property
    def finish(self) -> Callable:
        return getattr(self._module(), self.split[1])


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("art12.minimum_wage", 12, "worker-week", "art12_minimum_wage", "check_minimum_wage",
              {"time_base": "online"},
              needs=("orders.pay", "worker_ids")),
    CheckSpec("art12.minimum_wage_engaged", 12, "worker-week", "art12_minimum_wage",
              "check_minimum_wage", {"time_base": "engaged"},
              needs=("orders.pay", "worker_ids")),
    CheckSpec("art12.payment_timeliness", 12, "payout", "art12_payment_timeliness",
              "check_payment_timeliness",
              needs=("payouts",)),
    CheckSpec("art12.deductions", 12, "worker-month", "art12_deductions", "check_deductions",
              needs=("payouts",)),
    CheckSpec("art13.holiday_premium", 13, "platform", "art13_premium", "check_premium",
              {"kind": "holiday"},
              needs=("orders.pay", "orders.region_code", "worker_ids"),
              split=("partial_premium", "finish_premium")),
    CheckSpec("art13.weather_premium", 13, "platform", "art13_premium", "check_premium",
              {"kind": "weather"},
              needs=("orders.pay", "orders.region_code", "weather", "worker_ids"),
              split=("partial_premium", "finish_premium")),
    CheckSpec("art14.daily_hours", 14, "worker-day", "art14_daily_hours", "check_daily_hours",
              needs=("worker_ids",)),
    CheckSpec("art14.continuous_work", 14, "worker-day", "art14_continuous_work",
              "check_continuous_work",
              needs=("worker_ids",)),
    CheckSpec("art14.weekly_rest", 14, "worker-week", "art14_weekly_rest", "check_weekly_rest",
              needs=("worker_ids",)),
    CheckSpec("art14.weekly_hours", 14, "worker-week", "art14_weekly_hours", "check_weekly_hours",
              needs=("worker_ids",)),
    CheckSpec("art19.late_rate", 19, "platform", "art19_late_rate", "check_late_rate",
              needs=("orders.promised_at",),
              split=("partial_late_rate", "finish_late_rate")),
    CheckSpec("art19.deadline_percentile", 19, "platform", "art19_deadline_percentile",
              "check_deadline_percentile",
              needs=("orders.promised_at", "orders.distance_km"),
              split=("partial_deadline_percentile", "finish_deadline_percentile")),
    CheckSpec("art19.required_speed", 19, "platform", "art19_required_speed", "check_required_speed",
              needs=("orders.promised_at", "orders.picked_up_at", "orders.distance_km"),
              split=("partial_required_speed", "finish_required_speed")),
    CheckSpec("art19.deadline_ratchet", 19, "platform", "art19_deadline_ratchet",
              "check_deadline_ratchet",
              needs=("orders.promised_at", "orders.distance_km"),
              split=("partial_deadline_ratchet", "finish_deadline_ratchet")),
    CheckSpec("art19.penalty_intensity", 19, "worker-week", "art19_penalty_intensity",
              "check_penalty_intensity",
              needs=("orders.pay", "worker_ids")),
    CheckSpec("art19.pay_opacity", 19, "platform", "art19_pay_opacity", "check_pay_opacity",
              needs=("orders.pay", "orders.distance_km"),
              split=("partial_pay_opacity", "finish_pay_opacity")),
    CheckSpec("art19.take_rate", 19, "platform", "art19_take_rate", "check_take_rate",
              needs=("orders.pay", "orders.customer_price"),
              split=("partial_take_rate", "finish_take_rate")),
    CheckSpec("art19.pay_rule_change", 19, "platform", "art19_pay_rule_change",
              "check_pay_rule_change",
              needs=("orders.pay", "orders.distance_km"),
              split=("partial_pay_rule_change", "finish_pay_rule_change")),
    CheckSpec("art10.group_disparity", 10, "group", "art10_group_disparity", "check_group_disparity",
              needs=("workers", "worker_ids"),
              split=("partial_group_disparity", "finish_group_disparity")),
)

CHECK_IDS = tuple(c.id for c in CHECKS)


def select_checks(names: str | list[str] | None) -> tuple[CheckSpec, ...]:
    """Checks chosen by id or prefix (``art12``, ``art14.daily_hours``); all when None."""
    if names is None:
        return CHECKS
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    chosen: list[CheckSpec] = []
    for name in (n.strip() for n in names):
        hits = [c for c in CHECKS if c.id == name or c.id.startswith(name + ".")]
        if not hits:
            raise AuditError(msg.UNKNOWN_CHECK.format(name=name, known=", ".join(CHECK_IDS)))
        chosen.extend(h for h in hits if h not in chosen)
    return tuple(c for c in CHECKS if c in chosen)


__all__ = ["CHECKS", "CHECK_IDS", "CheckSpec", "select_checks"]
