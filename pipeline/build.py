"""One source → its rows: ingest → segment → extract → normalize → link → records.

`process_text(source, text, rules)` is the pure core used by `evidex run`, `evidex
extract` and the tests: it returns the `studies`, `measures` and `uncovered` rows of one
source plus its warnings. IDs follow SCHEMA.md: a block's id depends only on its own
text, so it survives edits elsewhere on the page.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import cast

import regex

from .compiled import NOT_REGEX_SPACE, CompiledRules
from .extract import Extractor
from .link import Linker
from .models import Bound, Condition, Measure, MeasureType, Study, Uncovered
from .normalize import Draft
from .segment import Block, segment

WHITESPACE = regex.compile(r"\s+")
# The study flag of a block holding a rate over 100% (a misprint, or a rule that misread it).
IMPOSSIBLE_RATE = "impossible_rate"


@dataclass
class SourceResult:
    source: str
    studies: list[Study] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    uncovered: list[Uncovered] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    layout: str = "table"
    parts: int = 1  # of `process_parts`: how many parts the page has in all


def block_hash(block_text: str) -> str:
    """First 10 hex of sha1 of the block text with whitespace runs collapsed."""
    # `str.split()` splits on exactly the characters `WHITESPACE` matches, plus NOT_REGEX_SPACE.
    if any(c in block_text for c in NOT_REGEX_SPACE):
        collapsed = WHITESPACE.sub(" ", block_text).strip()
    else:  # the same string, about 4x faster than the regex
        collapsed = " ".join(block_text.split())
    return hashlib.sha1(collapsed.encode("utf-8")).hexdigest()[:10]


def source_stem(source: str) -> str:
    return PurePosixPath(source).stem


def _clean(v: float | None) -> float | None:
    """Round away binary noise (0.1*3) without losing real precision."""
    return None if v is None else float(f"{v:.12g}")


def _measure(d: Draft, text: str, study_id: str, source: str, block: Block, used: set[str]) -> Measure:
    measure_id = f"{study_id}-{d.start - block.char_start}"
    if measure_id in used:  # two values starting at one offset: keep ids unique and stable
        measure_id = f"{measure_id}-{d.type}"
    used.add(measure_id)
    # Drafts hold type and bound as plain strings; Measure validates both against their Literals.
    return Measure(
        measure_id=measure_id, study_id=study_id, source=source, type=cast(MeasureType, d.type),
        value=_clean(d.value), low=_clean(d.low), high=_clean(d.high), unit=d.unit, label=d.label,
        approx=d.approx, bound=cast("Bound | None", d.bound), arm=d.arm, drug=d.drug, timepoint_days=_clean(d.timepoint_days),
        numerator=d.numerator, denominator=d.denominator, ci_low=d.ci_low, ci_high=d.ci_high,
        p_value=d.p_value, text=text[d.start:d.end], char_start=d.start, char_end=d.end, rule_id=d.rule_id,
    )


# Blocks per part of `process_parts`: a page's rows are handed on (and, by `evidex run`,
# rendered and dropped) this many blocks at a time, so the validated row models of a
# page of many short rows never pile up (about 1,100 bytes of models per source byte).
BLOCKS_PER_PART = 256


def process_text(source: str, text: str, rules: CompiledRules, *, stem: str | None = None) -> SourceResult:
    """Segment, extract, normalize and link one decoded source with compiled rules (`load_rules`).

    `stem` opens every id (default: the stem of `source`, the file name without its
    suffix); a corpus record passes its record id, which may hold dots or slashes.
    Returns all its rows at once: `process_parts` joined.
    """
    result = SourceResult(source=source)
    for part in process_parts(source, text, rules, stem=stem):
        result.layout = part.layout
        result.studies += part.studies
        result.measures += part.measures
        result.uncovered += part.uncovered
        result.warnings += part.warnings
    return result


def process_parts(source: str, text: str, rules: CompiledRules, *, stem: str | None = None,
                  blocks_per_part: int | None = None) -> Iterator[SourceResult]:
    """`process_text` in parts of `blocks_per_part` blocks (default `BLOCKS_PER_PART`),
    in page order: each part holds those blocks' rows and warnings (the first also the
    page's own warnings); joined, the parts are exactly `process_text`'s result. Always
    at least one part; each says how many there are (`parts`).
    """
    per_part = BLOCKS_PER_PART if blocks_per_part is None else blocks_per_part
    # The engines hold nothing but references into `rules`: building them costs nothing.
    extractor, linker = Extractor(rules), Linker(rules)
    seg = segment(text, rules, source)
    newlines: list[int] | None = None

    def line_of(pos: int) -> int:
        """1-based line of a character offset (newline offsets computed once, on first use)."""
        nonlocal newlines
        if newlines is None:
            newlines = [m.start() for m in regex.finditer("\n", text)]
        return bisect_left(newlines, pos) + 1

    parts = len(seg.blocks) // per_part + 1  # a part is handed on at every per_part blocks, and once at the end
    result = SourceResult(source=source, warnings=list(seg.warnings), layout=seg.layout, parts=parts)  # the part being filled
    stem = source_stem(source) if stem is None else stem
    first_id_of: dict[str, str] = {}
    seen: dict[str, int] = {}
    # A page's blocks that name no group take the page's own treatment (a ketamine clinic's
    # page), as its intro — the text before the first block — names it.
    page_arm = linker.arms.block_arms(text, [(0, seg.blocks[0].char_start)]).default if len(seg.blocks) > 1 else None
    for block in seg.blocks:
        block_text = text[block.char_start:block.char_end]
        base = f"{stem}-{block_hash(block_text)}"
        seen[base] = seen.get(base, 0) + 1
        study_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        duplicate_of = first_id_of.get(base)
        first_id_of.setdefault(base, study_id)

        ex = extractor.extract_block(text, block)
        kept = linker.link_block(text, ex.drafts, [(s.start, s.end) for _, s in block.cells()], page_arm)
        used: set[str] = set()
        measures = [_measure(d, text, study_id, source, block, used) for d in kept]
        for u in ex.uncovered:
            result.uncovered.append(Uncovered(
                source=source, study_id=study_id, text=text[u.start:u.end], char_start=u.start, char_end=u.end,
                reason=u.reason, sentence=text[u.sentence.start:u.sentence.end],
            ))
        result.warnings += [f"{source}: block {block.block_index}, {w}" for w in ex.warnings]
        # A share over 100% cannot be (SCHEMA: percent 0–100): kept as written, flagged, reported.
        impossible = [m for m in measures if m.unit == "%" and any(v is not None and v > 100 for v in (m.value, m.low, m.high))]
        for m in impossible:
            result.warnings.append(f"{source}:{line_of(m.char_start)}: impossible rate {m.text!r} (over 100%, rule {m.rule_id}) "
                                   f"in block {block.block_index}; kept as written, block flagged {IMPOSSIBLE_RATE}")
        flags = sorted({*block.flags, *ex.flags, *([IMPOSSIBLE_RATE] if impossible else [])})
        for start, _end, rule_id in ex.damaged:
            line = line_of(start)
            result.warnings.append(f"{source}:{line}: damaged text ({rule_id}) in block {block.block_index}; nothing extracted from it")
        follow = [m.high if m.high is not None else m.value for m in measures if m.type == "follow_up"]
        routes = sorted({m.label for m in measures if m.type == "route" and m.label})
        result.studies.append(Study(  # Study validates the block's condition (a plain str) against Condition
            study_id=study_id, source=source, block_index=block.block_index, condition=cast(Condition, block.condition),
            title=text[block.title.start:block.title.end] if block.title else None,
            findings=text[block.findings.start:block.findings.end],
            conclusion=text[block.conclusion.start:block.conclusion.end] if block.conclusion else None,
            char_start=block.char_start, char_end=block.char_end,
            title_start=block.title.start if block.title else None, title_end=block.title.end if block.title else None,
            findings_start=block.findings.start, findings_end=block.findings.end,
            conclusion_start=block.conclusion.start if block.conclusion else None,
            conclusion_end=block.conclusion.end if block.conclusion else None,
            duplicate_of=duplicate_of,
            follow_up_days=max((f for f in follow if f is not None), default=None),
            routes=";".join(routes) or None, n_measures=len(measures), flags=";".join(flags) or None,
        ))
        result.measures += measures
        if len(result.studies) >= per_part:
            # Blocks do not overlap and come in page order, so sorting each part's
            # uncovered numbers sorts the page's.
            result.uncovered.sort(key=lambda u: (u.char_start, u.char_end))
            yield result
            result = SourceResult(source=source, layout=seg.layout, parts=parts)
    result.uncovered.sort(key=lambda u: (u.char_start, u.char_end))
    yield result
