"""Snakemake adapter for intelcap.steps.analysis_panel."""
from intelcap import runner, steps

runner.run(snakemake, steps.analysis_panel)  # noqa: F821 - injected by Snakemake
