"""Snakemake adapter for intelcap.steps.dea_efficiency."""
from intelcap import runner, steps

runner.run(snakemake, steps.dea_efficiency)  # noqa: F821 - injected by Snakemake
