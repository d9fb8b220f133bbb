"""The pandas-free table renderings (rules render_table, render_frame): `outputs.csvrows` reads our result CSVs
as the values pandas gives, the renderers print the same bytes from those rows as from the DataFrame, a job
builds a table's grid once, and the jobs of Tables 1 and 2 never import pandas."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from intelcap import atomic
from intelcap.errors import InputError
from intelcap.outputs import csvrows, html
from intelcap.outputs import tables as T
from intelcap.outputs.csvrows import MISSING, read_rows
from intelcap.outputs.tables import TableStyle
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import render

pytestmark = pytest.mark.unit

SRC = Path(__file__).resolve().parents[1] / "src"
LABELS = str(Path(__file__).resolve().parents[1] / "config" / "labels.yaml")

# every kind of column our writers produce, with its value in row 0, row 1 and row 2 as pandas reads it
_COLUMNS = {
    "count": (["10035", "0", "-3"], [10035, 0, -3], int),
    "count_gaps": (["10035", "", "7"], [10035.0, MISSING, 7.0], float),
    "estimate": (
        ["0.006956959868152213", "1e-05", "-2.5e+20"],
        [0.006956959868152213, 1e-05, -2.5e20],
        float,
    ),
    "mixed": (["1", "0.5", "-0.0"], [1.0, 0.5, -0.0], float),
    "infinite": (["inf", "-inf", ""], [math.inf, -math.inf, MISSING], float),
    "flag": (["True", "False", "True"], [True, False, True], bool),
    "flag_gaps": (["False", "", "True"], [False, MISSING, True], bool),
    "text": (["(1)", "两行\n文本", 'say "x", twice'], ["(1)", "两行\n文本", 'say "x", twice'], str),
    "text_numbers": (["1.50", "nan", "x"], ["1.50", "nan", "x"], str),  # a text column keeps its cells
    "bool_and_number": (["True", "1", ""], ["True", "1", MISSING], str),  # pandas: text
    "text_gaps": (["", "firm", "1,000"], [MISSING, "firm", "1,000"], str),
    "empty": (["", "", ""], [MISSING, MISSING, MISSING], float),
}


def _write(path: Path, columns: dict[str, list[str]]) -> Path:
    import csv

    names = list(columns)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(names)
        w.writerows(zip(*(columns[c] for c in names), strict=True))
    return path


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


def test_rows_have_the_values_and_types_pandas_reads(tmp_path):
    path = _write(tmp_path / "t.csv", {c: cells for c, (cells, _, _) in _COLUMNS.items()})
    rows = read_rows(path)
    assert rows.columns == list(_COLUMNS)
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for c, (_, want, kind) in _COLUMNS.items():
        got = rows.column(c)
        assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (c, got, want)
        assert all(isinstance(g, kind) for g, w in zip(got, want, strict=True) if w is not MISSING), c
        # and what pandas gives, cell by cell (Python scalars: what the renderers saw through iterrows)
        theirs = frame[c].tolist()
        assert all(_same(g, t) or (g is MISSING and pd.isna(t)) for g, t in zip(got, theirs, strict=True)), c


def test_read_frame_keeps_integers_with_gaps_as_pandas_Int64(tmp_path):
    path = _write(tmp_path / "t.csv", {"nobs": ["10035", "", "9007199254740993"], "se": ["0.5", "", "1"]})
    rows = render.read_frame(str(path))
    # pandas reads the column as float64, then Int64: 2**53 + 1 comes back as 2**53, here as there
    assert rows.column("nobs") == [10035, MISSING, 9007199254740992]
    assert all(type(v) is int for v in rows.column("nobs") if v is not MISSING)
    assert rows.column("se")[0] == 0.5 and rows.column("se")[2] == 1.0
    assert pd.read_csv(path).astype({"nobs": "Int64"})["nobs"].tolist()[2] == 9007199254740992
    assert read_rows(path).column("nobs")[0] == 10035.0  # read_result's rule: floats


def test_empty_as_text_is_keep_default_na_false(tmp_path):
    path = _write(tmp_path / "t.csv", {"a": ["1", ""], "b": ["2", "3"]})
    rows = read_rows(path, empty="text")
    frame = pd.read_csv(path, keep_default_na=False)
    assert rows.column("a") == ["1", ""] == frame["a"].tolist()
    assert rows.column("b") == [2, 3] == frame["b"].tolist()


@pytest.mark.parametrize(
    "cell",
    [
        " 1",
        "+1",
        "1E5",
        ".5",
        "5.",
        "nan",
        "NaN",
        "Infinity",
        "+inf",
        "1_000",
        "9223372036854775808",
        "0.123456789012345678",
    ],  # fmt: skip
)
def test_a_number_pandas_could_read_otherwise_is_an_error_naming_file_column_line(tmp_path, cell):
    path = _write(tmp_path / "odd.csv", {"name": ["a", "b", "c"], "estimate": ["0.5", "1", cell]})
    with pytest.raises(InputError) as err:
        read_rows(path)
    msg = str(err.value)
    assert "line 4" in msg and "column: estimate" in msg and str(path) in msg and repr(cell) in msg, msg
    # in a text column the same cell is text, as pandas keeps it
    text = _write(tmp_path / "text.csv", {"name": ["a", "b", cell]})
    assert read_rows(text).column("name")[2] == cell == pd.read_csv(text, keep_default_na=False)["name"][2]


def test_long_integer_in_a_float_column_is_an_error(tmp_path):
    path = _write(tmp_path / "t.csv", {"id": ["123456789012345678", "0.5"]})
    with pytest.raises(InputError, match=r"line 2: integer 123456789012345678 .*more than 17"):
        read_rows(path)
    only_ints = _write(tmp_path / "ints.csv", {"id": ["123456789012345678", "1"]})
    assert read_rows(only_ints).column("id") == [123456789012345678, 1]  # int64 in pandas too


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3\n", "line 3 has 1 fields, the header 2"),
        ("a,b\n1,2,3\n", "line 2 has 3 fields, the header 2"),
        ("a,a\n1,2\n", "duplicated columns ['a']"),
        ("a,\n1,2\n", "a column without a name"),
        ("a\n1\n   \n", "line 3 holds only spaces"),
        ("", "CSV file is empty"),
    ],
)
def test_a_malformed_csv_is_an_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_rows(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_blank_lines_are_skipped_and_a_multiline_cell_keeps_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"x\ny"\n\n2,z\n3,nan\n', encoding="utf-8")
    rows = read_rows(path)
    assert rows.column("a") == [1, 2, 3] and rows.column("b") == ["x\ny", "z", "nan"]
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n"p\nq",1\n"r",nan\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 4: cell 'nan'"):
        read_rows(bad)


def test_a_dataframe_becomes_the_same_rows():
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "x": [0.5, math.nan], "s": ["a", None]})
    rows = csvrows.as_rows(df)
    assert rows.columns == ["n", "x", "s"]
    assert rows.rows[0] == {"n": 1, "x": 0.5, "s": "a"}
    assert all(T._is_missing(v) for v in rows.rows[1].values())
    with pytest.raises(InputError, match=r"duplicated columns \['x'\]"):
        csvrows.as_rows(pd.DataFrame([[1, 2]], columns=["x", "x"]))
    with pytest.raises(InputError, match="not list"):
        T.table_grid("frame", [{"a": 1}])


# ---------------------------------------------------------------------------------------------- the tables
def _regression_csv(path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "model": ["(1)", "(1)", "(1)", "(2)", "(2)", "(2)"],
            "depvar": "lnCU",
            "term": ["lnINT", "_cons", "stat:first_stage_F", "lnINT", "Size", "_cons"],
            "estimate": [0.0125, -0.17390242051745328, 406.031, 0.006956959868152213, -0.0004, 1.0],
            "std_error": [0.0037720868567856117, 0.05, math.nan, 0.002560680557044327, 0.1, 0.2],
            "t_value": [3.3, -3.5, math.nan, 2.7, -0.004, 5.0],
            "p_value": [0.009, 0.04, math.nan, 0.0069, 0.99, 1e-8],
            "nobs": [10035, 10035, math.nan, 9876, 9876, 9876],
            "n_clusters": [1217, 1217, math.nan, 1216, 1216, 1216],
            "r2_within": [math.nan, math.nan, math.nan, 0.2066476053856644, 0.2066476053856644, 0.2066],
            "r2": [0.015168731255747248, 0.015168731255747248, math.nan, 0.9, 0.9, 0.9],
            "fixed_effects": ["", "", "", "Stkcd+year", "Stkcd+year", "Stkcd+year"],
            "vcov": "CRV1:Stkcd",
            "controls": ["no", "no", "", "yes", "yes", "yes"],
            "sample": "all",
            "stage": math.nan,
            "column_title": math.nan,
            "text": math.nan,
        }
    )
    atomic.write_csv(frame, path)
    return path


def _descriptive_csv(path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "variable": ["lnCU", "lnINT", "Size"],
            "n": [10035, 10035, 9999],
            "mean": [-0.1755935144875887, 0.0125, 22.0],
            "sd": [0.13926315085775184, 0.6144663821823895, 1.0],
            "min": [-1.3178715690786227, -2.11054753561158, 19.0],
            "max": [-0.016250616640879578, 1.8181495545792554, 26.5],
        }
    )
    atomic.write_csv(frame, path)
    return path


_OUTPUTS = {"md": ".md", "tex": ".tex", "docx": ".docx", "standalone": "_standalone.tex", "html": ".html"}
_CONFIG = {
    "output": {
        "lang": "zh",
        "paren": "se",
        "digits": 3,
        "layout": "plain",
        "layouts": {"plain": {"default": {}}},
        "tables": {},
    },
    "controls": ["Size"],
}


def _job(name: str, csv: Path, out: Path) -> Job:
    outputs = {k: str(out / f"{name}{ext}") for k, ext in _OUTPUTS.items()}
    return Job({"csv": str(csv), "labels": LABELS}, outputs, {}, _CONFIG, wildcards={"name": name})


def _write_csvs(tmp_path: Path) -> dict[str, Path]:
    return {
        "table2": _regression_csv(tmp_path / "table2.csv"),
        "table1": _descriptive_csv(tmp_path / "table1.csv"),
    }


def test_the_jobs_of_tables_1_and_2_import_no_pandas(tmp_path):
    csvs = _write_csvs(tmp_path)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(SRC)!r})
        from pathlib import Path
        from intelcap.workflow.runner import Job
        from intelcap.workflow.steps import render
        config = {_CONFIG!r}
        for name, csv in { ({k: str(v) for k, v in csvs.items()})!r}.items():
            out = Path({str(tmp_path)!r}) / "job"
            out.mkdir(exist_ok=True)
            outputs = {{k: str(out / f"{{name}}{{ext}}") for k, ext in {_OUTPUTS!r}.items()}}
            job = Job({{"csv": csv, "labels": {LABELS!r}}}, outputs, {{}}, config, wildcards={{"name": name}})
            render.render_table(job)
        print("pandas" in sys.modules, "numpy" in sys.modules)
        """
    )
    got = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert got.stdout.split() == ["False", "False"], got.stdout + got.stderr
    # the files the job wrote are those of the library path, rendered from the DataFrame pandas reads
    for name, kind in (("table2", "regression"), ("table1", "descriptive")):
        frame = pd.read_csv(csvs[name], keep_default_na=False, na_values=[""])
        layout = T.layout_style(name, _CONFIG["output"], ["Size"]) if kind == "regression" else {}
        style = render.table_style(_job(name, csvs[name], tmp_path), name, **layout)
        lib = tmp_path / "lib"
        lib.mkdir(exist_ok=True)
        T.write_table(kind, frame, {k: lib / f"{name}{_OUTPUTS[k]}" for k in ("md", "tex", "docx")}, style)
        for k in ("md", "tex", "docx"):
            ours = (tmp_path / "job" / f"{name}{_OUTPUTS[k]}").read_bytes()
            assert ours == (lib / f"{name}{_OUTPUTS[k]}").read_bytes(), (name, k)
        page = (tmp_path / "job" / f"{name}.html").read_text(encoding="utf-8")
        assert page == html.table_html(kind, frame, style)
        standalone = (tmp_path / "job" / f"{name}_standalone.tex").read_text(encoding="utf-8")
        assert standalone == T.latex_document((lib / f"{name}.tex").read_text(encoding="utf-8"), "zh")


def test_a_render_job_builds_the_grid_once(tmp_path, monkeypatch):
    csvs = _write_csvs(tmp_path)
    calls = []
    models = T._models
    monkeypatch.setattr(T, "_models", lambda table: calls.append(1) or models(table))
    render.render_table(_job("table2", csvs["table2"], tmp_path))
    assert len(calls) == 1  # md, tex, docx and html from one grid (4 builds before)
    md = (tmp_path / "table2.md").read_text(encoding="utf-8")
    # the numbers of the hand-written CSV, as esttab prints them (half away from zero on the repr)
    assert "| 0.013*** | 0.007*** |" in md and "| (0.004) | (0.003) |" in md, md
    assert "| -0.000 |" not in md and "| 10,035 | 9,876 |" in md and "| 406.03 |" in md, md


def test_table7_keywords_sorted_by_order_within_their_categories(tmp_path):
    csv = _write(
        tmp_path / "table7.csv",
        {
            "category": ["技术", "宏观政策", "技术", "宏观政策"],
            "order": ["3", "2", "1", "4"],
            "keyword": ["机器人", "工业4.0", "人工智能", "互联网+"],
            "origin": ["paper", "seed", "expanded", "paper"],
        },
    )
    render.render_table(_job("table7", csv, tmp_path))
    md = (tmp_path / "table7.md").read_text(encoding="utf-8")
    # categories in order of first appearance, each keyword list by `order`; origin marks after the words
    assert "| 技术 | 人工智能†、机器人 |" in md and "| 宏观政策 | 工业4.0*、互联网+ |" in md, md
    assert md.index("技术") < md.index("宏观政策")


def test_inference_view_formats_and_joins_the_clusters(tmp_path):
    csv = _write(
        tmp_path / "inference.csv",
        {
            "model": ["OLS", "OLS"],
            "method": ["firm_crv1", "wild_bootstrap_industry"],
            "estimate": ["0.03386089505101487", "0.1"],
            "std_error": ["0.002725606588037027", ""],
            "p_value": ["1.9091506085105504e-33", "inf"],
            "ci_text": ["[0.0285, 0.0392]", ""],
            "n_clusters": ["1216", "13"],
            "cluster": ["firm", "IFR industry"],
        },
    )
    view = render._inference_display(read_rows(csv))
    assert view.columns == ["Model", "Method", "Estimate", "SE", "p-value", "95% CI", "Clusters"]
    assert [r["Estimate"] for r in view] == ["0.0339", "0.1000"]
    assert [r["SE"] for r in view] == ["0.0027", ""]  # missing and non-finite print empty
    assert [r["p-value"] for r in view] == ["0.0000", ""]
    assert [r["Clusters"] for r in view] == ["1216 (firm)", "13 (IFR industry)"]
    assert math.isnan(view.rows[1]["95% CI"])


def test_frame_tables_print_the_same_from_rows_and_from_the_frame(tmp_path):
    frame = pd.DataFrame(
        {
            "group_a": ["non_soe", "east"],
            "beta_a": [0.036563828099376715, -0.0004],
            "reps": [500, 500],
            "nobs": pd.array([10035, None], dtype="Int64"),
            "same_sign": [True, False],
            "seed": [1, 2],
        }
    )
    path = tmp_path / "table6_differences.csv"
    atomic.write_csv(frame, path)
    style = TableStyle(frame="table6_differences")
    assert T.frame_markdown(render.read_frame(str(path)), style) == T.frame_markdown(frame, style)
    md = T.frame_markdown(render.read_frame(str(path)).drop(["seed"]), TableStyle(lang="en", frame="x"))
    assert md.splitlines()[2] == "| non_soe | 0.037 | 500 | 10,035 | Yes |", md
