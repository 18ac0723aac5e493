"""StableHLO rules for the conv family (mirrors nabla_like/ops/conv.py): convolution,
reduce_window (sum, max) and select_and_scatter.

Window sums of float16/bfloat16 accumulate in float32 and round once, as the reduction
family's sums do.
"""
from __future__ import annotations

from .mlir import i64_array, register, stype
from .reduce import _accumulation_mlir, _binary_region, _compare, _lowest, _scalar_constant


def _pairs(pairs) -> str:
    """A dense [n, 2] i64 attribute of (lo, hi) pairs."""
    text = ", ".join(f"[{int(lo)}, {int(hi)}]" for lo, hi in pairs)
    return f"dense<[{text}]> : {stype((len(pairs), 2), 'i64')}" if pairs else \
        f"dense<> : {stype((0, 2), 'i64')}"


@register("conv_general_dilated")
def _conv_general_dilated(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                          feature_group_count, batch_group_count):
    em = ctx.em
    ns = len(window_strides)
    if any(d > 1 for d in lhs_dilation):
        # Dilate and pad the input explicitly: XLA's CPU simplifier (jaxlib 0.10) builds an
        # invalid convolution when it swaps the operands of some input-dilated ones (the
        # transposed convolutions of gradients), and aborts the process.
        aval = ctx.avals_in[0]
        shape = aval.shape[:2] + tuple(max(n - 1, 0) * d + 1 + lo + hi if n else lo + hi
                                       for n, d, (lo, hi) in zip(aval.shape[2:], lhs_dilation, padding))
        zero = _scalar_constant(em, 0, aval.dtype, aval.dtype.mlir)
        lhs = em.op("stablehlo.pad", [lhs, zero], stype(shape, aval.dtype.mlir),
                    {"edge_padding_low": i64_array((0, 0) + tuple(lo for lo, _ in padding)),
                     "edge_padding_high": i64_array((0, 0) + tuple(hi for _, hi in padding)),
                     "interior_padding": i64_array((0, 0) + tuple(d - 1 for d in lhs_dilation))})
        padding, lhs_dilation = ((0, 0),) * ns, (1,) * ns
    spatial = ", ".join(str(d) for d in range(ns))
    sep = ", " if spatial else ""
    numbers = f"#stablehlo.conv<[b, f{sep}{spatial}]x[o, i{sep}{spatial}]->[b, f{sep}{spatial}]>"
    return em.op("stablehlo.convolution", [lhs, rhs], ctx.aval_out,
                     {"window_strides": i64_array(window_strides), "padding": _pairs(padding),
                      "lhs_dilation": i64_array(lhs_dilation), "rhs_dilation": i64_array(rhs_dilation),
                      "dimension_numbers": numbers,
                      "feature_group_count": f"{int(feature_group_count)} : i64",
                      "batch_group_count": f"{int(batch_group_count)} : i64"})


def _reduce_window(ctx, x, hlo_op: str, init, *, window_dimensions, window_strides, padding,
                   base_dilation, window_dilation):
    em = ctx.em
    aval = ctx.avals_in[0]
    acc = _accumulation_mlir(aval.dtype, hlo_op)
    init_v = _scalar_constant(em, init, aval.dtype, acc)
    if acc != aval.dtype.mlir:
        x = em.op("stablehlo.convert", [x], stype(aval.shape, acc))
    region = _binary_region(em, hlo_op, stype((), acc))
    out = em.op("stablehlo.reduce_window", [x, init_v], stype(ctx.aval_out.shape, acc),
                {"window_dimensions": i64_array(window_dimensions),
                 "window_strides": i64_array(window_strides),
                 "base_dilations": i64_array(base_dilation),
                 "window_dilations": i64_array(window_dilation), "padding": _pairs(padding)},
                regions=[region])
    if acc != aval.dtype.mlir:
        out = em.op("stablehlo.convert", [out], ctx.aval_out)
    return out


@register("reduce_window_sum")
def _reduce_window_sum(ctx, x, **params):
    return _reduce_window(ctx, x, "stablehlo.add", 0, **params)


@register("reduce_window_max")
def _reduce_window_max(ctx, x, **params):
    return _reduce_window(ctx, x, "stablehlo.maximum", _lowest(ctx.avals_in[0].dtype), **params)


@register("select_and_scatter_add")
def _select_and_scatter_add(ctx, source, operand, *, window_dimensions, window_strides, padding):
    # `ge` keeps the element already selected on ties: each window's first maximum.
    em = ctx.em
    dtype = ctx.avals_in[1].dtype
    scalar_t = stype((), dtype.mlir)
    init_v = _scalar_constant(em, 0, dtype, dtype.mlir)
    select = em.region([scalar_t, scalar_t], lambda sub, a, b: _compare(sub, a, b, "GE", "FLOAT"))
    scatter = _binary_region(em, "stablehlo.add", scalar_t)
    return em.op("stablehlo.select_and_scatter", [operand, source, init_v], ctx.aval_out,
                 {"window_dimensions": i64_array(window_dimensions),
                  "window_strides": i64_array(window_strides), "padding": _pairs(padding)},
                 regions=[select, scatter])
