"""Lockstep timing, in the spirit of CopyCatch: accounts that send the same template in the same
short time windows, again and again, far more than unrelated accounts do.

The key is (template, window): an eval runner that sends a public benchmark at its own hour shares
the template but not the windows; a pool of harvest accounts fed by one dispatcher shares both.
Chance coincidences are removed by `min_shared["lockstep"]` (a pair must share several windows).
"""

from __future__ import annotations

from distillguard.link.config import LinkConfig
from distillguard.link.infrastructure import bucket
from distillguard.link.keys import EX, KeySpec


def key_specs(cfg: LinkConfig) -> list[KeySpec]:
    """The lockstep key spec over EX."""
    secs = max(10, int(cfg.lockstep_window_minutes * 60))
    return [
        KeySpec(
            "lockstep",
            f"SELECT aid, template || ' @ ' || {bucket('ts', secs)} AS key, count(*) AS n "
            f"FROM {EX} WHERE template IS NOT NULL GROUP BY ALL",
        )
    ]
