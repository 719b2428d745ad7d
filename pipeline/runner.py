"""`evidex run`: every `*.txt` under a raw directory → the tables in an output directory.

Order of work: load and validate the rules (refuse to run on invalid rules) → take the
output lock → finish or undo a publish a crashed run left (`pipeline.outdir.recover`) →
for each source in sorted order, reuse the cached result when the source bytes, the
rules, evidex's code and the library versions are unchanged, else ingest and process
it (a bad file is reported with file, line and problem, and the others still run) →
stream rows into staged tables → manifest, data package, change report → publish the
staged files by the journaled protocol of `pipeline.outdir`. A failure before the
journal is written leaves the previous outputs intact; one after it is completed by
the next run.

The manifest carries an index of the CSVs: each table's size and sha256 (`tables`) and,
per source, the byte range and sha256 of its rows in each CSV (`sources[src]["csv"]`).
The change report uses it to skip sources whose rows did not change (`pipeline.diff`).
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from . import __version__
from .build import SourceResult, process_parts
from .compiled import CompiledRules
from .diff import UnreadableTables, diff_dirs
from .digest import CODE_DIGEST
from .engines import Engine, LocalEngine, worker_rules
from .export import (
    TABLES,
    CsvSlice,
    RenderedRows,
    TableWriter,
    datapackage,
    dump_json,
    pack_into,
    render_records,
    unpack,
)
from .faults import die_at
from .history import record_history, rule_file_digests, stage_changes
from .ingest import InputError, list_sources, printable, read_source
from .models import MEASURE_TYPES, Measure, Study, Uncovered, arrow_schema
from .outdir import OutputError, OutputLock, Staging, recover
from .rulecache import RulesCache
from .rules import load_rules
from .spool import PageRows, SpoolError
from .workers import Workers

CACHE_DIR = ".cache"
LOCAL_ARTEFACTS = ("changes.json", "report.html")  # describe this run vs the previous local state


@dataclass
class SourceOutcome:
    source: str
    sha256: str | None = None
    size_bytes: int | None = None
    encoding: str | None = None
    layout: str | None = None
    blocks: int = 0
    measures: int = 0
    uncovered: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    cached: bool = False


@dataclass
class RunSummary:
    out_dir: Path
    outcomes: list[SourceOutcome]
    rules_sha256: str
    changes: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)  # about the run, not one source

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.error]

    def totals(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for o in self.outcomes:
            c.update(o.by_type)
        return {t: c.get(t, 0) for t in MEASURE_TYPES}




def library_versions() -> str:
    """The versions of the libraries whose behaviour shapes a source's rows: spaCy
    (tokens), regex (every rule), pyarrow (the cached Arrow tables). Read at each call,
    so an upgrade inside a long-lived process is seen too."""
    import pyarrow
    import regex
    import spacy

    return f"spacy {spacy.__version__}; regex {regex.__version__}; pyarrow {pyarrow.__version__}"


def _cache_key(source: str, sha256: str, rules: CompiledRules, libraries: str | None = None) -> str:
    """The cache entry name of one source's result: its path, the sha256 of the bytes
    that were processed, the rules, evidex's own code and the library versions
    (`library_versions()` unless given)."""
    if libraries is None:
        libraries = library_versions()
    return hashlib.sha256(f"{source}\0{sha256}\0{rules.digest}\0{CODE_DIGEST}\0{libraries}".encode()).hexdigest()


Tables = dict[str, RenderedRows]  # one source's rows, per table
Rows = Tables | PageRows  # in memory, or spooled part by part (a page of several parts)


def _rendered(result: SourceResult) -> Tables:
    records: dict[str, Sequence[BaseModel]] = {"studies": result.studies, "measures": result.measures, "uncovered": result.uncovered}
    return {name: render_records(rows, TABLES[name][0]) for name, rows in records.items()}


@contextmanager
def _long_lived(rules: CompiledRules) -> Iterator[None]:
    """Keep the garbage collector off the compiled rules (and off everything else
    alive now) while the sources are processed.

    The compiled rules, automata and spaCy vocabulary are ~100k tracked objects that
    live for the whole run; each full collection walked them all (about 2.5% of a
    run's time; docs/performance.md). `gc.freeze()` moves them out of the collector's
    generations; `gc.unfreeze()` hands them back afterwards, so a library caller's
    objects become collectable again. A process that froze objects itself is left
    as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _process_path(path: str, raw_dir: str) -> tuple[SourceOutcome, Rows | None]:
    """A pool worker's task: `process_file` with the rules the worker loaded once."""
    die_at("worker", Path(path).relative_to(raw_dir).as_posix())
    return process_file(Path(path), Path(raw_dir), worker_rules())


def process_file(path: Path, raw_dir: Path, rules: CompiledRules, spool_dir: Path | None = None
                 ) -> tuple[SourceOutcome, Rows | None]:
    """Ingest and process one file; errors become the outcome's `error`, never an exception.

    Returns the outcome and the source's rows: rendered in memory (`Tables`) when the page
    is one part (`build.BLOCKS_PER_PART` blocks or fewer) or `spool_dir` is None, else a
    `PageRows` whose parts were spooled to anonymous files in `spool_dir` as each was
    rendered, so at most one part's rendered rows are in memory. None when it failed.
    """
    try:
        src = read_source(path, raw_dir)
    except InputError as err:
        return SourceOutcome(source=err.path, error=str(err)), None
    outcome = SourceOutcome(source=src.source, sha256=src.sha256, size_bytes=src.size_bytes, encoding=src.encoding,
                            warnings=list(src.warnings))
    parts: dict[str, list[RenderedRows]] = {name: [] for name in TABLES}
    page: PageRows | None = None
    warnings: list[str] = []
    try:
        # Rows are rendered part by part and their models dropped; a page of several
        # parts spools each rendered part too (docs/reliability.md, Limits).
        for part in process_parts(src.source, src.text, rules):
            outcome.layout = part.layout
            warnings += part.warnings
            if page is None and part.parts > 1 and spool_dir is not None:
                page = PageRows(spool_dir)
            rendered = _rendered(part)
            del part
            if page is not None:
                page.add(rendered)
            else:
                for name, rows in rendered.items():
                    parts[name].append(rows)
            del rendered
        if page is not None:
            page.finish()
    except SpoolError:  # the output directory is full or not writable: the run's error, not the page's
        if page is not None:
            page.close()
        raise
    except Exception as err:  # noqa: BLE001 - one bad page must not stop the others
        outcome.error = f"{src.source}: internal error while processing: {type(err).__name__}: {err}"
        if page is not None:
            page.close()
        return outcome, None
    outcome.warnings += warnings
    if page is not None:
        return outcome, page
    return outcome, {name: _joined(rendered) for name, rendered in parts.items()}


def _joined(parts: list[RenderedRows]) -> RenderedRows:
    """One table's rows of a page from its parts' (the same CSV text and values)."""
    if len(parts) == 1:
        return parts[0]
    import pyarrow as pa

    return RenderedRows("".join(p.csv for p in parts), pa.concat_tables([p.table for p in parts]))


def _fill_counts(outcome: SourceOutcome, tables: Rows) -> None:
    if isinstance(tables, PageRows):
        outcome.blocks, outcome.measures, outcome.uncovered = (tables.rows(name) for name in TABLES)
        c = tables.by_type
    else:
        outcome.blocks = tables["studies"].rows
        outcome.measures = tables["measures"].rows
        outcome.uncovered = tables["uncovered"].rows
        c = Counter(tables["measures"].table.column("type").to_pylist())
    outcome.by_type = {t: c[t] for t in MEASURE_TYPES if c.get(t)}


def _write_rows(writers: dict[str, TableWriter], tables: Rows) -> dict[str, CsvSlice]:
    """One source's rows into the staged tables; returns where they went in each CSV."""
    if isinstance(tables, PageRows):
        return {name: writer.write_spooled(tables.csv_chunks(name), tables.rows(name), partial(tables.take_table, name))
                for name, writer in writers.items()}
    return {name: writer.write_rendered(tables[name]) for name, writer in writers.items()}


def _source_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _results(paths: list[Path], raw_dir: Path, rules: CompiledRules, cache_dir: Path | None, jobs: int, read_cache: bool = True,
             engine: Engine | None = None, warnings: list[str] | None = None, spool_dir: Path | None = None
             ) -> Generator[tuple[SourceOutcome, Rows | None], None, None]:
    """Outcomes in source order; cached ones are read back (unless read_cache is off), the rest
    processed here, in `jobs` local processes, or on `engine`'s workers (e.g. Dask).

    A source's result is cached under the sha256 of the bytes it was processed from
    (`SourceOutcome.sha256`, computed by `read_source` from its one read of the file),
    never under the digest taken here to look the cache up: a file edited in between
    is then stored under its new content, and the old digest's entry stays true.
    `warnings` receives what the run as a whole should say (a worker that died).
    A page of several parts processed here is spooled to `spool_dir` (`process_file`).
    """
    libraries = library_versions()
    todo: list[tuple[int, Path]] = []
    cached: dict[int, Path] = {}  # read when its turn comes: memory stays flat in N
    for i, path in enumerate(paths):
        if cache_dir is not None and read_cache:
            try:
                rel = path.relative_to(raw_dir).as_posix()
                hit = cache_dir / f"{_cache_key(rel, _source_digest(path), rules, libraries)}.bin"
                if hit.exists():
                    cached[i] = hit
                    continue
            except (OSError, UnicodeEncodeError):
                pass  # unreadable file or name: process it normally (and report it)
        todo.append((i, path))

    def load(i: int) -> tuple[SourceOutcome, Tables] | None:
        try:
            header, arrow_tables = unpack(cached.pop(i).read_bytes())
            outcome = SourceOutcome(**header["outcome"])
            tables = {name: RenderedRows(header["csv"][name], table) for name, table in zip(TABLES, arrow_tables, strict=True)}
            if any(not t.table.schema.equals(arrow_schema(TABLES[name][0])) for name, t in tables.items()):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a bad cache entry: process the source again
        outcome.cached = True
        return outcome, tables

    def store(outcome: SourceOutcome, tables: Rows | None) -> None:
        if cache_dir is None or tables is None or outcome.sha256 is None:
            return
        key = _cache_key(outcome.source, outcome.sha256, rules, libraries)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{key}.tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as fh:  # streamed: the entry is never one byte string in memory
                if isinstance(tables, PageRows):
                    tables.pack_into(fh, outcome.__dict__ | {"cached": False})
                else:
                    header = {"outcome": outcome.__dict__ | {"cached": False},
                              "csv": {name: t.csv for name, t in tables.items()}}
                    pack_into(fh, header, [tables[name].table for name in TABLES])
            os.replace(tmp, cache_dir / f"{key}.bin")
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    path_of = dict(enumerate(paths))

    def inline(i: int) -> tuple[SourceOutcome, Rows | None]:
        outcome, tables = process_file(path_of[i], raw_dir, rules, spool_dir)
        store(outcome, tables)
        return outcome, tables

    if (engine is not None and todo) or (jobs > 1 and len(todo) > 1):
        with Workers(engine or LocalEngine(jobs), rules, _process_path) as workers:
            window = max(2, workers.slots * 4)  # results ahead of the writer stay bounded
            todo_iter = iter(todo)
            for i in range(len(paths)):
                while len(workers) < window:
                    nxt = next(todo_iter, None)
                    if nxt is None:
                        break
                    workers.submit(nxt[0], str(nxt[1]), str(raw_dir))
                if i in cached:
                    yield load(i) or inline(i)
                    continue
                result, died = workers.result(i)
                if result is None:
                    rel = printable(path_of[i].relative_to(raw_dir).as_posix())
                    yield SourceOutcome(source=rel, error=f"{rel}: {died}"), None
                    continue
                store(*result)
                yield result
            if warnings is not None:
                warnings.extend(workers.warnings)
        return
    # Engines are built (and frozen) only when a source is processed here: a run that
    # finds every source cached needs none.
    with _long_lived(rules) if todo else nullcontext():
        for i in range(len(paths)):
            yield (load(i) if i in cached else None) or inline(i)


def manifest(outcomes: list[SourceOutcome], rules: CompiledRules, tables: dict[str, dict[str, Any]] | None = None,
             csv_index: dict[str, dict[str, CsvSlice]] | None = None, raw_dir: str | None = None) -> dict[str, Any]:
    """The run's manifest (JSON-ready; key order fixed, so the same run gives the same bytes).

    `tables` (table name → {"csv_bytes", "csv_sha256"}) and `csv_index` (source → table
    name → its `CsvSlice`) come from the `TableWriter`s; when given, they become the
    top-level `tables` entry and each source's `csv` entry. `raw_dir` (the raw directory
    relative to the output directory) lets `evidex report` find the pages.
    """
    totals: Counter[str] = Counter()
    for o in outcomes:
        totals.update(o.by_type)
    sources: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        if o.error:
            continue
        entry = sources[o.source] = {
            "sha256": o.sha256, "bytes": o.size_bytes, "encoding": o.encoding, "layout": o.layout,
            "blocks": o.blocks, "measures": o.measures, "uncovered": o.uncovered, "warnings": len(o.warnings)}
        if csv_index is not None and o.source in csv_index:
            entry["csv"] = {name: part.as_json() for name, part in csv_index[o.source].items()}
    return {
        "evidex_version": __version__,
        "rules_sha256": rules.digest,
        "rules_files": rule_file_digests(rules.rules_dir),
        **({"raw_dir": raw_dir} if raw_dir is not None else {}),
        **({"tables": tables} if tables is not None else {}),
        "sources": sources,
        "rejected": {o.source: o.error for o in outcomes if o.error},
        "totals": {"sources": sum(1 for o in outcomes if not o.error), "blocks": sum(o.blocks for o in outcomes),
                   "measures": sum(o.measures for o in outcomes), **{t: totals.get(t, 0) for t in MEASURE_TYPES}},
    }


def run(raw_dir: Path, out_dir: Path, rules_dir: Path | None = None, *, force: bool = False, jobs: int = 1,
        on_source: Callable[[SourceOutcome], None] | None = None, paths: list[Path] | None = None,
        fail_after_tables: bool = False, engine: Engine | None = None,
        rules_cache: RulesCache | None = None) -> RunSummary:
    """Process every source under raw_dir into out_dir; returns the run's summary.

    Raises RuleError (invalid rules), OutputBusy (another run holds out_dir) or
    OutputError (out_dir cannot be written: read-only, full, not permitted).
    `engine` (`pipeline.engines`) runs the extraction on its workers instead of `jobs`
    local processes; the tables are the same bytes either way. With `rules_cache`
    (`pipeline/rulecache.py`, as `evidex run` passes), rules validated before are loaded
    from its entry, here and in every worker; the tables are the same bytes.
    """
    rules = load_rules(rules_dir, cache=rules_cache)
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir}: raw directory not found")
    paths = sorted(paths if paths is not None else list_sources(raw_dir), key=lambda p: p.relative_to(raw_dir).as_posix())
    run_warnings: list[str] = []
    committed = False
    try:
        with OutputLock(out_dir):
            run_warnings += recover(out_dir)  # a crashed run's publish is finished or undone first
            staging = Staging(out_dir)
            try:
                outcomes, changes = _stage(paths, raw_dir, rules, out_dir, staging.path, jobs, force, on_source,
                                           fail_after_tables, run_warnings, engine)
                staging.publish()
                run_warnings += staging.warnings
                run_warnings += record_history(out_dir, changes)
            except BaseException:
                committed = staging.committed
                staging.discard()
                raise
    except OSError as err:  # read-only, full, not permitted: one line, not a traceback
        raise OutputError(out_dir, err, committed) from err
    return RunSummary(out_dir=out_dir, outcomes=outcomes, rules_sha256=rules.digest, changes=changes, warnings=run_warnings)


def _stage(paths: list[Path], raw_dir: Path, rules: CompiledRules, out_dir: Path, staged: Path, jobs: int, force: bool,
           on_source: Callable[[SourceOutcome], None] | None, fail_after_tables: bool, warnings: list[str],
           engine: Engine | None) -> tuple[list[SourceOutcome], dict[str, Any]]:
    """Write every output of the run into the staging directory `staged`; returns the
    outcomes and the change report against the outputs now in `out_dir`."""
    writers = {name: TableWriter(staged, name, model) for name, (model, _) in TABLES.items()}
    outcomes = []
    csv_index: dict[str, dict[str, CsvSlice]] = {}  # source → table → where its rows went
    # closing(): the generator's cleanup (unfreezing the collector) runs even if a write fails.
    with closing(_results(paths, raw_dir, rules, out_dir / CACHE_DIR, jobs, read_cache=not force,
                          engine=engine, warnings=warnings, spool_dir=staged)) as results:
        for outcome, tables in results:
            if tables is not None:
                _fill_counts(outcome, tables)
                csv_index[outcome.source] = _write_rows(writers, tables)
            del tables  # a spooled page's files go once its row groups are written
            outcomes.append(outcome)
            if on_source:
                on_source(outcome)
    for writer in writers.values():
        writer.close()
    if fail_after_tables:  # test hook: a crash after the tables are staged
        raise RuntimeError("injected failure after staging the tables")
    table_digests = {name: {"csv_bytes": w.csv_bytes, "csv_sha256": w.csv_sha256} for name, w in writers.items()}
    (staged / "manifest.json").write_text(dump_json(manifest(outcomes, rules, table_digests, csv_index,
                                                             os.path.relpath(raw_dir, out_dir))), encoding="utf-8")
    (staged / "datapackage.json").write_text(dump_json(datapackage()), encoding="utf-8")
    try:
        changes = diff_dirs(out_dir, staged)
    except UnreadableTables as err:
        # Damaged previous outputs must not block a new run: it replaces them, and
        # the change report says why it has nothing to compare.
        warnings.append(f"previous outputs unreadable, treated as no previous run: {err}")
        changes = {"error": f"previous outputs unreadable, nothing compared: {err}",
                   "summary": {}, "changed": None, "studies": [], "measures": []}
    changes["old"], changes["new"] = "previous run", "this run"
    stage_changes(out_dir, staged, changes, rules.rules_dir)
    return outcomes, changes


_Row = TypeVar("_Row", bound=BaseModel)


def read_tables(out_dir: Path) -> tuple[list[Study], list[Measure], list[Uncovered]]:
    """Read the Parquet tables back into models (for eval and report)."""
    import pyarrow.parquet as pq

    def load(name: str, model: type[_Row]) -> list[_Row]:
        path = out_dir / f"{name}.parquet"
        if not path.exists():
            return []
        return [model.model_construct(**row) for row in pq.read_table(path).to_pylist()]

    return load("studies", Study), load("measures", Measure), load("uncovered", Uncovered)
