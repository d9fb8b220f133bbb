"""The pandas-free paths of the figure job (Figure 1): the stars, the CSV rows it reads and the labels CSV it
writes give exactly what the pandas paths give."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from intelcap import atomic
from intelcap.outputs import framework
from intelcap.outputs.stars import stars_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("p", "stars"),
    [
        (0.1, ""),  # strictly below a threshold, as esttab
        (0.0999999, "*"),
        (0.05, "*"),
        (0.049, "**"),
        (0.01, "**"),
        (0.0099, "***"),
        (0.0, "***"),
        (1.0, ""),
        (None, ""),
        (math.nan, ""),
        (np.float32("nan"), ""),
        (np.float64(0.02), "**"),
        (pd.NA, ""),
        ("0.003", "***"),
    ],
)
def test_stars_for(p, stars):
    assert stars_for(p) == stars


def test_records_csv_is_byte_identical_to_the_pandas_writer(tmp_path):
    # (an integer column with gaps would be floats in pandas: the labels have none, the writer says so)
    rows = [
        {
            "from": "lnINT",
            "to": "CU",
            "hypothesis": "H1",
            "estimate": 0.006956959868152213,
            "flag": True,
            "n": 1,
        },
        {"from": "a,b", "to": 'say "x"', "hypothesis": "两行\n文本", "estimate": 1e-05, "n": 3},
        {"from": "x", "hypothesis": "", "estimate": math.nan, "std_error": 0.1 + 0.2, "stars": None, "n": 0},
        {"from": "y", "estimate": -0.0, "std_error": 123456789.125, "stars": "***", "n": -2},
    ]
    ours, theirs = tmp_path / "ours.csv", tmp_path / "pandas.csv"
    atomic.write_records_csv(rows, ours)
    atomic.write_csv(pd.DataFrame(rows), theirs)
    assert ours.read_bytes() == theirs.read_bytes()


def test_edge_labels_from_csv_rows_equal_those_from_the_frame(tmp_path):
    import csv

    table = pd.DataFrame(
        {
            "model": ["(1)", "(4)", "(4)"],
            "term": ["lnINT", "lnINT", "Size"],
            "estimate": [0.1, 0.006956959868152213, -0.2],
            "std_error": [0.05, 0.002560680557044327, 0.1],
            "p_value": [0.04, 0.0069, math.nan],
        }
    )
    path = tmp_path / "table2.csv"
    atomic.write_csv(table, path)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    spec = {
        "edges": [
            {
                "from": "lnINT",
                "to": "CU",
                "hypothesis": "H1",
                "result": {"table": "table2", "model": "(4)", "term": "lnINT"},
            },
            {
                "from": "Size",
                "to": "CU",
                "hypothesis": "H9",
                "result": {"table": "table2", "model": "(4)", "term": "Size"},
            },
            {"from": "a", "to": "b", "hypothesis": "H2"},
        ]
    }
    from_frame = framework.edge_labels(spec, {"table2": pd.read_csv(path)})
    from_rows = framework.edge_labels(spec, {"table2": rows})
    assert from_rows == from_frame
    assert from_rows[0]["text"] == "H1: 0.007***\n(0.003)"
    assert from_rows[1]["text"] == "H9: -0.200\n(0.100)"
