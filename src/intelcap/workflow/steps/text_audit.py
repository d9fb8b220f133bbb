"""Rendering step of the text audit (rules/figures.smk: render_text_audit): the Markdown view of
results/tables/text_audit_keywords.csv and its figure, with labels and `output.lang`. The counting and the
frequencies are computed by rules/measures.smk (text_count, text_audit); this job only draws them."""

from __future__ import annotations

from intelcap.workflow.runner import Job


def render_text_audit(job: Job) -> None:
    import pandas as pd

    from intelcap.outputs import figures, tables
    from intelcap.outputs.tables import TableStyle

    audit = pd.read_csv(job.input["csv"], keep_default_na=False, na_values=[""])
    lang = job.config["output"]["lang"]
    style = TableStyle(lang=lang, title="text_audit_keywords", labels_path=job.input["labels"])
    # years as text: the frame renderer would print 2,015 (thousands separator)
    view = audit.fillna("").astype({"year": str})
    tables.write_table("frame", view, {"md": job.output["md"]}, style)
    out = {k: v for k, v in job.output.items() if k in ("png", "pdf")}
    figures.figure_text_audit(audit, out, lang=lang, labels_path=job.input["labels"])
