"""StableHLO rules for the conv family (mirrors nabla_like/ops/conv.py): convolution,
reduce_window (sum, max) and select_and_scatter.

Window sums of float16/bfloat16 accumulate in float32 and round once, as the reduction
family's sums do.
"""
from __future__ import annotations

import itertools
import math

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
    shape = ctx.avals_in[0].shape
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
    if _as_patch_product(em.platform, ctx.avals_in[0].dtype, shape, ctx.avals_in[1].shape,
                         ctx.aval_out.shape, feature_group_count, batch_group_count):
        return _patch_convolution(ctx, lhs, rhs, shape, window_strides, padding, rhs_dilation)
    spatial = ", ".join(str(d) for d in range(ns))
    sep = ", " if spatial else ""
    numbers = f"#stablehlo.conv<[b, f{sep}{spatial}]x[o, i{sep}{spatial}]->[b, f{sep}{spatial}]>"
    return em.op("stablehlo.convolution", [lhs, rhs], ctx.aval_out,
                     {"window_strides": i64_array(window_strides), "padding": _pairs(padding),
                      "lhs_dilation": i64_array(lhs_dilation), "rhs_dilation": i64_array(rhs_dilation),
                      "dimension_numbers": numbers,
                      "feature_group_count": f"{int(feature_group_count)} : i64",
                      "batch_group_count": f"{int(batch_group_count)} : i64"})


# Convolutions of inputs with few channels (the first layer of a CNN: images of 1-4
# channels) on the CPU, as one matrix product ("im2col"): one strided slice of the input per
# kernel entry, concatenated into a [N * outputs, kernel * C] matrix, times the
# [kernel * C, O] kernel. XLA's CPU convolution vectorizes over channels and is 3x slower
# there (batch 64 of 1x28x28, 16 3x3 filters: 3.4 ms vs 1.0 ms). With more channels the two
# are even in isolation, but the slices make XLA recompute a fused producer of the input
# once per kernel entry (a whole CNN step measured 2x slower), so those stay convolutions.
PATCH_MAX_CHANNELS = 4
PATCH_MAX_ELEMENTS = 1 << 24  # of the patch matrix
PATCH_MAX_KERNEL = 64         # kernel entries (slices)


def _as_patch_product(platform: str, dtype, lhs_shape, rhs_shape, out_shape, feature_group_count,
                      batch_group_count) -> bool:
    n, c = lhs_shape[:2]
    kernel, outputs = math.prod(rhs_shape[2:]), math.prod(out_shape[2:])
    return (platform == "cpu" and dtype.name in ("float32", "float64") and feature_group_count == 1
            and batch_group_count == 1 and c <= PATCH_MAX_CHANNELS and kernel <= PATCH_MAX_KERNEL
            and 0 < n * outputs * kernel * c <= PATCH_MAX_ELEMENTS and 0 not in out_shape)


def _patch_convolution(ctx, lhs, rhs, lhs_shape, window_strides, padding, rhs_dilation):
    em = ctx.em
    dtype = ctx.avals_in[0].dtype
    dt = dtype.mlir
    ns = len(window_strides)
    n, c = lhs_shape[:2]
    o, kernel, outs = ctx.avals_in[1].shape[0], ctx.avals_in[1].shape[2:], ctx.aval_out.shape[2:]
    # [N, C, *S] -> [N, *S, C], padded (negative padding crops)
    x = em.op("stablehlo.transpose", [lhs], stype((n,) + tuple(lhs_shape[2:]) + (c,), dt),
              {"permutation": i64_array((0,) + tuple(range(2, ns + 2)) + (1,))})
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(lhs_shape[2:], padding))
    x = em.op("stablehlo.pad", [x, _scalar_constant(em, 0, dtype, dt)], stype((n,) + padded + (c,), dt),
              {"edge_padding_low": i64_array((0,) + tuple(lo for lo, _ in padding) + (0,)),
               "edge_padding_high": i64_array((0,) + tuple(hi for _, hi in padding) + (0,)),
               "interior_padding": i64_array((0,) * (ns + 2))})
    pieces = []  # per kernel entry: the input under it at every output position, [N, *Q, C]
    for k in itertools.product(*(range(w) for w in kernel)):
        start = tuple(i * d for i, d in zip(k, rhs_dilation))
        limit = tuple(b + (q - 1) * s + 1 for b, q, s in zip(start, outs, window_strides))
        pieces.append(em.op("stablehlo.slice", [x], stype((n,) + tuple(outs) + (c,), dt),
                            {"start_indices": i64_array((0,) + start + (0,)),
                             "limit_indices": i64_array((n,) + limit + (c,)),
                             "strides": i64_array((1,) + tuple(window_strides) + (1,))}))
    rows, depth = n * math.prod(outs), len(pieces) * c
    cols = pieces[0] if len(pieces) == 1 else em.op(
        "stablehlo.concatenate", pieces, stype((n,) + tuple(outs) + (depth,), dt),
        {"dimension": f"{ns + 1} : i64"})
    cols = em.op("stablehlo.reshape", [cols], stype((rows, depth), dt))
    # [O, C, *K] -> [*K, C, O] -> [K * C, O]: rows in the order of the patch columns
    w = em.op("stablehlo.transpose", [rhs], stype(tuple(kernel) + (c, o), dt),
              {"permutation": i64_array(tuple(range(2, ns + 2)) + (1, 0))})
    w = em.op("stablehlo.reshape", [w], stype((depth, o), dt))
    y = em.op("stablehlo.dot_general", [cols, w], stype((rows, o), dt),
              {"dot_dimension_numbers": "#stablehlo.dot<lhs_contracting_dimensions = [1], "
                                        "rhs_contracting_dimensions = [0]>"})
    y = em.op("stablehlo.reshape", [y], stype((n,) + tuple(outs) + (o,), dt))
    return em.op("stablehlo.transpose", [y], ctx.aval_out,
                 {"permutation": i64_array((0, ns + 1) + tuple(range(1, ns + 1)))})


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
