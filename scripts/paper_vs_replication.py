"""Snakemake adapter for intelcap.steps.paper_vs_replication."""
from intelcap import runner, steps

runner.run(snakemake, steps.paper_vs_replication)  # noqa: F821 - injected by Snakemake
