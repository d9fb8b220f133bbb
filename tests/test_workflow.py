"""End to end: the default workflow on the synthetic data, in a scratch copy of the repository.

Checks what a user relies on: the DAG finishes, a second dry run has nothing to do, a spec change reruns only
what depends on it, and Table 2 column 4 recovers the DGP's planted effect.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from rebuild import edited, snakemake  # noqa: E402 - the one scratch-workflow runner of the e2e tests

from intelcap.workflow.scratch import copy_workflow

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts from the 'Job stats' block of a dry run."""
    out = proc.stdout + proc.stderr
    block = out.split("Job stats:")[-1] if "Job stats:" in out else ""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, re.M)
        if m.group(1) != "total"
    }


def planned_job_ids(proc: subprocess.CompletedProcess) -> set[str]:
    """Every job of a dry run as `rule[wildcards]` (`render_table[name=table2]`), or `rule` for a job without
    wildcards: one rule (regression_table, render_table) serves several tables, so rule counts alone cannot
    tell which table reruns."""
    ids = set()
    for out in (proc.stdout, proc.stderr):
        for m in re.finditer(r"^(?:local)?rule (\w+):\n((?:    .*\n)*)", out, re.M):
            wc = re.search(r"^    wildcards: (.*)$", m.group(2), re.M)
            ids.add(f"{m.group(1)}[{wc.group(1)}]" if wc else m.group(1))
    return ids


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wf")
    copy_workflow(ROOT, work)
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
    override.write_text(
        "winsor:\n  cuts: [5, 95]\n  by_year: false\n  vars: [Size, ROA, Lev, Mfee, Humcap, lnwage]\n"
    )
    proc = snakemake(workflow, "-n", "--configfile", "config/config.yaml", str(override))
    jobs = planned_jobs(proc)
    assert {"winsorize", "regression_table[table=table2]"} <= planned_job_ids(proc), jobs
    for upstream in (
        "synthesize",
        "read_table",
        "read_ifr",
        "build_panel",
        "capacity_utilization",
        "robot_exposure",
    ):
        assert upstream not in jobs, jobs


def test_keys_in_every_row_level_file(workflow):
    for f in [
        "results/data/panel_clean.parquet",
        "results/data/panel_winsorized.parquet",
        "results/measures/cu.parquet",
        "results/measures/robots.parquet",
        "results/data/analysis_panel.parquet",
    ]:
        df = pd.read_parquet(workflow / f)
        assert df["Stkcd"].str.fullmatch(r"\d{6}").all() and df["year"].dtype.kind == "i", f
        assert not df.duplicated(["Stkcd", "year"]).any(), f


def _overlay(workflow: Path, name: str, text: str) -> list[str]:
    path = workflow / name
    path.write_text(text, encoding="utf-8")
    return ["--configfile", "config/config.yaml", str(path)]


def _followers() -> set[str]:
    """Jobs that follow a change of any paper table: the comparison with the paper (CSV and Markdown) and the
    claims ledger (one job), the compiled tables (when xelatex is installed) and the manifest (it hashes the
    whole resolved configuration)."""
    import shutil

    out = {"compare_with_paper", "provenance"}
    return out | ({"tables_pdf"} if shutil.which("xelatex") else set())


def test_keyword_change_reruns_text_and_table8_only(workflow):
    import yaml

    kw = workflow / "config" / "keywords.yaml"
    with edited(kw, kw.read_text(encoding="utf-8").replace("    - 传感器\n", "")):
        proc = snakemake(workflow, "-n")
    jobs, ids = planned_jobs(proc), planned_job_ids(proc)
    shards = yaml.safe_load((workflow / "config/config.yaml").read_text(encoding="utf-8"))["text"]["shards"]
    # the counts of every shard from the cached text (never a re-extraction), the index, Table 8's estimation
    # and Table 7 (the dictionary), their renderings, the comparison with the paper and the manifest (it
    # hashes config/keywords.yaml): exactly the jobs the DAG plans
    assert ids == {
        *(f"text_count[shard={i}]" for i in range(shards)),
        "text_index",
        "regression_table[table=table8]",
        "render_table[name=table8]",
        "table7",
        "render_table[name=table7]",
        # the Table 8 variants and the keyword audit are counted in the same pass
        "text_variants",
        "table8_variants",
        "render_table[name=table8_variants]",
        "text_audit",
        "render_text_audit",
        *_followers(),
        "all",
    }, ids
    assert not set(jobs) & {
        "text_extract",
        "synthesize",
        "synthesize_reports",
        "read_table",
        "build_panel",
        "analysis_panel",
        "capacity_utilization",
        "dea_efficiency",
    }, jobs


def test_dea_orientation_change_reruns_dea_and_its_tables_only(workflow):
    args = _overlay(
        workflow,
        "dea.yaml",
        "dea:\n  rts: crs\n  orientation: output\n  super_efficiency: true\n  frontier: year\n",
    )
    ids = planned_job_ids(snakemake(workflow, "-n", *args))
    assert {"dea_efficiency", "table1", "regression_table[table=table5]"} <= ids, ids
    # Tables 1 and 5 with their renderings, the comparison with the paper, and the manifest (it hashes the
    # whole resolved configuration)
    assert ids <= {
        "dea_efficiency",
        "table1",
        "regression_table[table=table5]",
        "render_table[name=table1]",
        "render_table[name=table5]",
        "figure1",  # the framework figure prints Table 5's coefficients
        *_followers(),
        "all",
    }, ids


@pytest.mark.parametrize("table", ["table2", "table3", "table4", "table5", "table6", "table8"])
def test_one_tables_spec_change_reruns_its_estimation_and_renderings(workflow, table):
    """Issue 7: a table's spec change reruns that table (its estimation job and its render_table job) and
    the paper comparison (and its Markdown), nothing else; for Table 6 also its coefficient plot and the
    Markdown of its group differences (both drawn from its outputs)."""
    import yaml

    cfg = yaml.safe_load((workflow / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["tables"][table][0]["name"] += "*"
    args = _overlay(workflow, f"{table}.yaml", yaml.safe_dump({"tables": cfg["tables"]}, allow_unicode=True))
    ids = planned_job_ids(snakemake(workflow, "-n", *args))
    # exactly the jobs the DAG plans; the manifest (provenance) hashes the whole resolved configuration, so
    # any config change rewrites it
    estimation = table if table in ("table4", "table6") else f"regression_table[table={table}]"
    expected = {estimation, f"render_table[name={table}]", *_followers()}
    if table in ("table2", "table5"):
        expected.add("figure1")  # the framework figure prints their coefficients
    if table == "table8":
        expected |= {"table8_variants", "render_table[name=table8_variants]"}  # the same model spec
    if table == "table6":
        expected |= {"coefplot", "render_frame[name=table6_differences]"}
    assert ids - {"all"} == expected, ids


def test_one_target_builds_only_what_it_needs(workflow, tmp_path):
    # a fresh copy: asking for Table 4's Word file plans no DEA, text or other tables
    fresh = copy_workflow(workflow, tmp_path / "fresh")
    proc = snakemake(fresh, "-n", "results/tables/table4.docx")
    jobs, ids = planned_jobs(proc), planned_job_ids(proc)
    assert {"table4", "render_table[name=table4]", "capacity_utilization"} <= ids, ids
    assert jobs["render_table"] == 1, jobs
    assert not set(jobs) & {
        "dea_efficiency",
        "text_extract",
        "text_count",
        "text_index",
        "regression_table",
        "table6",
        "coefplot",
        "figure1",
    }, jobs


def test_docx_holds_the_csv_numbers(workflow):
    from docx import Document

    t2 = pd.read_csv(workflow / "results/tables/table2.csv")
    doc = Document(str(workflow / "results/tables/table2.docx"))
    cells = {c.text.strip() for t in doc.tables for row in t.rows for c in row.cells}
    for _, r in t2[t2.term.isin(["lnINT", "_cons"])].iterrows():
        shown = f"{r.estimate:.3f}"
        assert any(c.startswith(shown) for c in cells), (r.model, r.term, shown)
        assert f"({r.std_error:.3f})" in cells
