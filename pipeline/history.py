"""The change history of an output directory: every run that changed something keeps its change set.

`stage_changes` is the runner's call while it stages the outputs: given the change report of this run against
the previous outputs (`pipeline.diff.diff_dirs`), it

* notes, for each change whose cause is `rules`, which rule file defines the rule that
  produced the value and whether that file changed (`rule_file`, `rule_file_changed`;
  the per-file digests are in each manifest's `rules_files`), and lists the changed
  rule files (`rules_changed_files`);
* when something changed (or the previous outputs could not be compared), stamps the
  report with the time of the run and stages it as the latest `changes.json`; once the
  run has published, `record_history` keeps a copy as `changes/<UTC time>.json` (a
  failure there is a warning: the outputs are already published);
* when nothing changed, stages nothing: the previous `changes.json` — the last run that
  changed something — stays, so a no-op run never erases the record.

`changes.json` and `changes/` describe runs on this machine, so they are not committed
(`.gitignore`); nothing else in the output directory depends on the time.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .export import dump_json, write_text_atomic

LATEST = "changes.json"
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HISTORY_DIR = "changes"


def rule_file_digests(rules_dir: Path) -> dict[str, str]:
    """Rule file (path relative to the rules directory) → sha256 of its bytes, sorted by path."""
    return {p.relative_to(rules_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(rules_dir.rglob("*")) if p.is_file() and p.suffix in (".yaml", ".yml", ".jsonl")}


def _ids(node: Any) -> list[str]:
    """Every `id` value in a parsed rule file."""
    if isinstance(node, dict):
        own = [node["id"]] if isinstance(node.get("id"), str) else []
        return own + [i for v in node.values() for i in _ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _ids(v)]
    return []


def rule_files_by_id(rules_dir: Path) -> dict[str, str]:
    """Rule id → the rule file (relative path) that defines it, read from the files themselves."""
    out: dict[str, str] = {}
    for rel in rule_file_digests(rules_dir):
        path = rules_dir / rel
        try:
            text = path.read_text(encoding="utf-8")
            # libyaml's loader when present: the pure-Python one took a minute on a 20k-term vocabulary.
            docs = [json.loads(line) for line in text.splitlines() if line.strip()] if path.suffix == ".jsonl" \
                else [yaml.load(text, Loader=_SAFE_LOADER)]  # noqa: S506 - a safe loader
        except (OSError, ValueError, yaml.YAMLError):
            continue  # the rules loaded, so this does not happen; an attribution is never worth a crash
        for rule_id in _ids(docs):
            out.setdefault(rule_id, rel)
    return out


def _manifest(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def attribute_rules(changes: dict[str, Any], old: dict[str, Any], new: dict[str, Any], rules_dir: Path) -> None:
    """Add `rules_changed_files` to the report and `rule_file` / `rule_file_changed` to each
    measure change caused by the rules (in place)."""
    old_files, new_files = old.get("rules_files") or {}, new.get("rules_files") or {}
    changed = sorted(f for f in set(old_files) | set(new_files) if old_files.get(f) != new_files.get(f)) \
        if old_files and new_files else None
    changes["rules_changed_files"] = changed
    caused = [m for m in changes.get("measures") or [] if m.get("cause") == "rules" and m.get("rule_id")]
    by_id = rule_files_by_id(rules_dir) if caused else {}  # the rule files are read only when needed
    for m in caused:
        m["rule_file"] = by_id.get(m["rule_id"])
        m["rule_file_changed"] = None if changed is None or m["rule_file"] is None else m["rule_file"] in changed


def stage_changes(out_dir: Path, staged: Path, changes: dict[str, Any], rules_dir: Path,
                  now: datetime | None = None) -> bool:
    """Stage this run's change set as the latest `changes.json` when it changed something
    (stamped `run_at`, rule files attributed); returns False for a run that changed
    nothing, which stages nothing, so the previous `changes.json` stays."""
    if not changes.get("changed") and not changes.get("error"):
        return False
    attribute_rules(changes, _manifest(out_dir), _manifest(staged), rules_dir)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    changes["run_at"] = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
    (staged / LATEST).write_text(dump_json(changes), encoding="utf-8")
    return True


def keep_history(out_dir: Path, changes: dict[str, Any]) -> Path | None:
    """After the publish: keep the published change set as `changes/<run_at>.json` (so a
    run that failed to publish leaves no entry); None for a run that staged none.
    Raises OSError when the copy cannot be written (see `record_history`)."""
    run_at = changes.get("run_at")
    if not isinstance(run_at, str):
        return None
    stamp = run_at.replace("-", "").replace(":", "").replace(".", "")
    path = out_dir / HISTORY_DIR / f"{stamp}.json"
    write_text_atomic(path, dump_json(changes))
    return path


def record_history(out_dir: Path, changes: dict[str, Any]) -> list[str]:
    """`keep_history`, called once the outputs are published: a failure to write the
    history copy (a full disk, a file named `changes`) cannot undo that publish, so it
    is returned as a warning saying exactly that, never raised as a failed run."""
    try:
        keep_history(out_dir, changes)
    except OSError as err:
        what = err.strerror or str(err) or type(err).__name__
        where = f": {err.filename}" if err.filename else ""
        return [f"{out_dir}: the outputs were published (and {LATEST} with this run's changes); only the change "
                f"history was not recorded: cannot write {out_dir / HISTORY_DIR}/ ({what}{where})"]
    return []


def history(out_dir: Path) -> list[Path]:
    """The kept change sets of an output directory, oldest first."""
    return sorted((out_dir / HISTORY_DIR).glob("*.json"))
