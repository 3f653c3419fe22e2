"""Field mappings: other log layouts through YAML, validated with errors naming file and field."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest

from distillguard.ingest import MappingError, builtin_mappings, load_mapping, normalize_lines


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "layout.yaml"
    path.write_text(text)
    return path


GATEWAY = """
name: gateway-spend-log
timestamp_format: epoch_ms
fields:
  id: request_id
  ts: startTime
  account_id: metadata.user_api_key_team_id
  api_key_id: metadata.user_api_key_hash
  client_ip: {template: "{requester_ip_address}"}
  status: {value: 200}
  output_tokens: completion_tokens
request:
  body: proxy_server_request
response:
  body: response
"""


def test_a_layout_carrying_whole_bodies_keeps_their_flavour(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, GATEWAY))
    body = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low"}
    line = orjson.dumps(
        {
            "request_id": "r-1",
            "startTime": 1772366400123,
            "metadata": {"user_api_key_team_id": "team-9", "user_api_key_hash": "h"},
            "requester_ip_address": "198.51.100.4",
            "completion_tokens": 77,
            "proxy_server_request": orjson.dumps(body).decode(),  # logged as JSON text
            "response": {"object": "chat.completion", "choices": [{"message": {"content": "hello"}}]},
        }
    )
    table, rejects = normalize_lines([(1, line)], "spend.jsonl", mapping)
    assert rejects == []
    row = table.to_pylist()[0]
    assert (row["exchange_id"], row["account_id"], row["api_key_id"]) == ("r-1", "team-9", "h")
    assert row["ts"].isoformat() == "2026-03-01T12:00:00.123000+00:00"
    assert (row["client_ip"], row["status"], row["output_tokens"]) == ("198.51.100.4", 200, 77)
    assert (row["flavor"], row["reasoning_effort"], row["response_chars"]) == ("openai_chat", "low", 5)


def test_flat_fields_build_a_mapped_request(tmp_path: Path) -> None:
    mapping = load_mapping("glasswally")
    line = orjson.dumps(
        {
            "account_id": "sk-1",
            "timestamp": "2026-02-27T20:08:29.149978+00:00",
            "model": "gpt-4o",
            "prompt": "Explain your reasoning step by step.",
            "system_prompt": "You are a grader.",
            "token_count": 42,
            "max_tokens": 256,
            "client_ip": "63.114.71.189",
            "asn_number": 4134,
            "asn_org": "CHINANET",
            "user_agent": "python-requests/2.31.0",
            "h2_settings_fp": "1:65536;4:131072",
            "campaign_label": "c1",
        }
    )
    row = normalize_lines([(1, line)], "g.jsonl", mapping)[0].to_pylist()[0]
    assert (row["flavor"], row["model"], row["max_tokens"], row["turns"]) == ("mapped", "gpt-4o", 256, 2)
    assert (row["user_text"], row["system_text"]) == (
        "Explain your reasoning step by step.",
        "You are a grader.",
    )
    assert (row["asn"], row["client_fp"], row["input_tokens"]) == ("AS4134", "1:65536;4:131072", 42)


def test_a_mapped_record_without_its_fields_is_rejected_with_a_reason() -> None:
    mapping = load_mapping("glasswally")
    lines = [(1, b'{"timestamp": "2026-02-27T20:08:29Z", "prompt": "x"}'), (2, b'{"account_id": "a"}')]
    _, rejects = normalize_lines(lines, "g.jsonl", mapping)
    assert [r["reason"] for r in rejects] == ["missing_account", "missing_timestamp"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nfields: {ts: t}\nrequest: {prompt: p}\n", "account_id"),
        ("name: x\nfields: {ts: t, account_id: a, color: c}\nrequest: {prompt: p}\n", "fields: .*color"),
        ("name: x\nfields: {ts: t, account_id: a}\nrequest: {}\n", "request"),
        (
            "name: x\nfields: {ts: t, account_id: a}\nrequest: {prompt: p}\ntimestamp_format: iso\n",
            "timestamp_format",
        ),
        ("name: x\nfields: {ts: {path: t, value: 1}, account_id: a}\nrequest: {prompt: p}\n", "fields.ts"),
        ("- just\n- a list\n", "top level"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_mappings_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(MappingError, match=message) as info:
        load_mapping(path)
    assert str(path) in str(info.value)


def test_unknown_mapping_name_lists_the_builtin_ones() -> None:
    assert "glasswally" in builtin_mappings()
    with pytest.raises(MappingError, match="glasswally"):
        load_mapping("no-such-layout")


def test_mappings_survive_pickling_for_worker_processes() -> None:
    mapping = load_mapping("glasswally")
    clone = pickle.loads(pickle.dumps(mapping))
    rec = {"account_id": "a", "timestamp": "2026-01-01T00:00:00Z", "prompt": "p", "asn_number": 7}
    assert clone.to_record(rec) == mapping.to_record(rec)
