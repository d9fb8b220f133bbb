"""Steps of rules/panel.smk: sample construction, firm attributes, winsorization, the analysis panel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths, read_csv_config


def build_panel(job: Job) -> None:
    from intelcap.ingest import panel

    tables = {}
    for name, path in zip(job.params["tables"], job.input["tables"], strict=True):
        df = pd.read_parquet(path)
        df.attrs["file"] = str(Path(job.params["raw_files"][name]))
        tables[name] = df
    df, att = panel.build_panel(
        tables, job.config, read_csv_config(job.input["crosswalk"]), read_csv_config(job.input["regions"])
    )
    atomic.write_parquet(df, job.output["panel"])
    atomic.write_csv(att.frame(), job.output["attrition"])
    atomic.write_csv(att.notes_frame(), job.output["notes"])


def winsorize(job: Job) -> None:
    from intelcap.ingest import panel

    df = pd.read_parquet(job.input["panel"])
    df = df.merge(pd.read_parquet(job.input["attributes"]), on=["Stkcd", "year"], how="left", validate="1:1")
    w = job.config["winsor"]
    out, cutoffs = panel.winsorize(df, list(w["vars"]), tuple(w["cuts"]), bool(w["by_year"]))
    atomic.write_parquet(out, job.output["panel"])
    atomic.write_csv(cutoffs, job.output["cutoffs"])


def firm_attributes(job: Job) -> None:
    from intelcap.measures import attributes

    df = pd.read_parquet(
        job.input["panel"], columns=["Stkcd", "year", "industry"]
    )  # all it needs (RSS at 4M)
    tables = {
        "EN_EquityNatureAll": pd.read_parquet(job.input["equity"]),
        "QUA_Qualification": pd.read_parquet(job.input["qualifications"]),
        "PT_LCRDSPENDING": pd.read_parquet(job.input["rd"]),
        "FN_RegionRevenue": pd.read_parquet(job.input["region"]),
    }
    out, notes = attributes.firm_attributes(
        df, tables, read_csv_config(job.input["intensity"]), job.input["intensity"]
    )
    atomic.write_parquet(out, job.output["attributes"])
    atomic.write_csv(notes, job.output["notes"])


def analysis_panel(job: Job) -> None:
    from intelcap.ingest.panel import Attrition

    df = pd.read_parquet(job.input["panel"])
    notes = pd.concat(
        [
            pd.read_csv(f, keep_default_na=False)
            for f in [*paths(job.input["reader_notes"]), *paths(job.input["notes"])]
        ],
        ignore_index=True,
    )
    att = Attrition(
        rows=pd.read_csv(job.input["attrition"]).to_dict("records"), notes=notes.to_dict("records")
    )
    cu = pd.read_parquet(job.input["cu"])[["Stkcd", "year", "CU", "lnCU"]]
    rob = pd.read_parquet(job.input["robots"])[
        ["Stkcd", "year", "lnINT", "lnINTUS", "L_lnINT", "base_year_imputed"]
    ]
    df = df.merge(cu, on=["Stkcd", "year"], how="left", validate="1:1")
    df = df.merge(rob, on=["Stkcd", "year"], how="left", validate="1:1")
    df = att.apply(
        df, df["lnINT"].isna(), "robot exposure undefined (no employee-structure data in any year)"
    )
    df = att.apply(df, df["lnCU"].isna(), "capacity utilization not estimable")
    atomic.write_parquet(
        df.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True), job.output["panel"]
    )
    atomic.write_csv(att.frame(), job.output["attrition"])
    atomic.write_csv(att.notes_frame(), job.output["notes"])
