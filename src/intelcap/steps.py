"""Workflow steps: one function per rule, taking a `runner.Job`. Logic lives in the method modules; these
functions only read inputs, call them and write outputs atomically."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap import atomic
from intelcap.runner import Job

log = logging.getLogger("intelcap")


def _read_csv_config(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def table_style(config: dict, title: str, **kw):
    """The display style of a table from config `output` (language, SE or t, digits) and labels.yaml."""
    from intelcap.tables import TableStyle

    out = config.get("output", {})
    return TableStyle(lang=out.get("lang", "zh"), paren=out.get("paren", "se"), digits=int(out.get("digits", 3)),
                      title=title, labels_path=config.get("paths", {}).get("labels"), **kw)


def rendered(outputs: dict) -> dict:
    """The rendered formats among a rule's outputs (md/tex/docx); CSV is written by the step itself."""
    return {k: v for k, v in outputs.items() if k in ("md", "tex", "docx")}


def _json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=float) + "\n"


# ---------------------------------------------------------------- data
def synthesize(job: Job) -> None:
    from intelcap import synth

    out_dir = Path(job.params["out_dir"])
    truth = synth.write_all(job.config, out_dir, _read_csv_config(job.input["crosswalk"]))
    log.info("synthetic data written to %s; true beta(lnINT) = %s", out_dir,
             truth["estimands"]["lnINT_on_lnCU_true"])


def read_table(job: Job) -> None:
    from intelcap import io

    table = job.wildcards["table"]
    df = io.load_table(job.input["table"], job.config["csmar"][table], table)
    log.info("%s: %d rows after keeping consolidated year-end statements", table, len(df))
    atomic.write_parquet(df, job.output["parquet"])


def read_ifr(job: Job) -> None:
    from intelcap import io

    robots, emp = io.read_ifr(job.input["robots"], job.input["employment"])
    atomic.write_parquet(robots, job.output["robots"])
    atomic.write_parquet(emp, job.output["employment"])


# ---------------------------------------------------------------- panel
def build_panel(job: Job) -> None:
    from intelcap import panel

    tables = {}
    for name, path in zip(job.params["tables"], job.input["tables"], strict=True):
        df = pd.read_parquet(path)
        df.attrs["file"] = str(Path(job.params["raw_files"][name]))
        tables[name] = df
    df, att = panel.build_panel(tables, job.config, _read_csv_config(job.input["crosswalk"]),
                                _read_csv_config(job.input["regions"]))
    atomic.write_parquet(df, job.output["panel"])
    atomic.write_csv(att.frame(), job.output["attrition"])
    atomic.write_csv(att.notes_frame(), job.output["notes"])


def winsorize(job: Job) -> None:
    from intelcap import panel

    df = pd.read_parquet(job.input["panel"])
    df = df.merge(pd.read_parquet(job.input["attributes"]), on=["Stkcd", "year"], how="left", validate="1:1")
    w = job.config["winsor"]
    out, cutoffs = panel.winsorize(df, list(w["vars"]), tuple(w["cuts"]), bool(w["by_year"]))
    atomic.write_parquet(out, job.output["panel"])
    atomic.write_csv(cutoffs, job.output["cutoffs"])


def firm_attributes(job: Job) -> None:
    from intelcap import attributes

    df = pd.read_parquet(job.input["panel"])
    tables = {"EN_EquityNatureAll": pd.read_parquet(job.input["equity"]),
              "QUA_Qualification": pd.read_parquet(job.input["qualifications"]),
              "PT_LCRDSPENDING": pd.read_parquet(job.input["rd"]),
              "FN_RegionRevenue": pd.read_parquet(job.input["region"])}
    out, notes = attributes.firm_attributes(df, tables, _read_csv_config(job.input["intensity"]),
                                            job.input["intensity"])
    atomic.write_parquet(out, job.output["attributes"])
    atomic.write_csv(notes, job.output["notes"])


# ---------------------------------------------------------------- measures
def capacity_utilization(job: Job) -> None:
    from intelcap import cu

    df = pd.read_parquet(job.input["panel"])
    c = job.config["cu"]
    res, diag = cu.estimate_cu(df[["Stkcd", "year", "industry", "Y", "K", "L"]], c["method"],
                               predictor=c["predictor"], on_wrong_skew=c["on_wrong_skew"])
    star = np.log(df["Y"] / df["K"])
    res = res.merge(pd.DataFrame({"Stkcd": df["Stkcd"], "year": df["year"], "lnCU_star": star}),
                    on=["Stkcd", "year"], how="left", validate="1:1")
    atomic.write_parquet(res, job.output["cu"])
    atomic.write_text(job.output["fit"], _json(diag))


def robot_exposure(job: Job) -> None:
    from intelcap import robots

    df = pd.read_parquet(job.input["panel"])
    exp, info = robots.robot_exposure(df, pd.read_parquet(job.input["ifr"]), pd.read_parquet(job.input["employment"]),
                                      pd.read_parquet(job.input["emp_structure"]), job.config["robots"])
    atomic.write_parquet(exp, job.output["robots"])
    atomic.write_text(job.output["info"], _json(info))


# ---------------------------------------------------------------- analysis panel
def analysis_panel(job: Job) -> None:
    from intelcap.panel import Attrition

    df = pd.read_parquet(job.input["panel"])
    notes = pd.concat([pd.read_csv(f, keep_default_na=False) for f in job.input["notes"]], ignore_index=True)
    att = Attrition(rows=pd.read_csv(job.input["attrition"]).to_dict("records"), notes=notes.to_dict("records"))
    cu = pd.read_parquet(job.input["cu"])[["Stkcd", "year", "CU", "lnCU"]]
    rob = pd.read_parquet(job.input["robots"])[["Stkcd", "year", "lnINT", "lnINTUS", "L_lnINT",
                                                 "base_year_imputed"]]
    df = df.merge(cu, on=["Stkcd", "year"], how="left", validate="1:1")
    df = df.merge(rob, on=["Stkcd", "year"], how="left", validate="1:1")
    extras = job.input.get("extras", [])
    for extra in [extras] if isinstance(extras, str) else extras:
        df = df.merge(pd.read_parquet(extra), on=["Stkcd", "year"], how="left", validate="1:1")
    df = att.apply(df, df["lnINT"].isna(), "robot exposure undefined (no employee-structure data in any year)")
    df = att.apply(df, df["lnCU"].isna(), "capacity utilization not estimable")
    atomic.write_parquet(df.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True),
                         job.output["panel"])
    frame = att.frame()
    atomic.write_csv(frame, job.output["attrition_csv"])
    atomic.write_csv(att.notes_frame(), job.output["notes_csv"])
    from intelcap import tables

    tables.write_table("frame", frame, {"md": job.output["attrition_md"]}, table_style(job.config, "attrition"))


# ---------------------------------------------------------------- tables
TABLE1_VARS = ["lnCU", "lnINT", "ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]


def table1(job: Job) -> None:
    from intelcap import estimate, tables

    df = pd.read_parquet(job.input["panel"])
    variables = [v for v in TABLE1_VARS + job.params.get("mechanisms", []) if v in df.columns]
    desc = estimate.descriptive_table(df, variables)
    atomic.write_csv(desc, job.output["csv"])
    tables.write_table("descriptive", desc, rendered(job.output), table_style(job.config, "table1"))


def regression_table(job: Job) -> None:
    from intelcap import estimate, tables

    df = pd.read_parquet(job.input["panel"])
    name = job.params["table"]
    specs = [estimate.ModelSpec.from_dict(m) for m in job.config["tables"][name]]
    res = estimate.regression_table(df, specs, job.config["controls"], job.config["cluster"])
    atomic.write_csv(res, job.output["csv"])
    tables.write_table("regression", res, rendered(job.output), table_style(job.config, name))
