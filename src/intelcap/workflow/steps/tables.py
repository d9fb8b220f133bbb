"""Steps of rules/tables.smk: estimation of the paper's tables, each written as one full-precision CSV.
Rendering (md/tex/docx, labels, language) is a separate job: `intelcap.workflow.steps.render`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths

# Table 1's rows in the paper's order; mechanism variables follow when the analysis panel has them.
TABLE1_VARS = ["lnCU", "lnINT", "ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]


# The panel columns each named sample reads (econometrics.estimate.SAMPLES); a sample not listed here makes the
# job read the whole panel.
_SAMPLE_COLUMNS = {
    "all": [],
    "no_municipalities": ["Municipality"],
    "non_soe": ["SOE"],
    "soe": ["SOE"],
    "east": ["Region"],
    "central": ["Region"],
    "west": ["Region"],
    "high_tech": ["HighTech"],
    "non_high_tech": ["HighTech"],
    "labor": ["Intensity"],
    "capital": ["Intensity"],
    "technology": ["Intensity"],
}


def load_analysis_panel(job: Job, columns: list[str] | None = None) -> pd.DataFrame:
    """The analysis panel plus the table-specific measures (DEA efficiency, text index) listed as inputs.

    `columns`: read only these panel columns (None: all; see `_model_columns`)."""
    from intelcap.ingest import panel

    df = pd.read_parquet(job.input["panel"], columns=columns)
    for path in paths(job.input.get("measures", [])):
        m = pd.read_parquet(path)
        keep = ["Stkcd", "year"] + [c for c in m.columns if c not in df.columns]
        df = panel.merge_measure(df, m[keep], Path(path).stem)  # counts unmatched rows, never drops silently
    return df


def table1(job: Job) -> None:
    from intelcap.econometrics import estimate

    df = load_analysis_panel(job)
    variables = [v for v in TABLE1_VARS + list(job.params["mechanisms"]) if v in df.columns]
    atomic.write_csv(estimate.descriptive_table(df, variables), job.output["csv"])


def _model_columns(job: Job, specs: list, samples: list[str]) -> list[str] | None:
    """The panel columns the models and samples name (the panel has ~35; at 4M rows the unused ones cost ~1 GB
    per table job), in the file's order; None (the whole panel) when a name is not in the file or a sample's
    columns are not known, so a misspelt variable still gets the full panel's error message."""
    import pyarrow.parquet as pq

    controls = list(job.config["controls"])
    names = {"Stkcd", "year", job.config["cluster"]}
    for spec in specs:
        names.update(spec.variables(controls), spec.fe_vars())
        samples = [*samples, spec.sample]
    if any(s not in _SAMPLE_COLUMNS for s in samples):
        return None
    names.update(c for s in samples for c in _SAMPLE_COLUMNS[s])
    schema = pq.read_schema(job.input["panel"]).names
    measures = {c for p in paths(job.input.get("measures", [])) for c in pq.read_schema(p).names}
    if not names <= set(schema) | measures:
        return None
    return [c for c in schema if c in names]


def _configured_table(job: Job, samples: list[str] | None = None):
    """Fit the models of table `params.table` (config `tables:`) on the analysis panel: panel, specs, rows.
    `samples`: further named samples the caller's own models use (their columns are read too)."""
    from intelcap.econometrics import estimate

    specs = [estimate.ModelSpec.from_dict(m) for m in job.config["tables"][job.params["table"]]]
    df = load_analysis_panel(job, _model_columns(job, specs, samples or []))
    res = estimate.regression_table(df, specs, job.config["controls"], job.config["cluster"])
    return df, specs, res


def regression_table(job: Job) -> None:
    _, _, res = _configured_table(job)
    atomic.write_csv(res, job.output["csv"])


def iv_table(job: Job) -> None:
    """Table 4: first stage and 2SLS, with the second stage's `_cons`, first-stage F, effective F and the
    Anderson-Rubin set."""
    from intelcap.econometrics import estimate

    df, specs, res = _configured_table(job)
    controls, cluster = job.config["controls"], job.config["cluster"]
    level = float(job.config["heterogeneity"]["ar_level"])
    stats_rows = [
        r for s in specs if s.endog for r in estimate.iv_statistics(df, s, controls, cluster, level)
    ]
    res = pd.concat([res, pd.DataFrame(stats_rows, columns=estimate.RESULT_COLUMNS)], ignore_index=True)
    atomic.write_csv(res, job.output["csv"])


def heterogeneity_table(job: Job) -> None:
    """Table 6 and its group-difference tests (interacted model, permutation)."""
    from intelcap.econometrics import estimate

    het = job.config["heterogeneity"]
    df, specs, res = _configured_table(job, [s for pair in het["pairs"] for s in pair])
    atomic.write_csv(res, job.output["csv"])
    diff = estimate.group_differences(
        df,
        het["pairs"],
        specs[0].depvar,
        specs[0].regressors[0],
        job.config["controls"],
        job.config["cluster"],
        int(het["permutation_reps"]),
        int(job.config["seed"]),
    )
    atomic.write_csv(diff, job.output["diff_csv"])


def keyword_table(job: Job) -> None:
    """Table 7: the dictionary the text index counts (text.dictionary), one row per keyword and its origin."""
    from intelcap.measures import keyword_expansion

    dictionary = job.config["text"]["dictionary"]
    curated = paths(job.input["curated"]) if dictionary == "curated" else [None, None]
    spec, origin = keyword_expansion.dictionary_spec(dictionary, job.input["keywords"], *curated)
    long = pd.DataFrame(
        [(c, i + 1, k, origin[k]) for c, ks in spec.categories.items() for i, k in enumerate(ks)],
        columns=["category", "order", "keyword", "origin"],
    )
    atomic.write_csv(long, job.output["csv"])


def table8_variants(job: Job) -> None:
    """Table 8 with IM replaced by each of its variants (results/measures/text_variants.parquet), every model
    of `tables.table8` fitted as in Table 8 (the same estimate.regression_table)."""
    import dataclasses

    from intelcap.econometrics import estimate
    from intelcap.errors import InputError

    df = load_analysis_panel(job)
    info = pd.read_csv(job.input["columns"], keep_default_na=False)
    base = [estimate.ModelSpec.from_dict(m) for m in job.config["tables"]["table8"]]
    if any("IM" not in s.regressors for s in base):
        raise InputError(
            "a model of tables.table8 has no regressor IM, so it has no variants",
            column="tables.table8",
            hint="give every model of config `tables.table8` the regressor IM",
        )
    specs, variant_of = [], {}
    for s in base:
        for v in info.itertuples():
            name = f"({len(specs) + 1})"
            title = v.title if len(base) == 1 else f"{s.name} {v.title}"
            regs = [v.column if r == "IM" else r for r in s.regressors]
            specs.append(dataclasses.replace(s, name=name, regressors=regs, column_title=title))
            variant_of[name] = v.column
    res = estimate.regression_table(df, specs, job.config["controls"], job.config["cluster"])
    # one IM row across the columns: the column title says which variant it is
    is_variant = res["term"] == res["model"].map(variant_of)
    res.loc[is_variant, "term"] = "IM"
    res["variant"] = res["model"].map(variant_of)
    atomic.write_csv(res, job.output["csv"])
