"""Pages of many short rows (issue 21 item 11): a page's rows are rendered part by part,
so its memory is bounded by its rendered rows, not by its validated row models."""

from __future__ import annotations

import gc
import hashlib
import tracemalloc

import pyarrow.parquet as pq

from evidex import build
from evidex.build import process_parts, process_text
from evidex.runner import _rendered, process_file, run

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
