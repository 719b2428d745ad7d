"""Where sources are extracted: in worker processes here (`local`) or on Dask (`dask`).

An `Engine` opens a `Pool` for one run. A pool runs module-level functions (the same
pure per-source work the single-process runner does) on workers that each loaded the
rules once: `submit(fn, *args)` returns a future whose `.result()` is `fn(*args)`.
Work functions find the worker's rules with `worker_rules()`.

`make_engine("dask", ...)` imports `pipeline.dask_engine` (and so `dask.distributed`)
only then; without the `dask` extra it raises `EngineUnavailable` saying how to
install it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .compiled import CompiledRules
from .workers import new_pool

ENGINES = ("local", "dask")


class EngineUnavailable(Exception):
    """The engine asked for cannot be used here (its optional dependency is missing)."""


class Future(Protocol):
    def result(self) -> Any: ...


class Pool(Protocol):
    """Workers with the rules loaded: `workers` slots, `submit` runs a function on one."""

    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future: ...


class Engine(Protocol):
    def open(self, rules: CompiledRules) -> AbstractContextManager[Pool]: ...


# The rules of this worker process, loaded once by `init_worker` (a --jobs worker's
# initializer, or the Dask worker plugin).
_WORKER_RULES: CompiledRules | None = None


def init_worker(rules_dir: str, expected_digest: str | None = None, cache_dir: str | None = None) -> None:
    """Load (read and compile) the rules once for this worker process.

    With `cache_dir`, through the rules cache there (`pipeline/rulecache.py`, as the
    client loaded them): a warm entry spares the worker the seconds of validating and
    compiling rules validated before. With `expected_digest`, rules that load with
    another digest raise RuntimeError and the worker keeps the rules it had. The worker
    lives for one run (or one cluster): gc.freeze keeps the collector off the
    long-lived compiled rules (runner._long_lived).
    """
    from .rules import load_rules

    global _WORKER_RULES
    cache = None
    if cache_dir is not None:
        from .rulecache import RulesCache

        cache = RulesCache(cache_dir)
    rules = load_rules(Path(rules_dir), cache=cache)
    if expected_digest is not None and rules.digest != expected_digest:
        raise RuntimeError(f"rules load here with digest {rules.digest[:12]}, the client's is {expected_digest[:12]}: "
                           "the drug lexicon package differs; install the same versions everywhere")
    _WORKER_RULES = rules
    gc.freeze()


def worker_rules() -> CompiledRules:
    """The rules `init_worker` loaded in this process."""
    if _WORKER_RULES is None:
        raise RuntimeError("evidex worker without rules: init_worker was not run in this process")
    return _WORKER_RULES


def worker_cache_dir(rules: CompiledRules) -> str | None:
    """The rules cache directory workers on this machine load `rules` through (the one the
    client used, `CompiledRules.rules_cache`), or None when the client used none."""
    return str(rules.rules_cache.root) if rules.rules_cache is not None else None


@dataclass
class _ProcessPool:
    executor: ProcessPoolExecutor
    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.executor.submit(fn, *args)


@dataclass
class LocalEngine:
    """`jobs` worker processes on this machine (concurrent.futures, `pipeline.workers.new_pool`)."""

    jobs: int = 2

    @contextmanager
    def open(self, rules: CompiledRules) -> Iterator[Pool]:
        # Spawned and guarded to die with this process: no worker can keep the output lock.
        with new_pool(self.jobs, init_worker, (str(rules.rules_dir), None, worker_cache_dir(rules))) as executor:
            yield _ProcessPool(executor, self.jobs)


def make_engine(name: str, *, jobs: int = 1, workers: int | None = None, scheduler: str | None = None) -> Engine | None:
    """The engine for `evidex run --engine NAME`; None means "one process, no pool".

    `local` uses `jobs` processes; `dask` starts a LocalCluster of `workers` workers, or
    connects to the cluster at `scheduler`. Raises EngineUnavailable without dask, and
    ValueError for an unknown name or options that do not fit the engine.
    """
    if name == "local":
        if workers is not None or scheduler is not None:
            raise ValueError("--workers and --scheduler are for --engine dask (use --jobs for local processes)")
        return LocalEngine(jobs) if jobs > 1 else None
    if name == "dask":
        if workers is not None and scheduler is not None:
            raise ValueError("give --workers (a local cluster) or --scheduler (an existing one), not both")
        try:
            from .dask_engine import DaskEngine
        except ImportError as err:
            raise EngineUnavailable(
                f"--engine dask needs dask.distributed, which is not installed ({err}); "
                "install it with: pip install 'evidex[dask]'") from err
        return DaskEngine(workers=workers, scheduler=scheduler)
    raise ValueError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
