"""The canonical input tables (SPEC §3), declared as data.

Each :class:`TableSpec` says which columns a table has, which are required,
how each is parsed and which values are allowed.  :mod:`audit.ingest` applies
these declarations column by column with vectorised pandas operations, so a
rule is written once here and never repeated in code.

Design note: SPEC §3 suggests pandera "or equivalent".  A row that breaks a
rule must be *moved* to ``rejected_rows.csv`` with its file, line and a
sentence-long reason, and parsing errors (``'2025-13-01'``) must be reported
with the raw text.  pandera's lazy validation reports failures after
coercion, which loses the raw text, so this module keeps pandera's shape (a
declarative schema, a failure table with ``file, line, table, column, value,
reason``) and applies it with plain vectorised pandas.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TIME = "time"
NUMBER = "number"
TEXT = "text"
DATE = "date"


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    Parameters
    ----------
    name : str
        Canonical name.
    kind : {"time", "date", "number", "text"}
        How the raw value is parsed.
    required : bool
        The column must be present in the file (or given by a profile default).
    nonneg : bool
        Numbers below zero are rejected.
    default : object
        Value used when the column is absent or the cell is empty.
    choices : tuple of str, optional
        Allowed values for text columns.
    """

    name: str
    kind: str
    required: bool = False
    nonneg: bool = False
    default: object = None
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns and the key that must be unique."""

    name: str
    columns: tuple[ColumnSpec, ...]
    unique: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


ORDERS = TableSpec(
    "orders",
    (
        ColumnSpec("order_id", TEXT, required=True),
        ColumnSpec("worker_id", TEXT, required=True),
        ColumnSpec("region", TEXT, required=True),
        ColumnSpec("accepted_at", TIME, required=True),
        ColumnSpec("delivered_at", TIME, required=True),
        ColumnSpec("pay", NUMBER, required=True, nonneg=True),
        ColumnSpec("picked_up_at", TIME),
        ColumnSpec("promised_at", TIME),
        ColumnSpec("distance_km", NUMBER, nonneg=True),
        ColumnSpec("bonus", NUMBER, nonneg=True, default=0.0),
        ColumnSpec("tip", NUMBER, nonneg=True, default=0.0),
        ColumnSpec("allowance", NUMBER, nonneg=True, default=0.0),
        ColumnSpec("penalty", NUMBER, nonneg=True, default=0.0),
        ColumnSpec("customer_price", NUMBER, nonneg=True),
        ColumnSpec("status", TEXT, default="completed", choices=("completed", "cancelled")),
        ColumnSpec("platform", TEXT),
    ),
    unique=("order_id",),
)

SESSIONS = TableSpec(
    "sessions",
    (
        ColumnSpec("worker_id", TEXT, required=True),
        ColumnSpec("login_at", TIME, required=True),
        ColumnSpec("logout_at", TIME, required=True),
    ),
)

WORKERS = TableSpec(
    "workers",
    (
        ColumnSpec("worker_id", TEXT, required=True),
        ColumnSpec(
            "employment_form",
            TEXT,
            choices=("labor_contract", "written_agreement", "independent"),
        ),
        ColumnSpec("gender", TEXT),
        ColumnSpec("birth_year", NUMBER),
        ColumnSpec("region", TEXT),
        ColumnSpec("vehicle", TEXT, choices=("ebike", "car", "truck")),
        ColumnSpec("joined_on", DATE),
    ),
    unique=("worker_id",),
)

PAYOUTS = TableSpec(
    "payouts",
    (
        ColumnSpec("worker_id", TEXT, required=True),
        ColumnSpec("period_start", DATE, required=True),
        ColumnSpec("period_end", DATE, required=True),
        ColumnSpec("gross", NUMBER, required=True, nonneg=True),
        ColumnSpec("deductions", NUMBER, nonneg=True, default=0.0),
        ColumnSpec("net", NUMBER),
        ColumnSpec("paid_at", TIME, required=True),
    ),
)

WEATHER = TableSpec(
    "weather",
    (
        ColumnSpec("region", TEXT, required=True),
        ColumnSpec("date", DATE, required=True),
        ColumnSpec("t_max_c", NUMBER),
        ColumnSpec("t_min_c", NUMBER),
        ColumnSpec("warning", TEXT, default=""),
    ),
    unique=("region", "date"),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (ORDERS, SESSIONS, WORKERS, PAYOUTS, WEATHER)
}
"""Every canonical table by name, in the order files are read."""

WARNING_LEVELS = ("blue", "yellow", "orange", "red")
