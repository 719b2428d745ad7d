"""The lowest versions pyproject.toml allows, as a pip constraints file (`make test-min`).

`python tests/lower_bounds.py [pyproject.toml] > constraints-min.txt` prints one
`name==version` line per runtime dependency: its `>=` (or `==` / `~=`) lower bound. A
dependency without a lower bound is an error, since nothing would test its oldest
release. Only the runtime dependencies are pinned: the test tools are not what users
install. `--check` exits 1 when an installed version is not its lower bound.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement


def lower_bound(requirement: str) -> str:
    """`name==lowest` for one PEP 508 requirement string; ValueError when it has no lower bound."""
    req = Requirement(requirement)
    lows = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
    if not lows:
        raise ValueError(f"{requirement!r} has no lower bound (>=, == or ~=)")
    if len(lows) > 1:
        raise ValueError(f"{requirement!r} has more than one lower bound")
    return f"{req.name}=={lows[0]}"


def constraints(pyproject: Path) -> list[str]:
    """One `name==lowest` line per runtime dependency of the project, in file order."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [lower_bound(r) for r in project["dependencies"]]


def not_at_lower_bound(lines: list[str]) -> list[str]:
    """The constraints the running environment does not meet exactly (installed version
    differs from the lower bound, or the package is missing)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    out = []
    for line in lines:
        name, want = line.split("==")
        try:
            have = version(name)
        except PackageNotFoundError:
            out.append(f"{name}: not installed (wanted {want})")
            continue
        if Version(have) != Version(want):
            out.append(f"{name}: {have} installed, lower bound {want}")
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    path = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "pyproject.toml"
    lines = constraints(path)
    if "--check" in sys.argv:
        problems = not_at_lower_bound(lines)
        for p in problems:
            print(f"test-min: {p}", file=sys.stderr)
        sys.exit(1 if problems else 0)
    sys.stdout.write("".join(line + "\n" for line in lines))
