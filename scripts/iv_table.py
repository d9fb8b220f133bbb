"""Snakemake adapter for intelcap.steps.iv_table."""
from intelcap import runner, steps

runner.run(snakemake, steps.iv_table)  # noqa: F821 - injected by Snakemake
