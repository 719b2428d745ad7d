"""Every gold corpus of tests/gold/corpora.yaml is scored and held to its ratchet.

The real-text corpus (pmc-dev) is read from ../shared/corpus (or $EVIDEX_CORPUS); its
tests skip with the reason when that folder is absent. Its `test` split is gated like
the others but is for measuring only: no rule is written from its individual errors.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from evidex.evaluation import corpus_root, eval_corpus, load_corpora, load_gold_dir
from evidex.gate import raised_baseline, ratchet_failures

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


def _fake(dose_f1: float, dose_tp: int, arm_correct: int, tuning: bool = True) -> dict:
    return {"tuning": tuning, "per_type": {"dose": {"f1": dose_f1, "tp": dose_tp}}, "micro_core": {"f1": 0.8},
            "micro_all": {"f1": 0.95}, "attributes": {"arm": {"accuracy": arm_correct / 10, "correct": arm_correct}},
            "blocks": {"spans_accuracy": 0.9, "condition_accuracy": 0.6}}


def test_the_ratchet_only_goes_up():
    report = {"per_type_f1": {"dose": 0.5}, "per_type_tp": {"dose": 4}, "micro_core_f1": 0.9, "micro_all_f1": 0.9,
              "attributes_correct": {"arm": 2}, "blocks": {"spans_accuracy": 1.0, "condition_accuracy": 0.5}}
    fake = _fake(0.7, 3, 5)
    raised = raised_baseline({"corpora": {"c": fake, "gone": {"skipped": "absent"}}}, {"c": report, "gone": report})
    assert raised["c"] == {"per_type_f1": {"dose": 0.7}, "per_type_tp": {"dose": 4}, "micro_core_f1": 0.9, "micro_all_f1": 0.95,
                           "attributes_correct": {"arm": 5}, "blocks": {"spans_accuracy": 1.0, "condition_accuracy": 0.6}}
    assert raised["gone"] == report
    assert ratchet_failures(fake, report) == ["dose true positives dropped: 3 < baseline 4",
                                              "micro core F1 dropped: 0.8 < baseline 0.9",
                                              "blocks spans_accuracy dropped: 0.9 < baseline 1.0"]


def test_the_ratchet_holds_correct_attributes_not_their_ratio():
    base = {"per_type_f1": {"dose": 0.7}, "per_type_tp": {"dose": 3}, "micro_core_f1": 0.8, "micro_all_f1": 0.95,
            "attributes_correct": {"arm": 5}, "blocks": {"spans_accuracy": 0.9, "condition_accuracy": 0.6}}
    more_found = _fake(0.7, 3, 5)
    more_found["attributes"]["arm"]["accuracy"] = 0.1  # five right of fifty: more pairs, none turned wrong
    assert ratchet_failures(more_found, base) == []
    assert ratchet_failures(_fake(0.7, 3, 4), base) == ["arm correct dropped: 4 < baseline 5"]


def test_an_untuned_split_gates_micro_f1_and_true_positives_not_per_type_f1():
    base = {"per_type_f1": {"dose": 0.9}, "per_type_tp": {"dose": 3}, "micro_core_f1": 0.8, "micro_all_f1": 0.95,
            "attributes_correct": {"arm": 5}, "blocks": {"spans_accuracy": 0.9, "condition_accuracy": 0.6}}
    assert ratchet_failures(_fake(0.7, 3, 5, tuning=False), base) == []
    assert ratchet_failures(_fake(0.7, 3, 5, tuning=True), base) == ["dose F1 dropped: 0.7 < baseline 0.9"]
    assert ratchet_failures(_fake(0.7, 2, 5, tuning=False), base) == ["dose true positives dropped: 2 < baseline 3"]


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


DEV_KNOWN = (yaml.safe_load((GOLD / "pmc-dev" / "known_failures.yaml").read_text(encoding="utf-8")) or {}).get("failures") or []


def _dev_report(reports):
    corpus = next(c for c in EXTRACTED_CORPORA if c.name == "pmc-dev/dev")
    _need_texts(corpus)
    return reports[corpus.name]


def _keys(report, kind):
    return {(m["source"], m["type"], m["text"]) for m in report["misses" if kind == "miss" else "extras"]}


def test_dev_has_no_unlisted_misses_or_extras(reports):
    """Every dev error is listed with its reason in tests/gold/pmc-dev/known_failures.yaml."""
    report = _dev_report(reports)
    known = {(k["kind"], k["source"], k["type"], k["text"]) for k in DEV_KNOWN}
    unlisted = [(kind, *key) for kind in ("miss", "extra") for key in sorted(_keys(report, kind)) if (kind, *key) not in known]
    assert not unlisted, "unlisted dev misses/extras:\n" + "\n".join(map(str, unlisted))


@pytest.mark.parametrize("entry", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=k["reason"]),
                                                id=f"{k['kind']}:{k['source']}:{k['text']}") for k in DEV_KNOWN])
def test_dev_known_failure_still_fails(reports, entry):
    assert (entry["source"], entry["type"], entry["text"]) not in _keys(_dev_report(reports), entry["kind"])
