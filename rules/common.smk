# Shared helpers: where the raw data live and which files each stage reads.
import math
from pathlib import Path

SYNTHETIC = not config["raw_dir"]
RAW = config["synthetic_dir"] if SYNTHETIC else config["raw_dir"]
CSMAR_TABLES = list(config["csmar"])
ENV = "../envs/intelcap.yaml"
REPORTS = f"{RAW}/reports"



def csmar_file(table):
    return f"{RAW}/csmar/{config['csmar'][table]['file']}"


def ifr_file(key):
    return f"{RAW}/{config['ifr'][key]}"


def parquet_of(table):
    return f"results/data/csmar/{table}.parquet"


# Without annual reports (a synthetic scale run with synth.reports: false) there is no text index: Table 8
# is left out up front instead of failing on an empty corpus.
TEXT_ENABLED = not (SYNTHETIC and not config["synth"].get("reports", True))
PAPER_TABLES = ["table1", "table2", "table3", "table4", "table5", "table6", "table7"] + (
    ["table8"] if TEXT_ENABLED else []
)


def _say_up_front():
    """What this configuration leaves out or makes slow, said before any job runs (scale runs)."""
    import sys

    if not TEXT_ENABLED:
        sys.stderr.write("intelcap: synth.reports is false -> no annual reports, so no text index and no Table 8 "
                         "(left out of the DAG).\n")
    elif SYNTHETIC and config["synth"]["n_firms"] > 100_000:
        n = config["synth"]["n_firms"] * (config["synth"]["last_year"] - config["sample"]["first_year"] + 1)
        # measured on the default panel: ~5.4 kB and ~1 ms of one core per synthetic report
        sys.stderr.write(f"intelcap: synth.reports with {config['synth']['n_firms']:,} firms writes ~{n:,} annual "
                         f"reports (~{n * 5.4e3 / 1e9:,.0f} GB, ~{n / 1e3 / 60:,.0f} min in one job) before Table 8 "
                         "can run; set synth.reports: false to leave Table 8 out (profiles/large does).\n")


_say_up_front()


def all_targets():
    tables = [f"results/tables/{t}.{fmt}" for t in PAPER_TABLES for fmt in ("csv", "md", "tex", "docx")]
    return tables + [
        "results/tables/sample_attrition.csv",
        "results/tables/sample_attrition.md",
        "results/tables/table6_differences.csv",
        "results/tables/paper_vs_replication.csv",
        "results/figures/figure1.png",
        "results/figures/figure2.png",
        "results/figures/coefplot_table6.png",
        "results/manifest.json",
    ]


def analysis_extras():
    """Row-level measures merged into the analysis panel besides lnCU and lnINT (grown by later stages)."""
    return []


def code(*modules):
    """Package modules run by a rule, listed as inputs so that editing the method reruns its outputs
    (Snakemake itself only tracks the thin script)."""
    return [f"src/intelcap/{m}.py" for m in modules]


# ---- robustness stage (rules/robustness.smk)
ROB = config["robustness"]
ROB_MC = ROB["monte_carlo"]
ROB_PLACEBO = ROB["placebo"]
ROB_SPEC = ROB["spec_curve"]
ROB_CODE = code("robustness", "steps_robustness", "inference", "estimate")

def rob_model(key):
    """The model dict named by robustness.inference.<key> ({table, model}) in config `tables`."""
    ref = ROB["inference"][key]
    return [m for m in config["tables"][ref["table"]] if m["name"] == ref["model"]]


def rob_n_shards(total, size):
    return max(1, math.ceil(int(total) / int(size)))


def mc_shard_files():
    n = rob_n_shards(ROB_MC["reps"], ROB_MC["shard_size"])
    return [f"results/robustness/mc/{s}/shard_{i}.parquet" for s in ROB_MC["scenarios"] for i in range(n)]


def placebo_shard_files():
    n = rob_n_shards(ROB_PLACEBO["reps"], ROB_PLACEBO["shard_size"])
    return [f"results/robustness/placebo/{m}_{i}.parquet" for m in ROB_PLACEBO["modes"] for i in range(n)]


def spec_shard_files():
    return [f"results/robustness/spec_curve/{c}_{w}.parquet" for c in ROB_SPEC["cu"] for w in ROB_SPEC["winsor"]]


def robustness_targets():
    """Every output of the robustness stage (for `rule all` or `snakemake robustness`)."""
    return (
        [f"results/tables/inference.{f}" for f in ("csv", "md", "tex", "docx")]
        + ["results/tables/coverage.csv", "results/tables/coverage.md"]
        + [f"results/figures/coverage.{f}" for f in ("png", "pdf")]
        + ["results/robustness/placebo.csv", "results/tables/placebo.csv", "results/tables/placebo.md"]
        + [f"results/figures/placebo_{m}.{f}" for m in ROB_PLACEBO["modes"] for f in ("png", "pdf")]
        + ["results/robustness/spec_curve.csv"]
        + [f"results/figures/spec_curve.{f}" for f in ("png", "pdf")]
        + ["results/tables/one_step_sfa.csv", "results/tables/one_step_sfa.md"]
    )


def table_outputs(name):
    """csv (in the HTML report, with its caption) plus the rendered formats of one table."""
    out = {fmt: f"results/tables/{name}.{fmt}" for fmt in ("md", "tex", "docx")}
    out["csv"] = report(f"results/tables/{name}.csv", caption=f"../report/{name}.rst", category="Tables")
    return out


def canonical(value):
    """A config block as sorted JSON for `params:`: reordering keys in a YAML file is not a change, so it
    must not rerun anything (Snakemake compares params by their text)."""
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False)
