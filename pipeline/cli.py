"""The `evidex` command line (typer + rich).

Exit codes (all commands):
  0  success (for `diff`: nothing changed)
  1  finished, but something failed or changed: an input was rejected (`run`), a
     score is under its threshold (`eval --check`), a change was found (`diff`)
  2  usage error (bad option or missing path)
  3  invalid rules: evidex refuses to run (file, line and rule id are printed)
  4  the output directory is locked by another run, or gold is malformed
  5  the output directory cannot be written (read-only, full, not permitted): one line
     names the file and the reason; the previous outputs are left as they were
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from . import __version__
from .ingest import InputError, decode_source, printable
from .models import MEASURE_TYPES
from .rules import RuleError, load_rules

app = typer.Typer(
    help="evidex — turn clinical-evidence pages into grounded, analysis-ready tables.\n\n"
    "Exit codes: 0 ok; 1 some input failed / a score is under threshold / something changed (diff); "
    "2 usage error; 3 invalid rules; 4 output locked or gold malformed; 5 output directory cannot be written.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()

RawDir = Annotated[Path, typer.Argument(help="Directory of *.txt source pages, or a corpus file (.jsonl, .parquet).")]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Output directory for the tables.")]
RulesDir = Annotated[Path | None, typer.Option("--rules", help="Rules directory (default: $EVIDEX_RULES, else the rules shipped with evidex).")]


def _say(target: Console, label: str, style: str, message: str) -> None:
    """Print `label message` with the message taken literally (rule ids in brackets are not markup)."""
    target.print(Text.assemble((label, style), " ", printable(message)), soft_wrap=True, highlight=False)


def _fail(code: int, message: str) -> typer.Exit:
    _say(console, "error:", "bold red", message)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"evidex {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False) -> None:
    """evidex command line."""


@app.command()
def run(
    raw_dir: RawDir = Path("raw"),
    out_dir: OutDir = Path("extracted"),
    rules: RulesDir = None,
    force: Annotated[bool, typer.Option("--force", help="Re-extract every source, ignoring the cache.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Worker processes (--engine local).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
    engine_name: Annotated[str, typer.Option("--engine", help="local (this machine, --jobs processes) or dask (pip install 'evidex[dask]').")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="--engine dask: start a local cluster of N worker processes (default 2).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="--engine dask: address of an existing cluster's scheduler (tcp://host:8786).")] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="Corpus file: the column holding each record's id.")] = "id",
    text_column: Annotated[str, typer.Option("--text-column", help="Corpus file: the column holding each record's text.")] = "text",
    partition_size: Annotated[int, typer.Option("--partition-size", min=1, help="Corpus file: records per output partition.")] = 1000,
) -> None:
    """Extract every *.txt in RAW_DIR, or every record of a corpus file (JSONL/Parquet), into OUT_DIR.

    Only sources whose bytes changed are re-extracted, unless rules or evidex changed
    (or --force). Writes changes.json against the previous outputs. Outputs are
    published atomically; a rejected file is reported and the others still processed.
    RAW_DIR may also be a corpus file (JSON Lines or Parquet, one record per source):
    its tables are partitioned Parquet datasets (OUT_DIR/measures/part-*.parquet, ...).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from .engines import EngineUnavailable, make_engine
    from .ingest import list_sources
    from .outdir import OutputBusy, OutputError
    from .rulecache import RulesCache
    from .runner import run as do_run

    try:
        engine = make_engine(engine_name, jobs=jobs, workers=workers, scheduler=scheduler)
    except (ValueError, EngineUnavailable) as err:
        raise _fail(2, str(err)) from err
    if raw_dir.is_file():
        from .corpus_cli import run_corpus_command

        run_corpus_command(raw_dir, out_dir, rules, force=force, engine=engine, quiet=quiet, id_column=id_column,
                           text_column=text_column, partition_size=partition_size, rules_cache=RulesCache.default())
        return
    if not raw_dir.is_dir():
        raise _fail(2, f"{raw_dir}: raw directory not found")
    paths = list_sources(raw_dir)
    try:
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, disable=quiet or not console.is_terminal, transient=True) as progress:
            task = progress.add_task("extracting", total=len(paths))
            summary = do_run(raw_dir, out_dir, rules, force=force, jobs=jobs, paths=paths,
                             engine=engine if engine_name != "local" else None,  # local: --jobs as before
                             rules_cache=RulesCache.default(),  # rules validated before load in milliseconds
                             on_source=lambda o: progress.update(task, advance=1, description=escape(printable(o.source)[:40])))
    except RuleError as err:
        raise _fail(3, f"invalid rules, refusing to run: {err}") from err
    except OutputBusy as err:
        raise _fail(4, str(err)) from err
    except OutputError as err:
        raise _fail(5, str(err)) from err

    for w in summary.warnings:
        _say(console, "warning:", "yellow", w)

    for o in summary.outcomes:
        for w in o.warnings:
            _say(console, "warning:", "yellow", w)
        if o.error:
            _say(console, "rejected:", "bold red", o.error)
    if not quiet:
        table = Table(title=f"evidex run → {out_dir}")
        table.add_column("source")
        table.add_column("blocks", justify="right")
        table.add_column("measures", justify="right")
        table.add_column("uncovered", justify="right")
        table.add_column("warnings", justify="right")
        table.add_column("status")
        for o in summary.outcomes:
            status = "rejected" if o.error else ("cached" if o.cached else "extracted")
            table.add_row(Text(printable(o.source)), str(o.blocks), str(o.measures), str(o.uncovered), str(len(o.warnings)), status)
        console.print(table)
        totals = summary.totals()
        types = Table(title="measures per type")
        types.add_column("type")
        types.add_column("count", justify="right")
        for t in MEASURE_TYPES:
            types.add_row(t, str(totals[t]))
        types.add_row("[bold]all", str(sum(totals.values())))
        console.print(types)
        if summary.changes is not None:
            s = summary.changes["summary"]
            if "error" in summary.changes:
                console.print(f"[yellow]changes vs previous run: {summary.changes['error']}[/yellow]")
            else:
                console.print("changes vs previous run: " + (", ".join(f"{k} {v}" for k, v in s.items()) if s else "none"))
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def extract(
    file: Annotated[str | None, typer.Argument(help="A text file, or - for standard input.")] = None,
    rules: RulesDir = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Read many texts from standard input, one JSON object per line "
                                        "({\"id\": ..., \"text\": ...}); each measure's source is its id.")] = False,
    id_column: Annotated[str, typer.Option("--id-column", help="--jsonl: the key holding each text's id.")] = "id",
    text_column: Annotated[str, typer.Option("--text-column", help="--jsonl: the key holding each text.")] = "text",
) -> None:
    """Extract one text and print one JSON object per measure (offsets into that text).

    With --jsonl, extract every text of the JSON Lines on standard input, in order, and
    print their measures as JSON Lines (a bad line is reported with its number; exit 1).
    """
    from .build import process_text
    from .rulecache import RulesCache

    if jsonl == (file is not None):
        raise _fail(2, "give a FILE (or -), or --jsonl to read JSON Lines from standard input")
    try:
        # Rules validated before (same rules, code and libraries) are not validated again:
        # their regexes compile when first used (pipeline/rulecache.py).
        loaded = load_rules(rules, cache=RulesCache.default(), light_tokens=True)  # no spaCy import (pipeline/lighttokens.py)
    except RuleError as err:
        raise _fail(3, f"invalid rules, refusing to run: {err}") from err
    if file is None:
        from .extract_batch import extract_json_lines

        if extract_json_lines(sys.stdin.buffer, sys.stdout, loaded, id_column, text_column,
                              lambda m: _say(console, "rejected:", "bold red", m)):
            raise typer.Exit(1)
        return
    if file == "-":
        data, name = sys.stdin.buffer.read(), "stdin.txt"
    else:
        path = Path(file)
        if not path.is_file():
            raise _fail(2, f"{file}: no such file")
        data, name = path.read_bytes(), path.name
    try:
        src = decode_source(data, name)
    except InputError as err:
        raise _fail(1, str(err)) from err
    for w in src.warnings:
        _say(console, "warning:", "yellow", w)
    result = process_text(name, src.text, loaded)
    for w in result.warnings:  # damaged text, impossible rates, rule timeouts: on stderr, never in the JSON lines
        _say(console, "warning:", "yellow", w)
    for m in result.measures:
        sys.stdout.write(json.dumps(m.model_dump(), ensure_ascii=False) + "\n")


@app.command("eval")
def eval_cmd(
    extracted: Annotated[Path, typer.Option("--extracted", help="Directory with the extracted tables of raw/ (eval.json is written there).")] = Path("extracted"),
    raw_dir: Annotated[Path, typer.Option("--raw", help="Directory of the source pages the extracted tables came from.")] = Path("raw"),
    corpora_file: Annotated[Path, typer.Option("--corpora", help="The corpus list: names, texts, gold, splits.")] = Path("tests/gold/corpora.yaml"),
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Shared corpus folder holding pmc-dev/ (default: $EVIDEX_CORPUS or ../shared/corpus).")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Score only this corpus (repeatable).")] = None,
    rules_dir: RulesDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every miss, extra and attribute error (source@offset); a measuring-only split gets counts only.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a score is under its threshold or its ratchet baseline.")] = False,
    raise_baseline: Annotated[bool, typer.Option("--raise-baseline", help="Raise the ratchet (baseline.json beside --corpora) to every score that improved; never lowers one.")] = False,
) -> None:
    """Score every gold corpus (pages, held-out pages, pmc-dev dev and test) per type; writes EXTRACTED/eval.json."""
    from .evaluation import corpus_root, load_corpora, run_eval_corpora
    from .export import dump_json, write_text_atomic
    from .gate import corpora_failures, load_thresholds, raised_baseline
    from .gold import GoldError

    project = corpora_file.resolve().parent.parent.parent
    try:
        corpora = load_corpora(corpora_file, project, corpus_root(corpus))
    except GoldError as err:
        raise _fail(4, f"malformed gold: {err}") from err
    # The extracted tables came from --raw, so that corpus's texts are read from there.
    corpora = [replace(c, texts=raw_dir, texts_label=str(raw_dir)) if c.predictions == "extracted" else c
               for c in corpora]
    if only:
        unknown = sorted(set(only) - {c.name for c in corpora})
        if unknown:
            raise _fail(2, f"no corpus named {', '.join(unknown)} (known: {', '.join(c.name for c in corpora)})")
        corpora = [c for c in corpora if c.name in only]
    try:
        rules = load_rules(rules_dir)
    except RuleError as err:
        raise _fail(3, str(err)) from err
    try:
        report = run_eval_corpora(corpora, extracted, rules)
    except GoldError as err:
        raise _fail(4, f"malformed gold: {err}") from err
    if not only:
        write_text_atomic(extracted / "eval.json", dump_json(report))
    if as_json:
        sys.stdout.write(dump_json(report))
    else:
        print_corpora(report, verbose)
    print_stale(report)
    baseline_path = corpora_file.parent / "baseline.json"
    baseline = json.loads(baseline_path.read_text(encoding="utf-8")) if baseline_path.exists() else {}
    if raise_baseline:
        if only:
            raise _fail(2, "--raise-baseline needs every corpus scored (drop --only)")
        write_text_atomic(baseline_path, dump_json(raised_baseline(report, baseline)))
        _say(console, "wrote", "green", f"{baseline_path} (scores only ever go up)")
    if check:
        failures = corpora_failures(report, baseline, load_thresholds(Path("pyproject.toml")))
        for f in failures:
            _say(console, "gate:", "bold red", f)
        if failures:
            raise typer.Exit(1)


def print_stale(report: dict) -> None:
    """On stderr: how many gold labels need review, and each one (block, old text, where it went)."""
    stale = [(name, e) for name, r in report["corpora"].items() for e in r.get("gold_stale", [])]
    for name, r in report["corpora"].items():
        for source, moved in r.get("gold_rebased", {}).items():
            _say(console, "gold:", "yellow", f"{name}: {source} changed since its gold; {moved['carried']} labels carried "
                 f"from {moved['base_commit'][:12]} ({moved['moved']} to new offsets), {moved['stale']} in edited text")
    for name, e in stale:
        old = e["old"]
        what = f"title {old['title']!r}" if e["kind"] == "title" else f"{old['type']} {old['text']!r} @{old['char_start']}"
        now = f" → now {e['new_text']!r} @{e['new_char_start']}" if e.get("new_text") is not None else ""
        _say(console, "STALE", "yellow", f"{name}: {e['source']} block {e['block_index']} {what}: {e['reason']}{now}"
             + (f" (set aside in {e['review_file']})" if e.get("from") == "review" else ""))
    if stale:
        _say(console, "gold:", "bold yellow", f"{len(stale)} gold label{'s need' if len(stale) != 1 else ' needs'} review "
             "(`evidex gold rebase` carries the others and lists these in the gold folder's review/)")


def print_corpora(report: dict, verbose: bool = False) -> None:
    """Per-type F1 of every corpus side by side, then each corpus's attribute accuracy."""
    from rich.table import Table
    scored = {n: r for n, r in report["corpora"].items() if "skipped" not in r}
    for name, r in report["corpora"].items():
        if "skipped" in r:
            _say(out, "SKIP ", "yellow", f"{name}: {r['skipped']}")
    if not scored:
        return
    table = Table(title="evidex eval — F1 per corpus (gold / predicted / TP)")
    table.add_column("type")
    for name in scored:
        table.add_column(name, justify="right")
    for t in (*MEASURE_TYPES, "micro_core", "micro_all"):
        cells = []
        for r in scored.values():
            c = r[t] if t.startswith("micro") else r["per_type"][t]
            cells.append("-" if c["gold"] == 0 and c["predicted"] == 0 else f"{c['f1']:.3f} ({c['gold']}/{c['predicted']}/{c['tp']})")
        table.add_row(f"[bold]{t}" if t.startswith("micro") else t, *cells)
    for label, key in (("precision", "precision"), ("recall", "recall")):
        table.add_row(f"micro_all {label}", *(f"{r['micro_all'][key]:.3f}" for r in scored.values()))
    out.print(table)
    attrs = Table(title="attribute accuracy on matched pairs (correct/total)")
    attrs.add_column("attribute")
    for name in scored:
        attrs.add_column(name, justify="right")
    for a in next(iter(scored.values()))["attributes"]:
        attrs.add_row(a, *("-" if r["attributes"][a]["accuracy"] is None else
                           f"{r['attributes'][a]['accuracy']:.3f} ({r['attributes'][a]['correct']}/{r['attributes'][a]['total']})"
                           for r in scored.values()))
    attrs.add_row("arm null: predicted (gold)", *(f"{r['arm_null']['null']}/{r['arm_null']['predicted']} ({r['arm_null']['gold_null']}/{r['arm_null']['gold']})"
                                                 if "arm_null" in r else "-" for r in scored.values()))
    attrs.add_row("blocks: cell spans", *(f"{r['blocks']['spans_exact']}/{r['blocks']['gold']}" for r in scored.values()))
    attrs.add_row("blocks: condition", *(f"{r['blocks']['condition_correct']}/{r['blocks']['gold']}" for r in scored.values()))
    out.print(attrs)
    for name, r in scored.items():
        has_errors = any(r[k] for k in ("misses", "extras", "attribute_errors", "block_errors"))
        if has_errors and (verbose or name == "pages"):
            if not r.get("tuning", True):
                # A split for measuring only: its individual errors are not shown, so no rule is written from them.
                out.print(f"[bold]{name}[/bold]: {len(r['misses'])} misses, {len(r['extras'])} extras, "
                          f"{len(r['attribute_errors'])} attribute errors — not listed (measuring only; they are in eval.json)")
                continue
            if len(scored) > 1:
                out.print(f"[bold]{name}[/bold]")
            print_errors(r)


def print_eval(report: dict) -> None:
    """One corpus's per-type table, attribute accuracy, and its misses, extras and errors."""
    from rich.table import Table
    table = Table(title="evidex eval")
    for col in ("type", "gold", "pred", "TP", "P", "R", "F1"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for t, r in report["per_type"].items():
        table.add_row(t, str(r["gold"]), str(r["predicted"]), str(r["tp"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}")
    for name in ("micro_core", "micro_all"):
        r = report[name]
        table.add_row(f"[bold]{name}", str(r["gold"]), str(r["predicted"]), str(r["tp"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}")
    out.print(table)
    attrs = Table(title="attribute accuracy (matched pairs)")
    for col in ("attribute", "correct", "total", "accuracy"):
        attrs.add_column(col)
    for a, r in report["attributes"].items():
        attrs.add_row(a, str(r["correct"]), str(r["total"]), "-" if r["accuracy"] is None else f"{r['accuracy']:.3f}")
    out.print(attrs)
    b = report["blocks"]
    out.print(f"blocks: gold {b['gold']}, predicted {b['predicted']}, exact cell spans {b['spans_exact']}, condition correct {b['condition_correct']}")
    print_errors(report)


def print_errors(report: dict) -> None:
    """Every miss, extra, attribute error and block error of one corpus's report."""
    for m in report["misses"]:
        _say(out, "MISS ", "red", f"{m['source']}@{m['char_start']} block {m['block_index']} {m['type']} {m['text']!r} value={m['value']} low={m['low']} high={m['high']} label={m['label']}")
    for m in report["extras"]:
        _say(out, "EXTRA", "yellow", f"{m['source']}@{m['char_start']} block {m['block_index']} {m['type']} {m['text']!r} value={m['value']} low={m['low']} high={m['high']} label={m['label']} rule={m['rule_id']}")
    for e in report["attribute_errors"]:
        _say(out, "ATTR ", "magenta", f"{e['source']}@{e.get('char_start')} block {e['block_index']} {e['type']} {e['text']!r} {e['attribute']}: gold {e['gold']} predicted {e['predicted']}")
    for e in report["block_errors"]:
        _say(out, "BLOCK", "red", str(e))


@app.command()
def diff(
    old: Annotated[Path | None, typer.Argument(help="Old extracted directory.")] = None,
    new: Annotated[Path | None, typer.Argument(help="New extracted directory.")] = None,
    rev: Annotated[str | None, typer.Option("--rev", help="Compare extracted/ at this git revision with the working tree's extracted/.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Show studies and measures added, removed, edited or changed, with the cause of each.

    Exit 0 when nothing changed, 1 when something did.
    """
    from .diff import UnreadableTables, diff_dirs, extracted_at_rev
    from .export import dump_json

    with tempfile.TemporaryDirectory(prefix="evidex-rev-") as at_rev:  # removed however the diff ends
        if rev is not None:
            new = old or Path("extracted")
            try:
                old = extracted_at_rev(rev, Path.cwd(), Path(at_rev))
            except FileNotFoundError as err:
                raise _fail(2, str(err)) from err
        if old is None or new is None:
            raise _fail(2, "give OLD and NEW directories, or --rev REV")
        for d in (old, new):
            if not (d / "studies.csv").exists():
                raise _fail(2, f"{d}: no studies.csv (not an extracted directory)")
        try:
            report = diff_dirs(old, new)
        except UnreadableTables as err:
            raise _fail(2, str(err)) from err
    if as_json:
        sys.stdout.write(dump_json(report))
    else:
        print_diff(report)
    raise typer.Exit(1 if report["changed"] else 0)


def print_diff(report: dict) -> None:
    from rich.table import Table
    if not report["changed"]:
        out.print("no changes")
        return
    out.print("summary: " + ", ".join(f"{k} {v}" for k, v in report["summary"].items()))
    if report["studies"]:
        t = Table(title="studies")
        for col in ("change", "cause", "block", "study_id", "detail"):
            t.add_column(col)
        for c in report["studies"]:
            detail = c.get("word_diff") or c.get("title_or_start") or json.dumps(c.get("fields"), ensure_ascii=False)
            t.add_row(c["change"], c["cause"], str(c["block_index"]), c["study_id"], Text(detail))
        out.print(t)
    if report["measures"]:
        t = Table(title="measures")
        for col in ("change", "cause", "type", "text", "old → new"):
            t.add_column(col)
        for c in report["measures"]:
            if c["change"] == "changed":
                detail = "; ".join(f"{f}: {v['old'] or '∅'} → {v['new'] or '∅'}" for f, v in c["fields"].items())
            else:
                detail = c.get("old_value") or c.get("new_value") or ""
            t.add_row(c["change"], c["cause"], c["type"], Text(c["text"]), Text(detail))
        out.print(t)


@app.command()
def report(
    out_dir: OutDir = Path("extracted"),
    raw_dir: Annotated[Path | None, typer.Option("--raw", help="Directory of the source pages (default: the one OUT_DIR/manifest.json names).")] = None,
) -> None:
    """Write OUT_DIR/report.html: a self-contained review page (no network needed).

    The pages are read from the raw directory the run recorded in its manifest (or
    --raw); a page whose sha256 differs from the manifest's is refused (exit 2).
    Gold misses and extras are marked from OUT_DIR/eval.json (run `evidex eval` first);
    the changes of the last run that changed something come from OUT_DIR/changes.json.
    """
    from .report import SourceMismatch, write_report

    try:
        path = write_report(out_dir, raw_dir)
    except SourceMismatch as err:
        raise _fail(2, str(err)) from err
    out.print(f"wrote {path}")


gold_app = typer.Typer(help="Gold maintenance: carry gold labels to an edited page.", no_args_is_help=True)
app.add_typer(gold_app, name="gold")


@gold_app.command("rebase")
def gold_rebase(
    raw_dir: Annotated[Path, typer.Option("--raw", help="Directory of the pages the `pages` corpus reads.")] = Path("raw"),
    corpora_file: Annotated[Path, typer.Option("--corpora", help="The corpus list: names, texts, gold, splits.")] = Path("tests/gold/corpora.yaml"),
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Shared corpus folder holding pmc-dev/ (default: $EVIDEX_CORPUS or ../shared/corpus).")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Write gold carried to edited pages back: moved labels at their new offsets, the
    labels in edited text set aside in the gold folder's review/<stem>.jsonl for a person.

    Only gold files that no longer ground in their page are touched. Exit 4 on malformed gold.
    """
    from .evaluation import corpus_root, load_corpora, load_gold_set
    from .export import write_text_atomic
    from .gold import GoldError
    from .goldmove import review_path, rewrite

    project = corpora_file.resolve().parent.parent.parent
    try:
        rules = load_rules(rules_dir)
    except RuleError as err:
        raise _fail(3, str(err)) from err
    try:
        corpora = load_corpora(corpora_file, project, corpus_root(corpus))
        done: set[Path] = set()
        for c in corpora:
            texts = raw_dir if c.predictions == "extracted" else c.texts
            if not texts.is_dir() or c.gold in done:
                continue
            done.add(c.gold)
            gold = load_gold_set(c.gold, texts, None, rules)
            for source, moved in sorted(gold.rebased.items()):
                path = gold.files[source]
                lines = rewrite(path.read_text(encoding="utf-8").splitlines(), moved)
                write_text_atomic(path, "".join(line + "\n" for line in lines))
                note = ""
                if moved.stale:
                    review = review_path(path)
                    kept = review.read_text(encoding="utf-8") if review.exists() else ""
                    write_text_atomic(review, kept + "".join(json.dumps(st.as_json(), ensure_ascii=False) + "\n"
                                                             for st in moved.stale))
                    note = f"; {len(moved.stale)} stale → {review} (review them, then delete that file)"
                _say(out, "rebased", "green", f"{path}: {moved.carried} labels carried ({moved.moved} to new offsets){note}")
    except GoldError as err:
        raise _fail(4, f"malformed gold: {err}") from err


@app.command("check-rules")
def check_rules(rules: RulesDir = None) -> None:
    """Validate every rule file (schema, regexes, backtracking probes) and list the rules."""
    try:
        loaded = load_rules(rules)
    except RuleError as err:
        raise _fail(3, str(err)) from err
    out.print(f"rules OK: {len(loaded.recognizers)} recognizers, {len(loaded.exclusions)} exclusions, "
              f"{len(loaded.damage)} damage signs, {len(loaded.token_patterns)} token patterns; sha256 {loaded.digest[:12]}")


if __name__ == "__main__":
    app()
