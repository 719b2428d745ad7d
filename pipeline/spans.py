"""Interval helpers that keep extraction and linking near-linear on huge inputs.

A 5 MB one-line page holds ~10^5 values in one sentence; pairwise overlap checks
would be quadratic. `SpanIndex` answers "which stored spans overlap [start, end)?" in
O(log n + hits); `DisjointSpans` keeps a growing set of non-overlapping spans.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class SpanIndex(Generic[T]):
    """Static spans (start, end, payload), queried for overlap."""

    def __init__(self, spans: Iterable[tuple[int, int, T]]):
        self._spans = sorted(spans, key=lambda s: (s[0], s[1]))
        self._starts = [s[0] for s in self._spans]
        self._max_end: list[int] = []
        running = -1
        for _, end, _ in self._spans:
            running = max(running, end)
            self._max_end.append(running)

    def overlapping(self, start: int, end: int) -> Iterator[tuple[int, int, T]]:
        i = bisect_left(self._starts, end) - 1
        while i >= 0 and self._max_end[i] > start:
            s = self._spans[i]
            if s[1] > start:
                yield s
            i -= 1

    def any_overlap(self, start: int, end: int) -> bool:
        return next(self.overlapping(start, end), None) is not None

    def __len__(self) -> int:
        return len(self._spans)


class DisjointSpans:
    """A growing set of pairwise non-overlapping spans."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: dict[int, int] = {}

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[self._starts[i]] > start

    def add(self, start: int, end: int) -> None:
        insort(self._starts, start)
        self._ends[start] = end


class Partition:
    """Contiguous, sorted spans (clauses, segments); `index(pos)` finds the one holding pos."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = spans
        self.starts = [a for a, _ in spans]

    def index(self, pos: int) -> int:
        return max(0, min(len(self.spans) - 1, bisect_right(self.starts, pos) - 1))

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.spans[i]

    def __len__(self) -> int:
        return len(self.spans)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.spans)


def enclosing_brackets(text: str, start: int, end: int, reach: int = 300) -> tuple[int, int] | None:
    """(open, close) of the innermost round brackets around text[start:end] within `reach` characters and one line, if any."""
    # Each side is cut at its first newline and skipped when it holds no bracket that could
    # close it: `str.find` instead of a character loop for the common value outside brackets.
    lo = max(0, start - reach)
    lo = max(lo, text.rfind("\n", lo, start) + 1)
    if text.find("(", lo, start) == -1:
        return None
    hi = min(len(text), end + reach)
    newline = text.find("\n", end, hi)
    hi = hi if newline == -1 else newline
    if text.find(")", end, hi) == -1:
        return None
    depth, open_at = 0, None
    for i in range(start - 1, lo - 1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                open_at = i
                break
            depth -= 1
    if open_at is None:
        return None
    depth = 0
    for j in range(end, hi):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            if depth == 0:
                return open_at, j
            depth -= 1
    return None
