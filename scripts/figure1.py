"""Snakemake adapter for intelcap.steps.figure1."""
from intelcap import runner, steps

runner.run(snakemake, steps.figure1)  # noqa: F821 - injected by Snakemake
