"""The documentation works on a clone (issue 20 item 7): every relative link in the README
and docs/ resolves inside the repository, the contract's copies in docs/spec/ are the
shared spec, and the README's API and spaCy examples print what the README says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from conftest import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")
SHARED_SPEC = ROOT.parent / "shared" / "spec"


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_relative_link_resolves_inside_the_repository():
    checked = 0
    for md in _markdown_files():
        for target in LINK.findall(md.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (md.parent / target.split("#", 1)[0]).resolve()
            assert path.is_relative_to(ROOT), f"{md.relative_to(ROOT)} links outside the repository: {target}"
            assert path.exists(), f"{md.relative_to(ROOT)}: broken link {target}"
            checked += 1
    assert checked >= 10


def test_readme_names_the_contract_inside_the_repository_with_its_version():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared/spec" not in readme
    assert "[SCHEMA v1.1](docs/spec/SCHEMA.md)" in readme
    for name in ("SCHEMA.md", "ANNOTATION.md"):
        assert (ROOT / "docs" / "spec" / name).read_text(encoding="utf-8").splitlines()[0].endswith("(v1.1)")


def test_models_implement_the_documented_schema_version():
    from evidex.models import SCHEMA_VERSION

    first = (ROOT / "docs" / "spec" / "SCHEMA.md").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# Output contract (v{SCHEMA_VERSION})"


@pytest.mark.parametrize("name", ["SCHEMA.md", "ANNOTATION.md"])
def test_spec_copies_equal_the_shared_spec(name):
    if not (SHARED_SPEC / name).exists():
        pytest.skip(f"no shared spec folder at {SHARED_SPEC}")
    assert (ROOT / "docs" / "spec" / name).read_bytes() == (SHARED_SPEC / name).read_bytes(), \
        f"docs/spec/{name} differs from {SHARED_SPEC / name}: copy it (and update the version in docs/spec/README.md)"


def _python_blocks(after: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(after):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def _run_example(code: str) -> tuple[list[str], list[str]]:
    """(printed lines, the `# ` lines the README shows as their output)."""
    runnable = "\n".join(line for line in code.splitlines()
                         if not line.startswith("#") and "my-rules/" not in line and "text, source=" not in line
                         and "evidex.run(" not in line)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(runnable, "README example", "exec"), {})
    shown = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    return out.getvalue().splitlines(), shown


def test_readme_api_example_prints_what_it_shows():
    printed, shown = _run_example(_python_blocks("The API:"))
    assert printed == shown and len(shown) == 3


def test_readme_spacy_example_prints_what_it_shows():
    printed, shown = _run_example(_python_blocks("In a spaCy pipeline of your own"))
    assert printed == shown and len(shown) == 3
