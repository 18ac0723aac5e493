"""Elementwise ops beyond the op table: casts between every pair of dtypes, derivative
conventions at kinks, numerical stability, weak typing, errors and lowerings."""
import math

import numpy as np
import pytest

import nabla_like.lowering as lowering
import nabla_like as nb
from nabla_like.core import PRIMITIVES

from .optable import ALL, np_dtype

_VALUES = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 100.0, -1.0, -2.0, -100.0, 0.3, -0.7, 2.5, -2.5, 99.9])


def _cast_inputs(src: str, dst: str) -> np.ndarray:
    """Values exactly representable in `src` whose cast to `dst` is defined in NumPy."""
    v = _VALUES
    if src == "bool":
        return np.array([True, False, True])
    if src.startswith(("int", "uint")):
        v = v[v == np.trunc(v)]
    if src.startswith("uint") or (dst.startswith("uint") and not src.startswith("int")):
        v = v[v >= 0]  # float -> unsigned is undefined below 0; int -> uint wraps
    if dst in ("int8", "uint8") and not src.startswith(("int", "uint")):
        v = v[np.abs(v) < 127]
    return v.astype(np_dtype(src))


@pytest.mark.parametrize("dst", ALL)
@pytest.mark.parametrize("src", ALL)
def test_cast_every_pair_matches_numpy_astype(src, dst):
    x = _cast_inputs(src, dst)
    got = nb.cast(nb.tensor(x), dst).numpy()
    want = x.astype(np_dtype(dst))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.astype(np.float64), want.astype(np.float64))


def test_cast_same_dtype_is_a_no_op_and_astype_is_cast():
    x = nb.tensor([1.0, 2.0])
    assert nb.cast(x, nb.float32) is x
    assert x.astype("int32").dtype == nb.int32


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.5], np.float32)
    np.testing.assert_array_equal(nb.round(nb.tensor(x)).numpy(), np.round(x))


# ---------------------------------------------------------------------------
# Derivative conventions at kinks (JAX's)
# ---------------------------------------------------------------------------
def _grad(f, x):
    return np.asarray(nb.grad(lambda t: nb.sum(f(t)))(nb.tensor(np.asarray(x, np.float32))).numpy())


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(nb.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_one():
    np.testing.assert_array_equal(_grad(nb.abs, [-1.0, 0.0, 2.0]), [-1.0, 1.0, 1.0])


def test_maximum_and_clip_split_the_gradient_at_ties():
    np.testing.assert_array_equal(_grad(lambda x: nb.maximum(x, 1.0), [1.0, 2.0, 0.0]),
                                  [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(_grad(lambda x: nb.clip(x, 0.0, 1.0), [0.0, 0.5, 1.0, 2.0]),
                                  [0.5, 1.0, 0.5, 0.0])


def test_softplus_and_logaddexp_derivatives_at_the_kink():
    np.testing.assert_allclose(_grad(nb.softplus, [0.0]), [0.5])
    gx, gy = nb.grad(lambda x, y: nb.sum(nb.logaddexp(x, y)), argnums=(0, 1))(
        nb.tensor([1.0, -3.0]), nb.tensor([1.0, -3.0]))
    np.testing.assert_allclose(gx.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(gy.numpy(), [0.5, 0.5])
    h = nb.grad(nb.grad(lambda x: nb.softplus(x)))(nb.tensor(0.0))
    np.testing.assert_allclose(h.numpy(), 0.25)


def test_piecewise_constant_functions_have_zero_derivative():
    for f in (nb.sign, nb.floor, nb.ceil, nb.round, lambda x: x // 2.0):
        np.testing.assert_array_equal(_grad(f, [-1.3, 0.2, 2.7]), [0.0, 0.0, 0.0])


def test_pow_derivatives_are_safe_at_zero():
    gx, gy = nb.grad(lambda x, y: nb.sum(nb.pow(x, y)), argnums=(0, 1))(
        nb.tensor([0.0, 0.0, 2.0]), nb.tensor([0.0, 2.0, 3.0]))
    np.testing.assert_allclose(gx.numpy(), [0.0, 0.0, 12.0])
    np.testing.assert_allclose(gy.numpy(), [0.0, 0.0, 8.0 * math.log(2.0)], rtol=1e-6)


def test_integer_pow_is_exact_for_negative_bases():
    x = nb.tensor([-2.0, -3.0, 0.5])
    np.testing.assert_array_equal((x ** 3).numpy(), [-8.0, -27.0, 0.125])
    np.testing.assert_array_equal((x ** -2).numpy(), np.float32([0.25, 1 / 9, 4.0]))
    np.testing.assert_allclose(_grad(lambda t: t ** 3, [-2.0]), [12.0])
    assert np.isnan(nb.pow(nb.tensor(-8.0), 1 / 3).item())  # as NumPy: real powers only
    g = nb.make_graph(lambda t: t ** 2)(x)
    assert [n.prim.name for n in g.nodes] == ["integer_pow"]
    assert nb.pow(x, 1) is x


def test_mod_derivatives():
    x, y = nb.tensor([5.5, -5.5]), nb.tensor([2.0, 2.0])
    gx, gy = nb.grad(lambda a, b: nb.sum(nb.mod(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(gy.numpy(), -np.floor(np.array([5.5, -5.5]) / 2.0))


# ---------------------------------------------------------------------------
# Numerical stability and special values
# ---------------------------------------------------------------------------
def test_softplus_and_logaddexp_do_not_overflow():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    # atol: XLA flushes the float32 subnormal softplus(-100) = 3.8e-44 to zero.
    np.testing.assert_allclose(nb.softplus(nb.tensor(x)).numpy(), np.logaddexp(x, 0), rtol=1e-6,
                               atol=1e-37)
    g = _grad(nb.softplus, x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)
    y = np.array([1e4, -1e4, 3.0], np.float32)
    np.testing.assert_allclose(nb.logaddexp(nb.tensor(x[[4, 0, 2]]), nb.tensor(y)).numpy(),
                               np.logaddexp(x[[4, 0, 2]], y), rtol=1e-6)
    np.testing.assert_allclose(nb.sigmoid(nb.tensor(x)).numpy(), [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.all(np.isfinite(_grad(nb.mish, x)))


def test_logaddexp_special_values_match_numpy():
    inf, nan = np.inf, np.nan
    x = np.array([-inf, inf, inf, nan, 1.0, -inf], np.float32)
    y = np.array([-inf, inf, -inf, 1.0, nan, 2.0], np.float32)
    with np.errstate(invalid="ignore"):
        want = np.logaddexp(x, y)
    np.testing.assert_array_equal(nb.logaddexp(nb.tensor(x), nb.tensor(y)).numpy(), want)


def test_nan_propagation():
    x = nb.tensor([np.nan])
    for f in (nb.relu, nb.softplus, nb.sign, nb.abs, lambda t: nb.maximum(t, 0.0),
              lambda t: nb.clip(t, 0.0, 1.0)):
        assert np.isnan(f(x).item())


def test_erfinv_inverts_erf():
    x = np.linspace(-2.0, 2.0, 9)
    np.testing.assert_allclose(nb.erfinv(nb.erf(nb.tensor(x))).numpy(), x, rtol=1e-9)


def test_mod_and_floor_divide_reconstruct_the_dividend():
    rng = np.random.default_rng(0)
    for dtype in ("int8", "int32", "int64", "uint8", "float32", "float64"):
        lo = 0 if dtype.startswith("u") else -50
        x = rng.integers(lo, 50, 40).astype(dtype)
        y = rng.integers(1, 9, 40).astype(dtype)
        if not dtype.startswith("u"):
            y = np.where(rng.random(40) < 0.5, -y, y).astype(dtype)
        q = nb.floor_divide(nb.tensor(x), nb.tensor(y)).numpy()
        r = nb.mod(nb.tensor(x), nb.tensor(y)).numpy()
        np.testing.assert_array_equal(q, np.floor_divide(x, y))
        np.testing.assert_array_equal(r, np.mod(x, y))
        np.testing.assert_array_equal(q * y + r, x)


def test_isnan_isinf_are_bool_and_not_differentiable():
    x = nb.tensor([1.0, np.nan, np.inf])
    assert nb.isnan(x).dtype == nb.bool_ and not nb.isnan(x).requires_grad
    g = nb.grad(lambda t: nb.sum(nb.where(nb.isfinite(t), t, 0.0)))(x)
    np.testing.assert_array_equal(g.numpy(), [1.0, 0.0, 0.0])


# ---------------------------------------------------------------------------
# Weak typing, dtypes of results, no-op fast paths
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_python_scalars_do_not_promote_float_tensors(dtype):
    x = nb.tensor(np.ones(3, np_dtype(dtype)))
    for out in (x + 2.0, 2 * x, x ** 2, x ** 0.5, 2.0 ** x, x % 3, x // 2, nb.maximum(x, 1),
                nb.clip(x, 0.0, 1.0), nb.where(x > 0, x, 0.0), nb.logaddexp(x, 0.0)):
        assert out.dtype == dtype


def test_python_scalars_do_not_promote_int_tensors():
    x = nb.tensor(np.array([1, 2, 3], np.int8))
    for out in (x + 2, x * 3, x ** 2, x % 2, x // 2, x & 1, x << 1, nb.clip(x, 0, 2)):
        assert out.dtype == nb.int8
    assert (x + 2.5).dtype == nb.float32
    assert nb.sqrt(x).dtype == nb.float32 and nb.sigmoid(x).dtype == nb.float32
    assert nb.div(x, x).dtype == nb.float32


def test_no_node_for_identity_cases():
    u = nb.tensor(np.array([1, 2], np.uint8))
    i = nb.tensor(np.array([1, -2], np.int32))
    assert nb.abs(u) is u and nb.floor(i) is i and nb.ceil(i) is i and nb.round(i) is i
    x = nb.tensor([1.0])
    assert nb.clip(x) is x


def test_operators_are_wired():
    an, bn = np.array([12, -7], np.int32), np.array([10, 2], np.int32)
    a, b = nb.tensor(an), nb.tensor(bn)
    for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y, lambda x, y: ~x,
               lambda x, y: x << 1, lambda x, y: x >> 1, lambda x, y: x % y,
               lambda x, y: x // y, lambda x, y: 2 ** y, lambda x, y: abs(x),
               lambda x, y: 7 % y, lambda x, y: -x, lambda x, y: x ** 2, lambda x, y: 9 // y):
        got, want = op(a, b).numpy(), op(an, bn)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert nb.logical_xor(a, 0).numpy().tolist() == [True, True]


def test_aliases_are_the_same_functions():
    pairs = [(nb.subtract, nb.sub), (nb.multiply, nb.mul), (nb.divide, nb.div),
             (nb.true_divide, nb.div), (nb.negative, nb.neg), (nb.power, nb.pow),
             (nb.absolute, nb.abs), (nb.remainder, nb.mod), (nb.asin, nb.arcsin),
             (nb.acos, nb.arccos), (nb.atan, nb.arctan), (nb.atan2, nb.arctan2),
             (nb.asinh, nb.arcsinh), (nb.acosh, nb.arccosh), (nb.atanh, nb.arctanh)]
    for alias, fn in pairs:
        assert alias is fn


# ---------------------------------------------------------------------------
# Errors: raised before anything is recorded, naming the op and the operands
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn,args,exc,text", [
    (nb.bitwise_and, (np.ones(2, np.float32), np.ones(2, np.float32)), nb.DTypeError,
     "bitwise_and"),
    (nb.bitwise_not, (np.ones(2, np.float32),), nb.DTypeError, "bitwise_not"),
    (nb.left_shift, (np.ones(2, bool), np.ones(2, bool)), nb.DTypeError, "left_shift"),
    (nb.pow, (np.array([2, 3], np.int32), -1), nb.DTypeError, "negative integer powers"),
    (nb.sign, (np.array([True]),), nb.DTypeError, "sign"),
    (nb.neg, (np.array([True]),), nb.DTypeError, "neg"),
    (nb.mod, (np.ones(2, bool), np.ones(2, bool)), nb.DTypeError, "mod"),
    (nb.add, (np.ones((2, 3), np.float32), np.ones(4, np.float32)), nb.ShapeError, r"f32\[2,3\]"),
    (nb.arctan2, (np.ones(2, np.float32), np.ones(3, np.float32)), nb.ShapeError, "arctan2"),
    (nb.where, (np.ones(2, bool), np.ones(3, np.float32), 0.0), nb.ShapeError, "where"),
])
def test_bad_input_raises_a_clear_error(fn, args, exc, text):
    with pytest.raises(exc, match=text):
        fn(*[nb.tensor(a) if isinstance(a, np.ndarray) else a for a in args])


# ---------------------------------------------------------------------------
# Lowerings
# ---------------------------------------------------------------------------
def _ops(f, *args):
    text = lowering.lower_graph(nb.make_graph(f)(*args))
    return [line.split('"')[1] for line in text.splitlines() if '= "' in line]


def test_lowerings_use_the_matching_stablehlo_ops():
    x = nb.tensor([0.5, 1.5])
    assert _ops(nb.sigmoid, x) == ["stablehlo.logistic"]
    assert _ops(nb.round, x) == ["stablehlo.round_nearest_even"]
    assert _ops(nb.erfinv, x) == ["chlo.erf_inv"]
    assert _ops(nb.isfinite, x) == ["stablehlo.is_finite"]
    assert _ops(lambda t: t ** 5, x) == ["stablehlo.multiply"] * 3  # x*x, (x*x)^2, * x
    assert _ops(lambda t: t ** -1, x) == ["stablehlo.constant", "stablehlo.divide"]
    u = nb.tensor(np.array([3], np.uint32))
    assert _ops(lambda t: t >> 1, u)[-1] == "stablehlo.shift_right_logical"
    assert _ops(lambda t: t >> 1, nb.tensor(np.array([3], np.int32)))[-1] == \
        "stablehlo.shift_right_arithmetic"


def test_every_elementwise_primitive_runs_on_every_float_dtype():
    """chlo decompositions and the rest compile for f16/bf16/f64 too (a compile error here
    would otherwise reach users as a raw XLA message)."""
    fns = [nb.exp, nb.exp2, nb.log1p, nb.expm1, nb.sqrt, nb.rsqrt, nb.tan, nb.arcsin,
           nb.arccos, nb.arctan, nb.sinh, nb.cosh, nb.arcsinh, nb.arctanh, nb.erf, nb.erfinv,
           nb.sigmoid, nb.sign, nb.floor, nb.ceil, nb.round, nb.isfinite, nb.gelu, nb.mish,
           lambda t: nb.arccosh(t + 1.5), lambda t: nb.arctan2(t, 1.0), lambda t: t ** 7,
           lambda t: nb.pow(t, t), lambda t: nb.mod(t, 0.3)]
    for dtype in ("float16", "bfloat16", "float64"):
        x = nb.tensor(np.array([0.25, 0.5], np_dtype(dtype)))
        for f in fns:
            out = f(x).numpy()
            assert out.shape == (2,)


# ---------------------------------------------------------------------------
# JAX as an oracle for derivative conventions (second order included)
# ---------------------------------------------------------------------------
_ORACLE = [
    ("relu", nb.relu, "jax.nn.relu"),
    ("gelu", nb.gelu, "lambda x: jax.nn.gelu(x, approximate=False)"),
    ("gelu_tanh", lambda x: nb.gelu(x, approximate=True),
     "lambda x: jax.nn.gelu(x, approximate=True)"),
    ("silu", nb.silu, "jax.nn.silu"),
    ("softplus", nb.softplus, "jax.nn.softplus"),
    ("mish", nb.mish, "jax.nn.mish"),
    ("abs", nb.abs, "jnp.abs"),
    ("clip", lambda x: nb.clip(x, -1.0, 1.0), "lambda x: jnp.clip(x, -1.0, 1.0)"),
    ("cube", lambda x: x ** 3, "lambda x: x ** 3"),
    ("mod", lambda x: nb.mod(x, 0.7), "lambda x: jnp.mod(x, 0.7)"),
    ("logaddexp", lambda x: nb.logaddexp(x, 0.5), "lambda x: jnp.logaddexp(x, 0.5)"),
    ("erfinv", lambda x: nb.erfinv(x * 0.4), "lambda x: jax.scipy.special.erfinv(x * 0.4)"),
]


@pytest.mark.parametrize("name,fn,jax_fn", _ORACLE, ids=[o[0] for o in _ORACLE])
def test_first_and_second_derivatives_match_jax(name, fn, jax_fn):
    pytest.importorskip("jax.scipy.special")  # reachable as jax.scipy.special in eval
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jf = eval(jax_fn, {"jax": jax, "jnp": jnp})
    # 0.0 and 1.0 sit on kinks of relu/abs/clip: the conventions must agree there too.
    x = np.array([-2.0, -1.0, -0.3, 0.0, 0.5, 1.0, 2.0])
    with jax.enable_x64(True):  # scoped: other test files rely on JAX's default x64=False
        d1 = np.asarray(jax.vmap(jax.grad(jf))(x))
        d2 = np.asarray(jax.vmap(jax.grad(jax.grad(jf)))(x))
    assert d1.dtype == np.float64
    g1 = nb.vmap(nb.grad(fn))(nb.tensor(x))
    g2 = nb.vmap(nb.grad(nb.grad(fn)))(nb.tensor(x))
    np.testing.assert_allclose(g1.numpy(), d1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g2.numpy(), d2, rtol=1e-10, atol=1e-12)


def test_primitives_of_this_family_are_registered():
    names = {"pow", "integer_pow", "abs", "sign", "exp2", "erf_inv", "logistic", "rem",
             "is_finite", "and", "or", "xor", "not", "shift_left", "shift_right", "atan2"}
    assert names <= set(PRIMITIVES)
