"""StableHLO rules for the reduction family (mirrors nabla_like/ops/reduce.py)."""
from __future__ import annotations

from .mlir import i64_array, register, stype


def reduce(ctx, x, axes, hlo_op: str, init):
    """`stablehlo.reduce` of one operand over `axes` with a binary body op."""
    em = ctx.em
    dtype = ctx.avals_in[0].dtype
    scalar_t = stype((), dtype.mlir)
    init_v = em.op("stablehlo.constant", [], scalar_t,
                   {"value": f"dense<{init}> : {scalar_t}"})

    def body(sub, a, b):
        return sub.op(hlo_op, [a, b], scalar_t)

    region = em.region([scalar_t, scalar_t], body)
    return em.op("stablehlo.reduce", [x, init_v], ctx.aval_out,
                 {"dimensions": i64_array(axes)}, regions=[region])


@register("reduce_sum")
def _reduce_sum(ctx, x, *, axes):
    dtype = ctx.avals_in[0].dtype
    zero = "false" if dtype.kind == "b" else ("0.0" if dtype.kind == "f" else "0")
    return reduce(ctx, x, axes, "stablehlo.add", zero)
