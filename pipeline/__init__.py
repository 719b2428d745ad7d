"""evidex: clinical-evidence pages → grounded, analysis-ready tables of study measures.

The Python API (the same code as the `evidex` command)::

    import evidex

    for m in evidex.extract_text("ketamine 0.5 mg/kg IV gave 45% response"):
        print(m.type, m.value, m.unit, m.text, m.char_start, m.char_end)

    rules = evidex.load_rules("my-rules/")          # a maintainer's own rules
    evidex.extract_text(text, rules=rules)          # explicit rules always win
    summary = evidex.run("raw", "extracted")        # what `evidex run` does

- `extract_text(text, *, source="<text>", rules=None) -> list[Measure]`: the measures
  of one text, offsets into that text.
- `load_rules(dir=None) -> CompiledRules`: read, validate and compile a rules
  directory; `None` means the default rules (`$EVIDEX_RULES`, else the rules shipped
  with evidex). The result is frozen and independent of every other rule set; each
  call loads afresh: keep the result and pass it as `rules=`.
- `default_rules() -> CompiledRules`: the default rules, loaded once per process on first use
  and kept (the one module-level singleton; `$EVIDEX_RULES` is read at that first
  use). `extract_text` without `rules=` uses it, so calling it in a loop is cheap.
- `run(raw_dir, out_dir, *, rules=None, force=False, jobs=1) -> RunSummary`: extract
  every `*.txt` under `raw_dir` into the tables in `out_dir`.
- `read_tables(dir) -> Frames`: the `studies`, `measures` and `uncovered` tables of an
  extracted directory as pandas DataFrames with nullable dtypes (`string`, `Int64`,
  `Float64`, `boolean`, and `category` for closed vocabularies), derived from the models.

`Measure`, `Rules` (the validated rule data; `CompiledRules` is a `Rules`),
`CompiledRules`, `RuleError` and `RunSummary` are importable from here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .compiled import CompiledRules
    from .frames import Frames
    from .models import Measure
    from .rules import RuleError, Rules
    from .runner import RunSummary

__all__ = ["CompiledRules", "Frames", "Measure", "RuleError", "Rules", "RunSummary", "__version__", "default_rules",
           "extract_text", "load_rules", "read_tables", "run"]

# Imported on first use, so `import evidex` (and `evidex --version`) stays light.
_LAZY = {"CompiledRules": "compiled", "Frames": "frames", "Measure": "models", "Rules": "rules", "RuleError": "rules",
         "RunSummary": "runner"}

# The process's one default handle (see `default_rules`): not a cache keyed by anything.
_DEFAULT_RULES: CompiledRules | None = None


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_rules(dir: str | Path | None = None) -> CompiledRules:
    """Read, validate and compile a rules directory (`None`: the default rules) into frozen `CompiledRules`.

    Raises `RuleError` naming the file, line and rule id of the first problem.
    """
    from .rules import load_rules as _load_rules

    return _load_rules(Path(dir) if dir is not None else None)


def default_rules() -> CompiledRules:
    """The default rules, loaded on first use and then kept for the whole process."""
    global _DEFAULT_RULES
    if _DEFAULT_RULES is None:
        _DEFAULT_RULES = load_rules()
    return _DEFAULT_RULES


def extract_text(text: str, *, source: str = "<text>", rules: CompiledRules | None = None) -> list[Measure]:
    """Every measure evidex reads in `text` (offsets are into `text`).

    `source` names the text in each measure's `source` and ids; `rules` defaults to
    `default_rules()`.
    """
    from .build import process_text

    return process_text(source, text, rules if rules is not None else default_rules()).measures


def run(raw_dir: str | Path, out_dir: str | Path, *, rules: Rules | str | Path | None = None,
        force: bool = False, jobs: int = 1) -> RunSummary:
    """Extract every `*.txt` under `raw_dir` into `out_dir`, as `evidex run` does.

    `rules` is a rules directory (or a loaded `Rules`, whose directory is used: worker
    processes load it themselves); `None` means the default rules.
    """
    from .rules import Rules as _Rules
    from .runner import run as _run

    rules_dir = rules.rules_dir if isinstance(rules, _Rules) else (Path(rules) if rules is not None else None)
    return _run(Path(raw_dir), Path(out_dir), rules_dir, force=force, jobs=jobs)


def read_tables(dir: str | Path) -> Frames:
    """The tables of an extracted directory as typed pandas DataFrames (`evidex.frames`)."""
    from .frames import read_tables as _read_tables

    return _read_tables(dir)
