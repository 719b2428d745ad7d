"""Score evidex's arms against the pmc-extra arm gold (`arms.yaml`).

    python tests/gold/pmc-extra/score.py TEXTS_DIR [-v]     # per batch

TEXTS_DIR holds the abstracts (`<PMC id>.txt`, cut as README.md says); each is checked
against the sha256 in `index.json` before it is read. A gold item is *found* when evidex
gives a measure of its type whose span overlaps the gold span; its arm is right when the
two arms are equal (lower case). `-v` lists every miss and every wrong arm.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


@dataclass
class ArmScore:
    gold: int = 0
    found: int = 0
    right: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0


def gold_span(text: str, item: dict) -> tuple[int, int]:
    """(start, end) of the item's `text` at its 0-based `occurrence`; ValueError when absent."""
    at = -1
    for _ in range(int(item.get("occurrence", 0)) + 1):
        at = text.find(item["text"], at + 1)
        if at < 0:
            raise ValueError(f"{item['text']!r} occurs fewer than {item.get('occurrence', 0) + 1} times")
    return at, at + len(item["text"])


def read_texts(texts_dir: Path) -> dict[str, str]:
    """PMC id -> text, for every abstract of index.json; ValueError naming a missing or changed file."""
    out = {}
    for entry in json.loads((HERE / "index.json").read_text(encoding="utf-8")):
        path = texts_dir / entry["file"]
        if not path.is_file():
            raise ValueError(f"{path}: missing")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{path}: sha256 differs from index.json (not the text the gold was written on)")
        out[entry["pmcid"]] = data.decode("utf-8")
    return out


def splits() -> dict[str, str]:
    """PMC id -> its batch (`extra`, `extra2`), from index.json."""
    return {e["pmcid"]: e["split"] for e in json.loads((HERE / "index.json").read_text(encoding="utf-8"))}


def score(texts: dict[str, str], rules=None, split: str | None = None) -> ArmScore:
    """Evidex's arm accuracy on the gold's rates, effects, ratios and NNTs (see the module
    docstring); `split` keeps one batch's abstracts only."""
    import evidex

    gold = yaml.safe_load((HERE / "arms.yaml").read_text(encoding="utf-8"))
    batch = splits()
    rules = rules or evidex.default_rules()
    result = ArmScore()
    for stem, items in gold.items():
        if split is not None and batch[stem] != split:
            continue
        text = texts[stem]
        predicted = evidex.extract_text(text, source=f"{stem}.txt", rules=rules)
        for item in items:
            start, end = gold_span(text, item)
            result.gold += 1
            hits = [m for m in predicted if m.type == item["type"] and m.char_start < end and start < m.char_end]
            if not hits:
                result.errors.append(f"MISS {stem}@{start} {item['type']} {item['text']!r}")
                continue
            result.found += 1
            if (hits[0].arm or None) == item["arm"]:
                result.right += 1
            else:
                result.errors.append(f"ARM  {stem}@{start} {item['type']} {item['text']!r}: gold {item['arm']!r}, "
                                     f"predicted {hits[0].arm!r}")
    return result


if __name__ == "__main__":
    texts = read_texts(Path(sys.argv[1]))
    for name in sorted(set(splits().values())):
        s = score(texts, split=name)
        if "-v" in sys.argv:
            print("\n".join(s.errors))
        print(f"{name}: found {s.found}/{s.gold} ({s.recall:.3f}); arm {s.right}/{s.found} = {s.accuracy:.3f}")
