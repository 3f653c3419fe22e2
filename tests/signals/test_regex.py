import re

import pytest

from distillguard.signals import regex
from distillguard.signals.normalize import fold_case_space, normalize_text
from distillguard.signals.patterns import CAPABILITY_FAMILIES, PERSONA_FAMILIES, SIGNALS

FAMILIES = {
    **{f"{name}.{fam}": pat for name, (fams, _) in SIGNALS.items() for fam, pat in fams.items()},
    **{f"capability.{k}": v for k, v in {**CAPABILITY_FAMILIES, **PERSONA_FAMILIES}.items()},
}


def test_every_family_compiles_in_python_re():
    for pattern in FAMILIES.values():
        re.compile("(?m)" + pattern, re.ASCII)


@pytest.mark.skipif(regex.SEARCH_ENGINE != "re2", reason="google-re2 not installed")
def test_python_fallback_agrees_with_re2(corpus_sample, heldout, dev_phrasings):
    texts = corpus_sample + [
        p.format(prompt="Why is the sky blue?", answer="42", response="Because.", question=q)
        for phrasings in (heldout, dev_phrasings)
        for key in ("cot_harvest", "rubric", "rewrite_harvest")
        for p in phrasings[key]
        for q in phrasings["sensitive_questions"][:2]
    ]
    folded = [fold_case_space(normalize_text(t)) for t in texts]
    for name, pattern in FAMILIES.items():
        py = re.compile("(?m)" + pattern, re.ASCII)
        fast = regex.search_pattern("(?m)" + pattern)
        for text in folded:
            assert (py.search(text) is None) == (fast.search(text) is None), (name, text[:80])
