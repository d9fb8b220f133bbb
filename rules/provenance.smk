# Provenance: sha256 of every raw input (CSMAR, IFR, each annual report), config hash, package versions, seeds,
# git commit -> results/manifest.json. Deterministic content (no timestamps). Warns, never fails, when a raw
# file's hash differs from the previous manifest.


rule provenance:
    input:
        raw=[csmar_file(t) for t in CSMAR_TABLES] + [ifr_file("robots_file"), ifr_file("employment_file")],
        reports=REPORTS if TEXT_ENABLED else [],
        config_files=["config/config.yaml", "schemas/config.schema.yaml", *config["paths"].values()],
        code=code("manifest"),
    output:
        manifest="results/manifest.json",
    log:
        "logs/provenance.log",
    benchmark:
        "benchmarks/out/provenance.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/provenance.py"
