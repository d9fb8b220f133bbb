"""Steps of the rendering rules (rules/tables.smk, rules/figures.smk, rules/robustness.smk): md/tex/docx and
figures drawn from the full-precision CSVs, with labels and `output` settings. Estimation never reads these
settings, so changing language, SE/t, digits or a label reruns these jobs only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths

# pandas is imported by the steps that read frames, not by tables_pdf, the rule graph or the table renderings
# (which read their CSV as `outputs.csvrows` rows)
if TYPE_CHECKING:
    import pandas as pd

    from intelcap.outputs.csvrows import Rows


def table_style(job: Job, title: str, **kw):
    """The display style from config `output` (language, SE or t, digits) and the labels file."""
    from intelcap.outputs.tables import TableStyle

    out = job.config["output"]
    base = {"lang": out["lang"], "paren": out["paren"], "digits": int(out["digits"])}
    return TableStyle(**{**base, **kw}, title=title, labels_path=job.input["labels"])


def read_result(path: str) -> pd.DataFrame:
    """A table's CSV as written by its estimation job (empty cells stay missing, text stays text), for the
    figures; the table renderings read the same values without pandas (`outputs.csvrows.read_rows`)."""
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _formats(job: Job) -> dict:
    return {k: v for k, v in job.output.items() if k in ("md", "tex", "docx")}


def _figure_paths(job: Job, suffix: str = "") -> dict:
    return {
        k.removesuffix(suffix): v
        for k, v in job.output.items()
        if k.removesuffix(suffix) in ("png", "pdf", "svg") and k.endswith(suffix)
    }


def _inference_display(long: Rows, digits: int = 4) -> Rows:
    """Rendered view of the inference table: model, method, estimate, SE, p, CI, clusters."""
    import math

    from intelcap.errors import InputError
    from intelcap.outputs.csvrows import MISSING, Rows
    from intelcap.outputs.stars import is_missing

    def f(v: float) -> str:
        return "" if is_missing(v) or not math.isfinite(float(v)) else f"{float(v):.{digits}f}"

    def clusters(r: dict) -> object:
        if is_missing(r["n_clusters"]):
            raise InputError(
                "inference table has a row without its number of clusters",
                file=long.source,
                column="n_clusters",
                rows=[r["model"], r["method"]],
                hint="rerun rule inference_table",
            )
        return MISSING if is_missing(r["cluster"]) else f"{int(r['n_clusters'])} ({r['cluster']})"

    long.require(["model", "method", "estimate", "std_error", "p_value", "ci_text", "n_clusters", "cluster"])
    rows = [
        {
            "Model": r["model"],
            # the method key: labels.yaml inference_methods words it in the table's language
            "Method": r["method"],
            "Estimate": f(r["estimate"]),
            "SE": f(r["std_error"]),
            "p-value": f(r["p_value"]),
            "95% CI": r["ci_text"],
            "Clusters": clusters(r),
        }
        for r in long
    ]
    return Rows(["Model", "Method", "Estimate", "SE", "p-value", "95% CI", "Clusters"], rows, long.source)


def _write_all(job: Job, kind: str, data, style) -> None:
    """md/tex/docx through `outputs.tables`, then the outputs built on them: the standalone LaTeX document
    (`{name}_standalone.tex`) and the HTML page, all drawn from one grid of the table (built once: a job
    built it four times, once per format), written once all are rendered."""
    from intelcap.outputs import html, latex, tables

    grid = tables.table_grid(kind, data, style)
    formats = _formats(job)
    drawn = tables.draw_grid(grid, kind, formats, style)
    files = {formats[fmt]: content for fmt, content in drawn.items()}
    if "standalone" in job.output:
        files[job.output["standalone"]] = latex.latex_document(drawn["tex"], style.lang)
    if "html" in job.output:
        files[job.output["html"]] = html.grid_page(grid, kind, style)
    tables.write_files(files)


def render_table(job: Job) -> None:
    """md/tex/docx/html and the standalone LaTeX of one paper table (or the inference table) from its CSV,
    read as rows without pandas (a third of the job's time, on the path of every table edit)."""
    from intelcap.outputs import csvrows, tables
    from intelcap.outputs.stars import is_missing

    name = job.wildcards["name"]
    rows = csvrows.read_rows(job.input["csv"])
    if name == "table1":
        _write_all(job, "descriptive", rows, table_style(job, name))
    elif name == "table7":
        cats: dict[str, list[tuple[str, str]]] = {}
        # missing orders last, as pandas sorts them; a stable sort keeps the CSV's order among equals
        rows.require(["category", "order", "keyword"])
        for row in sorted(
            rows, key=lambda r: (is_missing(r["order"]), 0 if is_missing(r["order"]) else r["order"])
        ):
            # (keyword, origin): words not from the paper's list are marked (seed, expanded, hand)
            origin = str(row["origin"]) if "origin" in rows.columns else "paper"
            cats.setdefault(str(row["category"]), []).append((str(row["keyword"]), origin))
        order = list(dict.fromkeys(str(c) for c in rows.column("category")))
        _write_all(job, "keywords", {c: cats[c] for c in order}, table_style(job, name))
    elif name == "inference":
        _write_all(job, "frame", _inference_display(rows), table_style(job, name, frame="inference"))
    else:
        # rows, digits and indicator rows of config output.layout / output.layouts / output.tables
        style = tables.layout_style(name, job.config["output"], job.config.get("controls") or ())
        models = {m for m in rows.column("model") if not is_missing(m)}
        if name == "table6" and len(models) == 10:
            style["column_groups"] = (("ownership", 2), ("region", 3), ("industry", 2), ("intensity", 3))
        _write_all(job, "regression", rows, table_style(job, name, **style))


def _comparison_note(job: Job, implied: list[dict]) -> str:
    """The note under the comparison table; `implied`: the rows of `compare.implied_lncu_means_rows`."""
    values = [f"{r['implied_mean_lnCU']:.3f}" for r in implied]
    if job.config["output"]["lang"] == "zh":
        # the Chinese note names the methods chapter in words: a file path would be Latin text
        return (
            "表1中 lnCU 的均值为 2.414（最大值 6.399），不可能是 (0,1] 区间内产能利用率的对数；由表2常数项推算的 lnCU "
            "均值为 " + "、".join(values) + "（详见项目方法文档“表1中的 lnCU”一节）。"
        )
    return (
        "Table 1 reports mean lnCU = 2.414 (max 6.399), impossible for ln of CU in (0, 1]; the constants of "
        "Table 2 imply mean lnCU of "
        + ", ".join(values)
        + " (docs/methods.md#table1-lncu). The replication's lnCU is "
        "the log of a frontier CU."
    )


# Markdown-only tables: their title in labels.yaml and which columns they show
_FRAMES = {
    "sample_attrition": ("attrition", None),
    "table6_differences": ("table6_differences", "drop_seed"),
    "paper_vs_replication": ("comparison", None),
    "coverage": (
        "coverage",
        [
            "scenario",
            "estimator",
            "method",
            "n_reps",
            "coverage_beta",
            "coverage_ame",
            "mean_se",
            "sd_estimate",
            "mean_estimate",
            "mean_true_ame",
            "bias_vs_beta",
        ],
    ),
    "placebo": ("placebo", None),
    "one_step_sfa": ("one_step_sfa", None),
}


def render_frame(job: Job) -> None:
    """The Markdown view of a plain results table (attrition, group differences, robustness)."""
    _frame_markdown(job, job.wildcards["name"], job.input["csv"], job.output["md"])


def _frame_markdown(job: Job, name: str, csv: str, md: str, notes: list[str] | None = None) -> None:
    """`md`: the Markdown of the results table written as `csv` (read back from the file, so that the view shows
    the numbers as stored; as rows, without pandas)."""
    from intelcap.outputs import csvrows, tables

    title, columns = _FRAMES[name]
    # the attrition table's empty cells are text, as pd.read_csv(keep_default_na=False) read them
    rows = csvrows.read_rows(csv, empty="text") if name == "sample_attrition" else read_frame(csv)
    if columns == "drop_seed":
        rows = rows.drop(["seed"])
    elif columns:
        rows = rows.select(columns)
    style = table_style(job, title, notes=notes or [], frame=name)
    tables.write_table("frame", rows, {"md": md}, style)


def compare_with_paper(job: Job) -> None:
    """Each coefficient the paper reports next to ours (and the DGP's truth) -> CSV, its Markdown (with the note
    on Table 1's lnCU) and the lnCU means implied by Table 2's constants; every claim of the paper's ledger
    evaluated on our tables -> claims.{csv,md}. The tables are read as CSV rows (`outputs.csvrows`): the job
    looks up cells, and importing pandas was a third of it."""
    import json
    import logging

    from intelcap import atomic
    from intelcap.outputs import claims, compare, csvrows

    def read_rows(path: str) -> list[dict]:
        return csvrows.read_rows(path).rows

    ledger = claims.load_ledger(job.input["ledger"])
    tables = {Path(p).stem: read_rows(p) for p in paths(job.input["tables"])}
    truth_paths = paths(job.input.get("truth", []))
    truth = json.loads(Path(truth_paths[0]).read_text(encoding="utf-8")) if truth_paths else None

    paper = compare.paper_from_ledger(ledger)
    rows = compare.paper_vs_replication_rows(paper, tables, truth)
    atomic.write_records_csv(rows, job.output["csv"], integers=compare.COUNTS)
    implied = compare.implied_lncu_means_rows(paper)
    atomic.write_records_csv(implied, job.output["implied"])
    note = _comparison_note(job, implied)
    _frame_markdown(job, "paper_vs_replication", job.output["csv"], job.output["md"], [note])

    result = claims.evaluate_rows(ledger, {**tables, "ifr_global": read_rows(job.input["ifr_global"])}, truth)
    atomic.write_records_csv(result, job.output["claims_csv"], columns=claims.COLUMNS)
    atomic.write_text(job.output["claims_md"], claims.to_markdown(result))
    logging.getLogger("intelcap").info("claims: %s", claims.summary(result))


def read_frame(path: str) -> Rows:
    """`read_result`'s values as rows (`outputs.csvrows`, no pandas), with the columns whose every cell is written
    as an integer (a count with gaps, which pandas would read as float: N = 10035.0) kept as integers, so they
    print as integers."""
    from intelcap.outputs import csvrows

    return csvrows.read_rows(path, int_gaps=True)


def coefplot(job: Job) -> None:
    """Table 6's coefficient plot, drawn from its CSV so that the figure shows exactly the published numbers."""
    from intelcap.outputs import figures

    figures.figure_coefplot(
        read_result(job.input["csv"]),
        _figure_paths(job),
        lang=job.config["output"]["lang"],
        labels_path=job.input["labels"],
    )


def coverage_figure(job: Job) -> None:
    import pandas as pd

    from intelcap.outputs import figures

    mc = job.config["robustness"]["monte_carlo"]
    summary = read_result(job.input["csv"])
    target = mc["figure_target"]
    fig = summary[summary["estimator"] == mc["figure_estimator"]]
    fig = pd.DataFrame(
        {
            "scenario": fig["scenario"],
            "method": fig["method"],
            "coverage": fig[f"coverage_{target}"],
            "n_reps": fig["n_reps"],
        }
    )
    figures.figure_coverage(
        fig, _figure_paths(job), lang=job.config["output"]["lang"], nominal=float(mc["level"])
    )


def placebo_figure(job: Job) -> None:
    from intelcap.outputs import figures

    mode = job.wildcards["mode"]
    draws = read_result(job.input["draws"])
    row = read_result(job.input["summary"]).set_index("mode").loc[mode]
    b = draws.loc[draws["mode"] == mode, "coef"].to_numpy()
    figures.figure_placebo(
        b,
        float(row["actual"]),
        _figure_paths(job),
        lang=job.config["output"]["lang"],
        p_value=float(row["p_empirical"]),
    )


def spec_curve_figure(job: Job) -> None:
    from intelcap.outputs import figures

    specs = read_result(job.input["csv"])
    is_ok = specs["status"] == "ok"
    ok = specs[is_ok].drop(columns=["status", "fixed_effects", "reason"], errors="ignore")
    # the figure says how many specifications have no estimate and why (spec_curve.csv's reason column)
    reasons = (
        specs.loc[~is_ok, "reason"].fillna("estimation_error")
        if "reason" in specs.columns
        else specs.loc[~is_ok, "status"].str.split(":").str[0]
    )
    figures.figure_spec_curve(
        ok,
        _figure_paths(job),
        lang=job.config["output"]["lang"],
        choices=["cu", "winsor", "controls", "fe", "sample"],
        missing=reasons.astype(str).value_counts(sort=False).to_dict(),
    )


def tables_pdf(job: Job) -> None:
    """results/paper/tables.pdf: every paper table's LaTeX fragment in one document, compiled with xelatex
    (fails naming the Debian packages to install when xelatex is missing)."""
    from intelcap.atomic import write_text
    from intelcap.outputs import latex, pdf

    bodies = [Path(p).read_text(encoding="utf-8") for p in job.input["tex"]]
    doc = latex.tables_document(bodies, job.config["output"]["lang"])
    write_text(job.output["tex"], doc)
    pdf.compile_latex(doc, job.output["pdf"], "xelatex")


def rulegraph_figure(job: Job) -> None:
    """The workflow's own rule graph (appendix figure)."""
    from intelcap.outputs import rulegraph

    dot = Path(job.input["dot"]).read_text(encoding="utf-8")
    rulegraph.figure_rulegraph(dot, _figure_paths(job), lang=job.config["output"]["lang"])


def figure1(job: Job) -> None:
    """Figure 1 as in the paper (research framework) with the replicated coefficients; the drawn labels as CSV.
    The tables are read as CSV rows: the figure needs a few cells, and pandas would be a third of the job."""
    import csv

    from intelcap.atomic import write_records_csv
    from intelcap.outputs import framework

    spec = framework.load_framework(job.input["framework"])
    tables = {}
    for p in paths(job.input["tables"]):
        with open(p, encoding="utf-8", newline="") as fh:
            tables[Path(p).stem] = list(csv.DictReader(fh))
    labels = framework.figure_framework(spec, tables, _figure_paths(job), lang=job.config["output"]["lang"])
    write_records_csv(labels, job.output["labels"])


def figure2(job: Job) -> None:
    from intelcap.outputs import figures

    figures.figure_installations(
        job.input["installations"],
        _figure_paths(job),
        lang=job.config["output"]["lang"],
        vintage=job.params["vintage"],
    )


def render_text_audit(job: Job) -> None:
    """The Markdown view of the keyword audit table and its figure (labels, output.lang); the counts and
    frequencies come from rules text_count and text_audit."""
    import pandas as pd

    from intelcap.outputs import figures, tables
    from intelcap.outputs.tables import TableStyle

    audit = pd.read_csv(job.input["csv"], keep_default_na=False, na_values=[""])
    lang = job.config["output"]["lang"]
    style = TableStyle(
        lang=lang, title="text_audit_keywords", labels_path=job.input["labels"], frame="text_audit_keywords"
    )
    # years as text: the frame renderer would print 2,015 (thousands separator)
    view = audit.fillna("").astype({"year": str})
    tables.write_table("frame", view, {"md": job.output["md"]}, style)
    out = {k: v for k, v in job.output.items() if k in ("png", "pdf")}
    figures.figure_text_audit(audit, out, lang=lang, labels_path=job.input["labels"])
