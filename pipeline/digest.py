"""The digest of evidex's own code: a code change invalidates every cache keyed by it.

Kept apart from the runner so that the rule loader's cache (`pipeline/rulecache.py`)
can read it without importing the runner's dependencies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import __version__


def code_digest() -> str:
    """sha256 of evidex's version and its own source files (`pipeline/*.py`)."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


CODE_DIGEST = code_digest()
