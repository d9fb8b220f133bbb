"""Steps of the Stata-parity rules (rules/provenance.smk): the analysis panel as .dta and replicate.do."""

from __future__ import annotations

import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job


def stata_export(job: Job) -> None:
    """results/data/analysis_panel.dta: row-level, never shareable (tools/check_licensed.py flags it)."""
    from intelcap.outputs import stata
    from intelcap.outputs.labels import load_labels

    panel = pd.read_parquet(job.input["panel"])
    stata.write_dta(panel, job.output["dta"], load_labels(job.input["labels"]))


def stata_dofile(job: Job) -> None:
    """results/stata/replicate.do from the same model specs as the Python tables."""
    from intelcap.outputs import stata

    cfg = job.config
    text = stata.do_file(
        cfg["tables"], cfg["controls"], cfg["cluster"], dta=job.params["dta"], winsor=cfg["winsor"]
    )
    atomic.write_text(job.output["do"], text)
