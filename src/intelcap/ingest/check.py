"""The data check before a run: every configured raw input read once, and every problem reported at once.

`check_inputs` reads each CSMAR table (all files of its stem, through the same readers the workflow uses) and
the IFR files, catching each reader's `InputError` so that one bad table does not hide the others, and
collects missing tables and fields (with did-you-mean), encodings, units, duplicate keys, unmapped codes,
years covered against `sample.first_year..last_year`, row counts, the annual-report folder (count by year and
extension, names the pattern does not match, firm-years with several files) and config files that Snakemake
evaluates as code. Each problem has a severity: `blocking` (the workflow would stop on it), `warning` (it
runs, but a result may not be what you expect) or `info` (what the readers found and decided).

A clean table is read exactly once. A table whose reader stops on a field it can do without (a missing or
unmapped or non-numeric field) is read again without that field, so that its other problems are found too:
at most `MAX_PASSES` reads, and only for tables that have problems.

This is a method module of the `ingest` layer: the report-folder listing comes in as a function
(`list_reports`, from `intelcap.measures.text_inventory` in the workflow step), never imported here.
"""

from __future__ import annotations

import ast
import copy
import difflib
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Container, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from intelcap.errors import InputError, clip
from intelcap.ingest import readers as io
from intelcap.ingest.files import present_table_files  # noqa: F401 - the check rule's input, also here

log = logging.getLogger("intelcap.ingest.check")

SEVERITIES = ("blocking", "warning", "info")
COLUMNS = ("severity", "table", "file", "field", "rows", "message", "fix")
MAX_PASSES = 6  # reads of one table with problems (one per field left out), at most
_ENCODING_PROBE = (
    1 << 20
)  # bytes read to name a text file's encoding (the reader itself decodes the whole file)
_YTE = re.compile(r"^[ \t]*__use_yte__[ \t]*:[ \t]*(?:true|yes|on)\b", re.IGNORECASE | re.MULTILINE)
REPORT_NAME = "<Stkcd>_<year>.txt|pdf"


@dataclass(frozen=True)
class Problem:
    """A data-report row: `rows` are file line numbers where known, `fix` the config key or action."""

    severity: str
    table: str
    message: str
    file: str = ""
    field: str = ""
    rows: str = ""
    fix: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")


@dataclass
class TableSummary:
    """What was found for one input: its files, encodings, units, rows and years."""

    table: str
    files: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)
    units: str = ""
    rows: int | None = None
    years: tuple[int, int] | None = None
    status: str = "ok"


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    tables: list[TableSummary] = field(default_factory=list)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "blocking"]

    def counts(self) -> dict[str, int]:
        c = Counter(p.severity for p in self.problems)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def sorted_problems(self) -> list[Problem]:
        """Blocking first, then warnings, then info; within a severity, in the order found (deterministic)."""
        return sorted(self.problems, key=lambda p: SEVERITIES.index(p.severity))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(p) for p in self.sorted_problems()], columns=list(COLUMNS))

    def summary(self) -> str:
        """The console summary: counts, then every blocking problem and warning (info is in the report)."""
        c = self.counts()
        lines = [
            f"intelcap data check: {c['blocking']} blocking, {c['warning']} warning(s), {c['info']} info"
        ]
        for p in self.sorted_problems():
            if p.severity == "info":
                continue
            where = ", ".join(x for x in (p.table, clip(p.file, 120), p.field) if x)
            lines.append(f"  [{p.severity}] {where}: {clip(p.message, 300)}")
            if p.rows:
                lines.append(f"      rows: {clip(p.rows, 200)}")
            if p.fix:
                lines.append(f"      fix: {clip(p.fix, 300)}")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        c = self.counts()
        verdict = (
            "**Blocking problems: the workflow would stop on them.** Fix them first."
            if c["blocking"]
            else "No blocking problem: the workflow can run on these inputs."
        )
        out = [
            "# Data check",
            "",
            f"{c['blocking']} blocking, {c['warning']} warning(s), {c['info']} info. {verdict}",
            "",
            "## Inputs",
            "",
            "| input | status | files | encoding (reports: extensions) | units | rows (reports: files) | years |",
            "|---|---|---|---|---|---:|---|",
        ]
        for t in self.tables:
            files = ", ".join(Path(f).name for f in t.files[:5]) + (
                f" (+{len(t.files) - 5})" if len(t.files) > 5 else ""
            )
            years = _span(t.years)
            rows = f"{t.rows:,}" if t.rows is not None else ""
            out.append(
                "| "
                + " | ".join(
                    _md(x)
                    for x in (
                        t.table,
                        t.status,
                        files,
                        ", ".join(dict.fromkeys(t.encodings)),
                        t.units,
                        rows,
                        years,
                    )
                )
                + " |"
            )
        out += [
            "",
            "## Problems and findings",
            "",
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "---|" * len(COLUMNS),
        ]
        for p in self.sorted_problems():
            out.append("| " + " | ".join(_md(getattr(p, c)) for c in COLUMNS) + " |")
        return "\n".join(out) + "\n"


def _md(value: object) -> str:
    return clip(str(value), 400).replace("|", "\\|").replace("\n", " ")


def _span(years: tuple[int, int] | None) -> str:
    if not years:
        return ""
    return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"


def _message(err: InputError) -> str:
    """The error's own message, without the file/column/rows/hint lines (they have their own columns)."""
    return str(err).split("\n  ")[0].strip()


def _rows(rows: Iterable | None) -> str:
    return ", ".join(str(r) for r in rows) if rows else ""


def check_inputs(
    raw_dir: str | os.PathLike,
    config: dict,
    reports_dir: str | os.PathLike | None = None,
    *,
    list_reports: Callable[[str], Iterable] | None = None,
    config_files: Iterable[str | os.PathLike] = (),
) -> CheckReport:
    """Check every configured raw input under `raw_dir` (`csmar/`, the IFR files) and the report folder.

    `config` needs `csmar`, `ifr` and `sample.first_year`/`last_year`. `list_reports(folder)` lists the report
    folder (records with `relpath`, `Stkcd`, `year`, `ext`, `size`: intelcap.measures.text_inventory); without
    it, or without `reports_dir`, reports are not checked. `config_files` are flagged when Snakemake would
    evaluate them as code (`__use_yte__: true`)."""
    report = CheckReport()
    raw = Path(raw_dir)
    span = (int(config["sample"]["first_year"]), int(config["sample"]["last_year"]))
    if span[0] > span[1]:
        report.problems.append(
            Problem(
                "blocking",
                "config",
                f"sample.first_year {span[0]} is after sample.last_year {span[1]}",
                fix="set sample.first_year <= sample.last_year",
            )
        )
    csmar = raw / "csmar"
    if not csmar.is_dir():
        there = sorted(os.listdir(raw))[:10] if raw.is_dir() else []
        report.problems.append(
            Problem(
                "blocking",
                "csmar",
                f"folder {csmar} not found"
                + (f"; {raw} holds {there}" if raw.is_dir() else f"; {raw} does not exist"),
                file=str(csmar),
                fix="set raw_dir to the folder that holds csmar/ and ifr/ (docs/data_contract.md)",
            )
        )
    for table, spec in config["csmar"].items():
        _check_table(report, csmar, table, spec, span)
    _check_ifr(report, raw, config.get("ifr") or {}, span)
    if reports_dir is not None and list_reports is not None:
        _check_reports(report, Path(reports_dir), list_reports, span)
    report.problems += flag_code_configs(config_files)
    for t in report.tables:  # the inputs table of the markdown, also as rows of the CSV
        if t.status in ("ok", "problems"):
            what = [
                f"{t.rows:,} {'files' if t.table == 'reports' else 'rows'}" if t.rows is not None else "",
                f"years {_span(t.years)}" if t.years else "",
                f"{'extensions' if t.table == 'reports' else 'encoding'} {', '.join(dict.fromkeys(t.encodings))}"
                if t.encodings
                else "",
                t.units,
            ]
            report.problems.append(
                Problem(
                    "info",
                    t.table,
                    "read: " + "; ".join(w for w in what if w),
                    file=t.files[0] if t.files else "",
                )
            )
    return report


# ------------------------------------------------------------------ CSMAR tables
def encoding_of(path: str | os.PathLike) -> str:
    """The encoding of a text file as the reader will decode it, from its first MB (xlsx: 'xlsx')."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        return "xlsx"
    try:
        with open(p, "rb") as fh:
            head = fh.read(_ENCODING_PROBE)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if head.startswith(b"\xef\xbb\xbf"):
        return "UTF-8 (BOM)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 (not read)"
    if len(head) == _ENCODING_PROBE:  # cut at the last line break: a character may straddle the probe's end
        head = head[: head.rfind(b"\n") + 1] or head
    try:
        head.decode("utf-8")
        return "UTF-8" if not head.isascii() else "ASCII (first MB)"
    except UnicodeDecodeError:
        return "GB18030"


def _check_table(  # noqa: C901 - one branch per problem class of a table, each a few lines
    report: CheckReport, folder: Path, table: str, spec: dict, span: tuple[int, int]
) -> None:
    summary = TableSummary(table)
    report.tables.append(summary)
    try:
        files = io.table_files(folder, spec, table) if folder.is_dir() else []
    except InputError as err:
        summary.status = "missing"
        present = sorted(os.listdir(folder)) if folder.is_dir() else []
        msg = _message(err)
        if present:
            stems = {Path(s).name for s in io.table_stems(spec["file"])}
            close = difflib.get_close_matches(
                next(iter(stems)).lower(), [Path(n).stem.lower() for n in present], n=3, cutoff=0.5
            )
            msg += f"; files there: {[clip(n, 40) for n in present[:15]]}" + (
                f"; did you mean {close}?" if close and "similar" not in msg else ""
            )
        report.problems.append(
            Problem(
                "blocking",
                table,
                msg,
                file=err.file or "",
                field="",
                fix=err.hint or f"set csmar.{table}.file in config/config.yaml",
            )
        )
        return
    if not files:
        summary.status = "missing"
        return
    summary.files = [str(f) for f in files]
    summary.encodings = [encoding_of(f) for f in files]
    for f, enc in zip(files, summary.encodings, strict=True):
        if enc.startswith(("UTF-16", "unreadable")):
            report.problems.append(
                Problem(
                    "blocking",
                    table,
                    f"encoding {enc}",
                    file=str(f),
                    fix="save the table as UTF-8 CSV or xlsx",
                )
            )
    if len(files) > 1:
        report.problems.append(
            Problem(
                "info",
                table,
                f"{len(files)} files read as one table: {[f.name for f in files]}",
                file=str(files[0]),
            )
        )
    spec = copy.deepcopy(dict(spec))
    names = {code: name for name, code in spec["fields"].items()}
    left_out: list[str] = []
    accepted: set[str] = set()
    df = None
    for _ in range(MAX_PASSES):
        notes: list[dict] = []
        try:
            df = io.load_table([str(f) for f in files], spec, table, notes)
            break
        except InputError as err:
            field_name = _field_of(err, spec, names)
            unmapped = _unmapped_values(err)
            if unmapped is not None and field_name and field_name not in accepted:
                # the field stays (it may filter rows: Typrep, or key them: state_type); only these values
                # are let through, as themselves, to read on
                report.problems.append(_problem_of(err, table, f"read again accepting {unmapped}"))
                codes = spec.setdefault("codes", {}) or {}
                spec["codes"] = codes
                rule = copy.deepcopy(codes.get(field_name) or io.DEFAULT_CODES.get(field_name) or {"map": {}})
                rule["map"] = {**rule["map"], **{v: v for v in unmapped}}
                codes[field_name] = rule
                accepted.add(field_name)
                continue
            drop = _fields_to_leave_out(err, spec, names, table)
            if left_out and "duplicate keys" in str(err) and any(n in io.DEFAULT_CODES for n in left_out):
                # without a filter field (Typrep), rows it would drop stay: their repeats are not the user's
                report.problems.append(
                    _problem_of(err, table, f"may follow from reading without {left_out}", severity="warning")
                )
                break
            report.problems.append(
                _problem_of(
                    err,
                    table,
                    f"read again without {drop} to find the table's other problems" if drop else "",
                )
            )
            if not drop:
                break
            for name in drop:
                spec["fields"].pop(name, None)
                (spec.get("codes") or {}).pop(name, None)
                (spec.get("units") or {}).pop(name, None)
            left_out += drop
        except Exception as exc:  # noqa: BLE001 - one table's reader bug must not hide the other tables
            report.problems.append(
                Problem(
                    "blocking",
                    table,
                    f"the reader failed unexpectedly ({type(exc).__name__}: {clip(exc, 300)})",
                    file=summary.files[0],
                    fix="report this as a bug of intelcap with the file's header rows",
                )
            )
            df = None
            break
    left_out += sorted(accepted)
    if df is None:
        summary.status = "unreadable"
        report.problems.append(
            Problem(
                "info",
                table,
                "rows, years and units not checked: the table could not be read to the end",
                file=summary.files[0],
            )
        )
        return
    summary.status = "problems" if left_out else "ok"
    summary.rows = len(df)
    for n in notes:
        report.problems.append(
            Problem(
                "info",
                table,
                f"{n['item']} ({n['rows']:,} raw-file rows): {n['decision']}",
                file=summary.files[0],
            )
        )
    summary.units = _units(df, table, spec, notes, files, summary.encodings)
    years = _years(df)
    if years is None:
        return
    summary.years = (min(years), max(years)) if years else None
    if not years:
        report.problems.append(
            Problem(
                "warning",
                table,
                "no rows left after keeping year-end statements",
                file=summary.files[0],
                fix="download annual (12-31) statements",
            )
        )
        return
    lacking = _lacking_years(span, years)
    if lacking:
        report.problems.append(
            Problem(
                "warning",
                table,
                f"covers {min(years)}–{max(years)}; no rows for sample year(s) {lacking} "
                f"(sample.first_year..last_year = {span[0]}–{span[1]})",
                file=summary.files[0],
                fix=f"download those years of {table}, or set sample.first_year / sample.last_year",
            )
        )


def _field_of(err: InputError, spec: dict, names: dict[str, str]) -> str | None:
    """The configured field (our name) an error is about, if it is about exactly one."""
    col = str(err.column or "")
    return names.get(col, col if col in spec["fields"] else None)


_UNMAPPED = re.compile(r"not in its declared mapping: (\[.*\])$")


def _unmapped_values(err: InputError) -> list[str] | None:
    """The values an unmapped-code error lists (None for any other error, or values cut short)."""
    m = _UNMAPPED.search(_message(err))
    if not m:
        return None
    try:
        values = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return [str(v) for v in values if "..." not in str(v)] or None


def _fields_to_leave_out(err: InputError, spec: dict, names: dict[str, str], table: str) -> list[str]:
    """Fields (our names) a second read can do without to find the table's other problems: those named by
    the error, unless one is the ID, the date or a key (nothing can be read without them), or the error is
    not about fields."""
    if not err.column or "duplicate keys" in str(err):
        return []
    fixed = {spec["id"], spec.get("date"), "Stkcd", "year", *(io.KEYS.get(table, ["Stkcd", "year"]) or [])}
    out = []
    for part in str(err.column).split(", "):
        name = names.get(part, part if part in spec["fields"] else None)
        if part in fixed or name is None or name in fixed:
            return []
        out.append(name)
    return out


def _problem_of(err: InputError, table: str, then: str = "", severity: str = "blocking") -> Problem:
    msg = _message(err) + (f" ({then})" if then else "")
    fix = err.hint or ""
    if "duplicate keys" in msg and "csmar." not in fix:
        fix += f" (keys: csmar.{table}.id and its date field)"
    return Problem(
        severity,
        table,
        msg,
        file=err.file or "",
        field=err.column or "",
        rows=_rows(err.rows),
        fix=fix or f"see docs/data_contract.md; table settings: csmar.{table}",
    )


def _units(
    df: pd.DataFrame, table: str, spec: dict, notes: list[dict], files: list[Path], encodings: list[str]
) -> str:
    """The units as found: each numeric field's label in the units row (text files; from the first part), or
    where the unit came from, and every conversion the reader made."""
    fields = [n for n in io.UNIT_KINDS.get(table, {}) if n in spec["fields"]]
    if not fields:
        return ""
    converted = [n["item"] for n in notes if "converted to 元" in n["item"]]
    if df.attrs.get("header_rows", 1) >= 3:
        labels = _units_row(files[0], encodings[0], [spec["fields"][n] for n in fields])
        found = ", ".join(f"{c} {u or '(none)'}" for c, u in labels.items()) if labels else ""
        row = f"units row: {found}" if found else "units row read"
    else:
        row = (
            f"no units row: csmar.{table}.units"
            if spec.get("units")
            else "no units row: taken in 元 / counts"
        )
    return row + ("; " + "; ".join(converted) if converted else "")


def _units_row(path: Path, encoding: str, codes: list[str]) -> dict[str, str]:
    """Line 3 of a CSMAR text export for the given field codes ({} for xlsx, or when it cannot be parsed)."""
    if path.suffix.lower() == ".xlsx":
        return {}
    import csv

    enc = "gb18030" if encoding == "GB18030" else "utf-8-sig"
    try:
        with open(path, encoding=enc, newline="") as fh:
            head = [next(fh) for _ in range(3)]
    except (OSError, UnicodeDecodeError, StopIteration):
        return {}
    rows = list(csv.reader(head, delimiter="\t" if path.suffix.lower() == ".txt" else ","))
    if len(rows) < 3:
        return {}
    at = {c.strip(): i for i, c in enumerate(rows[0])}
    return {c: rows[2][at[c]].strip() for c in codes if c in at and at[c] < len(rows[2])}


def _years(df: pd.DataFrame) -> set[int] | None:
    col = "year" if "year" in df else ("sign_year" if "sign_year" in df else None)
    if col is None:
        return None
    return {int(y) for y in pd.to_numeric(df[col], errors="coerce").dropna().unique()}


def _lacking_years(span: tuple[int, int], have: Container[int]) -> str:
    """The sample years of `span` (first, last) not in `have`, as `_spans` prints them; '' when none."""
    return _spans([y for y in range(span[0], span[1] + 1) if y not in have])


def _spans(years: list[int]) -> str:
    """[2011, 2012, 2013, 2016] -> '2011–2013, 2016'."""
    out, start = [], None
    for i, y in enumerate(years):
        if start is None:
            start = y
        if i + 1 == len(years) or years[i + 1] != y + 1:
            out.append(f"{start}" if start == y else f"{start}–{y}")
            start = None
    return ", ".join(out)


# ------------------------------------------------------------------ IFR
def _check_ifr(report: CheckReport, raw: Path, spec: dict, span: tuple[int, int]) -> None:
    industries = [str(c) for c in spec.get("industry_codes", io.IFR_INDUSTRY_CODES)]
    aggregates = [str(c) for c in spec.get("aggregate_codes", io.IFR_AGGREGATE_CODES)]
    for name, key, columns, numeric in (
        (
            "ifr_robots",
            "robots_file",
            ["country", "industry", "year", "installations", "operational_stock"],
            ["year", "installations", "operational_stock"],
        ),
        (
            "employment_base",
            "employment_file",
            ["country", "industry", "year", "employment"],
            ["year", "employment"],
        ),
    ):
        path = raw / str(spec.get(key, f"ifr/{name}.csv"))
        summary = TableSummary(name, files=[str(path)])
        report.tables.append(summary)
        if not path.exists():
            there = sorted(os.listdir(path.parent))[:15] if path.parent.is_dir() else []
            close = difflib.get_close_matches(path.name, there, n=3, cutoff=0.5)
            report.problems.append(
                Problem(
                    "blocking",
                    name,
                    f"file not found; {path.parent} holds {there}"
                    + (f"; did you mean {close}?" if close else ""),
                    file=str(path),
                    fix=f"put the file there or set ifr.{key} in config/config.yaml",
                )
            )
            summary.status = "missing"
            continue
        summary.encodings = [encoding_of(path)]
        notes: list[dict] = []
        try:
            df = io._read_plain_csv(path, columns, numeric, key)
            df = io._ifr_industries(df, str(path), name, industries, aggregates, notes)
            io.check_unique(df.drop(columns="_line"), ["country", "industry", "year"], str(path), name)
        except InputError as err:
            summary.status = "unreadable"
            fix = err.hint or f"see docs/data_contract.md (raw_dir/ifr/); file name: ifr.{key}"
            report.problems.append(
                Problem(
                    "blocking",
                    name,
                    _message(err),
                    file=err.file or str(path),
                    field=err.column or "",
                    rows=_rows(err.rows),
                    fix=fix,
                )
            )
            continue
        summary.rows = len(df)
        for n in notes:
            report.problems.append(
                Problem("info", name, f"{n['item']} ({n['rows']:,} rows): {n['decision']}", file=str(path))
            )
        years = sorted(set(df["year"].tolist()))
        summary.years = (years[0], years[-1]) if years else None
        if name == "ifr_robots":
            for country in ("CHN", "USA"):
                have = set(df.loc[df["country"] == country, "year"].tolist())
                lacking = _lacking_years(span, have)
                if lacking:
                    report.problems.append(
                        Problem(
                            "warning",
                            name,
                            f"no {country} rows for sample year(s) {lacking}",
                            file=str(path),
                            field="year",
                            fix="add those years to the IFR extract, or set sample.first_year / "
                            "sample.last_year",
                        )
                    )


# ------------------------------------------------------------------ annual reports
def _check_reports(
    report: CheckReport, folder: Path, list_reports: Callable[[str], Iterable], span: tuple[int, int]
) -> None:
    summary = TableSummary("reports", files=[str(folder)])
    report.tables.append(summary)
    if not folder.is_dir():
        summary.status = "missing"
        report.problems.append(
            Problem(
                "warning",
                "reports",
                f"no annual-report folder {folder}: the text index "
                "and Table 8 are left out (everything else builds)",
                file=str(folder),
                fix=f"put the reports there as {REPORT_NAME} to get Table 8",
            )
        )
        return
    files = list(list_reports(str(folder)))
    summary.rows = len(files)
    matched = [f for f in files if f.Stkcd is not None and f.year is not None]
    by_year: dict[int, Counter] = {}
    for f in matched:
        by_year.setdefault(int(f.year), Counter())[f.ext or "(none)"] += 1
    years = sorted(by_year)
    summary.years = (years[0], years[-1]) if years else None
    summary.encodings = sorted({f.ext for f in matched if f.ext})
    for y in years:
        exts = ", ".join(f"{e} {n:,}" for e, n in sorted(by_year[y].items()))
        report.problems.append(
            Problem(
                "info", "reports", f"{y}: {sum(by_year[y].values()):,} file(s) ({exts})", file=str(folder)
            )
        )
    if not matched:
        report.problems.append(
            Problem(
                "warning",
                "reports",
                f"none of the {len(files)} file(s) is named {REPORT_NAME}: no text index",
                file=str(folder),
                fix=f"rename the reports to {REPORT_NAME}",
            )
        )
    lacking = _lacking_years(span, by_year)
    if matched and lacking:
        report.problems.append(
            Problem(
                "warning",
                "reports",
                f"no report for sample year(s) {lacking}",
                file=str(folder),
                fix="add those years' reports (the text index is missing for them, never zero)",
            )
        )
    bad = [f for f in files if f.key is None]
    for f in bad[:20]:
        report.problems.append(
            Problem(
                "warning",
                "reports",
                f"name does not match {REPORT_NAME}: not read",
                file=str(f.path),
                fix=f"rename it to {REPORT_NAME} (e.g. 000001_2015.txt), or move it out of the folder",
            )
        )
    if len(bad) > 20:
        report.problems.append(
            Problem(
                "warning",
                "reports",
                f"{len(bad) - 20} more file name(s) not matching {REPORT_NAME}",
                file=str(folder),
                fix=f"rename them to {REPORT_NAME}",
            )
        )
    for f in files:
        if f.key is not None and f.size <= 0:
            what = "dangling symlink" if f.size < 0 else "empty file"
            report.problems.append(
                Problem(
                    "warning",
                    "reports",
                    f"{what}: the firm-year's index will be missing",
                    file=str(f.path),
                    fix="replace it with the report",
                )
            )
    several = Counter(f.key for f in matched)
    multi = sorted(k for k, n in several.items() if n > 1)
    if multi:
        ex = [f"{s}_{y}" for s, y in multi[:5]]
        report.problems.append(
            Problem(
                "info",
                "reports",
                f"{len(multi):,} firm-year(s) with several files (e.g. "
                f"{ex}): one is used per firm-year, as docs/data_contract.md says",
                file=str(folder),
            )
        )


# ------------------------------------------------------------------ config files
def flag_code_configs(paths: Iterable[str | os.PathLike]) -> list[Problem]:
    """A warning for each config file that sets `__use_yte__: true`: Snakemake evaluates it as code (a YTE
    template), so it is as trusted as the Snakefile."""
    out = []
    for p in dict.fromkeys(str(x) for x in paths):
        try:
            text = Path(p).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        m = _YTE.search(text)
        if m:
            line = text[: m.start()].count("\n") + 1
            out.append(
                Problem(
                    "warning",
                    "config",
                    "sets __use_yte__: true, so Snakemake evaluates it as code: as trusted as the Snakefile",
                    file=p,
                    field="__use_yte__",
                    rows=str(line),
                    fix="use only config files you would run as a script; remove __use_yte__ unless "
                    "you need templating",
                )
            )
    return out
