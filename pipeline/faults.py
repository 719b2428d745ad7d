"""Test hook: kill this process at a named point, so the kill tests can crash a real run
exactly where they mean to (docs/reliability.md).

Set `EVIDEX_FAULT` to a comma-separated list of `point:detail` entries; when the code
reaches `die_at(point, detail)` with a matching entry, the process sends itself SIGKILL
(the signal an out-of-memory kill or `kill -9` delivers: no cleanup runs, nothing is
flushed). Points: `publish:N` (after step N of `pipeline.outdir.Staging.publish`) and
`worker:SOURCE` (a `--jobs` worker about to process SOURCE). Unset — always, outside
the tests — it does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "EVIDEX_FAULT"


def die_at(point: str, detail: object) -> None:
    """SIGKILL this process when `EVIDEX_FAULT` lists `point:detail`; otherwise return."""
    wanted = os.environ.get(ENV)
    if wanted and f"{point}:{detail}" in wanted.split(","):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
