"""The self-contained HTML report of a scan: campaigns, linkage graph, account drill-downs.

The names are imported on first use: the STIX bundle and `match` read scan directories through
`scandir` and should not pay for the page's template engine and plotting libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distillguard.lazy import lazy_exports

if TYPE_CHECKING:
    from distillguard.report.render import build_context, write_report
    from distillguard.report.scandir import Scan, ScanDirError, open_scan

_EXPORTS = {
    "Scan": "scandir",
    "ScanDirError": "scandir",
    "open_scan": "scandir",
    "build_context": "render",
    "write_report": "render",
}
__all__ = ["Scan", "ScanDirError", "build_context", "open_scan", "write_report"]

__getattr__ = lazy_exports(__name__, _EXPORTS)
