"""Snakemake adapter for intelcap.steps.keyword_table."""
from intelcap import runner, steps

runner.run(snakemake, steps.keyword_table)  # noqa: F821 - injected by Snakemake
