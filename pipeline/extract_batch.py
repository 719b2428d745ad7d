"""`evidex extract --jsonl`: many texts in one process, so a script pays start-up once.

Each line of the input is a JSON object with an id and a text; each text is extracted
by the corpus runner's per-record function (`record.extract_record`: the same
reading and ids as a corpus run) and its measures are written at once, one JSON
object per line, so a caller can stream texts through one process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TextIO

from .compiled import CompiledRules
from .corpus import read_json_lines
from .record import extract_record


def extract_json_lines(lines: Iterable[bytes], out: TextIO, rules: CompiledRules, id_column: str, text_column: str,
                       report: Callable[[str], None]) -> int:
    """Write the measures of every record in `lines` to `out` as JSON Lines; `report`
    gets one message per bad record (line number, id, reason). Returns how many were bad."""
    bad = 0
    for record in read_json_lines(lines, id_column, text_column):
        if record.error is not None or record.id is None or record.text is None:
            bad += 1
            report(f"line {record.number}" + (f" ({record.id})" if record.id else "") + f": {record.error}")
            continue
        outcome, rows = extract_record(record.number, record.id, record.text, rules)
        if outcome.error is not None:
            bad += 1
            report(outcome.error)
            continue
        out.write("".join(json.dumps(m.model_dump(), ensure_ascii=False) + "\n" for m in rows["measures"]))
        out.flush()
    return bad
