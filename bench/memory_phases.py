"""Python memory per source byte of one page of short rows, phase by phase (issue 21 item 11).

    python bench/memory_phases.py [--rows 2000]

tracemalloc (Python allocations only; Arrow's own buffers are not counted) while one
page of short study rows is segmented, processed and rendered (`process_file`), and
while its cache entry is written (`pack_into`, what `evidex run` does next, with the
page's rendered rows still held). Prints bytes per source byte for each; writes
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

    rules = load_rules(ROOT / "rules")
    text = page(args.rows)
    size = len(text.encode("utf-8"))
    result: dict = {"rows": args.rows, "bytes": size}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        (raw / "p.txt").write_text(text, encoding="utf-8")
        process_file(raw / "p.txt", raw, rules)  # warm up: imports and engines are not the page's memory
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
    result.update({
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
