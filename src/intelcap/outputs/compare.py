"""The paper's published numbers beside the replication's, with the DGP's truth on synthetic data, and the
consistency check that exposes Table 1's lnCU row (docs/methods.md#table1-lncu)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from intelcap.outputs.claims import as_rows, sign
from intelcap.outputs.stars import is_missing

if TYPE_CHECKING:  # the rows are built without pandas; the frame functions are for library callers
    import pandas as pd

# Which replication coefficients have a planted truth in the synthetic DGP (truth.json "estimands").
TRUTH_KEYS = {
    ("table2", "(3)", "lnINT"): "lnINT_on_lnCU_true",
    ("table2", "(4)", "lnINT"): "lnINT_on_lnCU_true",
    ("table5", "(2)", "lnINT"): "lnINT_on_Humcap",
}
# counts with gaps: integers in the CSV and every view (10035, not 10035.0), pandas' Int64 in the frame
COUNTS = ("paper_nobs", "replication_nobs")


def paper_from_ledger(claims: list[dict]) -> dict:
    """The paper's Tables 1-6 and 8 as printed, from the claims ledger's table rows (config/paper_claims.yaml):
    {"table1": {variable: [n, mean, sd, min, max]}, "models": {table: {model: {nobs, r2, terms, stats}}}}."""
    table1: dict[str, dict[str, float]] = {}
    models: dict[str, dict[str, dict]] = {}
    for c in claims:
        cell = c.get("cell") or {}
        table = cell.get("table", "")
        if table == "table7" or not c["id"].startswith(f"{table}.") or c["kind"] not in ("value", "count"):
            continue  # text claims repeat table numbers; only the table's own rows define it
        if table == "table1":
            table1.setdefault(cell["variable"], {})[cell["stat"]] = c["paper"]
            continue
        _, model, rest = c["id"].split(".", 2)
        m = models.setdefault(table, {}).setdefault(model, {})
        if rest in ("nobs", "r2"):
            m[rest] = c["paper"]
        elif cell.get("term", "").startswith("stat:"):
            m.setdefault("stats", {})[rest] = c["paper"]
        else:
            term, stat = rest.rsplit(".", 1)
            m.setdefault("terms", {}).setdefault(term, [None, None])[0 if stat == "estimate" else 1] = c[
                "paper"
            ]
    stats = ("n", "mean", "sd", "min", "max")
    return {"table1": {v: [d[s] for s in stats] for v, d in table1.items()}, "models": models}


def implied_mean_y(coefs: dict[str, float], means: dict[str, float], cons: float) -> float:
    """Mean of the dependent variable implied by a linear fit: ȳ = _cons + Σ b_k x̄_k (OLS and reghdfe)."""
    return float(cons + sum(b * means[k] for k, b in coefs.items()))


def implied_lncu_means_rows(paper: dict) -> list[dict]:
    """Table 2's constants and Table 1's regressor means imply mean lnCU in each column: one row per column."""
    means = {k: v[1] for k, v in paper["table1"].items()}
    rows = []
    for model, m in paper["models"]["table2"].items():
        terms = {k: v[0] for k, v in m["terms"].items() if k != "_cons"}
        rows.append(
            {
                "model": model,
                "implied_mean_lnCU": implied_mean_y(terms, means, m["terms"]["_cons"][0]),
                "table1_mean_lnCU": means["lnCU"],
            }
        )
    return rows


def implied_lncu_means(paper: dict) -> pd.DataFrame:
    """`implied_lncu_means_rows` as a DataFrame (for library callers; imports pandas)."""
    import pandas as pd

    return pd.DataFrame(implied_lncu_means_rows(paper))


def _count(v: Any) -> int | None:
    return None if is_missing(v) else int(round(float(v)))


def paper_vs_replication_rows(paper: dict, ours: Mapping[str, Any], truth: dict | None) -> list[dict]:
    """One row per published coefficient: the paper's estimate/SE beside ours (and the truth if known).
    `ours`: table name -> rows (`outputs.csvrows.read_rows`) or DataFrames. The COUNTS are ints or None: write
    the rows with `atomic.write_records_csv(rows, path, integers=COUNTS)`."""
    rows = []
    for table, models in paper["models"].items():
        res = ours.get(table)
        first: dict[tuple, dict] = {}
        for r in as_rows(res) if res is not None else []:
            first.setdefault((r["model"], r["term"]), r)
        for model, m in models.items():
            for term, (est, se) in m["terms"].items():
                r = first.get((model, term))
                key = TRUTH_KEYS.get((table, model, term))
                true = truth["estimands"].get(key) if (truth and key) else math.nan
                rows.append(
                    {
                        "table": table,
                        "model": model,
                        "term": term,
                        "paper_estimate": est,
                        "paper_se": se,
                        "paper_nobs": _count(m.get("nobs")),
                        "replication_estimate": r["estimate"] if r is not None else math.nan,
                        "replication_se": r["std_error"] if r is not None else math.nan,
                        "replication_nobs": _count(r["nobs"]) if r is not None else None,
                        "dgp_truth": true,
                        "same_sign": bool(sign(est) == sign(r["estimate"])) if r is not None else math.nan,
                        "difference_in_paper_se": ((r["estimate"] - est) / se)
                        if (r is not None and se > 0)
                        else math.nan,
                    }
                )
    return rows


def paper_vs_replication(paper: dict, ours: Mapping[str, Any], truth: dict | None) -> pd.DataFrame:
    """`paper_vs_replication_rows` as a DataFrame, the COUNTS as Int64 (for library callers; imports pandas)."""
    import pandas as pd

    out = pd.DataFrame(paper_vs_replication_rows(paper, ours, truth))
    for c in COUNTS:
        out[c] = pd.array([_count(v) for v in out[c]], dtype="Int64")
    return out
