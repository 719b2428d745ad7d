"""A page's rendered rows spooled to disk part by part, so a page of many parts never
holds more than one part's rendered rows in memory (issue 21 item 11).

`evidex run` renders a page's rows `build.BLOCKS_PER_PART` blocks at a time. A page of
one part keeps its rows in memory as before; a page of several parts gives each part to
a `PageRows`, which writes it at once to anonymous temporary files — per table the CSV
bytes and an Arrow IPC stream — and keeps only counts. What it gives back is the same,
byte for byte, as the parts joined in memory (`runner._joined`): the same CSV text, and
the IPC stream `pa.ipc` writes for the concatenated table, whose chunks are the parts
(an empty part is a zero-row batch there unless no rows follow it, so an empty part's
batch is written only once a later part has rows). The run cache entry
(`PageRows.pack_into`, the format of `export.pack_into`) and the staged tables
(`export.TableWriter.write_spooled`) are written from these files; a table's files are
closed once its Arrow table has been read back (`take_table`).
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

import pyarrow as pa

from .export import TABLES, RenderedRows
from .models import arrow_schema

CHUNK = 1 << 20  # bytes read back at a time


class SpoolError(OSError):
    """A page's rows could not be spooled (its directory is full, read-only, not
    permitted): an error of the run's output, not of the page."""


def _spool_error(err: OSError, directory: Path | None) -> SpoolError:
    return SpoolError(err.errno, err.strerror or str(err), str(directory or tempfile.gettempdir()))


class _TableSpool:
    """One table's rows of one page: CSV bytes and an Arrow IPC stream, each in a file."""

    def __init__(self, directory: Path | None, schema: pa.Schema):
        self.schema = schema
        self.csv: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in close()
        self.arrow: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in close()
        self._stream = pa.ipc.new_stream(pa.PythonFile(self.arrow, mode="w"), schema)
        self._empty_parts = 0  # empty parts not yet written: a batch only if rows follow
        self.rows = 0

    def add(self, rendered: RenderedRows) -> None:
        if not rendered.table.schema.equals(self.schema):
            raise ValueError(f"rows with another schema: {rendered.table.schema}")
        self.csv.write(rendered.csv.encode("utf-8"))
        if rendered.rows == 0:
            self._empty_parts += 1
            return
        for _ in range(self._empty_parts):
            self._stream.write_batch(pa.RecordBatch.from_pylist([], schema=self.schema))
        self._empty_parts = 0
        self._stream.write_table(rendered.table)
        self.rows += rendered.rows

    def finish(self) -> None:
        self._stream.close()  # the end-of-stream marker
        self.csv.flush()
        self.arrow.flush()

    def close(self) -> None:
        self.csv.close()
        self.arrow.close()

    def take_table(self) -> pa.Table:
        """The rows as one Arrow table (chunked as the parts were); the files are closed."""
        self.csv.close()
        self.arrow.seek(0)
        data = self.arrow.read()
        self.arrow.close()
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    fh.seek(0)
    while chunk := fh.read(CHUNK):
        yield chunk


class PageRows:
    """One page's rendered rows of every table, taken part by part (`add`) and spooled to
    anonymous temporary files in `directory` (the system's temporary directory if None).
    Call `finish` after the last part; the files go when the object does (or `close`)."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self._tables: dict[str, _TableSpool] = {}
        try:
            for name, (model, _) in TABLES.items():
                self._tables[name] = _TableSpool(directory, arrow_schema(model))
        except OSError as err:
            self.close()
            raise _spool_error(err, directory) from err
        self.by_type: Counter[str] = Counter()  # measures per type

    def add(self, tables: dict[str, RenderedRows]) -> None:
        """Append one part's rendered rows (RenderedRows per table, page order); nothing of
        them is kept in memory. Raises SpoolError when the files cannot be written."""
        try:
            for name, rendered in tables.items():
                self._tables[name].add(rendered)
        except OSError as err:
            raise _spool_error(err, self.directory) from err
        self.by_type.update(tables["measures"].table.column("type").to_pylist())

    def finish(self) -> None:
        """After the last part: end each Arrow stream and flush the files (SpoolError if that fails)."""
        try:
            for spool in self._tables.values():
                spool.finish()
        except OSError as err:
            raise _spool_error(err, self.directory) from err

    def close(self) -> None:
        for spool in self._tables.values():
            spool.close()

    def rows(self, name: str) -> int:
        """Rows of table `name` on the page."""
        return self._tables[name].rows

    def csv_chunks(self, name: str) -> Iterator[bytes]:
        """Table `name`'s CSV text as UTF-8, in chunks of at most `CHUNK` bytes."""
        return _chunks(self._tables[name].csv)

    def take_table(self, name: str) -> pa.Table:
        """Table `name`'s rows as one Arrow table (chunked as the parts were), read once:
        that table's files are closed (its CSV can no longer be read)."""
        return self._tables[name].take_table()

    def pack_into(self, fh: BinaryIO, outcome: dict[str, Any]) -> None:
        """Write the run cache entry of this page with `outcome` to `fh` (a seekable file):
        the same bytes as `export.pack_into(fh, {"outcome": outcome, "csv": {name: csv}},
        tables)` with the joined rows, written from the spooled files a chunk at a time."""
        start = fh.tell()
        fh.write(bytes(8))  # the header's length, known once it is written
        size = fh.write(('{"outcome": ' + json.dumps(outcome, ensure_ascii=False) + ', "csv": {').encode("utf-8"))
        for i, name in enumerate(TABLES):
            size += fh.write((", " if i else "").encode("utf-8") + json.dumps(name).encode("utf-8") + b': "')
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in self.csv_chunks(name):
                # JSON escapes character by character: the escaped chunks join to the escaped whole.
                size += fh.write(json.dumps(decoder.decode(chunk), ensure_ascii=False)[1:-1].encode("utf-8"))
            decoder.decode(b"", final=True)
            size += fh.write(b'"')
        size += fh.write(b"}}")
        end = fh.tell()
        fh.seek(start)
        fh.write(size.to_bytes(8, "little"))
        fh.seek(end)
        for name in TABLES:
            arrow = self._tables[name].arrow
            fh.write(arrow.seek(0, 2).to_bytes(8, "little"))
            for chunk in _chunks(arrow):
                fh.write(chunk)

