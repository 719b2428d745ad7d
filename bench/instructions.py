"""Abstracts against pages in instructions, not seconds (issue 22 item 5).

    python bench/instructions.py [--pages 10] [--records 200] [--jobs 2] [--out bench/results-instructions.json]

The criterion of item 5 is a ratio of ratios: (tokenizer / evidex) on abstracts against
(tokenizer / evidex) on pages. Seconds on this shared 2-core virtual machine move by
±40% between runs of the same texts, so one timed run cannot settle a 10% criterion.
Instructions can: valgrind's cachegrind counts the instructions a process executes, the
same for the same binary, inputs and environment whatever else the machine runs.

Each side (spaCy's blank tokenizer, evidex's corpus per-record work) runs in a fresh
process under `valgrind --tool=cachegrind --cache-sim=no` through bench/cold.py, on the
first N and the first 2N texts of each corpus file that bench/corpus_bench.py writes
(`bench/corpus/pages-100.jsonl`, `bench/corpus/records-2000.jsonl`); the difference
(2N minus N) is the work of the second N texts: imports, rules loading, engine building
and first-use warm-up are taken out. evidex loads its rules through a rules cache as
`evidex run` does (an entry written first). Instructions per MB of UTF-8 text, each
side's ratio and the ratio of ratios are printed and written to the results file.

Instructions are not time: they weigh a regex engine's tight loop the same as CPython's
object operations, which run at different speeds per instruction on a real processor
(the machine exposes no cycle counters). So this is the load-proof half of the
measurement; `bench/corpus_bench.py --records 2000 --pages 100` is the timed half.
No timing or count is asserted anywhere (not a test).

    python bench/instructions.py --join 50 --records 200 --out bench/results-instructions-joined.json

compares the same abstracts as small and as large sources: the "joined" side (in place of the
pages) is the records corpus itself with every K records joined into one (by a newline), N = records / K, so both
sides read the same texts 200..399 and only the number of sources differs. That isolates the
fixed cost per source that item 5 names as the cause, which the pages-against-abstracts ratio
mixes with what the texts say.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def megabytes(corpus: Path, n: int) -> float:
    """MB of UTF-8 text in the first n records of a corpus file."""
    with open(corpus, encoding="utf-8") as fh:
        return sum(len(json.loads(line)["text"].encode("utf-8")) for line, _ in zip(fh, range(n), strict=False)) / 1e6


def joined(corpus: Path, k: int, out: Path) -> Path:
    """Write `corpus` with every k records joined (texts separated by a newline) as one record to `out`."""
    with open(corpus, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    with open(out, "w", encoding="utf-8") as fh:
        for i in range(0, len(records), k):
            text = "\n".join(r["text"] for r in records[i:i + k])
            fh.write(json.dumps({"id": f"joined-{i // k:05d}", "text": text}, ensure_ascii=False) + "\n")
    return out


def count(side: str, corpus: Path, n: int, rules_cache: Path) -> int:
    """Instructions executed by one fresh bench/cold.py process (side, first n records)."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--branch-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, str(ROOT / "bench" / "cold.py"), side, str(n), "--jsonl", str(corpus)]
    if side == "evidex":
        cmd += ["--rules-cache", str(rules_cache)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    found = REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output for {cmd}:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=10, help="N for the pages corpus (N and 2N are run)")
    ap.add_argument("--records", type=int, default=200, help="N for the abstracts corpus (N and 2N are run)")
    ap.add_argument("--pages-corpus", type=Path, default=CORPUS / "pages-100.jsonl")
    ap.add_argument("--records-corpus", type=Path, default=CORPUS / "records-2000.jsonl")
    ap.add_argument("--jobs", type=int, default=2, help="valgrind processes at once (counts do not depend on it)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results-instructions.json")
    ap.add_argument("--join", type=int, metavar="K",
                    help="instead of the pages, the records corpus with every K records joined into one source")
    args = ap.parse_args()
    if args.join:
        if args.records % args.join:
            ap.error(f"--records {args.records} is not a multiple of --join {args.join}")
        args.pages_corpus = joined(args.records_corpus, args.join, CORPUS / f"joined-{args.join}.jsonl")
        args.pages = args.records // args.join
    large = "joined" if args.join else "pages"
    for corpus in (args.pages_corpus, args.records_corpus):
        if not corpus.is_file():
            ap.error(f"{corpus}: not found (write it with `python bench/corpus_bench.py --records 2000 --pages 100`)")
    with tempfile.TemporaryDirectory() as tmp:
        rules_cache = Path(tmp) / "rules-cache"
        subprocess.run([sys.executable, str(ROOT / "bench" / "cold.py"), "evidex", "0", "--jsonl", str(args.pages_corpus),
                        "--rules-cache", str(rules_cache)], check=True, capture_output=True)  # writes the entry
        runs = [(side, name, corpus, n) for side in ("tokenizer", "evidex")
                for name, corpus, base in ((large, args.pages_corpus, args.pages), ("records", args.records_corpus, args.records))
                for n in (base, 2 * base)]
        with ThreadPoolExecutor(args.jobs) as pool:
            counts = list(pool.map(lambda r: count(r[0], r[2], r[3], rules_cache), runs))
    by = {(side, name, n): c for (side, name, _, n), c in zip(runs, counts, strict=True)}
    out: dict = {"valgrind": subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip(),
                 "python": sys.version.split()[0]}
    for name, corpus, base in ((large, args.pages_corpus, args.pages), ("records", args.records_corpus, args.records)):
        mb = megabytes(corpus, 2 * base) - megabytes(corpus, base)
        entry: dict = {"texts": base, "megabytes": round(mb, 4)}
        for side in ("tokenizer", "evidex"):
            extra = by[(side, name, 2 * base)] - by[(side, name, base)]
            entry[side] = {"instructions": {str(base): by[(side, name, base)], str(2 * base): by[(side, name, 2 * base)]},
                           "instructions_per_mb": round(extra / mb)}
        entry["ratio"] = round(entry["tokenizer"]["instructions_per_mb"] / entry["evidex"]["instructions_per_mb"], 4)
        out[name] = entry
        print(f"{name}: {mb:.3f} MB; tokenizer {entry['tokenizer']['instructions_per_mb'] / 1e9:.2f}e9/MB, "
              f"evidex {entry['evidex']['instructions_per_mb'] / 1e9:.2f}e9/MB, ratio {entry['ratio']:.3f}")
    if args.join:
        out["join"] = args.join
    out[f"records_vs_{large}"] = round(out["records"]["ratio"] / out[large]["ratio"], 3)
    print(f"abstracts' ratio / {large}' ratio: {out[f'records_vs_{large}']:.3f} (item 5 asks >= 0.90 against the pages)")
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
