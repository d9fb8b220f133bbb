# Figures 1-2 of the paper, the rule-graph appendix figure, the paper-versus-replication table and the claims.


rule rulegraph:
    """The workflow's own rule graph as DOT text (drawn as an appendix figure)."""
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


rule rulegraph_figure:
    """Appendix figure: the workflow's own rule graph, drawn from its DOT text."""
    input:
        dot="results/figures/rulegraph.dot",
        code=code("rulegraph_figure"),
    output:
        png=report(
            "results/figures/rulegraph.png",
            caption="../report/rulegraph.rst",
            category="Appendix",
        ),
        pdf="results/figures/rulegraph.pdf",
    log:
        "logs/rulegraph_figure.log",
    benchmark:
        "benchmarks/out/rulegraph_figure.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("rulegraph_figure"),
    script:
        "../scripts/run_step.py"


rule figure1:
    """Figure 1 as in the paper: the research framework (H1-H4), annotated with Table 2 col 4 and Table 5."""
    input:
        tables=["results/tables/table2.csv", "results/tables/table5.csv"],
        framework=config["paths"]["framework"],
        code=code("figure1"),
    output:
        png=report_figure("figure1"),
        pdf="results/figures/figure1.pdf",
        labels="results/figures/figure1_labels.csv",
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
        sources=sources(config["paths"]["framework"]),
    script:
        "../scripts/run_step.py"


rule figure2:
    """Figure 2: global industrial robot installations (IFR World Robotics figures in config)."""
    input:
        installations=config["paths"]["ifr_global"],
        code=code("figure2"),
    output:
        png=report_figure("figure2"),
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


rule compare_with_paper:
    """The replication against the paper: each coefficient the paper reports next to ours (and the DGP's truth on
    synthetic data) as CSV and Markdown, the mean lnCU that Table 2's constants imply, and every number and
    claim of the paper's ledger (config/paper_claims.yaml) evaluated: holds / fails / not computable. One job:
    both read the same ledger and tables, and a second process would cost more than either computation.
    """
    input:
        tables=expand("results/tables/{t}.csv", t=PAPER_TABLES),
        ledger=config["paths"]["paper_claims"],
        ifr_global=config["paths"]["ifr_global"],
        truth=[f"{RAW}/truth.json"] if SYNTHETIC else [],
        labels=config["paths"]["labels"],
        code=code("compare_with_paper"),
    output:
        csv=result_csv("paper_vs_replication", category="Comparison"),
        md="results/tables/paper_vs_replication.md",
        implied="results/tables/implied_lncu_means.csv",
        claims_csv=result_csv("claims", category="Comparison"),
        claims_md="results/tables/claims.md",
    log:
        "logs/compare_with_paper.log",
    benchmark:
        "benchmarks/out/compare_with_paper.tsv"
    priority: 10
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("compare_with_paper"),
        sources=sources(config["paths"]["paper_claims"], config["paths"]["labels"]),
    script:
        "../scripts/run_step.py"


rule tables_pdf:
    """results/paper/tables.pdf: every paper table compiled in one document (xelatex; ctex for Chinese). In
    `all` only when xelatex is on PATH at DAG time (XELATEX in rules/common.smk); asked for without it, the job
    fails naming the Debian packages to install."""
    input:
        tex=expand("results/tables/{t}.tex", t=PAPER_TABLES),
        code=code("tables_pdf"),
    output:
        pdf="results/paper/tables.pdf",
        tex="results/paper/tables.tex",
    log:
        "logs/tables_pdf.log",
    benchmark:
        "benchmarks/out/tables_pdf.tsv"
    priority: 10
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        config=declared("tables_pdf"),
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
