"""Snakemake adapter for intelcap.steps.synthesize_reports."""
from intelcap import runner, steps

runner.run(snakemake, steps.synthesize_reports)  # noqa: F821 - injected by Snakemake
