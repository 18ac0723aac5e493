"""Rich displays for Jupyter: a tensor as a small HTML card, a graph as an SVG picture.

IPython calls `Tensor._repr_html_` and `Graph._repr_svg_`; the text reprs stay what
`print` shows. The picture lays the graph out in layers (a value's layer is one more than
the deepest of its inputs), inputs on top, outputs outlined, one box per node.
"""
from __future__ import annotations

import html

MAX_HTML_ELEMENTS = 1000  # larger tensors show their summary, as their text repr does


def tensor_html(t) -> str:
    text = html.escape(repr(t))
    where = html.escape(str(t._value.device)) if getattr(t._value, "device", None) is not None else ""
    head = f"<b>Tensor</b> <code>{html.escape(t._value.aval.short())}</code>"
    if where:
        head += f" on <code>{where}</code>"
    if t._value.aval.size > MAX_HTML_ELEMENTS:
        return f"<div>{head}</div>"
    return f"<div>{head}<pre style='margin:2px 0'>{text}</pre></div>"


_BOX_H, _ROW, _CHAR, _GAP = 26, 56, 7.2, 16


def graph_svg(graph) -> str:
    """An SVG drawing of `graph`: a box per input and per node, an arrow per use."""
    layer, label, kind = {}, {}, {}
    for i, v in enumerate(graph.inputs):
        layer[id(v)] = 0
        label[id(v)] = f"in{i}: {v.aval.short()}"
        kind[id(v)] = "input"
    boxes = [id(v) for v in graph.inputs]
    edges = []

    def source(u):  # the box that made value u: its node's, or its input's
        src = id(u.node) if u.node is not None else id(u)
        return src if src in layer else None
    for node in graph.nodes:
        srcs = [s for s in map(source, node.inputs) if s is not None]
        key = id(node)
        layer[key] = 1 + max((layer[s] for s in srcs), default=0)
        label[key] = f"{node.prim.name} → " + ", ".join(a.short() for a in node.out_avals)
        kind[key] = "node"
        boxes.append(key)
        edges.extend((s, key) for s in dict.fromkeys(srcs))
    out_nodes = {source(v) for v in graph.outputs}
    rows: dict[int, list] = {}
    for b in boxes:
        rows.setdefault(layer[b], []).append(b)
    pos, width = {}, 0.0
    for r, members in sorted(rows.items()):
        x = _GAP
        for b in members:
            w = len(label[b]) * _CHAR + 16
            pos[b] = (x, _GAP + r * _ROW, w)
            x += w + _GAP
        width = max(width, x)
    height = _GAP + (max(rows) + 1) * _ROW
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
             "font-family='monospace' font-size='12'>",
             "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' "
             "markerHeight='6' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#666'/></marker></defs>"]
    for src, dst in edges:
        (x0, y0, w0), (x1, y1, w1) = pos[src], pos[dst]
        parts.append(f"<line x1='{x0 + w0 / 2:.0f}' y1='{y0 + _BOX_H:.0f}' x2='{x1 + w1 / 2:.0f}' "
                     f"y2='{y1:.0f}' stroke='#666' marker-end='url(#arrow)'/>")
    for b in boxes:
        x, y, w = pos[b]
        fill = "#e8f0fe" if kind[b] == "input" else "#f5f5f5"
        stroke = "#d93025' stroke-width='2" if b in out_nodes else "#888"
        parts.append(f"<rect x='{x:.0f}' y='{y:.0f}' width='{w:.0f}' height='{_BOX_H}' rx='5' "
                     f"fill='{fill}' stroke='{stroke}'/>")
        parts.append(f"<text x='{x + 8:.0f}' y='{y + 17:.0f}'>{html.escape(label[b])}</text>")
    parts.append("</svg>")
    return "".join(parts)
