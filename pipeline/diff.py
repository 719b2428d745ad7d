"""What changed between two extracted directories, and why.

`diff_dirs(old, new)` reads `studies.csv`, `measures.csv` and `manifest.json` of both and
returns a JSON-ready report:

* studies added, removed and edited — an edited block is an old and a new block of the
  same source whose texts are at least `SIMILARITY_THRESHOLD` alike (difflib ratio over
  words, whitespace collapsed), shown with a word-level diff;
* measures added, removed and changed (old → new per field). Offsets and block order
  are not content: a whitespace-only edit or a block inserted elsewhere changes no
  measure, so measures are paired by study, type and text (whitespace collapsed), then
  by type and order;
* a cause for each change: `source` (the block's own text changed, or the block is
  new or gone), `rules` (the block text is the same but the rules or evidex changed),
  `source_context` (the block text is the same, rules too, but the page changed around
  it — e.g. its section).

Reading the rows has two paths that yield the same `SourceRows` to one comparison loop.
The fast path trusts each manifest's CSV index (written by `evidex run`: per source, the
byte range and sha256 of its rows in each CSV) once it verifies against the files on
disk, skips every source whose bytes are unchanged and parses only the others' byte
ranges. The slow path — for directories without a verified index, e.g. written by an
older evidex or with a hand-edited CSV — merge-joins both runs' whole CSVs by source.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import subprocess
import sys
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, BinaryIO

import regex

from .export import CsvSlice

SIMILARITY_THRESHOLD = 0.6
MEASURE_FIELDS = ("value", "low", "high", "unit", "label", "approx", "bound", "arm", "timepoint_days",
                  "numerator", "denominator", "ci_low", "ci_high", "p_value", "text", "rule_id")
STUDY_FIELDS = ("condition", "title", "duplicate_of", "flags")
WS = regex.compile(r"\s+")


class UnreadableTables(ValueError):
    """An extracted directory whose tables or manifest cannot be read as evidex wrote them
    (e.g. hand-edited); the message names the file, the line and the problem."""


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UnreadableTables(f"{path}:{err.lineno}: not valid JSON: {err.msg}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableTables(f"{path}: cannot read: {err}") from err
    if not isinstance(manifest, dict):
        raise UnreadableTables(f"{path}:1: expected a JSON object")
    _check_manifest_shape(path, manifest)
    return manifest


def _check_manifest_shape(path: Path, manifest: dict[str, Any]) -> None:
    """The parts of a manifest the report reads, in the shape `evidex run` writes them;
    UnreadableTables naming the key otherwise (a hand-edited or foreign manifest)."""
    sources = manifest.get("sources", {})
    if not isinstance(sources, dict):
        raise UnreadableTables(f"{path}: 'sources' is a {type(sources).__name__}, expected an object of sources")
    for source, entry in sources.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256", ""), str | None):
            raise UnreadableTables(f"{path}: sources[{json.dumps(source, ensure_ascii=False)}] is not a source entry "
                                   "(an object with a sha256 string)")
    for key in ("rules_sha256", "evidex_version"):
        if not isinstance(manifest.get(key, ""), str | None):
            raise UnreadableTables(f"{path}: '{key}' is a {type(manifest[key]).__name__}, expected a string")


def collapse(s: str) -> str:
    return WS.sub(" ", s or "").strip()


def _block_text(st: dict[str, str]) -> str:
    return collapse(" ".join(x for x in (st.get("title"), st.get("findings"), st.get("conclusion")) if x))


def word_diff(old: str, new: str) -> str:
    """Word-level diff: unchanged words plain, removals as [-x-], additions as {+y+}."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            words = a[i1:i2]
            out.append(" ".join(words) if len(words) <= 8 else " ".join([*words[:3], "…", *words[-3:]]))
        if op in ("delete", "replace"):
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if op in ("insert", "replace"):
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


def similarity(old: str, new: str) -> float:
    return difflib.SequenceMatcher(a=old.split(), b=new.split(), autojunk=False).ratio()


def _pair_blocks(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[tuple[dict, dict, float]]:
    """Greedy best-first pairing of unmatched old and new blocks above the threshold."""
    scored = []
    for o in old:
        for n in new:
            if o["source"] != n["source"]:
                continue
            s = similarity(_block_text(o), _block_text(n))
            if s >= SIMILARITY_THRESHOLD:
                scored.append((s, o["study_id"], n["study_id"], o, n))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_o, used_n, pairs = set(), set(), []
    for s, oid, nid, o, n in scored:
        if oid in used_o or nid in used_n:
            continue
        used_o.add(oid)
        used_n.add(nid)
        pairs.append((o, n, round(s, 4)))
    return pairs


def _measure_key(m: dict[str, str]) -> tuple[str, str]:
    return m["type"], collapse(m["text"])


def _pair_measures(old: list[dict[str, str]], new: list[dict[str, str]]) -> tuple[list, list, list]:
    """(pairs, removed, added) for the measures of one old/new block pair."""
    pairs, rest_o, rest_n = [], list(old), list(new)
    for strategy in (_measure_key, lambda m: (m["type"],)):
        buckets: dict[tuple, list] = defaultdict(list)
        for m in rest_n:
            buckets[strategy(m)].append(m)
        still_o = []
        for m in rest_o:
            bucket = buckets.get(strategy(m))
            if bucket:
                pairs.append((m, bucket.pop(0)))
            else:
                still_o.append(m)
        taken = {id(n) for _, n in pairs}
        rest_o, rest_n = still_o, [m for m in rest_n if id(m) not in taken]
    return pairs, rest_o, rest_n


def _moved(same: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """Blocks whose order relative to the others changed (not a mere index shift).

    The blocks kept in order form the longest increasing run of old indexes taken
    in new order (per source); every other unchanged block was moved.
    """
    out = []
    by_source: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for o, n in same:
        by_source[n["source"]].append((o, n))
    for pairs in by_source.values():
        pairs.sort(key=lambda p: int(p[1]["block_index"]))
        seq = [int(o["block_index"]) for o, _ in pairs]
        # patience sorting for the longest increasing subsequence, with back-pointers
        tails: list[int] = []
        tail_idx: list[int] = []
        prev = [-1] * len(seq)
        for i, v in enumerate(seq):
            j = bisect_left(tails, v)
            if j == len(tails):
                tails.append(v)
                tail_idx.append(i)
            else:
                tails[j] = v
                tail_idx[j] = i
            prev[i] = tail_idx[j - 1] if j > 0 else -1
        keep, k = set(), tail_idx[-1] if tail_idx else -1
        while k >= 0:
            keep.add(k)
            k = prev[k]
        out += [pairs[i] for i in range(len(pairs)) if i not in keep]
    return out


@dataclass(frozen=True)
class _Rows:
    """One source's rows of one table, as csv lists, and the header that names their fields.

    Equal when header and rows are equal, field for field.
    """

    header: list[str]
    rows: list[list[str]]

    def dicts(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, r, strict=True)) for r in self.rows]


_NONE = _Rows([], [])  # a source with no rows in a table: the same value on both paths
SourceRows = tuple[str, _Rows, _Rows, _Rows, _Rows]  # source, old studies, new studies, old measures, new measures


@dataclass(frozen=True)
class _Whole:
    """A source with studies in one run only (added or removed): counted, not listed, so
    only its row counts are needed — the fast path takes them from the manifest."""

    source: str
    status: str  # "added" or "removed"
    studies: int  # its studies in the run that has them
    measures: int  # its measures in that run (the other run's when that has none)


Changed = SourceRows | _Whole  # what either path yields for a source that may have changed
DIFF_TABLES = ("studies", "measures")
COUNT_FIELDS = {"studies": "blocks", "measures": "measures"}  # a manifest source entry's row count per table


# ------------------------------------------------------------------ slow path: parse everything


def _grouped(path: Path) -> Iterator[tuple[str, _Rows]]:
    """Rows of a table CSV grouped by source (tables are sorted by source, then offset).
    Raises UnreadableTables for a file without a `source` column or a row whose number
    of fields differs from the header's."""
    if not path.exists():
        return
    try:
        fh = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as err:  # e.g. a directory named studies.csv
        raise UnreadableTables(f"{path}: cannot read: {err.strerror or err}") from err
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                return
            if "source" not in header:
                raise UnreadableTables(f"{path}:1: no 'source' column in the header")
            column = header.index("source")

            def checked() -> Iterator[list[str]]:
                for row in reader:
                    if len(row) != len(header):
                        raise UnreadableTables(f"{path}:{reader.line_num}: {len(row)} fields, the header has {len(header)}")
                    yield row

            for source, rows in groupby(checked(), key=lambda r: r[column]):
                yield source, _Rows(header, list(rows))
        except (csv.Error, UnicodeDecodeError) as err:
            raise UnreadableTables(f"{path}:{reader.line_num}: {err}") from err


def _by_source(old: Path, new: Path) -> Iterator[tuple[str, _Rows, _Rows]]:
    """Merge-join two grouped tables on source: (source, old rows, new rows)."""
    old_it, new_it = _grouped(old), _grouped(new)
    o, n = next(old_it, None), next(new_it, None)
    while o is not None or n is not None:
        if n is None or (o is not None and o[0] < n[0]):
            assert o is not None  # the loop runs while either table has rows left
            yield o[0], o[1], _NONE
            o = next(old_it, None)
        elif o is None or n[0] < o[0]:
            yield n[0], _NONE, n[1]
            n = next(new_it, None)
        else:
            yield o[0], o[1], n[1]
            o, n = next(old_it, None), next(new_it, None)


def _parsed_sources(old_dir: Path, new_dir: Path) -> Iterator[Changed]:
    """Every source with studies in either run, in source order, read by parsing both
    runs' whole CSVs (a source with studies in one run only as its `_Whole`). Measures of
    a source with no studies on either side are not read (measures belong to studies)."""
    measures = _by_source(old_dir / "measures.csv", new_dir / "measures.csv")
    pending = next(measures, None)
    for source, old_s, new_s in _by_source(old_dir / "studies.csv", new_dir / "studies.csv"):
        while pending is not None and pending[0] < source:
            pending = next(measures, None)
        old_m = new_m = _NONE
        if pending is not None and pending[0] == source:
            _, old_m, new_m = pending
            pending = next(measures, None)
        if not old_s.rows or not new_s.rows:
            yield _Whole(source, "added" if new_s.rows else "removed", len(new_s.rows or old_s.rows),
                         len(new_m.rows or old_m.rows))
            continue
        yield source, old_s, new_s, old_m, new_m


# ------------------------------------------------------------------ fast path: the manifest's index


@dataclass(frozen=True)
class CsvIndex:
    """A directory's verified CSV index: per table the header line (bytes), per source
    and table the byte range and sha256 of its rows, and per source and table its
    number of rows (the manifest's `blocks` and `measures`)."""

    directory: Path
    headers: dict[str, bytes]
    slices: dict[str, dict[str, CsvSlice]]
    counts: dict[str, dict[str, int]]


def _verified_index(directory: Path, manifest: dict[str, Any]) -> CsvIndex | None:
    """The manifest's index of studies.csv and measures.csv, or None when it is missing,
    malformed or does not describe the files on disk.

    Checked: each CSV's size and sha256 equal the manifest's `tables` entry (so the file
    is the one the index was written with — not hand-edited, not from another run), and
    the sources' ranges tile the file after the header line with no gap or overlap (so
    every row belongs to exactly one indexed source), and each source's row counts are
    whole numbers that are zero exactly when its range is empty.
    """
    try:
        sources = manifest["sources"]
        slices = {src: {name: CsvSlice.from_json(entry["csv"][name]) for name in DIFF_TABLES} for src, entry in sources.items()}
        counts = {src: {name: entry[field] for name, field in COUNT_FIELDS.items()} for src, entry in sources.items()}
        for src, per_table in counts.items():
            for name, n in per_table.items():
                if type(n) is not int or n < 0 or (n == 0) != (slices[src][name].size == 0):
                    return None
        headers = {}
        for name in DIFF_TABLES:
            table, path = manifest["tables"][name], directory / f"{name}.csv"
            size = path.stat().st_size
            if size != table["csv_bytes"]:
                return None  # cheap test first: no hashing when the size already differs
            with open(path, "rb") as fh:
                headers[name] = fh.readline()
                fh.seek(0)
                if hashlib.file_digest(fh, "sha256").hexdigest() != table["csv_sha256"]:
                    return None
            end = len(headers[name])
            for part in sorted((s[name] for s in slices.values()), key=lambda p: (p.offset, p.size)):
                if part.offset != end or part.size < 0:
                    return None
                end += part.size
            if end != size:
                return None
    except (KeyError, TypeError, ValueError, AttributeError, OSError):
        return None  # no index (an older evidex), a malformed one or an unreadable file
    return CsvIndex(directory, headers, slices, counts)


def verified_indexes(old_dir: Path, new_dir: Path, old_manifest: dict[str, Any] | None = None,
                     new_manifest: dict[str, Any] | None = None) -> tuple[CsvIndex, CsvIndex] | None:
    """Both directories' verified indexes when the fast path may be used, else None:
    both manifests (read from the directories unless given) carry an index that verifies
    (`_verified_index`) and the two runs' CSV header lines are equal, so equal row bytes
    mean equal rows, field for field."""
    old = _verified_index(old_dir, _read_manifest(old_dir) if old_manifest is None else old_manifest)
    new = None
    if old is not None:  # no need to hash the new run's files when the old run has no index
        new = _verified_index(new_dir, _read_manifest(new_dir) if new_manifest is None else new_manifest)
    if old is None or new is None or old.headers != new.headers:
        return None
    return old, new


def _read_slice(fh: BinaryIO, part: CsvSlice | None, header: list[str]) -> _Rows:
    """The rows in one source's byte range of an open CSV (`_NONE` when it has none)."""
    if part is None or part.size == 0:
        return _NONE
    fh.seek(part.offset)
    text = fh.read(part.size).decode("utf-8")
    # newline="" as for the whole file: quoted cells keep their line breaks
    return _Rows(header, list(csv.reader(io.StringIO(text, newline=""))))


def _indexed_sources(old: CsvIndex, new: CsvIndex) -> Iterator[Changed]:
    """Like `_parsed_sources`, but a source whose studies and measures bytes are the same in
    both runs (equal sha256) is skipped unread, a source with studies in one run only is
    counted from the manifest unread, and only the others' byte ranges are parsed."""
    headers = {name: next(csv.reader([old.headers[name].decode("utf-8")])) for name in DIFF_TABLES}
    with ExitStack() as stack:
        files = {(side, name): stack.enter_context(open(index.directory / f"{name}.csv", "rb"))
                 for side, index in (("old", old), ("new", new)) for name in DIFF_TABLES}

        def read(side: str, parts: dict[str, CsvSlice], name: str) -> _Rows:
            return _read_slice(files[side, name], parts.get(name), headers[name])

        for source in sorted(old.slices.keys() | new.slices.keys()):
            o, n = old.slices.get(source, {}), new.slices.get(source, {})
            if not (o and o["studies"].size) and not (n and n["studies"].size):
                continue  # no studies in either run: the slow path never sees this source either
            if o and n and all(o[name].sha256 == n[name].sha256 for name in DIFF_TABLES):
                continue  # the same bytes, hence the same rows: nothing changed here (most sources of a re-run)
            if not (o and o["studies"].size) or not (n and n["studies"].size):
                # Studies in one run only: an added or removed source, whose rows are counted, not read.
                old_n, new_n = old.counts.get(source, {}), new.counts.get(source, {})
                status, side = ("added", new_n) if n and n["studies"].size else ("removed", old_n)
                yield _Whole(source, status, side["studies"], new_n.get("measures", 0) or old_n.get("measures", 0))
                continue

            yield source, read("old", o, "studies"), read("new", n, "studies"), read("old", o, "measures"), read("new", n, "measures")


# ------------------------------------------------------------------ the report


def diff_dirs(old_dir: Path, new_dir: Path, *, fast: bool = True) -> dict[str, Any]:
    """Compare two extracted directories source by source; returns the JSON-ready report.

    Reads only the rows of sources that changed when both manifests carry a CSV index
    that verifies against the files (`verified_indexes`); otherwise, or with
    `fast=False`, parses both runs' whole CSVs. Both paths give the same report, and
    memory is bounded by the largest source either way.
    """
    old_man, new_man = _read_manifest(old_dir), _read_manifest(new_dir)
    rules_changed = old_man.get("rules_sha256") != new_man.get("rules_sha256") or old_man.get("evidex_version") != new_man.get("evidex_version")
    context_cause = "rules" if rules_changed else "source_context"
    study_changes: list[dict[str, Any]] = []
    measure_changes: list[dict[str, Any]] = []
    counts: dict[str, int] = defaultdict(int)
    source_status: dict[str, str] = {}
    indexes = verified_indexes(old_dir, new_dir, old_man, new_man) if fast else None
    csv.field_size_limit(sys.maxsize)  # a whole page can be one cell
    changed = _indexed_sources(*indexes) if indexes else _parsed_sources(old_dir, new_dir)
    for item in changed:
        if isinstance(item, _Whole):
            # A whole source appeared or went: count it, do not list every row.
            source_status[item.source] = item.status
            counts[f"sources_{item.status}"] += 1
            counts[f"studies_{item.status}"] += item.studies
            counts[f"measures_{item.status}"] += item.measures
            continue
        source, old_s, new_s, old_m, new_m = item
        if old_s == new_s and old_m == new_m:
            continue  # the same rows, field for field: nothing changed here
        _diff_source(old_s.dicts(), new_s.dicts(), old_m.dicts(), new_m.dicts(), context_cause, study_changes, measure_changes)

    sources = {}
    for src in sorted(set(old_man.get("sources", {})) | set(new_man.get("sources", {})) | set(source_status)):
        o, n = old_man.get("sources", {}).get(src, {}), new_man.get("sources", {}).get(src, {})
        sources[src] = {"old_sha256": o.get("sha256"), "new_sha256": n.get("sha256"), "changed": o.get("sha256") != n.get("sha256"),
                        "status": source_status.get(src, "compared")}
    study_changes.sort(key=lambda c: (c["source"], c["block_index"], c["change"]))
    measure_changes.sort(key=lambda c: (c["study_id"], c["measure_id"], c["change"]))
    for c in study_changes:
        counts[f"studies_{c['change']}"] += 1
    for c in measure_changes:
        counts[f"measures_{c['change']}"] += 1
    return {
        "old": str(old_dir), "new": str(new_dir),
        "rules_changed": rules_changed,
        "sources": sources,
        "summary": dict(sorted(counts.items())),
        "changed": bool(counts),
        "studies": study_changes,
        "measures": measure_changes,
    }


def _diff_source(old_s: list[dict], new_s: list[dict], old_m: list[dict], new_m: list[dict], context_cause: str,
                 study_changes: list[dict[str, Any]], measure_changes: list[dict[str, Any]]) -> None:
    """Studies and measures of one source present in both runs."""
    m_by_study_old: dict[str, list] = defaultdict(list)
    m_by_study_new: dict[str, list] = defaultdict(list)
    for m in old_m:
        m_by_study_old[m["study_id"]].append(m)
    for m in new_m:
        m_by_study_new[m["study_id"]].append(m)

    old_ids = {s["study_id"]: s for s in old_s}
    new_ids = {s["study_id"]: s for s in new_s}
    same = [(old_ids[i], new_ids[i]) for i in new_ids if i in old_ids]
    only_old = [s for s in old_s if s["study_id"] not in new_ids]
    only_new = [s for s in new_s if s["study_id"] not in old_ids]
    edited = _pair_blocks(only_old, only_new)
    edited_old = {o["study_id"] for o, _, _ in edited}
    edited_new = {n["study_id"] for _, n, _ in edited}

    def add_measures(o_list: list, n_list: list, cause: str, study_id: str, old_study_id: str | None) -> None:
        pairs, removed, added = _pair_measures(o_list, n_list)
        for o, n in pairs:
            fields = {f: {"old": o.get(f, ""), "new": n.get(f, "")} for f in MEASURE_FIELDS
                      if (collapse(o.get(f, "")) if f == "text" else o.get(f, "")) != (collapse(n.get(f, "")) if f == "text" else n.get(f, ""))}
            if fields:
                measure_changes.append({"change": "changed", "cause": cause, "study_id": study_id, "old_study_id": old_study_id,
                                        "type": n["type"], "text": n["text"], "measure_id": n["measure_id"], "rule_id": n.get("rule_id"),
                                        "fields": fields})
        for o in removed:
            measure_changes.append({"change": "removed", "cause": cause, "study_id": study_id, "old_study_id": old_study_id,
                                    "type": o["type"], "text": o["text"], "measure_id": o["measure_id"], "rule_id": o.get("rule_id"), "old_value": o["value"] or f"{o['low']}–{o['high']}"})
        for n in added:
            measure_changes.append({"change": "added", "cause": cause, "study_id": study_id, "old_study_id": old_study_id,
                                    "type": n["type"], "text": n["text"], "measure_id": n["measure_id"], "rule_id": n.get("rule_id"), "new_value": n["value"] or f"{n['low']}–{n['high']}"})

    for o, n in _moved(same):
        study_changes.append({"change": "moved", "cause": "source", "source": n["source"], "study_id": n["study_id"],
                              "block_index": int(n["block_index"]), "old_block_index": int(o["block_index"])})
    for o, n in same:
        fields = {f: {"old": o[f], "new": n[f]} for f in STUDY_FIELDS if o.get(f, "") != n.get(f, "")}
        if fields:
            study_changes.append({"change": "attributes", "cause": context_cause, "source": n["source"], "study_id": n["study_id"],
                                  "block_index": int(n["block_index"]), "fields": fields})
        add_measures(m_by_study_old[o["study_id"]], m_by_study_new[n["study_id"]], context_cause, n["study_id"], None)
    for o, n, sim in edited:
        study_changes.append({"change": "edited", "cause": "source", "source": n["source"], "study_id": n["study_id"],
                              "old_study_id": o["study_id"], "block_index": int(n["block_index"]), "similarity": sim,
                              "word_diff": word_diff(_block_text(o), _block_text(n))})
        add_measures(m_by_study_old[o["study_id"]], m_by_study_new[n["study_id"]], "source", n["study_id"], o["study_id"])
    for o in only_old:
        if o["study_id"] not in edited_old:
            study_changes.append({"change": "removed", "cause": "source", "source": o["source"], "study_id": o["study_id"],
                                  "block_index": int(o["block_index"]), "title_or_start": (o["title"] or o["findings"])[:80]})
            add_measures(m_by_study_old[o["study_id"]], [], "source", o["study_id"], None)
    for n in only_new:
        if n["study_id"] not in edited_new:
            study_changes.append({"change": "added", "cause": "source", "source": n["source"], "study_id": n["study_id"],
                                  "block_index": int(n["block_index"]), "title_or_start": (n["title"] or n["findings"])[:80]})
            add_measures([], m_by_study_new[n["study_id"]], "source", n["study_id"], None)


def extracted_at_rev(rev: str, repo: Path, dest: Path, subdir: str = "extracted") -> Path:
    """Write `<subdir>/` at a git revision (CSV + manifest) into `dest`; returns `dest`.
    Raises FileNotFoundError when a table is missing at that revision."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("studies.csv", "measures.csv", "manifest.json"):
        proc = subprocess.run(["git", "show", f"{rev}:{subdir}/{name}"], cwd=repo, capture_output=True)
        if proc.returncode == 0:
            (dest / name).write_bytes(proc.stdout)
        elif name != "manifest.json":
            raise FileNotFoundError(f"{subdir}/{name} not found at {rev}: {proc.stderr.decode().strip()}")
    return dest
