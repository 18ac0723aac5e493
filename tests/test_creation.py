"""Creation functions against NumPy: shapes, dtypes, values, errors, and tracing."""
import ml_dtypes
import numpy as np
import pytest

import nabla_like as nb
from nabla_like.transforms.graphs import const_args, eval_graph


def _np_dtype(name):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def check(got, want, exact=True):
    got = np.asarray(got.numpy())
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-13,
                                   atol=1e-13 * float(np.max(np.abs(want), initial=1.0)))


# ---------------------------------------------------------------------------
# zeros, ones, full and the *_like functions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs,shape", [
    ((2, 3), {}, (2, 3)),
    (((2, 3),), {}, (2, 3)),
    (([2, 3],), {}, (2, 3)),
    ((4,), {}, (4,)),
    (((),), {}, ()),
    ((np.int64(2), np.int32(0)), {}, (2, 0)),
    (((2, 3), "float64"), {}, (2, 3)),
])
@pytest.mark.parametrize("fn,np_fn", [(nb.zeros, np.zeros), (nb.ones, np.ones)])
def test_zeros_ones_shapes(fn, np_fn, args, kwargs, shape):
    out = fn(*args, **kwargs)
    dtype = np.float64 if "float64" in args else np.float32
    check(out, np_fn(shape, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int8", "int32",
                                   "int64", "uint8", "uint32", "bool"])
def test_zeros_ones_full_dtypes(dtype):
    npd = _np_dtype(dtype)
    check(nb.zeros((2, 2), dtype=dtype), np.zeros((2, 2), npd))
    check(nb.ones(3, dtype=nb.dtypes.as_dtype(dtype)), np.ones(3, npd))
    check(nb.full((2,), 1, dtype=dtype), np.full((2,), 1, npd))


def test_dtype_spellings():
    assert nb.zeros(2, dtype=np.float64).dtype == nb.float64
    assert nb.zeros(2, dtype=int).dtype == nb.int32
    assert nb.zeros(2, dtype=float).dtype == nb.float32
    assert nb.ones(2, dtype=bool).dtype == nb.bool
    assert nb.zeros((2,), nb.int64).dtype == nb.int64  # NumPy's positional dtype
    assert nb.zeros((2,), int).dtype == nb.int32
    assert nb.ones(3, "uint8").dtype == nb.uint8 and nb.ones(3, "uint8").shape == (3,)


@pytest.mark.parametrize("fill,dtype,want", [
    (7, None, np.full((2, 3), 7, np.int32)),
    (2.5, None, np.full((2, 3), 2.5, np.float32)),
    (True, None, np.full((2, 3), True)),
    (np.float64(1.25), None, np.full((2, 3), 1.25, np.float64)),
    (np.int8(-3), None, np.full((2, 3), -3, np.int8)),
    (2.7, "int32", np.full((2, 3), 2.7, np.int32)),
    (3, "float16", np.full((2, 3), 3, np.float16)),
])
def test_full_values_and_dtypes(fill, dtype, want):
    check(nb.full((2, 3), fill, dtype), want)


def test_full_broadcasts_tensor_and_array_fill():
    check(nb.full((2, 3), nb.tensor([1.0, 2.0, 3.0])), np.full((2, 3), np.float32([1, 2, 3])))
    check(nb.full((2, 3), np.array([1, 2, 3], np.int64)), np.full((2, 3), np.int64([1, 2, 3])))
    check(nb.full((2, 2), nb.tensor(1.5), nb.float64), np.full((2, 2), 1.5))
    check(nb.full(3, [4, 5, 6]), np.array([4, 5, 6], np.int32))


@pytest.mark.parametrize("x", [np.zeros((2, 3), np.float64), np.arange(4, dtype=np.int8),
                               [[1, 2], [3, 4]], [1.0, 2.0], 3.0, np.float16(1)])
def test_like_functions(x):
    ref = x if isinstance(x, (np.ndarray, np.generic)) else np.asarray(nb.tensor(x).numpy())
    for src in (x, nb.tensor(x)):
        check(nb.zeros_like(src), np.zeros_like(ref))
        check(nb.ones_like(src), np.ones_like(ref))
        check(nb.full_like(src, 3), np.full_like(ref, 3))
        check(nb.zeros_like(src, dtype=nb.int64), np.zeros_like(ref, np.int64))
        check(nb.full_like(src, 2.5, dtype="float32"), np.full_like(ref, 2.5, np.float32))


def test_full_like_keeps_dtype_of_x_with_python_fill():
    check(nb.full_like(nb.zeros(3, dtype=nb.float16), 0.1), np.full(3, 0.1, np.float16))
    check(nb.full_like(nb.zeros(3, dtype=nb.int8), 7), np.full(3, 7, np.int8))


def test_constant_splats_record_no_node_eagerly():
    z = nb.zeros((1000, 1000))
    assert z._value.node is None and z._value.literal == 0.0


@pytest.mark.parametrize("call", [
    lambda: nb.zeros((2, -1)),
    lambda: nb.ones(-3),
    lambda: nb.full((-1,), 1.0),
    lambda: nb.zeros((2.0, 3)),
    lambda: nb.zeros(("a",)),
    lambda: nb.eye(-1),
    lambda: nb.eye(2, -2),
    lambda: nb.iota((2, -2)),
])
def test_bad_shapes_raise_shape_error(call):
    with pytest.raises(nb.NablaError) as info:
        call()
    assert isinstance(info.value, (ValueError, TypeError))
    assert "shape" in str(info.value) or "dimension" in str(info.value)


def test_bad_dtype_and_fill():
    with pytest.raises(nb.DTypeError, match="unknown dtype"):
        nb.zeros(2, dtype="float128")
    with pytest.raises(nb.RangeError, match="out of range for uint8"):
        nb.full((2,), -1, nb.uint8)
    with pytest.raises(nb.RangeError, match="out of range for int8"):
        nb.full_like(nb.zeros(2, dtype=nb.int8), 300)
    with pytest.raises(nb.DTypeError):
        nb.full((2,), float("nan"), nb.int32)


# ---------------------------------------------------------------------------
# arange
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    (5,), (0,), (-3,), (2, 9), (1, 10, 3), (10, 0, -3), (10, 1, 3), (-5, 5, 2), (3, 3),
    (0.0, 1.0, 0.1), (1.5, 7.3, 0.37), (-3, 2.5, 0.25), (10.0, -2.0, -1.3), (2.5,),
    (0, 1000, 0.7),
])
def test_arange_matches_numpy(args):
    got = nb.arange(*args)
    all_int = all(isinstance(a, int) for a in args)
    want = np.arange(*args, dtype=np.int32 if all_int else np.float32)
    check(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int8", "int64",
                                   "uint8", "uint32"])
@pytest.mark.parametrize("args", [(7,), (1, 12, 2), (0.5, 6.0, 0.75)])
def test_arange_dtype(dtype, args):
    if "int" in dtype and any(isinstance(a, float) for a in args):
        args = (0.5, 6.0, 1.5)
    check(nb.arange(*args, dtype=dtype), np.arange(*args, dtype=_np_dtype(dtype)))


def test_arange_past_int32_takes_int64():
    check(nb.arange(2**31, 2**31 + 3), np.arange(2**31, 2**31 + 3, dtype=np.int64))
    check(nb.arange(-2**32, -2**32 + 6, 2), np.arange(-2**32, -2**32 + 6, 2, dtype=np.int64))


def test_arange_keywords_and_scalars():
    check(nb.arange(start=2, stop=8, step=2), np.arange(2, 8, 2, dtype=np.int32))
    check(nb.arange(np.int64(4)), np.arange(4, dtype=np.int32))
    check(nb.arange(nb.tensor(3)), np.arange(3, dtype=np.int32))  # a concrete tensor is fine


def test_arange_errors():
    with pytest.raises(nb.ShapeError, match="step must not be zero"):
        nb.arange(0, 5, 0)
    with pytest.raises(nb.ShapeError, match="finite"):
        nb.arange(0, float("inf"))
    with pytest.raises(nb.DTypeError):
        nb.arange(4, dtype=nb.bool)
    with pytest.raises(nb.DTypeError):
        nb.arange("3")
    with pytest.raises(nb.ConcretizationError):
        nb.make_graph(lambda n: nb.arange(n))(nb.tensor(3))


# ---------------------------------------------------------------------------
# linspace
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("start,stop,num,endpoint", [
    (0.0, 1.0, 5, True), (0.0, 1.0, 5, False), (-2.5, 7.25, 50, True), (3, -3, 7, True),
    (1.0, 1.0, 4, True), (2.0, 3.0, 1, True), (2.0, 3.0, 1, False), (0, 1, 0, True),
    (0.0, 1.0, 2, True), (1e-3, 1e3, 33, False),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_linspace_matches_numpy(start, stop, num, endpoint, dtype):
    got = nb.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    want = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    if dtype != "float64":  # computed in float64 and rounded: the same floats as NumPy's
        check(got, want)
    else:  # XLA may fuse i * step + start into one rounding (an fma)
        check(got, want, exact=False)


def test_linspace_defaults_and_int_dtype():
    check(nb.linspace(0, 1), np.linspace(0, 1, dtype=np.float32))
    for start, stop, num in [(0, 10, 4), (-5, 5, 4), (-7.5, 2.5, 9), (3, -3, 5)]:
        check(nb.linspace(start, stop, num, dtype=nb.int32),
              np.linspace(start, stop, num, dtype=np.int32))


def test_linspace_errors():
    with pytest.raises(nb.ShapeError, match="non-negative"):
        nb.linspace(0, 1, -1)
    with pytest.raises(nb.ArgumentError):
        nb.linspace(0, 1, 2.5)


# ---------------------------------------------------------------------------
# eye, identity, iota
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 3, 1), (4, 2, -1), (3, 3, 5), (3, 3, -3),
                                   (0, None, 0), (2, 0, 0), (1, 1, 0), (5, 4, 3)])
def test_eye_matches_numpy(n, m, k):
    check(nb.eye(n, m, k), np.eye(n, m, k, dtype=np.float32))
    check(nb.eye(n, m, k=k, dtype=nb.int32), np.eye(n, m, k, dtype=np.int32))


def test_eye_dtypes_and_identity():
    check(nb.eye(3, dtype="bool"), np.eye(3, dtype=bool))
    check(nb.eye(2, dtype=nb.bfloat16), np.eye(2, dtype=ml_dtypes.bfloat16))
    check(nb.identity(3), np.identity(3, dtype=np.float32))
    check(nb.identity(2, dtype=nb.int64), np.identity(2, dtype=np.int64))


def test_iota():
    check(nb.iota((2, 3), 1), np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3)))
    check(nb.iota(4, dtype=nb.float32), np.arange(4, dtype=np.float32))
    with pytest.raises(nb.AxisError):
        nb.iota((2, 3), 2)


# ---------------------------------------------------------------------------
# tril / triu (values and gradients are in the op table; here the edges)
# ---------------------------------------------------------------------------
def test_tril_triu_errors_and_python_input():
    with pytest.raises(nb.ShapeError, match="rank >= 2"):
        nb.tril(nb.ones(3))
    with pytest.raises(nb.ShapeError, match="rank >= 2"):
        nb.triu(nb.tensor(1.0))
    with pytest.raises(nb.ArgumentError):
        nb.tril(nb.ones((2, 2)), k=1.5)
    check(nb.triu([[1, 2], [3, 4]]), np.triu(np.array([[1, 2], [3, 4]], np.int32)))


def test_tril_gradient_is_the_mask():
    x = nb.tensor(np.arange(12.0).reshape(3, 4))
    g = nb.grad(lambda x: nb.sum(nb.tril(x, 1) * 2.0))(x)
    np.testing.assert_array_equal(g.numpy(), 2.0 * np.tril(np.ones((3, 4)), 1))


# ---------------------------------------------------------------------------
# Tracing: creation called inside a transform records into its trace
# ---------------------------------------------------------------------------
def test_creation_records_into_the_trace():
    def f(x):
        return x + nb.arange(3) + nb.eye(3)[0] + nb.linspace(0, 1, 3) + nb.zeros(3) + nb.full(3, 2.0)

    x = nb.tensor(np.ones(3, np.float32))
    graph = nb.make_graph(f)(x)
    names = [n.prim.name for n in graph.nodes]
    assert "iota" in names and "full" in names
    assert len(graph.inputs) == 1  # nothing captured from the eager context
    out = eval_graph(graph, [x] + const_args(graph))[0]
    np.testing.assert_allclose(out.numpy(), f(x).numpy())


def test_creation_under_vmap_and_grad():
    xs = nb.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    out = nb.vmap(lambda x: x * nb.arange(3.0) + nb.ones_like(x))(xs)
    np.testing.assert_allclose(out.numpy(), xs.numpy() * np.arange(3.0) + 1)
    g = nb.grad(lambda x: nb.sum(x * nb.linspace(1, 2, 3)))(xs[0])
    np.testing.assert_allclose(g.numpy(), np.linspace(1, 2, 3), rtol=1e-6)
    tri = nb.vmap(nb.tril, in_axes=(0, None))(nb.ones((2, 3, 3)), 1)
    np.testing.assert_array_equal(tri.numpy(), np.tril(np.ones((2, 3, 3)), 1))
