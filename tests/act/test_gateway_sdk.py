"""The gateway in front of a stand-in model API, driven by the real Anthropic and OpenAI SDKs."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from distillguard.act.standin import REASONING

THINK = {"type": "enabled", "budget_tokens": 1024}


def _anthropic(url: str, key: str = "sk-ant-benign") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


def _openai(url: str, key: str = "sk-oai-benign") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def test_anthropic_json_and_stream_pass_through(gateway):
    gw = gateway()
    client = _anthropic(gw.url)
    msg = client.messages.create(
        model="m",
        max_tokens=64,
        thinking=THINK,
        messages=[{"role": "user", "content": "Name three rivers in Europe"}],
    )
    assert [b.type for b in msg.content] == ["thinking", "text"]
    assert msg.content[0].thinking == REASONING and msg.content[0].signature
    assert msg.content[1].text == "Answer: Name three rivers in Europe"
    raw = client.messages.with_raw_response.create(
        model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-upstream-request-id"].startswith("req_")  # upstream headers survive
    with client.messages.stream(
        model="m", max_tokens=64, thinking=THINK, messages=[{"role": "user", "content": "Name three rivers"}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert final.content[0].thinking == REASONING
    assert final.content[1].text == "Answer: Name three rivers"


def test_openai_chat_and_responses_pass_through(gateway):
    gw = gateway()
    client = _openai(gw.url)
    chat = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello world"}])
    assert chat.choices[0].message.content == "Answer: hello world"
    pieces = [
        c.choices[0].delta.content
        for c in client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hello world"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        if c.choices and c.choices[0].delta.content
    ]
    assert "".join(pieces) == "Answer: hello world"
    resp = client.responses.create(model="m", input="hello there", reasoning={"effort": "low"})
    assert resp.output_text == "Answer: hello there"
    assert resp.output[0].type == "reasoning" and resp.output[0].summary[0].text == REASONING
    with client.responses.stream(model="m", input="hello there", reasoning={"effort": "low"}) as stream:
        final = stream.get_final_response()
    assert final.output_text == "Answer: hello there"


def test_upstream_errors_keep_their_status_and_shape(gateway):
    gw = gateway()
    with pytest.raises(anthropic.InternalServerError) as err:
        _anthropic(gw.url).messages.create(
            model="m",
            max_tokens=8,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-standin-status": "529"},
        )
    assert err.value.status_code == 529
    with pytest.raises(openai.BadRequestError):
        _openai(gw.url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], extra_headers={"x-standin-status": "400"}
        )


def test_bad_input_gets_provider_shaped_errors(gateway):
    gw = gateway(max_body_bytes=4096)
    r = httpx.post(gw.url + "/v1/messages", content=b"{not json", headers={"x-api-key": "k"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx.post(gw.url + "/v1/chat/completions", content=b"[1, 2]")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx.get(gw.url + "/v1/nothing-here", headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    r = httpx.get(gw.url + "/v1/chat/completions")
    assert r.status_code == 405 and "error" in r.json()
    with pytest.raises(anthropic.APIStatusError) as err:
        _anthropic(gw.url).messages.create(
            model="m", max_tokens=8, messages=[{"role": "user", "content": "x" * 10_000}]
        )
    assert err.value.status_code == 413
    with pytest.raises(openai.NotFoundError):
        _openai(gw.url).models.list()


def test_upstream_down_and_broken_stream(gateway, port):
    dead = gateway(upstream_url=f"http://127.0.0.1:{port()}")
    with pytest.raises(anthropic.InternalServerError) as err:
        _anthropic(dead.url).messages.create(
            model="m", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        )
    assert err.value.status_code == 502
    with pytest.raises(openai.InternalServerError):
        _openai(dead.url).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    gw = gateway()
    with (
        pytest.raises(anthropic.APIError),
        _anthropic(gw.url).messages.stream(
            model="break-stream", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        ) as stream,
    ):
        for _ in stream:
            pass
    assert httpx.get(gw.url + "/healthz").json()["status"] == "ok"


@pytest.mark.parametrize("withhold", [False, True])
def test_streams_are_not_buffered(gateway, tmp_path, withhold, account_of):
    """Events reach the client as the upstream sends them, also when reasoning is withheld."""
    import time

    gw = gateway(log_dir=tmp_path, admin_token="t")
    key = "sk-stream-timing"
    if withhold:
        acct = account_of(key)
        httpx.put(
            gw.url + f"/admin/accounts/{acct}/override",
            headers={"authorization": "Bearer t"},
            json={"action": "withhold_reasoning", "reason": "test"},
        ).raise_for_status()
    body = {
        "model": "m",
        "max_tokens": 64,
        "stream": True,
        "thinking": THINK,
        "messages": [{"role": "user", "content": "Name a river"}],
    }
    headers = {"x-api-key": key, "x-standin-delay-ms": "60", "anthropic-version": "2023-06-01"}
    arrivals, text = [], b""
    start = time.monotonic()
    with httpx.stream("POST", gw.url + "/v1/messages", json=body, headers=headers) as r:
        for chunk in r.iter_raw():
            arrivals.append(time.monotonic() - start)
            text += chunk
    assert len(arrivals) >= 5  # many separate deliveries, not one buffered body
    assert arrivals[0] < arrivals[-1] - 0.3  # the first event came long before the last
    assert (REASONING.split()[0].encode() in text) is not withhold
    gw.stop()  # flushes the exchange log
    import orjson

    (record,) = [orjson.loads(line) for f in tmp_path.glob("*.jsonl") for line in f.read_bytes().splitlines()]
    blocks = record["response"]["content"]  # rebuilt from the events the client received
    assert blocks[-1] == {"type": "text", "text": "Answer: Name a river"}
    assert blocks[0]["thinking"] == (
        "[reasoning withheld by the provider's usage policy]" if withhold else REASONING
    )
    assert record["status"] == 200 and record["gateway"]["action"] == (
        "withhold_reasoning" if withhold else "allow"
    )
