"""Which files make a CSMAR table in a download folder: the file names and numbered parts a table's
`csmar.<TABLE>.file` entry stands for. Standard library only: Snakemake's own process lists a user's files
with it when it builds the DAG (rules/common.smk `csmar_files`), and importing the readers' pandas and pyarrow
there cost ~0.3 s of every `snakemake` with `raw_dir` set, no-op and dry runs included."""

from __future__ import annotations

import difflib
import logging
import os
import re
from pathlib import Path

from intelcap.errors import InputError, clip

__all__ = ["ACCEPTED_SUFFIXES", "NOT_READ", "os_error", "present_table_files", "table_files", "table_stems"]

# the readers' logger: the lines a user greps for did not change name when this moved out of the readers
log = logging.getLogger("intelcap.ingest.readers")

# ------------------------------------------------------------------ which files make a table
# A CSMAR table is every file of its stem in an accepted format: large downloads come split into numbered
# parts (FS_Combas.csv, FS_Combas1.csv, ...), browsers number repeated downloads (FS_Combas (1).csv), and a
# user may save the same stem as xlsx instead of csv. The extension in `csmar.<TABLE>.file` therefore only
# tells the synthetic generator which format to write; the reader takes the stem.
ACCEPTED_SUFFIXES = (".csv", ".xlsx", ".txt")
NOT_READ = (
    ".xls",
    ".xlsm",
    ".zip",
    ".rar",
    ".7z",
    ".gz",
    ".dbf",
    ".sas7bdat",
    ".dta",
    ".sav",
    ".json",
    ".xml",
)


def table_stems(file: str | list[str]) -> list[str]:
    """The stems named by a `csmar.<TABLE>.file` entry (a name with or without extension, or a list)."""
    names = [file] if isinstance(file, str) else list(file)
    return [
        str(Path(n).with_suffix("")) if Path(n).suffix.lower() in ACCEPTED_SUFFIXES else str(n) for n in names
    ]


def _part_pattern(stem: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(stem)}(?:[ _-]?\(?(\d{{1,3}})\)?)?(\.csv|\.xlsx|\.txt)$", re.IGNORECASE)


def table_files(folder: str | Path, spec: dict | str | list[str], table: str = "") -> list[Path]:
    """Every file in `folder` that belongs to the table: for each stem of `spec["file"]` (or of `spec` itself,
    a name or list of names), `<stem>.csv|.xlsx|.txt` and its numbered parts (`<stem>1.csv`, `<stem>_2.csv`,
    `<stem> (3).csv`), in part order. Names match case-insensitively. Raises `InputError` when a stem has no
    file, naming what is there instead (an unzipped archive, an .xls, a similar name).

    This is what the `read_table` rule lists as its input for user data (raw_dir set)."""
    folder = Path(folder)
    file = spec["file"] if isinstance(spec, dict) else spec
    key = f"csmar.{table}.file" if table else "csmar.<TABLE>.file"
    found: list[Path] = []
    for stem in table_stems(file):
        where, name = (folder / stem).parent, Path(stem).name
        try:
            present = sorted(os.listdir(where)) if where.is_dir() else []
        except OSError as exc:
            raise os_error(exc, "cannot list the folder", where, "check the folder's permissions") from exc
        pat = _part_pattern(name)
        hits = []
        for n in present:
            m = pat.match(n)
            if m:
                hits.append(
                    ((int(m.group(1) or 0), ACCEPTED_SUFFIXES.index(m.group(2).lower()), n), where / n)
                )
        if not hits:
            same = [n for n in present if n.lower().startswith(name.lower())]
            unread = [n for n in same if Path(n).suffix.lower() in NOT_READ]
            if unread:
                raise InputError(
                    f"table {table or name}: found {unread[:5]}, which the reader does not open",
                    file=str(where / unread[0]),
                    hint="unzip the download, or save the table as .csv (UTF-8), .xlsx or .txt "
                    "(tab-separated) under the same name",
                )
            close = difflib.get_close_matches(
                name.lower(), [clip(n, 60).lower() for n in present], n=3, cutoff=0.6
            )
            raise InputError(
                f"table file not found: no {name}.csv, .xlsx or .txt (or numbered part such as "
                f"{name}1.csv) in {where}" + (f"; similar names there: {close}" if close else ""),
                file=str(where / name),
                hint=f"put the CSMAR download there or set its name (extension optional) as `{key}` "
                "in config/config.yaml (csmar:)",
            )
        hits.sort()
        ignored = [
            n
            for n in present
            if n.lower().startswith(name.lower()) and (where / n) not in {p for _, p in hits}
        ]
        if ignored:
            log.info(
                "%s: files starting with %r not read as parts of the table: %s", where, name, ignored[:10]
            )
        found += [p for _, p in hits if p not in found]
    return found


def os_error(exc: OSError, what: str, path: Path, hint: str) -> InputError:
    """The InputError for an OSError met while listing or reading `path`: `what`, then the OS's reason."""
    return InputError(f"{what} ({exc.strerror})", file=str(path), hint=hint)


def present_table_files(folder: str | os.PathLike, csmar: dict) -> list[str]:
    """Every file of every configured table that has any (`table_files`); a table without files is left out,
    not an error: the data check reports it with every other problem (rules/check.smk's input)."""
    out: list[str] = []
    for table, spec in csmar.items():
        try:
            out += [str(p) for p in table_files(folder, spec, table)]
        except InputError:
            continue
    return list(dict.fromkeys(out))
