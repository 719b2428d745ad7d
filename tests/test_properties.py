"""Property tests: arbitrary text never makes extraction raise; every offset grounds;
normalizers read their own canonical forms back."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidex.build import process_text
from evidex.ingest import decode_source
from evidex.models import is_dose_unit
from evidex.normalize import days_per, dose_unit, parse_number

from conftest import project_rules

RULES = project_rules()
PIECES = ["45%", "(9/20)", " vs ", "0.5 mg/kg", "IV", "OR = 2.1; 95% CI 1.1–4.0; p = 0.02", "d≈0.5", "NNT ~5",
          "within 24 hours", "a week", "≥50%", "Study\nFindings\nConclusion\n", "\"", "(", ")", "\n", "\r\n",
          "remission", "responders", "placebo", "days 2, 5, and 10", "two-thirds", "—", "~", "\u2212", " "]
texts = st.one_of(st.text(max_size=400), st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=40).map("".join))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_extraction_never_raises_and_offsets_ground(text):
    result = process_text("p.txt", text, RULES)
    for m in result.measures:
        assert text[m.char_start:m.char_end] == m.text
    for s in result.studies:
        assert text[s.findings_start:s.findings_end] == s.findings
    for u in result.uncovered:
        assert text[u.char_start:u.char_end] == u.text


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_decoding_arbitrary_bytes_never_crashes(data):
    try:
        src = decode_source(data, "b.txt")
    except Exception as err:  # only the documented error may escape
        assert type(err).__name__ == "InputError" and str(err).startswith("b.txt")
    else:
        assert isinstance(src.text, str)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: round(f, 3)))
def test_numbers_round_trip(x):
    assert parse_number(repr(x), RULES) == x


@given(st.sampled_from(["mg/kg", "mg", "mg/kg/h", "µg/kg", "µg/kg/min", "mg/day", "mg/h", "ng/kg", "g", "mL", "mL/kg", "IU"]))
def test_dose_units_read_their_canonical_form(unit):
    assert dose_unit(unit, RULES) == unit


@given(st.sampled_from([("mcg/kg/min", "µg/kg/min"), ("μg·kg−1·min−1", "µg/kg/min"), ("mg kg-1 h-1", "mg/kg/h"),
                        ("mg per kg", "mg/kg"), ("mg/d", "mg/day"), ("mg daily", "mg/day"), ("mg per day", "mg/day"),
                        ("ml", "mL"), ("units", "IU"), ("mic/kg", "µg/kg"), ("µg/ kg", "µg/kg"), ("MG/KG/HR", "mg/kg/h")]))
def test_dose_units_from_parts(pair):
    """Any spelling of the parts reads as the canonical unit, which is a SCHEMA v1.1 dose unit."""
    written, canonical = pair
    assert dose_unit(written, RULES) == canonical
    assert is_dose_unit(canonical)


@given(st.sampled_from([("minute", 1 / 1440), ("hour", 1 / 24), ("day", 1), ("week", 7), ("month", 30.4375), ("year", 365.25)]))
def test_time_units(pair):
    unit, days = pair
    assert abs(days_per(unit, RULES) - days) < 1e-12
    assert abs(days_per(unit + "s", RULES) - days) < 1e-12
