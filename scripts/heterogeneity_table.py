"""Snakemake adapter for intelcap.steps.heterogeneity_table."""
from intelcap import runner, steps

runner.run(snakemake, steps.heterogeneity_table)  # noqa: F821 - injected by Snakemake
