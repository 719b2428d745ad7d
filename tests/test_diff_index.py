"""The CSV index in manifest.json and the change report's fast path that trusts it.

`evidex run` records, per source, where its rows sit in each CSV (byte offset, length,
sha256) and each CSV's size and sha256. `diff_dirs` skips sources whose bytes did not
change when both runs' indexes verify against the files, and parses everything when
they do not. Every scenario here checks that the fast path was taken (or refused) and
that it gives the same report as the forced slow path.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import evidex.diff as diff_mod
from evidex.diff import diff_dirs, verified_indexes
from evidex.export import TABLES
from evidex.runner import run

from conftest import ROOT, SEED

RULES = ROOT / "rules"
SEED_TEXT = SEED.read_bytes().decode("utf-8")
LINES = SEED_TEXT.split("\n")
PAGES = {
    "a.txt": SEED_TEXT.replace("71%", "70%", 1),
    "b.txt": SEED_TEXT,
    "c.txt": SEED_TEXT.replace("71%", "72%", 1),
    # quoted cells with CR LF inside: a byte range must keep them in its rows
    "crlf.txt": SEED_TEXT[:9000].replace("\n", "\r\n"),
    "empty.txt": "",  # no rows in any table: empty ranges
    "r\u00e9sum\u00e9 \u00e9t\u00e9.txt": SEED_TEXT[:4000],  # non-ASCII name and cells: offsets are bytes
}
REJECTED = {"image.txt": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(20)}


@pytest.fixture(scope="module")
def old(tmp_path_factory) -> Path:
    """raw/ and out/ of a first run over PAGES (plus one rejected file)."""
    root = tmp_path_factory.mktemp("index-old")
    raw = root / "raw"
    raw.mkdir()
    for name, text in PAGES.items():
        (raw / name).write_text(text, encoding="utf-8", newline="")
    for name, data in REJECTED.items():
        (raw / name).write_bytes(data)
    run(raw, root / "out", RULES, force=True)
    return root


def _rerun(old: Path, tmp_path: Path, edit: Callable[[Path], None], rules: Path = RULES) -> Path:
    """A second run on a copy of old's raw/ after `edit`; old's run cache is copied along,
    so unchanged pages come from the cache as in a real incremental run."""
    raw = tmp_path / "raw"
    shutil.copytree(old / "raw", raw)
    edit(raw)
    out = tmp_path / "out"
    shutil.copytree(old / "out" / ".cache", out / ".cache")
    run(raw, out, rules)
    return out


def _both_paths(old_out: Path, new_out: Path) -> dict:
    """The fast-path report, after checking the fast path is taken and equals the slow path."""
    assert verified_indexes(old_out, new_out) is not None
    fast = diff_dirs(old_out, new_out)
    slow = diff_dirs(old_out, new_out, fast=False)
    assert fast == slow
    return fast


def _replace(name: str, old_text: str, new_text: str) -> Callable[[Path], None]:
    def edit(raw: Path) -> None:
        path = raw / name
        text = path.read_bytes().decode("utf-8")
        assert old_text in text
        path.write_bytes(text.replace(old_text, new_text, 1).encode("utf-8"))
    return edit


def _swap_sections(raw: Path) -> None:
    start_bpd = LINES.index(next(line for line in LINES if line.startswith("Infusions were well tolerated; ketamine produced more intense")))
    start_eol = LINES.index(next(line for line in LINES if line.startswith("Significant multivariate effect")), start_bpd)
    swapped = LINES[:start_bpd] + LINES[start_eol:] + LINES[start_bpd:start_eol]
    (raw / "b.txt").write_text("\n".join(swapped), encoding="utf-8", newline="")


def _insert_block(raw: Path) -> None:
    lines = (raw / "c.txt").read_text(encoding="utf-8").split("\n")
    i = lines.index(next(line for line in lines if line.startswith("Both twice-weekly")))
    block = ["In an open-label series, 60% (12/20) of patients responded to IV ketamine 0.5 mg/kg by day 7.",
             "Repeated dosing appears useful."]
    (raw / "c.txt").write_text("\n".join(lines[:i] + block + lines[i:]), encoding="utf-8", newline="")


def _add_page(raw: Path) -> None:
    (raw / "b2.txt").write_text(SEED_TEXT.replace("71%", "73%", 1), encoding="utf-8", newline="")


# (scenario, edit, expected summary; None = computed from the added/removed page's manifest entry)
SCENARIOS = [
    ("block_inserted", _insert_block, {"measures_added": 4, "studies_added": 1}),
    ("sections_swapped", _swap_sections, {"studies_moved": 3}),
    ("page_added", _add_page, None),
    ("page_removed", lambda raw: (raw / "c.txt").unlink(), None),
    ("empty_page_removed", lambda raw: (raw / "empty.txt").unlink(), {}),
]


@pytest.fixture(scope="module")
def edited(old, tmp_path_factory) -> Path:
    """raw/ and out/ of an incremental re-run after one value of b.txt was edited."""
    root = tmp_path_factory.mktemp("index-edited")
    _rerun(old, root, _replace("b.txt", "Dropout rate was 11.3%", "Dropout rate was 12.8%"))
    return root


def test_one_value_edited(old, edited):
    report = _both_paths(old / "out", edited / "out")
    assert report["summary"] == {"measures_changed": 1, "studies_edited": 1}
    (change,) = report["measures"]
    assert change["study_id"].startswith("b-") and change["fields"]["value"] == {"old": "11.3", "new": "12.8"}


def _page_summary(manifest: dict, source: str, status: str) -> dict[str, int]:
    entry = manifest["sources"][source]
    return {f"measures_{status}": entry["measures"], f"sources_{status}": 1, f"studies_{status}": entry["blocks"]}


@pytest.mark.parametrize(("name", "edit", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_fast_and_slow_paths_agree(old, tmp_path, name, edit, expected):
    new = _rerun(old, tmp_path, edit)
    report = _both_paths(old / "out", new)
    if name == "page_added":
        expected = _page_summary(json.loads((new / "manifest.json").read_text(encoding="utf-8")), "b2.txt", "added")
        assert expected["studies_added"] > 0 and expected["measures_added"] > 0
    if name == "page_removed":
        expected = _page_summary(json.loads((old / "out" / "manifest.json").read_text(encoding="utf-8")), "c.txt", "removed")
    assert report["summary"] == expected


def test_fast_and_slow_paths_agree_when_the_rules_change(old, tmp_path, rules_copy):
    path = rules_copy / "patterns" / "route.jsonl"
    path.write_text("".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if '"route.oral"' not in line),
                    encoding="utf-8")
    new = _rerun(old, tmp_path, lambda raw: None, rules=rules_copy)
    report = _both_paths(old / "out", new)
    assert report["rules_changed"] is True
    # the seed's three oral routes on each whole-seed page, and the one in crlf.txt's first 9,000 characters
    assert report["summary"] == {"measures_removed": 10}
    assert Counter(m["study_id"].rsplit("-", 2)[0] for m in report["measures"]) == {"a": 3, "b": 3, "c": 3, "crlf": 1}
    assert {(m["cause"], m["text"]) for m in report["measures"]} == {("rules", "oral"), ("rules", "Oral")}


@pytest.fixture
def spied(monkeypatch) -> list[str]:
    """Sources whose byte ranges the fast path parses; the slow path's parser must not run."""
    return _spy(monkeypatch)


def _spy(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = diff_mod._read_slice

    def spy(fh, part, header):
        rows = real(fh, part, header)
        parsed.extend({r[header.index("source")] for r in rows.rows})
        return rows

    def no_full_parse(path):
        raise AssertionError(f"the fast path parsed all of {path}")

    monkeypatch.setattr(diff_mod, "_read_slice", spy)
    monkeypatch.setattr(diff_mod, "_grouped", no_full_parse)
    return parsed


def test_fast_path_parses_only_the_changed_source(old, edited, spied):
    report = diff_dirs(old / "out", edited / "out")
    assert report["summary"] == {"measures_changed": 1, "studies_edited": 1}
    # b.txt's studies and measures ranges, old and new; no other page was read
    assert sorted(spied) == ["b.txt"] * 4


def test_fast_path_reads_nothing_when_nothing_changed(old, spied):
    assert diff_dirs(old / "out", old / "out")["changed"] is False
    assert spied == []


@pytest.mark.parametrize(("name", "edit", "source", "status"), [
    ("page_added", _add_page, "b2.txt", "added"),
    ("page_removed", lambda raw: (raw / "c.txt").unlink(), "c.txt", "removed"),
])
def test_an_added_or_removed_page_is_counted_from_the_manifest_unread(old, tmp_path, monkeypatch, name, edit, source, status):
    """Its rows used to be parsed in full only to count them (issue 21 item 11)."""
    new = _rerun(old, tmp_path, edit)
    spied = _spy(monkeypatch)
    report = diff_dirs(old / "out", new)
    assert spied == []  # not one row of the page (nor of any other) was parsed
    manifest = json.loads(((new if status == "added" else old / "out") / "manifest.json").read_text(encoding="utf-8"))
    assert report["summary"] == _page_summary(manifest, source, status)
    assert report["sources"][source]["status"] == status


def test_manifest_counts_that_disagree_with_the_ranges_refuse_the_fast_path(old, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(old / "out", new, ignore=shutil.ignore_patterns(".cache"))
    manifest = json.loads((new / "manifest.json").read_text(encoding="utf-8"))
    manifest["sources"]["empty.txt"]["measures"] = 3  # a source with an empty measures range
    (new / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    assert verified_indexes(old / "out", new) is None
    assert verified_indexes(old / "out", old / "out") is not None


def test_hand_edited_csv_falls_back_to_the_slow_path(old, edited, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(edited / "out", new, ignore=shutil.ignore_patterns(".cache"))
    # Edit a value of an unchanged page by hand, keeping the file's size: its range's
    # sha256 in the manifest still matches the old run, so only the whole-file check sees it.
    measures = new / "measures.csv"
    data = measures.read_bytes()
    row = next(line for line in data.split(b"\n") if b",a.txt,response_rate,70.0," in line and b",70%," in line)
    edited = row.replace(b",70.0,", b",60.0,", 1)
    assert edited != row and len(edited) == len(row)
    measures.write_bytes(data.replace(row, edited, 1))
    assert verified_indexes(old / "out", new) is None
    report = diff_dirs(old / "out", new)
    assert report == diff_dirs(old / "out", new, fast=False)
    assert report["summary"] == {"measures_changed": 2, "studies_edited": 1}
    hand = next(m for m in report["measures"] if m["study_id"].startswith("a-"))
    assert hand["fields"] == {"value": {"old": "70.0", "new": "60.0"}}


def _strip_index(manifest_path: Path) -> None:
    """Make a manifest look like one from an evidex without the CSV index."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["tables"]
    for entry in manifest["sources"].values():
        del entry["csv"]
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def test_manifest_without_index_falls_back_to_the_slow_path(old, edited, tmp_path, monkeypatch):
    older = tmp_path / "older"
    shutil.copytree(old / "out", older, ignore=shutil.ignore_patterns(".cache"))
    _strip_index(older / "manifest.json")
    assert verified_indexes(older, edited / "out") is None
    full_parses = []
    real = diff_mod._grouped
    monkeypatch.setattr(diff_mod, "_grouped", lambda path: full_parses.append(path.name) or real(path))
    report = diff_dirs(older, edited / "out")
    assert sorted(full_parses) == ["measures.csv", "measures.csv", "studies.csv", "studies.csv"]
    assert report["summary"] == {"measures_changed": 1, "studies_edited": 1}
    indexed = diff_dirs(old / "out", edited / "out")
    assert {k: v for k, v in report.items() if k != "old"} == {k: v for k, v in indexed.items() if k != "old"}


def _shift_first_range(manifest: dict) -> None:
    entry = manifest["sources"]["a.txt"]["csv"]["studies"]
    entry["offset"] += 1
    entry["bytes"] -= 1


def _swap_ranges(manifest: dict) -> None:
    """b.txt's and crlf.txt's measures ranges trade offsets: the sizes still add up to the file."""
    a, b = (manifest["sources"][src]["csv"]["measures"] for src in ("b.txt", "crlf.txt"))
    assert a["bytes"] != b["bytes"]
    a["offset"], b["offset"] = b["offset"], a["offset"]


def _drop_last_row(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-1].rsplit(b"\n", 1)[0] + b"\n")  # measure rows are one line each


@pytest.mark.parametrize("damage", [
    pytest.param(lambda m, d: m["tables"]["measures"].update(csv_sha256="0" * 64), id="table-sha256"),
    pytest.param(lambda m, d: m["tables"]["studies"].update(csv_bytes=m["tables"]["studies"]["csv_bytes"] + 1), id="table-size"),
    pytest.param(lambda m, d: _shift_first_range(m), id="ranges-do-not-tile"),
    pytest.param(lambda m, d: _swap_ranges(m), id="ranges-swapped"),
    pytest.param(lambda m, d: m["sources"].pop("b.txt"), id="source-missing"),
    pytest.param(lambda m, d: _drop_last_row(d / "measures.csv"), id="csv-row-dropped"),
    pytest.param(lambda m, d: (d / "measures.csv").unlink(), id="csv-missing"),
])
def test_index_that_does_not_verify_is_not_used(old, tmp_path, damage):
    new = tmp_path / "new"
    shutil.copytree(old / "out", new, ignore=shutil.ignore_patterns(".cache"))
    assert verified_indexes(old / "out", new) is not None
    manifest = json.loads((new / "manifest.json").read_text(encoding="utf-8"))
    damage(manifest, new)
    (new / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert verified_indexes(old / "out", new) is None
    assert verified_indexes(new, old / "out") is None
    assert diff_dirs(old / "out", new) == diff_dirs(old / "out", new, fast=False)


def test_different_headers_are_not_compared_by_bytes(old, tmp_path):
    """Equal bytes under different headers are not equal rows: no fast path then."""
    new = tmp_path / "new"
    shutil.copytree(old / "out", new, ignore=shutil.ignore_patterns(".cache"))
    studies = new / "studies.csv"
    data = studies.read_bytes()
    header, rest = data.split(b"\n", 1)
    # as if a newer evidex had reordered two columns (same length: the ranges still tile)
    renamed = header.replace(b",title,", b",@,").replace(b",flags", b",title").replace(b",@,", b",flags,")
    assert renamed != header and len(renamed) == len(header)
    studies.write_bytes(renamed + b"\n" + rest)
    manifest = json.loads((new / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["studies"]["csv_sha256"] = hashlib.sha256(studies.read_bytes()).hexdigest()
    (new / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert diff_mod._verified_index(new, manifest) is not None  # its own index is fine
    assert verified_indexes(old / "out", new) is None
    report = diff_dirs(old / "out", new)
    assert report == diff_dirs(old / "out", new, fast=False)
    assert report["summary"]["studies_attributes"] > 0  # every study with a title or flags now differs
    assert {c["change"] for c in report["studies"]} == {"attributes"}


def test_index_ranges_hold_each_source_rows(old):
    """For every source and table, the recorded range hashes to the recorded sha256 and
    parses to exactly that source's rows; the ranges and the header make up the file."""
    out = old / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["sources"]) == set(PAGES) and set(manifest["rejected"]) == set(REJECTED)
    csv.field_size_limit(sys.maxsize)
    for name in TABLES:
        data = (out / f"{name}.csv").read_bytes()
        assert manifest["tables"][name] == {"csv_bytes": len(data), "csv_sha256": hashlib.sha256(data).hexdigest()}
        header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        column = header.index("source")
        pieces = [data[: data.index(b"\n") + 1]]
        for source, entry in manifest["sources"].items():
            part = entry["csv"][name]
            chunk = data[part["offset"]: part["offset"] + part["bytes"]]
            assert len(chunk) == part["bytes"] and hashlib.sha256(chunk).hexdigest() == part["sha256"]
            parsed = list(csv.reader(io.StringIO(chunk.decode("utf-8"), newline="")))
            assert parsed == [r for r in rows if r[column] == source]
            assert len(parsed) == entry[{"studies": "blocks"}.get(name, name)]
            pieces.append(chunk)
        assert b"".join(pieces) == data
        if name == "studies":  # the cases the fixture is for: empty ranges, line breaks inside cells
            assert manifest["sources"]["empty.txt"]["csv"][name]["bytes"] == 0
            assert any("\r\n" in cell for r in rows if r[column] == "crlf.txt" for cell in r)


def test_incremental_manifest_equals_a_forced_run(edited, tmp_path):
    """Cached pages get the same index entries as processed ones: the manifest is the same."""
    full = tmp_path / "full"
    summary = run(edited / "raw", full, RULES, force=True)
    assert not any(o.cached for o in summary.outcomes)
    incremental, forced = (json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (edited / "out", full))
    # raw_dir is where the pages are from each output directory: the one part that differs
    for d, manifest in ((edited / "out", incremental), (full, forced)):
        assert (d / manifest.pop("raw_dir")).resolve() == (edited / "raw").resolve()
    assert incremental == forced
