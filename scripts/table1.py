"""Snakemake adapter for intelcap.steps.table1."""
from intelcap import runner, steps

runner.run(snakemake, steps.table1)  # noqa: F821 - injected by Snakemake
