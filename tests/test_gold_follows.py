"""Gold follows the page (issue 20 item 5): an edited page carries its gold labels to their
new offsets, reports the labels in edited text as stale, and `evidex gold rebase` writes
the carried labels back; malformed gold still fails, listing every problem."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidex.evaluation import load_gold_set
from evidex.gold import GoldError, load_gold
from evidex.goldmove import Alignment

from conftest import GOLD, RAW, ROOT

PAGE = "ketamine-research.txt"


def _first_rate() -> tuple[int, dict]:
    for line in (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines():
        block = json.loads(line)
        for m in block["measures"]:
            if m["type"] == "response_rate" and m["text"] == "71%":
                return block["block_index"], m
    raise AssertionError("the seed gold has a 71% response rate")


def test_alignment_carries_unchanged_spans_and_marks_touched_ones():
    old = "Response was 45% at 24 hours and 30% later."
    new = "Extra words. Response was 145% at 24 hours and 30% later."
    al = Alignment.of(old, 0, len(old), new, 0, len(new))
    at_45 = old.index("45%")
    assert al.carry(at_45, at_45 + 3) is None  # a digit inserted right before it: its number changed
    at_30 = old.index("30%")
    assert al.carry(at_30, at_30 + 3) == (new.index("30%"), new.index("30%") + 3)
    at_24 = old.index("24 hours")
    assert al.carry(at_24, at_24 + 8) == (new.index("24 hours"), new.index("24 hours") + 8)
    assert new[al.map(at_45):al.map(at_45 + 3, end=True)] == "145%"


def _clone(tmp_path: Path) -> Path:
    """A fresh clone of the committed project (the working tree's uncommitted edits are not in it)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    return clone


def _git_available() -> bool:
    return shutil.which("git") is not None and (ROOT / ".git").exists()


@pytest.mark.slow
@pytest.mark.skipif(not _git_available(), reason="needs git and a git checkout")
def test_editing_a_gold_labelled_number_keeps_make_extract_green_and_rebase_leaves_one_label(tmp_path):
    """The done-when of issue 20: in a fresh clone, edit a gold-labelled number; `make
    extract` exits 0, extracts the new value and reports the stale label; `evidex gold
    rebase` then leaves only that label for review."""
    clone = _clone(tmp_path)
    block_index, label = _first_rate()
    page = clone / "raw" / PAGE
    text = page.read_bytes().decode("utf-8")
    assert text[label["char_start"]:label["char_end"]] == "71%"
    # the edit: the number changes, and a line above shifts every later offset
    edited = text[:label["char_start"]] + "74%" + text[label["char_end"]:]
    edited = edited.replace("\n", "\nA sentence the clinic added.\n", 1)
    page.write_bytes(edited.encode("utf-8"))

    venv = Path(sys.executable).parent.parent
    env = {**os.environ, "EVIDEX_CORPUS": str(tmp_path / "no-shared-corpus")}
    made = subprocess.run(["make", "extract", f"VENV={venv}", "-o", str(venv / ".installed")], cwd=clone,
                          capture_output=True, text=True, env=env, timeout=600)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    assert f"STALE pages: {PAGE} block {block_index} response_rate '71%' @{label['char_start']}: its text was edited → now '74%'" in made.stderr
    assert "1 gold label needs review" in made.stderr
    assert "220 labels carried" in made.stderr
    new_start = label["char_start"] + len("A sentence the clinic added.\n")
    assert edited[new_start:new_start + 3] == "74%"
    with open(clone / "extracted" / "measures.csv", encoding="utf-8", newline="") as fh:
        at = [r for r in csv.DictReader(fh) if r["char_start"] == str(new_start)]
    assert [(r["type"], r["value"], r["text"]) for r in at] == [("response_rate", "74.0", "74%")]
    report = json.loads((clone / "extracted" / "eval.json").read_text(encoding="utf-8"))["corpora"]["pages"]
    assert [s["old"]["text"] for s in report["gold_stale"]] == ["71%"]
    assert report["gold_rebased"][PAGE]["carried"] == 220
    assert report["micro_all"]["gold"] == 220  # the carried labels were scored, at their new offsets
    assert report["micro_all"]["tp"] == 220
    assert (clone / "extracted" / "report.html").stat().st_mtime >= page.stat().st_mtime

    evidex = str(venv / "bin" / "evidex")
    rebased = subprocess.run([evidex, "gold", "rebase"], cwd=clone, capture_output=True, text=True, env=env, timeout=600)
    assert rebased.returncode == 0, rebased.stderr
    gold_file = clone / "tests" / "gold" / "ketamine-research.jsonl"
    blocks = load_gold(gold_file, edited)  # grounds in the edited page as it is now
    assert sum(len(b.measures) for b in blocks) == 220
    review = [json.loads(line) for line in (clone / "tests" / "gold" / "review" / "ketamine-research.jsonl")
              .read_text(encoding="utf-8").splitlines()]
    assert [(r["block_index"], r["old"]["text"], r["new_text"]) for r in review] == [(block_index, "71%", "74%")]
    # only the block ids' offsets changed in the file: every other key is where it was
    changed = subprocess.run(["git", "diff", "--numstat", "--", "tests/gold"], cwd=clone, capture_output=True, text=True).stdout
    assert changed.split()[:2] == ["52", "52"]

    again = subprocess.run([evidex, "eval", "--extracted", "extracted"], cwd=clone, capture_output=True, text=True,
                           env=env, timeout=600)
    assert again.returncode == 0
    assert "changed since its gold" not in again.stderr  # nothing left to carry
    assert again.stderr.count("STALE") == 1 and "'71%'" in again.stderr and "1 gold label needs review" in again.stderr


def test_gold_that_never_grounded_still_fails_listing_every_problem(tmp_path):
    """Malformed gold is not carried: bad JSON on one line and a span that grounds in no
    version of the page on another are both reported, with file and line."""
    d = tmp_path / "gold"
    d.mkdir()
    lines = (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-1]
    lines[4] = lines[4].replace('"text": "0.5 mg/kg"', '"text": "0.5 mg/kgs"', 1)
    lines[6] = lines[6].replace('"type": "follow_up"', '"type": "followup"', 1)
    (d / "ketamine-research.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as err:
        load_gold_set(d, RAW)
    message = str(err.value)
    assert "ketamine-research.jsonl:3: malformed JSON" in message
    assert "ketamine-research.jsonl:7: measures.0.type" in message
    # the grounding problem is found once the file parses
    lines[2] = (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()[2]
    lines[6] = (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()[6]
    (d / "ketamine-research.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as err:
        load_gold_set(d, RAW)
    assert "ketamine-research.jsonl:5: measures.0.text: does not ground" in str(err.value)


def test_eval_cli_names_every_stale_label_with_its_block(tmp_path):
    """Two labels in two edited blocks: eval exits 0 and lists both (not only the first)."""
    if not _git_available():
        pytest.skip("needs git")
    clone = _clone(tmp_path)
    page = clone / "raw" / PAGE
    text = page.read_bytes().decode("utf-8")
    _, label = _first_rate()
    gold = [json.loads(line) for line in (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()]
    dose = next(m for b in gold if b["block_index"] == 5 for m in b["measures"] if m["type"] == "dose")
    edits = sorted([(label["char_start"], label["char_end"], "74%"), (dose["char_start"], dose["char_end"], "0.6 mg/kg")],
                   reverse=True)
    for start, end, new in edits:
        text = text[:start] + new + text[end:]
    page.write_bytes(text.encode("utf-8"))
    gold_set = load_gold_set(clone / "tests" / "gold", clone / "raw")
    assert sorted((s["block_index"], s["old"]["text"], s["new_text"]) for s in gold_set.stale) == [
        (2, "71%", "74%"), (5, dose["text"], "0.6 mg/kg")]
    assert gold_set.rebased[PAGE].carried == 219
