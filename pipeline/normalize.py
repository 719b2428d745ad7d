"""Stage 4 — normalize: a recognizer hit's named groups → typed, unit-normalized values.

Pure functions of (hit, rules). Numbers may be digits or words ("ten", "twenty four",
"two-thirds", "a week"); counts become percentages with numerator/denominator;
unicode signs (~ ≈ – — ≥ ≤ ⩾ ⩽ µ μ) are read; ranges stay low/high (never a midpoint);
time goes to days; dose units to their canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from .compiled import CompiledRules

EFFECT_METRICS = {"d": "cohen_d", "r": "r", "g": "hedges_g"}
METRIC_LETTER = regex.compile(r"\(?\b([rdg])\)?$")


class NormalizationError(ValueError):
    """A hit whose groups cannot be read as a value (the hit is reported, not kept)."""


@dataclass(eq=False)
class Draft:
    """A measure before linking: everything but arm, timepoint and ids."""

    type: str
    start: int
    end: int
    rule_id: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    label: str | None = None
    approx: bool = False
    bound: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    arm: str | None = None
    drug: str | None = None
    timepoint_days: float | None = None
    extra: dict = field(default_factory=dict)


def parse_number(token: str, rules: CompiledRules) -> float:
    """'0.5' → 0.5, '1·01' → 1.01 (middle-dot decimal point), 'Fifty' → 50, 'twenty four' → 24,
    'a' → 1, 'first' → 1."""
    t = token.strip().replace(",", "").replace("−", "-").replace("·", ".")
    try:
        value = float(t)
    except ValueError:
        pass
    else:
        if not _finite(value):  # 400 digits overflow to inf: JSON has no Infinity
            raise NormalizationError(f"not a finite number: {token[:40]!r}")
        return value
    key = " ".join(t.lower().split())
    for table in (rules.number_words, rules.article_words, rules.ordinal_words):
        if key in table:
            return table[key]
    raise NormalizationError(f"not a number: {token!r}")


_INF = float("inf")


def _finite(x: float) -> bool:
    """False for inf, -inf and NaN."""
    return -_INF < x < _INF


def days_per(unit_text: str, rules: CompiledRules) -> float:
    """Days in one time unit as written ('hours', 'h', 'wk', 'months')."""
    key = unit_text.strip().lower()
    days = next((days for pattern, days in rules.time_unit_res if pattern.fullmatch(key)), None)
    if days is None:
        raise NormalizationError(f"unknown time unit {unit_text!r}")
    return days


def dose_unit(unit_text: str, rules: CompiledRules) -> str:
    """Canonical dose unit from its parts ('mg per kg' → 'mg/kg', 'mcg/kg/min' → 'µg/kg/min',
    'mg daily' → 'mg/day'); rules/vocab/units.yaml `dose_units` holds the spellings."""
    canonical = rules.dose_reader.canonical(" ".join(unit_text.lower().split()))
    if canonical is None:
        raise NormalizationError(f"unknown dose unit {unit_text!r}")
    return canonical


def effect_metric(metric_text: str) -> str:
    """'d' → cohen_d, 'SMD' → smd, 'effect size r' → r, 'effect size' → unspecified."""
    m = metric_text.strip()
    letter = METRIC_LETTER.search(m)
    if letter:
        m = letter.group(1)
    if m in EFFECT_METRICS:
        return EFFECT_METRICS[m]
    low = m.lower()
    if low == "smd" or low.startswith("standardi"):
        return "smd"
    return "unspecified"


def bound_before(text: str, start: int, rules: CompiledRules) -> str | None:
    """Bound stated in the words right before a span ('up to', 'within', 'by', ...)."""
    window = text[max(0, start - 40):start]
    for pattern, bound in rules.bound_cues:
        if pattern.search(window):
            return bound
    return None


def _group(m: regex.Match, name: str) -> str | None:
    return m.group(name) if name in m.re.groupindex and m.group(name) is not None else None


def normalize_hit(m: regex.Match, type_: str, rule_id: str, text: str, rules: CompiledRules, offset: int = 0,
                  stated: StatedNumbers | None = None) -> list[Draft]:
    """Turn one regex match (over `text[offset:]`-relative positions) into drafts.

    `stated`: the numbers `text` writes (`StatedNumbers(text)`), shared by the hits of one text.

    Returns one draft per value; a list group ("days 2, 5, and 10") gives several.
    Raises NormalizationError when a group cannot be read.
    """
    g = {name: _group(m, name) for name in m.re.groupindex}
    start, end = m.start() + offset, m.end() + offset
    d = Draft(type=type_, start=start, end=end, rule_id=rule_id)
    d.approx = bool(g.get("approx"))
    if bound := g.get("bound"):
        d.bound = rules.bound_symbols.get(bound.strip())

    if g.get("list"):
        return _list_drafts(m, type_, rule_id, text, rules, offset)

    numerator, denominator = g.get("numerator"), g.get("denominator")
    if fraction := g.get("fraction"):
        key = " ".join(fraction.lower().split())
        d.value = rules.fraction_words[key]
    elif numerator and denominator and not g.get("value"):
        num, den = int(parse_number(numerator, rules)), int(parse_number(denominator, rules))
        if den <= 0 or num > den:
            raise NormalizationError(f"not a share: {num}/{den}")
        d.numerator, d.denominator = num, den
        d.value = 100.0 * num / den
    else:
        if value := g.get("value"):
            d.value = parse_number(value, rules)
        low, high = g.get("low"), g.get("high")
        if low and high:
            d.low, d.high = parse_number(low, rules), parse_number(high, rules)
            if d.low > d.high:
                raise NormalizationError(f"range out of order: {low}–{high}")
        elif high and d.value is not None:  # "Day 1–3": value is the low end
            d.low, d.high, d.value = d.value, parse_number(high, rules), None
        if numerator and denominator:
            d.numerator = int(parse_number(numerator, rules))
            d.denominator = int(parse_number(denominator, rules))
        elif numerator and value and _DECIMAL.fullmatch(value):
            # "16 (80%)": the group size is the one whole number the share fits, or else
            # the one group size stated in the cell that fits (ANNOTATION: counts behind a rate).
            count = int(parse_number(numerator, rules))
            size = implied_denominator(count, value, text, m.start("numerator") + offset, stated)
            if size is not None:
                d.numerator, d.denominator = count, size

    if type_ == "rate" or type_.endswith("_rate"):
        d.unit = "%"
    elif type_ == "dose":
        unit = g["unit"]
        assert unit is not None, f"{rule_id}: dose rules always capture a unit"
        d.unit = dose_unit(unit, rules)
    elif type_ == "follow_up":
        unit = g["unit"]
        assert unit is not None, f"{rule_id}: follow_up rules always capture a unit"
        factor = days_per(unit, rules)
        d.value = d.value * factor if d.value is not None else None
        d.low = d.low * factor if d.low is not None else None
        d.high = d.high * factor if d.high is not None else None
        d.unit = "day"
    elif type_ == "effect_size":
        d.label = effect_metric(g.get("metric") or "")
    if type_ in ("follow_up", "dose") and d.bound is None:
        d.bound = bound_before(text, start, rules)
    ci_low, ci_high = g.get("ci_low"), g.get("ci_high")
    if ci_low and ci_high:
        d.ci_low, d.ci_high = parse_number(ci_low, rules), parse_number(ci_high, rules)
    if p_value := g.get("p_value"):
        d.p_value = parse_number(p_value, rules)
    if not all(_finite(x) for x in (d.value, d.low, d.high) if x is not None):  # 1e307 weeks in days
        raise NormalizationError(f"value out of range: {m.group()[:40]!r}")
    return [d]


_DECIMAL = regex.compile(r"\d+(?:[.·]\d+)?")
# A whole number as a text writes it: "103", "11,969" (thousands separated by commas).
_WHOLE_NUMBER = regex.compile(r"(?<![\w.,·])(?:\d{1,3}(?:,\d{3})+|\d+)(?![\w·]|[.,]\d)")


def fitting_denominators(numerator: int, percent: str) -> list[int]:
    """The group sizes D ≥ numerator for which numerator/D, as a percentage, shows as
    `percent` as written: '80' allows ±0.5, '75.1' ±0.05 (either rounding convention).
    Empty when the share is 0 or fits more than 10,000 sizes."""
    shown = float(percent)
    half = 0.5 * 10 ** -len(percent.partition(".")[2])
    if shown - half <= 0 or numerator <= 0:
        return []
    low = max(numerator, int(100 * numerator / (shown + half)))
    high = int(100 * numerator / (shown - half)) + 1
    if high - low > 10_000:
        return []
    return [d for d in range(low, high + 1) if abs(100 * numerator / d - shown) <= half + 1e-9]


class StatedNumbers:
    """The whole numbers a text writes and where each starts, read once, on first use: a
    cell with many "N (P%)" shares is scanned once, not once per share."""

    __slots__ = ("_starts", "_text")

    def __init__(self, text: str):
        self._text = text
        self._starts: dict[int, list[int]] | None = None

    def written_besides(self, value: int, at: int) -> bool:
        """Whether the text writes `value` somewhere other than at offset `at`."""
        if self._starts is None:
            self._starts = {}
            for w in _WHOLE_NUMBER.finditer(self._text):
                self._starts.setdefault(int(w.group().replace(",", "")), []).append(w.start())
        return any(start != at for start in self._starts.get(value, ()))


def implied_denominator(numerator: int, percent: str, text: str, numerator_at: int,
                        stated: StatedNumbers | None = None) -> int | None:
    """The group size behind "N (P%)" where the text does not write it: the only whole
    number D for which N/D shows as P%, or else the only number written in `text` (other
    than the count itself, at `numerator_at`) that is such a D. None when neither is one.
    `stated`: `text`'s numbers, when the caller reads many shares of one text."""
    fits = fitting_denominators(numerator, percent.replace("·", "."))
    if len(fits) <= 1:
        return fits[0] if fits else None
    numbers = StatedNumbers(text) if stated is None else stated
    found = [d for d in fits if numbers.written_besides(d, numerator_at)]
    return found[0] if len(found) == 1 else None


def _list_drafts(m: regex.Match, type_: str, rule_id: str, text: str, rules: CompiledRules, offset: int) -> list[Draft]:
    factor = days_per(m.group("unit"), rules) if type_ == "follow_up" else 1.0
    drafts = []
    list_start = m.start("list")
    for i, num in enumerate(regex.finditer(r"\d+(?:[.·]\d+)?", m.group("list"))):
        start = (m.start() if i == 0 else list_start + num.start()) + offset
        end = list_start + num.end() + offset
        if type_ == "follow_up" and parse_number(num.group(), rules) == 0:
            continue  # "weeks 0, 4 and 8": week 0 is baseline, not a follow-up (ANNOTATION v1.1)
        if not _finite(parse_number(num.group(), rules) * factor):
            raise NormalizationError(f"value out of range: {num.group()[:40]!r}")
        drafts.append(
            Draft(type=type_, start=start, end=end, rule_id=rule_id, value=parse_number(num.group(), rules) * factor,
                  unit="day" if type_ == "follow_up" else None, extra={"list_item": True})
        )
    return drafts
