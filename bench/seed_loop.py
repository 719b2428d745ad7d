"""CPU time of `process_text` on the seed page, four times in a loop, best of five.

Usage: `python bench/seed_loop.py` (after `make lint` or `make extract` made .venv).
A quick A/B for changes to the hot path; `bench/run.py` is the full benchmark.
"""

from __future__ import annotations

import time
from pathlib import Path

from evidex.build import process_text
from evidex.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    rules = load_rules(ROOT / "rules")
    text = (ROOT / "raw" / "ketamine-research.txt").read_text(encoding="utf-8")
    best = float("inf")
    for _ in range(5):
        t = time.process_time()
        for i in range(4):
            process_text(f"p{i}.txt", text, rules)
        best = min(best, time.process_time() - t)
    print(f"best of 5: {best:.3f} s CPU for 4 pages")


if __name__ == "__main__":
    main()
