"""Scale paths of the synthetic generator: the fast CSV row writer (byte-identical to pandas) and the chunked,
streamed generation used above `CHUNK_FIRMS` firms (benchmarks/bench_scale.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from intelcap.ingest import readers as io
from intelcap.measures import robots
from intelcap.synthetic import dgp as synth

ROOT = Path(__file__).resolve().parents[1]
CROSSWALK = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)


def _tricky_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "s": ["000001", "1,2", 'say "hi"', "", "公司0001", "a\tb", "two\nlines", None],
            "f": [1.005, -0.001, np.nan, 2.675, 1e12 / 3, -0.0, 0.125, 7.0],
            "i": [0, -3, 10**12, 5, 6, 7, 8, 9],
            "b": [True, False, True, True, False, False, True, False],
        }
    )


@pytest.mark.parametrize("sep", [",", "\t"])
@pytest.mark.parametrize("float_format", ["%.2f", "%.10g"])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_csv_rows_equal_pandas_to_csv(sep: str, float_format: str, encoding: str) -> None:
    df = _tricky_frame()
    expected = df.to_csv(sep=sep, index=False, header=False, lineterminator="\n", float_format=float_format)
    assert synth.csv_rows(df, sep, float_format, encoding) == expected.encode(encoding)


def test_csv_rows_quotes_and_formats_as_the_csv_module() -> None:
    got = synth.csv_rows(_tricky_frame().iloc[[1, 2, 3]], ",", "%.2f").decode()
    assert got == '"1,2",-0.00,-3,False\n"say ""hi""",,1000000000000,True\n,2.67,5,True\n'


def _config(n_firms: int) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["synth"] = {**cfg["synth"], "n_firms": n_firms, "reports": False}
    return cfg


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_chunked_generation_same_bytes_for_any_worker_count(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(synth, "CHUNK_FIRMS", 40)  # 100 firms -> chunks of 40, 40, 20
    cfg = _config(100)
    synth.write_vendor_files(cfg, tmp_path / "one", CROSSWALK, workers=1)
    synth.write_vendor_files(cfg, tmp_path / "two", CROSSWALK, workers=2)
    one = _hashes(tmp_path / "one")
    assert one == _hashes(tmp_path / "two")
    assert "csmar/CG_Ybasic.xlsx" in one  # the xlsx table is collected over the chunks


def test_chunked_generation_is_one_consistent_panel(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(synth, "CHUNK_FIRMS", 40)
    cfg = _config(100)
    out = tmp_path / "raw"
    synth.write_vendor_files(cfg, out, CROSSWALK)
    truth = pd.read_csv(out / "truth_firm_years.csv", dtype={"Stkcd": str})
    # one header, every firm once, firm-years in code order across the chunk boundaries
    assert truth["Stkcd"].nunique() == len(set(truth["Stkcd"]))
    assert truth["Stkcd"].is_monotonic_increasing
    assert not truth.duplicated(["Stkcd", "year"]).any()
    combas = io.load_table(out / "csmar" / "FS_Combas.csv", cfg["csmar"]["FS_Combas"], "FS_Combas", [])
    assert len(combas) == len(truth)  # consolidated year-end rows: one per firm-year
    assert set(combas["Stkcd"]) == set(truth["Stkcd"])
    raw = pd.read_csv(out / "csmar" / "FS_Combas.csv", skiprows=[1, 2], dtype={"Stkcd": str})
    assert list(raw.columns) == ["Stkcd", "Accper", "Typrep", "A001000000", "A001212000", "A002000000"]
    keys = list(zip(raw["Stkcd"], raw["Accper"], raw["Typrep"], strict=True))
    assert keys == sorted(keys)


def test_small_panels_keep_the_single_stream_draw(tmp_path: Path) -> None:
    cfg = _config(60)
    synth.write_vendor_files(cfg, tmp_path / "raw", CROSSWALK)
    tables = synth.generate(synth.SynthParams.from_config(cfg), CROSSWALK)
    written = pd.read_csv(tmp_path / "raw" / "truth_firm_years.csv", dtype={"Stkcd": str})
    pd.testing.assert_frame_equal(
        written[["Stkcd", "year"]],
        tables["_truth"][["Stkcd", "year"]].astype({"Stkcd": str}),
        check_dtype=False,
    )


def test_production_worker_share_hand_computed() -> None:
    emp = pd.DataFrame(
        {
            "Stkcd": ["000001"] * 4 + ["000002"] * 2 + ["000003"],
            "year": [2011, 2011, 2011, 2012, 2011, 2011, 2011],
            "detail": [" 生产人员 ", "技术人员", None, "生产人员", "销售人员", "其他", "生产人员"],
            "amount": [30.0, 10.0, 60.0, 5.0, 4.0, np.nan, 0.0],
        }
    )
    got = robots.production_worker_share(emp)
    assert got["Stkcd"].tolist() == ["000001", "000001", "000002"]  # 000003 has no staff: dropped
    assert got["year"].tolist() == [2011, 2012, 2011]
    assert got["PWP"].tolist() == [0.3, 1.0, 0.0]
