"""evidex as a spaCy pipeline component: `nlp.add_pipe("evidex")`.

The factory is registered through the `spacy_factories` entry point (pyproject.toml),
so spaCy finds it whenever evidex is installed; no `import evidex` is needed::

    import spacy

    nlp = spacy.blank("en")                  # or any pipeline of your own
    nlp.add_pipe("evidex")                   # config: {"rules": DIR, "spans_key": "evidex"}
    doc = nlp("ketamine 0.5 mg/kg IV gave 45% response")
    for span in doc.spans["evidex"]:
        m = span._.evidex                    # the evidex Measure of this span
        print(span.label_, span.text, m.value, m.unit, m.label, m.drug)

The component runs evidex on `doc.text` and sets `doc.spans[spans_key]`: one span per
measure, labelled with the measure type. The span covers the measure's characters,
widened to whole tokens of your tokenizer where they differ; the measure's exact
offsets stay in `char_start`/`char_end`. `span._.evidex_row` holds the measure's fields
as a plain dict (stored in the Doc, so it survives `Doc.to_bytes` and
`nlp.pipe(n_process=…)`); `span._.evidex` returns them as a `Measure`.

This module is imported by spaCy whenever a `Language` is created, so it stays light:
rules load when the component is built (`rules`: a directory; default: evidex's
default rules, loaded once per process).
"""

from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from . import default_rules, extract_text
from . import load_rules as _load_rules


def _measure(span: Span) -> Any:
    from .models import Measure

    row = span._.evidex_row
    return None if row is None else Measure.model_validate(row)


if not Span.has_extension("evidex_row"):
    Span.set_extension("evidex_row", default=None)
if not Span.has_extension("evidex"):
    Span.set_extension("evidex", getter=_measure)


class EvidexComponent:
    """Sets `doc.spans[spans_key]` to the measures evidex reads in `doc.text`."""

    def __init__(self, name: str = "evidex", rules: str | None = None, spans_key: str = "evidex") -> None:
        self.name = name
        self.spans_key = spans_key
        self.rules = _load_rules(rules) if rules else default_rules()

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for m in extract_text(doc.text, rules=self.rules):
            span = doc.char_span(m.char_start, m.char_end, label=m.type, alignment_mode="expand")
            if span is None:  # only whitespace under the measure: nothing to point at
                continue
            span._.evidex_row = m.model_dump()
            spans.append(span)
        doc.spans[self.spans_key] = spans
        return doc


@Language.factory("evidex", default_config={"rules": None, "spans_key": "evidex"})
def make_evidex(nlp: Language, name: str, rules: str | None, spans_key: str) -> EvidexComponent:
    """spaCy factory for `nlp.add_pipe("evidex", config={"rules": DIR, "spans_key": KEY})`."""
    return EvidexComponent(name, rules, spans_key)
