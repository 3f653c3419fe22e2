"""Reasoning bought through an API that hides it: effort set, reasoning tokens billed, no text back."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import toyworld

from distillguard import detect, features


def _with_hidden_reasoning(exchanges: pa.Table, account: str, effort: str, tokens: int) -> pa.Table:
    mine = pc.equal(exchanges.column("account_id"), account).to_numpy(zero_copy_only=False)
    n = exchanges.num_rows
    efforts = pa.array(np.where(mine, effort, None).tolist(), pa.string())
    billed = pa.array(np.where(mine, tokens, 0).tolist(), pa.int64())
    no_text = pa.array(np.where(mine, 0, exchanges.column("reasoning_chars").to_numpy(zero_copy_only=False)))
    out = exchanges.set_column(exchanges.column_names.index("reasoning_chars"), "reasoning_chars", no_text)
    out = out.append_column("reasoning_effort", efforts).append_column("reasoning_tokens", billed)
    assert out.num_rows == n
    return out


def test_hidden_reasoning_is_counted_and_scored(world):
    exchanges, accounts = world
    # The chat product now asks for medium effort on every call and is billed ~390 reasoning tokens.
    con = toyworld.connect(_with_hidden_reasoning(exchanges, "chat-product", "medium", 390), accounts)
    rows = {r["account_id"]: r for r in features.materialize(con).to_pylist()}
    assert rows["chat-product"]["reasoning_token_share"] == 1.0
    assert rows["chat-product"]["reasoning_requested_share"] == 1.0
    assert rows["chat-product"]["reasoning_char_share"] == 0.0
    assert rows["router"]["reasoning_token_share"] == 0.0

    ctx = detect.DetectionContext(con=con)
    found = [f for f in detect.registry()["reasoning-budget"]().detect(ctx) if f.subject_id == "chat-product"]
    assert found and found[0].score == 1.0
    assert found[0].evidence["reasoning_token_share"] == 1.0


def test_reasoning_tokens_absent_means_zero_share(world):
    rows = {r["account_id"]: r for r in features.materialize(toyworld.connect(*world)).to_pylist()}
    assert all(r["reasoning_token_share"] == 0.0 for r in rows.values())
