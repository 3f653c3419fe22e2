"""Package attributes imported on first use, so that a stage pays only for what it touches."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports `name` from `package.<exports[name]>`
    on first use and caches it in the package's namespace; other names are looked up as
    submodules."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            # A submodule reached as an attribute (`decide.fusion`), as an eager package allows.
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(package)
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(module, name, value)
        return value

    return __getattr__
