"""Ingest: API logs -> normalized exchange rows, with every rejection counted and explained.

Entry points: `extract` (one request/response pair -> body columns; the gateway's fast path),
`normalize_lines` (one batch of raw JSON Lines -> exchange rows + rejects; every engine's map step),
`ingest_paths` (files, directories, globs -> the scan's store) and `load_mapping` (YAML layouts).

The names are imported on first use: the map workers' process server imports the map step only,
not the YAML mappings' validation (pydantic), which a worker loads when it is handed a mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from distillguard.lazy import lazy_exports

if TYPE_CHECKING:
    from distillguard.ingest.accounts import read_accounts
    from distillguard.ingest.loader import IngestError, IngestReport, StrictModeError, ingest_paths, map_batch
    from distillguard.ingest.mapping import FieldMapping, MappingError, builtin_mappings, load_mapping
    from distillguard.ingest.parse_body import EXTRACT_COLUMNS, detect_flavor, extract
    from distillguard.ingest.paths import SourceError, expand_paths
    from distillguard.ingest.records import REJECT_REASONS, Rejected, normalize_lines, normalize_records

_EXPORTS = {
    "read_accounts": "accounts",
    "IngestError": "loader",
    "IngestReport": "loader",
    "StrictModeError": "loader",
    "ingest_paths": "loader",
    "map_batch": "loader",
    "FieldMapping": "mapping",
    "MappingError": "mapping",
    "builtin_mappings": "mapping",
    "load_mapping": "mapping",
    "EXTRACT_COLUMNS": "parse_body",
    "detect_flavor": "parse_body",
    "extract": "parse_body",
    "REJECT_REASONS": "records",
    "Rejected": "records",
    "normalize_lines": "records",
    "normalize_records": "records",
    "SourceError": "paths",
    "expand_paths": "paths",
}
__all__ = [
    "EXTRACT_COLUMNS",
    "REJECT_REASONS",
    "FieldMapping",
    "IngestError",
    "IngestReport",
    "MappingError",
    "Rejected",
    "SourceError",
    "StrictModeError",
    "builtin_mappings",
    "detect_flavor",
    "expand_paths",
    "extract",
    "ingest_paths",
    "load_mapping",
    "map_batch",
    "normalize_lines",
    "normalize_records",
    "read_accounts",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
