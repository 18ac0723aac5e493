"""StableHLO rule of the `call` primitive: its closed sub-graph is emitted inline."""
from __future__ import annotations

from .mlir import emit_nodes, register


@register("call")
def _call(ctx, *args, graph):
    g = graph.graph
    env = {v.id: a for v, a in zip(g.inputs, args)}
    emit_nodes(ctx.em, g.nodes, env)
    return [env[v.id] for v in g.outputs]
