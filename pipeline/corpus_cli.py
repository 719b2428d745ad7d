"""`evidex run CORPUS_FILE`: the command-line side of a corpus run (progress, summary, exit code).

Kept apart from `pipeline.cli` so the page-directory command stays as it was; `cli.run`
hands a corpus file here. Exit codes as for every command: 1 when a record was
rejected (the others are still written), 2 for a corpus file that cannot be read,
3 for invalid rules, 4 when the output directory is locked.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .cli import _fail, _say, console
from .corpus import CorpusError
from .corpus_run import run_corpus
from .engines import Engine
from .models import MEASURE_TYPES
from .outdir import OutputBusy
from .rulecache import RulesCache
from .rules import RuleError

MAX_LISTED = 50  # rejected records printed one by one; all of them are in manifest.json


def run_corpus_command(corpus: Path, out_dir: Path, rules: Path | None, *, force: bool, engine: Engine | None,
                       quiet: bool, id_column: str, text_column: str, partition_size: int,
                       rules_cache: RulesCache | None = None) -> None:
    """Run `run_corpus` with a progress bar, print what was rejected and the totals, and
    exit 1 when a record was rejected."""
    try:
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, disable=quiet or not console.is_terminal, transient=True) as progress:
            task = progress.add_task("records", total=None)
            summary = run_corpus(corpus, out_dir, rules, id_column=id_column, text_column=text_column, force=force,
                                 engine=engine, partition_size=partition_size, rules_cache=rules_cache,
                                 on_partition=lambda done: progress.update(task, advance=len(done)))
    except CorpusError as err:
        raise _fail(2, str(err)) from err
    except RuleError as err:
        raise _fail(3, f"invalid rules, refusing to run: {err}") from err
    except OutputBusy as err:
        raise _fail(4, str(err)) from err
    for w in summary.warnings:
        _say(console, "warning:", "yellow", w)
    failed = summary.failed
    for o in failed[:MAX_LISTED]:
        _say(console, "rejected:", "bold red", o.error or "")
    if len(failed) > MAX_LISTED:
        _say(console, "rejected:", "bold red", f"… and {len(failed) - MAX_LISTED} more (all listed in {out_dir / 'manifest.json'})")
    if not quiet:
        totals = summary.totals()
        table = Table(title=f"evidex run {corpus.name} → {out_dir}")
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_row("records", str(len(summary.outcomes)))
        table.add_row("extracted", str(sum(1 for o in summary.outcomes if not o.error and not o.cached)))
        table.add_row("unchanged (reused)", str(sum(1 for o in summary.outcomes if o.cached)))
        table.add_row("rejected", str(len(failed)))
        table.add_row("partitions", str(summary.partitions))
        table.add_row("blocks", str(sum(o.blocks for o in summary.outcomes)))
        for t in MEASURE_TYPES:
            table.add_row(t, str(totals[t]))
        table.add_row("[bold]measures", str(sum(totals.values())))
        console.print(table)
    if failed:
        raise typer.Exit(1)
