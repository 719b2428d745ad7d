"""One side of the benchmark on the first N corpus pages, in this process, for profilers.

    python bench/cold.py tokenizer|evidex N [--corpus bench/corpus/raw | --jsonl CORPUS.jsonl]

Made to run under valgrind's cachegrind (or py-spy): run it with N pages and with 0,
and the difference (`cg_diff`) is the work of N pages on that side, with imports,
rules loading and engine building taken out. Prints the CPU seconds of the pages.
With `--jsonl` the texts are the first N records of a corpus file (bench/corpus_bench.py
writes them) and evidex does a corpus run's per-record work (`extract_records`), so
abstracts and pages can be compared in instructions, which the machine's load does
not change (issue 22 item 5).
With `--rules-cache DIR` the rules load through that cache (an entry written first, as
`evidex run` does), so a split rule's branches are there from the first text.
`make bench` (bench/run.py) builds the corpus. docs/performance.md shows the commands;
bench/instructions.py runs this under cachegrind for issue 22 item 5.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("side", choices=["tokenizer", "evidex"])
    ap.add_argument("pages", type=int)
    ap.add_argument("--corpus", type=Path, default=ROOT / "bench" / "corpus" / "raw")
    ap.add_argument("--jsonl", type=Path, help="a corpus file: its first N records instead of N pages")
    ap.add_argument("--rules-cache", type=Path, help="load the rules through this rules cache, as `evidex run` does")
    args = ap.parse_args()
    if args.jsonl:
        with open(args.jsonl, encoding="utf-8") as fh:
            records = [json.loads(line) for line, _ in zip(fh, range(args.pages), strict=False)]
        if len(records) < args.pages:
            ap.error(f"{args.jsonl}: {len(records)} records, {args.pages} asked for")
        texts = [r["text"] for r in records]
    else:
        paths = sorted(args.corpus.glob("*.txt"))
        if len(paths) < args.pages:
            ap.error(f"{args.corpus}: {len(paths)} pages, {args.pages} asked for (build the corpus with `make bench`)")
        texts = [p.read_text(encoding="utf-8") for p in paths[:args.pages]]
    if args.side == "tokenizer":
        import spacy

        nlp = spacy.blank("en")
        nlp.max_length = 10**9
        t0 = time.process_time()
        for _doc in nlp.tokenizer.pipe(texts, batch_size=16):
            pass
    else:
        sys.path.insert(0, str(ROOT))
        from evidex.build import process_text
        from evidex.rules import load_rules
        from evidex.runner import _rendered

        if args.rules_cache:
            from evidex.rulecache import RulesCache

            rules = load_rules(ROOT / "rules", cache=RulesCache(args.rules_cache))
        else:
            rules = load_rules(ROOT / "rules")  # compiles everything the engines read
        t0 = time.process_time()
        if args.jsonl:
            from evidex.corpus_run import extract_records

            extract_records([(i + 1, r["id"], r["text"]) for i, r in enumerate(records)], rules)
        for i, text in enumerate(texts if not args.jsonl else []):
            _rendered(process_text(f"page-{i:05d}.txt", text, rules))
    print(f"{args.side}: {args.pages} pages in {time.process_time() - t0:.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
