"""Glue for `evidex eval`: find each corpus's gold and predictions, score, report per corpus.

A corpus (listed in `tests/gold/corpora.yaml`, see `load_corpora`) is a folder of source
texts and a folder of gold `<stem>.jsonl` files, optionally narrowed to one `split` of
the texts' `index.json`. Its predictions are either the extracted tables of a run over
`raw/` (`predictions: extracted`) or an in-memory extraction of each gold source with the
given rules (`predictions: extract`), through the same per-source function `evidex run`
uses. `run_eval_corpora` returns `{"corpora": {name: report}}`; a corpus whose texts are
absent is reported as skipped, with the reason, instead of scored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .eval import evaluate
from .gold import GoldBlock, GoldError, load_gold
from .ingest import list_sources, read_source
from .models import Measure, Study
from .rules import Rules
from .runner import read_tables

DEFAULT_CORPUS_ROOT = Path("../shared/corpus")


@dataclass(frozen=True)
class Corpus:
    """One scored corpus: where its texts and gold are, and how it gets predictions."""

    name: str
    texts: Path
    gold: Path
    predictions: str  # "extracted" | "extract"
    split: str | None = None
    tuning: bool = True
    about: str = ""
    texts_label: str = ""  # the texts folder as configured, for messages that must not vary by machine


def corpus_root(option: Path | None) -> Path:
    """The shared corpus folder: the option, else $EVIDEX_CORPUS, else ../shared/corpus."""
    if option is not None:
        return option
    env = os.environ.get("EVIDEX_CORPUS")
    return Path(env) if env else DEFAULT_CORPUS_ROOT


def load_corpora(config: Path, project_root: Path, shared_corpus: Path) -> list[Corpus]:
    """Parse corpora.yaml; paths are relative to project_root, `{corpus}` is shared_corpus."""
    try:
        entries = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise GoldError(config, None, None, f"cannot read the corpus list: {err}") from err
    if not isinstance(entries, list):
        raise GoldError(config, None, None, "the corpus list must be a YAML list of corpora")
    out = []
    for i, e in enumerate(entries):
        try:
            def path(key: str, e: dict = e) -> Path:
                p = Path(str(e[key]).replace("{corpus}", str(shared_corpus)))
                return p if p.is_absolute() else project_root / p

            if e["predictions"] not in ("extracted", "extract"):
                raise ValueError(f"predictions must be 'extracted' or 'extract', not {e['predictions']!r}")
            out.append(Corpus(name=e["name"], texts=path("texts"), gold=path("gold"),
                              predictions=e["predictions"], split=e.get("split"),
                              tuning=e.get("tuning", True), about=e.get("about", ""),
                              texts_label=str(e["texts"])))
        except (KeyError, TypeError, ValueError) as err:
            raise GoldError(config, None, f"corpus {i + 1}", f"bad entry: {err}") from err
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise GoldError(config, None, None, "corpus names must be unique")
    return out


def _split_of(texts: Path) -> dict[str, str]:
    """Source file name → split, from the texts' index.json (empty when there is none)."""
    index = texts / "index.json"
    if not index.exists():
        return {}
    return {e["file"]: e["split"] for e in json.loads(index.read_text(encoding="utf-8"))}


def load_gold_dir(gold_dir: Path, raw_dir: Path, split: str | None = None) -> dict[str, list[GoldBlock]]:
    """Gold blocks per source (path relative to raw_dir) for every gold file with a source.

    Every problem in every file is collected; one `GoldError` lists them all.
    """
    by_stem = {p.stem: p for p in list_sources(raw_dir)}
    splits = _split_of(raw_dir) if split else {}
    gold: dict[str, list[GoldBlock]] = {}
    problems: list[GoldError] = []
    for path in sorted(gold_dir.glob("*.jsonl")):
        src_path = by_stem.get(path.stem)
        if src_path is None:
            continue
        if split and splits.get(src_path.name) != split:
            continue
        src = read_source(src_path, raw_dir)
        try:
            gold[src.source] = load_gold(path, src.text)
        except GoldError as err:
            problems.append(err)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        first = problems[0]
        raise GoldError(first.path, first.line, first.field,
                        first.problem + "".join(f"\n  also {p}" for p in problems[1:]))
    return gold


def run_eval(gold_dir: Path, extracted_dir: Path, raw_dir: Path) -> dict[str, Any]:
    """Score the extracted tables of a run over raw_dir against the gold in gold_dir."""
    gold = load_gold_dir(gold_dir, raw_dir)
    studies, measures, _ = read_tables(extracted_dir)
    report = evaluate(gold, studies, measures)
    report["gold_sources"] = sorted(gold)
    return report


def _extract_sources(texts: Path, sources: list[str], rules: Rules) -> tuple[list[Study], list[Measure]]:
    from .build import process_text

    studies: list[Study] = []
    measures: list[Measure] = []
    for source in sources:
        src = read_source(texts / source, texts)
        result = process_text(src.source, src.text, rules)
        studies += result.studies
        measures += result.measures
    return studies, measures


def eval_corpus(corpus: Corpus, extracted_dir: Path, rules: Rules) -> dict[str, Any]:
    """One corpus's report (`evaluate`'s dict plus name, split and sources), or why it was skipped."""
    head: dict[str, Any] = {"about": corpus.about, "split": corpus.split, "tuning": corpus.tuning}
    if not corpus.texts.is_dir():
        return {**head, "skipped": f"texts folder {corpus.texts_label} not found (pass --corpus DIR or set EVIDEX_CORPUS)"}
    gold = load_gold_dir(corpus.gold, corpus.texts, corpus.split)
    if not gold:
        return {**head, "skipped": f"no gold for the texts in {corpus.texts_label}"}
    if corpus.predictions == "extracted":
        studies, measures, _ = read_tables(extracted_dir)
    else:
        studies, measures = _extract_sources(corpus.texts, sorted(gold), rules)
    report = evaluate(gold, studies, measures)
    return {**head, **report, "gold_sources": sorted(gold)}


def run_eval_corpora(corpora: list[Corpus], extracted_dir: Path, rules: Rules) -> dict[str, Any]:
    """Every corpus's report, keyed by name, in the order of the corpus list."""
    return {"corpora": {c.name: eval_corpus(c, extracted_dir, rules) for c in corpora}}
