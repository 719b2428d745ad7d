"""Turn one annotator's reading of a pmc-dev abstract into a grounded gold file.

    .venv/bin/python tests/gold/pmc-dev/author.py PASS PMCID [PMCID ...] [--corpus DIR]

Reads `passes/<PASS>/<PMCID>.yaml`, written by a person reading the abstract against
ANNOTATION.md, and writes `passes/<PASS>/<PMCID>.jsonl` in SCHEMA's gold format. This
script only locates spans the annotator chose and validates them with the gold
models; it never looks at the pipeline's output. The YAML is:

    condition: depression            # ANNOTATION "Blocks": the abstract's subject
    measures:
      - type: response_rate
        text: "45%"                  # the span, exactly as written
        anchor: "response rate was 45% in"   # optional: a longer string, unique in
                                              # the file, that holds `text` once
        occurrence: 1                # optional: which occurrence of anchor (1-based)
        value: 45
        arm: sertraline
        timepoint_days: 56
        # any other measure column that applies: low, high, unit, label, approx,
        # bound, drug, numerator, denominator, ci_low, ci_high, p_value

Defaults: `unit` is `%` for rates and `day` for follow_up, `approx` false, the rest
null. A trial report is one study: its single block spans the whole text (first to
last non-blank character), with no title or conclusion cell.

`--unlabelled` also prints every number in the text that no labelled span covers, so
the annotator can confirm each was left out on purpose.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import regex
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from pipeline.gold import GoldBlock  # noqa: E402  (validation only: same models as SCHEMA)

DEFAULT_CORPUS = HERE.parents[3] / "shared" / "corpus" / "pmc-dev"
KEYS = ("type", "text", "char_start", "char_end", "value", "low", "high", "unit", "label", "approx",
        "bound", "arm", "drug", "timepoint_days", "numerator", "denominator", "ci_low", "ci_high",
        "p_value")
DEFAULT_UNIT = {"response_rate": "%", "remission_rate": "%", "other_rate": "%", "follow_up": "day"}
NUMBER = regex.compile(r"\d+(?:[.,·]\d+)*")


class AuthorError(Exception):
    pass


def source_text(path: Path) -> str:
    text = path.read_bytes().decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def locate(text: str, item: dict, where: str) -> int:
    """Offset of item['text'] inside its (unique, or numbered) anchor."""
    span = item["text"]
    anchor = item.get("anchor", span)
    if span not in anchor:
        raise AuthorError(f"{where}: text {span!r} is not inside anchor {anchor!r}")
    if anchor.count(span) != 1:
        raise AuthorError(f"{where}: text {span!r} occurs {anchor.count(span)} times in anchor {anchor!r}")
    hits = [m.start() for m in regex.finditer(regex.escape(anchor), text, overlapped=True)]
    occurrence = item.get("occurrence")
    if occurrence is None:
        if len(hits) != 1:
            raise AuthorError(f"{where}: anchor {anchor!r} occurs {len(hits)} times; "
                              "give a longer anchor or `occurrence: N`")
        return hits[0] + anchor.index(span)
    if not 1 <= occurrence <= len(hits):
        raise AuthorError(f"{where}: occurrence {occurrence} of {anchor!r}, but it occurs {len(hits)} times")
    return hits[occurrence - 1] + anchor.index(span)


def build(pmcid: str, spec: dict, text: str) -> dict:
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    measures = []
    for i, item in enumerate(spec.get("measures") or [], 1):
        where = f"{pmcid} measure {i} ({item.get('type')} {item.get('text')!r})"
        unknown = set(item) - set(KEYS) - {"anchor", "occurrence", "note"}
        if unknown:
            raise AuthorError(f"{where}: unknown keys {sorted(unknown)}")
        cs = locate(text, item, where)
        m = {k: None for k in KEYS}
        m.update(approx=False, unit=DEFAULT_UNIT.get(item["type"]))
        m.update({k: v for k, v in item.items() if k in KEYS})
        m.update(char_start=cs, char_end=cs + len(item["text"]))
        measures.append(m)
    measures.sort(key=lambda m: (m["char_start"], m["char_end"], m["type"]))
    block = {"block_index": 1, "char_start": start, "char_end": end, "title": None,
             "findings_start": start, "findings_end": end, "conclusion_start": None,
             "conclusion_end": None, "condition": spec.get("condition"), "measures": measures}
    try:
        GoldBlock.model_validate(block)
    except Exception as err:  # pydantic's message names the measure index and field
        raise AuthorError(f"{pmcid}: {err}") from err
    return block


def unlabelled(text: str, block: dict) -> list[str]:
    covered = [(m["char_start"], m["char_end"]) for m in block["measures"]]
    out = []
    for m in NUMBER.finditer(text):
        if not any(s < m.end() and m.start() < e for s, e in covered):
            line = text.count("\n", 0, m.start()) + 1
            ctx = text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
            out.append(f"  line {line}: {m.group()!r} … {ctx}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pass_name")
    ap.add_argument("pmcids", nargs="+")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--unlabelled", action="store_true")
    args = ap.parse_args()
    failed = 0
    for pmcid in args.pmcids:
        spec_path = HERE / "passes" / args.pass_name / f"{pmcid}.yaml"
        try:
            spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
            text = source_text(args.corpus / f"{pmcid}.txt")
            block = build(pmcid, spec, text)
        except (AuthorError, OSError, yaml.YAMLError) as err:
            print(f"FAIL {err}")
            failed += 1
            continue
        out = spec_path.with_suffix(".jsonl")
        out.write_text(json.dumps(block, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"ok   {pmcid}: {len(block['measures'])} measures -> {out.relative_to(HERE)}")
        if args.unlabelled:
            print("\n".join(unlabelled(text, block)))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
