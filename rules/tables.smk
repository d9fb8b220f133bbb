# The paper's tables: one job per table, each a long CSV (full precision) plus rendered formats.


rule table1:
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("estimate", "tables"),
        labels=config["paths"]["labels"],
    output:
        csv="results/tables/table1.csv",
        md="results/tables/table1.md",
        tex="results/tables/table1.tex",
        docx="results/tables/table1.docx",
    params:
        output=config["output"],
        mechanisms=[],
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


rule table2:
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("estimate", "tables"),
        labels=config["paths"]["labels"],
    output:
        csv="results/tables/table2.csv",
        md="results/tables/table2.md",
        tex="results/tables/table2.tex",
        docx="results/tables/table2.docx",
    params:
        table="table2",
        spec=config["tables"]["table2"],
        controls=config["controls"],
        output=config["output"],
    log:
        "logs/table2.log",
    benchmark:
        "benchmarks/out/table2.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/regression_table.py"
