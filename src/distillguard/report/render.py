"""Build `report.html` from a scan directory: one self-contained file that opens offline.

The page has an overview per flagged cluster (the campaign view), a linkage graph, the account
table with a drill-down per account, and the heavy users that were cleared and why. Drill-downs
are capped (flagged accounts by risk, then the heaviest cleared users) so the file stays quick to
build and to open; the page says how many were left out.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from distillguard.cache import writable_cache_dir
from distillguard.gcpause import no_cyclic_gc
from distillguard.report import plots, svg, views
from distillguard.report.evidence import render_evidence, scalar
from distillguard.report.scandir import Scan, open_scan

MAX_CLUSTERS = 25  # flagged clusters shown in full
MAX_DRILLDOWNS = 200  # flagged accounts with a drill-down panel
CLEARED_HEAVY_USERS = 15  # heaviest unflagged accounts shown with why they were cleared
GRAPH_LINKS_PER_ACCOUNT = 4  # strongest links drawn per account in the linkage graph


def _env() -> jinja2.Environment:
    # Compiling the page template takes ~0.1 s of every scan: the compiled form is cached on disk
    # (checked against the template's source each time).
    cached = writable_cache_dir()
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("distillguard.report", "templates"),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cached)) if cached else None,
        autoescape=True,  # every string from the traffic is attacker-controlled
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["scalar"] = scalar
    env.filters["evidence"] = render_evidence
    return env


def _num(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{int(v):,}" if v.is_integer() else f"{v:,.3g}"


def write_report(scan_dir: Path, out: Path | None = None, *, max_drilldowns: int = MAX_DRILLDOWNS) -> Path:
    """Write the HTML report of the scan in `scan_dir` (to scan_dir/report.html unless `out` is given)
    and return its path. Raises `ScanDirError` with a one-line reason when the directory is incomplete."""
    with no_cyclic_gc(), open_scan(scan_dir) as scan:
        context = build_context(scan, max_drilldowns=max_drilldowns)
        target = Path(out) if out else Path(scan_dir) / "report.html"
        env = _env()
        # The page's one script is allowed by its hash: script text injected through the data would
        # not run even if it slipped past escaping.
        script = env.loader.get_source(env, "report.js")[0]
        script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        page = env.get_template("report.html.jinja").render(**context, script=script, script_hash=script_hash)
    target.write_text(page, encoding="utf-8")
    return target


def build_context(scan: Scan, *, max_drilldowns: int = MAX_DRILLDOWNS) -> dict[str, Any]:
    """Everything the template lays out, as plain data and inline SVG."""
    axis = views.time_axis(scan)
    traffic = views.traffic(scan, axis)
    models = traffic["models"]
    accounts = scan.accounts.sort_values(["risk", "exchanges"], ascending=False)
    clusters = scan.clusters.sort_values("risk", ascending=False)
    flagged_clusters = clusters.loc[clusters["flagged"].astype(bool)]
    shown_clusters = flagged_clusters["cluster_id"].head(MAX_CLUSTERS).tolist()
    cluster_colors = {cid: svg.color(i) for i, cid in enumerate(clusters["cluster_id"])}
    notes = list(scan.notes)
    if len(flagged_clusters) > len(shown_clusters):
        notes.append(
            f"{len(flagged_clusters) - len(shown_clusters)} more flagged clusters are listed in "
            "clusters.csv only"
        )

    flagged = accounts.loc[accounts["flagged"].astype(bool)]
    drill_ids = flagged["account_id"].head(max_drilldowns).tolist()
    if len(flagged) > len(drill_ids):
        notes.append(
            f"drill-downs cover the {len(drill_ids)} riskiest of {len(flagged)} flagged accounts; "
            "the rest are in accounts.csv"
        )
    cleared = accounts.loc[~accounts["flagged"].astype(bool)]
    heavy = cleared.sort_values("exchanges", ascending=False).head(CLEARED_HEAVY_USERS)
    heavy_ids = heavy["account_id"].tolist()

    cluster_data = views.cluster_views(scan, shown_clusters, axis)
    for c in cluster_data:
        c["timeline_svg"] = plots.model_timeline(c["timeline"], models, axis)
        c["capability_svg"] = svg.hbars(
            c["capabilities"], fill=cluster_colors.get(c["verdict"]["cluster_id"], svg.PALETTE[0])
        )
    reference = traffic["human_day"]
    drills = views.account_views(scan, drill_ids + heavy_ids, axis)
    for i, d in enumerate(drills):
        d["panel_id"] = f"acct-{i}"
        d["timeline_svg"] = svg.stacked_timeline(d["timeline"], models)
        d["cadence_svg"] = svg.hour_cadence(d["hours"], reference)

    graph_svg, graph_left_out, graph_clusters = "", 0, set()
    if scan.has_edges:
        graph_svg, graph_left_out, graph_clusters = _graph(scan, cluster_colors)
        if graph_left_out:
            notes.append(
                f"the linkage graph draws the {plots.GRAPH_MAX_NODES} riskiest linked accounts; "
                f"{graph_left_out} more are in store/edges.parquet"
            )

    caps = traffic["capabilities"]
    return {
        "title": f"distillguard report — {scan.path.name}",
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": scan.summary,
        "axis": axis,
        "models": [(m, svg.color(i)) for i, m in enumerate(models)],
        "overview_svg": plots.model_timeline(traffic["timeline"], models, axis),
        "capability_flagged_svg": svg.hbars(caps["flagged"], fill=svg.PALETTE[5]),
        "capability_cleared_svg": svg.hbars(caps["cleared"], fill=svg.PALETTE[2]),
        "clusters": cluster_data,
        "cluster_colors": cluster_colors,
        "other_clusters": clusters.loc[~clusters["flagged"].astype(bool)].head(50).to_dict("records"),
        "other_clusters_total": int((~clusters["flagged"].astype(bool)).sum()),
        "graph_svg": graph_svg,
        "graph_links": GRAPH_LINKS_PER_ACCOUNT,
        "graph_clusters": [(cid, col) for cid, col in cluster_colors.items() if cid in graph_clusters],
        "drills": drills,
        "drill_rows": accounts[accounts["account_id"].isin(drill_ids)].to_dict("records"),
        "heavy": drills[len(drill_ids) :],  # account_views keeps the order it was given
        "counts": {
            "accounts": len(accounts),
            "flagged": len(flagged),
            "clusters": len(clusters),
            "flagged_clusters": len(flagged_clusters),
        },
        "notes": notes,
        "has_reference": bool(reference),
    }


def _graph(scan: Scan, cluster_colors: dict[str, str]) -> tuple[str, int, set[str]]:
    """The linkage graph: the GRAPH_MAX_NODES riskiest linked accounts, each with its
    GRAPH_LINKS_PER_ACCOUNT strongest links among them (a hydra cluster of hundreds of accounts is a
    near-clique whose every edge would bury the picture, and the file). Returns (svg, accounts left
    out, clusters drawn)."""
    linked = [a for (a,) in scan.con.execute("SELECT src FROM edges UNION SELECT dst FROM edges").fetchall()]
    verdicts = {r["account_id"]: r for r in scan.accounts.to_dict("records")}
    linked.sort(
        key=lambda a: (
            -float(verdicts.get(a, {}).get("risk", 0.0)),
            -int(verdicts.get(a, {}).get("exchanges", 0)),
            a,
        )
    )
    keep = linked[: plots.GRAPH_MAX_NODES]
    scan.con.register("graph_nodes", pd.DataFrame({"account_id": pd.Series(keep, dtype="object")}))
    rows = scan.con.execute(
        f"""
        WITH pairs AS (
            SELECT least(src, dst) AS a, greatest(src, dst) AS b, sum(coalesce(weight, 0)) AS w,
                   string_agg(DISTINCT kind, ', ' ORDER BY kind) AS kinds
            FROM edges
            WHERE src <> dst AND src IN (SELECT account_id FROM graph_nodes)
              AND dst IN (SELECT account_id FROM graph_nodes)
            GROUP BY ALL
        ),
        ends AS (SELECT a AS node, a, b, w FROM pairs UNION ALL SELECT b, a, b, w FROM pairs),
        strongest AS (
            SELECT a, b FROM ends
            QUALIFY row_number() OVER (PARTITION BY node ORDER BY w DESC, a, b) <= {GRAPH_LINKS_PER_ACCOUNT}
        )
        SELECT p.a, p.b, p.kinds FROM pairs p JOIN (SELECT DISTINCT a, b FROM strongest) USING (a, b)
        ORDER BY p.a, p.b
        """
    ).fetchall()
    markup, clusters = plots.linkage_graph(keep, rows, verdicts, cluster_colors)
    return markup, len(linked) - len(keep), clusters
