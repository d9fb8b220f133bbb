"""docs/reruns.md is what tools/make_reruns_doc.py writes from the registry and Snakemake's graph, and it says
the right thing for a few changes whose reruns are known by hand."""

from __future__ import annotations

import difflib
import importlib.util
import math
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reruns.md"


def _tool():
    spec = importlib.util.spec_from_file_location("make_reruns_doc", ROOT / "tools" / "make_reruns_doc.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


mk = _tool()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("reruns") / "reruns.md"
    assert mk.main(["--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows(generated) -> dict[str, tuple[str, str]]:
    """First cell -> (directly, downstream), from every table of the document."""
    out = {}
    for line in generated.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and not cells[0].startswith("---"):
            out[cells[0]] = (cells[1], cells[2])
    return out


def names(cell: str) -> list[str]:
    """`a`, `b[x, y]°` (3 jobs) -> ["a", "b[x, y]°"]."""
    return re.findall(r"`([^`]+)`", cell)


def rules(cell: str) -> set[str]:
    return {re.sub(r"[\[°].*$", "", n) for n in names(cell)}


def test_committed_doc_is_current(generated):
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if committed != generated:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(True),
                    generated.splitlines(True),
                    "docs/reruns.md (committed)",
                    "regenerated",
                    n=0,
                )
            )[:40]
        )
        pytest.fail(
            "docs/reruns.md is out of date with the registry or the rules: run "
            f"`python tools/make_reruns_doc.py` and commit the result.\n{diff}"
        )


def test_job_graph_collapses_to_snakemakes_rule_graph():
    jobs = mk.snakemake_jobs(mk.ROOT)
    graph = {
        (a, b) for a, b in mk.snakemake_rule_graph(mk.ROOT) if a not in mk.TARGETS and b not in mk.TARGETS
    }
    assert mk.rule_edges(jobs) == graph


def test_presentation_key_reruns_renderings_only(rows):
    direct, down = rows["`output.lang`"]
    assert rules(direct) == {
        "coefplot",
        "coverage_figure",
        "figure1",
        "figure2",
        "compare_with_paper",  # writes the comparison's Markdown
        "placebo_figure",
        "provenance",
        "render_frame",
        "render_table",
        "render_text_audit",
        "rulegraph_figure",
        "spec_curve_figure",
        "tables_pdf",
    }
    assert down == "—"
    steps = {mk.registry.RULES[r].step_module for r in rules(direct) - {"provenance"}}
    assert steps == {"workflow.steps.render"}


def test_cu_reruns_the_frontier_and_what_follows_not_the_readers(rows):
    direct, down = rows["`cu`"]
    assert {"capacity_utilization", "cu_variant", "mc_shard"} <= rules(direct)
    assert {"analysis_panel", "regression_table", "table4", "table6", "spec_curve_shard"} <= rules(down)
    assert not {"read_table", "build_panel", "winsorize", "firm_attributes"} & (rules(direct) | rules(down))


def test_wildcard_keys_rerun_their_jobs_only(rows):
    direct, _ = rows["`csmar.FS_Combas`"]
    assert "read_table[FS_Combas]" in names(direct) and "read_table" not in names(direct)
    direct, down = rows["`tables.table2`"]
    assert "regression_table[table2]" in names(direct)
    assert "render_table[inference, table2]" in names(down)
    direct, _ = rows["`robustness.monte_carlo.scenarios.strong_shocks`"]
    assert names(direct) == ["mc_shard[scenario=strong_shocks]", "provenance"]
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    mc = config["robustness"]["monte_carlo"]
    assert direct.endswith(f"({math.ceil(mc['reps'] / mc['shard_size']) + 1} jobs)")  # shards + provenance


def test_shard_counts_are_shape_and_reports_rerun_one_shard(rows):
    direct, _ = rows["`robustness.placebo.reps`"]
    assert names(direct) == ["placebo", "placebo_shard°", "provenance"]
    direct, down = rows["one annual report in `raw_dir/reports/`"]
    assert names(direct) == ["provenance", "text_extract[the report's shard]"]
    assert "text_count[the report's shard]" in names(down) and "text_index" in names(down)


def test_raw_files_rerun_their_reader_jobs(rows):
    direct, down = rows["CSMAR table `PT_LCRDSPENDING` (`raw_dir/csmar/PT_LCRDSPENDING.csv`)"]
    assert names(direct) == ["provenance", "read_table[PT_LCRDSPENDING]"]
    assert "firm_attributes" in rules(down) and "build_panel" not in rules(down)  # not a panel table
    direct, down = rows["IFR file `ifr.robots_file` (`raw_dir/ifr/ifr_robots.csv`)"]
    assert names(direct) == ["provenance", "read_ifr"]
    assert "robot_exposure" in rules(down) and "capacity_utilization" not in rules(down)


def test_match_is_prefix_either_way_with_wildcards():
    assert mk.match("csmar.FS_Combas.file", "csmar.{table}") == {"table": "FS_Combas"}
    assert mk.match("csmar", "csmar.{table}") == {}
    assert mk.match("cu", "cu.predictor") == {}
    assert mk.match("cu.predictor", "cu") == {}
    assert mk.match("cu.method", "cu.predictor") is None
    assert mk.match("output.lang", "") == {}


def test_describe_compresses_wildcard_jobs():
    J = mk.Job
    jobs = [J("r", (("a", a), ("b", b)), (), (f"{a}{b}",)) for a in ("1", "2", "10") for b in ("x", "y")]
    jobs.append(J("s", (), (), ("s",)))
    assert mk.describe({0, 1}, jobs, ["r", "s"]) == "`r[a=1]` (2 jobs)"
    assert mk.describe({0, 1, 4, 5, 6}, jobs, ["r", "s"]) == "`r[a=1, 10]`, `s` (5 jobs)"
    assert mk.describe({0, 3}, jobs, ["r", "s"]) == "`r[a=1, b=x], r[a=2, b=y]` (2 jobs)"
    assert mk.describe(set(range(7)), jobs, ["r", "s"]) == "every job"
    assert mk.describe({6}, jobs, ["r", "s"], kinds={6: "shape"}) == "`s°` (1 job)"


def test_presentation_settings_read_by_an_estimation_rule_fail():
    jobs = [mk.Job("render_table", (("name", "table2"),), (), ("a",)), mk.Job("table4", (), (), ("b",))]
    mk.check_presentation("config key output.lang", {0}, jobs)
    with pytest.raises(
        SystemExit,
        match=r"changing config key output.lang reruns table4 "
        r"\(workflow.steps.tables:iv_table\), not a rendering step",
    ):
        mk.check_presentation("config key output.lang", {0, 1}, jobs)


def test_a_file_read_by_a_rule_that_does_not_declare_it_fails_naming_the_fix():
    jobs = [mk.Job("winsorize", (), ("config/labels.yaml",), ("out",))]
    hits = mk.file_jobs("config/labels.yaml", jobs)
    assert hits == {0}
    with pytest.raises(
        SystemExit,
        match=r"rule winsorize takes config/labels.yaml as input.*add "
        r"`paths.labels` to its shape in src/intelcap/workflow/rules.yaml",
    ):
        mk.check_declared("config/labels.yaml", ["paths.labels"], hits, jobs, {})
