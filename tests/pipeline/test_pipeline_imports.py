"""What each early step of a scan imports: the later stages' libraries must not load before they run."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from distillguard.ingest.workers import PRELOAD


def _loaded(code: str, heavy: tuple[str, ...]) -> list[str]:
    """The modules of `heavy` that a fresh interpreter has imported after running `code`."""
    probe = f"import sys\n{code}\nprint(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(done.stdout.strip())


def test_scan_options_do_not_import_the_detectors() -> None:
    # The default threshold is read when the options are parsed, while the map workers start.
    code = "from distillguard.config import ScanConfig\nassert 0 < ScanConfig().threshold < 1"
    assert _loaded(code, ("igraph", "matplotlib", "scipy", "distillguard.detect")) == []


@pytest.mark.parametrize("module", PRELOAD)
def test_map_workers_skip_the_template_grouping(module: str) -> None:
    assert _loaded(f"import {module}", ("scipy", "igraph", "duckdb", "distillguard.signals.templates")) == []


def test_lazy_names_resolve() -> None:
    import distillguard.decide as decide
    import distillguard.signals as signals

    assert decide.shipped().threshold == decide.DEFAULT_THRESHOLD
    for name in (*decide.__all__, *signals.__all__):
        assert getattr(decide if name in decide.__all__ else signals, name) is not None
    with pytest.raises(AttributeError):
        _ = signals.no_such_name


def test_submodules_stay_reachable_as_attributes() -> None:
    code = (
        "from distillguard import decide, signals\n"
        "assert callable(decide.fusion.fuse) and signals.templates.DISTINCT_SKELETONS_SQL\n"
        "try:\n    decide.no_such_module\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)"
    )
    assert _loaded(code, ()) == []
