"""Segmentation: the seed's 52 blocks with exact cell spans, quoted cells, sections, fallbacks."""

from __future__ import annotations

import json

import pytest

from evidex.segment import segment, split_lines

from conftest import GOLD, project_rules


def _gold_blocks():
    return [json.loads(line) for line in (GOLD / "ketamine-research.jsonl").read_text(encoding="utf-8").splitlines()]


def test_seed_has_52_blocks_with_exact_cells(rules, seed_text):
    seg = segment(seed_text, rules, "ketamine-research.txt")
    gold = _gold_blocks()
    assert seg.layout == "table"
    assert len(seg.blocks) == 52 == len(gold)
    for block, g in zip(seg.blocks, gold, strict=True):
        title = seed_text[block.title.start:block.title.end] if block.title else None
        assert (block.char_start, block.char_end, title) == (g["char_start"], g["char_end"], g["title"]), block.block_index
        assert (block.findings.start, block.findings.end) == (g["findings_start"], g["findings_end"]), block.block_index
        conclusion = (block.conclusion.start, block.conclusion.end) if block.conclusion else (None, None)
        assert conclusion == (g["conclusion_start"], g["conclusion_end"]), block.block_index


def test_seed_conditions_match_gold(rules, seed_text):
    seg = segment(seed_text, rules)
    assert [b.condition for b in seg.blocks] == [g["condition"] for g in _gold_blocks()]


def test_tab_list_is_read(rules, seed_text):
    assert segment(seed_text, rules).tab_conditions == ["depression", "anxiety", "ptsd", "ocd", "alcohol"]


def test_quoted_multiline_cell_keeps_its_quotes(rules, seed_text):
    seg = segment(seed_text, rules)
    quoted = [b for b in seg.blocks if seed_text[b.findings.start] == '"']
    assert len(quoted) == 5
    for b in quoted:
        cell = seed_text[b.findings.start:b.findings.end]
        assert cell.endswith('"') and "\n" in cell


PAGE = """Intro text about the clinic.
Depression
Study
Findings
Conclusion
A title without a full stop
Ketamine helped 40% of patients respond.
It works.
"Line one of a quoted cell.
Line two."
Second conclusion.
Findings of a cut-off row.
"""


def test_small_table_page(rules):
    seg = segment(PAGE, rules, "p.txt")
    assert len(seg.blocks) == 3
    first, second, third = seg.blocks
    assert PAGE[first.title.start:first.title.end] == "A title without a full stop"
    assert PAGE[second.findings.start:second.findings.end] == '"Line one of a quoted cell.\nLine two."'
    assert third.conclusion is None and "truncated_row" in third.flags
    assert any("p.txt:12" in w and "cut off" in w for w in seg.warnings)


def test_crlf_spans_exclude_carriage_returns(rules):
    text = PAGE.replace("\n", "\r\n")
    for block in segment(text, rules).blocks:
        for _, span in block.cells():
            assert "\r" not in text[span.end - 1:span.end]
            assert not text[span.start:span.end].endswith("\r")


def test_unclosed_quote_is_reported(rules):
    text = "Study\nFindings\nConclusion\n\"Never closed\nsecond line\nthird line\n"
    seg = segment(text, rules, "q.txt")
    assert any("q.txt:4" in w and "never closes" in w for w in seg.warnings)
    assert seg.blocks and seg.blocks[0].findings.start == text.index('"')


def test_text_without_layout_is_one_study_block(rules):
    text = "\n  TITLE: A trial of sertraline.\n\nABSTRACT: 50% responded.\nStill the same study.\n\n\nOR = 2.1.  \n"
    seg = segment(text, rules, "abs.txt")
    assert seg.layout == "document"
    (block,) = seg.blocks
    assert text[block.char_start:block.char_end] == text.strip()
    assert (block.findings.start, block.findings.end, block.findings.line) == (block.char_start, block.char_end, 2)
    assert block.title is None and block.conclusion is None and block.flags == ["layout_document"]
    assert block.condition == "other"
    assert any("abs.txt:1" in w and "one study block" in w for w in seg.warnings)


def test_lone_study_takes_its_clear_condition_only(rules):
    smoking = "TITLE: Quitline support for smokers\n\nSmokers who called the quitline made more quit attempts."
    assert segment(smoking, rules).blocks[0].condition == "substance_use"
    # One passing mention of pain in a nausea trial does not make it a pain study.
    nausea = "Palonosetron reduced nausea after surgery; pain scores were similar."
    assert segment(nausea, rules).blocks[0].condition == "other"


def test_empty_and_whitespace_pages(rules):
    assert segment("", rules).blocks == []
    assert segment("  \n\n \t\n", rules).blocks == []


def test_split_lines_offsets():
    text = "a\r\nbc\nd"
    assert [(ln.start, ln.end) for ln in split_lines(text)] == [(0, 1), (3, 5), (6, 7)]


def test_hard_wrapped_lines_continue_the_sentence(rules):
    """A line break before a lower-case word is a wrap, not a sentence end ("over the 30\\nmonths")."""
    from evidex.extract import split_sentences

    text = "relapsed over the 30 \nmonths of follow-up.\nResults were similar:\nsee below"
    got = [text[s.start:s.end] for s in split_sentences(text, 0, len(text), "findings", rules.extract_tables.sentence_abbreviations)]
    assert got == ["relapsed over the 30 \nmonths of follow-up.", "Results were similar:", "see below"]


def _page(rows: list[str]) -> str:
    return "Evidence\nDepression\nStudy\nFindings\nConclusion\n" + "".join(f"{r}\nThe authors concluded as much.\n" for r in rows)


def test_rows_about_no_condition_are_other_unless_inside_one_section(rules):
    """ANNOTATION v1.1: such a row is `other` unless it sits between two rows of one section."""
    smoking = "Varenicline helped smokers quit; tobacco abstinence rose at 12 weeks."
    pain = "Ketamine reduced chronic pain scores and analgesic use after surgery."
    cataract = "Esketamine sedation steadied patients during cataract surgery."
    between_sections = segment(_page([smoking, smoking, cataract, cataract, pain, pain]), rules)
    assert [b.condition for b in between_sections.blocks] == [
        "substance_use", "substance_use", "other", "other", "pain", "pain"]
    inside_one = segment(_page([pain, pain, cataract, pain]), rules)
    assert [b.condition for b in inside_one.blocks] == ["pain", "pain", "pain", "pain"]


@pytest.mark.parametrize(("condition", "text"), [
    (name, text) for name, vocab in project_rules().conditions.items() for text in vocab.examples])
def test_condition_example(rules, condition, text):
    """Every example of rules/vocab/conditions.yaml, read as one study, gets its condition."""
    blocks = segment(text, rules).blocks
    assert [b.condition for b in blocks] == [condition]


def test_every_condition_has_examples(rules):
    assert all(len(v.examples) >= 2 for v in rules.conditions.values())


def test_sentence_abbreviations_come_from_the_rules(rules_copy):
    """"vs." ends no sentence because tokenizer.yaml says so; without it in the list it would."""
    from evidex.extract import split_sentences
    from evidex.rules import load_rules

    text = "Response was 40% vs. Placebo 20%. Then it fell."
    kept = load_rules(rules_copy).extract_tables.sentence_abbreviations
    assert [text[s.start:s.end] for s in split_sentences(text, 0, len(text), "findings", kept)] == [
        "Response was 40% vs. Placebo 20%.", "Then it fell."]
    path = rules_copy / "patterns" / "tokenizer.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"vs.", ', ""), encoding="utf-8")
    dropped = load_rules(rules_copy).extract_tables.sentence_abbreviations
    assert [text[s.start:s.end] for s in split_sentences(text, 0, len(text), "findings", dropped)] == [
        "Response was 40% vs.", "Placebo 20%.", "Then it fell."]
