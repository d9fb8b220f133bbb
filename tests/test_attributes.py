"""Firm attributes: the vectorised SOE / ED (per-distinct-value parsing, grouped ffill/bfill) give exactly what the
per-row / per-firm Python versions gave; `_reference_*` are those versions, kept verbatim as the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.measures import attributes
from intelcap.measures.attributes import OVERSEAS, _note


# independent oracle (deliberate copy): the per-row SOE of before the vectorised parsing, frozen
def _reference_soe(keys: pd.DataFrame, equity: pd.DataFrame, notes: list[dict]) -> pd.Series:
    e = equity[["Stkcd", "year", "equity_nature"]].copy()
    e["SOE"] = (
        e["equity_nature"]
        .fillna("")
        .map(lambda s: int("1" in [c.strip() for c in str(s).split(",")]) if str(s).strip() else np.nan)
    )
    out = keys.merge(e[["Stkcd", "year", "SOE"]], on=["Stkcd", "year"], how="left")
    miss = out["SOE"].isna()
    out["SOE"] = out.groupby("Stkcd")["SOE"].transform(lambda s: s.ffill().bfill())
    _note(
        notes,
        "ownership (EquityNatureID) missing in the year: nearest year of the firm used",
        int((miss & out["SOE"].notna()).sum()),
        "kept",
    )
    _note(
        notes,
        "ownership missing in every year: SOE missing (dropped from ownership subsamples only)",
        int(out["SOE"].isna().sum()),
        "kept; SOE NaN",
    )
    return out["SOE"]


# independent oracle (deliberate copy): the per-row ED of before the per-distinct-value matching, frozen
def _reference_export_demand(keys: pd.DataFrame, region: pd.DataFrame, notes: list[dict]) -> pd.Series:
    r = region.copy()
    r["overseas"] = r["region"].fillna("").str.contains(OVERSEAS)
    neg = r["overseas"] & (r["revenue"] < 0)
    if neg.any():
        ex = r.loc[neg, ["Stkcd", "year"]].head(5).to_dict("records")
        raise InputError(
            "negative overseas revenue",
            column="Revenue",
            rows=ex,
            file=region.attrs.get("file"),
            hint="check the region-revenue rows",
        )
    os_rev = r[r["overseas"]].groupby(["Stkcd", "year"])["revenue"].sum().rename("overseas_revenue")
    out = keys.merge(os_rev.reset_index(), on=["Stkcd", "year"], how="left")
    miss = out["overseas_revenue"].isna()
    _note(notes, "no overseas revenue row: ED set to 0 (paper's convention)", int(miss.sum()), "kept; 0")
    return np.log1p(out["overseas_revenue"].fillna(0.0))


def _keys(firms: list[str], years: range) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Stkcd": pd.Series([f for f in firms for _ in years], dtype="str"),
            "year": np.tile(np.array(list(years), np.int64), len(firms)),
        }
    )


def _equity(rng: np.random.Generator, keys: pd.DataFrame, share: float) -> pd.DataFrame:
    e = keys.sample(frac=share, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    e["equity_nature"] = pd.Series(
        rng.choice(["1", "2", "1,2", " 2 , 1", "3", "", "4,2"], len(e)), dtype="str"
    )
    return e


@pytest.mark.parametrize("seed", range(8))
def test_soe_matches_reference(seed):
    rng = np.random.default_rng(seed)
    firms = [f"{i:06d}" for i in rng.choice(999999, 40, replace=False)]
    keys = _keys(firms, range(2011, 2020)).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for share in (1.0, 0.6, 0.1):
        eq = _equity(rng, keys, share)
        if seed % 2:
            eq.loc[eq.sample(frac=0.2, random_state=seed).index, "equity_nature"] = np.nan
        got_notes, ref_notes = [], []
        got = attributes.soe(keys, eq, got_notes)
        ref = _reference_soe(keys, eq, ref_notes)
        pd.testing.assert_series_equal(got, ref, check_exact=True)  # dtype too: int64 when nothing is missing
        assert got_notes == ref_notes


def test_soe_edge_cases():
    keys = _keys(["000001", "000002"], range(2011, 2014))
    empty = pd.DataFrame(
        {
            "Stkcd": pd.Series([], dtype="str"),
            "year": pd.Series([], dtype=np.int64),
            "equity_nature": pd.Series([], dtype="str"),
        }
    )
    for k, e in (
        (keys, empty),
        (keys.iloc[:0], empty),
        (keys.iloc[:0], _equity(np.random.default_rng(0), keys, 1)),
    ):
        pd.testing.assert_series_equal(attributes.soe(k, e, []), _reference_soe(k, e, []), check_exact=True)


@pytest.mark.parametrize("seed", range(6))
def test_export_demand_matches_reference(seed):
    rng = np.random.default_rng(seed)
    firms = [f"{i:06d}" for i in rng.choice(999999, 30, replace=False)]
    keys = _keys(firms, range(2011, 2020))
    n = 600
    region = pd.DataFrame(
        {
            "Stkcd": pd.Series(rng.choice(firms, n), dtype="str"),
            "year": rng.integers(2010, 2021, n),
            "region": pd.Series(
                rng.choice(["境内", "国外", "海外地区", "华东", "美国及加拿大", "出口", "", "其他"], n),
                dtype="str",
            ),
            "revenue": rng.lognormal(15, 2, n),
        }
    )
    region.loc[region.sample(frac=0.05, random_state=seed).index, "region"] = np.nan
    got_notes, ref_notes = [], []
    pd.testing.assert_series_equal(
        attributes.export_demand(keys, region, got_notes),
        _reference_export_demand(keys, region, ref_notes),
        check_exact=True,
    )
    assert got_notes == ref_notes
    for k, r in ((keys, region.iloc[:0]), (keys.iloc[:0], region), (keys.iloc[:0], region.iloc[:0])):
        pd.testing.assert_series_equal(
            attributes.export_demand(k, r, []), _reference_export_demand(k, r, []), check_exact=True
        )
    bad = region.copy()
    bad.loc[bad["region"].eq("国外").to_numpy().nonzero()[0][:2], "revenue"] = -1.0
    bad.attrs["file"] = "FN_RegionRevenue.csv"
    with pytest.raises(InputError) as got:
        attributes.export_demand(keys, bad, [])
    with pytest.raises(InputError) as ref:
        _reference_export_demand(keys, bad, [])
    assert str(got.value) == str(ref.value)


def test_firm_attributes_end_to_end_matches_reference(monkeypatch, tmp_path):
    """The whole step on a synthetic world read through the CSMAR reader."""
    from pathlib import Path

    import yaml

    from intelcap.ingest import panel
    from intelcap.ingest import readers as io
    from intelcap.synthetic import dgp as synth

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))
    crosswalk = pd.read_csv(root / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
    regions = pd.read_csv(root / "config" / "regions.csv", dtype=str, keep_default_na=False)
    classes = pd.read_csv(root / "config" / "factor_intensity.csv", dtype=str, keep_default_na=False)
    world = synth.generate(synth.SynthParams(n_firms=80, reports=False, seed=3), crosswalk)
    tables = {}
    for name, spec in config["csmar"].items():
        path = tmp_path / spec["file"]
        synth.write_csmar(world[name], path, **synth.WRITE_OPTIONS.get(name, {}))
        tables[name] = io.load_table(path, spec, name)
    pnl, _ = panel.build_panel(
        {t: tables[t] for t in ("FS_Combas", "FS_Comins", "FS_Comscfd", "CG_Ybasic", "STK_LISTEDCOINFOANL")},
        config,
        crosswalk,
        regions,
    )
    got, got_notes = attributes.firm_attributes(pnl, tables, classes, "factor_intensity.csv")
    monkeypatch.setattr(attributes, "soe", _reference_soe)
    monkeypatch.setattr(attributes, "export_demand", _reference_export_demand)
    ref, ref_notes = attributes.firm_attributes(pnl, tables, classes, "factor_intensity.csv")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    pd.testing.assert_frame_equal(got_notes, ref_notes)
