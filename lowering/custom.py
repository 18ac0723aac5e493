"""StableHLO rules of the custom-rule and rematerialization primitives (mirrors
nabla_like/ops/custom.py and nabla_like/ops/remat.py): their sub-graphs lower inline;
`optimization_barrier` is StableHLO's own."""
from __future__ import annotations

from .mlir import emit_graph, register


@register("remat", "custom_vjp_call", "custom_jvp_call")
def _inline(ctx, *args, graph, **params):
    return emit_graph(ctx.em, graph.graph, args)


@register("optimization_barrier")
def _optimization_barrier(ctx, *args):
    return ctx.em.op("stablehlo.optimization_barrier", list(args), list(ctx.avals_out))


@register("checkpoint_name")
def _checkpoint_name(ctx, x, *, name):
    return x
