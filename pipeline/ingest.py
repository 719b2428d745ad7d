"""Stage 1 — ingest: raw bytes → the text every offset indexes.

SCHEMA.md's offset rule: offsets index `raw_bytes.decode("utf-8")` with a leading BOM
stripped and no newline translation. `decode_source` applies exactly that, and when a
file is not UTF-8 it takes a documented fallback and says so in a warning, never
silently:

- a UTF-32 or UTF-16 BOM (UTF-32 is tested first: its little-endian BOM begins with
  UTF-16's) decodes the file in that encoding;
- UTF-8 with stray bytes that are not UTF-8 (one cp1252 dash pasted into a UTF-8 page)
  stays UTF-8: only each run of invalid bytes is read as cp1252, and every repaired
  line is named in a warning;
- a file in which no non-ASCII byte forms UTF-8 at all is cp1252 throughout.

Whatever the path, the decoded text is then checked the same way: a control character
(NUL, BEL, ESC, … — C0 except tab and the line breaks) rejects the file with its line.
Binary files are rejected with an `InputError` naming the file, the line and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import regex

# File signatures of formats that are certainly not a text page.
BINARY_SIGNATURES: dict[bytes, str] = {
    b"%PDF-": "a PDF document",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive (docx/xlsx?)",
    b"\x1f\x8b": "a gzip archive",
}
UTF8_BOM = b"\xef\xbb\xbf"
# Longest first: the UTF-32 little-endian BOM starts with the UTF-16 little-endian one.
BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# Repaired lines named one by one in the warnings; beyond this many, the rest are counted.
MAX_REPAIR_WARNINGS = 50


class InputError(Exception):
    """A source that cannot be processed; `str()` names file, line and problem."""

    def __init__(self, path: str, line: int | None, problem: str):
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}")


@dataclass
class SourceText:
    """A decoded source: `text` is what offsets index; `warnings` say what was unusual."""

    source: str  # path relative to the raw directory, '/'-separated
    text: str
    encoding: str
    sha256: str
    size_bytes: int
    warnings: list[str] = field(default_factory=list)


def line_of(data: bytes, byte_offset: int) -> int:
    """1-based line number of a byte offset."""
    return data.count(b"\n", 0, byte_offset) + 1


def decode_source(data: bytes, source: str) -> SourceText:
    """Decode raw bytes per the offset rule, or raise InputError.

    Takes the bytes of one file and its name (for messages); returns the SourceText.
    """
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    warnings: list[str] = []
    for signature, kind in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise InputError(source, 1, f"binary file ({kind}), not a text page")
    text, encoding = _decode(data, source, warnings)
    control = _first_control_char(text)
    if control is not None:
        raise InputError(source, text.count("\n", 0, control) + 1, f"control character U+{ord(text[control]):04X}: binary data, not a text page")
    if not text.strip():
        warnings.append(f"{source}: empty page (no text); no blocks")
    return SourceText(source, text, encoding, digest, len(data), warnings)


def _decode(data: bytes, source: str, warnings: list[str]) -> tuple[str, str]:
    """(text, encoding) of a file's bytes, with a warning for every fallback and repair."""
    for bom, codec in BOMS:
        if not data.startswith(bom):
            continue
        if codec == "utf-32" and len(data) % 4:  # "\xff\xfe\x00\x00" may open UTF-16 holding a NUL
            continue
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as err:
            if codec == "utf-32":
                continue
            raise InputError(source, None, f"starts with a {codec.upper()} BOM but does not decode as {codec.upper()}: {err.reason}") from err
        warnings.append(f"{source}: encoding fallback: {codec.upper()} (BOM) decoded; offsets index the decoded text")
        return text.lstrip("\ufeff"), codec
    if b"\x00" in data:
        raise InputError(source, line_of(data, data.index(b"\x00")), "NUL byte: binary data, not a text page")
    encoding = "utf-8"
    body = data
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM):]
        encoding = "utf-8-sig"
    try:
        return body.decode("utf-8"), encoding
    except UnicodeDecodeError as err:
        first = err
    # Invalid bytes become lone surrogates (U+DC80-U+DCFF), which valid UTF-8 never decodes to.
    escaped = body.decode("utf-8", "surrogateescape")
    runs = list(_ESCAPED.finditer(escaped))
    if sum(len(m.group()) for m in runs) == len(escaped) - len(escaped.encode("ascii", "ignore")):
        # No non-ASCII byte forms UTF-8: the whole file is cp1252 (the same text the repairs give).
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as err2:
            raise InputError(source, line_of(body, err2.start),
                             f"not UTF-8 ({first.reason} at byte {first.start}) and not cp1252 either") from err2
        warnings.append(f"{source}:{line_of(body, first.start)}: encoding fallback: not valid UTF-8 (byte {first.start}), "
                        "decoded as cp1252; offsets index the decoded text")
        return text, "cp1252"
    return _repair(escaped, runs, source, warnings), encoding


_ESCAPED = regex.compile(r"[\udc80-\udcff]+")


def _repair(escaped: str, runs: list[regex.Match], source: str, warnings: list[str]) -> str:
    """The UTF-8 text with each run of invalid bytes read as cp1252; one warning per repaired line."""
    pieces, pos, line, counted = [], 0, 1, 0
    repaired: dict[int, list[str]] = {}
    for m in runs:
        raw = m.group().encode("utf-8", "surrogateescape")
        line += escaped.count("\n", counted, m.start())
        counted = m.start()
        try:
            fixed = raw.decode("cp1252")
        except UnicodeDecodeError as err:
            raise InputError(source, line, f"byte 0x{raw[err.start]:02X} is neither UTF-8 nor cp1252") from err
        pieces += [escaped[pos:m.start()], fixed]
        pos = m.end()
        repaired.setdefault(line, []).append(f"{raw.hex(' ').upper()} → {fixed!r}")
    pieces.append(escaped[pos:])
    for i, (number, fixes) in enumerate(repaired.items()):
        if i == MAX_REPAIR_WARNINGS:
            warnings.append(f"{source}: {len(repaired) - i} more lines repaired the same way")
            break
        warnings.append(f"{source}:{number}: encoding repair: bytes not valid UTF-8 read as cp1252 ({', '.join(fixes)}); "
                        "the rest of the page is UTF-8")
    return "".join(pieces)


# C0 control characters other than \t \n \v \f \r (9-13).
_CONTROL_CHAR = regex.compile(r"[\x00-\x08\x0e-\x1f]")


def _first_control_char(text: str) -> int | None:
    m = _CONTROL_CHAR.search(text)
    return m.start() if m else None


def read_source(path: Path, raw_dir: Path) -> SourceText:
    """Read and decode one file; `source` is its path relative to raw_dir."""
    rel = path.relative_to(raw_dir).as_posix() if path.is_relative_to(raw_dir) else path.name
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name, kept by Python as surrogates
        raise InputError(printable(rel), None, "file name is not valid UTF-8; rename it to process it") from None
    try:
        inside = path.resolve().is_relative_to(Path(raw_dir).resolve())
    except (OSError, RuntimeError) as err:  # a symlink loop
        raise InputError(rel, None, f"cannot resolve: {err}") from err
    if not inside:  # raw/p.txt -> /etc/passwd must not reach the tables
        raise InputError(rel, None, "refused: it resolves to a file outside the raw directory (a symbolic link?)")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(rel, None, f"cannot read: {err.strerror}") from err
    return decode_source(data, rel)


# C0 and C1 controls, DEL, and the bidi overrides that reorder what a terminal shows.
_UNPRINTABLE = regex.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(name: str) -> str:
    """A file name (or a message naming one) fit for a terminal: bytes that are not UTF-8
    as `\\xff`, control characters as `\\x1b`, `\\n`, ... (`\\u202e` for bidi overrides)."""
    try:
        name = os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name holds
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], name)


def list_sources(raw_dir: Path) -> list[Path]:
    """Every `*.txt` below raw_dir, in a fixed (sorted) order."""
    return sorted((p for p in raw_dir.rglob("*.txt") if p.is_file()), key=lambda p: p.relative_to(raw_dir).as_posix())
