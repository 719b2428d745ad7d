"""The output directory's protocol: one run at a time, and a publish that a crash can
interrupt at any point without leaving a mixed set of outputs behind once recovered.

Analysts load `extracted/*.csv|parquet` at fixed paths, so the files themselves are
replaced, not a pointer to a version directory. The protocol (docs/reliability.md):

1. `Staging`: every output is written into `<out>/.staging-<pid>/`; `publish` fsyncs each
   staged file and the staging directory.
2. It writes the journal `<out>/.publish.json` (the staging directory and the file names)
   through a temporary file, fsync and rename, then fsyncs `<out>`: the rename commits.
3. It renames the staged files into `<out>` one by one, `manifest.json` last (a reader
   that sees the new manifest sees the new tables), and fsyncs `<out>`.
4. It removes the journal, fsyncs `<out>`, and removes the empty staging directory.

`recover`, run at the start of every `evidex run` under the lock, finishes a publish
whose journal exists (every staged file was durable before the journal was written, so
the missing renames can always be done: roll forward) and removes staging directories
without a journal (a run that died before step 2: roll back; the previous outputs were
never touched), and the temporary files of the run cache and the journal. The lock
makes this safe: while this run holds it no other run owns any of them.

`OutputLock` is `filelock`'s lock on `<out>/.lock` (flock on POSIX, msvcrt on Windows),
held for the whole run and released by the kernel when the process dies. Its
descriptor is not inheritable; the `--jobs` workers are spawned (`pipeline.workers`),
so none of them can hold it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

from .faults import die_at

JOURNAL = ".publish.json"
STAGING_PREFIX = ".staging-"
LAST = "manifest.json"  # renamed in last: the new manifest implies the new tables


class OutputBusy(Exception):
    """Another evidex run holds the output directory."""


class OutputError(Exception):
    """The output directory cannot be written (read-only, full, not permitted); `str()` is one line."""

    def __init__(self, out_dir: Path, err: OSError, published: bool):
        what = err.strerror or str(err) or type(err).__name__
        where = f": {err.filename}" if err.filename else ""
        after = ("the publish completes at the next run" if published
                 else "nothing was published; the previous outputs are unchanged")
        super().__init__(f"{out_dir}: cannot write the outputs ({what}{where}); {after}")
        self.errno = err.errno


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (creations, renames) durable. POSIX only: Windows
    cannot open a directory, and its renames are durable by the file system's journal."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OutputLock:
    """An exclusive, non-blocking lock on <out_dir>/.lock; raises OutputBusy when another
    run holds it. The kernel drops it when the holding process dies, however it dies."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / ".lock"
        self._lock = FileLock(self.path, timeout=0)

    def __enter__(self) -> OutputLock:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout as err:
            raise OutputBusy(f"{self.out_dir}: another evidex run is writing here (lock {self.path})") from err
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _make_way(out_dir: Path, name: str, warnings: list[str]) -> None:
    """A directory where an output file goes (`studies.csv/`, made by hand or another
    tool) cannot be replaced by a rename: move it aside, keeping what it holds."""
    target = out_dir / name
    if target.is_dir() and not target.is_symlink():
        n = 1
        while (aside := out_dir / f"{name}.not-evidex-{n}").exists():
            n += 1
        os.replace(target, aside)
        warnings.append(f"{target} is a directory, not an evidex output; moved aside to {aside} "
                        "so the new outputs could be published")


class Staging:
    """A staging directory inside the output directory; `publish` moves its files into
    place by the journaled protocol above; `warnings` says what it had to move aside."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{STAGING_PREFIX}{os.getpid()}"
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir()
        self.committed = False  # the journal is written: the publish will complete
        self.warnings: list[str] = []

    def publish(self) -> list[str]:
        """Publish every staged file; returns their names in the order they were moved."""
        names = sorted(p.name for p in self.path.iterdir())
        names = [n for n in names if n != LAST] + [n for n in names if n == LAST]
        for name in names:
            fsync_file(self.path / name)
            _make_way(self.out_dir, name, self.warnings)
        fsync_dir(self.path)
        die_at("publish", 1)  # staged, not committed: recovery rolls back
        journal = self.out_dir / JOURNAL
        tmp = self.out_dir / f"{JOURNAL}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"staging": self.path.name, "files": names}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, journal)
        fsync_dir(self.out_dir)
        self.committed = True
        die_at("publish", 2)  # committed, nothing moved: recovery rolls forward
        for i, name in enumerate(names):
            os.replace(self.path / name, self.out_dir / name)
            if i == len(names) // 2:
                die_at("publish", 3)  # half moved: old and new tables side by side until recovered
        fsync_dir(self.out_dir)
        die_at("publish", 4)  # all moved, journal still there
        journal.unlink()
        fsync_dir(self.out_dir)
        die_at("publish", 5)  # done; only the empty staging directory is left
        self.path.rmdir()
        return names

    def discard(self) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)


def _journal(out_dir: Path) -> tuple[Path, list[str]]:
    """The staging directory and file names a journal names; ValueError when it is not
    one `Staging.publish` wrote."""
    try:
        plan = json.loads((out_dir / JOURNAL).read_text(encoding="utf-8"))
        staging, files = plan["staging"], plan["files"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"not a publish journal ({type(err).__name__}: {err})") from err
    names = [staging, *files] if isinstance(files, list) else [files]
    if not all(isinstance(n, str) and n and Path(n).name == n and n not in (".", "..") for n in names) \
            or not staging.startswith(STAGING_PREFIX):
        raise ValueError("not a publish journal (unexpected names)")
    return out_dir / staging, files


def recover(out_dir: Path) -> list[str]:
    """Bring an output directory back to one consistent set of outputs after a crash
    (see the module docstring); call it holding the `OutputLock`. Returns warnings
    saying what was done (none when the last run ended normally)."""
    warnings: list[str] = []
    if not out_dir.is_dir():
        return warnings
    journal = out_dir / JOURNAL
    finished: Path | None = None  # the staging directory a journal named
    if journal.is_file():
        try:
            staging, files = _journal(out_dir)
        except ValueError as err:
            warnings.append(f"{journal}: {err}; removed, and the staged files with it")
        else:
            finished, moved = staging, 0
            for name in files:
                if (staging / name).is_file():
                    _make_way(out_dir, name, warnings)
                    os.replace(staging / name, out_dir / name)
                    moved += 1
            fsync_dir(out_dir)
            warnings.append(f"{out_dir}: completed a publish interrupted by a crash or kill "
                            f"({moved} of {len(files)} file(s) still to move); the outputs are that run's")
        journal.unlink()
        fsync_dir(out_dir)
    for stale in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        if stale.is_dir() and not stale.is_symlink():
            unpublished = stale != finished and any(stale.iterdir())  # empty: a publish that completed
            shutil.rmtree(stale)
            if unpublished:
                warnings.append(f"{stale}: removed the staging directory of a run that ended before publishing")
    temporary = [*out_dir.glob(f"{JOURNAL}.tmp-*"), *(out_dir / ".cache").glob(".*.tmp-*")]
    for tmp in temporary:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return warnings

