"""The per-exchange map step: exchange columns in, ``SIGNAL_SCHEMA`` columns out.

``compute_signals`` is columnar end to end: text goes through Arrow compute kernels (RE2) and
numpy; Python touches only distinct values (distinct prompts, distinct skeletons, distinct
words) and rows with invisible or look-alike characters. Many exchanges of a campaign share a
prompt or a skeleton, so work is done once per distinct value and gathered back with ``take``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from distillguard.signals import multiscan
from distillguard.signals.capability import CAPABILITIES, finish_tags, text_tags
from distillguard.signals.elicitation import score_array
from distillguard.signals.frames import FRAME_KEYS_TYPE, frame_keys_array
from distillguard.signals.memo import TextMemo, text_key
from distillguard.signals.normalize import clip_array, fold_case_space_array, normalize_array
from distillguard.signals.skeleton import band_keys, marked_skeleton_array, minhash_signatures, unmark_array

SIGNAL_FIELDS: list[pa.Field] = [
    pa.field("skeleton_hash", pa.string()),  # exact template skeleton; null for an empty prompt
    pa.field("lsh_keys", pa.list_(pa.int64())),  # MinHash band keys of the skeleton, may be empty
    pa.field("system_hash", pa.string()),  # normalized system prompt; null when none
    pa.field("cot_elicitation", pa.float32()),  # [0, 1]
    pa.field("rubric_grading", pa.float32()),  # [0, 1]
    pa.field("censorship_rewrite", pa.float32()),  # [0, 1]
    pa.field("capability", pa.string()),  # primary capability, one of CAPABILITIES
    *[pa.field(f"cap_{c}", pa.bool_()) for c in CAPABILITIES],
    pa.field("prompt_chars", pa.int32()),  # characters of the user turn as sent
    pa.field("reasoning_requested", pa.bool_()),  # thinking enabled or a reasoning effort set
    pa.field("reasoning_level", pa.int8()),  # 0 none, 1 low, 2 medium, 3 high (effort or budget)
    pa.field("reasoning_budget", pa.int64()),  # thinking budget in tokens, when one was given
    pa.field("frame_keys", FRAME_KEYS_TYPE),  # fixed-part candidates (frames.py), may be empty
]
SIGNAL_SCHEMA = pa.schema(SIGNAL_FIELDS)

_USER_COLUMNS = ("skeleton_hash", "lsh_keys", "frame_keys")
_SCORE_COLUMNS = ("cot_elicitation", "rubric_grading", "censorship_rewrite")


@dataclass
class SignalMemo:
    """What a map worker remembers between batches: per distinct user turn, per distinct pair."""

    users: TextMemo = field(default_factory=TextMemo)
    pairs: TextMemo = field(default_factory=TextMemo)


# Thinking budgets (tokens) at which the level rises; efforts map by name.
_BUDGET_LEVELS = (4_096, 16_384)
_EFFORT_LEVEL = {"none": 0, "minimal": 1, "low": 1, "medium": 2, "high": 3, "xhigh": 3, "max": 3}


def _column(table: pa.Table, name: str, typ: pa.DataType) -> pa.Array:
    """A column as one array; an absent column reads as all nulls (optional inputs)."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, typ)
    col = table.column(name)
    col = col.combine_chunks() if col.num_chunks else pa.array([], typ)
    try:
        return col.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"compute_signals: column {name!r} of type {col.type} is not {typ}: {exc}") from None


def _ints(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.int64)


def _hash_strings(values: list[str]) -> pa.Array:
    return pa.array([xxhash.xxh3_64_hexdigest(v.encode()) if v else None for v in values], pa.string())


def _user_columns(norm_users: pa.Array) -> pa.Table:
    """skeleton_hash, lsh_keys and frame_keys of distinct normalized user texts; hashes and
    MinHash once per distinct skeleton."""
    marked = marked_skeleton_array(norm_users)
    skeletons = unmark_array(marked)
    frames = frame_keys_array(marked)
    skel = pc.dictionary_encode(skeletons)
    distinct = skel.dictionary
    hashes = _hash_strings(distinct.to_pylist())
    sig, ok = minhash_signatures(distinct)
    keys = band_keys(sig, ok)
    return pa.table(
        {
            "skeleton_hash": pc.take(hashes, skel.indices),
            "lsh_keys": pc.take(keys, skel.indices),
            "frame_keys": frames,
        }
    )


def _content_columns(norm_systems: pa.Array, norm_users: pa.Array) -> pa.Table:
    """Content scores and capability keyword hits of distinct normalized (system, user) pairs:
    the system prompt and the user turn are scored together."""
    content = fold_case_space_array(pc.binary_join_element_wise(norm_systems, norm_users, "\n"))
    hits = multiscan.family_hits(content)  # every family in one pass, when Hyperscan is installed
    columns = {**score_array(content, hits), **{f"hit_{k}": v for k, v in text_tags(content, hits).items()}}
    return pa.table({k: pa.array(v) for k, v in columns.items()})


def _distinct_rows(
    memo: TextMemo | None,
    keys: Callable[[], list[int]],
    compute: Callable[[np.ndarray], pa.Table],
    n: int,
) -> pa.Table:
    """`compute` over all `n` distinct texts, or through `memo` by their `keys()` when given."""
    if memo is None:
        return compute(np.arange(n))
    return memo.rows(keys(), compute)


def _reasoning(table: pa.Table) -> tuple[pa.Array, pa.Array, pa.Array]:
    budget = _column(table, "thinking_budget", pa.int64())
    effort = pc.utf8_lower(_column(table, "reasoning_effort", pa.string()))
    thinking = pc.fill_null(_column(table, "thinking_requested", pa.bool_()), False).to_numpy(
        zero_copy_only=False
    )
    b = pc.fill_null(budget, 0).to_numpy(zero_copy_only=False)
    by_budget = np.where(b <= 0, 0, 1 + np.searchsorted(np.array(_BUDGET_LEVELS), b, side="right"))
    by_budget = np.where(thinking & (b <= 0), 2, by_budget)  # thinking on, budget unknown: medium
    # Map the few distinct effort names, not the rows; an unknown name counts as medium.
    enc = pc.dictionary_encode(pc.fill_null(effort, ""))
    names = np.array([_EFFORT_LEVEL.get(e, 2) if e else 0 for e in enc.dictionary.to_pylist()], np.int64)
    eff = names[enc.indices.to_numpy(zero_copy_only=False)] if len(names) else np.zeros(len(effort), np.int64)
    level = np.maximum(by_budget, eff).astype(np.int8)
    requested = thinking | (level > 0)
    return pa.array(requested), pa.array(level, pa.int8()), budget


def compute_signals(table: pa.Table, memo: SignalMemo | None = None) -> pa.Table:
    """Signal columns for a batch of exchanges.

    Promises: exactly ``SIGNAL_SCHEMA``, one output row per input row in the same order,
    deterministic (no state, fixed hash seeds). Needs ``user_text``; the other exchange columns
    (system_text, tool_count, tool_result_count, image_count, thinking_requested, thinking_budget,
    reasoning_effort) are read when present and treated as empty when absent. Null text counts as
    empty text: its skeleton_hash is null and its lsh_keys empty. With a `memo` (a map worker's),
    texts seen in earlier batches are looked up rather than computed again: the same output.
    """
    if "user_text" not in table.column_names:
        raise ValueError("compute_signals needs a 'user_text' column (see distillguard.schema)")
    n = table.num_rows
    if n == 0:
        return SIGNAL_SCHEMA.empty_table()
    user = _column(table, "user_text", pa.string())
    system = _column(table, "system_text", pa.string())

    u_enc = pc.dictionary_encode(clip_array(pc.fill_null(user, "")))
    s_enc = pc.dictionary_encode(clip_array(pc.fill_null(system, "")))
    u_idx = u_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    s_idx = s_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    users, systems = u_enc.dictionary, s_enc.dictionary
    norm_u, norm_s = normalize_array(users), normalize_array(systems)

    per_user = _distinct_rows(
        memo.users if memo else None,
        lambda: [text_key(u) for u in users.to_pylist()],
        lambda at: _user_columns(norm_u.take(pa.array(at))),
        len(users),
    )
    rows = pa.array(u_idx)
    skeleton_hash, lsh_keys, frame_keys = (per_user.column(c).take(rows) for c in _USER_COLUMNS)
    folded_s = fold_case_space_array(norm_s)
    system_hash = pc.take(_hash_strings(folded_s.to_pylist()), pa.array(s_idx))

    # Content is the system prompt and the user turn together, scored once per distinct pair.
    pair, pair_idx = np.unique(s_idx * len(users) + u_idx, return_inverse=True)
    ps, pu = pa.array(pair // len(users)), pa.array(pair % len(users))

    def pair_keys() -> list[int]:
        sl, ul = systems.to_pylist(), users.to_pylist()
        return [text_key(sl[a], ul[b]) for a, b in zip(ps.to_pylist(), pu.to_pylist(), strict=True)]

    per_pair = _distinct_rows(
        memo.pairs if memo else None,
        pair_keys,
        lambda at: _content_columns(norm_s.take(ps.take(pa.array(at))), norm_u.take(pu.take(pa.array(at)))),
        len(pair),
    )
    gather = pa.array(pair_idx)
    scores = {k: per_pair.column(k).take(gather).to_numpy(zero_copy_only=False) for k in _SCORE_COLUMNS}
    text_hits = {
        c.removeprefix("hit_"): per_pair.column(c).take(gather).to_numpy(zero_copy_only=False)
        for c in per_pair.column_names
        if c.startswith("hit_")
    }
    # Structural hints are per exchange, not per text: applied after the gather.
    uses_tools = (_ints(_column(table, "tool_count", pa.int64())) > 0) | (
        _ints(_column(table, "tool_result_count", pa.int64())) > 0
    )
    has_images = _ints(_column(table, "image_count", pa.int64())) > 0
    tags, primary = finish_tags(text_hits, uses_tools, has_images)

    requested, level, budget = _reasoning(table)
    columns = {
        "skeleton_hash": skeleton_hash,
        "lsh_keys": lsh_keys,
        "system_hash": system_hash,
        "cot_elicitation": pa.array(scores["cot_elicitation"], pa.float32()),
        "rubric_grading": pa.array(scores["rubric_grading"], pa.float32()),
        "censorship_rewrite": pa.array(scores["censorship_rewrite"], pa.float32()),
        "capability": primary,
        **{f"cap_{c}": pa.array(tags[c], pa.bool_()) for c in CAPABILITIES},
        "prompt_chars": pc.fill_null(pc.utf8_length(user), 0).cast(pa.int32()),
        "reasoning_requested": requested,
        "reasoning_level": level,
        "reasoning_budget": budget,
        "frame_keys": frame_keys,
    }
    return pa.Table.from_arrays([columns[f.name] for f in SIGNAL_SCHEMA], schema=SIGNAL_SCHEMA)
