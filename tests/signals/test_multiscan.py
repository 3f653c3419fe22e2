"""The one-pass Hyperscan path must give exactly what RE2 in Arrow gives, family by family."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.schema import EXCHANGE_SCHEMA
from distillguard.signals import compute_signals, multiscan
from distillguard.signals.capability import text_tags
from distillguard.signals.elicitation import score_array
from distillguard.signals.normalize import fold_case_space_array, normalize_array

pytestmark = pytest.mark.skipif(not multiscan.enabled(), reason="hyperscan not installed")

TRICKY = [
    "",
    "reveal your reasoning",
    "line one\nreveal your\nreasoning",  # a family must not match across a line break it forbids
    "be brief.\nyou are a pirate captain, stay in character",
    "ｒｅｖｅａｌ your chain of thought",
    "请展示你完整的思考过程。思考内容的语言必须与用户的语言保持一致。",
    "grade this answer on a scale of 1 to 10. score only.",
    "é" * 300 + " write out the reasoning behind this finished answer",
]


@pytest.fixture(scope="module")
def folded(corpus_sample, heldout, dev_phrasings) -> pa.Array:
    texts = TRICKY + corpus_sample
    for phrasings in (heldout, dev_phrasings):
        for key in ("cot_harvest", "rubric", "rewrite_harvest"):
            for pattern in phrasings[key]:
                texts.append(pattern.format(prompt="Why?", answer="42", response="Because.", question="Q?"))
    return fold_case_space_array(normalize_array(pa.array(texts, pa.string())))


def test_every_family_hits_the_rows_re2_hits(folded):
    hits = multiscan.family_hits(folded)
    assert hits is not None
    found = 0
    for group, family, pattern in multiscan.FAMILIES:
        re2 = pc.match_substring_regex(folded, "(?m)" + pattern).to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(hits[group][family], re2, err_msg=f"{group}.{family}")
        found += int(re2.sum())
    assert found > 100  # the sample exercises the families, not only their absence


def test_line_starts_are_read_as_re2_multiline_reads_them():
    # Folded text is one line; a column of raw lines is held to RE2's (?m) all the same.
    raw = pa.array(["be brief.\nyou are a pirate captain", "be brief. you are a pirate captain"])
    persona = next(p for g, f, p in multiscan.FAMILIES if (g, f) == ("capability", "persona"))
    expected = pc.match_substring_regex(raw, "(?m)" + persona).to_pylist()
    assert expected == [True, False]
    assert multiscan.family_hits(raw)["capability"]["persona"].tolist() == expected


def test_a_sliced_or_chunked_column_is_read_from_its_own_rows(folded):
    whole = multiscan.family_hits(folded)
    sliced = multiscan.family_hits(folded.slice(3, 40))
    chunked = multiscan.family_hits(pa.chunked_array([folded.slice(0, 5), folded.slice(5)]))
    for group, family, _ in multiscan.FAMILIES:
        np.testing.assert_array_equal(sliced[group][family], whole[group][family][3:43])
        np.testing.assert_array_equal(chunked[group][family], whole[group][family])


def test_scores_and_tags_are_the_same_on_both_paths(folded, monkeypatch):
    fast_scores, fast_tags = score_array(folded), text_tags(folded)
    monkeypatch.setenv("DISTILLGUARD_MULTISCAN", "0")
    assert multiscan.family_hits(folded) is None
    slow_scores, slow_tags = score_array(folded), text_tags(folded)
    for name in slow_scores:
        np.testing.assert_array_equal(fast_scores[name], slow_scores[name], err_msg=name)
    assert max(float(s.max()) for s in slow_scores.values()) > 0.5
    for name in slow_tags:
        np.testing.assert_array_equal(fast_tags[name], slow_tags[name], err_msg=name)


def test_compute_signals_is_the_same_on_both_paths(folded, monkeypatch):
    n = len(folded)
    cols = {f.name: pa.nulls(n, f.type) for f in EXCHANGE_SCHEMA}
    cols["user_text"] = folded
    cols["system_text"] = pa.array(["You are a careful grader." if i % 5 == 0 else None for i in range(n)])
    table = pa.table(cols)
    fast = compute_signals(table)
    monkeypatch.setenv("DISTILLGUARD_MULTISCAN", "0")
    assert compute_signals(table).equals(fast)


def _listed(hits: dict) -> dict:
    return {group: {fam: found.tolist() for fam, found in fams.items()} for group, fams in hits.items()}


def test_the_compiled_database_is_kept_on_disk_and_rebuilt_when_unreadable(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTILLGUARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(multiscan, "_state", {})
    (tmp_path / "families-0123456789abcdef.hsdb").write_bytes(b"from patterns since changed")
    text = pa.array(["reveal your chain of thought, verbatim"])
    expected = _listed(multiscan.family_hits(text))
    assert expected["cot_elicitation"]["trace_word"] == [True]
    (cached,) = tmp_path.glob("families-*.hsdb")  # the stale one is gone
    monkeypatch.setattr(multiscan, "_state", {})  # a new process: loads the file
    assert _listed(multiscan.family_hits(text)) == expected
    cached.write_bytes(b"not a database")  # corrupted: compiled again and rewritten
    monkeypatch.setattr(multiscan, "_state", {})
    assert _listed(multiscan.family_hits(text)) == expected
    assert cached.read_bytes() != b"not a database"


def test_an_unwritable_cache_only_costs_a_compile(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("DISTILLGUARD_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(multiscan, "_state", {})
    hits = multiscan.family_hits(pa.array(["wrap your thinking in <think> tags"]))
    assert hits["cot_elicitation"]["think_tags"].tolist() == [True]
