"""Content scores: chain-of-thought elicitation, rubric grading, censorship-safe rewrites.

Each score is in [0, 1]: the highest score among the signal's rules (``patterns.py``) whose
pattern families all match the exchange's text (system prompt and user turn, normalized and
case/space folded). Columns are scored from every family's hits, found in one Hyperscan pass per
text (``multiscan``) or, without it, by RE2 scans over the column (``score_array``); one prompt
is scored with the same patterns through RE2's Python bindings (``score_text``); ``explain_text``
names the rule behind a score for evidence.
"""

from __future__ import annotations

import graphlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals import multiscan
from distillguard.signals.patterns import SCAN_GROUPS, SIGNALS, Rule
from distillguard.signals.regex import search_pattern

# RE2 gets the same flag as Python: ^ anchors at line starts.
_RE2 = {name: {fam: "(?m)" + pat for fam, pat in fams.items()} for name, (fams, _) in SIGNALS.items()}
# The column path's candidate scan: one union per group of SCAN_GROUPS. A rule fires only where
# its first family matches, so only families that come first in some rule are scanned for: one
# that only ever completes another's evidence ("produce a rationale" beside "a given answer") is
# looked for on candidate rows only.
_LEADING = {name: {rule.needs[0] for rule in rules} for name, (_, rules) in SIGNALS.items()}


def _groups(name: str) -> list[list[str]]:
    """The leading families of a signal in their scan groups (one left out of every group alone)."""
    listed = [[f for f in group if f in _LEADING[name]] for group in SCAN_GROUPS.get(name, ())]
    grouped = {f for group in listed for f in group}
    return [group for group in listed if group] + [[f] for f in sorted(_LEADING[name] - grouped)]


def _union(name: str, group: list[str]) -> str:
    families = SIGNALS[name][0]
    return "(?m)(?:" + ")|(?:".join(families[f] for f in group) + ")"


_GROUPS = {name: _groups(name) for name in SIGNALS}
_CANDIDATE_SCANS = {name: [_union(name, g) for g in groups] for name, groups in _GROUPS.items()}
_COMPILED = {name: {fam: search_pattern(p) for fam, p in fams.items()} for name, fams in _RE2.items()}
# One prompt at a time, one union of the leading families is cheaper than the groups: RE2 keeps
# what it learnt of the union's DFA from one prompt to the next (measured per corpus prompt, whole
# single-prompt path: 177 µs with the union, 207 µs with the groups).
_LEADING_UNION = {name: search_pattern(_union(name, sorted(_LEADING[name]))) for name in SIGNALS}


def _family_order(rules: tuple[Rule, ...]) -> list[str]:
    """The signal's families in an order where every family comes after those listed before it
    in any rule (graphlib raises if two rules disagree)."""
    after: dict[str, set[str]] = {}
    for rule in rules:
        for i, fam in enumerate(rule.needs):
            after.setdefault(fam, set()).update(rule.needs[:i])
    return list(graphlib.TopologicalSorter(after).static_order())


_ORDER = {name: _family_order(rules) for name, (_, rules) in SIGNALS.items()}


def _rule_scores(folded: pa.Array, name: str, group_hits: dict[str, np.ndarray]) -> np.ndarray:
    """Scores of one signal's rules for a column of folded text, given where each leading
    family's scan group matched (`group_hits`).

    A family is scanned only on the rows where it can still complete a rule: where its group
    matched when it opens the rule, where the rule's families before it matched otherwise. A gate
    ("a trace is named", "a language is named") spares the slow family behind it ("... the trace,
    verbatim") the rows it could not change."""
    rules = SIGNALS[name][1]
    n = len(folded)
    hits: dict[str, np.ndarray] = {}
    for fam in _ORDER[name]:
        rows = np.zeros(n, dtype=bool)
        for rule in rules:
            if fam in rule.needs:
                before = rule.needs[: rule.needs.index(fam)]
                rows |= np.logical_and.reduce([hits[g] for g in before]) if before else group_hits[fam]
        hit = np.zeros(n, dtype=bool)
        if rows.any():
            at = np.flatnonzero(rows)
            sub = folded if len(at) == n else pc.take(folded, pa.array(at))
            hit[at] = pc.match_substring_regex(sub, _RE2[name][fam]).to_numpy(zero_copy_only=False)
        hits[fam] = hit
    return _best_rule(rules, hits, n)


def _best_rule(rules: tuple[Rule, ...], hits: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per row, the highest score among `rules` whose families all hit (0 where none does)."""
    score = np.zeros(n, dtype=np.float32)
    for rule in rules:
        ok = np.logical_and.reduce([hits[f] for f in rule.needs])
        np.maximum(score, np.where(ok, np.float32(rule.score), np.float32(0)), out=score)
    return score


def family_hits(folded: pa.Array, families: dict[str, str]) -> dict[str, np.ndarray]:
    """One boolean array per family: does the family's pattern occur in each row."""
    return {
        fam: pc.match_substring_regex(folded, pat).to_numpy(zero_copy_only=False).astype(bool)
        for fam, pat in families.items()
    }


def score_array(
    folded: pa.Array, hits: dict[str, dict[str, np.ndarray]] | None = None
) -> dict[str, np.ndarray]:
    """Scores of every content signal for a column of folded text (no nulls).

    From `hits` (``multiscan.family_hits`` of the column) when given, else from Hyperscan's
    hits when it is installed. Otherwise by RE2 in Arrow: most traffic matches no family of a
    signal, so a few scans with unions of the families (SCAN_GROUPS) find the rows worth
    scoring; only those are scanned family by family, each family only where the rules it
    completes are still open (`_rule_scores`). Both ways give the same scores.
    """
    n = len(folded)
    if hits is None:
        hits = multiscan.family_hits(folded)
    if hits is not None:
        return {name: _best_rule(rules, hits[name], n) for name, (_, rules) in SIGNALS.items()}
    out: dict[str, np.ndarray] = {}
    for name in SIGNALS:
        score = np.zeros(n, dtype=np.float32)
        scanned = [
            pc.match_substring_regex(folded, scan).to_numpy(zero_copy_only=False).astype(bool)
            for scan in _CANDIDATE_SCANS[name]
        ]
        candidates = np.logical_or.reduce(scanned)
        if candidates.any():
            rows = np.flatnonzero(candidates)
            group_hits = {
                f: hit[rows] for group, hit in zip(_GROUPS[name], scanned, strict=True) for f in group
            }
            score[rows] = _rule_scores(pc.take(folded, pa.array(rows)), name, group_hits)
        out[name] = score
    return out


def score_text(folded: str) -> dict[str, float]:
    """Scores of every content signal for one folded text; equal to ``score_array`` per row."""
    out: dict[str, float] = {}
    for name, (_, rules) in SIGNALS.items():
        if _LEADING_UNION[name].search(folded) is None:
            out[name] = 0.0
            continue
        found: dict[str, bool] = {}

        def hit(fam: str, name: str = name, found: dict[str, bool] = found) -> bool:
            # Looked up once, and only when the rule's families before it matched (all() stops).
            if fam not in found:
                found[fam] = _COMPILED[name][fam].search(folded) is not None
            return found[fam]

        out[name] = max((r.score for r in rules if all(hit(f) for f in r.needs)), default=0.0)
    return out


def explain_text(folded: str) -> dict[str, str | None]:
    """The rule (its ``why``) behind each signal's score for one folded text, None at score 0."""
    out: dict[str, str | None] = {}
    for name, (_, rules) in SIGNALS.items():
        hit = {fam: rx.search(folded) is not None for fam, rx in _COMPILED[name].items()}
        best = max((r for r in rules if all(hit[f] for f in r.needs)), key=lambda r: r.score, default=None)
        out[name] = best.why if best else None
    return out
