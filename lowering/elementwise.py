"""StableHLO rules for the elementwise family (mirrors nabla_like/ops/elementwise.py and
nabla_like/ops/activations.py)."""
from __future__ import annotations

from .mlir import register, stype


def _simple(prim_name: str, hlo_name: str):
    @register(prim_name)
    def rule(ctx, *args, **params):
        return ctx.em.op(hlo_name, list(args), ctx.aval_out)
    return rule


for _prim, _hlo in {
    "add": "stablehlo.add", "sub": "stablehlo.subtract", "mul": "stablehlo.multiply",
    "neg": "stablehlo.negate", "pow": "stablehlo.power", "abs": "stablehlo.abs",
    "floor": "stablehlo.floor", "ceil": "stablehlo.ceil", "round": "stablehlo.round_nearest_even",
    "exp": "stablehlo.exponential", "log": "stablehlo.log",
    "log1p": "stablehlo.log_plus_one", "expm1": "stablehlo.exponential_minus_one",
    "sqrt": "stablehlo.sqrt", "rsqrt": "stablehlo.rsqrt", "sin": "stablehlo.sine",
    "cos": "stablehlo.cosine", "tan": "stablehlo.tan", "tanh": "stablehlo.tanh",
    "atan2": "stablehlo.atan2", "logistic": "stablehlo.logistic",
    "asin": "chlo.asin", "acos": "chlo.acos", "atan": "chlo.atan", "sinh": "chlo.sinh",
    "cosh": "chlo.cosh", "asinh": "chlo.asinh", "acosh": "chlo.acosh", "atanh": "chlo.atanh",
    "erf": "chlo.erf", "erf_inv": "chlo.erf_inv",
    "max": "stablehlo.maximum", "min": "stablehlo.minimum", "select": "stablehlo.select",
    "is_finite": "stablehlo.is_finite", "and": "stablehlo.and", "or": "stablehlo.or",
    "xor": "stablehlo.xor", "not": "stablehlo.not", "shift_left": "stablehlo.shift_left",
}.items():
    _simple(_prim, _hlo)


def _compare_op(em, x, y, aval_out, direction: str, kind: str):
    ctype = {"f": "FLOAT", "i": "SIGNED", "u": "UNSIGNED", "b": "UNSIGNED"}[kind]
    return em.op("stablehlo.compare", [x, y], aval_out,
                 {"comparison_direction": f"#stablehlo<comparison_direction {direction}>",
                  "compare_type": f"#stablehlo<comparison_type {ctype}>"})


def _integer_division(hlo_name: str):
    """Integer divide / remainder with NumPy's answers where C's are undefined: a zero
    divisor gives 0 (StableHLO leaves it implementation-defined; XLA gives -1 and x), and
    INT_MIN by -1 gives INT_MIN and 0 (the wrapped quotient). The divisor is replaced by 1
    at those elements, then the zero-divisor elements by 0."""
    def rule(ctx, x, y):
        em, aval = ctx.em, ctx.aval_out
        kind = aval.dtype.kind
        if kind not in "iu":
            return em.op(hlo_name, [x, y], aval)
        pred = stype(aval.shape, "i1")
        zero, one = em.constant(0, aval), em.constant(1, aval)
        by_zero = _compare_op(em, y, zero, pred, "EQ", kind)
        unsafe = by_zero
        if kind == "i":
            lowest = -(1 << (aval.dtype.bits - 1))
            overflow = em.op("stablehlo.and", [
                _compare_op(em, x, em.constant(lowest, aval), pred, "EQ", kind),
                _compare_op(em, y, em.constant(-1, aval), pred, "EQ", kind)], pred)
            unsafe = em.op("stablehlo.or", [by_zero, overflow], pred)
        safe_y = em.op("stablehlo.select", [unsafe, one, y], aval)
        out = em.op(hlo_name, [x, safe_y], aval)
        return em.op("stablehlo.select", [by_zero, zero, out], aval)
    return rule


register("div")(_integer_division("stablehlo.divide"))
register("rem")(_integer_division("stablehlo.remainder"))


@register("relu")
def _relu(ctx, x):
    return ctx.em.op("stablehlo.maximum", [x, ctx.em.constant(0, ctx.aval_out)], ctx.aval_out)


@register("compare")
def _compare(ctx, x, y, *, direction):
    return _compare_op(ctx.em, x, y, ctx.aval_out, direction, ctx.avals_in[0].dtype.kind)


@register("sign")
def _sign(ctx, x):
    aval = ctx.avals_in[0]
    if aval.dtype.kind != "u":
        return ctx.em.op("stablehlo.sign", [x], ctx.aval_out)
    # stablehlo.sign takes no unsigned operands: sign is (x != 0) there.
    nonzero = _compare_op(ctx.em, x, ctx.em.constant(0, aval), stype(aval.shape, "i1"), "NE", "u")
    return ctx.em.op("stablehlo.convert", [nonzero], ctx.aval_out)


@register("shift_right")
def _shift_right(ctx, x, y):
    logical = ctx.avals_in[0].dtype.kind == "u"
    name = "stablehlo.shift_right_logical" if logical else "stablehlo.shift_right_arithmetic"
    return ctx.em.op(name, [x, y], ctx.aval_out)


@register("exp2")
def _exp2(ctx, x):
    return ctx.em.op("stablehlo.power", [ctx.em.constant(2, ctx.aval_out), x], ctx.aval_out)


@register("integer_pow")
def _integer_pow(ctx, x, *, y):
    """x ** y by repeated squaring (as XLA has no integer power op); 1 / x ** -y if y < 0."""
    em, aval = ctx.em, ctx.aval_out
    n = y if y >= 0 else -y
    acc = None
    base = x
    while n:
        if n & 1:
            acc = base if acc is None else em.op("stablehlo.multiply", [acc, base], aval)
        n >>= 1
        if n:
            base = em.op("stablehlo.multiply", [base, base], aval)
    if acc is None:
        return em.constant(1, aval)
    if y < 0:
        acc = em.op("stablehlo.divide", [em.constant(1, aval), acc], aval)
    return acc


@register("convert")
def _convert(ctx, x, *, dtype, weak=False):
    src = ctx.avals_in[0].dtype
    if src.kind != "b" and dtype.kind == "b":  # x != 0, as NumPy
        zero = ctx.em.constant(0, ctx.avals_in[0])
        return _compare_op(ctx.em, x, zero, ctx.aval_out, "NE", src.kind)
    if src is dtype:
        return x
    return ctx.em.op("stablehlo.convert", [x], ctx.aval_out)


@register("stop_gradient", "copy")
def _identity(ctx, x):
    return x
