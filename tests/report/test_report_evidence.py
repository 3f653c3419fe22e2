"""Generic rendering of finding evidence: every leaf escaped, long lists cut with a count."""

from __future__ import annotations

from distillguard.report.evidence import RECORDS_SHOWN, VALUES_SHOWN, render_evidence, scalar


def test_nested_values_are_escaped() -> None:
    html = str(render_evidence({"<b>key</b>": [{"prompt": "<script>x()</script>"}], "ua": "a\"b'c"}))
    assert "<script>" not in html and "<b>key" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "&lt;b&gt;key&lt;/b&gt;" in html
    assert "a&#34;b&#39;c" in html


def test_long_lists_are_cut_and_counted() -> None:
    html = str(render_evidence({"ids": [f"id-{i}" for i in range(VALUES_SHOWN + 5)]}))
    assert html.count("<code>") == VALUES_SHOWN and "+5 more" in html
    html = str(render_evidence({"links": [{"a": i} for i in range(RECORDS_SHOWN + 2)]}))
    assert html.count("<li>") == RECORDS_SHOWN and "+2 more" in html
    assert "<details><summary>8 items</summary>" in html  # a list of records folds away


def test_scalars() -> None:
    assert [scalar(v) for v in (True, None, 0.123456, 1234567, "x")] == [
        "true",
        "none",
        "0.123",
        "1,234,567",
        "x",
    ]


def test_leaves_are_escaped_as_markupsafe_does() -> None:
    from markupsafe import escape

    for text in ("plain", "<a href='x'>&amp;</a>", 'say "hi"', "naïve 🤖", "", "&#39;"):
        assert str(render_evidence(text)) == str(escape(text))
    assert str(render_evidence(["<i>", 1.5])) == "<code>&lt;i&gt;</code> <code>1.5</code>"
