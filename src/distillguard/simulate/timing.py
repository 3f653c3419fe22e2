"""When accounts send requests: human days, round-the-clock services, bursts and lockstep pools.

All times are integer microseconds since the Unix epoch (UTC), returned sorted.
"""

from __future__ import annotations

import numpy as np

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR

# Relative activity of a person by local hour: asleep at night, busy afternoons and evenings.
HUMAN_DAY = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.04,
        0.04,
        0.07,
        0.2,
        0.45,
        0.8,
        1.0,
        1.0,
        0.95,
        0.85,
        0.95,
        1.0,
        1.0,
        0.95,
        0.85,
        0.8,
        0.85,
        0.9,
        0.8,
        0.55,
        0.3,
    ]
)
# Global user base of a product seen from UTC: flatter, never zero.
GLOBAL_DAY = 0.55 + 0.45 * np.roll(HUMAN_DAY, -2) / HUMAN_DAY.max()


def _hours_weighted(rng: np.random.Generator, n: int, curve: np.ndarray, tz_hours: float) -> np.ndarray:
    """`n` offsets within a day (µs), distributed by a local-hour activity curve."""
    p = curve / curve.sum()
    local = rng.choice(24, size=n, p=p)
    utc_hour = (local - tz_hours) % 24
    return (utc_hour * HOUR + rng.integers(0, HOUR, n)).astype(np.int64)


def sessions(
    rng: np.random.Generator,
    start: int,
    days: float,
    sessions_per_day: float,
    per_session: float,
    tz_hours: float,
    curve: np.ndarray = HUMAN_DAY,
    gap_s: tuple[float, float] = (20.0, 240.0),
    weekdays_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """A person's sessions: (times, session number per time). Sessions start on the local-hour
    curve; each holds a geometric number of requests spaced by human reading/typing gaps."""
    n_days = int(np.ceil(days))
    counts = rng.poisson(sessions_per_day, n_days)
    if weekdays_only:
        weekday = ((start // DAY + np.arange(n_days) + 4) % 7) < 5  # 1970-01-01 was a Thursday
        counts = counts * weekday
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    day_idx = np.repeat(np.arange(n_days), counts)
    starts = start + day_idx * DAY + _hours_weighted(rng, total, curve, tz_hours)
    sizes = rng.geometric(1.0 / max(1.0, per_session), total)
    sess = np.repeat(np.arange(total), sizes)
    gaps = np.exp(rng.uniform(np.log(gap_s[0]), np.log(gap_s[1]), len(sess))) * US
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    gaps[first] = 0
    offsets = _segment_cumsum(gaps, sizes)
    times = np.repeat(starts, sizes) + offsets.astype(np.int64)
    keep = times < start + int(days * DAY)
    return times[keep], sess[keep]


def _segment_cumsum(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    base = np.repeat(cs[first] - values[first], sizes)
    return cs - base


def poisson(
    rng: np.random.Generator, start: int, end: int, rate_per_day: float, curve: np.ndarray | None = None
) -> np.ndarray:
    """A Poisson process between `start` and `end` at `rate_per_day` on average, optionally shaped
    by a UTC-hour curve (the daily total stays `rate_per_day`; the curve only moves it around)."""
    span = max(0, end - start)
    if curve is None:
        n = int(rng.poisson(rate_per_day * span / DAY))
        return np.sort(start + rng.integers(0, max(1, span), n)).astype(np.int64)
    # Whole days covering the window, then keep what falls inside it.
    day0 = start // DAY * DAY
    n_days = max(1, int(np.ceil((end - day0) / DAY)))
    n = int(rng.poisson(rate_per_day * n_days))
    c = np.resize(curve, 24)
    hours = rng.choice(24, size=n, p=c / c.sum())
    t = day0 + rng.integers(0, n_days, n) * DAY + hours * HOUR + rng.integers(0, HOUR, n)
    return np.sort(t[(t >= start) & (t < end)]).astype(np.int64)


def bursts(
    rng: np.random.Generator,
    start: int,
    end: int,
    burst_starts: np.ndarray,
    per_burst: np.ndarray,
    spacing_s: tuple[float, float],
) -> np.ndarray:
    """Back-to-back requests in bursts (a job, a CI run, a benchmark sweep)."""
    out = []
    for b, n in zip(burst_starts, per_burst, strict=True):
        if n <= 0:
            continue
        gaps = np.exp(rng.uniform(np.log(spacing_s[0]), np.log(spacing_s[1]), int(n))) * US
        out.append(int(b) + np.cumsum(gaps).astype(np.int64))
    if not out:
        return np.empty(0, np.int64)
    t = np.concatenate(out)
    return np.sort(t[(t >= start) & (t < end)])


def lockstep(
    rng: np.random.Generator, start: int, end: int, n_accounts: int, interval_s: float, jitter_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """A dispatcher sending one request every `interval_s`, round-robin over the pool.

    Returns (times, account position in the pool). Each account thus fires every
    `n_accounts * interval_s` seconds, in a fixed order: the synchronized cadence of a pool.
    """
    n = int((end - start) / (interval_s * US))
    if n <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ticks = start + (np.arange(n) * interval_s * US).astype(np.int64)
    ticks += (rng.normal(0, jitter_s, n) * US).astype(np.int64)
    who = np.arange(n) % n_accounts
    return ticks, who
