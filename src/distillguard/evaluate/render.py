"""An evaluation as a terminal table, Markdown for docs, or a self-contained HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import Environment

if TYPE_CHECKING:
    from rich.console import RenderableType

    from distillguard.evaluate.evaluation import EvalReport


def pct(value: float | None) -> str:
    """A share as a percentage, or n/a."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def num(value: float | None, digits: int = 3) -> str:
    """A number with `digits` decimals, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _hours(value: float | None) -> str:
    return "not detected" if value is None else f"{value:.1f} h"


def sections(report: EvalReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report as (title, header, rows) tables, shared by every renderer."""
    a, r, c = report.accounts, report.ranking, report.clusters
    overall = [
        ["accounts (legit / campaign)", f"{a['tn'] + a['fp']} / {a['tp'] + a['fn']}"],
        ["flagged (TP / FP)", f"{a['tp'] + a['fp']} ({a['tp']} / {a['fp']})"],
        ["precision", pct(a["precision"])],
        ["recall", pct(a["recall"])],
        ["false-positive rate", pct(a["fpr"])],
        ["F1", num(a["f1"])],
        ["ROC AUC of risk", num(r["roc_auc"])],
        ["average precision of risk", num(r["average_precision"])],
        ["ARI, campaign accounts", num(c["ari_campaign_accounts"])],
        ["ARI, all accounts", num(c["ari_all_accounts"])],
    ]
    if report.exchanges:
        overall.append(["campaign exchanges from flagged accounts", pct(report.exchanges["campaign_share"])])
        overall.append(
            ["legit exchanges from flagged accounts", pct(report.exchanges["legit_share_in_flagged"])]
        )
    if report.threshold is not None:
        overall.insert(0, ["threshold", f"{report.threshold:g}"])
    out = [("Accounts", ["metric", "value"], overall)]
    out.append(
        (
            "Legitimate archetypes (each a false-positive trap)",
            ["archetype", "accounts", "flagged", "flag rate"],
            [
                [x["archetype"], str(x["accounts"]), str(x["flagged"]), pct(x["rate"])]
                for x in report.archetypes
            ],
        )
    )
    out.append(
        (
            "Campaigns",
            ["campaign", "accounts", "flagged", "recall", "exchanges attributed"],
            [
                [
                    x["campaign_id"],
                    str(x["accounts"]),
                    str(x["flagged"]),
                    pct(x["recall"]),
                    pct(x.get("exchange_share")),
                ]
                for x in report.campaigns
            ],
        )
    )
    if report.ttd:
        out.append(
            (
                "Time to detection (prefix scans)",
                ["campaign", "first exchange", "first account flagged", "half the accounts flagged"],
                [
                    [
                        t["campaign_id"],
                        t["first_exchange"],
                        _hours(t["hours_to_first_flag"]),
                        _hours(t["hours_to_half"]),
                    ]
                    for t in report.ttd
                ],
            )
        )
    return out


def to_rich(report: EvalReport) -> list[RenderableType]:
    """The report as rich tables for the terminal."""
    from rich.table import Table

    tables: list[Any] = []
    for title, header, rows in sections(report):
        t = Table(title=title, title_justify="left")
        for i, h in enumerate(header):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*row)
        tables.append(t)
    return tables


def to_markdown(report: EvalReport) -> str:
    """The report as Markdown, for documentation."""
    lines = ["# distillguard evaluation", ""]
    w = report.world
    if w:
        lines += [
            f"World: scenario `{w.get('scenario')}`, seed {w.get('seed')}, split `{w.get('split')}`, "
            f"scale {w.get('scale')}, {_count(w.get('exchanges'))} exchanges, "
            f"{w.get('start')} to {w.get('end')}.",
            "",
        ]
    for title, header, rows in sections(report):
        lines += [
            f"## {title}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    return "\n".join(lines)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>distillguard evaluation</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2330}
table{border-collapse:collapse;margin:0 0 1.5rem 0;min-width:30rem}
th,td{border-bottom:1px solid #dde1e8;padding:.3rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f5f8}
.note{color:#7a4b00}
</style></head><body>
<h1>distillguard evaluation</h1>
{% if world %}<p>World: scenario <code>{{ world.scenario }}</code>, seed {{ world.seed }}, split
<code>{{ world.split }}</code>, scale {{ world.scale }}, {{ world.exchanges }} exchanges,
{{ world.start }} to {{ world.end }}.</p>{% endif %}
<p>Truth: <code>{{ truth }}</code>. Scan: <code>{{ scan }}</code>.</p>
{% for title, header, rows in sections %}
<h2>{{ title }}</h2>
<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>
{% endfor %}
{% if notes %}<h2>Notes</h2><ul>{% for n in notes %}<li class="note">{{ n }}</li>{% endfor %}</ul>{% endif %}
</body></html>
"""


def to_html(report: EvalReport) -> str:
    """The report as one self-contained HTML page."""
    env = Environment(autoescape=True)
    return env.from_string(_HTML).render(
        world=report.world,
        truth=report.truth_path,
        scan=report.scan_dir,
        sections=sections(report),
        notes=report.notes,
    )
