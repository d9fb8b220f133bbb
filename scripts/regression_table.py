"""Snakemake adapter for intelcap.steps.regression_table."""
from intelcap import runner, steps

runner.run(snakemake, steps.regression_table)  # noqa: F821 - injected by Snakemake
