"""How long `TimedPattern.match` at one position takes on a 10 KB and a 5 MB text.

    python bench/linear_match.py

`regex` searches the rest of the text for a pattern's required literal before every
`match(text, pos)`; evidex runs each pattern as `(?:P)|(?!)`, which has none, so a match
at a position costs the same on any text length. Prints both timings for the plain
compiled pattern and for TimedPattern (best of 3; a bench, not a test).
"""

from __future__ import annotations

import time

from evidex.timed import timed


def best_of(n: int, fn) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    p = timed(r"\s+alone\b", 0, "bench:suffix")
    texts = {"10 KB": "x " * 5_000, "5 MB": "x " * 2_500_000}
    for name, text in texts.items():
        plain = best_of(3, lambda text=text: [p.compiled.match(text, pos) for pos in range(1_000, 1_200)])
        ours = best_of(3, lambda text=text: [p.match(text, pos) for pos in range(1_000, 1_200)])
        print(f"{name:>6}: 200 matches, regex as compiled {plain * 1000:8.2f} ms, TimedPattern {ours * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
