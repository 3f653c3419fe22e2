"""Measure every request signal on the shared prompt corpora: precision, recall, speed.

    .venv/bin/python bench/signals.py [--corpora ../shared/corpora] [--split eval|dev] [--out FILE]
        [--phrasings heldout|dev] [--no-frames] [--only-frames] [--frame-min-words N] [--frame-min-df N]

Prompts are split by a stable hash of their record id (xxh3-64 of the id, even = dev, odd =
eval). Patterns and MinHash geometry were chosen looking at dev only; the tables in
docs/signals.md come from ``--split eval``. Labelled sets for the content signals are built by
wrapping corpus prompts in held-out phrasings (tests/signals/data/heldout_phrasings.yaml) that
the detector patterns were not written from. A score >= THRESHOLD counts as a detection.
Frame grouping is measured with the wrappers and openings of tests/signals/data/frames.yaml
(its `dev` lists with ``--phrasings dev``, its `heldout` lists otherwise); ``--no-frames``
groups by band keys only, as before frames existed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import xxhash
import yaml

from distillguard.signals import compute_signals, group_skeletons, score_prompt
from distillguard.signals.regex import SEARCH_ENGINE
from distillguard.signals.templates import DISTINCT_SKELETONS_SQL

ROOT = Path(__file__).resolve().parents[1]
PHRASINGS = {
    "heldout": ROOT / "tests" / "signals" / "data" / "heldout_phrasings.yaml",
    "dev": ROOT / "tests" / "signals" / "data" / "dev_phrasings.yaml",
    "independent": ROOT / "tests" / "signals" / "data" / "independent_phrasings.yaml",
}
FRAMES = ROOT / "tests" / "signals" / "data" / "frames.yaml"
THRESHOLD = 0.6
SEED = 7
# Options of signals.group_skeletons for every template measurement (set from the command line).
GROUPING: dict = {}


@dataclass
class Record:
    id: str
    text: str
    origin: str
    task: str
    tools: int


def load(corpora: Path, split: str) -> list[Record]:
    want = 0 if split == "dev" else 1
    out = []
    for path in sorted(corpora.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            r = json.loads(line)
            if xxhash.xxh3_64_intdigest(r["id"].encode()) % 2 == want:
                out.append(Record(r["id"], r["text"], r["origin"], r["task"], len(r.get("tools") or [])))
    return out


def signals_of(texts: list[str], tools: list[int] | None = None) -> pa.Table:
    cols = {"user_text": pa.array(texts, pa.string())}
    if tools is not None:
        cols["tool_count"] = pa.array(tools, pa.int32())
    return compute_signals(pa.table(cols))


def prf(pred: list[bool], gold: list[bool]) -> tuple[float, float, int, int]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    return prec, rec, sum(gold), len(gold) - sum(gold)


def fill(template: str, rng: random.Random, prompt: str, held: dict, others: list[str]) -> str:
    return template.format(
        prompt=prompt,
        answer=rng.choice(held["answers"]),
        response=rng.choice(others)[:400],
        question=rng.choice(held["sensitive_questions"]),
    )


def content_tables(recs: list[Record], held: dict, n: int) -> list[str]:
    """Rows of the content-signal table: per signal, positives and each negative set's rate."""
    rng = random.Random(SEED)
    prompts = [r.text for r in recs if len(r.text) < 2000]
    human = [r.text for r in recs if r.origin == "human"]
    harvest = [r.text for r in recs if r.origin == "harvest"]
    sample = rng.sample(prompts, min(n, len(prompts)))

    def wrap(key: str) -> list[str]:
        return [fill(rng.choice(held[key]), rng, p, held, prompts) for p in sample]

    sets = {
        "cot_elicitation": {"pos": wrap("cot_harvest"), "ordinary step-by-step": wrap("cot_ordinary")},
        "rubric_grading": {"pos": wrap("rubric")},
        "censorship_rewrite": {
            "pos": wrap("rewrite_harvest"),
            "ordinary rewrites": wrap("rewrite_ordinary"),
            "bare sensitive questions": list(held["sensitive_questions"]),
        },
    }
    rows = []
    human_scores = signals_of(human)
    harvest_scores = signals_of(harvest)
    for signal, groups in sets.items():
        pos = signals_of(groups["pos"]).column(signal).to_pylist()
        negs = {
            "human prompts": human_scores.column(signal).to_pylist(),
            "harvest prompts (unwrapped)": harvest_scores.column(signal).to_pylist(),
            **{k: signals_of(v).column(signal).to_pylist() for k, v in groups.items() if k != "pos"},
        }
        neg_all = [s for v in negs.values() for s in v]
        pred = [s >= THRESHOLD for s in pos + neg_all]
        gold = [True] * len(pos) + [False] * len(neg_all)
        prec, rec, _, _ = prf(pred, gold)
        fprs = "; ".join(
            f"{k} {sum(s >= THRESHOLD for s in v) / len(v):.2%} of {len(v)}" for k, v in negs.items()
        )
        rows.append(f"| {signal} | {prec:.3f} | {rec:.3f} | {len(pos)} | {len(neg_all)} | {fprs} |")
    return rows


CAP_LABEL = {
    "coding": lambda r: r.task == "code",
    "tool_use": lambda r: r.task == "tool",
    "roleplay": lambda r: r.task == "roleplay",
    "chat": lambda r: r.task in ("chat", "general"),
}


def capability_table(recs: list[Record]) -> list[str]:
    sig = signals_of([r.text for r in recs], [r.tools for r in recs])
    rows = []
    for cap, label in CAP_LABEL.items():
        gold = [label(r) for r in recs]
        tag_p, tag_r, npos, nneg = prf(sig.column(f"cap_{cap}").to_pylist(), gold)
        prim = [c == cap for c in sig.column("capability").to_pylist()]
        pp, pr, _, _ = prf(prim, gold)
        rows.append(f"| {cap} | {tag_p:.3f} | {tag_r:.3f} | {pp:.3f} | {pr:.3f} | {npos} | {nneg} |")
    return rows


# Perturbations a campaign uses to make one template look like many prompts.
_HOMO = str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х"})


def _case(t: str, rng: random.Random) -> str:
    return rng.choice(
        [t.upper(), t.lower(), t.title(), "".join(c.swapcase() if rng.random() < 0.3 else c for c in t)]
    )


def _space(t: str, rng: random.Random) -> str:
    return (
        "".join(c + (" " * rng.randint(1, 3) if c == " " and rng.random() < 0.4 else "") for c in t) + "\n\n"
    )


def _homoglyph(t: str, rng: random.Random) -> str:
    return "".join(c.translate(_HOMO) if rng.random() < 0.5 else c for c in t)


def _zero_width(t: str, rng: random.Random) -> str:
    return "".join(c + ("\u200b" if rng.random() < 0.15 else "") for c in t)


def _slots(t: str, rng: random.Random) -> str:
    t = re.sub(r"\d+", lambda m: str(rng.randint(0, 10 ** len(m.group(0)))), t)
    t = re.sub(r'"[^"\n]{1,80}"', lambda m: f'"{rng.choice(["alpha", "Bravo two", "x y z"])}"', t)
    return re.sub(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", lambda m: rng.choice(["Maria Lopez", "Chen Wei Lin"]), t)


def _paraphrase(t: str, rng: random.Random, syn: dict[str, str]) -> str:
    words = t.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower() in syn]
    for i in rng.sample(idx, min(2, len(idx))):
        words[i] = syn[words[i].lower()]
    return " ".join(words)


def _templates_of(texts: list[str]) -> tuple[pa.Table, list[str | None]]:
    """Signals and template ids of a set of prompts: what assign_templates does (the distinct
    skeleton aggregate, then group_skeletons) with the options in GROUPING."""
    sig = signals_of(texts)
    con = duckdb.connect()
    con.register("exchanges", sig)
    mapping = group_skeletons(con.sql(DISTINCT_SKELETONS_SQL).to_arrow_table(), **GROUPING)
    tmpl = dict(
        zip(
            mapping.column("skeleton_hash").to_pylist(),
            mapping.column("template_id").to_pylist(),
            strict=True,
        )
    )
    return sig, [tmpl.get(h) for h in sig.column("skeleton_hash").to_pylist()]


def _one_per_template(texts: list[str]) -> list[str]:
    """The first prompt of each template: near-duplicates already in the corpus would otherwise
    count as false merges of the perturbed variants."""
    _, tmpl = _templates_of(texts)
    seen: set[str | None] = set()
    out = []
    for t, g in zip(texts, tmpl, strict=True):
        if g not in seen:
            seen.add(g)
            out.append(t)
    return out


def skeleton_table(recs: list[Record], held: dict, n: int) -> list[str]:
    """Grouping of perturbed variants with their original vs. separation of distinct prompts."""
    rng = random.Random(SEED)
    # Distinct human prompts: the harvest corpora hold real templates of their own, which would
    # count as false merges here.
    human = _one_per_template(sorted({r.text for r in recs if r.origin == "human"}))
    slotted = [t for t in human if re.search(r"\d|\"|[A-Z][a-z]+ [A-Z][a-z]+", t)]
    base = rng.sample(human, min(n, len(human)))
    kinds = {
        "slot refill": lambda t: _slots(t, rng),
        "case": lambda t: _case(t, rng),
        "whitespace": lambda t: _space(t, rng),
        "homoglyphs": lambda t: _homoglyph(t, rng),
        "zero-width": lambda t: _zero_width(t, rng),
        "light paraphrase (2 words)": lambda t: _paraphrase(t, rng, held["paraphrase_synonyms"]),
        "all of the above": lambda t: _zero_width(
            _homoglyph(_space(_case(_slots(t, rng), rng), rng), rng), rng
        ),
    }
    rows = []
    for kind, fn in kinds.items():
        originals = rng.sample(slotted, min(n, len(slotted))) if kind == "slot refill" else base
        variants = [fn(t) for t in originals]
        changed = [(o, v) for o, v in zip(originals, variants, strict=True) if o != v]
        texts = [o for o, _ in changed] + [v for _, v in changed]
        sig, tmpl = _templates_of(texts)
        skel = sig.column("skeleton_hash").to_pylist()
        m = len(changed)
        exact = sum(skel[i] == skel[m + i] and skel[i] is not None for i in range(m)) / m
        grouped = sum(tmpl[i] == tmpl[m + i] and tmpl[i] is not None for i in range(m)) / m
        # precision over all pairs of the set: predicted pairs (same template) that are true pairs
        prec_exact, prec_tmpl = _pair_precision(skel, m), _pair_precision(tmpl, m)
        rows.append(f"| {kind} | {m} | {exact:.3f} | {prec_exact:.3f} | {grouped:.3f} | {prec_tmpl:.3f} |")
    return rows


def _pair_precision(groups: list[str | None], m: int) -> float:
    """Share of same-group pairs that are (original, its variant); the set holds 2m rows."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        if g is not None:
            members[g].append(i)
    predicted = true = 0
    for idx in members.values():
        k = len(idx)
        predicted += k * (k - 1) // 2
        s = set(idx)
        true += sum(1 for i in idx if i < m and i + m in s)
    return true / predicted if predicted else float("nan")


def _pairs_together(groups: list[str | None], labels: list[int]) -> tuple[int, int, int, int]:
    """(same-label pairs, of them put together, pairs put together, of them different labels)."""
    by_label: dict[int, list[str | None]] = defaultdict(list)
    for g, lab in zip(groups, labels, strict=True):
        by_label[lab].append(g)
    same = sum(len(v) * (len(v) - 1) // 2 for v in by_label.values())
    same_together = sum(
        k * (k - 1) // 2 for v in by_label.values() for g, k in Counter(v).items() if g is not None
    )
    together = sum(k * (k - 1) // 2 for g, k in Counter(groups).items() if g is not None)
    return same, same_together, together, together - same_together


def frame_tables(recs: list[Record], frames: dict, per_wrapper: int = 20) -> list[list[str]]:
    """Campaign wrappers around corpus prompts, and prompts that share only a short opening.

    Wrappers: every wrapper of the set around up to ``per_wrapper`` different prompts (human
    chat and self-instruct / alpaca prompts of the split, each used once), all wrappers of one
    length band grouped in one run; recall is the share of same-wrapper pairs put in one
    template, precision the share of pairs put together that are same-wrapper pairs. Openings:
    each opening before its own disjoint human prompts, grouped together with every other
    distinct human prompt of the split; any pair put together is a false merge.
    """
    rng = random.Random(SEED)
    content = sorted(
        {r.text for r in recs if (r.origin == "human" and r.task == "chat") or r.task == "general"} - {""}
    )
    content = [t for t in content if "{" not in t]
    wrap_rows = []
    for label, lo, hi in (
        ("short (< 80 chars)", 0, 80),
        ("medium (80-300)", 80, 300),
        ("long (> 300)", 300, 10**9),
    ):
        # Each prompt under one wrapper only: the same question under two wrappers is a
        # near-duplicate that band keys rightly group, which is not what is measured here.
        pool = [t for t in content if lo <= len(t) < hi]
        rng.shuffle(pool)
        per = min(per_wrapper, len(pool) // len(frames["wrappers"]))
        texts, labels = [], []
        for w, wrapper in enumerate(frames["wrappers"]):
            for p in pool[w * per : (w + 1) * per]:
                texts.append(wrapper.format(prompt=p, response=rng.choice(content)[:400]))
                labels.append(w)
        sig, tmpl = _templates_of(texts)
        skel = sig.column("skeleton_hash").to_pylist()
        same, same_t, tog, cross = _pairs_together(tmpl, labels)
        _, same_h, _, _ = _pairs_together(skel, labels)
        prec = (tog - cross) / tog if tog else float("nan")
        wrap_rows.append(
            f"| {label} | {len(frames['wrappers'])} | {same} | {same_h / same:.3f} | {same_t / same:.3f} | "
            f"{prec:.3f} |"
        )
    human = sorted({r.text for r in recs if r.origin == "human" and "{" not in r.text})
    rng.shuffle(human)
    texts, labels, k = [], [], 0
    for o, opening in enumerate(frames["openings"]):
        for p in human[k : k + per_wrapper]:
            texts.append(opening.format(prompt=p))
            labels.append(o)
        k += per_wrapper
    opened = len(texts)
    rest = human[k:]
    texts += rest
    labels += [-1 - i for i in range(len(rest))]  # each background prompt is its own
    _, tmpl = _templates_of(texts)
    same, same_t, tog, _ = _pairs_together(tmpl[:opened], labels[:opened])
    all_pairs = len(texts) * (len(texts) - 1) // 2
    _, _, tog_all, _ = _pairs_together(tmpl, labels)
    sizes = Counter(g for g in tmpl if g is not None).values()
    open_rows = [
        f"| same short opening, different prompts | {opened} | {same} | {same_t} | {same_t / same:.2e} |",
        f"| all distinct human prompts (with the opened ones) | {len(texts)} | {all_pairs} | {tog_all} | "
        f"{tog_all / all_pairs:.2e} (largest template {max(sizes)}) |",
    ]
    return [wrap_rows, open_rows]


MERGE_SETS = {
    "human chat (Open-Assistant, arena-hard)": lambda r: r.origin == "human" and r.task == "chat",
    "human tool (BFCL live, templated queries)": lambda r: r.origin == "human" and r.task == "tool",
    "harvest, all files (real templates inside)": lambda r: r.origin == "harvest",
}


def false_merge(recs: list[Record]) -> list[str]:
    """How distinct corpus prompts fall into skeletons and templates (pairs put together)."""
    rows = []
    for name, keep in MERGE_SETS.items():
        texts = sorted({r.text for r in recs if keep(r)})
        sig, tmpl = _templates_of(texts)
        for col, groups in (
            ("skeleton_hash", sig.column("skeleton_hash").to_pylist()),
            ("template_id", tmpl),
        ):
            sizes = Counter(g for g in groups if g is not None).values()
            pairs = sum(k * (k - 1) // 2 for k in sizes)
            rate = pairs / (len(texts) * (len(texts) - 1) // 2)
            rows.append(
                f"| {name} | {col} | {len(texts)} | {len(sizes)} | {max(sizes)} | {pairs} | {rate:.2e} |"
            )
    return rows


def speed(recs: list[Record], corpora: Path) -> list[str]:
    """CPU time (process_time: robust on a shared machine), best of three runs."""
    texts = [r.text for r in recs]
    table = pa.table({"user_text": pa.array(texts)})
    repeated = pa.table({"user_text": pa.array([texts[i % 1000] for i in range(len(texts))])})
    rows = []
    for label, tab in (("distinct prompts", table), ("1,000 distinct prompts repeated", repeated)):
        compute_signals(tab)
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            compute_signals(tab)
            best = min(best, time.process_time() - t0)
        rows.append(
            f"| compute_signals, {tab.num_rows} exchanges, {label} | {best / tab.num_rows * 1e6:.1f} µs |"
        )
    fast = []
    for t in texts[:3000]:
        t0 = time.process_time()
        score_prompt(t, None)
        fast.append((time.process_time() - t0) * 1e6)
    fast.sort()
    con = duckdb.connect()
    query = f"SELECT count(*), sum(length(text)) FROM read_json_auto('{corpora}/*.jsonl')"
    t0 = time.process_time()
    n = con.execute(query).fetchall()[0][0]
    parse = (time.process_time() - t0) / n * 1e6
    avg = statistics.mean(len(t) for t in texts)
    return [
        *rows,
        f"| score_prompt, median / p99 (prompts of mean {avg:.0f} chars) | "
        f"{statistics.median(fast):.0f} / {fast[int(0.99 * len(fast))]:.0f} µs |",
        f"| reference: DuckDB read_json_auto of the corpora (small records) | {parse:.1f} µs per record |",
        f"| fast-path search engine | {SEARCH_ENGINE} |",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    ap.add_argument("--split", choices=("dev", "eval"), default="eval")
    ap.add_argument("--phrasings", choices=tuple(PHRASINGS), default="heldout")
    ap.add_argument("--n", type=int, default=1000, help="prompts per wrapped / perturbed set")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    ap.add_argument(
        "--no-frames", action="store_true", help="templates from band keys only (the old grouping)"
    )
    ap.add_argument("--frame-min-words", type=int, default=None, help="override frames.MIN_FRAME_WORDS")
    ap.add_argument("--frame-min-df", type=int, default=None, help="override frames.MIN_FRAME_DF")
    ap.add_argument("--only-frames", action="store_true", help="print the frame tables only")
    args = ap.parse_args(argv)
    GROUPING["frames"] = not args.no_frames
    if args.frame_min_words is not None:
        GROUPING["frame_min_words"] = args.frame_min_words
    if args.frame_min_df is not None:
        GROUPING["frame_min_df"] = args.frame_min_df
    held = yaml.safe_load(PHRASINGS[args.phrasings].read_text(encoding="utf-8"))
    frames = yaml.safe_load(FRAMES.read_text(encoding="utf-8"))[
        "dev" if args.phrasings == "dev" else "heldout"
    ]
    recs = load(args.corpora, args.split)
    wrap_rows, open_rows = frame_tables(recs, frames)
    frame_lines = [
        "| wrapped prompts | wrappers | same-wrapper pairs | same skeleton_hash | same template_id | "
        "precision |",
        "| --- | --- | --- | --- | --- | --- |",
        *wrap_rows,
        "",
        "| prompts sharing only an opening | prompts | pairs | put together | rate |",
        "| --- | --- | --- | --- | --- |",
        *open_rows,
    ]
    if args.only_frames:
        print(f"split: {args.split}, frames: {'heldout' if args.phrasings != 'dev' else 'dev'}, {GROUPING}")
        print("\n".join(frame_lines))
        return 0
    lines = [
        f"split: {args.split} ({len(recs)} prompts), phrasings: {args.phrasings}, "
        f"threshold {THRESHOLD}, seed {SEED}, grouping {GROUPING}",
        "",
        "| signal | precision | recall | positives | negatives | false-positive rate per negative set |",
        "| --- | --- | --- | --- | --- | --- |",
        *content_tables(recs, held, args.n),
        "",
        "| capability | tag precision | tag recall | primary precision | primary recall | labelled | other |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *capability_table(recs),
        "",
        "| perturbation | pairs | same skeleton_hash | precision | same template_id | precision |",
        "| --- | --- | --- | --- | --- | --- |",
        *skeleton_table(recs, held, args.n),
        "",
        *frame_lines,
        "",
        "| distinct prompts | grouping | prompts | groups | largest | merged pairs | pairwise merge rate |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *false_merge(recs),
        "",
        "| speed (CPU time per exchange / call) | |",
        "| --- | --- |",
        *speed(recs, args.corpora),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
