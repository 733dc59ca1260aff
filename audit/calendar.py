"""Holiday days and extreme-weather days (SPEC §4).

Holiday days
------------
A *holiday day* is a day inside an official public-holiday break as the
``chinesecalendar`` package names it: ``get_holiday_detail(d)`` returns
``(True, name)`` with a name (weekends return ``(True, None)`` and are not
holiday days). That package covers 2004–2026 only (it raises
``NotImplementedError`` for other years) and cannot tell a statutory holiday
date from an observed or swapped rest day inside the break. For that the
``holidays`` package's China calendar is used (it computes any year, without
调休): a day is ``statutory`` when ``holidays`` lists it under a plain name,
not one ending in ``(observed)`` nor a ``Day off (substituted from …)``.

Overrides (a CSV or TOML file, or a DataFrame, with ``date, is_holiday,
name``) add holiday days (``is_holiday`` true) or remove them (false); they do
not change ``statutory``. A year that ``chinesecalendar`` does not cover is a
:class:`~audit.exceptions.CalendarError` unless the overrides cover it: **an
override that lists any date of a year is taken to cover that whole year**, so
for that year the holiday days are exactly the override's ``is_holiday`` true
days.

Override file formats:

* CSV (UTF-8, UTF-8 with BOM or GB18030): a header with ``date`` (YYYY-MM-DD),
  ``is_holiday`` (true/false, 1/0, yes/no, 是/否; default true when the column
  is absent) and ``name`` (optional).
* TOML: an array of ``[[holiday]]`` tables, each with ``date`` (a TOML date or
  a YYYY-MM-DD string), ``is_holiday`` (default true) and ``name``.

An override's ``name`` fills both ``holiday`` and ``holiday_zh``.

Extreme-weather days
--------------------
Per region and date: ``t_max_c >= heat_tmax_c`` (35 °C), ``t_min_c <=
cold_tmin_c`` (−10 °C), or a warning whose level is in ``warning_levels``
(orange, red); the thresholds come from :func:`audit.rules.thresholds`.
Warnings are written ``type:level`` items separated by ``;`` (levels blue,
yellow, orange, red; 蓝色/黄色/橙色/红色 and full-width ``；``/``：`` are read too,
and common Chinese warning types are given English names: 高温 → ``heat``,
暴雨 → ``rainstorm``, 寒潮 → ``cold_wave``, 暴雪 → ``snowstorm`` …).
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
import warnings as _warnings
from pathlib import Path
from typing import Any, Iterable

import chinese_calendar
import holidays as _holidays
import pandas as pd

from audit.exceptions import CalendarError, DataQualityWarning, InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "holiday_days",
    "read_holiday_overrides",
    "parse_warnings",
    "extreme_weather_days",
    "WARNING_LEVELS",
    "ERR_YEAR_NOT_COVERED",
    "ERR_OVERRIDE_MISSING",
    "ERR_OVERRIDE_UNREADABLE",
    "ERR_OVERRIDE_COLUMN",
    "ERR_OVERRIDE_DATE",
    "ERR_OVERRIDE_BOOL",
    "ERR_OVERRIDE_CONFLICT",
    "ERR_OVERRIDE_TOML",
    "ERR_OVERRIDE_TYPE",
    "ERR_WARNING_ITEM",
    "ERR_WEATHER_COLUMN",
    "ERR_WEATHER_NO_MEASURE",
    "ERR_BAD_DATES",
    "WARN_WEATHER_COLUMN",
]

WARNING_LEVELS = ("blue", "yellow", "orange", "red")
_LEVEL_ALIASES = {
    "蓝": "blue", "蓝色": "blue",
    "黄": "yellow", "黄色": "yellow",
    "橙": "orange", "橙色": "orange",
    "红": "red", "红色": "red",
}
_TYPE_ALIASES = {
    "高温": "heat", "寒潮": "cold_wave", "暴雨": "rainstorm", "暴雪": "snowstorm",
    "大风": "gale", "沙尘暴": "sandstorm", "大雾": "fog", "霾": "haze",
    "冰雹": "hail", "道路结冰": "road_icing", "雷电": "lightning", "台风": "typhoon",
    "寒冷": "cold", "低温": "cold",
}
_TZ = "Asia/Shanghai"
_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}

# ---- messages (tests compare them) ------------------------------------------------
ERR_YEAR_NOT_COVERED = "holiday calendar does not cover {year}; give an override file with --holidays"
ERR_OVERRIDE_MISSING = "holiday override file {path} does not exist"
ERR_OVERRIDE_UNREADABLE = "cannot read holiday override file {path}: {reason}"
ERR_OVERRIDE_COLUMN = (
    "holiday override file {path} lacks the column {column!r} (expected columns: date, is_holiday, name)"
)
ERR_OVERRIDE_DATE = "holiday override file {path}, {where}: cannot read date {value!r} (expected YYYY-MM-DD)"
ERR_OVERRIDE_BOOL = "holiday override file {path}, {where}: is_holiday must be true or false, got {value!r}"
ERR_OVERRIDE_CONFLICT = "holiday override file {path} gives {date} more than once with different values"
ERR_OVERRIDE_TOML = "holiday override file {path} must hold [[holiday]] tables with date, is_holiday and name"
ERR_OVERRIDE_TYPE = "overrides must be a path to a CSV or TOML file or a DataFrame, got {kind}"
ERR_WARNING_ITEM = (
    "weather warning item {item!r} is not type:level with level one of blue, yellow, orange, red"
)
ERR_WEATHER_COLUMN = "weather table lacks the column {column!r} (expected region, date, t_max_c, t_min_c, warning)"
ERR_WEATHER_NO_MEASURE = "weather table has none of the columns t_max_c, t_min_c, warning"
ERR_BAD_DATES = "cannot read {value!r} as a date"
WARN_WEATHER_COLUMN = "weather table lacks the column {column!r}: that condition is never flagged"


# ---- helpers ------------------------------------------------------------------------
def _to_days(values: Any) -> pd.Series:
    """Dates or timestamps → naive datetime64[ns] calendar days in China Standard Time."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(values) if not isinstance(values, (str, _dt.date)) else [values])
    if not pd.api.types.is_datetime64_any_dtype(s):
        try:
            s = pd.to_datetime(s, format="mixed")
        except (ValueError, TypeError) as exc:
            bad = next((v for v in s if _unparseable(v)), None)
            raise InputError(ERR_BAD_DATES.format(value=bad)) from exc
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(_TZ).dt.tz_localize(None)
    return s.dt.normalize().astype("datetime64[ns]")


def _unparseable(value: Any) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return True
    return False


def _parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# ---- overrides -------------------------------------------------------------------------
def _validate_overrides(raw: pd.DataFrame, path: str, where: Iterable[str]) -> pd.DataFrame:
    where = list(where)
    if "date" not in raw.columns:
        raise InputError(ERR_OVERRIDE_COLUMN.format(path=path, column="date"))
    dates: list[pd.Timestamp] = []
    flags: list[bool] = []
    names: list[str] = []
    raw_dates = raw["date"].tolist()
    raw_flags = raw["is_holiday"].tolist() if "is_holiday" in raw.columns else [True] * len(raw)
    raw_names = raw["name"].tolist() if "name" in raw.columns else [""] * len(raw)
    for i, (value, raw_flag, name) in enumerate(zip(raw_dates, raw_flags, raw_names)):
        try:
            day = pd.Timestamp(value.strip() if isinstance(value, str) else value)
            if pd.isna(day):
                raise ValueError
        except (ValueError, TypeError):
            raise InputError(ERR_OVERRIDE_DATE.format(path=path, where=where[i], value=value)) from None
        if day.tzinfo is not None:
            day = day.tz_convert(_TZ).tz_localize(None)
        flag = _parse_bool(raw_flag)
        if flag is None:
            raise InputError(ERR_OVERRIDE_BOOL.format(path=path, where=where[i], value=raw_flag))
        name = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name).strip()
        dates.append(day.normalize())
        flags.append(flag)
        names.append(name)
    out = pd.DataFrame(
        {
            "date": pd.Series(dates, dtype="datetime64[ns]"),
            "is_holiday": pd.Series(flags, dtype=bool),
            "name": pd.Series(names, dtype=object),
        }
    )
    dup = out.drop_duplicates().duplicated("date", keep=False)
    if dup.any():
        day = out.drop_duplicates().loc[dup, "date"].iloc[0]
        raise InputError(ERR_OVERRIDE_CONFLICT.format(path=path, date=day.date().isoformat()))
    return out.drop_duplicates("date").sort_values("date", kind="stable").reset_index(drop=True)


def read_holiday_overrides(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a holiday override file (CSV or TOML).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.toml`` file with ``[[holiday]]`` tables, or a CSV file (any other
        suffix) with the columns ``date``, ``is_holiday`` and ``name``.

    Returns
    -------
    pandas.DataFrame
        ``date`` (datetime64, day), ``is_holiday`` (bool), ``name`` (str, may be
        empty), one row per date, sorted.

    Raises
    ------
    InputError
        If the file does not exist or cannot be parsed, lacks ``date``, holds
        an unreadable date or flag (the message names the line or entry), or
        gives one date twice with different values.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(ERR_OVERRIDE_MISSING.format(path=p))
    if p.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(ERR_OVERRIDE_UNREADABLE.format(path=p, reason=exc)) from None
        entries = data.get("holiday", data.get("holidays"))
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise InputError(ERR_OVERRIDE_TOML.format(path=p))
        raw = pd.DataFrame.from_records(entries)
        if raw.empty:
            raw = pd.DataFrame(columns=["date", "is_holiday", "name"])
        where = [f"[[holiday]] entry {i + 1}" for i in range(len(raw))]
        return _validate_overrides(raw, str(p), where)
    raw = None
    last: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding=encoding, skipinitialspace=True)
            break
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(ERR_OVERRIDE_UNREADABLE.format(path=p, reason=exc)) from None
    if raw is None:
        raise InputError(ERR_OVERRIDE_UNREADABLE.format(path=p, reason=last))
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    where = [f"line {i + 2}" for i in range(len(raw))]
    return _validate_overrides(raw, str(p), where)


def _load_overrides(overrides: Any) -> pd.DataFrame | None:
    if overrides is None:
        return None
    if isinstance(overrides, pd.DataFrame):
        raw = overrides.copy()
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        return _validate_overrides(raw, "<DataFrame>", [f"row {i + 1}" for i in range(len(raw))])
    if isinstance(overrides, (str, os.PathLike)):
        return read_holiday_overrides(overrides)
    raise InputError(ERR_OVERRIDE_TYPE.format(kind=type(overrides).__name__))


# ---- holiday days ------------------------------------------------------------------------
def _is_statutory_name(name: str) -> bool:
    return bool(name) and "(observed)" not in name and not name.startswith("Day off")


def holiday_days(dates: Any, *, overrides: Any = None) -> pd.DataFrame:
    """Classify the distinct days of ``dates`` as holiday days or not.

    Parameters
    ----------
    dates : pandas.Series or array-like
        Dates or timestamps (tz-aware values are converted to China Standard
        Time, then the calendar day is used). Missing values are dropped.
    overrides : str, os.PathLike or pandas.DataFrame, optional
        Override file or table (``date, is_holiday, name``); see the module
        docstring. It adds or removes holiday days and covers the years it
        lists.

    Returns
    -------
    pandas.DataFrame
        One row per distinct day, sorted, indexed by the day (DatetimeIndex),
        with columns ``date`` (datetime64), ``is_holiday`` (bool), ``holiday``
        (English name from chinesecalendar, or the override's name; missing on
        other days), ``holiday_zh`` (Chinese name), ``statutory`` (bool: a
        statutory holiday date per the ``holidays`` package, not an observed
        or swapped rest day) and ``source`` (``chinesecalendar`` or
        ``override``).

    Raises
    ------
    CalendarError
        If a year is covered neither by chinesecalendar nor by the overrides
        (:data:`ERR_YEAR_NOT_COVERED`).
    InputError
        For a bad override file or unreadable dates.

    Examples
    --------
    >>> day = holiday_days(["2025-10-06"]).iloc[0]
    >>> bool(day["is_holiday"]), day["holiday"], bool(day["statutory"])
    (True, 'Mid-autumn Festival', True)
    """
    days = _to_days(dates).dropna()
    uniq = pd.DatetimeIndex(days.unique()).sort_values()
    ov = _load_overrides(overrides)
    ov_years = set(ov["date"].dt.year) if ov is not None else set()

    is_hol: list[bool] = []
    name_en: list[Any] = []
    name_zh: list[Any] = []
    source: list[str] = []
    missing_years: set[int] = set()
    for ts in uniq:
        d = ts.date()
        try:
            flag, name = chinese_calendar.get_holiday_detail(d)
            source.append("chinesecalendar")
        except NotImplementedError:
            # not covered: the override file is the authority for this year
            if d.year not in ov_years:
                missing_years.add(d.year)
            flag, name = False, None
            source.append("override")
        holiday = bool(flag and name)
        is_hol.append(holiday)
        name_en.append(name if holiday else None)
        try:
            name_zh.append(chinese_calendar.Holiday(name).chinese if holiday else None)
        except ValueError:
            name_zh.append(None)
    if missing_years:
        raise CalendarError(ERR_YEAR_NOT_COVERED.format(year=", ".join(str(y) for y in sorted(missing_years))))

    years = sorted({ts.year for ts in uniq})
    cal = _holidays.China(years=years, language="en_US") if years else {}
    statutory = [any(_is_statutory_name(n) for n in (cal.get_list(ts.date()) if years else [])) for ts in uniq]

    out = pd.DataFrame(
        {
            "date": uniq.astype("datetime64[ns]"),
            "is_holiday": pd.array(is_hol, dtype=bool),
            "holiday": pd.Series(name_en, dtype=object).to_numpy(),
            "holiday_zh": pd.Series(name_zh, dtype=object).to_numpy(),
            "statutory": pd.array(statutory, dtype=bool),
            "source": pd.Series(source, dtype=object).to_numpy(),
        },
        index=uniq.astype("datetime64[ns]"),
    )
    if ov is not None and len(out):
        ov_idx = ov.set_index("date")
        hit = out.index.intersection(ov_idx.index)
        if len(hit):
            flags = ov_idx.loc[hit, "is_holiday"].astype(bool)
            names = ov_idx.loc[hit, "name"]
            labels = names.where(flags & (names != ""), None).astype(object)
            out.loc[hit, "is_holiday"] = flags.to_numpy()
            out.loc[hit, "holiday"] = labels.to_numpy()
            out.loc[hit, "holiday_zh"] = labels.to_numpy()
            out.loc[hit, "source"] = "override"
    out["is_holiday"] = out["is_holiday"].astype(bool)
    out.index.name = None
    return out


# ---- weather --------------------------------------------------------------------------
def parse_warnings(series: pd.Series, *, errors: str = "raise") -> pd.DataFrame:
    """Split weather-warning strings into one row per item.

    Parameters
    ----------
    series : pandas.Series
        Strings such as ``"heat:orange;rainstorm:yellow"``; empty or missing
        means no warning.
    errors : {"raise", "ignore"}, default "raise"
        What to do with an item that is not ``type:level`` with a known level:
        raise :class:`InputError`, or drop it.

    Returns
    -------
    pandas.DataFrame
        Columns ``type`` and ``level`` (lowercase), one row per item, indexed
        by the label of the row the item came from (labels repeat when a row
        has several items).

    Raises
    ------
    InputError
        For a malformed item when ``errors="raise"`` (:data:`ERR_WARNING_ITEM`).
    """
    s = series if isinstance(series, pd.Series) else pd.Series(series)
    s = s.astype(object).where(s.notna(), "").astype(str).str.normalize("NFKC")
    items = s.str.split(";").explode().str.strip()
    items = items[items.notna() & (items != "")]
    parts = items.str.split(":", n=1, expand=True) if len(items) else pd.DataFrame(index=items.index, columns=[0, 1])
    if parts.shape[1] == 1:
        parts[1] = None
    typ = parts[0].astype(object).str.strip().str.lower()
    typ = typ.map(lambda v: _TYPE_ALIASES.get(v, v) if isinstance(v, str) else v)
    lvl = parts[1].astype(object).str.strip().str.lower()
    lvl = lvl.map(lambda v: _LEVEL_ALIASES.get(v, v) if isinstance(v, str) else v)
    ok = typ.notna() & (typ != "") & lvl.isin(WARNING_LEVELS)
    if not ok.all() and errors == "raise":
        raise InputError(ERR_WARNING_ITEM.format(item=items[~ok].iloc[0]))
    out = pd.DataFrame({"type": typ[ok].astype(object), "level": lvl[ok].astype(object)})
    return out


def extreme_weather_days(weather: pd.DataFrame, *, thresholds: dict[str, Any] | None = None) -> pd.DataFrame:
    """Flag extreme-weather days per region and date.

    Parameters
    ----------
    weather : pandas.DataFrame
        ``region, date`` and any of ``t_max_c``, ``t_min_c``, ``warning``
        (SPEC §3). Several rows of one region and date are combined. Regions
        are used as given (resolve them first for canonical codes).
    thresholds : dict, optional
        Overrides of ``heat_tmax_c``, ``cold_tmin_c`` and ``warning_levels``
        (a ``;``-separated string or a list); the rest come from
        :func:`audit.rules.thresholds`.

    Returns
    -------
    pandas.DataFrame
        One row per ``region, date`` (sorted), with ``is_extreme``, ``heat``
        (``t_max_c >= heat_tmax_c``), ``cold`` (``t_min_c <= cold_tmin_c``),
        ``warning`` (the qualifying items, ``;``-joined, e.g.
        ``"rainstorm:orange"``; empty if none) and ``kind`` (``;``-joined
        label of what made the day extreme: ``heat``, ``cold`` and the warning
        items; empty if not extreme).

    Raises
    ------
    InputError
        If ``region`` or ``date`` is missing, none of the measure columns is
        present, or a warning item or date is malformed.

    Warns
    -----
    DataQualityWarning
        For each absent measure column (that condition is never flagged).
    """
    from audit.rules import thresholds as _default_thresholds

    for column in ("region", "date"):
        if column not in weather.columns:
            raise InputError(ERR_WEATHER_COLUMN.format(column=column))
    measures = [c for c in ("t_max_c", "t_min_c", "warning") if c in weather.columns]
    if not measures:
        raise InputError(ERR_WEATHER_NO_MEASURE)
    for column in ("t_max_c", "t_min_c", "warning"):
        if column not in weather.columns:
            _warnings.warn(WARN_WEATHER_COLUMN.format(column=column), DataQualityWarning, stacklevel=2)

    limits: dict[str, Any] = dict(_default_thresholds())
    limits.update(thresholds or {})
    levels = limits["warning_levels"]
    if isinstance(levels, str):
        levels = [v.strip().lower() for v in levels.split(";") if v.strip()]
    levels = set(levels)

    w = weather.reset_index(drop=True)
    frame = pd.DataFrame({"region": w["region"], "date": _to_days(w["date"])})
    n = len(w)
    t_max = pd.to_numeric(w["t_max_c"], errors="coerce") if "t_max_c" in w else pd.Series(float("nan"), index=w.index)
    t_min = pd.to_numeric(w["t_min_c"], errors="coerce") if "t_min_c" in w else pd.Series(float("nan"), index=w.index)
    frame["heat"] = (t_max >= float(limits["heat_tmax_c"])).fillna(False).astype(bool)
    frame["cold"] = (t_min <= float(limits["cold_tmin_c"])).fillna(False).astype(bool)

    grouped = frame.groupby(["region", "date"], sort=True, dropna=False)[["heat", "cold"]].any().reset_index()
    grouped["warning"] = ""
    if "warning" in w and n:
        items = parse_warnings(w["warning"])
        items = items[items["level"].isin(levels)]
        if len(items):
            label = items["type"] + ":" + items["level"]
            keyed = pd.DataFrame(
                {"region": frame.loc[items.index, "region"].to_numpy(),
                 "date": frame.loc[items.index, "date"].to_numpy(),
                 "item": label.to_numpy()}
            ).drop_duplicates()
            joined = keyed.groupby(["region", "date"], sort=False, dropna=False)["item"].agg(";".join)
            grouped = grouped.drop(columns="warning").merge(
                joined.rename("warning").reset_index(), on=["region", "date"], how="left"
            )
            grouped["warning"] = grouped["warning"].fillna("")
    grouped["is_extreme"] = grouped["heat"] | grouped["cold"] | (grouped["warning"] != "")
    kind = pd.Series("", index=grouped.index, dtype=object)
    kind = kind.where(~grouped["heat"], "heat")
    kind = kind.where(~grouped["cold"], (kind + ";cold").str.lstrip(";"))
    kind = kind.where(grouped["warning"] == "", (kind + ";" + grouped["warning"]).str.lstrip(";"))
    grouped["kind"] = kind.astype(object)
    return grouped[["region", "date", "is_extreme", "heat", "cold", "warning", "kind"]]
