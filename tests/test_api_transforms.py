"""Bad input gets a clear error, never a silent wrong answer: Python ints that do not fit
their dtype, integer division by zero, the options of grad and the Jacobians, the
non-function arguments of every transform and of jit, check_grads, out-of-memory.
References are NumPy and JAX (the test environment's oracle)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import nabla_like as nb

jax = pytest.importorskip("jax")
jnp = jax.numpy


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol,
                               atol=atol)


def f_sum(x):
    return nb.sum(nb.sin(x) * x)


# ---------------------------------------------------------------------------
# Python ints that do not fit the dtype they become (NumPy 2 and JAX raise OverflowError)
# ---------------------------------------------------------------------------
NUMPY_OVERFLOWS = {
    "i32 + 2**32+5": (lambda: nb.ones(2, dtype=nb.int32) + (2 ** 32 + 5),
                      lambda: np.ones(2, np.int32) + (2 ** 32 + 5)),
    "u32 + -1": (lambda: nb.ones(2, dtype=nb.uint32) + (-1), lambda: np.ones(2, np.uint32) + (-1)),
    "-1 * u8": (lambda: -1 * nb.ones(2, dtype=nb.uint8), lambda: -1 * np.ones(2, np.uint8)),
    "u8 - 256": (lambda: nb.ones(2, dtype=nb.uint8) - 256, lambda: np.ones(2, np.uint8) - 256),
    "i8 max": (lambda: nb.maximum(nb.ones(2, dtype=nb.int8), 128),
               lambda: np.maximum(np.ones(2, np.int8), 128)),
    "f32 + 1<<2000": (lambda: nb.ones(2) + (1 << 2000), lambda: np.ones(2, np.float32) + (1 << 2000)),
}
JAX_OVERFLOWS = {  # a bare Python int is a weak int32 and must fit it
    "abs(1<<70)": (lambda: nb.abs(1 << 70), lambda: jnp.abs(1 << 70)),
    "abs(2**40)": (lambda: nb.abs(2 ** 40), lambda: jnp.abs(2 ** 40)),
    "i32 * 2**31": (lambda: nb.ones(2, dtype=nb.int32) * 2 ** 31,
                    lambda: jnp.ones(2, jnp.int32) * 2 ** 31),
    "where": (lambda: nb.where(nb.ones(2) > 0, 2 ** 40, 1),
              lambda: jnp.where(jnp.ones(2) > 0, 2 ** 40, 1)),
}


@pytest.mark.parametrize("case", sorted(NUMPY_OVERFLOWS))
def test_python_ints_that_do_not_fit_raise_as_numpy(case):
    ours, numpy = NUMPY_OVERFLOWS[case]
    with pytest.raises(OverflowError):
        numpy()
    with pytest.raises(nb.RangeError, match="out of range|too large") as info:
        ours()
    assert isinstance(info.value, OverflowError)


@pytest.mark.parametrize("case", sorted(JAX_OVERFLOWS))
def test_python_ints_that_do_not_fit_int32_raise_as_jax(case):
    ours, reference = JAX_OVERFLOWS[case]
    with pytest.raises(OverflowError):
        reference()
    with pytest.raises(nb.RangeError, match="out of range for int32"):
        ours()


def test_python_ints_that_fit_match_numpy():
    cases = [
        (nb.ones(2, dtype=nb.int64) + 2 ** 40, np.ones(2, np.int64) + 2 ** 40),
        (nb.ones(2) + 2 ** 40, np.ones(2, np.float32) + 2 ** 40),
        (nb.ones(2, dtype=nb.int32) * (-2 ** 31), np.ones(2, np.int32) * (-2 ** 31)),
        (nb.ones(2, dtype=nb.uint8) + 254, np.ones(2, np.uint8) + 254),
        (nb.ones(2, dtype=nb.uint32) + (2 ** 32 - 2), np.ones(2, np.uint32) + (2 ** 32 - 2)),
        (nb.ones(2, dtype=nb.int8) + (-128), np.ones(2, np.int8) + (-128)),
    ]
    for ours, want in cases:
        got = ours.numpy()
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_ints_that_do_not_fit_raise_inside_transforms():
    with pytest.raises(nb.RangeError):
        nb.jit(lambda x: x + (2 ** 32 + 5))(nb.ones(2, dtype=nb.int32))
    with pytest.raises(nb.RangeError):
        nb.vmap(lambda x: x - 300)(nb.ones((2, 2), dtype=nb.uint8))
    with pytest.raises(nb.RangeError):
        nb.grad(lambda x: nb.sum(x) * (1 << 2000))(nb.ones(2))
    f = nb.jit(lambda x, n: x * n)
    close(f(nb.ones(2), 3), [3, 3])
    with pytest.raises(nb.RangeError, match="does not fit"):  # a new value for a cached trace
        f(nb.ones(2), 2 ** 40)


# ---------------------------------------------------------------------------
# Integer division by zero: 0 for // and %, as NumPy (XLA gives -1 and x); INT_MIN // -1
# wraps to INT_MIN as in NumPy
# ---------------------------------------------------------------------------
def _division_operands(dtype):
    info = np.iinfo(dtype)
    if info.min < 0:
        x = [7, -7, 0, 1, info.max, info.min, info.min, 5, -6, 9]
        y = [0, 0, 0, 3, 0, -1, 0, 2, 4, -4]
    else:
        x = [7, 0, 1, info.max, 5, 6, 9]
        y = [0, 0, 3, 0, 2, 4, 1]
    return np.array(x, dtype), np.array(y, dtype)


def _numpy_division(x, y):
    with np.errstate(all="ignore"):
        return np.floor_divide(x, y), np.mod(x, y)


DIVISION_RUNS = {
    "eager": lambda a, b: (a // b, a % b),
    "functions": lambda a, b: (nb.floor_divide(a, b), nb.remainder(a, b)),
    "jit": nb.jit(lambda a, b: (a // b, a % b)),
    "vmap": nb.vmap(lambda a, b: (a // b, nb.mod(a, b))),
}


@pytest.mark.parametrize("run", sorted(DIVISION_RUNS))
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint32])
def test_integer_division_by_zero_matches_numpy(dtype, run):
    x, y = _division_operands(dtype)
    want_q, want_m = _numpy_division(x, y)
    q, m = DIVISION_RUNS[run](nb.tensor(x), nb.tensor(y))
    np.testing.assert_array_equal(q.numpy(), want_q)
    np.testing.assert_array_equal(m.numpy(), want_m)
    assert q.dtype == dtype and m.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int32, np.uint8])
def test_integer_division_by_a_python_zero_matches_numpy(dtype):
    x, _ = _division_operands(dtype)
    want_q, want_m = _numpy_division(x, 0)
    t = nb.tensor(x)
    np.testing.assert_array_equal((t // 0).numpy(), want_q)
    np.testing.assert_array_equal((t % 0).numpy(), want_m)
    np.testing.assert_array_equal(nb.jit(lambda a: a % 0)(t).numpy(), want_m)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal((5 // nb.tensor(np.zeros(2, dtype))).numpy(),
                                      5 // np.zeros(2, dtype))


def test_integer_remainder_by_zero_matches_jax():
    # (jax.numpy's floor_divide by zero keeps XLA's -1 - 1 and wraps; NumPy's 0 is the
    # answer followed here, the remainder agrees with both)
    for dtype in (np.int32, np.uint8):
        x, y = _division_operands(dtype)
        np.testing.assert_array_equal((nb.tensor(x) % nb.tensor(y)).numpy(),
                                      np.asarray(jnp.remainder(x, y)))


def test_integer_division_stablehlo_guards_the_divisor():
    text = nb.jit(lambda a, b: a // b).lower(nb.ones(3, dtype=nb.int32),
                                             nb.ones(3, dtype=nb.int32)).as_text()
    assert "stablehlo.select" in text and "stablehlo.divide" in text
    text = nb.jit(lambda a, b: a / b).lower(nb.ones(3), nb.ones(3)).as_text()
    assert "stablehlo.select" not in text  # floats divide as IEEE says


# ---------------------------------------------------------------------------
# grad's options: allow_int, mode, holomorphic, reduce_axes
# ---------------------------------------------------------------------------
def test_allow_int_gives_zero_gradients_where_jax_gives_float0():
    f = lambda x, i: nb.sum(x * i * x)  # noqa: E731
    jf = lambda x, i: jnp.sum(x * i * x)  # noqa: E731
    x, i = np.array([1.0, 2.0], np.float32), np.array([3, 4], np.int32)
    want = jax.grad(jf, argnums=(0, 1), allow_int=True)(x, i)
    for mode in ("reverse", "forward"):
        gx, gi = nb.grad(f, argnums=(0, 1), allow_int=True, mode=mode)(nb.tensor(x), nb.tensor(i))
        close(gx, want[0])
        assert gi.shape == want[1].shape and gi.dtype == nb.int32
        np.testing.assert_array_equal(gi.numpy(), 0)
    # Python ints too, and value_and_grad
    (v, (gx, gi)) = nb.value_and_grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(1.5, 2)
    close(v, 3.0)
    close(gx, 2.0)
    assert gi.item() == 0
    with pytest.raises(nb.GradError, match="allow_int=True"):
        nb.grad(f, argnums=(0, 1))(nb.tensor(x), nb.tensor(i))
    # eager Python control flow (the concrete path) as well
    g = nb.grad(lambda x, i: nb.sum(x * i) if float(nb.sum(x)) > 0 else nb.sum(x),
                argnums=(0, 1), allow_int=True)(nb.tensor(x), nb.tensor(i))
    close(g[0], [3, 4])
    np.testing.assert_array_equal(g[1].numpy(), [0, 0])


@pytest.mark.parametrize("jac", ["jacfwd", "jacrev"])
def test_jacobians_with_allow_int(jac):
    x, i = np.array([1.0, 2.0], np.float32), np.array([3, 4, 5], np.int32)
    want = jax.jacrev(lambda x, i: x * jnp.sum(i), argnums=(0, 1), allow_int=True)(x, i)
    jx, ji = getattr(nb, jac)(lambda x, i: x * nb.sum(i), argnums=(0, 1), allow_int=True)(
        nb.tensor(x), nb.tensor(i))
    close(jx, want[0])
    assert ji.shape == want[1].shape == (2, 3)
    np.testing.assert_array_equal(ji.numpy(), 0)
    only_ints = getattr(nb, jac)(lambda i: i * 2.0, allow_int=True)(nb.tensor(i))
    assert only_ints.shape == (3, 3)
    with pytest.raises(nb.GradError, match="int32"):
        getattr(nb, jac)(lambda i: i * 2.0)(nb.tensor(i))


FORWARD_CASES = {
    "vector": (lambda x: nb.sum(nb.sin(x) * x), lambda x: jnp.sum(jnp.sin(x) * x),
               ([0.5, -1.0, 2.0],), {}),
    "argnums": (lambda x, y: nb.sum(x * nb.exp(y)), lambda x, y: jnp.sum(x * jnp.exp(y)),
                ([0.5, 1.0], [0.1, -0.2]), {"argnums": (0, 1)}),
    "one-element output": (lambda x: nb.reshape(nb.sum(x ** 3), (1,)),
                           lambda x: jnp.sum(x ** 3), ([[1.0, 2.0], [3.0, 0.5]],), {}),
    "second argument": (lambda x, y: nb.sum(nb.tanh(x * y)), lambda x, y: jnp.sum(jnp.tanh(x * y)),
                        ([0.3, 0.7], [1.5, -0.5]), {"argnums": 1}),
}


@pytest.mark.parametrize("case", sorted(FORWARD_CASES))
def test_grad_mode_forward_matches_reverse_and_jax(case):
    f, jf, args, kw = FORWARD_CASES[case]
    arrays = [np.asarray(a, np.float32) for a in args]
    tensors = [nb.tensor(a) for a in arrays]
    want = jax.grad(jf, **kw)(*arrays)
    fwd = nb.grad(f, mode="forward", **kw)(*tensors)
    rev = nb.grad(f, **kw)(*tensors)
    for got, w, r in zip(*(v if isinstance(v, tuple) else (v,) for v in (fwd, want, rev))):
        close(got, w, rtol=1e-5)
        close(got, r, rtol=1e-5)
        assert got.shape == r.shape


def test_grad_mode_forward_with_aux_pytrees_and_keywords():
    def loss(params, scale=1.0):
        y = nb.sum(params["w"] * params["b"]) * scale
        return y, {"y": y}
    params = {"w": nb.tensor([1.0, 2.0]), "b": nb.tensor([3.0, 4.0])}
    (value, aux), g = nb.value_and_grad(loss, has_aux=True, mode="forward")(params, scale=2.0)
    close(value, 22.0)
    close(aux["y"], 22.0)
    close(g["w"], [6, 8])
    close(g["b"], [2, 4])
    gw = nb.grad(lambda w, b: nb.sum(w * b), wrt="b", mode="forward")(nb.ones(2), b=nb.ones(2) * 3)
    close(gw, [1, 1])
    with pytest.raises(nb.GradError, match="scalar output"):
        nb.grad(lambda x: x * 2.0, mode="forward")(nb.ones(3))


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacfwd", "jacrev"])
def test_holomorphic_is_unsupported(name):
    with pytest.raises(nb.UnsupportedError, match="complex") as info:
        getattr(nb, name)(f_sum, holomorphic=True)
    assert isinstance(info.value, NotImplementedError)
    getattr(nb, name)(f_sum, holomorphic=False)(nb.ones(2))


def test_reduce_axes_is_unsupported_as_in_jax():
    with pytest.raises(NotImplementedError):
        jax.grad(lambda x: x, reduce_axes=("batch",))
    with pytest.raises(nb.UnsupportedError, match="reduce_axes"):
        nb.grad(f_sum, reduce_axes=("batch",))
    with pytest.raises(nb.UnsupportedError, match="reduce_axes"):
        nb.value_and_grad(f_sum, reduce_axes=(0,))
    close(nb.grad(f_sum, reduce_axes=())(nb.zeros(2)), [0, 0])


def test_decorator_form_keeps_every_option():
    g = nb.grad(argnums=(0, 1), allow_int=True, mode="forward")(lambda x, i: nb.sum(x * i))
    gx, gi = g(nb.tensor([1.0, 2.0]), nb.tensor([3, 4]))
    close(gx, [3, 4])
    np.testing.assert_array_equal(gi.numpy(), [0, 0])
    with pytest.raises(nb.UnsupportedError):
        nb.grad(holomorphic=True)(f_sum)
    with pytest.raises(nb.ArgumentValueError, match="mode"):
        nb.value_and_grad(mode="backwards")(f_sum)


def test_make_graph_static_argnums():
    w = nb.tensor([1.0, 2.0, 3.0])
    plain = nb.make_graph(lambda x, w: x * w)(nb.ones(3), w)
    static = nb.make_graph(lambda x, w: x * w, static_argnums=1)(nb.ones(3), w)
    assert len(plain.inputs) == 2 and len(static.inputs) == 2 and len(static.consts) == 1
    assert "consts" in str(static) and "consts" not in str(plain)
    from nabla_like.transforms.graphs import const_args, eval_graph
    out = eval_graph(static, [nb.tensor([2.0, 2.0, 2.0])] + const_args(static))
    close(out[0], [2, 4, 6])
    neg = nb.make_graph(lambda x, w: x * w, static_argnums=-1)(nb.ones(3), w)
    assert len(neg.consts) == 1
    with pytest.raises(nb.TransformError, match="static_argnums=2 is out of range"):
        nb.make_graph(lambda x, w: x * w, static_argnums=2)
    with pytest.raises(nb.TransformError, match="out of range for a call with 1"):
        nb.make_graph(lambda *a: a[0], static_argnums=1)(nb.ones(3))


# ---------------------------------------------------------------------------
# The non-function arguments of every transform, checked where the transform is made
# ---------------------------------------------------------------------------
def one(x):
    return nb.sum(x)


X = np.ones(3, np.float32)
BAD_CALLS = {  # name: (our call, our error, message fragment, JAX's call or None)
    "grad fun": (lambda: nb.grad(3), nb.ArgumentError, "fun must be a callable",
                 lambda: jax.grad(3)),
    "grad argnums float": (lambda: nb.grad(one, argnums=1.5), nb.ArgumentError,
                           "argnums must be an int", lambda: jax.grad(one, argnums=1.5)),
    "grad argnums range": (lambda: nb.grad(one, argnums=2), nb.TransformError,
                           "argnums=2 is out of range: one takes 1 positional argument", None),
    "grad argnums twice": (lambda: nb.grad(lambda x, y: x, argnums=(0, -2)), nb.TransformError,
                           "twice", None),
    "grad argnums empty": (lambda: nb.grad(one, argnums=()), nb.TransformError, "empty", None),
    "grad has_aux": (lambda: nb.grad(one, has_aux="yes"), nb.ArgumentError, "has_aux", None),
    "grad allow_int": (lambda: nb.grad(one, allow_int=[True]), nb.ArgumentError, "allow_int",
                       None),
    "grad wrt": (lambda: nb.grad(one, wrt=3), nb.ArgumentError, "wrt", None),
    "value_and_grad argnums": (lambda: nb.value_and_grad(one, argnums="0"), nb.ArgumentError,
                               "argnums", None),
    "jit fun": (lambda: nb.jit(3), nb.ArgumentError, "fun must be a callable",
                lambda: jax.jit(3)),
    "jit static_argnums": (lambda: nb.jit(one, static_argnums=5), nb.TransformError,
                           "static_argnums=5 is out of range",
                           lambda: jax.jit(one, static_argnums=5)),
    "jit negative static_argnums": (lambda: nb.jit(one, static_argnums=-2), nb.TransformError,
                                    "out of range", lambda: jax.jit(one, static_argnums=-2)),
    "jit static_argnames": (lambda: nb.jit(one, static_argnames="y"), nb.TransformError,
                            "'y', which one does not take",
                            lambda: jax.jit(one, static_argnames="y")),
    "jit static_argnames type": (lambda: nb.jit(one, static_argnames=5), nb.ArgumentError,
                                 "static_argnames must be a str", None),
    "jit donate_argnums": (lambda: nb.jit(one, donate_argnums=1), nb.TransformError,
                           "donate_argnums=1 is out of range",
                           lambda: jax.jit(one, donate_argnums=1)),
    "jit static and donated": (lambda: nb.jit(one, static_argnums=0, donate_argnums=0),
                               nb.TransformError, "both static", None),
    "vmap fun": (lambda: nb.vmap("f"), nb.ArgumentError, "fun must be a callable", None),
    "vmap in_axes float": (lambda: nb.vmap(one, in_axes=1.5), nb.ArgumentError, "in_axes",
                           lambda: jax.vmap(one, in_axes=1.5)(X)),
    "vmap in_axes str": (lambda: nb.vmap(one, in_axes="a"), nb.ArgumentError, "in_axes",
                         lambda: jax.vmap(one, in_axes="a")(X)),
    "vmap in_axes leaf": (lambda: nb.vmap(lambda x, y: x, in_axes=(0, [0.5])), nb.ArgumentError,
                          "with a float 0.5", None),
    "vmap in_axes too long": (lambda: nb.vmap(one, in_axes=(0, 0)), nb.TransformError,
                              "2 entries", None),
    "vmap out_axes": (lambda: nb.vmap(one, out_axes="x"), nb.ArgumentError, "out_axes", None),
    "vmap axis_size": (lambda: nb.vmap(one, axis_size=2.5), nb.ArgumentError, "axis_size",
                       None),
    "jacfwd argnums": (lambda: nb.jacfwd(one, argnums=3), nb.TransformError, "out of range",
                       None),
    "jacrev has_aux": (lambda: nb.jacrev(one, has_aux=2), nb.ArgumentError, "has_aux", None),
    "jacobian fun": (lambda: nb.jacobian(None), nb.ArgumentError, "fun", None),
    "hessian argnums": (lambda: nb.hessian(one, argnums=(0,), has_aux=[]), nb.ArgumentError,
                        "has_aux", None),
    "make_graph static_argnums": (lambda: nb.make_graph(one, static_argnums="0"),
                                  nb.ArgumentError, "static_argnums", None),
    "eval_shape fun": (lambda: nb.eval_shape("f", nb.ones(2)), nb.ArgumentError, "fun",
                       lambda: jax.eval_shape("f", X)),
    "vjp fun": (lambda: nb.vjp(3, nb.ones(2)), nb.ArgumentError, "fun", None),
    "vjp has_aux": (lambda: nb.vjp(one, nb.ones(2), has_aux=1.5), nb.ArgumentError, "has_aux",
                    None),
    "jvp tangents": (lambda: nb.jvp(one, (nb.ones(2),), nb.ones(2)), nb.ArgumentError,
                     "tangents must be a tuple", lambda: jax.jvp(one, (X,), X)),
    "linearize fun": (lambda: nb.linearize(3, nb.ones(2)), nb.ArgumentError, "fun", None),
    "hvp structure": (lambda: nb.hvp(one, nb.ones(2), (nb.ones(2),)), nb.TransformError,
                      "both be tensors or both tuples", None),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_transform_arguments_are_clear_errors(case):
    ours, cls, fragment, reference = BAD_CALLS[case]
    with pytest.raises(cls, match=re.escape(fragment)) as info:
        ours()
    assert isinstance(info.value, nb.NablaError)
    assert str(info.value).split(":")[0] == case.split()[0]  # the message names the transform
    if reference is not None:  # the builtin JAX raises is the one we raise too
        with pytest.raises(Exception) as jax_info:
            reference()
        builtin = next(c for c in type(jax_info.value).__mro__
                       if c.__module__ == "builtins" and c is not Exception)
        assert isinstance(info.value, builtin), (type(jax_info.value), builtin)


BAD_INPUTS = {  # a transformed function called on something it cannot differentiate
    "hessian": lambda bad: nb.hessian(one)(bad),
    "jacfwd": lambda bad: nb.jacfwd(one)(bad),
    "jacrev": lambda bad: nb.jacrev(one)(bad),
    "jacobian": lambda bad: nb.jacobian(one)(bad),
    "grad": lambda bad: nb.grad(one)(bad),
    "value_and_grad": lambda bad: nb.value_and_grad(one)(bad),
    "vjp": lambda bad: nb.vjp(one, bad),
}
NOT_TENSORS = ["abc", object(), np.array(["a"]), [1.0, "x"]]


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("bad", NOT_TENSORS + [None, (None,)],
                         ids=["str", "object", "str-array", "list-with-str", "None", "tuple-None"])
def test_bad_inputs_name_the_transform_and_the_argument(name, bad):
    if bad is None or bad == (None,):
        if name in ("grad", "value_and_grad", "vjp"):
            # an empty pytree is differentiable (JAX gives None back); `one` fails on it
            with pytest.raises(nb.NablaError, match="^sum: "):
                BAD_INPUTS[name](bad)
            return
    with pytest.raises(nb.NablaError, match=rf"^{name}: .*argument 0") as info:
        BAD_INPUTS[name](bad)
    assert isinstance(info.value, (TypeError, ValueError))


def test_gradients_of_empty_pytrees_are_empty_as_in_jax():
    f = lambda x, extra: nb.sum(x)  # noqa: E731
    assert nb.grad(f, argnums=1)(nb.ones(2), None) is None
    assert nb.grad(f, argnums=1)(nb.ones(2), ()) == ()
    assert jax.grad(lambda x, e: jnp.sum(x), argnums=1)(jnp.ones(2), ()) == ()


def test_bad_inputs_at_call_time():
    with pytest.raises(nb.TransformError, match="hessian: argnums 0 is out of range for a call "
                                                "with 0 positional arguments"):
        nb.hessian(one)()
    with pytest.raises(nb.TransformError, match="grad: argnums 1 is out of range"):
        nb.grad(lambda *a: nb.sum(a[0]), argnums=1)(nb.ones(2))
    with pytest.raises(nb.TransformError, match="vmap: in_axes 2 is out of range"):
        nb.vmap(one, in_axes=2)(nb.ones((3, 2)))


def test_validation_accepts_what_it_should():
    x = nb.tensor([1.0, 2.0])
    close(nb.grad(lambda x, y=2.0: nb.sum(x * y), argnums=np.int64(0))(x), [2, 2])
    close(nb.grad(lambda *a: nb.sum(a[0] * a[1]), argnums=1)(x, x), [1, 2])
    close(nb.vmap(lambda x: x * 2, in_axes=np.int32(0))(nb.ones((2, 3))), np.full((2, 3), 2))
    close(nb.vmap(lambda d: d["a"] * 2, in_axes=({"a": 0},))({"a": nb.ones((2, 3))}),
          np.full((2, 3), 2))
    close(nb.jit(lambda x, n: x * n, static_argnums=-1)(x, 3), [3, 6])
    close(nb.jit(lambda x, **kw: x * kw["n"], static_argnames="n")(x, n=3), [3, 6])
    close(nb.jit(lambda *a: a[0] * a[1], static_argnums=1)(x, 3), [3, 6])
    donated = nb.jit(lambda a, b: a + b, donate_argnums=-2)
    a = nb.tensor([1.0, 2.0]) * 1.0
    close(donated(a, x), [2, 4])
    with pytest.raises(nb.JitError, match="donated"):  # a negative donate_argnums counts
        a + 1.0
    close(nb.hvp(lambda x: nb.sum(x ** 3), (x,), (nb.ones(2),))[0], [6, 12])


# ---------------------------------------------------------------------------
# check_grads: JAX's assertion, raising nb.GradCheckError (an AssertionError)
# ---------------------------------------------------------------------------
@nb.custom_vjp
def _sin_twice_too_steep(x):
    return nb.sin(x)


_sin_twice_too_steep.defvjp(lambda x: (nb.sin(x), x), lambda x, g: (g * nb.cos(x) * 2.0,))


@nb.custom_vjp
def _cube_first_order_only(x):
    return x ** 3


# right at first order; its VJP is a constant in x, so second order is wrong
_cube_first_order_only.defvjp(lambda x: (x ** 3, x),
                              lambda x, g: (g * 3.0 * nb.stop_gradient(x) ** 2,))


@nb.custom_jvp
def _exp_tangent_too_large(x):
    return nb.exp(x)


@_exp_tangent_too_large.defjvp
def _(primals, tangents):
    (x,), (t,) = primals, tangents
    return nb.exp(x), t * nb.exp(x) * 1.5


def _values(message: str) -> tuple[float, float]:
    m = re.search(r"analytic (\S+), numeric (\S+) ", message)
    return float(m.group(1)), float(m.group(2))


XS = nb.tensor([0.5, 1.0, -0.3])


def test_check_grads_passes_correct_functions():
    nb.check_grads(lambda x: nb.sum(nb.sin(x) * x), (XS,), order=2)
    nb.check_grads(lambda x, y: nb.tanh(x) * y + x @ y, (XS, XS * 2.0), order=1)
    nb.check_grads(lambda p: {"out": p["w"] * nb.exp(p["b"])},
                   ({"w": XS, "b": XS * 0.5},), order=2, modes="rev")
    nb.check_grads(lambda x: nb.exp(x) * x, (nb.tensor(np.array([0.1, 0.7])),), order=1)


def test_check_grads_names_the_worst_element_of_a_wrong_vjp():
    with pytest.raises(nb.GradCheckError) as info:
        nb.check_grads(_sin_twice_too_steep, (XS,), modes=("rev",))
    e = info.value
    assert isinstance(e, AssertionError)
    message = str(e)
    assert message.startswith("check_grads: VJP (order 1) cotangent: 3 of 3 elements differ")
    assert re.search(r"the worst is argument at index \(\d,\)", message)
    analytic, numeric = _values(message)
    close(analytic, 2 * numeric, rtol=1e-2)  # the rule doubles the derivative


def test_check_grads_finds_errors_at_second_order_only():
    nb.check_grads(_cube_first_order_only, (XS,), order=1, modes="rev")
    with pytest.raises(nb.GradCheckError, match=r"VJP of VJP \(order 2\)"):
        nb.check_grads(_cube_first_order_only, (XS,), order=2, modes="rev")


def test_check_grads_names_a_wrong_jvp():
    with pytest.raises(AssertionError) as info:
        nb.check_grads(_exp_tangent_too_large, (XS,))
    message = str(info.value)
    assert message.startswith("check_grads: JVP (order 1) tangent")
    assert "output at index" in message
    analytic, numeric = _values(message)
    close(analytic, 1.5 * numeric, rtol=1e-2)
    # check_gradient still returns its (failed) result instead of raising
    result = nb.check_gradient(_exp_tangent_too_large, XS)
    assert not result and result.num_failed > 0


def test_check_grads_agrees_with_jax_on_what_passes():
    from jax.test_util import check_grads as jax_check_grads
    x = np.array([0.5, 1.0, -0.3])
    with jax.enable_x64(True):
        jax_check_grads(lambda x: jnp.sum(jnp.sin(x) * x), (x,), order=1)
    nb.check_grads(lambda x: nb.sum(nb.sin(x) * x), (nb.tensor(x),), order=1)


def test_check_grads_arguments():
    with pytest.raises(nb.ArgumentError, match="args must be a tuple"):
        nb.check_grads(nb.sin, XS)
    with pytest.raises(nb.ArgumentError, match="f must be a callable"):
        nb.check_grads(3, (XS,))
    with pytest.raises(nb.ArgumentValueError, match="order must be >= 1"):
        nb.check_grads(nb.sin, (XS,), order=0)
    with pytest.raises(nb.ArgumentValueError, match="modes"):
        nb.check_grads(nb.sin, (XS,), modes=("fwd", "sideways"))
    with pytest.raises(nb.ArgumentError, match="atol"):
        nb.check_grads(nb.sin, (XS,), atol="tight")
    with pytest.raises(nb.ArgumentValueError, match="eps must be > 0"):
        nb.check_grads(nb.sin, (XS,), eps=0)
    with pytest.raises(nb.GradError, match="floating point"):
        nb.check_grads(nb.sin, (nb.tensor([1, 2]),))
    with pytest.raises(nb.ArgumentError, match="f must be a callable"):
        nb.check_gradients(3, [XS])


# ---------------------------------------------------------------------------
# Out of memory: a clear error, and the lazy runtime keeps working
# ---------------------------------------------------------------------------
HUGE = (1 << 46,)  # 256 TiB of float32: more than any address space holds


def test_out_of_memory_is_a_clear_error():
    with pytest.raises(nb.OutOfMemoryError, match=r"numpy: .*f32\[70368744177664\] "
                                                  r"\(256\.0 TiB\)") as info:
        nb.zeros(HUGE).numpy()
    assert isinstance(info.value, MemoryError)
    y = nb.zeros(HUGE) + 1.0
    with pytest.raises(nb.OutOfMemoryError, match=r"numpy: out of memory running a program .* "
                                                  r"made by 'add'"):
        y.numpy()
    with pytest.raises(nb.OutOfMemoryError, match="jit"):
        nb.jit(lambda x: x * nb.ones((1 << 23, 1)))(nb.ones((1 << 23,)))


def test_the_runtime_works_after_running_out_of_memory():
    y = nb.zeros(HUGE) + 1.0  # pending, and kept alive
    with pytest.raises(nb.OutOfMemoryError):
        y.numpy()
    close((nb.ones(3) * 2.0).numpy(), [2, 2, 2])
    # a step boundary flushes this thread's pending work: y's failed program is not in it
    close(nb.grad(lambda x: nb.sum(x * x))(nb.tensor([1.0, 2.0])), [2, 4])
    z = nb.ones(2) + 1.0
    nb.realize_all(z)
    close(z, [2, 2])
    with pytest.raises(nb.OutOfMemoryError):  # y itself still cannot be computed
        nb.block_until_ready(y)
    close(nb.jit(lambda x: x + 1.0)(nb.ones(2)), [2, 2])
