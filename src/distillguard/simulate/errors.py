"""Errors the simulator raises for bad input."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file or name is invalid; the message says where and why."""
