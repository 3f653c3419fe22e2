"""The regular-expression engine of the single-prompt path.

The column path runs every pattern through RE2 inside Arrow. The single-prompt path uses the
same engine through Google's ``re2`` bindings (package ``google-re2``) when they are installed:
identical semantics, linear time and several times faster than Python's backtracking ``re`` on
these alternation-heavy patterns. Without it, Python ``re`` with ASCII classes is used; the
patterns are written in the subset where both engines agree (no look-arounds, no
back-references, no ``\\p{..}``), which the tests check on real prompts.
"""

from __future__ import annotations

import re
from typing import Any

try:  # pragma: no cover - which branch runs depends on the installation
    import re2 as _re2

    ENGINE = "re2"

    def compile_pattern(pattern: str) -> Any:
        """Compile ``pattern`` with the fast path's engine."""
        return _re2.compile(pattern)

except ImportError:  # pragma: no cover
    ENGINE = "re"

    def compile_pattern(pattern: str) -> Any:
        """Compile ``pattern`` with the fast path's engine."""
        return re.compile(pattern, re.ASCII)
