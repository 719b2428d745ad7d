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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .compiled import CompiledRules
from .eval import evaluate
from .gold import GoldBlock, GoldError, combined, grounding_problems, read_gold
from .goldmove import Rebased, committed_versions, read_review, rebase_gold, review_path
from .ingest import list_sources, read_source
from .models import Measure, Study
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


@dataclass
class GoldSet:
    """A corpus's gold per source, carried to edited pages where needed.

    `rebased`: per source whose page changed since its gold was written, what was
    carried (`pipeline.goldmove.Rebased`); `stale`: every label awaiting review — those
    in edited text, and those `evidex gold rebase` already set aside in `review/`.
    """

    gold: dict[str, list[GoldBlock]]
    rebased: dict[str, Rebased] = field(default_factory=dict)
    stale: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # source -> its gold file


def load_gold_set(gold_dir: Path, raw_dir: Path, split: str | None = None, rules: CompiledRules | None = None) -> GoldSet:
    """Gold blocks per source (path relative to raw_dir) for every gold file with a source.

    A gold file whose spans do not ground in the source as it is now is carried from
    the committed version it grounds in (`pipeline.goldmove`): labels in unchanged text
    move to their new offsets, labels in edited text are listed as stale. Malformed
    gold — bad JSON, a bad field, or a span that grounds in no version of its source —
    is collected over every file; one `GoldError` lists every problem.
    """
    by_stem = {p.stem: p for p in list_sources(raw_dir)}
    splits = _split_of(raw_dir) if split else {}
    out = GoldSet({})
    problems: list[GoldError] = []
    for path in sorted(gold_dir.glob("*.jsonl")):
        src_path = by_stem.get(path.stem)
        if src_path is None:
            continue
        if split and splits.get(src_path.name) != split:
            continue
        src = read_source(src_path, raw_dir)
        blocks, bad = read_gold(path)
        if bad:
            problems += bad
            continue
        out.files[src.source] = path
        out.stale += [{**e, "gold_file": str(path), "review_file": str(review_path(path)), "from": "review"}
                      for e in read_review(path)]
        ungrounded = grounding_problems(path, blocks, src.text)
        if not ungrounded:
            out.gold[src.source] = [b for _, b in blocks]
            continue
        base = next(((commit, text) for commit, text in committed_versions(src_path)
                     if not grounding_problems(path, blocks, text)), None)
        if base is None:
            problems += [GoldError(p.path, p.line, p.field, p.problem + f" (nor in any committed version of {src.source})")
                         for p in ungrounded]
            continue
        if rules is None:
            from . import default_rules

            rules = default_rules()
        moved = rebase_gold(src.source, base[0], base[1], src.text, [b for _, b in blocks], rules)
        out.gold[src.source] = moved.blocks
        out.rebased[src.source] = moved
        out.stale += [{**st.as_json(), "gold_file": str(path), "from": "edited text"} for st in moved.stale]
    if problems:
        raise combined(problems)
    return out


def load_gold_dir(gold_dir: Path, raw_dir: Path, split: str | None = None, rules: CompiledRules | None = None) -> dict[str, list[GoldBlock]]:
    """The gold of `load_gold_set`, per source."""
    return load_gold_set(gold_dir, raw_dir, split, rules).gold


def _review_report(gold: GoldSet) -> dict[str, Any]:
    """The eval report's account of gold carried to edited pages (empty when none was)."""
    out: dict[str, Any] = {}
    if gold.rebased:
        out["gold_rebased"] = {src: r.summary() for src, r in sorted(gold.rebased.items())}
    if gold.stale:
        out["gold_stale"] = gold.stale
    return out


def run_eval(gold_dir: Path, extracted_dir: Path, raw_dir: Path) -> dict[str, Any]:
    """Score the extracted tables of a run over raw_dir against the gold in gold_dir."""
    gold = load_gold_set(gold_dir, raw_dir)
    studies, measures, _ = read_tables(extracted_dir)
    report = evaluate(gold.gold, studies, measures)
    report["gold_sources"] = sorted(gold.gold)
    return {**report, **_review_report(gold)}


def _extract_sources(texts: Path, sources: list[str], rules: CompiledRules) -> tuple[list[Study], list[Measure]]:
    from .build import process_text

    studies: list[Study] = []
    measures: list[Measure] = []
    for source in sources:
        src = read_source(texts / source, texts)
        result = process_text(src.source, src.text, rules)
        studies += result.studies
        measures += result.measures
    return studies, measures


def eval_corpus(corpus: Corpus, extracted_dir: Path, rules: CompiledRules) -> dict[str, Any]:
    """One corpus's report (`evaluate`'s dict plus name, split and sources), or why it was skipped."""
    head: dict[str, Any] = {"about": corpus.about, "split": corpus.split, "tuning": corpus.tuning}
    if not corpus.texts.is_dir():
        return {**head, "skipped": f"texts folder {corpus.texts_label} not found (pass --corpus DIR or set EVIDEX_CORPUS)"}
    gold_set = load_gold_set(corpus.gold, corpus.texts, corpus.split, rules)
    gold = gold_set.gold
    if not gold:
        return {**head, "skipped": f"no gold for the texts in {corpus.texts_label}"}
    if corpus.predictions == "extracted":
        studies, measures, _ = read_tables(extracted_dir)
    else:
        studies, measures = _extract_sources(corpus.texts, sorted(gold), rules)
    report = evaluate(gold, studies, measures)
    return {**head, **report, "gold_sources": sorted(gold), **_review_report(gold_set)}


def run_eval_corpora(corpora: list[Corpus], extracted_dir: Path, rules: CompiledRules) -> dict[str, Any]:
    """Every corpus's report, keyed by name, in the order of the corpus list."""
    return {"corpora": {c.name: eval_corpus(c, extracted_dir, rules) for c in corpora}}
