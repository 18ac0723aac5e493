"""StableHLO rules for the linalg family (mirrors nabla_like/ops/linalg.py)."""
from __future__ import annotations

from .mlir import register


def _dims(xs) -> str:
    return "[" + ", ".join(str(int(x)) for x in xs) + "]"


@register("dot_general")
def _dot_general(ctx, lhs, rhs, *, contracting, batch):
    fields = [("lhs_batching_dimensions", batch[0]), ("rhs_batching_dimensions", batch[1]),
              ("lhs_contracting_dimensions", contracting[0]),
              ("rhs_contracting_dimensions", contracting[1])]
    text = ", ".join(f"{name} = {_dims(dims)}" for name, dims in fields if dims)
    return ctx.em.op("stablehlo.dot_general", [lhs, rhs], ctx.aval_out,
                     {"dot_dimension_numbers": f"#stablehlo.dot<{text}>"})
