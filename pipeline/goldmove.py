"""Gold follows the page: carry hand-labelled gold from the text it was labelled on to an edited page.

A gold file grounds in the version of its source it was written against. When the page
is edited, `rebase_gold` finds that version (`committed_versions`: the newest committed
version of the source in git in which every gold span grounds), aligns each gold block
with the new text the way `evidex diff` pairs blocks (`pipeline.diff`: an unchanged
block by its identical text, an edited one by word similarity ≥
`SIMILARITY_THRESHOLD` with a block of the new page's segmentation), and aligns the
characters of each paired block (difflib). A label is *carried* to its new offset when
its text and the characters on either side of it are unchanged; otherwise it is
*stale*: its text was edited (or its block is gone), and a person has to read it again.

Nothing here guesses a value: a stale label is never rewritten, only reported with its
block, old text and the new text at the place it moved to (`Stale`), and written to the
gold folder's `review/<stem>.jsonl` by `evidex gold rebase`.
"""

from __future__ import annotations

import difflib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .compiled import CompiledRules
from .diff import SIMILARITY_THRESHOLD, _pair_blocks
from .gold import GoldBlock, GoldMeasure
from .ingest import InputError, decode_source
from .segment import segment

MAX_VERSIONS = 50  # committed versions of a source searched for the one its gold grounds in
REVIEW_DIR = "review"

Opcode = tuple[str, int, int, int, int]


def committed_versions(path: Path, limit: int = MAX_VERSIONS) -> Iterator[tuple[str, str]]:
    """(commit, text) of the file's committed versions, newest first (none outside git).

    Texts are decoded as `evidex run` decodes a source, so offsets agree.
    """
    def git(*args: str, cwd: Path = path.parent) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)

    try:
        found = git("rev-parse", "--show-toplevel")
    except OSError:  # no git on this machine
        return
    if found.returncode != 0:
        return
    top = Path(found.stdout.decode().strip()).resolve()
    try:
        rel = path.resolve().relative_to(top).as_posix()
    except ValueError:  # a symlink out of the repository
        return
    log = git("log", f"-n{limit}", "--format=%H", "--", rel, cwd=top)
    for commit in log.stdout.decode().split():
        blob = git("show", f"{commit}:{rel}", cwd=top)
        if blob.returncode != 0:
            continue  # the file was deleted in this commit
        try:
            yield commit, decode_source(blob.stdout, path.name).text
        except InputError:
            continue


@dataclass(frozen=True)
class Alignment:
    """Characters of an old block region [old_start, old_end) aligned with a new region."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int
    opcodes: tuple[Opcode, ...]  # difflib opcodes, relative to the two regions

    @classmethod
    def of(cls, old: str, old_start: int, old_end: int, new: str, new_start: int, new_end: int) -> Alignment:
        a, b = old[old_start:old_end], new[new_start:new_end]
        ops = (("equal", 0, len(a), 0, len(b)),) if a == b else tuple(
            difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes())
        return cls(old_start, old_end, new_start, new_end, ops)

    def carry(self, start: int, end: int) -> tuple[int, int] | None:
        """New offsets of the old span [start, end) when it and the characters on either
        side (within the block) are unchanged; None when an edit touches it."""
        lo, hi = max(start - 1, self.old_start) - self.old_start, min(end + 1, self.old_end) - self.old_start
        for tag, i1, i2, j1, _ in self.opcodes:
            if tag == "equal" and i1 <= lo and hi <= i2:
                shift = self.new_start + j1 - i1 - self.old_start
                return start + shift, end + shift
        return None

    def map(self, pos: int, *, end: bool = False) -> int:
        """Where an old offset lands in the new text: exactly in unchanged text; at the
        start (or, for an end offset, the end) of what replaced an edited stretch."""
        p = pos - self.old_start
        for tag, i1, i2, j1, j2 in self.opcodes:
            if tag == "equal" and i1 <= p <= i2:
                return self.new_start + j1 + (p - i1)
            if i1 <= p < i2 or (end and p == i2 and tag != "equal"):
                return self.new_start + (j2 if end else j1)
        return self.new_end if p >= self.old_end - self.old_start else self.new_start


@dataclass
class Stale:
    """A gold label whose text was edited: it needs a person to read the page again."""

    source: str
    block_index: int  # the gold block it was in (old numbering)
    kind: str  # "measure" | "title"
    reason: str
    old: dict[str, Any]  # the label as it was (a gold measure's fields, or {"title": ...})
    new_char_start: int | None = None  # where its text went, for the reviewer
    new_char_end: int | None = None
    new_text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "block_index": self.block_index, "kind": self.kind, "reason": self.reason,
                "old": self.old, "new_char_start": self.new_char_start, "new_char_end": self.new_char_end,
                "new_text": self.new_text}


@dataclass
class Rebased:
    """Gold carried to an edited page: the new blocks, what moved and what is stale."""

    source: str
    base_commit: str
    blocks: list[GoldBlock]
    carried: int = 0  # labels carried to the new text
    moved: int = 0  # of those, labels whose offsets changed
    stale: list[Stale] = field(default_factory=list)
    # old block_index -> (the block's new fields, each measure's new (start, end) or None
    # when stale); no entry for a block that is gone. `rewrite` applies it to the file.
    plan: dict[int, tuple[dict[str, Any], list[tuple[int, int] | None]]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"base_commit": self.base_commit, "carried": self.carried, "moved": self.moved, "stale": len(self.stale)}


def _locate(old: str, new: str, blocks: list[GoldBlock], rules: CompiledRules, source: str) -> dict[int, Alignment]:
    """Gold block index → its alignment with the new text, for every block still there.

    An unchanged block is found by its exact text (the occurrence nearest where the
    blocks before it moved); the others are paired with the new page's blocks by
    `pipeline.diff`'s block pairing (word similarity ≥ SIMILARITY_THRESHOLD).
    """
    found: dict[int, Alignment] = {}
    shift = 0
    for gb in blocks:
        text = old[gb.char_start:gb.char_end]
        hits, pos = [], new.find(text)
        while pos >= 0 and text:
            hits.append(pos)
            pos = new.find(text, pos + 1)
        if hits:
            at = min(hits, key=lambda h: (abs(h - (gb.char_start + shift)), h))
            shift = at - gb.char_start
            found[gb.block_index] = Alignment.of(old, gb.char_start, gb.char_end, new, at, at + len(text))
    taken = [(a.new_start, a.new_end) for a in found.values()]
    new_blocks = [b for b in segment(new, rules, source).blocks
                  if not any(s < b.char_end and b.char_start < e for s, e in taken)]
    old_of = {f"old-{gb.block_index}": gb for gb in blocks if gb.block_index not in found}
    new_of = {f"new-{b.block_index}": b for b in new_blocks}

    def row(study_id: str, text: str) -> dict[str, str]:
        return {"source": source, "study_id": study_id, "title": "", "findings": text, "conclusion": ""}

    pairs = _pair_blocks([row(k, old[b.char_start:b.char_end]) for k, b in old_of.items()],
                         [row(k, new[b.char_start:b.char_end]) for k, b in new_of.items()])
    for o, n, _ in pairs:
        gb, nb = old_of[o["study_id"]], new_of[n["study_id"]]
        found[gb.block_index] = Alignment.of(old, gb.char_start, gb.char_end, new, nb.char_start, nb.char_end)
    return found


def rebase_gold(source: str, base_commit: str, old: str, new: str, blocks: list[GoldBlock], rules: CompiledRules) -> Rebased:
    """Carry gold `blocks` (grounded in `old`) to `new`; labels in edited text become `Stale`."""
    out = Rebased(source, base_commit, [])
    where = _locate(old, new, blocks, rules, source)
    for gb in blocks:
        al = where.get(gb.block_index)
        if al is None:
            for m in gb.measures:
                out.stale.append(Stale(source, gb.block_index, "measure", "its block is gone from the page "
                                       f"(no block of the new page is {SIMILARITY_THRESHOLD:.0%} alike)",
                                       m.model_dump()))
            continue
        measures: list[GoldMeasure] = []
        spans: list[tuple[int, int] | None] = []
        for m in gb.measures:
            span = al.carry(m.char_start, m.char_end)
            spans.append(span)
            if span is None:
                ns, ne = al.map(m.char_start), al.map(m.char_end, end=True)
                out.stale.append(Stale(source, gb.block_index, "measure", "its text was edited", m.model_dump(),
                                       ns, ne, new[ns:ne]))
                continue
            out.carried += 1
            out.moved += span != (m.char_start, m.char_end)
            measures.append(m.model_copy(update={"char_start": span[0], "char_end": span[1]}))
        start = al.map(gb.char_start)
        title = gb.title
        if title is not None and al.carry(gb.char_start, gb.char_start + len(title)) is None:
            title_end = al.map(gb.char_start + len(title), end=True)
            title = new[start:title_end]
            out.stale.append(Stale(source, gb.block_index, "title", "the title was edited", {"title": gb.title},
                                   start, title_end, title))

        def opt(pos: int | None, *, end: bool = False, al: Alignment = al) -> int | None:
            return None if pos is None else al.map(pos, end=end)

        fields = {**gb.model_dump(exclude={"measures"}), "char_start": start, "char_end": al.map(gb.char_end, end=True),
                  "title": title, "findings_start": al.map(gb.findings_start), "findings_end": al.map(gb.findings_end, end=True),
                  "conclusion_start": opt(gb.conclusion_start), "conclusion_end": opt(gb.conclusion_end, end=True)}
        try:
            out.blocks.append(GoldBlock.model_validate({**fields, "measures": []}).model_copy(update={"measures": measures}))
            out.plan[gb.block_index] = ({k: fields[k] for k in _BLOCK_SPAN_FIELDS}, spans)
        except ValidationError:
            # The block's cells no longer make a block (e.g. its findings were deleted).
            out.stale += [Stale(source, gb.block_index, "measure", "its block's cells were edited away",
                                m.model_dump()) for m in measures]
    out.blocks.sort(key=lambda b: b.char_start)
    out.blocks = [b.model_copy(update={"block_index": i}) for i, b in enumerate(out.blocks, 1)]
    return out


_BLOCK_SPAN_FIELDS = ("char_start", "char_end", "title", "findings_start", "findings_end", "conclusion_start", "conclusion_end")


def rewrite(lines: list[str], rebased: Rebased) -> list[str]:
    """The gold file's lines with `rebased.plan` applied: carried labels at their new
    offsets, stale labels and gone blocks left out, blocks renumbered in page order.
    Every key keeps its place, so the file's diff shows only what moved."""
    out: list[tuple[int, dict[str, Any]]] = []
    for line in lines:
        if not line.strip():
            continue
        raw = json.loads(line)
        entry = rebased.plan.get(raw["block_index"])
        if entry is None:
            continue
        fields, spans = entry
        raw.update(fields)
        kept = []
        for m, span in zip(raw["measures"], spans, strict=True):
            if span is not None:
                m["char_start"], m["char_end"] = span
                kept.append(m)
        raw["measures"] = kept
        out.append((raw["char_start"], raw))
    out.sort(key=lambda item: item[0])
    for i, (_, raw) in enumerate(out, 1):
        raw["block_index"] = i
    return [json.dumps(raw, ensure_ascii=False) for _, raw in out]


def review_path(gold_file: Path) -> Path:
    """Where `evidex gold rebase` lists a gold file's stale labels."""
    return gold_file.parent / REVIEW_DIR / gold_file.name


def read_review(gold_file: Path) -> list[dict[str, Any]]:
    """The stale labels awaiting review for a gold file (empty when there are none)."""
    path = review_path(gold_file)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
