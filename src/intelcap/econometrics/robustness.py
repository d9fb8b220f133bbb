"""Beyond the paper: few-cluster and shift-share inference, a Monte Carlo audit of that inference on the
synthetic DGP, placebo reassignment of lnINT, a specification curve and the one-step BC95 frontier.

See docs/robustness.md for what each piece answers and how to read it. Everything here is plain
functions on frames and arrays; `intelcap.workflow.steps.robustness` reads and writes the files.

Conventions (docs/methods.md#conventions): CRV1 with K = slopes + FE levels not nested in the cluster and
t(G-1) reference; wild cluster restricted bootstrap (null imposed) with Rademacher weights fully
enumerated when 2^G <= B, Webb six-point weights otherwise; AKM / AKM0 as in ShiftShareSE (normal
critical values, no small-sample factor), shocks = IFR industry x year.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from intelcap import distributions
from intelcap.econometrics import absorb, crv1, inference, placebo, wild
from intelcap.econometrics.estimate import _format_set, fe_frame
from intelcap.errors import EstimationError, InputError, IntelcapError

METHOD_LABELS = {
    "firm_crv1": "CRV1, clustered by firm (paper)",
    "industry_crv1": "CRV1, clustered by IFR industry",
    "wild_bootstrap_industry": "Wild cluster bootstrap (IFR industry, null imposed)",
    "akm": "AKM shift-share (shocks: IFR industry x year)",
    "akm0": "AKM0 shift-share (null imposed)",
}
METHODS = list(METHOD_LABELS)

INFERENCE_COLUMNS = [
    "model",
    "spec",
    "depvar",
    "term",
    "method",
    "method_label",
    "estimate",
    "std_error",
    "p_value",
    "ci_low",
    "ci_high",
    "ci_text",
    "n_clusters",
    "cluster",
    "reference",
    "n_boot",
    "boot_weights",
    "enumerated",
    "nobs",
    "note",
]


# ------------------------------------------------------------------------------------------------
# design of one model
# ------------------------------------------------------------------------------------------------
@dataclass
class ModelData:
    """Arrays of one FE model on its listwise-complete sample (singletons are dropped by `design`)."""

    frame: pd.DataFrame
    y: np.ndarray
    x: np.ndarray
    W: np.ndarray | None
    design: absorb.AbsorbedDesign
    firm: np.ndarray
    industry: np.ndarray
    year: np.ndarray
    z: np.ndarray | None = None
    w_names: tuple[str, ...] = ()

    @property
    def shocks(self) -> np.ndarray:
        """IFR industry x year shock id of every row (input length)."""
        return np.char.add(np.char.add(self.industry.astype(str), "|"), self.year.astype(str))


def model_data(
    df: pd.DataFrame, spec, controls: list[str], industry_col: str = "ifr", cluster: str = "Stkcd"
) -> ModelData:
    """Listwise-complete sample of an `estimate.ModelSpec` (OLS: x = first regressor; IV: x = endog)."""
    from intelcap.econometrics.estimate import SAMPLES

    if not spec.fe:
        raise InputError(f"model {spec.name}: the robustness inference needs fixed effects", column="tables")
    x_name = spec.endog or (spec.regressors[0] if spec.regressors else None)
    if x_name is None:
        raise InputError(f"model {spec.name} has no regressor of interest", column="tables")
    rest = (
        [r for r in spec.regressors if r != x_name]
        + list(spec.extra)
        + (list(controls) if spec.controls else [])
    )
    need = list(
        dict.fromkeys(
            [spec.depvar, x_name, *rest, *spec.fe_vars(), cluster, industry_col, "Stkcd", "year"]
            + ([spec.instrument] if spec.instrument else [])
        )
    )
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(
            f"model {spec.name}: columns {missing} are not in the analysis panel", column="tables"
        )
    d = df[SAMPLES[spec.sample](df).to_numpy()]
    d = d[need].dropna().reset_index(drop=True)
    if d.empty:
        raise EstimationError(f"model {spec.name}: empty sample after listwise deletion")
    design = absorb.AbsorbedDesign(fe_frame(d, spec.fe))
    W = d[rest].to_numpy(float) if rest else None
    return ModelData(
        frame=d,
        y=d[spec.depvar].to_numpy(float),
        x=d[x_name].to_numpy(float),
        W=W,
        design=design,
        firm=d[cluster].to_numpy(),
        industry=d[industry_col].astype(str).to_numpy(),
        year=d["year"].to_numpy(),
        z=d[spec.instrument].to_numpy(float) if spec.instrument else None,
        w_names=tuple(rest),
    )


def _t_ci(b: float, se: float, df: int, level: float) -> tuple[float, float]:
    c = float(distributions.t_ppf(0.5 + level / 2, df))
    return b - c * se, b + c * se


def boot_kind(G: int, B: int) -> str:
    """Rademacher (fully enumerated) when 2^G <= B, else Webb's six-point weights."""
    return "rademacher" if G < 31 and 2**G <= B else "webb"


def _row(
    method: str,
    estimate: float,
    se: float,
    p: float,
    ci,
    G: int,
    cluster: str,
    reference: str,
    nobs: int,
    **extra,
) -> dict:
    intervals = list(ci) if isinstance(ci, list) else [tuple(ci)]
    bounded = len(intervals) == 1 and all(np.isfinite(intervals[0]))
    row = {
        "method": method,
        "method_label": METHOD_LABELS[method],
        "estimate": float(estimate),
        "std_error": float(se),
        "p_value": float(p),
        "ci_low": float(intervals[0][0]) if bounded else float("nan"),
        "ci_high": float(intervals[0][1]) if bounded else float("nan"),
        "ci_text": _format_set(intervals, 4),
        "n_clusters": int(G),
        "cluster": cluster,
        "reference": reference,
        "n_boot": np.nan,
        "boot_weights": "",
        "enumerated": "",
        "nobs": int(nobs),
        "note": "",
    }
    row.update(extra)
    return row


# ------------------------------------------------------------------------------------------------
# 1. inference table
# ------------------------------------------------------------------------------------------------
def ols_inference(
    md: ModelData, B: int, seed: int | None, level: float = 0.95, methods: list[str] | None = None
) -> list[dict]:
    """The five inference methods for the coefficient of md.x in y ~ x + W + FE."""
    methods = methods or METHODS
    d = md.design
    yd = d.demean(md.y)
    X = md.x[:, None] if md.W is None else np.column_stack([md.x, md.W])
    Xd = d.demean(X)
    n = d.n_obs
    rows = []
    for name, cl, label in (("firm_crv1", md.firm, "firm"), ("industry_crv1", md.industry, "IFR industry")):
        if name not in methods:
            continue
        cls = d.subset(cl)
        r = crv1.ols_crv1(yd, Xd, cls, d.dof_fe(cls))
        b, se, G = float(r.beta[0]), float(r.se[0]), r.n_clusters
        rows.append(
            _row(name, b, se, float(r.pvalue[0]), _t_ci(b, se, G - 1, level), G, label, f"t({G - 1})", n)
        )
    if "wild_bootstrap_industry" in methods:
        G = len(np.unique(d.subset(md.industry)))
        kind = boot_kind(G, B)
        wb = wild.wild_cluster_bootstrap(
            md.y, md.x, md.W, d, md.industry, h0=0.0, B=B, weights=kind, seed=seed, ci=True, level=level
        )
        rows.append(
            _row(
                "wild_bootstrap_industry",
                wb.coef,
                float("nan"),
                wb.p_value,
                wb.ci,
                G,
                "IFR industry",
                "bootstrap-t (WCR)",
                n,
                n_boot=wb.n_boot,
                boot_weights=kind,
                enumerated=bool(wb.enumerated),
                note="symmetric bootstrap-t p-value of H0: b = 0; CI by test inversion",
            )
        )
    if "akm" in methods or "akm0" in methods:
        yres, xres = inference.residualize(d, md.W, md.y, md.x)
        shocks = d.subset(md.shocks)
        a = inference.akm_se(yres, xres, shocks, alpha=1 - level)
        rows += _akm_rows(a, n, [m for m in ("akm", "akm0") if m in methods])
    return rows


def _akm_rows(a: inference.AKMResult, n: int, methods: list[str], note_akm: str = "") -> list[dict]:
    """The shift-share rows (AKM, and AKM0: SE under H0 with the test-inverted set) of one AKM result."""
    rows = []
    if "akm" in methods:
        rows.append(
            _row(
                "akm",
                a.beta,
                a.se_akm,
                a.p_akm,
                a.ci_akm,
                a.n_shocks,
                "shocks",
                "normal",
                n,
                **({"note": note_akm} if note_akm else {}),
            )
        )
    if "akm0" in methods:
        rows.append(
            _row(
                "akm0",
                a.beta,
                a.se_akm0,
                a.p_akm0,
                a.ci_akm0,
                a.n_shocks,
                "shocks",
                "normal",
                n,
                note=f"SE under H0: b = 0; CI by test inversion ({a.ci_akm0_kind})",
            )
        )
    return rows


def akm_iv(
    y_res: np.ndarray,
    x_res: np.ndarray,
    z_res: np.ndarray,
    shocks: np.ndarray,
    beta0: float = 0.0,
    alpha: float = 0.05,
) -> inference.AKMResult:
    """AKM (2019) standard errors of just-identified 2SLS with a shift-share instrument (ShiftShareSE
    `ivreg_ss`): inputs residualised on controls and FE; Z^_s = coefficients of Z.. on the shares,
        b = Z..'Y.. / Z..'X..,   se^2 = sum_s (Z^_s R_s)^2 / (Z..'X..)^2,   R_s = sum_i s_is (Y.. - b X..)_i.
    AKM0 uses the null-imposed residual Y.. - beta0 X..; its CI is {b: (Z'Y - b Z'X)^2 <= z^2 sum_s (a_s - b c_s)^2}
    with a_s = Z^_s S_s'Y.., c_s = Z^_s S_s'X... With Z = X this is `inference.akm_se` exactly.
    Shares are 0/1 (one shock per row), so Z^_s is the shock-cell mean of Z..."""
    Y, X, Z = (np.asarray(a, dtype=float).ravel() for a in (y_res, x_res, z_res))
    codes, uniq = pd.factorize(pd.Series(np.asarray(shocks)), sort=True)
    n_s = len(uniq)
    cnt = np.bincount(codes, minlength=n_s).astype(float)

    def ssum(v: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=v, minlength=n_s)

    hZ = ssum(Z) / cnt
    zx, zy = float(Z @ X), float(Z @ Y)
    beta = zy / zx
    cR = hZ * ssum(Y - beta * X)
    cR0 = hZ * ssum(Y - beta0 * X)
    ca, cc = hZ * ssum(Y), hZ * ssum(X)
    se = float(np.sqrt(cR @ cR) / abs(zx))
    se0 = float(np.sqrt(cR0 @ cR0) / abs(zx))
    z = float(distributions.norm_ppf(1 - alpha / 2))
    a2 = zx**2 - z**2 * (cc @ cc)
    a1 = -2 * zy * zx + 2 * z**2 * (ca @ cc)
    a0 = zy**2 - z**2 * (ca @ ca)
    ci0, kind = inference.quadratic_set(a2, a1, a0)
    # the OLS result type: the same fields (with Z = X this is inference.akm_se exactly)
    return inference.akm_result(beta, se, se0, z, beta0, ci0, kind, n_s)


def wild_bootstrap_ar(
    md: ModelData,
    B: int,
    seed: int | None,
    level: float = 0.95,
    center: float = 0.0,
    scale: float = 1.0,
    grid: int = 161,
    width: float = 10.0,
):
    """Wild cluster restricted bootstrap Anderson-Rubin test for the IV coefficient (clusters = industry).

    AR(b0) = WCR bootstrap-t test of gamma = 0 in (y - b0 x) ~ z + W + FE; at b0 = 0 this is the WCR test
    of the reduced form. The same weight draws are used at every b0; the confidence set {b0: p(b0) > alpha}
    is found on a grid center +- width*scale and its edges refined by bisection (returned as a list of
    intervals; unbounded pieces are reported as +-inf when the set reaches the grid's end).
    Returns (p at 0, intervals, n_boot, kind, enumerated).
    """
    d = md.design
    G = len(np.unique(d.subset(md.industry)))
    kind = boot_kind(G, B)
    alpha = 1 - level

    def p(b0: float) -> tuple[float, int, bool]:
        r = wild.wild_cluster_bootstrap(
            md.y - b0 * md.x, md.z, md.W, d, md.industry, h0=0.0, B=B, weights=kind, seed=seed
        )
        return r.p_value, r.n_boot, r.enumerated

    p0, n_boot, enum = p(0.0)
    bs = center + scale * np.linspace(-width, width, grid)
    acc = np.array([p(b)[0] > alpha for b in bs])
    intervals = []
    i = 0
    while i < len(bs):
        if not acc[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(bs) and acc[j + 1]:
            j += 1

        def edge(inside: float, outside: float) -> float:
            for _ in range(40):
                mid = 0.5 * (inside + outside)
                if p(mid)[0] > alpha:
                    inside = mid
                else:
                    outside = mid
                if abs(outside - inside) <= 1e-6 * scale:
                    break
            return 0.5 * (inside + outside)

        lo = -np.inf if i == 0 else edge(bs[i], bs[i - 1])
        hi = np.inf if j == len(bs) - 1 else edge(bs[j], bs[j + 1])
        intervals.append((float(lo), float(hi)))
        i = j + 1
    return p0, intervals, n_boot, kind, enum


def iv_inference(md: ModelData, B: int, seed: int | None, level: float = 0.95) -> list[dict]:
    """Firm- and industry-clustered 2SLS, WCR bootstrap AR test (industry) and AKM / AKM0 for the IV."""
    d = md.design
    n = d.n_obs
    rows = []
    ses = {}
    for name, cl, label in (("firm_crv1", md.firm, "firm"), ("industry_crv1", md.industry, "IFR industry")):
        r = inference.iv_2sls(inference.IVSample(md.y, md.x, md.z, md.W, d, cl))
        ses[name] = r.se
        weak = (
            " (weak instrument at this clustering level: Wald inference unreliable)"
            if r.first_stage_F < 10
            else ""
        )
        rows.append(
            _row(
                name,
                r.beta,
                r.se,
                r.pvalue,
                _t_ci(r.beta, r.se, r.n_clusters - 1, level),
                r.n_clusters,
                label,
                f"t({r.n_clusters - 1})",
                n,
                note=f"first-stage F clustered by {label} = {r.first_stage_F:.2f}{weak}",
            )
        )
    b_iv = rows[0]["estimate"]
    p0, ci, n_boot, kind, enum = wild_bootstrap_ar(
        md, B, seed, level, center=b_iv, scale=ses["industry_crv1"]
    )
    G = rows[1]["n_clusters"]
    rows.append(
        _row(
            "wild_bootstrap_industry",
            b_iv,
            float("nan"),
            p0,
            ci,
            G,
            "IFR industry",
            "bootstrap-t (WCR)",
            n,
            n_boot=n_boot,
            boot_weights=kind,
            enumerated=bool(enum),
            note="wild restricted bootstrap Anderson-Rubin test (p at b = 0 = WCR test of the reduced "
            "form); set by test inversion. Not the WRE of Davidson-MacKinnon (2010)",
        )
    )
    yres, xres, zres = inference.residualize(d, md.W, md.y, md.x, md.z)
    a = akm_iv(yres, xres, zres, d.subset(md.shocks), alpha=1 - level)
    rows += _akm_rows(
        a, n, ["akm", "akm0"], note_akm="AKM for 2SLS, instrument's shocks = IFR industry x year"
    )
    return rows


def inference_table(
    df: pd.DataFrame,
    models: list[tuple[str, object]],
    controls: list[str],
    cluster: str,
    industry_col: str,
    B: int,
    seed: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Long table: one row per (model, method). `models` = [(label, ModelSpec)]; IV specs have `endog`."""
    out = []
    for label, spec in models:
        md = model_data(df, spec, controls, industry_col, cluster)
        rows = iv_inference(md, B, seed, level) if spec.endog else ols_inference(md, B, seed, level)
        term = spec.endog or spec.regressors[0]
        for r in rows:
            r.update(model=label, spec=spec.name, depvar=spec.depvar, term=term)
        out += rows
    return pd.DataFrame(out, columns=INFERENCE_COLUMNS)


# ------------------------------------------------------------------------------------------------
# 2. Monte Carlo audit
# ------------------------------------------------------------------------------------------------
PANEL_TABLES = ["FS_Combas", "FS_Comins", "FS_Comscfd", "CG_Ybasic", "STK_LISTEDCOINFOANL"]


def loaded_from_vendor(frame: pd.DataFrame, spec: dict, table: str) -> pd.DataFrame:
    """What `io.load_table` returns for a vendor table, from the generator's in-memory frame (no files)."""
    from intelcap.ingest import readers as io

    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    num = set(io.NUMERIC_FIELDS.get(table, []))
    out = pd.DataFrame({"Stkcd": io.normalize_ids(frame[id_col].astype(str), "<memory>", id_col)})
    if date_col:
        dt = frame[date_col].astype(str).str.strip().str[:10]
        out["date"] = dt.to_numpy()
        out["year"] = dt.str[:4].astype(np.int64).to_numpy()
    for name, code in fields.items():
        col = frame[code]
        # numbers stay numbers (what to_numeric would return from their text); text as the reader strips it
        out[name] = (
            pd.to_numeric(col, errors="raise").astype(float).to_numpy()
            if name in num
            else col.astype(str).str.strip().to_numpy()
        )
    if table.startswith("FS_"):
        out = io.annual_consolidated(out)
    elif "date" in out:
        out = out[out["date"].str.endswith("-12-31")].reset_index(drop=True)
    out = out.drop(columns=[c for c in ("date",) if c in out])
    sort = [c for c in ("Stkcd", "year", "detail", "sign_year", "region") if c in out]
    return out.sort_values(sort, kind="stable").reset_index(drop=True)


def simulate_analysis_panel(
    params, config: dict, crosswalk: pd.DataFrame, regions: pd.DataFrame
) -> pd.DataFrame:
    """One synthetic world in memory, through the workflow's own panel, robot and CU code: the analysis
    panel (lnCU = two-step SFA predictor, lnINT, controls) plus the truth (lnCU_true = -u, ame_lnINT)."""
    from intelcap.ingest import panel
    from intelcap.measures import cu, robots
    from intelcap.synthetic import dgp as synth

    tables = synth.generate(params, crosswalk)
    loaded = {
        t: loaded_from_vendor(tables[t], config["csmar"][t], t) for t in [*PANEL_TABLES, "EMP_Structure"]
    }
    clean, _ = panel.build_panel({t: loaded[t] for t in PANEL_TABLES}, config, crosswalk, regions)
    ifr = tables["ifr_robots"].assign(industry=lambda d: d["industry"].astype(str))
    emp = tables["employment_base"].assign(industry=lambda d: d["industry"].astype(str))
    rob, _ = robots.robot_exposure(clean, ifr, emp, loaded["EMP_Structure"], config["robots"])
    w = config["winsor"]
    wvars = [v for v in w["vars"] if v in clean.columns]
    wins, _ = panel.winsorize(clean, wvars, tuple(w["cuts"]), bool(w["by_year"]))
    c = config["cu"]
    cu_df, _ = cu.estimate_cu(
        clean[["Stkcd", "year", "industry", "Y", "K", "L"]],
        c["method"],
        predictor=c["predictor"],
        on_wrong_skew=c["on_wrong_skew"],
    )
    truth = tables["_truth"][["Stkcd", "year", "lnCU_true", "ame_lnINT"]]
    out = (
        wins.merge(cu_df[["Stkcd", "year", "lnCU"]], on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(rob[["Stkcd", "year", "lnINT"]], on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(truth, on=["Stkcd", "year"], how="left", validate="1:1")
    )
    return out.dropna(subset=["lnINT", "lnCU"]).reset_index(drop=True)


MC_COLUMNS = [
    "scenario",
    "rep",
    "seed",
    "estimator",
    "method",
    "estimate",
    "std_error",
    "p_value",
    "ci_low",
    "ci_high",
    "true_ame",
    "beta",
    "covers_ame",
    "covers_beta",
    "nobs",
    "n_clusters",
    "n_boot",
    "status",
]


@dataclass(frozen=True)
class MonteCarloScenario:
    """What every replication of a scenario shares: the DGP overrides of `config["synth"]`, the workflow config
    and mapping files the panel is built with, the wild-bootstrap draws and the CI level."""

    name: str
    overrides: dict
    config: dict
    crosswalk: pd.DataFrame
    regions: pd.DataFrame
    B: int
    level: float = 0.95


def mc_replication(rep: int, seed: int, sc: MonteCarloScenario, spec=None) -> pd.DataFrame:
    """One Monte Carlo replication: generate, build the panel, estimate two-step and oracle, all methods."""
    from intelcap.econometrics.estimate import ModelSpec
    from intelcap.synthetic import dgp as synth

    scenario, config, B, level = sc.name, sc.config, sc.B, sc.level
    base = dict(config["synth"])
    base.update(sc.overrides)
    base.update(reports=False)
    p = synth.SynthParams.from_config({"synth": base, "seed": seed})
    spec = spec or ModelSpec(
        name="(4)", depvar="lnCU", regressors=["lnINT"], controls=True, fe=["Stkcd", "year"]
    )
    beta = float(p.beta_lnINT)
    try:
        df = simulate_analysis_panel(p, config, sc.crosswalk, sc.regions)
        rows = []
        for estimator, dep in (("two_step", spec.depvar), ("oracle", "lnCU_true")):
            s = ModelSpec(**{**spec.__dict__, "depvar": dep})
            md = model_data(df, s, config["controls"], "ifr", config["cluster"])
            ame = float(np.mean(md.design.subset(_ame_on(md.frame, df))))
            for r in ols_inference(md, B, seed, level):
                lo, hi = r["ci_low"], r["ci_high"]
                if not (np.isfinite(lo) and np.isfinite(hi)):  # unbounded / union set: use the text set
                    lo, hi = _hull(r["ci_text"])
                rows.append(
                    {
                        "scenario": scenario,
                        "rep": rep,
                        "seed": seed,
                        "estimator": estimator,
                        "method": r["method"],
                        "estimate": r["estimate"],
                        "std_error": r["std_error"],
                        "p_value": r["p_value"],
                        "ci_low": lo,
                        "ci_high": hi,
                        "true_ame": ame,
                        "beta": beta,
                        "covers_ame": bool(lo <= ame <= hi),
                        "covers_beta": bool(lo <= beta <= hi),
                        "nobs": r["nobs"],
                        "n_clusters": r["n_clusters"],
                        "n_boot": r["n_boot"],
                        "status": "ok",
                    }
                )
        return pd.DataFrame(rows, columns=MC_COLUMNS)
    except IntelcapError as exc:  # a failed replication is recorded, not fatal (e.g. wrong SFA skew)
        row = dict.fromkeys(MC_COLUMNS, np.nan)
        row.update(
            scenario=scenario,
            rep=rep,
            seed=seed,
            estimator="",
            method="",
            beta=beta,
            status=f"failed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
        )
        return pd.DataFrame([row], columns=MC_COLUMNS)


def _ame_on(sample: pd.DataFrame, df: pd.DataFrame) -> np.ndarray:
    key = df.set_index(["Stkcd", "year"])["ame_lnINT"]
    return key.reindex(pd.MultiIndex.from_frame(sample[["Stkcd", "year"]])).to_numpy(float)


def _hull(text: str) -> tuple[float, float]:
    """Lowest and highest end of a printed set such as '[a, b] ∪ [c, +inf]' (coverage of unions = hull)."""
    if text == "empty":
        return float("nan"), float("nan")
    nums = [float(v.replace("+inf", "inf")) for part in text.split("∪") for v in part.strip(" []").split(",")]
    return min(nums), max(nums)


def mc_shard(shard: int, size: int, seed: int, sc: MonteCarloScenario) -> pd.DataFrame:
    """Replications shard*size ... shard*size + size - 1; replication r uses synthetic seed `seed + r` in every
    scenario (common random numbers: scenarios differ only in their parameters)."""
    reps = range(shard * size, (shard + 1) * size)
    return pd.concat([mc_replication(r, seed + r, sc) for r in reps], ignore_index=True)


def coverage_summary(mc: pd.DataFrame, reps: int | None = None) -> pd.DataFrame:
    """Coverage of the AME and of the planted beta, mean SE, SD and bias of the estimates, by scenario x
    estimator x method; plus the mean two-step minus oracle difference (the SFA step's bias) per scenario.
    Only replications < `reps` (if given) and with status ok enter."""
    d = mc[mc["status"] == "ok"]
    if reps is not None:
        d = d[d["rep"] < reps]
    if d.empty:
        raise EstimationError("no successful Monte Carlo replications to summarise")
    keys = ["scenario", "estimator", "method"]
    g = d.groupby(keys, sort=False)
    out = g.agg(
        n_reps=("rep", "nunique"),
        coverage_ame=("covers_ame", "mean"),
        coverage_beta=("covers_beta", "mean"),
        mean_estimate=("estimate", "mean"),
        sd_estimate=("estimate", "std"),
        mean_se=("std_error", "mean"),
        mean_true_ame=("true_ame", "mean"),
        beta=("beta", "first"),
        rejection_rate_zero=("p_value", lambda p: float(np.mean(p < 0.05))),
    ).reset_index()
    out["bias_vs_ame"] = out["mean_estimate"] - out["mean_true_ame"]
    out["bias_vs_beta"] = out["mean_estimate"] - out["beta"]
    first = d[d["method"] == d["method"].iloc[0]]
    wide = first.pivot_table(index=["scenario", "rep"], columns="estimator", values="estimate")
    if {"two_step", "oracle"} <= set(wide.columns):
        diff = (wide["two_step"] - wide["oracle"]).groupby(level=0)
        sfa = pd.DataFrame({"two_step_minus_oracle": diff.mean(), "two_step_minus_oracle_sd": diff.std()})
        out = out.merge(sfa, left_on="scenario", right_index=True, how="left")
    failed = mc[~(mc["status"] == "ok")]
    if reps is not None:
        failed = failed[failed["rep"] < reps]
    n_failed = failed.groupby("scenario")["rep"].nunique()
    out["n_failed"] = out["scenario"].map(n_failed).fillna(0).astype(int)
    return out


# ------------------------------------------------------------------------------------------------
# 3. placebo
# ------------------------------------------------------------------------------------------------
def shard_seed(seed: int, mode: str, shard: int) -> int:
    """Seed of one placebo shard from (config seed, mode, shard index) only."""
    ss = np.random.SeedSequence([int(seed), zlib.crc32(mode.encode()), int(shard)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def placebo_shard(
    md: ModelData, mode: str, shard: int, size: int, seed: int, keep_draws: int = 0
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """`size` placebo coefficients with lnINT reassigned across firms or industries (placebo.placebo_coefficients,
    FWL refits, firm-clustered SE). Output depends only on (data, mode, shard, size, seed)."""
    s = shard_seed(seed, mode, shard)
    r = placebo.placebo_coefficients(
        md.y,
        md.x,
        md.W,
        md.design,
        md.firm,
        mode,
        size,
        s,
        md.firm,
        md.industry,
        year_ids=md.year,
        keep_draws=keep_draws,
    )
    out = pd.DataFrame(
        {
            "mode": mode,
            "shard": shard,
            "draw": shard * size + np.arange(size),
            "coef": r.coefs,
            "se": r.ses,
            "actual": r.coef_observed,
            "shard_seed": str(s),
        }
    )
    return out, r.x_draws


def placebo_summary(draws: pd.DataFrame, K: int) -> pd.DataFrame:
    """Per mode: actual coefficient, K, mean and SD of the placebo coefficients, empirical two-sided p
    ((1 + #|b_r| >= |b|) / (1 + K)) and the raw share."""
    rows = []
    for mode, g in draws.groupby("mode", sort=False):
        g = g[g["draw"] < K]
        if len(g) < K:
            raise EstimationError(f"placebo mode {mode}: {len(g)} draws for K = {K}")
        b, actual = g["coef"].to_numpy(), float(g["actual"].iloc[0])
        rows.append(
            {
                "mode": mode,
                "actual": actual,
                "K": int(K),
                "placebo_mean": float(b.mean()),
                "placebo_sd": float(b.std(ddof=1)),
                "placebo_p2.5": float(np.quantile(b, 0.025)),
                "placebo_p97.5": float(np.quantile(b, 0.975)),
                "p_empirical": placebo.placebo_pvalue(b, actual),
                "share_abs_ge_actual": float(np.mean(np.abs(b) >= abs(actual))),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# 4. specification curve
# ------------------------------------------------------------------------------------------------
def spec_panel(
    clean: pd.DataFrame,
    attributes: pd.DataFrame,
    robots_df: pd.DataFrame,
    cu_df: pd.DataFrame,
    cuts: list | tuple | None,
    winsor_vars: list[str],
    by_year: bool,
) -> pd.DataFrame:
    """The analysis panel of one (CU measure, winsorization) variant, built exactly as rules winsorize +
    analysis_panel do: clean panel + attributes, re-winsorized with `cuts` (None/empty = none), then lnINT and
    the CU variant merged and rows without either dropped."""
    from intelcap.ingest import panel

    df = clean.merge(attributes, on=["Stkcd", "year"], how="left", validate="1:1")
    if cuts:
        df, _ = panel.winsorize(df, list(winsor_vars), (float(cuts[0]), float(cuts[1])), by_year)
    df = df.merge(cu_df[["Stkcd", "year", "CU", "lnCU"]], on=["Stkcd", "year"], how="left", validate="1:1")
    rob = robots_df[["Stkcd", "year", "lnINT", "lnINTUS", "L_lnINT"]]
    df = df.merge(rob, on=["Stkcd", "year"], how="left", validate="1:1")
    df = df[df["lnINT"].notna() & df["lnCU"].notna()]
    return df.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True)


SPEC_COLUMNS = [
    "cu",
    "winsor",
    "controls",
    "fe",
    "sample",
    "term",
    "estimate",
    "std_error",
    "t_value",
    "p_value",
    "ci_low",
    "ci_high",
    "nobs",
    "n_clusters",
    "fixed_effects",
    "status",
    "reason",
]

# `reason` of a specification without an lnINT estimate (status says it in words; figures count by these)
SPEC_REASONS = {
    "absorbed_by_fe": "lnINT has no variation left after the fixed effects",
    "collinear": "lnINT dropped as collinear with the other regressors",
    "estimation_error": "the estimation failed",
}


def _absorbed_by_fe(df: pd.DataFrame, spec, controls: list[str], cluster: str) -> bool:
    """Whether lnINT has no variation left once `spec`'s fixed effects are absorbed on its estimation sample
    (estimate.degenerate_variables' criterion): then no estimator can identify its coefficient."""
    from intelcap.econometrics import estimate
    from intelcap.econometrics.absorb import AbsorbedDesign

    if not spec.fe:
        return False
    d = estimate.estimation_sample(df, spec, controls, cluster)
    design = AbsorbedDesign(estimate.fe_frame(d, spec.fe), tol=estimate.FIT_TOL)
    x = d[design.keep]["lnINT"].to_numpy(float) if len(d) else np.zeros(0)  # as estimate.fit indexes it
    if not len(x):
        return False
    scale = max(1.0, float(np.max(np.abs(x))))
    return float(np.std(design.demean(x))) <= 1e-10 * scale


def _no_estimate(df, spec, controls, cluster, fe: list[str], exc: Exception | None) -> tuple[str, str]:
    """(status, reason) of a specification without an lnINT estimate: lnINT absorbed by the FE (genuinely
    infeasible: with firm FE, a firm-constant weight times an industry-year exposure is absorbed by firm and
    industry x year FE), dropped as collinear, or a failed estimation with its whole message (pyfixest's
    messages start with a newline, so their first line alone would be empty)."""
    try:
        absorbed = _absorbed_by_fe(df, spec, controls, cluster)
    except IntelcapError:  # e.g. only singletons: the estimation error below says it
        absorbed = False
    if absorbed:
        text = (
            f"{SPEC_REASONS['absorbed_by_fe']} {'+'.join(fe)} (it varies only across what they absorb), "
            "so its coefficient is not identified"
        )
        return f"collinear: {text}", "absorbed_by_fe"
    if exc is None:
        return f"collinear: {SPEC_REASONS['collinear']} and fixed effects {'+'.join(fe)}", "collinear"
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"failed: {message[:400]}", "estimation_error"


def spec_grid(spec_cfg: dict) -> pd.DataFrame:
    """Full cartesian product of the specification-curve dimensions, in config order."""
    import itertools

    dims = {
        "cu": list(spec_cfg["cu"]),
        "winsor": list(spec_cfg["winsor"]),
        "controls": list(spec_cfg["controls"]),
        "fe": list(spec_cfg["fe"]),
        "sample": list(spec_cfg["samples"]),
    }
    return pd.DataFrame(list(itertools.product(*dims.values())), columns=list(dims))


def spec_curve_shard(
    df: pd.DataFrame,
    cu_name: str,
    winsor_name: str,
    spec_cfg: dict,
    controls: list[str],
    cluster: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Every controls x FE x sample specification on one (CU, winsorization) panel, firm-clustered CRV1 under
    reghdfe conventions (estimate.fit + tidy_model). A regressor absorbed by the FE (lnINT under
    industry x year FE: it varies only at IFR industry x year) is reported with NaN, status 'collinear: <why>'
    and reason 'absorbed_by_fe'; every specification without an estimate says why (`SPEC_REASONS`)."""
    from intelcap.econometrics import estimate

    rows = []
    for ctrl in spec_cfg["controls"]:
        for fe_name, fe in spec_cfg["fe"].items():
            for sample in spec_cfg["samples"]:
                spec = estimate.ModelSpec(
                    name=f"{cu_name}/{winsor_name}/{ctrl}/{fe_name}/{sample}",
                    depvar="lnCU",
                    regressors=["lnINT"],
                    controls=ctrl != "none",
                    fe=list(fe),
                    sample=sample,
                )
                base = {
                    "cu": cu_name,
                    "winsor": winsor_name,
                    "controls": ctrl,
                    "fe": fe_name,
                    "sample": sample,
                    "term": "lnINT",
                    "fixed_effects": "+".join(fe),
                }
                estimate.validate_spec(spec, controls, list(df.columns))
                nan = dict.fromkeys(
                    ["estimate", "std_error", "t_value", "p_value", "ci_low", "ci_high"], np.nan
                )
                try:
                    fit, d = estimate.fit(df, spec, controls, cluster)
                except EstimationError as exc:  # e.g. every regressor absorbed by the FE
                    status, reason = _no_estimate(df, spec, controls, cluster, list(fe), exc)
                    rows.append(
                        {
                            **base,
                            **nan,
                            "nobs": np.nan,
                            "n_clusters": np.nan,
                            "status": status,
                            "reason": reason,
                        }
                    )
                    continue
                tidy = estimate.tidy_model(fit, d, spec)
                hit = tidy[tidy["term"] == "lnINT"]
                if hit.empty:
                    status, reason = _no_estimate(df, spec, controls, cluster, list(fe), None)
                    rows.append(
                        {
                            **base,
                            **nan,
                            "nobs": int(fit.n_obs),
                            "n_clusters": int(fit.n_clusters),
                            "status": status,
                            "reason": reason,
                        }
                    )
                    continue
                r = hit.iloc[0]
                lo, hi = _t_ci(float(r["estimate"]), float(r["std_error"]), int(r["n_clusters"]) - 1, level)
                rows.append(
                    {
                        **base,
                        "estimate": float(r["estimate"]),
                        "std_error": float(r["std_error"]),
                        "t_value": float(r["t_value"]),
                        "p_value": float(r["p_value"]),
                        "ci_low": lo,
                        "ci_high": hi,
                        "nobs": int(r["nobs"]),
                        "n_clusters": int(r["n_clusters"]),
                        "status": "ok",
                        "reason": "",
                    }
                )
    return pd.DataFrame(rows, columns=SPEC_COLUMNS)


# ------------------------------------------------------------------------------------------------
# 5. one-step SFA (Battese-Coelli 1995)
# ------------------------------------------------------------------------------------------------
def _mills(a: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * a * a - 0.5 * math.log(2 * math.pi) - special.log_ndtr(a))


def truncnormal_moments(mu: np.ndarray, su: float) -> dict[str, np.ndarray]:
    """For u ~ N+(mu, su^2): E[u], dE[u]/dmu, ln E[exp(-u)] and d ln E[exp(-u)] / dmu."""
    a = mu / su
    lam = _mills(a)
    eu = mu + su * lam
    deu = 1.0 - lam * (a + lam)
    ln_ecu = -mu + 0.5 * su * su + special.log_ndtr(a - su) - special.log_ndtr(a)
    # d/dmu: -1 + (lambda(a - su) - lambda(a)) / su
    dln_ecu = -1.0 + (_mills(a - su) - lam) / su
    return {"Eu": eu, "dEu_dmu": deu, "lnEcu": ln_ecu, "dlnEcu_dmu": dln_ecu}


def one_step_sfa(
    df: pd.DataFrame, z_vars: list[str], form: str = "cobb_douglas"
) -> tuple[pd.DataFrame, dict]:
    """BC95: ln Y = frontier(K, L) + year + industry dummies + v - u, u ~ N+(z'delta, su^2), z = (1, z_vars).

    Reports delta (sign: delta < 0 lowers mean inefficiency, i.e. raises CU) and two average marginal effects
    of the first z variable: on E[ln CU] = E[-u] (-delta_1 * dE[u]/dmu, the counterpart of the two-step
    beta, whose dependent variable is ln CU) and on ln E[CU] = ln E[exp(-u)] (semi-elasticity of mean CU).
    SEs by the delta method with the inverse numerical Hessian of the log-likelihood.
    """
    from intelcap.measures import cu

    need = ["Y", "K", "L", "year", "industry", *z_vars]
    d = df.dropna(subset=need).sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True)
    X, names = cu.design_matrix(d, form)
    y = np.log(d["Y"].to_numpy(float))
    Z = np.column_stack([np.ones(len(d)), d[z_vars].to_numpy(float)])
    z_names = ["const", *z_vars]
    r = cu.fit_sfa_bc95(y, X, Z, names=names, z_names=z_names, compute_se=True)
    k, m = X.shape[1], Z.shape[1]
    theta = np.r_[r.beta, r.delta, math.log(r.sigma_u), math.log(r.sigma_v)]
    hess = cu._numerical_hessian(lambda th: cu._bc95_eval(th, y, X, Z, True)[1], theta)
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov = np.full((theta.size, theta.size), np.nan)

    def ames(th: np.ndarray) -> np.ndarray:
        delta, su = th[k : k + m], math.exp(th[k + m])
        mom = truncnormal_moments(Z @ delta, su)
        return np.array([np.mean(-delta[1] * mom["dEu_dmu"]), np.mean(delta[1] * mom["dlnEcu_dmu"])])

    est = ames(theta)
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    J = np.column_stack(
        [(ames(theta + np.eye(theta.size)[j] * h[j]) - est) / h[j] for j in range(theta.size)]
    )
    V = J @ cov @ J.T
    se_ame = np.sqrt(np.clip(np.diag(V), 0, None))
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    rows = []
    for j, zn in enumerate(z_names):
        rows.append(
            {
                "parameter": f"delta_{zn}",
                "estimate": float(r.delta[j]),
                "std_error": float(sd[k + j]),
                "note": "mean of u (inefficiency): delta < 0 raises CU",
            }
        )
    rows += [
        {
            "parameter": f"ame_E_lnCU_{z_vars[0]}",
            "estimate": float(est[0]),
            "std_error": float(se_ame[0]),
            "note": "d E[ln CU]/d lnINT = -delta * dE[u]/dmu, averaged: comparable with the two-step beta",
        },
        {
            "parameter": f"ame_lnE_CU_{z_vars[0]}",
            "estimate": float(est[1]),
            "std_error": float(se_ame[1]),
            "note": "d ln E[CU]/d lnINT = delta * d ln E[exp(-u)]/dmu, averaged",
        },
        {"parameter": "sigma_u", "estimate": r.sigma_u, "std_error": r.se.get("sigma_u", np.nan), "note": ""},
        {"parameter": "sigma_v", "estimate": r.sigma_v, "std_error": r.se.get("sigma_v", np.nan), "note": ""},
    ]
    out = pd.DataFrame(rows)
    out["nobs"] = r.n_obs
    diag = {"loglik": r.loglik, "converged": bool(r.converged), "n_iter": r.n_iter, "message": r.message}
    return out, diag
