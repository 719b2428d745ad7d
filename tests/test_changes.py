"""Re-running on changed pages: stable ids, incremental runs, the change report and its causes.

Every scenario edits a copy of the seed made here, runs evidex on the old and the new
copy, and checks `diff_dirs` (the same code as `evidex diff` and changes.json) — by its
fast path, which must give the same report as the slow path (`test_diff_index.py`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.diff import diff_dirs, extracted_at_rev, verified_indexes
from evidex.runner import run

from conftest import ROOT, SEED

SEED_TEXT = SEED.read_bytes().decode("utf-8")
LINES = SEED_TEXT.split("\n")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("base")
    (root / "raw").mkdir()
    (root / "raw" / "ketamine-research.txt").write_text(SEED_TEXT, encoding="utf-8", newline="")
    run(root / "raw", root / "out", ROOT / "rules", force=True)
    return root


def _variant(tmp_path: Path, text: str, rules: Path | None = None) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ketamine-research.txt").write_text(text, encoding="utf-8", newline="")
    out = tmp_path / "out"
    run(raw, out, rules or ROOT / "rules", force=True)
    return out


def _diff(old: Path, new: Path) -> dict:
    """`diff_dirs` by its fast path (the manifests' CSV index verifies), equal to the slow path."""
    assert verified_indexes(old, new) is not None
    report = diff_dirs(old, new)
    assert report == diff_dirs(old, new, fast=False)
    return report


def _ids(out: Path) -> dict[str, str]:
    """study_id → block text (whitespace collapsed)."""
    rows = pq.read_table(out / "studies.parquet").to_pylist()
    return {r["study_id"]: " ".join(" ".join(x for x in (r["title"], r["findings"], r["conclusion"]) if x).split()) for r in rows}


def _measure_ids(out: Path) -> set[str]:
    return {r["measure_id"] for r in pq.read_table(out / "measures.parquet").to_pylist()}


def _untouched_keep_ids(old: Path, new: Path, touched: int = 0) -> None:
    old_ids, new_ids = _ids(old), _ids(new)
    kept = set(old_ids) & set(new_ids)
    assert len(kept) >= len(old_ids) - touched
    old_m = {m for m in _measure_ids(old) if m.rsplit("-", 1)[0] in kept}
    assert old_m <= _measure_ids(new)


def test_value_edited_in_one_block(base, tmp_path):
    edited = SEED_TEXT.replace("Within 24 hours, 71% of", "Within 24 hours, 75% of", 1)
    assert edited != SEED_TEXT
    new = _variant(tmp_path, edited)
    report = _diff(base / "out", new)
    assert report["summary"] == {"measures_changed": 1, "studies_edited": 1}
    (study,) = report["studies"]
    assert study["change"] == "edited" and study["cause"] == "source" and "[-71%-] {+75%+}" in study["word_diff"]
    (change,) = report["measures"]
    assert change["type"] == "response_rate" and change["cause"] == "source"
    assert change["fields"]["value"] == {"old": "71.0", "new": "75.0"}
    assert change["fields"]["text"] == {"old": "71%", "new": "75%"}
    _untouched_keep_ids(base / "out", new, touched=1)


def test_block_inserted_mid_page(base, tmp_path):
    i = LINES.index(next(line for line in LINES if line.startswith("Both twice-weekly")))
    new_block = ["In an open-label series, 60% (12/20) of patients responded to IV ketamine 0.5 mg/kg by day 7.",
                 "Repeated dosing appears useful."]
    out = _variant(tmp_path, "\n".join(LINES[:i] + new_block + LINES[i:]))
    report = _diff(base / "out", out)
    assert report["summary"] == {"measures_added": 4, "studies_added": 1}
    added = {(m["type"], m["text"]) for m in report["measures"]}
    assert added == {("response_rate", "60% (12/20)"), ("route", "IV"), ("dose", "0.5 mg/kg"), ("follow_up", "day 7")}
    _untouched_keep_ids(base / "out", out)


def test_block_removed(base, tmp_path):
    i = LINES.index(next(line for line in LINES if line.startswith("54.9% of patients achieved")))
    out = _variant(tmp_path, "\n".join(LINES[:i] + LINES[i + 2:]))
    report = _diff(base / "out", out)
    assert report["summary"] == {"measures_removed": 4, "studies_removed": 1}
    assert {m["text"] for m in report["measures"]} == {"54.9%", "78.3%", "11.3%", "IV"}
    _untouched_keep_ids(base / "out", out, touched=1)


def test_two_sections_swapped(base, tmp_path):
    start_bpd = LINES.index(next(line for line in LINES if line.startswith("Infusions were well tolerated; ketamine produced more intense")))
    start_eol = LINES.index(next(line for line in LINES if line.startswith("Significant multivariate effect")), start_bpd)
    swapped = LINES[:start_bpd] + LINES[start_eol:] + LINES[start_bpd:start_eol]
    out = _variant(tmp_path, "\n".join(swapped))
    report = _diff(base / "out", out)
    assert set(_ids(out)) == set(_ids(base / "out"))
    assert report["summary"] == {"studies_moved": 3}
    assert {c["change"] for c in report["studies"]} == {"moved"} and not report["measures"]


def test_whitespace_only_change_reports_nothing(base, tmp_path):
    text = SEED_TEXT.replace("Ketamine produced rapid", "Ketamine  produced   rapid", 1).replace("\nStudy\n", "\n\nStudy\n")
    text = text.replace(". The ketamine group", ".  The ketamine group").replace("\n", "  \n", 5)
    out = _variant(tmp_path, text)
    report = _diff(base / "out", out)
    assert report["changed"] is False and report["summary"] == {}
    assert set(_ids(out)) == set(_ids(base / "out"))


def test_block_duplicated(base, tmp_path):
    i = LINES.index(next(line for line in LINES if line.startswith("54.9% of patients achieved")))
    out = _variant(tmp_path, "\n".join(LINES[:i + 2] + LINES[i:i + 2] + LINES[i + 2:]))
    report = _diff(base / "out", out)
    assert report["summary"] == {"measures_added": 4, "studies_added": 1}
    (added,) = report["studies"]
    assert added["study_id"].endswith("-2")
    studies = {s["study_id"]: s for s in pq.read_table(out / "studies.parquet").to_pylist()}
    assert studies[added["study_id"]]["duplicate_of"] == added["study_id"][:-2]


def test_rules_changed_page_untouched(base, tmp_path, rules_copy):
    path = rules_copy / "patterns" / "route.jsonl"
    path.write_text("".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if '"route.oral"' not in line), encoding="utf-8")
    out = _variant(tmp_path, SEED_TEXT, rules=rules_copy)
    report = _diff(base / "out", out)
    assert report["rules_changed"] is True
    assert report["summary"] == {"measures_removed": 3}
    assert {(m["cause"], m["type"], m["text"]) for m in report["measures"]} == {("rules", "route", "oral"), ("rules", "route", "Oral")}
    assert set(_ids(out)) == set(_ids(base / "out"))


def test_incremental_run_reuses_unchanged_sources(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(3):
        (raw / f"p{i}.txt").write_text(SEED_TEXT.replace("71%", f"7{i}%", 1), encoding="utf-8", newline="")
    out = tmp_path / "out"
    first = run(raw, out, ROOT / "rules")
    assert not any(o.cached for o in first.outcomes)
    (raw / "p1.txt").write_text(SEED_TEXT.replace("71%", "79%", 1), encoding="utf-8", newline="")
    second = run(raw, out, ROOT / "rules")
    assert [o.cached for o in second.outcomes] == [True, False, True]
    incremental = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    full = tmp_path / "full"
    run(raw, full, ROOT / "rules", force=True)
    assert incremental == {p.name: p.read_bytes() for p in full.glob("*.csv")}
    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))
    assert changes["summary"] == {"measures_changed": 1, "studies_edited": 1}


@pytest.mark.parametrize("damage", ["truncate", "garble", "empty"])
def test_damaged_cache_entry_is_processed_again(tmp_path, damage):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(SEED_TEXT, encoding="utf-8", newline="")
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    before = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    (entry,) = (out / ".cache").glob("*.bin")
    data = entry.read_bytes()
    entry.write_bytes({"truncate": data[: len(data) // 2], "garble": data[:40] + b"\xff" * 64 + data[104:], "empty": b""}[damage])
    again = run(raw, out, ROOT / "rules")
    assert not again.outcomes[0].cached and not again.outcomes[0].error
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == before
    assert run(raw, out, ROOT / "rules").outcomes[0].cached  # the entry was written anew


def test_rules_change_invalidates_the_cache(tmp_path, rules_copy):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "p.txt").write_text(SEED_TEXT, encoding="utf-8", newline="")
    out = tmp_path / "out"
    run(raw, out, rules_copy)
    assert run(raw, out, rules_copy).outcomes[0].cached
    (rules_copy / "vocab" / "arms.yaml").write_text((rules_copy / "vocab" / "arms.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert not run(raw, out, rules_copy).outcomes[0].cached


def test_edit_one_value_then_run_reports_exactly_that_change(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(raw), "--out", str(out), "--quiet"]).exit_code == 0
    page = raw / "ketamine-research.txt"
    page.write_bytes(page.read_bytes().replace(b"Dropout rate was 11.3%", b"Dropout rate was 12.8%"))
    result = runner.invoke(app, ["run", str(raw), "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "changes vs previous run: measures_changed 1, studies_edited 1" in result.output
    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))
    (m,) = changes["measures"]
    assert m["type"] == "other_rate" and m["fields"]["value"] == {"old": "11.3", "new": "12.8"}


def test_diff_cli_exit_codes_and_json(base, tmp_path):
    runner = CliRunner()
    same = runner.invoke(app, ["diff", str(base / "out"), str(base / "out")])
    assert same.exit_code == 0 and "no changes" in same.output
    out = _variant(tmp_path, SEED_TEXT.replace("Dropout rate was 11.3%", "Dropout rate was 9.0%"))
    changed = runner.invoke(app, ["diff", str(base / "out"), str(out), "--json"])
    assert changed.exit_code == 1
    assert json.loads(changed.output)["summary"] == {"measures_changed": 1, "studies_edited": 1}
    table = runner.invoke(app, ["diff", str(base / "out"), str(out)], env={"COLUMNS": "200"})
    assert "11.3 → 9.0" in table.output


def test_diff_against_a_git_revision(tmp_path, monkeypatch):
    """`evidex diff --rev HEAD` compares the working tree's extracted/ with the committed one."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    shutil.copytree(ROOT / "raw", repo / "raw")
    run(repo / "raw", repo / "extracted", ROOT / "rules", force=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], cwd=repo, check=True)
    page = repo / "raw" / "ketamine-research.txt"
    page.write_bytes(page.read_bytes().replace(b"Dropout rate was 11.3%", b"Dropout rate was 9.0%"))
    run(repo / "raw", repo / "extracted", ROOT / "rules")
    import os

    cwd = os.getcwd()
    os.chdir(repo)
    temp_root = tmp_path / "temp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    try:
        result = CliRunner().invoke(app, ["diff", "--rev", "HEAD", "--json"])
        missing = CliRunner().invoke(app, ["diff", "--rev", "HEAD~5"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1
    assert json.loads(result.output)["summary"] == {"measures_changed": 1, "studies_edited": 1}
    assert missing.exit_code == 2 and "not found at HEAD~5" in missing.output
    assert list(temp_root.iterdir()) == []  # the committed copy is removed, on success and on error
    # git gives back the committed bytes, so the committed manifest's index verifies
    committed = extracted_at_rev("HEAD", repo, tmp_path / "at-head")
    assert verified_indexes(committed, repo / "extracted") is not None


def test_damaged_previous_tables_are_named_and_do_not_block_a_run(tmp_path):
    """A hand-damaged extracted/ (a cut-off row): `evidex diff` names file and line and exits
    2; a new run still publishes and its change report says why nothing was compared."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "page.txt").write_text(SEED_TEXT, encoding="utf-8")
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules", force=True)
    good = tmp_path / "good"
    shutil.copytree(out, good)
    lines = (out / "measures.csv").read_text(encoding="utf-8").split("\n")
    lines[3] = ",".join(lines[3].split(",")[:5])  # row 4 of the file loses its last fields
    (out / "measures.csv").write_text("\n".join(lines), encoding="utf-8")

    result = CliRunner().invoke(app, ["diff", str(out), str(good)])
    assert result.exit_code == 2
    assert f"{out / 'measures.csv'}:4: 5 fields, the header has" in " ".join(result.output.split())

    summary = run(raw, out, ROOT / "rules", force=True)
    assert summary.changes["error"].startswith("previous outputs unreadable, nothing compared:")
    assert (out / "measures.csv").read_bytes() == (good / "measures.csv").read_bytes()  # replaced by the new run
    assert json.loads((out / "changes.json").read_text())["error"] == summary.changes["error"]
