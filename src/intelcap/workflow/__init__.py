"""Workflow glue: the rule registry, the Snakemake job runner and one step module per `rules/<stage>.smk`."""

__all__ = ["config", "manifest", "registry", "runner", "scratch", "steps"]
