"""Timing primitives: rates are kept, curves shape the day, sessions stay in their window."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.simulate import timing
from distillguard.simulate.timing import DAY, HOUR, US

START = 1_767_225_600 * US  # a midnight, UTC


@pytest.mark.parametrize("curve", [None, timing.GLOBAL_DAY, timing.HUMAN_DAY])
def test_poisson_keeps_its_rate(curve):
    rng = np.random.default_rng(1)
    t = timing.poisson(rng, START, START + 3 * DAY, 2000, curve)
    assert len(t) == pytest.approx(6000, rel=0.05)
    assert (np.diff(t) >= 0).all() and t.min() >= START and t.max() < START + 3 * DAY


def test_human_curve_sleeps_at_night():
    rng = np.random.default_rng(2)
    t, sess = timing.sessions(rng, START, 20, 6, 3, tz_hours=0)
    hours = (t % DAY) // HOUR
    assert (hours >= 9).mean() > 0.8  # most activity after 9:00 local
    assert len(np.unique(sess)) > 60 and (t < START + 20 * DAY).all()


def test_lockstep_cadence():
    rng = np.random.default_rng(3)
    t, who = timing.lockstep(rng, START, START + HOUR, 4, 10.0, 0.01)
    assert len(t) == 360 and (who[:8] == [0, 1, 2, 3, 0, 1, 2, 3]).all()
    assert np.median(np.diff(t[who == 2])) / US == pytest.approx(40.0, abs=0.1)


def test_bursts_are_back_to_back():
    rng = np.random.default_rng(4)
    t = timing.bursts(rng, START, START + DAY, np.array([START + HOUR]), np.array([100]), (0.5, 2.0))
    assert len(t) == 100 and (t[-1] - t[0]) / US < 250
