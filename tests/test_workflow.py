"""End to end: the default workflow on the synthetic data, in a scratch copy of the repository.

Checks what a user relies on: the DAG finishes, a second dry run has nothing to do, a spec change reruns only
what depends on it, and Table 2 column 4 recovers the DGP's planted effect.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
COPY = ["Snakefile", "rules", "scripts", "config", "schemas", "envs", "profiles", "src", "report"]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(workdir), "--snakefile",
           str(workdir / "Snakefile"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts from the 'Job stats' block of a dry run."""
    out = proc.stdout + proc.stderr
    block = out.split("Job stats:")[-1] if "Job stats:" in out else ""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M)
            if m.group(1) != "total"}


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wf")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, work / name)
    snakemake(work)
    return work


def test_default_run_builds_tables_and_nothing_is_left_to_do(workflow):
    for f in ("table1.csv", "table2.csv", "table2.md", "table2.tex", "sample_attrition.csv"):
        assert (workflow / "results" / "tables" / f).stat().st_size > 0
    proc = snakemake(workflow, "-n")
    assert planned_jobs(proc) == {}, proc.stdout[-2000:]


def test_table2_col4_recovers_planted_effect(workflow):
    t2 = pd.read_csv(workflow / "results/tables/table2.csv")
    row = t2[(t2.model == "(4)") & (t2.term == "lnINT")].iloc[0]
    truth = json.loads((workflow / "data/synthetic/truth.json").read_text())
    beta = truth["estimands"]["lnINT_on_lnCU_true"]
    assert abs(row.estimate - beta) < 2 * row.std_error, (row.estimate, row.std_error, beta)
    # and the planted average marginal effect on the estimation sample
    fy = pd.read_csv(workflow / "data/synthetic/truth_firm_years.csv", dtype={"Stkcd": str})
    panel = pd.read_parquet(workflow / "results/data/analysis_panel.parquet")
    ame = panel.merge(fy, on=["Stkcd", "year"])["ame_lnINT"].mean()
    assert abs(row.estimate - ame) < 2 * row.std_error, (row.estimate, row.std_error, ame)
    assert row.nobs > 9000 and row.vcov == "CRV1:Stkcd" and row.fixed_effects == "Stkcd+year"


def test_attrition_table_accounts_for_every_firm_year(workflow):
    att = pd.read_csv(workflow / "results/tables/sample_attrition.csv")
    start = att.iloc[0]["firm_years_remaining"]
    assert start - att["firm_years_removed"].sum() == att.iloc[-1]["firm_years_remaining"]
    panel = pd.read_parquet(workflow / "results/data/analysis_panel.parquet")
    assert len(panel) == att.iloc[-1]["firm_years_remaining"]
    # every filter of the paper removes something on the synthetic data
    assert (att["firm_years_removed"].iloc[1:7] > 0).all()


def test_changing_winsor_cuts_reruns_only_downstream(workflow):
    override = workflow / "winsor_override.yaml"
    override.write_text("winsor:\n  cuts: [5, 95]\n  by_year: false\n"
                        "  vars: [Size, ROA, Lev, Mfee, Humcap, lnwage]\n")
    proc = snakemake(workflow, "-n", "--configfile", "config/config.yaml", str(override))
    jobs = planned_jobs(proc)
    assert "winsorize" in jobs and "table2" in jobs
    for upstream in ("synthesize", "read_table", "read_ifr", "build_panel", "capacity_utilization",
                     "robot_exposure"):
        assert upstream not in jobs, jobs


def test_keys_in_every_row_level_file(workflow):
    for f in ["results/data/panel_clean.parquet", "results/data/panel_winsorized.parquet",
              "results/measures/cu.parquet", "results/measures/robots.parquet",
              "results/data/analysis_panel.parquet"]:
        df = pd.read_parquet(workflow / f)
        assert df["Stkcd"].str.fullmatch(r"\d{6}").all() and df["year"].dtype.kind == "i", f
        assert not df.duplicated(["Stkcd", "year"]).any(), f
