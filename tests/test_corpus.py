"""Corpus files (JSONL, Parquet): reading records, bad records, partitioned Parquet
outputs, ids per record, determinism and the per-record incremental cache."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.corpus import CorpusError, read_corpus
from evidex.corpus_run import TABLE_SCHEMAS, run_corpus
from evidex.engines import EngineUnavailable, make_engine
from evidex.evaluation import corpus_root
from evidex.runner import run

from conftest import ROOT

PMC = corpus_root(None) / "pmc-dev"
needs_pmc = pytest.mark.skipif(not PMC.is_dir(), reason=f"{PMC} not found (set EVIDEX_CORPUS)")
SENTENCES = [
    "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.",
    "Remission was 30% (OR 2.1, 95% CI 1.2-3.4, p = 0.01) after 6 weeks.",
    "No numbers here.",
]


def write_jsonl(path: Path, rows: list[object]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def pmc_records(n: int) -> list[dict[str, str]]:
    return [{"id": p.stem, "text": p.read_bytes().decode("utf-8")} for p in sorted(PMC.glob("PMC*.txt"))[:n]]


def table(out: Path, name: str) -> pa.Table:
    parts = sorted((out / name).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def test_jsonl_bad_records_are_named_and_the_rest_read(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [
        {"id": "a", "text": "one"},
        {"id": "b"},                      # 2: no text
        {"id": "c", "text": 5},           # 3: bad type
        {"text": "no id"},                # 4
        "not json",                       # 5
        {"id": 7, "text": "int id"},      # 6: integers are fine ids
        {"id": 1.5, "text": "float id"},  # 7
        {"id": "a", "text": "again"},     # 8: repeated id
        {"id": "e", "text": "   "},       # 9: empty text
        "[1, 2]",                         # 10: not an object
        {"id": "f", "text": "last"},
    ])
    records = list(read_corpus(path))
    assert [(r.number, r.id, r.text) for r in records if r.error is None] == [(1, "a", "one"), (6, "7", "int id"),
                                                                               (11, "f", "last")]
    errors = {r.number: r.error for r in records if r.error}
    assert errors[2] == "no text"
    assert errors[3] == "text must be a string, not int"
    assert errors[4] == "no id"
    assert errors[5].startswith("not a JSON object")
    assert errors[7] == "id must be a string or an integer, not float"
    assert errors[8] == "id 'a' repeats record 1; ids must be unique"
    assert errors[9] == "no text (empty)"
    assert errors[10] == "not a JSON object: a list"


def test_parquet_corpus_columns_and_types(tmp_path):
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"pmid": [11, 12, 13], "abstract": ["x 5 mg", None, "y"]}), path)
    records = list(read_corpus(path, "pmid", "abstract"))
    assert [(r.number, r.id, r.text, r.error) for r in records] == [(1, "11", "x 5 mg", None), (2, "12", None, "no text"),
                                                                     (3, "13", "y", None)]
    with pytest.raises(CorpusError, match="no column 'text'"):
        list(read_corpus(path, "pmid", "text"))
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": [3]}), bad)
    with pytest.raises(CorpusError, match="not a string column"):
        list(read_corpus(bad))
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_bytes(b"hello")
    with pytest.raises(CorpusError, match="not a readable Parquet file"):
        list(read_corpus(not_parquet))


def test_outputs_are_partitioned_typed_and_ids_are_per_record(tmp_path):
    rows = [{"id": f"doc/{i}.v1", "text": SENTENCES[i % 3]} for i in range(7)]
    rows.insert(3, {"id": "empty", "text": ""})
    corpus = write_jsonl(tmp_path / "c.jsonl", rows)
    out = tmp_path / "out"
    summary = run_corpus(corpus, out, ROOT / "rules", partition_size=3)
    assert [o.error for o in summary.failed] == ["record 4 (empty): no text (empty)"]
    for name in ("studies", "measures", "uncovered", "records"):
        assert sorted(p.name for p in (out / name).iterdir()) == ["part-000000.parquet", "part-000001.parquet",
                                                                  "part-000002.parquet"]
        for part in (out / name).iterdir():
            assert pq.read_schema(part).equals(TABLE_SCHEMAS[name])
    studies = table(out, "studies").to_pylist()
    # one block per record, in record order; the id is the record id (dots and slashes kept) + the block hash
    assert [s["source"] for s in studies] == [f"doc/{i}.v1" for i in range(7)]
    for s in studies:
        assert s["study_id"].startswith(s["source"] + "-") and len(s["study_id"]) == len(s["source"]) + 11
    texts = {r["id"]: r["text"] for r in rows}
    measures = table(out, "measures").to_pylist()
    assert {m["type"] for m in measures} >= {"dose", "route", "response_rate", "odds_ratio", "follow_up"}
    for m in measures:
        assert texts[m["source"]][m["char_start"]:m["char_end"]] == m["text"]
    order = [(int(m["source"].split("/")[1].split(".")[0]), m["char_start"]) for m in measures]
    assert order == sorted(order)
    records = table(out, "records").to_pylist()
    assert [r["record"] for r in records] == list(range(1, 9))
    assert records[3]["error"] == "record 4 (empty): no text (empty)" and records[3]["key"] is None
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rejected"] == [{"record": 4, "id": "empty", "error": "record 4 (empty): no text (empty)"}]
    assert [p["first_record"] for p in manifest["partitions"]] == [1, 4, 7]
    assert manifest["totals"]["records"] == 8 and manifest["totals"]["measures"] == len(measures)
    assert manifest["tables"]["measures"]["rows"] == len(measures)


@needs_pmc
def test_corpus_rows_equal_a_directory_run_of_the_same_texts(tmp_path):
    """A record is processed exactly as a page file with its id as the file's stem."""
    records = pmc_records(6)
    raw = tmp_path / "raw"
    raw.mkdir()
    for r in records:
        (raw / f"{r['id']}.txt").write_text(r["text"], encoding="utf-8", newline="")
    run(raw, tmp_path / "dir", ROOT / "rules", force=True)
    run_corpus(write_jsonl(tmp_path / "c.jsonl", records), tmp_path / "corpus", ROOT / "rules", partition_size=4)
    for name in ("studies", "measures", "uncovered"):
        expected = pq.read_table(tmp_path / "dir" / f"{name}.parquet").to_pylist()
        for row in expected:
            row["source"] = row["source"].removesuffix(".txt")
        got = table(tmp_path / "corpus", name).to_pylist()
        assert got == expected
        assert len(got) > (0 if name == "uncovered" else 5)


def test_same_corpus_gives_byte_identical_parts(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": f"r{i}", "text": SENTENCES[i % 3]} for i in range(5)])
    run_corpus(corpus, tmp_path / "a", ROOT / "rules", partition_size=2)
    run_corpus(corpus, tmp_path / "b", ROOT / "rules", partition_size=2, force=True)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file() and p.name != ".lock")
    assert len(files) == 4 * 3 + 1
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_incremental_re_extracts_only_changed_records(tmp_path):
    rows = [{"id": f"r{i}", "text": f"Patient {i}: " + SENTENCES[i % 3]} for i in range(10)]
    corpus = tmp_path / "c.jsonl"
    out = tmp_path / "out"
    write_jsonl(corpus, rows)
    first = run_corpus(corpus, out, ROOT / "rules", partition_size=4)
    assert not any(o.cached for o in first.outcomes)
    rows[5]["text"] = "Patient 5: ketamine 40 mg orally gave 60% response."
    rows.insert(0, {"id": "new", "text": "A 12% remission rate at 4 weeks."})  # shifts every partition
    write_jsonl(corpus, rows)
    second = run_corpus(corpus, out, ROOT / "rules", partition_size=4)
    assert [o.id for o in second.outcomes if not o.cached] == ["new", "r5"]
    fresh = tmp_path / "fresh"
    run_corpus(corpus, fresh, ROOT / "rules", partition_size=4, force=True)
    for p in sorted(fresh.rglob("*.parquet")):
        assert p.read_bytes() == (out / p.relative_to(fresh)).read_bytes(), p
    changed = [m for m in table(out, "measures").to_pylist() if m["source"] == "r5"]
    assert {(m["type"], m["value"]) for m in changed} >= {("dose", 40.0), ("route", None), ("response_rate", 60.0)}


class _Counted:
    """Partitions of a corpus run alive at each partition's write (weak references)."""

    def __init__(self, monkeypatch):
        import weakref

        import evidex.corpus_run as corpus_run

        self.refs: list[weakref.ref] = []
        self.alive: list[int] = []
        real = corpus_run._Partition

        def tracked(*args, **kwargs):
            part = real(*args, **kwargs)
            self.refs.append(weakref.ref(part))
            return part

        monkeypatch.setattr(corpus_run, "_Partition", tracked)

    def on_partition(self, outcomes) -> None:
        self.alive.append(sum(1 for r in self.refs if r() is not None))


@pytest.mark.parametrize("engine", [None, "jobs"])
def test_an_incremental_run_holds_one_partition_at_a_time(tmp_path, monkeypatch, engine):
    """An incremental run planned every partition (its records and the rows it reuses)
    before writing the first, so its memory grew with the corpus (issue 22 item 4)."""
    from evidex.engines import LocalEngine

    rows = [{"id": f"r{i}", "text": f"Patient {i}: " + SENTENCES[i % 3]} for i in range(12)]
    corpus = write_jsonl(tmp_path / "c.jsonl", rows)
    out = tmp_path / "out"
    run_corpus(corpus, out, ROOT / "rules", partition_size=2)
    first_parts = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")}
    counted = _Counted(monkeypatch)
    # nothing changed: with an engine, no engine is opened and every partition is reused
    again = run_corpus(corpus, out, ROOT / "rules", partition_size=2, on_partition=counted.on_partition,
                       engine=LocalEngine(2) if engine else None)
    assert all(o.cached for o in again.outcomes) and len(counted.refs) == 6
    assert counted.alive == [1] * 6  # the partition being written, never the ones after it
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")} == first_parts


def test_a_damaged_previous_part_is_not_reused(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": f"r{i}", "text": SENTENCES[0]} for i in range(3)])
    out = tmp_path / "out"
    run_corpus(corpus, out, ROOT / "rules", partition_size=2)
    good = (out / "measures" / "part-000000.parquet").read_bytes()
    (out / "measures" / "part-000000.parquet").write_bytes(b"garbage")
    again = run_corpus(corpus, out, ROOT / "rules", partition_size=2)
    assert [o.cached for o in again.outcomes] == [False, False, True]
    assert (out / "measures" / "part-000000.parquet").read_bytes() == good


def test_cli_runs_a_corpus_and_exits_1_on_a_bad_record(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": SENTENCES[0]}, {"id": "b", "text": None}])
    result = CliRunner().invoke(app, ["run", str(corpus), "--out", str(tmp_path / "out"), "--rules", str(ROOT / "rules")])
    assert result.exit_code == 1, result.output
    assert "record 2 (b): no text" in result.output
    assert table(tmp_path / "out", "measures").column("type").to_pylist() == ["dose", "route", "response_rate", "follow_up"]
    missing = CliRunner().invoke(app, ["run", str(corpus), "--out", str(tmp_path / "o2"), "--text-column", "body"])
    assert missing.exit_code == 1 and "record 1 (a): no text" in missing.output
    bad_parquet = tmp_path / "c.parquet"
    bad_parquet.write_bytes(b"nope")
    assert CliRunner().invoke(app, ["run", str(bad_parquet), "--out", str(tmp_path / "o3")]).exit_code == 2


def test_dask_engine_missing_is_a_clear_usage_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask[distributed] were not installed
    monkeypatch.delitem(sys.modules, "evidex.dask_engine", raising=False)
    with pytest.raises(EngineUnavailable, match=r"pip install 'evidex\[dask\]'"):
        make_engine("dask", workers=2)
    result = CliRunner().invoke(app, ["run", "raw", "--out", "unused", "--engine", "dask", "--workers", "2"])
    assert result.exit_code == 2 and "evidex[dask]" in result.output
    with pytest.raises(ValueError, match="--engine dask"):
        make_engine("local", workers=2)


def test_extract_jsonl_streams_measures_of_many_texts(tmp_path):
    lines = [json.dumps({"id": f"t{i}", "text": s}) for i, s in enumerate(SENTENCES)] + ['{"id": "x", "text": 3}', "{oops"]
    lines.append(json.dumps({"id": "last", "text": "NNT was 4 at 6 weeks."}))
    result = CliRunner().invoke(app, ["extract", "--jsonl", "--rules", str(ROOT / "rules")], input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    assert "line 4 (x): text must be a string, not int" in result.stderr
    assert "line 5: not a JSON object" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in rows] == ["t0"] * 4 + ["t1"] * 3 + ["last"] * 2
    assert [(r["type"], r["value"]) for r in rows if r["source"] == "t1"] == [
        ("remission_rate", 30.0), ("odds_ratio", 2.1), ("follow_up", 42.0)]
    texts = dict(enumerate(SENTENCES)) | {"last": "NNT was 4 at 6 weeks."}
    for r in rows:
        assert texts[int(r["source"][1:]) if r["source"] != "last" else "last"][r["char_start"]:r["char_end"]] == r["text"]
        assert r["measure_id"].startswith(r["source"] + "-")
    # the same measures as `extract FILE` on the text alone (a file t1.txt has the stem t1)
    (tmp_path / "t1.txt").write_text(SENTENCES[1], encoding="utf-8")
    alone = CliRunner().invoke(app, ["extract", str(tmp_path / "t1.txt"), "--rules", str(ROOT / "rules")])
    assert [json.loads(line) | {"source": "t1"} for line in alone.stdout.splitlines()] == [r for r in rows if r["source"] == "t1"]
    assert CliRunner().invoke(app, ["extract"]).exit_code == 2
