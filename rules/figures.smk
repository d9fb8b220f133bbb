# Figures 1-2 of the paper, the Table 6 coefficient plot, and the paper-versus-replication table.


rule rulegraph:
    input:
        snakefile="Snakefile",
        rules=sorted(str(p) for p in Path("rules").glob("*.smk")),
        config="config/config.yaml",
    output:
        dot="results/figures/rulegraph.dot",
    params:
        raw_dir=config["raw_dir"],
    log:
        "logs/rulegraph.log",
    benchmark:
        "benchmarks/out/rulegraph.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/rulegraph.py"


rule figure1:
    input:
        dot="results/figures/rulegraph.dot",
        code=code("figures"),
    output:
        png=report("results/figures/figure1.png", caption="../report/figure1.rst", category="Figures"),
        pdf="results/figures/figure1.pdf",
    params:
        output=canonical(config["output"]),
    log:
        "logs/figure1.log",
    benchmark:
        "benchmarks/out/figure1.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figure1.py"


rule figure2:
    input:
        installations=config["paths"]["ifr_global"],
        code=code("figures"),
    output:
        png=report("results/figures/figure2.png", caption="../report/figure2.rst", category="Figures"),
        pdf="results/figures/figure2.pdf",
    params:
        output=canonical(config["output"]),
        vintage="WR2022",
    log:
        "logs/figure2.log",
    benchmark:
        "benchmarks/out/figure2.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/figure2.py"


rule paper_vs_replication:
    input:
        tables=expand("results/tables/{t}.csv", t=[t for t in PAPER_TABLES if t not in ("table1", "table7")]),
        paper=config["paths"]["paper_results"],
        truth=[f"{RAW}/truth.json"] if SYNTHETIC else [],
        code=code("compare", "tables"),
    output:
        csv=report("results/tables/paper_vs_replication.csv", caption="../report/paper_vs_replication.rst",
                   category="Comparison"),
        md="results/tables/paper_vs_replication.md",
        implied="results/tables/implied_lncu_means.csv",
    params:
        output=canonical(config["output"]),
    log:
        "logs/paper_vs_replication.log",
    benchmark:
        "benchmarks/out/paper_vs_replication.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/paper_vs_replication.py"
