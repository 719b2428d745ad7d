"""Pages of many short rows (issue 21 item 11): a page's rows are rendered part by part,
and a page of several parts spools each rendered part to disk, so its memory is bounded
by one part's rows (and its segmentation), not by the page's; the bytes on disk — tables
and cache entry — are those of the page's rows joined in memory."""

from __future__ import annotations

import errno
import gc
import hashlib
import tracemalloc
import weakref

import pyarrow.parquet as pq
import pytest

from evidex import build, runner, spool
from evidex.build import process_parts, process_text
from evidex.export import TABLES, pack
from evidex.outdir import OutputError
from evidex.runner import _joined, _rendered, process_file, run
from evidex.spool import PageRows

from conftest import ROOT

HEADER = "Study\nFindings\nConclusion\n"


def short_rows(rows: int) -> str:
    """A page of `rows` short study rows (title, a rate with its time, a one-word conclusion)."""
    return HEADER + "".join(f"Trial {i}\nResponse {i % 90 + 5}% at {i % 12 + 1} weeks.\nWorked.\n" for i in range(rows))


def test_parts_join_to_exactly_process_text(rules):
    text = short_rows(230)
    whole = process_text("p.txt", text, rules)
    parts = list(process_parts("p.txt", text, rules, blocks_per_part=100))
    assert [len(p.studies) for p in parts] == [100, 100, 30]
    assert [s for p in parts for s in p.studies] == whole.studies
    assert [m for p in parts for m in p.measures] == whole.measures
    assert [u for p in parts for u in p.uncovered] == whole.uncovered
    assert [w for p in parts for w in p.warnings] == whole.warnings
    assert len(whole.measures) >= 400 and whole.uncovered


def test_a_page_rendered_in_parts_gives_the_same_tables(tmp_path, rules, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(short_rows(700), encoding="utf-8")
    outcome, tables = process_file(raw / "p.txt", raw, rules)
    whole = _rendered(process_text("p.txt", (raw / "p.txt").read_text(encoding="utf-8"), rules))
    assert tables is not None and outcome.error is None
    for name, rows in tables.items():
        assert rows.csv == whole[name].csv, name
        assert rows.table.equals(whole[name].table), name
    # and the published files are the same bytes as with the page in one part
    parted = run(raw, tmp_path / "parted", ROOT / "rules", force=True)
    monkeypatch.setattr(build, "BLOCKS_PER_PART", 10**9)
    single = run(raw, tmp_path / "single", ROOT / "rules", force=True)
    assert not parted.failed and not single.failed
    for name in ("studies.csv", "measures.csv", "uncovered.csv", "manifest.json", "studies.parquet", "measures.parquet"):
        a, b = (tmp_path / "parted" / name).read_bytes(), (tmp_path / "single" / name).read_bytes()
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), name
    assert pq.read_table(tmp_path / "parted" / "studies.parquet").num_rows == 700


def test_memory_per_source_byte_on_a_page_of_short_rows(tmp_path, rules):
    """Python memory at peak while one page of 2,000 short rows (110 kB) is processed and
    rendered: with the row models of all its blocks at once it was 323 bytes per source
    byte (tracemalloc; 2,500 for rows of a bare number); one part's at a time, 73."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text = short_rows(2000)
    (raw / "p.txt").write_text(text, encoding="utf-8")
    process_file(raw / "p.txt", raw, rules)  # warm up: imports and engines are not the page's memory
    gc.collect()
    tracemalloc.start()
    try:
        outcome, tables = process_file(raw / "p.txt", raw, rules)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.error is None and tables is not None and tables["studies"].rows == 2000
    per_byte = peak / len(text.encode("utf-8"))
    assert per_byte < 150, f"{per_byte:.0f} bytes of Python memory per source byte"


def _empty_and_full_parts(rules) -> list[dict]:
    """A page's rendered parts of 2 blocks each, whose measures and uncovered numbers are
    empty in the first part, in two parts in the middle and in the last ones."""
    plain, counted = "Trial\nNo values reported.\nWorked.\n", "Trial\nResponse 45% at 3 weeks (n 12).\nWorked.\n"
    text = HEADER + "".join(row * 2 for row in (plain, counted, plain, plain, counted, plain))
    parts = [_rendered(p) for p in process_parts("p.txt", text, rules, blocks_per_part=2)]
    assert [p["measures"].rows > 0 for p in parts] == [False, True, False, False, True, False, False]
    return parts


def test_spooled_rows_are_the_bytes_of_the_joined_rows(tmp_path, rules):
    """PageRows gives the same CSV, Arrow table and cache entry bytes as the parts joined in
    memory, with empty parts first, between and last (an empty part is a zero-row batch of
    the joined table's IPC stream only when rows follow it)."""
    parts = _empty_and_full_parts(rules)
    joined = {name: _joined([p[name] for p in parts]) for name in TABLES}
    page = PageRows(tmp_path)
    for part in parts:
        page.add(part)
    page.finish()
    outcome = {"source": "p.txt", "warnings": ["a \"quoted\"\nline"], "layout": "table"}
    expected = pack({"outcome": outcome, "csv": {name: t.csv for name, t in joined.items()}},
                    [joined[name].table for name in TABLES])
    with open(tmp_path / "entry.bin", "wb") as fh:
        fh.write(b"x" * 5)  # the entry need not start at the file's start
        page.pack_into(fh, outcome)
    assert (tmp_path / "entry.bin").read_bytes()[5:] == expected
    for name, rows in joined.items():
        assert b"".join(page.csv_chunks(name)).decode("utf-8") == rows.csv, name
        assert page.rows(name) == rows.rows, name
        assert page.take_table(name).equals(rows.table), name
    assert sum(page.by_type.values()) == joined["measures"].rows > 0
    assert not list(tmp_path.iterdir())[1:]  # the spool files have no names: only entry.bin is there


def test_a_page_of_several_parts_holds_one_part_s_rendered_rows(tmp_path, rules, monkeypatch):
    """While a page is processed by `evidex run`, its earlier parts' rendered rows (CSV text
    and Arrow tables) are gone when the next part is rendered: they were spooled. They
    used to be held until the page was written and cached (16 bytes per source byte)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(short_rows(700), encoding="utf-8")
    made: list[weakref.ref] = []
    alive: list[int] = []

    def tracked(part):
        alive.append(sum(1 for r in made if r() is not None))
        rendered = _rendered(part)
        made.extend(weakref.ref(x) for rows in rendered.values() for x in (rows, rows.table))
        return rendered

    monkeypatch.setattr(runner, "_rendered", tracked)
    summary = run(raw, tmp_path / "out", ROOT / "rules", force=True)
    assert not summary.failed and len(alive) == 3  # 700 blocks: parts of 256, 256 and 188
    assert alive == [0, 0, 0]
    # and the cache entry is the bytes of the page's rows joined in memory
    monkeypatch.setattr(runner, "_rendered", _rendered)
    outcome, tables = process_file(raw / "p.txt", raw, rules)
    assert isinstance(tables, dict)
    expected = pack({"outcome": outcome.__dict__ | {"cached": False}, "csv": {name: t.csv for name, t in tables.items()}},
                    [tables[name].table for name in TABLES])
    (entry,) = (tmp_path / "out" / ".cache").glob("*.bin")
    assert entry.read_bytes() == expected
    # a re-run reads that entry back: the same tables
    again = run(raw, tmp_path / "out", ROOT / "rules")
    assert again.outcomes[0].cached and again.outcomes[0].measures == summary.outcomes[0].measures == 1400


def test_a_page_that_cannot_be_spooled_is_the_run_s_output_error(tmp_path, monkeypatch):
    """A full or read-only output directory while a page is spooled fails the run with the
    one-line output error (nothing published), not that page as an internal error."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(short_rows(300), encoding="utf-8")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool.tempfile, "TemporaryFile", full)
    with pytest.raises(OutputError, match="No space left on device"):
        run(raw, tmp_path / "out", ROOT / "rules", force=True)
    assert not (tmp_path / "out" / "studies.csv").exists()


def test_spooled_pages_waiting_for_a_row_group_keep_few_files_open(tmp_path, rules, monkeypatch):
    """A table of few rows per page fills its row group only after many pages: the pages
    it waits on are read in (and their files closed) beyond `MAX_DEFERRED`, so a run of
    many pages of several parts does not run out of file descriptors."""
    from evidex import export

    parts = _empty_and_full_parts(rules)
    writer = export.TableWriter(tmp_path, "measures", TABLES["measures"][0])
    (tmp_path / "ref").mkdir()
    reference = export.TableWriter(tmp_path / "ref", "measures", TABLES["measures"][0])
    pages = []
    for _ in range(export.MAX_DEFERRED + 5):
        page = PageRows(tmp_path)
        for part in parts:
            page.add(part)
        page.finish()
        assert writer.write_spooled(page.csv_chunks("measures"), page.rows("measures"),
                                    lambda page=page: page.take_table("measures")) == \
            reference.write_rendered(_joined([p["measures"] for p in parts]))
        pages.append(weakref.ref(page))
        del page
    waiting = [p for p in pages if p() is not None and not p()._tables["measures"].arrow.closed]
    assert len(waiting) == export.MAX_DEFERRED
    writer.close()
    reference.close()
    assert (tmp_path / "measures.csv").read_bytes() == (tmp_path / "ref" / "measures.csv").read_bytes()
    assert (tmp_path / "measures.parquet").read_bytes() == (tmp_path / "ref" / "measures.parquet").read_bytes()
