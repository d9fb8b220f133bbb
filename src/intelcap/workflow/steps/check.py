"""Steps of rules/check.smk: the data check before a run (intelcap.ingest.check)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from intelcap import atomic
from intelcap.errors import InputError
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths

log = logging.getLogger("intelcap")


def check_data(job: Job) -> None:
    """Write the data report; never fails on what it finds (the `check` rule does, after the report exists:
    Snakemake deletes the outputs of a failed job)."""
    from intelcap.ingest import check
    from intelcap.measures import text_inventory

    reports = job.params["reports"]
    report = check.check_inputs(
        job.params["raw_dir"],
        job.config,
        reports_dir=reports,
        list_reports=text_inventory.list_reports,
        config_files=paths(job.input["config_files"]),
    )
    atomic.write_text(job.output["md"], report.to_markdown())
    atomic.write_csv(report.to_frame(), job.output["csv"])
    log.info("%s", report.summary())


def check(job: Job) -> None:
    """Print the data report's summary on the console; a blocking problem fails the target."""
    import csv  # not pandas: this job only prints, and runs on every `snakemake check`

    with open(job.input["csv"], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    n = {s: sum(r["severity"] == s for r in rows) for s in ("blocking", "warning", "info")}
    lines = [
        f"intelcap data check: {n['blocking']} blocking, {n['warning']} warning(s), {n['info']} info "
        f"(report: {job.input['md']})"
    ]
    for r in rows:
        if r["severity"] == "info":
            continue
        where = ", ".join(x for x in (r["table"], r["file"], r["field"]) if x)
        lines.append(f"  [{r['severity']}] {where}: {r['message']}")
        if r["rows"]:
            lines.append(f"      rows: {r['rows']}")
        if r["fix"]:
            lines.append(f"      fix: {r['fix']}")
    text = "\n".join(lines) + "\n"
    log.info("%s", text)
    if sys.stderr is not sys.__stderr__:  # the runner sends stderr to the log: the summary is for the console
        sys.__stderr__.write(text)
        sys.__stderr__.flush()
    if n["blocking"]:
        raise InputError(
            f"{n['blocking']} blocking problem(s) in the raw inputs",
            file=str(Path(job.input["md"])),
            hint="fix each as its `fix` column says, then run `snakemake --cores all check` again",
        )
