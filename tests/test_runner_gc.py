"""`run` keeps the collector off its long-lived objects only while it runs.

The rules and engines are frozen out of the garbage collector's generations for the
run (`evidex.runner._long_lived`); afterwards everything is handed back, and a
process that froze objects itself keeps exactly its own freeze.
"""

from __future__ import annotations

import gc

import pytest

from evidex.runner import run


def _run_and_watch(seed_text, tmp_path) -> list[int]:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "page.txt").write_text(seed_text, encoding="utf-8")
    during: list[int] = []
    run(raw, tmp_path / "out", force=True, on_source=lambda _outcome: during.append(gc.get_freeze_count()))
    return during


def test_run_freezes_long_lived_objects_and_hands_them_back(seed_text, tmp_path):
    assert gc.get_freeze_count() == 0
    during = _run_and_watch(seed_text, tmp_path)
    assert during and all(count > 10_000 for count in during)  # the rules and engines at least
    assert gc.get_freeze_count() == 0


def test_run_leaves_a_callers_own_freeze_alone(seed_text, tmp_path):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        during = _run_and_watch(seed_text, tmp_path)
        # Frozen objects that die are dropped from the count, so it may only shrink;
        # freezing the run's own engines would add ~100k.
        assert during and all(count <= frozen for count in during)
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_a_fully_cached_run_builds_and_freezes_nothing(seed_text, tmp_path):
    _run_and_watch(seed_text, tmp_path)
    raw = tmp_path / "raw"
    during: list[int] = []
    summary = run(raw, tmp_path / "out", on_source=lambda _outcome: during.append(gc.get_freeze_count()))
    assert [o.cached for o in summary.outcomes] == [True]
    assert during == [0]


def test_a_failing_write_still_unfreezes(seed_text, tmp_path, monkeypatch):
    from evidex import runner
    from evidex.outdir import OutputError

    def broken_write(self, rendered):
        raise OSError("disk full")

    monkeypatch.setattr(runner.TableWriter, "write_rendered", broken_write)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "page.txt").write_text(seed_text, encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write the outputs \\(disk full\\)"):
        run(raw, tmp_path / "out", force=True)
    assert gc.get_freeze_count() == 0
