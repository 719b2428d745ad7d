"""Gold files: load and validate `tests/gold/<stem>.jsonl` with the same models.

A gold line is one block (SCHEMA.md "Gold files"); its measures carry the measure
columns that apply. `load_gold(path, source_text)` validates every line — vocabularies,
ranges, required attributes, and that every span grounds in the source — and raises
`GoldError` naming the file, line and field of every problem (the first one's in its
attributes). `pipeline.goldmove` carries gold to an edited page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model, model_validator

from .models import CONDITIONS, LABELS_BY_TYPE, Measure, unit_problem


class GoldError(Exception):
    def __init__(self, path: Path | str, line: int | None, field: str | None, problem: str):
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {field + ': ' if field else ''}{problem}")


# Gold measures carry the measure columns that apply: derived from `Measure`, so the
# two can never disagree on a name, a type or a vocabulary.
_NOT_IN_GOLD = ("measure_id", "study_id", "source", "rule_id")
_REQUIRED_IN_GOLD = ("type", "text", "char_start", "char_end")
# name -> (annotation, default). Typed Any: mypy checks a `**` dict's values against
# create_model's own keyword parameters (`__config__`, `__doc__`, ...) too.
_gold_fields: dict[str, Any] = {
    name: (info.annotation, ... if name in _REQUIRED_IN_GOLD else (False if name == "approx" else None))
    for name, info in Measure.model_fields.items() if name not in _NOT_IN_GOLD
}
_GoldMeasureFields = create_model("_GoldMeasureFields", __config__=ConfigDict(extra="forbid"), **_gold_fields)


# mypy cannot follow a base class made at run time; its fields are Measure's (above).
class GoldMeasure(_GoldMeasureFields):  # type: ignore[misc, valid-type]
    """One hand-labelled measure (the `measures` columns that apply, SCHEMA.md "Gold files")."""

    @model_validator(mode="after")
    def _consistent(self) -> GoldMeasure:
        if self.char_end <= self.char_start:
            raise ValueError("char_end must be after char_start")
        allowed = LABELS_BY_TYPE.get(self.type)
        if allowed is None and self.label is not None:
            raise ValueError(f"label must be null for {self.type}")
        if allowed is not None and self.label not in allowed:
            raise ValueError(f"label {self.label!r} is not one of {', '.join(allowed)}")
        problem = unit_problem(self.type, self.unit)
        if problem:
            raise ValueError(problem)
        if self.drug is not None and self.type not in ("dose", "route"):
            raise ValueError(f"drug is only for dose and route, not {self.type}")
        if self.type != "route" and self.value is None and (self.low is None or self.high is None):
            raise ValueError("needs a value, or low and high")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"range out of order: low {self.low} > high {self.high}")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("ci_low and ci_high go together")
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("numerator and denominator go together")
        if self.type.endswith("_rate") and self.value is not None and not 0 <= self.value <= 100:
            raise ValueError(f"a rate is a percent 0–100, got {self.value}")
        return self


class GoldBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_index: int
    char_start: int
    char_end: int
    title: str | None
    findings_start: int
    findings_end: int
    conclusion_start: int | None
    conclusion_end: int | None
    condition: str
    measures: list[GoldMeasure]

    @model_validator(mode="after")
    def _consistent(self) -> GoldBlock:
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition {self.condition!r} is not one of {', '.join(CONDITIONS)}")
        if not self.char_start <= self.findings_start < self.findings_end <= self.char_end:
            raise ValueError("findings span must lie inside the block span")
        return self


def combined(problems: list[GoldError]) -> GoldError:
    """One GoldError that lists every problem: the first one's place, then `also …` lines."""
    first = problems[0]
    if len(problems) == 1:
        return first
    return GoldError(first.path, first.line, first.field,
                     first.problem + "".join(f"\n  also {p}" for p in problems[1:]))


def read_gold(path: Path) -> tuple[list[tuple[int, GoldBlock]], list[GoldError]]:
    """Parse and validate every line of a gold file, without its source text.

    Returns (line number, block) for each valid line and every problem found (JSON,
    schema, block order), not just the first.
    """
    blocks: list[tuple[int, GoldBlock]] = []
    problems: list[GoldError] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(GoldError(path, lineno, None, f"malformed JSON: {err.msg} (column {err.colno})"))
            continue
        try:
            block = GoldBlock.model_validate(raw)
        except ValidationError as err:
            for e in err.errors():
                loc = ".".join(str(p) for p in e["loc"]) or None
                got = f" (got {e['input']!r})" if e["type"] == "literal_error" else ""
                problems.append(GoldError(path, lineno, loc, e["msg"] + got))
            continue
        if blocks and block.block_index != blocks[-1][1].block_index + 1:
            problems.append(GoldError(path, lineno, "block_index", f"expected {blocks[-1][1].block_index + 1}"))
        blocks.append((lineno, block))
    return blocks, problems


def grounding_problems(path: Path, blocks: list[tuple[int, GoldBlock]], source_text: str) -> list[GoldError]:
    """Every span of the blocks that does not ground in `source_text` (measure text, a
    measure outside its block, a title that does not start its block)."""
    problems = []
    for lineno, block in blocks:
        for i, m in enumerate(block.measures):
            if source_text[m.char_start:m.char_end] != m.text:
                problems.append(GoldError(path, lineno, f"measures.{i}.text",
                                          f"does not ground: source[{m.char_start}:{m.char_end}] is "
                                          f"{source_text[m.char_start:m.char_end]!r}, not {m.text!r}"))
            if not (block.char_start <= m.char_start and m.char_end <= block.char_end):
                problems.append(GoldError(path, lineno, f"measures.{i}", "measure lies outside its block"))
        if block.title is not None and not source_text.startswith(block.title, block.char_start):
            problems.append(GoldError(path, lineno, "title", "title does not start the block span"))
    return problems


def load_gold(path: Path, source_text: str) -> list[GoldBlock]:
    """Parse and validate one gold file against its source text; a GoldError lists every problem."""
    blocks, problems = read_gold(path)
    problems += grounding_problems(path, blocks, source_text)
    if problems:
        raise combined(problems)
    return [b for _, b in blocks]
