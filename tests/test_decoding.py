"""Decoding (issue 21 items 7 and 8): mixed encodings repaired byte run by byte run,
UTF-32 told from UTF-16, and control characters refused the same way on every path."""

from __future__ import annotations

import pytest

from evidex.ingest import InputError, decode_source

PAGE = "Study\nFindings\nConclusion\nKetamine 0.5 µg/kg – “fast” relief\n45% responded within 24 hours.\nIt helped.\n"


def test_utf8_with_one_stray_cp1252_byte_repairs_only_that_byte():
    data = PAGE.encode("utf-8").replace(b"45%", b"45% \x96 most")
    src = decode_source(data, "p.txt")
    # The UTF-8 around it is read as UTF-8 (not "Âµ", "â€“"), the stray byte as the cp1252 dash.
    assert src.text == PAGE.replace("45%", "45% – most")
    assert src.encoding == "utf-8"
    repaired = [w for w in src.warnings if "encoding repair" in w]
    assert len(repaired) == 1 and repaired[0].startswith("p.txt:5:") and "96" in repaired[0], src.warnings


def test_each_repaired_line_is_reported():
    data = "é first\nplain\n".encode() + b"caf\xe9 second\nok \x93quoted\x94\n"
    src = decode_source(data, "p.txt")
    assert src.text == "é first\nplain\ncafé second\nok “quoted”\n"
    assert [w.split(":")[1] for w in src.warnings if "encoding repair" in w] == ["3", "4"]


def test_a_byte_neither_utf8_nor_cp1252_is_rejected_with_its_line():
    with pytest.raises(InputError) as err:
        decode_source("é\nsecond \x81 line\n".encode().replace(b"\xc2\x81", b"\x81"), "p.txt")
    assert err.value.line == 2 and "0x81" in str(err.value)


def test_a_page_with_no_utf8_at_all_is_cp1252_throughout():
    src = decode_source(PAGE.encode("cp1252"), "p.txt")
    assert src.encoding == "cp1252" and "– “fast”" in src.text


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_is_read_as_utf32(codec):
    data = ("\ufeff" + PAGE).encode(codec) if codec != "utf-32" else PAGE.encode(codec)
    src = decode_source(data, "p.txt")
    assert src.text == PAGE and src.encoding == "utf-32"
    assert "\x00" not in src.text


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-32", "cp1252"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07"])
def test_control_characters_are_refused_on_every_decoding_path(codec, char):
    text = "Study\nFindings\nConclusion\nKetamine helped" + char + " 45%.\nIt helped.\n"
    data = text.encode(codec)
    with pytest.raises(InputError) as err:
        decode_source(data, "p.txt")
    assert err.value.line == 4, str(err.value)
