"""Step of rules/provenance.smk: the provenance manifest (hashes of every raw input, config, versions)."""

from __future__ import annotations

from intelcap.workflow.runner import Job


def provenance(job: Job) -> None:
    from intelcap.workflow import manifest

    manifest.step(job)
