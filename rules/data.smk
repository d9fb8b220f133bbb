# Raw inputs: the seeded synthetic stand-in (only when raw_dir is unset) and the vendor-file readers.

if SYNTHETIC:

    rule synthesize:
        input:
            crosswalk=config["paths"]["crosswalk"],
            code=code("synth", "reports_synth"),
        output:
            tables=[csmar_file(t) for t in CSMAR_TABLES],
            robots=ifr_file("robots_file"),
            employment=ifr_file("employment_file"),
            truth=f"{RAW}/truth.json",
        params:
            out_dir=lambda wildcards, output: str(Path(output.truth).parent),
            synth=canonical(config["synth"]),
            seed=config["seed"],
        log:
            "logs/synthesize.log",
        benchmark:
            "benchmarks/out/synthesize.tsv"
        priority: 100
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            ENV
        script:
            "../scripts/synthesize.py"


if SYNTHETIC and TEXT_ENABLED:

    # A rule of its own: ~12 s of report writing runs next to the CSMAR chain instead of before it.
    rule synthesize_reports:
        input:
            crosswalk=config["paths"]["crosswalk"],
            code=code("synth", "reports_synth"),
        output:
            reports=directory(REPORTS),
            planted=f"{RAW}/truth_keyword_counts.csv",
        params:
            out_dir=lambda wildcards, output: str(Path(output.planted).parent),
            synth=canonical(config["synth"]),
            seed=config["seed"],
        log:
            "logs/synthesize_reports.log",
        benchmark:
            "benchmarks/out/synthesize_reports.tsv"
        priority: 90
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        script:
            "../scripts/synthesize_reports.py"


rule read_table:
    input:
        table=lambda wc: csmar_file(wc.table),
        code=code("io"),
    output:
        parquet="results/data/csmar/{table}.parquet",
    wildcard_constraints:
        table="|".join(CSMAR_TABLES),
    params:
        spec=lambda wc: config["csmar"][wc.table],
    log:
        "logs/read_table/{table}.log",
    benchmark:
        "benchmarks/out/read_table/{table}.tsv"
    priority: 80
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/read_table.py"


rule read_ifr:
    input:
        robots=ifr_file("robots_file"),
        employment=ifr_file("employment_file"),
        code=code("io"),
    output:
        robots="results/data/ifr_robots.parquet",
        employment="results/data/employment_base.parquet",
    log:
        "logs/read_ifr.log",
    benchmark:
        "benchmarks/out/read_ifr.tsv"
    priority: 80
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/read_ifr.py"
