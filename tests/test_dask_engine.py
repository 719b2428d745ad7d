"""The Dask engine gives the same bytes as a local run: a page directory through the
command line with `--workers 2`, and a corpus on an existing 2-worker LocalCluster
(`--scheduler`); plus: dask is imported only when asked for.

Slow (each cluster starts worker processes that import evidex and load the rules).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidex.cli import app
from evidex.corpus_run import run_corpus
from evidex.engines import LocalEngine, make_engine

from conftest import RAW, ROOT

distributed = pytest.importorskip("distributed")  # the `dask` extra, installed with `test`
SENTENCES = [
    "Ketamine 0.5 mg/kg IV gave a 45% response rate at 24 hours.",
    "Remission was 30% (OR 2.1, 95% CI 1.2-3.4, p = 0.01) after 6 weeks.",
    "Esketamine 56 mg intranasally: 52% vs 31% placebo responded by day 28.",
    "No numbers here.",
]


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.relative_to(out).parts[0].startswith(".")}


@pytest.mark.slow
def test_directory_run_on_dask_is_byte_identical_to_local(seed_run, tmp_path):
    local_out, _ = seed_run
    out = tmp_path / "dask"
    result = CliRunner().invoke(app, ["run", str(RAW), "--out", str(out), "--rules", str(ROOT / "rules"), "--force",
                                      "--engine", "dask", "--workers", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("studies.csv", "measures.csv", "uncovered.csv", "studies.parquet", "measures.parquet",
                 "uncovered.parquet"):
        assert (out / name).read_bytes() == (local_out / name).read_bytes(), name
    # The manifest too, but for `raw_dir`: the raw directory relative to each output directory.
    manifests = [json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (out, local_out)]
    for d, m in zip((out, local_out), manifests, strict=True):
        assert (d / m.pop("raw_dir")).resolve() == RAW.resolve()
    assert manifests[0] == manifests[1]
    assert manifests[0]["totals"]["measures"] == 221


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.mark.slow
def test_corpus_run_on_dask_gives_the_same_rows_and_bytes(cluster, tmp_path):
    corpus = tmp_path / "c.jsonl"
    rows = [{"id": f"rec-{i:03d}", "text": f"Trial {i}. " + SENTENCES[i % 4]} for i in range(40)]
    rows[7] = {"id": "bad", "text": 12}
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    local = run_corpus(corpus, tmp_path / "local", ROOT / "rules", partition_size=6)
    on_dask = run_corpus(corpus, tmp_path / "dask", ROOT / "rules", partition_size=6,
                         engine=make_engine("dask", scheduler=cluster.scheduler_address))
    run_corpus(corpus, tmp_path / "jobs2", ROOT / "rules", partition_size=6, engine=LocalEngine(2))
    expected = files_of(tmp_path / "local")
    assert len(expected) == 4 * 7 + 1
    assert files_of(tmp_path / "dask") == expected
    assert files_of(tmp_path / "jobs2") == expected
    assert [o.error for o in on_dask.failed] == [o.error for o in local.failed] == ["record 8 (bad): text must be a string, not int"]
    assert sum(local.totals().values()) == sum(on_dask.totals().values()) > 100
    assert len(cluster.scheduler.workers) == 2
    # The cluster is left running for the next run (an existing scheduler is not ours to stop).
    again = run_corpus(corpus, tmp_path / "dask", ROOT / "rules", partition_size=6,
                       engine=make_engine("dask", scheduler=cluster.scheduler_address))
    assert all(o.cached for o in again.outcomes if not o.error)
    assert files_of(tmp_path / "dask") == expected


@pytest.mark.slow
def test_a_worker_with_other_rules_is_refused(cluster, tmp_path, rules_copy):
    """The plugin checks each worker's rules digest against the client's."""
    from evidex.dask_engine import PLUGIN_NAME, RulesPlugin, _rule_files
    from evidex.runner import CODE_DIGEST

    with distributed.Client(cluster.scheduler_address) as client, pytest.raises(RuntimeError, match="digest"):
        client.register_plugin(RulesPlugin(_rule_files(rules_copy), "0" * 64, CODE_DIGEST), name=PLUGIN_NAME + "-test")


@pytest.mark.slow
def test_dask_workers_load_the_rules_through_their_own_machines_cache(cluster, tmp_path):
    """With the client on the rules cache, every worker loads through its default cache
    directory ($EVIDEX_CACHE_DIR, inherited here), not a path from the client's disk; rows as without."""
    from evidex.rulecache import RulesCache, default_cache_dir

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"r{i}", "text": s}) + "\n" for i, s in enumerate(SENTENCES)),
                      encoding="utf-8")
    run_corpus(corpus, tmp_path / "local", ROOT / "rules", partition_size=2)
    run_corpus(corpus, tmp_path / "dask", ROOT / "rules", partition_size=2, rules_cache=RulesCache(tmp_path / "client"),
               engine=make_engine("dask", scheduler=cluster.scheduler_address))
    assert files_of(tmp_path / "dask") == files_of(tmp_path / "local")

    def loaded_through() -> str | None:
        from evidex.engines import worker_rules

        cache = worker_rules().rules_cache
        return None if cache is None else str(cache.root)

    with distributed.Client(cluster.scheduler_address) as client:
        assert set(client.run(loaded_through).values()) == {str(default_cache_dir())}
    assert str(default_cache_dir()) != str(tmp_path / "client")


def test_dask_is_imported_only_when_asked_for():
    code = ("import sys, evidex.cli, evidex.runner, evidex.corpus_run, evidex.engines; "
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
