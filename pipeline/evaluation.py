"""Glue for `evidex eval`: find gold files for the extracted sources, score, format.

`run_eval(gold_dir, extracted_dir, raw_dir)` loads every `<stem>.jsonl` in gold_dir whose
source is in raw_dir, validates it, scores the extracted tables against it with
`pipeline.eval.evaluate`, and returns the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.eval import evaluate
from pipeline.gold import GoldBlock, load_gold
from pipeline.ingest import list_sources, read_source
from pipeline.runner import read_tables


def load_gold_dir(gold_dir: Path, raw_dir: Path) -> dict[str, list[GoldBlock]]:
    """Gold blocks per source (path relative to raw_dir) for every gold file with a source."""
    by_stem = {p.stem: p for p in list_sources(raw_dir)}
    gold: dict[str, list[GoldBlock]] = {}
    for path in sorted(gold_dir.glob("*.jsonl")):
        src_path = by_stem.get(path.stem)
        if src_path is None:
            continue
        src = read_source(src_path, raw_dir)
        gold[src.source] = load_gold(path, src.text)
    return gold


def run_eval(gold_dir: Path, extracted_dir: Path, raw_dir: Path) -> dict[str, Any]:
    gold = load_gold_dir(gold_dir, raw_dir)
    studies, measures, _ = read_tables(extracted_dir)
    report = evaluate(gold, studies, measures)
    report["gold_sources"] = sorted(gold)
    return report
