"""Data-driven extraction cases: invented sentences per type → expected records.

`tests/cases/<type>.yaml` holds cases written from ANNOTATION.md alone (not from
pipeline output). For each case the text is extracted as a one-paragraph source; the
measures of the case's `check_types` must be exactly the expected ones, in text order:
each expected span overlaps its prediction and every listed field is equal. Cases the
pipeline is known to get wrong are listed in `tests/cases/known_failures.yaml` and run
as xfail(strict=True).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evidex.build import process_text
from evidex.eval import agree

CASES_DIR = Path(__file__).parent / "cases"
# Batch 2 was written later by another annotator and first run untuned (docs/performance.md).
CASE_DIRS = (CASES_DIR, Path(__file__).parent / "cases_heldout")
KNOWN = {k["id"]: k["reason"] for k in (yaml.safe_load((CASES_DIR / "known_failures.yaml").read_text(encoding="utf-8")) or {}).get("failures") or []}


def _cases():
    for path in sorted(p for d in CASE_DIRS for p in d.glob("*.yaml")):
        if path.name == "known_failures.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[case["id"]])] if case["id"] in KNOWN else []
            yield pytest.param(data["type"], case, id=case["id"], marks=marks)


def _file_type(case: dict, file_type: str) -> str:
    return file_type if file_type != "mixed" else case["expect"][0]["type"] if case["expect"] else case["check_types"][0]


CASES = list(_cases())


def _same(expected, got) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and got is not None and not isinstance(got, str):
        return agree(float(expected), float(got))
    return expected == got


@pytest.mark.parametrize(("file_type", "case"), CASES)
def test_case(rules, file_type, case):
    text = case["text"]
    types = case.get("check_types") or [file_type]
    file_type = _file_type(case, file_type)
    got = [m for m in process_text("case.txt", text, rules).measures if m.type in types]
    expected = case["expect"] or []
    shown = [(m.type, m.text, m.value, m.low, m.high, m.label, m.arm, m.timepoint_days) for m in got]
    assert len(got) == len(expected), f"expected {len(expected)} measure(s) of {types}, got {shown}"
    for exp, m in zip(expected, got, strict=True):
        etype = exp.get("type", file_type)
        assert m.type == etype, f"{exp['text']!r}: type {m.type} != {etype}"
        start = text.find(exp["text"])
        assert start >= 0 and m.char_start < start + len(exp["text"]) and start < m.char_end, \
            f"span {m.text!r} does not overlap expected {exp['text']!r}"
        for field, value in exp.items():
            if field in ("text", "type"):
                continue
            assert _same(value, getattr(m, field)), f"{exp['text']!r}: {field} = {getattr(m, field)!r}, expected {value!r}"


def test_every_type_has_enough_cases():
    counts: dict[str, int] = {}
    for p in CASES:
        if p.values[0] != "mixed":
            counts[p.values[0]] = counts.get(p.values[0], 0) + 1
    assert len(counts) == 11 and min(counts.values()) >= 8, counts
