"""Privacy of the outputs: keyed pseudonyms for worker ids, small groups hidden, CSV cells made inert.

* :func:`pseudonymize` replaces worker ids by ``w_`` + the first 16 hex
  digits of HMAC-SHA256(key, id) — stable for one key, not reversible
  without it, and different keys give unlinkable outputs.  Computed once
  per distinct id (``pd.factorize``), so it stays fast at millions of rows.
* :func:`pseudonymize_result` applies it to every table an audit writes:
  findings (``subject`` of worker-level rows and any worker id quoted in
  ``detail``), each check's frame, the rejected rows (``value`` of
  worker_id rejections, and the id quoted in ``reason``) and any extra
  table given (``time_base.csv``, …).
* :func:`hide_small_groups` blanks group-level figures resting on fewer than
  ``group_min_workers`` workers (10): they are never shown.
* :func:`safe_csv` prefixes text cells starting with ``= + - @`` (and tab or
  carriage return) with ``'`` so a spreadsheet does not run them as
  formulas.  Numeric columns are left alone: a negative number is a number.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import replace
from functools import partial
from typing import Iterable

import numpy as np
import pandas as pd

PREFIX = "w_"
HEX_DIGITS = 16
WORKER_COLUMNS = ("worker_id",)
WORKER_LEVELS = ("worker", "worker-week", "worker-day", "worker-month", "payout")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EMPTY_KEY = "the pseudonymization key is empty; give a secret key (--pseudonymize KEY)"


def _key_bytes(key: str | bytes) -> bytes:
    k = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not k:
        raise ValueError(EMPTY_KEY)
    return k


def pseudonym(worker_id, key: str | bytes) -> str:
    """The pseudonym of one id: ``w_`` + 16 hex digits of HMAC-SHA256(key, str(id))."""
    mac = hmac.new(_key_bytes(key), str(worker_id).encode("utf-8"), hashlib.sha256)
    return PREFIX + mac.hexdigest()[:HEX_DIGITS]


def _hash_values(values: pd.Series, key: bytes) -> pd.Series:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([pseudonym(u, key) for u in uniques] + [None], dtype=object)
    out = mapped[np.where(codes < 0, len(uniques), codes)]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def pseudonymize(obj: pd.Series | pd.DataFrame, key: str | bytes, *,
                 columns: Iterable[str] | None = None) -> pd.Series | pd.DataFrame:
    """Replace worker ids by keyed pseudonyms.

    Parameters
    ----------
    obj : Series or DataFrame
        A Series of worker ids (every non-missing value is replaced), or a
        table: its ``columns`` (default: ``worker_id``) are replaced, and in
        a findings table (``subject`` and ``level`` columns) the subject of
        worker-level rows (``level`` in :data:`WORKER_LEVELS`).
    key : str or bytes
        The secret key; the same key gives the same pseudonyms.
    columns : iterable of str, optional
        Columns holding worker ids.

    Returns
    -------
    Series or DataFrame
        A copy; the input is not changed.
    """
    k = _key_bytes(key)
    if isinstance(obj, pd.Series):
        return _hash_values(obj, k)
    out = obj.copy()
    for c in (WORKER_COLUMNS if columns is None else tuple(columns)):
        if c in out.columns:
            out[c] = _hash_values(out[c], k)
    if {"subject", "level"} <= set(out.columns):
        rows = out["level"].isin(WORKER_LEVELS).to_numpy()
        if rows.any():
            subject = out["subject"].astype(object)
            subject[rows] = _hash_values(out.loc[rows, "subject"], k).to_numpy()
            out["subject"] = subject
    return out


def _replace_ids_in_text(text: pd.Series, ids: pd.Index, key: bytes) -> pd.Series:
    """Replace whole-token occurrences of known ids in free text (detail, reason)."""
    if not len(ids) or not len(text):
        return text
    known = set(map(str, ids))
    lookup: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        tok = m.group(0)
        if tok in known:
            if tok not in lookup:
                lookup[tok] = pseudonym(tok, key)
            return lookup[tok]
        return tok

    # ids are tokens of letters, digits, _ . - (a separator-delimited run)
    token = re.compile(r"[^\s,;:()\[\]{}'\"=|/]+")
    s = text.astype(object)
    has = s.notna().to_numpy()
    s[has] = [token.sub(sub, str(v)) for v in s[has]]
    return s


def known_ids(result) -> pd.Index:
    """Every worker id the audit's inputs hold (orders, sessions, workers, payouts)."""
    logs = result.logs
    parts = []
    for name in ("orders", "sessions", "workers", "payouts"):
        t = getattr(logs, name, None)
        if t is not None and "worker_id" in t.columns:
            parts.append(pd.Series(pd.unique(t["worker_id"].dropna().astype(str))))
    return pd.Index(pd.unique(pd.concat(parts))) if parts else pd.Index([])


def pseudonymize_findings(findings: pd.DataFrame, key: str | bytes, *, ids: pd.Index | None = None
                          ) -> pd.DataFrame:
    """A findings table with worker subjects and ids quoted in ``detail`` replaced."""
    k = _key_bytes(key)
    out = pseudonymize(findings, k)
    if ids is not None and "subject" in out.columns:
        # a worker id as subject at any other level (e.g. a custom check) is replaced too
        hit = out["subject"].astype(str).isin(set(map(str, ids))).to_numpy()
        if hit.any():
            subject = out["subject"].astype(object)
            subject[hit] = _hash_values(out.loc[hit, "subject"].astype(str), k).to_numpy()
            out["subject"] = subject
    if ids is not None and "detail" in out.columns:
        # checks name the worker in ``subject``; free text that may quote ids is on the few
        # platform/region/group rows (e.g. "no worker id for W001, W002"), so only those are scanned
        rows = ~out["level"].isin(WORKER_LEVELS).to_numpy() if "level" in out else np.ones(len(out), bool)
        if rows.any():
            detail = out["detail"].astype(object)
            detail[rows] = _replace_ids_in_text(out.loc[rows, "detail"], ids, k).to_numpy()
            out["detail"] = detail
    return out


def pseudonymize_rejected(rejected: pd.DataFrame, key: str | bytes, *, ids: pd.Index | None = None
                          ) -> pd.DataFrame:
    """rejected_rows with worker ids in ``value`` (worker_id rejections) and ``reason`` replaced."""
    k = _key_bytes(key)
    out = rejected.copy()
    if not len(out):
        return out
    if {"column", "value"} <= set(out.columns):
        rows = (out["column"] == "worker_id").to_numpy()
        if rows.any():
            value = out["value"].astype(object)
            value[rows] = _hash_values(out.loc[rows, "value"].astype(str), k).to_numpy()
            out["value"] = value
            if "reason" in out.columns:
                # the reason may quote the raw value: replace it literally (rejections are few)
                raw = rejected.loc[rows, "value"].astype(str).to_numpy()
                reason = out["reason"].astype(object)
                reason[rows] = [str(t).replace(r, pseudonym(r, k)) if r else t
                                for t, r in zip(reason[rows], raw)]
                out["reason"] = reason
    if ids is not None and "reason" in out.columns:
        out["reason"] = _replace_ids_in_text(out["reason"], ids, k)
    return out


def pseudonymize_result(result, key: str | bytes, *, extra: dict[str, pd.DataFrame] | None = None):
    """A copy of an AuditResult whose outputs carry no raw worker id.

    Replaces ``findings``, every ``by_check`` frame, and ``logs.rejected``
    (via a shallow copy of the logs whose ``rejected`` is pseudonymized, so
    ``AuditResult.write`` writes a safe rejected_rows.csv).  ``extra`` tables
    (e.g. ``{"time_base": frame}``) come back pseudonymized in
    ``result.extra`` when the result has that attribute, else are returned
    alongside: ``(result, extra)``.

    The summary is not changed: it holds no worker id (checks report counts).
    """
    import copy

    k = _key_bytes(key)
    ids = known_ids(result)
    built = getattr(result, "_findings", result.findings)  # None: built later from by_check
    findings = None if built is None else pseudonymize_findings(built, k, ids=ids)
    by_check = {c: pseudonymize_findings(f, k, ids=ids) for c, f in result.by_check.items()}
    logs = copy.copy(result.logs)
    logs.cache = dict(result.logs.cache)  # never write pseudonyms into the original's cache
    if hasattr(result, "time_base"):  # AuditResult.time_base is cached in logs.cache
        logs.cache["time_base"] = pseudonymize(result.time_base, k)
    rejected = pseudonymize_rejected(result.logs.rejected, k, ids=ids)
    try:
        logs.rejected = rejected
    except AttributeError:  # a read-only property: keep it in the cache the property may read
        object.__setattr__(logs, "_rejected", rejected)
    new = (result.replace if hasattr(result, "replace") else partial(replace, result))(
        findings=findings, by_check=by_check, logs=logs)
    if extra is None:
        return new
    done = {name: pseudonymize_findings(pseudonymize(t, k), k, ids=ids) for name, t in extra.items()}
    return new, done


def hide_small_groups(findings: pd.DataFrame, min_workers: float, *,
                      value_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Blank the figures of group rows resting on fewer than ``min_workers`` workers.

    The worker count is the smaller of ``workers_group`` and
    ``workers_reference`` when present (else ``workers``/``n_workers``, else
    ``n``).  ``value`` and the CI/mean columns become NaN, status becomes
    insufficient_data, and ``detail`` says why; other rows are unchanged.
    """
    from audit.findings import INSUFFICIENT
    from audit.plotting import visible_groups

    if not len(findings) or "level" not in findings:
        return findings
    keep = visible_groups(findings, min_workers).index
    small = (findings["level"] == "group").to_numpy() & ~findings.index.isin(keep)
    if not small.any():
        return findings
    out = findings.copy()
    cols = list(value_columns) if value_columns is not None else [
        c for c in out.columns if c == "value" or c.startswith(("ci_", "raw_", "group_mean", "reference_mean",
                                                                 "explained", "unexplained", "p_value"))]
    for c in cols:
        out.loc[small, c] = np.nan
    out.loc[small, "status"] = INSUFFICIENT
    if "detail" in out.columns:
        out.loc[small, "detail"] = f"group of fewer than {min_workers:g} workers: not shown"
    return out


def safe_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas.

    Text cells (object or string columns) starting with ``=``, ``+``, ``-``,
    ``@``, tab or carriage return get a leading ``'``.  Numeric columns are
    not touched, so negative numbers stay numbers.
    """
    out = frame.copy(deep=False)  # columns are replaced, never changed in place
    for c in out.columns:
        col = out[c]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        # cheap vectorised screen first; the exact type test only on candidates
        cand = col.astype("string").str.startswith(FORMULA_STARTS, na=False).to_numpy(dtype=bool)
        if not cand.any():
            continue
        pos = np.flatnonzero(cand)
        vals = col.to_numpy(dtype=object)
        pos = pos[[isinstance(vals[i], str) for i in pos]]  # numbers in object columns stay numbers
        if pos.size:
            new = col.astype(object).to_numpy(copy=True)
            new[pos] = ["'" + vals[i] for i in pos]
            out[c] = pd.Series(new, index=col.index, dtype=object)
    return out


__all__ = ["pseudonym", "pseudonymize", "pseudonymize_findings", "pseudonymize_rejected",
           "pseudonymize_result", "hide_small_groups", "safe_csv", "known_ids", "PREFIX"]
