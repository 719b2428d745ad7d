"""Stage 6 — export: rows → `extracted/*.csv` + `*.parquet`, atomically and deterministically.

`TableWriter` streams rows of one model into a CSV and a Parquet file (explicit Arrow
schema from the model, so an all-null column keeps its type) in a staging directory,
which `pipeline.outdir` publishes (and locks) by its crash-safe protocol.

CSV format: UTF-8, header row, `,` separator, `\\n` line ends, empty cell for null,
`true`/`false` for booleans, floats in Python's shortest round-trip form.

While writing, `TableWriter` records where each source's rows sit in the CSV (byte
offset, length, sha256) and the whole file's size and sha256; the runner puts that
index into `manifest.json`, and `pipeline.diff` uses it to skip unchanged sources.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from . import __version__
from .models import (
    CONDITIONS,
    MEASURE_TYPES,
    ROUTE_CODES,
    SCHEMA_VERSION,
    Measure,
    Study,
    Uncovered,
    arrow_schema,
    json_schema,
    table_schema,
)

TABLES: dict[str, tuple[type[BaseModel], str]] = {
    "studies": (Study, "study_id"),
    "measures": (Measure, "measure_id"),
    "uncovered": (Uncovered, ""),
}
ROW_GROUP = 10_000  # rows buffered per Parquet row group: bounds memory
# Spooled pages whose Arrow table a TableWriter waits to read until its row group is
# written; beyond this the oldest is read now (fewer than ROW_GROUP rows are buffered,
# so it is small), which closes its file: open files stay bounded however many pages
# of few rows in this table come before the row group fills.
MAX_DEFERRED = 8


def csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


@dataclass
class RenderedRows:
    """One source's rows of one table, ready to write: the CSV text and an Arrow table.

    Rendered once, when the source is processed, and kept in the run cache, so a
    re-run copies unchanged sources' rows instead of formatting them again.
    """

    csv: str
    table: pa.Table

    @property
    def rows(self) -> int:
        return self.table.num_rows


def render(rows: list[dict[str, Any]], model: type[BaseModel]) -> RenderedRows:
    """Rows (dicts in model field order) → CSV lines in the format above plus an Arrow table."""
    return render_columns({c: [row[c] for row in rows] for c in model.model_fields}, model)


def render_records(records: Sequence[BaseModel], model: type[BaseModel]) -> RenderedRows:
    """Validated records of `model` → the same as `render` of their dumps, read column by
    column from the attributes (the models have no custom serializers; a test checks)."""
    return render_columns({c: [getattr(r, c) for r in records] for c in model.model_fields}, model)


def render_columns(columns: dict[str, list[Any]], model: type[BaseModel]) -> RenderedRows:
    """Columns (lists in model field order) → CSV lines plus an Arrow table."""
    schema = arrow_schema(model)
    cells = [_csv_column(values, schema.field(name).type) for name, values in columns.items()]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(*cells, strict=True))
    return RenderedRows(buf.getvalue(), pa.Table.from_pydict(columns, schema=schema))


def _csv_column(values: list[Any], arrow_type: pa.DataType) -> list[str]:
    """`csv_cell` of every value, with the type test done once per column where the schema
    fixes it (validated models hold exactly their field types)."""
    if arrow_type == pa.string():
        return ["" if v is None else v if type(v) is str else csv_cell(v) for v in values]
    if arrow_type == pa.float64():
        return ["" if v is None else repr(v) if type(v) is float else csv_cell(v) for v in values]
    return [csv_cell(v) for v in values]


def pack_into(fh: BinaryIO, header: dict[str, Any], tables: list[pa.Table]) -> None:
    """Write a JSON header and Arrow tables to `fh` in the run cache's entry format: each
    part as its 8-byte little-endian length and its bytes. Each part goes to the file as
    soon as it is made, and an Arrow stream straight from Arrow's buffer, so the entry is
    never held whole (for a page of short rows it is ~25 times the page)."""
    data = json.dumps(header, ensure_ascii=False).encode("utf-8")
    fh.write(len(data).to_bytes(8, "little"))
    fh.write(data)
    del data
    for table in tables:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as stream:
            stream.write_table(table)
        buf = sink.getvalue()
        fh.write(buf.size.to_bytes(8, "little"))
        fh.write(memoryview(buf))


def pack(header: dict[str, Any], tables: list[pa.Table]) -> bytes:
    """`pack_into` as one byte string."""
    out = io.BytesIO()
    pack_into(out, header, tables)
    return out.getvalue()


def unpack(data: bytes) -> tuple[dict[str, Any], list[pa.Table]]:
    """Inverse of `pack`; raises ValueError on a truncated or damaged entry."""
    parts, pos = [], 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 8], "little")
        if size <= 0 or pos + 8 + size > len(data):
            raise ValueError("truncated cache entry")
        parts.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size
    if not parts:
        raise ValueError("empty cache entry")
    try:
        tables = [pa.ipc.open_stream(pa.py_buffer(part)).read_all() for part in parts[1:]]
    except pa.ArrowInvalid as err:
        raise ValueError(f"damaged cache entry: {err}") from err
    return json.loads(parts[0].decode("utf-8")), tables


@dataclass(frozen=True)
class CsvSlice:
    """Where one `write_rendered` call's rows sit in a CSV: bytes [offset, offset + size)."""

    offset: int
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"offset": self.offset, "bytes": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> CsvSlice:
        """Inverse of `as_json` (as read back from a manifest); raises KeyError,
        TypeError or ValueError on a malformed entry."""
        return cls(int(entry["offset"]), int(entry["bytes"]), str(entry["sha256"]))


class TableWriter:
    """Stream rows of one model to <name>.csv and <name>.parquet.

    The CSV is written as UTF-8 bytes so that byte offsets are known exactly:
    `write_rendered` returns each call's `CsvSlice`, and `csv_bytes` / `csv_sha256`
    describe the whole file (header included) once it is closed.
    """

    def __init__(self, directory: Path, name: str, model: type[BaseModel]):
        self.model = model
        self.schema = arrow_schema(model)
        self.csv_path = directory / f"{name}.csv"
        self.parquet_path = directory / f"{name}.parquet"
        self._csv = open(self.csv_path, "wb")  # noqa: SIM115 - closed in close()
        self._csv_hash = hashlib.sha256()
        self.csv_bytes = 0
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(list(model.model_fields))
        self._write_csv(header.getvalue().encode("utf-8"))
        self._parquet = pq.ParquetWriter(self.parquet_path, self.schema, compression="zstd")
        # A row group's rows until it is written: tables, or loaders of a spooled page's
        # table (read back only then, so a large page's Arrow rows are not held meanwhile).
        self._buffer: list[pa.Table | Callable[[], pa.Table]] = []
        self._buffered = 0
        self.rows = 0

    @property
    def csv_sha256(self) -> str:
        """sha256 (hex) of the CSV bytes written so far, header included."""
        return self._csv_hash.hexdigest()

    def _write_csv(self, data: bytes) -> None:
        self._csv.write(data)
        self._csv_hash.update(data)
        self.csv_bytes += len(data)

    def write(self, rows: list[dict[str, Any]]) -> CsvSlice:
        """Append rows (dicts in model field order); returns where they went in the CSV."""
        return self.write_rendered(render(rows, self.model))

    def write_rendered(self, rendered: RenderedRows) -> CsvSlice:
        """Append one source's rendered rows; returns their byte range and sha256 in the CSV
        (an empty range at the current end when the source has no rows in this table)."""
        if not rendered.table.schema.equals(self.schema):
            raise ValueError(f"{self.parquet_path.name}: rows with another schema: {rendered.table.schema}")
        data = rendered.csv.encode("utf-8")
        written = CsvSlice(self.csv_bytes, len(data), hashlib.sha256(data).hexdigest())
        self._write_csv(data)
        if rendered.rows:
            self._buffer.append(rendered.table)
        self._buffered += rendered.rows
        self.rows += rendered.rows
        if self._buffered >= ROW_GROUP:
            self._flush()
        return written

    def write_spooled(self, csv_chunks: Iterable[bytes], rows: int, load: Callable[[], pa.Table]) -> CsvSlice:
        """Append one source's rows given as its CSV bytes in chunks, its number of rows and
        a loader of its Arrow table (`spool.PageRows`); the same bytes in both files as
        `write_rendered` of the joined rows. The table is loaded when its row group is
        written, not before. Returns their byte range and sha256 in the CSV."""
        offset, digest = self.csv_bytes, hashlib.sha256()
        for chunk in csv_chunks:
            digest.update(chunk)
            self._write_csv(chunk)
        if rows:
            self._buffer.append(load)
            deferred = [i for i, t in enumerate(self._buffer) if not isinstance(t, pa.Table)]
            if len(deferred) > MAX_DEFERRED:
                oldest = self._buffer[deferred[0]]
                assert not isinstance(oldest, pa.Table)
                self._buffer[deferred[0]] = oldest()
        self._buffered += rows
        self.rows += rows
        if self._buffered >= ROW_GROUP:
            self._flush()
        return CsvSlice(offset, self.csv_bytes - offset, digest.hexdigest())

    def _flush(self) -> None:
        if self._buffered:
            tables = [t if isinstance(t, pa.Table) else t() for t in self._buffer]
            self._buffer = []
            for table in tables:
                if not table.schema.equals(self.schema):
                    raise ValueError(f"{self.parquet_path.name}: rows with another schema: {table.schema}")
            self._parquet.write_table(pa.concat_tables(tables).combine_chunks())
            self._buffered = 0

    def close(self) -> None:
        if self.rows == 0:
            # An empty table still gets one (empty) row group so readers see the schema.
            self._parquet.write_table(pa.Table.from_pylist([], schema=self.schema))
        self._flush()
        self._parquet.close()
        self._csv.close()


def datapackage() -> dict[str, Any]:
    """Frictionless Data Package describing the CSV tables (generated from the models)."""
    resources = []
    for name, (model, key) in TABLES.items():
        resources.append({
            "name": name,
            "path": f"{name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": True},
            "description": (model.__doc__ or "").strip(),
            "schema": table_schema(model, key or None),
        })
    return {
        "profile": "tabular-data-package",
        "name": "evidex-extracted",
        "title": "evidex: measures extracted from clinical-evidence pages",
        "version": f"{SCHEMA_VERSION}.0.0",
        "description": "Generated by evidex " + __version__ + ". Route codes: " + ", ".join(ROUTE_CODES)
        + ". Conditions: " + ", ".join(CONDITIONS) + ". Measure types: " + ", ".join(MEASURE_TYPES) + ".",
        "resources": resources,
    }


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_text_atomic(path: Path, content: str) -> None:
    """Write via a temp file in the same directory, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a file behind
        raise


def write_schema_docs(docs_dir: Path) -> None:
    """docs/schema.json, generated from the models."""
    write_text_atomic(docs_dir / "schema.json", dump_json(json_schema()))
