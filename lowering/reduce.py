"""StableHLO rules for the reduction family (mirrors nabla_like/ops/reduce.py and
nabla_like/ops/cumulative.py).

Sums and products of float16/bfloat16 accumulate in float32 and round once at the
end, as XLA's own normalization does, so long reductions keep their precision.
"""
from __future__ import annotations

from .mlir import i64_array, register, scalar_literal, stype

_WIDE_ACCUMULATION = ("stablehlo.add", "stablehlo.multiply")
_COMPARE_TYPES = {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED", "b": "UNSIGNED"}


def _accumulation_mlir(dtype, hlo_op: str) -> str:
    if dtype.kind == "f" and dtype.bits < 32 and hlo_op in _WIDE_ACCUMULATION:
        return "f32"
    return dtype.mlir


def _scalar_constant(em, value, dtype, mlir: str) -> str:
    scalar_t = stype((), mlir)
    literal = value if isinstance(value, str) else scalar_literal(value, dtype)
    if mlir != dtype.mlir:  # a widened accumulator: spell the value in float32
        literal = repr(float(value))
    return em.op("stablehlo.constant", [], scalar_t, {"value": f"dense<{literal}> : {scalar_t}"})


def _binary_region(em, hlo_op: str, scalar_t: str) -> str:
    return em.region([scalar_t, scalar_t], lambda sub, a, b: sub.op(hlo_op, [a, b], scalar_t))


def reduce(ctx, x, axes, hlo_op: str, init):
    """`stablehlo.reduce` of one operand over `axes` with a binary body op; `init` is the
    identity (a Python scalar, or an MLIR literal string)."""
    em = ctx.em
    aval_in, aval_out = ctx.avals_in[0], ctx.aval_out
    acc = _accumulation_mlir(aval_in.dtype, hlo_op)
    init_v = _scalar_constant(em, init, aval_in.dtype, acc)
    if acc != aval_in.dtype.mlir:
        x = em.op("stablehlo.convert", [x], stype(aval_in.shape, acc))
    region = _binary_region(em, hlo_op, stype((), acc))
    out = em.op("stablehlo.reduce", [x, init_v], stype(aval_out.shape, acc),
                {"dimensions": i64_array(axes)}, regions=[region])
    if acc != aval_out.dtype.mlir:
        out = em.op("stablehlo.convert", [out], aval_out)
    return out


@register("reduce_sum")
def _reduce_sum(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.add", 0)


@register("reduce_prod")
def _reduce_prod(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.multiply", 1)


def _lowest(dtype):
    """The identity of maximum for `dtype` (its lowest value; -inf for floats)."""
    if dtype.kind == "f":
        return float("-inf")
    if dtype.kind == "b":
        return False
    return 0 if dtype.kind == "u" else -(1 << (dtype.bits - 1))


def _highest(dtype):
    if dtype.kind == "f":
        return float("inf")
    if dtype.kind == "b":
        return True
    return (1 << dtype.bits) - 1 if dtype.kind == "u" else (1 << (dtype.bits - 1)) - 1


@register("reduce_max")
def _reduce_max(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.maximum", _lowest(ctx.avals_in[0].dtype))


@register("reduce_min")
def _reduce_min(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.minimum", _highest(ctx.avals_in[0].dtype))


@register("reduce_and")
def _reduce_and(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.and", True)


@register("reduce_or")
def _reduce_or(ctx, x, *, axes):
    return reduce(ctx, x, axes, "stablehlo.or", False)


# ---------------------------------------------------------------------------
# argmax, argmin: a two-operand reduce over (value, index)
# ---------------------------------------------------------------------------
def _compare(em, a: str, b: str, direction: str, compare_type: str) -> str:
    return em.op("stablehlo.compare", [a, b], stype((), "i1"),
                 {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                  "compare_type": f"#stablehlo<comparison_type {compare_type}>"})


def _arg_reduce(ctx, x, axis: int, direction: str, init):
    """Index of the extremum along `axis`. The body keeps (v1, i1) over (v2, i2) when v1
    is strictly better, or v1 is NaN and v2 is not, or they tie (NaNs tie) and i1 < i2:
    a total order, so the result does not depend on XLA's order of combination."""
    em = ctx.em
    aval_in, aval_out = ctx.avals_in[0], ctx.aval_out
    dtype = aval_in.dtype
    ctype = _COMPARE_TYPES[dtype.kind]
    val_t, idx_t = stype((), dtype.mlir), stype((), aval_out.dtype.mlir)
    iota = em.op("stablehlo.iota", [], stype(aval_in.shape, aval_out.dtype.mlir),
                 {"iota_dimension": f"{axis} : i64"})
    init_v = _scalar_constant(em, init, dtype, dtype.mlir)
    init_i = _scalar_constant(em, 0, aval_out.dtype, aval_out.dtype.mlir)

    def body(sub, v1, i1, v2, i2):
        better = _compare(sub, v1, v2, direction, ctype)
        tie = _compare(sub, v1, v2, "EQ", ctype)
        if dtype.kind == "f":
            nan1 = _compare(sub, v1, v1, "NE", ctype)
            nan2 = _compare(sub, v2, v2, "NE", ctype)
            not_nan2 = _compare(sub, v2, v2, "EQ", ctype)
            i1_t = stype((), "i1")
            better = sub.op("stablehlo.or", [better, sub.op("stablehlo.and", [nan1, not_nan2],
                                                                 i1_t)], i1_t)
            tie = sub.op("stablehlo.or", [tie, sub.op("stablehlo.and", [nan1, nan2], i1_t)], i1_t)
        first = _compare(sub, i1, i2, "LT", "SIGNED")
        keep = sub.op("stablehlo.or", [better, sub.op("stablehlo.and", [tie, first],
                                                          stype((), "i1"))], stype((), "i1"))
        return [sub.op("stablehlo.select", [keep, v1, v2], val_t),
                sub.op("stablehlo.select", [keep, i1, i2], idx_t)]

    region = em.region([val_t, idx_t, val_t, idx_t], body)
    outs = em.op("stablehlo.reduce", [x, iota, init_v, init_i],
                 [stype(aval_out.shape, dtype.mlir), aval_out],
                 {"dimensions": i64_array([axis])}, regions=[region])
    return outs[1]


@register("argmax")
def _argmax(ctx, x, *, axis, index_dtype):
    return _arg_reduce(ctx, x, axis, "GT", _lowest(ctx.avals_in[0].dtype))


@register("argmin")
def _argmin(ctx, x, *, axis, index_dtype):
    return _arg_reduce(ctx, x, axis, "LT", _highest(ctx.avals_in[0].dtype))


# ---------------------------------------------------------------------------
# cumsum, cumprod: reduce_window with a window spanning the axis
# ---------------------------------------------------------------------------
def _cumulative(ctx, x, axis: int, reverse: bool, hlo_op: str, init):
    em = ctx.em
    aval = ctx.avals_in[0]
    n = aval.shape[axis]
    if n <= 1:
        return x
    acc = _accumulation_mlir(aval.dtype, hlo_op)
    init_v = _scalar_constant(em, init, aval.dtype, acc)
    if acc != aval.dtype.mlir:
        x = em.op("stablehlo.convert", [x], stype(aval.shape, acc))
    ones = [1] * len(aval.shape)
    window = list(ones)
    window[axis] = n
    padding = [[0, 0] for _ in aval.shape]
    padding[axis] = [0, n - 1] if reverse else [n - 1, 0]
    pad_text = ", ".join(f"[{lo}, {hi}]" for lo, hi in padding)
    region = _binary_region(em, hlo_op, stype((), acc))
    out = em.op("stablehlo.reduce_window", [x, init_v], stype(aval.shape, acc),
                {"window_dimensions": i64_array(window), "window_strides": i64_array(ones),
                 "padding": f"dense<[{pad_text}]> : {stype((len(aval.shape), 2), 'i64')}"},
                regions=[region])
    if acc != aval.dtype.mlir:
        out = em.op("stablehlo.convert", [out], ctx.aval_out)
    return out


@register("cumsum")
def _cumsum(ctx, x, *, axis, reverse):
    return _cumulative(ctx, x, axis, reverse, "stablehlo.add", 0)


@register("cumprod")
def _cumprod(ctx, x, *, axis, reverse):
    return _cumulative(ctx, x, axis, reverse, "stablehlo.multiply", 1)
