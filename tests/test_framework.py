"""Figure 1 as in the paper: the research framework, annotated with the CSV cells of Tables 2 and 5."""

from __future__ import annotations

import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.outputs import fonts, framework


@pytest.fixture(scope="module")
def spec(root):
    return framework.load_framework(root / "config" / "framework.yaml")


def _tables(tmp_path):
    t2 = pd.DataFrame(
        {
            "model": ["(4)", "(4)"],
            "term": ["lnINT", "_cons"],
            "estimate": [0.0341, -0.6],
            "std_error": [0.0126, 0.1],
            "p_value": [0.007, 0.0],
        }
    )
    t5 = pd.DataFrame(
        {
            "model": ["(1)", "(2)", "(3)"],
            "term": ["lnINT"] * 3,
            "estimate": [0.0194, 1.1114, -0.5996],
            "std_error": [0.0061, 0.2133, 0.2321],
            "p_value": [0.0015, 0.0000002, 0.0499],
        }
    )
    for name, df in (("table2", t2), ("table5", t5)):
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    return {n: pd.read_csv(tmp_path / f"{n}.csv") for n in ("table2", "table5")}  # fmt: skip


def test_framework_is_the_papers_h1_to_h4(spec):
    edges = {(e["from"], e["to"]): e["hypothesis"] for e in spec["edges"]}
    assert edges == {
        ("lnINT", "Efficiency"): "H2", ("lnINT", "Humcap"): "H3", ("lnINT", "ED"): "H4",
        ("Efficiency", "lnCU"): "H2", ("Humcap", "lnCU"): "H3", ("ED", "lnCU"): "H4", ("lnINT", "lnCU"): "H1",
    }  # fmt: skip
    assert {n: spec["nodes"][n].get("group") for n in ("Efficiency", "Humcap", "ED")} == {
        "Efficiency": "internal", "Humcap": "internal", "ED": "external"
    }  # fmt: skip
    zh = "".join(n["zh"] for n in spec["nodes"].values()) + "".join(g["zh"] for g in spec["groups"].values())
    assert fonts.missing_chars(zh) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_drawn_numbers_are_the_csv_cells(tmp_path, spec, lang, monkeypatch):
    tables = _tables(tmp_path)
    drawn: list[str] = []
    real = framework._render

    def spy(spec_, labels, lang_):
        fig = real(spec_, labels, lang_)
        drawn.extend(t.get_text() for ax in fig.axes for t in ax.texts)
        drawn.extend(t.get_text() for t in fig.texts)
        return fig

    monkeypatch.setattr(framework, "_render", spy)
    labels = framework.figure_framework(spec, tables, {"png": tmp_path / f"f1_{lang}.png"}, lang)
    assert (tmp_path / f"f1_{lang}.png").stat().st_size > 10_000
    # hand-formatted from the fabricated CSV: 3 decimals, stars from p (0.0499 < 0.05 -> **)
    want = {
        "H1: 0.034***\n(0.013)",
        "H2: 0.019***\n(0.006)",
        "H3: 1.111***\n(0.213)",
        "H4: -0.600**\n(0.232)",
    }
    assert want <= set(drawn)
    assert [lab["estimate"] for lab in labels if "estimate" in lab] == [0.0194, 1.1114, -0.5996, 0.0341]
    assert ("工业智能化" in drawn) == (lang == "zh") and ("Export demand" in drawn) == (lang == "en")


def test_changing_a_csv_cell_changes_the_drawn_label(tmp_path, spec):
    tables = _tables(tmp_path)
    tables["table5"].loc[2, "p_value"] = 0.2
    labels = framework.edge_labels(spec, tables)
    assert labels[2]["text"] == "H4: -0.600\n(0.232)"


def test_missing_cell_names_edge_and_table(tmp_path, spec):
    tables = _tables(tmp_path)
    tables["table5"] = tables["table5"][tables["table5"]["model"] != "(3)"]
    with pytest.raises(InputError, match=r"lnINT -> ED: table5.csv has no row model=\(3\) term=lnINT"):
        framework.edge_labels(spec, tables)


def test_edge_to_an_unknown_node_is_refused(tmp_path):
    bad = tmp_path / "fw.yaml"
    bad.write_text("nodes: {a: {zh: 甲, en: A, pos: [0, 0]}}\nedges: [{from: a, to: b}]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"edges\[1\].to = 'b' is not a node"):
        framework.load_framework(bad)
