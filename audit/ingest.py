"""Read platform logs into the canonical tables (SPEC §3).

Reading is three steps, each vectorised:

1. :func:`read_raw` reads a CSV (UTF-8, UTF-8 with BOM or GB18030, recognised
   without being told), Parquet or Excel file as it is;
2. a mapping profile (:mod:`audit.profiles`) renames the export's columns
   and converts units (fen → yuan, epoch seconds → timestamps, miles → km);
3. :func:`validate_table` parses every column per :mod:`audit.schema`,
   converts time zones to China Standard Time and moves each row that breaks
   a rule to the rejected table with its file, line and reason.

Timestamps leave this module as *naive* ``datetime64`` values in China
Standard Time (UTC+8, no daylight saving), so day and ISO-week boundaries
are plain arithmetic downstream.
"""
from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit import _messages as msg
from audit.exceptions import InputError
from audit.profiles import Profile
from audit.schema import DATE, NUMBER, TABLES, TEXT, TIME, WARNING_LEVELS, TableSpec

CST = "Asia/Shanghai"
SUFFIXES = (".csv", ".parquet", ".xlsx", ".xls")
REJECTED_COLUMNS = ["file", "line", "table", "column", "value", "reason"]
_SNIFF_BYTES = 1 << 22


@dataclass
class SourceFile:
    """What was read from one input file (for the audit trail)."""

    table: str
    path: Path
    sha256: str
    rows_read: int
    rows_rejected: int = 0

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "file": self.path.name,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
        }


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_encoding(path: Path) -> str:
    """Return the text encoding of a CSV file.

    UTF-8 (with or without a byte-order mark) is tried first, then GB18030
    (a superset of GBK and GB2312, which Chinese platform exports use), then
    charset-normalizer's best guess.  Only the first 4 MiB are examined; an
    incremental decoder tolerates a character cut at the sample's end.
    """
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    for enc in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
    except ImportError:  # pragma: no cover - charset-normalizer is a dependency
        best = None
    if best is None:
        raise InputError(msg.UNKNOWN_ENCODING.format(path=path))
    return best.encoding


def read_raw(path: str | Path, *, table: str = "orders") -> pd.DataFrame:
    """Read one file as it is, every CSV/Excel cell as text.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.parquet`` or ``.xlsx`` file.
    table : str
        The canonical table it is read for (used in messages only).

    Returns
    -------
    DataFrame
        The file's columns with surrounding whitespace removed from their
        names; empty cells are missing values.

    Raises
    ------
    InputError
        The file is missing, of an unknown type or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(msg.FILE_NOT_FOUND.format(table=table, path=path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            enc = detect_encoding(path)
            df = pd.read_csv(path, dtype=str, encoding=enc, skipinitialspace=True)
        elif suffix == ".parquet":
            df = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(path, dtype=str)
        else:
            raise InputError(msg.UNSUPPORTED_FORMAT.format(path=path, suffix=suffix))
    except InputError:
        raise
    except Exception as exc:  # any parser error becomes one clear line
        kind = suffix.lstrip(".").upper() or "a table"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(msg.UNREADABLE_FILE.format(path=path, kind=kind, error=first)) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


# --------------------------------------------------------------------------
# parsing helpers: each returns (parsed values, mask of cells that failed)
# --------------------------------------------------------------------------


def _present(raw: pd.Series) -> np.ndarray:
    """Cells holding a value (not missing, not blank text)."""
    if raw.dtype.kind in "OUST" or isinstance(raw.dtype, pd.StringDtype):
        s = raw.astype("string")
        return (s.notna() & (s.str.strip() != "")).to_numpy(dtype=bool, copy=True)
    return np.array(raw.notna().to_numpy(), dtype=bool)


def parse_time(raw: pd.Series, *, unit: str = "datetime", tz: str = CST,
               year: int | None = None, zero_missing: bool = False) -> pd.Series:
    """Parse timestamps into naive China Standard Time.

    Parameters
    ----------
    raw : Series
        Text, numbers (epochs) or datetimes.
    unit : {"datetime", "epoch_s", "epoch_ms", "mmdd"}
        ``mmdd`` reads ``MM-DD HH:MM[:SS]`` and takes the year from ``year``.
    tz : str
        Zone of timestamps written without one.  Timestamps that carry a zone
        or offset are converted from it.
    zero_missing : bool
        Epoch value 0 means "missing" (as in Meituan's waybills).

    Returns
    -------
    Series of datetime64
        Unparseable cells are ``NaT``.
    """
    if unit in ("epoch_s", "epoch_ms"):
        num = pd.to_numeric(raw, errors="coerce")
        if zero_missing:
            num = num.where(num != 0)
        out = pd.to_datetime(num, unit="s" if unit == "epoch_s" else "ms", utc=True, errors="coerce")
        return out.dt.tz_convert(CST).dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw
        if getattr(out.dt, "tz", None) is not None:
            return out.dt.tz_convert(CST).dt.tz_localize(None)
        return _naive_to_cst(out, tz)
    text = raw.astype("string").str.strip()
    if unit == "mmdd":
        text = str(year) + "-" + text
    # Strings with an explicit zone are parsed apart: pandas refuses to mix them.
    aware = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True, na=False).to_numpy()
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if (~aware).any():
        naive = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
        still = naive.isna() & text[~aware].notna()
        if still.any():  # other layouts (e.g. 2025年10月1日) fall back to the slow parser
            naive[still] = pd.to_datetime(text[~aware][still], format="mixed", errors="coerce")
        out[~aware] = _naive_to_cst(naive, tz).astype("datetime64[us]")
    if aware.any():
        conv = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = conv.dt.tz_convert(CST).dt.tz_localize(None).astype("datetime64[us]")
    return out


def _naive_to_cst(values: pd.Series, tz: str) -> pd.Series:
    if tz in (CST, "Asia/Chongqing", "PRC", "Etc/GMT-8", "+08:00"):
        return values
    local = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return local.dt.tz_convert(CST).dt.tz_localize(None)


def parse_number(raw: pd.Series, *, unit: str | None = None) -> pd.Series:
    """Parse numbers, converting units: fen → yuan, m → km, miles → km."""
    if pd.api.types.is_numeric_dtype(raw):
        num = raw.astype(float)
    else:
        text = raw.astype("string").str.strip().str.replace(",", "", regex=False)
        text = text.str.replace(r"^[¥￥]", "", regex=True)
        num = pd.to_numeric(text, errors="coerce").astype(float)
    factor = UNIT_FACTORS.get(unit or "", 1.0)
    return num * factor if factor != 1.0 else num


UNIT_FACTORS = {
    "yuan": 1.0, "cny": 1.0, "fen": 0.01, "cent": 0.01, "jiao": 0.1,
    "km": 1.0, "m": 0.001, "mi": 1.609344, "miles": 1.609344,
    "mile": 1.609344,
}
TIME_UNITS = ("datetime", "epoch_s", "epoch_ms", "mmdd")


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


class _Rejector:
    """Collects rejected rows: the first rule a row breaks is its reason.

    ``reason`` is a template formatted with ``column`` and ``value`` only for
    the rows that fail, or a callable that receives those rows' positions.
    """

    def __init__(self, n: int, table: str, file: str, lines: np.ndarray):
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.DataFrame] = []
        self.table, self.file, self.lines = table, file, lines

    def add(self, mask, column: str, values, reason, **kw) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.bad
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        if isinstance(values, pd.Series):
            vals = values.iloc[idx].astype("string").fillna("").to_numpy(dtype=object)
        else:
            vals = np.full(idx.size, "" if values is None else str(values), dtype=object)
        if callable(reason):
            reasons = list(reason(idx))
        else:
            reasons = [reason.format(column=column, value=v, **kw) for v in vals]
        self.parts.append(pd.DataFrame({
            "file": self.file, "line": self.lines[idx], "table": self.table,
            "column": column, "value": vals, "reason": reasons,
        }))
        self.bad |= mask

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=REJECTED_COLUMNS)
        return pd.concat(self.parts, ignore_index=True)


def validate_table(raw: pd.DataFrame, spec: TableSpec | str, *, profile: Profile | None = None,
                   file: str = "<memory>", first_line: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map, parse and validate one table.

    Parameters
    ----------
    raw : DataFrame
        The file as read by :func:`read_raw`.
    spec : TableSpec or str
        The canonical table.
    profile : Profile, optional
        Column names, units and defaults of the platform's export.
    file : str
        Name used in messages and in the rejected table.
    first_line : int
        File line of the first data row (2 for a CSV with one header line).

    Returns
    -------
    table : DataFrame
        The valid rows with canonical columns and types.
    rejected : DataFrame
        Columns ``file, line, table, column, value, reason``.

    Raises
    ------
    InputError
        A required column is missing.
    """
    spec = TABLES[spec] if isinstance(spec, str) else spec
    profile = profile or Profile.default()
    df = profile.apply(raw, spec.name)
    absent = set(profile.absent(spec.name))
    missing = [c for c in spec.required if c not in df.columns and c not in absent]
    if missing:
        raise InputError(msg.MISSING_COLUMNS.format(
            path=file, columns=", ".join(profile.source_name(spec.name, c) for c in missing),
            table=spec.name,
            found=", ".join(map(str, raw.columns[:12])) + (" …" if raw.shape[1] > 12 else "")))
    n = len(df)
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    rej = _Rejector(n, spec.name, file, lines)
    out: dict[str, pd.Series] = {}
    # A cancelled order counts for no check, so it needs no times (declined
    # waybills carry none); it is kept, not rejected.
    cancelled = (df["status"].astype("string").str.strip().str.lower() == "cancelled").to_numpy(
        dtype=bool, na_value=False) if "status" in df.columns else np.zeros(n, dtype=bool)
    for col in spec.columns:
        if col.name not in df.columns:
            if col.name in absent:
                out[col.name] = pd.Series(np.nan if col.kind == NUMBER else None, index=df.index,
                                          dtype=float if col.kind == NUMBER else object)
                if col.kind in (TIME, DATE):
                    out[col.name] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
                continue
            if col.default is not None:
                out[col.name] = pd.Series(col.default, index=df.index)
            continue
        rawcol = df[col.name]
        # text columns need no "present" mask: blank text is simply missing
        present = _present(rawcol) if col.kind != TEXT else None
        unit = profile.unit(spec.name, col.name)
        if col.kind == TIME:
            val = parse_time(rawcol, unit=unit or "datetime", tz=profile.timezone,
                             year=profile.year, zero_missing=profile.zero_missing(spec.name, col.name))
            present &= ~(val.isna().to_numpy() & _zero_epoch(rawcol, unit, profile, spec.name, col.name))
            rej.add(present & val.isna().to_numpy(), col.name, rawcol, msg.REJECT_UNPARSEABLE_TIME)
        elif col.kind == DATE:
            val = parse_time(rawcol, unit=unit or "datetime", tz=CST, year=profile.year).dt.normalize()
            rej.add(present & val.isna().to_numpy(), col.name, rawcol, msg.REJECT_UNPARSEABLE_TIME)
        elif col.kind == NUMBER:
            val = parse_number(rawcol, unit=unit)
            rej.add(present & val.isna().to_numpy(), col.name, rawcol, msg.REJECT_UNPARSEABLE_NUMBER)
            if col.nonneg:
                neg = (val < 0).to_numpy()
                rej.add(neg, col.name, val, msg.REJECT_NEGATIVE)
            if col.default is not None:
                val = val.fillna(col.default)
        else:
            val = rawcol.astype("string").str.strip()
            val = val.where(val != "")
            if col.choices:
                low = val.str.lower()
                okv = low.isin(col.choices) | low.isna()
                bad = ~okv.to_numpy(dtype=bool)
                rej.add(bad, col.name, rawcol, msg.REJECT_BAD_CHOICE, choices="/".join(col.choices))
                val = low
            if col.default is not None:
                val = val.fillna(col.default)
        if col.required:
            lacking = np.array(val.isna().to_numpy(), dtype=bool)
            if col.kind == TIME:
                lacking &= ~cancelled
            rej.add(lacking, col.name, "", msg.REJECT_MISSING)
        out[col.name] = val
    table = pd.DataFrame(out, index=df.index)
    _table_rules(table, spec, rej, profile)
    if spec.unique:
        _reject_duplicates(table, spec, rej, lines)
    good = table[~rej.bad].reset_index(drop=True)
    for col in spec.columns:
        if col.kind == TEXT and col.name in good.columns:
            if col.name == "order_id":  # one text per row: nothing to share, stays Arrow text
                good[col.name] = good[col.name].astype("str")
            else:
                good[col.name] = text_objects(good[col.name])
    return good, rej.frame()


def text_objects(values, convert=None) -> pd.Series:
    """Text as an object Series with ``None`` for missing values, one Python
    object per distinct text.

    Ids, status, region and platform repeat over millions of rows; sharing
    their objects keeps the table a pointer per cell (8 bytes) instead of a
    string object per cell (about 60 bytes).  ``values`` is a Series or an
    Arrow array; ``convert`` maps each distinct text (e.g. region key → code).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pd.Series):
        index = values.index
        if not isinstance(values.dtype, pd.StringDtype):
            values = values.astype("string")
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:
        index = None
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    enc = pc.dictionary_encode(arr)
    uniq = enc.dictionary.to_pylist()
    if convert is not None:
        uniq = [convert(v) for v in uniq]
    vals = np.empty(len(uniq) + 1, dtype=object)
    vals[:-1] = uniq
    vals[-1] = None
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
    return pd.Series(vals[idx], index=index, dtype=object, copy=False)


def _reject_duplicates(table: pd.DataFrame, spec: TableSpec, rej: _Rejector,
                       lines: np.ndarray) -> None:
    """Keep the first row of each key; later ones are rejected, naming the first."""
    keys = list(spec.unique)
    live_pos = np.flatnonzero(~rej.bad)
    # Each key column is factorized (exact equality, missing values equal to
    # each other, as DataFrame.duplicated has it) and the codes combined into
    # one integer: the repeats are then found among integers, and compared as
    # texts only on those few rows.
    code = np.zeros(len(live_pos), dtype=np.int64)
    for k in keys:
        col = table[k] if len(live_pos) == len(table) else table[k].iloc[live_pos]
        c, u = pd.factorize(col, use_na_sentinel=False)
        code, _ = pd.factorize(code * (len(u) + 1) + c.astype(np.int64))
    cand = live_pos[pd.Series(code).duplicated(keep=False).to_numpy()]
    if not len(cand):
        return
    live = table[keys].iloc[cand]
    later = live.duplicated(keep="first").to_numpy()
    if not later.any():
        return
    dup = np.zeros(len(table), dtype=bool)
    dup[cand[later]] = True
    # labels only for the rows of a repeated key: the repeats and their first rows
    repeated = live.duplicated(keep=False).to_numpy()
    involved, part = cand[repeated], live[repeated]
    label_part = part[keys[0]].astype("string").fillna("")
    for k in keys[1:]:
        label_part = label_part + "/" + part[k].astype("string").fillna("")
    label_part = label_part.to_numpy(dtype=object)
    first_line = pd.Series(lines[involved]).groupby(label_part).min()
    label = pd.Series("", index=table.index, dtype="string")
    label.iloc[involved] = label_part
    template = msg.REJECT_DUPLICATE_ORDER if spec.name == "orders" else msg.REJECT_DUPLICATE_KEY

    def reasons(idx):
        labs = label.to_numpy(dtype=object)[idx]
        firsts = first_line.reindex(labs).to_numpy()
        return [template.format(table=spec.name, value=v, first=f) for v, f in zip(labs, firsts)]

    rej.add(dup, "/".join(keys), label, reasons)


def _zero_epoch(rawcol, unit, profile, table, column) -> np.ndarray:
    """Cells that are an epoch 0 that the profile says means missing."""
    if unit in ("epoch_s", "epoch_ms") and profile.zero_missing(table, column):
        return (pd.to_numeric(rawcol, errors="coerce") == 0).to_numpy()
    return np.zeros(len(rawcol), dtype=bool)


def _table_rules(t: pd.DataFrame, spec: TableSpec, rej: _Rejector, profile: Profile) -> None:
    """Rules that involve several columns (SPEC §3)."""
    from audit.rules import thresholds

    limits = thresholds()
    if spec.name == "orders":
        bad = (t["delivered_at"] < t["accepted_at"]).to_numpy()
        rej.add(bad, "delivered_at", t["delivered_at"], msg.REJECT_DELIVERED_BEFORE_ACCEPTED)
        if "distance_km" in t:
            limit = float(limits["max_distance_km"])
            far = (t["distance_km"] > limit).to_numpy()
            rej.add(far, "distance_km", t["distance_km"], msg.REJECT_DISTANCE, limit=limit)
        if "picked_up_at" in t:
            p = t["picked_up_at"]
            outside = (p.notna() & ((p < t["accepted_at"]) | (p > t["delivered_at"]))).to_numpy()
            rej.add(outside, "picked_up_at", p, msg.REJECT_PICKED_UP_OUTSIDE)
    elif spec.name == "sessions":
        dur_h = (t["logout_at"] - t["login_at"]).dt.total_seconds() / 3600.0
        rej.add((dur_h < 0).to_numpy(), "logout_at", t["logout_at"], msg.REJECT_LOGOUT_BEFORE_LOGIN)
        limit = float(limits["max_session_hours"])
        long_ = (dur_h > limit).to_numpy()
        rej.add(long_, "logout_at", t["logout_at"],
                lambda idx: [msg.REJECT_SESSION_TOO_LONG.format(limit=limit, value=v)
                             for v in dur_h.to_numpy()[idx]])
    elif spec.name == "payouts":
        rej.add((t["period_end"] < t["period_start"]).to_numpy(), "period_end", t["period_end"],
                msg.REJECT_PERIOD)
        if "net" not in t or t["net"].isna().all():
            t["net"] = t["gross"] - t["deductions"]
        else:
            t["net"] = t["net"].fillna(t["gross"] - t["deductions"])
    elif spec.name == "weather":
        w = t["warning"].fillna("").astype(str)
        pattern = r"^\s*$|^([a-z_]+:(?:" + "|".join(WARNING_LEVELS) + r"))(;\s*[a-z_]+:(?:" + \
            "|".join(WARNING_LEVELS) + r"))*;?$"
        badw = ~w.str.lower().str.match(pattern).to_numpy(dtype=bool)
        rej.add(badw, "warning", w, msg.REJECT_WARNING)
        t["warning"] = w.str.lower()
