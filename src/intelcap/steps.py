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


def load_analysis_panel(job: Job) -> pd.DataFrame:
    """The analysis panel plus the table-specific measures (DEA efficiency, text index) listed as inputs."""
    df = pd.read_parquet(job.input["panel"])
    measures = job.input.get("measures", [])
    from intelcap import panel

    for path in [measures] if isinstance(measures, str) else measures:
        m = pd.read_parquet(path)
        keep = ["Stkcd", "year"] + [c for c in m.columns if c not in df.columns]
        df = panel.merge_measure(df, m[keep], Path(path).stem)   # counts unmatched rows, never drops silently
    return df


def _json(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=float) + "\n"


# ---------------------------------------------------------------- data
def synthesize(job: Job) -> None:
    from intelcap import synth

    out_dir = Path(job.params["out_dir"])
    truth = synth.write_vendor_files(job.config, out_dir, _read_csv_config(job.input["crosswalk"]))
    log.info("synthetic vendor files written to %s; true beta(lnINT) = %s", out_dir,
             truth["estimands"]["lnINT_on_lnCU_true"])


def synthesize_reports(job: Job) -> None:
    from intelcap import synth

    folder = synth.write_report_corpus(job.config, job.params["out_dir"], _read_csv_config(job.input["crosswalk"]))
    log.info("synthetic annual reports written to %s", folder)


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

    df = pd.read_parquet(job.input["panel"], columns=["Stkcd", "year", "industry"])   # all it needs (RSS at 4M)
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

    df = load_analysis_panel(job)
    variables = [v for v in TABLE1_VARS + job.params.get("mechanisms", []) if v in df.columns]
    desc = estimate.descriptive_table(df, variables)
    atomic.write_csv(desc, job.output["csv"])
    tables.write_table("descriptive", desc, rendered(job.output), table_style(job.config, "table1"))


def _configured_table(job: Job):
    """Fit the models of `params.table` (config `tables:`) on the analysis panel; returns panel, specs, rows."""
    from intelcap import estimate

    df = load_analysis_panel(job)
    specs = [estimate.ModelSpec.from_dict(m) for m in job.config["tables"][job.params["table"]]]
    res = estimate.regression_table(df, specs, job.config["controls"], job.config["cluster"])
    return df, specs, res


def _write_regression(job: Job, res: pd.DataFrame, **style) -> None:
    from intelcap import tables

    atomic.write_csv(res, job.output["csv"])
    tables.write_table("regression", res, rendered(job.output), table_style(job.config, job.params["table"], **style))


def regression_table(job: Job) -> None:
    _, _, res = _configured_table(job)
    _write_regression(job, res)


def iv_table(job: Job) -> None:
    """Table 4: first stage and 2SLS, with first-stage F, effective F and the Anderson-Rubin set."""
    from intelcap import estimate

    df, specs, res = _configured_table(job)
    controls, cluster = job.config["controls"], job.config["cluster"]
    level = float(job.config.get("heterogeneity", {}).get("ar_level", 0.95))
    stats_rows = [r for s in specs if s.endog for r in estimate.iv_statistics(df, s, controls, cluster, level)]
    res = pd.concat([res, pd.DataFrame(stats_rows, columns=estimate.RESULT_COLUMNS)], ignore_index=True)
    _write_regression(job, res, term_digits={"lnINTUS": 4})


def heterogeneity_table(job: Job) -> None:
    """Table 6 and its group-difference tests (interacted model, permutation)."""
    from intelcap import estimate, tables

    df, specs, res = _configured_table(job)
    controls, cluster = job.config["controls"], job.config["cluster"]
    groups = (("ownership", 2), ("region", 3), ("industry", 2), ("intensity", 3)) if len(specs) == 10 else None
    _write_regression(job, res, column_groups=groups)
    het = job.config["heterogeneity"]
    diff = estimate.group_differences(df, het["pairs"], specs[0].depvar, specs[0].regressors[0], controls,
                                      cluster, int(het["permutation_reps"]), int(job.config["seed"]))
    atomic.write_csv(diff, job.output["diff_csv"])
    tables.write_table("frame", diff.drop(columns=["seed"]), {"md": job.output["diff_md"]},
                       table_style(job.config, f"{job.params['table']}_differences"))
    if "coefplot_png" in job.output:
        from intelcap import figures

        # drawn from the CSV just written, so the figure shows exactly the published numbers
        t6 = pd.read_csv(job.output["csv"], keep_default_na=False, na_values=[""])
        figures.figure_coefplot(t6, {"png": job.output["coefplot_png"], "pdf": job.output["coefplot_pdf"]},
                                lang=job.config["output"]["lang"], labels_path=job.config["paths"]["labels"])


def keyword_table(job: Job) -> None:
    """Table 7: the keyword dictionary, rendered from config/keywords.yaml."""
    from intelcap import tables

    cats = tables.load_keywords(job.input["keywords"])
    long = pd.DataFrame([(c, i + 1, k) for c, ks in cats.items() for i, k in enumerate(ks)],
                        columns=["category", "order", "keyword"])
    atomic.write_csv(long, job.output["csv"])
    tables.write_table("keywords", cats, rendered(job.output), table_style(job.config, "table7"))


def dea_efficiency(job: Job) -> None:
    from intelcap import dea

    df = pd.read_parquet(job.input["panel"])
    c = job.config["dea"]
    out = dea.efficiency_panel(df, frontier=c["frontier"], rts=c["rts"], orientation=c["orientation"],
                               super_efficiency=bool(c["super_efficiency"]))
    log.info("DEA: %d DMUs, status counts %s", len(out), out["dea_status"].value_counts().to_dict())
    atomic.write_parquet(out, job.output["dea"])


def text_shard(job: Job) -> None:
    from intelcap import text

    shard = int(job.wildcards["shard"])
    paths = text.shard_reports(job.input["reports"], int(job.params["n_shards"]))[shard]
    spec = text.load_keywords(job.input["keywords"])
    counts, rlog = text.count_reports(paths, spec)
    log.info("shard %d: %d reports, status %s", shard, len(rlog), rlog["status"].value_counts().to_dict())
    atomic.write_parquet(counts, job.output["counts"])
    atomic.write_csv(rlog, job.output["log"])


def text_index(job: Job) -> None:
    from intelcap import text

    counts = pd.concat([pd.read_parquet(p) for p in job.input["counts"]], ignore_index=True)
    rlog = pd.concat([pd.read_csv(p, dtype={"Stkcd": str}, keep_default_na=False) for p in job.input["logs"]],
                     ignore_index=True)
    rlog["year"] = pd.to_numeric(rlog["year"], errors="coerce").astype("Int64")
    counts = counts.sort_values(["Stkcd", "year", "category", "keyword"], kind="stable").reset_index(drop=True)
    rlog = rlog.sort_values("file", kind="stable").reset_index(drop=True)
    index = text.text_index(counts, rlog)
    atomic.write_parquet(counts, job.output["counts"])
    atomic.write_parquet(index, job.output["index"])
    atomic.write_csv(rlog, job.output["log"])
    # names and reasons only: shareable, and what a user must fix or accept
    atomic.write_csv(rlog[rlog["status"] != "ok"][["file", "status", "reason"]], job.output["unreadable"])


# ---------------------------------------------------------------- figures and comparison
def _figure_paths(job: Job) -> dict:
    return {k: v for k, v in job.output.items() if k in ("png", "pdf", "svg")}


def rulegraph(job: Job) -> None:
    """The workflow's own rule graph (Figure 1), asked of Snakemake without running anything."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "snakemake", "--rulegraph", "--nolock", "--quiet", "all",
           "--snakefile", job.input["snakefile"]]
    if job.params["raw_dir"]:
        cmd += ["--config", f"raw_dir={job.params['raw_dir']}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "digraph" not in proc.stdout:
        raise RuntimeError(f"snakemake --rulegraph failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    atomic.write_text(job.output["dot"], proc.stdout[proc.stdout.index("digraph"):])


def figure1(job: Job) -> None:
    from intelcap import figures

    dot = Path(job.input["dot"]).read_text(encoding="utf-8")
    figures.figure_rulegraph(dot, _figure_paths(job), lang=job.config["output"]["lang"])


def figure2(job: Job) -> None:
    from intelcap import figures

    figures.figure_installations(job.input["installations"], _figure_paths(job), lang=job.config["output"]["lang"],
                                 vintage=job.params["vintage"])


def paper_vs_replication(job: Job) -> None:
    import yaml

    from intelcap import compare, tables

    paper = yaml.safe_load(Path(job.input["paper"]).read_text(encoding="utf-8"))
    ours = {Path(p).stem: pd.read_csv(p) for p in job.input["tables"]}
    truth_in = job.input.get("truth", [])
    truth_path = truth_in if isinstance(truth_in, str) else (truth_in[0] if truth_in else None)
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8")) if truth_path else None
    cmp = compare.paper_vs_replication(paper, ours, truth)
    atomic.write_csv(cmp, job.output["csv"])
    implied = compare.implied_lncu_means(paper)
    atomic.write_csv(implied, job.output["implied"])
    lang = job.config["output"]["lang"]
    note = ("Table 1 reports mean lnCU = 2.414 (max 6.399), impossible for ln of CU in (0, 1]; the constants of "
            "Table 2 imply mean lnCU of " + ", ".join(f"{v:.3f}" for v in implied["implied_mean_lnCU"])
            + " (docs/methods.md#table1-lncu). The replication's lnCU is the log of a frontier CU.")
    if lang == "zh":
        note = ("表1中 lnCU 的均值为 2.414（最大值 6.399），不可能是 (0,1] 区间内产能利用率的对数；由表2常数项推算的 lnCU 均值为 "
                + "、".join(f"{v:.3f}" for v in implied["implied_mean_lnCU"])
                + "（见 docs/methods.md#table1-lncu）。")
    tables.write_table("frame", cmp, {"md": job.output["md"]}, table_style(job.config, "comparison", notes=[note]))
