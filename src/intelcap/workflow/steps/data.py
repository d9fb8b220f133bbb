"""Steps of rules/data.smk: the seeded synthetic stand-in and the vendor-file readers."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from intelcap import atomic
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import paths, read_csv_config

log = logging.getLogger("intelcap")


def synthesize(job: Job) -> None:
    from intelcap.synthetic import dgp as synth

    out_dir = Path(job.params["out_dir"])
    # the job's threads become generator processes (large panels only; same bytes for any number)
    truth = synth.write_vendor_files(
        job.config, out_dir, read_csv_config(job.input["crosswalk"]), workers=job.threads
    )
    log.info(
        "synthetic vendor files written to %s; true beta(lnINT) = %s",
        out_dir,
        truth["estimands"]["lnINT_on_lnCU_true"],
    )


def synthesize_reports(job: Job) -> None:
    from intelcap.synthetic import dgp as synth

    folder = synth.write_report_corpus(
        job.config, job.params["out_dir"], read_csv_config(job.input["crosswalk"])
    )
    log.info("synthetic annual reports written to %s", folder)


def read_table(job: Job) -> None:
    from intelcap.ingest import readers as io

    table = job.wildcards["table"]
    notes: list[dict] = []
    df = io.load_table(paths(job.input["table"]), job.config["csmar"][table], table, notes)
    log.info("%s: %d rows after keeping consolidated year-end statements", table, len(df))
    atomic.write_parquet(df, job.output["parquet"])
    atomic.write_csv(reader_notes(notes, table), job.output["notes"])


def read_ifr(job: Job) -> None:
    from intelcap.ingest import readers as io

    notes: list[dict] = []
    robots, emp = io.read_ifr(job.input["robots"], job.input["employment"], job.config["ifr"], notes)
    atomic.write_parquet(robots, job.output["robots"])
    atomic.write_parquet(emp, job.output["employment"])
    atomic.write_csv(reader_notes(notes, "IFR"), job.output["notes"])


def reader_notes(notes: list[dict], table: str) -> pd.DataFrame:
    """A reader's decisions (parts combined, duplicates dropped, units converted, ids repaired, aggregates
    dropped) in the sample-notes layout; counts are rows of the raw file."""
    rows = [
        {
            "item": f"{n.get('table') or table}: {n['item']}",
            "firm_years": int(n["rows"]),
            "decision": f"{n['decision']} (raw-file rows)",
        }
        for n in notes
    ]
    return pd.DataFrame(rows, columns=["item", "firm_years", "decision"])
