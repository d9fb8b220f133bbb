# Measures: capacity utilization (SFA), robot exposure and its Bartik instrument.


rule capacity_utilization:
    input:
        panel="results/data/panel_clean.parquet",
        code=code("cu"),
    output:
        cu="results/measures/cu.parquet",
        fit="results/measures/cu_fit.json",
    params:
        cu=canonical(config["cu"]),
    log:
        "logs/capacity_utilization.log",
    benchmark:
        "benchmarks/out/capacity_utilization.tsv"
    priority: 70
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
        robots=canonical(config["robots"]),
    log:
        "logs/robot_exposure.log",
    benchmark:
        "benchmarks/out/robot_exposure.tsv"
    priority: 70
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
    priority: 70
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/firm_attributes.py"


rule dea_efficiency:
    input:
        panel="results/data/panel_clean.parquet",
        code=code("dea"),
    output:
        dea="results/measures/dea.parquet",
    params:
        dea=canonical(config["dea"]),
    log:
        "logs/dea_efficiency.log",
    benchmark:
        "benchmarks/out/dea_efficiency.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/dea_efficiency.py"


rule text_shard:
    input:
        reports=REPORTS,
        keywords=config["paths"]["keywords"],
        code=code("text"),
    output:
        counts="results/measures/text/counts_{shard}.parquet",
        log="results/measures/text/log_{shard}.csv",
    params:
        n_shards=config["text"]["shards"],
    wildcard_constraints:
        shard=r"\d+",
    log:
        "logs/text_shard/{shard}.log",
    benchmark:
        "benchmarks/out/text_shard/{shard}.tsv"
    priority: 50
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/text_shard.py"


rule text_index:
    input:
        counts=expand("results/measures/text/counts_{shard}.parquet", shard=range(config["text"]["shards"])),
        logs=expand("results/measures/text/log_{shard}.csv", shard=range(config["text"]["shards"])),
        code=code("text"),
    output:
        counts="results/measures/keyword_counts.parquet",
        index="results/measures/text_index.parquet",
        log="results/measures/text_log.csv",
        unreadable="results/tables/text_unreadable.csv",
    log:
        "logs/text_index.log",
    benchmark:
        "benchmarks/out/text_index.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/text_index.py"
