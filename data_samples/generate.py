"""Seeded, vectorised generator of canonical platform logs (SPEC section 3).

Usage
-----
    python data_samples/generate.py --out data_samples/shijiazhuang --seed 20251001
    python data_samples/generate.py --out /tmp/bench --seed 1 --orders 5000000 --format parquet

or from Python::

    from data_samples.generate import generate_platform
    tables = generate_platform(seed=20251001)          # nothing written
    tables["orders"].attrs["manifest"]                 # the manifest dict

The generator models a Shijiazhuang food-delivery platform (or, with
``kind="ridehail"``, a ride-hailing one).  All randomness comes from one
``numpy.random.Generator`` seeded with ``seed``; all work is vectorised with
numpy over worker-days, sessions and orders (the only Python loops run over
session templates, ISO weeks and the handful of injected problems), so the same
code makes the 30-40 k-order sample and 30 M-order benchmark data.

Returned / written tables are the *export* as a platform would hand it over:
timestamps are strings ``YYYY-MM-DD HH:MM:SS`` (China Standard Time, no zone),
money is yuan with 2 decimals, and a handful of deliberately bad rows (listed in
the manifest with file and line number) are mixed in for the ingest's rejection
path.

Decisions worth knowing
~~~~~~~~~~~~~~~~~~~~~~~
* A cancelled order keeps all its timestamps: ``picked_up_at`` is when the rider
  reached the shop, ``delivered_at`` the time the order was closed; its pay,
  bonus, tip, allowance, penalty and customer_price are 0.
* The pay-rule change lowers the per-km rate by 20 % and raises the base fare by
  the amount that keeps the pay of a median-distance order unchanged.  Short
  orders gain, long ones lose.  This keeps the art13 premium model of SPEC §5
  (which has no time control) unbiased: a pure cut after the holiday would show
  up as a spurious positive holiday "premium".
* Holiday days are hard-coded (2025 National Day + Mid-Autumn break,
  2025-10-01..10-08, as ``chinesecalendar`` names them) so that the generator has
  no dependency beyond numpy/pandas.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from datetime import date, timedelta

import numpy as np
import pandas as pd

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20251001
DEFAULT_START = "2025-09-15"
DEFAULT_END = "2025-10-26"
DEFAULT_REGION_MIX = {"shijiazhuang": 0.76, "正定县": 0.10, "晋州市": 0.08, "130102": 0.06}
DEFAULT_PLATFORM = "kuaisong"
HOURLY_MINIMUM = 22.0  # tier-1 hourly minimum wage of Hebei in force (CNY / hour)
HOLIDAYS = {  # official public-holiday breaks (chinesecalendar names them)
    date(2025, 10, 1) + timedelta(days=i): "National Day / Mid-autumn Festival" for i in range(8)
}
RATE_CHANGE_DATE = "2025-10-13"
TABLES = ("orders", "sessions", "workers", "payouts", "weather")
DAY = 86400

# Orders per online hour by hour of day (relative intensity): lunch and dinner peaks.
HOUR_PROFILE = np.array([
    0.45, 0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.7, 0.85, 0.9, 1.05, 1.55,  # 0-11
    1.6, 1.1, 0.75, 0.7, 0.9, 1.35, 1.5, 1.2, 0.9, 0.75, 0.6, 0.5])  # 12-23
# Extra pay per order by hour of day (peak and night surcharges), yuan.
HOUR_PAY = np.zeros(24)
HOUR_PAY[[11, 12, 17, 18]] = 1.0
HOUR_PAY[[22, 23, 0, 1, 2, 3, 4, 5]] = 1.5

KIND_PARAMS = {
    "delivery": dict(dist_median=2.2, dist_sigma=0.6, dist_lo=0.5, dist_hi=8.0,
                     speed_lo=13.0, speed_hi=19.0, car_speed_lo=20.0, car_speed_hi=30.0,
                     pickup_base=4.0, pickup_exp=4.0, pickup_cap=20.0,
                     base=4.5, km_rate=1.10, rate=3.1, noise=0.06,
                     bonus_p=0.12, tip_p=0.04),
    "ridehail": dict(dist_median=7.0, dist_sigma=0.6, dist_lo=1.0, dist_hi=45.0,
                     speed_lo=22.0, speed_hi=32.0, car_speed_lo=22.0, car_speed_hi=32.0,
                     pickup_base=3.0, pickup_exp=3.0, pickup_cap=15.0,
                     base=8.0, km_rate=1.6, rate=1.6, noise=0.06,
                     bonus_p=0.08, tip_p=0.02),
}


# ----------------------------------------------------------------------------- helpers
def _d(s) -> date:
    return s if isinstance(s, date) else date.fromisoformat(str(s))


def _money(x):
    return np.round(np.asarray(x, dtype=float), 2) + 0.0  # +0.0 removes -0.0


def _ts(base: date, secs) -> np.ndarray:
    """Seconds since ``base`` 00:00 -> 'YYYY-MM-DD HH:MM:SS' strings."""
    t = np.datetime64(base.isoformat() + "T00:00:00", "s") + np.asarray(secs, dtype="int64").astype("timedelta64[s]")
    return np.char.replace(np.datetime_as_string(t, unit="s"), "T", " ").astype(object)


def _iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cum_profile():
    """Cumulative order intensity C(m) at minute m over two days (m = 0..2880)."""
    per_min = np.repeat(np.tile(HOUR_PROFILE, 2), 60) / 60.0
    return np.concatenate([[0.0], np.cumsum(per_min)])


_CUM = _cum_profile()
_GRID = np.arange(_CUM.size, dtype=float)


# ----------------------------------------------------------------------------- workers
def _make_workers(rng, n, start, region_mix, kind, inject):
    regions = list(region_mix)
    p = np.array([region_mix[r] for r in regions], float)
    p = p / p.sum()
    n_low = max(1, round(8 * n / 150)) if inject else 0
    n_full = max(14 if inject else 0, round(0.09 * n))
    n_full = min(n_full, n - n_low)
    # worker kinds in id order, shuffled so ids carry no meaning
    kinds = np.array(["full"] * n_full + ["low"] * n_low + ["part"] * (n - n_full - n_low), dtype=object)
    kinds = kinds[rng.permutation(n)]
    region = np.array(regions, dtype=object)[rng.choice(len(regions), size=n, p=p)]
    region[kinds == "low"] = regions[0]
    gender = np.where(rng.random(n) < 0.25, "F", "M").astype(object)
    birth_year = (2025 - np.clip(np.round(rng.gamma(6.0, 2.2, n) + 19), 19, 58)).astype(int)
    if kind == "delivery":
        vehicle = np.where(rng.random(n) < 0.04, "car", "ebike").astype(object)
    else:
        vehicle = np.full(n, "car", dtype=object)
    ef_u = rng.random(n)
    employment = np.where(ef_u < 0.80, "independent", np.where(ef_u < 0.95, "written_agreement", "labor_contract")).astype(object)
    tenure_days = np.round(rng.exponential(500, n) + 7).astype(int)
    joined = np.datetime64(start.isoformat()) - tenure_days.astype("timedelta64[D]")
    width = max(3, len(str(n)))
    ids = np.array([f"W{i + 1:0{width}d}" for i in range(n)], dtype=object)
    # productivity: orders per online hour multiplier; female workers get 10 % fewer orders
    prod = np.exp(rng.normal(0, 0.06, n))
    prod = prod * np.where(gender == "F", 0.90, 1.0)
    prod[kinds == "low"] *= 0.55
    return dict(ids=ids, kinds=kinds, region=region, gender=gender, birth_year=birth_year,
                vehicle=vehicle, employment=employment, joined=joined, prod=prod)


# ----------------------------------------------------------------------------- schedules
def _schedule(rng, W, n_days, start):
    """Boolean matrix works[w, d] from weekly day-count draws (vectorised)."""
    n = W["ids"].size
    n_weeks = math.ceil((n_days + start.weekday()) / 7)
    u = rng.random((n, n_weeks, 7))
    rank = u.argsort(axis=2).argsort(axis=2)
    k_full = np.where(rng.random((n, n_weeks)) < 0.6, 6, 5)
    k_part = rng.choice([0, 1, 2, 3, 4], size=(n, n_weeks), p=[0.37, 0.37, 0.18, 0.06, 0.02])
    is_full = np.isin(W["kinds"], ["full", "low"])[:, None]
    k = np.where(is_full, k_full, k_part)
    works = (rank < k[:, :, None]).reshape(n, -1)
    off = start.weekday()
    return works[:, off:off + n_days]


def _sessions_for(rng, m, template):
    """Session (login, logout) in seconds from the day's 00:00 for m worker-days.

    Returns list of (row_index, login_s, logout_s, chain_flag)."""
    h = 3600.0
    out = []

    def add(idx, s, e, chain=False):
        out.append((idx, np.round(s).astype(np.int64), np.round(e).astype(np.int64),
                    np.full(idx.size, chain)))

    idx = np.arange(m)
    if template == "full":
        T = rng.uniform(6.0, 8.8, m)
        three = rng.random(m) < 0.6
        T = np.where(three, T, np.minimum(T, 7.2))
        s1 = rng.uniform(9.5, 10.75, m) * h
        f = np.where(three, 0.38, 0.5)
        e1 = s1 + T * f * h
        s2 = e1 + rng.uniform(0.5, 1.2, m) * h
        e2 = s2 + T * np.where(three, 0.30, 0.5) * h
        s3 = e2 + rng.uniform(0.5, 1.0, m) * h
        e3 = s3 + T * 0.32 * h
        add(idx, s1, e1); add(idx, s2, e2); add(idx[three], s3[three], e3[three])
    elif template in ("heavy", "long10", "long12"):
        lo, hi, k, st = {"heavy": (9.05, 9.45, 3, (9.0, 9.6)), "long10": (10.3, 11.2, 3, (8.5, 9.2)),
                         "long12": (12.4, 13.8, 4, (6.5, 7.0))}[template]
        T = rng.uniform(lo, hi, m)
        s = rng.uniform(*st, m) * h
        for j in range(k):
            e = s + T / k * h
            add(idx, s, e)
            s = e + rng.uniform(0.45, 0.75, m) * h
    elif template == "chain":
        s1 = rng.uniform(10.0, 10.5, m) * h
        e1 = s1 + rng.uniform(4.8, 5.3, m) * h
        s2 = e1 + rng.uniform(0.6, 1.0, m) * h
        e2 = s2 + rng.uniform(2.0, 3.0, m) * h
        add(idx, s1, e1, True); add(idx, s2, e2)
    elif template == "part":
        which = rng.choice(3, size=m, p=[0.3, 0.25, 0.45])  # lunch, dinner, both
        ls = rng.uniform(10.4, 11.5, m) * h
        le = ls + rng.uniform(1.2, 2.8, m) * h
        ds = rng.uniform(16.4, 17.5, m) * h
        de = ds + rng.uniform(1.2, 2.8, m) * h
        a = which != 1
        b = which != 0
        add(idx[a], ls[a], le[a]); add(idx[b], ds[b], de[b])
    elif template == "night":
        s = rng.uniform(21.5, 22.0, m) * h
        add(idx, s, s + rng.uniform(2.8, 3.4, m) * h)
    else:  # pragma: no cover
        raise ValueError(template)
    return out


# ----------------------------------------------------------------------------- weather
def _weather(rng, start, n_days, regions, inject):
    dates = [start + timedelta(days=i) for i in range(n_days)]
    doy = np.arange(n_days)
    base_max = 29.5 - 0.30 * doy + rng.normal(0, 1.6, n_days)
    base_min = 18.0 - 0.26 * doy + rng.normal(0, 1.3, n_days)
    base_max = np.minimum(base_max, 34.2)  # extreme only where injected
    rows = []
    extreme = {}  # (region, date) -> reason
    warn = {}
    if inject:
        def setday(ds, tmax=None, w=None, regs=None):
            i = (date.fromisoformat(ds) - start).days
            if not 0 <= i < n_days:
                return None
            if tmax is not None:
                base_max[i] = tmax
            return i
        i16 = setday("2025-09-16", 35.4)
        i17 = setday("2025-09-17", 36.3)
        setday("2025-09-18", 34.6)   # near the threshold, not extreme
        i10 = setday("2025-10-10", 19.5)
        if i16 is not None:
            for r in regions:
                extreme[(r, dates[i16])] = "t_max_c>=35"
        if i17 is not None:
            for r in regions:
                extreme[(r, dates[i17])] = "t_max_c>=35"
                warn[(r, dates[i17])] = "heat:orange" if r != "晋州市" else "heat:yellow"
        if i10 is not None:
            for r in regions:
                if r == "晋州市":
                    warn[(r, dates[i10])] = "rainstorm:yellow"
                else:
                    warn[(r, dates[i10])] = "rainstorm:orange;gale:blue"
                    extreme[(r, dates[i10])] = "rainstorm:orange"
        for ds, w in (("2025-09-29", "gale:blue"), ("2025-10-18", "fog:yellow"), ("2025-10-22", "rainstorm:blue")):
            i = (date.fromisoformat(ds) - start).days
            if 0 <= i < n_days:
                for r in regions:
                    warn[(r, dates[i])] = w
    offs = {r: (0.0 if j == 0 else (-0.4 if j % 2 else 0.3)) for j, r in enumerate(regions)}
    for r in regions:
        for i, d in enumerate(dates):
            tmax = base_max[i] + (offs[r] if (r, d) not in extreme and base_max[i] < 34.0 else 0.0)
            rows.append((r, d.isoformat(), round(float(tmax), 1), round(float(base_min[i] + offs[r]), 1), warn.get((r, d), "")))
    wdf = pd.DataFrame(rows, columns=["region", "date", "t_max_c", "t_min_c", "warning"])
    wdf = wdf.sort_values(["date", "region"], kind="stable").reset_index(drop=True)
    return wdf, extreme


# ----------------------------------------------------------------------------- main model
def build_platform(*, seed=DEFAULT_SEED, n_workers=150, start=DEFAULT_START, end=DEFAULT_END,
                   region_mix=None, platform=DEFAULT_PLATFORM, kind="delivery", inject=True,
                   id_prefix="O"):
    """Generate the tables and the manifest.  Returns ``(tables, manifest)``."""
    if kind not in KIND_PARAMS:
        raise ValueError(f"kind must be one of {sorted(KIND_PARAMS)}")
    P = KIND_PARAMS[kind]
    region_mix = dict(region_mix or DEFAULT_REGION_MIX)
    regions = list(region_mix)
    start, end = _d(start), _d(end)
    n_days = (end - start).days + 1
    if n_days < 7:
        raise ValueError("period must span at least 7 days")
    if inject and (n_workers < 30 or n_days < 14):
        raise ValueError("inject=True needs at least 30 workers and 14 days (it assigns 20 workers to roles)")
    rng = np.random.default_rng(seed)
    W = _make_workers(rng, n_workers, start, region_mix, kind, inject)
    n = n_workers
    works = _schedule(rng, W, n_days, start)
    day_dates = [start + timedelta(days=i) for i in range(n_days)]
    weekday = np.array([d.weekday() for d in day_dates])
    week_of_day = np.array([(i + start.weekday()) // 7 for i in range(n_days)])

    # ---- templates per worker-day
    tmpl = np.where(np.isin(W["kinds"], ["full", "low"])[:, None], "full", "part").astype(object)
    tmpl = np.broadcast_to(tmpl, works.shape).copy()
    inj = {}
    full_idx = np.flatnonzero(W["kinds"] == "full")
    part_idx = np.flatnonzero(W["kinds"] == "part")
    if inject:
        roles = full_idx[rng.permutation(full_idx.size)]
        seven, long12, long10 = roles[:4], roles[4:9], roles[9:14]
        chain = np.concatenate([roles[4:9], roles[9:10]])  # other days than their long days
        full_weeks = [wk for wk in range(week_of_day.max() + 1) if (week_of_day == wk).sum() == 7]
        seven_rows = []
        for j, w in enumerate(seven):
            wks = sorted(rng.choice(full_weeks, size=min(2, len(full_weeks)), replace=False).tolist())
            for wk in wks:
                days = np.flatnonzero(week_of_day == wk)
                works[w, days] = True
                tmpl[w, days] = "heavy" if j < 2 else "full"
                seven_rows.append((w, wk, j < 2))
        inj["seven"] = seven_rows

        def pick_day(w, avoid_weeks=()):
            cand = [d for d in np.flatnonzero(works[w]) if week_of_day[d] not in avoid_weeks and tmpl[w, d] == "full"]
            return int(rng.choice(cand))
        inj["long12"] = []
        for w in long12:
            d = pick_day(w); tmpl[w, d] = "long12"; inj["long12"].append((w, d))
        inj["long10"] = []
        for w in list(long10) + list(long12[:2]):
            d = pick_day(w, avoid_weeks=[week_of_day[x] for ww, x in inj["long12"] if ww == w])
            tmpl[w, d] = "long10"; inj["long10"].append((w, d))
        inj["chain"] = []
        for w in chain:
            d = pick_day(w); tmpl[w, d] = "chain"; inj["chain"].append((w, d))
        # late-night sessions crossing midnight (part-timers), one from Sunday into Monday
        night = []
        sundays = [d for d in range(n_days - 1) if weekday[d] == 6]
        cand_p = part_idx[rng.permutation(part_idx.size)]
        for j, w in enumerate(cand_p[:6]):
            if j == 0 and sundays:
                d = int(rng.choice(sundays))
            else:
                d = int(rng.integers(0, n_days - 1))
            works[w, d] = True
            works[w, d + 1] = False if j == 0 and not works[w, d + 1] else works[w, d + 1]
            tmpl[w, d] = "night"
            night.append((w, d))
        inj["night"] = night

    # ---- sessions (vectorised per template)
    wi, di = np.nonzero(works)
    tv = tmpl[wi, di]
    parts = []
    for t in ("full", "heavy", "long10", "long12", "chain", "part", "night"):
        sel = np.flatnonzero(tv == t)
        if sel.size == 0:
            continue
        for idx, s, e, ch in _sessions_for(rng, sel.size, t):
            rows = sel[idx]
            parts.append((wi[rows], di[rows], s, e, ch))
    s_w = np.concatenate([p[0] for p in parts])
    s_d = np.concatenate([p[1] for p in parts])
    s_in = np.concatenate([p[2] for p in parts])  # seconds from the day's 00:00
    s_out = np.concatenate([p[3] for p in parts])
    s_chain = np.concatenate([p[4] for p in parts])
    order = np.lexsort((s_in, s_d, s_w))
    s_w, s_d, s_in, s_out, s_chain = (a[order] for a in (s_w, s_d, s_in, s_out, s_chain))
    s_login = s_d.astype(np.int64) * DAY + s_in
    s_logout = s_d.astype(np.int64) * DAY + s_out
    n_sess = s_w.size

    # ---- orders: Poisson counts on the intensity profile, accept times by inverse CDF
    rate = P["rate"] * W["prod"][s_w]
    m_in, m_out = s_in / 60.0, s_out / 60.0
    c_in, c_out = np.interp(m_in, _GRID, _CUM), np.interp(m_out, _GRID, _CUM)
    k = rng.poisson(rate * (c_out - c_in))
    k[s_chain] = 0
    o_s = np.repeat(np.arange(n_sess), k)
    # chain sessions: an order every 9-14 minutes, never a 20-minute gap
    ch_idx = np.flatnonzero(s_chain)
    spacing = rng.uniform(9 * 60, 14 * 60, ch_idx.size)
    n_ch = np.floor((s_out[ch_idx] - s_in[ch_idx] - 40 * 60) / spacing).astype(int) + 1
    ch_s = np.repeat(ch_idx, n_ch)
    ch_pos = np.arange(ch_s.size) - np.repeat(np.cumsum(n_ch) - n_ch, n_ch)
    ch_acc = s_in[ch_s] + np.round(ch_pos * np.repeat(spacing, n_ch) + rng.uniform(0, 90, ch_s.size))
    o_s = np.concatenate([o_s, ch_s])
    is_chain = np.concatenate([np.zeros(o_s.size - ch_s.size, bool), np.ones(ch_s.size, bool)])
    m = o_s.size
    o_w = s_w[o_s]
    veh = W["vehicle"][o_w]
    dist = np.clip(rng.lognormal(np.log(P["dist_median"]), P["dist_sigma"], m), P["dist_lo"], P["dist_hi"])
    dist[is_chain] = np.minimum(dist[is_chain], 3.0)
    dist = np.round(dist, 2)
    speed = np.where(veh == "car", rng.uniform(P["car_speed_lo"], P["car_speed_hi"], m),
                     rng.uniform(P["speed_lo"], P["speed_hi"], m))
    pickup_min = np.minimum(P["pickup_base"] + rng.exponential(P["pickup_exp"], m), P["pickup_cap"])
    travel_min = dist / speed * 60.0
    hand_min = rng.uniform(1.0, 4.0, m)
    dur_s = np.round((pickup_min + travel_min + hand_min) * 60).astype(np.int64)
    pick_s = np.round(pickup_min * 60).astype(np.int64)
    # accept time inside [login, logout - duration]
    lo_c = c_in[o_s]
    hi_c = np.interp((s_out[o_s] - dur_s) / 60.0, _GRID, _CUM)
    acc_in = np.interp(lo_c + rng.random(m) * (hi_c - lo_c), _CUM, _GRID) * 60.0
    acc_in = np.where(is_chain, 0, np.round(acc_in)).astype(np.int64)
    acc_in[is_chain] = ch_acc.astype(np.int64)
    keep = (s_out[o_s] - dur_s) > s_in[o_s]
    # chain orders must end inside the session too
    over = is_chain & (acc_in + dur_s > s_out[o_s])
    dur_s[over] = s_out[o_s][over] - acc_in[over] - 30
    pick_s[over] = np.minimum(pick_s[over], dur_s[over] // 2)
    keep &= dur_s > 120
    sel = np.flatnonzero(keep)
    o_s, o_w, veh, dist, speed, dur_s, pick_s, acc_in, is_chain = (
        a[sel] for a in (o_s, o_w, veh, dist, speed, dur_s, pick_s, acc_in, is_chain))
    m = o_s.size
    accepted = s_d[o_s].astype(np.int64) * DAY + acc_in
    picked = accepted + pick_s
    delivered = accepted + dur_s
    acc_day = accepted // DAY
    acc_hour = (accepted % DAY) // 3600
    o_region = W["region"][o_w]

    # ---- deadlines
    exp_min = P["pickup_base"] + P["pickup_exp"] + dist / ((P["speed_lo"] + P["speed_hi"]) / 2) * 60 + 2.5
    tight_region = "晋州市" if "晋州市" in regions else regions[-1]
    tight = (o_region == tight_region) if inject else np.zeros(m, bool)
    allow_min = np.where(tight, np.round(exp_min * 0.90), np.ceil(exp_min * 1.45 + 6))
    promised = accepted + allow_min.astype(np.int64) * 60
    rush = np.zeros(m, bool)
    if inject:
        rush = (veh == "ebike") & (dist >= 2.5) & ~tight & ~is_chain & (rng.random(m) < 0.05)
        need_v = rng.uniform(27.0, 36.0, m)
        promised = np.where(rush, picked + (np.ceil(dist / need_v * 60) * 60).astype(np.int64), promised)
    # ---- status
    cancelled = (rng.random(m) < 0.02) & ~is_chain
    close_s = pick_s + np.round(rng.uniform(60, 600, m)).astype(np.int64)
    delivered = np.where(cancelled, accepted + close_s, delivered)
    late = (delivered > promised) & ~cancelled

    # ---- pay
    all_days = day_dates + [end + timedelta(days=1)]
    holiday = np.array([d in HOLIDAYS for d in all_days])[acc_day]
    reg_code = {r: i for i, r in enumerate(regions)}
    o_reg = pd.Categorical(o_region, categories=regions).codes.astype(np.int64)
    wdf, extreme = _weather(rng, start, n_days, regions, inject)
    ext_tab = np.zeros((len(regions), len(all_days)), dtype=np.int8)  # 0 none, 1 heat, 2 rainstorm:orange
    for (r, d), why in extreme.items():
        ext_tab[reg_code[r], (d - start).days] = 2 if why == "rainstorm:orange" else 1
    ext_code = ext_tab[o_reg, acc_day]
    ext_flag = ext_code > 0
    change_day = (date.fromisoformat(RATE_CHANGE_DATE) - start).days
    after = (acc_day >= change_day) if inject else np.zeros(m, bool)
    km_rate = np.where(after, P["km_rate"] * 0.8, P["km_rate"])
    base_raise = round(P["km_rate"] * 0.2 * P["dist_median"], 2)
    base = np.where(after, P["base"] + base_raise, P["base"])
    weather_mult = 1.15 if inject else 1.0
    pay = (base + km_rate * dist + HOUR_PAY[acc_hour]) * np.exp(rng.normal(0, P["noise"], m))
    pay = np.where(ext_flag, pay * weather_mult, pay)
    pay = _money(pay)
    bonus = _money(np.where(rng.random(m) < P["bonus_p"], rng.uniform(0.5, 2.5, m), 0.0))
    tip = _money(np.where(rng.random(m) < P["tip_p"], rng.choice([2.0, 3.0, 5.0, 8.0, 10.0], m), 0.0))
    allowance = _money(np.where(ext_flag, np.where(ext_code == 2, 3.0, 2.0), 0.0))
    penalty = np.where(late & (rng.random(m) < 0.35), np.round(rng.uniform(1, 5, m)), 0.0)
    penalty = np.where(rng.random(m) < 0.003, 10.0, penalty)
    penalty = _money(penalty)
    take = rng.uniform(0.15, 0.25, m)
    price = _money(np.ceil((pay + bonus) / (1 - take) * 10) / 10)
    for a in (pay, bonus, tip, allowance, penalty, price):
        a[cancelled] = 0.0

    # ---- assemble orders (sorted by accept time, worker) and ids
    srt = np.lexsort((o_w, accepted))
    width = max(6, len(str(m + 10)))
    orders = pd.DataFrame({
        "order_id": np.char.add(id_prefix, np.char.zfill(np.arange(1, m + 1).astype(str), width)).astype(object),
        "worker_id": W["ids"][o_w[srt]],
        "region": o_region[srt],
        "accepted_at": accepted[srt], "picked_up_at": picked[srt],
        "delivered_at": delivered[srt], "promised_at": promised[srt],
        "distance_km": dist[srt], "pay": pay[srt], "bonus": bonus[srt], "tip": tip[srt],
        "allowance": allowance[srt], "penalty": penalty[srt], "customer_price": price[srt],
        "status": np.where(cancelled[srt], "cancelled", "completed").astype(object),
        "platform": platform,
    })
    flags = pd.DataFrame({"holiday": holiday[srt], "extreme": ext_flag[srt], "after_change": after[srt],
                          "tight": tight[srt], "rush": rush[srt], "chain": is_chain[srt],
                          "hour": acc_hour[srt], "day": acc_day[srt]})

    sessions = pd.DataFrame({"worker_id": W["ids"][s_w], "login_at": s_login, "logout_at": s_logout})
    workers = pd.DataFrame({
        "worker_id": W["ids"], "employment_form": W["employment"], "gender": W["gender"],
        "birth_year": W["birth_year"], "region": W["region"], "vehicle": W["vehicle"],
        "joined_on": np.datetime_as_string(W["joined"], unit="D").astype(object)})

    truth = _truth(orders, sessions, start, day_dates, W)
    payouts, pay_inj = _payouts(rng, orders, start, n_days, inject)

    manifest = {
        "generator": "data_samples/generate.py", "generator_version": GENERATOR_VERSION,
        "seed": int(seed), "kind": kind, "platform": platform,
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": n_days,
                   "iso_weeks": sorted({_iso_week(d) for d in day_dates})},
        "params": {"n_workers": n, "region_mix": region_mix, "hourly_minimum_cny": HOURLY_MINIMUM,
                   "worker_kinds": {k: int((W["kinds"] == k).sum()) for k in ("full", "part", "low")},
                   "timezone": "Asia/Shanghai (timestamps written without zone)"},
    }
    tables = dict(orders=orders, sessions=sessions, workers=workers, payouts=payouts, weather=wdf)
    if inject:
        manifest["injected"] = _describe_injections(
            W, inj, truth, orders, flags, sessions, payouts, pay_inj, day_dates, week_of_day,
            extreme, tight_region, P, base_raise, n_days, start)
    manifest["truth"] = truth["summary"]
    # ---- export form: strings for timestamps, bad rows, duplicate sessions
    tables, bad, dup_info = _export(rng, tables, start, inject, W)
    if inject:
        manifest["injected"]["duplicate_sessions"] = dup_info
    manifest["bad_rows"] = bad
    manifest["row_counts"] = {k: int(len(v)) for k, v in tables.items()}
    manifest["clean_row_counts"] = {"orders": int(m), "sessions": int(n_sess)}
    return tables, manifest


def _truth(orders, sessions, start, day_dates, W):
    """Measured facts of the clean data (before bad rows / duplicate sessions)."""
    n_days = len(day_dates)
    # online seconds per worker-day, splitting sessions at midnight (sessions do not overlap here)
    s = sessions
    d0 = s["login_at"].to_numpy() // DAY
    d1 = (s["logout_at"].to_numpy() - 1) // DAY
    mid = (d0 + 1) * DAY
    first = np.where(d1 > d0, mid - s["login_at"].to_numpy(), s["logout_at"].to_numpy() - s["login_at"].to_numpy())
    second = np.where(d1 > d0, s["logout_at"].to_numpy() - mid, 0)
    od = pd.DataFrame({"worker_id": np.concatenate([s["worker_id"].to_numpy(), s["worker_id"].to_numpy()]),
                       "day": np.concatenate([d0, d0 + 1]), "sec": np.concatenate([first, second])})
    od = od[od["sec"] > 0].groupby(["worker_id", "day"], as_index=False)["sec"].sum()
    od["hours"] = od["sec"] / 3600.0
    wk0 = start.weekday()
    od["week"] = (od["day"] + wk0) // 7
    # blocks of engaged time
    c = orders[orders["status"] == "completed"].sort_values(["worker_id", "accepted_at"])
    a = c["accepted_at"].to_numpy(); e = c["delivered_at"].to_numpy(); wv = c["worker_id"].to_numpy()
    cm = pd.Series(e).groupby(wv).cummax().to_numpy()
    prev_end = np.concatenate([[0], cm[:-1]])
    new = np.ones(a.size, bool)
    new[1:] = (wv[1:] != wv[:-1]) | (a[1:] - prev_end[1:] >= 1200)
    bid = np.cumsum(new)
    blocks = pd.DataFrame({"worker_id": wv, "b": bid, "a": a, "e": cm}).groupby("b").agg(
        worker_id=("worker_id", "first"), a=("a", "min"), e=("e", "max"))
    blocks["hours"] = (blocks["e"] - blocks["a"]) / 3600.0
    blocks["day"] = blocks["a"] // DAY
    # earnings per worker-week
    c2 = c.assign(earn=c["pay"] + c["bonus"] - c["penalty"], week=(c["accepted_at"] // DAY + wk0) // 7)
    earn = c2.groupby(["worker_id", "week"])["earn"].sum()
    wk = od.groupby(["worker_id", "week"]).agg(hours=("hours", "sum"), days=("day", "nunique"))
    wk = wk.join(earn, how="left").fillna({"earn": 0.0})
    wk["per_hour"] = wk["earn"] / wk["hours"]
    mon = start - timedelta(days=wk0)

    def wlabel(x):
        return _iso_week(mon + timedelta(days=7 * int(x)))

    def dlabel(x):
        return (start + timedelta(days=int(x))).isoformat()
    assessed = wk[wk["hours"] >= 2]
    below = assessed[assessed["per_hour"] < HOURLY_MINIMUM]
    summary = {
        "note": "measured on the clean rows (bad rows excluded, duplicate sessions merged); "
                "days are CST calendar days, weeks ISO weeks; money per SPEC §4",
        "online_hours_total": round(float(od["hours"].sum()), 2),
        "completed_orders": int(len(c)),
        "worker_weeks_assessed": int(len(assessed)),
        "worker_weeks_below_minimum": sorted([[w, wlabel(x), round(float(v), 2)] for (w, x), v in below["per_hour"].items()]),
        "days_over_12h": sorted([[w, dlabel(d), round(float(h), 2)] for w, d, h in od.loc[od["hours"] > 12, ["worker_id", "day", "hours"]].itertuples(index=False)]),
        "days_10_to_12h": sorted([[w, dlabel(d), round(float(h), 2)] for w, d, h in od.loc[(od["hours"] > 10) & (od["hours"] <= 12), ["worker_id", "day", "hours"]].itertuples(index=False)]),
        "blocks_over_4h": sorted([[w, dlabel(d), round(float(h), 2)] for w, d, h in blocks.loc[blocks["hours"] > 4, ["worker_id", "day", "hours"]].itertuples(index=False)]),
        "weeks_7_days": sorted([[w, wlabel(x)] for (w, x) in wk.index[wk["days"] == 7]]),
        "weeks_over_60h": sorted([[w, wlabel(x), round(float(h), 2)] for (w, x), h in wk.loc[wk["hours"] > 60, "hours"].items()]),
        "median_hourly_earnings": round(float(assessed["per_hour"].median()), 2),
    }
    return {"summary": summary, "weekly": wk, "daily": od, "blocks": blocks, "wlabel": wlabel, "dlabel": dlabel}


def _payouts(rng, orders, start, n_days, inject):
    c = orders[orders["status"] == "completed"]
    wk0 = start.weekday()
    week = (c["accepted_at"] // DAY + wk0) // 7
    g = c.assign(week=week, gross=c["pay"] + c["bonus"] + c["tip"] + c["allowance"],
                 day=c["accepted_at"] // DAY).groupby(["worker_id", "week"]).agg(
        gross=("gross", "sum"), penalty=("penalty", "sum"), days=("day", "nunique")).reset_index()
    g = g.sort_values(["worker_id", "week"]).reset_index(drop=True)
    mon = start - timedelta(days=wk0)
    ps = np.array([mon + timedelta(days=7 * int(w)) for w in g["week"]], dtype=object)
    pe = np.array([d + timedelta(days=6) for d in ps], dtype=object)
    insurance = 3.0 * g["days"].to_numpy()  # daily accident insurance
    ded = g["penalty"].to_numpy() + insurance
    gross = _money(g["gross"].to_numpy())
    npay = len(g)
    # paid on Wednesday after the period, office hours
    paid_off = 3 * DAY + np.round(rng.uniform(9.5, 16.5, npay) * 3600).astype(np.int64)
    info = {"late": [], "deductions": []}
    if inject and npay:
        # heavy deductions ("equipment / uniform deduction") on 4 worker-weeks
        cand = np.flatnonzero(gross > 300)
        pick = rng.choice(cand, size=min(4, cand.size), replace=False)
        month = np.array([d.month for d in pe])
        for i in sorted(pick.tolist()):
            same = (g["worker_id"].to_numpy() == g.at[i, "worker_id"]) & (month == month[i])
            mgross = gross[same].sum()
            extra = round(max(0.35 * gross[i], 0.26 * mgross - ded[same].sum() + ded[i] * 0), 2)
            ded[i] += extra
            info["deductions"].append(int(i))
        # late payments: 4 paid 33-45 days after period_end, plus two boundary cases
        early = np.flatnonzero(np.array([(d - start).days < 14 for d in pe]))
        early = np.setdiff1d(early, pick)
        lp = rng.choice(early, size=min(6, early.size), replace=False)
        days_after = [33, 38, 41, 45, 30, 31]
        for j, i in enumerate(sorted(lp.tolist())):
            da = days_after[j]
            if da == 30:
                paid_off[i] = 30 * DAY + 23 * 3600 + 30 * 60          # end of day 30: on time
            elif da == 31:
                paid_off[i] = 31 * DAY + 30 * 60                      # 00:30 on day 31: late
            else:
                paid_off[i] = da * DAY + np.int64(round(rng.uniform(9.5, 16.5) * 3600))
            info["late"].append((int(i), da))
    ded = _money(ded)
    net = _money(gross - ded)
    paid_secs = np.array([((d - start).days) * DAY for d in pe], dtype=np.int64) + paid_off
    payouts = pd.DataFrame({"worker_id": g["worker_id"], "period_start": [d.isoformat() for d in ps],
                            "period_end": [d.isoformat() for d in pe], "gross": gross,
                            "deductions": ded, "net": net, "paid_at": paid_secs})
    return payouts, info


def _describe_injections(W, inj, truth, orders, flags, sessions, payouts, pay_inj, day_dates,
                         week_of_day, extreme, tight_region, P, base_raise, n_days, start):
    ids = W["ids"]
    wl, dl = truth["wlabel"], truth["dlabel"]
    weekly, daily, blocks = truth["weekly"], truth["daily"], truth["blocks"]
    low = sorted(ids[W["kinds"] == "low"].tolist())
    low_weeks = {}
    for w in low:
        sub = weekly.loc[w]
        sub = sub[sub["hours"] >= 2]
        low_weeks[w] = {"weeks_below": [wl(x) for x in sub.index[sub["per_hour"] < HOURLY_MINIMUM]],
                        "weeks_assessed": len(sub),
                        "earnings_per_online_hour": {wl(x): round(float(v), 2) for x, v in sub["per_hour"].items()}}
    dh = daily.set_index(["worker_id", "day"])["hours"]

    def day_rec(lst):
        return sorted([{"worker_id": ids[w], "date": dl(d), "online_hours": round(float(dh[(ids[w], d)]), 2)} for w, d in lst],
                      key=lambda r: (r["worker_id"], r["date"]))
    longest = blocks.groupby(["worker_id", "day"])["hours"].max()
    chain = sorted([{"worker_id": ids[w], "date": dl(d), "longest_block_hours": round(float(longest.get((ids[w], d), 0.0)), 2)}
                    for w, d in inj["chain"]], key=lambda r: (r["worker_id"], r["date"]))
    seven = sorted([{"worker_id": ids[w], "week": wl(wk), "online_days": int(weekly.loc[(ids[w], wk), "days"]),
                     "online_hours": round(float(weekly.loc[(ids[w], wk), "hours"]), 2), "over_60h": bool(heavy)}
                    for w, wk, heavy in inj["seven"]], key=lambda r: (r["worker_id"], r["week"]))
    c = orders[orders["status"] == "completed"]
    fl = flags.loc[c.index]
    dur = (c["delivered_at"] - c["accepted_at"]) / 60.0
    allow = (c["promised_at"] - c["accepted_at"]) / 60.0
    band = np.floor(c["distance_km"]).astype(int)
    # share of allowances below the median actual duration of the same region & 1-km band
    med = dur.groupby([c["region"], band]).transform("median")
    t = fl["tight"].to_numpy()
    eb = c["worker_id"].map(dict(zip(ids, W["vehicle"]))).to_numpy() == "ebike"
    sp = c["distance_km"] / ((c["promised_at"] - c["picked_up_at"]) / 3600.0).where(lambda x: x > 0)
    need = (sp.fillna(np.inf) > 25).to_numpy() & eb
    holiday_dates = sorted(d.isoformat() for d in HOLIDAYS if start <= d <= day_dates[-1])
    ext_list = sorted([{"region": r, "date": d.isoformat(), "reason": why} for (r, d), why in extreme.items()],
                      key=lambda x: (x["date"], x["region"]))
    pay_rows = payouts
    late = []
    for i, da in pay_inj["late"]:
        late.append({"worker_id": pay_rows.at[i, "worker_id"], "period_end": pay_rows.at[i, "period_end"],
                     "paid_days_after_period_end": da, "line": int(i) + 2,
                     "violation": bool(da > 30),
                     "note": "paid 23:30 on day 30: on time (boundary)" if da == 30 else
                             ("paid 00:30 on day 31: late (boundary)" if da == 31 else "late")})
    late.sort(key=lambda r: (r["worker_id"], r["period_end"]))
    pe_month = pay_rows["period_end"].str[:7]
    ded = []
    for i in pay_inj["deductions"]:
        w = pay_rows.at[i, "worker_id"]; mo = pe_month[i]
        same = (pay_rows["worker_id"] == w) & (pe_month == mo)
        ded.append({"worker_id": w, "period_end": pay_rows.at[i, "period_end"], "month": mo,
                    "payout_deduction_share": round(float(pay_rows.at[i, "deductions"] / pay_rows.at[i, "gross"]), 4),
                    "month_deduction_share": round(float(pay_rows.loc[same, "deductions"].sum() / pay_rows.loc[same, "gross"].sum()), 4)})
    ded.sort(key=lambda r: (r["worker_id"], r["period_end"]))
    mon = pay_rows.assign(month=pe_month).groupby(["worker_id", "month"])[["gross", "deductions"]].sum()
    inc = mon[mon["deductions"] > 0.2 * mon["gross"]]
    injected_keys = {(r["worker_id"], r["month"]) for r in ded}
    incidental = sorted([{"worker_id": w, "month": mo, "month_deduction_share": round(float(r["deductions"] / r["gross"]), 4)}
                         for (w, mo), r in inc.iterrows() if (w, mo) not in injected_keys],
                        key=lambda r: (r["worker_id"], r["month"]))
    gen = {w: g for w, g in zip(ids, W["gender"])}
    return {
        "low_pay_workers": {
            "check": "art12.minimum_wage", "workers": low, "hourly_minimum_cny": HOURLY_MINIMUM,
            "mechanism": "long idle online time: 0.55x the order rate of comparable riders, full-time sessions",
            "per_worker": low_weeks},
        "long_days": {"check": "art14.daily_hours",
                      "over_12h": day_rec(inj["long12"]), "between_10_and_12h": day_rec(inj["long10"])},
        "continuous_work": {"check": "art14.continuous_work", "threshold_hours": 4, "gap_minutes": 20,
                            "worker_days": chain},
        "weeks_without_rest": {"check": "art14.weekly_rest / art14.weekly_hours", "worker_weeks": seven},
        "sessions_crossing_midnight": sorted([{"worker_id": ids[w], "login_date": dl(d),
                                               "sunday_to_monday": bool(day_dates[d].weekday() == 6)} for w, d in inj["night"]],
                                             key=lambda r: (r["worker_id"], r["login_date"])),
        "tight_deadlines": {
            "check": "art19.deadline_percentile / art19.late_rate", "region": tight_region,
            "allowance_rule": "round(0.90 x expected duration) minutes in the tight region; "
                              "ceil(1.45 x expected + 6) minutes elsewhere; "
                              "expected = pickup_base + pickup_mean + distance / mean speed + 2.5 min",
            "share_of_allowances_below_cell_median_actual": {
                "tight_region": round(float((allow[t] < med[t]).mean()), 4),
                "other_regions": round(float((allow[~t] < med[~t]).mean()), 4)},
            "late_rate": {"tight_region": round(float((c["delivered_at"] > c["promised_at"])[t].mean()), 4),
                          "other_regions": round(float((c["delivered_at"] > c["promised_at"])[~t].mean()), 4),
                          "platform": round(float((c["delivered_at"] > c["promised_at"]).mean()), 4)},
            "orders": int(t.sum())},
        "required_speed": {
            "check": "art19.required_speed", "limit_kmh": 25,
            "mechanism": "about 5 % of e-bike orders of 2.5 km or more outside the tight region get a deadline "
                         "of distance / U(27, 36) km/h after pickup",
            "rush_orders": int(fl["rush"].sum()),
            "ebike_orders_over_25kmh": int(need.sum()), "ebike_completed_orders": int(eb.sum()),
            "share_over_25kmh": round(float(need.sum() / max(eb.sum(), 1)), 4)},
        "holiday_premium": {
            "check": "art13.holiday_premium", "true_premium_pct": 0.0, "holiday_dates": holiday_dates,
            "holiday_orders": int(fl["holiday"].sum()), "holiday_allowance": 0.0},
        "weather_premium": {
            "check": "art13.weather_premium", "true_premium_pct": 15.0,
            "extreme_days": ext_list, "allowance_per_order_cny": {"heat": 2.0, "rainstorm:orange": 3.0},
            "extreme_orders": int(fl["extreme"].sum()),
            "not_extreme": "晋州市 on 2025-10-10 has only rainstorm:yellow; 2025-09-18 peaks at 34.6 C"},
        "pay_rule_change": {
            "effective_date": RATE_CHANGE_DATE, "notice": "none",
            "km_rate_before": P["km_rate"], "km_rate_after": round(P["km_rate"] * 0.8, 4), "km_rate_change_pct": -20.0,
            "base_before": P["base"], "base_after": round(P["base"] + base_raise, 2),
            "pay_formula": "pay = (base + km_rate * distance_km + hour_pay[hour]) * exp(N(0, %.2f)) * (1.15 on extreme-weather days)" % P["noise"],
            "hour_pay": {"11,12,17,18": 1.0, "22-05": 1.5, "other": 0.0},
            "note": "base raised so that a %.1f km order pays the same; orders over that distance lose" % P["dist_median"]},
        "gender_gap": {
            "check": "art10.group_disparity", "orders_per_online_hour_ratio_f_to_m": 0.90,
            "female_workers": int(sum(1 for w in ids if gen[w] == "F")),
            "male_workers": int(sum(1 for w in ids if gen[w] == "M")),
            "note": "applied to the order intensity; pay per order is gender-neutral"},
        "late_payouts": {"check": "art12.payment_timeliness", "payouts": late},
        "heavy_deductions": {"check": "art12.deductions", "threshold_share": 0.20, "payouts": ded,
                             "incidental": incidental,
                             "incidental_note": "not injected: small monthly gross with an order penalty and daily insurance"},
    }


# ----------------------------------------------------------------------------- export
def _export(rng, tables, start, inject, W):
    o = tables["orders"].copy()
    s = tables["sessions"].copy()
    p = tables["payouts"].copy()
    bad = []
    dup_info = {}
    # duplicate / overlapping session rows (the union is unchanged)
    if inject and len(s):
        k = max(2, len(s) // 150)
        pick = np.sort(rng.choice(len(s), size=2 * k, replace=False))
        dup_exact, frag = pick[:k], pick[k:]
        extra = [s.iloc[dup_exact]]
        fr = s.iloc[frag].copy()
        ln = (fr["logout_at"] - fr["login_at"]).to_numpy()
        cut_a = fr["login_at"].to_numpy() + ln // 2 + 600     # first fragment ends after the second starts
        cut_b = fr["login_at"].to_numpy() + ln // 2 - 600
        s.loc[s.index[frag], "logout_at"] = cut_a
        fr["login_at"] = cut_b
        extra.append(fr)
        dup_info = {"exact_duplicate_rows": int(k), "split_into_overlapping_pairs": int(k),
                    "workers": sorted(set(s["worker_id"].iloc[pick].tolist())),
                    "note": "the union of each worker's sessions is unchanged; merge, never double count"}
        s = pd.concat([s] + extra, ignore_index=True)
        s = s.sort_values(["worker_id", "login_at", "logout_at"], kind="stable").reset_index(drop=True)
    for col in ("accepted_at", "picked_up_at", "delivered_at", "promised_at"):
        o[col] = _ts(start, o[col].to_numpy())
    s["login_at"] = _ts(start, s["login_at"].to_numpy())
    s["logout_at"] = _ts(start, s["logout_at"].to_numpy())
    p["paid_at"] = _ts(start, p["paid_at"].to_numpy())
    if inject and len(o) > 20:
        o, bad = _bad_orders(rng, o)
        row = s.iloc[len(s) // 3].copy()
        day = row["login_at"][:10]
        d = date.fromisoformat(day)
        row["login_at"] = f"{day} 08:00:00"
        row["logout_at"] = f"{(d + timedelta(days=1)).isoformat()} 10:30:00"
        pos = len(s) // 3 + 1
        s = pd.concat([s.iloc[:pos], row.to_frame().T, s.iloc[pos:]], ignore_index=True)
        bad.append({"file": "sessions.csv", "line": pos + 2, "worker_id": row["worker_id"],
                    "reason": "session over 24 h", "value": f"{row['login_at']} -> {row['logout_at']} (26.5 h)"})
    out = dict(tables)
    out.update(orders=o, sessions=s, payouts=p)
    return out, bad, dup_info


def _bad_orders(rng, o):
    n = len(o)
    width = len(o["order_id"].iat[0]) - 1
    prefix = o["order_id"].iat[0][0]
    comp = np.flatnonzero((o["status"] == "completed").to_numpy())
    srcs = sorted(rng.choice(comp, size=5, replace=False).tolist())
    kinds = ["delivered_at before accepted_at", "negative pay", "duplicate order_id",
             "unparseable time", "distance over 300 km"]
    kinds = [kinds[i] for i in rng.permutation(5)]
    rows = []
    nid = n
    for src, kind in zip(srcs, kinds):
        r = o.iloc[src].copy()
        if kind != "duplicate order_id":
            nid += 1
            r["order_id"] = f"{prefix}{nid:0{width}d}"
        if kind == "delivered_at before accepted_at":
            acc = pd.Timestamp(r["accepted_at"])
            r["delivered_at"] = (acc - pd.Timedelta(minutes=12)).strftime("%Y-%m-%d %H:%M:%S")
            r["picked_up_at"] = (acc + pd.Timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
            value = f"accepted_at {r['accepted_at']}, delivered_at {r['delivered_at']}"
        elif kind == "negative pay":
            r["pay"] = -6.5
            value = "pay -6.50"
        elif kind == "duplicate order_id":
            value = f"repeats order {r['order_id']} of the line above"
        elif kind == "unparseable time":
            r["accepted_at"] = "2025-09-31 12:10:05"
            value = "accepted_at 2025-09-31 12:10:05 (no 31 September)"
        else:
            r["distance_km"] = 400.0
            value = "distance_km 400.00"
        rows.append((src, kind, r, value))
    # insert each bad row right after its source row (from the back so positions hold)
    parts, last = [], 0
    for src, kind, r, value in rows:
        parts.append(o.iloc[last:src + 1])
        parts.append(r.to_frame().T)
        last = src + 1
    parts.append(o.iloc[last:])
    o2 = pd.concat(parts, ignore_index=True)
    bad = []
    for j, (src, kind, r, value) in enumerate(rows):
        line = src + 1 + j + 2  # inserted after src; j earlier insertions; header = line 1
        bad.append({"file": "orders.csv", "line": int(line), "order_id": r["order_id"],
                    "worker_id": r["worker_id"], "reason": kind, "value": value})
    for c in ("distance_km", "pay", "bonus", "tip", "allowance", "penalty", "customer_price"):
        o2[c] = o2[c].astype(float)
    return o2, bad


# ----------------------------------------------------------------------------- writing
def _csv_text(df, name, header=True):
    """Deterministic CSV text: every float column of a table has one fixed format."""
    out = df.copy()
    digits = FLOAT_DIGITS.get(name, {})
    for c, nd in digits.items():
        if c in out:
            out[c] = np.round(out[c].to_numpy(dtype=float), nd) + 0.0
    nd = set(digits.values())
    assert len(nd) <= 1
    return out.to_csv(index=False, header=header, lineterminator="\n",
                      float_format=f"%.{nd.pop()}f" if nd else None)


FLOAT_DIGITS = {
    "orders": {"distance_km": 2, "pay": 2, "bonus": 2, "tip": 2, "allowance": 2, "penalty": 2, "customer_price": 2},
    "payouts": {"gross": 2, "deductions": 2, "net": 2},
    "weather": {"t_max_c": 1, "t_min_c": 1},
}


def write_tables(tables, manifest, out_dir, fmt="csv"):
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for name in TABLES:
        df = tables[name]
        if fmt == "csv":
            path = os.path.join(out_dir, f"{name}.csv")
            text = _csv_text(df, name)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        else:
            path = os.path.join(out_dir, f"{name}.parquet")
            df.to_parquet(path, index=False)
        files[os.path.basename(path)] = {"rows": int(len(df)), "sha256": _sha256(path)}
    manifest = dict(manifest)
    manifest["files"] = files
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return manifest


def generate_platform(out_dir=None, *, seed=DEFAULT_SEED, n_workers=150, start=DEFAULT_START,
                      end=DEFAULT_END, region_mix=None, platform=DEFAULT_PLATFORM, kind="delivery",
                      inject=True, fmt="csv") -> dict:
    """Generate one platform's canonical logs; write them to ``out_dir`` when given.

    Returns ``{"orders", "sessions", "workers", "payouts", "weather"}`` DataFrames in
    export form (timestamps as CST strings, bad rows included).  The manifest is
    attached as ``tables["orders"].attrs["manifest"]`` (and written as
    ``manifest.json``)."""
    tables, manifest = build_platform(seed=seed, n_workers=n_workers, start=start, end=end,
                                      region_mix=region_mix, platform=platform, kind=kind, inject=inject)
    if out_dir is not None:
        manifest = write_tables(tables, manifest, out_dir, fmt=fmt)
    tables["orders"].attrs["manifest"] = manifest
    return tables


# ----------------------------------------------------------------------------- scale mode
ORDERS_PER_WORKER_DAY = 4.15  # measured on the default sample (delivery); used to size --orders runs


# Columns that hold a time or a date, in every table (native_times writes them typed).
TIME_COLUMNS = frozenset({"accepted_at", "picked_up_at", "delivered_at", "promised_at", "login_at",
                          "logout_at", "period_start", "period_end", "paid_at", "date", "joined_on"})


def generate_scaled(out_dir, *, orders, seed, start=DEFAULT_START, end=None, fmt="parquet",
                    kind="delivery", chunk_workers=20000, inject=True, platform=DEFAULT_PLATFORM,
                    native_times=False):
    """Make about ``orders`` orders: n_workers (and, above 5 M orders, a 13-week
    quarter) are chosen to reach it; workers are generated in chunks of
    ``chunk_workers`` (seed + chunk, ids W<chunk>..., injections in chunk 0 only)
    and appended to one file per table.

    ``native_times`` (Parquet only) stores timestamps and dates as Parquet
    timestamps, as a platform's own Parquet export would, instead of text; an
    injected unparseable time then becomes a null (the row is still rejected,
    as lacking the time)."""
    start = _d(start)
    if end is None:
        end = start + timedelta(days=(41 if orders <= 5_000_000 else 90))
    end = _d(end)
    n_days = (end - start).days + 1
    per = ORDERS_PER_WORKER_DAY * (1.0 if kind == "delivery" else 0.55)
    n_workers = max(30, int(round(orders / (per * n_days))))
    os.makedirs(out_dir, exist_ok=True)
    n_chunks = math.ceil(n_workers / chunk_workers)
    writers, counts = {}, {t: 0 for t in TABLES}
    manifests = []
    try:
        for k in range(n_chunks):
            nw = min(chunk_workers, n_workers - k * chunk_workers)
            tables, man = build_platform(seed=seed + k, n_workers=nw, start=start, end=end, kind=kind,
                                         inject=inject and k == 0, platform=platform, id_prefix=f"O{k:03d}-")
            if n_chunks > 1:
                for t in ("orders", "sessions", "workers", "payouts"):
                    tables[t]["worker_id"] = f"C{k:03d}" + tables[t]["worker_id"].astype(str)
            if k > 0:
                tables["weather"] = tables["weather"].iloc[0:0]
            manifests.append(man)
            for t in TABLES:
                df = tables[t]
                if fmt == "parquet":
                    import pyarrow as pa
                    import pyarrow.parquet as pq
                    if native_times:
                        df = df.assign(**{c: pd.to_datetime(df[c], errors="coerce", format="ISO8601")
                                             .astype("datetime64[s]")
                                          for c in df.columns if c in TIME_COLUMNS})
                    df = df.astype({c: str for c in df.columns if df[c].dtype == object})
                    tbl = pa.Table.from_pandas(df, preserve_index=False)
                    if t not in writers:
                        writers[t] = pq.ParquetWriter(os.path.join(out_dir, f"{t}.parquet"), tbl.schema)
                    if len(df):
                        writers[t].write_table(tbl.cast(writers[t].schema))
                else:
                    path = os.path.join(out_dir, f"{t}.csv")
                    text = _csv_text(df, t, header=(k == 0))
                    with open(path, "w" if k == 0 else "a", encoding="utf-8", newline="") as f:
                        f.write(text)
                counts[t] += len(df)
            print(f"chunk {k + 1}/{n_chunks}: {len(tables['orders'])} orders", file=sys.stderr)
    finally:
        for w in writers.values():
            w.close()
    summary = {"generator_version": GENERATOR_VERSION, "seed": seed, "kind": kind, "orders_target": orders,
               "n_workers": n_workers, "chunks": n_chunks, "period": [start.isoformat(), end.isoformat()],
               "row_counts": counts, "format": fmt,
               "chunk0_manifest": manifests[0] if manifests else None}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return summary


# ----------------------------------------------------------------------------- batch samples
# The regulator's batch (data_samples/batch_manifest.toml) needs platforms that differ.
# These builders only ADD folders; the Shijiazhuang sample and its seed are untouched.
BAODING = dict(seed=20251002, n_workers=60, start="2025-09-22", end="2025-10-19",
               region_mix={"baoding": 0.70, "涿州市": 0.12, "定州市": 0.10, "高碑店市": 0.08},
               platform="jisong", kind="delivery", inject=True)
TANGSHAN_RIDEHAIL = dict(seed=20251003, n_workers=40, start="2025-09-22", end="2025-10-19",
                         region_mix={"tangshan": 1.0}, platform="xingche", kind="ridehail", inject=False)
# The ride-hailing export as a platform would hand it over: Chinese headers, money in fen,
# no deadline and no region column (the manifest gives the default region).
RIDEHAIL_EXPORT_COLUMNS = {
    "order_id": "订单号", "worker_id": "司机ID", "accepted_at": "接单时间", "picked_up_at": "乘客上车时间",
    "delivered_at": "行程结束时间", "distance_km": "里程(公里)", "pay": "司机收入(分)", "bonus": "奖励(分)",
    "tip": "小费(分)", "allowance": "补贴(分)", "penalty": "罚款(分)", "customer_price": "乘客支付(分)",
    "status": "订单状态"}
RIDEHAIL_PROFILE = """\
# Mapping profile of the xingche ride-hailing export (data_samples/tangshan_ridehail/trips.csv).
name = "xingche_trips"
description = "xingche ride-hailing trips: Chinese headers, money in fen, no deadline, no region column"

[files]
orders = "trips"

[orders.columns]
order_id = "订单号"
worker_id = "司机ID"
accepted_at = "接单时间"
picked_up_at = "乘客上车时间"
delivered_at = "行程结束时间"
distance_km = "里程(公里)"
pay = "司机收入(分)"
bonus = "奖励(分)"
tip = "小费(分)"
allowance = "补贴(分)"
penalty = "罚款(分)"
customer_price = "乘客支付(分)"
status = "订单状态"

[orders.units]
pay = "fen"
bonus = "fen"
tip = "fen"
allowance = "fen"
penalty = "fen"
customer_price = "fen"

[orders.values.status]
"已完成" = "completed"
"已取消" = "cancelled"

[orders.defaults]
platform = "xingche"
"""
BROKEN_README = """\
A deliberately broken submission for the batch manifest: orders.csv lacks the
required column delivered_at, so the audit cannot run and the batch reports it
in one line (the other submissions still complete).
"""


def _write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def build_batch_samples(root=None):
    """Write the batch samples under ``root`` (default: this folder).

    * ``baoding/``: a Baoding food-delivery platform (60 riders, 4 weeks over National Day,
      injected problems; tight deadlines in 高碑店市, the last region of the mix);
    * ``tangshan_ridehail/``: a clean Tangshan ride-hailing platform (40 car drivers) exported
      as ``trips.csv`` with Chinese headers, fen and no deadlines, read with ``xingche_trips.toml``;
    * ``broken_platform/``: orders without ``delivered_at``.

    Deterministic: the same files byte for byte on every call.
    """
    root = root or os.path.dirname(os.path.abspath(__file__))
    generate_platform(os.path.join(root, "baoding"), **BAODING)
    ts = os.path.join(root, "tangshan_ridehail")
    tables, manifest = build_platform(**TANGSHAN_RIDEHAIL)
    o = tables["orders"].drop(columns=["promised_at", "region", "platform"])
    money = ["pay", "bonus", "tip", "allowance", "penalty", "customer_price"]
    for c in money:
        o[c] = np.round(o[c].to_numpy(dtype=float) * 100).astype(np.int64)
    o["status"] = o["status"].map({"completed": "已完成", "cancelled": "已取消"})
    o["distance_km"] = np.round(o["distance_km"].to_numpy(dtype=float), 2) + 0.0
    tables["orders"] = o.rename(columns=RIDEHAIL_EXPORT_COLUMNS)
    os.makedirs(ts, exist_ok=True)
    files = {}
    for name in TABLES:
        fname = "trips.csv" if name == "orders" else f"{name}.csv"
        text = (tables["orders"].to_csv(index=False, lineterminator="\n", float_format="%.2f")
                if name == "orders" else _csv_text(tables[name], name))
        _write_text(os.path.join(ts, fname), text)
        files[fname] = {"rows": int(len(tables[name])), "sha256": _sha256(os.path.join(ts, fname))}
    _write_text(os.path.join(ts, "xingche_trips.toml"), RIDEHAIL_PROFILE)
    manifest = dict(manifest, files=files,
                    export={"orders_file": "trips.csv", "profile": "xingche_trips.toml",
                            "money_unit": "fen", "dropped": ["promised_at", "region", "platform"]})
    _write_text(os.path.join(ts, "manifest.json"), json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    br = os.path.join(root, "broken_platform")
    os.makedirs(br, exist_ok=True)
    bt, _ = build_platform(seed=20251004, n_workers=30, start="2025-09-22", end="2025-10-05",
                           region_mix={"shijiazhuang": 1.0}, platform="broken", kind="delivery",
                           inject=False)
    _write_text(os.path.join(br, "orders.csv"),
                _csv_text(bt["orders"].head(200).drop(columns=["delivered_at"]), "orders"))
    _write_text(os.path.join(br, "README.md"), BROKEN_README)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--workers", type=int, default=150)
    ap.add_argument("--start", default=DEFAULT_START)
    ap.add_argument("--end", default=None)
    ap.add_argument("--platform", default=DEFAULT_PLATFORM)
    ap.add_argument("--kind", choices=sorted(KIND_PARAMS), default="delivery")
    ap.add_argument("--no-inject", action="store_true")
    ap.add_argument("--orders", type=int, default=None, help="scale mode: about this many orders")
    ap.add_argument("--format", choices=["csv", "parquet"], default=None)
    ap.add_argument("--batch-samples", action="store_true",
                    help="write the batch samples (baoding/, tangshan_ridehail/, broken_platform/) into --out")
    a = ap.parse_args(argv)
    if a.batch_samples:
        build_batch_samples(a.out)
    elif a.orders:
        s = generate_scaled(a.out, orders=a.orders, seed=a.seed, start=a.start, end=a.end,
                            fmt=a.format or "parquet", kind=a.kind, inject=not a.no_inject, platform=a.platform)
        print(json.dumps(s["row_counts"]))
    else:
        t = generate_platform(a.out, seed=a.seed, n_workers=a.workers, start=a.start, end=a.end or DEFAULT_END,
                              platform=a.platform, kind=a.kind, inject=not a.no_inject, fmt=a.format or "csv")
        print(json.dumps(t["orders"].attrs["manifest"]["row_counts"]))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
