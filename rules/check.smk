# The data check before a run (`snakemake --cores all check`): every configured raw input read once, every
# problem reported at once in results/check/data_report.{md,csv}; the target fails only on blocking problems.


def check_table_files():
    """Every file of every configured table that exists. A missing table is left out here (not an error before
    any job, as for read_table): the check itself reports it, with every other problem."""
    from intelcap.errors import InputError

    files = []
    for table in CSMAR_TABLES:
        try:
            files += csmar_files(table)
        except InputError:
            pass
    return files


def check_config_files():
    """Config files Snakemake loaded (configfile:, --configfile, a profile's configfile) and the shipped
    profiles: each is flagged when it sets __use_yte__ (evaluated as code)."""
    shipped = sorted(str(p) for p in Path(workflow.basedir, "profiles").glob("*/*.yaml"))
    return list(dict.fromkeys([*map(str, workflow.configfiles), *(os.path.relpath(p) for p in shipped)]))


rule check_data:
    """Reads every configured raw input once; writes every problem found (severity, file, field, rows, fix)."""
    input:
        tables=check_table_files() if not SYNTHETIC else [csmar_file(t) for t in CSMAR_TABLES],
        ifr=[f for f in (ifr_file("robots_file"), ifr_file("employment_file")) if SYNTHETIC or Path(f).exists()],
        reports=[REPORTS] if TEXT_ENABLED else [],
        config_files=check_config_files(),
        code=code("check_data"),
    output:
        md="results/check/data_report.md",
        csv="results/check/data_report.csv",
    params:
        raw_dir=RAW,
        reports=REPORTS,
        config=declared("check_data"),
        sources=sources("tables", "ifr", "config_files"),
        report_files=lambda wc: "" if SYNTHETIC or not TEXT_ENABLED else registry.canonical(
            [report_fingerprint(shard) for shard in range(N_SHARDS)]),
    log:
        "logs/check_data.log",
    benchmark:
        "benchmarks/out/check_data.tsv"
    priority: 100
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/run_step.py"


rule check:
    """`snakemake check`: prints the data report's summary; fails (after the report is written) only on
    blocking problems. No output, so it runs each time it is asked for."""
    input:
        md="results/check/data_report.md",
        csv="results/check/data_report.csv",
        code=code("check"),
    params:
        config=declared("check"),
    log:
        "logs/check.log",
    # no benchmark: a benchmark file is an output, and a rule with an output would not run again to print
    # the summary (check_data, which does the work, has its benchmark)
    localrule: True
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/run_step.py"
