"""Account features and the account rules run in a thread beside the link stage: the scan's findings
must be exactly those of every detector run once, after link, on the finished store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from distillguard.config import load_config
from distillguard.detect import DetectionContext, in_registry_order, registry, run_detectors, split_by_linkage
from distillguard.detect.base import needs_linkage
from distillguard.pipeline import STAGE_ORDER, run_scan
from distillguard.store import connect

simulate = pytest.importorskip("distillguard.simulate")
LINKAGE_READERS = {
    "coordinated-cluster",
    "linked-accounts",
    "lookalike-member",
    "pool-cadence",
    "pool-harvest",
}


@pytest.fixture(scope="module")
def world_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("beside")
    simulate.simulate("quick", root / "world", scale=0.2, seed=5, split="train")
    result = run_scan(
        [root / "world" / "exchanges.jsonl"],
        root / "scan",
        accounts=root / "world" / "accounts.jsonl",
        config=load_config(None),
    )
    return root / "scan", result


def test_findings_equal_one_run_of_every_detector_after_link(world_scan: tuple[Path, Any]) -> None:
    out, result = world_scan
    assert result.linkage.clusters  # linked clusters: the detectors run after link have work too
    con = connect(out / "store")
    try:
        ctx = DetectionContext(con=con, linkage=result.linkage, config=load_config(None).detect)
        expected = run_detectors(ctx)
    finally:
        con.close()
    detectors = {f.detector for f in expected}
    assert detectors & LINKAGE_READERS and detectors - LINKAGE_READERS
    assert [f.to_dict() for f in result.findings] == [f.to_dict() for f in expected]


class _NoLinkage:
    """A linkage that fails the test when a detector reads anything from it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a detector run beside link read linkage.{name}")


def test_detectors_run_beside_link_never_read_the_linkage(world_scan: tuple[Path, Any]) -> None:
    out, _ = world_scan
    early, late = split_by_linkage()
    assert set(late) >= LINKAGE_READERS and not LINKAGE_READERS & set(early)
    order = list(registry())
    assert sorted(early + late) == sorted(order)
    assert early == sorted(early, key=order.index) and late == sorted(late, key=order.index)
    con = connect(out / "store")
    try:
        con.execute("DROP VIEW edges")  # beside link, the edges are not written yet
        ctx = DetectionContext(con=con, linkage=_NoLinkage(), config=load_config(None).detect)
        assert run_detectors(ctx, enabled=early)
    finally:
        con.close()


def test_a_detector_that_declares_nothing_waits_for_the_linkage() -> None:
    class Declared:
        needs_linkage: ClassVar[bool] = False

    class Silent:
        pass

    assert not needs_linkage(Declared) and needs_linkage(Silent)
    assert split_by_linkage(["linked-accounts", "ip-rotation"]) == (["ip-rotation"], ["linked-accounts"])


def test_findings_of_batches_come_back_in_registry_order(world_scan: tuple[Path, Any]) -> None:
    _, result = world_scan
    shuffled = list(reversed(result.findings))
    assert [f.to_dict() for f in in_registry_order(shuffled)] != [f.to_dict() for f in shuffled]
    order = list(registry())
    ranks = [order.index(f.detector) for f in in_registry_order(shuffled)]
    assert ranks == sorted(ranks)


def test_the_summary_lists_stages_in_pipeline_order_with_the_scan_s_wall_time(
    world_scan: tuple[Path, Any],
) -> None:
    out, _ = world_scan
    summary = json.loads((out / "summary.json").read_text())
    timings, cpu = summary["timings"], summary["cpu_seconds"]
    assert list(timings) == [s for s in STAGE_ORDER if s in timings]
    # features and the account rules ran inside link's time: the wall time is not their sum
    assert timings["link"] >= timings["features"] and summary["wall_seconds"] >= timings["link"]
    assert all(v >= 0 for v in cpu.values())


def test_duckdb_gives_the_thread_beside_link_a_core_and_link_gets_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    import distillguard.detect as detect
    import distillguard.features as features

    cores = int(duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0])
    seen: dict[str, int] = {}

    def threads(con: Any) -> int:
        return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])

    materialize, run = features.materialize, detect.run_detectors

    def recording_materialize(con: Any) -> Any:
        seen["beside link"] = threads(con)
        return materialize(con)

    def recording_run(ctx: Any, enabled: Any = None) -> Any:
        seen["after link" if ctx.linkage is not None else "rules beside link"] = threads(ctx.con)
        return run(ctx, enabled=enabled)

    monkeypatch.setattr(features, "materialize", recording_materialize)
    monkeypatch.setattr(detect, "run_detectors", recording_run)
    simulate.simulate("quick", tmp_path / "world", scale=0.05, seed=6, split="train")
    run_scan([tmp_path / "world" / "exchanges.jsonl"], tmp_path / "scan", config=load_config(None))
    one_less = max(1, cores - 1)
    assert seen == {"beside link": one_less, "rules beside link": one_less, "after link": cores}
