"""The linker's literal prefilters never skip a regex that would have matched.

`Linker` skips a cue or arm regex on a stretch of text that holds none of the
literals derived from the pattern (`_needles`). That is only sound if every match
holds one of them: this checks it for every pattern of the project's rules on the
case sentences, as written and with their case changed (casefolding must find the
literals whatever the case).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
import yaml

from evidex.link import Linker, _Haystack
from evidex.prefilter import Trigger

CASE_DIRS = [Path(__file__).parent / "cases", Path(__file__).parent / "cases_heldout"]


def _texts() -> list[str]:
    texts = []
    for path in sorted(p for d in CASE_DIRS for p in d.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts += [case["text"] for case in data.get("cases") or [] if case.get("text")]
    return texts


def _gated_patterns(linker: Linker) -> list[tuple[str, object, Trigger]]:
    """(name, compiled pattern, needles) for every regex the linker gates by literals."""
    out = [(f"cue {cue.pattern}", pattern, needles) for pattern, cue, needles in linker.cue_res]
    out += [(f"tight left {cue.pattern}", pattern, needles) for pattern, cue, needles in linker.tight_left]
    out += [(f"tight left {cue.pattern}", pattern, linker.tight_left_needles) for pattern, cue, _ in linker.tight_left]
    out += [(f"persistence {pattern.pattern}", pattern, needles) for pattern, needles in linker.persistence]
    for name in ("comparator_re", "threshold_response", "threshold_phrase", "continuation", "clause_opener"):
        needles_name = name.removesuffix("_re") + "_needles"
        out.append((name, getattr(linker, name), getattr(linker, needles_name)))
    return out


@pytest.mark.parametrize("variant", [str, str.upper, str.swapcase])
def test_needles_admit_every_match(rules, variant):
    linker = Linker(rules)
    texts = [variant(t) for t in _texts()]
    assert texts
    for name, pattern, needles in _gated_patterns(linker):
        for text in texts:
            hay = _Haystack(text)
            for m in pattern.finditer(text):  # type: ignore[attr-defined]
                assert hay.may_match(needles, m.start(), m.end()), (name, text[m.start():m.end()])
            # Tight-left, continuation and persistence patterns end in "$": they read the text before a value.
            for number in regex.finditer(r"\d+", text):
                start = max(0, number.start() - 60)
                before = pattern.search(text[start:number.start()])  # type: ignore[attr-defined]
                if before:
                    assert hay.may_match(needles, start + before.start(), start + before.end()), (name, before.group())
