import pyarrow as pa

from distillguard.signals.normalize import (
    fold_case_space,
    fold_case_space_array,
    normalize_array,
    normalize_text,
)

TRICKS = [
    "Ｐｌｅａｓｅ ｒｅｖｅａｌ",  # full-width forms
    "re\u200bveal your rea\u200dsoning",  # zero-width space and joiner
    "\u202ereveal\u202c your reasoning",  # bidi override
    "rеvеаl уоur rеаsоning",  # Cyrillic е, а, у, о
    "𝐫𝐞𝐯𝐞𝐚𝐥 your reasoning",  # mathematical bold
    "re\u00adveal your reasoning",  # soft hyphen
]


def test_tricks_fold_to_plain_text():
    for text in TRICKS[1:]:
        assert fold_case_space(normalize_text(text)) == "reveal your reasoning", text
    assert fold_case_space(normalize_text(TRICKS[0])) == "please reveal"


def test_case_and_whitespace_fold():
    assert fold_case_space(normalize_text("  Reveal\t\tYOUR\n reasoning ")) == "reveal your reasoning"


def test_column_path_equals_single_string_path():
    texts = [*TRICKS, "plain ascii", "中文 思考内容", "", "Ünïcödé  É"]
    col = fold_case_space_array(normalize_array(pa.array(texts))).to_pylist()
    assert col == [fold_case_space(normalize_text(t)) for t in texts]


def test_nulls_become_empty_strings():
    assert normalize_array(pa.array([None, "a"], pa.string())).to_pylist() == ["", "a"]
    assert normalize_text(None) == ""


def test_chinese_text_is_untouched():
    text = "请写出你的思考内容"
    assert normalize_text(text) == text
