# Provenance: sha256 of every raw input (CSMAR, IFR, each annual report), config hash, package versions, seeds,
# git commit -> results/manifest.json. Deterministic content (no timestamps). Warns, never fails, when a raw
# file's hash differs from the previous manifest.


rule provenance:
    """results/manifest.json: what every result was computed from."""
    input:
        raw=PROVENANCE_RAW,
        reports=[REPORTS] if TEXT_ENABLED else [],
        config_files=PROVENANCE_CONFIG_FILES,
        code=code("provenance"),
    output:
        manifest="results/manifest.json",
    log:
        "logs/provenance.log",
    benchmark:
        "benchmarks/out/provenance.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        config=declared("provenance"),
        sources=sources(PROVENANCE_RAW, PROVENANCE_CONFIG_FILES),
        reports=lambda wc: (
            ""
            if SYNTHETIC or not TEXT_ENABLED
            else registry.canonical(
                [report_fingerprint(shard) for shard in range(N_SHARDS)]
            )
        ),
    script:
        "../scripts/run_step.py"


# Stata parity (docs/stata.md): the analysis panel as .dta and a do-file from the same model specs. Not in the
# default target: `snakemake --cores 1 stata`.


rule stata_export:
    """results/data/analysis_panel.dta (Stata 118, variable labels from labels.yaml); row-level, never shared."""
    input:
        panel="results/data/analysis_panel.parquet",
        labels=config["paths"]["labels"],
        code=code("stata_export"),
    output:
        dta="results/data/analysis_panel.dta",
    log:
        "logs/stata_export.log",
    benchmark:
        "benchmarks/out/stata_export.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("stata_export"),
    script:
        "../scripts/run_step.py"


rule stata_dofile:
    """results/stata/replicate.do: reghdfe / ivreghdfe / esttab for Tables 2-6 and 8 from config tables.*."""
    input:
        code=code("stata_dofile"),
    output:
        do="results/stata/replicate.do",
    log:
        "logs/stata_dofile.log",
    benchmark:
        "benchmarks/out/stata_dofile.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=declared("stata_dofile"),
        dta="results/data/analysis_panel.dta",
    script:
        "../scripts/run_step.py"


rule stata:
    """Stata parity files: the .dta panel and replicate.do."""
    input:
        "results/data/analysis_panel.dta",
        "results/stata/replicate.do",
    localrule: True
