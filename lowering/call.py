"""StableHLO rule of the `call` primitive: its closed sub-graph is emitted inline."""
from __future__ import annotations

from .mlir import emit_graph, register


@register("call")
def _call(ctx, *args, graph):
    return emit_graph(ctx.em, graph.graph, args)
