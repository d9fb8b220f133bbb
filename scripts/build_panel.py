"""Snakemake adapter for intelcap.steps.build_panel."""
from intelcap import runner, steps

runner.run(snakemake, steps.build_panel)  # noqa: F821 - injected by Snakemake
