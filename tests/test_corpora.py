"""Every gold corpus of tests/gold/corpora.yaml is scored and held to its ratchet.

The real-text corpus (pmc-dev) is read from ../shared/corpus (or $EVIDEX_CORPUS); its
tests skip with the reason when that folder is absent. Its `test` split is gated like
the others but is for measuring only: no rule is written from its individual errors.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from pipeline.evaluation import corpus_root, eval_corpus, load_corpora, load_gold_dir
from pipeline.gate import raised_baseline, ratchet_failures

from conftest import GOLD, ROOT

CORPORA = load_corpora(GOLD / "corpora.yaml", ROOT, corpus_root(None))
BASELINE = json.loads((GOLD / "baseline.json").read_text(encoding="utf-8"))
EXTRACTED_CORPORA = [c for c in CORPORA if c.predictions == "extract"]


def _need_texts(corpus):
    if not corpus.texts.is_dir():
        pytest.skip(f"{corpus.name}: texts folder {corpus.texts_label} not found (set EVIDEX_CORPUS)")


@pytest.fixture(scope="module")
def reports(rules, tmp_path_factory):
    return {c.name: eval_corpus(c, tmp_path_factory.mktemp("unused"), rules) for c in EXTRACTED_CORPORA}


def test_every_corpus_has_a_baseline():
    assert {c.name for c in CORPORA} <= set(BASELINE), "run `evidex eval --raise-baseline` to add new corpora"


@pytest.mark.parametrize("corpus", EXTRACTED_CORPORA, ids=lambda c: c.name)
def test_corpus_scores_hold_their_ratchet(reports, corpus):
    _need_texts(corpus)
    report = reports[corpus.name]
    assert "skipped" not in report, report.get("skipped")
    failures = ratchet_failures(report, BASELINE[corpus.name])
    assert not failures, "\n".join(failures)


def test_pmc_dev_gold_covers_all_60_abstracts_and_grounds():
    pmc = [c for c in CORPORA if c.name.startswith("pmc-dev/")]
    assert {c.split for c in pmc} == {"dev", "test"}
    _need_texts(pmc[0])
    index = json.loads((pmc[0].texts / "index.json").read_text(encoding="utf-8"))
    for entry in index:  # the gold's offsets are into exactly these bytes
        assert hashlib.sha256((pmc[0].texts / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    sizes = {c.split: len(load_gold_dir(c.gold, c.texts, c.split)) for c in pmc}
    assert sizes == {"dev": 40, "test": 20}
    assert sorted(p.stem + ".txt" for p in pmc[0].gold.glob("*.jsonl")) == sorted(e["file"] for e in index)


def test_the_ratchet_only_goes_up():
    report = {"per_type_f1": {"dose": 0.5}, "micro_core_f1": 0.9, "micro_all_f1": 0.9,
              "attributes": {"arm": 0.2}, "blocks": {"spans_accuracy": 1.0, "condition_accuracy": 0.5}}
    fake = {"per_type": {"dose": {"f1": 0.7}}, "micro_core": {"f1": 0.8}, "micro_all": {"f1": 0.95},
            "attributes": {"arm": {"accuracy": None}}, "blocks": {"spans_accuracy": 0.9, "condition_accuracy": 0.6}}
    raised = raised_baseline({"corpora": {"c": fake, "gone": {"skipped": "absent"}}}, {"c": report, "gone": report})
    assert raised["c"] == {"per_type_f1": {"dose": 0.7}, "micro_core_f1": 0.9, "micro_all_f1": 0.95,
                           "attributes": {"arm": 0.2}, "blocks": {"spans_accuracy": 1.0, "condition_accuracy": 0.6}}
    assert raised["gone"] == report
    assert ratchet_failures(fake, report) == ["micro core F1 dropped: 0.8 < baseline 0.9",
                                              "arm accuracy dropped: None < baseline 0.2",
                                              "blocks spans_accuracy dropped: 0.9 < baseline 1.0"]


def test_pmc_dev_gold_is_the_reconciliation_of_two_independent_passes():
    """The committed gold is exactly what reconcile.py makes of passes A and B and decisions.yaml."""
    import runpy

    pmc = GOLD / "pmc-dev"
    ns = runpy.run_path(str(pmc / "reconcile.py"))
    pmcids = sorted(p.stem for p in pmc.glob("*.jsonl"))
    merged, undecided, stale, _ = ns["reconcile"](pmcids)
    assert not undecided and not stale, undecided + stale
    for pmcid in pmcids:
        assert merged[pmcid] == json.loads((pmc / f"{pmcid}.jsonl").read_text(encoding="utf-8")), pmcid
