# Measures: capacity utilization (SFA), robot exposure and its Bartik instrument, DEA efficiency, text index,
# and the seed-word expansion of the keyword dictionary (text_segment -> keyword_vectors -> keyword_expansion).

# text.dictionary: curated counts the dictionary of the seed and curation files (keyword_expansion.curated_spec)
CURATED_FILES = (
    [config["paths"]["keyword_seeds"], config["paths"]["keyword_curation"]]
    if config["text"].get("dictionary", "paper") == "curated"
    else []
)


# text.variants.dictionaries: alternative keyword files counted as Table 8 variants (text_audit.variant_measures)
VARIANT_DICTIONARIES = list(config["text"]["variants"]["dictionaries"].values())


rule capacity_utilization:
    """lnCU from a stochastic production frontier (BC92 by default; cu.method)."""
    input:
        panel="results/data/panel_clean.parquet",
        code=code("capacity_utilization"),
    output:
        cu="results/measures/cu.parquet",
        fit="results/measures/cu_fit.json",
    log:
        "logs/capacity_utilization.log",
    benchmark:
        "benchmarks/out/capacity_utilization.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(3000, 1000 + 7 * config["synth"]["n_firms"] // 1000),
        runtime=20,
    params:
        config=declared("capacity_utilization"),
    script:
        "../scripts/run_step.py"


rule robot_exposure:
    """lnINT (firm robot exposure from IFR industry robots x production-worker share), lnINTUS, L.lnINT."""
    input:
        panel="results/data/panel_clean.parquet",
        ifr="results/data/ifr_robots.parquet",
        employment="results/data/employment_base.parquet",
        emp_structure=parquet_of("EMP_Structure"),
        code=code("robot_exposure"),
    output:
        robots="results/measures/robots.parquet",
        info="results/measures/robots_info.json",
    log:
        "logs/robot_exposure.log",
    benchmark:
        "benchmarks/out/robot_exposure.tsv"
    priority: 70
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(2000, 1000 + 12 * config["synth"]["n_firms"] // 1000),
        runtime=5,
    params:
        config=declared("robot_exposure"),
    script:
        "../scripts/run_step.py"


rule dea_efficiency:
    """Resource-allocation efficiency (exact DEA, super-efficiency) per firm-year."""
    input:
        panel="results/data/panel_clean.parquet",
        code=code("dea_efficiency"),
    output:
        dea="results/measures/dea.parquet",
    log:
        "logs/dea_efficiency.log",
    benchmark:
        "benchmarks/out/dea_efficiency.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=max(3000, 1000 + 7 * config["synth"]["n_firms"] // 1000),
        runtime=30,
    params:
        config=declared("dea_efficiency"),
    script:
        "../scripts/run_step.py"


rule text_extract:
    """The text of one shard of annual reports, cached: keyword counting reads it, so a dictionary change
    never re-extracts a PDF. A shard holds every file of its firm-years (stable hash of Stkcd and year).
    """
    input:
        # synthetic reports are an output of this workflow; a user's folder is tracked per shard by
        # params.sources (a directory input would rerun every shard whenever one file is added)
        reports=[REPORTS] if SYNTHETIC else [],
        code=code("text_extract"),
    output:
        text="results/text/extracted/shard_{shard}.parquet",
    log:
        "logs/text_extract/{shard}.log",
    benchmark:
        "benchmarks/out/text_extract/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    priority: 50
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        reports=lambda wildcards: REPORTS,
        n_shards=N_SHARDS,
        config=declared("text_extract"),
        sources=shard_fingerprint,
    script:
        "../scripts/run_step.py"


rule text_count:
    """Keyword counts of one shard's cached text (config/keywords.yaml) and, in the same pass, the counts of
    every Table 8 variant (full / MD&A, negation on / off, characters, text.variants.dictionaries).
    """
    input:
        text="results/text/extracted/shard_{shard}.parquet",
        keywords=config["paths"]["keywords"],
        curated=CURATED_FILES,
        dictionaries=VARIANT_DICTIONARIES,
        code=code("text_count"),
    output:
        counts="results/text/counts/shard_{shard}.parquet",
        log="results/text/counts/log_{shard}.csv",
        variants="results/text/counts/variants_{shard}.parquet",
        chars="results/text/counts/chars_{shard}.parquet",
    log:
        "logs/text_count/{shard}.log",
    benchmark:
        "benchmarks/out/text_count/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    priority: 50
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=declared("text_count"),
        sources=sources(
            config["paths"]["keywords"], CURATED_FILES, VARIANT_DICTIONARIES
        ),
    script:
        "../scripts/run_step.py"


rule text_index:
    """The text index IM per firm-year and the log of every report file (unreadable ones listed)."""
    input:
        counts=expand(
            "results/text/counts/shard_{shard}.parquet", shard=range(N_SHARDS)
        ),
        logs=expand("results/text/counts/log_{shard}.csv", shard=range(N_SHARDS)),
        code=code("text_index"),
    output:
        counts="results/measures/keyword_counts.parquet",
        index="results/measures/text_index.parquet",
        log="results/measures/text_log.csv",
        unreadable="results/tables/text_unreadable.csv",
    log:
        "logs/text_index.log",
    benchmark:
        "benchmarks/out/text_index.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("text_index"),
    script:
        "../scripts/run_step.py"


rule text_variants:
    """IM and its Table 8 variants per report (config text.variants), from the shards' variant counts."""
    input:
        variants=expand(
            "results/text/counts/variants_{shard}.parquet", shard=range(N_SHARDS)
        ),
        chars=expand("results/text/counts/chars_{shard}.parquet", shard=range(N_SHARDS)),
        keywords=config["paths"]["keywords"],
        curated=CURATED_FILES,
        code=code("text_variants"),
    output:
        measures="results/measures/text_variants.parquet",
        columns="results/measures/text_variants_columns.csv",
    log:
        "logs/text_variants.log",
    benchmark:
        "benchmarks/out/text_variants.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("text_variants"),
        sources=sources(config["paths"]["keywords"], CURATED_FILES),
    script:
        "../scripts/run_step.py"


rule text_audit:
    """Keyword and category frequencies by year: total count, firms mentioning, share of reports."""
    input:
        counts="results/measures/keyword_counts.parquet",
        log="results/measures/text_log.csv",
        keywords=config["paths"]["keywords"],
        curated=CURATED_FILES,
        code=code("text_audit"),
    output:
        csv=report(
            "results/tables/text_audit_keywords.csv",
            caption="../report/text_audit.rst",
            category="Tables",
        ),
    log:
        "logs/text_audit.log",
    benchmark:
        "benchmarks/out/text_audit.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("text_audit"),
        sources=sources(config["paths"]["keywords"], CURATED_FILES),
    script:
        "../scripts/run_step.py"


rule text_segment:
    """Word segmentation of one shard's cached text (dictionary terms are single tokens), cached: a seed
    change reruns the expansion, not this."""
    input:
        text="results/text/extracted/shard_{shard}.parquet",
        keywords=config["paths"]["keywords"],
        code=code("text_segment"),
    output:
        seg="results/text/segmented/shard_{shard}.parquet",
    log:
        "logs/text_segment/{shard}.log",
    benchmark:
        "benchmarks/out/text_segment/{shard}.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config=declared("text_segment"),
        sources=sources(config["paths"]["keywords"]),
    script:
        "../scripts/run_step.py"


rule keyword_vectors:
    """Phrases and word2vec on the segmented corpus, deterministic (one worker, fixed seed and hash), with
    each word's corpus frequency, document frequency by year and example contexts."""
    input:
        seg=expand(
            "results/text/segmented/shard_{shard}.parquet", shard=range(N_SHARDS)
        ),
        keywords=config["paths"]["keywords"],
        code=code("keyword_vectors"),
    output:
        vectors="results/text/w2v/vectors.bin",
        vocab="results/text/w2v/vocab.parquet",
    log:
        "logs/keyword_vectors.log",
    benchmark:
        "benchmarks/out/keyword_vectors.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        config=declared("keyword_vectors"),
        sources=sources(config["paths"]["keywords"]),
    script:
        "../scripts/run_step.py"


rule keyword_expansion:
    """Candidates per category from the seed words (results/text/keyword_candidates.csv, for curation) and
    the recall of the paper's Table 7 words at top-k."""
    input:
        vectors="results/text/w2v/vectors.bin",
        vocab="results/text/w2v/vocab.parquet",
        keywords=config["paths"]["keywords"],
        seeds=config["paths"]["keyword_seeds"],
        curation=config["paths"]["keyword_curation"],
        code=code("keyword_expansion"),
    output:
        candidates="results/text/keyword_candidates.csv",
        recall="results/text/expansion_recall.csv",
    log:
        "logs/keyword_expansion.log",
    benchmark:
        "benchmarks/out/keyword_expansion.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("keyword_expansion"),
        sources=sources(
            config["paths"]["keywords"],
            config["paths"]["keyword_seeds"],
            config["paths"]["keyword_curation"],
        ),
    script:
        "../scripts/run_step.py"


rule text_coverage:
    """MD&A coverage by year (reports read, MD&A found, hit rate) and the reason for every miss."""
    input:
        text=expand(
            "results/text/extracted/shard_{shard}.parquet", shard=range(N_SHARDS)
        ),
        code=code("text_coverage"),
    output:
        csv="results/tables/text_coverage.csv",
        md="results/tables/text_coverage.md",
    log:
        "logs/text_coverage.log",
    benchmark:
        "benchmarks/out/text_coverage.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=declared("text_coverage"),
    script:
        "../scripts/run_step.py"


rule expansion:
    """The seed-word expansion for curation (`snakemake --cores all expansion`): candidates per category and
    the recall of the paper's words; not part of `all` (it trains word vectors on the whole corpus).
    """
    input:
        # no annual reports (synth.reports false, or none in raw_dir): no corpus to train on
        (
            [
                "results/text/keyword_candidates.csv",
                "results/text/expansion_recall.csv",
            ]
            if TEXT_ENABLED
            else []
        ),
    localrule: True
