"""StableHLO rules for the elementwise family (mirrors nabla_like/ops/elementwise.py)."""
from __future__ import annotations

from .mlir import register


def _simple(prim_name: str, hlo_name: str):
    @register(prim_name)
    def rule(ctx, *args, **params):
        return ctx.em.op(hlo_name, list(args), ctx.aval_out)
    return rule


for _prim, _hlo in {
    "add": "stablehlo.add", "sub": "stablehlo.subtract", "mul": "stablehlo.multiply",
    "div": "stablehlo.divide", "neg": "stablehlo.negate", "exp": "stablehlo.exponential",
    "log": "stablehlo.log", "sin": "stablehlo.sine", "cos": "stablehlo.cosine",
    "tanh": "stablehlo.tanh", "max": "stablehlo.maximum", "min": "stablehlo.minimum",
    "select": "stablehlo.select",
}.items():
    _simple(_prim, _hlo)


@register("compare")
def _compare(ctx, x, y, *, direction):
    kind = ctx.avals_in[0].dtype.kind
    ctype = {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED", "b": "UNSIGNED"}[kind]
    return ctx.em.op("stablehlo.compare", [x, y], ctx.aval_out,
                     {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                      "compare_type": f"#stablehlo<comparison_type {ctype}>"})


@register("convert")
def _convert(ctx, x, *, dtype, weak=False):
    src = ctx.avals_in[0].dtype
    if src.kind == "f" and dtype.kind == "b":  # x != 0, as NumPy
        zero = ctx.em.constant(0, ctx.avals_in[0])
        return ctx.em.op("stablehlo.compare", [x, zero], ctx.aval_out,
                         {"comparison_direction": "#stablehlo<comparison_direction NE>",
                          "compare_type": "#stablehlo<comparison_type FLOAT>"})
    if src is dtype:
        return x
    return ctx.em.op("stablehlo.convert", [x], ctx.aval_out)


@register("stop_gradient")
def _identity(ctx, x):
    return x
