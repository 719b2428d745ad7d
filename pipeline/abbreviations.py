"""Abbreviations a text defines: "complete response (CR)", "lisdexamfetamine dimesylate (LDX)".

One pure function, Schwartz & Hearst's long-form rule (A simple algorithm for identifying
abbreviation definitions in biomedical text, PSB 2003), used by the arm linker (a
treatment's abbreviation names its group) and the rate linker (an outcome's abbreviation
is a cue for its type).
"""

from __future__ import annotations


def long_form_start(text: str, abbr: str, lo: int, hi: int) -> int | None:
    """Where the long form of `abbr` written in text[lo:hi] starts, by Schwartz & Hearst's
    rule: the abbreviation's letters and digits occur in it in order, right to left, the
    first one at the start of a word; None when they do not."""
    chars = [c.lower() for c in abbr if c.isalnum()]
    i = hi - 1
    for k in range(len(chars) - 1, -1, -1):
        c = chars[k]
        while i >= lo and (text[i].lower() != c or (k == 0 and i > lo and text[i - 1].isalnum())):
            i -= 1
        if i < lo:
            return None
        if k:
            i -= 1
    return i
