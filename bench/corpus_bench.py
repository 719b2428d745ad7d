"""evidex corpus benchmark: a JSONL corpus of real abstracts, local vs --jobs 2 vs Dask.

    python bench/corpus_bench.py [--records 20000] [--seed 7] [--partition-size 1000]

Builds a JSONL corpus of N records from the pmc-dev abstracts (the `dev` split of
../shared/corpus/pmc-dev, or $EVIDEX_CORPUS) with every number jittered by ±30%
(fixed seed), so records are real text and distinct. The corpus is written to
bench/corpus/ (git-ignored: the texts are not the project's to commit). Then, each
in its own process:

* spaCy `blank("en").tokenizer.pipe` over the same texts (the bound, as in bench/run.py);
* `evidex run CORPUS --force` in one process, with `--jobs 2`, and on a 2-worker Dask
  LocalCluster (cluster start-up included), each loading the rules through the rules
  cache as `evidex run` does (bench/corpus/rules-cache, written once before the runs);
* an incremental re-run with 1% of the records changed;
* `evidex extract` start-up on one sentence (median of 5 fresh processes).

Reports seconds, MB/s, MB/s per core, peak RSS per worker process, the evidex/tokenizer
ratio, and whether the Dask and --jobs 2 tables are byte-identical to the local ones.
Writes bench/results-corpus.json. No timing is asserted anywhere.

    python bench/corpus_bench.py --records 20000 --incremental-only

runs only the one-process run and the incremental re-run (peak RSS and pyarrow's peak
of each) and merges them into the results file as `incremental_memory`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
SENTENCE = "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.\n"


def shared_corpus() -> Path:
    return Path(os.environ.get("EVIDEX_CORPUS", ROOT.parent / "shared" / "corpus")) / "pmc-dev"


def build_corpus(records: int, seed: int, out: Path) -> int:
    """N records from the dev abstracts, numbers jittered (same seed → same file); returns bytes of text."""
    index = json.loads((shared_corpus() / "index.json").read_text(encoding="utf-8"))
    texts = [(shared_corpus() / e["file"]).read_bytes().decode("utf-8") for e in index if e["split"] == "dev"]
    rng = random.Random(seed)

    def jitter(m: re.Match) -> str:
        text = m.group()
        value = float(text) * rng.uniform(0.7, 1.3)
        return f"{value:.{len(text.split('.')[1])}f}" if "." in text else str(max(0, round(value)))

    out.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with open(out, "w", encoding="utf-8") as fh:
        for i in range(records):
            text = NUMBER.sub(jitter, texts[i % len(texts)])
            total += len(text.encode("utf-8"))
            fh.write(json.dumps({"id": f"rec-{i:07d}", "text": text}, ensure_ascii=False) + "\n")
    return total


def build_pages(pages: int, seed: int, out: Path) -> int:
    """N copies of the seed page (raw/), numbers jittered, as a JSONL corpus of one record
    per page: the pages side of the per-source cost comparison (issue 22 item 5)."""
    page = (ROOT / "raw" / "ketamine-research.txt").read_bytes().decode("utf-8")
    rng = random.Random(seed)

    def jitter(m: re.Match) -> str:
        text = m.group()
        value = float(text) * rng.uniform(0.7, 1.3)
        return f"{value:.{len(text.split('.')[1])}f}" if "." in text else str(max(0, round(value)))

    total = 0
    with open(out, "w", encoding="utf-8") as fh:
        for i in range(pages):
            text = NUMBER.sub(jitter, page)
            total += len(text.encode("utf-8"))
            fh.write(json.dumps({"id": f"page-{i:05d}", "text": text}, ensure_ascii=False) + "\n")
    return total


def change_one_percent(corpus: Path, seed: int) -> int:
    """Edit 1% of the records in place (one number each); returns how many changed."""
    lines = corpus.read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed + 1)
    picked = rng.sample(range(len(lines)), max(1, len(lines) // 100))
    for i in picked:
        row = json.loads(lines[i])
        row["text"] = NUMBER.sub(lambda m: str(int(float(m.group())) + 1), row["text"], count=1)
        lines[i] = json.dumps(row, ensure_ascii=False)
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(picked)


def _peak_mb(kb: int) -> float:
    return round(kb / 1024, 1)


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _worker_usage() -> tuple[int, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_maxrss, me.ru_utime + me.ru_stime


class ArrowPeak:
    """The peak of pyarrow's memory pool (`pa.total_allocated_bytes()`) in this process
    while the block runs, sampled every 20 ms by a thread."""

    def __enter__(self) -> ArrowPeak:
        import threading

        import pyarrow as pa

        self.peak, self._stop = 0, threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, pa.total_allocated_bytes())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(task: str, corpus: str, out: str, partition_size: int) -> dict:
    """Run one task in this fresh process; time excludes imports (as in bench/run.py)."""
    result: dict = {}
    if task in ("rules", "rules_warm"):
        from evidex.rulecache import RulesCache
        from evidex.rules import load_rules

        # rules: a full, validating load (check-rules); rules_warm: through the rules cache,
        # as `evidex run` loads them (the first such load writes the entry).
        t0, c0 = time.perf_counter(), _cpu_s()
        load_rules(cache=RulesCache.default() if task == "rules_warm" else None)
        return {"seconds": time.perf_counter() - t0, "cpu_s": _cpu_s() - c0}
    if task == "tokenizer":
        import spacy

        nlp = spacy.blank("en")
        t0, c0 = time.perf_counter(), _cpu_s()
        with open(corpus, encoding="utf-8") as fh:
            texts = (json.loads(line)["text"] for line in fh)
            result["tokens"] = sum(len(doc) for doc in nlp.tokenizer.pipe(texts, batch_size=64))
        result["seconds"] = time.perf_counter() - t0
        result["cpu_s"] = _cpu_s() - c0
        result["peak_rss_mb_per_worker"] = _peak_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return result
    from evidex.corpus_run import run_corpus
    from evidex.engines import LocalEngine
    from evidex.rulecache import RulesCache

    cache = RulesCache.default()  # as `evidex run` loads the rules (warmed by the "rules_warm" task)

    t0, c0 = time.perf_counter(), _cpu_s()
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    c0_self = self_usage.ru_utime + self_usage.ru_stime
    worker_peaks: list[float] = []
    worker_cpu = 0.0
    if task == "dask":
        from distributed import Client, LocalCluster

        from evidex.dask_engine import DaskEngine

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            summary = run_corpus(Path(corpus), Path(out), force=True, partition_size=partition_size,
                                 engine=DaskEngine(scheduler=cluster.scheduler_address), rules_cache=cache)
            with Client(cluster) as client:
                usage = client.run(_worker_usage)
            worker_peaks = [_peak_mb(kb) for kb, _ in usage.values()]
            worker_cpu = sum(cpu for _, cpu in usage.values())
    else:
        engine = LocalEngine(2) if task == "jobs2" else None
        with ArrowPeak() as arrow_peak:
            summary = run_corpus(Path(corpus), Path(out), force=task != "incremental", partition_size=partition_size,
                                 engine=engine, rules_cache=cache)
        result["arrow_peak_mb"] = round(arrow_peak.peak / 2**20, 1)
        if task == "jobs2":
            worker_peaks = [_peak_mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)]
    result["seconds"] = time.perf_counter() - t0
    if task == "dask":
        # The workers' CPU as they reported it (their processes may or may not have been
        # reaped into RUSAGE_CHILDREN by now, so only this process's own CPU is added).
        me = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu_s"] = me.ru_utime + me.ru_stime - c0_self + worker_cpu
    else:
        result["cpu_s"] = _cpu_s() - c0
    result["records"] = len(summary.outcomes)
    result["re_extracted"] = sum(1 for o in summary.outcomes if not o.cached and not o.error)
    result["measures"] = sum(o.measures for o in summary.outcomes)
    result["client_peak_rss_mb"] = _peak_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # One process does the work locally; with a pool, the workers do (the client only writes).
    result["peak_rss_mb_per_worker"] = max(worker_peaks) if worker_peaks else result["client_peak_rss_mb"]
    return result


RULES_CACHE = CORPUS / "rules-cache"  # every child's EVIDEX_CACHE_DIR: one warm entry, not the user's cache


def spawn(task: str, corpus: Path, out: Path, partition_size: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", task, "--corpus", str(corpus), "--out", str(out),
                           "--partition-size", str(partition_size)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "EVIDEX_CACHE_DIR": str(RULES_CACHE)})
    if proc.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_up(runs: int = 5) -> dict:
    """`evidex extract` on one sentence, whole process, median of `runs` (after one warm-up)."""
    one = CORPUS / "one-sentence.txt"
    one.write_text(SENTENCE, encoding="utf-8")
    evidex = [str(Path(sys.executable).parent / "evidex"), "extract", str(one)]
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        subprocess.run(evidex, check=True, capture_output=True)
        if i:
            times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3), "runs": runs}


def same_files(a: Path, b: Path) -> bool:
    def files(d: Path) -> dict[str, bytes]:
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
                if p.is_file() and not p.relative_to(d).parts[0].startswith(".")}
    return files(a) == files(b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--partition-size", type=int, default=1000)
    ap.add_argument("--skip", action="append", default=[], help="a task to leave out (jobs2, dask, start_up)")
    ap.add_argument("--incremental-only", action="store_true",
                    help="only a one-process run and an incremental re-run with 1%% of the records changed (memory)")
    ap.add_argument("--child")
    ap.add_argument("--corpus")
    ap.add_argument("--out")
    ap.add_argument("--pages", type=int, default=0,
                    help="only compare per-source cost: N seed pages vs the records (tokenizer and one process each)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.out, args.partition_size)))
        return 0
    if args.pages:
        return compare_pages(args)
    if args.incremental_only:
        return incremental_only(args)

    corpus = CORPUS / f"records-{args.records}.jsonl"
    size = build_corpus(args.records, args.seed, corpus)
    mb = size / 1e6
    outs = {name: CORPUS / f"out-{name}" for name in ("local", "jobs2", "dask")}
    for out in outs.values():
        shutil.rmtree(out, ignore_errors=True)
    print(f"corpus: {args.records} records, {mb:.1f} MB of text (seed {args.seed})", flush=True)
    results: dict = {"records": args.records, "megabytes": round(mb, 2), "seed": args.seed,
                     "partition_size": args.partition_size, "cpu_count": os.cpu_count(),
                     "load_average_at_start": os.getloadavg()[0]}
    spawn("rules_warm", corpus, CORPUS / "out-rules", args.partition_size)  # the rules cache entry every run reads
    results["tokenizer"] = spawn("tokenizer", corpus, CORPUS / "out-tok", args.partition_size)
    print("tokenizer", results["tokenizer"], flush=True)
    results["local"] = spawn("local", corpus, outs["local"], args.partition_size)
    print("local", results["local"], flush=True)
    for task in ("jobs2", "dask"):
        if task in args.skip:
            continue
        results[task] = spawn(task, corpus, outs[task], args.partition_size)
        results[task]["identical_to_local"] = same_files(outs[task], outs["local"])
        print(task, results[task], flush=True)
    results["changed_records"] = change_one_percent(corpus, args.seed)
    results["incremental"] = spawn("incremental", corpus, outs["local"], args.partition_size)
    print("incremental", results["incremental"], flush=True)
    if "start_up" not in args.skip:
        results["extract_start_up"] = start_up()
        print("start-up", results["extract_start_up"], flush=True)

    cores = {"local": 1, "jobs2": 2, "dask": 2}
    for task, n in cores.items():
        if task in results:
            results[task]["mb_per_s"] = round(mb / results[task]["seconds"], 3)
            results[task]["mb_per_s_per_core"] = round(mb / results[task]["seconds"] / n, 3)
            results[task]["mb_per_cpu_s"] = round(mb / results[task]["cpu_s"], 3)
    results["tokenizer"]["mb_per_s"] = round(mb / results["tokenizer"]["seconds"], 3)
    results["tokenizer"]["mb_per_cpu_s"] = round(mb / results["tokenizer"]["cpu_s"], 3)
    results["ratios"] = {
        "evidex_vs_tokenizer": round(results["tokenizer"]["seconds"] / results["local"]["seconds"], 3),
        "evidex_vs_tokenizer_cpu": round(results["tokenizer"]["cpu_s"] / results["local"]["cpu_s"], 3),
        "incremental_fraction": round(results["incremental"]["seconds"] / results["local"]["seconds"], 4),
        **{f"{t}_speedup": round(results["local"]["seconds"] / results[t]["seconds"], 3)
           for t in ("jobs2", "dask") if t in results},
    }
    path = ROOT / "bench" / f"results-corpus-{args.records}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results["ratios"], indent=2))
    return 0


def _merge_results(records: int, key: str, out: dict) -> int:
    """Write `out` under `key` into bench/results-corpus-<records>.json, keeping its other keys; print it."""
    path = ROOT / "bench" / f"results-corpus-{records}.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[key] = out
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    return 0


def incremental_only(args: argparse.Namespace) -> int:
    """A one-process run of N records, then an incremental re-run with 1% of them changed,
    each in a fresh process; peak RSS and pyarrow's peak of each, merged into the results
    file as `incremental_memory` (issue 22 item 4: is the re-run's memory flat in N?)."""
    corpus = CORPUS / f"records-{args.records}.jsonl"
    mb = build_corpus(args.records, args.seed, corpus) / 1e6
    out_dir = CORPUS / f"out-incremental-{args.records}"
    shutil.rmtree(out_dir, ignore_errors=True)
    out: dict = {"records": args.records, "megabytes": round(mb, 2), "load_average_at_start": list(os.getloadavg())}
    out["local"] = spawn("local", corpus, out_dir, args.partition_size)
    print("local", out["local"], flush=True)
    out["changed_records"] = change_one_percent(corpus, args.seed)
    out["incremental"] = spawn("incremental", corpus, out_dir, args.partition_size)
    print("incremental", out["incremental"], flush=True)
    out["load_average_at_end"] = list(os.getloadavg())
    return _merge_results(args.records, "incremental_memory", out)


def compare_pages(args: argparse.Namespace) -> int:
    """Tokenizer and evidex (one process) on N seed pages and on the records, one after the
    other, plus the rules' load time; merged into the results file as `per_source`."""
    records = CORPUS / f"records-{args.records}.jsonl"
    rec_mb = build_corpus(args.records, args.seed, records) / 1e6
    pages = CORPUS / f"pages-{args.pages}.jsonl"
    page_mb = build_pages(args.pages, args.seed, pages) / 1e6
    out: dict = {"pages": args.pages, "pages_megabytes": round(page_mb, 2), "records": args.records,
                 "records_megabytes": round(rec_mb, 2), "load_average_at_start": os.getloadavg()[0]}
    out["rules_load"] = spawn("rules", pages, CORPUS / "out-rules", args.partition_size)
    out["rules_load_warm_first"] = spawn("rules_warm", pages, CORPUS / "out-rules", args.partition_size)  # writes the entry
    out["rules_load_warm"] = spawn("rules_warm", pages, CORPUS / "out-rules", args.partition_size)
    for name, corpus in (("pages", pages), ("records", records)):
        tok = spawn("tokenizer", corpus, CORPUS / "out-tok", args.partition_size)
        run = spawn("local", corpus, CORPUS / f"out-{name}-cmp", args.partition_size)
        work = run["cpu_s"] - out["rules_load_warm"]["cpu_s"]  # the runs load the rules warm, as `evidex run` does
        out[name] = {"tokenizer_s": round(tok["seconds"], 2), "evidex_s": round(run["seconds"], 2),
                     "tokenizer_cpu_s": round(tok["cpu_s"], 2), "evidex_cpu_s": round(run["cpu_s"], 2),
                     "ratio": round(tok["seconds"] / run["seconds"], 3),
                     "ratio_cpu": round(tok["cpu_s"] / run["cpu_s"], 3),
                     "ratio_cpu_without_rules_load": round(tok["cpu_s"] / work, 3)}
        print(name, out[name], flush=True)
    out["records_vs_pages"] = round(out["records"]["ratio"] / out["pages"]["ratio"], 3)
    out["records_vs_pages_cpu"] = round(out["records"]["ratio_cpu"] / out["pages"]["ratio_cpu"], 3)
    return _merge_results(args.records, "per_source", out)


if __name__ == "__main__":
    sys.exit(main())
