"""Snakemake adapter for intelcap.steps.read_ifr."""
from intelcap import runner, steps

runner.run(snakemake, steps.read_ifr)  # noqa: F821 - injected by Snakemake
