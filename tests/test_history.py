"""Change history and review (issue 20 item 6): every run that changes something keeps its
change set, a no-op run keeps the last one, the report lists and highlights every changed
value with its cause (source, or rules and which rule file), reads the pages the tables
came from, and its legend is readable."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.history import attribute_rules, history, rule_files_by_id
from evidex.report import COLOURS, legend, nice_ticks, write_report
from evidex.runner import run

from conftest import ROOT, SEED

SEED_TEXT = SEED.read_bytes().decode("utf-8")
EDIT = (b"Dropout rate was 11.3%", b"Dropout rate was 12.8%")


def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ketamine-research.txt").write_text(SEED_TEXT, encoding="utf-8", newline="")
    return raw


def _edit(raw: Path) -> None:
    page = raw / "ketamine-research.txt"
    page.write_bytes(page.read_bytes().replace(*EDIT))


def test_each_changing_run_keeps_its_change_set_and_a_no_op_run_erases_nothing(tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, ROOT / "rules")
    assert len(history(out)) == 1  # the first run: the page was added
    _edit(raw)
    changed = run(raw, out, ROOT / "rules")
    assert changed.changes is not None and changed.changes["summary"] == {"measures_changed": 1, "studies_edited": 1}
    latest = (out / "changes.json").read_text(encoding="utf-8")
    noop = run(raw, out, ROOT / "rules")
    assert noop.changes is not None and not noop.changes["changed"]
    assert (out / "changes.json").read_text(encoding="utf-8") == latest  # the record of the edit survives
    kept = history(out)
    assert len(kept) == 2
    assert json.loads(kept[-1].read_text(encoding="utf-8")) == json.loads(latest)
    assert json.loads(latest)["run_at"].endswith("Z")
    (m,) = json.loads(latest)["measures"]
    assert m["fields"]["value"] == {"old": "11.3", "new": "12.8"} and m["cause"] == "source"


def test_a_rules_change_names_the_rule_file(tmp_path, rules_copy):
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, rules_copy)
    measures = rules_copy / "regex" / "measures.yaml"
    measures.write_text(measures.read_text(encoding="utf-8").replace("- id: nnt.abbrev\n", "- id: nnt.abbreviation\n"),
                        encoding="utf-8")
    summary = run(raw, out, rules_copy)
    assert summary.changes is not None
    assert summary.changes["rules_changed_files"] == ["regex/measures.yaml"]
    changes = summary.changes["measures"]
    assert changes and all(m["cause"] == "rules" for m in changes)
    assert {m["rule_id"] for m in changes} == {"nnt.abbreviation"}
    assert all(m["rule_file"] == "regex/measures.yaml" and m["rule_file_changed"] for m in changes)
    page = write_report(out, raw).read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="change-changed">.*?</tr>', page)
    assert len(rows) == len(changes)
    assert all("rules: regex/measures.yaml (changed)" in r and "nnt.abbreviation" in r for r in rows)
    assert "Rule files changed: <code>regex/measures.yaml</code>" in page


def test_rule_files_by_id_reads_regex_and_token_pattern_files():
    by_id = rule_files_by_id(ROOT / "rules")
    assert by_id["nnt.abbrev"] == "regex/measures.yaml"
    assert by_id["route.iv"] == "patterns/route.jsonl"


def test_attribution_without_per_file_digests_says_it_cannot_tell():
    changes = {"measures": [{"cause": "rules", "rule_id": "nnt.abbrev"}, {"cause": "source", "rule_id": "rate.percent"}]}
    attribute_rules(changes, {}, {"rules_files": {"regex/measures.yaml": "x"}}, ROOT / "rules")
    assert changes["rules_changed_files"] is None
    assert changes["measures"][0]["rule_file"] == "regex/measures.yaml" and changes["measures"][0]["rule_file_changed"] is None
    assert "rule_file" not in changes["measures"][1]


def test_report_lists_and_highlights_every_changed_value(tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, ROOT / "rules")
    _edit(raw)
    run(raw, out, ROOT / "rules")
    noop = run(raw, out, ROOT / "rules")  # a no-op run in between: the report still shows the edit
    assert not noop.changes["changed"]
    page = write_report(out).read_text(encoding="utf-8")
    marks = re.findall(r'<mark class="hl changed"[^>]*>([^<]*)</mark>', page)
    assert marks == ["12.8%"]
    assert "CHANGED since the previous run: value 11.3 → 12.8; text 11.3% → 12.8% [cause source]" in page
    (row,) = re.findall(r'<tr class="change-changed">.*?</tr>', page)
    assert '<td class="cause">source</td>' in row and "value 11.3 → 12.8" in row and "12.8%" in row
    assert 'href="#ketamine-research-' in row  # linked to its card
    assert "Changes since the previous run (run at " in page


def test_report_reads_the_raw_directory_of_the_manifest_and_refuses_an_edited_page(tmp_path, monkeypatch):
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, ROOT / "rules")
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["raw_dir"] == "../raw"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "raw").mkdir()  # a ./raw that is not the run's: it must not be read
    shutil.copy(raw / "ketamine-research.txt", elsewhere / "raw" / "ketamine-research.txt")
    _edit(elsewhere / "raw")
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<mark class="hl') == 221  # highlights from the run's own raw/
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--raw", "raw"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "ketamine-research.txt differs from the page the tables were extracted from" in " ".join(result.output.split())


def _luminance(hex_colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_every_legend_label_has_readable_contrast():
    """The legend's labels were white on light colours (and on nothing, for the keys):
    each now states its text and background, and each pair reaches WCAG AA (4.5:1)."""
    html = legend()
    swatches = re.findall(r'<span[^>]*style="([^"]*)"[^>]*>([^<]+)</span>', html)
    assert [t for _, t in swatches][:len(COLOURS)] == list(COLOURS)
    assert len(swatches) == len(COLOURS) + 4
    for style, text in swatches:
        props = dict(p.split(":", 1) for p in style.split(";"))
        assert contrast(props["color"], props["background"]) >= 4.5, (text, props)
    assert contrast("#ffffff", "#bc8f00") < 4.5  # what the old white-on-colour labels gave


def test_chart_ticks_are_round_numbers():
    assert nice_ticks(0.0, 1.38) == [0.0, 0.5, 1.0]  # was 0, 0.34, 0.69, 1.03, 1.38
    assert nice_ticks(0.0, 1.5) == [0.0, 0.5, 1.0, 1.5]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(-0.5, 2.0) == [-0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    assert nice_ticks(0.0, 40.0) == [0, 10, 20, 30, 40]


def test_page_has_a_mobile_viewport(seed_run):
    out, _ = seed_run
    page = write_report(out).read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    ticks = re.findall(r'class="tick" text-anchor="middle">([-0-9.]+)</text>', page)
    assert ticks and all(re.fullmatch(r"-?\d+(\.\d)?", t) for t in ticks), ticks


def test_a_run_that_fails_before_publishing_keeps_no_change_set(tmp_path):
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, ROOT / "rules")
    before = (history(out), (out / "changes.json").read_bytes())
    _edit(raw)
    with pytest.raises(RuntimeError, match="injected"):
        run(raw, out, ROOT / "rules", fail_after_tables=True)
    assert (history(out), (out / "changes.json").read_bytes()) == before


def test_history_that_cannot_be_written_after_the_publish_is_a_warning_not_a_failure(tmp_path):
    """The outputs are published before the history copy is written; when that copy
    fails (here a file named `changes` where the history directory goes), the run says
    the outputs were published and only the history was not recorded, and exits 0."""
    raw, out = _raw(tmp_path), tmp_path / "out"
    run(raw, out, ROOT / "rules")
    shutil.rmtree(out / "changes")
    (out / "changes").write_text("not a directory\n", encoding="utf-8")
    _edit(raw)
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(out), "--quiet"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "error" not in said and "nothing was published" not in said and "completes at the next run" not in said
    assert (f"warning: {out}: the outputs were published (and changes.json with this run's changes); only the "
            f"change history was not recorded: cannot write {out / 'changes'}/ (") in said, said
    assert "12.8%" in (out / "measures.csv").read_text(encoding="utf-8")  # the new outputs are in place
    assert json.loads((out / "changes.json").read_text(encoding="utf-8"))["summary"] == {"measures_changed": 1,
                                                                                         "studies_edited": 1}
    assert (out / "changes").read_text(encoding="utf-8") == "not a directory\n"
    assert not list(out.glob(".staging-*")) and not (out / ".publish.json").exists()
