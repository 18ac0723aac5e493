"""StableHLO rules for the shape family (mirrors nabla_like/ops/shape.py)."""
from __future__ import annotations

from .mlir import i64_array, register


@register("reshape")
def _reshape(ctx, x, *, new_sizes):
    return ctx.em.op("stablehlo.reshape", [x], ctx.aval_out)


@register("broadcast_in_dim")
def _broadcast_in_dim(ctx, x, *, shape, broadcast_dimensions):
    return ctx.em.op("stablehlo.broadcast_in_dim", [x], ctx.aval_out,
                     {"broadcast_dimensions": i64_array(broadcast_dimensions)})


@register("transpose")
def _transpose(ctx, x, *, permutation):
    return ctx.em.op("stablehlo.transpose", [x], ctx.aval_out,
                     {"permutation": i64_array(permutation)})


@register("slice")
def _slice(ctx, x, *, start_indices, limit_indices, strides):
    return ctx.em.op("stablehlo.slice", [x], ctx.aval_out,
                     {"start_indices": i64_array(start_indices),
                      "limit_indices": i64_array(limit_indices), "strides": i64_array(strides)})


@register("pad")
def _pad(ctx, x, value, *, low, high, interior):
    return ctx.em.op("stablehlo.pad", [x, value], ctx.aval_out,
                     {"edge_padding_low": i64_array(low), "edge_padding_high": i64_array(high),
                      "interior_padding": i64_array(interior)})


@register("concatenate")
def _concatenate(ctx, *xs, dimension):
    return ctx.em.op("stablehlo.concatenate", list(xs), ctx.aval_out,
                     {"dimension": f"{dimension} : i64"})


@register("rev")
def _rev(ctx, x, *, dimensions):
    return ctx.em.op("stablehlo.reverse", [x], ctx.aval_out,
                     {"dimensions": i64_array(dimensions)})


@register("dynamic_slice")
def _dynamic_slice(ctx, x, *starts, slice_sizes):
    return ctx.em.op("stablehlo.dynamic_slice", [x, *starts], ctx.aval_out,
                     {"slice_sizes": i64_array(slice_sizes)})


@register("dynamic_update_slice")
def _dynamic_update_slice(ctx, x, update, *starts):
    return ctx.em.op("stablehlo.dynamic_update_slice", [x, update, *starts], ctx.aval_out)
