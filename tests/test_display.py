"""Jupyter displays: a tensor's HTML card, a graph's SVG picture (well-formed, one box per
input and node, the outputs outlined)."""
import xml.etree.ElementTree as ET

import numpy as np

import nabla_like as nb


def test_tensor_html_shows_type_and_values():
    text = nb.tensor(np.array([[1.5, 2.0]], np.float32))._repr_html_()
    assert "f32[1,2]" in text and "1.5" in text
    assert "<pre" not in nb.zeros((2000,))._repr_html_()  # large: the summary only


def test_graph_svg_has_a_box_per_input_and_node():
    graph = nb.make_graph(nb.grad(lambda x, y: nb.sum(nb.sin(x) * y)))(nb.ones((3,)), nb.ones((3,)))
    root = ET.fromstring(graph._repr_svg_())
    ns = "{http://www.w3.org/2000/svg}"
    rects = root.findall(f"{ns}rect")
    assert len(rects) == len(graph.inputs) + len(graph.nodes)
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert texts[:2] == ["in0: f32[3]", "in1: f32[3]"]
    assert any(t.startswith("cos") for t in texts)
    assert sum(r.get("stroke") == "#d93025" for r in rects) == len(graph.outputs)
    assert len(root.findall(f"{ns}line")) >= len(graph.nodes) - 1
