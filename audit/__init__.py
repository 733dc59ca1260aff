"""gigaudit: audit platform work against Hebei's 2021 measures (冀人社规〔2021〕5号).

Analysts work through three calls::

    import audit
    logs = audit.load_logs("data_samples/shijiazhuang")   # read and validate
    result = audit.run_audit(logs)                         # run every check
    result.findings                                        # tidy findings (SPEC §6)
"""
from __future__ import annotations

__version__ = "0.1.0"

from audit.checks import CHECK_IDS, CHECKS  # noqa: E402
from audit.exceptions import AuditError, CalendarError, InputError, RuleError  # noqa: E402
from audit.findings import FINDINGS_COLUMNS  # noqa: E402
from audit.logs import AuditLogs, load_logs  # noqa: E402
from audit.run import AuditResult, run_audit  # noqa: E402
from audit.time_base import time_base_table  # noqa: E402
from audit.worker_profile import UnknownWorkerError, WorkerProfile, worker_profile  # noqa: E402

__all__ = [
    "__version__", "load_logs", "run_audit", "AuditLogs", "AuditResult", "CHECKS", "CHECK_IDS",
    "FINDINGS_COLUMNS", "AuditError", "InputError", "RuleError", "CalendarError",
    "time_base_table", "worker_profile", "WorkerProfile", "UnknownWorkerError",
]
