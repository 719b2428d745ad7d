"""Write esketamine-evidence.txt and its hand-written gold (.jsonl) from page_src/measures_src.

Offsets are computed from the spans chosen by hand in measures_src.py; values are hand-set there.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from page_src import INTRO, TABS, HEADER, ROWS  # noqa: E402
from measures_src import M  # noqa: E402

KEYS = ["type", "text", "char_start", "char_end", "value", "low", "high", "unit", "label",
        "approx", "bound", "arm", "timepoint_days", "numerator", "denominator",
        "ci_low", "ci_high", "p_value"]

lines = list(INTRO) + list(TABS) + list(HEADER)
text = ""
pos = 0
cells = []  # per row: dict cell -> (start, end)


def add(line):
    global text
    start = len(text)
    text += line + "\n"
    return start, start + len(line)


for line in lines:
    add(line)
for title, findings, conclusion, cond in ROWS:
    c = {}
    if title is not None:
        c["t"] = add(title)
    fs = [add(x) for x in findings]
    c["f"] = (fs[0][0], fs[-1][1])
    c["c"] = add(conclusion)
    cells.append(c)

raw = text.encode("utf-8")
(HERE / "esketamine-evidence.txt").write_bytes(raw)
src = raw.decode("utf-8")
assert src == text


def locate(cs, ce, m):
    cell_text = src[cs:ce]
    occ = m.get("occ", 0)
    needle = m.get("anchor", m["text"])
    i = -1
    for _ in range(occ + 1):
        i = cell_text.find(needle, i + 1)
        assert i >= 0, (needle, occ, cell_text[:60])
    if "anchor" in m and "occ" not in m:
        assert cell_text.count(needle) == 1, ("anchor not unique", needle)
    if "anchor" in m:
        j = needle.find(m["text"])
        assert j >= 0
        i += j
    s = cs + i
    e = s + len(m["text"])
    assert src[s:e] == m["text"]
    assert "\n" not in m["text"]
    # a span must not start or end inside a number (e.g. "5%" inside "95%")
    if m["text"][0].isdigit() and s > 0:
        assert not (src[s - 1].isdigit() or src[s - 1] in ".,"), ("starts inside number", m["text"])
    if m["text"][-1].isdigit() and e < len(src):
        assert not src[e].isdigit(), ("ends inside number", m["text"])
    return s, e


out = []
for bi, ((title, findings, conclusion, cond), c) in enumerate(zip(ROWS, cells), start=1):
    bstart = c["t"][0] if "t" in c else c["f"][0]
    blk = {
        "block_index": bi,
        "char_start": bstart,
        "char_end": c["c"][1],
        "title": title,
        "findings_start": c["f"][0],
        "findings_end": c["f"][1],
        "conclusion_start": c["c"][0],
        "conclusion_end": c["c"][1],
        "condition": cond,
        "measures": [],
    }
    ms = []
    for m in M.get(bi, []):
        cs, ce = c[m["cell"]]
        s, e = locate(cs, ce, m)
        row = {k: None for k in KEYS}
        row["approx"] = False
        for k in KEYS:
            if k in m:
                row[k] = m[k]
        row["char_start"], row["char_end"] = s, e
        if row["type"] in ("response_rate", "remission_rate", "other_rate"):
            row["unit"] = "%"
        if row["type"] == "follow_up":
            row["unit"] = "day"
        for k in ("value", "low", "high", "timepoint_days", "ci_low", "ci_high", "p_value"):
            if isinstance(row[k], (int, float)) and not isinstance(row[k], bool):
                row[k] = float(row[k])
        ms.append(row)
    ms.sort(key=lambda r: (r["char_start"], r["char_end"]))
    blk["measures"] = ms
    out.append(blk)

with open(HERE / "esketamine-evidence.jsonl", "w", encoding="utf-8", newline="\n") as f:
    for blk in out:
        f.write(json.dumps(blk, ensure_ascii=False) + "\n")
print("blocks", len(out), "measures", sum(len(b["measures"]) for b in out))
