"""Large vocabularies: rule loading and a run with 20,000 condition terms (issue 21 item 14).

    python bench/vocab.py [--terms 20000]

Builds a copy of rules/ with N made-up `\\bword\\b` terms added to one condition (fixed
seed), then, each in a fresh process (time after imports, peak RSS):

* `load`: `load_rules` (what `evidex check-rules` does) with the project's rules, with
  the N terms looked up by word (`pipeline.phrases`, the default from
  `MIN_PHRASES` terms), and with the N terms forced back to one regex each;
* `run`: `evidex run raw/ --force` with each (rules loading included), and whether the
  tables are byte-identical (the phrase lookup must score exactly as the regexes do).

Wall and CPU seconds are both kept: on a shared machine the wall time varies with load.

Writes bench/results-vocab-<N>.json. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "vocab-work"


def words(n: int, seed: int = 7) -> list[str]:
    """n distinct made-up words (same seed → same words)."""
    rng, out = random.Random(seed), set()
    syllables = ["ba", "ce", "di", "fo", "gu", "ka", "le", "mi", "no", "pu", "ra", "se", "ti", "vo", "zu", "tra", "pre",
                 "xan", "lor", "quin"]
    while len(out) < n:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(3, 5))))
    return sorted(out)


def big_rules(n: int, dst: Path) -> Path:
    """rules/ with n `\\bword\\b` terms added to the pain condition."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(ROOT / "rules", dst)
    path = dst / "vocab" / "conditions.yaml"
    anchor = "      - {pattern: '\\bpain\\b', weight: 2}\n"
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    extra = "".join(f"      - {{pattern: '\\b{w}\\b', weight: 1}}\n" for w in words(n))
    path.write_text(text.replace(anchor, anchor + extra, 1), encoding="utf-8")
    return dst


def child(task: str, rules_dir: str, min_phrases: int | None, out: str) -> dict:
    from evidex import phrases

    if min_phrases is not None:
        phrases.MIN_PHRASES = min_phrases
    from evidex.rules import load_rules

    t0, cpu0 = time.perf_counter(), time.process_time()
    result: dict = {}
    if task == "load":
        rules = load_rules(Path(rules_dir))
        result["terms"] = len(rules.term_index.terms)
        result["looked_up_by_word"] = len(rules.term_index.phrases)
    else:
        from evidex.runner import run

        summary = run(ROOT / "raw", Path(out), Path(rules_dir), force=True)
        result["measures"] = sum(o.measures for o in summary.outcomes)
        result["tables_sha256"] = hashlib.sha256(b"".join((Path(out) / f"{name}.csv").read_bytes()
                                                          for name in ("studies", "measures", "uncovered"))).hexdigest()
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["cpu_seconds"] = round(time.process_time() - cpu0, 2)  # less at the mercy of a shared machine's load
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def spawn(task: str, rules_dir: Path, min_phrases: int | None = None, out: Path | None = None) -> dict:
    args = [sys.executable, __file__, "--child", task, "--rules", str(rules_dir), "--out", str(out or WORK / "out")]
    if min_phrases is not None:
        args += ["--min-phrases", str(min_phrases)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--terms", type=int, default=20_000)
    ap.add_argument("--child")
    ap.add_argument("--rules")
    ap.add_argument("--out")
    ap.add_argument("--min-phrases", type=int)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rules, args.min_phrases, args.out)))
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    rules_dir = big_rules(args.terms, WORK / "rules")
    never = 10**9  # a threshold no vocabulary reaches: every term one regex, as before
    results = {
        "terms_added": args.terms,
        "load": {"project_rules": spawn("load", ROOT / "rules"),
                 "by_word": spawn("load", rules_dir),
                 "one_regex_each": spawn("load", rules_dir, never)},
        "run_raw": {"project_rules": spawn("run", ROOT / "rules", out=WORK / "out-project"),
                    "by_word": spawn("run", rules_dir, out=WORK / "out-word"),
                    "one_regex_each": spawn("run", rules_dir, never, out=WORK / "out-regex")},
    }
    runs = results["run_raw"]
    results["identical_tables"] = len({r["tables_sha256"] for r in runs.values()}) == 1
    out = ROOT / "bench" / f"results-vocab-{args.terms // 1000}k.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for what, entries in (("load", results["load"]), ("run raw/", runs)):
        for name, r in entries.items():
            print(f"{what:9} {name:15} {r['seconds']:7.2f} s  {r['cpu_seconds']:7.2f} s CPU  {r['peak_rss_mb']:7.1f} MB")
    print(f"tables identical: {results['identical_tables']}  → {out.relative_to(ROOT)}")
    shutil.rmtree(WORK)
    return 0 if results["identical_tables"] else 1


if __name__ == "__main__":
    sys.exit(main())
