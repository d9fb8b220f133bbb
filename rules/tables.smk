# The paper's tables. Estimation jobs write one full-precision CSV per table; rendering jobs turn a CSV into
# md/tex/docx with labels and `output` settings, so presentation changes never rerun an estimation.
# Measures used by one table only (DEA efficiency, text index) are merged at table time, so changing
# them reruns just the tables that use them.

TABLE_MEASURES = {
    "table1": ["results/measures/dea.parquet"],
    "table5": ["results/measures/dea.parquet"],
    "table8": ["results/measures/text_index.parquet"],
}


rule table1:
    """Table 1: descriptive statistics of the analysis panel (and the mechanism variables)."""
    input:
        panel="results/data/analysis_panel.parquet",
        measures=TABLE_MEASURES["table1"],
        code=code("table1"),
    output:
        csv=result_csv("table1"),
    log:
        "logs/table1.log",
    benchmark:
        "benchmarks/out/table1.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(1000, 1000 + 6 * config["synth"]["n_firms"] // 1000),
        runtime=5,
    params:
        mechanisms=["Efficiency", "Humcap", "ED"],
        config=declared("table1"),
    script:
        "../scripts/run_step.py"


rule regression_table:
    """Tables 2 (baseline), 3 (robustness), 5 (mechanisms) and 8 (text index): the models of config
    `tables.<table>`, reghdfe conventions (CRV1 by `cluster`)."""
    input:
        panel="results/data/analysis_panel.parquet",
        measures=lambda wc: TABLE_MEASURES.get(wc.table, []),
        code=code("regression_table"),
    output:
        csv=result_csv("{table}", caption="regression_table"),
    log:
        "logs/{table}.log",
    benchmark:
        "benchmarks/out/{table}.tsv"
    wildcard_constraints:
        table="|".join(REGRESSION_TABLES),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 18 * config["synth"]["n_firms"] // 1000),
        runtime=10,
    params:
        table=lambda wc: wc.table,
        config=declared("regression_table"),
    script:
        "../scripts/run_step.py"


rule table4:
    """Table 4: 2SLS with lnINTUS (first stage, KP rk Wald F, effective F, Anderson-Rubin set)."""
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("table4"),
    output:
        csv=result_csv("table4"),
    log:
        "logs/table4.log",
    benchmark:
        "benchmarks/out/table4.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 5 * config["synth"]["n_firms"] // 1000),
        runtime=10,
    params:
        table="table4",
        config=declared("table4"),
    script:
        "../scripts/run_step.py"


rule table6:
    """Table 6: heterogeneity by ownership, region, industry and factor intensity, and the group-difference
    tests (fully interacted model, firm-level permutation)."""
    input:
        panel="results/data/analysis_panel.parquet",
        code=code("table6"),
    output:
        csv=result_csv("table6"),
        diff_csv="results/tables/table6_differences.csv",
    log:
        "logs/table6.log",
    benchmark:
        "benchmarks/out/table6.tsv"
    priority: 60
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(3000, 1000 + 17 * config["synth"]["n_firms"] // 1000),
        runtime=30,
    params:
        table="table6",
        config=declared("table6"),
    script:
        "../scripts/run_step.py"


rule table8_variants:
    """Table 8 with IM replaced by each of its variants (MD&A / full report, negation off, per 10,000
    characters, one category left out, alternative dictionaries), the models of config `tables.table8`.
    """
    input:
        panel="results/data/analysis_panel.parquet",
        measures="results/measures/text_variants.parquet",
        columns="results/measures/text_variants_columns.csv",
        code=code("table8_variants"),
    output:
        csv=result_csv("table8_variants"),
    log:
        "logs/table8_variants.log",
    benchmark:
        "benchmarks/out/table8_variants.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=declared("table8_variants"),
    script:
        "../scripts/run_step.py"


rule table7:
    """Table 7: the counting dictionary (config/keywords.yaml, or the curated one of text.dictionary), one row
    per keyword with its origin (paper / seed / expanded / hand)."""
    input:
        keywords=config["paths"]["keywords"],
        curated=CURATED_FILES,
        code=code("table7"),
    output:
        csv=result_csv("table7"),
    log:
        "logs/table7.log",
    benchmark:
        "benchmarks/out/table7.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=declared("table7"),
        sources=sources(config["paths"]["keywords"], CURATED_FILES),
    script:
        "../scripts/run_step.py"


rule render_table:
    """md, LaTeX (fragment and standalone document), Word and HTML renderings of a table's CSV (labels,
    language, SE or t, digits); the HTML page is the report's rendered table."""
    input:
        csv="results/tables/{name}.csv",
        labels=config["paths"]["labels"],
        code=code("render_table"),
    output:
        md="results/tables/{name}.md",
        tex="results/tables/{name}.tex",
        docx="results/tables/{name}.docx",
        standalone="results/tables/{name}_standalone.tex",
        html=rendered_table("{name}"),
    log:
        "logs/render/{name}.log",
    benchmark:
        "benchmarks/out/render/{name}.tsv"
    wildcard_constraints:
        name="|".join(
            [*PAPER_TABLES, "inference"]
            + (["table8_variants"] if TEXT_ENABLED else [])
        ),
    # a table edit reruns the chain rendering -> tables.pdf: started first, it
    # ends with the other followers (compare_with_paper, Figure 1) instead of after them
    priority: 10
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=declared("render_table"),
        sources=sources(config["paths"]["labels"]),
    script:
        "../scripts/run_step.py"


rule render_frame:
    """The Markdown view of a plain results table (attrition, group differences, comparison, robustness)."""
    input:
        csv="results/tables/{name}.csv",
        labels=config["paths"]["labels"],
        code=code("render_frame"),
    output:
        md="results/tables/{name}.md",
    log:
        "logs/render/{name}.log",
    benchmark:
        "benchmarks/out/render/{name}.tsv"
    wildcard_constraints:
        name="|".join(FRAME_TABLES),
    priority: 10
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=declared("render_frame"),
        sources=sources(config["paths"]["labels"]),
    script:
        "../scripts/run_step.py"


rule coefplot:
    """Coefficient plot of Table 6 (lnINT by subsample, 95% CI), drawn from its CSV."""
    input:
        csv="results/tables/table6.csv",
        labels=config["paths"]["labels"],
        code=code("coefplot"),
    output:
        png=report_figure("coefplot_table6", "coefplot"),
        pdf="results/figures/coefplot_table6.pdf",
    log:
        "logs/coefplot.log",
    benchmark:
        "benchmarks/out/coefplot.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        config=declared("coefplot"),
        sources=sources(config["paths"]["labels"]),
    script:
        "../scripts/run_step.py"
