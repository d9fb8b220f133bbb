"""Snakemake adapter for intelcap.steps.figure2."""
from intelcap import runner, steps

runner.run(snakemake, steps.figure2)  # noqa: F821 - injected by Snakemake
