"""Regular-expression engines of the single-prompt path.

The column path runs every pattern through RE2 inside Arrow. The single-prompt path must agree
with it, so every pattern is written in the subset where RE2 and Python ``re`` with ASCII
classes behave alike (no look-arounds, no back-references in patterns, no ``\\p{..}``), which
the tests check on real prompts. Two compilers:

- ``search_pattern``: for yes/no searches of the long alternation-heavy pattern families. Uses
  Google's RE2 bindings (package ``google-re2``) when installed: the very engine Arrow runs,
  linear time and several times faster than Python's backtracking ``re`` here. Falls back to
  ``re``.
- ``rewrite_pattern``: for substitutions and counting. Python ``re``, whose ``sub`` and
  ``findall`` run in C (the RE2 bindings implement them in Python, which is slower).
"""

from __future__ import annotations

import re
from typing import Any

try:  # pragma: no cover - which branch runs depends on the installation
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

SEARCH_ENGINE = "re2" if _re2 is not None else "re"


def rewrite_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a pattern for ``sub`` / ``findall`` on one prompt."""
    return re.compile(pattern, re.ASCII)


def search_pattern(pattern: str) -> Any:
    """Compile a pattern for ``search`` on one prompt (RE2 when available)."""
    if _re2 is not None:
        return _re2.compile(pattern)
    return re.compile(pattern, re.ASCII)
