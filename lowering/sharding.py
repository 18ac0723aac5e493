"""StableHLO rule of the sharding family (mirrors nabla_like/sharding.py): a layout
constraint is the `Sharding` custom call XLA's SPMD partitioner reads."""
from __future__ import annotations

from .mlir import register


@register("sharding_constraint")
def _sharding_constraint(ctx, x, *, sharding):
    hlo = sharding.hlo_for(len(ctx.avals_in[0].shape))
    return ctx.em.op("stablehlo.custom_call", [x], ctx.aval_out, {
        "call_target_name": '"Sharding"', "mhlo.sharding": f'"{hlo}"'})
