"""Steps of rules/measures.smk: capacity utilization, robot exposure, DEA efficiency and the text index."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import as_json, paths

log = logging.getLogger("intelcap")


def capacity_utilization(job: Job) -> None:
    from intelcap.measures import cu

    df = pd.read_parquet(job.input["panel"])
    c = job.config["cu"]
    res, diag = cu.estimate_cu(
        df[["Stkcd", "year", "industry", "Y", "K", "L"]],
        c["method"],
        predictor=c["predictor"],
        on_wrong_skew=c["on_wrong_skew"],
    )
    star = np.log(df["Y"] / df["K"])
    res = res.merge(
        pd.DataFrame({"Stkcd": df["Stkcd"], "year": df["year"], "lnCU_star": star}),
        on=["Stkcd", "year"],
        how="left",
        validate="1:1",
    )
    atomic.write_parquet(res, job.output["cu"])
    atomic.write_text(job.output["fit"], as_json(diag))


def robot_exposure(job: Job) -> None:
    from intelcap.measures import robots

    # the measure uses the panel's keys and IFR industry only: reading 3 of its columns saves ~0.7 GB at 4M rows
    df = pd.read_parquet(job.input["panel"], columns=["Stkcd", "year", "ifr"])
    exp, info = robots.robot_exposure(
        df,
        pd.read_parquet(job.input["ifr"]),
        pd.read_parquet(job.input["employment"]),
        pd.read_parquet(job.input["emp_structure"]),
        job.config["robots"],
    )
    atomic.write_parquet(exp, job.output["robots"])
    atomic.write_text(job.output["info"], as_json(info))


def dea_efficiency(job: Job) -> None:
    from intelcap.measures import dea

    df = pd.read_parquet(job.input["panel"])
    c = job.config["dea"]
    out = dea.efficiency_panel(
        df,
        frontier=c["frontier"],
        rts=c["rts"],
        orientation=c["orientation"],
        super_efficiency=bool(c["super_efficiency"]),
    )
    log.info("DEA: %d DMUs, status counts %s", len(out), out["dea_status"].value_counts().to_dict())
    atomic.write_parquet(out, job.output["dea"])


def text_extract(job: Job) -> None:
    """The text of one shard's reports (every file of a firm-year lands in one shard), cached as a file
    target: counting reads it, so a dictionary change never re-extracts a PDF."""
    from intelcap.measures import text, text_inventory

    shard = int(job.wildcards["shard"])
    c = job.config["text"]
    # the same pattern as the DAG-time inventory (rules/common.smk), so the job sees the files it was given
    try:
        files = text_inventory.shard_inventory(
            job.params["reports"], int(job.params["n_shards"]), c["name_pattern"]
        )[shard]
    except ValueError as e:  # a bad text.name_pattern (the message names the key)
        from intelcap.errors import InputError

        raise InputError(str(e), hint="fix text.name_pattern in the config") from e
    extracted = text.extract_shard(
        files, job.params["reports"], c["name_pattern"], min_chars_per_page=int(c["min_chars_per_page"])
    )
    log.info(
        "shard %d: %d files, status %s", shard, len(extracted), extracted["status"].value_counts().to_dict()
    )
    text.write_extracted(extracted, job.output["text"])


def counted_dictionary(job: Job):
    """The dictionary the text index counts, for every text job that names its words or categories
    (text.dictionary: paper -> paths.keywords; curated -> the seed and curation files, input "curated")."""
    from intelcap.measures import keyword_expansion

    curated = paths(job.input["curated"]) if job.config["text"]["dictionary"] == "curated" else [None, None]
    spec, _ = keyword_expansion.dictionary_spec(
        job.config["text"]["dictionary"], job.input["keywords"], *curated
    )
    return spec


def text_count(job: Job) -> None:
    """Keyword counts of one shard (the IM of the counted dictionary) and, in the same pass, the counts of every
    Table 8 variant (MD&A / full, negation off, characters, each dictionary of text.variants.dictionaries)."""
    from intelcap.measures import text

    spec = counted_dictionary(job)
    dictionaries = {}
    for name, path in job.config["text"]["variants"]["dictionaries"].items():
        alt = text.load_keywords(path)
        if (alt.negations, alt.neg_window, alt.mode) != (spec.negations, spec.neg_window, spec.mode):
            log.warning(
                "dictionary variant %r (%s): its negations/neg_window/mode are ignored; variants are counted "
                "with the rules of paths.keywords, so they differ in their keywords only",
                name,
                path,
            )
        dictionaries[name] = alt
    res = text.count_variants(text.read_extracted(job.input["text"]), spec, dictionaries)
    atomic.write_parquet(res.counts, job.output["counts"])
    atomic.write_csv(res.log, job.output["log"])
    atomic.write_parquet(res.variants, job.output["variants"])
    atomic.write_parquet(res.chars, job.output["chars"])


def text_variants(job: Job) -> None:
    """IM and its Table 8 variants per readable report (config text.variants), from text_count's counts."""
    from intelcap.measures import text_audit

    spec = counted_dictionary(job)
    variants = pd.concat([pd.read_parquet(p) for p in paths(job.input["variants"])], ignore_index=True)
    chars = pd.concat([pd.read_parquet(p) for p in paths(job.input["chars"])], ignore_index=True)
    measures, found = text_audit.variant_measures(
        variants, chars, spec.section, job.config["text"]["variants"]
    )
    log.info("IM variants: %s", ", ".join(f"{v.column} ({v.title})" for v in found))
    atomic.write_parquet(measures, job.output["measures"])
    info = pd.DataFrame({"column": [v.column for v in found], "title": [v.title for v in found]})
    atomic.write_csv(info, job.output["columns"])


def text_audit(job: Job) -> None:
    """Keyword and category frequencies by year (count, firms mentioning, share of reports)."""
    from intelcap.measures import text_audit as audit

    spec = counted_dictionary(job)  # the categories of the words that were counted
    counts = pd.read_parquet(job.input["counts"])
    rlog = pd.read_csv(job.input["log"], dtype={"Stkcd": str}, keep_default_na=False)
    rlog["year"] = pd.to_numeric(rlog["year"], errors="coerce").astype("Int64")
    atomic.write_csv(audit.keyword_audit(counts, rlog, spec.categories), job.output["csv"])


def text_index(job: Job) -> None:
    from intelcap.measures import text

    counts = pd.concat([pd.read_parquet(p) for p in paths(job.input["counts"])], ignore_index=True)
    rlog = pd.concat(
        [pd.read_csv(p, dtype={"Stkcd": str}, keep_default_na=False) for p in paths(job.input["logs"])],
        ignore_index=True,
    )
    rlog["year"] = pd.to_numeric(rlog["year"], errors="coerce").astype("Int64")
    counts = counts.sort_values(["Stkcd", "year", "category", "keyword"], kind="stable").reset_index(
        drop=True
    )
    rlog = rlog.sort_values("file", kind="stable").reset_index(drop=True)
    index = text.text_index(counts, rlog)
    atomic.write_parquet(counts, job.output["counts"])
    atomic.write_parquet(index, job.output["index"])
    atomic.write_csv(rlog, job.output["log"])
    # names and reasons only: shareable, and what a user must fix or accept (hidden files, e.g. Snakemake's own
    # .snakemake_timestamp in the synthetic folder, are neither: they stay in text_log.csv only)
    keep = ~rlog["status"].isin(["ok", "skipped"])
    atomic.write_csv(rlog[keep][["file", "status", "reason"]], job.output["unreadable"])


def text_segment(job: Job) -> None:
    """Tokens of one shard's cached text, the dictionary terms as single tokens (a file target: a seed or
    training change reruns the expansion, not this)."""
    from intelcap.measures import keyword_expansion as ke
    from intelcap.measures import text

    c = job.config["expansion"]
    seg = ke.Segmenter(text.load_keywords(job.input["keywords"]).keywords, c["segmenter"])
    out = ke.segment_shard(text.read_extracted(job.input["text"]), seg, c["corpus"])
    log.info(
        "shard %s: %d reports segmented (%s, corpus %s)",
        job.wildcards["shard"],
        len(out),
        seg.name,
        c["corpus"],
    )
    # row groups of the reports keyword_vectors decodes at a time: a shard in one group cost ~1.4 MB per report
    atomic.write_parquet(out, job.output["seg"], row_group_size=ke.READ_BATCH)


def keyword_vectors(job: Job) -> None:
    from intelcap.measures import keyword_expansion as ke
    from intelcap.measures import text

    params = ke.TrainParams.from_config(job.config["expansion"])
    kv, corpus = ke.train_vectors(
        paths(job.input["seg"]), text.load_keywords(job.input["keywords"]).keywords, params
    )
    log.info("word2vec: %d words x %d dimensions (%s)", len(kv), kv.vector_size, params)
    ke.write_vectors(kv, job.output["vectors"])
    atomic.write_parquet(ke.corpus_stats(corpus, kv.index_to_key), job.output["vocab"])


def keyword_expansion(job: Job) -> None:
    from intelcap.measures import keyword_expansion as ke
    from intelcap.measures import text

    seeds = ke.load_seeds(job.input["seeds"])
    curation = ke.load_curation(job.input["curation"])
    paper = text.load_keywords(job.input["keywords"])
    cand = ke.expand(
        ke.read_vectors(job.input["vectors"]),
        seeds,
        pd.read_parquet(job.input["vocab"]),
        dictionary=paper.category_of,
        decisions={kw: dec for kw, dec, *_ in curation.decisions},
    )
    recall = ke.recall_at_k(cand, paper.categories, seeds)
    for cat, k, n, found, _r in recall.itertuples(index=False, name=None):
        log.info("recall@%d %s: %d of %d paper keywords", k, cat, found, n)
    atomic.write_csv(cand, job.output["candidates"])
    atomic.write_csv(recall, job.output["recall"])


def text_coverage(job: Job) -> None:
    """MD&A coverage by year from the extraction cache: reports read, MD&A found, each miss with its reason."""
    from intelcap.measures import text

    cov, miss = text.mdna_coverage(text.read_for_coverage(p) for p in paths(job.input["text"]))
    atomic.write_csv(cov, job.output["csv"])
    shown = cov.astype(object).where(cov.notna(), "all")
    lines = [
        "# MD&A coverage of the annual reports",
        "",
        "Reports = files used for a firm-year (`ok` or `unreadable`); hit rate = MD&A found / read.",
        "",
        "| " + " | ".join(cov.columns) + " |",
        "|" + "---|" * len(cov.columns),
        *("| " + " | ".join(str(v) for v in r) + " |" for r in shown.itertuples(index=False)),
        "",
        f"## Misses ({len(miss)})",
        "",
    ]
    if miss.empty:
        lines.append("None: every readable report has an MD&A section.")
    else:
        lines += ["| file | year | miss | reason |", "|---|---|---|---|"]
        lines += [f"| {r.file} | {r.year} | {r.miss} | {r.reason} |" for r in miss.itertuples(index=False)]
    atomic.write_text(job.output["md"], "\n".join(lines) + "\n")
    log.info("MD&A coverage: %s", cov.iloc[-1].to_dict())
