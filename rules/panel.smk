# Sample construction, firm attributes, controls and winsorization (docs/methods.md#sample, #attributes,
# #winsorization).

PANEL_TABLES = [
    "FS_Combas",
    "FS_Comins",
    "FS_Comscfd",
    "CG_Ybasic",
    "STK_LISTEDCOINFOANL",
]


rule build_panel:
    """The paper's sample filters (manufacturing, A shares, no ST, revenue floor) and controls; every removed
    firm-year counted in the attrition table."""
    input:
        tables=[parquet_of(t) for t in PANEL_TABLES],
        crosswalk=config["paths"]["crosswalk"],
        regions=config["paths"]["regions"],
        code=code("build_panel"),
    output:
        panel="results/data/panel_clean.parquet",
        attrition="results/data/attrition_panel.csv",
        notes="results/data/attrition_notes_panel.csv",
    log:
        "logs/build_panel.log",
    benchmark:
        "benchmarks/out/build_panel.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(3000, 1000 + 11 * config["synth"]["n_firms"] // 1000),
        runtime=10,
    params:
        tables=PANEL_TABLES,
        raw_files={t: csmar_file(t) for t in PANEL_TABLES},
        config=declared("build_panel"),
        sources=sources(config["paths"]["crosswalk"], config["paths"]["regions"]),
    script:
        "../scripts/run_step.py"


rule firm_attributes:
    """SOE, HighTech, factor intensity, Humcap and export demand ED per firm-year."""
    input:
        panel="results/data/panel_clean.parquet",
        equity=parquet_of("EN_EquityNatureAll"),
        qualifications=parquet_of("QUA_Qualification"),
        rd=parquet_of("PT_LCRDSPENDING"),
        region=parquet_of("FN_RegionRevenue"),
        intensity=config["paths"]["factor_intensity"],
        code=code("firm_attributes"),
    output:
        attributes="results/measures/firm_attributes.parquet",
        notes="results/measures/firm_attributes_notes.csv",
    log:
        "logs/firm_attributes.log",
    benchmark:
        "benchmarks/out/firm_attributes.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 4 * config["synth"]["n_firms"] // 1000),
        runtime=5,
    params:
        config=declared("firm_attributes"),
        sources=sources(config["paths"]["factor_intensity"]),
    script:
        "../scripts/run_step.py"


rule winsorize:
    """Winsorize the configured variables at the configured percentiles (Stata's percentile rule)."""
    input:
        panel="results/data/panel_clean.parquet",
        attributes="results/measures/firm_attributes.parquet",
        code=code("winsorize"),
    output:
        panel="results/data/panel_winsorized.parquet",
        cutoffs="results/tables/winsor_cutoffs.csv",
    log:
        "logs/winsorize.log",
    benchmark:
        "benchmarks/out/winsorize.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 6 * config["synth"]["n_firms"] // 1000),
        runtime=5,
    params:
        config=declared("winsorize"),
    script:
        "../scripts/run_step.py"


rule analysis_panel:
    """The estimation panel: winsorized panel + lnCU + lnINT; firm-years without them counted and removed."""
    input:
        panel="results/data/panel_winsorized.parquet",
        attrition="results/data/attrition_panel.csv",
        notes=[
            "results/data/attrition_notes_panel.csv",
            "results/measures/firm_attributes_notes.csv",
        ],
        reader_notes=[f"results/data/csmar/{t}.notes.csv" for t in CSMAR_TABLES]
        + ["results/data/ifr_notes.csv"],
        cu="results/measures/cu.parquet",
        robots="results/measures/robots.parquet",
        code=code("analysis_panel"),
    output:
        panel="results/data/analysis_panel.parquet",
        attrition=result_csv("sample_attrition"),
        notes="results/tables/sample_notes.csv",
    log:
        "logs/analysis_panel.log",
    benchmark:
        "benchmarks/out/analysis_panel.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 5 * config["synth"]["n_firms"] // 1000),
        runtime=5,
    params:
        config=declared("analysis_panel"),
    script:
        "../scripts/run_step.py"
