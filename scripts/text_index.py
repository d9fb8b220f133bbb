"""Snakemake adapter for intelcap.steps.text_index."""
from intelcap import runner, steps

runner.run(snakemake, steps.text_index)  # noqa: F821 - injected by Snakemake
