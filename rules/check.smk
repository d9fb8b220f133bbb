# The data check before a run (`snakemake --cores all check`): every configured raw input read once, every
# problem reported at once in results/check/data_report.{md,csv}; the target fails only on blocking problems.


# Config files Snakemake loaded (configfile:, --configfile, a profile's configfile) and the shipped profiles:
# each is flagged when it sets __use_yte__ (evaluated as code).
CHECK_CONFIG_FILES = list(
    dict.fromkeys(
        [
            *map(str, workflow.configfiles),
            *sorted(
                os.path.relpath(p)
                for p in Path(WORKFLOW_DIR, "profiles").glob("*/*.yaml")
            ),
        ]
    )
)


rule check_data:
    """Every configured raw input read once; writes every problem found (severity, file, field, rows, fix)"""
    input:
        # user data: the files of every table that has any; a missing table is reported by the check itself
        tables=check_table_files,
        ifr=CHECK_IFR_FILES,
        reports=[REPORTS] if TEXT_ENABLED else [],
        config_files=CHECK_CONFIG_FILES,
        code=code("check_data"),
    output:
        md="results/check/data_report.md",
        csv="results/check/data_report.csv",
    log:
        "logs/check_data.log",
    benchmark:
        "benchmarks/out/check_data.tsv"
    priority: 100
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        raw_dir=lambda wildcards: RAW,
        reports=lambda wildcards: REPORTS,
        config=declared("check_data"),
        sources=sources(check_table_files, CHECK_IFR_FILES, CHECK_CONFIG_FILES),
        report_files=lambda wc: (
            ""
            if SYNTHETIC or not TEXT_ENABLED
            else registry.canonical(
                [report_fingerprint(shard) for shard in range(N_SHARDS)]
            )
        ),
    script:
        "../scripts/run_step.py"


rule check:
    """`snakemake check`: prints the data report's summary; fails (after the report is written) only on
    blocking problems. No output, so it runs each time it is asked for."""
    input:
        md="results/check/data_report.md",
        csv="results/check/data_report.csv",
        code=code("check"),
    log:
        "logs/check.log",
    # no benchmark: a benchmark file is an output, and a rule with an output would not run again to print
    # the summary (check_data, which does the work, has its benchmark)
    localrule: True
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=declared("check"),
    script:
        "../scripts/run_step.py"
