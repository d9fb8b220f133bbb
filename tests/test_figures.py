"""Figures: every writer produces files, output is byte-deterministic, the rule-graph parser/layout is right,
Chinese renders with the bundled font, coefficient-plot intervals use t with G-1 df, captions render."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.outputs import figures as F
from intelcap.outputs import rulegraph as RG
from intelcap.outputs.labels import load_labels

ROOT = Path(__file__).resolve().parents[1]
INSTALLATIONS = ROOT / "config" / "ifr_global_installations.csv"

# The shape of real `snakemake --rulegraph` output (Snakemake 9): header attributes, node lines with
# label/color/style, edges "producer -> consumer" with `all` (node 0) as the final sink, trailing spaces.
RULEGRAPH_DOT = (
    """digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
    node[shape=box, style=rounded, fontname=sans,                 fontsize=10, penwidth=2];
    edge[penwidth=2, color=grey];
\t0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
\t1[label = "analysis_panel", color = "0.06 0.6 0.85", style="rounded"];
\t2[label = "winsorize", color = "0.61 0.6 0.85", style="rounded"];
\t3[label = "build_panel", color = "0.12 0.6 0.85", style="rounded"];
\t4[label = "read_table", color = "0.30 0.6 0.85", style="rounded"];
\t5[label = "synthesize", color = "0.42 0.6 0.85", style="rounded"];
\t6[label = "capacity_utilization", color = "0.18 0.6 0.85", style="rounded"];
\t7[label = "robot_exposure", color = "0.36 0.6 0.85", style="rounded"];
\t8[label = "read_ifr", color = "0.24 0.6 0.85", style="rounded"];
\t9[label = "table1", color = "0.48 0.6 0.85", style="rounded"];
\t10[label = "table2", color = "0.55 0.6 0.85", style="rounded"];
\t9 -> 0
\t1 -> 0
\t10 -> 0
\t6 -> 1
\t2 -> 1
\t7 -> 1
\t3 -> 1
\t3 -> 2
\t4 -> 3
\t5 -> 4
\t3 -> 6
\t8 -> 7
\t4 -> 7
\t3 -> 7
\t5 -> 8
\t1 -> 9
\t1 -> 10
}"""
    + " " * 12
    + "\n"
)  # Snakemake leaves trailing blanks after the brace

EXPECTED_EDGES = {
    ("table1", "all"), ("analysis_panel", "all"), ("table2", "all"),
    ("capacity_utilization", "analysis_panel"), ("winsorize", "analysis_panel"),
    ("robot_exposure", "analysis_panel"), ("build_panel", "analysis_panel"), ("build_panel", "winsorize"),
    ("read_table", "build_panel"), ("synthesize", "read_table"), ("build_panel", "capacity_utilization"),
    ("read_ifr", "robot_exposure"), ("read_table", "robot_exposure"), ("build_panel", "robot_exposure"),
    ("synthesize", "read_ifr"), ("analysis_panel", "table1"), ("analysis_panel", "table2"),
}  # fmt: skip

SAMPLES = ["SOE", "non-SOE", "east", "central", "west"]


def _long_df() -> pd.DataFrame:
    """Two rows (lnINT, _cons) per subsample model; every row SE 0.01, t 2, p 0.05, 1,000 firm-years."""
    same = {
        "depvar": "lnCU",
        "std_error": 0.01,
        "t_value": 2.0,
        "p_value": 0.05,
        "nobs": 1000,
        "r2_within": 0.1,
    }
    same |= {"fixed_effects": "Stkcd+year", "vcov": "CRV1:Stkcd", "controls": "yes", "stage": None}
    rows = [
        {
            "model": f"({i + 1})",
            "term": term,
            "estimate": est,
            "n_clusters": 100 + 10 * i,
            "sample": s,
            **same,
        }
        for i, s in enumerate(SAMPLES)
        for term, est in (("lnINT", 0.02 + 0.005 * i), ("_cons", -0.2))
    ]
    columns = ["model", "depvar", "term", "estimate", "std_error", "t_value", "p_value", "nobs", "n_clusters"]
    return pd.DataFrame(rows)[[*columns, "r2_within", "fixed_effects", "vcov", "controls", "sample", "stage"]]


def _spec_df() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        [
            dict(estimate=float(rng.normal(0.03, 0.01)), std_error=0.01, n_clusters=1200, cu=cu, fe=fe, winsor=w)
            for cu in ("sfa_bc92", "cols") for fe in ("firm+year", "firm+industry^year") for w in ("yes", "no")
        ]
    )  # fmt: skip


def _coverage_df() -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(method=m, coverage=c, n_reps=500, scenario=s)
            for s in ("G=1200", "G=30") for m, c in (("CRV1", 0.94), ("CRV3", 0.95), ("wild", 0.95))
        ]
    )  # fmt: skip


RENDERERS: dict[str, Callable[[dict[str, Path], str], dict[str, Path]]] = {
    "installations": lambda out, lang: F.figure_installations(INSTALLATIONS, out, lang=lang),
    "rulegraph": lambda out, lang: RG.figure_rulegraph(RULEGRAPH_DOT, out, lang=lang),
    "coefplot": lambda out, lang: F.figure_coefplot(_long_df(), out, lang=lang, pooled=0.034),
    "placebo": lambda out, lang: F.figure_placebo(
        np.random.default_rng(3).normal(0, 0.01, 200), 0.034, out, lang=lang, p_value=0.01
    ),
    "spec_curve": lambda out, lang: F.figure_spec_curve(_spec_df(), out, lang=lang),
    "coverage": lambda out, lang: F.figure_coverage(_coverage_df(), out, lang=lang),
}


def _font_available() -> bool:
    try:
        from intelcap.outputs.fonts import cjk_font_path

        cjk_font_path()
    except (ImportError, FileNotFoundError):
        return False
    return True


# Chinese figures need the bundled font; only tests may fall back to English when it is not there yet.
LANG = "zh" if _font_available() else "en"


# --- data --------------------------------------------------------------------------------------------------


def test_installations_csv_has_both_vintages() -> None:
    df = pd.read_csv(INSTALLATIONS, keep_default_na=False)
    assert list(df.columns) == ["year", "installations", "vintage", "source", "note"]
    wr = F.read_installations(INSTALLATIONS, "WR2022")
    assert wr["year"].tolist() == list(range(2011, 2022))
    # docs/methods.md#ifr-global: the revised WR2022 series, thousand units
    assert (wr["installations"] / 1000).tolist() == [166, 159, 178, 221, 254, 304, 400, 423, 391, 394, 517]
    fp = F.read_installations(INSTALLATIONS, "first_published")
    assert fp["year"].tolist() == list(range(2011, 2022))
    assert fp.set_index("year").loc[2021, "installations"] == 517385
    # 2021 growth in the revised series matches the published +31%
    assert wr["installations"].iloc[-1] / wr["installations"].iloc[-2] == pytest.approx(1.31, abs=0.005)
    assert (df["source"].str.len() > 0).all()
    mem = df[df["source"].str.contains(r"\[MEM\]")]
    assert mem["note"].str.len().gt(0).all()  # every recalled value carries a note


def test_unknown_vintage_and_bad_format_raise(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="vintage"):
        F.read_installations(INSTALLATIONS, "WR1999")
    with pytest.raises(InputError, match="format"):
        F.figure_installations(INSTALLATIONS, {"jpg": tmp_path / "x.jpg"}, lang="en")


# --- output files and determinism --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[dict[str, bytes]], list[str]]]:
    """Each figure rendered twice to every format (one module-wide render: the tests below share it).
    Returns {name: ([bytes by format, run a], [bytes by format, run b]), warning messages}."""
    tmp = tmp_path_factory.mktemp("figures")
    out: dict[str, tuple[list[dict[str, bytes]], list[str]]] = {}
    for name, render in RENDERERS.items():
        runs = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for run in ("a", "b"):
                written = render({fmt: tmp / run / f"{name}.{fmt}" for fmt in F.FORMATS}, LANG)
                assert set(written) == set(F.FORMATS)
                runs.append({fmt: p.read_bytes() for fmt, p in written.items()})
        out[name] = (runs, [str(w.message) for w in caught])
    assert not list(tmp.rglob("*.tmp")), "atomic writer left a temporary file"
    return out


@pytest.mark.parametrize("name", list(RENDERERS))
def test_writes_nonempty_files(name: str, renders: dict) -> None:
    (a, _), _ = renders[name]
    assert a["png"].startswith(b"\x89PNG") and len(a["png"]) > 5000
    assert a["pdf"].startswith(b"%PDF") and len(a["pdf"]) > 1000
    assert b"<svg" in a["svg"][:2000]
    # no timestamp or software version in the metadata (they would break byte-identity across runs/upgrades)
    assert b"CreationDate" not in a["pdf"] and b"Matplotlib" not in a["pdf"]
    assert b"<dc:date>" not in a["svg"]


@pytest.mark.parametrize("name", list(RENDERERS))
def test_two_renders_byte_identical(name: str, renders: dict) -> None:
    (a, b), _ = renders[name]
    for fmt in F.FORMATS:
        assert a[fmt] == b[fmt], f"{name}.{fmt} differs between two renders"


@pytest.mark.skipif(
    not _font_available(), reason="bundled CJK font (intelcap.outputs.fonts) not available yet"
)
@pytest.mark.parametrize("name", list(RENDERERS))
def test_cjk_renders_without_missing_glyphs(name: str, renders: dict) -> None:
    (a, _), messages = renders[name]  # rendered with lang="zh" when the font exists
    missing = [m for m in messages if "missing from" in m]
    assert not missing, missing[:3]
    # The Chinese text is set in the bundled font (embedded in the PDF), not in some system font.
    assert b"NotoSansSCSubset" in a["pdf"]


def test_rc_params_not_leaked(tmp_path: Path) -> None:
    before = mpl.rcParams["svg.hashsalt"], list(mpl.rcParams["font.family"])
    F.figure_placebo([0.0, 0.01, -0.01], 0.02, {"png": tmp_path / "p.png"}, lang=LANG, p_value=0.5)
    assert (mpl.rcParams["svg.hashsalt"], list(mpl.rcParams["font.family"])) == before


# --- rule graph ------------------------------------------------------------------------------------------------


def test_parse_rulegraph_nodes_and_edges() -> None:
    g = RG.parse_rulegraph("Building DAG of jobs...\n" + RULEGRAPH_DOT)  # stray log lines before the graph
    assert len(g.nodes) == 11
    assert g.nodes["0"] == "all" and g.nodes["6"] == "capacity_utilization"
    assert "graph" not in g.nodes and "node" not in g.nodes and "edge" not in g.nodes
    assert len(g.edges) == 17
    assert g.label_edges() == EXPECTED_EDGES
    assert g.colors["2"] == "0.61 0.6 0.85"


def test_layering_edges_go_down() -> None:
    g = RG.parse_rulegraph(RULEGRAPH_DOT)
    layer = RG.longest_path_layers(g)
    for a, b in g.edges:
        assert layer[a] < layer[b], (g.nodes[a], g.nodes[b])
    by_name = {g.nodes[n]: k for n, k in layer.items()}
    # longest path: synthesize -> read_table -> build_panel -> winsorize -> analysis_panel -> table1 -> all
    assert by_name["synthesize"] == 0 and by_name["build_panel"] == 2
    assert by_name["analysis_panel"] == 4 and by_name["all"] == 6
    assert by_name["read_ifr"] == 1 and by_name["robot_exposure"] == 3


def test_layout_dummies_and_no_overlap() -> None:
    g = RG.parse_rulegraph(RULEGRAPH_DOT)
    lay = RG.layout_rulegraph(g)
    for (a, b), chain in lay.paths.items():
        # a long edge gets one dummy per intermediate layer, so consecutive hops span exactly one layer
        assert chain[0] == a and chain[-1] == b
        assert [lay.layer_of[n] for n in chain] == list(range(lay.layer_of[a], lay.layer_of[b] + 1))
    for layer in lay.layers:
        for u, v in zip(layer, layer[1:], strict=False):
            assert lay.x[v] - lay.x[u] >= (lay.widths[u] + lay.widths[v]) / 2 - 1e-9  # boxes never overlap
    assert RG.layout_rulegraph(g) == lay  # deterministic


def test_rulegraph_cycle_and_garbage_raise() -> None:
    with pytest.raises(InputError, match="cycle"):
        RG.longest_path_layers(
            RG.parse_rulegraph('digraph g {\n0[label = "a"];\n1[label = "b"];\n0 -> 1\n1 -> 0\n}')
        )
    with pytest.raises(InputError):
        RG.parse_rulegraph("Nothing to be done.")


# --- CJK ------------------------------------------------------------------------------------------------------


def test_zh_without_font_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import intelcap.outputs.fonts

    def missing() -> str:
        raise FileNotFoundError("no font")

    monkeypatch.setattr(intelcap.outputs.fonts, "use_cjk_in_matplotlib", missing)
    with pytest.raises(InputError, match="CJK font"):
        F.figure_placebo([0.0, 0.01], 0.02, {"png": tmp_path / "p.png"}, lang="zh", p_value=0.5)
    F.figure_placebo(
        [0.0, 0.01], 0.02, {"png": tmp_path / "p.png"}, lang="en", p_value=0.5
    )  # English falls back


# --- numbers --------------------------------------------------------------------------------------------------


def test_coef_intervals_use_t_with_clusters_minus_one() -> None:
    df = pd.DataFrame(
        [
            dict(model="(1)", term="lnINT", estimate=0.03, std_error=0.01, n_clusters=11, sample="SOE", stage=None),
            dict(model="(2)", term="lnINT", estimate=0.03, std_error=0.01, n_clusters=np.nan, sample="west", stage=None),
            dict(model="(1)", term="_cons", estimate=1.0, std_error=0.1, n_clusters=11, sample="SOE", stage=None),
            dict(model="(3)", term="lnINT", estimate=9.9, std_error=1.0, n_clusters=11, sample="all", stage="first"),
        ]
    )  # fmt: skip
    ci = F.coef_intervals(df)
    assert ci["model"].tolist() == ["(1)", "(2)"]  # lnINT only, first IV stage dropped
    # t_{10, 0.975} = 2.228138851964938 (G = 11 clusters -> 10 df)
    assert ci.loc[0, "df"] == 10
    assert ci.loc[0, "ci_low"] == pytest.approx(0.03 - 0.02228138851964938, abs=1e-12)
    assert ci.loc[0, "ci_high"] == pytest.approx(0.05228138851964938, abs=1e-12)
    # no cluster count: normal quantile 1.959963984540054
    assert ci.loc[1, "ci_high"] == pytest.approx(0.03 + 0.01959963984540054, abs=1e-12)


def test_placebo_pvalue_counts_actual_draw() -> None:
    from intelcap.econometrics.placebo import placebo_pvalue

    assert placebo_pvalue([-3, -1, 0, 1, 2], 2.0) == pytest.approx(3 / 6)  # |-3| and |2| are as extreme
    assert placebo_pvalue([-3, -1, 0, 1, 2], 2.0, two_sided=False) == pytest.approx(2 / 6)
    assert placebo_pvalue([0.0, 0.1], 5.0) == pytest.approx(1 / 3)


def test_sample_labels_from_labels_yaml() -> None:
    labels = load_labels(ROOT / "config" / "labels.yaml")
    assert F._lookup(labels, "samples", "non_soe", "zh") == "非国有企业"
    assert F._lookup(labels, "samples", "non-SOE", "en") == "Non-SOE"
    assert F._lookup(labels, "samples", "nope", "zh") is None


def test_missing_labels_file_names_file_and_config_key(tmp_path: Path) -> None:
    missing = tmp_path / "nolabels.yaml"
    with pytest.raises(InputError, match=r"(?s)labels file not found.*nolabels\.yaml.*paths\.labels"):
        F.figure_coefplot(_long_df(), {"png": tmp_path / "c.png"}, lang="en", labels_path=missing)
    assert not (tmp_path / "c.png").exists()
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"(?s)mapping of sections.*list\.yaml.*paths\.labels"):
        load_labels(tmp_path / "list.yaml")


# --- report captions -------------------------------------------------------------------------------------------

CAPTIONS = sorted(p.stem for p in (ROOT / "report").glob("*.rst"))  # every caption the report can show


@pytest.mark.parametrize("name", CAPTIONS)
def test_report_captions_render(name: str, config: dict) -> None:
    """Snakemake renders captions with Jinja2 then docutils: both must pass without warnings."""
    jinja2 = pytest.importorskip("jinja2")
    core = pytest.importorskip("docutils.core")

    class FakeSnakemake:
        input = ["results/figures/rulegraph.dot"]
        output = ["results/figures/figure1.png"]
        wildcards = type("Wildcards", (), {"name": "table2"})  # captions of wildcard rules (rendered_table)

    FakeSnakemake.config = config  # type: ignore[attr-defined]
    text = (ROOT / "report" / f"{name}.rst").read_text(encoding="utf-8")
    rendered = (
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(snakemake=FakeSnakemake)
    )
    html = core.publish_parts(
        rendered, writer="html", settings_overrides={"halt_level": 2, "report_level": 2}
    )
    assert len(html["body"]) > 100
