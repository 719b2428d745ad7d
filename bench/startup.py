"""Start-up of `evidex extract` on one sentence, whole process (issue 22 item 6).

    python bench/startup.py [--runs 15] [--evidex PATH ...] [--out bench/results-startup.json]

Times fresh `evidex extract FILE` processes on two one-sentence texts:

* `rate` — "The response rate was 45% at 24 weeks.": no route word and every hit on
  token boundaries, so no tokens are needed;
* `route` — "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours." (the sentence of
  bench/corpus_bench.py): its route "IV" is found by spaCy's token Matcher, so spaCy is
  imported and its blank tokenizer built.

each with a warm rule cache (`pipeline/rulecache.py`; one entry written first) and a
cold one (the cache directory emptied before every run: the full validating load plus
writing the entry, i.e. the start-up before the cache existed). Every `--evidex` given
(default: this checkout's `.venv/bin/evidex`) is timed the same way, so an older
checkout's command gives the "before" column. hyperfine runs the processes when it is
on PATH (`-N`, warm-up runs, median), else a loop of `subprocess.run`.

The processes run with bytecode caching on (`PYTHONDONTWRITEBYTECODE` removed), as for
any installed evidex, and with the machine's load average recorded: the machine is
shared, and wall-clock seconds scale with the load, so user CPU seconds are recorded
too. No timing is asserted anywhere (not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = {
    "rate": "The response rate was 45% at 24 weeks.\n",
    "route": "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.\n",
}


def _hyperfine(cmd: list[str], runs: int, env: dict[str, str], prepare: list[str] | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        args = ["hyperfine", "-N", "-w", "2", "-r", str(runs), "--export-json", fh.name, "--style", "none"]
        if prepare:
            args += ["--prepare", " ".join(prepare)]
        proc = subprocess.run([*args, " ".join(cmd)], env=env, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"hyperfine failed on {' '.join(cmd)}:\n{proc.stderr[-3000:]}")
        result = json.loads(Path(fh.name).read_text())["results"][0]
    times = result["times"]
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "mean_s": round(result["mean"], 3), "user_s": round(result["user"], 3), "system_s": round(result["system"], 3),
            "runs": len(times), "tool": "hyperfine"}


def _loop(cmd: list[str], runs: int, env: dict[str, str], prepare: list[str] | None) -> dict:
    times, user = [], []
    for i in range(runs + 2):
        if prepare:
            subprocess.run(prepare, check=True)
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        wall = time.perf_counter() - t0
        after = os.times()
        if i >= 2:  # two warm-up runs, as with hyperfine
            times.append(wall)
            user.append(after.children_user - before.children_user)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "mean_s": round(statistics.mean(times), 3), "user_s": round(statistics.mean(user), 3),
            "runs": runs, "tool": "subprocess"}


def measure(evidex: Path, text: Path, runs: int, cache: Path, warm: bool) -> dict:
    """Timing of `evidex extract text` with a warm or a cold rule cache in `cache`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "EVIDEX_RULES")}
    env["EVIDEX_CACHE_DIR"] = str(cache)
    cmd = [str(evidex), "extract", str(text)]
    shutil.rmtree(cache, ignore_errors=True)
    prepare = None if warm else ["rm", "-rf", str(cache)]
    if warm:  # write the entry (and the interpreter's bytecode) once
        subprocess.run(cmd, check=True, env=env, capture_output=True)
    timer = _hyperfine if shutil.which("hyperfine") else _loop
    return timer(cmd, runs, env, prepare)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--evidex", type=Path, action="append", help="an evidex command to time (repeatable)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results-startup.json")
    args = ap.parse_args()
    commands = args.evidex or [ROOT / ".venv" / "bin" / "evidex"]
    work = Path(tempfile.mkdtemp(prefix="evidex-startup-"))
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sentences": SENTENCES, "commands": {}}
    try:
        for name, sentence in SENTENCES.items():
            (work / f"{name}.txt").write_text(sentence, encoding="utf-8")
        for evidex in commands:
            per: dict = {}
            for name in SENTENCES:
                for warm in (True, False):
                    label = f"{name} {'warm' if warm else 'cold'}"
                    load = os.getloadavg()[0]
                    per[label] = measure(evidex, work / f"{name}.txt", args.runs if warm else args.cold_runs,
                                         work / "cache", warm)
                    per[label]["load_average_before"] = round(load, 2)
                    print(evidex, label, per[label], flush=True)
            results["commands"][str(evidex)] = per
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
