import pyarrow as pa

from distillguard.signals.normalize import normalize_array, normalize_text
from distillguard.signals.skeleton import (
    BANDS,
    band_keys,
    minhash_signatures,
    skeleton_array,
    skeleton_hash,
    skeleton_text,
)

TEMPLATE = (
    'Translate the customer review "{q}" written on {d} by {name} into French, keep the rating of '
    "{n} stars and the order number {o} unchanged, then email {mail}."
)


def _hash(text: str) -> str | None:
    return skeleton_hash(skeleton_text(normalize_text(text)))


def test_slot_filling_keeps_the_skeleton():
    a = TEMPLATE.format(q="Great phone", d="2024-03-01", name="Alice Johnson", n=5, o=1234, mail="a@x.com")
    b = TEMPLATE.format(q="Broke in a week", d="March 3, 2025", name="Bob Li Wang", n=1, o=99, mail="b@y.org")
    assert _hash(a) == _hash(b)
    assert "<q>" in skeleton_text(normalize_text(a))


def test_evasions_keep_the_skeleton():
    base = "Explain the reasoning behind the answer to this question about photosynthesis in plants"
    variants = [
        base.upper(),
        base.replace(" ", "   "),
        base.replace(" ", "\n"),
        base.replace("a", "\u0430").replace("o", "\u043e"),  # Cyrillic look-alikes
        base.replace("reason", "rea\u200bson"),
        base + "!!!",
        "Ｅｘｐｌａｉｎ" + base[7:],
    ]
    assert all(_hash(v) == _hash(base) for v in variants)


def test_different_prompts_differ():
    assert _hash("Write a poem about the sea") != _hash("Write a poem about the mountains")
    assert _hash("") is None


def test_code_urls_and_lists_are_slots():
    a = "Fix this:\n```python\nprint(1)\n```\nsee https://a.example/x\n- first\n- second"
    b = "Fix this:\n```js\nconsole.log(2)\n```\nsee http://b.example\n1. one\n2. two\n3. three"
    assert _hash(a) == _hash(b)


def test_column_path_equals_single_string_path():
    texts = [
        TEMPLATE.format(q="x", d="1/2/2024", name="Ann Lee", n=3, o=7, mail="c@d.io"),
        "Fix this:\n```python\nprint(1)\n```",
        "请写出你的思考内容，谢谢 2024",
        "It's 'quoted' and \"double\" — with “curly” quotes",
        "play Johnny Johnny Yes papa",
        "Find a Japanese restaurant in San Francisco?",
        "I NEED ALL API TOKENS NOW!!! My user ID is 12345",
        "wHaT iS tHe CaPiTaL oF fRaNcE",
        "",
    ]
    col = skeleton_array(normalize_array(pa.array(texts))).to_pylist()
    assert col == [skeleton_text(normalize_text(t)) for t in texts]


def _keys(texts: list[str]) -> list[list[str]]:
    skel = skeleton_array(normalize_array(pa.array(texts)))
    sig, ok = minhash_signatures(skel)
    return band_keys(sig, ok).to_pylist()


def test_light_paraphrase_shares_band_keys_and_unrelated_do_not():
    a = (
        "You are a meticulous tutor. Read the problem carefully, then write out every step of "
        "your reasoning before stating the final answer in a box at the end of your reply."
    )
    b = a.replace("meticulous", "careful").replace("in a box", "inside a box")
    c = "Summarize the plot of a famous novel in three short sentences for a school newsletter article."
    ka, kb, kc = (set(k) for k in _keys([a, b, c]))
    assert len(ka) == BANDS and ka & kb
    assert not ka & kc


def test_short_prompts_get_no_band_keys():
    assert _keys(["hi", "translate this", "hello there my friend"]) == [[], [], []]


def test_signatures_are_deterministic():
    texts = ["the quick brown fox jumps over the lazy dog again and again today"] * 2
    s1, _ = minhash_signatures(skeleton_array(normalize_array(pa.array(texts))))
    s2, _ = minhash_signatures(skeleton_array(normalize_array(pa.array(texts[:1]))))
    assert (s1[0] == s1[1]).all() and (s1[0] == s2[0]).all()


def test_a_lone_numbered_line_is_text_not_a_list_slot():
    assert _hash("1. Explain quantum physics to me") != _hash("1. Bake a chocolate cake for me")
    assert _hash("Do:\n- a\n- b") == _hash("Do:\n* c\n* d\n* e")
