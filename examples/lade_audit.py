"""Audit real LaDe-D courier logs (Cainiao, Shanghai) for working time.

Usage::

    python examples/lade_audit.py [PATH]

``PATH`` defaults to ``../shared/data/lade-d-shanghai-sample/lade_shanghai_sample.csv``
relative to the repository.  The file is read where it is; none of its rows
are copied into the project (its licence allows research use only).

The export has no pay, no deadline and no session log, so the audit runs
the article 14 working-time checks on *engaged* time (the union of each
courier's parcels, accept → delivery) and says so in every finding.  The
script prints one line per courier-day: the engaged span (first accept →
last delivery of the parcels accepted that day), the engaged hours (the
union of the parcel intervals inside the day, from ``art14.daily_hours``)
and that check's verdict, then the status of each art14 check.

The bundled sample is a 5,000-row cut of LaDe-D Shanghai: each courier-day
holds only some of the courier's parcels, so its hours and days worked are
lower bounds of the real ones (a violation stands; an ``ok`` proves little).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import audit

DEFAULT_PATH = (Path(__file__).resolve().parent.parent / ".." / "shared" / "data"
                / "lade-d-shanghai-sample" / "lade_shanghai_sample.csv")
PROFILE = "lade_d"
NO_FILE = "LaDe sample not found: {path} (give its path as the first argument)"
COURIER_DAY_COLUMNS = ["courier", "day", "first_accept", "last_delivery", "orders",
                       "engaged_hours", "daily_hours_status"]


def courier_days(path: str | Path = DEFAULT_PATH) -> tuple[pd.DataFrame, audit.AuditResult]:
    """Courier-day spans and the daily-hours verdicts of a LaDe-D file.

    Parameters
    ----------
    path : str or Path
        A LaDe-D ``delivery_<city>.csv`` (or a cut of one).

    Returns
    -------
    days : DataFrame
        One row per courier and day (China Standard Time) with
        ``courier, day, first_accept, last_delivery, orders`` (of the parcels
        accepted that day; empty on a day reached only by a parcel accepted
        the day before), ``engaged_hours`` and ``daily_hours_status`` (from
        ``art14.daily_hours``), sorted by courier and day.
    result : AuditResult
        The art14 audit.
    """
    result = audit.run_audit(orders=Path(path), profile=PROFILE, checks="art14", progress=False)
    done = result.logs.completed
    spans = (done.assign(day=done["accepted_at"].dt.normalize())
             .groupby(["worker_id", "day"], sort=True)
             .agg(first_accept=("accepted_at", "min"), last_delivery=("delivered_at", "max"),
                  orders=("order_id", "size"))
             .reset_index().rename(columns={"worker_id": "courier"}))
    daily = result.check("art14.daily_hours")
    hours = pd.DataFrame({"courier": daily["subject"].astype(str),
                          "day": pd.to_datetime(daily["period_start"]),
                          "engaged_hours": daily["hours"].astype(float),
                          "daily_hours_status": daily["status"]})
    spans["courier"] = spans["courier"].astype(str)
    days = spans.merge(hours, on=["courier", "day"], how="outer")
    days["orders"] = days["orders"].fillna(0).astype("int64")
    days = days.sort_values(["courier", "day"], key=_natural, kind="stable").reset_index(drop=True)
    return days[COURIER_DAY_COLUMNS], result


def _natural(col: pd.Series) -> pd.Series:
    """Sort numeric courier ids as numbers (LaDe's ids are integers)."""
    if col.name == "courier":
        num = pd.to_numeric(col, errors="coerce")
        return num if num.notna().all() else col
    return col


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="LaDe-D csv file")
    args = parser.parse_args(argv)
    path = Path(args.path)
    if not path.is_file():
        print(NO_FILE.format(path=path), file=sys.stderr)
        return 1
    days, result = courier_days(path)
    shown = days.assign(
        day=days["day"].dt.strftime("%Y-%m-%d"),
        span=days["first_accept"].dt.strftime("%H:%M").fillna("") + " → "
        + days["last_delivery"].dt.strftime("%H:%M").fillna(""),
        engaged_hours=days["engaged_hours"].round(2))
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(shown[["courier", "day", "span", "orders", "engaged_hours", "daily_hours_status"]]
              .to_string(index=False))
    print()
    print(f"{len(days)} courier-days of {days['courier'].nunique()} couriers; "
          f"time base: {result.summary['time_base']}; year supplied by the profile: "
          f"{result.logs.profile.year}")
    print("A cut of the full export holds only some of each courier's parcels: "
          "hours and days worked are lower bounds.")
    print(result.summary_table().to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
