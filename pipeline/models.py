"""The record schema, defined once.

`Study` and `Measure` are the rows of the two contract tables (SCHEMA.md). Everything
else that describes those tables — the Arrow schema used for Parquet, the JSON Schema in
`docs/schema.json`, the Frictionless Table Schema in `extracted/datapackage.json` and the
data dictionary in the README — is generated from these classes, so they cannot drift.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

if typing.TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = "1.1"

MeasureType = Literal[
    "response_rate",
    "remission_rate",
    "other_rate",
    "dose",
    "route",
    "effect_size",
    "odds_ratio",
    "hazard_ratio",
    "risk_ratio",
    "nnt",
    "follow_up",
]
MEASURE_TYPES: tuple[str, ...] = get_args(MeasureType)
CORE_TYPES = ("response_rate", "remission_rate", "dose", "route", "effect_size", "odds_ratio", "follow_up")

Condition = Literal[
    "depression",
    "anxiety",
    "ptsd",
    "pain",
    "ocd",
    "alcohol",
    "eating_disorders",
    "substance_use",
    "autism",
    "bpd",
    "end_of_life",
    "other",
]
CONDITIONS: tuple[str, ...] = get_args(Condition)

RouteCode = Literal["IV", "IM", "IN", "SC", "ORAL", "SL"]
ROUTE_CODES: tuple[str, ...] = get_args(RouteCode)
EFFECT_METRICS = ("cohen_d", "smd", "hedges_g", "r", "unspecified")
RATE_OUTCOMES = ("abstinence", "relapse", "improvement", "adverse_event", "dropout", "other")
BOUNDS = ("<", "<=", ">", ">=", "up_to", "within", "at_least", "by", "over")
Bound = Literal["<", "<=", ">", ">=", "up_to", "within", "at_least", "by", "over"]
UncoveredReason = Literal["no_rule", "damaged_text", "unreadable"]
# SCHEMA v1.1: a dose unit is an amount, optionally per body weight, then optionally per
# time ("mg", "µg/kg/min", "mg/day") — a grammar, not a closed list.
DOSE_AMOUNTS = ("g", "mg", "µg", "ng", "mL", "IU")
DOSE_PER_WEIGHT = ("kg",)
DOSE_PER_TIME = ("h", "min", "day")
DOSE_UNIT_RE = re.compile(
    rf"(?:{'|'.join(DOSE_AMOUNTS)})(?:/(?:{'|'.join(DOSE_PER_WEIGHT)}))?(?:/(?:{'|'.join(DOSE_PER_TIME)}))?"
)


def is_dose_unit(unit: str) -> bool:
    """True for a normalized SCHEMA v1.1 dose unit (`mg`, `µg/kg`, `mg/kg/h`, `mL`, `mg/day`)."""
    return DOSE_UNIT_RE.fullmatch(unit) is not None
RATIO_TYPES = ("odds_ratio", "hazard_ratio", "risk_ratio")
# The types that carry an arm (SCHEMA scoring: rates, effects, ratios, nnt).
ARMED_TYPES = frozenset({"response_rate", "remission_rate", "other_rate", "effect_size", "nnt", *RATIO_TYPES})

# Labels a measure of each type may carry; None means the label must be empty.
LABELS_BY_TYPE: dict[str, tuple[str, ...] | None] = {
    "route": ROUTE_CODES,
    "effect_size": EFFECT_METRICS,
    "other_rate": RATE_OUTCOMES,
}

UNIT_BY_TYPE: dict[str, tuple[str, ...] | None] = {
    "response_rate": ("%",),
    "remission_rate": ("%",),
    "other_rate": ("%",),
    "follow_up": ("day",),
}


def unit_problem(measure_type: str, unit: str | None) -> str | None:
    """Why `unit` is wrong for `measure_type` (SCHEMA "Measure types"), or None if it is right."""
    if measure_type == "dose":
        if unit is None or not is_dose_unit(unit):
            return (f"unit {unit!r} is not a dose unit: an amount ({', '.join(DOSE_AMOUNTS)}), "
                    f"optionally /kg, then optionally /{', /'.join(DOSE_PER_TIME)}")
        return None
    units = UNIT_BY_TYPE.get(measure_type)
    if units is None:
        return None if unit is None else f"unit must be null for {measure_type}"
    return None if unit in units else f"unit {unit!r} is not one of {', '.join(units)}"


def col(description: str, unit: str | None = None, **extra: Any) -> Any:
    """A pydantic Field whose description (and unit) flow into every generated schema."""
    meta: dict[str, Any] = dict(extra)
    if unit:
        meta["unit"] = unit
    return Field(description=description, json_schema_extra=meta or None)


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Study(Row):
    """One study block of a source page (a row of `studies`)."""

    study_id: str = col("Stable id: <source stem>-<first 10 hex of sha1(block text, whitespace collapsed)>; -2, -3 for repeats.")
    source: str = col("The source: a page's path relative to the raw directory, or a corpus record's id.")
    block_index: int = col("1-based order of the block within its source.")
    condition: Condition = col("Page section the study belongs to.")
    title: str | None = col("The study's title line, where the page has one.")
    findings: str = col("Text of the Findings cell.")
    conclusion: str | None = col("Text of the Conclusion cell.")
    char_start: int = col("Start of the whole block (title through conclusion).", unit="character offset")
    char_end: int = col("End (exclusive) of the whole block.", unit="character offset")
    title_start: int | None = col("Start of the title line.", unit="character offset")
    title_end: int | None = col("End (exclusive) of the title line.", unit="character offset")
    findings_start: int = col("Start of the Findings cell.", unit="character offset")
    findings_end: int = col("End (exclusive) of the Findings cell.", unit="character offset")
    conclusion_start: int | None = col("Start of the Conclusion cell.", unit="character offset")
    conclusion_end: int | None = col("End (exclusive) of the Conclusion cell.", unit="character offset")
    duplicate_of: str | None = col("study_id of an earlier block with identical text.")
    follow_up_days: float | None = col("Longest follow_up value (or high) in the block.", unit="day")
    routes: str | None = col("Sorted unique route codes in the block, ';'-joined.")
    n_measures: int = col("Number of measure rows of the block.")
    flags: str | None = col("';'-joined quality flags (damaged_text, layout_document, truncated_row, impossible_rate: a rate over 100%, ...).")


class Measure(Row):
    """One extracted value (a row of `measures`, long / tidy format)."""

    measure_id: str = col("<study_id>-<char_start minus the block's char_start>.")
    study_id: str = col("The block the value belongs to.")
    source: str = col("The source: a page's path relative to the raw directory, or a corpus record's id.")
    type: MeasureType = col("Measure type.")
    value: float | None = col("Point value, normalized (percent for rates, days for follow_up, dose in its unit); null for a pure range.")
    low: float | None = col("Lower range bound, same unit as value.")
    high: float | None = col("Upper range bound, same unit as value.")
    unit: str | None = col("'%' for rates; for doses an amount (g, mg, µg, ng, mL, IU), optionally /kg, then optionally /h, /min or /day (mg/kg, µg/kg/min, mg/day); 'day' for follow_up; null for ratios, effects, routes, NNT.")
    label: str | None = col("Route code (IV, IM, IN, SC, ORAL, SL); effect-size metric; outcome of an other_rate.")
    approx: bool = col("The value was hedged (~, ≈, about, approximately, roughly, around, nearly).")
    bound: Bound | None = col("Bound stated with the value: <, <=, >, >=, up_to, within, at_least, by, over.")
    arm: str | None = col("Group the value belongs to (ketamine, esketamine, placebo, midazolam, ...).")
    drug: str | None = col("For dose and route: the substance the amount or route is of, lower case (ketamine, midazolam, saline); null when the sentence names none.")
    timepoint_days: float | None = col("Assessment time the value refers to.", unit="day")
    numerator: int | None = col("Count behind a rate (14 in 14/25).")
    denominator: int | None = col("Group size behind a rate (25 in 14/25).")
    ci_low: float | None = col("Lower 95% confidence limit of a ratio or effect.")
    ci_high: float | None = col("Upper 95% confidence limit of a ratio or effect.")
    p_value: float | None = col("p attached to the value (p < 0.001 -> 0.001; the bound stays in text).")
    text: str = col("Exact source span: source[char_start:char_end] == text.")
    char_start: int = col("Start of the span.", unit="character offset")
    char_end: int = col("End (exclusive) of the span.", unit="character offset")
    rule_id: str = col("Id of the rule that produced the value (provenance).")


class Uncovered(Row):
    """A number in the source that no measure covers and no exclusion rule explains."""

    source: str = col("The source: a page's path relative to the raw directory, or a corpus record's id.")
    study_id: str | None = col("Block the number sits in (null outside blocks).")
    text: str = col("The number as written.")
    char_start: int = col("Start of the number.", unit="character offset")
    char_end: int = col("End (exclusive) of the number.", unit="character offset")
    reason: UncoveredReason = col(
        "Why it is listed: no rule reads it; it sits in damaged text; a rule matched but its value could not be read."
    )
    sentence: str = col("The sentence around it, for review.")


# --------------------------------------------------------------------------- schemas


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, nullable) of `X | None`."""
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], len(args) != len(get_args(annotation))
    return annotation, False


def _enum_of(inner: Any) -> tuple[str, ...] | None:
    return tuple(get_args(inner)) if get_origin(inner) is Literal else None


_FRICTIONLESS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _base(inner: Any) -> type:
    return str if _enum_of(inner) is not None else inner


@functools.cache  # called for every page and table: build each schema once
def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """Explicit Arrow schema for a row model, so all-null columns keep their type."""
    import pyarrow as pa  # here, not at the top: `evidex extract` needs no Arrow (start-up time)

    arrow_types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    fields = []
    for name, info in model.model_fields.items():
        inner, nullable = _unwrap(info.annotation)
        meta = {"description": info.description or ""}
        fields.append(pa.field(name, arrow_types[_base(inner)], nullable=nullable, metadata=meta))
    return pa.schema(fields, metadata={"evidex_schema_version": SCHEMA_VERSION})


def table_schema(model: type[BaseModel], primary_key: str | None = None) -> dict[str, Any]:
    """Frictionless Table Schema for a row model (types, units, enums, required)."""
    fields = []
    for name, info in model.model_fields.items():
        inner, nullable = _unwrap(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        description = info.description or ""
        if extra.get("unit"):
            description += f" Unit: {extra['unit']}."
        field: dict[str, Any] = {"name": name, "type": _FRICTIONLESS[_base(inner)], "description": description}
        constraints: dict[str, Any] = {}
        if not nullable:
            constraints["required"] = True
        enum = _enum_of(inner)
        if enum:
            constraints["enum"] = list(enum)
        if name == "label" and model is Measure:
            constraints["enum"] = sorted({*ROUTE_CODES, *EFFECT_METRICS, *RATE_OUTCOMES})
        if constraints:
            field["constraints"] = constraints
        if field["type"] == "boolean":
            field["trueValues"] = ["true"]
            field["falseValues"] = ["false"]
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = [primary_key]
    return schema


def json_schema() -> dict[str, Any]:
    """JSON Schema of both row types (written to docs/schema.json)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"evidex output tables (schema v{SCHEMA_VERSION})",
        "$defs": {
            "Study": Study.model_json_schema(),
            "Measure": Measure.model_json_schema(),
            "Uncovered": Uncovered.model_json_schema(),
        },
    }


def data_dictionary_markdown() -> str:
    """The README's data dictionary, generated from the models."""
    out = []
    for model, table in ((Study, "studies"), (Measure, "measures"), (Uncovered, "uncovered")):
        out.append(f"#### `{table}`\n\n| column | type | meaning |\n|---|---|---|")
        for name, info in model.model_fields.items():
            inner, nullable = _unwrap(info.annotation)
            typ = _FRICTIONLESS[_base(inner)] + (", null" if nullable else "")
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            unit = f" ({extra['unit']})" if extra.get("unit") else ""
            enum = _enum_of(inner)
            desc = (info.description or "").replace("|", "\\|")
            if enum:
                desc += " One of: " + ", ".join(f"`{e}`" for e in enum) + "."
            out.append(f"| {name} | {typ}{unit} | {desc} |")
        out.append("")
    return "\n".join(out)
