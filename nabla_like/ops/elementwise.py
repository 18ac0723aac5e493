"""Elementwise ops: arithmetic, powers, transcendental functions, rounding, comparisons,
select, casts.

Every primitive here takes operands of one shape and dtype (the user-facing
wrapper promotes and broadcasts first, NumPy-style), so they share one
abstract-eval and one batching rule (`elementwise_primitive`). Each block is
the wrapper, the primitive, then its JVP and VJP (or transpose). Unary
functions share one derivative rule `g * f'(x)`, used for JVP and VJP alike.

Conventions where NumPy says nothing: float-only functions applied to integer
or bool tensors compute in float32, and derivatives at kinks follow JAX
(|x|' = 1 at 0, max/min split the gradient evenly at ties, relu'(0) = 0).
The family continues in `activations.py` (sigmoid, relu, gelu, ...) and `bitwise.py`
(bitwise and logical ops, isnan/isinf/isfinite); both are re-exported at the end.
"""
from __future__ import annotations

import math

import numpy as np

from ..args import as_bool, as_int
from ..core import Primitive, bind, full_in
from ..dtypes import DType, as_dtype, bool_, default_float
from ..errors import ArgumentError, DTypeError, raise_error
from ..ir import Aval
from ..tensor import Tensor
from ._common import (add_any, broadcast_shapes, broadcast_to_shape, elementwise_batch,
                      elementwise_primitive, promote, to_tensor)

FLOAT = "f"
NUMERIC = "iuf"


def _zeros(x: Tensor) -> Tensor:
    return full_in(x._value.ctx, x.shape, 0, x.dtype)


def _const(x: Tensor, value) -> Tensor:
    return full_in(x._value.ctx, x.shape, value, x.dtype)


def _to_float(x: Tensor) -> Tensor:
    """Integer and bool operands of float-only functions compute in float32 (as JAX)."""
    return x if x.dtype.kind == "f" else cast(x, default_float)


# ---------------------------------------------------------------------------
# add, sub, neg: linear
# ---------------------------------------------------------------------------
add_p = elementwise_primitive("add", NUMERIC + "b", nargs=2, linear=True)


def add(x, y) -> Tensor:
    """Elementwise x + y with NumPy broadcasting. Alias: `nb.add`, operator `+`.

    Example:
        >>> nb.add(nb.tensor([1.0, 2.0]), 1.0)
        Tensor([2. 3.] : f32[2])
    """
    return bind(add_p, *promote("add", x, y))


add_p.def_jvp(lambda primals, tangents, outs: add_any(*tangents))
add_p.def_transpose(lambda ct, x, y: (ct, ct))

sub_p = elementwise_primitive("sub", NUMERIC, nargs=2, linear=True)


def sub(x, y) -> Tensor:
    """Elementwise x - y. Alias: `subtract`.

    Example:
        >>> nb.sub(nb.tensor([3, 4]), 1)
        Tensor([2 3] : i32[2])
    """
    return bind(sub_p, *promote("sub", x, y, kinds=NUMERIC))


@sub_p.def_jvp
def _sub_jvp(primals, tangents, outs):
    tx, ty = tangents
    if ty is None:
        return tx
    return neg(ty) if tx is None else sub(tx, ty)


sub_p.def_transpose(lambda ct, x, y: (ct, neg(ct)))

neg_p = elementwise_primitive("neg", NUMERIC, linear=True)


def neg(x) -> Tensor:
    """Elementwise -x (unsigned integers wrap around, as in NumPy). Alias: `negative`.

    Example:
        >>> nb.neg(nb.tensor([1.0, -2.0]))
        Tensor([-1.  2.] : f32[2])
    """
    return bind(neg_p, *promote("neg", x, kinds=NUMERIC))


neg_p.def_transpose(lambda ct, x: (neg(ct),))

# ---------------------------------------------------------------------------
# mul, div
# ---------------------------------------------------------------------------
mul_p = elementwise_primitive("mul", NUMERIC + "b", nargs=2)


def mul(x, y) -> Tensor:
    """Elementwise x * y. Alias: `multiply`.

    Example:
        >>> nb.mul(nb.tensor([1.0, 2.0]), nb.tensor([3.0, 4.0]))
        Tensor([3. 8.] : f32[2])
    """
    return bind(mul_p, *promote("mul", x, y))


@mul_p.def_jvp
def _mul_jvp(primals, tangents, outs):
    x, y = primals
    tx, ty = tangents
    return add_any(None if tx is None else mul(tx, y), None if ty is None else mul(x, ty))


mul_p.def_vjp(lambda ct, primals, outs: (mul(ct, primals[1]), mul(primals[0], ct)))

div_p = elementwise_primitive("div", NUMERIC, nargs=2)


def div(x, y) -> Tensor:
    """Elementwise true division x / y; integers divide in float32 (as JAX, where NumPy
    uses float64). Aliases: `divide`, `true_divide`.

    Example:
        >>> nb.div(nb.tensor([1.0, 3.0]), 2.0)
        Tensor([0.5 1.5] : f32[2])
    """
    x, y = promote("div", x, y)
    if x.dtype.kind != "f":
        x, y = cast(x, default_float), cast(y, default_float)
    return bind(div_p, x, y)


@div_p.def_jvp
def _div_jvp(primals, tangents, outs):
    y = primals[1]
    tx, ty = tangents
    t = None if tx is None else div(tx, y)
    return add_any(t, None if ty is None else neg(mul(ty, div(outs[0], y))))


@div_p.def_vjp
def _div_vjp(ct, primals, outs):
    ct_x = div(ct, primals[1])
    return ct_x, neg(mul(ct_x, outs[0]))


# ---------------------------------------------------------------------------
# Powers: integer_pow (static exponent), pow (tensor exponent)
# ---------------------------------------------------------------------------
integer_pow_p = elementwise_primitive("integer_pow", NUMERIC)


def integer_pow(x, n: int) -> Tensor:
    """x ** n for a static Python int `n`: exact for negative bases, cheap derivative.

    Example:
        >>> nb.integer_pow(nb.tensor([-2.0, 3.0]), 3)
        Tensor([-8. 27.] : f32[2])
    """
    x = to_tensor(x, "integer_pow")
    n = as_int("integer_pow", "n", n)
    if x.dtype.kind not in NUMERIC:
        raise_error(DTypeError, "pow", f"expects a numeric base, got {x._value.aval.short()}")
    if n < 0 and x.dtype.kind != "f":
        raise_error(DTypeError, "pow", f"integers to negative integer powers are not allowed "
                    f"({x._value.aval.short()} ** {n}); cast the base to a float dtype")
    if n == 1:
        return x
    return bind(integer_pow_p, x, y=n)


def _integer_pow_rule(g, x, y):
    if y == 0:
        return None
    if y == 1:
        return g
    dx = x if y == 2 else integer_pow(x, y - 1)
    return mul(g, mul(dx, float(y)))


integer_pow_p.def_jvp(lambda primals, tangents, outs, *, y:
                      _integer_pow_rule(tangents[0], primals[0], y))
integer_pow_p.def_vjp(lambda ct, primals, outs, *, y: (_integer_pow_rule(ct, primals[0], y),))

pow_p = elementwise_primitive("pow", NUMERIC, nargs=2)


def pow(x, y) -> Tensor:  # noqa: A001 - the NumPy name
    """Elementwise x ** y. Alias: `power`, operator `**`.

    A Python int exponent uses `integer_pow` (exact for negative bases). For tensor
    exponents the derivative wrt y is log(x) * x**y, taken as 0 where x == 0 (as JAX);
    the derivative wrt x is y * x**(y-1), taken as 0 where y == 0.

    Example:
        >>> nb.pow(nb.tensor([1.0, 2.0]), 0.5)
        Tensor([1.     1.4142] : f32[2])
    """
    if isinstance(y, (int, np.integer)) and not isinstance(y, (bool, np.bool_)):
        return integer_pow(x, int(y))
    x, y = promote("pow", x, y, kinds=NUMERIC)
    return bind(pow_p, x, y)


def _pow_dx(x: Tensor, y: Tensor) -> Tensor:
    return select(equal(y, 0), _zeros(x), mul(y, pow(x, sub(y, 1))))


def _pow_dy(x: Tensor, out: Tensor) -> Tensor:
    return mul(log(select(equal(x, 0), _const(x, 1), x)), out)


@pow_p.def_jvp
def _pow_jvp(primals, tangents, outs):
    (x, y), (tx, ty) = primals, tangents
    t = None if tx is None else mul(tx, _pow_dx(x, y))
    return add_any(t, None if ty is None else mul(ty, _pow_dy(x, outs[0])))


pow_p.def_vjp(lambda ct, primals, outs: (mul(ct, _pow_dx(*primals)),
                                         mul(ct, _pow_dy(primals[0], outs[0]))))


def square(x) -> Tensor:
    """Elementwise x * x.

    Example:
        >>> nb.square(nb.tensor([-3.0, 2.0]))
        Tensor([9. 4.] : f32[2])
    """
    return integer_pow(x, 2)


def reciprocal(x) -> Tensor:
    """Elementwise 1 / x; integers compute in float32 (as JAX; NumPy divides integers).

    Example:
        >>> nb.reciprocal(nb.tensor([2.0, 4.0]))
        Tensor([0.5  0.25] : f32[2])
    """
    return integer_pow(_to_float(to_tensor(x, "reciprocal")), -1)


# ---------------------------------------------------------------------------
# abs, sign, rounding
# ---------------------------------------------------------------------------
abs_p = elementwise_primitive("abs", "if")


def abs(x) -> Tensor:  # noqa: A001 - the NumPy name
    """Elementwise |x| (the identity on unsigned and bool). Derivative sign(x), taken as
    1 at x == 0 (as JAX). Alias: `absolute`.

    Example:
        >>> nb.abs(nb.tensor([-1.5, 2.0]))
        Tensor([1.5 2. ] : f32[2])
    """
    x = to_tensor(x, "abs")
    if x.dtype.kind in "ub":
        return x
    return bind(abs_p, x)


def _abs_rule(g, x):
    return select(greater_equal(x, 0), g, neg(g))


abs_p.def_jvp(lambda primals, tangents, outs: _abs_rule(tangents[0], primals[0]))
abs_p.def_vjp(lambda ct, primals, outs: (_abs_rule(ct, primals[0]),))


def _zero_derivative(prim: Primitive) -> Primitive:
    """Piecewise-constant functions: derivative zero everywhere (as JAX)."""
    prim.def_jvp(lambda primals, tangents, outs: None)
    prim.def_vjp(lambda ct, primals, outs: (None,))
    return prim


sign_p = _zero_derivative(elementwise_primitive("sign", NUMERIC))


def sign(x) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (NaN stays NaN); derivative zero.

    Example:
        >>> nb.sign(nb.tensor([-2.0, 0.0, 3.0]))
        Tensor([-1.  0.  1.] : f32[3])
    """
    x = to_tensor(x, "sign")
    if x.dtype.kind not in NUMERIC:
        raise_error(DTypeError, "sign", f"expects numeric operands, got {x._value.aval.short()}")
    return bind(sign_p, x)


def _rounding(name: str, doc: str, example: str, output: str):
    prim = _zero_derivative(elementwise_primitive(name, FLOAT))

    def fn(x) -> Tensor:
        x = to_tensor(x, name)
        if x.dtype.kind != "f":  # integers are already integral (NumPy keeps their dtype)
            return x
        return bind(prim, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {doc}; integer tensors are returned unchanged; derivative "
                  f"zero.\n\n    Example:\n        >>> nb.{name}(nb.tensor({example}))\n"
                  f"        {output}\n")
    return prim, fn


floor_p, floor = _rounding("floor", "floor (round toward -inf)", "[-1.5, 1.5]",
                           "Tensor([-2.  1.] : f32[2])")
ceil_p, ceil = _rounding("ceil", "ceiling (round toward +inf)", "[-1.5, 1.5]",
                         "Tensor([-1.  2.] : f32[2])")
round_p, round = _rounding("round", "round half to even, as NumPy", "[0.5, 1.5, 2.5]",  # noqa: A001
                           "Tensor([0. 2. 2.] : f32[3])")

# ---------------------------------------------------------------------------
# Unary float functions. Each one's rule maps (g, x, out) to g * f'(x), which is
# its JVP (g a tangent) and its VJP (g a cotangent) at once.
# ---------------------------------------------------------------------------
_SQRT_PI = math.sqrt(math.pi)


def _float_unary(name: str, rule, doc: str, output: str, example: str = "[0.5, 1.0]",
                 public: str | None = None, suffix: str = ""):
    """(primitive `name`, the function nb.`public` (default: the same name) binding it).
    Its docstring's example applies it to nb.tensor(`example`), then `suffix`, and
    prints `output`."""
    prim = elementwise_primitive(name, FLOAT)
    name = public or name
    prim.def_jvp(lambda primals, tangents, outs: rule(tangents[0], primals[0], outs[0]))
    prim.def_vjp(lambda ct, primals, outs: (rule(ct, primals[0], outs[0]),))

    def fn(x) -> Tensor:
        x = to_tensor(x, name)
        if x.dtype.kind != "f":
            x = cast(x, default_float)
        return bind(prim, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {doc}; integer and bool inputs compute in float32."
                  f"\n\n    Example:\n        >>> nb.{name}(nb.tensor({example})){suffix}\n"
                  f"        {output}\n")
    return prim, fn


def _one_minus_square(x: Tensor) -> Tensor:
    return sub(1.0, mul(x, x))


exp_p, exp = _float_unary("exp", lambda g, x, out: mul(g, out), "e ** x",
                          "Tensor([1.6487 2.7183] : f32[2])")
exp2_p, exp2 = _float_unary("exp2", lambda g, x, out: mul(g, mul(out, math.log(2.0))), "2 ** x",
                            "Tensor([1.4142 2.    ] : f32[2])")
log_p, log = _float_unary("log", lambda g, x, out: div(g, x), "natural logarithm",
                          "Tensor([-0.6931  0.    ] : f32[2])")
log1p_p, log1p = _float_unary("log1p", lambda g, x, out: div(g, add(x, 1.0)),
                              "log(1 + x), accurate for small x",
                              "array([1.000000e-08, 4.054651e-01], dtype=float32)",
                              "[1e-8, 0.5]", suffix=".numpy()")
expm1_p, expm1 = _float_unary("expm1", lambda g, x, out: mul(g, add(out, 1.0)),
                              "exp(x) - 1, accurate for small x",
                              "array([1.000000e-08, 6.487213e-01], dtype=float32)",
                              "[1e-8, 0.5]", suffix=".numpy()")
sqrt_p, sqrt = _float_unary("sqrt", lambda g, x, out: div(g, mul(out, 2.0)), "square root",
                            "Tensor([2.     1.4142] : f32[2])", "[4.0, 2.0]")
rsqrt_p, rsqrt = _float_unary("rsqrt", lambda g, x, out: mul(g, div(mul(out, -0.5), x)),
                              "1 / sqrt(x)", "Tensor([0.5    0.7071] : f32[2])", "[4.0, 2.0]")
sin_p, sin = _float_unary("sin", lambda g, x, out: mul(g, cos(x)), "sine",
                          "Tensor([0.4794 0.8415] : f32[2])")
cos_p, cos = _float_unary("cos", lambda g, x, out: mul(g, neg(sin(x))), "cosine",
                          "Tensor([0.8776 0.5403] : f32[2])")
tan_p, tan = _float_unary("tan", lambda g, x, out: mul(g, add(mul(out, out), 1.0)), "tangent",
                          "Tensor([0.5463 1.5574] : f32[2])")
asin_p, arcsin = _float_unary("asin", lambda g, x, out: mul(g, rsqrt(_one_minus_square(x))),
                              "inverse sine (alias `asin`)", "Tensor([0.5236 1.5708] : f32[2])")
acos_p, arccos = _float_unary("acos",
                              lambda g, x, out: neg(mul(g, rsqrt(_one_minus_square(x)))),
                              "inverse cosine (alias `acos`)", "Tensor([1.0472 0.    ] : f32[2])")
atan_p, arctan = _float_unary("atan", lambda g, x, out: div(g, add(mul(x, x), 1.0)),
                              "inverse tangent (alias `atan`)", "Tensor([0.4636 0.7854] : f32[2])")
sinh_p, sinh = _float_unary("sinh", lambda g, x, out: mul(g, cosh(x)), "hyperbolic sine",
                            "Tensor([0.5211 1.1752] : f32[2])")
cosh_p, cosh = _float_unary("cosh", lambda g, x, out: mul(g, sinh(x)), "hyperbolic cosine",
                            "Tensor([1.1276 1.5431] : f32[2])")
tanh_p, tanh = _float_unary("tanh", lambda g, x, out: mul(g, _one_minus_square(out)),
                            "hyperbolic tangent", "Tensor([0.4621 0.7616] : f32[2])")
asinh_p, arcsinh = _float_unary("asinh", lambda g, x, out: mul(g, rsqrt(add(mul(x, x), 1.0))),
                                "inverse hyperbolic sine (alias `asinh`)",
                                "Tensor([0.4812 0.8814] : f32[2])")
# (x - 1)(x + 1) rather than x*x - 1: no cancellation near x = 1.
acosh_p, arccosh = _float_unary(
    "acosh", lambda g, x, out: mul(g, rsqrt(mul(sub(x, 1.0), add(x, 1.0)))),
    "inverse hyperbolic cosine (alias `acosh`)", "Tensor([0.9624 1.317 ] : f32[2])", "[1.5, 2.0]")
atanh_p, arctanh = _float_unary("atanh", lambda g, x, out: div(g, _one_minus_square(x)),
                                "inverse hyperbolic tangent (alias `atanh`)",
                                "Tensor([0.5493    inf] : f32[2])")
erf_p, erf = _float_unary("erf", lambda g, x, out: mul(g, mul(exp(neg(mul(x, x))), 2 / _SQRT_PI)),
                          "error function", "Tensor([0.5205 0.8427] : f32[2])")
erf_inv_p, erfinv = _float_unary("erf_inv",
                                 lambda g, x, out: mul(g, mul(exp(mul(out, out)), _SQRT_PI / 2)),
                                 "inverse error function on (-1, 1)",
                                 "Tensor([0.     0.4769] : f32[2])", "[0.0, 0.5]", public="erfinv")

# ---------------------------------------------------------------------------
# Binary float functions: arctan2, logaddexp
# ---------------------------------------------------------------------------
def _float_operands(op: str, x, y) -> list[Tensor]:
    x, y = promote(op, x, y)
    if x.dtype.kind != "f":
        x, y = cast(x, default_float), cast(y, default_float)
    return [x, y]


atan2_p = elementwise_primitive("atan2", FLOAT, nargs=2)


def arctan2(y, x) -> Tensor:
    """Elementwise angle of the point (x, y), in [-pi, pi]. Alias: `atan2`.

    Example:
        >>> nb.arctan2(nb.tensor([1.0, -1.0]), nb.tensor([-1.0, 1.0]))
        Tensor([ 2.3562 -0.7854] : f32[2])
    """
    return bind(atan2_p, *_float_operands("arctan2", y, x))


def _atan2_rule(gy, gx, y, x):
    """d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)."""
    r2 = add(mul(x, x), mul(y, y))
    ty = None if gy is None else mul(gy, div(x, r2))
    return add_any(ty, None if gx is None else neg(mul(gx, div(y, r2))))


atan2_p.def_jvp(lambda primals, tangents, outs: _atan2_rule(*tangents, *primals))
atan2_p.def_vjp(lambda ct, primals, outs: (_atan2_rule(ct, None, *primals),
                                           _atan2_rule(None, ct, *primals)))


def logaddexp(x, y) -> Tensor:
    """Elementwise log(exp(x) + exp(y)), without overflow for large |x|, |y|.

    Example:
        >>> nb.logaddexp(nb.tensor([1000.0, 0.0]), nb.tensor([1000.0, -1000.0]))
        Tensor([1000.6932    0.    ] : f32[2])
    """
    x, y = _float_operands("logaddexp", x, y)
    # max(x, y) + log1p(exp(-|x - y|)), with the max taken by one select so that its
    # kink and that of |x - y| cancel: the derivative at x == y is exactly 1/2.
    delta = sub(x, y)
    out = add(select(greater_equal(x, y), x, y), log1p(exp(neg(abs(delta)))))
    # x - y is NaN for NaN inputs and for infinities of one sign: x + y is right there.
    return select(not_equal(delta, delta), add(x, y), out)


# ---------------------------------------------------------------------------
# maximum, minimum, clip
# ---------------------------------------------------------------------------
max_p = elementwise_primitive("max", NUMERIC + "b", nargs=2)
min_p = elementwise_primitive("min", NUMERIC + "b", nargs=2)


def maximum(x, y) -> Tensor:
    """Elementwise maximum (NaN-propagating); the gradient splits evenly at ties (as JAX).

    Example:
        >>> nb.maximum(nb.tensor([1.0, 5.0]), 3.0)
        Tensor([3. 5.] : f32[2])
    """
    return bind(max_p, *promote("maximum", x, y))


def minimum(x, y) -> Tensor:
    """Elementwise minimum (NaN-propagating); the gradient splits evenly at ties (as JAX).

    Example:
        >>> nb.minimum(nb.tensor([1.0, 5.0]), 3.0)
        Tensor([1. 3.] : f32[2])
    """
    return bind(min_p, *promote("minimum", x, y))


def _minmax_weights(x: Tensor, y: Tensor, pick_x: Tensor) -> tuple[Tensor, Tensor]:
    """Gradient weights for x and y: 1 where chosen, 1/2 at ties, 0 elsewhere."""
    wx = select(equal(x, y), _const(x, 0.5), select(pick_x, _const(x, 1), _zeros(x)))
    return wx, sub(_const(x, 1), wx)


def _minmax_rules(prim: Primitive, picks_x):
    def jvp(primals, tangents, outs):
        x, y = primals
        wx, wy = _minmax_weights(x, y, picks_x(x, y))
        tx, ty = tangents
        return add_any(None if tx is None else mul(tx, wx), None if ty is None else mul(ty, wy))

    def vjp(ct, primals, outs):
        x, y = primals
        wx, wy = _minmax_weights(x, y, picks_x(x, y))
        return mul(ct, wx), mul(ct, wy)

    prim.def_jvp(jvp)
    prim.def_vjp(vjp)


_minmax_rules(max_p, lambda x, y: greater(x, y))
_minmax_rules(min_p, lambda x, y: less(x, y))


def clip(x, min=None, max=None) -> Tensor:  # noqa: A002 - NumPy's keyword names
    """Elementwise `minimum(maximum(x, min), max)`, as NumPy (`max` wins if min > max).
    Bounds are scalars, tensors or None; at a bound the gradient splits evenly (as JAX).

    Example:
        >>> nb.clip(nb.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
        Tensor([0.  0.5 1. ] : f32[3])
    """
    if min is not None:
        x = maximum(x, min)
    if max is not None:
        x = minimum(x, max)
    return to_tensor(x, "clip")


# ---------------------------------------------------------------------------
# mod, floor_divide (NumPy: floor division; the remainder has the divisor's sign)
# ---------------------------------------------------------------------------
rem_p = elementwise_primitive("rem", NUMERIC, nargs=2)


def _trunc_quotient(x: Tensor, y: Tensor, rem: Tensor) -> Tensor:
    """x / y rounded toward zero, from x = q * y + rem."""
    return round(div(sub(x, rem), y))


@rem_p.def_jvp
def _rem_jvp(primals, tangents, outs):
    (x, y), (tx, ty) = primals, tangents
    return add_any(tx, None if ty is None else neg(mul(ty, _trunc_quotient(x, y, outs[0]))))


rem_p.def_vjp(lambda ct, primals, outs: (ct, neg(mul(ct, _trunc_quotient(*primals, outs[0])))))


def _rem_needs_fix(rem: Tensor, y: Tensor) -> Tensor:
    """Where C's truncated remainder and NumPy's floored one differ: nonzero, sign != y's."""
    return select(less(y, 0), greater(rem, 0), less(rem, 0))


def mod(x, y) -> Tensor:
    """Elementwise remainder of floor division, with the sign of `y` (as NumPy).
    Derivatives: 1 wrt x, -floor(x / y) wrt y. Aliases: `remainder`, operator `%`.

    Example:
        >>> nb.mod(nb.tensor([5, -5]), 3)
        Tensor([2 1] : i32[2])
    """
    x, y = promote("mod", x, y, kinds=NUMERIC)
    rem = bind(rem_p, x, y)
    if x.dtype.kind == "u":
        return rem
    return select(_rem_needs_fix(rem, y), add(rem, y), rem)


def floor_divide(x, y) -> Tensor:
    """Elementwise floor(x / y) in the operands' dtype (as NumPy); derivative zero.
    Operator `//`.

    Example:
        >>> nb.floor_divide(nb.tensor([5, -5]), 3)
        Tensor([ 1 -2] : i32[2])
    """
    x, y = promote("floor_divide", x, y, kinds=NUMERIC)
    if x.dtype.kind == "u":
        return bind(div_p, x, y)
    rem = bind(rem_p, x, y)
    fix = _rem_needs_fix(rem, y)
    if x.dtype.kind == "i":
        q = bind(div_p, x, y)  # integer division truncates toward zero
        return select(fix, sub(q, 1), q)
    # NumPy's float algorithm: (x - fmod(x, y)) / y is integral up to rounding error.
    q = div(sub(x, rem), y)
    return select(equal(y, 0.0), div(x, y), round(select(fix, sub(q, 1.0), q)))  # x // 0: +-inf


# ---------------------------------------------------------------------------
# Comparisons and float classification (bool results, not differentiable)
# ---------------------------------------------------------------------------
compare_p = elementwise_primitive("compare", NUMERIC + "b", nargs=2, out_dtype=bool_,
                                  differentiable=False)
_DIRECTIONS = {"equal": "EQ", "not_equal": "NE", "less": "LT", "less_equal": "LE",
               "greater": "GT", "greater_equal": "GE"}


def _comparison(name: str, output: str):
    """nb.`name`; its docstring's example compares [1, 2, 3] with 2 and prints `output`."""
    direction = _DIRECTIONS[name]

    def fn(x, y) -> Tensor:
        return bind(compare_p, *promote(name, x, y), direction=direction)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} comparison with broadcasting; returns a bool tensor."
                  f"\n\n    Example:\n        >>> nb.{name}(nb.tensor([1, 2, 3]), 2)\n"
                  f"        {output}\n")
    return fn


equal = _comparison("equal", "Tensor([False  True False] : bool[3])")
not_equal = _comparison("not_equal", "Tensor([ True False  True] : bool[3])")
less = _comparison("less", "Tensor([ True False False] : bool[3])")
less_equal = _comparison("less_equal", "Tensor([ True  True False] : bool[3])")
greater = _comparison("greater", "Tensor([False False  True] : bool[3])")
greater_equal = _comparison("greater_equal", "Tensor([False  True  True] : bool[3])")

# ---------------------------------------------------------------------------
# select (where)
# ---------------------------------------------------------------------------
select_p = Primitive("select")


@select_p.def_abstract_eval
def _select_abstract_eval(pred: Aval, x: Aval, y: Aval) -> Aval:
    from ..errors import ShapeError
    if pred.dtype is not bool_:
        raise_error(DTypeError, "where", f"condition must be bool, got {pred.short()}")
    if not (pred.shape == x.shape == y.shape) or x.dtype is not y.dtype:
        raise_error(ShapeError, "where", f"operands must have equal shapes and dtypes, got "
                    f"{pred.short()}, {x.short()}, {y.short()}")
    return Aval(x.shape, x.dtype, x.weak and y.weak)


select_p.def_batch(elementwise_batch(select_p))


def select(pred: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Elementwise `x if pred else y` for operands already of one shape and dtype, `pred`
    bool (StableHLO select): no broadcasting or promotion, as lax.select. Users want
    `where`, which broadcasts and promotes.

    Example:
        >>> nb.select(nb.tensor([True, False]), nb.tensor([1.0, 2.0]), nb.tensor([10.0, 20.0]))
        Tensor([ 1. 20.] : f32[2])
    """
    if type(pred) is not Tensor or type(x) is not Tensor or type(y) is not Tensor:
        pred, x, y = (to_tensor(v, "select") for v in (pred, x, y))
    return bind(select_p, pred, x, y)


def where(condition, x=None, y=None, *, size=None, fill_value=None) -> Tensor:
    """Elementwise `x if condition else y`, with broadcasting (nonzero conditions are true).

    With `condition` alone it is `nb.nonzero(condition, size=..., fill_value=...)`, as
    np.where and jnp.where: a tuple of index tensors (eager only unless `size` is given).

    Example:
        >>> x = nb.tensor([-1.0, 2.0])
        >>> nb.where(x > 0, x, 0.0)
        Tensor([0. 2.] : f32[2])
        >>> nb.where(x > 0)
        (Tensor([1] : i32[1]),)
    """
    if x is None and y is None:
        from .compat import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise_error(ArgumentError, "where", "takes either condition alone or condition, x and y")
    if size is not None or fill_value is not None:
        raise_error(ArgumentError, "where", "size and fill_value go with the one-argument form "
                    "where(condition) only")
    cond = to_tensor(condition, "where")
    if cond.dtype is not bool_:
        cond = not_equal(cond, 0)
    pred, x, y = _promote_where(cond, x, y)
    return bind(select_p, pred, x, y)


def _promote_where(cond: Tensor, x, y):
    x, y = promote("where", x, y)
    if x.shape == cond.shape:  # (promote made x and y one shape)
        return cond, x, y
    shape = broadcast_shapes("where", cond.shape, x.shape, operands=(cond, x, y))
    return (broadcast_to_shape(cond, shape), broadcast_to_shape(x, shape),
            broadcast_to_shape(y, shape))


@select_p.def_jvp
def _select_jvp(primals, tangents, outs):
    pred, x, y = primals
    _, tx, ty = tangents
    if tx is None and ty is None:
        return None
    return select(pred, _zeros(x) if tx is None else tx, _zeros(y) if ty is None else ty)


@select_p.def_vjp
def _select_vjp(ct, primals, outs):
    pred = primals[0]
    zeros = _zeros(ct)
    return None, select(pred, ct, zeros), select(pred, zeros, ct)


# ---------------------------------------------------------------------------
# convert (cast) and stop_gradient
# ---------------------------------------------------------------------------
convert_p = Primitive("convert")


@convert_p.def_abstract_eval
def _convert_abstract_eval(x: Aval, *, dtype: DType, weak: bool = False) -> Aval:
    return Aval(x.shape, dtype, weak)


def convert(x: Tensor, dtype: DType, weak: bool = False) -> Tensor:
    """`x` converted to `dtype` (StableHLO convert); `weak` marks a weakly typed result,
    which takes the other operand's dtype in mixed arithmetic as a Python scalar does.
    Users want `cast`, which also accepts dtype names.

    Example:
        >>> nb.convert(nb.tensor([1.7, -1.7]), nb.int32)
        Tensor([ 1 -1] : i32[2])
        >>> nb.convert(nb.tensor([1, 2]), nb.float32, weak=True) + nb.ones(2, dtype=nb.float16)
        Tensor([2. 3.] : f16[2])
    """
    if type(x) is not Tensor or type(dtype) is not DType or (weak is not True and weak is not False):
        x, dtype = to_tensor(x, "convert"), as_dtype(dtype)
        weak = as_bool("convert", "weak", weak)
    return bind(convert_p, x, dtype=dtype, weak=weak)


def cast(x, dtype) -> Tensor:
    """`x` converted to `dtype` as NumPy's astype: float to int truncates toward zero,
    anything to bool is x != 0. Derivative: converted back for float-to-float casts,
    zero otherwise. Alias: `Tensor.astype`.

    Example:
        >>> nb.cast(nb.tensor([1.7, -1.7]), nb.int32)
        Tensor([ 1 -1] : i32[2])
    """
    x = to_tensor(x, "cast")
    dtype = as_dtype(dtype)
    if x.dtype is dtype and not x._value.aval.weak:
        return x
    return convert(x, dtype)


@convert_p.def_jvp
def _convert_jvp(primals, tangents, outs, *, dtype, weak=False):
    (t,) = tangents
    if t is None or dtype.kind != "f":
        return None
    return convert(t, dtype, weak)


@convert_p.def_vjp
def _convert_vjp(ct, primals, outs, *, dtype, weak=False):
    (x,) = primals
    if x.dtype.kind != "f":
        return (None,)
    return (convert(ct, x.dtype, x._value.aval.weak),)


convert_p.def_batch(elementwise_batch(convert_p))

stop_gradient_p = elementwise_primitive("stop_gradient", None, differentiable=False)


def stop_gradient(x) -> Tensor:
    """The same values, treated as a constant by every derivative (alias: detach).

    Example:
        >>> nb.grad(lambda x: x * nb.stop_gradient(x))(nb.tensor(3.0))  # 3.0, not 6.0
        Tensor(3. : f32[])
    """
    x = to_tensor(x, "stop_gradient")
    v = x._value
    if v.buffer is not None and v.ctx.level == 0:  # materialized: share the buffer
        return Tensor._wrap(shared_value(v))
    return bind(stop_gradient_p, x)


def shared_value(v):
    """A new leaf Value holding the materialized `v`'s buffer (its layout over a mesh too),
    without gradient history."""
    from ..ir import Value
    out = Value(v.aval, None, 0, v.ctx)
    out.buffer, out.device, out.sharding = v.buffer, v.device, v.sharding
    return out


copy_p = elementwise_primitive("copy", None, linear=True)
copy_p.def_transpose(lambda ct, x: (ct,))


def copy(x) -> Tensor:
    """A new tensor with the values of `x`, differentiable (the identity; `Tensor.clone`).

    Example:
        >>> x = nb.tensor([1.0, 2.0])
        >>> nb.copy(x)
        Tensor([1. 2.] : f32[2])
    """
    return bind(copy_p, to_tensor(x, "copy"))


# ---------------------------------------------------------------------------
# NumPy / JAX names
# ---------------------------------------------------------------------------
detach = stop_gradient
subtract = sub
multiply = mul
divide = true_divide = div
negative = neg
power = pow
absolute = abs
remainder = mod
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh

# The family's other files, re-exported so that `from .elementwise import *` has them all.
from . import activations, bitwise  # noqa: E402
from .activations import *  # noqa: E402,F403
from .bitwise import *  # noqa: E402,F403

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "integer_pow", "square", "reciprocal", "abs",
    "sign", "floor", "ceil", "round", "exp", "exp2", "log", "log1p", "expm1", "sqrt", "rsqrt",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "erf", "erfinv", "logaddexp", "maximum", "minimum",
    "clip", "mod", "floor_divide", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "where", "select", "cast", "convert", "stop_gradient", "detach", "copy",
    "subtract", "multiply", "divide", "true_divide", "negative", "power", "absolute",
    "remainder", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh",
    *activations.__all__, *bitwise.__all__,
]
