"""evidex benchmark: throughput and memory, side by side with the right bounds, in one run.

    python bench/run.py [--pages 2000] [--seed 7] [--sample 20]
    python bench/run.py --big-page-mb 50      # one large page (the reliability limit)
    python bench/run.py --short-rows-kb 600   # one page of many short rows
    python bench/run.py --short-rows-kb 150 600   # several sizes, against a 1 kB page

Builds a corpus of N pages from raw/*.txt with every number varied (fixed seed), then
measures, each in its own process so peak RSS is per task:

* `evidex run --force` single-process, and with `--jobs 2` (MB/s, blocks/s, peak RSS);
* spaCy `spacy.blank("en").tokenizer.pipe` over the same texts — the practical bound of a
  spaCy-based design;
* quantulum3 (a peer quantity extractor) on a sample of pages, for scale;
* an incremental re-run with one page changed;
* peak RSS at N/10 pages, to show memory is flat in N.

Writes bench/results.json and prints the ratios. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def build_corpus(pages: int, seed: int, out: Path) -> tuple[int, int]:
    """N pages from the raw pages, numbers jittered by ±30% (same seed → same corpus)."""
    rng = random.Random(seed)
    sources = [p.read_bytes().decode("utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    def jitter(m: re.Match) -> str:
        text = m.group()
        value = float(text) * rng.uniform(0.7, 1.3)
        if "." in text:
            return f"{value:.{len(text.split('.')[1])}f}"
        return str(max(0, round(value)))

    total = 0
    for i in range(pages):
        page = NUMBER.sub(jitter, sources[i % len(sources)])
        (out / f"page-{i:05d}.txt").write_text(page, encoding="utf-8", newline="")
        total += len(page.encode("utf-8"))
    return pages, total


def short_rows_page(size: int) -> str:
    """A page of short study rows (a title, one rate with its time, a one-word
    conclusion) of about `size` bytes: many blocks and rows per source byte."""
    rows, total, i = ["Study\nFindings\nConclusion\n"], 0, 0
    while total < size:
        row = f"Trial {i}\nResponse {i % 90 + 5}% at {i % 12 + 1} weeks.\nWorked.\n"
        rows.append(row)
        total, i = total + len(row), i + 1
    return "".join(rows)


def child(task: str, corpus: str, out: str, sample: int) -> dict:
    """Run one task in this (fresh) process and report time and peak RSS."""
    corpus_dir, out_dir = Path(corpus), Path(out)
    result: dict = {}
    if task in ("run", "run_jobs2", "incremental"):
        from evidex.runner import run

        t0 = time.perf_counter()  # after imports: both sides are timed on the work alone
        summary = run(corpus_dir, out_dir, force=task != "incremental", jobs=2 if task == "run_jobs2" else 1)
        result["blocks"] = sum(o.blocks for o in summary.outcomes)
        result["measures"] = sum(o.measures for o in summary.outcomes)
        result["re_extracted"] = sum(not o.cached for o in summary.outcomes)
    elif task == "bigpage":
        from evidex.runner import run

        t0 = time.perf_counter()
        summary = run(corpus_dir, out_dir, force=True)
        result["blocks"] = summary.outcomes[0].blocks
        result["measures"] = summary.outcomes[0].measures
        result["bytes"] = summary.outcomes[0].size_bytes
    elif task == "tokenizer":
        import spacy

        nlp = spacy.blank("en")
        nlp.max_length = 10**9
        t0 = time.perf_counter()
        texts = (p.read_text(encoding="utf-8") for p in sorted(corpus_dir.glob("*.txt")))
        result["tokens"] = sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=16))
    elif task == "quantulum3":
        from quantulum3 import parser

        texts = [p.read_text(encoding="utf-8") for p in sorted(corpus_dir.glob("*.txt"))[:sample]]
        t0 = time.perf_counter()
        result["quantities"] = sum(len(parser.parse(t)) for t in texts)
        result["bytes"] = sum(len(t.encode("utf-8")) for t in texts)
    result["seconds"] = time.perf_counter() - t0
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = round(max(self_kb, children_kb) / 1024, 1)
    return result


def spawn(task: str, corpus: Path, out: Path, sample: int = 20) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", task, "--corpus", str(corpus), "--out", str(out), "--sample", str(sample)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def short_rows_page_run(kb: int) -> dict:
    """`evidex run --force` of one page of `kb` kB of short rows in a fresh process."""
    big, out = CORPUS / "big", CORPUS / "out-big"
    shutil.rmtree(big, ignore_errors=True)
    big.mkdir(parents=True)
    (big / "big.txt").write_text(short_rows_page(kb * 1000), encoding="utf-8", newline="")
    shutil.rmtree(out, ignore_errors=True)  # no previous run to compare or cache to reuse
    result = spawn("bigpage", big, out)
    cache = sorted((out / ".cache").glob("*.bin"))
    result["cache_entry_bytes"] = cache[0].stat().st_size if cache else None
    return result


def short_rows_sizes(sizes: list[int]) -> int:
    """Peak RSS of pages of short rows of several sizes, above that of a 1 kB page of the
    same rows (the process with rules loaded and every engine used once), per source byte:
    flat in the page's size if memory is bounded by a part rather than by the page.
    Merged into bench/results.json as `short_rows_sizes`."""
    out: dict = {"load_average_at_start": list(os.getloadavg())}
    base = short_rows_page_run(1)
    out["baseline_1kb"] = base
    print("1 kB", base, flush=True)
    for kb in sizes:
        r = short_rows_page_run(kb)
        above = r["peak_rss_mb"] - base["peak_rss_mb"]
        r["rss_above_baseline_mb"] = round(above, 1)
        r["rss_above_baseline_per_source_byte"] = round(above * 2**20 / r["bytes"])
        r["rss_per_source_byte"] = round(r["peak_rss_mb"] * 2**20 / r["bytes"])
        out[f"{kb}kb"] = r
        print(f"{kb} kB", r, flush=True)
    out["load_average_at_end"] = list(os.getloadavg())
    path = ROOT / "bench" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data["short_rows_sizes"] = out
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=int, default=20, help="pages for quantulum3")
    ap.add_argument("--skip-quantulum", action="store_true")
    ap.add_argument("--big-page-mb", type=int, default=0, help="only measure one page of this size (the reliability limit)")
    ap.add_argument("--short-rows-kb", type=int, nargs="+", default=[],
                    help="only measure one page of this many kB of short study rows (memory per source byte); "
                         "with several sizes, each in its own process, and a 1 kB page as the baseline")
    ap.add_argument("--child")
    ap.add_argument("--corpus")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.out, args.sample)))
        return 0

    if len(args.short_rows_kb) > 1:
        return short_rows_sizes(args.short_rows_kb)
    if args.big_page_mb or args.short_rows_kb:
        big = CORPUS / "big"
        if big.exists():
            shutil.rmtree(big)
        big.mkdir(parents=True)
        if args.big_page_mb:
            seed_text = (ROOT / "raw" / "ketamine-research.txt").read_bytes().decode("utf-8")
            head_end = seed_text.index("Conclusion\n") + len("Conclusion\n")
            body = seed_text[head_end:].rstrip("\n") + "\n"
            target = args.big_page_mb * 1_000_000
            page, key = seed_text[:head_end] + body * (target // len(body.encode()) + 1), "big_page"
        else:
            page, key = short_rows_page(args.short_rows_kb[0] * 1000), "short_rows"
        (big / "big.txt").write_text(page, encoding="utf-8", newline="")
        shutil.rmtree(CORPUS / "out-big", ignore_errors=True)  # no previous run to compare or cache to reuse
        result = spawn("bigpage", big, CORPUS / "out-big")
        result["megabytes"] = round(result["bytes"] / 1e6, 3)
        result["mb_per_s"] = round(result["bytes"] / 1e6 / result["seconds"], 3)
        result["rss_bytes_per_source_byte"] = round(result["peak_rss_mb"] * 2**20 / result["bytes"])
        cache = sorted((CORPUS / "out-big" / ".cache").glob("*.bin"))
        result["cache_entry_mb"] = round(cache[0].stat().st_size / 1e6, 1) if cache else None
        print(json.dumps(result))
        path = ROOT / "bench" / "results.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        data[key] = result
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return 0

    pages, size = build_corpus(args.pages, args.seed, CORPUS / "raw")
    for stale in ("out", "out-j2", "out-small"):  # no cache from an earlier benchmark
        shutil.rmtree(CORPUS / stale, ignore_errors=True)
    small_pages = max(1, args.pages // 10)
    small_size = sum(p.stat().st_size for p in sorted((CORPUS / "raw").glob("*.txt"))[:small_pages])
    small = CORPUS / "small"
    if small.exists():
        shutil.rmtree(small)
    small.mkdir()
    for p in sorted((CORPUS / "raw").glob("*.txt"))[:small_pages]:
        shutil.copy(p, small / p.name)
    mb = size / 1e6
    print(f"corpus: {pages} pages, {mb:.1f} MB (seed {args.seed})", flush=True)

    results: dict = {"pages": pages, "megabytes": round(mb, 2), "seed": args.seed}
    results["tokenizer"] = spawn("tokenizer", CORPUS / "raw", CORPUS / "out-tok")
    print("tokenizer", results["tokenizer"], flush=True)
    results["run"] = spawn("run", CORPUS / "raw", CORPUS / "out")
    print("run", results["run"], flush=True)
    results["run_jobs2"] = spawn("run_jobs2", CORPUS / "raw", CORPUS / "out-j2")
    print("run --jobs 2", results["run_jobs2"], flush=True)
    results["run_small"] = spawn("run", small, CORPUS / "out-small")
    results["run_small"]["pages"], results["run_small"]["megabytes"] = small_pages, round(small_size / 1e6, 2)
    print("run (N/10)", results["run_small"], flush=True)
    changed = CORPUS / "raw" / "page-00000.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("%", " %", 1), encoding="utf-8", newline="")
    results["incremental"] = spawn("incremental", CORPUS / "raw", CORPUS / "out")
    print("incremental", results["incremental"], flush=True)
    if not args.skip_quantulum:
        try:
            results["quantulum3"] = spawn("quantulum3", CORPUS / "raw", CORPUS / "out-q", args.sample)
        except RuntimeError as err:
            results["quantulum3"] = {"error": str(err).splitlines()[-1]}
        print("quantulum3", results["quantulum3"], flush=True)

    run_s, tok_s = results["run"]["seconds"], results["tokenizer"]["seconds"]
    ratios = {
        "evidex_mb_per_s": round(mb / run_s, 3),
        "tokenizer_mb_per_s": round(mb / tok_s, 3),
        "evidex_vs_tokenizer": round(tok_s / run_s, 3),
        "jobs2_speedup": round(run_s / results["run_jobs2"]["seconds"], 3),
        "blocks_per_s": round(results["run"]["blocks"] / run_s, 1),
        "incremental_fraction": round(results["incremental"]["seconds"] / run_s, 4),
        "peak_rss_mb_N": results["run"]["peak_rss_mb"],
        "peak_rss_mb_N_over_10": results["run_small"]["peak_rss_mb"],
    }
    q = results.get("quantulum3", {})
    if "seconds" in q:
        ratios["quantulum3_mb_per_s"] = round(q["bytes"] / 1e6 / q["seconds"], 4)
    results["ratios"] = ratios
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(ratios, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
