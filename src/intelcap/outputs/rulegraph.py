"""Appendix figure: the workflow's rule graph, parsed from ``snakemake --rulegraph`` DOT text, laid out in layers and
drawn with matplotlib (no graphviz binaries needed).

The paper's Figure 1 (its research framework, "技术路线图") is drawn by `outputs.framework`; this figure shows
beside it the DAG that actually produced the numbers. The layout is Sugiyama-style, in four named steps: layering (:func:`longest_path_layers`
and dummy points on long edges), ordering within layers (:func:`_order_layers`), x-coordinates
(:func:`_coordinates`) and drawing (:func:`_render_rulegraph_mpl`). Every step is deterministic: each sort has
a total tie-break, so the same DOT text gives the same bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.colors import hsv_to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from intelcap.atomic import atomic_path
from intelcap.errors import InputError
from intelcap.outputs.figures import Lang, OutPaths, _check_lang, _check_out_paths, _save, _style

__all__ = [
    "RuleGraph",
    "RuleGraphLayout",
    "figure_rulegraph",
    "layout_rulegraph",
    "longest_path_layers",
    "parse_rulegraph",
]

_TITLE = {"zh": "附图  工作流（规则依赖图）", "en": "Appendix figure. Workflow rule graph"}


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleGraph:
    """A parsed rule graph. Edges run producer -> consumer, as Snakemake writes them (``9 -> 0`` means rule 9
    feeds rule 0, usually ``all``)."""

    nodes: dict[str, str]  # DOT node id -> rule name (the node's label)
    edges: tuple[tuple[str, str], ...]  # (from id, to id), in DOT order, duplicates removed
    colors: dict[str, str] = field(default_factory=dict)  # DOT node id -> DOT color string ("h s v")

    def label_edges(self) -> set[tuple[str, str]]:
        """Edges as (rule name, rule name) pairs."""
        return {(self.nodes[a], self.nodes[b]) for a, b in self.edges}


_ATTR = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;\]\s]+)')
_NODE = re.compile(r"^\s*(\"[^\"]+\"|\w+)\s*\[(.*)\]\s*;?\s*$")
_EDGE = re.compile(r"^\s*(\"[^\"]+\"|\w+)\s*->\s*(\"[^\"]+\"|\w+)\s*(\[.*\])?\s*;?\s*$")
_RESERVED = {"graph", "node", "edge"}


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1].replace('\\"', '"')
    return s


def _dot_body(dot_text: str) -> str:
    """The statements between the braces of the digraph; anything before ``digraph`` is ignored."""
    start = dot_text.find("digraph")
    if start < 0:
        raise InputError(
            "not a DOT digraph (no 'digraph' keyword)", hint="pass `snakemake --rulegraph` output"
        )
    body = dot_text[start:]
    open_ = body.find("{")
    close = body.rfind("}")
    if open_ < 0 or close < open_:
        raise InputError("malformed DOT text: no { ... } body")
    return body[open_ + 1 : close]


def parse_rulegraph(dot_text: str) -> RuleGraph:
    """Parse the DOT text ``snakemake --rulegraph`` prints (one statement per line).

    Only what that output uses is supported: node statements ``0[label = "all", color = "..."]`` and edge
    statements ``0 -> 1``. Anything before ``digraph`` (log lines captured by accident) is ignored.
    """
    nodes: dict[str, str] = {}
    colors: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for line in _dot_body(dot_text).splitlines():
        if not line.strip() or line.strip().startswith(("//", "#")):
            continue
        m = _EDGE.match(line)
        if m:
            a, b = _unquote(m.group(1)), _unquote(m.group(2))
            for n in (a, b):
                nodes.setdefault(n, n)  # an edge may name a node never declared: label it by its id
            if (a, b) not in seen:
                seen.add((a, b))
                edges.append((a, b))
            continue
        m = _NODE.match(line)
        if m and _unquote(m.group(1)) not in _RESERVED:
            node = _unquote(m.group(1))
            attrs = {k: _unquote(v) for k, v in _ATTR.findall(m.group(2))}
            nodes[node] = attrs.get("label", node)
            if "color" in attrs:
                colors[node] = attrs["color"]
    if not nodes:
        raise InputError("DOT text has no nodes", hint="is the workflow empty, or is this `--dag` output?")
    return RuleGraph(nodes=nodes, edges=tuple(edges), colors=colors)


def _node_key(node: str) -> tuple[int, int, str]:
    # Snakemake numbers nodes 0, 1, ...: order numerically when possible so that layouts are stable.
    return (0, int(node), "") if node.isdigit() else (1, 0, node)


# ---------------------------------------------------------------------------------------------------------
# Layout step 1: layering
# ---------------------------------------------------------------------------------------------------------


def longest_path_layers(graph: RuleGraph) -> dict[str, int]:
    """Layer of each node = length of the longest path reaching it from a source (sources are layer 0).

    Every edge then goes from a lower to a strictly higher layer. Raises InputError on a cycle (a rule graph
    is a DAG; a cycle means the DOT text is not what we think it is).
    """
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    succs: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        preds[b].append(a)
        succs[a].append(b)
    indeg = {n: len(p) for n, p in preds.items()}
    ready = sorted((n for n, d in indeg.items() if d == 0), key=_node_key)
    layer: dict[str, int] = {}
    order: list[str] = []
    while ready:  # Kahn's topological sort; layers follow in topological order
        n = ready.pop(0)
        order.append(n)
        layer[n] = max((layer[p] + 1 for p in preds[n]), default=0)
        for s in sorted(succs[n], key=_node_key):
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
        ready.sort(key=_node_key)
    if len(order) != len(graph.nodes):
        cyclic = sorted(graph.nodes[n] for n in graph.nodes if n not in layer)
        raise InputError("rule graph has a cycle", rows=cyclic)
    return layer


@dataclass
class _Layered:
    """The graph with dummy points on long edges: every hop in ``down``/``up`` spans exactly one layer."""

    layer_of: dict[str, int]
    down: dict[str, list[str]]  # node -> its neighbours one layer below
    up: dict[str, list[str]]  # node -> its neighbours one layer above
    paths: dict[tuple[str, str], tuple[str, ...]]  # graph edge -> the ids it passes through


def _layered(graph: RuleGraph) -> _Layered:
    """Longest-path layers, and one dummy point ``~a>b:k`` per intermediate layer k of each long edge."""
    layer_of = dict(longest_path_layers(graph))
    down: dict[str, list[str]] = {n: [] for n in graph.nodes}
    up: dict[str, list[str]] = {n: [] for n in graph.nodes}
    paths: dict[tuple[str, str], tuple[str, ...]] = {}
    for a, b in graph.edges:
        chain = [a]
        for k in range(layer_of[a] + 1, layer_of[b]):
            d = f"~{a}>{b}:{k}"
            layer_of[d] = k
            down[d], up[d] = [], []
            chain.append(d)
        chain.append(b)
        for u, v in zip(chain, chain[1:], strict=False):
            down[u].append(v)
            up[v].append(u)
        paths[(a, b)] = tuple(chain)
    return _Layered(layer_of, down, up, paths)


def _layer_tie(n: str) -> tuple[int, int, int, str]:
    # real nodes by their DOT id, dummies after them by name
    return (1, 0, 0, n) if n.startswith("~") else (0, *_node_key(n))


# ---------------------------------------------------------------------------------------------------------
# Layout step 2: ordering within layers
# ---------------------------------------------------------------------------------------------------------


def _crossings(upper: Sequence[str], lower: Sequence[str], down: Mapping[str, Sequence[str]]) -> int:
    pos = {n: i for i, n in enumerate(lower)}
    segs = [(i, pos[t]) for i, n in enumerate(upper) for t in down.get(n, ()) if t in pos]
    count = 0
    for k, (a1, b1) in enumerate(segs):
        for a2, b2 in segs[k + 1 :]:
            if (a1 - a2) * (b1 - b2) < 0:
                count += 1
    return count


def _total_crossings(layers: list[list[str]], down: Mapping[str, Sequence[str]]) -> int:
    return sum(_crossings(layers[i], layers[i + 1], down) for i in range(len(layers) - 1))


def _reorder(layers: list[list[str]], i: int, ref: int, nbrs: Mapping[str, Sequence[str]]) -> None:
    """Sort layer ``i`` by the barycentre of each node's neighbours in layer ``ref`` (in place)."""
    pos = {n: k for k, n in enumerate(layers[ref])}
    cur = {n: k for k, n in enumerate(layers[i])}

    def bary(n: str) -> float:
        ps = [pos[m] for m in nbrs[n] if m in pos]
        return sum(ps) / len(ps) if ps else float(cur[n])  # no neighbour: keep its place

    layers[i] = sorted(layers[i], key=lambda n: (bary(n), cur[n]))


def _order_layers(lg: _Layered, sweeps: int) -> tuple[list[list[str]], int]:
    """Barycentric ordering, alternating down and up sweeps; the order with fewest crossings and its count."""
    n_layers = max(lg.layer_of.values()) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for n in sorted(lg.layer_of, key=_layer_tie):
        layers[lg.layer_of[n]].append(n)
    best = [list(layer) for layer in layers]
    best_c = _total_crossings(best, lg.down)
    for s in range(sweeps):
        if s % 2 == 0:
            for i in range(1, n_layers):
                _reorder(layers, i, i - 1, lg.up)
        else:
            for i in range(n_layers - 2, -1, -1):
                _reorder(layers, i, i + 1, lg.down)
        c = _total_crossings(layers, lg.down)
        if c < best_c:
            best, best_c = [list(layer) for layer in layers], c
    return best, best_c


# ---------------------------------------------------------------------------------------------------------
# Layout step 3: x-coordinates
# ---------------------------------------------------------------------------------------------------------

_CHAR_W = 0.075  # inches per character of an 8-pt rule name (sans-serif average, with margin)
_BOX_PAD = 0.22
_BOX_H = 0.30
_H_GAP = 0.18
_DUMMY_W = 0.12
_LAYER_GAP = 0.72


def _box_widths(graph: RuleGraph, layer_of: Mapping[str, int]) -> dict[str, float]:
    return {n: _DUMMY_W if n.startswith("~") else _CHAR_W * len(graph.nodes[n]) + _BOX_PAD for n in layer_of}


def _packed(layers: list[list[str]], widths: Mapping[str, float]) -> dict[str, float]:
    """Initial x: each layer packed and centred on 0."""
    x: dict[str, float] = {}
    for layer in layers:
        total = sum(widths[n] for n in layer) + _H_GAP * (len(layer) - 1)
        left = -total / 2
        for n in layer:
            x[n] = left + widths[n] / 2
            left += widths[n] + _H_GAP
    return x


def _place(layer: list[str], desired: list[float], widths: Mapping[str, float], x: dict[str, float]) -> None:
    # Closest order-preserving, non-overlapping placement (approx.): pack from the left and from the right
    # against the desired positions, then average. Both satisfy the gaps, so their mean does too.
    k = len(layer)
    sep = [(widths[layer[j]] + widths[layer[j + 1]]) / 2 + _H_GAP for j in range(k - 1)]
    fwd = list(desired)
    for j in range(1, k):
        fwd[j] = max(desired[j], fwd[j - 1] + sep[j - 1])
    bwd = list(desired)
    for j in range(k - 2, -1, -1):
        bwd[j] = min(desired[j], bwd[j + 1] - sep[j])
    for j, n in enumerate(layer):
        x[n] = (fwd[j] + bwd[j]) / 2


def _coordinates(layers: list[list[str]], widths: Mapping[str, float], lg: _Layered) -> dict[str, float]:
    """x of each box centre: pulled towards the mean of its neighbours (alternating down/up passes) while
    keeping boxes apart, then shifted so the leftmost box starts at 0."""
    n_layers = len(layers)
    x = _packed(layers, widths)
    for it in range(8):
        order = range(1, n_layers) if it % 2 == 0 else range(n_layers - 2, -1, -1)
        nbrs = lg.up if it % 2 == 0 else lg.down
        for i in order:
            desired = []
            for n in layers[i]:
                ps = [x[m] for m in nbrs[n]]
                desired.append(sum(ps) / len(ps) if ps else x[n])
            _place(layers[i], desired, widths, x)
    xmin = min(x[n] - widths[n] / 2 for n in x)
    return {n: round(v - xmin, 6) for n, v in x.items()}  # rounding: identical floats across platforms


@dataclass(frozen=True)
class RuleGraphLayout:
    """A layered drawing: ``layers[i]`` lists node ids left to right (ids starting with "~" are dummy points
    that route an edge spanning several layers); ``x`` is each node's centre in inches; ``paths`` maps each
    graph edge to the ids it passes through."""

    layers: tuple[tuple[str, ...], ...]
    layer_of: dict[str, int]
    x: dict[str, float]
    widths: dict[str, float]
    paths: dict[tuple[str, str], tuple[str, ...]]
    crossings: int


def layout_rulegraph(graph: RuleGraph, sweeps: int = 12) -> RuleGraphLayout:
    """Sugiyama-style layout: longest-path layering, dummy nodes on long edges, barycentric ordering within
    layers (alternating down/up sweeps, keeping the order with fewest crossings), then x-coordinates pulled
    towards the mean of each node's neighbours while keeping boxes apart. Fully deterministic: every sort has
    a total tie-break."""
    lg = _layered(graph)
    layers, crossings = _order_layers(lg, sweeps)
    widths = _box_widths(graph, lg.layer_of)
    x = _coordinates(layers, widths, lg)
    return RuleGraphLayout(
        layers=tuple(tuple(layer) for layer in layers),
        layer_of=lg.layer_of,
        x=x,
        widths=widths,
        paths=lg.paths,
        crossings=crossings,
    )


# ---------------------------------------------------------------------------------------------------------
# Layout step 4: drawing
# ---------------------------------------------------------------------------------------------------------


def _dot_color(spec: str | None) -> tuple[float, float, float]:
    """Snakemake colours nodes with HSV triples ("0.61 0.6 0.85"); reuse them for the box outlines."""
    if spec:
        parts = spec.replace(",", " ").split()
        if len(parts) == 3:
            try:
                h, s, v = (min(max(float(p), 0.0), 1.0) for p in parts)
                r, g, b = hsv_to_rgb((h, s, v))
                return (float(r), float(g), float(b))
            except ValueError:
                pass
    return (0.35, 0.45, 0.6)


# (x of the node at the other end, edge key, edge): sorting a node's hops gives a total order
_Hop = tuple[float, tuple[tuple[int, int, str], tuple[int, int, str]], tuple[str, str]]


def _spread(lay: RuleGraphLayout, hops_of: dict[str, list[_Hop]]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for n, hops in hops_of.items():
        hops.sort()  # by the other end's x, then by edge: a total order
        k = len(hops)
        span = 0.0 if n.startswith("~") or k == 1 else min(lay.widths[n] * 0.6, 0.12 * (k - 1))
        for j, (_, _, e) in enumerate(hops):
            out[e] = lay.x[n] + (span * (j / (k - 1) - 0.5) if k > 1 else 0.0)
    return out


def _ports(lay: RuleGraphLayout) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """x where each edge leaves its source box and enters its target box.

    The edges leaving (entering) a box are spread along its bottom (top) edge in the left-to-right order of
    the node at the other end, so arrowheads do not pile up on one point and do not cross.
    """
    leaving: dict[str, list[_Hop]] = {}
    entering: dict[str, list[_Hop]] = {}
    for e, chain in lay.paths.items():
        key = (_node_key(e[0]), _node_key(e[1]))
        leaving.setdefault(chain[0], []).append((lay.x[chain[1]], key, e))
        entering.setdefault(chain[-1], []).append((lay.x[chain[-2]], key, e))
    return _spread(lay, leaving), _spread(lay, entering)


def _draw_edges(ax: Axes, lay: RuleGraphLayout, y_of) -> None:
    out_port, in_port = _ports(lay)
    for (a, b), chain in sorted(lay.paths.items(), key=lambda kv: (_node_key(kv[0][0]), _node_key(kv[0][1]))):
        pts = [(out_port[(a, b)], y_of(a) - _BOX_H / 2)]
        for d in chain[1:-1]:
            # A dummy runs vertically through its layer's band of boxes, so the line never cuts a box corner.
            pts += [(lay.x[d], y_of(d) + _BOX_H / 2), (lay.x[d], y_of(d) - _BOX_H / 2)]
        pts.append((in_port[(a, b)], y_of(b) + _BOX_H / 2))
        if len(pts) > 2:
            xs, ys = zip(*pts[:-1], strict=True)
            ax.plot(xs, ys, color="#8c8c8c", linewidth=1.0, solid_capstyle="round", zorder=1)
        ax.add_patch(
            FancyArrowPatch(
                pts[-2],
                pts[-1],
                arrowstyle="-|>",
                mutation_scale=9,
                color="#8c8c8c",
                linewidth=1.0,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )
        )


def _draw_boxes(ax: Axes, graph: RuleGraph, lay: RuleGraphLayout, y_of) -> None:
    for n, name in graph.nodes.items():
        w, cx, cy = lay.widths[n], lay.x[n], y_of(n)
        ax.add_patch(
            FancyBboxPatch(
                (cx - w / 2, cy - _BOX_H / 2),
                w,
                _BOX_H,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor="white",
                edgecolor=_dot_color(graph.colors.get(n)),
                linewidth=1.6,
                zorder=2,
            )
        )
        ax.text(cx, cy, name, ha="center", va="center", fontsize=8, zorder=3)


def _render_rulegraph_mpl(graph: RuleGraph, lang: Lang, title: str) -> Figure:
    lay = layout_rulegraph(graph)
    n_layers = len(lay.layers)
    top_pad = 0.55 if title else 0.2
    width = max(max(lay.x[n] + lay.widths[n] / 2 for n in lay.x) + 0.4, 3.0)
    height = (n_layers - 1) * _LAYER_GAP + _BOX_H + top_pad + 0.25
    fig = Figure(figsize=(round(width, 2), round(height, 2)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.2, round(width, 2) - 0.2)
    ax.set_ylim(0, round(height, 2))
    ax.set_axis_off()

    def y_of(n: str) -> float:
        # layer 0 (raw-data rules) at the top, `all` at the bottom: reads in the direction data flow
        return height - top_pad - _BOX_H / 2 - lay.layer_of[n] * _LAYER_GAP

    _draw_edges(ax, lay, y_of)
    _draw_boxes(ax, graph, lay, y_of)
    if title:
        ax.text(width / 2 - 0.2, height - 0.28, title, ha="center", va="center", fontsize=10)
    return fig


def figure_rulegraph(
    dot_text: str,
    out_paths: OutPaths,
    lang: Lang = "zh",
    title: str | None = None,
    engine: Literal["matplotlib", "graphviz"] = "matplotlib",
) -> dict[str, Path]:
    """Appendix figure: the workflow's rule graph, drawn from ``snakemake --rulegraph`` DOT text.

    ``engine="matplotlib"`` (default, tested, byte-deterministic) needs no graphviz. ``engine="graphviz"``
    pipes the DOT text through ``dot -T<fmt>`` (must be on PATH); that output has no title and its bytes
    depend on the graphviz version.
    """
    lang = _check_lang(lang)
    graph = parse_rulegraph(dot_text)
    if engine == "graphviz":
        exe = shutil.which("dot")
        if exe is None:
            raise InputError("graphviz `dot` not found on PATH", hint="use engine='matplotlib'")
        paths = _check_out_paths(out_paths)
        for fmt in sorted(paths):
            res = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=True)
            with atomic_path(paths[fmt]) as tmp:
                tmp.write_bytes(res.stdout)
        return paths
    if engine != "matplotlib":
        raise InputError(f"unknown rule-graph engine {engine!r}", hint="use 'matplotlib' or 'graphviz'")
    with _style(lang):
        fig = _render_rulegraph_mpl(graph, lang, _TITLE[lang] if title is None else title)
        return _save(fig, out_paths)
