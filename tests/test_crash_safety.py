"""Crashes, kills and hostile output directories (issue 21 items 1, 3, 9, 10, 12, 15).

The kill tests run real `evidex run` processes and kill them (or their workers) by PID
with SIGKILL, the signal an out-of-memory kill or `kill -9` delivers; `EVIDEX_FAULT`
(`pipeline/faults.py`) makes a process kill itself at an exact point.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.corpus_run import run_corpus
from evidex.outdir import JOURNAL, recover
from evidex.runner import run

from conftest import ROOT, SEED

SEED_BYTES = SEED.read_bytes()
EVIDEX = [sys.executable, "-m", "evidex"]
linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _raw(tmp_path: Path, pages: dict[str, bytes]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name, data in pages.items():
        (raw / name).write_bytes(data)
    return raw


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state first), or None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _workers(parent: int) -> list[int]:
    """Live child processes of `parent` other than multiprocessing's resource tracker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None or int(fields[1]) != parent or fields[0] in ("Z", "X"):
            continue
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_workers(proc: subprocess.Popen, n: int, cpu: float, timeout: float = 120) -> list[int]:
    """Wait until `proc` has `n` workers that each used `cpu` seconds (started and working)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        workers = _workers(proc.pid)
        if len(workers) >= n and all(_cpu_seconds(w) >= cpu for w in workers):
            return workers
        time.sleep(0.2)
    raise AssertionError("the workers never got busy")


def _holds(pid: int, path: Path) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == str(path):
                return True
    return False


# ------------------------------------------------------------------ item 1: no stuck lock


@linux_only
def test_killed_run_leaves_no_worker_holding_the_lock(tmp_path):
    """`kill -9` of a `--jobs 2` run mid-extraction: its workers never held the lock, they
    are gone within seconds, and the next run on the same output directory runs."""
    raw = _raw(tmp_path, {f"big{i}.txt": SEED_BYTES * 40 for i in range(4)})  # ~2 MB each: many seconds apiece
    out = tmp_path / "out"
    proc = subprocess.Popen([*EVIDEX, "run", str(raw), "--out", str(out), "--jobs", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        workers = _busy_workers(proc, 2, cpu=6.0)
        assert _holds(proc.pid, out / ".lock")  # the run itself holds it ...
        assert not [w for w in workers if _holds(w, out / ".lock")]  # ... and no worker does
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        deadline = time.time() + 20
        while [w for w in workers if _alive(w)] and time.time() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)], "workers outlived the killed run"
    finally:
        for pid in [proc.pid, *_workers(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    (raw / "big1.txt").unlink()
    (raw / "big2.txt").unlink()
    (raw / "big3.txt").unlink()
    (raw / "big0.txt").write_bytes(SEED_BYTES)
    again = subprocess.run([*EVIDEX, "run", str(raw), "--out", str(out), "--quiet"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "another evidex run" not in again.stderr


# ------------------------------------------------------------------ item 12: a dead worker


def test_worker_killed_on_a_source_rejects_only_that_source(tmp_path, monkeypatch):
    """A worker SIGKILLed (as the OOM killer would) on one source: that source is rejected
    with a message saying so, every other source is published, and `run` exits 1."""
    raw = _raw(tmp_path, {f"p{i}.txt": SEED_BYTES.replace(b"71%", f"7{i}%".encode()) for i in range(5)})
    monkeypatch.setenv("EVIDEX_FAULT", "worker:p2.txt")
    out = tmp_path / "out"
    summary = run(raw, out, ROOT / "rules", jobs=2, force=True)
    errors = {o.source: o.error for o in summary.outcomes if o.error}
    assert list(errors) == ["p2.txt"]
    assert errors["p2.txt"].startswith("p2.txt: its worker process died while processing it (killed by a signal")
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["sources"]) == ["p0.txt", "p1.txt", "p3.txt", "p4.txt"]
    assert manifest["rejected"] == errors
    sources = set(pq.read_table(out / "measures.parquet").column("source").to_pylist())
    assert sources == {"p0.txt", "p1.txt", "p3.txt", "p4.txt"}
    assert any("a worker process died" in w for w in summary.warnings)
    result = CliRunner().invoke(app, ["run", str(raw), "--out", str(tmp_path / "out2"), "--jobs", "2", "--quiet"])
    assert result.exit_code == 1 and "its worker process died" in result.output


@linux_only
def test_worker_killed_from_outside_costs_no_source(tmp_path):
    """A worker killed by PID from outside (not because of its source): the sources it had
    in flight are run again, and the run publishes every source."""
    # Sources large enough that each worker is still on its first source at the CPU mark
    # whether its rules load took 0.5 s (a warm rules cache) or 4 s (a full load), on an idle
    # machine too (ten seed pages a source were done before the mark when nothing else ran).
    raw = _raw(tmp_path, {f"p{i}.txt": SEED_BYTES * 30 for i in range(4)})
    out = tmp_path / "out"
    proc = subprocess.Popen([*EVIDEX, "run", str(raw), "--out", str(out), "--jobs", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        victim = _busy_workers(proc, 2, cpu=4.5)[0]
        os.kill(victim, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr
    assert "a worker process died" in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["sources"]) == ["p0.txt", "p1.txt", "p2.txt", "p3.txt"] and not manifest["rejected"]


# ------------------------------------------------------------------ item 3: cache poisoning


def test_source_edited_during_the_run_is_cached_under_what_was_read(tmp_path):
    """b.txt is edited after the run looked the cache up but before it was read: its rows
    are stored under the bytes that were processed, so restoring the file later does not
    bring the edit's values back from the cache."""
    original = SEED_BYTES
    edited = SEED_BYTES.replace(b"71%", b"77%")
    raw = _raw(tmp_path, {"a.txt": SEED_BYTES[:9000], "b.txt": original})
    out = tmp_path / "out"

    def edit_b(outcome):
        if outcome.source == "a.txt":
            (raw / "b.txt").write_bytes(edited)

    first = run(raw, out, ROOT / "rules", on_source=edit_b)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sources"]["b.txt"]["sha256"] == hashlib.sha256(edited).hexdigest()
    assert "77%" in (out / "measures.csv").read_text()
    assert not first.failed

    (raw / "b.txt").write_bytes(original)
    second = run(raw, out, ROOT / "rules")
    b = next(o for o in second.outcomes if o.source == "b.txt")
    assert not b.cached  # never processed from these bytes: not served from the cache
    rows = (out / "measures.csv").read_text()
    assert "71%" in rows and "77%" not in rows
    third = run(raw, out, ROOT / "rules")
    assert all(o.cached for o in third.outcomes)


def test_cache_key_holds_the_library_versions(tmp_path, monkeypatch):
    import pyarrow
    import regex
    import spacy

    raw = _raw(tmp_path, {"a.txt": SEED_BYTES[:9000]})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    assert run(raw, out, ROOT / "rules").outcomes[0].cached
    for module in (spacy, regex, pyarrow):
        monkeypatch.setattr(module, "__version__", module.__version__ + ".post999")
        assert not run(raw, out, ROOT / "rules").outcomes[0].cached, module.__name__
        assert run(raw, out, ROOT / "rules").outcomes[0].cached


# ------------------------------------------------------------------ item 9: publishing


def _consistent(out: Path) -> str:
    """Assert that manifest and tables are one run's set; return which ("old" or "new")."""
    manifest = json.loads((out / "manifest.json").read_text())
    for name, entry in manifest["tables"].items():
        data = (out / f"{name}.csv").read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["csv_bytes"], entry["csv_sha256"]), name
    assert pq.read_table(out / "studies.parquet").num_rows == manifest["totals"]["blocks"]
    assert pq.read_table(out / "measures.parquet").num_rows == manifest["totals"]["measures"]
    measures = (out / "measures.csv").read_text()
    parquet_text = set(pq.read_table(out / "measures.parquet").column("text").to_pylist())
    new = "77%" in parquet_text
    assert new == ("77%" in measures)
    return "new" if new else "old"


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_run_killed_at_each_publish_step_recovers_to_one_consistent_set(tmp_path, step):
    raw = _raw(tmp_path, {"seed.txt": SEED_BYTES})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    assert _consistent(out) == "old"
    (raw / "seed.txt").write_bytes(SEED_BYTES.replace(b"71%", b"77%"))
    killed = subprocess.run([*EVIDEX, "run", str(raw), "--out", str(out), "--quiet"], capture_output=True,
                            env={**os.environ, "EVIDEX_FAULT": f"publish:{step}"}, cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    if step == 3:  # killed half-way through the renames: the files on disk are mixed
        with pytest.raises(AssertionError):
            _consistent(out)
    warnings = recover(out)
    assert _consistent(out) == ("old" if step == 1 else "new")
    assert not (out / JOURNAL).exists() and not list(out.glob(".staging-*"))
    if step in (2, 3, 4):
        assert any("completed a publish interrupted" in w for w in warnings), warnings
    if step == 1:
        assert any("ended before publishing" in w for w in warnings), warnings
    summary = run(raw, out, ROOT / "rules")
    assert _consistent(out) == "new" and not summary.failed


def test_next_run_recovers_an_interrupted_publish_first(tmp_path):
    """The recovery runs at the start of `evidex run`, under the lock, before the
    previous outputs are read for the change report."""
    raw = _raw(tmp_path, {"seed.txt": SEED_BYTES})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    (raw / "seed.txt").write_bytes(SEED_BYTES.replace(b"71%", b"77%"))
    killed = subprocess.run([*EVIDEX, "run", str(raw), "--out", str(out), "--quiet"], capture_output=True,
                            env={**os.environ, "EVIDEX_FAULT": "publish:3"}, cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    summary = run(raw, out, ROOT / "rules")
    assert any("completed a publish interrupted" in w for w in summary.warnings)
    assert summary.changes is not None and summary.changes["changed"] is False  # it compared against the completed publish
    assert _consistent(out) == "new"


def test_stale_staging_and_cache_temporaries_are_removed_at_start(tmp_path):
    raw = _raw(tmp_path, {"a.txt": SEED_BYTES[:9000]})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    stale = out / ".staging-999999"
    stale.mkdir()
    (stale / "measures.csv").write_text("half\n")
    tmp = out / ".cache" / ".0123abcd.tmp-999999"
    tmp.write_bytes(b"half an entry")
    entries = sorted((out / ".cache").glob("*.bin"))
    summary = run(raw, out, ROOT / "rules")
    assert not stale.exists() and not tmp.exists()
    assert sorted((out / ".cache").glob("*.bin")) == entries
    assert any(".staging-999999: removed the staging directory" in w for w in summary.warnings)


CORPUS_TABLES = ("measures", "records", "studies", "uncovered")


def _corpus(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    return path


def _corpus_consistent(out: Path) -> str:
    """Assert that a corpus run's manifest and part files are one run's set (each part
    file listed with its sha256 and rows, none unlisted); return "old" or "new"."""
    manifest = json.loads((out / "manifest.json").read_text())
    listed = set()
    for part in manifest["partitions"]:
        for entry in part["files"].values():
            data = (out / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
            assert pq.read_table(out / entry["path"]).num_rows == entry["rows"], entry["path"]
            listed.add(entry["path"])
    on_disk = {p.relative_to(out).as_posix() for name in CORPUS_TABLES for p in (out / name).glob("*.parquet")}
    assert on_disk == listed
    return "new" if manifest["totals"]["records"] == 2 else "old"


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_corpus_run_killed_at_each_publish_step_recovers_to_one_consistent_set(tmp_path, step):
    """A corpus run publishes by the page run's journaled protocol (`Staging.publish`):
    killed after any step, the next run finds one run's part files and manifest, and
    the part files of a longer previous run do not linger beside a shorter new one."""
    out = tmp_path / "out"
    sentences = ["Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.",
                 "Remission was 30% (OR 2.1, 95% CI 1.2-3.4) after 6 weeks.", "Relapse was 12% at 6 months."]
    corpus = _corpus(tmp_path / "c.jsonl", sentences)
    args = [*EVIDEX, "run", str(corpus), "--out", str(out), "--quiet", "--partition-size", "1"]
    run_corpus(corpus, out, ROOT / "rules", partition_size=1)
    assert _corpus_consistent(out) == "old" and len(list((out / "measures").iterdir())) == 3
    _corpus(corpus, [sentences[0].replace("45%", "47%"), sentences[1]])  # one record edited, the third gone
    killed = subprocess.run(args, capture_output=True, env={**os.environ, "EVIDEX_FAULT": f"publish:{step}"},
                            cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if step == 3:  # killed half-way through the renames: new part files under the old manifest
        with pytest.raises(AssertionError):
            _corpus_consistent(out)
    warnings = recover(out)
    assert _corpus_consistent(out) == ("old" if step == 1 else "new")
    assert not (out / JOURNAL).exists() and not list(out.glob(".staging-*"))
    if step in (2, 3, 4):
        assert any("completed a publish interrupted" in w for w in warnings), warnings
    if step == 1:
        assert any("ended before publishing" in w for w in warnings), warnings
    summary = run_corpus(corpus, out, ROOT / "rules", partition_size=1)
    assert not summary.failed and not summary.warnings
    assert _corpus_consistent(out) == "new"
    measures = [m["text"] for name in sorted((out / "measures").glob("*.parquet")) for m in pq.read_table(name).to_pylist()]
    assert "47%" in measures and "45%" not in measures and "12%" not in measures


def test_corpus_run_recovers_an_interrupted_publish_before_reusing_parts(tmp_path):
    """The recovery runs at the start of a corpus run, under the lock, before the
    previous run's part files are read for reuse; the warning is printed."""
    out = tmp_path / "out"
    corpus = _corpus(tmp_path / "c.jsonl", ["Relapse was 12% at 6 months.", "Remission was 30% after 6 weeks."])
    args = [*EVIDEX, "run", str(corpus), "--out", str(out), "--partition-size", "1"]
    run_corpus(corpus, out, ROOT / "rules", partition_size=1)
    _corpus(corpus, ["Relapse was 14% at 6 months.", "Remission was 30% after 6 weeks."])
    killed = subprocess.run([*args, "--quiet"], capture_output=True, env={**os.environ, "EVIDEX_FAULT": "publish:3"},
                            cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    done = subprocess.run(args, capture_output=True, cwd=tmp_path, timeout=300, text=True,
                          env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed a publish interrupted" in done.stdout + done.stderr
    assert _corpus_consistent(out) == "new"
    records = pq.read_table(out / "records" / "part-000001.parquet").to_pylist()
    assert records[0]["id"] == "r1"


# ------------------------------------------------------------------ item 10: damaged previous outputs


@pytest.mark.parametrize("damage", ["studies.csv is a directory", "sources is a list", "a source entry is a number"])
def test_damaged_previous_outputs_are_no_previous_run(tmp_path, damage):
    raw = _raw(tmp_path, {"seed.txt": SEED_BYTES})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    good = tmp_path / "good"
    run(raw, good, ROOT / "rules")
    manifest = json.loads((out / "manifest.json").read_text())
    if damage == "studies.csv is a directory":
        (out / "studies.csv").unlink()
        (out / "studies.csv").mkdir()
        (out / "studies.csv" / "notes.txt").write_text("someone's notes")
    elif damage == "sources is a list":
        manifest["sources"] = list(manifest["sources"])
    else:
        manifest["sources"]["seed.txt"] = 5
    if damage != "studies.csv is a directory":
        (out / "manifest.json").write_text(json.dumps(manifest))

    result = CliRunner().invoke(app, ["diff", str(out), str(good)])
    assert result.exit_code == 2, result.output  # unreadable, not "changes found"
    assert result.exception is None or isinstance(result.exception, SystemExit)

    summary = run(raw, out, ROOT / "rules")
    assert any("previous outputs unreadable, treated as no previous run" in w for w in summary.warnings)
    assert summary.changes["error"].startswith("previous outputs unreadable, nothing compared:")
    for name in ("studies.csv", "measures.csv", "manifest.json"):
        assert (out / name).read_bytes() == (good / name).read_bytes(), name
    if damage == "studies.csv is a directory":
        assert (out / "studies.csv.not-evidex-1" / "notes.txt").read_text() == "someone's notes"
        assert any("moved aside" in w for w in summary.warnings)
    result = CliRunner().invoke(app, ["diff", str(out), str(good)])
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ item 15: unwritable output


@contextlib.contextmanager
def _read_only(path: Path):
    """Make a directory unwritable, for root too (`chattr +i`), else by its mode."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)


@linux_only
def test_read_only_output_is_one_line_and_exit_5(tmp_path):
    raw = _raw(tmp_path, {"a.txt": SEED_BYTES[:9000]})
    out = tmp_path / "out"
    out.mkdir()
    with _read_only(out):
        proc = subprocess.run([*EVIDEX, "run", str(raw), "--out", str(out), "--quiet"], capture_output=True,
                              text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}: cannot write the outputs ("), proc.stderr
    assert "nothing was published" in lines[0]


@linux_only
def test_full_output_is_one_line_and_exit_5_and_keeps_previous_outputs(tmp_path):
    """Writes beyond a size limit fail (RLIMIT_FSIZE: EFBIG, as a full disk fails with
    ENOSPC) half-way through staging the tables."""
    import resource

    raw = _raw(tmp_path, {"a.txt": SEED_BYTES[:9000]})
    out = tmp_path / "out"
    run(raw, out, ROOT / "rules")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (raw / "a.txt").write_bytes(SEED_BYTES * 3)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    proc = subprocess.run([*EVIDEX, "run", str(raw), "--out", str(out), "--quiet", "--force"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300, preexec_fn=limit)
    assert proc.returncode == 5, proc.stderr
    lines = [line for line in " ".join(proc.stderr.split("\n")).split("error:") if line.strip()]
    assert len(lines) == 1 and "cannot write the outputs (File too large" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(out.glob(".staging-*")) and not list((out / ".cache").glob(".*.tmp-*"))


def test_a_file_where_an_output_directory_goes_is_moved_aside_and_kept(tmp_path):
    from evidex import outdir

    (tmp_path / "measures").write_text("someone's file", encoding="utf-8")
    (tmp_path / "measures.not-evidex-1").write_text("an earlier one", encoding="utf-8")
    warnings: list[str] = []
    outdir._make_parents(tmp_path, ["measures", "."], warnings)
    assert (tmp_path / "measures").is_dir()
    assert (tmp_path / "measures.not-evidex-2").read_text(encoding="utf-8") == "someone's file"
    assert (tmp_path / "measures.not-evidex-1").read_text(encoding="utf-8") == "an earlier one"
    assert len(warnings) == 1 and "measures.not-evidex-2" in warnings[0]
