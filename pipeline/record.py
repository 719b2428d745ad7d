"""One corpus record → its rows: the per-source work of a corpus run and of `extract --jsonl`.

Pure and free of Arrow (so `evidex extract` starts without importing it): the text is
read per the offset rule, as its UTF-8 bytes would be from a file, and processed by
`process_text` with the record id as source and as the stem of every id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .build import process_text
from .compiled import CompiledRules
from .ingest import InputError, decode_source
from .models import MEASURE_TYPES

TABLE_NAMES = ("studies", "measures", "uncovered")  # the data tables a record has rows in


@dataclass
class RecordOutcome:
    """What became of one record (a row of the `records` table)."""

    record: int
    id: str | None
    sha256: str | None = None
    bytes: int | None = None
    layout: str | None = None
    blocks: int = 0
    measures: int = 0
    uncovered: int = 0
    warnings: str | None = None
    error: str | None = None
    key: str | None = None
    by_type: dict[str, int] = field(default_factory=dict)
    cached: bool = False


def extract_record(number: int, ident: str, text: str, rules: CompiledRules) -> tuple[RecordOutcome, dict[str, list[Any]]]:
    """One record → its outcome and its rows per data table (empty when it was rejected).

    The per-source work of a directory run: the text is read per the offset rule (as
    UTF-8 bytes would be) and processed with the record id as source and id stem.
    """
    outcome = RecordOutcome(record=number, id=ident)
    empty: dict[str, list[Any]] = {name: [] for name in TABLE_NAMES}
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as err:
        outcome.error = f"record {number} ({ident}): text is not valid Unicode ({err.reason})"
        return outcome, empty
    try:
        src = decode_source(data, ident)
    except InputError as err:
        outcome.error = f"record {number}: {err}"
        return outcome, empty
    outcome.sha256, outcome.bytes = src.sha256, src.size_bytes
    try:
        result = process_text(ident, src.text, rules, stem=ident)
    except Exception as err:  # noqa: BLE001 - one bad record must not stop the others
        outcome.error = f"record {number} ({ident}): internal error while processing: {type(err).__name__}: {err}"
        return outcome, empty
    warnings = [*src.warnings, *result.warnings]
    outcome.layout, outcome.warnings = result.layout, "\n".join(warnings) or None
    outcome.blocks, outcome.measures, outcome.uncovered = len(result.studies), len(result.measures), len(result.uncovered)
    counts: dict[str, int] = {}
    for m in result.measures:
        counts[m.type] = counts.get(m.type, 0) + 1
    outcome.by_type = {t: counts[t] for t in MEASURE_TYPES if t in counts}
    return outcome, {"studies": result.studies, "measures": result.measures, "uncovered": result.uncovered}
