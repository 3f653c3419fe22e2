"""The signal memo: batches computed through it equal batches computed alone."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from distillguard.signals.compute import SignalMemo, compute_signals
from distillguard.signals.memo import TextMemo

USERS = [
    "Explain the reasoning behind this answer: 42. Question: what is six times seven?",
    "Write a python function that reverses a list.",
    "Rate the response below from 1 to 10 for helpfulness.\n\nResponse: It is Paris.",
    "Rewrite a safe, neutral answer to: What happened in Tiananmen Square in 1989?",
    "hey can you help me plan a trip to lisbon",
    "Ｗｈａｔ ｉｓ ｔｈｅ ｃａｐｉｔａｌ ｏｆ ｆｒａｎｃｅ？",
    "请给出详细的推理过程和思维链。1+1=?",
    "",
    None,
]
SYSTEMS = [None, "", "You are a helpful assistant.", "You are Nova, the assistant of Acme. Keep it short."]


def _batch(rng: random.Random, n: int) -> pa.Table:
    return pa.table(
        {
            "user_text": pa.array([rng.choice(USERS) for _ in range(n)], pa.string()),
            "system_text": pa.array([rng.choice(SYSTEMS) for _ in range(n)], pa.string()),
            "tool_count": pa.array([rng.choice([0, 0, 2]) for _ in range(n)], pa.int64()),
            "image_count": pa.array([rng.choice([0, 0, 0, 1]) for _ in range(n)], pa.int64()),
            "thinking_budget": pa.array([rng.choice([None, 2048, 20000]) for _ in range(n)], pa.int64()),
        }
    )


@pytest.mark.parametrize("max_rows", [65_536, 3])
def test_batches_through_a_memo_equal_batches_alone(max_rows: int) -> None:
    rng = random.Random(5)
    memo = SignalMemo(TextMemo(max_rows), TextMemo(max_rows))
    for size in (7, 30, 1, 50, 12):
        batch = _batch(rng, size)
        assert compute_signals(batch, memo=memo).equals(compute_signals(batch))
    assert 0 < len(memo.users) <= max(max_rows, len(USERS))


def test_a_text_seen_before_is_looked_up_not_computed() -> None:
    memo = TextMemo()
    computed: list[int] = []

    def compute(at):
        computed.extend(at.tolist())
        return pa.table({"v": pa.array([keys[i] * 10 for i in at.tolist()], pa.int64())})

    keys = [1, 2, 3]
    assert memo.rows(keys, compute).column("v").to_pylist() == [10, 20, 30]
    keys = [3, 4, 1]
    assert memo.rows(keys, compute).column("v").to_pylist() == [30, 40, 10]
    assert computed == [0, 1, 2, 1]  # the second call computed only its new key (4, at position 1)


def test_rows_published_by_one_memo_are_looked_up_by_another(tmp_path) -> None:
    from distillguard.signals.memo import read_rows, write_rows

    rng = random.Random(7)
    first, second = SignalMemo(), SignalMemo()
    batch = _batch(rng, 40)
    expected = compute_signals(batch)
    assert compute_signals(batch, memo=first).equals(expected)
    for name in ("users", "pairs"):
        keys, rows = getattr(first, name).take_fresh()
        assert keys and rows is not None and getattr(first, name).take_fresh() == ([], None)
        big = [k | (1 << 127) for k in keys]  # the full 128 bits survive the file
        write_rows(tmp_path / f"{name}.arrow", big, rows)
        back, table = read_rows(tmp_path / f"{name}.arrow")
        assert back == big and table.equals(rows)
        getattr(second, name).absorb(keys, table)
    # Every text of the batch was absorbed: the second memo computes nothing, with the same result.
    assert compute_signals(batch, memo=second).equals(expected)
    assert second.users.take_fresh() == ([], None) and second.pairs.take_fresh() == ([], None)


def test_absorbing_keeps_what_a_memo_has_and_respects_its_size() -> None:
    memo = TextMemo(max_rows=4)
    memo.rows([1, 2], lambda at: pa.table({"v": pa.array([10, 20], pa.int64())}))
    memo.absorb([2, 3], pa.table({"v": pa.array([-1, 30], pa.int64())}))  # 2 is kept as it was
    looked_up = memo.rows([1, 2, 3], lambda at: pytest.fail("nothing to compute"))
    assert looked_up.column("v").to_pylist() == [10, 20, 30]
    memo.absorb([4, 5], pa.table({"v": pa.array([40, 50], pa.int64())}))  # no room for both: none taken
    assert len(memo) == 3
