"""Exceptions raised by gigaudit.

Every error a user can cause derives from :class:`AuditError`; the command
line prints its message as one line and exits 1, so no traceback reaches a
command-line user.  The subclasses also derive from a built-in exception so a
caller's ``except ValueError`` / ``except LookupError`` keeps working.
"""
from __future__ import annotations


class AuditError(Exception):
    """Base class: the audit could not run; the message is for the user."""


class InputError(AuditError, ValueError):
    """An input file cannot be read, or lacks a required column."""


class RuleError(AuditError, LookupError):
    """A region, date or rule value is not covered by the rules tables."""


class CalendarError(AuditError, LookupError):
    """A holiday year is covered neither by the calendar package nor by overrides."""


class AuditWarning(UserWarning):
    """Something the user should know about; the run goes on."""


class DataQualityWarning(AuditWarning):
    """The data allow the check to run, with a caveat."""
