"""Steps of rules/data.smk: the seeded synthetic stand-in and the vendor-file readers."""

from __future__ import annotations

import logging
from pathlib import Path

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import read_csv_config

log = logging.getLogger("intelcap")


def synthesize(job: Job) -> None:
    from intelcap import synth

    out_dir = Path(job.params["out_dir"])
    truth = synth.write_vendor_files(job.config, out_dir, read_csv_config(job.input["crosswalk"]))
    log.info("synthetic vendor files written to %s; true beta(lnINT) = %s", out_dir,
             truth["estimands"]["lnINT_on_lnCU_true"])


def synthesize_reports(job: Job) -> None:
    from intelcap import synth

    folder = synth.write_report_corpus(job.config, job.params["out_dir"], read_csv_config(job.input["crosswalk"]))
    log.info("synthetic annual reports written to %s", folder)


def read_table(job: Job) -> None:
    from intelcap import io

    table = job.wildcards["table"]
    df = io.load_table(job.input["table"], job.config["csmar"][table], table)
    log.info("%s: %d rows after keeping consolidated year-end statements", table, len(df))
    atomic.write_parquet(df, job.output["parquet"])


def read_ifr(job: Job) -> None:
    from intelcap import io

    robots, emp = io.read_ifr(job.input["robots"], job.input["employment"])
    atomic.write_parquet(robots, job.output["robots"])
    atomic.write_parquet(emp, job.output["employment"])
