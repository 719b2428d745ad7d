"""Corpus files: JSON Lines or Parquet, one record (one source) per line or row.

`read_corpus(path, id_column, text_column)` yields every record in file order as a
`Record`: its 1-based record number (the JSONL line, the Parquet row), its id as a
string and its text — or, for a bad record, `error` saying what is wrong (no text,
a text or id of the wrong type, a repeated id, a line that is not a JSON object). A
bad record never stops the others. Problems with the file as a whole (unreadable, not
Parquet, a missing column, a column of the wrong type) raise `CorpusError`.

The record id becomes the `source` of the record's rows and opens every id
(`<record id>-<hash>`, SCHEMA.md), so ids must be unique within the corpus and hold no
control characters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH = 4096  # rows read at a time: memory stays flat in the corpus size


class CorpusError(Exception):
    """The corpus file as a whole cannot be read (not a per-record problem)."""


@dataclass(frozen=True)
class Record:
    """One record of a corpus; `error` is set (and `text` is None) for a bad record."""

    number: int  # 1-based line (JSONL) or row (Parquet)
    id: str | None
    text: str | None
    error: str | None = None


def is_corpus_file(path: Path) -> bool:
    """True when `path` names a corpus file evidex reads (by suffix)."""
    return path.suffix.lower() in JSONL_SUFFIXES + PARQUET_SUFFIXES


def corpus_format(path: Path) -> str:
    """`jsonl` or `parquet`, from the file's suffix; CorpusError for anything else."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise CorpusError(f"{path}: not a corpus file (expected {', '.join(JSONL_SUFFIXES + PARQUET_SUFFIXES)})")


def _id_of(value: Any) -> tuple[str | None, str | None]:
    """A record's id as a string, or the problem with it."""
    if value is None:
        return None, "no id"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, f"id must be a string or an integer, not {type(value).__name__}"
    ident = str(value)
    if not ident.strip():
        return None, "empty id"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in ident):
        return None, "id holds a control character"
    return ident, None


def _text_of(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, "no text"
    if not isinstance(value, str):
        return None, f"text must be a string, not {type(value).__name__}"
    if not value.strip():
        return None, "no text (empty)"
    return value, None


def _records(rows: Iterator[tuple[int, Any, Any, str | None]]) -> Iterator[Record]:
    """(number, id value, text value, row problem) → Records, with repeated ids rejected."""
    seen: dict[str, int] = {}
    for number, id_value, text_value, problem in rows:
        ident, id_problem = (None, None) if problem else _id_of(id_value)
        text, text_problem = (None, None) if problem or id_problem else _text_of(text_value)
        if ident is not None and not (problem or id_problem or text_problem):
            first = seen.setdefault(ident, number)
            if first != number:
                problem = f"id {ident!r} repeats record {first}; ids must be unique"
        error = problem or id_problem or text_problem
        yield Record(number, ident, None if error else text, error)


def _json_lines(lines: Iterable[bytes], id_column: str, text_column: str, digest: Any
                ) -> Iterator[tuple[int, Any, Any, str | None]]:
    for number, line in enumerate(lines, start=1):
        digest.update(line)
        if not line.strip():
            yield number, None, None, "blank line"
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            yield number, None, None, f"not a JSON object: {err}"
            continue
        if not isinstance(obj, dict):
            yield number, None, None, f"not a JSON object: a {type(obj).__name__}"
            continue
        yield number, obj.get(id_column), obj.get(text_column), None


def _jsonl_rows(path: Path, id_column: str, text_column: str, digest: Any) -> Iterator[tuple[int, Any, Any, str | None]]:
    with open(path, "rb") as fh:
        yield from _json_lines(fh, id_column, text_column, digest)


def read_json_lines(lines: Iterable[bytes], id_column: str = "id", text_column: str = "text") -> Iterator[Record]:
    """Records from JSON Lines already open (e.g. standard input), one per line, lazily:
    each record is yielded as soon as its line is read."""
    return _records(_json_lines(lines, id_column, text_column, hashlib.sha256()))


def _parquet_rows(path: Path, id_column: str, text_column: str, digest: Any) -> Iterator[tuple[int, Any, Any, str | None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as err:
        raise CorpusError(f"{path}: not a readable Parquet file: {err}") from err
    schema = parquet.schema_arrow
    for column in (id_column, text_column):
        if schema.get_field_index(column) < 0:
            raise CorpusError(f"{path}: no column {column!r} (columns: {', '.join(schema.names)})")
    text_type = schema.field(text_column).type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
        raise CorpusError(f"{path}: text column {text_column!r} is {text_type}, not a string column")
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH, columns=[id_column, text_column]):
        for ident, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
            number += 1
            yield number, ident, text, None


class Corpus:
    """A corpus file to read once, in order: iterate for its records; `sha256` is the
    digest of the file's bytes once iteration has finished."""

    def __init__(self, path: Path, id_column: str = "id", text_column: str = "text"):
        self.path, self.id_column, self.text_column = Path(path), id_column, text_column
        self.format = corpus_format(self.path)
        if not self.path.is_file():
            raise CorpusError(f"{self.path}: corpus file not found")
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __iter__(self) -> Iterator[Record]:
        self._digest = hashlib.sha256()
        reader = _jsonl_rows if self.format == "jsonl" else _parquet_rows
        return _records(reader(self.path, self.id_column, self.text_column, self._digest))


def read_corpus(path: Path, id_column: str = "id", text_column: str = "text") -> Iterator[Record]:
    """Every record of a JSONL or Parquet corpus, in file order (see the module docstring)."""
    return iter(Corpus(path, id_column, text_column))
