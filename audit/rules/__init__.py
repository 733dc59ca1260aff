"""Rule tables: regions, minimum wages and check thresholds, each with its source.

The tables are CSV files shipped as package data beside this module and read
with :mod:`importlib.resources` (cached after the first read):

``regions.csv``
    ``code, name_zh, pinyin, aliases, parent_code, wage_area, wage_area_status,
    jurisdiction, level, note`` -- one row per region key: every county-level
    region of Hebei in the GB/T 2260 list of 2024, every prefecture city of
    Hebei, and Beijing, Shanghai and Shenzhen with their districts.
``minimum_wage.csv``
    ``wage_area, jurisdiction, effective_from, tier, hourly_cny, monthly_cny,
    rule_id, source, status`` -- one row per wage area and standard.
``thresholds.csv``
    ``key, value, unit, check, description, source, status`` -- the default
    thresholds of the checks.
``index.csv``
    ``table, version, description, retrieved_on``.

Status tags: ``V`` read in the full text of the law; ``S`` seen in a secondary
copy (news, law firm, government copy); ``U`` unverified (an example, an
elimination, a carried-over assignment or an unconfirmed date); ``T`` (thresholds
only) a toolkit's own choice with no legal source for the number.

Region keys
-----------
A region is known by its 6-digit code, its Chinese name, its pinyin or an alias
(matching ignores case, surrounding and inner whitespace and full-width forms):

* A prefecture city's own code and name mean its urban districts (市区):
  ``130100``, ``石家庄``, ``石家庄市``, ``石家庄市区`` and ``shijiazhuang`` all
  resolve to ``130100``, whose wage area is 石家庄市区. The districts counted in a
  市区 share that wage area (长安 桥西 新华 裕华 藁城 鹿泉 栾城 for Shijiazhuang;
  井陉矿区 is listed apart by the notices). Where a source names a district apart
  from the 市区 (井陉矿区, 永年区, 万全区, 崇礼区) or does not say whether a
  district is in it (峰峰矿区, 肥乡区, 鹰手营子矿区, 任泽区, 南和区), the
  district is its own wage area. District membership of a 市区 is administrative
  knowledge, not a source: ``wage_area_status`` is ``U`` for it, and
  :func:`minimum_wage` reports the weaker of that status and the wage row's.
* Pinyin is lowercase without tones, spaces or apostrophes (``changan``,
  ``zhengding``). A one-character name keeps its suffix (赵县 ``zhaoxian``,
  涉县 ``shexian``). A county named like its city keeps its suffix
  (承德县 ``chengdexian``, since ``chengde`` is the city). Where two regions
  still share a pinyin, *both* get the pinyin of their prefecture city as a
  prefix (``shijiazhuang-qiaoxi`` / ``zhangjiakou-qiaoxi``,
  ``handan-weixian`` (魏县) / ``xingtai-weixian`` (威县),
  ``chengde-longhua`` (隆化县) / ``shenzhen-longhua`` (龙华区),
  ``shijiazhuang-pingshan`` (平山县) / ``shenzhen-pingshan`` (坪山区),
  ``shijiazhuang-xinhua`` / ``cangzhou-xinhua``); unique ones stay bare.
* Chinese names are also accepted without their suffix (区, 县, 市, 自治县, 新区
  …) and prefixed with their city (``石家庄桥西区``, ``张家口市桥西区``), as long
  as the key is unique. A key that matches several regions (``桥西区``,
  ``新华区``, ``井陉``) is an error that lists them.
* Zones without a GB/T 2260 code that the wage notices list get pseudo codes
  ``1390xx`` (not used by GB/T 2260 for Hebei): 139001 雄安新区 (容城县, 安新县
  and 雄县 map to it), 139002 白沟新城, 139003 沧州渤海新区, 139004 邯郸经济开发区,
  139005 冀南新区, 139006 塞北管理区, 139007 察北管理区.
* Old names of renamed counties are aliases: 滦县 → 滦州市, 任县 → 任泽区,
  南和县 → 南和区. 邢台县 was split (襄都区, 信都区) and is no key.

Minimum wages
-------------
A standard of a jurisdiction (Hebei, Beijing, Shanghai, Shenzhen) is in force
from its ``effective_from`` until the next one. For a region and a date,
:func:`minimum_wage` finds the standard in force in the region's jurisdiction
and then the region's tier in that standard. A date before the jurisdiction's
first standard, or a standard whose sources do not give the area's tier, is a
:class:`~audit.exceptions.RuleError`: the tables never guess a tier. Tiers that
a source names only as an example (赞皇县, 顺平县 and 海兴县 in tier 4 of 2019)
are kept with status ``U``; tiers that would follow only by elimination are
left out. The 2025-12-01 Hebei standard carries the 2023 area assignment over
(the annex was not seen): all its rows are ``U``.

Thresholds
----------
``thresholds.csv`` holds every value as text in one ``value`` column.
:func:`thresholds` returns a float where the text parses as a number and the
text otherwise (``warning_levels`` = ``"orange;red"``, a ``;``-separated list).
"""
from __future__ import annotations

import datetime as _dt
import difflib
import functools
import io
import re
import unicodedata
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from audit.exceptions import RuleError

__all__ = [
    "resolve_region",
    "resolve_regions",
    "region_table",
    "minimum_wage",
    "minimum_wage_table",
    "thresholds",
    "threshold_table",
    "rules_version",
    "rule_tables",
    "rules_in_force",
    "ERR_UNKNOWN_REGION",
    "ERR_AMBIGUOUS_REGION",
    "ERR_BEFORE_FIRST_STANDARD",
    "ERR_TIER_UNKNOWN",
    "ERR_NO_STANDARD",
    "ERR_LENGTH_MISMATCH",
    "ERR_BAD_DATE",
]

# --------------------------------------------------------------------------
# Error messages (tests compare them)
# --------------------------------------------------------------------------
ERR_UNKNOWN_REGION = "unknown region {key!r}; closest known keys: {close}"
ERR_AMBIGUOUS_REGION = "region {key!r} is ambiguous: it matches {matches}; use the code or the pinyin"
ERR_BEFORE_FIRST_STANDARD = (
    "no minimum wage for {region} on {date}: the first {jurisdiction} standard "
    "in the rules tables starts on {first}"
)
ERR_TIER_UNKNOWN = (
    "tier unknown for {region} on {date}: the sources of the {jurisdiction} "
    "standard of {standard} do not give this area's tier"
)
ERR_NO_STANDARD = "no minimum-wage standard is known for {region} (jurisdiction {jurisdiction!r})"
ERR_LENGTH_MISMATCH = "region_codes and dates must have the same length, got {n_regions} and {n_dates}"
ERR_BAD_DATE = "cannot read {value!r} as a date"

_STATUS_RANK = {"V": 0, "S": 1, "U": 2}
_STRIP_SUFFIXES = (
    "满族蒙古族自治县",
    "满族自治县",
    "回族自治县",
    "自治县",
    "管理区",
    "新区",
    "新城",
    "市区",
    "区",
    "县",
    "市",
)
_TZ = "Asia/Shanghai"


# --------------------------------------------------------------------------
# Reading the tables
# --------------------------------------------------------------------------
def _read_csv(name: str) -> pd.DataFrame:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


@functools.lru_cache(maxsize=None)
def _regions() -> pd.DataFrame:
    return _read_csv("regions.csv")


@functools.lru_cache(maxsize=None)
def _region_index() -> pd.DataFrame:
    return _regions().set_index("code")


def region_table() -> pd.DataFrame:
    """Return the regions table (a copy).

    Returns
    -------
    pandas.DataFrame
        One row per region: ``code, name_zh, pinyin, aliases, parent_code,
        wage_area, wage_area_status, jurisdiction, level, note``.
    """
    return _regions().copy()


@functools.lru_cache(maxsize=None)
def _wages() -> pd.DataFrame:
    df = _read_csv("minimum_wage.csv")
    df["effective_from"] = pd.to_datetime(df["effective_from"], format="%Y-%m-%d").astype("datetime64[ns]")
    df["tier"] = df["tier"].astype("int64")
    df["hourly_cny"] = df["hourly_cny"].astype("float64")
    df["monthly_cny"] = df["monthly_cny"].astype("float64")
    return df


def minimum_wage_table() -> pd.DataFrame:
    """Return the minimum-wage table (a copy), ``effective_from`` as datetime64.

    Returns
    -------
    pandas.DataFrame
        ``wage_area, jurisdiction, effective_from, tier, hourly_cny,
        monthly_cny, rule_id, source, status``.
    """
    return _wages().copy()


@functools.lru_cache(maxsize=None)
def _standards() -> pd.DataFrame:
    """Distinct (jurisdiction, effective_from) standards, sorted."""
    w = _wages()
    return (
        w[["jurisdiction", "effective_from"]]
        .drop_duplicates()
        .sort_values(["effective_from", "jurisdiction"], kind="stable")
        .reset_index(drop=True)
    )


@functools.lru_cache(maxsize=None)
def _thresholds_df() -> pd.DataFrame:
    return _read_csv("thresholds.csv")


@functools.lru_cache(maxsize=None)
def _index() -> pd.DataFrame:
    return _read_csv("index.csv")


def _parse_value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def thresholds() -> dict[str, float | str]:
    """Return the default thresholds of the checks.

    Returns
    -------
    dict of str to float or str
        ``key -> value``; numbers as float, text (``warning_levels``) as str.

    Examples
    --------
    >>> thresholds()["block_gap_minutes"]
    20.0
    """
    df = _thresholds_df()
    return {k: _parse_value(v) for k, v in zip(df["key"], df["value"])}


def threshold_table() -> pd.DataFrame:
    """Return the thresholds table with its sources (a copy).

    Returns
    -------
    pandas.DataFrame
        ``key, value, unit, check, description, source, status``; ``value``
        is text as stored (see :func:`thresholds` for parsed values).
    """
    return _thresholds_df().copy()


def rule_tables() -> dict[str, str]:
    """Return the version of every rules table.

    Returns
    -------
    dict of str to str
        ``table name -> version`` (e.g. ``{"minimum_wage": "2026.12", ...}``).
    """
    df = _index()
    return dict(zip(df["table"], df["version"]))


def rules_version() -> str:
    """Return the version of the rules tables as a whole.

    Returns
    -------
    str
        The latest version in ``index.csv`` (versions are ``YYYY.MM``, so a
        change to any table raises it).
    """
    versions = _index()["version"]
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


# --------------------------------------------------------------------------
# Region keys
# --------------------------------------------------------------------------
def _norm(key: str) -> str:
    text = unicodedata.normalize("NFKC", str(key)).lower()
    text = re.sub(r"\s+", "", text)
    return text.replace("_", "-").replace("'", "").replace("’", "")


def _strip_suffix(name: str) -> str | None:
    for suffix in _STRIP_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@functools.lru_cache(maxsize=None)
def _key_index() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Build ``key -> code`` and ``ambiguous key -> codes``.

    Explicit keys (code, full Chinese name, pinyin, aliases) win over derived
    keys (name without suffix, city + name). A key that maps to several codes
    on its level (explicit or derived) and has no unique explicit owner is
    ambiguous.
    """
    df = _regions()
    by_code = df.set_index("code")
    explicit: dict[str, set[str]] = {}
    derived: dict[str, set[str]] = {}

    def add(table: dict[str, set[str]], key: str, code: str) -> None:
        if key:
            table.setdefault(_norm(key), set()).add(code)

    for row in df.itertuples(index=False):
        add(explicit, row.code, row.code)
        add(explicit, row.name_zh, row.code)
        add(explicit, row.pinyin, row.code)
        for alias in filter(None, row.aliases.split(";")):
            add(explicit, alias, row.code)
        names = [row.name_zh]
        stripped = _strip_suffix(row.name_zh)
        if stripped:
            names.append(stripped)
            add(derived, stripped, row.code)
        parent = row.parent_code
        if row.level not in ("city", "municipality") and parent in by_code.index:
            pname = by_code.at[parent, "name_zh"]
            pshort = _strip_suffix(pname) or pname
            for prefix in {pname, pshort}:
                for name in names:
                    add(derived, prefix + name, row.code)
    keys: dict[str, str] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    for table in (derived, explicit):  # explicit last: it overrides derived keys
        for key, codes in table.items():
            if len(codes) == 1:
                keys[key] = next(iter(codes))
                ambiguous.pop(key, None)
            else:
                keys.pop(key, None)
                ambiguous[key] = tuple(sorted(codes))
    return keys, ambiguous


def _label(code: str) -> str:
    df = _region_index()
    if code in df.index:
        return f"{df.at[code, 'name_zh']} ({code})"
    return code


def resolve_region(key: str) -> str:
    """Resolve a region key to its canonical 6-digit region code.

    Parameters
    ----------
    key : str
        A 6-digit code (``130102``), a Chinese name with or without its
        suffix where unambiguous (``长安区``, ``长安``, ``石家庄市区``), a pinyin
        key (``changan``, ``shijiazhuang-qiaoxi``) or an alias. Case, width and
        whitespace are ignored.

    Returns
    -------
    str
        The region code, e.g. ``"130102"``. A prefecture city's key gives the
        city code (``shijiazhuang`` → ``"130100"``), meaning its 市区.

    Raises
    ------
    RuleError
        If the key is unknown (the message lists the closest known keys) or
        matches several regions (the message lists them).

    Examples
    --------
    >>> resolve_region("Shijiazhuang")
    '130100'
    >>> resolve_region(" 长安区 ")
    '130102'
    """
    keys, ambiguous = _key_index()
    norm = _norm(key)
    if norm in keys:
        return keys[norm]
    if norm in ambiguous:
        matches = ", ".join(
            f"{_label(c)} = {_region_index().at[c, 'pinyin']}" for c in ambiguous[norm]
        )
        raise RuleError(ERR_AMBIGUOUS_REGION.format(key=key, matches=matches))
    close = difflib.get_close_matches(norm, list(keys) + list(ambiguous), n=5, cutoff=0.5)
    raise RuleError(ERR_UNKNOWN_REGION.format(key=key, close=", ".join(close) if close else "(none)"))


def resolve_regions(keys: pd.Series) -> pd.Series:
    """Resolve a Series of region keys to region codes (vectorised).

    Parameters
    ----------
    keys : pandas.Series
        Region keys, as for :func:`resolve_region`. Missing values stay missing.

    Returns
    -------
    pandas.Series
        Region codes (str), same index and name as ``keys``.

    Raises
    ------
    RuleError
        For the first unknown or ambiguous key (sorted), as :func:`resolve_region`.
    """
    keys = pd.Series(keys) if not isinstance(keys, pd.Series) else keys
    uniques = pd.unique(keys.dropna())
    mapping = {k: resolve_region(str(k)) for k in sorted(uniques, key=str)}
    return keys.map(mapping).astype(object)


# --------------------------------------------------------------------------
# Minimum wages
# --------------------------------------------------------------------------
def _to_days(values: Any, index: pd.Index) -> pd.Series:
    """Dates or timestamps as naive datetime64 days in China Standard Time."""
    s = pd.Series(values, index=index) if not isinstance(values, pd.Series) else values
    if not (pd.api.types.is_datetime64_any_dtype(s)):
        try:
            s = pd.to_datetime(s)
        except (ValueError, TypeError) as exc:
            bad = next((v for v in s if _bad_date(v)), s.iloc[0] if len(s) else None)
            raise RuleError(ERR_BAD_DATE.format(value=bad)) from exc
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(_TZ).dt.tz_localize(None)
    return s.dt.normalize().astype("datetime64[ns]")


def _bad_date(value: Any) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return True
    return False


def _worse_status(a: pd.Series, b: pd.Series) -> pd.Series:
    ra = a.map(_STATUS_RANK).fillna(-1)
    rb = b.map(_STATUS_RANK).fillna(-1)
    return a.where(ra >= rb, b)


def minimum_wage(region_codes: Any, dates: Any) -> pd.DataFrame:
    """Look up the minimum wage in force for each region and date.

    Parameters
    ----------
    region_codes : pandas.Series, array-like or str
        Region codes or any region keys (resolved with :func:`resolve_regions`).
        A scalar is broadcast to the length of ``dates``.
    dates : pandas.Series, array-like or date-like
        Dates or timestamps; tz-aware values are converted to China Standard
        Time first, then the calendar day is used. A scalar is broadcast.

    Returns
    -------
    pandas.DataFrame
        Aligned to the input (the index of ``region_codes`` if it is a Series,
        else of ``dates``, else a RangeIndex), with columns ``hourly_minimum``
        and ``monthly_minimum`` (CNY), ``tier``, ``rule_id``, ``source``,
        ``status`` (the weaker of the wage row's status and the region's
        ``wage_area_status``), ``wage_area`` and ``effective_from``. Rows with a
        missing region or date are all missing.

    Raises
    ------
    RuleError
        For an unknown region, a date before the first standard of the
        region's jurisdiction (:data:`ERR_BEFORE_FIRST_STANDARD`), or a standard
        whose sources give no tier for the region (:data:`ERR_TIER_UNKNOWN`).
        The first offending (region, date) in sorted order is named.

    Examples
    --------
    >>> minimum_wage(["shijiazhuang"], ["2024-06-01"])["hourly_minimum"].tolist()
    [22.0]
    """
    r_scalar = np.ndim(region_codes) == 0
    d_scalar = np.ndim(dates) == 0
    if isinstance(region_codes, pd.Series):
        index = region_codes.index
    elif isinstance(dates, pd.Series):
        index = dates.index
    else:
        n = 1 if (r_scalar and d_scalar) else len(dates if r_scalar else region_codes)
        index = pd.RangeIndex(n)
    n = len(index)
    if r_scalar:
        region_codes = [region_codes] * n
    if d_scalar:
        dates = [dates] * n
    if len(region_codes) != len(dates):
        raise ValueError(ERR_LENGTH_MISMATCH.format(n_regions=len(region_codes), n_dates=len(dates)))
    regions = pd.Series(np.asarray(region_codes, dtype=object), index=index)
    days = _to_days(np.asarray(dates) if not isinstance(dates, pd.Series) else dates.set_axis(index), index)
    codes = resolve_regions(regions)

    reg = _region_index()
    frame = pd.DataFrame({"code": codes, "date": days}, index=index)
    valid = frame["code"].notna() & frame["date"].notna()
    pairs = frame.loc[valid].drop_duplicates().copy()
    pairs["wage_area"] = pairs["code"].map(reg["wage_area"])
    pairs["jurisdiction"] = pairs["code"].map(reg["jurisdiction"])
    pairs["area_status"] = pairs["code"].map(reg["wage_area_status"])
    pairs = pairs.sort_values(["date", "code"], kind="stable")

    standards = _standards()
    known = pairs["jurisdiction"].isin(standards["jurisdiction"])
    if not known.all():
        bad = pairs.loc[~known].iloc[0]
        raise RuleError(ERR_NO_STANDARD.format(region=_label(bad["code"]), jurisdiction=bad["jurisdiction"]))
    in_force = pd.merge_asof(
        pairs.reset_index(drop=True),
        standards.rename(columns={"effective_from": "standard"}),
        left_on="date",
        right_on="standard",
        by="jurisdiction",
        direction="backward",
    )
    before = in_force["standard"].isna()
    if before.any():
        bad = in_force.loc[before].iloc[0]
        first = standards.loc[standards["jurisdiction"] == bad["jurisdiction"], "effective_from"].min()
        raise RuleError(
            ERR_BEFORE_FIRST_STANDARD.format(
                region=_label(bad["code"]),
                date=bad["date"].date().isoformat(),
                jurisdiction=bad["jurisdiction"].capitalize(),
                first=first.date().isoformat(),
            )
        )
    wages = _wages().rename(columns={"effective_from": "standard"})
    merged = in_force.merge(
        wages.drop(columns="jurisdiction"), on=["wage_area", "standard"], how="left", validate="many_to_one"
    )
    unknown = merged["tier"].isna()
    if unknown.any():
        bad = merged.loc[unknown].iloc[0]
        raise RuleError(
            ERR_TIER_UNKNOWN.format(
                region=_label(bad["code"]),
                date=bad["date"].date().isoformat(),
                jurisdiction=bad["jurisdiction"].capitalize(),
                standard=bad["standard"].date().isoformat(),
            )
        )
    merged["status"] = _worse_status(merged["status"], merged["area_status"])
    merged = merged.rename(
        columns={"hourly_cny": "hourly_minimum", "monthly_cny": "monthly_minimum", "standard": "effective_from"}
    )
    cols = ["hourly_minimum", "monthly_minimum", "tier", "rule_id", "source", "status", "wage_area", "effective_from"]
    out = frame.reset_index(drop=True).merge(merged[["code", "date", *cols]], on=["code", "date"], how="left")
    out = out[cols]
    out["tier"] = out["tier"].astype("Int64")
    out.index = index
    return out


# --------------------------------------------------------------------------
# What is in force
# --------------------------------------------------------------------------
def _areas_in_force(day: pd.Timestamp) -> list[tuple[str, pd.Series]]:
    """Every wage area's row in force on ``day``; a note where there is none."""
    reg = _region_index()
    areas = pd.DataFrame({"wage_area": sorted(set(reg["wage_area"]))})
    areas["jurisdiction"] = areas["wage_area"].map(reg["jurisdiction"])
    areas["area_status"] = areas["wage_area"].map(reg["wage_area_status"])
    std = _standards()
    std = std[std["effective_from"] <= day].groupby("jurisdiction")["effective_from"].max()
    areas["effective_from"] = areas["jurisdiction"].map(std)
    merged = areas.merge(
        _wages().drop(columns="jurisdiction"), on=["wage_area", "effective_from"], how="left"
    )
    merged["status"] = _worse_status(merged["status"], merged["area_status"])
    date = day.date().isoformat()
    out = []
    for row in merged.itertuples(index=False):
        label = _label(row.wage_area)
        juris = str(row.jurisdiction).capitalize()
        if pd.isna(row.effective_from):
            first = _standards().query("jurisdiction == @row.jurisdiction")["effective_from"].min()
            note = ERR_BEFORE_FIRST_STANDARD.format(
                region=label, date=date, jurisdiction=juris, first=first.date().isoformat()
            )
            out.append((row.wage_area, pd.Series({"source": note, "status": ""})))
        elif pd.isna(row.tier):
            note = ERR_TIER_UNKNOWN.format(
                region=label, date=date, jurisdiction=juris, standard=row.effective_from.date().isoformat()
            )
            out.append((row.wage_area, pd.Series({"source": note, "status": ""})))
        else:
            out.append(
                (
                    row.wage_area,
                    pd.Series(
                        {
                            "hourly_minimum": row.hourly_cny,
                            "monthly_minimum": row.monthly_cny,
                            "tier": int(row.tier),
                            "rule_id": row.rule_id,
                            "source": row.source,
                            "status": row.status,
                            "effective_from": row.effective_from,
                        }
                    ),
                )
            )
    return out


# --------------------------------------------------------------------------
# Rule values in force
# --------------------------------------------------------------------------
def _area_name(code: str) -> str:
    reg = _region_index()
    name = reg.at[code, "name_zh"]
    if reg.at[code, "level"] == "city" and reg.at[code, "jurisdiction"] == "hebei":
        return name[:-1] + "市区"
    return name


def rules_in_force(region: str | None = None, on: _dt.date | None = None) -> pd.DataFrame:
    """Return the rule values in force, each with its source.

    This is what ``gigaudit rules [--region R]`` prints.

    Parameters
    ----------
    region : str, optional
        A region key. Without it, every wage area is listed; areas whose tier
        on that date is not in the sources get a row with a missing value and
        a note in ``source``.
    on : datetime.date, optional
        The date; default today in China Standard Time.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, key, region, value, unit, tier, effective_from,
        rule_id, status, source``: two rows per wage area
        (``minimum_wage.hourly`` in CNY/h, ``minimum_wage.monthly`` in
        CNY/month), then one row per threshold (``table`` = ``thresholds``).

    Raises
    ------
    RuleError
        With ``region`` given: unknown region, date before the first standard
        or tier unknown, as :func:`minimum_wage`.
    """
    day = pd.Timestamp(on) if on is not None else pd.Timestamp.now(tz=_TZ).tz_localize(None).normalize()
    day = day.normalize()
    if region is not None:
        code = resolve_region(region)
        wage_rows = [(code, minimum_wage(pd.Series([code]), pd.Series([day])).iloc[0])]
    else:
        wage_rows = _areas_in_force(day)
    records: list[dict[str, Any]] = []
    for code, w in wage_rows:
        label = f"{_area_name(code)} ({code})"
        area = _region_index().at[code, "wage_area"]
        if area != code:
            label += f", wage area {_area_name(area)} ({area})"
        for key, col, unit in (
            ("minimum_wage.hourly", "hourly_minimum", "CNY/h"),
            ("minimum_wage.monthly", "monthly_minimum", "CNY/month"),
        ):
            eff = w.get("effective_from")
            records.append(
                {
                    "table": "minimum_wage",
                    "key": key,
                    "region": label,
                    "value": w.get(col, np.nan),
                    "unit": unit,
                    "tier": w.get("tier", pd.NA),
                    "effective_from": eff.date().isoformat() if isinstance(eff, pd.Timestamp) else "",
                    "rule_id": w.get("rule_id", ""),
                    "status": w.get("status", ""),
                    "source": w.get("source", ""),
                }
            )
    for row in _thresholds_df().itertuples(index=False):
        records.append(
            {
                "table": "thresholds",
                "key": row.key,
                "region": "",
                "value": _parse_value(row.value),
                "unit": row.unit,
                "tier": pd.NA,
                "effective_from": "",
                "rule_id": "",
                "status": row.status,
                "source": row.source,
            }
        )
    out = pd.DataFrame.from_records(records)
    out["tier"] = out["tier"].astype("Int64")
    return out
