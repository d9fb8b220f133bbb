"""Stata parity: replicate.do parsed back against the model specs in config, and the .dta panel."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from intelcap.econometrics.estimate import SAMPLES
from intelcap.outputs import stata

CMD = re.compile(
    r"^eststo (?P<table>table\d)_m(?P<i>\d+): (?P<cmd>reghdfe|ivreghdfe) (?P<dep>\w+)(?P<rhs>[\w ]*)"
    r"(?:\((?P<endog>\w+) = (?P<iv>\w+)\))?(?: if (?P<cond>[^,]+))?, (?P<opts>.*)$"
)


@pytest.fixture(scope="module")
def config(root):
    return yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))


def parse(do_text: str) -> dict[tuple[str, str], dict]:
    """Every estimation command of the do-file, keyed by (table, model name from the comment above it)."""
    out, name = {}, None
    for line in do_text.splitlines():
        if m := re.match(r"^\* (table\d) (\(\d+\))$", line):
            name = m.groups()
        elif line.startswith("eststo table"):
            m = CMD.match(line)
            assert m, line
            opts = m["opts"]
            absorb = re.search(r"absorb\(([^)]*)\)", opts)
            clus = re.search(r"(?:vce\(cluster (\w+)\)|cluster\((\w+)\))", opts)
            out[name] = {
                "cmd": m["cmd"],
                "depvar": m["dep"],
                "rhs": m["rhs"].split(),
                "endog": m["endog"],
                "iv": m["iv"],
                "cond": (m["cond"] or "").strip(),
                "absorb": absorb.group(1).split() if absorb else [],
                "noabsorb": "noabsorb" in opts,
                "cluster": clus.group(1) or clus.group(2),
            }
    return out


def test_every_model_of_tables_2_to_6_and_8_matches_its_spec(config):
    text = stata.do_file(config["tables"], config["controls"], config["cluster"], winsor=config["winsor"])
    got = parse(text)
    n = 0
    for table in ("table2", "table3", "table4", "table5", "table6", "table8"):
        for spec in config["tables"][table]:
            cmd = got.pop((table, spec["name"]))
            n += 1
            controls = config["controls"] if spec.get("controls", True) else []
            assert cmd["depvar"] == spec["depvar"], (table, spec)
            assert cmd["rhs"] == [*spec["regressors"], *spec.get("extra", []), *controls], (table, spec)
            assert cmd["absorb"] == [t.replace("^", "#") for t in spec["fe"]], (table, spec)
            assert cmd["noabsorb"] == (not spec["fe"]), (table, spec)
            assert cmd["cluster"] == config["cluster"] == "Stkcd"
            assert cmd["cond"] == stata.STATA_IF[spec.get("sample", "all")]
            assert (cmd["cmd"], cmd["endog"], cmd["iv"]) == (
                ("ivreghdfe", spec["endog"], spec["instrument"])
                if spec.get("endog")
                else ("reghdfe", None, None)
            )
    assert got == {} and n == 4 + 5 + 2 + 3 + 10 + 1
    for table in ("table2", "table3", "table4", "table5", "table6", "table8"):
        assert f'using "results/stata/{table}.rtf"' in text and f'using "results/stata/{table}.csv"' in text
    # the panel is winsorized already: said, and winsor2 is not run
    assert "ALREADY WINSORIZED at the 1/99 percentiles" in text
    assert not any(line.startswith("winsor2") for line in text.splitlines())
    assert 'use "results/data/analysis_panel.dta", clear' in text


def test_a_changed_spec_changes_the_do_file(config):
    tables = {**config["tables"], "table5": [{**config["tables"]["table5"][0], "fe": ["Stkcd"]}]}
    got = parse(stata.do_file(tables, config["controls"], config["cluster"]))
    assert got[("table5", "(1)")]["absorb"] == ["Stkcd"]


def test_stata_conditions_select_the_same_rows_as_the_python_samples():
    rng = np.random.default_rng(0)
    d = pd.DataFrame(
        {
            "Municipality": rng.integers(0, 2, 50),
            "SOE": rng.integers(0, 2, 50),
            "HighTech": rng.integers(0, 2, 50),
            "Region": rng.choice(["East", "Central", "West"], 50),
            "Intensity": rng.choice(["labor", "capital", "technology"], 50),
        }
    )
    assert set(stata.STATA_IF) == set(SAMPLES)
    for name, cond in stata.STATA_IF.items():
        # Stata's == on numbers and quoted strings reads the same in pandas' query language
        mask = d.eval(cond) if cond else pd.Series(True, index=d.index)
        assert mask.tolist() == SAMPLES[name](d).tolist(), name


def test_dta_roundtrip_with_labels_and_flagged_as_row_level(tmp_path, root):
    panel = pd.DataFrame(
        {
            "Stkcd": [600000 + i for i in range(30)],
            "year": [2011 + i % 9 for i in range(30)],
            "lnCU_star": np.linspace(-1, 1, 30),
            "SOE": [True, False] * 15,
            "Region": pd.Categorical(["East", "West", "Central"] * 10),
        }
    )
    labels = {
        "variables": {"lnCU_star": {"zh": "lnCU*", "en": "lnCU*"}, "SOE": {"zh": "国有企业", "en": "SOE"}}
    }
    path = tmp_path / "analysis_panel.dta"
    written = stata.write_dta(panel, path, labels)
    assert written == {"lnCU_star": "lnCU*", "SOE": "SOE / 国有企业"}
    assert path.read_bytes().startswith(b"<stata_dta><header><release>118</release>")
    back = pd.read_stata(path)
    with pd.io.stata.StataReader(path) as reader:
        assert reader.variable_labels()["SOE"] == "SOE / 国有企业"
    assert back["SOE"].tolist() == [1, 0] * 15 and back["Region"].tolist() == ["East", "West", "Central"] * 10
    assert np.allclose(back["lnCU_star"], panel["lnCU_star"])
    proc = subprocess.run(
        [sys.executable, str(root / "tools" / "check_licensed.py"), "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "analysis_panel.dta" in proc.stderr, proc.stderr
