"""Imported once by the batch's fork server (audit/batch.py) so every audit process starts warm.

Forking a process that has already imported pandas, the checks and their
statistics libraries takes milliseconds; importing them again in each
process takes seconds.  A check module that fails to import is left for the
audit itself to report (the fork server must not die of it).
"""
from __future__ import annotations

try:
    import audit.run  # noqa: F401
    from audit.checks import CHECKS

    for _spec in CHECKS:
        _spec.available  # imports the check's module
except Exception:  # noqa: BLE001 - the audit process reports it, with the submission
    pass
