"""Seeded synthetic data in the vendors' own file formats, from a documented DGP (docs/DGP.md).

The generator writes `raw_dir` exactly as a user with licensed data would lay it out (docs/data_contract.md):
CSMAR tables with their three header rows in mixed encodings and containers, IFR robots and base-year
employment, and annual reports. Everything is vectorised over firm-years so the same code writes a
4-million-row panel for benchmarks. The true parameters go to `truth.json` beside the data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap.atomic import atomic_path, write_text
from intelcap.errors import InputError
from intelcap.owned_dir import claim_output_dir
from intelcap.schema_params import schema_params

IFR_INDUSTRIES = ["10-12", "13-15", "16", "17-18", "19-22", "23", "24", "25", "26-27", "28", "29", "30", "91"]
XLSX_MAX_ROWS = 1_048_576

# CSRC manufacturing codes and their draw weights; tuned so the labor/capital/technology shares come out
# near the paper's 10.4 / 31.7 / 57.9 % (docs/methods.md#intensity).
_CSRC_WEIGHTS = {
    "C13": 1.3,
    "C14": 1.5,
    "C15": 2.5,
    "C16": 0.1,
    "C17": 1.6,
    "C18": 1.5,
    "C19": 0.4,
    "C20": 0.3,
    "C21": 0.6,
    "C22": 2.2,
    "C23": 0.4,
    "C24": 0.5,
    "C25": 1.0,
    "C26": 9.0,
    "C27": 8.5,
    "C28": 1.1,
    "C29": 2.0,
    "C30": 5.3,
    "C31": 1.7,
    "C32": 3.6,
    "C33": 3.5,
    "C34": 5.5,
    "C35": 9.5,
    "C36": 5.5,
    "C37": 2.4,
    "C38": 9.0,
    "C39": 14.5,
    "C40": 1.9,
    "C41": 0.6,
    "C42": 0.4,
    "C43": 0.2,
}
_NON_MANUFACTURING = ["B06", "D44", "E48", "F51", "G54", "I65", "K70"]

# Provinces with draw weights giving East/Central/West = 66/19/15 % and ~13 % in the four municipalities.
_PROVINCE_WEIGHTS = {
    "北京": 4.6,
    "天津": 1.5,
    "河北": 2.5,
    "辽宁": 2.4,
    "上海": 5.2,
    "江苏": 13.0,
    "浙江": 14.5,
    "福建": 4.0,
    "山东": 7.0,
    "广东": 12.5,
    "海南": 0.4,
    "山西": 1.3,
    "吉林": 1.4,
    "黑龙江": 1.1,
    "安徽": 4.4,
    "江西": 2.2,
    "河南": 3.5,
    "湖北": 3.0,
    "湖南": 3.1,
    "内蒙古": 0.8,
    "广西": 0.9,
    "重庆": 1.8,
    "四川": 4.3,
    "贵州": 0.9,
    "云南": 1.1,
    "西藏": 0.3,
    "陕西": 1.6,
    "甘肃": 1.0,
    "青海": 0.4,
    "宁夏": 0.4,
    "新疆": 1.3,
}
_PROVINCE_FULL = {
    "北京": "北京市",
    "天津": "天津市",
    "上海": "上海市",
    "重庆": "重庆市",
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
}

_EMP_CATEGORIES = ["生产人员", "技术人员", "销售人员", "财务人员", "行政人员", "其他"]


@schema_params("synth", top_level=("seed",))
class SynthParams:
    """Knobs of the DGP (docs/DGP.md): `seed` (the config's top-level seed, required) and one field per key of
    config block `synth`, with the schema's defaults (schemas/config.schema.yaml); `config.synth` overrides
    them. A frozen dataclass built by `intelcap.schema_params`."""

    @classmethod
    def from_config(cls, config: dict) -> SynthParams:
        """From a config's `synth` block and top-level `seed`; keys that are not fields are ignored."""
        if "seed" not in config:
            raise InputError(
                "the configuration has no top-level `seed`", hint="set `seed:` in config/config.yaml"
            )
        synth = {**config.get("synth", {}), "seed": int(config["seed"])}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in synth.items() if k in known})


def _draw_codes(rng: np.random.Generator, n: int, share_b: float) -> np.ndarray:
    """Unique 6-digit stock codes; a few B-shares so the A-share filter has something to remove."""
    prefixes = np.array(["000", "002", "300", "600", "601", "603", "200", "900"])
    w = np.array([0.08, 0.36, 0.20, 0.20, 0.04, 0.12 - 0.0, share_b / 2, share_b / 2])
    w = w / w.sum()
    pref = rng.choice(prefixes, size=n, p=w)
    if n > 3000:
        return _draw_codes_large(rng, pref)
    codes: set[str] = set()
    out = np.empty(n, dtype=object)
    for i, p in enumerate(pref):  # n <= 3000: rejection sampling within the 3-digit prefix (999 codes each)
        while True:
            c = f"{p}{rng.integers(1, 1000):03d}"
            if c not in codes:
                codes.add(c)
                out[i] = c
                break
    return out


# Large synthetic panels (scale runs): leading digits of A-share-like codes and of B-share codes. The
# real A-share prefixes (config sample.a_share_prefixes) hold 10 x 999 codes, far fewer than 500k firms;
# profiles/large/config.yaml lists every 3-digit prefix of these leading digits as "A share".
LARGE_A_LEADS = "01345678"
LARGE_B_LEADS = "29"


def _draw_codes_large(rng: np.random.Generator, pref: np.ndarray) -> np.ndarray:
    """n > 3000: distinct codes drawn without replacement, vectorised (the former per-firm rejection loop
    drew from 5 two-digit prefixes x 9,999 codes and never terminated beyond ~22,000 firms). B-share
    firms (prefix 200/900) get codes led by 2 or 9, all others codes led by one of LARGE_A_LEADS."""
    is_b = np.isin(pref, ["200", "900"])
    n_b, n_a = int(is_b.sum()), int((~is_b).sum())
    if n_a > 100_000 * len(LARGE_A_LEADS) or n_b > 100_000 * len(LARGE_B_LEADS):
        raise InputError(
            f"{len(pref)} firms exceed the distinct six-digit codes of the large-panel generator",
            hint="use at most 800000 firms",
        )
    out = np.empty(len(pref), dtype=object)
    for mask, leads, k in ((~is_b, LARGE_A_LEADS, n_a), (is_b, LARGE_B_LEADS, n_b)):
        num = rng.choice(100_000 * len(leads), size=k, replace=False)
        lead = np.array(list(leads))[num // 100_000]
        out[mask] = np.char.add(lead, np.char.zfill((num % 100_000).astype(str), 5)).astype(object)
    return out


def draw_firms(p: SynthParams, rng: np.random.Generator) -> pd.DataFrame:
    n = p.n_firms
    if n > 800_000:
        raise InputError(
            f"synth.n_firms={n} exceeds the 800,000 distinct six-digit codes the generator draws from",
            hint="use at most 800000 firms",
        )
    firms = pd.DataFrame({"Stkcd": _draw_codes(rng, n, p.share_b_shares)})
    csrc = np.array(list(_CSRC_WEIGHTS))
    w = np.array(list(_CSRC_WEIGHTS.values()))
    ind = rng.choice(csrc, size=n, p=w / w.sum()).astype(object)
    nonman = rng.random(n) < p.share_non_manufacturing
    ind[nonman] = rng.choice(_NON_MANUFACTURING, size=nonman.sum())
    firms["industry"] = ind
    firms["no_industry"] = rng.random(n) < p.share_no_industry_firms
    prov = np.array(list(_PROVINCE_WEIGHTS))
    pw = np.array(list(_PROVINCE_WEIGHTS.values()))
    firms["province"] = rng.choice(prov, size=n, p=pw / pw.sum())
    firms["soe"] = rng.random(n) < 0.33
    # Listing years: most firms listed before the panel, the rest enter during it (unbalanced panel).
    firms["list_year"] = np.where(
        rng.random(n) < 0.9, rng.integers(1991, 2011, n), rng.integers(2011, 2019, n)
    )
    firms["establish_year"] = firms["list_year"] - rng.integers(2, 16, n)
    exits = rng.random(n) < 0.02
    firms["exit_year"] = np.where(exits, rng.integers(2013, 2019, n), 9999)
    firms["exporter"] = rng.random(n) < 0.27
    firms["high_tech_prob"] = np.clip(
        rng.beta(2, 2, n)
        + 0.25 * firms["industry"].isin(["C26", "C27", "C34", "C35", "C38", "C39", "C40"]).to_numpy()
        - 0.12,
        0,
        1,
    )
    firms["pwp"] = np.clip(rng.beta(6, 4, n), 0.05, 0.97)  # production-worker share, ~0.6
    firms["lnL_i"] = rng.normal(7.7, 1.0, n)
    firms["lnK_gap"] = rng.normal(0.0, 0.5, n)
    firms["lev_i"] = rng.normal(-0.4, 0.8, n)
    firms["roa_i"] = rng.normal(0.04, 0.03, n)
    firms["mfee_i"] = rng.normal(np.log(7.8), 0.45, n)
    firms["dual_i"] = rng.random(n) < 0.265
    firms["board_i"] = np.clip(np.round(rng.normal(8.7, 1.6, n)), 4, 18)
    firms["c_u"] = np.abs(rng.normal(0.0, p.sigma_c, n))  # persistent inefficiency (half-normal)
    firms["rd_i"] = np.clip(rng.gamma(1.2, 6.0, n), 0, 60)
    firms["lnos_i"] = rng.normal(19.5, 1.3, n)
    firms["im_i"] = rng.normal(0.0, 0.8, n)
    return firms


def robots_tables(
    p: SynthParams, rng: np.random.Generator, years: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """IFR-like operational stocks and installations for CHN and USA, and base-year employment.

    Industry robot stocks grow at industry-specific rates; the US rates are correlated with China's (the
    instrument's relevance) but the US series carries none of China's adoption shock (its exclusion).
    """
    J = len(IFR_INDUSTRIES)
    yrs = np.arange(2004, p.last_year + 1)
    g_cn = rng.uniform(0.10, 0.30, J)
    g_us = 0.02 + 0.2 * g_cn + rng.normal(0, 0.03, J)
    base_cn = rng.lognormal(np.log(4000), 0.5, J)
    base_us = rng.lognormal(np.log(8000), 0.9, J)
    adoption_shock = rng.normal(0, 0.06, (J, len(yrs)))
    t = yrs - 2011
    ln_cn = np.log(base_cn)[:, None] + g_cn[:, None] * t[None, :] + adoption_shock
    ln_us = (
        np.log(base_us)[:, None] + g_us[:, None] * (yrs - 2004)[None, :] + rng.normal(0, 0.2, (J, len(yrs)))
    )
    stock_cn = np.exp(ln_cn)
    stock_us = np.exp(ln_us)
    rows = []
    for country, stock in (("CHN", stock_cn), ("USA", stock_us)):
        # unspecified robots: a share of the total that falls over time; the pipeline allocates them pro rata
        total_spec = stock.sum(axis=0)
        unspec_share = (
            np.clip(0.35 - 0.03 * (yrs - 2011), 0.05, 0.5) if country == "CHN" else np.full(len(yrs), 0.06)
        )
        unspec = total_spec * unspec_share / (1 - unspec_share)
        for j, code in enumerate(IFR_INDUSTRIES):
            inst = np.maximum(np.diff(stock[j], prepend=stock[j][0] / 1.2) + stock[j] / 12, 0)
            for k, y in enumerate(yrs):
                rows.append((country, code, int(y), round(inst[k]), round(stock[j, k])))
        for code, part in (("D", 0.6), ("99", 0.4)):
            inst_u = np.maximum(
                np.diff(unspec * part, prepend=unspec[0] * part / 1.2) + unspec * part / 12, 0
            )
            for k, y in enumerate(yrs):
                rows.append((country, code, int(y), round(inst_u[k]), round(unspec[k] * part)))
    ifr = pd.DataFrame(rows, columns=["country", "industry", "year", "installations", "operational_stock"])
    # Base-year employment by IFR industry (CHN 2010, USA 1990); scaled so lnINT has the paper's moments.
    emp_cn = base_cn * rng.lognormal(np.log(0.9), 0.35, J) * 1000 * 2.5
    emp_us = base_us * rng.lognormal(np.log(60), 0.3, J) * 1000
    emp = pd.DataFrame(
        {
            "country": ["CHN"] * J + ["USA"] * J,
            "industry": IFR_INDUSTRIES * 2,
            "year": [2010] * J + [1990] * J,
            "employment": np.round(np.concatenate([emp_cn, emp_us])).astype(np.int64),
        }
    )
    shock = pd.DataFrame(
        {
            "ifr": np.repeat(IFR_INDUSTRIES, len(yrs)),
            "year": np.tile(yrs, J),
            "adoption_shock": adoption_shock.ravel(),
        }
    )
    return ifr, emp, shock


def _true_lnint(
    firm_years: pd.DataFrame,
    ifr: pd.DataFrame,
    emp: pd.DataFrame,
    crosswalk: pd.DataFrame,
    pwp_median: float,
    per_workers: float,
) -> np.ndarray:
    """The DGP's own lnINT, as docs/methods.md#robot-exposure defines it (the pipeline must reproduce it)."""
    cn = ifr[ifr.country == "CHN"]
    spec = cn[~cn.industry.isin(["D", "99"])].copy()
    tot_spec = spec.groupby("year")["operational_stock"].transform("sum")
    unspec = cn[cn.industry.isin(["D", "99"])].groupby("year")["operational_stock"].sum()
    spec["stock"] = spec["operational_stock"] * (1 + spec["year"].map(unspec) / tot_spec)
    L0 = emp[emp.country == "CHN"].set_index("industry")["employment"]
    spec["PR"] = spec["stock"] / spec["industry"].map(L0) * per_workers
    pr = spec.set_index(["industry", "year"])["PR"]
    ifr_code = firm_years["industry"].map(crosswalk.set_index("csrc")["ifr"])
    key = pd.MultiIndex.from_arrays([ifr_code.fillna("91"), firm_years["year"]])
    PR = pr.reindex(key).to_numpy()
    return np.log(firm_years["pwp"].to_numpy() / pwp_median * PR)


def generate(p: SynthParams, crosswalk: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Draw the whole synthetic world; returns the vendor tables (as frames) plus the truth frame.

    One random stream in one pass. Above CHUNK_FIRMS firms `write_vendor_files` uses `generate_chunks`
    instead (bounded memory; a different, equally seeded stream)."""
    rng = np.random.default_rng(p.seed)
    firms = draw_firms(p, rng)
    years = np.arange(p.first_year, p.last_year + 1)
    ifr, emp, shock = robots_tables(p, rng, years)
    pwp_median = float(np.median(firms.loc[firms["industry"].str.startswith("C"), "pwp"]))
    tables = _firm_year_tables(p, firms, rng, ifr, emp, shock, crosswalk, pwp_median, None)
    tables["ifr_robots"] = ifr
    tables["employment_base"] = emp
    return tables


# Above this many firms the generator draws and writes firm-years in chunks of this many firms, so its memory
# no longer grows with the panel (a 500k-firm panel held at once took 15 GB). Each chunk draws from its own
# child of the seed (numpy SeedSequence.spawn); firm attributes, robots and industry effects are drawn once
# for all firms. Output is then determined by the seed and this constant; panels up to CHUNK_FIRMS firms
# (every shipped config but profiles/large) keep the single-stream draw of `generate`.
CHUNK_FIRMS = 50_000


def generate_chunks(
    p: SynthParams, crosswalk: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], Iterator[dict]]:
    """The firm-independent tables (IFR robots, base employment) and an iterator over per-chunk tables.

    Firms are ordered by code and chunked in that order, so concatenating the chunks' sorted tables gives
    tables sorted as `generate` sorts them."""
    static, tasks = _chunk_tasks(p, crosswalk)
    return static, (_chunk_tables(t) for t in tasks)


def _chunk_tasks(p: SynthParams, crosswalk: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], list[tuple]]:
    """The static tables and one self-contained task per chunk (picklable: chunks can run in processes)."""
    rng = np.random.default_rng(p.seed)
    firms = draw_firms(p, rng)
    years = np.arange(p.first_year, p.last_year + 1)
    ifr, emp, shock = robots_tables(p, rng, years)
    pwp_median = float(np.median(firms.loc[firms["industry"].str.startswith("C"), "pwp"]))
    firms = firms.sort_values("Stkcd", kind="stable").reset_index(drop=True)
    _, _, nyrs = _years_span(p, firms)
    csrc_codes = sorted(set(firms.loc[nyrs > 0, "industry"]))
    shared = {
        "ind_fx": dict(zip(csrc_codes, rng.normal(0, 0.25, len(csrc_codes)), strict=True)),
        "zeta": rng.normal(0, p.sigma_industry_shock, (len(IFR_INDUSTRIES), len(years))),
    }
    n_chunks = -(-len(firms) // CHUNK_FIRMS)
    seeds = np.random.SeedSequence(p.seed).spawn(n_chunks)
    tasks = [
        (p, firms.iloc[c * CHUNK_FIRMS : (c + 1) * CHUNK_FIRMS].reset_index(drop=True), seeds[c], ifr, emp, shock,
         crosswalk, pwp_median, shared)
        for c in range(n_chunks)
    ]  # fmt: skip
    return {"ifr_robots": ifr, "employment_base": emp}, tasks


def _chunk_tables(task: tuple) -> dict[str, pd.DataFrame]:
    p, part, seed, ifr, emp, shock, crosswalk, pwp_median, shared = task
    return _firm_year_tables(
        p, part, np.random.default_rng(seed), ifr, emp, shock, crosswalk, pwp_median, shared
    )


def _years_span(p: SynthParams, firms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each firm's statement years: from a year before listing (prospectus statements) until exit."""
    start = np.maximum(firms["list_year"].to_numpy() - 1, p.first_year)
    end = np.minimum(firms["exit_year"].to_numpy(), p.last_year)
    return start, end, np.maximum(end - start + 1, 0)


def _firm_year_tables(
    p: SynthParams,
    firms: pd.DataFrame,
    rng: np.random.Generator,
    ifr: pd.DataFrame,
    emp: pd.DataFrame,
    shock: pd.DataFrame,
    crosswalk: pd.DataFrame,
    pwp_median: float,
    shared: dict | None,
) -> dict[str, pd.DataFrame]:
    """The firm-year draws and vendor tables of `firms`. `shared` holds the draws common to all firms (industry
    effects `ind_fx`, industry x year shocks `zeta`); None draws them in-stream, as the one-pass `generate`."""
    years = np.arange(p.first_year, p.last_year + 1)
    start, _, nyrs = _years_span(p, firms)
    idx = np.repeat(np.arange(len(firms)), nyrs)
    offs = np.arange(nyrs.sum()) - np.repeat(np.cumsum(nyrs) - nyrs, nyrs)
    fy = firms.iloc[idx].reset_index(drop=True)
    fy["year"] = (start[idx] + offs).astype(np.int64)
    n = len(fy)
    t = fy["year"].to_numpy() - 2011

    manuf = fy["industry"].str.match(r"^C(1[3-9]|[23]\d|4[0-3])$").to_numpy()
    lnINT = _true_lnint(
        fy.assign(industry=np.where(manuf, fy["industry"], "C41")), ifr, emp, crosswalk, pwp_median, 1000.0
    )
    ifr_code = fy["industry"].map(crosswalk.set_index("csrc")["ifr"]).fillna("91")
    ind_year = pd.MultiIndex.from_arrays([ifr_code, fy["year"]])
    adopt = shock.set_index(["ifr", "year"])["adoption_shock"].reindex(ind_year).to_numpy()

    # inputs and accounting controls
    lnL = fy["lnL_i"].to_numpy() + 0.02 * t + rng.normal(0, 0.08, n)
    lnK = 13.0 + 1.0 * lnL + fy["lnK_gap"].to_numpy() + 0.04 * t + rng.normal(0, 0.12, n)
    Size = lnK + 1.4 + rng.normal(0, 0.3, n)
    lev_logit = fy["lev_i"].to_numpy() + rng.normal(0, 0.35, n)
    Lev = 1 / (1 + np.exp(-lev_logit))
    ROA = fy["roa_i"].to_numpy() + 0.035 * rng.standard_t(4, n)
    Mfee = np.exp(fy["mfee_i"].to_numpy() + rng.normal(0, 0.25, n))
    Debcost = rng.normal(0.012, 0.012, n) + (rng.random(n) < 0.002) * rng.exponential(0.5, n)
    Dual = np.where(rng.random(n) < 0.9, fy["dual_i"].to_numpy(), rng.random(n) < 0.265).astype(int)
    board = np.clip(fy["board_i"].to_numpy() + rng.integers(-1, 2, n) * (rng.random(n) < 0.2), 4, 18)

    # Inefficiency with the scaling property: u_it = c_i * exp(h_it), c_i half-normal as the SFA assumes and
    # h_it linear in lnINT, the controls and industry x year shocks. u stays positive without truncation; the
    # average marginal effect of lnINT on ln CU = -u is kappa * E[u] = beta_lnINT (docs/DGP.md).
    J = len(IFR_INDUSTRIES)
    zeta_tab = rng.normal(0, p.sigma_industry_shock, (J, len(years))) if shared is None else shared["zeta"]
    zeta = zeta_tab[pd.Index(IFR_INDUSTRIES).get_indexer(ifr_code), fy["year"].to_numpy() - p.first_year]
    tau = 0.02 * np.sin(t)
    g = p.gamma
    mean_c = p.sigma_c * np.sqrt(2 / np.pi)
    kappa = p.beta_lnINT / mean_c
    h = (
        tau
        - kappa * (lnINT - 0.5)
        + g["ROA"] * (ROA - 0.04)
        + g["Lev"] * (Lev - 0.4)
        + g["Mfee"] * (Mfee - 9)
        + zeta
        + p.endogeneity * adopt
        + rng.normal(0, p.sigma_e, n)
    )
    u = fy["c_u"].to_numpy() * np.exp(h)
    ame_lnINT = kappa * u  # firm-year marginal effect of lnINT on ln CU
    v = rng.normal(0, p.sigma_v, n)
    year_fx = 0.03 * t
    if shared is None:
        csrc_codes = sorted(set(fy["industry"]))
        ind_fx = dict(zip(csrc_codes, rng.normal(0, 0.25, len(csrc_codes)), strict=True))
    else:
        ind_fx = shared["ind_fx"]
    lnY = 10.95 + p.beta_K * lnK + p.beta_L * lnL + year_fx + fy["industry"].map(ind_fx).to_numpy() + v - u
    small = rng.random(n) < p.share_small_revenue
    lnY = np.where(small, np.log(rng.uniform(2e6, 1.9e7, n)), lnY)

    Y = np.exp(lnY)
    K = np.exp(lnK)
    L = np.round(np.exp(lnL)).astype(np.int64)
    TA = np.exp(Size)
    fy["TA"] = TA
    ta_lag = fy.groupby("Stkcd")["TA"].shift(1).to_numpy()
    avg_ta = np.where(np.isnan(ta_lag), TA, (TA + ta_lag) / 2)
    TOC = Y * (1 - rng.normal(0.06, 0.05, n))
    wage = np.exp(np.log(L) + np.log(9e4) + 0.03 * t + rng.normal(0, 0.25, n))

    # mechanisms: R&D staff share and overseas revenue respond to lnINT with known slopes
    rd_ratio = np.clip(fy["rd_i"].to_numpy() + p.beta_humcap * (lnINT - 0.5) + rng.normal(0, 1.0, n), 0, 95)
    lnos = fy["lnos_i"].to_numpy() + p.beta_ed_exporter * (lnINT - 0.5) / 10 + rng.normal(0, 0.4, n)

    truth = pd.DataFrame(
        {
            "Stkcd": fy["Stkcd"],
            "year": fy["year"],
            "lnINT": lnINT,
            "u": u,
            "lnCU_true": -u,
            "ame_lnINT": ame_lnINT,
            "manufacturing": manuf,
        }
    )
    fy = fy.assign(
        Y=Y,
        K=K,
        L=L,
        TA=TA,
        Lev=Lev,
        ROA=ROA,
        Mfee=Mfee,
        Debcost=Debcost,
        Dual=Dual,
        board=board,
        avg_ta=avg_ta,
        TOC=TOC,
        wage=wage,
        rd_ratio=rd_ratio,
        lnos=lnos,
        lnINT=lnINT,
    )

    st = rng.random(n) < p.share_st
    missing = rng.random(n) < p.share_missing_field
    tables = _vendor_tables(fy, firms, st, missing, rng)
    tables["_truth"] = truth
    tables["_firm_years"] = fy[["Stkcd", "year", "lnINT", "im_i"]]
    return tables


def _date(years: np.ndarray | pd.Series, md: str = "12-31") -> np.ndarray:
    return (pd.Series(years).astype(str) + "-" + md).to_numpy()


def _vendor_tables(
    fy: pd.DataFrame, firms: pd.DataFrame, st: np.ndarray, missing: np.ndarray, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    n = len(fy)
    acc = _date(fy["year"])
    ids = fy["Stkcd"].to_numpy()
    # a missing financial field knocks out one of the required values at random
    which = rng.integers(0, 4, n)

    def blank(x: np.ndarray, k: int) -> np.ndarray:
        x = x.astype(float).copy()
        x[missing & (which == k)] = np.nan
        return x

    combas_a = pd.DataFrame(
        {
            "Stkcd": ids,
            "Accper": acc,
            "Typrep": "A",
            "A001000000": np.round(fy["TA"], 2),
            "A001212000": np.round(blank(fy["K"].to_numpy(), 0), 2),
            "A002000000": np.round(fy["Lev"] * fy["TA"], 2),
        }
    )
    # parent-company statements and opening-balance rows exist in every real download; the reader drops them
    combas_b = combas_a.sample(frac=0.3, random_state=1).assign(Typrep="B")
    combas_b[["A001000000", "A001212000", "A002000000"]] *= 0.6
    opening = combas_a.sample(frac=0.1, random_state=2).assign(
        Accper=lambda d: d["Accper"].str[:4] + "-01-01"
    )
    combas = pd.concat([combas_a, combas_b, opening]).sort_values(
        ["Stkcd", "Accper", "Typrep"], kind="stable"
    )

    comins = pd.DataFrame(
        {
            "Stkcd": ids,
            "Accper": acc,
            "Typrep": "A",
            "B001101000": np.round(blank(fy["Y"].to_numpy(), 1), 2),
            "B001200000": np.round(fy["TOC"], 2),
            "B001201000": np.round(0.8 * fy["TOC"], 2),
            "B001210000": np.round(fy["Mfee"] / 100 * fy["Y"], 2),
            "B001211000": np.round(fy["Debcost"] * fy["Y"], 2),
            "B002000000": np.round(fy["ROA"] * fy["avg_ta"], 2),
        }
    )
    comscfd = pd.DataFrame(
        {"Stkcd": ids, "Accper": acc, "Typrep": "A", "C001020000": np.round(fy["wage"], 2)}
    )
    ybasic = pd.DataFrame(
        {
            "Stkcd": ids,
            "Reptdt": acc,
            "Y0601b": blank(fy["L"].to_numpy(), 2),
            "Y1101a": blank(fy["board"].to_numpy(), 3),
            "Y1001b": np.where(fy["Dual"] == 1, 1, 2),
        }
    )

    short = np.array([f"公司{c[-4:]}" for c in ids], dtype=object)
    short = np.where(st, np.where(rng.random(n) < 0.5, "ST", "*ST") + short, short)
    industry = fy["industry"].astype(object).to_numpy().copy()
    industry[fy["no_industry"].to_numpy()] = ""
    sporadic = rng.random(n) < 0.03  # a code missing in some years: the modal code fills it
    industry[sporadic] = ""
    province = fy["province"].map(lambda s: _PROVINCE_FULL.get(s, s + "省")).to_numpy()
    stk = pd.DataFrame(
        {
            "Symbol": ids,
            "EndDate": acc,
            "ShortName": short,
            "IndustryCode": industry,
            "PROVINCE": province,
            "EstablishDate": _date(fy["establish_year"], "06-15"),
            "LISTINGDATE": _date(fy["list_year"], "09-20"),
        }
    )

    nature = np.where(
        fy["soe"],
        np.where(rng.random(n) < 0.05, "1,2", "1"),
        rng.choice(["2", "3", "4", "2,3"], size=n, p=[0.86, 0.06, 0.05, 0.03]),
    )
    equity = pd.DataFrame({"Symbol": ids, "EndDate": acc, "EquityNatureID": nature})

    has_rd = rng.random(n) < 0.8
    rd = pd.DataFrame(
        {
            "Symbol": ids[has_rd],
            "EndDate": acc[has_rd],
            "StateTypeCode": 1,
            "RDPersonRatio": np.round(fy["rd_ratio"].to_numpy()[has_rd], 2),
        }
    )

    # employee structure: six professions per firm-year, production share around the firm's pwp
    has_emp = ~((fy["year"] == 2011).to_numpy() & (rng.random(n) < 0.08))
    share_p = np.clip(fy["pwp"].to_numpy() + rng.normal(0, 0.02, n), 0.02, 0.98)
    rest = rng.dirichlet([3, 2, 1, 1, 1], n) * (1 - share_p)[:, None]
    shares = np.column_stack([share_p, rest])
    amounts = np.round(shares * fy["L"].to_numpy()[:, None]).astype(np.int64)
    sel = np.flatnonzero(has_emp)
    emp = pd.DataFrame(
        {
            "Symbol": np.repeat(ids[sel], 6),
            "EndDate": np.repeat(acc[sel], 6),
            "EmployDetail": np.tile(_EMP_CATEGORIES, len(sel)),
            "Amount": amounts[sel].ravel(),
        }
    )

    # high-tech certificates: issued every three years to certified firms, valid three years
    ht = firms[rng.random(len(firms)) < firms["high_tech_prob"]]
    first = rng.integers(2006, 2012, len(ht))
    q_ids, q_year = [], []
    for k in range(5):
        q_ids.append(ht["Stkcd"].to_numpy())
        q_year.append(first + 3 * k)
    qual = pd.DataFrame({"Symbol": np.concatenate(q_ids), "SgnYear": np.concatenate(q_year)})
    qual = qual[qual["SgnYear"] <= 2019]
    qual["Protype"] = "高新技术企业"
    other = firms.sample(frac=0.2, random_state=3)
    qual = pd.concat(
        [qual, pd.DataFrame({"Symbol": other["Stkcd"], "SgnYear": 2014, "Protype": "企业技术中心"})]
    )
    qual = qual.sort_values(["Symbol", "SgnYear", "Protype"], kind="stable")

    # revenue by region: exporters report an overseas row under one of the vendor's free-text labels
    exp_rows = fy["exporter"].to_numpy() & (rng.random(n) < 0.93)
    labels = np.array(["境外", "海外", "国外", "外销", "出口", "国际业务", "美国", "欧洲"])
    os_rev = np.exp(fy["lnos"].to_numpy())
    dom = pd.DataFrame(
        {
            "Stkcd": ids,
            "Accper": acc,
            "Region": rng.choice(["境内", "国内", "华东地区", "内销"], size=n),
            "Revenue": np.round(fy["Y"].to_numpy() * 0.8, 2),
        }
    )
    fx = pd.DataFrame(
        {
            "Stkcd": ids[exp_rows],
            "Accper": acc[exp_rows],
            "Region": rng.choice(labels, size=exp_rows.sum()),
            "Revenue": np.round(os_rev[exp_rows], 2),
        }
    )
    region = pd.concat([dom, fx]).sort_values(["Stkcd", "Accper", "Region"], kind="stable")
    return {
        "FS_Combas": combas,
        "FS_Comins": comins,
        "FS_Comscfd": comscfd,
        "CG_Ybasic": ybasic,
        "STK_LISTEDCOINFOANL": stk,
        "EN_EquityNatureAll": equity,
        "PT_LCRDSPENDING": rd,
        "EMP_Structure": emp,
        "QUA_Qualification": qual,
        "FN_RegionRevenue": region,
    }


# Row 2 (Chinese names) and row 3 (units) of a CSMAR export; the reader must recognise and skip them.
_FIELD_LABELS = {
    "Stkcd": ("证券代码", "没有单位"),
    "Symbol": ("股票代码", "没有单位"),
    "Accper": ("会计期间", "没有单位"),
    "Reptdt": ("统计截止日期", "没有单位"),
    "EndDate": ("统计截止日期", "没有单位"),
    "Typrep": ("报表类型", "没有单位"),
    "A001000000": ("资产总计", "元"),
    "A001212000": ("固定资产净额", "元"),
    "A002000000": ("负债合计", "元"),
    "B001101000": ("营业收入", "元"),
    "B001200000": ("营业总成本", "元"),
    "B001201000": ("营业成本", "元"),
    "B001210000": ("管理费用", "元"),
    "B001211000": ("财务费用", "元"),
    "B002000000": ("净利润", "元"),
    "C001020000": ("支付给职工以及为职工支付的现金", "元"),
    "Y0601b": ("员工人数", "人"),
    "Y1101a": ("董事人数", "人"),
    "Y1001b": ("董事长与总经理兼任情况", "没有单位"),
    "ShortName": ("股票简称", "没有单位"),
    "IndustryCode": ("行业代码", "没有单位"),
    "PROVINCE": ("所属省份", "没有单位"),
    "EstablishDate": ("成立日期", "没有单位"),
    "LISTINGDATE": ("上市日期", "没有单位"),
    "EquityNatureID": ("股权性质编码", "没有单位"),
    "StateTypeCode": ("报表类型编码", "没有单位"),
    "RDPersonRatio": ("研发人员数量占比", "%"),
    "EmployDetail": ("员工构成明细", "没有单位"),
    "Amount": ("人数", "人"),
    "SgnYear": ("认定年度", "没有单位"),
    "Protype": ("认定项目类型", "没有单位"),
    "Region": ("地区", "没有单位"),
    "Revenue": ("营业收入", "元"),
}


def write_csmar(
    df: pd.DataFrame,
    path: Path,
    *,
    encoding: str = "utf-8-sig",
    header_rows: int = 3,
    ids_as_numbers: bool = False,
) -> None:
    """Write a frame as CSMAR exports it: field codes, Chinese names, units, then data."""
    df = _ids_as_numbers(df) if ids_as_numbers else df
    header = _csmar_header(list(df.columns), header_rows)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        if len(df) + header_rows > XLSX_MAX_ROWS:
            raise InputError(
                f"{path.name}: {len(df):,} rows do not fit in one xlsx sheet (limit {XLSX_MAX_ROWS:,})",
                file=str(path),
                hint="configure a .csv file name for this table at this scale",
            )
        body = pd.DataFrame(header[1:], columns=df.columns) if header_rows == 3 else df.iloc[:0]
        out = pd.concat([body.astype(object), df.astype(object)], ignore_index=True)
        with atomic_path(path) as tmp:
            # openpyxl stamps creation/modified times; fixed properties keep the file deterministic
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                out.to_excel(xw, index=False, sheet_name="sheet1")
                props = xw.book.properties
                props.creator = "intelcap-synth"
                props.created = props.modified = pd.Timestamp("2020-01-01").to_pydatetime()
            _fix_zip_times(tmp)
        return
    sep = "\t" if suffix == ".txt" else ","
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(("\n".join(sep.join(h) for h in header) + "\n").encode(encoding))
        _write_body(fh, df, sep, _body_encoding(encoding), "%.2f")


def _ids_as_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """What a spreadsheet does to codes like 000002."""
    return df.assign(**{c: df[c].astype(np.int64) for c in ("Stkcd", "Symbol") if c in df})


def _csmar_header(columns: list[str], header_rows: int) -> list[list[str]]:
    header = [columns]
    if header_rows == 3:
        header.append([_FIELD_LABELS.get(c, (c, ""))[0] for c in columns])
        header.append([_FIELD_LABELS.get(c, (c, ""))[1] for c in columns])
    return header


def _body_encoding(encoding: str) -> str:
    """The codec for rows after the header: a BOM belongs once at the start of the file."""
    return "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding


# Rows per formatting slice: bounds the memory of one slice's strings (~100 bytes a row) whatever the table size.
_BODY_ROWS = 500_000


def _write_body(fh, df: pd.DataFrame, sep: str, encoding: str, float_format: str | None) -> None:
    """Append df's rows to the binary file fh in row slices, as `df.to_csv(sep=sep, index=False, header=False,
    lineterminator="\n", float_format=float_format)` would write them (byte-identical, tests/test_io.py)."""
    for lo in range(0, len(df), _BODY_ROWS):
        fh.write(csv_rows(df.iloc[lo : lo + _BODY_ROWS], sep, float_format, encoding))


def csv_rows(df: pd.DataFrame, sep: str, float_format: str | None, encoding: str = "utf-8") -> bytes:
    """The data rows `DataFrame.to_csv(sep=sep, index=False, header=False, lineterminator="\n",
    float_format=float_format)` writes, encoded, ~5x faster: pandas formats every float through a Python
    lambda plus a missing-value check per cell, which made the CSV writing most of `synthesize` at scale.

    Floats use the same `float_format % x` (so the same digits) in one list comprehension; integers, booleans
    and strings go through pyarrow; strings holding the separator, a quote or a line break are quoted as the
    csv module's QUOTE_MINIMAL does. Any other column type falls back to pandas itself.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(df) == 0 or len(df.columns) == 0:
        return df.to_csv(sep=sep, index=False, header=False, lineterminator="\n").encode(encoding)
    cols = []
    for name in df.columns:
        s = df[name]
        kind = s.dtype.kind
        if kind == "f" and float_format is not None:
            fmt = float_format
            cols.append(pa.array([fmt % v if v == v else "" for v in s.to_numpy().tolist()], pa.string()))
        elif kind in "iu":
            cols.append(pc.cast(pa.array(s.to_numpy()), pa.string()))
        elif kind == "b":
            cols.append(pa.array(np.where(s.to_numpy(), "True", "False"), pa.string()))
        elif pd.api.types.is_string_dtype(s.dtype) and (
            kind != "O" or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")
        ):
            arr = pc.fill_null(pa.array(s.to_numpy(dtype=object, na_value=None), pa.string()), "")
            special = pc.match_substring_regex(arr, "[" + ("\\t" if sep == "\t" else sep) + '"\\r\\n]')
            if pc.any(special).as_py():
                quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
                arr = pc.if_else(special, quoted, arr)
            cols.append(arr)
        else:
            return df.to_csv(
                sep=sep, index=False, header=False, lineterminator="\n", float_format=float_format
            ).encode(encoding)
    if len(cols) == 1:  # the csv module quotes an empty lone field: leave that corner to pandas
        return df.to_csv(
            sep=sep, index=False, header=False, lineterminator="\n", float_format=float_format
        ).encode(encoding)
    # row + "\n" for every row, so the values buffer of the joined array is the text of the whole slice
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cols, sep), "", "\n")
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    lines = lines.cast(pa.large_string())
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    data = memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return bytes(data)
    return bytes(data).decode("utf-8").encode(encoding)


def _fix_zip_times(path: Path) -> None:
    """openpyxl stamps zip entries and dcterms:modified with the current time: fix both so equal data give equal bytes."""
    import io as _io
    import re
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    # openpyxl also overwrites dcterms:modified with the save time
    entries = [
        (
            n,
            re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", d)
            if n == "docProps/core.xml"
            else d,
        )
        for n, d in entries
    ]
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    Path(path).write_bytes(buf.getvalue())


# The synthetic default exercises every reader path (docs/data_contract.md): BOM, GB18030, xlsx, tab-separated
# txt, a one-row header, and codes that lost their leading zeros.
WRITE_OPTIONS = {
    "FS_Combas": {"encoding": "utf-8-sig"},
    "FS_Comins": {"encoding": "gb18030"},
    "FS_Comscfd": {"encoding": "utf-8"},
    "CG_Ybasic": {"ids_as_numbers": True},
    "STK_LISTEDCOINFOANL": {"encoding": "utf-8-sig"},
    "EN_EquityNatureAll": {"encoding": "utf-8", "header_rows": 1},
    "PT_LCRDSPENDING": {"encoding": "gb18030"},
    "EMP_Structure": {"encoding": "utf-8-sig"},
    "QUA_Qualification": {"encoding": "gb18030"},
    "FN_RegionRevenue": {"encoding": "utf-8-sig"},
}


# The generator owns only folders it created: this file marks them. It writes, overwrites and deletes inside a
# marked (or new, or empty) folder only, so a `synthetic_dir` pointed at a user's data cannot destroy it.
def write_all(config: dict, out_dir: str | Path, crosswalk: pd.DataFrame) -> dict:
    """Generate and write the whole raw_dir; returns the truth dict (also written to truth.json)."""
    truth = write_vendor_files(config, out_dir, crosswalk)
    if SynthParams.from_config(config).reports:
        write_report_corpus(config, out_dir, crosswalk)
    return truth


def write_vendor_files(config: dict, out_dir: str | Path, crosswalk: pd.DataFrame, workers: int = 1) -> dict:
    """The CSMAR and IFR files, truth.json and truth_firm_years.csv (everything but the annual reports).

    Only into a folder the generator owns (claim_output_dir): an existing unmarked folder with files raises.
    Above CHUNK_FIRMS firms the panel is drawn and written in chunks, by up to `workers` processes (same
    bytes for any number of workers).
    """
    p = SynthParams.from_config(config)
    out = claim_output_dir(out_dir)
    if p.n_firms > CHUNK_FIRMS:
        static = _write_chunked(config, out, p, crosswalk, workers)
    else:
        tables = generate(p, crosswalk)
        for name, spec in config["csmar"].items():
            write_csmar(tables[name], out / "csmar" / spec["file"], **WRITE_OPTIONS.get(name, {}))
        with atomic_path(out / "truth_firm_years.csv") as tmp, open(tmp, "wb") as fh:
            fh.write((",".join(tables["_truth"].columns) + "\n").encode())
            _write_body(fh, tables["_truth"], ",", "utf-8", "%.10g")
        static = tables
    for key, frame in (("robots_file", static["ifr_robots"]), ("employment_file", static["employment_base"])):
        with atomic_path(out / config["ifr"][key]) as tmp:
            frame.to_csv(tmp, index=False, lineterminator="\n")
    truth = {
        "params": asdict(p),
        "estimands": {
            "lnINT_on_lnCU_true": p.beta_lnINT,
            "lnINT_on_Humcap": p.beta_humcap,
            "lnINT_on_lnOverseasRevenue_exporters": p.beta_ed_exporter / 10,
        },
    }
    write_text(out / "truth.json", json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return truth


def _file_plan(config: dict, out: Path) -> dict[str, dict]:
    """Per streamed file: target path, separator, encodings, float format, header rows, id handling."""
    plan = {}
    for name, spec in config["csmar"].items():
        opts, path = WRITE_OPTIONS.get(name, {}), out / "csmar" / spec["file"]
        encoding = opts.get("encoding", "utf-8-sig")
        plan[name] = {
            "path": path,
            "xlsx": path.suffix.lower() == ".xlsx",
            "sep": "\t" if path.suffix.lower() == ".txt" else ",",
            "encoding": encoding,
            "header_rows": opts.get("header_rows", 3),
            "ids_as_numbers": opts.get("ids_as_numbers", False),
            "float_format": "%.2f",
        }
    plan["_truth"] = {
        "path": out / "truth_firm_years.csv",
        "xlsx": False,
        "sep": ",",
        "encoding": "utf-8",
        "header_rows": 1,
        "ids_as_numbers": False,
        "float_format": "%.10g",
    }
    return plan


def _encoded_chunk(task: tuple, plan: dict[str, dict]) -> dict[str, tuple]:
    """One chunk's files as (header bytes, body bytes), or the frame itself for an .xlsx table."""
    tables = _chunk_tables(task)
    out = {}
    for name, f in plan.items():
        df = tables.pop(name)
        if f["xlsx"]:
            out[name] = df
            continue
        df = _ids_as_numbers(df) if f["ids_as_numbers"] else df
        head = _csmar_header(list(df.columns), f["header_rows"])
        header = ("\n".join(f["sep"].join(h) for h in head) + "\n").encode(f["encoding"])
        body = b"".join(
            csv_rows(
                df.iloc[lo : lo + _BODY_ROWS], f["sep"], f["float_format"], _body_encoding(f["encoding"])
            )
            for lo in range(0, len(df), _BODY_ROWS)
        )
        out[name] = (header, body)
    return out


def _write_chunked(
    config: dict, out: Path, p: SynthParams, crosswalk: pd.DataFrame, workers: int = 1
) -> dict[str, pd.DataFrame]:
    """The chunks streamed to the files: each chunk's rows are appended and dropped, so memory stays at a
    chunk's tables per worker. With workers > 1, chunks are drawn and formatted in that many forked
    processes and written in chunk order: the same bytes as one process. An .xlsx table (one sheet, at most
    XLSX_MAX_ROWS rows) is collected and written last."""
    import contextlib
    import functools

    static, tasks = _chunk_tasks(p, crosswalk)
    plan = _file_plan(config, out)
    encode = functools.partial(_encoded_chunk, plan=plan)
    xlsx: dict[str, list] = {name: [] for name, f in plan.items() if f["xlsx"]}
    with contextlib.ExitStack() as stack:
        files = {}
        for name, f in plan.items():
            if not f["xlsx"]:
                tmp = stack.enter_context(atomic_path(f["path"]))  # renamed into place only on success
                files[name] = stack.enter_context(open(tmp, "wb"))
        if workers > 1 and len(tasks) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork: the job's entry script is no importable module (spawn would re-run it in every worker)
            pool = stack.enter_context(
                ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork"))
            )
            results = pool.map(encode, tasks)
        else:
            results = map(encode, tasks)
        for c, parts in enumerate(results):
            for name, part in parts.items():
                if name in xlsx:
                    xlsx[name].append(part)
                    continue
                header, body = part
                if c == 0:
                    files[name].write(header)
                files[name].write(body)
    for name, frames in xlsx.items():
        write_csmar(pd.concat(frames, ignore_index=True), plan[name]["path"], **WRITE_OPTIONS.get(name, {}))
    return static


def write_report_corpus(config: dict, out_dir: str | Path, crosswalk: pd.DataFrame) -> Path:
    """The annual reports (out_dir/reports) and their planted counts (truth_keyword_counts.csv).

    Regenerates the panel (seeded, ~1 s) instead of reading the vendor files, so the reports can be written
    in parallel with everything that reads the CSMAR files. Files go to a scratch folder renamed onto
    `reports/` at the end: one rename instead of ~10k per-file temporaries, and never a half-written corpus.
    """
    import shutil

    p = SynthParams.from_config(config)
    out = claim_output_dir(out_dir)  # the rmtree calls below then only ever touch the generator's own folder
    final = out / "reports"
    work = out / ".reports.tmp"
    for folder in (final, work):
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise InputError(
                f"{folder} is not a plain folder; the generator replaces only its own reports folder",
                file=str(folder),
                hint="remove it, or set the config key `synthetic_dir` elsewhere",
            )
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if p.n_firms > CHUNK_FIRMS:  # the same firm-years as the chunked vendor files
        fy = pd.concat([t["_firm_years"] for t in generate_chunks(p, crosswalk)[1]], ignore_index=True)
    else:
        fy = generate(p, crosswalk)["_firm_years"]
    planted = _write_reports(fy, work, p)
    if planted is not None:
        with atomic_path(out / "truth_keyword_counts.csv") as tmp:
            planted.to_csv(tmp, index=False, lineterminator="\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(work, final)
    return final


def _write_reports(fy: pd.DataFrame, report_dir: Path, p: SynthParams) -> pd.DataFrame | None:
    """Annual reports with planted keyword counts (txt and some PDFs), via intelcap.synthetic.reports."""
    try:
        from intelcap.synthetic import reports as reports_synth
    except ImportError:  # the text module is optional for the core path
        return None
    rng = np.random.default_rng(p.seed + 7)
    sel = fy[(fy["year"] >= 2011)]
    intensity = np.exp(1.2 + 0.35 * sel["lnINT"].to_numpy() + 0.5 * sel["im_i"].to_numpy())
    firm_years = list(zip(sel["Stkcd"], sel["year"].astype(int), intensity, strict=True))
    return reports_synth.write_reports_for_panel(
        report_dir,
        firm_years,
        rng,
        pdf_share=p.pdf_share,
        n_filler=6,
        atomic=False,
        size=p.report_size,
        contexts=p.keyword_contexts,
    )
