# The paper's tables: one job per table, each a long CSV (full precision) plus md/tex/docx renderings.
# Measures used by one table only (DEA efficiency, text index) are merged at table time, so changing
# them reruns just the tables that use them.

TABLE_MEASURES = {
    "table1": ["results/measures/dea.parquet"],
    "table5": ["results/measures/dea.parquet"],
    "table8": ["results/measures/text_index.parquet"],
}
REGRESSION_TABLES = ["table2", "table3", "table5", "table8"]


def table_outputs(name, *extra):
    out = {fmt: f"results/tables/{name}.{fmt}" for fmt in ("csv", "md", "tex", "docx")}
    return out


rule table1:
    input:
        panel="results/data/analysis_panel.parquet",
        measures=TABLE_MEASURES["table1"],
        code=code("estimate", "tables"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table1"),
    params:
        output=config["output"],
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


rule regression_table:
    input:
        panel="results/data/analysis_panel.parquet",
        measures=lambda wc: TABLE_MEASURES.get(wc.table, []),
        code=code("estimate", "tables"),
        labels=config["paths"]["labels"],
    output:
        csv="results/tables/{table}.csv",
        md="results/tables/{table}.md",
        tex="results/tables/{table}.tex",
        docx="results/tables/{table}.docx",
    wildcard_constraints:
        table="|".join(REGRESSION_TABLES),
    params:
        table=lambda wc: wc.table,
        spec=lambda wc: config["tables"][wc.table],
        controls=config["controls"],
        output=config["output"],
    log:
        "logs/{table}.log",
    benchmark:
        "benchmarks/out/{table}.tsv"
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
        spec=config["tables"]["table4"],
        controls=config["controls"],
        output=config["output"],
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
        code=code("estimate", "inference", "tables"),
        labels=config["paths"]["labels"],
    output:
        **table_outputs("table6"),
        diff_csv="results/tables/table6_differences.csv",
        diff_md="results/tables/table6_differences.md",
    params:
        table="table6",
        spec=config["tables"]["table6"],
        heterogeneity=config["heterogeneity"],
        controls=config["controls"],
        seed=config["seed"],
        output=config["output"],
    log:
        "logs/table6.log",
    benchmark:
        "benchmarks/out/table6.tsv"
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
        output=config["output"],
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
