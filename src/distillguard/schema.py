"""Column contracts of the columnar store.

Every engine (embedded DuckDB, Spark) produces exactly these columns with these types, so the
later stages (linkage, detection, reports) never care which engine ran the map and reduce steps.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

# One row per accepted API call, as normalized by ingest (see docs/data-contracts.md).
EXCHANGE_FIELDS: list[pa.Field] = [
    pa.field("exchange_id", pa.string(), nullable=False),  # record `id`, else a content hash
    pa.field("content_hash", pa.string(), nullable=False),  # hash of the raw record, for duplicates
    pa.field("source", pa.string()),  # file the record came from
    pa.field("line", pa.int64()),  # 1-based line (row number for Parquet)
    pa.field("ts", TS, nullable=False),
    pa.field("account_id", pa.string(), nullable=False),
    pa.field("api_key_id", pa.string()),
    pa.field("client_ip", pa.string()),
    pa.field("asn", pa.string()),  # autonomous system, when the log layout carries it
    pa.field("user_agent", pa.string()),
    pa.field("client_fp", pa.string()),  # TLS / HTTP2 client fingerprint, when carried
    pa.field("flavor", pa.string()),  # anthropic_messages | openai_chat | openai_responses | mapped
    pa.field("model", pa.string()),
    pa.field("system_text", pa.string()),  # system prompt / instructions, joined
    pa.field("user_text", pa.string()),  # text of the last user turn
    pa.field("turns", pa.int32()),  # messages in the request
    pa.field("tool_count", pa.int32()),  # tool definitions offered
    pa.field("tool_names", pa.string()),  # sorted, comma-separated
    pa.field("tool_schema_fp", pa.string()),  # hash of the canonical tool definitions
    pa.field("tool_result_count", pa.int32()),  # tool_result / function_call_output blocks sent
    pa.field("image_count", pa.int32()),
    pa.field("thinking_requested", pa.bool_()),
    pa.field("thinking_budget", pa.int64()),  # Anthropic budget_tokens
    pa.field("reasoning_effort", pa.string()),  # OpenAI reasoning.effort / reasoning_effort
    pa.field("temperature", pa.float64()),
    pa.field("top_p", pa.float64()),
    pa.field("max_tokens", pa.int64()),
    pa.field("stream", pa.bool_()),
    pa.field("response_chars", pa.int64()),  # characters of visible answer text
    pa.field("reasoning_chars", pa.int64()),  # characters of thinking / reasoning returned
    pa.field("response_tool_calls", pa.int32()),
    pa.field("input_tokens", pa.int64()),
    pa.field("output_tokens", pa.int64()),
    pa.field("reasoning_tokens", pa.int64()),
    pa.field("status", pa.int32()),
    pa.field("latency_ms", pa.float64()),
]
EXCHANGE_SCHEMA = pa.schema(EXCHANGE_FIELDS)

# One row per rejected input record.
REJECT_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
    ]
)

# The optional accounts file, joined by account_id.
ACCOUNT_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("created_at", TS),
        pa.field("org_id", pa.string()),
        pa.field("tier", pa.string()),  # standard | education | research | startup | enterprise
        pa.field("email_domain", pa.string()),
        pa.field("payment_fingerprint", pa.string()),
        pa.field("country", pa.string()),
        pa.field("verified", pa.bool_()),
    ]
)
ACCOUNT_TIERS = ("standard", "education", "research", "startup", "enterprise")
