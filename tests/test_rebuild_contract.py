"""The rebuild contract: a change to an input, a config key or the code reruns exactly what depends on it, and
`snakemake -n` tells the truth.

On one completed scratch workflow (small synthetic panel, default target and robustness stage):
* every leaf key of schemas/config.schema.yaml (enumerated from the schema) set to another valid value plans
  exactly the jobs of the rules that declare the key in the registry, plus new jobs, plus their downstream;
* every job ran only the modules the registry lists for its rule, and read only its declared config keys (the
  run itself would have failed otherwise: runner.ConfigView);
* the cases of issue 11 "Why", each a regression test.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
import yaml
from rebuild import (
    AGGREGATES,
    DRY_TARGETS,
    ROOT,
    TARGETS,
    UNCOUNTED,
    another_value,
    declaring_jobs,
    edited,
    job_dag,
    leaves,
    merge,
    set_key,
    small_config,
    snakemake,
)

from intelcap.workflow import registry
from intelcap.workflow.config import check_values
from intelcap.workflow.scratch import copy_workflow

pytestmark = pytest.mark.e2e

SCHEMA = yaml.safe_load((ROOT / "schemas/config.schema.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """A scratch workflow with every target built (rebuild.TARGETS) on the small configuration."""
    work = copy_workflow(ROOT, tmp_path_factory.mktemp("contract"))
    (work / "config/config.yaml").write_text(
        yaml.safe_dump(small_config(), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    snakemake(work, *TARGETS)
    return work


def _overlay(work: Path, name: str, overlay: dict) -> list[str]:
    path = work / "overlays" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    return ["--configfile", str(path)]


def planned(work: Path, *args: str, targets=DRY_TARGETS) -> dict[str, int]:
    """Rule -> number of jobs a dry run plans."""
    counts: dict[str, int] = {}
    for node in job_dag(work, *args, targets=targets).nodes.values():
        if node.runs and node.rule not in UNCOUNTED:
            counts[node.rule] = counts.get(node.rule, 0) + 1
    return counts


def test_completed_workflow_has_nothing_left_to_do(done):
    assert planned(done) == {}


# ------------------------------------------------------------------------------------------------ schema-wide
def _special_values(work: Path) -> dict:
    """Keys whose generic alternative would not be a valid configuration of this workspace."""

    def copy_config_file(leaf):
        src = work / leaf.value
        dst = src.with_name("alt_" + src.name)
        shutil.copy2(src, dst)
        return str(dst.relative_to(work))

    def raw_copy(leaf):
        dst = work / "raw_copy"
        if not dst.exists():
            for sub in ("csmar", "ifr", "reports"):
                shutil.copytree(work / "data/synthetic" / sub, dst / sub)
        return str(dst)

    return {
        r"raw_dir": raw_copy,
        r"synthetic_dir": lambda leaf: "data/synthetic_alt",
        r"paths\.\w+": copy_config_file,
        r"csmar\.\w+\.file": lambda leaf: "alt_" + leaf.value,
        r"cluster|robustness\.inference\.industry": lambda leaf: (
            "industry" if leaf.value != "industry" else "ifr"
        ),
        r"robustness\.inference\.\w+\.table": lambda leaf: "table3",
        r"robustness\.inference\.\w+\.model": lambda leaf: "(1)",  # a model that table3 has
        r"sample\.last_year": lambda leaf: leaf.value - 1,  # the synthetic panel ends in 2019
    }


def _check_key(work: Path, base_ids: set[str], leaf, value, config: dict) -> str | None:
    """None if the dry run plans exactly what the registry says, else a description of the difference."""
    overlay = set_key(config, leaf.key, value)
    new_config = merge(config, overlay)
    dag = job_dag(work, *_overlay(work, re.sub(r"\W", "_", leaf.key), overlay))
    declared = declaring_jobs(dag, leaf.key, new_config, "config")
    shaped = declaring_jobs(dag, leaf.key, new_config, "shape")
    new = {i for i in dag.nodes if dag.identity(i) not in base_ids}
    lower = dag.labels(dag.downstream(declared | new))
    upper = dag.labels(dag.downstream(declared | new | shaped))
    actual = dag.running()
    if not upper:
        return f"{leaf.key}: no rule declares it (a key that changes nothing)"
    if not (lower <= actual <= upper):
        return (
            f"{leaf.key} -> {value!r}: planned {sorted(actual.elements())}\n"
            f"   missing (declared but not planned): {sorted((lower - actual).elements())}\n"
            f"   extra (planned, not declared): {sorted((actual - upper).elements())}"
        )
    return None


def test_every_schema_key_reruns_exactly_its_declaring_rules_and_downstream(done):
    config = small_config()
    validator = jsonschema.Draft202012Validator(SCHEMA)
    special = _special_values(done)
    base = job_dag(done)
    base_ids = {base.identity(i) for i in base.nodes}
    cases, no_alternative = [], []
    for leaf in leaves(SCHEMA, config):
        ok, value = another_value(leaf, SCHEMA, special)
        if not ok:
            no_alternative.append(leaf.key)
            continue
        mutated = merge(config, set_key(config, leaf.key, value))
        errors = [e.message for e in validator.iter_errors(mutated)]
        assert not errors, (leaf.key, value, errors)  # the generator itself must give valid values
        check_values(mutated, SCHEMA)  # ... that the workflow's own checks accept
        cases.append((leaf, value))
    # only keys whose schema allows a single value have no alternative
    assert no_alternative == [
        leaf.key for leaf in leaves(SCHEMA, config) if len(leaf.schema.get("enum", [None, None])) == 1
    ], no_alternative
    assert len(cases) > 100
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for p in pool.map(lambda c: _check_key(done, base_ids, c[0], c[1], config), cases) if p]
    assert not problems, f"{len(problems)} of {len(cases)} keys:\n" + "\n".join(problems)


# ------------------------------------------------------------------------------------------------ registry
def _job_modules(work: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for log in (work / "logs").rglob("*.log"):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.search(r"rule (\w+) ran intelcap modules: (.*)$", line)
            if m:
                found.setdefault(m.group(1), set()).add(m.group(2).strip())
    return found


def test_every_job_ran_exactly_the_modules_its_rule_lists(done):
    """Each step ran with only its declared config (the run succeeded under ConfigView) and imported exactly
    the registry's modules: none it does not list (stale results), none listed it does not run."""
    seen = _job_modules(done)
    dag = job_dag(done, targets=TARGETS)
    rules = {n.rule for n in dag.nodes.values()} - set(AGGREGATES)
    assert rules == set(seen), (sorted(rules - set(seen)), sorted(set(seen) - rules))
    assert rules == set(registry.RULES), sorted(set(registry.RULES) ^ rules)
    for rule, variants in sorted(seen.items()):
        expected = " ".join(registry.modules_of(rule))
        assert variants == {expected}, (rule, variants, expected)


def test_registry_names_only_rules_and_files_that_exist():
    proc = snakemake(ROOT, "--list-rules", "--nolock")
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line and not line[0].isspace()}
    listed -= set(AGGREGATES)
    assert set(registry.RULES) == listed
    for rule in registry.RULES:
        for f in registry.code_files(rule, ROOT):
            assert Path(f).is_file(), (rule, f)
        assert callable(registry.step_function(rule)), rule


def test_config_view_raises_on_undeclared_keys():
    from intelcap.workflow.runner import ConfigView, UndeclaredConfigError

    full = {
        "cu": {"method": "cols", "predictor": "period"},
        "heterogeneity": {"ar_level": 0.9, "pairs": []},
        "seed": 1,
    }
    view = ConfigView.declared(
        registry.declared_config(
            "table4", {**full, "tables": {"table4": []}, "controls": [], "cluster": "Stkcd"}
        ),
        "table4",
    )
    assert view["heterogeneity"]["ar_level"] == 0.9
    for read in (
        lambda: view["heterogeneity"]["pairs"],
        lambda: view["seed"],
        lambda: view.get("cu"),
        lambda: "seed" in view,
        lambda: view["heterogeneity"].get("pairs", []),
    ):
        with pytest.raises(UndeclaredConfigError, match="rules.yaml"):
            read()
    whole = ConfigView.declared(
        registry.declared_config("capacity_utilization", full), "capacity_utilization"
    )
    assert (
        whole["cu"].get("absent", 5) == 5 and "absent" not in whole["cu"]
    )  # a whole block: plain dict rules


# ------------------------------------------------------------------------------------------------ issue 11 "Why"
def test_cluster_key_reruns_every_regression_table(done):
    jobs = planned(done, *_overlay(done, "cluster", {"cluster": "industry"}))
    assert jobs.get("regression_table") == 4 and {"table4", "table6"} <= set(jobs), jobs
    assert not set(jobs) & {"synthesize", "read_table", "capacity_utilization", "dea_efficiency"}, jobs


def test_ar_level_reruns_table4_not_table6(done):
    jobs = planned(done, *_overlay(done, "ar", {"heterogeneity": {"ar_level": 0.9}}))
    assert "table4" in jobs and "table6" not in jobs and "regression_table" not in jobs, jobs


def _appended(path: Path, append: str = "\n# edited\n"):
    return edited(path, path.read_text(encoding="utf-8") + append)


def test_editing_glue_or_a_step_module_reruns_its_rules(done):
    for module, must, must_not in [
        (
            "src/intelcap/workflow/steps/tables.py",
            {"table1", "regression_table", "table4", "table6", "table7"},
            {"synthesize", "read_table", "build_panel", "capacity_utilization"},
        ),
        ("src/intelcap/workflow/runner.py", {"synthesize", "read_table", "render_table", "mc_shard"}, set()),
        # the rule table is glue too: a comment appended to it reruns every job
        ("src/intelcap/workflow/rules.yaml", {"synthesize", "read_table", "render_table", "mc_shard"}, set()),
        (
            "src/intelcap/synthetic/reports.py",
            {"synthesize_reports", "text_extract"},
            {"synthesize", "read_table"},
        ),
        (
            "src/intelcap/ingest/panel.py",
            {"build_panel", "table1", "regression_table"},
            {"synthesize", "read_table"},
        ),
        ("src/intelcap/outputs/fonts.py", {"figure1", "figure2", "coefplot"}, {"build_panel"}),
    ]:
        with _appended(done / module):
            jobs = planned(done)
        assert must <= set(jobs) and not must_not & set(jobs), (module, jobs)


def test_presentation_settings_rerun_renderings_only(done):
    rendering = {
        "render_table",
        "render_frame",
        "compare_with_paper",  # computes the comparison and writes its Markdown in one job
        "coefplot",
        "figure1",
        "figure2",
        "coverage_figure",
        "placebo_figure",
        "spec_curve_figure",
        "rulegraph_figure",
        "render_text_audit",
        "tables_pdf",
        "provenance",
        "stata_export",  # the .dta's variable labels come from the labels file (its second check below)
    }
    for key, value in [("lang", "en"), ("paren", "t"), ("digits", 4)]:
        jobs = planned(done, *_overlay(done, f"output_{key}", {"output": {key: value}}))
        assert jobs and set(jobs) <= rendering, (key, jobs)
    with _appended(done / "config/labels.yaml"):
        jobs = planned(done)
    assert {"render_table", "render_frame", "coefplot"} <= set(jobs) <= rendering, jobs


def test_keyword_change_recounts_without_reextracting(done):
    kw = done / "config/keywords.yaml"
    with edited(kw, kw.read_text(encoding="utf-8").replace("    - 传感器\n", "")):
        jobs = planned(done)
    assert {"text_count", "text_index", "regression_table", "table7"} <= set(jobs), jobs
    assert (
        jobs["regression_table"] == 1 and "text_extract" not in jobs and "synthesize_reports" not in jobs
    ), jobs


# ---- raw data: a user's folder, tracked by content
@pytest.fixture(scope="module")
def raw(done, tmp_path_factory) -> Path:
    """The workflow on a user's raw_dir (a copy of the synthetic vendor files and reports), fully built."""
    work = copy_workflow(ROOT, tmp_path_factory.mktemp("raw"))
    cfg = small_config()
    cfg["raw_dir"] = str(work / "downloads")
    for sub in ("csmar", "ifr", "reports"):
        shutil.copytree(done / "data/synthetic" / sub, work / "downloads" / sub)
    # a firm-year delivered twice, as a PDF and as a text file (another report's text): counted once, from the .txt
    reports = work / "downloads/reports"
    pdf = sorted(reports.glob("*.pdf"))[0]
    donor = next(t for t in sorted(reports.glob("*.txt")) if not (reports / f"{pdf.stem}.txt").exists())
    shutil.copy2(donor, reports / f"{pdf.stem}.txt")
    (work / "twice.txt").write_text(f"{pdf.stem} {donor.stem}", encoding="utf-8")
    (work / "config/config.yaml").write_text(
        yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    snakemake(work, "all")
    return work


def test_raw_file_replaced_by_older_copy_reruns_its_reader(raw):
    target = raw / "downloads/csmar/FN_RegionRevenue.csv"
    replacement = raw / "replacement.csv"
    backup = raw / "FN_RegionRevenue.orig"
    shutil.copy2(target, backup)
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    replacement.write_text("".join(lines[:-1]) + lines[-1].replace("1", "2", 1), encoding="utf-8")
    old = target.stat()
    os.utime(replacement, ns=(old.st_atime_ns - 10**12, old.st_mtime_ns - 10**12))  # `cp -p` of an older file
    shutil.copy2(replacement, target)
    assert target.stat().st_mtime_ns < old.st_mtime_ns
    jobs = planned(raw, targets=("all",))
    shutil.copy2(backup, target)  # content and times back: later tests start from the built state
    assert "read_table" in jobs and jobs["read_table"] == 1 and "firm_attributes" in jobs, jobs


def test_adding_or_editing_one_report_reruns_one_shard(raw):
    reports = raw / "downloads/reports"
    n_shards = small_config()["text"]["shards"]
    assert planned(raw, targets=("all",)).get("text_extract") in (None, 0)
    one = sorted(reports.glob("*.txt"))[0]
    with _appended(one, "\n智能制造\n"):
        jobs = planned(raw, targets=("all",))
        assert jobs.get("text_extract") == 1 and jobs.get("text_count") == 1 and n_shards > 1, jobs
    added = reports / "000999_2015.txt"
    added.write_text("智能制造 工业机器人\n", encoding="utf-8")
    try:
        jobs = planned(raw, targets=("all",))
        assert jobs.get("text_extract") == 1 and "read_table" not in jobs, jobs
    finally:
        added.unlink()


def test_txt_and_pdf_of_one_firm_year_are_one_shard_and_counted_once(raw):
    """A firm-year delivered as .txt and .pdf: one shard, the .txt counted, the .pdf logged as its duplicate;
    its counts are exactly those of the text file's own firm-year donor (same text)."""
    import pandas as pd

    stem, donor = (raw / "twice.txt").read_text(encoding="utf-8").split()
    stkcd, year = stem.split("_")
    log = pd.read_csv(raw / "results/measures/text_log.csv", dtype={"Stkcd": str}, keep_default_na=False)
    rows = log[(log["Stkcd"] == stkcd) & (log["year"].astype(str) == year)].set_index("file")["status"]
    assert rows.to_dict() == {f"{stem}.pdf": "duplicate", f"{stem}.txt": "ok"}, rows
    ok = log[log["status"] == "ok"]
    assert not ok.duplicated(["Stkcd", "year"]).any()
    index = pd.read_parquet(raw / "results/measures/text_index.parquet")
    assert not index.duplicated(["Stkcd", "year"]).any()
    n = index.set_index(index["Stkcd"].astype(str) + "_" + index["year"].astype(str))["n_keywords"]
    assert n[stem] == n[donor] > 0, (n[stem], n[donor])


def test_a_second_clone_runs_its_own_code(done, tmp_path):
    """A job imports the package of the checkout that holds the Snakefile, even when another clone's src is on
    PYTHONPATH: a marker added to clone B's step runs."""
    clone = copy_workflow(done, tmp_path / "clone")
    shutil.copytree(done / "results", clone / "results")
    shutil.copytree(done / "data", clone / "data")
    step = clone / "src/intelcap/workflow/steps/tables.py"
    step.write_text(
        step.read_text(encoding="utf-8").replace(
            '    atomic.write_csv(long, job.output["csv"])',
            '    atomic.write_csv(long, job.output["csv"])\n    Path("clone_code_ran").write_text("yes")',
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "results/tables/table7.csv"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (clone / "clone_code_ran").read_text() == "yes"


def test_user_data_without_reports_leaves_table8_out_up_front(raw, tmp_path):
    """No reports/ folder in raw_dir: the text index and Table 8 are left out of the DAG with a message, and
    everything else is planned (issue 12: a run on real data without reports must finish)."""
    downloads = tmp_path / "no_reports"
    for sub in ("csmar", "ifr"):
        shutil.copytree(raw / "downloads" / sub, downloads / sub)
    args = _overlay(raw, "no_reports", {"raw_dir": str(downloads)})
    proc = snakemake(raw, "all", "-n", *args)
    assert "no annual reports, so no text index and no Table 8" in proc.stderr + proc.stdout
    jobs = planned(raw, *args, targets=("all",))
    assert not {r for r in jobs if r.startswith("text_")}, jobs
    assert jobs.get("regression_table") == 3 and {"table4", "table6", "render_table", "provenance"} <= set(
        jobs
    )
