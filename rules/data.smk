# Raw inputs: the seeded synthetic stand-in (only when raw_dir is unset) and the vendor-file readers.

if SYNTHETIC:

    rule synthesize:
        """Seeded synthetic CSMAR and IFR files in the vendors' formats, and the DGP's truth (docs/DGP.md)."""
        input:
            crosswalk=config["paths"]["crosswalk"],
            code=code("synthesize"),
        output:
            tables=[csmar_file(t) for t in CSMAR_TABLES],
            robots=ifr_file("robots_file"),
            employment=ifr_file("employment_file"),
            truth=f"{RAW}/truth.json",
        log:
            "logs/synthesize.log",
        benchmark:
            "benchmarks/out/synthesize.tsv"
        priority: 100
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=3000,
            runtime=10,
        params:
            out_dir=lambda wildcards, output: str(Path(output.truth).parent),
            config=declared("synthesize"),
        script:
            "../scripts/run_step.py"


if SYNTHETIC and TEXT_ENABLED:

    rule synthesize_reports:
        """Synthetic annual reports (txt, some PDFs) with planted keyword counts; beside the CSMAR chain."""
        input:
            crosswalk=config["paths"]["crosswalk"],
            code=code("synthesize_reports"),
        output:
            reports=directory(REPORTS),
            planted=f"{RAW}/truth_keyword_counts.csv",
        log:
            "logs/synthesize_reports.log",
        benchmark:
            "benchmarks/out/synthesize_reports.tsv"
        priority: 90
        conda:
            ENV
        threads: 1
        resources:
            mem_mb=1000,
            # real-size reports (synth.report_size: real) take ~0.1 s each as .txt, ~1 s as PDF
            runtime=(
                10 if config["synth"].get("report_size", "small") == "small" else 240
            ),
        params:
            out_dir=lambda wildcards, output: str(Path(output.planted).parent),
            config=declared("synthesize_reports"),
        script:
            "../scripts/run_step.py"


rule read_table:
    """One CSMAR table, typed and keyed (Stkcd, year), consolidated year-end statements only."""
    input:
        table=lambda wc: csmar_files(wc.table),
        code=code("read_table"),
    output:
        parquet="results/data/csmar/{table}.parquet",
        notes="results/data/csmar/{table}.notes.csv",
    log:
        "logs/read_table/{table}.log",
    benchmark:
        "benchmarks/out/read_table/{table}.tsv"
    wildcard_constraints:
        table="|".join(CSMAR_TABLES),
    priority: 80
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 10 * config["synth"]["n_firms"] // 1000),
        runtime=10,
    params:
        config=declared("read_table"),
        sources=sources(lambda wc: csmar_files(wc.table)),
    script:
        "../scripts/run_step.py"


rule read_ifr:
    """IFR robot stocks/installations by country, industry and year, and base-year industry employment."""
    input:
        robots=ifr_file("robots_file"),
        employment=ifr_file("employment_file"),
        code=code("read_ifr"),
    output:
        robots="results/data/ifr_robots.parquet",
        employment="results/data/employment_base.parquet",
        notes="results/data/ifr_notes.csv",
    log:
        "logs/read_ifr.log",
    benchmark:
        "benchmarks/out/read_ifr.tsv"
    priority: 80
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("read_ifr"),
        sources=sources(ifr_file("robots_file"), ifr_file("employment_file")),
    script:
        "../scripts/run_step.py"
