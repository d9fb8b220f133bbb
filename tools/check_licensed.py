#!/usr/bin/env python3
"""Fail if a git-tracked file looks like licensed vendor data or row-level output.

Licensed CSMAR/IFR extracts and firm-year outputs must never be committed (README: data availability). A file
is flagged when

* its path is row-level output: any ``*.parquet``/``*.feather``/``*.dta``/``*.sav``, or anything under
  ``data/`` or ``results/`` (both git-ignored: tracking one means it was forced in);
* its header row (csv/tsv/txt, UTF-8 or GB18030; first sheet row of an xlsx) carries CSMAR field codes:
  an identifier (``Stkcd``/``Symbol``) together with a report-date field (``Accper``, ``EndDate``,
  ``Reptdt``, ...) or vendor codes such as ``A001000000``, ``B001101000``, ``C001020000``, ``Y0601b``;
* it is an IFR-style table: columns ``country``, ``industry``, ``year`` and ``installations`` or
  ``operational_stock`` with more than ``--ifr-max-rows`` (default 20) data rows.

Small, deliberately synthetic test fixtures can be allowed by glob pattern in ``tools/licensed_allowlist.txt``
(one ``pattern  # reason`` per line) or with ``--allow PATTERN``.

Usage: ``python tools/check_licensed.py [--repo DIR]``; exit 0 clean, 1 flagged files (named on stderr),
2 not a git repository / git missing.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROW_LEVEL_SUFFIXES = {".parquet", ".feather", ".arrow", ".dta", ".sav", ".sas7bdat", ".rds", ".rdata"}
ROW_LEVEL_DIRS = ("data/", "results/")
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
ID_FIELDS = {"stkcd", "symbol"}
DATE_FIELDS = {"accper", "enddate", "reptdt", "sgnyear", "declaredate", "trddt"}
VENDOR_CODE = re.compile(r"^(?:[ABC]\d{9}|[ABC]0\d{2,8}[A-Za-z]?|Y\d{4}[a-z]?)$")
IFR_COLUMNS = {"country", "industry", "year"}
IFR_MEASURES = {"installations", "operational_stock"}
DEFAULT_ALLOWLIST = "tools/licensed_allowlist.txt"


def tracked_files(repo: Path) -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip() or "git ls-files failed")
    return [p for p in proc.stdout.decode("utf-8", errors="surrogateescape").split("\0") if p]


def load_allowlist(path: Path) -> list[str]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pattern = line.split("#", 1)[0].strip()
        if pattern:
            out.append(pattern)
    return out


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _split(line: str) -> list[str]:
    sep = "\t" if line.count("\t") > line.count(",") else ","
    return [c.strip().strip('"').strip() for c in line.split(sep)]


def text_header_and_rows(path: Path, max_bytes: int = 1 << 16) -> tuple[list[str], int]:
    """Header cells and the number of lines after the header (counted in a streaming pass)."""
    with open(path, "rb") as fh:
        head = fh.read(max_bytes)
        n_lines = head.count(b"\n")
        for block in iter(lambda: fh.read(1 << 20), b""):
            n_lines += block.count(b"\n")
    first = _decode(head).splitlines()[:1]
    return (_split(first[0]) if first else []), max(n_lines - 1, 0)


def xlsx_header_and_rows(path: Path) -> tuple[list[str], int]:
    try:
        with zipfile.ZipFile(path) as _:
            pass
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
        n = ws.max_row - 1 if ws.max_row else 0
        wb.close()
        return header, max(n, 0)
    except Exception:  # noqa: BLE001 - a file that is not a readable workbook is not a vendor table
        return [], 0


def classify(path: Path, rel: str, ifr_max_rows: int = 20) -> str | None:
    """Why the file looks licensed or row-level, or None."""
    suffix = path.suffix.lower()
    if suffix in ROW_LEVEL_SUFFIXES:
        return f"row-level binary table ({suffix})"
    if rel.startswith(ROW_LEVEL_DIRS):
        return f"under {rel.split('/', 1)[0]}/ (raw data and row-level results stay out of git)"
    if suffix in TEXT_SUFFIXES:
        header, n_rows = text_header_and_rows(path)
    elif suffix == ".xlsx":
        header, n_rows = xlsx_header_and_rows(path)
    else:
        return None
    low = {h.lower() for h in header}
    codes = sorted(h for h in header if VENDOR_CODE.match(h))
    if low & ID_FIELDS and (low & DATE_FIELDS or codes):
        shown = [h for h in header if h.lower() in ID_FIELDS | DATE_FIELDS] + codes
        return f"CSMAR-style header ({', '.join(shown[:6])}) with {n_rows} data row(s)"
    if IFR_COLUMNS <= low and low & IFR_MEASURES and n_rows > ifr_max_rows:
        return f"IFR-style table (country, industry, year, {', '.join(sorted(low & IFR_MEASURES))}) " \
               f"with {n_rows} rows"
    return None


def check(repo: Path, allow: list[str], ifr_max_rows: int = 20) -> list[tuple[str, str]]:
    flagged = []
    for rel in tracked_files(repo):
        if any(fnmatch.fnmatch(rel, pat) for pat in allow):
            continue
        path = repo / rel
        if not path.is_file():  # deleted in the working tree but still in the index: check the name only
            reason = classify(Path(rel), rel, ifr_max_rows) if Path(rel).suffix.lower() in ROW_LEVEL_SUFFIXES \
                or rel.startswith(ROW_LEVEL_DIRS) else None
        else:
            reason = classify(path, rel, ifr_max_rows)
        if reason:
            flagged.append((rel, reason))
    return flagged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default=".", help="repository root (default: current directory)")
    ap.add_argument("--allow", action="append", default=[], help="glob of tracked paths to skip (repeatable)")
    ap.add_argument("--allowlist", default=None, help=f"allowlist file (default: <repo>/{DEFAULT_ALLOWLIST})")
    ap.add_argument("--ifr-max-rows", type=int, default=20)
    args = ap.parse_args(argv)
    repo = Path(args.repo).resolve()
    allow = args.allow + load_allowlist(Path(args.allowlist) if args.allowlist else repo / DEFAULT_ALLOWLIST)
    try:
        flagged = check(repo, allow, args.ifr_max_rows)
    except (OSError, RuntimeError) as exc:
        print(f"check_licensed: cannot list tracked files in {repo}: {exc}", file=sys.stderr)
        return 2
    if flagged:
        print(f"check_licensed: {len(flagged)} tracked file(s) look like licensed vendor data or row-level "
              "output; remove them from git (git rm --cached FILE) or, for a small synthetic test fixture, add "
              f"a pattern to {DEFAULT_ALLOWLIST}:", file=sys.stderr)
        for rel, reason in flagged:
            print(f"  {rel}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
