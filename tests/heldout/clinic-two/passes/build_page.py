#!/usr/bin/env python3
"""Build tests/heldout/clinic-two/clinic-two.txt from rows.yaml (stdlib + PyYAML only).

Layout: intro lines, tab list (one condition per line), the header lines
Study / Findings / Conclusion, then per row: optional title line, the Findings
cell (a quoted multi-line cell is written as its lines), the Conclusion cell.
Lines are joined with "\n" and the file ends with "\n".
"""
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "clinic-two.txt"


def check_cell(text, where):
    lines = text.split("\n")
    if len(lines) > 1:
        assert text.startswith('"') and text.endswith('"'), f"{where}: multi-line cell must be quoted"
        for ln in lines[:-1]:
            assert not ln.endswith('"'), f"{where}: inner line ends with a quote"
    else:
        assert not text.startswith('"'), f"{where}: one-line cell must not open with a quote"
    assert all(ln.strip() == ln and ln for ln in lines), f"{where}: blank or padded line"


def main():
    data = yaml.safe_load((HERE / "rows.yaml").read_text(encoding="utf-8"))
    out = list(data["intro"]) + list(data["tabs"]) + ["Study", "Findings", "Conclusion"]
    for i, row in enumerate(data["rows"], 1):
        title = row.get("title")
        if title:
            assert "\n" not in title and not title.endswith("."), f"row {i}: bad title"
            out.append(title)
        check_cell(row["findings"], f"row {i} findings")
        check_cell(row["conclusion"], f"row {i} conclusion")
        out.extend(row["findings"].split("\n"))
        out.extend(row["conclusion"].split("\n"))
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write("\n".join(out) + "\n")
    print(f"wrote {OUT} ({len(data['rows'])} rows, {len(out)} lines)")


if __name__ == "__main__":
    main()
