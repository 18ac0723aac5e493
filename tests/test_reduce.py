"""Reductions beyond the op table: errors, result dtypes, tie and zero derivatives
(against closed forms), stability edge cases, accumulation precision, lowering."""
import itertools

import ml_dtypes
import numpy as np
import pytest

import nabla_like.lowering as lowering
import nabla_like as nb


def np_of(t):
    return np.asarray(t.numpy())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn,name", [(nb.max, "maximum"), (nb.min, "minimum")])
def test_max_min_of_an_empty_axis_raise_like_numpy(fn, name):
    x = nb.zeros((0, 3))
    message = f"zero-size array to reduction operation {name} which has no identity"
    with pytest.raises(nb.ShapeError, match=message):
        fn(x, axis=0)
    with pytest.raises(ValueError, match=message):  # also the builtin NumPy raises
        fn(x)
    # the nonempty axis of an empty tensor has a (size-0) result, as in NumPy
    assert fn(x, axis=1).shape == (0,)


@pytest.mark.parametrize("fn", [nb.argmax, nb.argmin])
def test_argmax_argmin_of_an_empty_sequence_raise(fn):
    with pytest.raises(nb.ShapeError, match="empty sequence"):
        fn(nb.zeros((3, 0)), axis=1)
    with pytest.raises(nb.ShapeError, match="empty sequence"):
        fn(nb.zeros((0,)))
    assert fn(nb.zeros((3, 0)), axis=0).shape == (0,)


@pytest.mark.parametrize("fn", [nb.sum, nb.max, nb.prod, nb.mean, nb.var, nb.all, nb.logsumexp])
def test_bad_axes_raise_axis_errors(fn):
    x = nb.ones((2, 3))
    with pytest.raises(nb.AxisError, match="out of range"):
        fn(x, axis=2)
    with pytest.raises(nb.AxisError, match="repeated"):
        fn(x, axis=(1, -1))


@pytest.mark.parametrize("fn", [nb.cumsum, nb.cumprod, nb.argmax, nb.softmax])
def test_single_axis_ops_reject_bad_axes(fn):
    x = nb.ones((2, 3))
    with pytest.raises(nb.AxisError):
        fn(x, axis=-3)
    if fn is not nb.softmax:  # softmax takes a tuple of axes
        with pytest.raises(nb.AxisError):
            fn(x, axis=(0, 1))


def test_var_ddof_and_correction_must_agree():
    x = nb.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose(np_of(nb.var(x, correction=1)), np.var([1, 2, 4], ddof=1), 1e-6)
    np.testing.assert_allclose(np_of(nb.std(x, ddof=1, correction=1)), np.std([1, 2, 4], ddof=1),
                               1e-6)
    with pytest.raises(ValueError, match="ddof"):
        nb.var(x, ddof=1, correction=2)


def test_dtype_errors_name_the_operand():
    from nabla_like.ops.reduce import reduce_and_p
    with pytest.raises(nb.DTypeError, match="f32"):
        reduce_and_p.bind(nb.ones((2,)), axes=(0,))


# ---------------------------------------------------------------------------
# Result dtypes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn,src,want", [
    (nb.sum, nb.int8, nb.int32), (nb.sum, nb.uint8, nb.uint32), (nb.sum, nb.bool_, nb.int32),
    (nb.sum, nb.int64, nb.int64), (nb.sum, nb.float16, nb.float16),
    (nb.prod, nb.int16, nb.int32), (nb.prod, nb.bool_, nb.int32), (nb.prod, nb.uint8, nb.uint32),
    (nb.cumsum, nb.bool_, nb.int32), (nb.cumsum, nb.int8, nb.int32),
    (nb.cumprod, nb.uint8, nb.uint32), (nb.cumsum, nb.bfloat16, nb.bfloat16),
    (nb.mean, nb.int32, nb.float32), (nb.mean, nb.bool_, nb.float32),
    (nb.mean, nb.float16, nb.float16), (nb.var, nb.int64, nb.float32),
    (nb.std, nb.uint8, nb.float32), (nb.var, nb.bfloat16, nb.bfloat16),
    (nb.max, nb.int8, nb.int8), (nb.min, nb.bool_, nb.bool_),
    (nb.argmax, nb.float64, nb.int32), (nb.argmin, nb.uint8, nb.int32),
    (nb.all, nb.float32, nb.bool_), (nb.any, nb.int32, nb.bool_),
    (nb.logsumexp, nb.int32, nb.float32), (nb.softmax, nb.int8, nb.float32),
])
def test_result_dtypes(fn, src, want):
    out = fn(nb.ones((2, 3), dtype=src))
    assert out.dtype == want
    out.numpy()


def test_empty_sums_and_products_are_identities():
    x = nb.zeros((0, 2), dtype=nb.int8)
    np.testing.assert_array_equal(np_of(nb.sum(x, axis=0)), [0, 0])
    np.testing.assert_array_equal(np_of(nb.prod(x, axis=0)), [1, 1])
    np.testing.assert_array_equal(np_of(nb.all(nb.zeros((0,), dtype=nb.bool_))), True)
    np.testing.assert_array_equal(np_of(nb.any(nb.zeros((0,), dtype=nb.bool_))), False)
    assert nb.prod(nb.zeros((0,))).item() == 1.0


def test_no_node_when_nothing_is_reduced():
    x = nb.ones((2, 3))
    assert nb.sum(x, axis=()) is x
    assert nb.max(x, axis=()) is x
    assert nb.prod(x, axis=()) is x
    y = nb.ones((1, 3))
    assert nb.cumsum(y, axis=0) is y


# ---------------------------------------------------------------------------
# Derivatives at ties and zeros, against closed forms
# ---------------------------------------------------------------------------
TIED = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0]])


@pytest.mark.parametrize("fn,pick", [(nb.max, np.max), (nb.min, np.min)])
def test_max_min_derivatives_split_evenly_among_ties(fn, pick):
    x = nb.tensor(TIED)
    locations = (TIED == pick(TIED, axis=1, keepdims=True)).astype(np.float64)
    share = locations / locations.sum(axis=1, keepdims=True)
    grad = nb.grad(lambda x: nb.sum(fn(x, axis=1)))(x)
    np.testing.assert_allclose(np_of(grad), share)
    t = np.arange(9.0).reshape(3, 3)
    _, tangent = nb.jvp(lambda x: fn(x, axis=1), (x,), (nb.tensor(t),))
    np.testing.assert_allclose(np_of(tangent), (share * t).sum(axis=1))
    # over all axes: the 1 is shared by every place holding the global extremum
    whole = (TIED == pick(TIED)).astype(np.float64)
    np.testing.assert_allclose(np_of(nb.grad(fn)(x)), whole / whole.sum())


def _others(x):
    """prod of the other elements, by brute force."""
    return np.array([np.prod(np.delete(x, i)) for i in range(x.size)])


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.5, -2.0, 0.5, 4.0]])
def test_prod_gradient_and_hessian_with_zeros(values):
    x = np.array(values)
    np.testing.assert_allclose(np_of(nb.grad(nb.prod)(nb.tensor(x))), _others(x))
    hessian = np.array([[0.0 if i == j else np.prod(np.delete(x, [i, j]))
                         for j in range(x.size)] for i in range(x.size)])
    np.testing.assert_allclose(np_of(nb.jacfwd(nb.grad(nb.prod))(nb.tensor(x))), hessian,
                               atol=1e-12)
    np.testing.assert_allclose(np_of(nb.jacrev(nb.grad(nb.prod))(nb.tensor(x))), hessian,
                               atol=1e-12)


def _cumprod_jacobian(x, reverse):
    n = x.size
    jac = np.zeros((n, n))
    for i, j in itertools.product(range(n), range(n)):
        window = range(i, n) if reverse else range(i + 1)
        if j in window:
            jac[i, j] = np.prod([x[k] for k in window if k != j])
    return jac


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("values", [[1.5, 0.0, 2.0, -0.5, 0.0, 1.2, 0.7],
                                    [0.0, 2.0, 3.0, 0.5, 1.1], [0.3, 1.7, -2.0]])
def test_cumprod_jacobian_with_zeros(values, reverse):
    x = np.array(values)
    want = _cumprod_jacobian(x, reverse)
    f = lambda x: nb.cumprod(x, reverse=reverse)
    np.testing.assert_allclose(np_of(nb.jacfwd(f)(nb.tensor(x))), want, atol=1e-12)
    np.testing.assert_allclose(np_of(nb.jacrev(f)(nb.tensor(x))), want, atol=1e-12)


def test_cumprod_second_derivative_with_zeros():
    x = np.array([1.5, 0.0, 2.0, 0.0, 1.2])
    w = np.array([0.3, -1.0, 2.0, 0.5, 1.5])
    n = x.size
    # d2/dxj dxl sum_i w_i prod_{k<=i} x_k = sum_{i >= j, l} w_i prod_{k<=i, k not in {j, l}} x_k
    want = np.zeros((n, n))
    for j, l in itertools.product(range(n), range(n)):
        if j != l:
            want[j, l] = sum(w[i] * np.prod([x[k] for k in range(i + 1) if k not in (j, l)])
                             for i in range(max(j, l), n))
    f = lambda x: nb.sum(nb.cumprod(x) * nb.tensor(w))
    np.testing.assert_allclose(np_of(nb.hessian(f)(nb.tensor(x))), want, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_transpose_is_the_reversed_cumsum(reverse):
    w = np.arange(1.0, 7.0).reshape(2, 3)
    grad = nb.grad(lambda x: nb.sum(nb.cumsum(x, axis=1, reverse=reverse) * nb.tensor(w)))(
        nb.ones((2, 3), dtype=nb.float64))
    want = np.cumsum(w, axis=1) if reverse else np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
    np.testing.assert_allclose(np_of(grad), want)


# ---------------------------------------------------------------------------
# Stability of logsumexp, softmax, log_softmax
# ---------------------------------------------------------------------------
def test_logsumexp_edge_rows():
    inf = np.inf
    x = np.array([[-inf, -inf], [inf, 0.0], [1000.0, 1000.0], [np.nan, 0.0], [-inf, 2.0]])
    got = np_of(nb.logsumexp(nb.tensor(x), axis=1))
    np.testing.assert_allclose(got, [-inf, inf, 1000.0 + np.log(2.0), np.nan, 2.0], rtol=1e-7)
    assert nb.logsumexp(nb.tensor(x), axis=1, keepdims=True).shape == (5, 1)
    assert np_of(nb.logsumexp(nb.zeros((0,)))) == -inf


def test_logsumexp_gradient_is_softmax():
    x = nb.tensor(np.array([[1000.0, 999.0, -np.inf], [0.1, 0.2, 0.3]]))
    grad = np_of(nb.grad(lambda x: nb.sum(nb.logsumexp(x, axis=1)))(x))
    np.testing.assert_allclose(grad, np_of(nb.softmax(x)), rtol=1e-12)
    assert np.all(np.isfinite(grad))


def test_softmax_of_large_inputs_and_its_jacobian():
    x = np.array([1000.0, 0.0, 999.0])
    s = np_of(nb.softmax(nb.tensor(x)))
    e = np.exp(x - x.max())
    np.testing.assert_allclose(s, e / e.sum(), rtol=1e-12)
    jac = np_of(nb.jacrev(nb.softmax)(nb.tensor(x)))
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), atol=1e-12)
    ls_jac = np_of(nb.jacfwd(nb.log_softmax)(nb.tensor(x)))
    np.testing.assert_allclose(ls_jac, np.eye(3) - s[None, :], atol=1e-12)


def test_log_softmax_stays_finite_where_softmax_underflows():
    x = nb.tensor([0.0, -200.0], dtype=nb.float32)
    out = np_of(nb.log_softmax(x))
    np.testing.assert_allclose(out, [0.0, -200.0], atol=1e-5)
    assert np_of(nb.softmax(x))[1] == 0.0


# ---------------------------------------------------------------------------
# Accumulation precision of float16 / bfloat16
# ---------------------------------------------------------------------------
def test_low_precision_sums_accumulate_in_float32():
    # float16 accumulation would stall at 2048, bfloat16 at 256
    assert nb.sum(nb.ones((10000,), dtype=nb.float16)).item() == 10000.0
    assert nb.sum(nb.ones((1000,), dtype=nb.bfloat16)).item() == 1000.0
    ones = np.ones(4096)
    got = np_of(nb.cumsum(nb.tensor(ones.astype(np.float16))))
    np.testing.assert_array_equal(got, np.cumsum(ones).astype(np.float16))
    # the sum of these overflows float16 (max 65504); their mean does not
    assert nb.mean(nb.full((100000,), 100.0, dtype=nb.float16)).item() == 100.0
    assert nb.var(nb.full((1000,), 300.0, dtype=nb.bfloat16)).item() == 0.0
    x = np.linspace(0.5, 1.5, 64)
    prod = nb.prod(nb.tensor(x.astype(ml_dtypes.bfloat16))).item()
    np.testing.assert_allclose(prod, np.prod(x.astype(ml_dtypes.bfloat16).astype(np.float64)),
                               rtol=1e-2)


# ---------------------------------------------------------------------------
# argmax / argmin semantics
# ---------------------------------------------------------------------------
def test_argmax_first_occurrence_nan_and_keepdims():
    x = np.array([[np.nan, 1.0, np.nan], [3.0, 3.0, 1.0], [-np.inf, -np.inf, -np.inf]])
    np.testing.assert_array_equal(np_of(nb.argmax(nb.tensor(x), axis=1)), [0, 0, 0])
    np.testing.assert_array_equal(np_of(nb.argmin(nb.tensor(x), axis=1)), [0, 2, 0])
    assert nb.argmax(nb.tensor(x), keepdims=True).shape == (1, 1)
    assert nb.argmax(nb.tensor(x), axis=-1, keepdims=True).shape == (3, 1)
    ints = np.array([[5, -3, 5], [-3, -3, 0]], dtype=np.int8)
    np.testing.assert_array_equal(np_of(nb.argmax(nb.tensor(ints))), np.argmax(ints))
    np.testing.assert_array_equal(np_of(nb.argmin(nb.tensor(ints), axis=1)),
                                  np.argmin(ints, axis=1))
    assert nb.argmax(nb.tensor([False, True, True])).item() == 1


def test_argmax_under_vmap_and_jit():
    x = np.random.default_rng(0).standard_normal((4, 5, 3)).astype(np.float32)
    got = nb.vmap(lambda r: nb.argmax(r, axis=0), in_axes=2)(nb.tensor(x))
    np.testing.assert_array_equal(np_of(got), np.argmax(x, axis=0).T)
    jitted = nb.jit(lambda r: nb.argmin(r))
    assert jitted(nb.tensor(x)).item() == np.argmin(x)


# ---------------------------------------------------------------------------
# Tensor methods and lowering
# ---------------------------------------------------------------------------
def test_tensor_methods():
    data = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x = nb.tensor(data)
    np.testing.assert_allclose(np_of(x.sum(1)), data.sum(1))
    np.testing.assert_allclose(np_of(x.mean()), data.mean())
    np.testing.assert_allclose(np_of(x.max(axis=0)), data.max(0))
    np.testing.assert_allclose(np_of(x.std(0)), data.std(0), rtol=1e-6)
    np.testing.assert_allclose(np_of(x.cumsum(1)), data.cumsum(1))
    np.testing.assert_array_equal(np_of(x.argmax(1)), data.argmax(1))
    assert x.any().item() and not x.all().item()


def test_lowerings():
    text = nb.jit(lambda x: nb.cumsum(x, axis=1)).lower(nb.ones((2, 5))).as_text()
    assert '"stablehlo.reduce_window"' in text and "[0, 0], [4, 0]" in text
    text = nb.jit(lambda x: nb.cumprod(x, reverse=True)).lower(nb.ones((3,))).as_text()
    assert "[0, 2]" in text and '"stablehlo.multiply"' in text
    half = lowering.lower_graph(nb.make_graph(nb.sum)(nb.ones((8,), dtype=nb.float16)))
    assert "tensor<8xf32>" in half  # converted up before the reduce
    text = nb.jit(nb.argmax).lower(nb.ones((2, 3))).as_text()
    assert '"stablehlo.iota"' in text and "-> (tensor<f32>, tensor<i32>)" in text


# ---------------------------------------------------------------------------
# JAX as an oracle for the derivative conventions (when installed)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["max_ties", "prod_zeros", "cumprod_zeros", "var", "logsumexp",
                                  "log_softmax"])
def test_second_derivatives_match_jax(name):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        _compare_with_jax(jax, jnp, name)
    finally:
        jax.config.update("jax_enable_x64", previous)


def _compare_with_jax(jax, jnp, name):
    pairs = {
        "max_ties": (lambda x: nb.sum(nb.max(x, axis=0) ** 2),
                     lambda x: jnp.sum(jnp.max(x, axis=0) ** 2), TIED),
        "prod_zeros": (lambda x: nb.sum(nb.prod(x, axis=1)),
                       lambda x: jnp.sum(jnp.prod(x, axis=1)),
                       np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [0.5, -1.0, 2.0]])),
        "cumprod_zeros": (lambda x: nb.sum(nb.cumprod(x, axis=1) ** 2),
                          lambda x: jnp.sum(jnp.cumprod(x, axis=1) ** 2),
                          np.array([[1.5, 0.0, 2.0, 0.7], [0.3, 1.1, 0.0, 0.0]])),
        "var": (lambda x: nb.sum(nb.std(x, axis=1, ddof=1)),
                lambda x: jnp.sum(jnp.std(x, axis=1, ddof=1)), TIED[:, ::-1] + np.eye(3)),
        "logsumexp": (lambda x: nb.sum(nb.logsumexp(x, axis=0) ** 2),
                      lambda x: jnp.sum(jax.nn.logsumexp(x, axis=0) ** 2), TIED),
        "log_softmax": (lambda x: nb.sum(nb.log_softmax(x) * nb.softmax(x, axis=0)),
                        lambda x: jnp.sum(jax.nn.log_softmax(x) * jax.nn.softmax(x, axis=0)),
                        TIED),
    }
    f, g, x = pairs[name]
    np.testing.assert_allclose(np_of(nb.grad(f)(nb.tensor(x))), np.asarray(jax.grad(g)(x)),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_of(nb.hessian(f)(nb.tensor(x))), np.asarray(jax.hessian(g)(x)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("module", ["nabla_like.ops.reduce", "nabla_like.ops.cumulative"])
def test_docstring_examples(module):
    import doctest
    import importlib
    mod = importlib.import_module(module)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(mod, globs={"nb": nb}):
        if test.name.rsplit(".", 1)[-1] in mod.__all__:
            runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0 and results.failed == 0
