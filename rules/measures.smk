# Measures: capacity utilization (SFA), robot exposure and its Bartik instrument.


rule capacity_utilization:
    input:
        panel="results/data/panel_clean.parquet",
        code=code("cu"),
    output:
        cu="results/measures/cu.parquet",
        fit="results/measures/cu_fit.json",
    params:
        cu=config["cu"],
    log:
        "logs/capacity_utilization.log",
    benchmark:
        "benchmarks/out/capacity_utilization.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        "../scripts/capacity_utilization.py"


rule robot_exposure:
    input:
        panel="results/data/panel_clean.parquet",
        ifr="results/data/ifr_robots.parquet",
        employment="results/data/employment_base.parquet",
        emp_structure=parquet_of("EMP_Structure"),
        code=code("robots"),
    output:
        robots="results/measures/robots.parquet",
        info="results/measures/robots_info.json",
    params:
        robots=config["robots"],
    log:
        "logs/robot_exposure.log",
    benchmark:
        "benchmarks/out/robot_exposure.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/robot_exposure.py"


rule firm_attributes:
    input:
        panel="results/data/panel_clean.parquet",
        equity=parquet_of("EN_EquityNatureAll"),
        qualifications=parquet_of("QUA_Qualification"),
        rd=parquet_of("PT_LCRDSPENDING"),
        region=parquet_of("FN_RegionRevenue"),
        intensity=config["paths"]["factor_intensity"],
        code=code("attributes"),
    output:
        attributes="results/measures/firm_attributes.parquet",
        notes="results/measures/firm_attributes_notes.csv",
    log:
        "logs/firm_attributes.log",
    benchmark:
        "benchmarks/out/firm_attributes.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/firm_attributes.py"
