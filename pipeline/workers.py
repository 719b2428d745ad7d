"""Worker processes for `evidex run --jobs N`: they never hold the output lock, they die
with the run that started them, and one that dies costs only the source it was on.

- **Started with `spawn`** (a fresh interpreter, `fork` + `exec` on POSIX): a forked
  worker would inherit the open descriptor behind the output lock and keep it locked
  after the run is killed. Across `exec` only inheritable descriptors survive, and
  Python opens every file non-inheritable (PEP 446), so the lock stays with the parent.
- **Parent-death guard** in each worker: on Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)` (via
  ctypes) has the kernel kill the worker the moment the run dies, even mid-regex; on
  every platform a daemon thread also waits on `multiprocessing.parent_process()`'s
  sentinel (a pipe the parent holds open) and exits the worker when it closes.
- **A dead worker** (`BrokenProcessPool`: SIGKILL, the out-of-memory killer) fails every
  future in flight, and the pool cannot say which source killed it. Those sources are
  run again one at a time in a one-worker pool: a source whose worker dies when it runs
  alone is the cause and is reported as such; the others' results are kept. On Dask,
  whose scheduler retries a task on other workers itself, a task it gives up on
  (`KilledWorker`) is reported the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compiled import CompiledRules
    from .engines import Engine, Pool

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _exit_with_parent(parent_pid: int) -> None:
    """Make this worker end when the process that started it does."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = multiprocessing.parent_process()
    threading.Thread(target=_watch, args=(parent, parent_pid), name="evidex-parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the guard was set
        os._exit(1)


def _watch(parent: multiprocessing.process.BaseProcess | None, parent_pid: int) -> None:
    if parent is not None:
        parent.join()  # returns when the parent's end of the sentinel pipe closes
    else:  # not started by multiprocessing: poll (a dead parent's children are re-parented)
        while os.getppid() == parent_pid:
            time.sleep(0.5)
    os._exit(1)


def _bootstrap(parent_pid: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    _exit_with_parent(parent_pid)
    initializer(*initargs)


def new_pool(jobs: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> ProcessPoolExecutor:
    """A pool of `jobs` spawned workers, each guarded to die with this process, then
    initialized with `initializer(*initargs)`."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_bootstrap, initargs=(os.getpid(), initializer, initargs))


def _died(err: BaseException) -> bool:
    """A worker process died under the task (not: the task raised)."""
    return isinstance(err, BrokenProcessPool)


def _killed_worker(err: BaseException) -> bool:
    """Dask's verdict after its own retries: this task kept killing its workers."""
    return type(err).__name__ == "KilledWorker"


DIED = ("its worker process died while processing it (killed by a signal, or out of memory); "
        "the other sources were published")


class Workers:
    """`fn(*args)` on an engine's pool (`pipeline.engines`): `submit(key, *args)`, then
    `result(key)` for each key, in any order.

    `result` returns `(value, None)`, or `(None, message)` when the source killed its
    worker: a local worker that died with the source running alone in a one-worker
    pool (after a `BrokenProcessPool`, every source in flight is run again that way),
    or a task Dask gave up on (`KilledWorker`). `warnings` says when sources had to be
    run again. Use as a context manager: leaving it shuts every pool down.
    """

    def __init__(self, engine: Engine, rules: CompiledRules, fn: Callable[..., Any]):
        self._engine, self._rules, self._fn = engine, rules, fn
        self._stack = ExitStack()
        self._pool: Pool | None = None
        self._pool_exit: ExitStack | None = None
        self._solo: tuple[Pool, ExitStack] | None = None  # runs suspects one at a time
        self._pending: dict[Any, tuple[Any, tuple[Any, ...]]] = {}
        self._suspects: dict[Any, tuple[Any, ...]] = {}  # key → args, in flight when a worker died
        self.warnings: list[str] = []
        self.slots = 1

    def __enter__(self) -> Workers:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()
        if self._solo is not None:
            self._solo[1].close()
            self._solo = None

    def __len__(self) -> int:
        return len(self._pending) + len(self._suspects)

    def _open(self) -> Pool:
        if self._pool is None:
            self._pool_exit = ExitStack()
            self._pool = self._pool_exit.enter_context(self._engine.open(self._rules))
            self.slots = self._pool.workers
        return self._pool

    def _close(self) -> None:
        if self._pool_exit is not None:
            self._pool_exit.close()
        self._pool = self._pool_exit = None

    def submit(self, key: Any, *args: Any) -> None:
        try:
            self._pending[key] = (self._open().submit(self._fn, *args), args)
        except BrokenProcessPool:  # broke since the last result: its futures are lost too
            self._broken()
            self._pending[key] = (self._open().submit(self._fn, *args), args)

    def _broken(self) -> None:
        """The pool lost a worker: every source in flight without a result becomes a suspect."""
        self._close()

        def arrived(future: Any) -> bool:  # results that came back before the break stay
            return bool(future.done()) and not future.cancelled() and future.exception() is None

        finished = {k: v for k, v in self._pending.items() if arrived(v[0])}
        lost = {k: v[1] for k, v in sorted(self._pending.items(), key=lambda kv: kv[0]) if k not in finished}
        self._pending = finished
        self._suspects.update(lost)
        self.warnings.append(f"a worker process died (killed by a signal or out of memory) with {len(lost)} "
                             "source(s) in flight; they were run again one at a time")

    def result(self, key: Any) -> tuple[Any, str | None]:
        if key in self._pending:
            future, _ = self._pending[key]
            try:
                value = future.result()
            except Exception as err:
                if _killed_worker(err):
                    del self._pending[key]
                    return None, DIED
                if not _died(err):
                    raise
                self._broken()
            else:
                del self._pending[key]
                return value, None
        return self._alone(self._suspects.pop(key))

    def _alone(self, args: tuple[Any, ...]) -> tuple[Any, str | None]:
        from .engines import LocalEngine

        if self._solo is None:
            stack = ExitStack()
            self._solo = stack.enter_context(LocalEngine(1).open(self._rules)), stack
        try:
            return self._solo[0].submit(self._fn, *args).result(), None
        except BrokenProcessPool:
            self._solo[1].close()
            self._solo = None
            return None, DIED
