"""StableHLO rules for creation primitives (mirrors nabla_like/creation.py)."""
from __future__ import annotations

from .mlir import register


@register("full")
def _full(ctx, *, value, shape, dtype, weak=False):
    return ctx.em.constant(value, ctx.aval_out)


@register("iota")
def _iota(ctx, *, shape, dimension, dtype):
    return ctx.em.op("stablehlo.iota", [], ctx.aval_out, {"iota_dimension": f"{dimension} : i64"})
