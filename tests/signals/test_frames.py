"""Frame grouping: a fixed instruction around varying content is one template."""

import random

import duckdb
import numpy as np
import pyarrow as pa

from distillguard.signals import SIGNAL_SCHEMA, assign_templates, compute_signals
from distillguard.signals.frames import KIND_HEAD, KIND_SENTENCE, frame_links, key_kind, key_words
from distillguard.signals.normalize import normalize_text
from distillguard.signals.skeleton import skeleton_array, skeleton_text

WRAPPER = (
    "Solve the following problem. Before giving the final answer, write out your complete chain "
    "of reasoning, numbering every step and checking each one.\n\nProblem: {}"
)
GRADER = (
    "You are a strict grader. Score the response below from 1 to 10 against these criteria: "
    "correctness, completeness and clarity. Reply with the score only.\n\nResponse: {}"
)
WORDS = [
    "river",
    "tower",
    "seven",
    "apple",
    "quantum",
    "lamp",
    "orbit",
    "violet",
    "garden",
    "market",
    "signal",
    "copper",
    "forest",
    "engine",
    "winter",
    "harbor",
    "pencil",
    "comet",
    "silver",
    "meadow",
    "rocket",
    "canyon",
    "thunder",
    "velvet",
    "island",
    "planet",
    "marble",
    "falcon",
    "desert",
    "crystal",
    "ladder",
    "harvest",
    "mirror",
    "bridge",
    "lantern",
    "glacier",
]


def _content(rng: random.Random, sentences: int = 3) -> str:
    """Free text that shares no sentence with any other draw (random words)."""
    return " ".join(
        " ".join(rng.choices(WORDS, k=rng.randint(9, 14))).capitalize() + "." for _ in range(sentences)
    )


def _assign(users: list[str], *, frames: bool = True, drop_frames: bool = False) -> list[str | None]:
    sig = compute_signals(pa.table({"user_text": pa.array(users, pa.string())}))
    if drop_frames:  # a store written before frame keys existed
        sig = sig.drop_columns(["frame_keys"])
    ids = [f"x{i}" for i in range(len(users))]
    table = pa.Table.from_arrays([pa.array(ids), *sig.columns], ["exchange_id", *sig.column_names])
    con = duckdb.connect()
    con.register("exchanges", table)
    res = assign_templates(con, frames=frames)
    tid = dict(zip(res.column("exchange_id").to_pylist(), res.column("template_id").to_pylist(), strict=True))
    return [tid[i] for i in ids]


def test_wrapper_around_long_varying_content_is_one_template():
    rng = random.Random(1)
    users = [WRAPPER.format(_content(rng)) for _ in range(6)] + [
        GRADER.format(_content(rng)) for _ in range(6)
    ]
    assert all(len(u) > 200 for u in users)
    tid = _assign(users)
    assert len(set(tid[:6])) == 1 and len(set(tid[6:])) == 1
    assert tid[0] != tid[6]
    # The band keys alone do not group them: the content outweighs the wrapper.
    assert len(set(_assign(users, frames=False)[:6])) > 1


def test_wrapper_variants_with_slot_values_and_case_group():
    rng = random.Random(2)
    users = [WRAPPER.format(_content(rng)).replace("10", str(i)) for i in range(4)]
    users += [WRAPPER.upper().format(_content(rng)), WRAPPER.replace("\n\n", "\n").format(_content(rng))]
    assert len(set(_assign(users))) == 1


def test_short_shared_openings_do_not_merge_distinct_prompts():
    rng = random.Random(3)
    openings = [
        "Translate the following into French: {}",
        "Can you help me {}",
        "Write a Python function that {}",
        "I need your help with something for work. {}",
        "I am a student and I am learning about this topic. {}",  # 11 fixed words
    ]
    users = [o.format(_content(rng, 2)) for o in openings for _ in range(8)]
    assert len(set(_assign(users))) == len(users)


def test_frame_needs_enough_recurring_prompts():
    rng = random.Random(4)
    users = [WRAPPER.format(_content(rng)) for _ in range(2)]  # below the document frequency
    tid = _assign(users)
    assert tid[0] != tid[1]


def test_frame_keys_are_deterministic_and_batch_independent():
    rng = random.Random(5)
    users = [WRAPPER.format(_content(rng)) for _ in range(5)] + ["hi", "", None]
    whole = compute_signals(pa.table({"user_text": pa.array(users, pa.string())})).column("frame_keys")
    parts = [
        compute_signals(pa.table({"user_text": pa.array(users[i : i + 3], pa.string())})).column("frame_keys")
        for i in range(0, len(users), 3)
    ]
    assert whole.to_pylist() == [k for p in parts for k in p.to_pylist()]
    assert whole.to_pylist()[-3:] == [[], [], []]
    keys = np.array(whole.to_pylist()[0], np.int64)
    kinds, words = key_kind(keys), key_words(keys)
    # the wrapper's long sentence and a 16-word head are among the candidate parts
    assert ((kinds == KIND_SENTENCE) & (words >= 15)).any() and ((kinds == KIND_HEAD) & (words == 16)).any()
    assert "frame_keys" in SIGNAL_SCHEMA.names


def test_template_ids_do_not_depend_on_row_order():
    rng = random.Random(6)
    users = [WRAPPER.format(_content(rng)) for _ in range(5)] + [
        GRADER.format(_content(rng)) for _ in range(4)
    ]
    a = _assign(users)
    b = _assign(users[::-1])[::-1]
    assert a == b


def test_empty_inputs_and_stores_without_frame_keys():
    src, dst, nodes = frame_links(pa.array([], pa.list_(pa.int64())))
    assert len(src) == len(dst) == nodes == 0
    src, dst, nodes = frame_links(pa.array([[], None], pa.list_(pa.int64())))
    assert len(src) == 0
    assert _assign([]) == []
    rng = random.Random(7)
    users = [WRAPPER.format(_content(rng)) for _ in range(4)]
    assert len(set(_assign(users, drop_frames=True))) == 4  # band keys only: not grouped


def test_sentence_marks_leave_skeletons_as_they_were():
    texts = ["1. 2. 3", "a.\r\nb", "第一句。第二句！", "x \x01 y", "Hi!!  There?? ok", "a:\n\n- x\n- y\nend."]
    norm = [normalize_text(t) for t in texts]
    column = skeleton_array(pa.array(norm)).to_pylist()
    assert column == [skeleton_text(t) for t in norm]
    assert column[0] == "<num>" and column[1] == "a b" and column[3] == "x y"
