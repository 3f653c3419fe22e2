"""Ingest: API logs -> normalized exchange rows, with every rejection counted and explained.

Entry points: `extract` (one request/response pair -> body columns; the gateway's fast path),
`normalize_lines` (one batch of raw JSON Lines -> exchange rows + rejects; every engine's map step),
`ingest_paths` (files, directories, globs -> the scan's store) and `load_mapping` (YAML layouts).
"""

from distillguard.ingest.accounts import read_accounts
from distillguard.ingest.loader import IngestError, IngestReport, StrictModeError, ingest_paths, map_batch
from distillguard.ingest.mapping import FieldMapping, MappingError, builtin_mappings, load_mapping
from distillguard.ingest.parse_body import EXTRACT_COLUMNS, detect_flavor, extract
from distillguard.ingest.records import REJECT_REASONS, Rejected, normalize_lines, normalize_records
from distillguard.ingest.sources import SourceError, expand_paths

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
