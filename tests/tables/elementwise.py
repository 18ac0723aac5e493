"""Op table: elementwise family (ops/elementwise.py and ops/activations.py).

Float-only functions applied to integer or bool tensors compute in float32 (as
JAX; NumPy would pick float16 or float64), so their `_int` cases compare with a
reference computed the same way. Input ranges keep gradient checks away from
poles, branch cuts and kinks.
"""
import math

import numpy as np

import nabla_like as nb

from ..optable import ALL, FLOATS, INTS, NUMERIC, SIGNED, Arg, OpCase, mark_composite

BOOL = ("bool",)
INT_TOL = {"rtol": 2e-6, "atol": 2e-6}  # float32 results of integer inputs


def _f32(fn):
    """A NumPy reference that, like nabla_like, computes integer/bool inputs in float32."""
    def ref(*xs):
        return fn(*[x.astype(np.float32) if x.dtype.kind in "iub" else x for x in xs])
    return ref


def _erf(x):
    from scipy.special import erf
    return erf(x.astype(np.float64)).astype(x.dtype)


def _erfinv(x):
    from scipy.special import erfinv
    return erfinv(x.astype(np.float64)).astype(x.dtype)


def _gelu_ref(x):
    return (0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


def _gelu_tanh_ref(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _softplus_ref(x):
    return np.logaddexp(x, 0)


def _specials(m, x):
    """x with NaN, +inf and -inf planted by value (m is nb or np)."""
    inf = float("inf")
    return m.where(x > 1.0, inf, m.where(x < -1.0, -inf, m.where(abs(x) < 0.3, float("nan"), x)))


CASES = [
    # -- arithmetic ------------------------------------------------------------------
    OpCase("add", nb.add, np.add, [(3, 4), (3, 4)], dtypes=ALL),
    OpCase("add_broadcast", nb.add, np.add, [(3, 1), (4,)], dtypes=NUMERIC),
    OpCase("add_scalar", lambda x: x + 2, lambda x: x + np.asarray(2, x.dtype), [(3,)],
           dtypes=NUMERIC),
    OpCase("add_0d", nb.add, np.add, [(), (2, 3)]),
    OpCase("add_empty", nb.add, np.add, [(0, 3), (3,)], dtypes=NUMERIC),
    OpCase("sub", nb.sub, np.subtract, [(2, 3), (2, 3)], dtypes=NUMERIC),
    OpCase("subtract_rscalar", lambda x: 3 - x, lambda x: 3 - x, [(2, 3)], dtypes=NUMERIC),
    OpCase("mul", nb.mul, np.multiply, [(2, 3), (3,)], dtypes=ALL),
    OpCase("multiply_scalar", lambda x: nb.multiply(x, 1.5), lambda x: x * 1.5, [(2, 3)]),
    OpCase("div", nb.div, np.divide, [(2, 3), Arg((2, 3), low=0.5, high=2.0)], dtypes=FLOATS),
    OpCase("div_int", nb.true_divide, _f32(np.divide), [(2, 3), Arg((3,), low=1, high=5)],
           dtypes=INTS, **INT_TOL),
    OpCase("rdiv_scalar", lambda x: 1.0 / x, lambda x: 1.0 / x, [(4,)], low=0.5, high=2.0),
    OpCase("neg", nb.neg, np.negative, [(2, 3)], dtypes=NUMERIC),
    OpCase("negative_op", lambda x: -x, lambda x: -x, [(2, 3)], dtypes=FLOATS + SIGNED),
    # -- powers ----------------------------------------------------------------------
    OpCase("pow", nb.pow, np.power, [(2, 3), Arg((2, 3), low=-2.0, high=2.0)],
           low=0.5, high=2.0),
    OpCase("pow_broadcast", nb.power, np.power, [(3, 1), Arg((4,), low=-1.5, high=1.5)],
           low=0.5, high=2.0),
    OpCase("pow_int", nb.pow, np.power, [(2, 3), Arg((2, 3), low=0, high=3)], dtypes=INTS,
           grad=False),
    OpCase("pow_scalar_exponent", lambda x: x ** 0.5, lambda x: x ** 0.5, [(5,)], low=0.5,
           high=3.0),
    OpCase("rpow_scalar_base", lambda x: 2.0 ** x, lambda x: 2.0 ** x, [(5,)]),
    OpCase("integer_pow_cube", lambda x: x ** 3, lambda x: x ** 3, [(2, 3)], dtypes=NUMERIC),
    OpCase("integer_pow_negative", lambda x: x ** -3, lambda x: x ** -3.0, [(2, 3)],
           low=-2.0, high=-0.5),
    OpCase("integer_pow_zero", lambda x: nb.integer_pow(x, 0), lambda x: x ** 0, [(3,)],
           dtypes=NUMERIC),
    OpCase("integer_pow_0d", lambda x: nb.integer_pow(x, 5), lambda x: x ** 5, [()]),
    OpCase("square", nb.square, np.square, [(2, 3)], dtypes=NUMERIC),
    OpCase("reciprocal", nb.reciprocal, np.reciprocal, [(2, 3)], low=0.5, high=2.0),
    # -- abs, sign, rounding ----------------------------------------------------------
    OpCase("abs", nb.abs, np.abs, [(2, 3)], dtypes=ALL),
    OpCase("absolute_op", lambda x: abs(x), np.absolute, [(4,)], dtypes=FLOATS + SIGNED),
    OpCase("sign", nb.sign, np.sign, [(2, 3)], dtypes=NUMERIC),
    OpCase("floor", nb.floor, np.floor, [(2, 3)], dtypes=ALL, low=-3.0, high=3.0),
    OpCase("ceil", nb.ceil, np.ceil, [(2, 3)], dtypes=ALL, low=-3.0, high=3.0),
    OpCase("round", nb.round, np.round, [(2, 3)], dtypes=NUMERIC, low=-3.0, high=3.0),
    # -- exponentials and logarithms ---------------------------------------------------
    OpCase("exp", nb.exp, np.exp, [(2, 3)]),
    OpCase("exp_0d", nb.exp, np.exp, [()]),
    OpCase("exp_int", nb.exp, _f32(np.exp), [(2, 3)], dtypes=INTS + BOOL, **INT_TOL),
    OpCase("exp2", nb.exp2, np.exp2, [(2, 3)]),
    OpCase("log", nb.log, np.log, [(2, 3)], low=0.1, high=3.0),
    OpCase("log_int", nb.log, _f32(np.log), [Arg((2, 3), low=1, high=9)], dtypes=INTS,
           **INT_TOL),
    OpCase("log1p", nb.log1p, np.log1p, [(2, 3)], low=-0.5, high=2.0),
    OpCase("expm1", nb.expm1, np.expm1, [(2, 3)]),
    OpCase("sqrt", nb.sqrt, np.sqrt, [(2, 3)], low=0.1, high=3.0),
    OpCase("sqrt_int", nb.sqrt, _f32(np.sqrt), [Arg((2, 3), low=0, high=9)], dtypes=INTS + BOOL,
           **INT_TOL),
    OpCase("rsqrt", nb.rsqrt, lambda x: 1 / np.sqrt(x), [(2, 3)], low=0.1, high=3.0),
    OpCase("logaddexp", nb.logaddexp, np.logaddexp, [(2, 3), (3,)], low=-3.0, high=3.0),
    OpCase("logaddexp_int", nb.logaddexp, _f32(np.logaddexp), [(3,), (3,)], dtypes=SIGNED,
           **INT_TOL),
    # -- trigonometric and hyperbolic ------------------------------------------------
    OpCase("sin", nb.sin, np.sin, [(2, 3)]),
    OpCase("sin_empty", nb.sin, np.sin, [(0, 3)]),
    OpCase("sin_int", nb.sin, _f32(np.sin), [(2, 3)], dtypes=INTS, **INT_TOL),
    OpCase("cos", nb.cos, np.cos, [(2, 3)]),
    OpCase("tan", nb.tan, np.tan, [(2, 3)], low=-1.2, high=1.2),
    OpCase("arcsin", nb.arcsin, np.arcsin, [(2, 3)], low=-0.9, high=0.9),
    OpCase("arccos", nb.arccos, np.arccos, [(2, 3)], low=-0.9, high=0.9),
    OpCase("arctan", nb.arctan, np.arctan, [(2, 3)], low=-3.0, high=3.0),
    OpCase("arctan2", nb.arctan2, np.arctan2, [(2, 3), (2, 3)]),
    OpCase("arctan2_broadcast", nb.atan2, np.arctan2, [(3, 1), Arg((4,), low=0.5, high=2.0)]),
    OpCase("arctan2_int", nb.arctan2, _f32(np.arctan2), [(2, 3), (2, 3)], dtypes=SIGNED,
           **INT_TOL),
    OpCase("sinh", nb.sinh, np.sinh, [(2, 3)]),
    OpCase("cosh", nb.cosh, np.cosh, [(2, 3)]),
    OpCase("tanh", nb.tanh, np.tanh, [(2, 3)]),
    OpCase("arcsinh", nb.arcsinh, np.arcsinh, [(2, 3)], low=-3.0, high=3.0),
    OpCase("arccosh", nb.arccosh, np.arccosh, [(2, 3)], low=1.1, high=3.0),
    OpCase("arctanh", nb.arctanh, np.arctanh, [(2, 3)], low=-0.9, high=0.9),
    OpCase("asin_alias", nb.asin, np.arcsin, [(3,)], low=-0.9, high=0.9, dtypes=("float32",)),
    OpCase("erf", nb.erf, _erf, [(2, 3)]),
    OpCase("erfinv", nb.erfinv, _erfinv, [(2, 3)], low=-0.9, high=0.9),
    # -- activations -------------------------------------------------------------
    OpCase("sigmoid", nb.sigmoid, lambda x: 1 / (1 + np.exp(-x)), [(2, 3)], low=-5.0, high=5.0),
    OpCase("sigmoid_int", nb.sigmoid, _f32(lambda x: 1 / (1 + np.exp(-x))), [(2, 3)],
           dtypes=SIGNED, **INT_TOL),
    OpCase("relu", nb.relu, lambda x: np.maximum(x, 0), [(2, 3)], dtypes=NUMERIC),
    OpCase("gelu", nb.gelu, _gelu_ref, [(2, 3)], low=-3.0, high=3.0),
    OpCase("gelu_tanh", lambda x: nb.gelu(x, approximate=True), _gelu_tanh_ref, [(2, 3)],
           low=-3.0, high=3.0),
    OpCase("silu", nb.silu, lambda x: x / (1 + np.exp(-x)), [(2, 3)], low=-4.0, high=4.0),
    OpCase("softplus", nb.softplus, _softplus_ref, [(2, 3)], low=-4.0, high=4.0),
    OpCase("softplus_large", lambda x: nb.softplus(x * 100), lambda x: _softplus_ref(x * 100),
           [(2, 3)], low=-4.0, high=4.0, dtypes=("float32", "float64")),
    OpCase("mish", nb.mish, lambda x: x * np.tanh(_softplus_ref(x)), [(2, 3)], low=-3.0,
           high=3.0),
    # -- maximum, minimum, clip ------------------------------------------------------
    OpCase("maximum", nb.maximum, np.maximum, [(2, 3), (2, 3)], dtypes=ALL),
    OpCase("minimum", nb.minimum, np.minimum, [(2, 3), (3,)], dtypes=ALL),
    OpCase("maximum_scalar", lambda x: nb.maximum(x, 0.5), lambda x: np.maximum(x, 0.5),
           [(2, 3)]),
    OpCase("clip", lambda x: nb.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), [(2, 3)]),
    OpCase("clip_int", lambda x: nb.clip(x, 1, 4), lambda x: np.clip(x, 1, 4), [(2, 3)],
           dtypes=INTS),
    OpCase("clip_tensor_bounds", nb.clip, np.clip,
           [(2, 3), Arg((3,), low=-2.0, high=-0.5), Arg((2, 1), low=0.5, high=2.0)],
           dtypes=FLOATS + SIGNED),
    OpCase("clip_max_only", lambda x: nb.clip(x, max=0.5), lambda x: np.clip(x, None, 0.5),
           [(2, 3)]),
    # -- mod, floor_divide -----------------------------------------------------------
    OpCase("mod", nb.mod, np.mod, [(2, 3), Arg((3,), low=1.0, high=4.0)], dtypes=NUMERIC,
           low=-6.0, high=6.0),
    OpCase("mod_negative_divisor", nb.remainder, np.remainder,
           [(2, 3), Arg((2, 3), low=-4.0, high=-1.0)], dtypes=FLOATS + SIGNED, low=-6.0,
           high=6.0),
    OpCase("mod_op_scalar", lambda x: x % 3, lambda x: x % 3, [(2, 3)], dtypes=NUMERIC,
           low=-6.0, high=6.0),
    OpCase("mod_empty", nb.mod, np.mod, [(0,), Arg((0,), low=1.0, high=2.0)]),
    OpCase("floor_divide", nb.floor_divide, np.floor_divide,
           [(2, 3), Arg((3,), low=1.0, high=4.0)], dtypes=NUMERIC, low=-6.0, high=6.0),
    OpCase("floor_divide_negative_divisor", lambda x, y: x // y, lambda x, y: x // y,
           [(2, 3), Arg((2, 3), low=-4.0, high=-1.0)], dtypes=FLOATS + SIGNED, low=-6.0,
           high=6.0),
    # -- comparisons and classification ---------------------------------------------
    OpCase("equal", nb.equal, np.equal, [(4,), (4,)], dtypes=ALL, grad=False),
    OpCase("not_equal", nb.not_equal, np.not_equal, [(2, 3), (3,)], dtypes=ALL, grad=False),
    OpCase("less", nb.less, np.less, [(2, 3), (2, 3)], dtypes=ALL, grad=False),
    OpCase("less_equal", nb.less_equal, np.less_equal, [(2, 3), (2, 3)], dtypes=ALL,
           grad=False),
    OpCase("greater", nb.greater, np.greater, [(2, 3), (2, 3)], dtypes=ALL, grad=False),
    OpCase("greater_equal", nb.greater_equal, np.greater_equal, [(2, 3), (3,)], dtypes=ALL,
           grad=False),
    OpCase("greater_op_scalar", lambda x: x > 1, lambda x: x > 1, [(2, 3)], dtypes=ALL,
           grad=False),
    OpCase("isnan", lambda x: nb.isnan(_specials(nb, x)), lambda x: np.isnan(_specials(np, x)),
           [(3, 4)], grad=False),
    OpCase("isinf", lambda x: nb.isinf(_specials(nb, x)), lambda x: np.isinf(_specials(np, x)),
           [(3, 4)], grad=False),
    OpCase("isfinite", lambda x: nb.isfinite(_specials(nb, x)),
           lambda x: np.isfinite(_specials(np, x)), [(3, 4)], grad=False),
    OpCase("isnan_int", nb.isnan, np.isnan, [(3,)], dtypes=INTS + BOOL, grad=False),
    OpCase("isfinite_int", nb.isfinite, np.isfinite, [(3,)], dtypes=INTS + BOOL, grad=False),
    # -- logical and bitwise ---------------------------------------------------------
    OpCase("logical_and", nb.logical_and, np.logical_and, [(2, 3), (3,)], dtypes=ALL,
           grad=False, low=-1.0, high=1.0),
    OpCase("logical_or", nb.logical_or, np.logical_or, [(2, 3), (2, 3)], dtypes=ALL, grad=False),
    OpCase("logical_xor", nb.logical_xor, np.logical_xor, [(2, 3), (2, 3)], dtypes=ALL,
           grad=False),
    OpCase("logical_not", nb.logical_not, np.logical_not, [(2, 3)], dtypes=ALL, grad=False),
    OpCase("bitwise_and", lambda x, y: x & y, np.bitwise_and, [(2, 3), (3,)], dtypes=INTS + BOOL),
    OpCase("bitwise_or", lambda x, y: x | y, np.bitwise_or, [(2, 3), (2, 3)], dtypes=INTS + BOOL),
    OpCase("bitwise_xor", lambda x, y: x ^ y, np.bitwise_xor, [(2, 3), (2, 3)],
           dtypes=INTS + BOOL),
    OpCase("bitwise_not", lambda x: ~x, np.bitwise_not, [(2, 3)], dtypes=INTS + BOOL),
    OpCase("left_shift", lambda x, y: x << y, np.left_shift, [(2, 3), Arg((2, 3), low=0, high=7)],
           dtypes=INTS),
    OpCase("right_shift", lambda x, y: x >> y, np.right_shift,
           [(2, 3), Arg((2, 3), low=0, high=7)], dtypes=INTS, low=-100.0, high=100.0),
    # -- where, cast -----------------------------------------------------------------
    OpCase("where", nb.where, np.where, [Arg((2, 3), "bool"), (2, 3), (2, 3)], dtypes=ALL),
    OpCase("where_broadcast_scalar", lambda c, x: nb.where(c, x, 0),
           lambda c, x: np.where(c, x, 0), [Arg((2, 1), "bool"), (3,)], dtypes=NUMERIC),
    OpCase("where_0d", nb.where, np.where, [Arg((), "bool"), (), ()]),
    OpCase("cast_int", lambda x: nb.cast(x, nb.int32), lambda x: x.astype(np.int32), [(5,)],
           dtypes=FLOATS, grad=False, low=-100.0, high=100.0),
    OpCase("cast_f64", lambda x: nb.cast(x, nb.float64), lambda x: x.astype(np.float64), [(5,)],
           dtypes=ALL),
    OpCase("cast_f16", lambda x: x.astype(nb.float16), lambda x: x.astype(np.float16), [(2, 3)],
           dtypes=ALL, grad=False),
    OpCase("cast_bool", lambda x: nb.cast(x, nb.bool_), lambda x: x.astype(np.bool_), [(2, 3)],
           dtypes=NUMERIC, grad=False, low=-1.0, high=1.0),
]

# compositions of the primitives above (select, max/min, rem, exp/log1p, logistic, ...)
mark_composite(CASES, [
    "logaddexp", "logaddexp_int", "silu", "gelu", "gelu_tanh", "softplus",
    "softplus_large", "mish", "clip", "clip_int", "clip_tensor_bounds", "mod",
    "mod_negative_divisor", "mod_op_scalar", "mod_empty", "floor_divide",
    "floor_divide_negative_divisor", "isnan", "isinf", "isfinite", "logical_and", "logical_or",
    "logical_xor", "logical_not",
])
