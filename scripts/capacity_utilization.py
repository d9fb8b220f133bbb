"""Snakemake adapter for intelcap.steps.capacity_utilization."""
from intelcap import runner, steps

runner.run(snakemake, steps.capacity_utilization)  # noqa: F821 - injected by Snakemake
