"""The canonical logs of one platform, read, validated and ready for checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit import _messages as msg
from audit.exceptions import InputError
from audit.ingest import REJECTED_COLUMNS, SUFFIXES, SourceFile, read_raw, sha256_file, validate_table
from audit.profiles import Profile, load_profile
from audit.schema import TABLES

TABLE_NAMES = tuple(TABLES)


@dataclass
class AuditLogs:
    """A platform's canonical tables (SPEC §3) after validation.

    Attributes
    ----------
    orders : DataFrame
        Valid orders with an added ``region_code`` (the rules tables' key).
    sessions, workers, payouts, weather : DataFrame or None
        ``None`` when the table was not given.
    rejected : DataFrame
        ``file, line, table, column, value, reason`` of every rejected row.
    sources : list of SourceFile
        What was read from each file (name, SHA-256, rows read and rejected).
    profile : Profile
        The mapping profile used.
    holiday_overrides : path or DataFrame, optional
        The user's holiday override file (:func:`audit.calendar.holiday_days`).
    """

    orders: pd.DataFrame
    sessions: pd.DataFrame | None = None
    workers: pd.DataFrame | None = None
    payouts: pd.DataFrame | None = None
    weather: pd.DataFrame | None = None
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    sources: list[SourceFile] = field(default_factory=list)
    profile: Profile = field(default_factory=Profile.default)
    holiday_overrides: object = None
    cache: dict = field(default_factory=dict, repr=False)

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    def lacks(self, need: str) -> str | None:
        """Why a need (``"orders.pay"``, ``"sessions"``, ``"worker_ids"``) is unmet, or None.

        A column lacks when the table is absent, the column is absent, or
        every value of it is missing (a profile's ``absent`` columns).
        """
        if need == "worker_ids":
            return None if self.profile.worker_ids else "the export has no worker id"
        table, _, column = need.partition(".")
        t = self.table(table)
        if t is None:
            return f"no {table} table"
        if column and (column not in t.columns or t[column].isna().all()):
            return f"no {table}.{column} values"
        return None

    @property
    def completed(self) -> pd.DataFrame:
        """Completed orders (the only ones any check counts, SPEC §3)."""
        if "completed" not in self.cache:
            o = self.orders
            self.cache["completed"] = o[o["status"] == "completed"].reset_index(drop=True)
        return self.cache["completed"]

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day with an accepted order."""
        acc = self.orders["accepted_at"]
        return acc.min().normalize(), acc.max().normalize()

    def __repr__(self) -> str:
        parts = [f"{n}={len(t):,}" for n in TABLE_NAMES if (t := self.table(n)) is not None]
        return f"AuditLogs({', '.join(parts)}, rejected={len(self.rejected):,})"


def find_table_file(folder: Path, stem: str) -> Path | None:
    """The file ``stem.csv|.parquet|.xlsx`` in ``folder``, or None."""
    for suffix in SUFFIXES:
        p = folder / f"{stem}{suffix}"
        if p.is_file():
            return p
    return None


def resolve_inputs(folder, given: dict, prof: Profile) -> dict:
    """Fill each table not given explicitly from ``folder`` (file stems per the profile).

    Raises
    ------
    InputError
        The folder is missing, or no orders file is found or given.
    """
    given = dict(given)
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(msg.FILE_NOT_FOUND.format(table="folder", path=folder))
        for name in TABLE_NAMES:
            if given[name] is None:
                given[name] = find_table_file(folder, prof.files.get(name, name))
        if given["orders"] is None:
            raise InputError(msg.NO_ORDERS_FILE.format(path=folder))
    if given["orders"] is None:
        raise InputError(msg.NO_ORDERS_FILE.format(path="the arguments"))
    return given


def load_logs(folder: str | Path | None = None, *, orders=None, sessions=None, workers=None,
              payouts=None, weather=None, profile: str | Path | Profile | None = None,
              region: str | None = None, holidays=None) -> AuditLogs:
    """Read and validate a platform's logs.

    Parameters
    ----------
    folder : path, optional
        A folder holding ``orders.*`` and, where there are, ``sessions.*``,
        ``workers.*``, ``payouts.*`` and ``weather.*`` (CSV, Parquet or
        Excel).  Files named explicitly take precedence.
    orders, sessions, workers, payouts, weather : path or DataFrame, optional
        Each table as a file or an in-memory DataFrame (raw, before mapping).
    profile : path, built-in name or Profile, optional
        The mapping profile of the export.
    region : str, optional
        Default region for orders that have none (overrides the profile's).
    holidays : path or DataFrame, optional
        Holiday override file (adds or removes days; covers years the
        calendar package does not).

    Returns
    -------
    AuditLogs

    Raises
    ------
    InputError
        A file is missing or unreadable, or lacks a required column.
    RuleError
        An order's region is not a key of the rules tables.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    if region:
        prof.region = region
    given = resolve_inputs(folder, {"orders": orders, "sessions": sessions, "workers": workers,
                                    "payouts": payouts, "weather": weather}, prof)

    tables: dict[str, pd.DataFrame | None] = {}
    rejected: list[pd.DataFrame] = []
    sources: list[SourceFile] = []
    for name in TABLE_NAMES:
        src = given[name]
        if src is None:
            tables[name] = None
            continue
        if isinstance(src, pd.DataFrame):
            raw, label, first, digest = src, f"<{name} DataFrame>", 2, ""
        else:
            path = Path(src)
            raw = read_raw(path, table=name)
            label = path.name
            first = 1 if path.suffix.lower() == ".parquet" else 2
            digest = sha256_file(path)
        if name == "orders" and len(raw) == 0:
            raise InputError(msg.EMPTY_TABLE.format(path=label, table=name))
        table, rej = validate_table(raw, name, profile=prof, file=label, first_line=first)
        if len(raw) and table.empty:
            raise InputError(msg.NO_ROWS_LEFT.format(path=label, table=name, line=rej["line"].iloc[0],
                                                     reason=rej["reason"].iloc[0]))
        tables[name] = table
        rejected.append(rej)
        sources.append(SourceFile(name, Path(label), digest, len(raw), len(rej)))

    _resolve_regions(tables)
    rej_all = pd.concat([r for r in rejected if len(r)], ignore_index=True) if any(
        len(r) for r in rejected) else pd.DataFrame(columns=REJECTED_COLUMNS)
    if len(rej_all):  # in file order, whatever rule found the row
        order = {n: i for i, n in enumerate(TABLE_NAMES)}
        rej_all = (rej_all.assign(_t=rej_all["table"].map(order))
                   .sort_values(["_t", "file", "line"], kind="stable").drop(columns="_t")
                   .reset_index(drop=True))
    return AuditLogs(rejected=rej_all, sources=sources, profile=prof, holiday_overrides=holidays,
                     **tables)


def _resolve_regions(tables: dict) -> None:
    """Add ``region_code`` to every table with a region (unknown keys stop the run)."""
    from audit.rules import resolve_regions

    for name in ("orders", "workers", "weather"):
        t = tables.get(name)
        if t is not None and "region" in t.columns:
            has = t["region"].notna()
            codes = pd.Series(None, index=t.index, dtype=object)
            if has.any():
                codes[has] = resolve_regions(t.loc[has, "region"].astype(str)).to_numpy()
            t["region_code"] = codes
