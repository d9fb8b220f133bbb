# Sample construction, controls and winsorization (docs/methods.md#sample, #variables, #winsorization).

PANEL_TABLES = ["FS_Combas", "FS_Comins", "FS_Comscfd", "CG_Ybasic", "STK_LISTEDCOINFOANL"]


rule build_panel:
    input:
        tables=[parquet_of(t) for t in PANEL_TABLES],
        crosswalk=config["paths"]["crosswalk"],
        regions=config["paths"]["regions"],
        code=code("panel"),
    output:
        panel="results/data/panel_clean.parquet",
        attrition="results/data/attrition_panel.csv",
        notes="results/data/attrition_notes_panel.csv",
    params:
        tables=PANEL_TABLES,
        raw_files={t: csmar_file(t) for t in PANEL_TABLES},
        sample=canonical(config["sample"]),
    log:
        "logs/build_panel.log",
    benchmark:
        "benchmarks/out/build_panel.tsv"
    priority: 70
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/build_panel.py"


rule winsorize:
    input:
        panel="results/data/panel_clean.parquet",
        attributes="results/measures/firm_attributes.parquet",
        code=code("panel"),
    output:
        panel="results/data/panel_winsorized.parquet",
        cutoffs="results/tables/winsor_cutoffs.csv",
    params:
        winsor=canonical(config["winsor"]),
    log:
        "logs/winsorize.log",
    benchmark:
        "benchmarks/out/winsorize.tsv"
    priority: 70
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/winsorize.py"


rule analysis_panel:
    input:
        panel="results/data/panel_winsorized.parquet",
        attrition="results/data/attrition_panel.csv",
        notes=["results/data/attrition_notes_panel.csv", "results/measures/firm_attributes_notes.csv"],
        cu="results/measures/cu.parquet",
        robots="results/measures/robots.parquet",
        extras=analysis_extras(),
        code=code("panel", "tables"),
    output:
        panel="results/data/analysis_panel.parquet",
        attrition_csv=report("results/tables/sample_attrition.csv", caption="../report/sample_attrition.rst",
                             category="Tables"),
        attrition_md="results/tables/sample_attrition.md",
        notes_csv="results/tables/sample_notes.csv",
    params:
        output=canonical(config["output"]),
    log:
        "logs/analysis_panel.log",
    benchmark:
        "benchmarks/out/analysis_panel.tsv"
    priority: 70
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/analysis_panel.py"
