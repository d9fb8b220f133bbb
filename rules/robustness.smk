# Beyond the paper (docs/robustness.md): few-cluster and shift-share inference, a Monte Carlo audit of that
# inference, placebo reassignment, a specification curve and the one-step BC95 frontier.
# Sharded stages name their shards by their own parameters, so raising a count or adding a dimension value
# adds shards and reruns only the aggregator. Figures and Markdown views are rendering jobs: this stage
# never depends on presentation settings.


rule robustness:
    """Every output of the robustness stage."""
    input:
        robustness_targets(),


rule inference_table:
    """Few-cluster and shift-share inference for the baseline and 2SLS models."""
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("inference_table"),
    output:
        csv=result_csv("inference", category="Robustness"),
    log:
        "logs/robustness/inference_table.log",
    benchmark:
        "benchmarks/out/robustness/inference_table.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        config=declared("inference_table"),
    script:
        "../scripts/run_step.py"


rule mc_shard:
    """One shard of Monte Carlo replications: generate, build, estimate, every inference method."""
    input:
        crosswalk=config["paths"]["crosswalk"],
        regions=config["paths"]["regions"],
        code=code("mc_shard"),
    output:
        shard="results/robustness/mc/{scenario}/shard_{shard}.parquet",
    log:
        "logs/robustness/mc/{scenario}_{shard}.log",
    benchmark:
        "benchmarks/out/robustness/mc/{scenario}_{shard}.tsv"
    wildcard_constraints:
        scenario="|".join(ROB_MC["scenarios"]),
        shard=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        # everything a shard's draws depend on, and nothing else (not `reps`): raising reps adds shards only
        config=declared("mc_shard"),
    script:
        "../scripts/run_step.py"


rule mc_coverage:
    """Coverage of each interval method across the Monte Carlo replications."""
    input:
        shards=mc_shard_files(),
        code=code("mc_coverage"),
    output:
        csv="results/tables/coverage.csv",
    log:
        "logs/robustness/mc_coverage.log",
    benchmark:
        "benchmarks/out/robustness/mc_coverage.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("mc_coverage"),
    script:
        "../scripts/run_step.py"


rule coverage_figure:
    """Coverage by method and scenario against the nominal level."""
    input:
        csv="results/tables/coverage.csv",
        code=code("coverage_figure"),
    output:
        png=report(
            "results/figures/coverage.png",
            caption="../report/coverage.rst",
            category="Robustness",
        ),
        pdf="results/figures/coverage.pdf",
    log:
        "logs/robustness/coverage_figure.log",
    benchmark:
        "benchmarks/out/robustness/coverage_figure.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("coverage_figure"),
    script:
        "../scripts/run_step.py"


rule placebo_shard:
    """One shard of placebo draws: lnINT reassigned across firms or industries, the baseline refitted."""
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("placebo_shard"),
    output:
        draws="results/robustness/placebo/{mode}_{shard}.parquet",
    log:
        "logs/robustness/placebo/{mode}_{shard}.log",
    benchmark:
        "benchmarks/out/robustness/placebo/{mode}_{shard}.tsv"
    wildcard_constraints:
        mode="firm|industry",
        shard=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # not `reps`: a shard depends on (data, mode, shard, shard_size, seed, model) only
        config=declared("placebo_shard"),
    script:
        "../scripts/run_step.py"


rule placebo:
    """Placebo distributions and empirical p-values ((b+1)/(m+1))."""
    input:
        draws=placebo_shard_files(),
        code=code("placebo"),
    output:
        draws="results/robustness/placebo.csv",
        csv="results/tables/placebo.csv",
    log:
        "logs/robustness/placebo.log",
    benchmark:
        "benchmarks/out/robustness/placebo.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("placebo"),
    script:
        "../scripts/run_step.py"


rule placebo_figure:
    """Histogram of one placebo mode's draws with the actual estimate."""
    input:
        draws="results/robustness/placebo.csv",
        summary="results/tables/placebo.csv",
        code=code("placebo_figure"),
    output:
        png=report(
            "results/figures/placebo_{mode}.png",
            caption="../report/placebo.rst",
            category="Robustness",
        ),
        pdf="results/figures/placebo_{mode}.pdf",
    log:
        "logs/robustness/placebo_figure_{mode}.log",
    benchmark:
        "benchmarks/out/robustness/placebo_figure_{mode}.tsv"
    wildcard_constraints:
        mode="firm|industry",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("placebo_figure"),
    script:
        "../scripts/run_step.py"


rule cu_variant:
    """lnCU by another frontier method (specification curve)."""
    input:
        panel="results/data/panel_clean.parquet",
        code=code("cu_variant"),
    output:
        cu="results/robustness/cu/{method}.parquet",
    log:
        "logs/robustness/cu/{method}.log",
    benchmark:
        "benchmarks/out/robustness/cu/{method}.tsv"
    wildcard_constraints:
        method="sfa_bc92|sfa_translog|cols|fa_turnover",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        config=declared("cu_variant"),
    script:
        "../scripts/run_step.py"


rule spec_curve_shard:
    """The specifications of one (CU method, winsorization) pair."""
    input:
        panel="results/data/panel_clean.parquet",
        attributes="results/measures/firm_attributes.parquet",
        robots="results/measures/robots.parquet",
        cu="results/robustness/cu/{cu}.parquet",
        code=code("spec_curve_shard"),
    output:
        specs="results/robustness/spec_curve/{cu}_{winsor}.parquet",
    log:
        "logs/robustness/spec_curve/{cu}_{winsor}.log",
    benchmark:
        "benchmarks/out/robustness/spec_curve/{cu}_{winsor}.tsv"
    wildcard_constraints:
        cu="|".join(ROB_SPEC["cu"]),
        winsor="|".join(ROB_SPEC["winsor"]),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("spec_curve_shard"),
    script:
        "../scripts/run_step.py"


rule spec_curve:
    """Every specification of the curve in one CSV."""
    input:
        specs=spec_shard_files(),
        code=code("spec_curve"),
    output:
        csv="results/robustness/spec_curve.csv",
    log:
        "logs/robustness/spec_curve.log",
    benchmark:
        "benchmarks/out/robustness/spec_curve.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("spec_curve"),
    script:
        "../scripts/run_step.py"


rule spec_curve_figure:
    """The specification curve: sorted estimates with CIs and the choices below."""
    input:
        csv="results/robustness/spec_curve.csv",
        code=code("spec_curve_figure"),
    output:
        png=report(
            "results/figures/spec_curve.png",
            caption="../report/spec_curve.rst",
            category="Robustness",
        ),
        pdf="results/figures/spec_curve.pdf",
    log:
        "logs/robustness/spec_curve_figure.log",
    benchmark:
        "benchmarks/out/robustness/spec_curve_figure.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("spec_curve_figure"),
    script:
        "../scripts/run_step.py"


rule one_step_sfa:
    """The one-step BC95 frontier with lnINT in the inefficiency equation, next to the two-step estimate."""
    input:
        panel="results/data/analysis_panel.parquet",
        table2="results/tables/table2.csv",
        code=code("one_step_sfa"),
    output:
        csv="results/tables/one_step_sfa.csv",
        fit="results/robustness/one_step_fit.json",
    log:
        "logs/robustness/one_step_sfa.log",
    benchmark:
        "benchmarks/out/robustness/one_step_sfa.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        config=declared("one_step_sfa"),
    script:
        "../scripts/run_step.py"
