"""Bad input, faults and determinism (docs/reliability.md lists every case).

Each input is either processed or rejected with a message naming the file, the line
and the problem; the other files are still processed; the exit code says whether
anything failed; nothing is half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.ingest import InputError, decode_source
from evidex.outdir import OutputBusy, OutputLock
from evidex.runner import run

from conftest import RAW, ROOT, SEED

SEED_BYTES = SEED.read_bytes()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(20)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _run_dir(tmp_path: Path, files: dict[str, bytes], **kw):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name, data in files.items():
        (raw / name).write_bytes(data)
    out = tmp_path / "out"
    return raw, out, run(raw, out, ROOT / "rules", **kw)


def _texts(raw: Path) -> dict[str, str]:
    out = {}
    for p in raw.rglob("*.txt"):
        with contextlib.suppress(InputError):
            out[p.relative_to(raw).as_posix()] = decode_source(p.read_bytes(), p.name).text
    return out


def _assert_grounded(raw: Path, out: Path) -> None:
    texts = _texts(raw)
    for m in pq.read_table(out / "measures.parquet").to_pylist():
        assert texts[m["source"]][m["char_start"]:m["char_end"]] == m["text"]
    for s in pq.read_table(out / "studies.parquet").to_pylist():
        assert texts[s["source"]][s["findings_start"]:s["findings_end"]] == s["findings"]


MATRIX = {
    "empty.txt": b"",
    "whitespace.txt": b"  \n\t\n   \n",
    "utf16.txt": "\ufeff".encode("utf-16-le") + SEED_BYTES.decode().encode("utf-16-le"),
    "cp1252.txt": "Study\nFindings\nConclusion\nKetamine \u201cworked\u201d: 40\u201350% responded within 24 hours.\nIt helped.\n".encode("cp1252"),
    "bom.txt": b"\xef\xbb\xbf" + SEED_BYTES,
    "crlf.txt": SEED_BYTES.replace(b"\n", b"\r\n"),
    "cut off.txt": SEED_BYTES + b"\nA lone Findings cell: 30% responded at 1 week.\n",
    "unclosed quote.txt": b"Study\nFindings\nConclusion\n\"Response 45% at day 7.\nno closing quote here\n",
    "no layout.txt": b"Abstract one: 12 of 20 patients (60%) responded to IV ketamine 0.5 mg/kg.\n\nAbstract two: OR = 2.4 (95% CI 1.1-5.0).\n",
    "d\u00e9pression r\u00e9sum\u00e9 \u00e9t\u00e9.txt".encode().decode(): SEED_BYTES[:4000],
    "paper.txt": PDF,
    "image.txt": PNG,
}


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    return _run_dir(tmp, MATRIX)


def test_matrix_bad_files_rejected_with_file_line_problem(matrix_run):
    _, _, summary = matrix_run
    errors = {o.source: o.error for o in summary.outcomes if o.error}
    assert set(errors) == {"paper.txt", "image.txt"}
    assert errors["paper.txt"] == "paper.txt:1: binary file (a PDF document), not a text page"
    assert errors["image.txt"] == "image.txt:1: binary file (a PNG image), not a text page"


def test_matrix_other_files_processed_and_grounded(matrix_run):
    raw, out, summary = matrix_run
    ok = {o.source: o for o in summary.outcomes if not o.error}
    assert len(ok) == len(MATRIX) - 2
    assert ok["empty.txt"].blocks == 0 and ok["whitespace.txt"].blocks == 0
    for name in ("utf16.txt", "bom.txt", "crlf.txt"):
        assert ok[name].blocks == 52, name
    assert ok["cut off.txt"].blocks == 53
    assert ok["no layout.txt"].layout == "document" and ok["no layout.txt"].blocks == 1
    _assert_grounded(raw, out)


def test_matrix_fallbacks_and_problems_are_reported(matrix_run):
    _, _, summary = matrix_run
    warnings = {o.source: " | ".join(o.warnings) for o in summary.outcomes}
    assert "encoding fallback: UTF-16" in warnings["utf16.txt"]
    assert "cp1252.txt:4: encoding fallback: not valid UTF-8" in warnings["cp1252.txt"]
    assert "empty page" in warnings["empty.txt"]
    assert "cut off.txt:149: last row is cut off" in warnings["cut off.txt"]
    assert "unclosed quote.txt:4: quoted cell never closes" in warnings["unclosed quote.txt"]
    assert "no layout.txt:1: no Study/Findings/Conclusion header row" in warnings["no layout.txt"]


def test_matrix_manifest_lists_rejected_files(matrix_run):
    import json

    _, out, _ = matrix_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["rejected"]) == {"paper.txt", "image.txt"}
    assert "d\u00e9pression r\u00e9sum\u00e9 \u00e9t\u00e9.txt" in manifest["sources"]


def test_bom_and_crlf_offsets_match_plain_utf8(matrix_run):
    _, out, _ = matrix_run
    rows = pq.read_table(out / "measures.parquet").to_pylist()
    plain = [(m["type"], m["text"]) for m in rows if m["source"] == "bom.txt"]
    crlf = [(m["type"], m["text"]) for m in rows if m["source"] == "crlf.txt"]
    assert len(plain) == 221 and plain == crlf


def test_cli_exit_code_says_something_failed(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_bytes(SEED_BYTES)
    (raw / "bad.txt").write_bytes(PDF)
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1
    assert "bad.txt:1: binary file (a PDF document)" in result.output
    assert (tmp_path / "out" / "measures.csv").exists()
    (raw / "bad.txt").unlink()
    assert CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out"), "--quiet"]).exit_code == 0


@pytest.mark.slow
def test_single_5mb_line(tmp_path):
    unit = "Ketamine 0.5 mg/kg IV gave a 45% response at 24 hours versus 10% on placebo; "
    line = (unit * (5_000_000 // len(unit) + 1))[:5_000_000]
    raw, out, summary = _run_dir(tmp_path, {"one line.txt": line.encode()})
    (outcome,) = summary.outcomes
    assert outcome.error is None and outcome.layout == "document" and outcome.blocks == 1
    assert outcome.measures > 100_000
    _assert_grounded(raw, out)


@pytest.mark.slow
def test_50mb_page(tmp_path):
    header_end = SEED_BYTES.index(b"Conclusion\n") + len(b"Conclusion\n")
    body = SEED_BYTES[header_end:].rstrip(b"\n") + b"\n"
    page = SEED_BYTES[:header_end] + body * (50_000_000 // len(body) + 1)
    assert len(page) >= 50_000_000
    raw, out, summary = _run_dir(tmp_path, {"big.txt": page})
    (outcome,) = summary.outcomes
    assert outcome.error is None and outcome.blocks == 52 * (50_000_000 // len(body) + 1)
    studies = pq.read_table(out / "studies.parquet", columns=["duplicate_of"]).column(0).to_pylist()
    assert sum(d is None for d in studies) == 51  # every later copy points back to its first
    assert pq.read_metadata(out / "measures.parquet").num_rows == outcome.measures


def test_directory_of_500_files(tmp_path):
    files = {f"page-{i:03d}.txt": SEED_BYTES[:2500] + f"\nExtra {i}% responded.\n".encode() for i in range(500)}
    files["sub/inner page.txt"] = SEED_BYTES
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    raw2, out, summary = _run_dir(tmp_path, files)
    assert len(summary.outcomes) == 501 and not summary.failed
    assert [o.source for o in summary.outcomes][-1] == "sub/inner page.txt"


# ------------------------------------------------------------------ atomicity and lock


def test_failure_mid_export_leaves_previous_outputs(tmp_path):
    raw, out, _ = _run_dir(tmp_path, {"seed.txt": SEED_BYTES})
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (raw / "seed.txt").write_bytes(SEED_BYTES.replace(b"71%", b"77%"))
    with pytest.raises(RuntimeError, match="injected"):
        run(raw, out, ROOT / "rules", fail_after_tables=True)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def _hold_lock(out: str, ready, release) -> None:
    with OutputLock(Path(out)):
        ready.set()
        release.wait(30)


def test_second_run_on_same_output_is_refused(tmp_path):
    out = tmp_path / "out"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(out), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(OutputBusy, match="another evidex run"):
            run(RAW, out, ROOT / "rules")
        result = CliRunner().invoke(app, ["run", str(RAW), "--out", str(out), "--quiet"])
        assert result.exit_code == 4 and "another evidex run" in result.output
    finally:
        release.set()
        holder.join(30)
    run(RAW, out, ROOT / "rules")  # free again once the holder is gone


# ------------------------------------------------------------------ determinism


def _digest_outputs(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())
            if p.suffix in (".csv", ".parquet") or p.name in ("manifest.json", "datapackage.json")}


def test_byte_identical_across_hash_seeds_and_file_order(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("b.txt", "a.txt", "c.txt"):
        (raw / name).write_bytes(SEED_BYTES if name != "c.txt" else SEED_BYTES[:9000])
    digests = []
    for seed, order in (("1", "forward"), ("987654", "reverse")):
        out = tmp_path / f"out-{seed}"
        code = (
            "import sys; from pathlib import Path; from evidex.runner import run; from evidex.ingest import list_sources;"
            f"raw=Path({str(raw)!r}); paths=list_sources(raw);"
            f"paths=paths[::-1] if {order!r}=='reverse' else paths;"
            f"run(raw, Path({str(out)!r}), Path({str(ROOT / 'rules')!r}), force=True, paths=paths)"
        )
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
        digests.append(_digest_outputs(out))
    assert digests[0] == digests[1]
    assert len(digests[0]) == 8


def test_parallel_jobs_give_identical_output(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(4):
        (raw / f"p{i}.txt").write_bytes(SEED_BYTES.replace(b"71%", f"7{i}%".encode()))
    one, two = tmp_path / "one", tmp_path / "two"
    run(raw, one, ROOT / "rules", force=True, jobs=1)
    run(raw, two, ROOT / "rules", force=True, jobs=2)
    assert _digest_outputs(one) == _digest_outputs(two)


def test_lock_file_does_not_block_after_crash(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text("stale", encoding="utf-8")  # left by a killed run: flock is gone with it
    t = time.time()
    run(RAW, out, ROOT / "rules")
    assert time.time() - t < 60
    shutil.rmtree(out)


def test_rule_timing_out_on_a_cell_is_reported_and_others_still_read(seed_text):
    """A rule that stalls on one cell loses only its own values there: the warning names
    the cell's line and the rule, and every other rule's values are still extracted."""
    from evidex.build import process_text
    from evidex.rules import load_rules

    rules = load_rules(ROOT / "rules")
    stalled = next(r for r in rules.recognizers if r.id == "rate.percent")

    class Stalls:
        def __init__(self, real):
            self.real = real

        def finditer(self, *args, **kwargs):
            raise TimeoutError("regex timed out")

        def __getattr__(self, name):
            return getattr(self.real, name)

    baseline = process_text("seed.txt", seed_text, rules)
    # The compiled rules are frozen: swap the regex of this test's own copy past the guard.
    object.__setattr__(stalled, "regex", Stalls(stalled.regex))
    result = process_text("seed.txt", seed_text, rules)

    warned = [w for w in result.warnings if "rule regex/measures.yaml:rate.percent timed out" in w]
    assert warned, result.warnings
    # each warning names the first line of a cell that holds a percentage, and the rule as file:id
    for w in warned:
        line = int(re.search(r"line (\d+): rule regex/measures\.yaml:rate\.percent timed out", w).group(1))
        assert re.search(r"%|percent", seed_text.splitlines()[line - 1])
    assert not any(m.rule_id == "rate.percent" for m in result.measures)
    assert any(m.rule_id == "rate.percent" for m in baseline.measures)
    # the other rules' values, away from the lost percentages, are all still there
    lost = [(m.char_start, m.char_end) for m in baseline.measures if m.rule_id == "rate.percent"]
    kept = {(m.rule_id, m.char_start, m.char_end) for m in result.measures}
    away = [(m.rule_id, m.char_start, m.char_end) for m in baseline.measures
            if m.rule_id != "rate.percent" and not any(a < m.char_end and m.char_start < b for a, b in lost)]
    assert len(away) > 100 and all(a in kept for a in away)


# ------------------------------------------------------------------ round two (issue 21)


@pytest.mark.parametrize(("sentence", "text", "value"), [
    ("Patients received ketamine 0\u00b75 mg/kg IV.", "0\u00b75 mg/kg", 0.5),
    ("Response was higher (OR 2\u00b71, 95% CI 1\u00b72-3\u00b74).", "OR 2\u00b71, 95% CI 1\u00b72-3\u00b74", 2.1),
])
def test_middle_dot_is_a_decimal_point(rules, sentence, text, value):
    from evidex.build import process_text

    result = process_text("t.txt", f"{sentence}\n", rules)
    (m,) = [m for m in result.measures if m.text == text]
    assert m.value == value


@pytest.mark.parametrize("number", ["45\u00ad5%", "45~50%"])
def test_widening_that_adds_digits_never_yields_a_partial_value(rules, number):
    """A hit on "5%" inside "45\u00ad5%" (soft hyphen) or on "~50%" inside "45~50%" is widened to
    whole tokens; the widened span holds digits the value never read, so no measure comes
    from it and its numbers are listed as unreadable."""
    from evidex.build import process_text

    text = f"Response was {number} at day 7.\n"
    start = text.index(number)
    result = process_text("t.txt", text, rules)
    assert not [m for m in result.measures if m.char_start < start + len(number) and start < m.char_end]
    reasons = {u.text: u.reason for u in result.uncovered if start <= u.char_start < start + len(number)}
    assert reasons and set(reasons.values()) == {"unreadable"}, reasons


def test_file_name_not_valid_utf8_is_reported_and_the_rest_published(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "good.txt").write_bytes(SEED_BYTES)
    bad = os.path.join(os.fsencode(raw), b"bad-\xff\xfe name.txt")
    with open(bad, "wb") as fh:
        fh.write(SEED_BYTES[:4000])
    out = tmp_path / "out"
    summary = run(raw, out, ROOT / "rules")
    errors = {o.source: o.error for o in summary.outcomes if o.error}
    assert list(errors.values()) == ["bad-\\xff\\xfe name.txt: file name is not valid UTF-8; rename it to process it"]
    ok = [o for o in summary.outcomes if not o.error]
    assert [o.source for o in ok] == ["good.txt"] and ok[0].blocks == 52
    assert (out / "measures.csv").exists()
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out2"), "--quiet"])
    assert result.exit_code == 1 and "file name is not valid UTF-8" in result.output
    assert (tmp_path / "out2" / "measures.csv").exists()


def test_source_resolving_outside_raw_is_refused(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    sibling = tmp_path / "private"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("Study\nFindings\nConclusion\nSECRET 99% responded.\nIt worked.\n", encoding="utf-8")
    (raw / "good.txt").write_bytes(SEED_BYTES)
    (raw / "inner.txt").write_bytes(SEED_BYTES[:4000])
    (raw / "passwd.txt").symlink_to("/etc/passwd")
    (raw / "sibling.txt").symlink_to(sibling / "secret.txt")
    (raw / "sub" / "inside.txt").symlink_to(raw / "inner.txt")  # stays inside raw/: fine
    (raw / "linked").symlink_to(sibling, target_is_directory=True)
    out = tmp_path / "out"
    summary = run(raw, out, ROOT / "rules")
    errors = {o.source: o.error for o in summary.outcomes if o.error}
    assert errors.keys() >= {"passwd.txt", "sibling.txt"}
    for name, error in errors.items():
        assert error == f"{name}: refused: it resolves to a file outside the raw directory (a symbolic link?)"
    assert {o.source for o in summary.outcomes if not o.error} == {"good.txt", "inner.txt", "sub/inside.txt"}
    published = b"".join(p.read_bytes() for p in out.iterdir() if p.is_file())
    assert b"SECRET" not in published and b"root:" not in published
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out2"), "--quiet"])
    assert result.exit_code == 1 and "passwd.txt: refused" in result.output


def test_cr_only_and_mixed_line_endings_give_the_lf_blocks(rules, seed_text):
    """`\\r` alone is a line break: a CR-only copy of a small table page has the LF page's
    blocks at the same offsets (one character per break either way), and a page mixing
    `\\n`, `\\r\\n` and `\\r` has the same cells; every span indexes the text as given."""
    from evidex.build import process_text

    lf = "\n".join(seed_text.split("\n")[:40]) + "\n"
    cr = lf.replace("\n", "\r")
    endings = ["\n", "\r\n", "\r"]
    mixed = "".join(line + endings[i % 3] for i, line in enumerate(lf.split("\n")[:-1]))
    base = process_text("page.txt", lf, rules)
    assert base.layout == "table" and len(base.studies) >= 8
    crr = process_text("page.txt", cr, rules)
    assert crr.layout == "table" and not [w for w in crr.warnings if "header row" in w]
    # the same rows; a quoted cell over several lines holds its own line breaks
    as_lf = lambda rows: [{k: v.replace("\r", "\n") if isinstance(v, str) else v for k, v in r.model_dump().items()}  # noqa: E731
                          for r in rows]
    assert as_lf(crr.studies) == as_lf(base.studies)
    assert as_lf(crr.measures) == as_lf(base.measures)
    assert as_lf(crr.uncovered) == as_lf(base.uncovered)
    # a quoted cell over several lines has the LF cell's sentences
    from evidex.extract import split_sentences

    cell = '"Better within 1 hour of the first dose.\nIt held at 2 weeks.\nOnly mild, transient effects."'
    for variant in (cell, cell.replace("\n", "\r"), cell.replace("\n", "\r\n")):
        sentences = [variant[s.start:s.end] for s in split_sentences(variant, 0, len(variant), "findings", rules.extract_tables.sentence_abbreviations)]
        assert sentences == ['"Better within 1 hour of the first dose.', "It held at 2 weeks.", 'Only mild, transient effects."']
    mix = process_text("page.txt", mixed, rules)
    cells = lambda r: [tuple(v.replace("\r\n", "\n").replace("\r", "\n") if v else v  # noqa: E731
                             for v in (s.title, s.findings, s.conclusion, s.condition)) for s in r.studies]
    assert mix.layout == "table" and cells(mix) == cells(base)
    assert [(m.type, m.text, m.value) for m in mix.measures] == [(m.type, m.text, m.value) for m in base.measures]
    for s in mix.studies:
        assert mixed[s.findings_start:s.findings_end] == s.findings and not s.findings.endswith(("\r", "\n"))


def test_extract_never_prints_infinity_or_nan():
    """A number too large for a float (400 digits) is unreadable, not `Infinity`: every line
    `evidex extract` prints is strict JSON, and the values nearby are still read."""
    import json
    import math

    def strict(constant):
        raise ValueError(f"not JSON: {constant}")

    big = "9" * 400
    text = (f"Response was {big}% at day 7. Response in {big} of {big}9 patients. Follow-up was {big[:306]} weeks. "
            f"OR {big} (95% CI 1.2-{big}). Ketamine {big} mg/kg IV. Remission was 30% at 2 weeks.\n")
    result = CliRunner().invoke(app, ["extract", "-"], input=text)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line, parse_constant=strict) for line in result.stdout.splitlines()]
    for r in rows:
        for key in ("value", "low", "high", "ci_low", "ci_high", "p_value", "timepoint_days"):
            assert r[key] is None or math.isfinite(r[key]), r
    assert {(r["type"], r["text"]) for r in rows} >= {("remission_rate", "30%"), ("route", "IV")}


def test_file_names_are_printed_with_control_characters_escaped(tmp_path):
    """A name holding ESC sequences, a newline (a forged message line) or BEL is printed
    escaped in the messages and the run table; the tables keep the path as written."""
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "evil\x1b[2J\nerror: forged\x07.txt"
    (raw / name).write_bytes(b"")
    (raw / "good.txt").write_bytes(SEED_BYTES[:4000])
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "warning: evil\\x1b[2J\\nerror: forged\\x07.txt: empty page" in result.output
    assert not any(c in result.output for c in "\x1b\x07") and "\nerror: forged" not in result.output
    import json

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert name in manifest["sources"]


def test_readme_warns_that_csv_cells_can_run_as_formulas(tmp_path):
    """Cells are the source text as written (no `'` added), so one that starts with
    `=`, `+`, `-` or `@` can run as a formula in a spreadsheet: the README says so and
    says how to open the CSVs safely."""
    import csv

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Opening the CSVs in a spreadsheet"):]
    section = section[:section.index("\n## ")]
    for sign in ("`=`", "`+`", "`-`", "`@`"):
        assert sign in section
    assert "*Text*" in section and ".parquet" in section
    page = "Study\nFindings\nConclusion\n=HYPERLINK(\"http://x\",\"45%\") responded at 2 weeks.\nIt helped.\n"
    raw, out, _ = _run_dir(tmp_path, {"formula.txt": page.encode()})
    (study,) = csv.DictReader((out / "studies.csv").open(encoding="utf-8", newline=""))
    assert study["findings"] == page.splitlines()[3]  # kept equal to the source span
