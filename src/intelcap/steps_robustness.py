"""Workflow steps of the robustness stage (rules/robustness.smk): one function per rule, taking a `runner.Job`.

Logic lives in `intelcap.robustness`; these functions only read inputs, call it and write outputs atomically.
Configuration: the `robustness:` block of config/config.yaml (docs/robustness.md).
"""

from __future__ import annotations

import logging
import math

import pandas as pd

from intelcap import atomic
from intelcap.runner import Job
from intelcap.steps import _json, _read_csv_config, rendered, table_style

log = logging.getLogger("intelcap")


def _rob(job: Job) -> dict:
    return job.config["robustness"]


def _model(config: dict, ref: dict):
    """The ModelSpec named by {table: tableN, model: "(k)"} in config `tables`."""
    from intelcap.errors import InputError
    from intelcap.estimate import ModelSpec

    models = config["tables"][ref["table"]]
    hit = [m for m in models if m["name"] == ref["model"]]
    if not hit:
        raise InputError(f"robustness: model {ref['model']!r} not in tables.{ref['table']}",
                         column="robustness", hint=f"models: {[m['name'] for m in models]}")
    return ModelSpec.from_dict(hit[0])


def _paths(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# ---------------------------------------------------------------- 1. inference table
def inference_table(job: Job) -> None:
    from intelcap import robustness, tables

    cfg = _rob(job)["inference"]
    df = pd.read_parquet(job.input["panel"])
    models = [(cfg["baseline"]["label"], _model(job.config, cfg["baseline"])),
              (cfg["iv"]["label"], _model(job.config, cfg["iv"]))]
    res = robustness.inference_table(df, models, job.config["controls"], job.config["cluster"],
                                     cfg["industry"], int(cfg["bootstrap_reps"]), int(job.config["seed"]),
                                     float(cfg["level"]))
    for r in res.itertuples():
        log.info("%s / %s: b = %.5f, se = %.5f, p = %.4g, CI %s", r.model, r.method, r.estimate, r.std_error,
                 r.p_value, r.ci_text)
    atomic.write_csv(res, job.output["csv"])
    tables.write_table("frame", robustness.inference_display(res), rendered(job.output),
                       table_style(job.config, "inference"))


# ---------------------------------------------------------------- 2. Monte Carlo
def mc_shard(job: Job) -> None:
    from intelcap import robustness

    mc = _rob(job)["monte_carlo"]
    scenario = job.wildcards["scenario"]
    shard = int(job.wildcards["shard"])
    out = robustness.mc_shard(shard, int(mc["shard_size"]), int(job.params["seed"]), scenario,
                              dict(mc["scenarios"][scenario] or {}), job.config,
                              _read_csv_config(job.input["crosswalk"]), _read_csv_config(job.input["regions"]),
                              int(mc["bootstrap_reps"]), float(mc["level"]))
    log.info("scenario %s shard %d: %d rows, status %s", scenario, shard, len(out),
             out.drop_duplicates("rep")["status"].value_counts().to_dict())
    atomic.write_parquet(out, job.output["shard"])


def mc_coverage(job: Job) -> None:
    from intelcap import figures, robustness, tables

    mc = _rob(job)["monte_carlo"]
    reps = int(mc["reps"])
    draws = pd.concat([pd.read_parquet(p) for p in _paths(job.input["shards"])], ignore_index=True)
    summary = robustness.coverage_summary(draws, reps)
    atomic.write_csv(summary, job.output["csv"])
    show = summary[["scenario", "estimator", "method", "n_reps", "coverage_beta", "coverage_ame", "mean_se",
                    "sd_estimate", "mean_estimate", "mean_true_ame", "bias_vs_beta"]]
    tables.write_table("frame", show, {"md": job.output["md"]}, table_style(job.config, "Monte Carlo coverage"))
    target = mc.get("figure_target", "beta")
    fig = summary[summary["estimator"] == mc.get("figure_estimator", "two_step")]
    fig = pd.DataFrame({"scenario": fig["scenario"], "method": fig["method"],
                        "coverage": fig[f"coverage_{target}"], "n_reps": fig["n_reps"]})
    figures.figure_coverage(fig, {"png": job.output["png"], "pdf": job.output["pdf"]},
                            lang=job.config["output"]["lang"], nominal=float(mc["level"]))


# ---------------------------------------------------------------- 3. placebo
def _baseline_data(job: Job):
    from intelcap import robustness

    cfg = _rob(job)["inference"]
    df = pd.read_parquet(job.input["panel"])
    return robustness.model_data(df, _model(job.config, cfg["baseline"]), job.config["controls"], cfg["industry"],
                                 job.config["cluster"])


def placebo_shard(job: Job) -> None:
    from intelcap import robustness

    md = _baseline_data(job)
    mode, shard = job.wildcards["mode"], int(job.wildcards["shard"])
    out, _ = robustness.placebo_shard(md, mode, shard, int(job.params["shard_size"]), int(job.params["seed"]))
    log.info("placebo %s shard %d: %d draws, mean %.5f", mode, shard, len(out), out["coef"].mean())
    atomic.write_parquet(out, job.output["draws"])


def placebo_summary(job: Job) -> None:
    from intelcap import figures, robustness, tables

    K = int(_rob(job)["placebo"]["reps"])
    draws = pd.concat([pd.read_parquet(p) for p in _paths(job.input["draws"])], ignore_index=True)
    draws = draws[draws["draw"] < K].sort_values(["mode", "draw"], kind="stable").reset_index(drop=True)
    summary = robustness.placebo_summary(draws, K)
    atomic.write_csv(draws, job.output["draws"])
    atomic.write_csv(summary, job.output["csv"])
    tables.write_table("frame", summary, {"md": job.output["md"]}, table_style(job.config, "Placebo reassignment"))
    lang = job.config["output"]["lang"]
    for row in summary.itertuples():
        b = draws.loc[draws["mode"] == row.mode, "coef"].to_numpy()
        figures.figure_placebo(b, row.actual, {"png": job.output[f"png_{row.mode}"],
                                               "pdf": job.output[f"pdf_{row.mode}"]},
                               lang=lang, p_value=row.p_empirical)


# ---------------------------------------------------------------- 4. specification curve
def cu_variant(job: Job) -> None:
    from intelcap import cu

    df = pd.read_parquet(job.input["panel"])
    c = job.config["cu"]
    method = job.wildcards["method"]
    res, diag = cu.estimate_cu(df[["Stkcd", "year", "industry", "Y", "K", "L"]], method,
                               predictor=c["predictor"], on_wrong_skew=c["on_wrong_skew"])
    log.info("CU %s: mean lnCU %.4f", method, diag["mean_lnCU"])
    atomic.write_parquet(res, job.output["cu"])


def spec_curve_shard(job: Job) -> None:
    from intelcap import robustness

    sc = _rob(job)["spec_curve"]
    cu_name, winsor_name = job.wildcards["cu"], job.wildcards["winsor"]
    w = job.config["winsor"]
    df = robustness.spec_panel(pd.read_parquet(job.input["panel"]), pd.read_parquet(job.input["attributes"]),
                               pd.read_parquet(job.input["robots"]), pd.read_parquet(job.input["cu"]),
                               sc["winsor"][winsor_name], list(w["vars"]), bool(w["by_year"]))
    out = robustness.spec_curve_shard(df, cu_name, winsor_name, sc, job.config["controls"], job.config["cluster"],
                                      float(sc.get("level", 0.95)))
    log.info("spec curve %s/%s: %d specs, %d collinear", cu_name, winsor_name, len(out),
             int((out["status"] != "ok").sum()))
    atomic.write_parquet(out, job.output["specs"])


def spec_curve(job: Job) -> None:
    from intelcap import figures

    specs = pd.concat([pd.read_parquet(p) for p in _paths(job.input["specs"])], ignore_index=True)
    atomic.write_csv(specs, job.output["csv"])
    ok = specs[specs["status"] == "ok"].drop(columns=["status", "fixed_effects"])
    figures.figure_spec_curve(ok, {"png": job.output["png"], "pdf": job.output["pdf"]},
                              lang=job.config["output"]["lang"],
                              choices=["cu", "winsor", "controls", "fe", "sample"])


# ---------------------------------------------------------------- 5. one-step SFA
def one_step_sfa(job: Job) -> None:
    from intelcap import robustness, tables

    cfg = _rob(job)["one_step"]
    df = pd.read_parquet(job.input["panel"])
    z = list(cfg["z"]) if cfg.get("z") else ["lnINT", *job.config["controls"]]
    out, diag = robustness.one_step_sfa(df, z, cfg.get("form", "cobb_douglas"))
    t2 = pd.read_csv(job.input["table2"])
    ref = _rob(job)["inference"]["baseline"]
    hit = t2[(t2["model"] == ref["model"]) & (t2["term"] == "lnINT")]
    if not hit.empty:
        out = pd.concat([out, pd.DataFrame([{"parameter": f"two_step_beta_{ref['table']}_{ref['model']}",
                                             "estimate": float(hit["estimate"].iloc[0]),
                                             "std_error": float(hit["std_error"].iloc[0]),
                                             "note": "two-step: BC92 SFA predictor, then TWFE (firm-clustered)",
                                             "nobs": int(hit["nobs"].iloc[0])}])], ignore_index=True)
    log.info("BC95: %s", diag)
    atomic.write_csv(out, job.output["csv"])
    atomic.write_text(job.output["fit"], _json(diag))
    tables.write_table("frame", out, {"md": job.output["md"]}, table_style(job.config, "One-step SFA (BC95)"))


def n_shards(total: int, size: int) -> int:
    return max(1, math.ceil(int(total) / int(size)))


__all__ = ["inference_table", "mc_shard", "mc_coverage", "placebo_shard", "placebo_summary", "cu_variant",
           "spec_curve_shard", "spec_curve", "one_step_sfa", "n_shards"]
