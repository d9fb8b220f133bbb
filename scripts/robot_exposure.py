"""Snakemake adapter for intelcap.steps.robot_exposure."""
from intelcap import runner, steps

runner.run(snakemake, steps.robot_exposure)  # noqa: F821 - injected by Snakemake
