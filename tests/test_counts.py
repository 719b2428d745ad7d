"""Counts behind a share: the group size of "N (P%)" where the text does not write it
(ANNOTATION: "counts behind a rate"; gold takes it from the group the share is of)."""

from __future__ import annotations

import pytest

from evidex.build import process_text
from evidex.normalize import fitting_denominators, implied_denominator


@pytest.mark.parametrize(("numerator", "percent", "expected"), [
    ("16", "80", [20]),
    ("7", "33", [21]),          # 7/21 = 33.3%; 7/20 = 35%, 7/22 = 31.8%
    ("790", "75.1", [1052]),    # one decimal: ±0.05
    ("40", "59", [68]),
    ("364", "91", [398, 399, 400, 401, 402]),
    ("0", "0", []),
    ("3", "0", []),             # 0% of anything is no count of 3
])
def test_fitting_denominators(numerator, percent, expected):
    assert fitting_denominators(int(numerator), percent) == expected


def test_a_share_that_fits_many_group_sizes_takes_the_one_the_text_states():
    text = "Of the 399 patients randomised, 364 (91%) completed follow-up."
    assert implied_denominator(364, "91", text, text.index("364")) == 399


def test_no_group_size_when_none_or_several_stated_sizes_fit():
    assert implied_denominator(364, "91", "364 (91%) completed", 0) is None
    two = "Groups of 399 and 401 patients; 364 (91%) completed"
    assert implied_denominator(364, "91", two, two.index("364")) is None


def test_the_count_itself_is_not_its_group_size():
    # 100 (100%): the only stated number is the count; 100/100 fits by arithmetic alone.
    assert implied_denominator(100, "100", "100 (100%) completed", 0) == 100
    assert implied_denominator(364, "91", "364 (91%) completed", 0) is None


def test_thousands_separators_are_read():
    text = "Among 11,969 people screened, 4237 people (35%) reported use."
    assert implied_denominator(4237, "35", text, text.index("4237")) == 11969


def _rates(rules, text: str) -> list[tuple[str, int | None, int | None, float | None]]:
    result = process_text("t.txt", text + "\n", rules)
    return [(m.text, m.numerator, m.denominator, m.value) for m in result.measures if m.type.endswith("rate")]


def test_count_and_share_forms_carry_their_counts(rules):
    got = _rates(rules, "Pneumonia occurred in 16 (80%) patients on placebo versus seven (33%) patients on zinc.")
    assert got == [("16 (80%)", 16, 20, 80.0), ("seven (33%)", 7, 21, 33.0)]
    got = _rates(rules, "At two years, 2 (1.9%) of the 103 patients had relapsed.")
    assert got == [("2 (1.9%) of the 103", 2, 103, 1.9)]
    got = _rates(rules, "The response rate was 27.2% (95% CI, 14.1–40.4, 12 of 44 assessable patients).")
    assert got == [("27.2% (95% CI, 14.1–40.4, 12 of 44 assessable patients)", 12, 44, 27.2)]
    got = _rates(rules, "Remission was seen in 31% (n = 9/29) at week 6.")
    assert got == [("31% (n = 9/29)", 9, 29, 31.0)]


def test_a_share_whose_group_size_cannot_be_told_has_no_counts(rules):
    got = _rates(rules, "In all, 364 (91%) completed the study.")
    assert got == [("364 (91%)", None, None, 91.0)]
