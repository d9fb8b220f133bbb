# Shared helpers: where the raw data live and which files each stage reads.
from pathlib import Path

SYNTHETIC = not config["raw_dir"]
RAW = config["synthetic_dir"] if SYNTHETIC else config["raw_dir"]
CSMAR_TABLES = list(config["csmar"])
ENV = "../envs/intelcap.yaml"
REPORTS = f"{RAW}/reports"

wildcard_constraints:
    table="|".join(CSMAR_TABLES),


def csmar_file(table):
    return f"{RAW}/csmar/{config['csmar'][table]['file']}"


def ifr_file(key):
    return f"{RAW}/{config['ifr'][key]}"


def parquet_of(table):
    return f"results/data/csmar/{table}.parquet"


PAPER_TABLES = ["table1", "table2", "table3", "table4", "table5", "table6", "table7", "table8"]


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
    ]


def analysis_extras():
    """Row-level measures merged into the analysis panel besides lnCU and lnINT (grown by later stages)."""
    return []


def code(*modules):
    """Package modules a rule runs: listed as inputs so that editing the method reruns its outputs
    (Snakemake itself only tracks the thin script)."""
    return [f"src/intelcap/{m}.py" for m in modules]
