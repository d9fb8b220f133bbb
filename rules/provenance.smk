# Provenance: sha256 of every raw input (CSMAR, IFR, each annual report), config hash, package versions, seeds,
# git commit -> results/manifest.json. Deterministic content (no timestamps). Warns, never fails, when a raw
# file's hash differs from the previous manifest.


rule provenance:
    """results/manifest.json: what every result was computed from."""
    input:
        raw=PROVENANCE_RAW,
        reports=[REPORTS] if TEXT_ENABLED else [],
        config_files=PROVENANCE_CONFIG_FILES,
        code=code("provenance"),
    output:
        manifest="results/manifest.json",
    log:
        "logs/provenance.log",
    benchmark:
        "benchmarks/out/provenance.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        config=declared("provenance"),
        sources=sources(PROVENANCE_RAW, PROVENANCE_CONFIG_FILES),
        reports=lambda wc: (
            ""
            if SYNTHETIC or not TEXT_ENABLED
            else registry.canonical(
                [report_fingerprint(shard) for shard in range(N_SHARDS)]
            )
        ),
    script:
        "../scripts/run_step.py"
