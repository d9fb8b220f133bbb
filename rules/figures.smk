# Figures 1-2 of the paper, and the paper-versus-replication table.


rule rulegraph:
    """The workflow's own rule graph (drawn as Figure 1)."""
    input:
        snakefile="Snakefile",
        rules=sorted(
            os.path.relpath(p) for p in Path(WORKFLOW_DIR, "rules").glob("*.smk")
        ),
        code=code("rulegraph"),
    output:
        dot="results/figures/rulegraph.dot",
    log:
        "logs/rulegraph.log",
    benchmark:
        "benchmarks/out/rulegraph.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("rulegraph"),
    script:
        "../scripts/run_step.py"


rule figure1:
    """Figure 1: the research workflow as a diagram of the DAG."""
    input:
        dot="results/figures/rulegraph.dot",
        code=code("figure1"),
    output:
        png=report(
            "results/figures/figure1.png",
            caption="../report/figure1.rst",
            category="Figures",
        ),
        pdf="results/figures/figure1.pdf",
    log:
        "logs/figure1.log",
    benchmark:
        "benchmarks/out/figure1.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("figure1"),
    script:
        "../scripts/run_step.py"


rule figure2:
    """Figure 2: global industrial robot installations (IFR World Robotics figures in config)."""
    input:
        installations=config["paths"]["ifr_global"],
        code=code("figure2"),
    output:
        png=report(
            "results/figures/figure2.png",
            caption="../report/figure2.rst",
            category="Figures",
        ),
        pdf="results/figures/figure2.pdf",
    log:
        "logs/figure2.log",
    benchmark:
        "benchmarks/out/figure2.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        vintage="WR2022",
        config=declared("figure2"),
        sources=sources(config["paths"]["ifr_global"]),
    script:
        "../scripts/run_step.py"


rule paper_vs_replication:
    """Each coefficient the paper reports next to the replication's (and the DGP's truth on synthetic data)."""
    input:
        tables=expand(
            "results/tables/{t}.csv",
            t=[t for t in PAPER_TABLES if t not in ("table1", "table7")],
        ),
        paper=config["paths"]["paper_results"],
        truth=[f"{RAW}/truth.json"] if SYNTHETIC else [],
        code=code("paper_vs_replication"),
    output:
        csv=result_csv("paper_vs_replication", category="Comparison"),
        implied="results/tables/implied_lncu_means.csv",
    log:
        "logs/paper_vs_replication.log",
    benchmark:
        "benchmarks/out/paper_vs_replication.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("paper_vs_replication"),
        sources=sources(config["paths"]["paper_results"]),
    script:
        "../scripts/run_step.py"


rule render_text_audit:
    """The text audit's Markdown table and figure (category frequencies by year), labels and output.lang."""
    input:
        csv="results/tables/text_audit_keywords.csv",
        labels=config["paths"]["labels"],
        code=code("render_text_audit"),
    output:
        md="results/tables/text_audit_keywords.md",
        png=report(
            "results/figures/text_audit.png",
            caption="../report/text_audit_figure.rst",
            category="Figures",
        ),
        pdf="results/figures/text_audit.pdf",
    log:
        "logs/render_text_audit.log",
    benchmark:
        "benchmarks/out/render_text_audit.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("render_text_audit"),
        sources=sources(config["paths"]["labels"]),
    script:
        "../scripts/run_step.py"
