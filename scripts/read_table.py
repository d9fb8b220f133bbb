"""Snakemake adapter for intelcap.steps.read_table."""
from intelcap import runner, steps

runner.run(snakemake, steps.read_table)  # noqa: F821 - injected by Snakemake
