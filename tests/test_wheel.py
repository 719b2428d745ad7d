"""The wheel works outside the checkout: build it, install it in a fresh venv, and from a
directory that is not the checkout run the CLI (`check-rules`, `extract -`), the Python
API and `nlp.add_pipe("evidex")`.

The fresh venv gets evidex from the wheel only; its dependencies are borrowed from the
test's own environment through a `.pth` path line (so nothing is downloaded but the
build backend). A path line does not run that environment's own `.pth` files, so the
editable evidex of the checkout stays invisible there — the test asserts that
`evidex` is imported from the new venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from evidex.rules import load_rules

from conftest import ROOT

pytestmark = pytest.mark.slow

SENTENCE = "ketamine 0.5 mg/kg IV gave 45% response"
EXPECTED = [["dose", 0.5, "mg/kg", None], ["route", None, None, "IV"], ["response_rate", 45.0, "%", None]]


def _run(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """(venv, work directory outside the checkout, environment) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # only what the wheel is built from: no build/ left in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("pipeline", "rules"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EVIDEX_RULES", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)], tmp, env)
    (wheel,) = (tmp / "dist").glob("evidex-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"evidex/_rules/{p.relative_to(ROOT / 'rules').as_posix()}" for p in (ROOT / "rules").rglob("*") if p.is_file()}
    assert shipped <= names, f"rules missing from the wheel: {sorted(shipped - names)}"
    assert {"evidex/py.typed", "evidex/__main__.py", "evidex/spacy_component.py"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_evidex_test_deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)), encoding="utf-8")
    _run([str(py), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], tmp, env)
    work = tmp / "elsewhere"
    work.mkdir()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, work, env


def test_cli_check_rules_uses_the_shipped_rules(installed):
    venv, work, env = installed
    out = _run([str(venv / "bin" / "evidex"), "check-rules"], work, env)
    assert "rules OK" in out and load_rules(ROOT / "rules").digest[:12] in out, out


def test_cli_extract_stdin(installed):
    venv, work, env = installed
    out = _run([str(venv / "bin" / "evidex"), "extract", "-"], work, env, stdin=SENTENCE + "\n")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [[r["type"], r["value"], r["unit"], r["label"]] for r in rows] == EXPECTED
    assert _run([str(venv / "bin" / "python"), "-m", "evidex", "--version"], work, env).startswith("evidex ")


def _python_json(installed, code: str) -> dict:
    """Run `code` with SENTENCE as argv[1] in the wheel's venv, outside the checkout; parse what it prints."""
    venv, work, env = installed
    got = json.loads(_run([str(venv / "bin" / "python"), "-c", code, SENTENCE], work, env))
    assert Path(got["file"]).is_relative_to(venv), got["file"]  # the wheel, not the checkout
    return got


def test_python_api(installed):
    venv = installed[0]
    got = _python_json(installed, "import json, sys, evidex; ms = evidex.extract_text(sys.argv[1]); "
                                  "print(json.dumps({'file': evidex.__file__, 'rules': str(evidex.default_rules().rules_dir), "
                                  "'rows': [[m.type, m.value, m.unit, m.label] for m in ms]}))")
    assert Path(got["rules"]).is_relative_to(venv) and Path(got["rules"]).name == "_rules"
    assert got["rows"] == EXPECTED


def test_spacy_add_pipe_without_import_evidex(installed):
    got = _python_json(installed, "import json, sys, spacy; nlp = spacy.blank('en'); nlp.add_pipe('evidex'); "
                                  "doc = nlp(sys.argv[1]); print(json.dumps({'file': sys.modules['evidex'].__file__, "
                                  "'rows': [[s.label_, s._.evidex.value, s._.evidex.unit, s._.evidex.label] "
                                  "for s in doc.spans['evidex']]}))")
    assert got["rows"] == EXPECTED
