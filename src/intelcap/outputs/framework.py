"""Figure 1 as in the paper: the research framework (industrial intelligence -> three channels -> capacity
utilization, hypotheses H1-H4), drawn from config/framework.yaml and annotated with the replicated
coefficients and stars of the result-table cells the edges name (Table 2 col 4, Table 5 cols 1-3)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.outputs.figures import Lang, OutPaths, _check_lang, _fmt_num, _save, _style
from intelcap.outputs.stars import stars_for

_TITLE = {"zh": "图 1 研究框架", "en": "Figure 1. Research framework"}
_NOTE = {
    "zh": "注:系数为本复现的估计值(括号内为聚类在企业层面的标准误);*、**、*** 分别表示在 10%、5%、1% 水平上显著。",
    "en": "Note: replicated coefficients (firm-clustered standard errors in parentheses); * p<0.10, ** p<0.05, "
    "*** p<0.01.",
}


def load_framework(path: str | Path) -> dict:
    """The framework spec, validated: every edge joins declared nodes, every node has zh/en labels and pos."""
    path = Path(path)
    spec = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not {"nodes", "edges"} <= set(spec):
        raise InputError(f"{path}: expected mappings 'nodes' and 'edges' (and optional 'groups')")
    for name, node in spec["nodes"].items():
        missing = [k for k in ("zh", "en", "pos") if k not in node]
        if missing:
            raise InputError(f"{path}: node {name!r} lacks {missing}")
        if node.get("group") and node["group"] not in spec.get("groups", {}):
            raise InputError(
                f"{path}: node {name!r} names group {node['group']!r}, not declared under 'groups'"
            )
    for i, e in enumerate(spec["edges"], 1):
        for end in ("from", "to"):
            if e.get(end) not in spec["nodes"]:
                raise InputError(
                    f"{path}: edges[{i}].{end} = {e.get(end)!r} is not a node ({sorted(spec['nodes'])})"
                )
    return spec


def _records(table: Any) -> list[Mapping[str, Any]]:
    """A result table's rows: a DataFrame's records, or the rows of its CSV as read by `csv.DictReader` (the
    workflow's figure job reads no pandas)."""
    return table.to_dict("records") if hasattr(table, "to_dict") else list(table)


def _number(value: Any) -> float:
    """A cell as a float: a number, or its CSV text (empty = missing)."""
    return float("nan") if value is None or value == "" else float(value)


def edge_labels(spec: Mapping, tables: Mapping[str, Any], digits: int = 3) -> list[dict[str, Any]]:
    """The annotation of every edge: hypothesis, and for edges with a result the CSV cell's estimate, SE and stars.
    `tables`: result tables by name, each a DataFrame or the list of its CSV rows (dicts of text).

    Returned so that tests compare what is drawn with the CSV; the drawing uses exactly these strings."""
    out = []
    for e in spec["edges"]:
        label: dict[str, Any] = {"from": e["from"], "to": e["to"], "hypothesis": e.get("hypothesis", "")}
        res = e.get("result")
        if res:
            table = tables.get(res["table"])
            if table is None:
                raise InputError(
                    f"framework edge {e['from']} -> {e['to']}: no {res['table']}.csv among the inputs"
                )
            hit = [r for r in _records(table) if str(r["model"]) == res["model"] and r["term"] == res["term"]]
            if not hit:
                raise InputError(
                    f"framework edge {e['from']} -> {e['to']}: {res['table']}.csv has no row model={res['model']} "
                    f"term={res['term']}",
                    hint="fix result: in the framework config (paths.framework)",
                )
            estimate, std_error = _number(hit[0]["estimate"]), _number(hit[0]["std_error"])
            stars = stars_for(_number(hit[0]["p_value"]))
            label.update(
                estimate=estimate,
                std_error=std_error,
                stars=stars,
                text=f"{label['hypothesis']}: {_fmt_num(estimate, digits)}{stars}\n({_fmt_num(std_error, digits)})",
            )
        else:
            label["text"] = label["hypothesis"]
        out.append(label)
    return out


_W, _H = 0.2, 0.1  # node box size in axes units


def _render(spec: Mapping, labels: list[dict], lang: Lang) -> Figure:
    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.add_axes((0, 0.08, 1, 0.84))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    nodes = spec["nodes"]
    for gname, group in spec.get("groups", {}).items():
        members = [n for n in nodes.values() if n.get("group") == gname]
        xs = [n["pos"][0] for n in members]
        ys = [n["pos"][1] for n in members]
        x0, y0 = min(xs) - _W / 2 - 0.03, min(ys) - _H / 2 - 0.03
        h = max(ys) - min(ys) + _H + 0.1
        ax.add_patch(
            FancyBboxPatch((x0, y0), max(xs) - min(xs) + _W + 0.06, h, boxstyle="round,pad=0.005", fill=False,
                           linestyle="--", linewidth=0.8, edgecolor="0.45")
        )  # fmt: skip
        ax.text(x0 + 0.01, y0 + h - 0.012, group[lang], ha="left", va="top", fontsize=8, color="0.3")
    for node in nodes.values():
        x, y = node["pos"]
        ax.add_patch(
            FancyBboxPatch((x - _W / 2, y - _H / 2), _W, _H, boxstyle="round,pad=0.01", facecolor="#eef3f8",
                           edgecolor="#34495e", linewidth=1.0)
        )  # fmt: skip
        ax.text(x, y, node[lang], ha="center", va="center", fontsize=9 if lang == "zh" else 7.5)
    for lab, e in zip(labels, spec["edges"], strict=True):
        (x1, y1), (x2, y2) = nodes[e["from"]]["pos"], nodes[e["to"]]["pos"]
        bend = float(e.get("bend", 0.0))
        start = (x1 + _W / 2, y1) if x2 > x1 else (x1, y1)
        end = (x2 - _W / 2, y2) if x2 > x1 else (x2, y2)
        if bend:  # the direct H1 edge runs below the channels
            start, end = (x1, y1 - _H / 2), (x2, y2 - _H / 2)
        ax.add_patch(
            FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, linewidth=1.0, color="#34495e",
                            connectionstyle=f"arc3,rad={bend}", shrinkA=2, shrinkB=2)
        )  # fmt: skip
        at = float(e.get("label_at", 0.5))  # fraction of the way along the edge
        mx, my = start[0] + at * (end[0] - start[0]), start[1] + at * (end[1] - start[1])
        if bend:
            my -= bend * abs(end[0] - start[0]) / 2
        ax.text(mx, my, lab["text"], ha="center", va="center", fontsize=7.5, linespacing=1.1,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})  # fmt: skip
    fig.text(0.5, 0.96, _TITLE[lang], ha="center", va="center", fontsize=10)
    fig.text(0.02, 0.035, _NOTE[lang], ha="left", va="center", fontsize=6.5, color="0.25")
    return fig


def figure_framework(
    spec: Mapping, tables: Mapping[str, Any], out_paths: OutPaths, lang: Lang = "zh"
) -> list[dict[str, Any]]:
    """Figure 1 (research framework) to every path of ``out_paths``; returns the drawn edge labels."""
    lang = _check_lang(lang)
    labels = edge_labels(spec, tables)
    with _style(lang):
        _save(_render(spec, labels, lang), out_paths)
    return labels
