"""Snakemake adapter for intelcap.steps.firm_attributes."""
from intelcap import runner, steps

runner.run(snakemake, steps.firm_attributes)  # noqa: F821 - injected by Snakemake
