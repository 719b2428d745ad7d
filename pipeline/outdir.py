"""The output directory's protocol: one run at a time, and a publish that a crash can
interrupt at any point without leaving a mixed set of outputs behind once recovered.

Analysts load `extracted/*.csv|parquet` at fixed paths, so the files themselves are
replaced, not a pointer to a version directory. The protocol (docs/reliability.md):

1. `Staging`: every output is written into `<out>/.staging-<pid>/` (a corpus run's part
   files in subdirectories, `measures/part-000000.parquet`); `publish` fsyncs each staged
   file and directory, and creates the subdirectories the files go to in `<out>`.
2. It writes the journal `<out>/.publish.json` (the staging directory, the files by
   relative path, and the files of the replaced subdirectories the new set lacks)
   through a temporary file, fsync and rename, then fsyncs `<out>`: the rename commits.
3. It renames the staged files into `<out>` one by one, `manifest.json` last (a reader
   that sees the new manifest sees the new tables), removes the files the new set
   lacks (a corpus run with fewer partitions than the last), and fsyncs each directory.
4. It removes the journal, fsyncs `<out>`, and removes the empty staging directory.

Page runs (`pipeline.runner`) and corpus runs (`pipeline.corpus_run`) both publish this way.

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
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

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
        aside = _move_aside(out_dir, name)
        warnings.append(f"{target} is a directory, not an evidex output; moved aside to {aside} "
                        "so the new outputs could be published")


def _move_aside(out_dir: Path, name: str) -> Path:
    """Rename out_dir/name to the first free `name.not-evidex-N` beside it; returns that path."""
    n = 1
    while (aside := out_dir / f"{name}.not-evidex-{n}").exists():
        n += 1
    os.replace(out_dir / name, aside)
    return aside


def _staged_files(root: Path) -> list[str]:
    """Every file under a staging directory, as relative POSIX paths, sorted, with the
    top-level manifest last."""
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return [n for n in names if n != LAST] + [n for n in names if n == LAST]


def _parents(names: Iterable[str]) -> set[str]:
    """The directories (relative POSIX paths, "." for the root) that hold `names`."""
    return {PurePosixPath(n).parent.as_posix() for n in names}


def _fsync_dirs(root: Path, dirs: Iterable[str]) -> None:
    """fsync `root` and each of `dirs` under it that exists, deepest first."""
    for rel in sorted(set(dirs) | {"."}, key=lambda d: (-d.count("/"), d)):
        if (root / rel).is_dir():
            fsync_dir(root / rel)


def _make_parents(out_dir: Path, dirs: Iterable[str], warnings: list[str]) -> None:
    """Create the subdirectories `dirs` of out_dir the staged files go to; a file where
    one of them belongs is moved aside (kept), like a directory where a file belongs."""
    for rel in sorted(set(dirs) - {"."}):
        target = out_dir / rel
        if target.exists() and not target.is_dir():
            aside = _move_aside(out_dir, rel)
            warnings.append(f"{target} is a file, not an evidex output directory; moved aside to {aside} "
                            "so the new outputs could be published")
        target.mkdir(parents=True, exist_ok=True)


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

    def publish(self, replace_dirs: Iterable[str] = ()) -> list[str]:
        """Publish every staged file (subdirectories included); returns their relative
        paths in the order they were moved. Each of `replace_dirs` (subdirectories of
        the output directory, e.g. a corpus run's `measures`) is replaced whole: its
        files that the staged set lacks are removed in the same journaled step."""
        names = _staged_files(self.path)
        replaced = sorted(set(replace_dirs))
        for rel in replaced:
            (self.path / rel).mkdir(parents=True, exist_ok=True)  # an empty table stays a directory
        for name in names:
            fsync_file(self.path / name)
            _make_way(self.out_dir, name, self.warnings)
        dirs = _parents(names) | set(replaced)
        _make_parents(self.out_dir, dirs, self.warnings)
        keep = set(names)
        stale = sorted(rel for d in replaced for p in (self.out_dir / d).rglob("*")
                       if p.is_file() and (rel := p.relative_to(self.out_dir).as_posix()) not in keep)
        _fsync_dirs(self.path, dirs)
        _fsync_dirs(self.out_dir, dirs)
        die_at("publish", 1)  # staged, not committed: recovery rolls back
        journal = self.out_dir / JOURNAL
        tmp = self.out_dir / f"{JOURNAL}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"staging": self.path.name, "files": names, "remove": stale}, fh)
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
        _remove(self.out_dir, stale)
        _fsync_dirs(self.out_dir, dirs)
        die_at("publish", 4)  # all moved, journal still there
        journal.unlink()
        fsync_dir(self.out_dir)
        die_at("publish", 5)  # done; only the empty staging directory is left
        shutil.rmtree(self.path)  # empty but for the subdirectories the files were staged in
        return names

    def discard(self) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)


def _remove(out_dir: Path, names: Iterable[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / name).unlink()


def _safe_relative(name: object) -> bool:
    """A journal entry names a path inside the output directory: relative, no `..`."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in name.split("/"))


def _journal(out_dir: Path) -> tuple[Path, list[str], list[str]]:
    """The staging directory, file names and files to remove a journal names; ValueError
    when it is not one `Staging.publish` wrote."""
    try:
        plan = json.loads((out_dir / JOURNAL).read_text(encoding="utf-8"))
        staging, files, remove = plan["staging"], plan["files"], plan.get("remove", [])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"not a publish journal ({type(err).__name__}: {err})") from err
    if not isinstance(files, list) or not isinstance(remove, list) or not isinstance(staging, str) \
            or Path(staging).name != staging or not staging.startswith(STAGING_PREFIX) \
            or not all(_safe_relative(n) for n in [*files, *remove]):
        raise ValueError("not a publish journal (unexpected names)")
    return out_dir / staging, files, remove


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
            staging, files, remove = _journal(out_dir)
        except ValueError as err:
            warnings.append(f"{journal}: {err}; removed, and the staged files with it")
        else:
            finished, moved = staging, 0
            _make_parents(out_dir, _parents(files), warnings)
            for name in files:
                if (staging / name).is_file():
                    _make_way(out_dir, name, warnings)
                    os.replace(staging / name, out_dir / name)
                    moved += 1
            _remove(out_dir, remove)
            _fsync_dirs(out_dir, _parents([*files, *remove]))
            warnings.append(f"{out_dir}: completed a publish interrupted by a crash or kill "
                            f"({moved} of {len(files)} file(s) still to move); the outputs are that run's")
        journal.unlink()
        fsync_dir(out_dir)
    for stale in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        if stale.is_dir() and not stale.is_symlink():
            unpublished = stale != finished and any(p.is_file() for p in stale.rglob("*"))  # no files: a publish that completed
            shutil.rmtree(stale)
            if unpublished:
                warnings.append(f"{stale}: removed the staging directory of a run that ended before publishing")
    temporary = [*out_dir.glob(f"{JOURNAL}.tmp-*"), *(out_dir / ".cache").glob(".*.tmp-*")]
    for tmp in temporary:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return warnings

