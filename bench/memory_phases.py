"""Python memory per source byte of one page of short rows, phase by phase (issue 21 item 11).

    python bench/memory_phases.py [--rows 2000]

tracemalloc (Python allocations only; Arrow's own buffers are not counted) while one
page of short study rows is segmented, processed and rendered (`process_file`), and
while its cache entry is written (`pack_into`, with the page's rendered rows held in
memory, as `--jobs` workers' pages and pages of one part are); then the same with each
part spooled to disk as `evidex run` does in its own process (`spooled_*`: the rows
held after processing, the peak while processing and while the entry is written from
the spool). Prints bytes per source byte for each; writes
bench/results-memory-phases.json. No number is asserted anywhere.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def page(rows: int) -> str:
    """The page of tests/test_short_rows.py: a title, a rate with its time, a one-word conclusion."""
    return "Study\nFindings\nConclusion\n" + "".join(
        f"Trial {i}\nResponse {i % 90 + 5}% at {i % 12 + 1} weeks.\nWorked.\n" for i in range(rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    args = ap.parse_args()
    from evidex import build
    from evidex.export import pack_into
    from evidex.rules import load_rules
    from evidex.runner import TABLES, process_file
    from evidex.spool import PageRows

    rules = load_rules(ROOT / "rules")
    text = page(args.rows)
    size = len(text.encode("utf-8"))
    result: dict = {"rows": args.rows, "bytes": size}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / "p.txt").write_text(text, encoding="utf-8")
        process_file(raw / "p.txt", raw, rules)  # warm up: imports and engines are not the page's memory
        process_file(raw / "p.txt", raw, rules, spool_dir=Path(tmp))  # and the spool's first use
        gc.collect()
        segment = build.segment
        seen: dict[str, int] = {}

        def measured_segment(*a, **k):  # the segmentation's own peak, above what was held before it
            c0, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            out = segment(*a, **k)
            seen["segment_peak"] = tracemalloc.get_traced_memory()[1] - c0
            return out

        build.segment = measured_segment
        gc.collect()
        tracemalloc.start()
        try:
            outcome, tables = process_file(raw / "p.txt", raw, rules)
            held, peak = tracemalloc.get_traced_memory()
            assert tables is not None and outcome.error is None
            header = {"outcome": outcome.__dict__ | {"cached": False}, "csv": {name: t.csv for name, t in tables.items()}}
            tracemalloc.reset_peak()
            with open(Path(tmp) / "entry.bin", "wb") as fh:
                pack_into(fh, header, [tables[name].table for name in TABLES])
            _, store_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            build.segment = segment
        entry = (Path(tmp) / "entry.bin").stat().st_size
        # The same page as `evidex run` processes it in its own process: each part spooled
        # to files in the staging directory, the cache entry written from them.
        del header, tables
        build.segment = measured_segment
        gc.collect()
        tracemalloc.start()
        try:
            outcome, spooled = process_file(raw / "p.txt", raw, rules, spool_dir=Path(tmp))
            spooled_held, spooled_peak = tracemalloc.get_traced_memory()
            assert isinstance(spooled, PageRows) and outcome.error is None
            gc.collect()  # what is left is then what the spool holds, not garbage in cycles
            spooled_held_gc = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            with open(Path(tmp) / "entry-spooled.bin", "wb") as fh:
                spooled.pack_into(fh, outcome.__dict__ | {"cached": False})
            _, spooled_store_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            build.segment = segment
        same_entry = (Path(tmp) / "entry-spooled.bin").read_bytes() == (Path(tmp) / "entry.bin").read_bytes()
    result.update({
        "spooled_process_file_peak_per_byte": round(spooled_peak / size),
        "spooled_rows_held_per_byte": round(spooled_held / size),
        "spooled_rows_held_after_gc_per_byte": round(spooled_held_gc / size, 1),
        "spooled_cache_entry_write_peak_per_byte": round(spooled_store_peak / size),
        "spooled_entry_same_bytes": same_entry,
        "process_file_peak_per_byte": round(peak / size),
        "segment_peak_per_byte": round(seen["segment_peak"] / size),
        "rendered_rows_held_per_byte": round(held / size),
        "cache_entry_write_peak_per_byte": round(store_peak / size),
        "cache_entry_bytes_per_byte": round(entry / size),
    })
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results-memory-phases.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
