"""Steps of rules/robustness.smk: few-cluster and shift-share inference, the Monte Carlo audit, placebo
reassignment, the specification curve and the one-step BC95 frontier (docs/robustness.md). Figures and
Markdown views are rendering jobs (`render`): this stage never reads presentation settings."""

from __future__ import annotations

import logging

import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import as_json, paths, read_csv_config

log = logging.getLogger("intelcap")


def _rob(job: Job) -> dict:
    return job.config["robustness"]


def _model(config: dict, ref: dict):
    """The ModelSpec named by {table: tableN, model: "(k)"} in config `tables`."""
    from intelcap.econometrics.estimate import ModelSpec
    from intelcap.errors import InputError

    models = config["tables"][ref["table"]]
    hit = [m for m in models if m["name"] == ref["model"]]
    if not hit:
        raise InputError(
            f"robustness: model {ref['model']!r} not in tables.{ref['table']}",
            column="robustness.inference",
            hint=f"models: {[m['name'] for m in models]}",
        )
    return ModelSpec.from_dict(hit[0])


def inference_table(job: Job) -> None:
    from intelcap.econometrics import robustness

    cfg = _rob(job)["inference"]
    df = pd.read_parquet(job.input["panel"])
    models = [
        (cfg["baseline"]["label"], _model(job.config, cfg["baseline"])),
        (cfg["iv"]["label"], _model(job.config, cfg["iv"])),
    ]
    res = robustness.inference_table(
        df,
        models,
        job.config["controls"],
        job.config["cluster"],
        cfg["industry"],
        int(cfg["bootstrap_reps"]),
        int(job.config["seed"]),
        float(cfg["level"]),
    )
    for r in res.itertuples():
        log.info(
            "%s / %s: b = %.5f, se = %.5f, p = %.4g, CI %s",
            r.model,
            r.method,
            r.estimate,
            r.std_error,
            r.p_value,
            r.ci_text,
        )
    atomic.write_csv(res, job.output["csv"])


def mc_shard(job: Job) -> None:
    from intelcap.econometrics import robustness

    mc = _rob(job)["monte_carlo"]
    scenario = job.wildcards["scenario"]
    shard = int(job.wildcards["shard"])
    setup = robustness.MonteCarloScenario(
        scenario,
        dict(mc["scenarios"][scenario] or {}),
        job.config,
        read_csv_config(job.input["crosswalk"]),
        read_csv_config(job.input["regions"]),
        int(mc["bootstrap_reps"]),
        float(mc["level"]),
    )
    out = robustness.mc_shard(shard, int(mc["shard_size"]), int(job.config["seed"]), setup)
    log.info(
        "scenario %s shard %d: %d rows, status %s",
        scenario,
        shard,
        len(out),
        out.drop_duplicates("rep")["status"].value_counts().to_dict(),
    )
    atomic.write_parquet(out, job.output["shard"])


def mc_coverage(job: Job) -> None:
    from intelcap.econometrics import robustness

    draws = pd.concat([pd.read_parquet(p) for p in paths(job.input["shards"])], ignore_index=True)
    atomic.write_csv(
        robustness.coverage_summary(draws, int(_rob(job)["monte_carlo"]["reps"])), job.output["csv"]
    )


def _baseline_data(job: Job):
    from intelcap.econometrics import robustness

    cfg = _rob(job)["inference"]
    df = pd.read_parquet(job.input["panel"])
    return robustness.model_data(
        df,
        _model(job.config, cfg["baseline"]),
        job.config["controls"],
        cfg["industry"],
        job.config["cluster"],
    )


def placebo_shard(job: Job) -> None:
    from intelcap.econometrics import robustness

    md = _baseline_data(job)
    mode, shard = job.wildcards["mode"], int(job.wildcards["shard"])
    out, _ = robustness.placebo_shard(
        md, mode, shard, int(_rob(job)["placebo"]["shard_size"]), int(job.config["seed"])
    )
    log.info("placebo %s shard %d: %d draws, mean %.5f", mode, shard, len(out), out["coef"].mean())
    atomic.write_parquet(out, job.output["draws"])


def placebo(job: Job) -> None:
    from intelcap.econometrics import robustness

    K = int(_rob(job)["placebo"]["reps"])
    draws = pd.concat([pd.read_parquet(p) for p in paths(job.input["draws"])], ignore_index=True)
    draws = draws[draws["draw"] < K].sort_values(["mode", "draw"], kind="stable").reset_index(drop=True)
    atomic.write_csv(draws, job.output["draws"])
    atomic.write_csv(robustness.placebo_summary(draws, K), job.output["csv"])


def cu_variant(job: Job) -> None:
    from intelcap.measures import cu

    df = pd.read_parquet(job.input["panel"])
    c = job.config["cu"]
    method = job.wildcards["method"]
    res, diag = cu.estimate_cu(
        df[["Stkcd", "year", "industry", "Y", "K", "L"]],
        method,
        predictor=c["predictor"],
        on_wrong_skew=c["on_wrong_skew"],
    )
    log.info("CU %s: mean lnCU %.4f", method, diag["mean_lnCU"])
    atomic.write_parquet(res, job.output["cu"])


def spec_curve_shard(job: Job) -> None:
    from intelcap.econometrics import robustness

    sc = _rob(job)["spec_curve"]
    cu_name, winsor_name = job.wildcards["cu"], job.wildcards["winsor"]
    w = job.config["winsor"]
    df = robustness.spec_panel(
        pd.read_parquet(job.input["panel"]),
        pd.read_parquet(job.input["attributes"]),
        pd.read_parquet(job.input["robots"]),
        pd.read_parquet(job.input["cu"]),
        sc["winsor"][winsor_name],
        list(w["vars"]),
        bool(w["by_year"]),
    )
    out = robustness.spec_curve_shard(
        df, cu_name, winsor_name, sc, job.config["controls"], job.config["cluster"], float(sc["level"])
    )
    missing = out.loc[out["status"] != "ok", "reason"].value_counts(sort=False).to_dict()
    log.info(
        "spec curve %s/%s: %d specs, %d without an estimate %s (reasons in spec_curve.csv)",
        cu_name,
        winsor_name,
        len(out),
        int((out["status"] != "ok").sum()),
        missing,
    )
    atomic.write_parquet(out, job.output["specs"])


def spec_curve(job: Job) -> None:
    specs = pd.concat([pd.read_parquet(p) for p in paths(job.input["specs"])], ignore_index=True)
    atomic.write_csv(specs, job.output["csv"])


def one_step_sfa(job: Job) -> None:
    from intelcap.econometrics import robustness

    cfg = _rob(job)["one_step"]
    df = pd.read_parquet(job.input["panel"])
    z = list(cfg["z"]) if cfg["z"] else ["lnINT", *job.config["controls"]]
    out, diag = robustness.one_step_sfa(df, z, cfg["form"])
    t2 = pd.read_csv(job.input["table2"])
    ref = _rob(job)["inference"]["baseline"]
    hit = t2[(t2["model"] == ref["model"]) & (t2["term"] == "lnINT")]
    if not hit.empty:
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    [
                        {
                            "parameter": f"two_step_beta_{ref['table']}_{ref['model']}",
                            "estimate": float(hit["estimate"].iloc[0]),
                            "std_error": float(hit["std_error"].iloc[0]),
                            "note": "two-step: BC92 SFA predictor, then TWFE (firm-clustered)",
                            "nobs": int(hit["nobs"].iloc[0]),
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
    log.info("BC95: %s", diag)
    atomic.write_csv(out, job.output["csv"])
    atomic.write_text(job.output["fit"], as_json(diag))
