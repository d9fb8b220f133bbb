"""The claims ledger (config/paper_claims.yaml): every number and verbal claim of the paper, evaluated against
the replication's result tables -> results/tables/claims.{csv,md}.

Each row is evaluated three ways: on our tables (`status`), on the paper's own printed numbers (`paper_self`:
exposes where the text contradicts the paper's tables), and on synthetic data against the DGP's truth
(`truth_status`: would the claim be right about the planted parameter).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.outputs import csvrows
from intelcap.outputs.stars import STARS, is_missing, stars_for

if TYPE_CHECKING:  # the rows are evaluated without pandas; `evaluate` builds its frame for library callers
    import pandas as pd

KINDS = {
    "value": ("paper", "cell", "tol"),
    "count": ("paper", "cell"),
    "stars": ("paper", "cell"),
    "significant": ("cell", "level"),
    "not_significant": ("cell", "level"),
    "sign": ("cell", "sign"),
    "ordering": ("cells",),
    "greater": ("cell", "threshold"),
    "less": ("cell", "threshold"),
    "indicator": ("cell", "token", "present"),
    "stars_convention": ("levels",),
    "not_computable": ("reason",),
}
HOLDS, FAILS, NOT_COMPUTABLE, NO_RESULT = "holds", "fails", "not computable", "no result"
# the paper prints stars, not p-values: a p-value inside each star band stands for it when a claim is evaluated
# on the paper's own numbers
_P_OF_STARS = {"***": 0.005, "**": 0.03, "*": 0.07, "": 0.5}
COLUMNS = [
    "id",
    "where",
    "kind",
    "paper",
    "ours",
    "status",
    "paper_self",
    "dgp_truth",
    "truth_status",
    "detail",
]


def load_ledger(path: str | Path) -> list[dict]:
    """The ledger's rows, validated: unique ids, a known kind, the fields that kind needs."""
    path = Path(path)
    doc = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise InputError(f"{path}: expected a mapping with a list under 'claims' (see the file's header)")
    seen: dict[str, int] = {}
    for i, row in enumerate(doc["claims"], 1):
        where = f"{path}: claims[{i}]"
        if not isinstance(row, dict) or "id" not in row:
            raise InputError(f"{where}: every claim needs an 'id'")
        if row["id"] in seen:
            raise InputError(
                f"{where}: id {row['id']!r} already used by claims[{seen[row['id']]}]; ids are unique"
            )
        seen[row["id"]] = i
        kind = row.get("kind")
        if kind not in KINDS:
            raise InputError(f"{where} ({row['id']}): kind {kind!r} is not one of {sorted(KINDS)}")
        missing = [f for f in (*KINDS[kind], "where") if f not in row]
        if missing:
            raise InputError(f"{where} ({row['id']}): kind {kind} needs field(s) {missing}")
    return doc["claims"]


_CELL_KEYS = ("model", "term", "variable", "category")


def as_rows(table: Any) -> list[dict]:
    """A table as rows of dicts: a list of row dicts as given; `csvrows.Rows` or a DataFrame through
    `csvrows.as_rows`, each missing cell (NaN, None, pd.NA) as float NaN, which is what
    `outputs.csvrows.read_rows` gives for the same table read from its CSV."""
    if isinstance(table, list):
        return table
    return [
        {k: (math.nan if is_missing(v) else v) for k, v in r.items()} for r in csvrows.as_rows(table).rows
    ]


def _key(value: Any) -> str | None:
    # a key cell as `Series.astype(str)` prints it (pandas 3 keeps a missing cell missing: it matches nothing)
    return None if is_missing(value) else str(value)


class Tables:
    """The tables as rows, each indexed once per set of key columns a lookup names (`_CELL_KEYS`): the
    ledger's ~1,400 cell lookups (estimate, p-value and SE of the same cell) are then dict accesses."""

    def __init__(self, tables: Mapping[str, Any]):
        self.rows = {name: as_rows(t) for name, t in tables.items()}
        self._columns: dict[str, dict] = {}
        self._index: dict[tuple, dict[tuple, list[dict]]] = {}

    def columns(self, table: str) -> dict:
        if table not in self._columns:
            self._columns[table] = dict.fromkeys(k for r in self.rows[table] for k in r)
        return self._columns[table]

    def select(self, cell: Mapping) -> list[dict] | None:
        """The rows of `cell["table"]` whose key columns equal the cell's (a key the table lacks is ignored);
        None when the table is absent."""
        table = cell["table"]
        rows = self.rows.get(table)
        if rows is None:
            return None
        keys = tuple(k for k in _CELL_KEYS if k in cell and k in self.columns(table))
        index = self._index.get((table, keys))
        if index is None:
            index = {}
            for r in rows:
                index.setdefault(tuple(_key(r.get(k)) for k in keys), []).append(r)
            self._index[table, keys] = index
        return index.get(tuple(str(cell[k]) for k in keys), [])


def _tables(tables: Mapping[str, Any]) -> Tables:
    return tables if isinstance(tables, Tables) else Tables(tables)


def _series(rows: list[dict], cell: Mapping) -> dict:
    """The IFR global series of one vintage, year -> installations, in file order."""
    series: dict = {}
    vintage = cell.get("vintage", "WR2022")
    for r in rows:
        year = r["year"]
        if is_missing(year) or year in series or (series and year < next(reversed(series))):
            raise InputError(
                f"ifr_global: vintage {vintage!r}: year {year!r} is missing, repeated or out of order; the "
                "series (config paths.ifr_global) needs one row per year and vintage, years increasing"
            )
        series[year] = r["installations"]
    text = [(y, v) for y, v in series.items() if isinstance(y, (str, bool)) or isinstance(v, (str, bool))]
    if text:
        # one text cell makes its whole column text (outputs.csvrows): name the cell that is not a number
        year, value = next(((y, v) for y, v in text if not _is_number(y) or not _is_number(v)), text[0])
        raise InputError(
            f"ifr_global: vintage {vintage!r}: year {year!r}, installations {value!r}: not a number; the series "
            "(config paths.ifr_global) needs a count per year, an unknown one left empty"
        )
    return series


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return not isinstance(text, bool)


def _ratio(a: float, b: float) -> float:
    # numpy's division, which the frame code used: x/0 is +-inf and 0/0 NaN instead of an exception
    if b == 0:
        return math.nan if (a == 0 or is_missing(a)) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def cell_value(tables: Mapping[str, Any], cell: Mapping) -> Any:
    """The number (or string) a ledger cell names in our tables; None when the table or row is absent.
    `tables`: name -> rows (or DataFrames), or a `Tables` index of them."""
    tables = _tables(tables)
    table, stat = cell["table"], cell.get("stat", "estimate")
    if table == "ifr_global":
        rows = tables.rows.get(table)
        if rows is None:
            return None
        # Figure 2 plots one vintage of the IFR series (rule figure2: WR2022); the ledger row may name another
        if "vintage" in tables.columns(table):
            rows = [r for r in rows if r["vintage"] == cell.get("vintage", "WR2022")]
        series = _series(rows, cell)
        if stat == "n_years":
            return sum(1 for y in series if cell["first"] <= y <= cell["last"])
        y = cell["year"]
        if y not in series:
            return None
        if stat == "growth":
            return float(_ratio(series[y], series[y - 1]) - 1) if y - 1 in series else None
        return float(series[y])
    if table == "table7":
        rows = tables.select(cell)
        if rows is None:
            return None
        if stat == "n_categories":
            return len({r["category"] for r in rows if not is_missing(r["category"])})
        return len(rows)
    rows = tables.select(cell)
    if not rows or stat not in tables.columns(table):
        return None
    value = rows[0].get(stat, math.nan)
    if isinstance(value, str) or stat in ("fixed_effects", "controls", "vcov"):
        return "" if is_missing(value) else str(value)
    return None if is_missing(value) else float(value)


def sign(x: float) -> float:
    """numpy's sign: -1, 0 or 1, NaN for NaN."""
    if x != x:
        return math.nan
    return float((x > 0) - (x < 0))


def _p(tables: Tables, cell: Mapping) -> tuple[float | None, float | None]:
    est = cell_value(tables, {**cell, "stat": "estimate"})
    p = cell_value(tables, {**cell, "stat": "p_value"})
    return est, p


def _evaluate(row: Mapping, tables: Tables, levels: tuple) -> tuple[str, Any, str]:
    """(status, our value, detail) of one claim on one set of tables."""
    kind = row["kind"]
    if kind == "not_computable":
        return NOT_COMPUTABLE, None, row["reason"]
    if kind == "stars_convention":
        ours = {s: lvl for lvl, s in levels}
        want = {str(k): float(v) for k, v in row["levels"].items()}
        return (HOLDS if ours == want else FAILS), str(ours), "star levels of outputs.tables.TableStyle"
    if kind == "ordering":
        values = [cell_value(tables, {**c, "stat": "estimate"}) for c in row["cells"]]
        if any(v is None for v in values):
            return NO_RESULT, None, "a compared cell is missing"
        ok = all(a > b for a, b in zip(values[:-1], values[1:], strict=True))
        return (
            (HOLDS if ok else FAILS),
            " > ".join(f"{v:.4g}" for v in values),
            "estimates, first > ... > last",
        )
    cell = row["cell"]
    if kind in ("significant", "not_significant", "sign"):
        est, p = _p(tables, cell)
        if est is None or (p is None and kind != "sign"):
            return NO_RESULT, None, f"no {cell['table']} {cell.get('model', '')} {cell.get('term', '')}"
        if kind == "sign":
            return (HOLDS if sign(est) == row["sign"] else FAILS), est, "sign of the estimate"
        significant = p < float(row["level"])
        signed = "sign" not in row or sign(est) == row["sign"]
        ok = (significant and signed) if kind == "significant" else not significant
        return (
            (HOLDS if ok else FAILS),
            p,
            f"p-value vs {row['level']}" + (" and sign" if "sign" in row else ""),
        )
    ours = cell_value(tables, cell)
    if ours is None:
        return NO_RESULT, None, f"no cell {dict(cell)}"
    if kind == "value":
        return (
            (HOLDS if abs(ours - float(row["paper"])) <= float(row["tol"]) else FAILS),
            ours,
            f"tol {row['tol']}",
        )
    if kind == "count":
        return (HOLDS if round(ours) == int(row["paper"]) else FAILS), ours, "exact"
    if kind == "stars":
        got = stars_for(ours, levels)
        return (HOLDS if got == row["paper"] else FAILS), got or "(none)", f"p = {ours:.3g}"
    if kind in ("greater", "less"):
        ok = ours > row["threshold"] if kind == "greater" else ours < row["threshold"]
        return (HOLDS if ok else FAILS), ours, f"{'>' if kind == 'greater' else '<'} {row['threshold']}"
    if kind == "indicator":
        ok = _has_token(str(ours), str(row["token"])) == bool(row["present"])
        return (HOLDS if ok else FAILS), ours, f"{row['token']!r} {'in' if row['present'] else 'not in'} cell"
    raise AssertionError(kind)  # load_ledger admits only KINDS


def _has_token(value: str, token: str) -> bool:
    if token in ("yes", "no"):
        return value == token
    return token in value.replace("+", " ").split() or token == value


def paper_tables(claims: list[dict]) -> dict[str, list[dict]]:
    """The paper's own printed numbers as result tables (stars stand for p-values), for `paper_self`: rows with
    every column of the table (NaN where the paper prints nothing)."""
    rows: dict[tuple, dict] = {}
    table1: dict[str, dict] = {}
    for c in claims:
        cell = c.get("cell")
        if not cell or c["kind"] not in ("value", "count", "stars", "indicator"):
            continue
        if cell["table"] == "table1":
            table1.setdefault(cell["variable"], {"variable": cell["variable"]})[cell["stat"]] = c["paper"]
            continue
        if "model" not in cell or not c["id"].startswith(cell["table"]):
            continue
        key = (cell["table"], cell["model"], cell.get("term", ""))
        r = rows.setdefault(key, {"table": key[0], "model": key[1], "term": key[2]})
        if c["kind"] == "stars":
            r["p_value"] = _P_OF_STARS[c["paper"]]
        elif c["kind"] == "indicator":
            continue
        else:
            r[cell["stat"]] = c["paper"]
    columns = list(dict.fromkeys(k for r in table1.values() for k in r))
    out: dict[str, list[dict]] = {
        "table1": [{k: r.get(k, math.nan) for k in columns} for r in table1.values()]
    }
    stats = list(dict.fromkeys(k for r in rows.values() for k in r if k not in ("table", "model", "term")))
    by_table: dict[str, list[dict]] = {}
    for r in rows.values():
        by_table.setdefault(str(r["table"]), []).append(r)
    for table, group in by_table.items():
        # model-level numbers (nobs, r2) sit on a row without a term: spread them to the model's term rows,
        # in each statistic that no term row of the table has
        model_level = {r["model"]: r for r in group if r["term"] == ""}
        terms = [r for r in group if r["term"] != ""]
        own = {k for r in terms for k in stats if not is_missing(r.get(k))}
        out[table] = [
            {
                "model": r["model"],
                "term": r["term"],
                **{
                    k: r.get(k, math.nan) if k in own else model_level.get(r["model"], {}).get(k, math.nan)
                    for k in stats
                },
            }
            for r in terms
        ] + [
            {"model": m, "term": "", **{k: r.get(k, math.nan) for k in stats}} for m, r in model_level.items()
        ]
    return out


def _truth(row: Mapping, ours: Any, se: float | None, truth: Mapping | None) -> tuple[float, str]:
    key = row.get("truth")
    if not truth or not key or key not in truth.get("estimands", {}):
        return math.nan, ""
    t = float(truth["estimands"][key])
    kind = row["kind"]
    if kind == "value":
        status = HOLDS if abs(t - float(row["paper"])) <= float(row["tol"]) else FAILS
    elif kind in ("sign", "significant"):
        status = HOLDS if (sign(t) == row.get("sign", sign(t)) and t != 0) else FAILS
    else:
        return t, ""
    # and whether our estimate's 95% interval covers the planted value
    est = ours if kind == "value" else None
    if est is not None and se:
        status += "; ours covers truth" if abs(est - t) <= 1.96 * se else "; ours misses truth"
    return t, status


def evaluate_rows(
    claims: list[dict],
    tables: Mapping[str, Any],
    truth: Mapping | None = None,
    levels: tuple = STARS,
) -> list[dict]:
    """One row (a dict of COLUMNS) per claim: the paper's number, ours, and holds / fails / not computable /
    no result. `tables`: name -> rows (`outputs.csvrows.read_rows`) or DataFrames; `levels`: the tables' stars."""
    own, tables = Tables(paper_tables(claims)), _tables(tables)
    out = []
    for row in claims:
        status, ours, detail = _evaluate(row, tables, levels)
        self_status = _evaluate(row, own, levels)[0] if row["kind"] != "stars_convention" else ""
        se = None
        if row.get("cell") and "model" in row["cell"]:
            se = cell_value(tables, {**row["cell"], "stat": "std_error"})
        t, t_status = _truth(row, ours, se, truth)
        note = f"{detail}; {row['note']}" if row.get("note") else detail
        out.append(
            {
                "id": row["id"],
                "where": row["where"],
                "kind": row["kind"],
                "paper": row.get("paper", ""),
                "ours": ours,
                "status": status,
                "paper_self": self_status if self_status != NO_RESULT else "",
                "dgp_truth": t,
                "truth_status": t_status,
                "detail": note,
            }
        )
    return out


def evaluate(
    claims: list[dict],
    tables: Mapping[str, Any],
    truth: Mapping | None = None,
    levels: tuple = STARS,
) -> pd.DataFrame:
    """`evaluate_rows` as a DataFrame with the columns COLUMNS (for library callers; imports pandas)."""
    import pandas as pd

    return pd.DataFrame(evaluate_rows(claims, tables, truth, levels), columns=COLUMNS)


def summary(result: list[dict] | pd.DataFrame) -> dict[str, int]:
    """Claims per status, by status name."""
    counts = Counter(r["status"] for r in as_rows(result))
    return {k: counts[k] for k in sorted(counts)}


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) >= 1 else f"{v:.4g}"
    return str(v).replace("|", "\\|")


def to_markdown(result: list[dict] | pd.DataFrame) -> str:
    """claims.md: the counts per status, then every claim (rows of `evaluate_rows`, or `evaluate`'s frame)."""
    rows = as_rows(result)
    counts = ", ".join(f"{k}: {n}" for k, n in summary(rows).items())
    lines = [
        "# The paper's claims, checked",
        "",
        f"{len(rows)} claims from config/paper_claims.yaml — {counts}.",
        "`paper_self`: the claim evaluated on the paper's own printed numbers (stars for p-values).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for rec in rows:
        lines.append("| " + " | ".join(_fmt(rec.get(c)) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"
