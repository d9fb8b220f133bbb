"""What every `snakemake` start costs the workflow's own process: the params rerun trigger does not import
pandas (rules/common.smk `params_hashed_as_text`; that the trigger still reruns a changed param is the rebuild
contract's tests), and the package's bytecode is kept where PYTHONDONTWRITEBYTECODE is set. A Snakemake
release that renames what `params_hashed_as_text` replaces fails this test, not the run: the workflow then only
starts ~0.2 s slower."""

from __future__ import annotations

import os

import pytest
from _factories import run, small_workflow, snakemake_cmd

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    return small_workflow(tmp_path_factory.mktemp("start"))


def _imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` reports (one per line: self | cumulative | name)."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.count("|") == 2}


def test_running_and_dry_runs_do_not_import_pandas(workflow):
    import sys

    # a built job, so that the dry run checks its params (with nothing built there is nothing to compare);
    # as in Docker images and on the project's machine: Python told not to write bytecode
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = snakemake_cmd("data/synthetic/truth.json", "--configfile", "config/config.yaml", "small.yaml")
    built = run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=workflow, timeout=600, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    # Snakemake wrote the job's preamble (its params stored) without importing pandas in its own process
    # (rules/common.smk job_preambles_without_pandas); the job itself is another process
    assert "Finished jobid" in built.stderr and "snakemake.script" in _imported(built.stderr)
    # (a refused import is still listed, as "pandas" alone: what pandas' import would load is not)
    assert not {m for m in _imported(built.stderr) if m.startswith("pandas.")}
    # the DAG's process (registry) and the job (the generator) kept the package's bytecode: without it every
    # job recompiles the modules it imports (Snakefile, scripts/run_step.py)
    cached = {p.name.split(".")[0] for p in (workflow / "src" / "intelcap").rglob("__pycache__/*.pyc")}
    assert {"registry", "config", "runner", "dgp"} <= cached, sorted(cached)
    cmd = snakemake_cmd("-n", "--configfile", "config/config.yaml", "small.yaml")
    proc = run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=workflow, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    imported = _imported(proc.stderr)
    assert "snakemake.persistence" in imported  # the dry run did reach the rerun checks
    assert "pandas" not in imported and "pandas.core.frame" not in imported


def test_a_dry_run_on_a_users_downloads_does_not_import_the_readers(workflow):
    import sys

    # the synthetic vendor files as a user's download folder: the DAG lists each table's files (and parts)
    if not (workflow / "data" / "synthetic" / "csmar").is_dir():
        built = run(
            snakemake_cmd("data/synthetic/truth.json", "--configfile", "config/config.yaml", "small.yaml"),
            cwd=workflow,
            timeout=600,
        )
        assert built.returncode == 0, built.stderr[-3000:]
    cmd = snakemake_cmd(
        "-n", "--configfile", "config/config.yaml", "small.yaml", "--config", "raw_dir=data/synthetic"
    )
    proc = run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=workflow, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "read_table" in proc.stdout  # the user-data rules are in the DAG, their inputs listed
    imported = _imported(proc.stderr)
    # the file listing (intelcap.ingest.files) is standard library only; the readers bring pandas and pyarrow
    assert "intelcap.ingest.files" in imported
    assert "intelcap.ingest.readers" not in imported
    assert not {m for m in imported if m.startswith(("pandas.", "pyarrow."))}


PREAMBLE_PROBE = r"""
import sys, types
src = open(sys.argv[1], encoding="utf-8").read()
start = src.index("def job_preambles_without_pandas():")
end = src.index("\njob_preambles_without_pandas()\n")
class Tolerant:  # as Snakemake 9: each import in a try, a missing package taken as "not installed"
    def _safely_store_params(self, params):
        try:
            import pandas
        except ModuleNotFoundError:
            pandas = None
        self.stored = (list(params), pandas is None)
class Strict:  # a Snakemake that imports pandas outright
    def _safely_store_params(self, params):
        import pandas
        self.stored = (list(params), pandas is None)
for cls in (Tolerant, Strict):
    sys.modules["snakemake.iocontainers"] = types.ModuleType("snakemake.iocontainers")
    sys.modules["snakemake.iocontainers"].Snakemake = cls
    ns = {"sys": sys}
    exec(src[start:end], ns)
    ns["job_preambles_without_pandas"]()
    job = cls()
    job._safely_store_params(("a", "b"))
    print(cls.__name__, job.stored, "pandas" in sys.modules and sys.modules["pandas"] is not None)
"""


def test_the_preamble_patch_refuses_pandas_and_falls_back_when_snakemake_needs_it(root):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", PREAMBLE_PROBE, str(root / "rules" / "common.smk")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # the tolerant method stores the params without pandas; a strict one still works, with pandas imported
    assert proc.stdout.splitlines() == [
        "Tolerant (['a', 'b'], True) False",
        "Strict (['a', 'b'], False) True",
    ]
