"""The paper's published numbers beside the replication's, with the DGP's truth on synthetic data, and the
consistency check that exposes Table 1's lnCU row (docs/methods.md#table1-lncu)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Which replication coefficients have a planted truth in the synthetic DGP (truth.json "estimands").
TRUTH_KEYS = {
    ("table2", "(3)", "lnINT"): "lnINT_on_lnCU_true",
    ("table2", "(4)", "lnINT"): "lnINT_on_lnCU_true",
    ("table5", "(2)", "lnINT"): "lnINT_on_Humcap",
}


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


def implied_lncu_means(paper: dict) -> pd.DataFrame:
    """Table 2's constants and Table 1's regressor means imply mean lnCU in each column."""
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
    return pd.DataFrame(rows)


def paper_vs_replication(paper: dict, ours: dict[str, pd.DataFrame], truth: dict | None) -> pd.DataFrame:
    """One row per published coefficient: the paper's estimate/SE beside ours (and the truth if known)."""
    rows = []
    for table, models in paper["models"].items():
        res = ours.get(table)
        for model, m in models.items():
            for term, (est, se) in m["terms"].items():
                mine = pd.DataFrame()
                if res is not None:
                    mine = res[(res["model"] == model) & (res["term"] == term)]
                r = mine.iloc[0] if len(mine) else None
                key = TRUTH_KEYS.get((table, model, term))
                true = truth["estimands"].get(key) if (truth and key) else np.nan
                rows.append(
                    {
                        "table": table,
                        "model": model,
                        "term": term,
                        "paper_estimate": est,
                        "paper_se": se,
                        "paper_nobs": m.get("nobs"),
                        "replication_estimate": r["estimate"] if r is not None else np.nan,
                        "replication_se": r["std_error"] if r is not None else np.nan,
                        "replication_nobs": r["nobs"] if r is not None else np.nan,
                        "dgp_truth": true,
                        "same_sign": bool(np.sign(est) == np.sign(r["estimate"]))
                        if r is not None
                        else np.nan,
                        "difference_in_paper_se": ((r["estimate"] - est) / se)
                        if (r is not None and se > 0)
                        else np.nan,
                    }
                )
    out = pd.DataFrame(rows)
    # counts stay integers with gaps (pd.NA), so the CSV and every view print 10035, not 10035.0
    for c in ("paper_nobs", "replication_nobs"):
        out[c] = pd.array([None if pd.isna(v) else int(round(float(v))) for v in out[c]], dtype="Int64")
    return out
