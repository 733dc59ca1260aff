"""Mapping profiles: read a platform's own export without editing it.

A profile is a TOML file.  Every key is optional::

    name = "example-platform"
    description = "What export this reads"
    timezone = "Asia/Shanghai"   # zone of timestamps written without one
    year = 2025                  # for MM-DD HH:MM timestamps (unit "mmdd")
    region = "shijiazhuang"      # default region for orders without one
    kind = "delivery"            # or "ridehail": without a vehicle column, delivery
                                 # orders are taken to be e-bike orders (art19.required_speed)

    [files]                      # file stems in a run folder, per table
    orders = "waybills"

    [orders.columns]             # canonical name = "export column"
    order_id = "订单编号"
    pay = "骑手收入(分)"

    [orders.units]               # fen|cent|jiao|yuan, m|km|miles, epoch_s|epoch_ms|mmdd|datetime
    pay = "fen"
    accepted_at = "epoch_s"

    [orders.defaults]            # a constant for a column the export lacks
    platform = "example"

    [orders.values.status]       # export value = canonical value
    "已完成" = "completed"
    "已取消" = "cancelled"

    [orders.derive]              # a canonical column computed from export columns
    distance_km = "haversine(sender_lat, sender_lng, recipient_lat, recipient_lng)"
    # haversine_e6(...) reads coordinates stored as integer micro-degrees
    # (degrees × 10⁶, as in Meituan's published waybills)
    order_id = "row_number()"    # exports without an order id
    customer_price = "sum(base_passenger_fare, tolls)"

    [orders.options]
    zero_missing = ["picked_up_at"]   # epoch 0 means missing
    absent = ["pay"]                  # the export has no such column: left empty, and
                                      # checks that need it say insufficient_data

Value maps compare the export's cells as text, so ``"1" = "completed"``
also matches a column that a Parquet export stores as integers.  An export
column that already bears a canonical name which the profile maps from
another column (Meituan's ``order_id`` under ``order_id = "waybill_id"``) is
dropped, never duplicated.

A top-level ``worker_ids = false`` says the export has no worker id (as in
NYC's trip records): every order is given the platform-level id
``"(all workers)"`` and per-worker checks report insufficient_data.

Profiles shipped with the package live beside this module and are named by
their stem (``gigaudit profiles`` lists them); any other profile is a path.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from audit import _messages as msg
from audit.exceptions import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MONEY = ("yuan", "cny", "fen", "cent", "jiao")
_DIST = ("km", "m", "mi", "miles", "mile")
_TIME = ("datetime", "epoch_s", "epoch_ms", "mmdd")
KNOWN_UNITS = _MONEY + _DIST + _TIME
NO_WORKER_ID = "(all workers)"
_TABLES = ("orders", "sessions", "workers", "payouts", "weather")


@dataclass
class Profile:
    """A parsed mapping profile (see the module docstring for the format)."""

    name: str = "canonical"
    description: str = "gigaudit's canonical layout (SPEC §3)"
    timezone: str = "Asia/Shanghai"
    year: int | None = None
    region: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    source: str = "<default>"
    worker_ids: bool = True
    kind: str | None = None

    @classmethod
    def default(cls) -> "Profile":
        return cls()

    # -- look-ups ---------------------------------------------------------
    def _t(self, table: str) -> dict:
        return self.tables.get(table, {})

    def unit(self, table: str, column: str) -> str | None:
        return self._t(table).get("units", {}).get(column)

    def source_name(self, table: str, column: str) -> str:
        """The export's name for a canonical column (for messages)."""
        src = self._t(table).get("columns", {}).get(column)
        return f"{src} (→ {column})" if src else column

    def absent(self, table: str) -> list[str]:
        """Canonical columns the export does not have (declared in the profile)."""
        return list(self._t(table).get("options", {}).get("absent", []))

    def zero_missing(self, table: str, column: str) -> bool:
        return column in self._t(table).get("options", {}).get("zero_missing", [])

    # -- application ----------------------------------------------------
    def apply(self, raw: pd.DataFrame, table: str) -> pd.DataFrame:
        """Rename, fill defaults and map values; the result has canonical names."""
        spec = self._t(table)
        cols = spec.get("columns", {})
        df = raw
        if cols:
            # canonical = source; a source absent from the file is reported by
            # the missing-column check under its export name (source_name).
            rename = {src: canon for canon, src in cols.items() if src in raw.columns}
            # An export column that already bears a canonical name mapped from
            # another column (Meituan's order_id when order_id = "waybill_id")
            # is superseded: dropped, never duplicated.
            shadowed = [c for c in raw.columns if c in rename.values() and c not in rename]
            df = raw.drop(columns=[c for c in cols if c in raw.columns and c not in rename.values()
                                   and c not in rename] + shadowed).rename(columns=rename)
        derive = spec.get("derive", {})
        if derive:
            df = df.copy()
            for col, expr in derive.items():
                df[col] = derive_column(df, expr, table=table, column=col, source=self.source)
        defaults = dict(spec.get("defaults", {}))
        if not self.worker_ids and table in ("orders", "sessions"):
            defaults.setdefault("worker_id", NO_WORKER_ID)
        if table == "orders" and self.region and "region" not in defaults:
            defaults["region"] = self.region
        if defaults:
            df = df.copy()
            for col, value in defaults.items():
                if col in df.columns:
                    df[col] = df[col].where(df[col].notna(), value)
                else:
                    df[col] = value
        for col, mapping in spec.get("values", {}).items():
            if col in df.columns:
                df = df.copy() if df is raw else df
                cells = df[col]
                if not (isinstance(cells.dtype, pd.StringDtype) or cells.dtype == object):
                    cells = cells.astype("string")  # TOML keys are text: 1 must match "1"
                df[col] = cells.replace({str(k): v for k, v in mapping.items()})
        return df


_DERIVE = re.compile(r"^\s*(\w+)\s*\(([^)]*)\)\s*$")
DERIVE_FUNCTIONS = ("haversine", "haversine_e6", "row_number", "sum")
MICRODEGREE = 1e-6  # haversine_e6: coordinates stored as degrees × 10⁶
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def derive_column(df: pd.DataFrame, expr: str, *, table: str, column: str,
                  source: str = "<profile>") -> pd.Series:
    """Compute a canonical column from a profile's ``derive`` expression.

    ``haversine(lat1, lng1, lat2, lng2)`` gives the great-circle (straight-line)
    distance in km — shorter than the route travelled, which reports must
    say; ``haversine_e6(…)`` the same for coordinates stored as integer
    micro-degrees (degrees × 10⁶); ``row_number()`` numbers rows from 1 (for
    exports without an order id); ``sum(a, b, …)`` adds numeric columns
    (missing counts as 0).
    """
    m = _DERIVE.match(str(expr))
    if not m or m.group(1) not in DERIVE_FUNCTIONS:
        raise InputError(msg.PROFILE_INVALID.format(
            path=source, error=f"{table}.derive.{column}: cannot read {expr!r}; "
                               f"known functions: {', '.join(DERIVE_FUNCTIONS)}"))
    func = m.group(1)
    args = [a.strip() for a in m.group(2).split(",") if a.strip()]
    missing = [a for a in args if a not in df.columns]
    if missing:
        raise InputError(msg.MISSING_COLUMNS.format(
            path=f"[{table}]", columns=", ".join(f"{a} (for {column})" for a in missing),
            table=table, found=", ".join(map(str, df.columns[:12]))))
    if func == "row_number":
        return pd.Series(np.arange(1, len(df) + 1), index=df.index).astype(str)
    nums = [pd.to_numeric(df[a], errors="coerce") for a in args]
    if func == "sum":
        return sum(n.fillna(0.0) for n in nums)
    if len(nums) != 4:
        raise InputError(msg.PROFILE_INVALID.format(
            path=source, error=f"{table}.derive.{column}: {func} takes 4 columns, got {len(nums)}"))
    scale = MICRODEGREE if func == "haversine_e6" else 1.0
    lat1, lng1, lat2, lng2 = (np.radians(n.to_numpy(dtype=float) * scale) for n in nums)
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return pd.Series(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a)), index=df.index)


def builtin_profiles() -> dict[str, Path]:
    """Profiles shipped with the package, by name."""
    root = resources.files("audit.profiles")
    return {Path(p.name).stem: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def load_profile(path_or_name: str | Path | None) -> Profile:
    """Read a mapping profile from a path or a built-in name.

    Raises
    ------
    InputError
        The profile is missing, is not valid TOML, or names an unknown unit.
    """
    if path_or_name is None:
        return Profile.default()
    path = Path(path_or_name)
    if not path.is_file():
        builtin = builtin_profiles()
        if str(path_or_name) in builtin:
            path = builtin[str(path_or_name)]
        else:
            raise InputError(msg.PROFILE_NOT_FOUND.format(path=path_or_name))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(msg.PROFILE_INVALID.format(path=path, error=str(exc).splitlines()[0])) from None
    tables = {t: data[t] for t in _TABLES if isinstance(data.get(t), dict)}
    year = data.get("year")
    for table, spec in tables.items():
        for column, unit in spec.get("units", {}).items():
            if unit not in KNOWN_UNITS:
                raise InputError(msg.PROFILE_UNKNOWN_UNIT.format(
                    path=path, unit=unit, table=table, column=column, known=", ".join(KNOWN_UNITS)))
            if unit == "mmdd" and year is None:
                raise InputError(msg.PROFILE_NEEDS_YEAR.format(path=path, table=table, column=column,
                                                                unit=unit))
    return Profile(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        timezone=str(data.get("timezone", "Asia/Shanghai")),
        year=int(year) if year is not None else None,
        region=data.get("region"),
        files=dict(data.get("files", {})),
        tables=tables,
        source=str(path),
        worker_ids=bool(data.get("worker_ids", True)),
        kind=data.get("kind"),
    )
