"""`--engine dask`: extraction on a `dask.distributed` cluster (the optional `dask` extra).

Imported only when `--engine dask` is asked for (`pipeline.engines.make_engine`).
`DaskEngine(workers=N)` starts a `LocalCluster` of N single-threaded worker processes
for the run; `DaskEngine(scheduler=ADDRESS)` connects to an existing cluster and leaves
it running. Either way a worker plugin hands every worker the rules files (so workers
need no copy of the rules directory), and each worker loads them once, checks that its
rules digest and evidex code digest are the client's (a worker with other code or
another drug lexicon would give other rows), and keeps them for every task. When the
client loaded its rules through the rules cache, each worker loads them through its own
machine's default cache (`pipeline/rulecache.py`).

Tasks are the same module-level functions the local pool runs; their results come back
to the client, which writes every table, so outputs stay on the client's disk.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin

from .compiled import CompiledRules
from .engines import Future, Pool, init_worker

PLUGIN_NAME = "evidex-rules"

# One task at a time per worker process: the extraction engines are not shared between
# threads, and pure-Python work gains nothing from more threads under the GIL.
_TASK_LOCK = threading.Lock()


def _rule_files(rules_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(rules_dir).as_posix(): p.read_bytes() for p in sorted(rules_dir.rglob("*")) if p.is_file()}


class RulesPlugin(WorkerPlugin):
    """Loads the client's rules once on every worker (and on workers that join later)."""

    def __init__(self, files: dict[str, bytes], rules_digest: str, code_digest: str, use_cache: bool = False):
        self.files, self.rules_digest, self.code_digest = files, rules_digest, code_digest
        # The cache is per machine: a worker uses its own default cache directory
        # ($EVIDEX_CACHE_DIR or the user cache), never a path from the client's disk.
        self.use_cache = use_cache

    def setup(self, worker: Any) -> None:
        from .rulecache import default_cache_dir
        from .runner import CODE_DIGEST

        if self.code_digest != CODE_DIGEST:
            raise RuntimeError(f"evidex on worker {worker.address} is not the client's evidex (code digest "
                               f"{CODE_DIGEST[:12]} vs {self.code_digest[:12]}): install the same version everywhere")
        rules_dir = Path(tempfile.mkdtemp(prefix="evidex-rules-", dir=getattr(worker, "local_directory", None)))
        for rel, data in self.files.items():
            path = rules_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            init_worker(str(rules_dir), self.rules_digest, str(default_cache_dir()) if self.use_cache else None)
        except RuntimeError as err:
            raise RuntimeError(f"worker {worker.address}: {err}") from err


def _run_locked(fn: Callable[..., Any], *args: Any) -> Any:
    with _TASK_LOCK:
        return fn(*args)


@dataclass
class _DaskPool:
    client: Client
    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        # pure=False: two tasks with equal arguments are still two tasks (no result reuse
        # across runs with changed rules).
        future: Future = self.client.submit(_run_locked, fn, *args, pure=False)
        return future


@dataclass
class DaskEngine:
    """A LocalCluster of `workers` processes (default 2), or the cluster at `scheduler`."""

    workers: int | None = None
    scheduler: str | None = None

    @contextmanager
    def open(self, rules: CompiledRules) -> Iterator[Pool]:
        from .runner import CODE_DIGEST

        cluster: LocalCluster | None = None
        if self.scheduler is not None:
            client = Client(self.scheduler)
        else:
            # No dashboard: a run needs none, and several runs on one machine must not
            # compete for its port.
            cluster = LocalCluster(n_workers=self.workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
            client = Client(cluster)
        try:
            client.register_plugin(RulesPlugin(_rule_files(rules.rules_dir), rules.digest, CODE_DIGEST,
                                              use_cache=rules.rules_cache is not None), name=PLUGIN_NAME)
            threads = sum(client.nthreads().values())
            yield _DaskPool(client, max(1, threads))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
