"""A multi-key reasoning-harvest burst is acted on while a benign key keeps its answers."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import orjson
import pytest

from distillguard.act.standin import REASONING

THINK = {"type": "enabled", "budget_tokens": 1024}
HARVEST = "Solve {a} * {b}. Think step by step and show all your reasoning before the final answer."
BENIGN = [
    "What is the capital of Portugal?",
    "Write a haiku about autumn leaves.",
    "Suggest a name for a bakery in Lyon.",
    "Translate 'good morning' into Spanish.",
    "How do I center a div with flexbox?",
    "Give me a packing list for a weekend hike.",
]
SUMMARY = "[reasoning withheld by the provider's usage policy]"


def _ask(client: anthropic.Anthropic, text: str, key: str) -> tuple[str, anthropic.types.Message | Exception]:
    try:
        return "ok", client.messages.create(
            model="m",
            max_tokens=64,
            thinking=THINK,
            extra_headers={"x-api-key": key},
            messages=[{"role": "user", "content": text}],
        )
    except anthropic.RateLimitError as exc:
        return "throttled", exc
    except anthropic.PermissionDeniedError as exc:
        return "step_up", exc


def test_harvest_burst_is_acted_on_and_benign_key_is_not(gateway, tmp_path):
    gw = gateway(log_dir=tmp_path / "log")
    client = anthropic.Anthropic(base_url=gw.url, api_key="unused", max_retries=0)
    outcomes: list[tuple[int, str, object]] = []
    for rnd in range(2):
        for i in range(30):  # 30 keys of one hydra cluster, one harvesting skeleton
            outcomes.append((i, *_ask(client, HARVEST.format(a=17 + i, b=23 + rnd), f"sk-hydra-{i:02d}")))
            if i % 5 == 0:
                kind, msg = _ask(client, BENIGN[(i // 5) % len(BENIGN)], "sk-benign-customer")
                assert kind == "ok", msg  # the benign key is never refused...
                assert msg.content[0].thinking == REASONING  # ...nor loses its reasoning
                assert msg.content[1].text.startswith("Answer: ")

    # The first keys, before the skeleton has spread, are served normally.
    first = outcomes[:11]
    assert all(kind == "ok" and msg.content[0].thinking == REASONING for _, kind, msg in first)
    # Once the skeleton came from 12+ keys, no campaign request gets the model's reasoning.
    late = outcomes[12:]
    leaked = [i for i, kind, msg in late if kind == "ok" and msg.content[0].thinking == REASONING]
    assert not leaked
    withheld = [msg for _, kind, msg in late if kind == "ok"]
    assert all(
        m.content[0].thinking == SUMMARY and m.content[1].text.startswith("Answer: ") for m in withheld
    )
    refused = [exc for _, kind, exc in late if kind != "ok"]
    assert refused, "the second round of the burst must be throttled or stepped up"
    for exc in refused:
        if isinstance(exc, anthropic.RateLimitError):
            assert int(exc.response.headers["retry-after"]) > 0
            assert exc.body["error"]["type"] == "rate_limit_error"
        else:
            assert exc.body["error"]["type"] == "permission_error" and exc.body["error"]["reason_code"]

    metrics = httpx.get(gw.url + "/metrics").text
    assert (
        'distillguard_actions_total{action="withhold_reasoning",enforced="true",rule="cot-harvest-fanout"}'
        in metrics
    )


def test_openai_withholding_json_and_streams(gateway):
    gw = gateway()
    c = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-o-last", max_retries=0)
    prompt = "Is {n} prime? Think step by step and show all your reasoning before the final answer."
    for i in range(13):  # spread the skeleton over 13 keys
        c.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": prompt.format(n=100 + 2 * i)}],
            extra_headers={"authorization": f"Bearer sk-o-{i}"},
        )
    msg = c.chat.completions.create(
        model="m", reasoning_effort="high", messages=[{"role": "user", "content": prompt.format(n=300)}]
    )
    assert msg.choices[0].message.content == "Answer: " + " ".join(prompt.format(n=300).split()[:8])
    assert msg.choices[0].message.model_extra.get("reasoning_content") == SUMMARY
    deltas = [
        ch.choices[0].delta
        for ch in c.chat.completions.create(
            model="m",
            reasoning_effort="high",
            stream=True,
            messages=[{"role": "user", "content": prompt.format(n=302)}],
        )
        if ch.choices
    ]
    reasoning = "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas)
    assert reasoning == SUMMARY
    assert "".join(d.content or "" for d in deltas).startswith("Answer: Is 302")
    resp = c.responses.create(model="m", input=prompt.format(n=304), reasoning={"effort": "high"})
    assert resp.output[0].type == "reasoning" and [s.text for s in resp.output[0].summary] == [SUMMARY]
    with c.responses.stream(model="m", input=prompt.format(n=306), reasoning={"effort": "high"}) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert [s.text for s in final.output[0].summary] == [SUMMARY] and final.output_text.startswith("Answer:")
    seqs = [e.sequence_number for e in events]
    assert seqs == list(range(len(seqs)))
    assert REASONING not in "".join(getattr(e, "delta", "") or "" for e in events)


def test_remove_mode_renumbers_stream_blocks(gateway, tmp_path, account_of):
    policy = tmp_path / "p.yaml"
    from distillguard.act.policy import DEFAULT_POLICY

    policy.write_text(DEFAULT_POLICY.read_text().replace("withhold: summary", "withhold: remove"))
    gw = gateway(policy=policy, admin_token="t0k")
    client = anthropic.Anthropic(base_url=gw.url, api_key="sk-remove", max_retries=0)
    client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    account = httpx.get(gw.url + "/metrics")  # any request: the account now exists
    assert account.status_code == 200
    # An operator sends this account to withholding with an override, whatever it asks.
    acct = account_of("sk-remove")
    r = httpx.put(
        gw.url + f"/admin/accounts/{acct}/override",
        headers={"authorization": "Bearer t0k"},
        json={"action": "withhold_reasoning", "reason": "case 17", "ttl_s": 600},
    )
    assert r.status_code == 200
    with client.messages.stream(
        model="m", max_tokens=64, thinking=THINK, messages=[{"role": "user", "content": "Name a river"}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text"] and final.content[0].text == "Answer: Name a river"
    assert {e.index for e in events if hasattr(e, "index")} == {0}
    msg = client.messages.create(
        model="m", max_tokens=64, thinking=THINK, messages=[{"role": "user", "content": "Name a lake"}]
    )
    assert [b.type for b in msg.content] == ["text"]
    info = httpx.get(gw.url + f"/admin/accounts/{acct}", headers={"authorization": "Bearer t0k"}).json()
    assert info["override"]["action"] == "withhold_reasoning" and info["online"]["requests"] == 3
    assert (
        info["online_features"]["requests_total"] == 3 and 0 < info["online_features"]["recent_requests"] <= 3
    )
    deadline = time.monotonic() + 2
    while info["online"]["last_rule"] != "admin-override" and time.monotonic() < deadline:
        time.sleep(0.02)
        info = httpx.get(gw.url + f"/admin/accounts/{acct}", headers={"authorization": "Bearer t0k"}).json()
    assert info["online"]["last_action"] == "withhold_reasoning" and info["online"]["actions"] >= 2
    assert httpx.get(gw.url + f"/admin/accounts/{acct}").status_code == 401
    assert httpx.delete(
        gw.url + f"/admin/accounts/{acct}/override", headers={"authorization": "Bearer t0k"}
    ).json() == {"removed": True}


def test_dry_run_logs_but_never_acts(gateway, tmp_path):
    gw = gateway(dry_run=True, log_dir=tmp_path)
    client = anthropic.Anthropic(base_url=gw.url, api_key="unused", max_retries=0)
    for i in range(25):
        msg = client.messages.create(
            model="m",
            max_tokens=64,
            thinking=THINK,
            extra_headers={"x-api-key": f"k{i}"},
            messages=[{"role": "user", "content": HARVEST.format(a=i, b=3)}],
        )
        assert msg.content[0].thinking == REASONING
    metrics = httpx.get(gw.url + "/metrics").text
    assert 'enforced="false",rule="cot-harvest-fanout"' in metrics
    gw.stop()
    records = [orjson.loads(line) for f in tmp_path.glob("*.jsonl") for line in f.read_bytes().splitlines()]
    assert len(records) == 25
    would = [r["gateway"] for r in records if r["gateway"]["action"] != "allow"]
    assert would and all(not g["enforced"] for g in would)


@pytest.mark.parametrize("flagged", [True])
def test_scan_verdicts_apply_and_reload(gateway, tmp_path, flagged, account_of):
    scan = tmp_path / "scan"
    scan.mkdir()
    acct = account_of("sk-known-bad")
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,exchanges,reasons\nsomeone_else,0.9,true,c1,10,x\n"
    )
    gw = gateway(scan_dir=scan, admin_token="t")
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-known-bad", max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,exchanges,reasons\n"
        f"{acct},0.97,{str(flagged).lower()},c9,1200,template fan-out\n"
    )
    r = httpx.post(gw.url + "/admin/verdicts/reload", headers={"authorization": "Bearer t"}).json()
    assert r == {"reloaded": True, "accounts": 1}
    with pytest.raises(openai.PermissionDeniedError) as err:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "scan_flagged_account"
