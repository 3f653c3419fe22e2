"""The bridge rule (rule 3 of `pairs.combine`): content and behaviour between two accounts that
each have an operator-backed edge link them; lockstep on a popular prompt does not."""

from __future__ import annotations

import pyarrow as pa

from distillguard.link.config import LinkConfig
from distillguard.link.pairs import combine

# (a, b, kind, sim, shared keys)
ROWS = [
    (0, 1, "subnet", 0.5, 2),  # rule 2: a network and a template (two backed groups: 0-1, 2-3)
    (0, 1, "template", 0.3, 2),
    (2, 3, "subnet", 0.5, 2),
    (2, 3, "template", 0.3, 2),
    (1, 2, "lockstep", 0.55, 5),  # release-day lockstep and a popular template: no bridge
    (1, 2, "template", 0.14, 1),
    (0, 3, "template", 0.2, 3),  # the same prompts and behaviour: a bridge
    (0, 3, "fingerprint", 0.5, 1),
]


def _scores(rows: list[tuple]) -> pa.Table:
    a, b, kind, sim, shared = zip(*rows, strict=True)
    return pa.table(
        {
            "a": pa.array(a, pa.int32()),
            "b": pa.array(b, pa.int32()),
            "kind": pa.array(kind, pa.string()),
            "sim": pa.array(sim, pa.float64()),
            "shared": pa.array(shared, pa.int64()),
        }
    )


def test_bridges_need_content_or_behaviour_not_lockstep() -> None:
    _, a, b, _ = combine(_scores(ROWS), LinkConfig())
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == {(0, 1), (2, 3), (0, 3)}


def test_lockstep_still_counts_toward_an_operator_backed_edge() -> None:
    rows = [r for r in ROWS if r[:2] != (0, 3)] + [(1, 2, "subnet", 0.5, 2)]
    _, a, b, _ = combine(_scores(rows), LinkConfig())
    assert (1, 2) in set(zip(a.tolist(), b.tolist(), strict=True))
