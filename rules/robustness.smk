# Beyond the paper (docs/robustness.md): few-cluster and shift-share inference, a Monte Carlo audit of that
# inference, placebo reassignment, a specification curve and the one-step BC95 frontier.
# Sharded stages name their shards by their own parameters, so raising a count or adding a dimension value
# adds shards and reruns only the aggregator.


rule robustness:
    input:
        robustness_targets(),


rule inference_table:
    input:
        panel="results/data/analysis_panel.parquet",
        code=ROB_CODE,
        labels=config["paths"]["labels"],
    output:
        csv=report("results/tables/inference.csv", caption="../report/inference.rst", category="Robustness"),
        md="results/tables/inference.md",
        tex="results/tables/inference.tex",
        docx="results/tables/inference.docx",
    params:
        inference=ROB["inference"],
        models=[rob_model("baseline"), rob_model("iv")],
        controls=canonical(config["controls"]),
        seed=config["seed"],
    log:
        "logs/robustness/inference_table.log",
    benchmark:
        "benchmarks/out/robustness/inference_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        ENV
    script:
        "../scripts/rob_inference_table.py"


rule mc_shard:
    input:
        crosswalk=config["paths"]["crosswalk"],
        regions=config["paths"]["regions"],
        code=ROB_CODE + code("synth", "io", "panel", "robots", "cu"),
    output:
        shard="results/robustness/mc/{scenario}/shard_{shard}.parquet",
    params:
        # everything a shard's draws depend on, and nothing else (not `reps`): raising reps adds shards only
        seed=config["seed"],
        shard_size=ROB_MC["shard_size"],
        scenario=lambda wc: ROB_MC["scenarios"][wc.scenario],
        bootstrap_reps=ROB_MC["bootstrap_reps"],
        level=ROB_MC["level"],
        synth=canonical(config["synth"]),
        cu=canonical(config["cu"]),
        winsor=canonical(config["winsor"]),
        robots=canonical(config["robots"]),
        sample=canonical(config["sample"]),
    wildcard_constraints:
        scenario="|".join(ROB_MC["scenarios"]),
        shard=r"\d+",
    log:
        "logs/robustness/mc/{scenario}_{shard}.log",
    benchmark:
        "benchmarks/out/robustness/mc/{scenario}_{shard}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/rob_mc_shard.py"


rule mc_coverage:
    input:
        shards=mc_shard_files(),
        code=ROB_CODE + code("figures"),
    output:
        csv="results/tables/coverage.csv",
        md="results/tables/coverage.md",
        png=report("results/figures/coverage.png", caption="../report/coverage.rst", category="Robustness"),
        pdf="results/figures/coverage.pdf",
    params:
        monte_carlo=ROB_MC,
        output=canonical(config["output"]),
    log:
        "logs/robustness/mc_coverage.log",
    benchmark:
        "benchmarks/out/robustness/mc_coverage.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/rob_mc_coverage.py"


rule placebo_shard:
    input:
        panel="results/data/analysis_panel.parquet",
        code=ROB_CODE,
    output:
        draws="results/robustness/placebo/{mode}_{shard}.parquet",
    params:
        # not `reps`: a shard depends on (data, mode, shard, shard_size, seed, model) only
        seed=config["seed"],
        shard_size=ROB_PLACEBO["shard_size"],
        baseline=rob_model("baseline"),
        controls=canonical(config["controls"]),
        industry=ROB["inference"]["industry"],
    wildcard_constraints:
        mode="firm|industry",
        shard=r"\d+",
    log:
        "logs/robustness/placebo/{mode}_{shard}.log",
    benchmark:
        "benchmarks/out/robustness/placebo/{mode}_{shard}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/rob_placebo_shard.py"


rule placebo:
    input:
        draws=placebo_shard_files(),
        code=ROB_CODE + code("figures"),
    output:
        draws="results/robustness/placebo.csv",
        csv="results/tables/placebo.csv",
        md="results/tables/placebo.md",
        **{f"png_{m}": report(f"results/figures/placebo_{m}.png", caption="../report/placebo.rst",
                              category="Robustness") for m in ROB_PLACEBO["modes"]},
        **{f"pdf_{m}": f"results/figures/placebo_{m}.pdf" for m in ROB_PLACEBO["modes"]},
    params:
        reps=ROB_PLACEBO["reps"],
        output=canonical(config["output"]),
    log:
        "logs/robustness/placebo.log",
    benchmark:
        "benchmarks/out/robustness/placebo.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/rob_placebo.py"


rule cu_variant:
    input:
        panel="results/data/panel_clean.parquet",
        code=code("cu", "steps_robustness"),
    output:
        cu="results/robustness/cu/{method}.parquet",
    params:
        cu=canonical(config["cu"]),
    wildcard_constraints:
        method="sfa_bc92|sfa_translog|cols|fa_turnover",
    log:
        "logs/robustness/cu/{method}.log",
    benchmark:
        "benchmarks/out/robustness/cu/{method}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/rob_cu_variant.py"


rule spec_curve_shard:
    input:
        panel="results/data/panel_clean.parquet",
        attributes="results/measures/firm_attributes.parquet",
        robots="results/measures/robots.parquet",
        cu="results/robustness/cu/{cu}.parquet",
        code=ROB_CODE + code("panel"),
    output:
        specs="results/robustness/spec_curve/{cu}_{winsor}.parquet",
    params:
        cuts=lambda wc: ROB_SPEC["winsor"][wc.winsor],
        controls_options=ROB_SPEC["controls"],
        fe=ROB_SPEC["fe"],
        samples=ROB_SPEC["samples"],
        controls=canonical(config["controls"]),
        winsor=canonical(config["winsor"]),
    wildcard_constraints:
        cu="|".join(ROB_SPEC["cu"]),
        winsor="|".join(ROB_SPEC["winsor"]),
    log:
        "logs/robustness/spec_curve/{cu}_{winsor}.log",
    benchmark:
        "benchmarks/out/robustness/spec_curve/{cu}_{winsor}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/rob_spec_curve_shard.py"


rule spec_curve:
    input:
        specs=spec_shard_files(),
        code=ROB_CODE + code("figures"),
    output:
        csv="results/robustness/spec_curve.csv",
        png=report("results/figures/spec_curve.png", caption="../report/spec_curve.rst", category="Robustness"),
        pdf="results/figures/spec_curve.pdf",
    params:
        output=canonical(config["output"]),
    log:
        "logs/robustness/spec_curve.log",
    benchmark:
        "benchmarks/out/robustness/spec_curve.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/rob_spec_curve.py"


rule one_step_sfa:
    input:
        panel="results/data/analysis_panel.parquet",
        table2="results/tables/table2.csv",
        code=ROB_CODE + code("cu"),
    output:
        csv="results/tables/one_step_sfa.csv",
        md="results/tables/one_step_sfa.md",
        fit="results/robustness/one_step_fit.json",
    params:
        one_step=ROB["one_step"],
        controls=canonical(config["controls"]),
    log:
        "logs/robustness/one_step_sfa.log",
    benchmark:
        "benchmarks/out/robustness/one_step_sfa.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        ENV
    script:
        "../scripts/rob_one_step_sfa.py"
