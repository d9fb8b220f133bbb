"""Snakemake adapter for intelcap.steps.rulegraph."""
from intelcap import runner, steps

runner.run(snakemake, steps.rulegraph)  # noqa: F821 - injected by Snakemake
