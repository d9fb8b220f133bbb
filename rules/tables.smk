# The paper's tables: one job per table, each a long CSV (full precision) plus md/tex/docx renderings.
# Measures used by one table only (DEA efficiency, text index) are merged at table time, so changing
# them reruns just the tables that use them.

TABLE_MEASURES = {
    "table1": ["results/measures/dea.parquet"],
    "table5": ["results/measures/dea.parquet"],
    "table8": ["results/measures/text_index.parquet"],
}
REGRESSION_TABLES = ["table2", "table3", "table5", "table8"]


rule table1:
    input:
        panel="results/data/analysis_panel.parquet",
        measures=TABLE_MEASURES["table1"],
        code=code("estimate", "tables"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table1"),
    params:
        output=canonical(config["output"]),
        mechanisms=["Efficiency", "Humcap", "ED"],
    log:
        "logs/table1.log",
    benchmark:
        "benchmarks/out/table1.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/table1.py"


for _table in REGRESSION_TABLES:

    rule:
        name:
            _table
        input:
            panel="results/data/analysis_panel.parquet",
            measures=TABLE_MEASURES.get(_table, []),
            code=code("estimate", "tables"),
            labels=config["paths"]["labels"],
        output:
            **table_outputs(_table),
        params:
            table=_table,
            spec=canonical(config["tables"][_table]),
            controls=canonical(config["controls"]),
            output=canonical(config["output"]),
        log:
            f"logs/{_table}.log",
        benchmark:
            f"benchmarks/out/{_table}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            ENV
        script:
            "../scripts/regression_table.py"


rule table4:
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("estimate", "inference", "tables"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table4"),
    params:
        table="table4",
        spec=canonical(config["tables"]["table4"]),
        controls=canonical(config["controls"]),
        output=canonical(config["output"]),
    log:
        "logs/table4.log",
    benchmark:
        "benchmarks/out/table4.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/iv_table.py"


rule table6:
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("estimate", "inference", "tables", "figures"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table6"),
        diff_csv="results/tables/table6_differences.csv",
        diff_md="results/tables/table6_differences.md",
        # drawn by the same job: a Table 6 change then reruns table6 + paper_vs_replication only
        coefplot_png=report("results/figures/coefplot_table6.png", caption="../report/coefplot.rst",
                            category="Figures"),
        coefplot_pdf="results/figures/coefplot_table6.pdf",
    params:
        table="table6",
        spec=canonical(config["tables"]["table6"]),
        heterogeneity=canonical(config["heterogeneity"]),
        controls=canonical(config["controls"]),
        seed=config["seed"],
        output=canonical(config["output"]),
    log:
        "logs/table6.log",
    benchmark:
        "benchmarks/out/table6.tsv"
    priority: 60
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/heterogeneity_table.py"


rule table7:
    input:
        keywords=config["paths"]["keywords"],
        code=code("tables"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table7"),
    params:
        output=canonical(config["output"]),
    log:
        "logs/table7.log",
    benchmark:
        "benchmarks/out/table7.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/keyword_table.py"
