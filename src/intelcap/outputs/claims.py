"""The claims ledger (config/paper_claims.yaml): every number and verbal claim of the paper, evaluated against
the replication's result tables -> results/tables/claims.{csv,md}.

Each row is evaluated three ways: on our tables (`status`), on the paper's own printed numbers (`paper_self`:
exposes where the text contradicts the paper's tables), and on synthetic data against the DGP's truth
(`truth_status`: would the claim be right about the planted parameter).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.outputs.tables import TableStyle, stars_for

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


class _Indexed(dict):
    """The tables with their key columns as strings and every selected row set kept: the ledger's ~1,400
    cell lookups (estimate, p-value and SE of the same cell) then convert each column once, not per lookup."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]):
        super().__init__(tables)
        self._strings: dict[tuple[str, str], Any] = {}
        self._rows: dict[tuple, pd.DataFrame] = {}

    def rows(self, table: str, keys: tuple[tuple[str, str], ...]) -> pd.DataFrame:
        if (table, keys) not in self._rows:
            df = self[table]
            mask = np.ones(len(df), dtype=bool)
            for key, value in keys:
                if (table, key) not in self._strings:
                    self._strings[table, key] = df[key].astype(str).to_numpy()
                mask &= self._strings[table, key] == value
            self._rows[table, keys] = df[mask]
        return self._rows[table, keys]


def _cell_frame(tables: Mapping[str, pd.DataFrame], cell: Mapping) -> pd.DataFrame | None:
    df = tables.get(cell["table"])
    if df is None:
        return None
    keys = tuple((k, str(cell[k])) for k in _CELL_KEYS if k in cell and k in df.columns)
    if isinstance(tables, _Indexed):
        return tables.rows(cell["table"], keys)
    for key, value in keys:
        df = df[df[key].astype(str) == value]
    return df


def cell_value(tables: Mapping[str, pd.DataFrame], cell: Mapping) -> Any:
    """The number (or string) a ledger cell names in our tables; None when the table or row is absent."""
    table, stat = cell["table"], cell.get("stat", "estimate")
    if table == "ifr_global":
        df = tables.get(table)
        if df is None:
            return None
        # Figure 2 plots one vintage of the IFR series (rule figure2: WR2022); the ledger row may name another
        if "vintage" in df.columns:
            df = df[df["vintage"] == cell.get("vintage", "WR2022")]
        series = df.set_index("year")["installations"]
        if stat == "n_years":
            return int(series.loc[cell["first"] : cell["last"]].size)
        y = cell["year"]
        if y not in series.index:
            return None
        if stat == "growth":
            return float(series[y] / series[y - 1] - 1) if y - 1 in series.index else None
        return float(series[y])
    if table == "table7":
        df = _cell_frame(tables, cell)
        if df is None:
            return None
        return int(df["category"].nunique()) if stat == "n_categories" else int(len(df))
    df = _cell_frame(tables, cell)
    if df is None or df.empty or stat not in df.columns:
        return None
    value = df[stat].iloc[0]
    if isinstance(value, str) or stat in ("fixed_effects", "controls", "vcov"):
        return "" if pd.isna(value) else str(value)
    return None if pd.isna(value) else float(value)


def _p(tables: Mapping[str, pd.DataFrame], cell: Mapping) -> tuple[float | None, float | None]:
    est = cell_value(tables, {**cell, "stat": "estimate"})
    p = cell_value(tables, {**cell, "stat": "p_value"})
    return est, p


def _evaluate(row: Mapping, tables: Mapping[str, pd.DataFrame], levels: tuple) -> tuple[str, Any, str]:
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
            return (HOLDS if np.sign(est) == row["sign"] else FAILS), est, "sign of the estimate"
        significant = p < float(row["level"])
        signed = "sign" not in row or np.sign(est) == row["sign"]
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


def paper_tables(claims: list[dict]) -> dict[str, pd.DataFrame]:
    """The paper's own printed numbers as result tables (stars stand for p-values), for `paper_self`."""
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
    out: dict[str, pd.DataFrame] = {"table1": pd.DataFrame(table1.values())}
    frame = pd.DataFrame(rows.values(), columns=["table", "model", "term"] if not rows else None)
    for table, df in frame.groupby("table", sort=False):
        # model-level numbers (nobs, r2) sit on a row without a term: spread them to the model's term rows
        model_level = df[df["term"] == ""].drop(columns=["term", "table"]).set_index("model")
        terms = df[df["term"] != ""].drop(columns=["table"]).dropna(axis=1, how="all")
        for col in model_level.columns:
            if col not in terms.columns:
                terms[col] = terms["model"].map(model_level[col].dropna())
        out[str(table)] = terms.reset_index(drop=True)
        out[str(table)] = pd.concat(
            [out[str(table)], model_level.reset_index().assign(term="")], ignore_index=True
        )
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
        status = HOLDS if (np.sign(t) == row.get("sign", np.sign(t)) and t != 0) else FAILS
    else:
        return t, ""
    # and whether our estimate's 95% interval covers the planted value
    est = ours if kind == "value" else None
    if est is not None and se:
        status += "; ours covers truth" if abs(est - t) <= 1.96 * se else "; ours misses truth"
    return t, status


def evaluate(
    claims: list[dict],
    tables: Mapping[str, pd.DataFrame],
    truth: Mapping | None = None,
    levels: tuple = TableStyle.stars,
) -> pd.DataFrame:
    """One row per claim: the paper's number, ours, and holds / fails / not computable / no result."""
    own, tables = _Indexed(paper_tables(claims)), _Indexed(tables)
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
    return pd.DataFrame(out, columns=COLUMNS)


def summary(result: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in result["status"].value_counts().sort_index().items()}


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) >= 1 else f"{v:.4g}"
    return str(v).replace("|", "\\|")


def to_markdown(result: pd.DataFrame) -> str:
    """claims.md: the counts per status, then every claim."""
    counts = ", ".join(f"{k}: {n}" for k, n in summary(result).items())
    lines = [
        "# The paper's claims, checked",
        "",
        f"{len(result)} claims from config/paper_claims.yaml — {counts}.",
        "`paper_self`: the claim evaluated on the paper's own printed numbers (stars for p-values).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for rec in result.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in rec) + " |")
    return "\n".join(lines) + "\n"
