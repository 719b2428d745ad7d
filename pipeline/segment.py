"""Stage 2 — segment: page text → study blocks with exact cell spans and a condition.

Layout "table" (ANNOTATION.md "Blocks"): intro, a tab list of conditions, a header row
(`Study` / `Findings` / `Conclusion`, one per line), then one row per study: an optional
title line, a Findings cell and a Conclusion cell. A cell is one line, or — when it opens
with `"` — every line up to the one that ends with `"`. A text without that header is
one study, as a trial report or an abstract is: layout "document", a single block from
its first to its last non-blank character (findings = the whole block, no title or
conclusion), flag `layout_document`, condition its clear subject or `other`.

`segment(text, rules)` is pure: it takes the decoded text and the compiled rules and
returns `Segmentation` (blocks plus warnings with line numbers). Cell spans never
include the line break (`\\n`, `\\r\\n` or a lone `\\r`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .compiled import CompiledRules

HEADER = ("study", "findings", "conclusion")
# A title is a short line without final punctuation; longer lines are cells.
MAX_TITLE_CHARS = 300
TERMINAL_PUNCTUATION = ('.', '."', '.”', '"', '”', '!', '?', ')', '.)')


# slots: a page of short rows has a line, a span and a block object per few dozen bytes
# of text; without a __dict__ each is about a third of the size (docs/reliability.md, Limits).
@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    line: int  # 1-based line where the span starts


@dataclass(slots=True)
class Block:
    block_index: int
    char_start: int
    char_end: int
    title: Span | None
    findings: Span
    conclusion: Span | None
    condition: str = "other"
    flags: list[str] = field(default_factory=list)

    def cells(self) -> list[tuple[str, Span]]:
        out = [("title", self.title), ("findings", self.findings), ("conclusion", self.conclusion)]
        return [(name, span) for name, span in out if span is not None]


@dataclass
class Segmentation:
    layout: str  # "table" | "document" | "empty"
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)
    tab_conditions: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Line:
    start: int
    end: int  # excludes the line break
    number: int


_LINE_BREAK = regex.compile(r"\r\n?|\n")


def split_lines(text: str) -> list[_Line]:
    """Lines with offsets; `end` excludes the line break: `\\n`, `\\r\\n` or a lone `\\r`
    (old Mac files, or pages pasted together from several)."""
    if "\r" in text:
        lines, pos = [], 0
        for number, m in enumerate(_LINE_BREAK.finditer(text), 1):
            lines.append(_Line(pos, m.start(), number))
            pos = m.end()
        lines.append(_Line(pos, len(text), len(lines) + 1))
        return lines
    lines, pos = [], 0
    for number, raw in enumerate(text.split("\n"), 1):
        end = pos + len(raw)
        content_end = end - 1 if raw.endswith("\r") else end
        lines.append(_Line(pos, content_end, number))
        pos = end + 1
    return lines


def _find_header(text: str, lines: list[_Line]) -> int | None:
    """Index of the line holding `Study` when the next two are Findings, Conclusion."""
    words = [text[ln.start:ln.end].strip().lower() for ln in lines]
    for i in range(len(lines) - 2):
        if tuple(words[i:i + 3]) == HEADER:
            return i
    return None


def _cells(text: str, lines: list[_Line], first: int, source: str, warnings: list[str]) -> list[Span]:
    """Group lines from `first` on into cells (quoted cells may span lines)."""
    cells: list[Span] = []
    i = first
    while i < len(lines):
        ln = lines[i]
        content = text[ln.start:ln.end]
        if not content.strip():
            i += 1
            continue
        start = ln.start + (len(content) - len(content.lstrip()))
        if content.lstrip().startswith('"') and not (len(content.strip()) > 1 and content.rstrip().endswith('"')):
            j = i + 1
            while j < len(lines) and not text[lines[j].start:lines[j].end].rstrip().endswith('"'):
                j += 1
            if j == len(lines):
                warnings.append(f"{source}:{ln.number}: quoted cell never closes; it runs to the end of the page")
                j = len(lines) - 1
                while j > i and not text[lines[j].start:lines[j].end].strip():
                    j -= 1
            end_line = lines[j]
            end = end_line.start + len(text[end_line.start:end_line.end].rstrip())
            cells.append(Span(start, end, ln.number))
            i = j + 1
            continue
        cells.append(Span(start, ln.start + len(content.rstrip()), ln.number))
        i += 1
    return cells


def _looks_like_title(text: str, cell: Span) -> bool:
    content = text[cell.start:cell.end]
    return (
        not content.startswith('"')
        and len(content) <= MAX_TITLE_CHARS
        and not content.rstrip().endswith(TERMINAL_PUNCTUATION)
    )


def _rows(text: str, cells: list[Span], source: str, warnings: list[str]) -> list[Block]:
    blocks: list[Block] = []
    i = 0
    while i < len(cells):
        title = None
        if _looks_like_title(text, cells[i]) and i + 1 < len(cells) and not _looks_like_title(text, cells[i + 1]):
            title = cells[i]
            i += 1
        findings = cells[i]
        conclusion = cells[i + 1] if i + 1 < len(cells) else None
        if conclusion is not None and _looks_like_title(text, conclusion) and i + 2 < len(cells):
            # A title where a conclusion should be: this row lost its conclusion.
            warnings.append(f"{source}:{findings.line}: row has a Findings cell but no Conclusion cell")
            conclusion = None
        flags = []
        if conclusion is None:
            flags.append("truncated_row")
            if i + 1 >= len(cells):
                warnings.append(f"{source}:{findings.line}: last row is cut off (a Findings cell without a Conclusion cell)")
        start = title.start if title else findings.start
        end = conclusion.end if conclusion else findings.end
        blocks.append(Block(len(blocks) + 1, start, end, title, findings, conclusion, flags=flags))
        i += 2 if conclusion is not None else 1
    return blocks


def _document(text: str, lines: list[_Line]) -> list[Block]:
    """The whole text as one block: from its first to its last non-blank character."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    line = next(ln.number for ln in lines if ln.end >= start)
    span = Span(start, end, line)
    return [Block(1, start, end, None, span, None, "other", ["layout_document"])]


# --------------------------------------------------------------------- conditions


def _condition_scores(text: str, block: Block, rules: CompiledRules) -> dict[str, float]:
    """Weighted term counts of a block's cells; a term in the title counts twice."""
    scores: dict[str, float] = {}
    cells = [(span.start, span.end, 2 if name == "title" else 1) for name, span in block.cells()]
    first, last = cells[0][0], cells[-1][1]
    index = rules.term_index
    # One scan over the block instead of one per cell; terms are words, so a hit never
    # spans the tab between two cells and falls in exactly one of them.
    for i, m in index.matches(text, first, last):
        name, _, weight = index.terms[i]
        factor = next((f for a, b, f in cells if a <= m.start() < b), 0)
        if factor:
            scores[name] = scores.get(name, 0.0) + weight * factor
    return scores


def assign_conditions(text: str, blocks: list[Block], rules: CompiledRules) -> None:
    """Set each block's condition: its section, unless its subject is clearly another.

    Sections are contiguous runs in page order. A Viterbi pass over the blocks picks
    the run labels that best fit the blocks' vocabulary scores with a cost for every
    section change; then a block keeps the run's condition if it mentions it at all,
    and otherwise takes its own best condition when that one is clear.
    """
    if not blocks:
        return
    names = list(rules.conditions)
    scores = [_condition_scores(text, b, rules) for b in blocks]
    switch_cost = 6.0
    # Viterbi: row[k] = best total for the blocks so far ending in section names[k].
    # Only the last row is kept, and each block's back pointers as one small tuple:
    # each section either stays (its own index) or switches from the one best section,
    # so the pointers are that section and a bit mask of who switched — per block a
    # few dozen bytes instead of a dict per block and section.
    row = [scores[0].get(c, 0.0) for c in names]
    back: list[tuple[int, int]] = [(0, 0)]
    for i in range(1, len(blocks)):
        # The best section to switch from is the same for every c: find it once (the
        # first of equals, in names order).
        prev_k = max(range(len(names)), key=lambda k: row[k] - switch_cost)
        prev_v = row[prev_k] - switch_cost
        own = scores[i]
        new_row, switched = [], 0
        for k, c in enumerate(names):
            stay = row[k]
            if stay >= prev_v:
                new_row.append(stay + own.get(c, 0.0))
            else:
                new_row.append(prev_v + own.get(c, 0.0))
                switched |= 1 << k
        row = new_row
        back.append((prev_k, switched))
    k = max(range(len(names)), key=lambda j: (row[j], -j))
    path = [k]
    for i in range(len(blocks) - 1, 0, -1):
        prev_k, switched = back[i]
        k = prev_k if switched >> k & 1 else k
        path.append(k)
    path.reverse()
    sections = [names[k] for k in path]
    # A run of blocks that name no condition keeps a section only between two blocks of
    # that section; otherwise its rows are about none of the listed conditions (v1.1).
    sections = _unnamed_runs_between(sections, scores)
    for block, section, own in zip(blocks, sections, scores, strict=True):
        if not own:
            block.condition = section
            continue
        top = max(own, key=lambda c: (own[c], -names.index(c)))
        if own.get(section, 0) > 0 or own[top] < 3:
            block.condition = section
        else:
            block.condition = top


def _unnamed_runs_between(sections: list[str], scores: list[dict[str, float]]) -> list[str]:
    """Sections with each run of unscored blocks set to `other` unless both its neighbours share a section."""
    out = list(sections)
    i = 0
    while i < len(out):
        if scores[i]:
            i += 1
            continue
        j = i
        while j < len(out) and not scores[j]:
            j += 1
        before = sections[i - 1] if i > 0 else None
        after = sections[j] if j < len(out) else None
        if before is None or after is None or before != after:
            out[i:j] = ["other"] * (j - i)
        i = j
    return out


def assign_document_condition(text: str, block: Block, rules: CompiledRules) -> None:
    """A lone study's condition: its best-scoring one when that is clear, else `other`.

    There is no section to inherit, so a block that names no condition (or only
    in passing, under `rules.document_condition_min_score`) is `other`.
    """
    own = _condition_scores(text, block, rules)
    names = list(rules.conditions)
    if own:
        top = max(own, key=lambda c: (own[c], -names.index(c)))
        if own[top] >= rules.document_condition_min_score:
            block.condition = top
            return
    block.condition = "other"


def _tab_conditions(text: str, lines: list[_Line], header: int, rules: CompiledRules) -> list[str]:
    names = {n.lower(): c for c, v in rules.conditions.items() for n in v.tab_names}
    found = []
    for ln in lines[:header]:
        word = text[ln.start:ln.end].strip().lower()
        if word in names:
            found.append(names[word])
    return found


def segment(text: str, rules: CompiledRules, source: str = "<text>") -> Segmentation:
    """Split a page into blocks; see the module docstring for the layouts."""
    lines = split_lines(text)
    if not text.strip():
        return Segmentation("empty", [], [])
    warnings: list[str] = []
    header = _find_header(text, lines)
    if header is None:
        blocks = _document(text, lines)
        warnings.append(f"{source}:1: no Study/Findings/Conclusion header row; the text is one study block")
        assign_document_condition(text, blocks[0], rules)
        return Segmentation("document", blocks, warnings)
    cells = _cells(text, lines, header + 3, source, warnings)
    blocks = _rows(text, cells, source, warnings)
    assign_conditions(text, blocks, rules)
    return Segmentation("table", blocks, warnings, _tab_conditions(text, lines, header, rules))
