"""The self-contained HTML report of a scan: campaigns, linkage graph, account drill-downs."""

from distillguard.report.render import build_context, write_report
from distillguard.report.scandir import Scan, ScanDirError, open_scan

__all__ = ["Scan", "ScanDirError", "build_context", "open_scan", "write_report"]
